package org.modelpack.csi.pull;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.modelpack.LayerFormat;
import org.modelpack.csi.oci.Descriptor;
import org.modelpack.csi.oci.Manifest;
import org.modelpack.csi.registry.Reference;
import org.modelpack.csi.registry.ResolvedManifest;

class PullPlannerTest {
  private static final String D1 = "sha256:" + "1".repeat(64);
  private static final String D2 = "sha256:" + "2".repeat(64);
  private static final Reference REF = Reference.parse("127.0.0.1:5000/models/m:v1");

  private static Descriptor raw(String digest, String path) {
    return new Descriptor("application/vnd.cncf.model.weight.v1.raw", digest, 10,
        Map.of("org.cncf.model.filepath", path));
  }

  private static ResolvedManifest manifest(String artifactType, Descriptor... layers) {
    Manifest m = new Manifest(2, Manifest.OCI_MANIFEST, artifactType,
        new Descriptor("application/vnd.cncf.model.config.v1+json", D1, 2, Map.of()),
        List.of(layers), List.of(), Map.of());
    return new ResolvedManifest(REF, "sha256:" + "f".repeat(64), m, new byte[0]);
  }

  private static DriverException planFails(ResolvedManifest m) {
    try {
      new PullPlanner().plan(m);
    } catch (DriverException e) {
      return e;
    }
    throw new AssertionError("plan did not fail");
  }

  @Test
  void plansRawAndTarLayersOfBothFamilies() {
    PullPlan plan = new PullPlanner().plan(manifest("application/vnd.cncf.model.manifest.v1+json",
        raw(D1, "a/b.safetensors"),
        new Descriptor("application/vnd.cnai.model.doc.v1.tar+gzip", D2, 20, Map.of())));
    assertThat(plan.layers()).extracting(LayerPlan::format)
        .containsExactly(LayerFormat.RAW, LayerFormat.TAR_GZIP);
    assertThat(plan.layers().get(0).path()).isEqualTo("a/b.safetensors");
    assertThat(plan.totalBytes()).isEqualTo(30);
  }

  @Test
  void anArtifactThatIsNotAModelIsRefused() {
    Manifest m = new Manifest(2, Manifest.OCI_MANIFEST, null,
        new Descriptor("application/vnd.oci.image.config.v1+json", D1, 2, Map.of()),
        List.of(), List.of(), Map.of());
    DriverException e = planFails(new ResolvedManifest(REF, D2, m, new byte[0]));
    assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
    assertThat(e).hasMessageContaining("not a ModelPack model");
  }

  @Test
  void traversalInAFilePathAnnotationIsRefusedNamingTheLayer() {
    DriverException e = planFails(manifest("application/vnd.cncf.model.manifest.v1+json",
        raw(D1, "../../etc/passwd")));
    assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
    assertThat(e).hasMessageContaining(D1).hasMessageContaining("../../etc/passwd");
  }

  @Test
  void absoluteFilePathIsRefused() {
    assertThat(planFails(manifest("application/vnd.cncf.model.manifest.v1+json",
        raw(D1, "/etc/passwd"))).kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
  }

  @Test
  void twoRawLayersClaimingOnePathAreRefused() {
    DriverException e = planFails(manifest("application/vnd.cncf.model.manifest.v1+json",
        raw(D1, "w.bin"), raw(D2, "w.bin")));
    assertThat(e).hasMessageContaining("also claimed by layer 0");
  }

  @Test
  void unknownLayerMediaTypeIsRefused() {
    DriverException e = planFails(manifest("application/vnd.cncf.model.manifest.v1+json",
        new Descriptor("application/vnd.oci.image.layer.v1.tar", D1, 1, Map.of())));
    assertThat(e).hasMessageContaining("application/vnd.oci.image.layer.v1.tar");
  }

  @Test
  void rawLayerWithoutAPathIsRefused() {
    DriverException e = planFails(manifest("application/vnd.cncf.model.manifest.v1+json",
        new Descriptor("application/vnd.cncf.model.weight.v1.raw", D1, 1, Map.of())));
    assertThat(e).hasMessageContaining("no file path");
  }

  @Test
  void malformedLayerDigestIsRefused() {
    DriverException e = planFails(manifest("application/vnd.cncf.model.manifest.v1+json",
        raw("sha256:xyz", "a.bin")));
    assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
  }

  @Test
  void negativeAndOverOnePebibyteDeclaredSizesAreRefusedNamingTheLayer() {
    for (long size : new long[] {-1, Long.MIN_VALUE, (1L << 50) + 1, 1L << 62, Long.MAX_VALUE}) {
      DriverException e = planFails(manifest("application/vnd.cncf.model.manifest.v1+json",
          new Descriptor("application/vnd.cncf.model.weight.v1.raw", D1, size,
              Map.of("org.cncf.model.filepath", "w.bin"))));
      assertThat(e.kind()).as("size %d", size).isEqualTo(ErrorKind.INVALID_ARGUMENT);
      assertThat(e).as("size %d", size).hasMessageContaining(D1)
          .hasMessageContaining(String.valueOf(size));
    }
  }

  @Test
  void declaredSizesSummingToMoreThanOnePebibyteAreRefused() {
    Descriptor half = new Descriptor("application/vnd.cncf.model.weight.v1.tar", D1, 1L << 49,
        Map.of());
    Descriptor more = new Descriptor("application/vnd.cncf.model.weight.v1.tar", D2, 1, Map.of());
    new PullPlanner().plan(manifest("application/vnd.cncf.model.manifest.v1+json", half, half));
    DriverException e = planFails(manifest("application/vnd.cncf.model.manifest.v1+json",
        half, half, more));
    assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
    assertThat(e).hasMessageContaining("layer 2 (" + D2).hasMessageContaining("a model may have");
  }

  @Test
  void hugeArtifactTextIsQuotedAsABoundedExcerpt() {
    String mediaType = "application/vnd.cncf.model.weight.v1." + "x".repeat(1_000_000);
    String path = "a/" + "b".repeat(5000);
    String digest = "sha256:" + "z".repeat(100_000);
    for (Descriptor d : List.of(
        new Descriptor(mediaType, D1, 1, Map.of()),
        raw(D1, path),
        raw(digest, "w.bin"))) {
      DriverException e = planFails(manifest("application/vnd.cncf.model.manifest.v1+json", d));
      assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
      assertThat(e.getMessage()).hasSizeLessThan(1200).contains("more characters)");
    }
    DriverException notModel = planFails(new ResolvedManifest(REF, D2, new Manifest(2,
        Manifest.OCI_MANIFEST, "x".repeat(100_000),
        new Descriptor("y".repeat(100_000), D1, 2, Map.of()), List.of(), List.of(), Map.of()),
        new byte[0]));
    assertThat(notModel.getMessage()).hasSizeLessThan(600);
  }

  @Test
  void aFilterKeepsOnlyMatchingLayersAndTotalsCountKeptLayersOnly() {
    String d3 = "sha256:" + "3".repeat(64);
    PullPlan plan = new PullPlanner().plan(manifest("application/vnd.cncf.model.manifest.v1+json",
        raw(D1, "model.safetensors"),
        raw(D2, "config.json"),
        raw(d3, "model.safetensors.index.json"),
        // A tar layer without a file path: left out when filtering.
        new Descriptor("application/vnd.cncf.model.doc.v1.tar", D1, 20, Map.of()),
        new Descriptor("application/vnd.cncf.model.doc.v1.tar", D2, 30,
            Map.of("org.cncf.model.filepath", "docs"))),
        new LayerFilter(true, List.of()));
    assertThat(plan.layers()).extracting(LayerPlan::index).containsExactly(1, 4);
    assertThat(plan.excludedLayers()).isEqualTo(3);
    assertThat(plan.totalBytes()).isEqualTo(40);
    assertThat(plan.filter()).isEqualTo(new LayerFilter(true, List.of()));
  }

  @Test
  void excludingEverythingGivesAnEmptyPlan() {
    PullPlan plan = new PullPlanner().plan(manifest("application/vnd.cncf.model.manifest.v1+json",
        raw(D1, "a.bin"), raw(D2, "b.bin")), new LayerFilter(false, List.of("*")));
    assertThat(plan.layers()).isEmpty();
    assertThat(plan.totalBytes()).isZero();
  }

  @Test
  void excludedLayersAreStillCheckedForSafety() {
    DriverException e;
    try {
      new PullPlanner().plan(manifest("application/vnd.cncf.model.manifest.v1+json",
          raw(D1, "../../etc/passwd")), new LayerFilter(false, List.of("passwd")));
      throw new AssertionError("plan did not fail");
    } catch (DriverException x) {
      e = x;
    }
    assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
  }

  @Test
  void uniqueEntriesCountASharedDigestOnce() {
    PullPlan plan = new PullPlanner().plan(manifest("application/vnd.cncf.model.manifest.v1+json",
        raw(D1, "a.bin"), raw(D1, "copy/a.bin"), raw(D2, "b.bin")));
    assertThat(plan.totalBytes()).isEqualTo(30);
    assertThat(plan.uniqueEntries()).hasSize(2);
    assertThat(plan.bytesToAdd(java.util.Set.of())).isEqualTo(20);
    assertThat(plan.bytesToAdd(java.util.Set.of(new org.modelpack.csi.store.LayerKey(D1,
        org.modelpack.csi.store.EntryKind.BLOB)))).isEqualTo(10);
  }
}
