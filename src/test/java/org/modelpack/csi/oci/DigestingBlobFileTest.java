package org.modelpack.csi.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DigestingBlobFileTest {
  @TempDir Path tmp;

  private static byte[] bytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static Digest sha256(byte[] b) throws Exception {
    return Digest.sha256(MessageDigest.getInstance("SHA-256").digest(b));
  }

  private static final Digest ANY = Digest.parse("sha256:" + "0".repeat(64));

  @Test
  void bytesWrittenInOrderAreHashedAsTheyCome() throws Exception {
    byte[] blob = bytes(300_000, 1);
    try (DigestingBlobFile f = DigestingBlobFile.create(tmp.resolve("b"), ANY)) {
      for (int at = 0; at < blob.length; at += 7_000) {
        f.write(ByteBuffer.wrap(blob, at, Math.min(7_000, blob.length - at)), at);
      }
      assertThat(f.size()).isEqualTo(blob.length);
      assertThat(f.finish()).isEqualTo(sha256(blob));
    }
    assertThat(Files.readAllBytes(tmp.resolve("b"))).isEqualTo(blob);
  }

  @Test
  void partsWrittenOutOfOrderFromManyThreadsHashToTheBlobsDigest() throws Exception {
    byte[] blob = bytes(5_000_000, 2);
    int part = 64 * 1024;
    List<Integer> starts = new ArrayList<>();
    for (int at = 0; at < blob.length; at += part) {
      starts.add(at);
    }
    Collections.shuffle(starts, new Random(3));
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try (DigestingBlobFile f = DigestingBlobFile.create(tmp.resolve("b"), ANY)) {
      List<Future<?>> writes = new ArrayList<>();
      for (int start : starts) {
        writes.add(pool.submit(() -> {
          f.write(ByteBuffer.wrap(blob, start, Math.min(part, blob.length - start)), start);
          return null;
        }));
      }
      for (Future<?> w : writes) {
        f.hashWritten();
        w.get();
      }
      assertThat(f.finish()).isEqualTo(sha256(blob));
      assertThat(f.size()).isEqualTo(blob.length);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aHoleLeavesTheDigestAtTheBytesBeforeIt() throws Exception {
    byte[] blob = bytes(10_000, 4);
    try (DigestingBlobFile f = DigestingBlobFile.create(tmp.resolve("b"), ANY)) {
      f.write(ByteBuffer.wrap(blob, 0, 4_000), 0);
      f.write(ByteBuffer.wrap(blob, 6_000, 4_000), 6_000);
      assertThat(f.hashWritten()).isEqualTo(4_000);
      assertThat(f.finish()).isNotEqualTo(sha256(blob));
      assertThat(f.size()).isEqualTo(4_000);
    }
  }

  @Test
  void hashedBytesCannotBeRewrittenButARestartStartsOver() throws Exception {
    byte[] blob = bytes(10_000, 5);
    try (DigestingBlobFile f = DigestingBlobFile.create(tmp.resolve("b"), ANY)) {
      f.write(ByteBuffer.wrap(bytes(5_000, 6)), 0);
      assertThatThrownBy(() -> f.write(ByteBuffer.wrap(blob, 0, 100), 0))
          .hasMessageContaining("below the 5000 bytes already hashed");
      f.restart();
      f.write(ByteBuffer.wrap(blob), 0);
      assertThat(f.finish()).isEqualTo(sha256(blob));
    }
    assertThat(Files.readAllBytes(tmp.resolve("b"))).isEqualTo(blob);
  }

  @Test
  void aLaggingHashKeepsOneRunPerPartNotOneEntryPerWrite() throws Exception {
    byte[] blob = bytes(1 << 20, 7);
    int half = blob.length / 2;
    try (DigestingBlobFile f = DigestingBlobFile.create(tmp.resolve("b"), ANY)) {
      // The second half arrives first, in 4 KiB writes, while the first half is still missing.
      for (int at = half; at < blob.length; at += 4096) {
        f.write(ByteBuffer.wrap(blob, at, 4096), at);
      }
      assertThat(f.hashWritten()).isZero();
      assertThat(f.runsAhead()).isEqualTo(1);
      f.write(ByteBuffer.wrap(blob, 0, half), 0);
      assertThat(f.hashWritten()).isEqualTo(blob.length);
      assertThat(f.finish()).isEqualTo(sha256(blob));
    }
  }

  @Test
  void openingAtAKeptPrefixCutsTheRestRehashesItAndGoesOnThere() throws Exception {
    byte[] blob = bytes(3_000_000, 8);
    Path file = tmp.resolve("b");
    Files.write(file, java.util.Arrays.copyOf(blob, 2_000_000)); // more than is kept
    try (DigestingBlobFile f = DigestingBlobFile.openAt(file, ANY, 1_234_567, 1_234_567)) {
      assertThat(Files.size(file)).isEqualTo(1_234_567);
      assertThat(f.size()).isEqualTo(1_234_567);
      assertThat(f.hashedPrefix()).isEqualTo(new DigestingBlobFile.Prefix(1_234_567,
          sha256(java.util.Arrays.copyOf(blob, 1_234_567))));
      f.write(ByteBuffer.wrap(blob, 1_234_567, blob.length - 1_234_567), 1_234_567);
      assertThat(f.finish()).isEqualTo(sha256(blob));
    }
    assertThat(Files.readAllBytes(file)).isEqualTo(blob);
  }

  @Test
  void openingWithRunsAheadKeepsThoseTheFileHoldsAndCutsTheRest() throws Exception {
    byte[] blob = bytes(3_000_000, 12);
    Path file = tmp.resolve("b");
    Files.write(file, java.util.Arrays.copyOf(blob, 2_500_000));
    try (DigestingBlobFile f = DigestingBlobFile.openAt(file, ANY, 1_000_000, List.of(
        new ByteRun(1_500_000, 1_800_000), new ByteRun(2_000_000, 2_700_000)))) {
      // The second run is cut to what the file holds; nothing after it is kept.
      assertThat(f.writtenAhead()).containsExactly(new ByteRun(1_500_000, 1_800_000),
          new ByteRun(2_000_000, 2_500_000));
      assertThat(Files.size(file)).isEqualTo(2_500_000);
      assertThat(f.hashWritten()).isEqualTo(1_000_000);
      f.write(ByteBuffer.wrap(blob, 1_000_000, 500_000), 1_000_000);
      assertThat(f.hashWritten()).isEqualTo(1_800_000);
      f.write(ByteBuffer.wrap(blob, 1_800_000, 200_000), 1_800_000);
      f.write(ByteBuffer.wrap(blob, 2_500_000, 500_000), 2_500_000);
      assertThat(f.finish()).isEqualTo(sha256(blob));
      assertThat(f.writtenAhead()).isEmpty();
    }
  }

  @Test
  void runsAheadThatAreNotInOrderAfterThePrefixAreRefused() throws Exception {
    Path file = Files.write(tmp.resolve("b"), bytes(1_000, 13));
    assertThatThrownBy(() -> DigestingBlobFile.openAt(file, ANY, 500, List.of(
        new ByteRun(400, 600)))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> DigestingBlobFile.openAt(file, ANY, 0, List.of(
        new ByteRun(600, 700), new ByteRun(650, 800))))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void progressNamesThePrefixAndTheRunsAheadTogether() throws Exception {
    byte[] blob = bytes(1 << 20, 14);
    try (DigestingBlobFile f = DigestingBlobFile.create(tmp.resolve("b"), ANY)) {
      f.write(ByteBuffer.wrap(blob, 0, 1000), 0);
      f.write(ByteBuffer.wrap(blob, 5000, 1000), 5000);
      f.write(ByteBuffer.wrap(blob, 6000, 1000), 6000);
      DigestingBlobFile.Progress p = f.progress();
      assertThat(p.prefix()).isEqualTo(new DigestingBlobFile.Prefix(1000,
          sha256(java.util.Arrays.copyOf(blob, 1000))));
      assertThat(p.ahead()).containsExactly(new ByteRun(5000, 7000));
    }
  }

  @Test
  void whileARunIsReadBackProgressNamesAPrefixOnDiskAndTheRestOfTheRunAsAhead()
      throws Exception {
    byte[] blob = bytes(48 << 20, 16); // 384 read-back steps: the recorder sees some of them
    List<DigestingBlobFile.Progress> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (DigestingBlobFile f = DigestingBlobFile.create(tmp.resolve("b"), ANY)) {
      f.write(ByteBuffer.wrap(blob, 4096, blob.length - 4096), 4096); // a part ahead
      f.write(ByteBuffer.wrap(blob, 0, 4096), 0); // the gap fills: all of it is read back
      java.util.concurrent.atomic.AtomicBoolean done =
          new java.util.concurrent.atomic.AtomicBoolean();
      Thread recorder = new Thread(() -> {
        while (!done.get()) {
          DigestingBlobFile.Progress p = f.progress();
          if (p != null && (seen.isEmpty() || !seen.get(seen.size() - 1).equals(p))) {
            seen.add(p);
          }
        }
      });
      recorder.start();
      assertThat(f.hashWritten()).isEqualTo(blob.length);
      done.set(true);
      recorder.join();
    }
    // Whatever moment a record was taken at, its prefix hashes to what the file holds there,
    // and the rest of the blob was named as written ahead.
    assertThat(seen).anyMatch(p -> p.prefix().size() > 4096 && p.prefix().size() < blob.length);
    for (DigestingBlobFile.Progress p : seen.subList(0, Math.min(seen.size(), 12))) {
      int size = (int) p.prefix().size();
      assertThat(p.prefix().digest()).isEqualTo(sha256(java.util.Arrays.copyOf(blob, size)));
      assertThat(p.ahead()).isEqualTo(size == blob.length ? List.of()
          : List.of(new ByteRun(size, blob.length)));
    }
  }

  @Test
  void aHashedWriteThatFailedLeavesNoPrefixToTrustUntilARestart() throws Exception {
    byte[] blob = bytes(10_000, 15);
    DigestingBlobFile f = DigestingBlobFile.create(tmp.resolve("b"), ANY);
    f.write(ByteBuffer.wrap(blob, 0, 1000), 0);
    f.close(); // the next write fails after it was hashed
    assertThatThrownBy(() -> f.write(ByteBuffer.wrap(blob, 1000, 1000), 1000))
        .isInstanceOf(java.io.IOException.class);
    assertThat(f.hashedPrefix()).isNull();
    assertThat(f.progress()).isNull();
  }

  @Test
  void openingAtMoreThanTheFileHoldsStartsFromZero() throws Exception {
    Path file = tmp.resolve("b");
    Files.write(file, bytes(1_000, 9));
    try (DigestingBlobFile f = DigestingBlobFile.openAt(file, ANY, 5_000, 5_000)) {
      assertThat(f.size()).isZero();
      assertThat(Files.size(file)).isZero();
    }
  }

  @Test
  void aSymlinkIsNeverOpenedAsTheFileToWrite() throws Exception {
    Path victim = Files.write(tmp.resolve("victim"), bytes(1_000, 10));
    Path link = Files.createSymbolicLink(tmp.resolve("b"), victim);
    assertThatThrownBy(() -> DigestingBlobFile.openAt(link, ANY, 0, 0))
        .isInstanceOf(java.io.IOException.class);
    assertThatThrownBy(() -> DigestingBlobFile.create(link, ANY))
        .isInstanceOf(java.io.IOException.class);
    assertThat(Files.size(victim)).isEqualTo(1_000);
  }

  @Test
  void bytesKeptBeyondTheVerifiedPrefixAreHashedByTheNextHashWritten() throws Exception {
    byte[] blob = bytes(3_000_000, 11);
    Path file = tmp.resolve("b");
    Files.write(file, java.util.Arrays.copyOf(blob, 2_500_000));
    try (DigestingBlobFile f = DigestingBlobFile.openAt(file, ANY, 1_000_000, 2_000_000)) {
      assertThat(f.hashedPrefix()).isEqualTo(new DigestingBlobFile.Prefix(1_000_000,
          sha256(java.util.Arrays.copyOf(blob, 1_000_000))));
      assertThat(Files.size(file)).isEqualTo(2_000_000);
      assertThat(f.hashWritten()).isEqualTo(2_000_000);
      f.write(ByteBuffer.wrap(blob, 2_000_000, 1_000_000), 2_000_000);
      assertThat(f.finish()).isEqualTo(sha256(blob));
    }
  }
}
