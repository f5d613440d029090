package org.modelpack.csi.dynamic;

import java.nio.file.Path;

/** A published dynamic volume: its workspace and the one target it is mounted at. */
record LiveRoot(Workspace workspace, Path target) {
  String volume() {
    return workspace.volume;
  }
}
