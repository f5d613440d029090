package org.modelpack.csi.store;

import java.nio.file.Path;
import org.modelpack.csi.oci.Digest;

/**
 * Where the store keeps things. Names are digests, so the store describes itself: rebuilding it
 * after a restart is a directory scan.
 *
 * <pre>
 * &lt;store&gt;/blobs/&lt;alg&gt;/&lt;hex&gt;          verified raw layer, 0444 (0555 if executable)
 * &lt;store&gt;/trees/&lt;alg&gt;/&lt;hex&gt;/         extracted tar layer, files 0444/0555, dirs 0555
 * &lt;store&gt;/trees/&lt;alg&gt;/&lt;hex&gt;.json     its size and file count, written before the tree
 * &lt;store&gt;/ingest/                    downloads and extractions in progress
 * &lt;store&gt;/manifests/&lt;alg&gt;/&lt;hex&gt;      manifests of completed pulls (offline fallback)
 * &lt;store&gt;/refs/&lt;sha256(ref)&gt;.json     reference → manifest digest at the last pull
 * &lt;store&gt;/quarantine/                entries the driver did not write, moved aside; emptied
 *                                      at the next start
 * &lt;store&gt;/unsynced.json               present while entries may be unsynced (decision 1220)
 * </pre>
 *
 * <p>Every directory is 0700: only the driver reads the store directly (pods read through
 * their volume's mount), and nobody else can plant an entry.
 */
public record StoreLayout(Path root) {

  public Path blobs() {
    return root.resolve("blobs");
  }

  public Path trees() {
    return root.resolve("trees");
  }

  public Path ingest() {
    return root.resolve("ingest");
  }

  /** Present while entries committed without their own fsync may not be durable yet. */
  public Path unsyncedMarker() {
    return root.resolve("unsynced.json");
  }

  public Path quarantine() {
    return root.resolve("quarantine");
  }

  /** The fixed directories inside the store, each 0700 like the store itself. */
  public java.util.List<Path> subdirectories() {
    return java.util.List.of(blobs(), trees(), ingest(), manifests(), refs(), quarantine());
  }

  public Path manifests() {
    return root.resolve("manifests");
  }

  public Path refs() {
    return root.resolve("refs");
  }

  public Path path(LayerKey key) {
    Digest d = Digest.parse(key.digest());
    return (key.kind() == EntryKind.BLOB ? blobs() : trees()).resolve(d.algorithm())
        .resolve(d.hex());
  }

  public Path treeMeta(LayerKey key) {
    Path tree = path(key);
    return tree.resolveSibling(tree.getFileName() + ".json");
  }

  public Path manifest(String digest) {
    Digest d = Digest.parse(digest);
    return manifests().resolve(d.algorithm()).resolve(d.hex());
  }
}
