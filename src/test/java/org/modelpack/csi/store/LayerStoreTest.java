package org.modelpack.csi.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modelpack.csi.oci.BlobWriter;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.modelpack.csi.modelpack.LayerFormat;

/**
 * The layer store's own rules, with real files and fetchers the test controls through latches:
 * singleflight, leaving and taking over, the downloads limit, read-only entries, eviction and
 * the rebuild after a restart. No registry is involved.
 */
@Timeout(60)
class LayerStoreTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final EvictionPolicy NO_EVICTION = new EvictionPolicy(0, 100, 100);

  @TempDir Path tmp;
  private final List<LayerStore> stores = new ArrayList<>();
  private final ExecutorService threads = Executors.newCachedThreadPool();
  /** Moves one second forward on every reading, so "least recently used" is never a tie. */
  private final Clock clock = new TickingClock();

  @AfterEach
  void tearDown() {
    threads.shutdownNow();
    stores.forEach(LayerStore::close);
  }

  // ------------------------------------------------------------------ singleflight

  @Test
  void aFetcherCannotHandTheStoreOtherBytesThanTheDigestNamesOrFewerThanTheSize()
      throws Exception {
    LayerStore store = open(0, NO_EVICTION);
    Blob blob = blob("trusted nothing", 10_000);
    byte[] forged = blob.bytes.clone();
    forged[5_000] ^= 1;
    byte[] shorter = java.util.Arrays.copyOf(blob.bytes, 9_999);
    for (byte[] wrong : List.of(forged, shorter)) {
      Ticket t = store.request("vol-x", blob.raw(), dest -> put(dest, wrong));
      assertThatThrownBy(t::await).isInstanceOf(IOException.class)
          .hasMessageContaining("failed verification in the store")
          .hasMessageContaining(blob.digest);
      assertThat(store.entries()).isEmpty();
      assertThat(store.layout().path(blob.raw().key())).doesNotExist();
      await().atMost(WAIT).until(() -> ingestContents(store).isEmpty());
    }
    assertThat(store.request("vol-x", blob.raw(), dest -> put(dest, blob.bytes)).await().path())
        .hasBinaryContent(blob.bytes);
  }


  @Test
  void concurrentRequestsForOneDigestFetchOnceAndShareOneEntry() throws Exception {
    LayerStore store = open(0, NO_EVICTION);
    Blob blob = blob("shared weights", 100_000);
    int n = 16;
    CountDownLatch allRequested = new CountDownLatch(n);
    AtomicInteger fetches = new AtomicInteger();
    BlobFetcher fetcher = dest -> {
      fetches.incrementAndGet();
      // Hold the download until every thread has its ticket, so all of them meet the flight.
      awaitLatch(allRequested);
      put(dest, blob.bytes);
    };
    CyclicBarrier start = new CyclicBarrier(n);
    List<Future<StoreEntry>> results = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String volume = "vol-" + i;
      results.add(threads.submit(() -> {
        start.await();
        Ticket t = store.request(volume, blob.raw(), fetcher);
        allRequested.countDown();
        return t.await();
      }));
    }

    List<StoreEntry> entries = new ArrayList<>();
    for (Future<StoreEntry> f : results) {
      entries.add(f.get(WAIT.toSeconds(), TimeUnit.SECONDS));
    }
    assertThat(fetches).hasValue(1);
    assertThat(entries).allSatisfy(e -> assertThat(e).isEqualTo(entries.get(0)));
    assertThat(Files.readAllBytes(entries.get(0).path())).isEqualTo(blob.bytes);
    assertThat(store.entries()).singleElement().satisfies(info ->
        assertThat(info.volumes()).hasSize(n));
    StoreStats.Snapshot s = store.stats().snapshot();
    assertThat(s.misses()).isEqualTo(1);
    assertThat(s.joins()).isEqualTo(n - 1);
    assertThat(s.bytesDownloaded()).isEqualTo(blob.bytes.length);
  }

  @Test
  void cancellingTheOwnersTicketMidDownloadLetsTheDownloadFinishForAWaiter() throws Exception {
    LayerStore store = open(0, NO_EVICTION);
    Blob blob = blob("owner leaves", 10_000);
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger fetches = new AtomicInteger();
    BlobFetcher fetcher = dest -> {
      fetches.incrementAndGet();
      started.countDown();
      put(dest, blob.bytes);
      awaitLatch(release);
    };

    Ticket owner = store.request("vol-owner", blob.raw(), fetcher);
    awaitLatch(started);
    Ticket waiter = store.request("vol-waiter", blob.raw(), dest -> {
      throw new AssertionError("the waiter must not fetch");
    });
    owner.cancel();
    release.countDown();

    StoreEntry entry = waiter.await();
    assertThat(Files.readAllBytes(entry.path())).isEqualTo(blob.bytes);
    assertThat(fetches).hasValue(1);
    assertThatThrownBy(owner::await).isInstanceOf(InterruptedException.class);
    // The owner left, so only the waiter holds the entry.
    assertThat(store.entries()).singleElement().satisfies(info ->
        assertThat(info.volumes()).containsExactly("vol-waiter"));
  }

  @Test
  void aWaiterThatLeavesDoesNotDisturbTheOthers() throws Exception {
    LayerStore store = open(0, NO_EVICTION);
    Blob blob = blob("one leaves", 10_000);
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger fetches = new AtomicInteger();
    BlobFetcher fetcher = dest -> {
      fetches.incrementAndGet();
      started.countDown();
      awaitLatch(release);
      put(dest, blob.bytes);
    };
    Ticket owner = store.request("vol-0", blob.raw(), fetcher);
    awaitLatch(started);
    Ticket w1 = store.request("vol-1", blob.raw(), fetcher);
    Ticket cancelled = store.request("vol-2", blob.raw(), fetcher);
    Ticket interrupted = store.request("vol-3", blob.raw(), fetcher);
    Ticket w4 = store.request("vol-4", blob.raw(), fetcher);

    cancelled.cancel();
    // A waiter whose thread is interrupted while it waits leaves the line too.
    CountDownLatch waiting = new CountDownLatch(1);
    CompletableFuture<Throwable> outcome = new CompletableFuture<>();
    Thread waiterThread = new Thread(() -> {
      waiting.countDown();
      try {
        interrupted.await();
        outcome.complete(null);
      } catch (Throwable e) {
        outcome.complete(e);
      }
    });
    waiterThread.start();
    awaitLatch(waiting);
    waiterThread.interrupt();
    assertThat(outcome.get(WAIT.toSeconds(), TimeUnit.SECONDS))
        .isInstanceOf(InterruptedException.class);
    release.countDown();

    for (Ticket t : List.of(owner, w1, w4)) {
      assertThat(Files.readAllBytes(t.await().path())).isEqualTo(blob.bytes);
    }
    assertThatThrownBy(cancelled::await).isInstanceOf(InterruptedException.class);
    assertThat(fetches).hasValue(1);
    assertThat(store.entries()).singleElement().satisfies(info ->
        assertThat(info.volumes()).containsExactlyInAnyOrder("vol-0", "vol-1", "vol-4"));
  }

  @Test
  void whenTheOwnersFetchFailsExactlyOneWaiterTakesOverAndTheRestComplete() throws Exception {
    LayerStore store = open(0, NO_EVICTION);
    Blob blob = blob("take over", 10_000);
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    BlobFetcher failing = dest -> {
      started.countDown();
      awaitLatch(release);
      put(dest, "half".getBytes(StandardCharsets.UTF_8));
      throw new IOException("registry went away");
    };
    AtomicInteger secondFetches = new AtomicInteger();
    BlobFetcher working = dest -> {
      secondFetches.incrementAndGet();
      put(dest, blob.bytes);
    };

    Ticket owner = store.request("vol-owner", blob.raw(), failing);
    awaitLatch(started);
    List<Ticket> waiters = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      waiters.add(store.request("vol-" + i, blob.raw(), working));
    }
    release.countDown();

    assertThatThrownBy(owner::await).isInstanceOf(IOException.class)
        .hasMessageContaining("registry went away");
    for (Ticket t : waiters) {
      assertThat(Files.readAllBytes(t.await().path())).isEqualTo(blob.bytes);
    }
    assertThat(secondFetches).hasValue(1);
    assertThat(store.entries()).singleElement().satisfies(info ->
        assertThat(info.volumes()).hasSize(6).doesNotContain("vol-owner"));
    assertThat(ingestContents(store)).isEmpty();
  }

  @Test
  void whenEveryWaiterLeavesTheDownloadIsCancelledAndNothingRemains() throws Exception {
    LayerStore store = open(0, NO_EVICTION);
    Blob blob = blob("abandoned", 10_000);
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch interrupted = new CountDownLatch(1);
    AtomicInteger fetches = new AtomicInteger();
    BlobFetcher fetcher = dest -> {
      fetches.incrementAndGet();
      put(dest, java.util.Arrays.copyOf(blob.bytes, 5_000)); // a partial file exists
      started.countDown();
      try {
        new CountDownLatch(1).await(); // never released: only cancellation ends it
      } catch (InterruptedException e) {
        interrupted.countDown();
        throw new InterruptedIOException("cancelled");
      }
    };
    Ticket owner = store.request("vol-0", blob.raw(), fetcher);
    awaitLatch(started);
    Ticket w1 = store.request("vol-1", blob.raw(), fetcher);
    Ticket w2 = store.request("vol-2", blob.raw(), fetcher);
    assertThat(ingestContents(store)).isNotEmpty();

    w1.cancel();
    owner.cancel();
    await("the download goes on while someone still waits")
        .during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(2))
        .until(() -> interrupted.getCount() == 1);
    w2.cancel();

    assertThat(interrupted.await(WAIT.toSeconds(), TimeUnit.SECONDS))
        .as("the download was interrupted").isTrue();
    await().atMost(WAIT).until(() -> ingestContents(store).isEmpty());
    assertThat(store.layout().path(blob.raw().key())).doesNotExist();
    assertThat(store.entries()).isEmpty();
    for (Ticket t : List.of(owner, w1, w2)) {
      assertThatThrownBy(t::await).isInstanceOf(InterruptedException.class);
    }

    // No stale flight is left behind: the next request downloads afresh.
    StoreEntry again = store.request("vol-3", blob.raw(), dest -> {
      fetches.incrementAndGet();
      put(dest, blob.bytes);
    }).await();
    assertThat(Files.readAllBytes(again.path())).isEqualTo(blob.bytes);
    assertThat(fetches).hasValue(2);
  }

  @Test
  void aCancelledDownloadThatFinishesLateNeitherReplacesNorUnreferencesTheNewerEntry()
      throws Exception {
    LayerStore store = open(0, NO_EVICTION);
    Blob blob = blob("late", 10_000);
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch lateDone = new CountDownLatch(1);
    // A fetch whose bytes were all written when the cancellation came: it finishes anyway.
    BlobFetcher late = dest -> {
      put(dest, blob.bytes);
      started.countDown();
      boolean interrupted = false;
      while (true) {
        try {
          if (release.await(WAIT.toSeconds(), TimeUnit.SECONDS)) {
            break;
          }
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    };
    Ticket abandoned = store.request("vol-1", blob.raw(), dest -> {
      try {
        late.fetch(dest);
      } finally {
        lateDone.countDown();
      }
    });
    awaitLatch(started);
    abandoned.cancel();

    StoreEntry entry = store.request("vol-2", blob.raw(), dest -> put(dest, blob.bytes))
        .await();
    Path modelDir = Files.createDirectories(tmp.resolve("volumes/vol-2/model"));
    new Materializer().place(entry, modelDir, "w.bin", false);
    Path volumeFile = modelDir.resolve("w.bin");
    Object inode = Files.getAttribute(entry.path(), "unix:ino");
    assertThat(Files.getAttribute(volumeFile, "unix:ino")).isEqualTo(inode);

    release.countDown();
    awaitLatch(lateDone);
    // The late download completes (its bytes are verified and on disk) and is counted.
    await().atMost(WAIT).until(() ->
        store.stats().snapshot().bytesDownloaded() == 2L * blob.bytes.length);
    assertThat(ingestContents(store)).isEmpty();

    assertThat(Files.getAttribute(entry.path(), "unix:ino")).as("the store's file was replaced")
        .isEqualTo(inode);
    assertThat(store.entries()).singleElement().satisfies(info ->
        assertThat(info.volumes()).containsExactly("vol-2"));
  }

  @Test
  void closingTheStoreFailsEveryWaitingTicketInsteadOfLeavingItHanging() throws Exception {
    LayerStore store = open(0, NO_EVICTION);
    Blob blob = blob("closing", 10_000);
    CountDownLatch started = new CountDownLatch(1);
    BlobFetcher blocked = dest -> {
      started.countDown();
      awaitLatch(new CountDownLatch(1)); // only the shutdown's interrupt ends it
    };
    Ticket owner = store.request("vol-0", blob.raw(), blocked);
    awaitLatch(started);
    List<Ticket> waiters = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      waiters.add(store.request("vol-" + i, blob.raw(), blocked));
    }

    store.close();

    for (Ticket t : waiters) {
      Future<StoreEntry> f = threads.submit(t::await);
      assertThatThrownBy(() -> f.get(WAIT.toSeconds(), TimeUnit.SECONDS))
          .as("a waiter is told the store closed").hasCauseInstanceOf(IOException.class);
    }
    Future<StoreEntry> o = threads.submit(owner::await);
    assertThatThrownBy(() -> o.get(WAIT.toSeconds(), TimeUnit.SECONDS))
        .hasCauseInstanceOf(IOException.class);
  }

  // ------------------------------------------------------------------ downloads limit

  @Test
  void withOneDownloadPermitTwoDigestsNeverDownloadAtTheSameTime() throws Exception {
    LayerStore store = open(1, NO_EVICTION);
    Blob a = blob("A", 10_000);
    Blob b = blob("B", 10_000);
    AtomicInteger active = new AtomicInteger();
    AtomicInteger maxActive = new AtomicInteger();
    CountDownLatch aStarted = new CountDownLatch(1);
    CountDownLatch releaseA = new CountDownLatch(1);
    CountDownLatch bStarted = new CountDownLatch(1);

    Ticket ta = store.request("vol-a", a.raw(), tracked(active, maxActive, dest -> {
      aStarted.countDown();
      awaitLatch(releaseA);
      put(dest, a.bytes);
    }));
    awaitLatch(aStarted);
    Ticket tb = store.request("vol-b", b.raw(), tracked(active, maxActive, dest -> {
      bStarted.countDown();
      put(dest, b.bytes);
    }));

    await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2))
        .until(() -> bStarted.getCount() == 1);
    releaseA.countDown();
    assertThat(Files.readAllBytes(ta.await().path())).isEqualTo(a.bytes);
    assertThat(Files.readAllBytes(tb.await().path())).isEqualTo(b.bytes);
    assertThat(maxActive).hasValue(1);
  }

  @Test
  void aWaiterForAnotherRequestersDigestHoldsNoPermitSoTheLimitCannotDeadlock()
      throws Exception {
    LayerStore store = open(1, NO_EVICTION);
    Blob a = blob("A", 10_000);
    Blob b = blob("B", 10_000);
    Blob c = blob("C", 10_000);
    AtomicInteger active = new AtomicInteger();
    AtomicInteger maxActive = new AtomicInteger();
    CountDownLatch aStarted = new CountDownLatch(1);
    CountDownLatch releaseA = new CountDownLatch(1);
    List<String> order = java.util.Collections.synchronizedList(new ArrayList<>());

    // Flight A holds the only permit.
    Ticket a1 = store.request("vol-1", a.raw(), tracked(active, maxActive, dest -> {
      order.add("A");
      aStarted.countDown();
      awaitLatch(releaseA);
      put(dest, a.bytes);
    }));
    awaitLatch(aStarted);
    // B queues for the permit; C too.
    Ticket b2 = store.request("vol-2", b.raw(), tracked(active, maxActive, dest -> {
      order.add("B");
      put(dest, b.bytes);
    }));
    Ticket c3 = store.request("vol-3", c.raw(), tracked(active, maxActive, dest -> {
      order.add("C");
      put(dest, c.bytes);
    }));
    // Requests joining A (from the volumes waiting for B and C) need no permit and must not
    // take one: they simply wait for A.
    Ticket a2 = store.request("vol-2", a.raw(), dest -> {
      throw new AssertionError("joined A, must not fetch");
    });
    Ticket a3 = store.request("vol-3", a.raw(), dest -> {
      throw new AssertionError("joined A, must not fetch");
    });
    assertThat(order).containsExactly("A");
    releaseA.countDown();

    CompletableFuture<Void> all = CompletableFuture.allOf(
        Stream.of(a1, b2, c3, a2, a3).map(t -> CompletableFuture.supplyAsync(() -> {
          try {
            return t.await();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        }, threads)).toArray(CompletableFuture[]::new));
    all.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(order).hasSize(3).startsWith("A");
    assertThat(maxActive).hasValue(1);
    assertThat(store.entries()).hasSize(3);
  }

  // ------------------------------------------------------------------ read-only entries

  @Test
  void blobEntriesAreReadOnlyFilesAndTreeEntriesReadOnlyTrees() throws Exception {
    LayerStore store = open(0, NO_EVICTION);
    Blob plain = blob("plain", 1_000);
    Blob exec = blob("exec", 1_000);
    Instant mtime = Instant.parse("2024-05-06T07:08:09Z");
    StoreEntry p = store.request("v", new LayerRequest(plain.digest, LayerFormat.RAW,
        plain.bytes.length, false, mtime), dest -> put(dest, plain.bytes)).await();
    StoreEntry x = store.request("v", new LayerRequest(exec.digest, LayerFormat.RAW,
        exec.bytes.length, true, null), dest -> put(dest, exec.bytes)).await();
    byte[] tar = tar(Map.of("docs/README.md", "read me", "tokenizer/vocab.txt", "a b c",
        "top.txt", "top"));
    String tarDigest = sha256(tar);
    StoreEntry t = store.request("v", new LayerRequest(tarDigest, LayerFormat.TAR, tar.length,
        false, null), dest -> put(dest, tar)).await();

    assertThat(perms(p.path())).isEqualTo("r--r--r--");
    assertThat(Files.getLastModifiedTime(p.path()).toInstant()).isEqualTo(mtime);
    assertThat(perms(x.path())).isEqualTo("r-xr-xr-x");
    assertThat(t.key().kind()).isEqualTo(EntryKind.TREE);
    assertThat(t.size()).isEqualTo("read me".length() + "a b c".length() + "top".length());
    Map<String, String> tree = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(t.path())) {
      for (Path f : walk.toList()) {
        tree.put(t.path().relativize(f).toString(), perms(f));
      }
    }
    assertThat(tree).containsExactlyInAnyOrderEntriesOf(Map.of(
        "", "r-xr-xr-x",
        "docs", "r-xr-xr-x",
        "docs/README.md", "r--r--r--",
        "tokenizer", "r-xr-xr-x",
        "tokenizer/vocab.txt", "r--r--r--",
        "top.txt", "r--r--r--"));
    assertThat(Files.readString(t.path().resolve("tokenizer/vocab.txt"))).isEqualTo("a b c");
  }

  @Test
  void aTarLayerRefusedPartWayThroughLeavesNeitherAnEntryNorItsHalfExtractedTree()
      throws Exception {
    LayerStore store = open(0, NO_EVICTION);
    // The extractor stops at the second entry and leaves the first (and a temporary file) in
    // its fresh directory: removing that directory is the store's part.
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
      for (String content : List.of("first", "second")) {
        TarArchiveEntry e = new TarArchiveEntry("weights/twice.bin");
        e.setSize(content.length());
        tar.putArchiveEntry(e);
        tar.write(content.getBytes(StandardCharsets.UTF_8));
        tar.closeArchiveEntry();
      }
    }
    byte[] layer = out.toByteArray();
    String digest = sha256(layer);
    Ticket t = store.request("v", new LayerRequest(digest, LayerFormat.TAR, layer.length, false,
        null), dest -> put(dest, layer));

    assertThatThrownBy(t::await).isInstanceOf(IOException.class)
        .hasMessageContaining("path weights/twice.bin is provided twice by layer " + digest);
    assertThat(store.entries()).isEmpty();
    assertThat(store.layout().path(new LayerKey(digest, EntryKind.TREE))).doesNotExist();
    await().atMost(WAIT).until(() -> ingestContents(store).isEmpty());
  }

  // ------------------------------------------------------------------ eviction

  @Test
  void overBudgetTheLeastRecentlyUsedUnreferencedEntriesAreEvictedAndReferencedOnesStay()
      throws Exception {
    LayerStore store = open(0, new EvictionPolicy(3_500, 100, 100));
    Blob a = blob("A", 1_000);
    Blob b = blob("B", 1_000);
    Blob c = blob("C", 1_000);
    Blob d = blob("D", 1_000);
    Blob e = blob("E", 1_000);
    AtomicInteger fetches = new AtomicInteger();
    fetch(store, "vol-a", a, fetches);
    fetch(store, "vol-b", b, fetches);
    fetch(store, "vol-c", c, fetches);
    store.releaseVolume("vol-a");
    store.releaseVolume("vol-b");
    // Within budget, unreferenced entries stay as warm cache.
    assertThat(keys(store)).containsExactlyInAnyOrder(a.digest, b.digest, c.digest);
    // A is used again (a hit) and released: now B is the least recently used.
    fetch(store, "vol-a2", a, fetches);
    store.releaseVolume("vol-a2");
    assertThat(fetches).hasValue(3);

    // 4000 > 3500: one entry must go. Eviction runs on the download's thread right after the
    // waiters are woken, so it is awaited.
    fetch(store, "vol-d", d, fetches);
    await().atMost(WAIT).untilAsserted(() ->
        assertThat(keys(store)).containsExactlyInAnyOrder(a.digest, c.digest, d.digest));
    assertThat(store.layout().path(b.raw().key())).doesNotExist();

    // C is older than A but referenced by vol-c: A goes.
    fetch(store, "vol-e", e, fetches);
    await().atMost(WAIT).untilAsserted(() ->
        assertThat(keys(store)).containsExactlyInAnyOrder(c.digest, d.digest, e.digest));
    assertThat(store.layout().path(a.raw().key())).doesNotExist();
    assertThat(store.layout().path(c.raw().key())).exists();
    assertThat(store.stats().snapshot().evictions()).isEqualTo(2);
    assertThat(store.stats().snapshot().bytesEvicted()).isEqualTo(2_000);
    assertThat(ingestContents(store)).isEmpty();

    // An evicted layer is downloaded again when asked for.
    fetch(store, "vol-b2", b, fetches);
    assertThat(fetches).hasValue(6);
  }

  @Test
  void aboveTheHighWatermarkUnreferencedEntriesAreEvictedAndReferencedOnesStay()
      throws Exception {
    // Any used filesystem is above 0 %: every unreferenced entry goes, in LRU order.
    LayerStore store = open(0, new EvictionPolicy(0, 0, 0));
    Blob a = blob("A", 1_000);
    Blob b = blob("B", 1_000);
    AtomicInteger fetches = new AtomicInteger();
    fetch(store, "vol-a", a, fetches);
    fetch(store, "vol-b", b, fetches);
    assertThat(keys(store)).containsExactlyInAnyOrder(a.digest, b.digest);

    store.releaseVolume("vol-a");
    assertThat(keys(store)).containsExactly(b.digest);
    assertThat(store.layout().path(a.raw().key())).doesNotExist();
    assertThat(store.layout().path(b.raw().key())).exists();
  }

  // ------------------------------------------------------------------ rebuild

  @Test
  void reopeningRebuildsEntriesAndReferencesAndDropsWhatIsBroken() throws Exception {
    Path volumes = tmp.resolve("volumes");
    LayerStore store = open(0, NO_EVICTION);
    Blob x = blob("X", 2_000);
    Blob y = blob("Y", 3_000);
    byte[] tar = tar(Map.of("a/b.txt", "bee", "c.txt", "sea"));
    LayerRequest treeReq = new LayerRequest(sha256(tar), LayerFormat.TAR, tar.length, false,
        null);
    AtomicInteger fetches = new AtomicInteger();
    fetch(store, "vol-1", x, fetches);
    fetch(store, "vol-2", y, fetches);
    store.request("vol-1", treeReq, dest -> put(dest, tar)).await();
    store.request("vol-2", treeReq, dest -> put(dest, tar)).await();
    store.recordVolume(volumes.resolve("vol-1"), record("vol-1", x.raw().key(), treeReq.key()));
    store.recordVolume(volumes.resolve("vol-2"), record("vol-2", y.raw().key(), treeReq.key()));
    Map<LayerKey, String> before = describe(store);
    store.close();

    // Damage: a corrupt record, a record naming a layer the store never had, and leftovers of
    // an interrupted ingest (a partial file and a read-only half-extracted tree).
    Files.createDirectories(volumes.resolve("vol-corrupt"));
    Files.writeString(volumes.resolve("vol-corrupt").resolve(VolumeRecord.FILE), "{\"volume_");
    LayerKey missing = new LayerKey("sha256:" + "ab".repeat(32), EntryKind.BLOB);
    FileTreesHelper.writeRecord(volumes, record("vol-missing", missing));
    StoreLayout layout = store.layout();
    Files.write(layout.ingest().resolve("sha256-x-1-1.partial"), new byte[100]);
    Path halfTree = layout.ingest().resolve("sha256-y-1-2.tree");
    Files.createDirectories(halfTree.resolve("sub"));
    Files.writeString(halfTree.resolve("sub/f.txt"), "half");
    ReadOnly.tree(halfTree);

    LayerStore reopened = open(0, NO_EVICTION);
    assertThat(describe(reopened)).isEqualTo(before);
    assertThat(before).hasSize(3);
    assertThat(before.get(treeReq.key())).endsWith("[vol-1, vol-2]");
    assertThat(reopened.entries()).noneMatch(i -> i.key().equals(missing)
        || i.volumes().contains("vol-missing") || i.volumes().contains("vol-corrupt"));
    assertThat(ingestContents(reopened)).isEmpty();

    // The rebuilt index serves hits: nothing is fetched again.
    StoreEntry hit = reopened.request("vol-3", x.raw(), dest -> {
      throw new AssertionError("the store has it");
    }).await();
    assertThat(Files.readAllBytes(hit.path())).isEqualTo(x.bytes);
    // References survived: releasing vol-1 leaves the tree referenced by vol-2 only.
    reopened.releaseVolume("vol-1");
    assertThat(reopened.entries()).filteredOn(i -> i.key().equals(treeReq.key()))
        .singleElement().satisfies(i -> assertThat(i.volumes()).containsExactly("vol-2"));
  }

  // ------------------------------------------------------------------ helpers

  private LayerStore open(int nodeLayerConcurrency, EvictionPolicy policy) throws IOException {
    LayerStore s = LayerStore.open(new StoreLayout(tmp.resolve("store")), tmp.resolve("volumes"),
        nodeLayerConcurrency, policy, clock);
    stores.add(s);
    return s;
  }

  private record Blob(String digest, byte[] bytes) {
    LayerRequest raw() {
      return new LayerRequest(digest, LayerFormat.RAW, bytes.length, false, null);
    }
  }

  private static Blob blob(String seed, int size) {
    byte[] bytes = new byte[size];
    byte[] s = seed.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < size; i++) {
      bytes[i] = (byte) (s[i % s.length] + i / s.length);
    }
    return new Blob(sha256(bytes), bytes);
  }

  static String sha256(byte[] bytes) {
    try {
      return "sha256:" + HexFormat.of().formatHex(
          MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static StoreEntry fetch(LayerStore store, String volume, Blob blob,
      AtomicInteger fetches) throws Exception {
    return store.request(volume, blob.raw(), dest -> {
      fetches.incrementAndGet();
      put(dest, blob.bytes);
    }).await();
  }

  private static void awaitLatch(CountDownLatch latch) throws IOException {
    try {
      if (!latch.await(WAIT.toSeconds(), TimeUnit.SECONDS)) {
        throw new IOException("latch not released in time");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted");
    }
  }

  private static BlobFetcher tracked(AtomicInteger active, AtomicInteger max,
      BlobFetcher inner) {
    return dest -> {
      max.accumulateAndGet(active.incrementAndGet(), Math::max);
      try {
        inner.fetch(dest);
      } finally {
        active.decrementAndGet();
      }
    };
  }

  private static List<Path> ingestContents(LayerStore store) throws IOException {
    try (Stream<Path> s = Files.list(store.layout().ingest())) {
      return s.toList();
    }
  }

  private static Set<String> keys(LayerStore store) {
    return store.entries().stream().map(i -> i.key().digest()).collect(Collectors.toSet());
  }

  /** What must survive a restart: key → path, size and referencing volumes. */
  private static Map<LayerKey, String> describe(LayerStore store) {
    Map<LayerKey, String> m = new java.util.HashMap<>();
    for (EntryInfo i : store.entries()) {
      m.put(i.key(), store.layout().path(i.key()) + " " + i.size() + " "
          + new java.util.TreeSet<>(i.volumes()));
    }
    return m;
  }

  private VolumeRecord record(String volume, LayerKey... keys) {
    return new VolumeRecord(volume, "registry.example/m:v1", "sha256:" + "cd".repeat(32),
        clock.instant(), Stream.of(keys).map(k -> new VolumeRecord.Layer(k.digest(), k.kind(),
            List.of())).toList());
  }

  private static String perms(Path p) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  static byte[] tar(Map<String, String> files) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
      for (Map.Entry<String, String> f : new TreeMap<>(files).entrySet()) {
        byte[] data = f.getValue().getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry e = new TarArchiveEntry(f.getKey());
        e.setSize(data.length);
        e.setMode(0644);
        tar.putArchiveEntry(e);
        tar.write(data);
        tar.closeArchiveEntry();
      }
    }
    return out.toByteArray();
  }

  /** Writes a volume record the way the store does, without a store instance. */
  private static final class FileTreesHelper {
    static void writeRecord(Path volumes, VolumeRecord record) throws IOException {
      Path dir = volumes.resolve(record.volumeId());
      Files.createDirectories(dir);
      Files.write(dir.resolve(VolumeRecord.FILE), new com.fasterxml.jackson.databind.ObjectMapper()
          .registerModule(new com.fasterxml.jackson.datatype.jsr310.JavaTimeModule())
          .writeValueAsBytes(record));
    }
  }

  private static final class TickingClock extends Clock {
    private final AtomicLong seconds = new AtomicLong(1_700_000_000L);

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochSecond(seconds.incrementAndGet());
    }
  }

  /** Writes the whole blob, as a source does, into the store's writer. */
  private static void put(BlobWriter out, byte[] bytes) throws IOException {
    out.restart(); // a failed try before may have kept a prefix: these tests start over
    out.write(ByteBuffer.wrap(bytes), 0);
  }
}
