package io.github.mirframework.client;

import com.google.protobuf.ByteString;
import io.github.mirframework.client.pb.ClientHello;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.crypto.EcdsaCrypto;
import io.github.mirframework.crypto.EncodedKeyPair;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.NodeId;
import java.security.InvalidKeyException;
import java.util.Objects;

/**
 * Signs the requests of one client with its ECDSA P-256 key, for replicas that check them with a
 * {@link ClientRegistry} (see ADR 0005). Thread-safe.
 */
public final class ClientSigner {
  private final ClientId client;
  private final EcdsaCrypto crypto;

  private ClientSigner(ClientId client, EcdsaCrypto crypto) {
    this.client = client;
    this.crypto = crypto;
  }

  /**
   * A signer for {@code client} with its key pair.
   *
   * @throws InvalidKeyException if the private key is not a P-256 PKCS#8 key
   */
  public static ClientSigner of(ClientId client, EncodedKeyPair keyPair)
      throws InvalidKeyException {
    Objects.requireNonNull(client, "client");
    Objects.requireNonNull(keyPair, "keyPair");
    return new ClientSigner(client, EcdsaCrypto.fromPrivateKey(keyPair.privateKey()));
  }

  /** The client this signer signs for. */
  public ClientId client() {
    return client;
  }

  /** The public key to register for the client (SubjectPublicKeyInfo DER). */
  public ByteString publicKey() {
    return crypto.publicKey();
  }

  /** Request {@code reqNo} of this client with {@code data}, signed. */
  public Request sign(long reqNo, ByteString data) {
    return Request.newBuilder()
        .setClientId(client.value())
        .setReqNo(reqNo)
        .setData(data)
        .setSignature(crypto.sign(ClientRegistry.signedData(client, reqNo, data)))
        .build();
  }

  /** The hello that opens this client's stream to {@code node}. */
  public ClientHello hello(NodeId node) {
    return ClientHello.newBuilder()
        .setClientId(client.value())
        .setNodeId(node.value())
        .setSignature(crypto.sign(ClientRegistry.helloData(client, node)))
        .build();
  }
}
