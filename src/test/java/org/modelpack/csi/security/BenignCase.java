package org.modelpack.csi.security;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.modelpack.csi.security.HostileCase.Ctx;

/**
 * An artifact that looks odd but is legal, so the corpus proves it is not over-refusing: it must
 * be served with these files, then unpublished leaving nothing.
 */
record BenignCase(String name, Artifact artifact, Check also) {

  interface Artifact {
    Served build(Ctx ctx) throws Exception;
  }

  /** A further assertion on the mounted target. */
  interface Check {
    void verify(Path target) throws Exception;
  }

  /**
   * @param files path → sha256 of every regular file the volume must serve
   * @param tarLayers digests of its tar layers (the store may keep them)
   */
  record Served(String reference, Map<String, String> files, Set<String> tarLayers) {}

  @Override
  public String toString() {
    return "[benign] " + name + " -> OK";
  }
}
