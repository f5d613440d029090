package org.modelpack.csi.modelpack;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.EnumSet;
import java.util.Set;
import org.modelpack.csi.json.Json;

/**
 * The ModelPack per-file metadata ({@code org.cncf.model.file.metadata+json}).
 *
 * @param name base file name (informational)
 * @param mode permission bits, 0 if absent; JSON carries them as a decimal number (0644 = 420)
 * @param uid owner uid (informational, never applied)
 * @param gid owner gid (informational, never applied)
 * @param size file size in bytes, -1 if absent
 * @param mtime modification time, or null if absent, empty or Go's zero time
 * @param typeflag 0 regular, 2 symlink, 5 directory (numeric, not the ASCII tar flags)
 */
public record FileMetadata(
    String name, int mode, long uid, long gid, long size, Instant mtime, int typeflag) {

  public static final int TYPE_REGULAR = 0;

  /** Go's zero time.Time marshals as this; it means "no time". */
  private static final Instant GO_ZERO_TIME = Instant.parse("0001-01-01T00:00:00Z");

  /** True if any execute bit is set. */
  public boolean executable() {
    return (mode & 0111) != 0;
  }

  /** Converts the low nine mode bits to a permission set. */
  public static Set<PosixFilePermission> toPermissions(int mode) {
    Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
    PosixFilePermission[] order = {
      PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE,
      PosixFilePermission.OTHERS_READ, PosixFilePermission.GROUP_EXECUTE,
      PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
      PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE,
      PosixFilePermission.OWNER_READ
    };
    for (int bit = 0; bit < order.length; bit++) {
      if ((mode & (1 << bit)) != 0) {
        set.add(order[bit]);
      }
    }
    return set;
  }

  /**
   * Parses the JSON object. Every field is optional; unknown fields are ignored.
   *
   * @throws MalformedMetadataException if the text is not a JSON object or a field has the wrong
   *     type or range (e.g. mode is text, mtime is not RFC 3339)
   */
  public static FileMetadata parse(String json) {
    JsonNode root;
    try {
      root = Json.mapper().readTree(json);
    } catch (JsonProcessingException e) {
      throw new MalformedMetadataException("file metadata is not valid JSON: " + e.getOriginalMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new MalformedMetadataException("file metadata is not a JSON object");
    }
    String name = text(root, "name");
    long mode = unsigned(root, "mode", 0xFFFF_FFFFL, 0);
    long uid = unsigned(root, "uid", 0xFFFF_FFFFL, 0);
    long gid = unsigned(root, "gid", 0xFFFF_FFFFL, 0);
    long size = root.hasNonNull("size") ? unsigned(root, "size", Long.MAX_VALUE, -1) : -1;
    Instant mtime = mtime(root);
    int typeflag = typeflag(root);
    return new FileMetadata(name, (int) (mode & 07777), uid, gid, size, mtime, typeflag);
  }

  private static String text(JsonNode root, String field) {
    JsonNode n = root.get(field);
    if (n == null || n.isNull()) {
      return null;
    }
    if (!n.isTextual()) {
      throw new MalformedMetadataException("file metadata field '" + field + "' is not a string");
    }
    return n.asText();
  }

  private static long unsigned(JsonNode root, String field, long max, long dflt) {
    JsonNode n = root.get(field);
    if (n == null || n.isNull()) {
      return dflt;
    }
    if (!n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < 0 || n.asLong() > max) {
      throw new MalformedMetadataException(
          "file metadata field '" + field + "' is not a non-negative integer in range: " + n);
    }
    return n.asLong();
  }

  private static Instant mtime(JsonNode root) {
    String s = text(root, "mtime");
    if (s == null || s.isBlank()) {
      return null;
    }
    try {
      Instant t = OffsetDateTime.parse(s.trim()).toInstant();
      return t.equals(GO_ZERO_TIME) ? null : t;
    } catch (DateTimeParseException e) {
      throw new MalformedMetadataException("file metadata mtime '" + s + "' is not RFC 3339", e);
    }
  }

  private static int typeflag(JsonNode root) {
    JsonNode n = root.get("typeflag");
    if (n == null || n.isNull()) {
      return TYPE_REGULAR;
    }
    int v;
    if (n.isIntegralNumber() && n.canConvertToInt()) {
      v = n.asInt();
    } else if (n.isTextual() && n.asText().length() == 1) {
      // Tolerate the ASCII tar flag written as a one-character string.
      v = n.asText().charAt(0);
    } else {
      throw new MalformedMetadataException("file metadata field 'typeflag' is not a number: " + n);
    }
    // Tolerate ASCII tar flags ('0' = 48 ... '7' = 55) by mapping them to the numeric values.
    if (v >= '0' && v <= '7') {
      v -= '0';
    }
    if (v < 0 || v > 255) {
      throw new MalformedMetadataException("file metadata field 'typeflag' is out of range: " + n);
    }
    return v;
  }
}
