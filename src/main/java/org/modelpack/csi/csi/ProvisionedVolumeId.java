package org.modelpack.csi.csi;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The id CreateVolume gives a PVC's volume: {@code <name>.<ro|rw>.<16 hex>}, a function of the
 * request alone, so the controller keeps no state to answer the same request the same way
 * (docs/decisions/1101). The hex digits are a SHA-256 of the name, the parameters and the
 * capacity: two requests that differ in any of them get different ids, so nodes never mistake
 * one model for another. {@code ro}/{@code rw} says whether the volume is writable, which
 * ValidateVolumeCapabilities needs and may not be told otherwise. The name part is the CO's
 * name made safe for a directory name (kubelet's PVC names, {@code pvc-<uid>}, are already).
 *
 * @param id the whole id
 * @param writable the {@code rw} form
 */
record ProvisionedVolumeId(String id, boolean writable) {
  /** What ValidateVolumeCapabilities accepts as possibly one of ours. */
  private static final Pattern SHAPE =
      Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*\\.(ro|rw)\\.[0-9a-f]{16}");
  static final int MAX_LENGTH = 128; // a CSI id and a directory name (VolumeIds)
  private static final int HASH_CHARS = 16;
  private static final int SUFFIX_CHARS = 1 + 2 + 1 + HASH_CHARS;

  /** The id of a volume named {@code name} with these parameters and capacity. */
  static ProvisionedVolumeId of(String name, Map<String, String> parameters, long capacity,
      boolean writable) {
    StringBuilder identity = new StringBuilder();
    // Length-prefixed, so no two different requests can produce the same text.
    append(identity, name);
    new TreeMap<>(parameters).forEach((k, v) -> append(append(identity, k), v));
    append(identity, Long.toString(capacity));
    String hash = sha256(identity.toString()).substring(0, HASH_CHARS);
    return new ProvisionedVolumeId(safeHead(name) + (writable ? ".rw." : ".ro.") + hash,
        writable);
  }

  /** The id's parts if it has the shape of one this controller makes; empty otherwise. */
  static Optional<ProvisionedVolumeId> parse(String id) {
    if (id == null || id.length() > MAX_LENGTH) {
      return Optional.empty();
    }
    Matcher m = SHAPE.matcher(id);
    return m.matches() ? Optional.of(new ProvisionedVolumeId(id, m.group(1).equals("rw")))
        : Optional.empty();
  }

  private static StringBuilder append(StringBuilder b, String s) {
    return b.append(s.length()).append(':').append(s).append(';');
  }

  /** Letters, digits, '.', '_' and '-' only, starting with a letter or digit, cut to fit. */
  private static String safeHead(String name) {
    StringBuilder head = new StringBuilder();
    for (char c : name.toCharArray()) {
      boolean safe = c < 128 && (Character.isLetterOrDigit(c) || c == '.' || c == '_'
          || c == '-');
      head.append(safe ? c : '_');
    }
    if (head.length() == 0 || !Character.isLetterOrDigit(head.charAt(0))) {
      head.insert(0, 'v');
    }
    return head.length() > MAX_LENGTH - SUFFIX_CHARS
        ? head.substring(0, MAX_LENGTH - SUFFIX_CHARS) : head.toString();
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }
}
