package io.github.mirframework.crypto;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * The PEM text encoding (RFC 7468): blocks of base64 between {@code -----BEGIN type-----} and
 * {@code -----END type-----} lines. Written by hand on {@link Base64} so that mir-crypto needs no
 * PKIX library; only the subset that key files use is supported. Text outside blocks is ignored, as
 * OpenSSL and Go do. Encapsulated headers (RFC 1421, e.g. the {@code Proc-Type} of an encrypted
 * OpenSSL key) are recognized so that such blocks can be reported, not decoded.
 */
final class Pem {
  private static final String DASHES = "-----";
  private static final String BEGIN = DASHES + "BEGIN ";
  private static final String END = DASHES + "END ";
  private static final int LINE_LENGTH = 64;

  private Pem() {}

  /**
   * One decoded block.
   *
   * @param type the label, e.g. {@code "PRIVATE KEY"}
   * @param hasHeaders whether the block had encapsulated headers (then it is usually encrypted)
   * @param der the decoded contents
   * @param line the 1-based line of the BEGIN line
   */
  record Block(String type, boolean hasHeaders, byte[] der, int line) {}

  /** Returns the PEM text of one block, with 64-character lines and a final newline. */
  static String encode(String type, byte[] der) {
    String b64 = Base64.getEncoder().encodeToString(der);
    StringBuilder sb = new StringBuilder(b64.length() + b64.length() / LINE_LENGTH + 64);
    sb.append(BEGIN).append(type).append(DASHES).append('\n');
    for (int i = 0; i < b64.length(); i += LINE_LENGTH) {
      sb.append(b64, i, Math.min(b64.length(), i + LINE_LENGTH)).append('\n');
    }
    sb.append(END).append(type).append(DASHES).append('\n');
    return sb.toString();
  }

  /**
   * Returns all blocks of {@code text}, in order.
   *
   * @throws IllegalArgumentException naming the line if a block is malformed (no END line,
   *     mismatched END label, bad base64, no contents)
   */
  static List<Block> decode(String text) {
    List<Block> blocks = new ArrayList<>();
    String[] lines = text.split("\r?\n|\r", -1);
    int i = 0;
    while (i < lines.length) {
      String line = lines[i].strip();
      i++;
      if (!line.startsWith(BEGIN)) {
        continue;
      }
      int beginLine = i;
      if (!line.endsWith(DASHES) || line.length() < BEGIN.length() + DASHES.length()) {
        throw new IllegalArgumentException("line " + beginLine + ": malformed BEGIN line");
      }
      String type = line.substring(BEGIN.length(), line.length() - DASHES.length());
      String endLine = END + type + DASHES;
      StringBuilder b64 = new StringBuilder();
      boolean hasHeaders = false;
      boolean ended = false;
      while (i < lines.length) {
        String body = lines[i].strip();
        i++;
        if (body.startsWith(END)) {
          if (!body.equals(endLine)) {
            throw new IllegalArgumentException(
                "line "
                    + i
                    + ": '"
                    + body
                    + "' does not close the "
                    + type
                    + " block of line "
                    + beginLine);
          }
          ended = true;
          break;
        }
        if (body.startsWith(BEGIN)) {
          throw new IllegalArgumentException(
              "line "
                  + i
                  + ": new block starts before the "
                  + type
                  + " block of line "
                  + beginLine
                  + " ends");
        }
        if (body.indexOf(':') >= 0) {
          if (!b64.isEmpty()) {
            throw new IllegalArgumentException(
                "line " + i + ": header line inside the base64 of the " + type + " block");
          }
          hasHeaders = true;
        } else {
          b64.append(body);
        }
      }
      if (!ended) {
        throw new IllegalArgumentException(
            "line " + beginLine + ": " + type + " block has no '" + endLine + "' line");
      }
      byte[] der;
      try {
        der = Base64.getDecoder().decode(b64.toString());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "line "
                + beginLine
                + ": "
                + type
                + " block is not valid base64 ("
                + e.getMessage()
                + ")",
            e);
      }
      if (der.length == 0) {
        throw new IllegalArgumentException("line " + beginLine + ": " + type + " block is empty");
      }
      blocks.add(new Block(type, hasHeaders, der, beginLine));
    }
    return blocks;
  }
}
