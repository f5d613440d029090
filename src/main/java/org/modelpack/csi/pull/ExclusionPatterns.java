package org.modelpack.csi.pull;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Gitignore-style patterns matched against a file's path relative to the model root
 * (docs/decisions/0401). Patterns are evaluated in order and the last one that matches decides:
 * a plain pattern excludes, a {@code !pattern} re-includes.
 *
 * <p>Supported syntax, as in gitignore(5):
 * <ul>
 *   <li>blank patterns and patterns starting with {@code #} are ignored ({@code \#} is a
 *       literal {@code #}); trailing spaces are dropped unless escaped with {@code \};</li>
 *   <li>{@code !} negates ({@code \!} is a literal {@code !});</li>
 *   <li>a trailing {@code /} matches directories only (so every file below them);</li>
 *   <li>a pattern with a {@code /} at the start or in the middle is anchored at the model root;
 *       otherwise it matches a file or directory name at any depth;</li>
 *   <li>{@code *} and {@code ?} never match {@code /}; {@code [a-z]}, {@code [!a-z]} and
 *       {@code [^a-z]} are character classes; {@code \} escapes the next character;</li>
 *   <li>{@code **}/ at the start matches in every directory, {@code /**} at the end matches
 *       everything inside, {@code /**}/ in the middle matches zero or more directories.</li>
 * </ul>
 *
 * <p>A pattern matches a file when it matches the file's path or the path of any directory the
 * file is in. Unlike git, which never descends into an excluded directory, a later
 * {@code !pattern} can re-include a file below an excluded directory: the driver sees a list of
 * files, not a tree to walk.
 */
public final class ExclusionPatterns {
  private final List<Rule> rules;

  private record Rule(String source, Pattern regex, boolean negated, boolean directoryOnly) {}

  private ExclusionPatterns(List<Rule> rules) {
    this.rules = List.copyOf(rules);
  }

  /**
   * Compiles {@code patterns} in order.
   *
   * @throws IllegalArgumentException naming the pattern if it cannot be compiled
   */
  public static ExclusionPatterns compile(List<String> patterns) {
    List<Rule> rules = new ArrayList<>();
    for (String p : patterns) {
      if (p == null) {
        throw new IllegalArgumentException("a pattern is null");
      }
      Rule r = parse(p);
      if (r != null) {
        rules.add(r);
      }
    }
    return new ExclusionPatterns(rules);
  }

  public boolean isEmpty() {
    return rules.isEmpty();
  }

  /**
   * The verdict of the last pattern matching {@code path}: true = excluded, false = re-included
   * by a {@code !} pattern, empty = no pattern matched.
   *
   * @param path a relative path with {@code /} separators
   * @param isDirectory the path itself names a directory (a tar layer packing one), so
   *     directory-only patterns may match it too
   */
  public Optional<Boolean> verdict(String path, boolean isDirectory) {
    String normal = normalise(path);
    for (int i = rules.size() - 1; i >= 0; i--) {
      Rule r = rules.get(i);
      if (matches(r, normal, isDirectory)) {
        return Optional.of(!r.negated());
      }
    }
    return Optional.empty();
  }

  private static boolean matches(Rule r, String path, boolean isDirectory) {
    if ((!r.directoryOnly() || isDirectory) && r.regex().matcher(path).matches()) {
      return true;
    }
    // Every directory the file is in.
    for (int slash = path.indexOf('/'); slash > 0; slash = path.indexOf('/', slash + 1)) {
      if (r.regex().matcher(path.substring(0, slash)).matches()) {
        return true;
      }
    }
    return false;
  }

  /** Drops a leading {@code ./} or {@code /} and doubled or trailing slashes. */
  static String normalise(String path) {
    String p = path.replace('\\', '/');
    while (p.startsWith("./")) {
      p = p.substring(2);
    }
    p = p.replaceAll("/+", "/");
    if (p.startsWith("/")) {
      p = p.substring(1);
    }
    if (p.endsWith("/")) {
      p = p.substring(0, p.length() - 1);
    }
    return p;
  }

  /** Null for a blank pattern or a comment. */
  private static Rule parse(String source) {
    String p = stripTrailingSpaces(source);
    if (p.isEmpty() || p.startsWith("#")) {
      return null;
    }
    boolean negated = false;
    if (p.startsWith("!")) {
      negated = true;
      p = p.substring(1);
    }
    boolean directoryOnly = false;
    if (p.endsWith("/") && !p.endsWith("\\/")) {
      directoryOnly = true;
      p = p.substring(0, p.length() - 1);
    }
    if (p.isEmpty() || p.equals("/")) {
      return null;
    }
    boolean anchored = p.indexOf('/') >= 0;
    if (p.startsWith("/")) {
      p = p.substring(1);
    }
    StringBuilder re = new StringBuilder();
    if (!anchored) {
      re.append("(?:.*/)?");
    }
    String[] segments = p.split("/", -1);
    for (int i = 0; i < segments.length; i++) {
      boolean last = i == segments.length - 1;
      if (segments[i].equals("**")) {
        // "a/**" matches everything inside a; "**/b" and "a/**/b" any number of directories.
        re.append(last ? ".*" : "(?:.*/)?");
        continue;
      }
      re.append(glob(segments[i], source));
      if (!last) {
        re.append('/');
      }
    }
    return new Rule(source, Pattern.compile(re.toString(), Pattern.DOTALL), negated,
        directoryOnly);
  }

  private static String stripTrailingSpaces(String p) {
    int end = p.length();
    while (end > 0 && p.charAt(end - 1) == ' ') {
      // An odd number of backslashes before the space escapes it.
      int backslashes = 0;
      for (int i = end - 2; i >= 0 && p.charAt(i) == '\\'; i--) {
        backslashes++;
      }
      if (backslashes % 2 == 1) {
        break;
      }
      end--;
    }
    return p.substring(0, end);
  }

  /** One path segment's glob as a regular expression. */
  private static String glob(String segment, String source) {
    StringBuilder re = new StringBuilder();
    int n = segment.length();
    for (int i = 0; i < n; i++) {
      char c = segment.charAt(i);
      switch (c) {
        case '*' -> {
          while (i + 1 < n && segment.charAt(i + 1) == '*') {
            i++;
          }
          re.append("[^/]*");
        }
        case '?' -> re.append("[^/]");
        case '\\' -> {
          if (i + 1 < n) {
            re.append(Pattern.quote(String.valueOf(segment.charAt(++i))));
          } else {
            throw new IllegalArgumentException("pattern '" + source
                + "' ends with an unescaped backslash");
          }
        }
        case '[' -> {
          int end = classEnd(segment, i);
          if (end < 0) {
            re.append(Pattern.quote("["));
          } else {
            re.append(characterClass(segment.substring(i + 1, end)));
            i = end;
          }
        }
        default -> re.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return re.toString();
  }

  /** Index of the {@code ]} closing the class opened at {@code open}, or -1. */
  private static int classEnd(String s, int open) {
    int i = open + 1;
    if (i < s.length() && (s.charAt(i) == '!' || s.charAt(i) == '^')) {
      i++;
    }
    if (i < s.length() && s.charAt(i) == ']') {
      i++; // a leading ] is a literal
    }
    for (; i < s.length(); i++) {
      if (s.charAt(i) == '\\') {
        i++;
      } else if (s.charAt(i) == ']') {
        return i;
      }
    }
    return -1;
  }

  private static String characterClass(String body) {
    StringBuilder re = new StringBuilder("[");
    int start = 0;
    if (!body.isEmpty() && (body.charAt(0) == '!' || body.charAt(0) == '^')) {
      re.append("^/");
      start = 1;
    }
    for (int i = start; i < body.length(); i++) {
      char c = body.charAt(i);
      if (c == '\\' && i + 1 < body.length()) {
        c = body.charAt(++i);
        re.append(Character.isLetterOrDigit(c) ? "" : "\\").append(c);
      } else if (c == '-' && i > start && i + 1 < body.length()) {
        re.append('-');
      } else if (Character.isLetterOrDigit(c)) {
        re.append(c);
      } else {
        re.append('\\').append(c);
      }
    }
    re.append(']');
    return re.toString();
  }

  @Override
  public String toString() {
    return rules.stream().map(Rule::source).toList().toString();
  }
}
