package org.modelpack.csi.unpack;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One model root being filled: resolves untrusted relative paths under it and creates their
 * directories as {@link SafePath} does, remembering each directory it created or found to be a
 * real directory, so the next file in it costs no lookup. A model of 2,008 one-file layers in
 * one directory asked the filesystem twice per file that the directory is still there.
 *
 * <p>Remembering is sound only while nothing but this filling changes the tree, and the filling
 * never removes or replaces a directory (files and symlinks are only created where nothing
 * is). So use one per filling of a private tree (a volume's model directory being placed, a
 * layer's tree being extracted), and a new one after anything deleted from it. Thread-safe:
 * layers are placed in parallel.
 */
public final class SafeDirs {
  private final Path root;
  private final Set<Path> known = ConcurrentHashMap.newKeySet();

  /** {@code root} is trusted and must exist when the first directory is asked for. */
  public SafeDirs(Path root) {
    this.root = root.toAbsolutePath().normalize();
  }

  public Path root() {
    return root;
  }

  /** {@link SafePath#resolve(Path, String, String)} under this root. */
  public Path resolve(String relative, String layerDigest) throws UnsafePathException {
    return SafePath.resolve(root, relative, layerDigest);
  }

  /**
   * Makes sure {@code dir} (absolute, normalised, at or below the root) is a real directory,
   * creating what is missing: {@link SafePath#createDirectories(Path, Path, String)} the first
   * time, nothing after.
   */
  public void create(Path dir, String layerDigest) throws IOException {
    if (dir.equals(root) || known.contains(dir)) {
      return;
    }
    SafePath.createDirectories(root, dir, layerDigest);
    // It and every parent up to the root were checked or created just now.
    for (Path p = dir; !p.equals(root) && known.add(p); p = p.getParent()) {
      // walks up until a directory remembered before
    }
  }
}
