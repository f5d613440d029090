package org.modelpack.csi.mount;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MountTableTest {
  @Test
  void parsesMountPointOptionsAndFilesystem() {
    MountEntry e = MountTable.parseLine("36 35 98:0 /mnt1 /mnt/with\\040space ro,nosuid,nodev "
        + "master:1 - ext4 /dev/root rw,errors=continue");
    assertThat(e.mountPoint()).isEqualTo(Path.of("/mnt/with space"));
    assertThat(e.root()).isEqualTo("/mnt1");
    assertThat(e.readOnly()).isTrue();
    assertThat(e.options()).contains("nosuid", "nodev");
    assertThat(e.fsType()).isEqualTo("ext4");
    assertThat(e.source()).isEqualTo("/dev/root");
  }

  @Test
  void parsesLinesWithoutOptionalFields() {
    MountEntry e = MountTable.parseLine("22 1 0:21 / /proc rw,nosuid - proc proc rw");
    assertThat(e.mountPoint()).isEqualTo(Path.of("/proc"));
    assertThat(e.readOnly()).isFalse();
  }

  @Test
  void theTopmostOfStackedMountsWins(@TempDir Path dir) throws Exception {
    Path info = Files.writeString(dir.resolve("mountinfo"), """
        1 0 8:1 / / rw - ext4 /dev/sda1 rw
        2 1 8:1 /a /t rw - ext4 /dev/sda1 rw
        3 2 8:1 /b /t ro - ext4 /dev/sda1 rw
        """);
    MountTable table = new MountTable(info);
    assertThat(table.find(Path.of("/t")).orElseThrow().root()).isEqualTo("/b");
    assertThat(table.isMountPoint(Path.of("/t/sub"))).isFalse();
    assertThat(table.mountsUnder(Path.of("/t"))).hasSize(2);
  }

  @Test
  void findsAMountPointWhoseNameTheTableEscapes(@TempDir Path dir) throws Exception {
    Path info = Files.writeString(dir.resolve("mountinfo"), """
        1 0 8:1 / / rw - ext4 /dev/sda1 rw
        2 1 8:1 /m /pods/with\\040space\\134and\\011tab ro - ext4 /dev/sda1 rw
        3 1 8:1 /n /pods/with ro - ext4 /dev/sda1 rw
        """);
    MountTable table = new MountTable(info);
    assertThat(table.find(Path.of("/pods/with space\\and\ttab")).orElseThrow().root())
        .isEqualTo("/m");
    assertThat(table.find(Path.of("/pods/with")).orElseThrow().root()).isEqualTo("/n");
    assertThat(table.isMountPoint(Path.of("/pods/with space"))).isFalse();
  }

  @Test
  void aVolumeIsInUseWhileItsModelIsBindMountedElsewhere(@TempDir Path dir) throws Exception {
    Path info = Files.writeString(dir.resolve("mountinfo"), """
        1 0 8:1 / / rw - ext4 /dev/sda1 rw
        2 1 8:2 / /var/lib rw - ext4 /dev/sdb1 rw
        3 1 8:1 /tmp/root/volumes/a/model /pods/p1/mount ro - ext4 /dev/sda1 rw
        4 1 8:2 /model-csi/volumes/b/model /pods/p2/mount ro - ext4 /dev/sdb1 rw
        """);
    MountTable table = new MountTable(info);
    assertThat(table.isInUse(Path.of("/tmp/root/volumes/a"))).isTrue();
    assertThat(table.isInUse(Path.of("/var/lib/model-csi/volumes/b"))).isTrue();
    assertThat(table.isInUse(Path.of("/tmp/root/volumes/c"))).isFalse();
    assertThat(table.isInUse(Path.of("/var/lib/model-csi/volumes/c"))).isFalse();
  }
}
