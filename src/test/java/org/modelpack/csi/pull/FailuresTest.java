package org.modelpack.csi.pull;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.FileSystemException;
import org.junit.jupiter.api.Test;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.unpack.ExpansionLimitException;
import org.modelpack.csi.unpack.ExpansionLimitException.Bound;
import org.modelpack.csi.unpack.MalformedLayerException;
import org.modelpack.csi.unpack.UnsupportedEntryException;
import org.modelpack.csi.modelpack.LayerFormat;

/** Whose fault a failed layer is decides its code: the artifact's, the node's, or a bug. */
class FailuresTest {
  private static final String D = "sha256:" + "5".repeat(64);

  private static DriverException classify(Throwable e) {
    return Failures.classify("model m, layer 0 (" + D + ", tok.tar.gz)", e);
  }

  @Test
  void aLayerThatIsNotTheArchiveItClaimsIsAFailedPreconditionNamingTheLayer() {
    DriverException d = classify(new MalformedLayerException(D, LayerFormat.TAR_GZIP,
        "Not in GZIP format"));
    assertThat(d.kind()).isEqualTo(ErrorKind.FAILED_PRECONDITION);
    assertThat(d).hasMessage("model m, layer 0 (" + D + ", tok.tar.gz): layer " + D
        + " is not a valid tar+gzip archive: Not in GZIP format");
  }

  @Test
  void expandingBeyondTheRatioIsTheArtifactsFaultAndBeyondTheSpaceIsTheNodes() {
    assertThat(classify(new ExpansionLimitException(Bound.ARCHIVE, "bomb")).kind())
        .isEqualTo(ErrorKind.FAILED_PRECONDITION);
    assertThat(classify(new ExpansionLimitException(Bound.SPACE, "short")).kind())
        .isEqualTo(ErrorKind.RESOURCE_EXHAUSTED);
  }

  @Test
  void unsupportedEntriesAreInvalidArgumentsWhileLocalWriteErrorsKeepTheirCodes() {
    assertThat(classify(new UnsupportedEntryException(D, "holes.bin", "is sparse")).kind())
        .isEqualTo(ErrorKind.INVALID_ARGUMENT);
    assertThat(classify(new FileSystemException("/store/ingest/x", null,
        "No space left on device")).kind()).isEqualTo(ErrorKind.RESOURCE_EXHAUSTED);
    assertThat(classify(new IOException("Input/output error")).kind())
        .isEqualTo(ErrorKind.INTERNAL);
  }
}
