package org.modelpack.csi.server;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The jar classes a first publish and unpublish load that the warm-up's gRPC calls do not reach
 * (the plan, the registry client, the store, the JNA mount calls), listed in
 * {@code publish-path-classes.txt}. Loading them uninitialised has no effect beyond the
 * class loader: no static initialiser runs, so nothing is opened, mounted or written.
 */
final class PublishPathClasses {
  static final String RESOURCE = "publish-path-classes.txt";

  private PublishPathClasses() {}

  /** The listed class names, comments and blank lines skipped. */
  static List<String> names() throws IOException {
    try (InputStream in = PublishPathClasses.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IOException(RESOURCE + " is missing from the jar");
      }
      return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines()
          .map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    }
  }

  /** Loads every listed class without initialising it; returns how many could not be found. */
  static int load() throws IOException {
    ClassLoader loader = PublishPathClasses.class.getClassLoader();
    int missing = 0;
    for (String name : names()) {
      try {
        Class.forName(name, false, loader);
      } catch (ClassNotFoundException | LinkageError e) {
        missing++;
      }
    }
    return missing;
  }
}
