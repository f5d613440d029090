package org.modelpack.csi.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.modelpack.csi.store.LayerStoreTest.sha256;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.modelpack.csi.modelpack.LayerFormat;
import org.modelpack.csi.oci.BlobWriter;
import org.modelpack.csi.oci.ByteRun;

/**
 * A download the process was killed in (or that failed) goes on from the prefix its sidecar
 * records, after that prefix is hashed again from disk; anything that does not check out starts
 * over, and the entry is always the right blob. Sources here behave as the registry client does:
 * they go on from {@link BlobWriter#hashWritten()}.
 */
@Timeout(60)
class ResumedDownloadTest {
  private static final EvictionPolicy NO_EVICTION = new EvictionPolicy(0, 100, 100);
  private static final int MIB = 1 << 20;

  @TempDir Path tmp;
  private final List<LayerStore> stores = new ArrayList<>();
  /** Where each fetch began: what the writer held when the source was asked. */
  private final List<Long> startedAt = new CopyOnWriteArrayList<>();
  /** Runs held on disk that a source skipped. */
  private final List<ByteRun> skipped = new CopyOnWriteArrayList<>();

  @AfterEach
  void tearDown() {
    stores.forEach(LayerStore::close);
  }

  @Test
  void aKilledDownloadGoesOnFromTheLastRecordedPrefixInTheNextProcess() throws Exception {
    byte[] blob = noise(20 * MIB + 5, 1);
    LayerStore next = killedWhileFetching(blob, out -> feed(out, blob, 17 * MIB));

    StoreEntry entry = next.request("vol-1", raw(blob), source(blob)).await();

    assertThat(entry.path()).hasBinaryContent(blob);
    // Recorded at 16 MiB, in order: the 17 MiB written were kept, the last 3 MiB fetched.
    assertThat(startedAt).containsExactly(0L, 17L * MIB);
    assertThat(ingestContents(next)).isEmpty();
  }

  @Test
  void afterAKillThePartsWrittenAheadThatWereRecordedAreKeptAndNotFetchedAgain()
      throws Exception {
    byte[] blob = noise(24 * MIB, 11);
    LayerStore next = killedWhileFetching(blob, out -> {
      feed(out, blob, 9 * MIB);
      // A parallel part, ahead: recorded once 16 MiB were written in all (at 19 MiB), not after.
      write(out, blob, 12 * MIB, 21 * MIB);
    });

    StoreEntry entry = next.request("vol-1", raw(blob), rangedSource(blob)).await();

    assertThat(entry.path()).hasBinaryContent(blob);
    assertThat(startedAt).containsExactly(0L, 9L * MIB);
    assertThat(skipped).containsExactly(new ByteRun(12L * MIB, 19L * MIB));
  }

  @Test
  void aPartWrittenAheadSinceTheLastRecordIsNotKept() throws Exception {
    byte[] blob = noise(20 * MIB, 8);
    LayerStore next = killedWhileFetching(blob, out -> {
      feed(out, blob, 9 * MIB);
      out.write(ByteBuffer.wrap(blob, 12 * MIB, MIB), 12 * MIB); // a parallel part, ahead
    });

    StoreEntry entry = next.request("vol-1", raw(blob), source(blob)).await();

    assertThat(entry.path()).hasBinaryContent(blob);
    assertThat(startedAt).containsExactly(0L, 9L * MIB);
  }

  /**
   * A store on a second root holding what a kill -9 leaves of a download of {@code blob} that
   * had done {@code work} and then hung: its ingest files as they were (the page cache is what
   * the next process reads).
   */
  private LayerStore killedWhileFetching(byte[] blob, BlobFetcher work) throws Exception {
    LayerStore first = open("root-1");
    CountDownLatch reached = new CountDownLatch(1);
    Ticket t = first.request("vol-1", raw(blob), out -> {
      work.fetch(out);
      reached.countDown();
      hang(new CountDownLatch(1));
    });
    assertThat(reached.await(20, TimeUnit.SECONDS)).isTrue();
    Path copy = Files.createDirectories(tmp.resolve("root-2/store/ingest"));
    try (Stream<Path> files = Files.list(first.layout().ingest())) {
      for (Path f : files.toList()) {
        Files.copy(f, copy.resolve(f.getFileName()));
      }
    }
    t.cancel();
    return open("root-2");
  }

  @Test
  void aFailedDownloadKeepsAllItHashedForTheNextTry() throws Exception {
    byte[] blob = noise(3 * MIB, 2);
    LayerStore store = open("root");
    Ticket failed = store.request("vol-1", raw(blob), out -> {
      feed(out, blob, 2 * MIB + 7);
      throw new IOException("registry went away");
    });
    assertThatThrownBy(failed::await).hasMessageContaining("registry went away");
    assertThat(sidecar(store, blob)).hasContent((2 * MIB + 7) + " " + sha256(
        java.util.Arrays.copyOf(blob, 2 * MIB + 7)) + " parts-ahead\n");

    StoreEntry entry = store.request("vol-1", raw(blob), source(blob)).await();

    assertThat(entry.path()).hasBinaryContent(blob);
    assertThat(startedAt).containsExactly(0L, 2L * MIB + 7);
  }

  @Test
  void aBlobThatArrivedWholeButWasRefusedLeavesNothingToResume() throws Exception {
    byte[] blob = noise(3 * MIB, 9);
    byte[] wrong = noise(3 * MIB, 10);
    LayerStore store = open("root");
    // As the registry client does when every byte came and the digest was wrong.
    Ticket refused = store.request("vol-1", raw(blob), out -> {
      feed(out, wrong, wrong.length);
      out.hashWritten();
      throw new IOException("failed verification: expected digest of the blob");
    });
    assertThatThrownBy(refused::await).hasMessageContaining("failed verification");

    await().atMost(Duration.ofSeconds(20)).until(() -> ingestContents(store).isEmpty());
    StoreEntry entry = store.request("vol-1", raw(blob), source(blob)).await();
    assertThat(entry.path()).hasBinaryContent(blob);
    assertThat(startedAt).containsExactly(0L, 0L);
  }

  @Test
  void aTornSidecarMakesTheDownloadStartOver() throws Exception {
    byte[] blob = noise(2 * MIB, 3);
    leftBehind(blob, java.util.Arrays.copyOf(blob, MIB), "1048576 sha256:12ab in-or");
    LayerStore store = open("root");

    StoreEntry entry = store.request("vol-1", raw(blob), source(blob)).await();

    assertThat(entry.path()).hasBinaryContent(blob);
    assertThat(startedAt).containsExactly(0L);
    // The download never recorded a prefix, yet the torn sidecar it found is gone.
    assertThat(ingestContents(store)).isEmpty();
  }

  /** Below the recording step a download in one go never has a sidecar, during or after. */
  @Test
  void aSmallBlobDownloadedInOneGoNeverHasASidecar() throws Exception {
    byte[] blob = noise(32 * 1024, 9);
    LayerStore store = open("root");
    List<Boolean> sidecarWhileFetching = new CopyOnWriteArrayList<>();

    StoreEntry entry = store.request("vol-1", raw(blob), out -> {
      feed(out, blob, blob.length);
      sidecarWhileFetching.add(Files.exists(sidecar(store, blob)));
    }).await();

    assertThat(entry.path()).hasBinaryContent(blob);
    assertThat(sidecarWhileFetching).containsExactly(false);
    assertThat(ingestContents(store)).isEmpty();
  }

  @Test
  void aPartialWithoutItsSidecarIsRemovedAtStart() throws Exception {
    byte[] blob = noise(2 * MIB, 4);
    leftBehind(blob, java.util.Arrays.copyOf(blob, MIB), null);
    LayerStore store = open("root");
    assertThat(ingestContents(store)).isEmpty();

    store.request("vol-1", raw(blob), source(blob)).await();
    assertThat(startedAt).containsExactly(0L);
  }

  @Test
  void keptBytesThatDoNotHashToTheRecordedPrefixAreDownloadedAgain() throws Exception {
    byte[] blob = noise(2 * MIB, 5);
    byte[] damaged = blob.clone();
    damaged[1000] ^= 1; // e.g. a power loss that kept the sidecar but not all the data
    leftBehind(blob, java.util.Arrays.copyOf(damaged, MIB + 100),
        MIB + " " + sha256(java.util.Arrays.copyOf(blob, MIB)) + " in-order\n");
    LayerStore store = open("root");

    StoreEntry entry = store.request("vol-1", raw(blob), source(blob)).await();

    assertThat(entry.path()).hasBinaryContent(blob);
    assertThat(startedAt).containsExactly(0L);
  }

  @Test
  void aPartialNobodyWroteToForAnHourIsRemovedAtStart() throws Exception {
    byte[] blob = noise(2 * MIB, 6);
    Path sidecar = PartialDownload.sidecarOf(leftBehind(blob, java.util.Arrays.copyOf(blob, MIB),
        MIB + " " + sha256(java.util.Arrays.copyOf(blob, MIB)) + " in-order\n"));
    Files.setLastModifiedTime(sidecar, FileTime.from(Instant.now()
        .minus(PartialFiles.MAX_IDLE).minusSeconds(60)));
    LayerStore store = open("root");

    assertThat(ingestContents(store)).isEmpty();
  }

  @Test
  void aCancelledDownloadLeavesNothingToResume() throws Exception {
    byte[] blob = noise(2 * MIB, 7);
    LayerStore store = open("root");
    CountDownLatch reached = new CountDownLatch(1);
    CountDownLatch never = new CountDownLatch(1);
    Ticket t = store.request("vol-1", raw(blob), out -> {
      feed(out, blob, MIB);
      reached.countDown();
      hang(never);
    });
    assertThat(reached.await(20, TimeUnit.SECONDS)).isTrue();
    t.cancel();
    await().atMost(Duration.ofSeconds(20)).until(() -> ingestContents(store).isEmpty());
  }

  // ------------------------------------------------------------------ helpers

  /**
   * Leaves in {@code tmp/root}'s ingest what a killed process would: {@code kept} as the partial
   * download of {@code blob}, with a sidecar of {@code sidecar}'s text (none if null).
   */
  private Path leftBehind(byte[] blob, byte[] kept, String sidecar) throws IOException {
    Path partial = partialPath(tmp.resolve("root"), blob);
    Files.createDirectories(partial.getParent());
    Files.write(partial, kept);
    if (sidecar != null) {
      Files.writeString(PartialDownload.sidecarOf(partial), sidecar);
    }
    return partial;
  }

  private static Path partialPath(Path root, byte[] blob) {
    return root.resolve("store/ingest").resolve(sha256(blob).replace(':', '-') + ".partial");
  }

  private LayerStore open(String root) throws IOException {
    LayerStore s = LayerStore.open(new StoreLayout(tmp.resolve(root).resolve("store")),
        tmp.resolve(root).resolve("volumes"), 0, NO_EVICTION, Clock.systemUTC());
    stores.add(s);
    return s;
  }

  /** A source that goes on from what the writer holds, as the registry client does. */
  private BlobFetcher source(byte[] blob) {
    return out -> feed(out, blob, blob.length);
  }

  /**
   * A source that goes on from what the writer holds and skips the runs it holds ahead, as the
   * registry client's ranged download does; what it skipped goes to {@link #skipped}.
   */
  private BlobFetcher rangedSource(byte[] blob) {
    return out -> {
      List<ByteRun> held = out.writtenAhead();
      skipped.addAll(held);
      long at = out.hashWritten();
      startedAt.add(at);
      for (ByteRun r : held) {
        write(out, blob, at, r.start());
        at = r.end();
      }
      write(out, blob, at, blob.length);
    };
  }

  /** Writes bytes {@code [from, to)} of {@code blob} in 256 KiB writes. */
  private static void write(BlobWriter out, byte[] blob, long from, long to) throws IOException {
    for (int at = (int) from; at < to; ) {
      int n = (int) Math.min(256 * 1024, to - at);
      out.write(ByteBuffer.wrap(blob, at, n), at);
      at += n;
    }
  }

  /** Writes {@code blob} from where the writer stands up to {@code until}, in 256 KiB writes. */
  private void feed(BlobWriter out, byte[] blob, int until) throws IOException {
    long from = out.hashWritten();
    startedAt.add(from);
    write(out, blob, from, until);
  }

  private static void hang(CountDownLatch latch) throws IOException {
    try {
      latch.await();
    } catch (InterruptedException e) {
      throw new java.io.InterruptedIOException("cancelled");
    }
  }

  private static Path sidecar(LayerStore store, byte[] blob) {
    return PartialDownload.sidecarOf(store.layout().ingest()
        .resolve(sha256(blob).replace(':', '-') + ".partial"));
  }

  private static LayerRequest raw(byte[] blob) {
    return new LayerRequest(sha256(blob), LayerFormat.RAW, blob.length, false, null);
  }

  private static byte[] noise(int n, long seed) {
    byte[] b = new byte[n];
    SplittableRandom r = new SplittableRandom(seed);
    for (int i = 0; i < n; i++) {
      b[i] = (byte) r.nextInt();
    }
    return b;
  }

  private static List<Path> ingestContents(LayerStore store) throws IOException {
    try (Stream<Path> s = Files.list(store.layout().ingest())) {
      return s.toList();
    }
  }
}
