package org.modelpack.csi.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.modelpack.csi.modelpack.LayerFormat;

/**
 * Entries are committed without an fsync of their own and made durable by one syncfs before a
 * volume's record names them (decision 1220): the marker that says "entries may be unsynced",
 * the record as the point of durability (also for a volume reusing another pull's entry), and
 * what a restart does with the marker in the same boot and after a reboot. Real files, real
 * syncfs(2).
 */
@Timeout(60)
class UnsyncedEntriesTest {
  private static final EvictionPolicy NO_EVICTION = new EvictionPolicy(0, 100, 100);

  @TempDir Path tmp;
  private final List<LayerStore> stores = new ArrayList<>();

  @AfterEach
  void tearDown() {
    stores.forEach(LayerStore::close);
  }

  @Test
  void aNewEntryIsMarkedUnsyncedUntilAVolumeRecordNamingItIsWritten() throws Exception {
    LayerStore store = open();
    LayerRequest blob = raw("weights");
    assertThat(marker(store)).doesNotExist();

    fetch(store, "vol-a", blob, "weights");
    assertThat(marker(store)).exists();

    store.recordVolume(volumeDir("vol-a"), record("vol-a", blob));
    assertThat(marker(store)).doesNotExist();
    assertThat(volumeDir("vol-a").resolve(VolumeRecord.FILE)).exists();
  }

  @Test
  void aVolumeReusingAnotherPullsUnsyncedEntryHasItSyncedBeforeItsOwnRecord() throws Exception {
    LayerStore store = open();
    LayerRequest shared = raw("shared");
    fetch(store, "vol-a", shared, "shared");
    // vol-b finds the entry committed by vol-a's pull, which has not written its record yet.
    StoreEntry reused = store.request("vol-b", shared, dest -> {
      throw new AssertionError("a stored entry is not fetched again");
    }).await();
    assertThat(reused.path()).exists();
    assertThat(marker(store)).exists();

    store.recordVolume(volumeDir("vol-b"), record("vol-b", shared));

    assertThat(marker(store)).as("vol-b's record waited for a sync covering vol-a's entry")
        .doesNotExist();
  }

  @Test
  void aRestartInTheSameBootKeepsUnsyncedEntriesAndSyncsThem() throws Exception {
    LayerStore store = open();
    LayerRequest blob = raw("kept");
    Path path = fetch(store, "vol-a", blob, "kept").path();
    store.close();

    LayerStore reopened = open();
    assertThat(marker(reopened)).doesNotExist();
    assertThat(reopened.isStored(blob.key())).isTrue();
    assertThat(path).hasBinaryContent(bytes("kept"));
  }

  @Test
  void afterARebootUnsyncedBlobsThatNoLongerHashToTheirNameAreNeverServed() throws Exception {
    LayerStore store = open();
    LayerRequest whole = raw("whole");
    LayerRequest torn = raw("torn");
    fetch(store, "vol-a", whole, "whole");
    Path tornPath = fetch(store, "vol-a", torn, "torn").path();
    store.close();
    // What a power cut leaves of a file whose pages never reached the disk: its size, zeros.
    Files.setPosixFilePermissions(tornPath, PosixFilePermissions.fromString("rw-------"));
    Files.write(tornPath, new byte[bytes("torn").length]);
    Files.setPosixFilePermissions(tornPath, PosixFilePermissions.fromString("r--r--r--"));
    writeMarkerOfAnotherBoot(store);

    LayerStore reopened = open();

    assertThat(reopened.isStored(whole.key())).isTrue();
    assertThat(reopened.isStored(torn.key())).isFalse();
    assertThat(tornPath).doesNotExist();
    assertThat(marker(reopened)).doesNotExist();
  }

  @Test
  void afterARebootUnsyncedTreesAreDroppedAndFetchedAgain() throws Exception {
    LayerStore store = open();
    byte[] tar = LayerStoreTest.tar(java.util.Map.of("config.json", "{}"));
    LayerRequest tree = new LayerRequest(LayerStoreTest.sha256(tar), LayerFormat.TAR, tar.length, false, null);
    Path path = store.request("vol-a", tree, dest -> dest.write(ByteBuffer.wrap(tar), 0))
        .await().path();
    store.close();
    writeMarkerOfAnotherBoot(store);

    LayerStore reopened = open();

    assertThat(reopened.isStored(tree.key())).isFalse();
    assertThat(path).doesNotExist();
  }

  @Test
  void entriesARecordAlreadyCoveredNeedNoFurtherSync() throws Exception {
    LayerStore store = open();
    LayerRequest first = raw("first");
    fetch(store, "vol-a", first, "first");
    store.recordVolume(volumeDir("vol-a"), record("vol-a", first));
    // Another pull's new entry is pending; a volume naming only synced entries does not wait.
    fetch(store, "vol-c", raw("other"), "other");

    store.recordVolume(volumeDir("vol-b"), record("vol-b", first));

    assertThat(marker(store)).as("vol-b's record did not sync vol-c's entry").exists();
  }

  // ------------------------------------------------------------------ helpers

  private LayerStore open() throws IOException {
    LayerStore s = LayerStore.open(new StoreLayout(tmp.resolve("store")), tmp.resolve("volumes"),
        0, NO_EVICTION, Clock.systemUTC());
    stores.add(s);
    return s;
  }

  private static Path marker(LayerStore store) {
    return store.layout().unsyncedMarker();
  }

  private static void writeMarkerOfAnotherBoot(LayerStore store) throws IOException {
    Files.writeString(marker(store), "{\"boot_id\":\"another-boot\",\"since\":\""
        + Instant.now().minusSeconds(60) + "\"}");
  }

  private Path volumeDir(String volume) throws IOException {
    return Files.createDirectories(tmp.resolve("volumes").resolve(volume));
  }

  private static StoreEntry fetch(LayerStore store, String volume, LayerRequest req,
      String content) throws Exception {
    byte[] b = bytes(content);
    return store.request(volume, req, dest -> dest.write(ByteBuffer.wrap(b), 0)).await();
  }

  private static LayerRequest raw(String content) {
    byte[] b = bytes(content);
    return new LayerRequest(LayerStoreTest.sha256(b), LayerFormat.RAW, b.length, false, null);
  }

  private static VolumeRecord record(String volume, LayerRequest... layers) {
    return new VolumeRecord(volume, "registry.example/m:v1", "sha256:" + "cd".repeat(32),
        Instant.now(), java.util.Arrays.stream(layers).map(l -> new VolumeRecord.Layer(
            l.digest(), l.key().kind(), List.of())).toList());
  }

  private static byte[] bytes(String content) {
    return (content + " ").repeat(1000).getBytes(StandardCharsets.UTF_8);
  }
}
