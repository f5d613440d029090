package org.modelpack.csi.mount;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Real bind mounts (needs root) through both ways the driver can mount: mount(2) via libc and
 * mount(8). Both must give the same result.
 */
class MounterIT {
  private final MountTable table = new MountTable();
  @TempDir Path dir;
  private Path source;
  private Path target;

  static Stream<String> backends() {
    return Stream.of("syscalls", "commands");
  }

  private Mounter mounter(String backend) throws IOException {
    source = Files.createDirectories(dir.resolve("source"));
    target = Files.createDirectories(dir.resolve("target"));
    Files.writeString(source.resolve("weights.bin"), "weights");
    return new Mounter(table, backend.equals("syscalls") ? SyscallMounts.load()
        : new CommandMounts(table));
  }

  @AfterEach
  void unmountLeftovers() throws IOException {
    for (Path p : table.mountsUnder(dir)) {
      Mounter.withCommands(table).unmount(p);
    }
  }

  @ParameterizedTest
  @MethodSource("backends")
  void readOnlyBindShowsTheFilesRefusesWritesAndIsNosuidNodev(String backend) throws Exception {
    Mounter m = mounter(backend);
    m.bindReadOnly(source, target);

    assertThat(Files.readString(target.resolve("weights.bin"))).isEqualTo("weights");
    assertThatThrownBy(() -> Files.writeString(target.resolve("weights.bin"), "changed"))
        .isInstanceOf(FileSystemException.class).hasMessageContaining("Read-only file system");
    assertThatThrownBy(() -> Files.createFile(target.resolve("new")))
        .isInstanceOf(FileSystemException.class).hasMessageContaining("Read-only file system");
    MountEntry e = table.find(target).orElseThrow();
    assertThat(e.options()).contains("ro", "nosuid", "nodev");
    Files.writeString(source.resolve("weights.bin"), "source stays writable");
  }

  @ParameterizedTest
  @MethodSource("backends")
  void writableBindAcceptsWritesAndIsStillNosuidNodev(String backend) throws Exception {
    Mounter m = mounter(backend);
    m.bindWritable(source, target);

    Files.writeString(target.resolve("new"), "written through the mount");
    assertThat(source.resolve("new")).hasContent("written through the mount");
    MountEntry e = table.find(target).orElseThrow();
    assertThat(e.readOnly()).isFalse();
    assertThat(e.options()).contains("nosuid", "nodev");
  }

  @ParameterizedTest
  @MethodSource("backends")
  void unmountRemovesEveryMountStackedAtTheTarget(String backend) throws Exception {
    Mounter m = mounter(backend);
    m.bindReadOnly(source, target);
    m.bindReadOnly(source, target);

    m.unmount(target);

    assertThat(table.isMountPoint(target)).isFalse();
    assertThat(target).isEmptyDirectory();
  }

  @ParameterizedTest
  @MethodSource("backends")
  void unmountOfAPlainOrMissingDirectoryDoesNothing(String backend) throws Exception {
    Mounter m = mounter(backend);
    m.unmount(target);
    m.unmount(dir.resolve("missing"));
    assertThat(target).isDirectory();
  }

  @ParameterizedTest
  @MethodSource("backends")
  void busyMountIsDetachedLazily(String backend) throws Exception {
    Mounter m = mounter(backend);
    m.bindReadOnly(source, target);
    try (FileChannel open = FileChannel.open(target.resolve("weights.bin"))) {
      m.unmount(target);
      assertThat(table.isMountPoint(target)).isFalse();
      assertThat(open.size()).isEqualTo("weights".length()); // the reader keeps its file
    }
  }

  @ParameterizedTest
  @MethodSource("backends")
  void bindOntoAMissingTargetFailsNamingItAndLeavesNoMount(String backend) throws Exception {
    Mounter m = mounter(backend);
    Path missing = dir.resolve("no-such-target");

    assertThatThrownBy(() -> m.bindReadOnly(source, missing))
        .isInstanceOf(IOException.class).hasMessageContaining(missing.toString());
    assertThat(table.mountsUnder(dir)).isEmpty();
  }
}
