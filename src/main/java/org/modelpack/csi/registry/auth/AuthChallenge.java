package org.modelpack.csi.registry.auth;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One challenge from a {@code WWW-Authenticate} header (RFC 7235), e.g. {@code Bearer
 * realm="https://auth/token",service="reg",scope="repository:a:pull"}.
 *
 * <p>The scheme is lower-cased and parameter names too, because registries differ in case.
 * Quoted values may contain commas (scopes like {@code repository:a:pull,push}) and escaped
 * quotes, so this is a small tokenizer rather than a split on commas.
 */
public record AuthChallenge(String scheme, Map<String, String> params) {

  public static final String BASIC = "basic";
  public static final String BEARER = "bearer";

  public AuthChallenge {
    scheme = scheme.toLowerCase(Locale.ROOT);
    params = Map.copyOf(params);
  }

  public boolean isBasic() {
    return BASIC.equals(scheme);
  }

  public boolean isBearer() {
    return BEARER.equals(scheme);
  }

  public String realm() {
    return params.get("realm");
  }

  public String service() {
    return params.get("service");
  }

  /** Scopes named by the challenge (space separated in the header); empty when absent. */
  public List<String> scopes() {
    String s = params.get("scope");
    if (s == null || s.isBlank()) {
      return List.of();
    }
    return Arrays.stream(s.trim().split(" +")).toList();
  }

  /** Parses every challenge in the header value; unknown schemes are returned too. */
  public static List<AuthChallenge> parseAll(String header) {
    List<AuthChallenge> result = new ArrayList<>();
    if (header == null) {
      return result;
    }
    Tokenizer t = new Tokenizer(header);
    String scheme = null;
    Map<String, String> params = new LinkedHashMap<>();
    while (true) {
      t.skipSeparators();
      if (t.atEnd()) {
        break;
      }
      String token = t.readToken();
      if (token.isEmpty()) {
        t.pos++; // skip a stray character rather than loop forever
        continue;
      }
      t.skipSpaces();
      if (t.peek() == '=' && scheme != null) {
        t.pos++;
        t.skipSpaces();
        String value = t.peek() == '"' ? t.readQuoted() : t.readToken();
        params.put(token.toLowerCase(Locale.ROOT), value);
      } else {
        // A bare token starts a new challenge (token68 credentials are not used by registries).
        if (scheme != null) {
          result.add(new AuthChallenge(scheme, params));
        }
        scheme = token;
        params = new LinkedHashMap<>();
      }
    }
    if (scheme != null) {
      result.add(new AuthChallenge(scheme, params));
    }
    return result;
  }

  /** The first Bearer challenge, else the first Basic one, else null. */
  public static AuthChallenge pick(List<String> headerValues) {
    List<AuthChallenge> all = new ArrayList<>();
    for (String h : headerValues) {
      all.addAll(parseAll(h));
    }
    return all.stream().filter(AuthChallenge::isBearer).findFirst()
        .or(() -> all.stream().filter(AuthChallenge::isBasic).findFirst())
        .orElse(null);
  }

  private static final class Tokenizer {
    private final String s;
    private int pos;

    Tokenizer(String s) {
      this.s = s;
    }

    boolean atEnd() {
      return pos >= s.length();
    }

    char peek() {
      return atEnd() ? '\0' : s.charAt(pos);
    }

    void skipSpaces() {
      while (!atEnd() && (peek() == ' ' || peek() == '\t')) {
        pos++;
      }
    }

    void skipSeparators() {
      while (!atEnd() && (peek() == ' ' || peek() == '\t' || peek() == ',')) {
        pos++;
      }
    }

    String readToken() {
      int start = pos;
      while (!atEnd()) {
        char c = peek();
        if (c == ' ' || c == '\t' || c == ',' || c == '=' || c == '"') {
          break;
        }
        pos++;
      }
      return s.substring(start, pos);
    }

    String readQuoted() {
      StringBuilder sb = new StringBuilder();
      pos++; // opening quote
      while (!atEnd()) {
        char c = s.charAt(pos++);
        if (c == '\\' && !atEnd()) {
          sb.append(s.charAt(pos++));
        } else if (c == '"') {
          break;
        } else {
          sb.append(c);
        }
      }
      return sb.toString();
    }
  }
}
