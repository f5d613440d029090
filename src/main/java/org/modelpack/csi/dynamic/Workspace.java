package org.modelpack.csi.dynamic;

import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.modelpack.csi.fs.Dirs;
import org.modelpack.csi.fs.FileTrees;
import org.modelpack.csi.json.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The directory of one dynamic volume, {@code <root>/volumes/<volume>/}: {@code status.json},
 * {@code csi/csi.sock} (the API socket, a hard link to the socket the driver listens on) and,
 * per mount, {@code models/<mount_id>/model} (the model's files, linked in by
 * {@link ModelLinks}) beside {@code models/<mount_id>/.source} (the volume manager's bind of the
 * same model, which they are linked from; decision 1127). The pod sees it through a read-only
 * bind, so only the driver writes here, through this path. Directories are 0755: the pod's
 * user, whoever it is, reads them.
 */
final class Workspace {
  private static final Logger log = LoggerFactory.getLogger(Workspace.class);
  static final String STATUS = "status.json";
  static final String MODELS = "models";
  static final String MODEL = "model";
  static final String SOURCE = ".source";
  static final String CSI = "csi";
  static final String SOCKET = "csi.sock";
  private static final ObjectWriter WRITER =
      Json.mapper().writer(SerializationFeature.INDENT_OUTPUT);

  final String volume;
  final Path dir;

  Workspace(Path volumesDir, String volume) {
    this.volume = volume;
    this.dir = volumesDir.resolve(volume);
  }

  Path socketLink() {
    return dir.resolve(CSI).resolve(SOCKET);
  }

  Path modelsDir() {
    return dir.resolve(MODELS);
  }

  /**
   * Where the volume manager mounts mount {@code mountId}'s model, as seen through
   * {@code target} (a path the guard accepts for it; the pod reads the links in {@code model}).
   */
  static Path sourcePoint(Path target, String mountId) {
    return target.resolve(MODELS).resolve(mountId).resolve(SOURCE);
  }

  /** {@code models/<mountId>} as seen through {@code target}. */
  static Path mountDir(Path target, String mountId) {
    return target.resolve(MODELS).resolve(mountId);
  }

  /**
   * {@code models/<mountId>} in the workspace; refuses a name that would lead anywhere else
   * (mount ids are checked on the way in; this is the last line before a write or a delete).
   */
  Path mountDir(String mountId) {
    Path d = modelsDir().resolve(mountId).normalize();
    if (!modelsDir().equals(d.getParent())) {
      throw new IllegalArgumentException("mount id " + mountId + " leaves " + modelsDir());
    }
    return d;
  }

  /** Makes the (empty) workspace; a leftover of the same name is removed first. */
  void create() throws IOException {
    if (Files.exists(dir)) {
      FileTrees.delete(dir);
    }
    Dirs.create(dir, Dirs.SHARED);
    Dirs.create(modelsDir(), Dirs.SHARED);
    Dirs.create(dir.resolve(CSI), Dirs.SHARED);
  }

  Optional<RootStatus> status() {
    Path file = dir.resolve(STATUS);
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    try {
      RootStatus s = Json.mapper().readValue(file.toFile(), RootStatus.class);
      return s != null && s.dynamic() ? Optional.of(s) : Optional.empty();
    } catch (IOException e) {
      log.warn("ignoring unreadable {}: {}", file, e.getMessage());
      return Optional.empty();
    }
  }

  void write(RootStatus status) throws IOException {
    FileTrees.writeAtomically(dir.resolve(STATUS), WRITER.writeValueAsBytes(status), false);
    // Atomic writes are private; the pod reads this file to learn its volume's name.
    Files.setPosixFilePermissions(dir.resolve(STATUS),
        java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
  }

  /**
   * Makes {@code models/<mountId>} and its {@code .source} (here, as the target the volume
   * manager would make it at is read-only); idempotent. Returns {@code models/<mountId>}.
   */
  Path createMountDir(String mountId) throws IOException {
    Path d = Dirs.create(mountDir(mountId), Dirs.SHARED);
    Dirs.create(d.resolve(SOURCE), Dirs.SHARED);
    return d;
  }

  /** The mount ids that have a directory under {@code models/}. */
  List<String> mountIds() throws IOException {
    List<String> ids = new ArrayList<>();
    try (DirectoryStream<Path> list = Files.newDirectoryStream(modelsDir())) {
      for (Path p : list) {
        if (Files.isDirectory(p)) {
          ids.add(p.getFileName().toString());
        }
      }
    } catch (NoSuchFileException e) {
      return List.of();
    }
    ids.sort(null);
    return ids;
  }

  /** Deletes the workspace; call once nothing is mounted from or in it. */
  void delete() throws IOException {
    if (Files.exists(dir)) {
      FileTrees.delete(dir);
    }
  }
}
