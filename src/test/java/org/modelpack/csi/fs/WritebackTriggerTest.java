package org.modelpack.csi.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.modelpack.csi.fs.WritebackTrigger.LAG;
import static org.modelpack.csi.fs.WritebackTrigger.WINDOW;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modelpack.csi.oci.Digest;
import org.modelpack.csi.oci.DigestingBlobFile;
import org.modelpack.csi.testing.Commands;

class WritebackTriggerTest {
  @TempDir Path tmp;

  /** The calls a trigger makes, answering as {@code supported} says. */
  private static final class Recorded implements WritebackTrigger.RangeSync {
    final List<String> calls = new ArrayList<>();
    final boolean supported;
    boolean closed;

    Recorded(boolean supported) {
      this.supported = supported;
    }

    @Override
    public boolean startWrite(long offset, long length) {
      calls.add("write " + offset / WINDOW + "+" + length / WINDOW);
      return supported;
    }

    @Override
    public boolean awaitWritten(long offset, long length) {
      calls.add("wait " + offset / WINDOW + "+" + length / WINDOW);
      return supported;
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  @Test
  void startsWritebackOfEachWholeWindowAndWaitsForWhatIsFurtherBehindThanTheLag() {
    Recorded sync = new Recorded(true);
    WritebackTrigger trigger = new WritebackTrigger(sync);
    long step = 256 * 1024;
    for (long end = step; end <= 6 * WINDOW + WINDOW / 2; end += step) {
      trigger.reached(end);
    }
    // In windows of WINDOW bytes: one request per window as it fills; waiting starts once the
    // started prefix is more than LAG (4 windows) ahead of what was waited for.
    assertThat(LAG).isEqualTo(4 * WINDOW);
    assertThat(sync.calls).containsExactly(
        "write 0+1", "write 1+1", "write 2+1", "write 3+1",
        "write 4+1", "wait 0+1",
        "write 5+1", "wait 1+1");
  }

  @Test
  void aJumpOverSeveralWindowsIsOneRequestAndARestartCountsFromZero() {
    Recorded sync = new Recorded(true);
    WritebackTrigger trigger = new WritebackTrigger(sync);
    trigger.reached(3 * WINDOW + 5);
    trigger.reached(2 * WINDOW); // behind what was started: nothing to do
    trigger.restart();
    trigger.reached(WINDOW);
    assertThat(sync.calls).containsExactly("write 0+3", "write 0+1");
  }

  @Test
  void aFileThatNeverFillsAWindowOpensNoDescriptorAndOneThatDoesOpensOne() {
    Recorded sync = new Recorded(true);
    java.util.concurrent.atomic.AtomicInteger opened = new java.util.concurrent.atomic.AtomicInteger();
    WritebackTrigger small = new WritebackTrigger(() -> {
      opened.incrementAndGet();
      return sync;
    });
    small.reached(32 * 1024);
    small.reached(WINDOW - 1);
    small.close();
    assertThat(opened).hasValue(0);
    assertThat(sync.closed).isFalse();

    WritebackTrigger big = new WritebackTrigger(() -> {
      opened.incrementAndGet();
      return sync;
    });
    big.reached(WINDOW);
    big.reached(2 * WINDOW);
    big.close();
    assertThat(opened).hasValue(1);
    assertThat(sync.calls).containsExactly("write 0+1", "write 1+1");
    assertThat(sync.closed).isTrue();
  }

  @Test
  void aDescriptorThatCannotBeOpenedTurnsTheTriggerOff() {
    WritebackTrigger trigger = new WritebackTrigger(() -> null);
    trigger.reached(WINDOW);
    assertThat(trigger.active()).isFalse();
    trigger.close();
  }

  @Test
  void stopsAskingOnceTheFileSystemRefusesAndClosesItsDescriptor() {
    Recorded sync = new Recorded(false);
    WritebackTrigger trigger = new WritebackTrigger(sync);
    trigger.reached(WINDOW);
    trigger.reached(5 * WINDOW);
    assertThat(sync.calls).containsExactly("write 0+1");
    assertThat(trigger.active()).isFalse();
    trigger.close();
    assertThat(sync.closed).isTrue();
  }

  @Test
  void aBlobFileOnDiskAndOnATmpfsIsWrittenWhole() throws Exception {
    Path tmpfs = Files.createDirectories(tmp.resolve("tmpfs"));
    Commands.run("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", tmpfs.toString());
    try {
      byte[] blob = new byte[(int) (3 * WINDOW + 12345)];
      new Random(7).nextBytes(blob);
      Digest want = Digest.sha256(MessageDigest.getInstance("SHA-256").digest(blob));
      for (Path file : List.of(tmp.resolve("blob"), tmpfs.resolve("blob"))) {
        try (WritebackTrigger probe = WritebackTrigger.forFile(Files.createFile(file))) {
          probe.reached(WINDOW); // whatever the file system says, no exception
        }
        try (DigestingBlobFile f = DigestingBlobFile.create(file, want)) {
          for (int at = 0; at < blob.length; at += 1 << 20) {
            f.write(ByteBuffer.wrap(blob, at, Math.min(1 << 20, blob.length - at)), at);
          }
          assertThat(f.finish()).isEqualTo(want);
        }
        assertThat(Files.readAllBytes(file)).isEqualTo(blob);
      }
    } finally {
      Commands.run("umount", "--lazy", tmpfs.toString());
    }
  }

  @Test
  void theRealCallIsAcceptedOnTheTestsFileSystem() throws Exception {
    Path file = tmp.resolve("f");
    Files.write(file, new byte[(int) WINDOW]);
    try (WritebackTrigger trigger = WritebackTrigger.forFile(file)) {
      trigger.reached(WINDOW);
      // ext4/xfs under the build directory support sync_file_range; the trigger stays on.
      assertThat(trigger.active()).isTrue();
    }
  }
}
