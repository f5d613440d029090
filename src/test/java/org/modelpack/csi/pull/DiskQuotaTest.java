package org.modelpack.csi.pull;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.modelpack.LayerFormat;
import org.modelpack.csi.oci.Descriptor;
import org.modelpack.csi.registry.Reference;
import org.modelpack.csi.store.EvictionPolicy;
import org.modelpack.csi.store.LayerProgress;
import org.modelpack.csi.store.LayerRequest;
import org.modelpack.csi.store.Placement;
import org.modelpack.csi.store.LayerStore;
import org.modelpack.csi.store.StoreLayout;

/** The quota check against a real layer store on disk, filled without a registry. */
class DiskQuotaTest {
  private static final Reference REF = Reference.parse("127.0.0.1:5000/models/m:v1");
  private static final long KIB = 1024;

  @TempDir Path tmp;
  private LayerStore store;

  @AfterEach
  void close() {
    if (store != null) {
      store.close();
    }
  }

  private LayerStore open() throws IOException {
    store = LayerStore.open(new StoreLayout(tmp.resolve("store")), tmp.resolve("volumes"), 0,
        new EvictionPolicy(0, 100, 100), Clock.systemUTC());
    return store;
  }

  private record Blob(String digest, byte[] bytes) {
    LayerPlan layer(int index, String path) {
      return new LayerPlan(index, new Descriptor("application/vnd.cncf.model.weight.v1.raw",
          digest, bytes.length, Map.of()), LayerFormat.RAW, path, null);
    }
  }

  private static Blob blob(int size, int seed) throws Exception {
    byte[] b = new byte[size];
    java.util.Arrays.fill(b, (byte) seed);
    String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    return new Blob("sha256:" + hex, b);
  }

  /** Puts a blob into the store for {@code volume} (null: then released, a warm entry). */
  private void ingest(Blob b, String volume) throws Exception {
    String v = volume == null ? "tmp-volume" : volume;
    Path modelDir = Files.createDirectories(tmp.resolve("volumes").resolve(v).resolve("model"));
    store.place(new Placement(v, new LayerRequest(b.digest(), LayerFormat.RAW, b.bytes().length,
        false), modelDir, b.digest().substring(7),
        false), (blob, out) -> out.write(ByteBuffer.wrap(b.bytes()), 0), LayerProgress.NONE);
    if (volume == null) {
      store.releaseVolume(v);
    }
  }

  private static PullPlan plan(LayerPlan... layers) {
    return new PullPlan(REF, "sha256:" + "f".repeat(64), List.of(layers), new byte[0]);
  }

  private static DriverException refused(Runnable r) {
    try {
      r.run();
    } catch (DriverException e) {
      return e;
    }
    throw new AssertionError("not refused");
  }

  @Test
  void aModelLargerThanTheLimitIsRefusedNamingSizes() throws Exception {
    open();
    Blob a = blob(30 * (int) KIB, 1);
    DiskQuota quota = new DiskQuota(store, true, 20 * KIB);
    DriverException e = refused(() -> quota.check(plan(a.layer(0, "a.bin")), true));
    assertThat(e.kind()).isEqualTo(ErrorKind.RESOURCE_EXHAUSTED);
    assertThat(e).hasMessageContaining("model " + REF + " needs 30.0 KiB but only 20.0 KiB "
        + "of disk quota is available");
  }

  @Test
  void nothingIsCheckedUnlessBothTheFeatureAndTheVolumeAskForIt() throws Exception {
    open();
    PullPlan big = plan(blob(30 * (int) KIB, 1).layer(0, "a.bin"));
    assertThatCode(() -> new DiskQuota(store, false, 1).check(big, true))
        .doesNotThrowAnyException();
    assertThatCode(() -> new DiskQuota(store, true, 1).check(big, false))
        .doesNotThrowAnyException();
  }

  @Test
  void aLayerDeclaringMoreThanTheWholeFilesystemIsRefusedEvenWithQuotasOff() throws Exception {
    open();
    long capacity = store.diskSpace().total();
    String digest = "sha256:" + "e".repeat(64);
    LayerPlan huge = new LayerPlan(0, new Descriptor("application/vnd.cncf.model.weight.v1.raw",
        digest, capacity + 1, Map.of()), LayerFormat.RAW, "huge.bin", null);
    DriverException e = refused(() -> DiskQuota.off(store).check(plan(huge), false));
    assertThat(e.kind()).isEqualTo(ErrorKind.RESOURCE_EXHAUSTED);
    assertThat(e).hasMessageContaining("layer " + digest + " declares")
        .hasMessageContaining("(" + (capacity + 1) + " bytes), more than the whole filesystem");
    LayerPlan fits = new LayerPlan(0, new Descriptor("application/vnd.cncf.model.weight.v1.raw",
        digest, capacity, Map.of()), LayerFormat.RAW, "fits.bin", null);
    assertThatCode(() -> DiskQuota.off(store).check(plan(fits), false).close())
        .doesNotThrowAnyException();
  }

  @Test
  void layersInTheStoreCostNothingAndSharedDigestsCountOnce() throws Exception {
    open();
    Blob a = blob(12 * (int) KIB, 1);
    Blob b = blob(6 * (int) KIB, 2);
    ingest(a, "vol-a");
    DiskQuota quota = new DiskQuota(store, true, 20 * KIB);
    // 12 KiB used of 20: a is free, b (twice, one digest) costs 6 KiB.
    assertThatCode(() -> quota.check(plan(a.layer(0, "a.bin"), b.layer(1, "b.bin"),
        b.layer(2, "copy/b.bin")), true)).doesNotThrowAnyException();
    // Without a in the store it would need 18 KiB of the 8 KiB left.
    Blob c = blob(12 * (int) KIB, 3);
    assertThat(refused(() -> quota.check(plan(c.layer(0, "c.bin"), b.layer(1, "b.bin")), true))
        .kind()).isEqualTo(ErrorKind.RESOURCE_EXHAUSTED);
    // All in the store: passes although the store is above what it alone would allow.
    assertThatCode(() -> new DiskQuota(store, true, 1).check(plan(a.layer(0, "a.bin")), true))
        .doesNotThrowAnyException();
  }

  @Test
  void twoPullsCheckedBeforeEitherDownloadsCannotBothTakeTheSameRoom() throws Exception {
    open();
    Blob a = blob(12 * (int) KIB, 1);
    Blob b = blob(12 * (int) KIB, 2);
    Blob shared = blob(4 * (int) KIB, 3);
    DiskQuota quota = new DiskQuota(store, true, 20 * KIB);

    DiskQuota.Reservation first = quota.check(plan(a.layer(0, "a.bin")), true);
    // 12 KiB promised to the first pull, which has not started downloading: 8 KiB are left.
    assertThat(refused(() -> quota.check(plan(b.layer(0, "b.bin")), true)).kind())
        .isEqualTo(ErrorKind.RESOURCE_EXHAUSTED);
    // A layer promised to the first pull costs nothing again: the second would join it.
    try (DiskQuota.Reservation second = quota.check(
        plan(a.layer(0, "a.bin"), shared.layer(1, "s.bin")), true)) {
      assertThat(second).isNotNull();
    }
    first.close();
    assertThatCode(() -> quota.check(plan(b.layer(0, "b.bin")), true).close())
        .doesNotThrowAnyException();
  }

  @Test
  void unreferencedEntriesTheModelDoesNotUseAreEvictedToMakeRoom() throws Exception {
    open();
    Blob warm = blob(12 * (int) KIB, 1);
    Blob reused = blob(4 * (int) KIB, 2);
    Blob fresh = blob(12 * (int) KIB, 3);
    ingest(warm, null);
    ingest(reused, null);
    DiskQuota quota = new DiskQuota(store, true, 20 * KIB);
    quota.check(plan(reused.layer(0, "r.bin"), fresh.layer(1, "f.bin")), true);
    assertThat(store.entries()).extracting(e -> e.key().digest())
        .containsExactly(reused.digest());
  }

  @Test
  void referencedEntriesAreNeverEvictedForAQuota() throws Exception {
    open();
    Blob used = blob(12 * (int) KIB, 1);
    ingest(used, "vol-a");
    DiskQuota quota = new DiskQuota(store, true, 20 * KIB);
    PullPlan other = plan(blob(12 * (int) KIB, 2).layer(0, "x.bin"));
    assertThat(refused(() -> quota.check(other, true)).kind()).isEqualTo(ErrorKind.RESOURCE_EXHAUSTED);
    assertThat(store.entries()).hasSize(1);
  }

  @Test
  void withoutALimitTheFilesystemFreeSpaceCounts() throws Exception {
    open();
    DiskQuota quota = new DiskQuota(store, true, 0);
    assertThatCode(() -> quota.check(plan(blob(1024, 1).layer(0, "a.bin")), true))
        .doesNotThrowAnyException();
    // More than is free, less than the filesystem (a larger one is refused with quotas off).
    long free = store.diskSpace().usable();
    long size = free + (store.diskSpace().total() - free) / 2;
    LayerPlan huge = new LayerPlan(0, new Descriptor("application/vnd.cncf.model.weight.v1.raw",
        "sha256:" + "e".repeat(64), size, Map.of()), LayerFormat.RAW, "h.bin", null);
    DriverException e = refused(() -> quota.check(plan(huge), true));
    assertThat(e.kind()).isEqualTo(ErrorKind.RESOURCE_EXHAUSTED);
    assertThat(e).hasMessageContaining("free space of the filesystem");
  }
}
