package org.modelpack.csi.config;

import java.util.Arrays;
import java.util.Locale;

/**
 * Which CSI services a {@code serve} process offers (config key {@code mode}, flag
 * {@code --mode}). The default is {@link #NODE}, what {@code serve} always was, so an existing
 * DaemonSet or config keeps its behaviour.
 */
public enum ServeMode {
  /** Identity + Controller only: no root_dir, no store, no mounts (a Deployment). */
  CONTROLLER,
  /** Identity + Node (+ the admin services): the DaemonSet on every node. */
  NODE,
  /** Controller and node on one socket: for tests, csi-sanity and single-machine use. */
  ALL;

  public static final ServeMode DEFAULT = NODE;

  public boolean servesController() {
    return this != NODE;
  }

  public boolean servesNode() {
    return this != CONTROLLER;
  }

  public String value() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Parses {@code controller}, {@code node} or {@code all} (case-insensitive).
   *
   * @throws IllegalArgumentException naming the accepted values
   */
  public static ServeMode parse(String value) {
    String v = value == null ? "" : value.trim().toUpperCase(Locale.ROOT);
    return Arrays.stream(values()).filter(m -> m.name().equals(v)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("'" + value
            + "' is not a mode; use controller, node or all"));
  }
}
