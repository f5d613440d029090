package org.modelpack.csi.server;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The project version baked in at build time. */
public final class Version {
  private Version() {}

  /** How the driver names itself to registries. */
  public static String userAgent() {
    return "model-csi-driver/" + get();
  }

  public static String get() {
    try (InputStream in = Version.class.getResourceAsStream("/version.properties")) {
      Properties p = new Properties();
      if (in != null) {
        p.load(in);
      }
      return p.getProperty("version", "unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }
}
