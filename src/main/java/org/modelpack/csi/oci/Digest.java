package org.modelpack.csi.oci;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** A validated content digest such as {@code sha256:<64 hex>}. */
public record Digest(String algorithm, String hex) {
  private static final Pattern SHA256 = Pattern.compile("[a-f0-9]{64}");
  private static final Pattern SHA512 = Pattern.compile("[a-f0-9]{128}");

  public static Digest parse(String value) {
    if (value == null) {
      throw new IllegalArgumentException("digest is missing");
    }
    int colon = value.indexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("digest '" + value + "' is not of the form algorithm:hex");
    }
    String alg = value.substring(0, colon);
    String hex = value.substring(colon + 1);
    Pattern p = switch (alg) {
      case "sha256" -> SHA256;
      case "sha512" -> SHA512;
      default -> throw new IllegalArgumentException("digest algorithm '" + alg + "' is not supported");
    };
    if (!p.matcher(hex).matches()) {
      throw new IllegalArgumentException("digest '" + value + "' has a malformed " + alg + " value");
    }
    return new Digest(alg, hex);
  }

  public static Digest sha256(byte[] hash) {
    return new Digest("sha256", HexFormat.of().formatHex(hash));
  }

  /** A fresh hasher for this digest's algorithm. */
  public MessageDigest newHasher() {
    try {
      return MessageDigest.getInstance(algorithm.equals("sha256") ? "SHA-256" : "SHA-512");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** True when {@code hash} (the output of {@link #newHasher()}) equals this digest. */
  public boolean matches(byte[] hash) {
    return HexFormat.of().formatHex(hash).equals(hex);
  }

  @Override
  public String toString() {
    return algorithm + ":" + hex;
  }
}
