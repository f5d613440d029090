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
import org.modelpack.csi.testing.Commands;
import org.modelpack.csi.testing.CsiRequests;

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
        : new CommandMounts(table), dir.resolve("staging"));
  }

  @AfterEach
  void unmountLeftovers() throws Exception {
    CsiRequests.unmountAllUnder(dir);
  }

  @ParameterizedTest
  @MethodSource("backends")
  void aStagingPathBehindASymlinkIsStillClearedAndNothingIsDeletedThroughAMount(String backend)
      throws Exception {
    mounter(backend);
    Path real = Files.createDirectories(dir.resolve("real-root/staging"));
    Path viaLink = Files.createSymbolicLink(dir.resolve("root-link"), dir.resolve("real-root"))
        .resolve("staging");
    Path left = Files.createDirectories(real.resolve("bind-left"));
    Commands.run("mount", "--bind", source.toString(), left.toString());

    Mounter.forThisNode(table, viaLink);

    assertThat(table.mountsUnder(dir)).isEmpty();
    assertThat(real).isEmptyDirectory();
    assertThat(source.resolve("weights.bin")).hasContent("weights");
  }

  /**
   * Where the target's mount is shared (a driver in a container with Bidirectional
   * propagation, as CSI node plugins run), the new mount also appears at the peers (the host's
   * view kubelet hands to the pod). That copy must be read-only from its first moment too: a
   * bind followed by a read-only remount would leave it writable, as remounts do not
   * propagate.
   */
  @ParameterizedTest
  @MethodSource("backends")
  void aReadOnlyBindPropagatedToAPeerMountIsReadOnlyThereToo(String backend) throws Exception {
    Mounter m = mounter(backend);
    Path shared = Files.createDirectories(dir.resolve("shared"));
    Path peer = Files.createDirectories(dir.resolve("peer"));
    Commands.run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", shared.toString());
    Commands.run("mount", "--make-shared", shared.toString());
    Commands.run("mount", "--bind", shared.toString(), peer.toString());
    Path inShared = Files.createDirectories(shared.resolve("pod/volume"));

    m.bindReadOnly(source, inShared);

    Path inPeer = peer.resolve("pod/volume");
    assertThat(Files.readString(inPeer.resolve("weights.bin"))).isEqualTo("weights");
    assertThat(table.find(inPeer).orElseThrow().options()).contains("ro", "nosuid", "nodev");
    assertThatThrownBy(() -> Files.writeString(inPeer.resolve("weights.bin"), "changed"))
        .isInstanceOf(FileSystemException.class).hasMessageContaining("Read-only file system");
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
    assertThat(table.mountsUnder(dir.resolve("staging"))).isEmpty();
    assertThat(dir.resolve("staging")).isEmptyDirectory();
  }

  @ParameterizedTest
  @MethodSource("backends")
  void stagingMountsLeftByADeadProcessAreRemovedAtStart(String backend) throws Exception {
    mounter(backend);
    Path left = Files.createDirectories(dir.resolve("staging/bind-123"));
    Commands.run("mount", "--bind", source.toString(), left.toString());

    Mounter.forThisNode(table, dir.resolve("staging"));

    assertThat(table.mountsUnder(dir.resolve("staging"))).isEmpty();
    assertThat(dir.resolve("staging")).isEmptyDirectory();
    assertThat(source.resolve("weights.bin")).hasContent("weights");
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
  void unmountBindOfRemovesTheBindOfItsSourceAndNothingElse(String backend) throws Exception {
    Mounter m = mounter(backend);
    m.bindReadOnly(source, target);
    m.bindReadOnly(source, target);

    assertThat(m.unmountBindOf(source, target)).isEqualTo(Mounter.Unmount.UNMOUNTED);

    assertThat(table.stackAt(target)).hasSize(1); // one call, one mount
    assertThat(m.unmountBindOf(source, target)).isEqualTo(Mounter.Unmount.UNMOUNTED);
    assertThat(table.isMountPoint(target)).isFalse();
    assertThat(target).isEmptyDirectory();
  }

  @ParameterizedTest
  @MethodSource("backends")
  void aMountOfSomethingElseAtTheTargetIsLeftMounted(String backend) throws Exception {
    Mounter m = mounter(backend);
    Path other = Files.createDirectories(dir.resolve("other"));
    Files.writeString(other.resolve("theirs"), "not ours");
    Commands.run("mount", "--bind", other.toString(), target.toString());

    assertThat(m.unmountBindOf(source, target)).isEqualTo(Mounter.Unmount.NOT_OURS);

    assertThat(target.resolve("theirs")).hasContent("not ours");
  }

  @ParameterizedTest
  @MethodSource("backends")
  void ourMountCoveredBySomeoneElsesIsLeftAsItIs(String backend) throws Exception {
    Mounter m = mounter(backend);
    m.bindReadOnly(source, target);
    Commands.run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", target.toString());

    assertThat(m.unmountBindOf(source, target)).isEqualTo(Mounter.Unmount.COVERED);

    assertThat(table.stackAt(target)).hasSize(2);
    assertThat(table.find(target).orElseThrow().fsType()).isEqualTo("tmpfs");
  }

  @ParameterizedTest
  @MethodSource("backends")
  void aBindIsRecognisedAfterItsSourceDirectoryWasRemoved(String backend) throws Exception {
    Mounter m = mounter(backend);
    Path gone = Files.createDirectories(dir.resolve("gone"));
    m.bindReadOnly(gone, target);
    Files.delete(gone);

    assertThat(m.isBindOf(gone, target)).isTrue();
    assertThat(m.isBindOf(source, target)).isFalse();
    assertThat(m.unmountBindOf(gone, target)).isEqualTo(Mounter.Unmount.UNMOUNTED);
    assertThat(table.isMountPoint(target)).isFalse();
  }

  @ParameterizedTest
  @MethodSource("backends")
  void unmountOfAPlainOrMissingDirectoryDoesNothing(String backend) throws Exception {
    Mounter m = mounter(backend);
    assertThat(m.unmountBindOf(source, target)).isEqualTo(Mounter.Unmount.NOT_MOUNTED);
    assertThat(m.unmountBindOf(source, dir.resolve("missing")))
        .isEqualTo(Mounter.Unmount.NOT_MOUNTED);
    assertThat(target).isDirectory();
  }

  @ParameterizedTest
  @MethodSource("backends")
  void busyMountOfOursIsDetachedLazily(String backend) throws Exception {
    Mounter m = mounter(backend);
    m.bindReadOnly(source, target);
    try (FileChannel open = FileChannel.open(target.resolve("weights.bin"))) {
      assertThat(m.unmountBindOf(source, target)).isEqualTo(Mounter.Unmount.UNMOUNTED);
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
