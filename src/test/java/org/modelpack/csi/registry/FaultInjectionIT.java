package org.modelpack.csi.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.modelpack.csi.oci.Descriptor;
import org.modelpack.csi.oci.Digest;
import org.modelpack.csi.oci.DigestingBlobFile;
import org.modelpack.csi.pull.LayerFilter;
import org.modelpack.csi.pull.ModelPuller;
import org.modelpack.csi.pull.PullProgress;
import org.modelpack.csi.pull.VolumePull;
import org.modelpack.csi.registry.RegistryException.Kind;
import org.modelpack.csi.registry.auth.DockerConfigCredentials;
import org.modelpack.csi.store.EvictionPolicy;
import org.modelpack.csi.store.LayerStore;
import org.modelpack.csi.store.StoreLayout;
import org.modelpack.csi.testing.FaultProxy;
import org.modelpack.csi.testing.FaultProxy.Exchange;
import org.modelpack.csi.testing.ModelArtifactBuilder;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedArtifact;
import org.modelpack.csi.testing.RegistryServer;

/**
 * {@link RegistryClient#downloadBlob} through a {@link FaultProxy} in front of a real registry:
 * every fault ends with a verified file or a clear error of the right kind, resumed requests ask
 * only for the missing bytes, and retry waits go to a recording {@link Sleeper} (no real
 * backoff time is spent).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FaultInjectionIT {
  private static final int ATTEMPTS = 4;
  private static final Duration STALL = Duration.ofMillis(500);

  Path work;
  RegistryServer registry;
  FaultProxy proxy;
  RegistryClient pusher;
  final List<Duration> waits = new CopyOnWriteArrayList<>();
  /** Size of the file being downloaded each time the client waited to retry. */
  final List<Long> writtenAtWait = new CopyOnWriteArrayList<>();
  volatile Path downloading;
  final AtomicLong seeds = new AtomicLong(1000);

  @BeforeAll
  void start(@TempDir Path dir) throws IOException {
    work = dir;
    registry = RegistryServer.start(work.resolve("registry"));
    proxy = FaultProxy.start(registry.host());
    pusher = new RegistryClient(RegistrySettings.defaults());
  }

  @AfterAll
  void stop() {
    pusher.close();
    proxy.close();
    registry.close();
  }

  @BeforeEach
  void clean() {
    proxy.reset();
    waits.clear();
    writtenAtWait.clear();
  }

  /** A client through the proxy; {@code threshold} 0 = no parallel ranges. */
  RegistryClient client(long threshold, Duration stall) {
    RegistrySettings s = RegistrySettings.defaults()
        .withRetry(new RetryPolicy(ATTEMPTS, Duration.ofMillis(100), Duration.ofSeconds(2)))
        .withStallTimeout(stall)
        .withParallelDownload(threshold, 4);
    return new RegistryClient(s, new DockerConfigCredentials(null), d -> {
      waits.add(d);
      Path f = downloading;
      try {
        writtenAtWait.add(f != null && Files.exists(f) ? Files.size(f) : -1);
      } catch (IOException e) {
        writtenAtWait.add(-1L);
      }
    });
  }

  RegistryClient client() {
    return client(0, Duration.ofSeconds(20));
  }

  Reference viaProxy() {
    return Reference.parse(proxy.host() + "/faults/blobs:v1");
  }

  record Blob(Descriptor descriptor, String sha256) {
    String digest() {
      return descriptor.digest();
    }

    long size() {
      return descriptor.size();
    }
  }

  /** Pushes {@code size} fresh pseudo-random bytes straight to the registry. */
  Blob blob(long size) throws Exception {
    long seed = seeds.incrementAndGet();
    Path file = work.resolve("src-" + seed);
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    SplittableRandom rnd = new SplittableRandom(seed);
    byte[] buf = new byte[65536];
    try (OutputStream out = new DigestOutputStream(Files.newOutputStream(file), md)) {
      for (long left = size; left > 0; ) {
        for (int i = 0; i < buf.length; i += 8) {
          long v = rnd.nextLong();
          for (int j = 0; j < 8 && i + j < buf.length; j++) {
            buf[i + j] = (byte) (v >>> (8 * j));
          }
        }
        int n = (int) Math.min(buf.length, left);
        out.write(buf, 0, n);
        left -= n;
      }
    }
    String hex = HexFormat.of().formatHex(md.digest());
    pusher.pushBlob(Reference.parse(registry.host() + "/faults/blobs:v1"), file,
        "sha256:" + hex);
    Files.delete(file);
    return new Blob(new Descriptor("application/octet-stream", "sha256:" + hex, size, null),
        hex);
  }

  Path download(RegistryClient client, Blob b) throws IOException {
    Path dest = work.resolve("out-" + b.sha256());
    downloading = dest;
    client.downloadBlob(viaProxy(), b.descriptor(), dest);
    return dest;
  }

  /** The blob's requests once the proxy has finished all of them. */
  List<Exchange> finished(Blob b, int count) {
    await().atMost(Duration.ofSeconds(10)).until(() -> proxy.requestsFor(b.digest()).size()
        == count && proxy.requestsFor(b.digest()).stream().allMatch(Exchange::done));
    return proxy.requestsFor(b.digest());
  }

  static long rangeStart(Exchange e) {
    assertThat(e.range()).as("Range of %s", e).matches("bytes=\\d+-\\d*");
    return Long.parseLong(e.range().substring(6, e.range().indexOf('-')));
  }

  // ------------------------------------------------------------ resume

  @Test
  void resetMidBlobResumesFromTheBytesAlreadyReceived() throws Exception {
    Blob b = blob(4_000_000);
    proxy.inject(FaultProxy.on(b.digest()).resetAfter(1_500_000));
    try (RegistryClient c = client()) {
      Path f = download(c, b);
      assertThat(RegistryClientIT.sha256(f)).isEqualTo(b.sha256());
    }
    List<Exchange> r = finished(b, 2);
    assertThat(r.get(0).range()).isNull();
    assertThat(r.get(0).bodyBytes()).isEqualTo(1_500_000);
    // A RST discards what still sat unread in the client's socket buffer, so "received" is
    // what the client had written to the file when it gave up on the connection.
    assertThat(writtenAtWait).hasSize(1);
    long received = writtenAtWait.get(0);
    assertThat(received).isBetween(0L, 1_500_000L);
    assertThat(r.get(1).range()).isEqualTo(received == 0 ? null : "bytes=" + received + "-");
    assertThat(r.get(1).status()).isEqualTo(received == 0 ? 200 : 206);
    assertThat(r.get(1).bodyBytes()).isEqualTo(b.size() - received);
  }

  @Test
  void bodyClosedEarlyDespiteItsContentLengthResumesExactlyThere() throws Exception {
    Blob b = blob(3_000_000);
    proxy.inject(FaultProxy.on(b.digest()).truncateAfter(1_000_000));
    try (RegistryClient c = client()) {
      assertThat(RegistryClientIT.sha256(download(c, b))).isEqualTo(b.sha256());
    }
    List<Exchange> r = finished(b, 2);
    assertThat(writtenAtWait).containsExactly(1_000_000L);
    assertThat(r.get(1).range()).isEqualTo("bytes=1000000-");
    assertThat(r.get(1).bodyBytes()).isEqualTo(2_000_000);
    assertThat(r.get(0).bodyBytes() + r.get(1).bodyBytes()).isEqualTo(b.size());
  }

  @Test
  void manyBreaksWithProgressDoNotExhaustTheRetryBudget() throws Exception {
    Blob b = blob(3_000_000);
    proxy.inject(FaultProxy.on(b.digest()).times(ATTEMPTS + 2).truncateAfter(400_000));
    try (RegistryClient c = client()) {
      assertThat(RegistryClientIT.sha256(download(c, b))).isEqualTo(b.sha256());
    }
    List<Exchange> r = finished(b, ATTEMPTS + 3);
    for (int i = 1; i < r.size(); i++) {
      assertThat(rangeStart(r.get(i))).isEqualTo(400_000L * i);
    }
    assertThat(r.stream().mapToLong(Exchange::bodyBytes).sum()).isEqualTo(b.size());
    // Each break followed progress, so every wait is a first-failure backoff (50-100 ms).
    assertThat(waits).hasSize(ATTEMPTS + 2)
        .allMatch(d -> d.compareTo(Duration.ofMillis(100)) <= 0);
  }

  @Test
  void registryIgnoringRangeOnResumeMakesTheBlobStartOver() throws Exception {
    Blob b = blob(2_000_000);
    proxy.inject(FaultProxy.on(b.digest()).resetAfter(700_000))
        .inject(FaultProxy.on(b.digest()).always().ignoreRange());
    try (RegistryClient c = client()) {
      assertThat(RegistryClientIT.sha256(download(c, b))).isEqualTo(b.sha256());
    }
    List<Exchange> r = finished(b, 2);
    assertThat(r.get(1).range()).startsWith("bytes=");
    assertThat(r.get(1).status()).isEqualTo(200);
    assertThat(r.get(1).bodyBytes()).isEqualTo(b.size());
  }

  // ------------------------------------------------------------ stall

  @Test
  void stalledTransferIsAbortedAfterTheStallTimeoutAndResumed() throws Exception {
    Blob b = blob(2_000_000);
    proxy.inject(FaultProxy.on(b.digest()).stallAfter(800_000));
    long started = System.nanoTime();
    try (RegistryClient c = client(0, STALL)) {
      assertThat(RegistryClientIT.sha256(download(c, b))).isEqualTo(b.sha256());
    }
    Duration took = Duration.ofNanos(System.nanoTime() - started);
    assertThat(took).isGreaterThanOrEqualTo(STALL).isLessThan(Duration.ofSeconds(15));
    List<Exchange> r = finished(b, 2);
    assertThat(r.get(0).bodyBytes()).isEqualTo(800_000);
    assertThat(r.get(1).range()).isEqualTo("bytes=800000-");
    assertThat(r.get(1).bodyBytes()).isEqualTo(1_200_000);
  }

  // ------------------------------------------------------------ statuses

  @Test
  void serviceUnavailableIsRetriedWithGrowingBackoff() throws Exception {
    Blob b = blob(100_000);
    proxy.inject(FaultProxy.on(b.digest()).times(2).status(503));
    try (RegistryClient c = client()) {
      assertThat(RegistryClientIT.sha256(download(c, b))).isEqualTo(b.sha256());
    }
    assertThat(finished(b, 3)).extracting(Exchange::status).containsExactly(503, 503, 200);
    assertThat(waits).hasSize(2);
    assertThat(waits.get(0)).isBetween(Duration.ofMillis(50), Duration.ofMillis(100));
    assertThat(waits.get(1)).isBetween(Duration.ofMillis(100), Duration.ofMillis(200));
  }

  @Test
  void persistentServerErrorIsUnavailableAfterTheAttemptsAndLeavesNoFile() throws Exception {
    Blob b = blob(10_000);
    proxy.inject(FaultProxy.on(b.digest()).always().status(500));
    try (RegistryClient c = client()) {
      assertThatThrownBy(() -> download(c, b))
          .isInstanceOfSatisfying(RegistryException.class, e -> {
            assertThat(e.kind()).isEqualTo(Kind.UNAVAILABLE);
            assertThat(e.getMessage()).contains(b.digest()).contains("500");
          });
    }
    assertThat(finished(b, ATTEMPTS)).hasSize(ATTEMPTS);
    assertThat(work.resolve("out-" + b.sha256())).doesNotExist();
  }

  @Test
  void tooManyRequestsWaitsTheRetryAfterSeconds() throws Exception {
    Blob b = blob(50_000);
    proxy.inject(FaultProxy.on(b.digest()).tooManyRequests("1"));
    try (RegistryClient c = client()) {
      assertThat(RegistryClientIT.sha256(download(c, b))).isEqualTo(b.sha256());
    }
    assertThat(finished(b, 2)).extracting(Exchange::status).containsExactly(429, 200);
    assertThat(waits).containsExactly(Duration.ofSeconds(1));
  }

  @Test
  void tooManyRequestsWithAnHttpDateWaitsUntilThen() throws Exception {
    Blob b = blob(50_000);
    String in3s = DateTimeFormatter.RFC_1123_DATE_TIME.format(
        ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(3));
    proxy.inject(FaultProxy.on(b.digest()).tooManyRequests(in3s));
    try (RegistryClient c = client()) {
      assertThat(RegistryClientIT.sha256(download(c, b))).isEqualTo(b.sha256());
    }
    assertThat(waits).hasSize(1);
    assertThat(waits.get(0)).isBetween(Duration.ofSeconds(1), Duration.ofSeconds(3));
  }

  @Test
  void connectionResetBeforeAnyAnswerIsRetried() throws Exception {
    Blob b = blob(50_000);
    proxy.inject(FaultProxy.on(b.digest()).times(2).resetBeforeAnswer());
    try (RegistryClient c = client()) {
      assertThat(RegistryClientIT.sha256(download(c, b))).isEqualTo(b.sha256());
    }
    assertThat(finished(b, 3)).extracting(Exchange::status).containsExactly(0, 0, 200);
  }

  @Test
  void missingBlobIsNotFoundWithOneRequest() throws Exception {
    Blob b = new Blob(new Descriptor("application/octet-stream", "sha256:" + "ab".repeat(32),
        10, null), "ab".repeat(32));
    try (RegistryClient c = client()) {
      assertThatThrownBy(() -> download(c, b)).isInstanceOfSatisfying(RegistryException.class,
          e -> assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND));
    }
    assertThat(finished(b, 1)).extracting(Exchange::status).containsExactly(404);
    assertThat(waits).isEmpty();
  }

  @Test
  void unauthorizedAndForbiddenAreNotRetried() throws Exception {
    Blob b = blob(1000);
    try (RegistryClient c = client()) {
      proxy.inject(FaultProxy.on(b.digest()).always().status(401));
      assertThatThrownBy(() -> download(c, b)).isInstanceOfSatisfying(RegistryException.class,
          e -> assertThat(e.kind()).isEqualTo(Kind.UNAUTHENTICATED));
      assertThat(finished(b, 1)).hasSize(1);
      proxy.reset();
      proxy.inject(FaultProxy.on(b.digest()).always().status(403));
      assertThatThrownBy(() -> download(c, b)).isInstanceOfSatisfying(RegistryException.class,
          e -> assertThat(e.kind()).isEqualTo(Kind.PERMISSION_DENIED));
      assertThat(finished(b, 1)).hasSize(1);
    }
    assertThat(waits).isEmpty();
    assertThat(work.resolve("out-" + b.sha256())).doesNotExist();
  }

  // ------------------------------------------------------------ corruption

  @Test
  void flippedBytesAreInvalidContentAfterOneMoreDownloadAndLeaveNoFile() throws Exception {
    Blob b = blob(1_000_000);
    proxy.inject(FaultProxy.on(b.digest()).always().flipByteAt(123_456));
    try (RegistryClient c = client()) {
      assertThatThrownBy(() -> download(c, b)).isInstanceOfSatisfying(RegistryException.class,
          e -> {
            assertThat(e.kind()).isEqualTo(Kind.INVALID_CONTENT);
            assertThat(e.getMessage()).contains("failed verification").contains(b.digest());
          });
    }
    assertThat(finished(b, 2)).extracting(Exchange::bodyBytes)
        .containsExactly(b.size(), b.size());
    assertThat(work.resolve("out-" + b.sha256())).doesNotExist();
  }

  @Test
  void oneFlippedDownloadIsRepairedByTheNext() throws Exception {
    Blob b = blob(500_000);
    proxy.inject(FaultProxy.on(b.digest()).flipByteAt(0));
    try (RegistryClient c = client()) {
      assertThat(RegistryClientIT.sha256(download(c, b))).isEqualTo(b.sha256());
    }
    assertThat(finished(b, 2)).allMatch(e -> e.range() == null);
  }

  // ------------------------------------------------------------ parallel ranges

  @Test
  void largeBlobIsFetchedAsConsecutiveRangesWrittenAtTheirOffsets() throws Exception {
    Blob b = blob(8_000_003);
    try (RegistryClient c = client(1_000_000, Duration.ofSeconds(20))) {
      assertThat(RegistryClientIT.sha256(download(c, b))).isEqualTo(b.sha256());
    }
    // 1 MiB chunks (the minimum) over 4 connections; the last range is open-ended.
    List<Exchange> r = finished(b, 8);
    List<String> expected = new java.util.ArrayList<>();
    for (long at = 0; at < b.size(); at += 1 << 20) {
      expected.add("bytes=" + at + "-" + (at + (1 << 20) >= b.size() ? ""
          : String.valueOf(at + (1 << 20) - 1)));
    }
    assertThat(r).extracting(Exchange::range).containsExactlyInAnyOrderElementsOf(expected);
    assertThat(r.get(0).range()).isEqualTo("bytes=0-1048575"); // the probe goes first
    assertThat(r).allMatch(e -> e.status() == 206);
    assertThat(r.stream().mapToLong(Exchange::bodyBytes).sum()).isEqualTo(b.size());
  }

  // Streams are added only while they add throughput (decision 1211). The rates are low (1-2
  // MB/s: little CPU per window), so a loaded machine does not decide the outcome; the counts
  // are the client's.

  /** Downloads {@code b} with up to 4 ranged streams and returns the client's counts. */
  RegistryStats adaptiveDownload(Blob b) throws Exception {
    try (RegistryClient c = client(1 << 20, Duration.ofSeconds(20))) {
      assertThat(RegistryClientIT.sha256(download(c, b))).isEqualTo(b.sha256());
      return c.stats();
    }
  }

  @Test
  void aLinkThatCapsEachConnectionGrowsToFourStreams() throws Exception {
    Blob b = blob(12L << 20);
    proxy.bandwidthLimit(1_000_000);
    RegistryStats stats = adaptiveDownload(b);
    assertThat(stats.rangeStreamsAdded()).isEqualTo(3);
    assertThat(stats.rangeStreamsRetired()).isZero();
  }

  @Test
  void aLinkAllConnectionsShareStaysAtOneStream() throws Exception {
    Blob b = blob(4L << 20);
    proxy.sharedBandwidthLimit(2_000_000);
    RegistryStats stats = adaptiveDownload(b);
    // One stream more is tried, brings nothing, and is stopped after its chunk.
    assertThat(stats.rangeStreamsAdded()).isEqualTo(1);
    assertThat(stats.rangeStreamsRetired()).isEqualTo(1);
  }

  @Test
  void brokenChunkResumesOnItsOwn() throws Exception {
    Blob b = blob(8_000_000);
    // The first request is always chunk 1 (it probes whether ranges are served).
    proxy.inject(FaultProxy.on(b.digest()).resetAfter(300_000));
    try (RegistryClient c = client(1_000_000, Duration.ofSeconds(20))) {
      assertThat(RegistryClientIT.sha256(download(c, b))).isEqualTo(b.sha256());
    }
    List<Exchange> r = finished(b, 9);
    assertThat(r.get(0).range()).isEqualTo("bytes=0-1048575");
    assertThat(r.get(0).bodyBytes()).isEqualTo(300_000);
    Exchange resumed = r.stream().filter(e -> e.range().endsWith("-1048575") && e != r.get(0))
        .findFirst().orElseThrow();
    long from = rangeStart(resumed);
    assertThat(from).isBetween(0L, 300_000L); // what chunk 1 had received before the RST
    assertThat(resumed.bodyBytes()).isEqualTo((1 << 20) - from);
    // The other chunks were not disturbed: each was sent once, completely.
    assertThat(r).filteredOn(e -> !e.range().endsWith("-1048575"))
        .hasSize(7).allMatch(e -> e.status() == 206);
    assertThat(r.stream().filter(e -> !e.range().endsWith("-1048575"))
        .mapToLong(Exchange::bodyBytes).sum()).isEqualTo(b.size() - (1 << 20));
  }

  @Test
  void registryWithoutRangeSupportFallsBackToOneStream() throws Exception {
    Blob b = blob(3_000_000);
    proxy.inject(FaultProxy.on(b.digest()).always().ignoreRange());
    try (RegistryClient c = client(1_000_000, Duration.ofSeconds(20))) {
      assertThat(RegistryClientIT.sha256(download(c, b))).isEqualTo(b.sha256());
    }
    List<Exchange> r = finished(b, 1);
    assertThat(r.get(0).status()).isEqualTo(200);
    assertThat(r.get(0).bodyBytes()).isEqualTo(b.size());
  }

  @Test
  void missingLargeBlobIsOneRequestEvenWithParallelRanges() throws Exception {
    Blob b = new Blob(new Descriptor("application/octet-stream", "sha256:" + "cd".repeat(32),
        50_000_000, null), "cd".repeat(32));
    try (RegistryClient c = client(1_000_000, Duration.ofSeconds(20))) {
      assertThatThrownBy(() -> download(c, b)).isInstanceOfSatisfying(RegistryException.class,
          e -> assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND));
    }
    assertThat(finished(b, 1)).extracting(Exchange::status).containsExactly(404);
    assertThat(work.resolve("out-" + b.sha256())).doesNotExist();
  }

  @Test
  void corruptPartIsCaughtByTheWholeFileDigest() throws Exception {
    Blob b = blob(4_000_000);
    proxy.inject(FaultProxy.on(b.digest()).always().flipByteAt(10));
    try (RegistryClient c = client(1_000_000, Duration.ofSeconds(20))) {
      assertThatThrownBy(() -> download(c, b)).isInstanceOfSatisfying(RegistryException.class,
          e -> assertThat(e.kind()).isEqualTo(Kind.INVALID_CONTENT));
    }
    assertThat(finished(b, 8)).hasSize(8);
    assertThat(work.resolve("out-" + b.sha256())).doesNotExist();
  }

  @Test
  void aWarmPullWhoseHeadCheckFailsFallsBackToTheManifestGetAndDownloadsNothing()
      throws Exception {
    PushedArtifact model = ModelArtifactBuilder.create(work.resolve("warm-head"))
        .rawFile("weights.bin", 10_000, 77)
        .push(pusher, Reference.parse(registry.host() + "/faults/warm:v1"));
    Reference ref = Reference.parse(proxy.host() + "/faults/warm:v1");
    Path volumes = work.resolve("warm-volumes");
    try (RegistryClient c = client();
        LayerStore store = LayerStore.open(new StoreLayout(work.resolve("warm-store")), volumes,
            0, new EvictionPolicy(0, 100, 100), Clock.systemUTC())) {
      ModelPuller puller = new ModelPuller(c, store, 4, Clock.systemUTC());
      pullInto(puller, ref, volumes.resolve("cold"));
      proxy.reset();
      proxy.inject(FaultProxy.onManifestHeads().always().status(500));

      pullInto(puller, ref, volumes.resolve("warm"));

      assertThat(RegistryClientIT.sha256(volumes.resolve("warm/model/weights.bin")))
          .isEqualTo(model.file("weights.bin").sha256());
      await().atMost(Duration.ofSeconds(5)).until(() -> proxy.requests().stream()
          .allMatch(FaultProxy.Exchange::done));
      assertThat(proxy.requests()).extracting(e -> e.method() + " " + e.status())
          .as("one HEAD (no retry), then the manifest GET, no blob")
          .containsExactly("HEAD 500", "GET 200");
      assertThat(proxy.requests().get(1).path()).contains("/manifests/");
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void aWarmPullOfAnUnchangedTagAsksTheRegistryOneHeadRequest(boolean tagNamesAnIndex)
      throws Exception {
    String repo = "faults/unchanged-" + tagNamesAnIndex;
    ModelArtifactBuilder builder = ModelArtifactBuilder.create(work.resolve(repo))
        .rawFile("weights.bin", 10_000, tagNamesAnIndex ? 78 : 79);
    if (tagNamesAnIndex) {
      builder.wrapInIndex();
    }
    PushedArtifact model = builder.push(pusher,
        Reference.parse(registry.host() + "/" + repo + ":v1"));
    Reference ref = Reference.parse(proxy.host() + "/" + repo + ":v1");
    Path volumes = work.resolve(repo + "-volumes");
    try (RegistryClient c = client();
        LayerStore store = LayerStore.open(new StoreLayout(work.resolve(repo + "-store")),
            volumes, 0, new EvictionPolicy(0, 100, 100), Clock.systemUTC())) {
      ModelPuller puller = new ModelPuller(c, store, 4, Clock.systemUTC());
      pullInto(puller, ref, volumes.resolve("cold"));
      proxy.reset();

      pullInto(puller, ref, volumes.resolve("warm"));

      assertThat(RegistryClientIT.sha256(volumes.resolve("warm/model/weights.bin")))
          .isEqualTo(model.file("weights.bin").sha256());
      await().atMost(Duration.ofSeconds(5)).until(() -> proxy.requests().stream()
          .allMatch(FaultProxy.Exchange::done));
      assertThat(proxy.requests()).extracting(e -> e.method() + " " + e.status())
          .containsExactly("HEAD 200");
    }
  }

  private static void pullInto(ModelPuller puller, Reference ref, Path volumeDir) {
    puller.pull(new VolumePull(ref, LayerFilter.NONE, volumeDir.getFileName().toString(),
        volumeDir, volumeDir.resolve("model"), false, false), new PullProgress());
  }

  @Test
  void plainHttpSettingsStillApplyToTheProxyHost() {
    assertThat(RegistrySettings.defaults().plainHttpConfigured(proxy.host())).isTrue();
    assertThat(new RegistrySettings(null, Set.of(), null, null, null).retry())
        .isEqualTo(RetryPolicy.defaults());
  }

  // ------------------------------------------------------------ resume from bytes kept on disk

  /** A writer holding the first {@code kept} bytes of {@code b}, as a resumed partial does. */
  DigestingBlobFile keptPrefix(Blob b, long kept) throws IOException {
    Path full;
    try (RegistryClient c = client()) {
      full = download(c, b);
    }
    finished(b, 1);
    proxy.reset();
    Path partial = work.resolve("partial-" + b.sha256());
    Files.copy(full, partial, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(partial,
        java.nio.file.StandardOpenOption.WRITE)) {
      ch.truncate(kept);
    }
    downloading = partial;
    return DigestingBlobFile.openAt(partial, Digest.parse(b.digest()), kept, kept);
  }

  @ParameterizedTest(name = "parallel threshold {0}")
  @ValueSource(longs = {0, 1_000_000})
  void aWriterHoldingAPrefixIsContinuedWithRangesFromThereOnly(long threshold) throws Exception {
    Blob b = blob(8_000_000);
    try (DigestingBlobFile out = keptPrefix(b, 3_000_000);
        RegistryClient c = client(threshold, Duration.ofSeconds(20))) {
      c.downloadBlob(viaProxy(), b.descriptor(), out);
      assertThat(out.finish()).hasToString(b.digest());
      assertThat(c.stats().resumes(RetryCause.RESTART)).isEqualTo(1);
    }
    List<Exchange> r = finished(b, threshold == 0 ? 1 : 5);
    assertThat(r.get(0).range()).startsWith("bytes=3000000-");
    assertThat(r).allMatch(e -> e.status() == 206 && rangeStart(e) >= 3_000_000);
    assertThat(r.stream().mapToLong(Exchange::bodyBytes).sum()).isEqualTo(5_000_000);
    assertThat(RegistryClientIT.sha256(work.resolve("partial-" + b.sha256())))
        .isEqualTo(b.sha256());
  }

  @Test
  void aRangedDownloadFetchesOnlyTheGapsAroundRunsTheWriterAlreadyHolds() throws Exception {
    Blob b = blob(8_000_000);
    DigestingBlobFile out = keptPrefix(b, 8_000_000); // the whole blob on disk...
    out.close();
    Path partial = work.resolve("partial-" + b.sha256());
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(partial,
        java.nio.file.StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.allocate(2_000_000), 3_000_000); // ...but for two gaps
      ch.write(java.nio.ByteBuffer.allocate(2_000_000), 6_000_000);
    }
    List<org.modelpack.csi.oci.ByteRun> held = List.of(
        new org.modelpack.csi.oci.ByteRun(5_000_000, 6_000_000));
    try (DigestingBlobFile kept = DigestingBlobFile.openAt(partial, Digest.parse(b.digest()),
            3_000_000, held);
        RegistryClient c = client(1_000_000, Duration.ofSeconds(20))) {
      assertThat(kept.writtenAhead()).isEqualTo(held);
      c.downloadBlob(viaProxy(), b.descriptor(), kept);
      assertThat(kept.finish()).hasToString(b.digest());
      assertThat(c.stats().resumes(RetryCause.RESTART)).isEqualTo(1);
    }
    // Chunks of at least 1 MiB over the 4 MB missing: four requests.
    List<Exchange> r = finished(b, 4);
    assertThat(r.get(0).range()).startsWith("bytes=3000000-");
    assertThat(r).allMatch(e -> e.status() == 206
        && (rangeStart(e) >= 6_000_000 || rangeStart(e) + e.bodyBytes() <= 5_000_000));
    assertThat(r.stream().mapToLong(Exchange::bodyBytes).sum()).isEqualTo(4_000_000);
    assertThat(RegistryClientIT.sha256(partial)).isEqualTo(b.sha256());
  }

  @ParameterizedTest(name = "{0}, parallel threshold {1}")
  @org.junit.jupiter.params.provider.CsvSource({"IGNORE_RANGE, 0", "IGNORE_RANGE, 1000000",
      "STATUS_416, 0", "STATUS_416, 1000000"})
  void aRegistryIgnoringOrRefusingTheRangeOfAKeptPrefixSendsTheBlobAgainFromZero(String fault,
      long threshold) throws Exception {
    Blob b = blob(3_000_000);
    try (DigestingBlobFile out = keptPrefix(b, 1_000_000);
        RegistryClient c = client(threshold, Duration.ofSeconds(20))) {
      proxy.inject(fault.equals("IGNORE_RANGE") ? FaultProxy.on(b.digest()).always().ignoreRange()
          : FaultProxy.on(b.digest()).status(416));
      c.downloadBlob(viaProxy(), b.descriptor(), out);
      assertThat(out.finish()).hasToString(b.digest());
    }
    // Ignored: the answer to the range is the whole blob. Refused: one more request, from zero.
    List<Exchange> r = finished(b, fault.equals("IGNORE_RANGE") ? 1 : 2);
    assertThat(r.get(0).range()).startsWith("bytes=1000000-");
    assertThat(r.get(0).status()).isEqualTo(fault.equals("IGNORE_RANGE") ? 200 : 416);
    Exchange whole = r.get(r.size() - 1);
    assertThat(whole.status()).isEqualTo(200);
    assertThat(whole.bodyBytes()).isEqualTo(b.size());
    assertThat(RegistryClientIT.sha256(work.resolve("partial-" + b.sha256())))
        .isEqualTo(b.sha256());
  }
}
