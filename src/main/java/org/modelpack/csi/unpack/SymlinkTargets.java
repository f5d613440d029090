package org.modelpack.csi.unpack;

import java.nio.file.Path;

/**
 * Which symlink targets a tar layer may create (docs/decisions/0203): relative, no NUL,
 * backslash or control character, at most {@link SafePath#MAX_PATH_BYTES}, {@code ..} only as
 * leading segments, and inside the model root when taken from the link's directory. Because
 * {@code ..} may not follow a name, this lexical check cannot be fooled by chained links.
 */
final class SymlinkTargets {
  private SymlinkTargets() {}

  /**
   * Why {@code link}, the target of a symlink to be created at {@code linkPath} under {@code
   * root} (both absolute and normalised), is unacceptable; null if it is fine.
   */
  static String problem(Path root, String link, Path linkPath) {
    if (link == null || link.isEmpty()) {
      return "has an empty target";
    }
    if (link.indexOf('\0') >= 0 || link.indexOf('\\') >= 0) {
      return "has a NUL or backslash in its target";
    }
    if (link.chars().anyMatch(c -> Character.getType(c) == Character.CONTROL)) {
      return "has a control character in its target";
    }
    if (SafePath.utf8Length(link) > SafePath.MAX_PATH_BYTES) {
      return "has a target longer than " + SafePath.MAX_PATH_BYTES + " bytes";
    }
    if (link.startsWith("/")) {
      return "is absolute";
    }
    boolean seenName = false;
    for (String segment : link.split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".")) {
        return "has an empty or '.' segment";
      }
      if (segment.equals("..")) {
        if (seenName) {
          return "has '..' after a name (only leading '..' segments are allowed)";
        }
      } else {
        seenName = true;
      }
    }
    Path resolved = linkPath.getParent().resolve(link).normalize();
    if (!resolved.startsWith(root)) {
      return "points outside the model root";
    }
    return null;
  }
}
