package io.github.mirframework.bcb;

import com.google.protobuf.ByteString;
import io.github.mirframework.bcb.pb.EchoMessage;
import io.github.mirframework.bcb.pb.FinalMessage;
import io.github.mirframework.bcb.pb.StartMessage;
import io.github.mirframework.types.NodeId;
import java.util.List;

/**
 * Factories for the messages BCB nodes exchange, and the layout of the data an echo signs.
 * Stateless.
 */
public final class BcbMessages {
  /** The marker between instance UID and data in the signed echo data. */
  public static final ByteString ECHO_MARKER = ByteString.copyFromUtf8("ECHO");

  private BcbMessages() {}

  /** The leader's message carrying the value to all nodes. */
  public static StartMessage start(ByteString data) {
    return StartMessage.newBuilder().setData(data).build();
  }

  /** A node's signed echo of the leader's value, sent to the leader. */
  public static EchoMessage echo(ByteString signature) {
    return EchoMessage.newBuilder().setSignature(signature).build();
  }

  /**
   * The leader's certificate: the value and, for each signer, its echo signature ({@code
   * signers.get(i)} made {@code signatures.get(i)}).
   *
   * @throws IllegalArgumentException if the lists differ in length
   */
  public static FinalMessage finalMessage(
      ByteString data, List<NodeId> signers, List<ByteString> signatures) {
    if (signers.size() != signatures.size()) {
      throw new IllegalArgumentException(
          signers.size() + " signers but " + signatures.size() + " signatures");
    }
    return FinalMessage.newBuilder()
        .setData(data)
        .addAllSigners(NodeId.strings(signers))
        .addAllSignatures(signatures)
        .build();
  }

  /**
   * What a node signs to echo {@code data} in instance {@code instanceUid}: the chunks {@code
   * [instanceUid, "ECHO", data]}, signed as their concatenation (as in Mir). The UID keeps an echo
   * of one instance from being replayed in another.
   */
  public static List<ByteString> echoSignedData(ByteString instanceUid, ByteString data) {
    return List.of(instanceUid, ECHO_MARKER, data);
  }
}
