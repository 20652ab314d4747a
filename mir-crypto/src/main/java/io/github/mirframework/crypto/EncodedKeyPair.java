package io.github.mirframework.crypto;

import com.google.protobuf.ByteString;
import java.util.Objects;

/**
 * A key pair in its standard binary encodings (Mir's serialized keys): the private key as PKCS#8
 * DER and the public key as X.509 SubjectPublicKeyInfo DER. {@link #toString()} never shows the
 * private key.
 *
 * @param privateKey the PKCS#8 DER encoding of the private key
 * @param publicKey the SubjectPublicKeyInfo DER encoding of the public key
 */
public record EncodedKeyPair(ByteString privateKey, ByteString publicKey) {

  /** Checks that both keys are present. */
  public EncodedKeyPair {
    Objects.requireNonNull(privateKey, "privateKey");
    Objects.requireNonNull(publicKey, "publicKey");
  }

  @Override
  public String toString() {
    return "EncodedKeyPair[privateKey=("
        + privateKey.size()
        + " bytes, hidden), publicKey="
        + publicKey.size()
        + " bytes]";
  }
}
