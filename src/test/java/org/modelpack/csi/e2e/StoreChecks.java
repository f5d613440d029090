package org.modelpack.csi.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * What the layer store must look like whenever the driver serves (docs/architecture.md,
 * "On-disk layout"): every entry is complete and is what its name says, however the previous
 * process died. Each check returns its findings as lines; an empty list means the store is
 * sound.
 */
final class StoreChecks {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String HEX = "[a-f0-9]{64}";
  /** A download kept to resume and its sidecar (decision 1250). */
  static final java.util.regex.Pattern RESUMABLE =
      java.util.regex.Pattern.compile("sha256-(" + HEX + ")\\.partial(\\.at)?");
  private static final Set<String> READ_ONLY_FILE = Set.of("r--r--r--", "r-xr-xr-x");
  private static final Set<String> STORE_DIRS =
      Set.of("blobs", "trees", "ingest", "manifests", "refs", "quarantine");

  private final Path store;
  private final Map<String, CrashModels.Layer> layers;
  private final List<String> findings = new ArrayList<>();

  private StoreChecks(Path store, Map<String, CrashModels.Layer> layers) {
    this.store = store;
    this.layers = layers;
  }

  /** {@code layers}: every layer the suite pushed, to compare extracted trees with. */
  static List<String> check(Path store, Map<String, CrashModels.Layer> layers)
      throws IOException {
    StoreChecks c = new StoreChecks(store, layers);
    c.topLevel();
    c.blobs();
    c.trees();
    c.manifests();
    c.refs();
    c.ingestHoldsOnlyResumableDownloads();
    c.nothingQuarantined();
    return c.findings;
  }

  private void topLevel() throws IOException {
    for (Path p : list(store)) {
      if (!STORE_DIRS.contains(p.getFileName().toString())) {
        findings.add("unexpected " + rel(p) + " in the store");
      }
    }
  }

  /** Each blob is a verified raw layer: its sha256 is its name, 0444/0555, root's. */
  private void blobs() throws IOException {
    for (Path p : digestDir("blobs")) {
      String name = p.getFileName().toString();
      if (!name.matches(HEX) || !Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
        findings.add("unexpected " + rel(p) + " among the blobs");
        continue;
      }
      String sha = FileHashes.sha256(p);
      if (!sha.equals(name)) {
        findings.add("blob " + rel(p) + " hashes to " + sha + " (size "
            + Files.size(p) + "): a partial or corrupt file under a verified name");
      }
      readOnlyAndRoots(p, READ_ONLY_FILE);
    }
  }

  /**
   * Each tree has its {@code <hex>.json} (written before the tree is renamed in), holds exactly
   * the files of its tar layer, and is read-only throughout.
   */
  private void trees() throws IOException {
    for (Path p : digestDir("trees")) {
      String name = p.getFileName().toString();
      if (name.matches(HEX + "\\.json")) {
        if (!Files.isDirectory(p.resolveSibling(name.substring(0, 64)))) {
          findings.add("tree metadata " + rel(p) + " without its tree");
        }
        continue;
      }
      if (!name.matches(HEX) || !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
        findings.add("unexpected " + rel(p) + " among the trees");
        continue;
      }
      Path meta = p.resolveSibling(name + ".json");
      long size = treeSize(p);
      try {
        JsonNode m = JSON.readTree(meta.toFile());
        if (!("sha256:" + name).equals(m.path("digest").asText())
            || m.path("size").asLong(-1) != size) {
          findings.add("tree metadata " + rel(meta) + " says " + m + " but the tree holds "
              + size + " bytes");
        }
      } catch (IOException e) {
        findings.add("tree " + rel(p) + " has no readable metadata: " + e);
      }
      CrashModels.Layer layer = layers.get("sha256:" + name);
      if (layer == null || !layer.tar()) {
        findings.add("tree " + rel(p) + " is no tar layer the suite pushed");
        continue;
      }
      String diff = ModelTreeDiff.diff(p, layer.files());
      if (diff != null) {
        findings.add("tree " + rel(p) + " is not its whole layer: " + diff);
      }
      Files.walkFileTree(p, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a)
            throws IOException {
          readOnlyAndRoots(d, Set.of("r-xr-xr-x"));
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
          if (a.isRegularFile()) {
            readOnlyAndRoots(f, READ_ONLY_FILE);
          }
          return FileVisitResult.CONTINUE;
        }
      });
    }
  }

  /** Manifests of completed pulls, named by their digest. */
  private void manifests() throws IOException {
    for (Path p : digestDir("manifests")) {
      String name = p.getFileName().toString();
      if (!name.matches(HEX) || !Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
        findings.add("unexpected " + rel(p) + " among the manifests");
      } else if (!FileHashes.sha256(p).equals(name)) {
        findings.add("manifest " + rel(p) + " does not hash to its name");
      }
    }
  }

  /** Each ref names a manifest the store has. */
  private void refs() throws IOException {
    for (Path p : list(store.resolve("refs"))) {
      String name = p.getFileName().toString();
      if (!name.matches(HEX + "\\.json")) {
        findings.add("unexpected " + rel(p) + " among the refs");
        continue;
      }
      try {
        String digest = JSON.readTree(p.toFile()).path("digest").asText();
        if (!digest.startsWith("sha256:")
            || !Files.isRegularFile(store.resolve("manifests/sha256").resolve(
                digest.substring(7)))) {
          findings.add("ref " + rel(p) + " names manifest " + digest
              + ", which the store does not have");
        }
      } catch (IOException e) {
        findings.add("ref " + rel(p) + " is unreadable: " + e);
      }
    }
  }

  /**
   * Extractions, evictions and downloads in progress: none survives a start but a download kept
   * to resume (decision 1250), which must be one the next try can trust: a partial of a layer
   * the suite pushed, with a sidecar naming a prefix of it that hashes to the recorded digest.
   */
  private void ingestHoldsOnlyResumableDownloads() throws IOException {
    List<String> left = new ArrayList<>();
    for (Path p : list(store.resolve("ingest"))) {
      String name = p.getFileName().toString();
      java.util.regex.Matcher m = RESUMABLE.matcher(name);
      if (!m.matches()) {
        left.add(name);
      } else if (m.group(2) == null) {
        resumable(p, "sha256:" + m.group(1)).ifPresent(findings::add);
      } else if (!Files.isRegularFile(p.resolveSibling(name.substring(0, name.length() - 3)))) {
        left.add(name);
      }
    }
    if (!left.isEmpty()) {
      findings.add("store/ingest holds more than resumable downloads after the start: "
          + left.stream().limit(5).toList());
    }
  }

  private java.util.Optional<String> resumable(Path partial, String digest) throws IOException {
    Path sidecar = partial.resolveSibling(partial.getFileName() + ".at");
    String at = Files.isRegularFile(sidecar) ? Files.readString(sidecar).trim() : "";
    String[] parts = at.split(" ");
    if (!layers.containsKey(digest) || parts.length != 2) {
      return java.util.Optional.of(rel(partial) + " is kept but is no resumable download of a "
          + "pushed layer (sidecar '" + at + "')");
    }
    long n = Long.parseLong(parts[0]);
    try (java.io.InputStream in = new java.io.BufferedInputStream(Files.newInputStream(partial))) {
      java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
      byte[] prefix = in.readNBytes((int) n);
      md.update(prefix);
      String got = "sha256:" + java.util.HexFormat.of().formatHex(md.digest());
      return prefix.length == n && got.equals(parts[1]) ? java.util.Optional.empty()
          : java.util.Optional.of(rel(partial) + "'s first " + n + " bytes are not "
              + parts[1] + " (" + prefix.length + " bytes, " + got + ")");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Every entry in the store is the driver's own: a crash must never make one look foreign. */
  private void nothingQuarantined() throws IOException {
    List<Path> moved = list(store.resolve("quarantine"));
    if (!moved.isEmpty()) {
      findings.add("store/quarantine holds " + moved.stream()
          .map(p -> p.getFileName().toString()).limit(5).toList());
    }
  }

  private void readOnlyAndRoots(Path p, Set<String> modes) throws IOException {
    String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(p,
        LinkOption.NOFOLLOW_LINKS));
    int uid = (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    if (!modes.contains(mode) || uid != 0) {
      findings.add(rel(p) + " has mode " + mode + " and uid " + uid + ", not one of " + modes
          + " and root");
    }
  }

  private static long treeSize(Path tree) throws IOException {
    try (Stream<Path> s = Files.walk(tree)) {
      long total = 0;
      for (Path f : s.filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)).toList()) {
        total += Files.size(f);
      }
      return total;
    }
  }

  /** Entries of {@code <store>/<kind>/<alg>/}; an algorithm other than sha256 is a finding. */
  private List<Path> digestDir(String kind) throws IOException {
    List<Path> out = new ArrayList<>();
    for (Path alg : list(store.resolve(kind))) {
      if (!alg.getFileName().toString().equals("sha256") || !Files.isDirectory(alg)) {
        findings.add("unexpected " + rel(alg) + " in the store");
        continue;
      }
      out.addAll(list(alg));
    }
    return out;
  }

  static List<Path> list(Path dir) throws IOException {
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.sorted().toList();
    }
  }

  private String rel(Path p) {
    return "store/" + store.relativize(p);
  }
}
