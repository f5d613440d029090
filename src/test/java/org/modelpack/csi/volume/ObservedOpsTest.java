package org.modelpack.csi.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.volume.NodeOps.Outcome;
import org.slf4j.LoggerFactory;

class ObservedOpsTest {
  private final List<String> recorded = new ArrayList<>();
  private final ObservedOps ops = new ObservedOps((op, outcome, nanos) ->
      recorded.add(op + " " + outcome));

  @Test
  void recorderThatThrowsNeitherFailsNorChangesTheOperation() {
    ObservedOps broken = new ObservedOps((op, outcome, nanos) -> {
      throw new IllegalStateException("registry broken");
    });

    assertThat(broken.observe("publish", "csi-1", () -> "r:v1", () -> "mounted")).isEqualTo("mounted");
    assertThatThrownBy(() -> broken.observe("publish", "csi-1", () -> "r:v1", () -> {
      throw new DriverException(ErrorKind.NOT_FOUND, "no such model");
    })).isInstanceOf(DriverException.class).hasMessage("no such model");
  }

  @Test
  void successFailureAndStillPullingAreTheThreeOutcomes() {
    ops.observe("publish", "csi-1", () -> "r:v1", () -> "ok");
    assertThatThrownBy(() -> ops.observe("publish", "csi-1", () -> "r:v1", () -> {
      throw new DriverException(ErrorKind.NOT_FOUND, "no such model");
    }));
    assertThatThrownBy(() -> ops.observe("publish", "csi-1", () -> "r:v1", () -> {
      throw new DriverException(ErrorKind.ABORTED, "still pulling");
    }));
    assertThatThrownBy(() -> ops.observe("unpublish", "csi-1", () -> "r:v1", (Runnable) () -> {
      throw new IllegalStateException("bug");
    }));

    assertThat(recorded).containsExactly("publish_dynamic_volume " + Outcome.SUCCEEDED,
        "publish_dynamic_volume " + Outcome.FAILED, "publish_dynamic_volume " + Outcome.PENDING,
        "unpublish_dynamic_volume " + Outcome.FAILED);
  }

  @Test
  void everyPublishAndUnpublishLogsOneLineWithVolumeReferenceOutcomeAndTime() {
    Logger logger = (Logger) LoggerFactory.getLogger(ObservedOps.class);
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    logger.addAppender(lines);
    try {
      ops.observe("publish", "csi-1", () -> "reg/m:v1", () -> "ok");
      assertThatThrownBy(() -> ops.observe("publish", "csi-2", () -> "reg/m:v2", () -> {
        throw new DriverException(ErrorKind.NOT_FOUND, "no such model");
      }));
      assertThatThrownBy(() -> ops.observe("publish", "csi-3", () -> "reg/m:v3", () -> {
        throw new DriverException(ErrorKind.ABORTED, "still pulling");
      }));
      ops.observe("unpublish", "csi-4", () -> {
        throw new IllegalStateException("unreadable record");
      }, () -> { });
    } finally {
      logger.detachAppender(lines);
    }

    assertThat(lines.list).extracting(e -> e.getLevel() + " " + e.getFormattedMessage())
        .satisfiesExactly(
            l -> assertThat(l).matches("INFO publish volume=csi-1 reference=reg/m:v1"
                + " outcome=succeeded time_ms=\\d+"),
            l -> assertThat(l).matches("WARN publish volume=csi-2 reference=reg/m:v2"
                + " outcome=failed time_ms=\\d+ error=NOT_FOUND: no such model"),
            l -> assertThat(l).matches("INFO publish volume=csi-3 reference=reg/m:v3"
                + " outcome=pending time_ms=\\d+ error=ABORTED: still pulling"),
            l -> assertThat(l).matches("INFO unpublish volume=csi-4 reference=-"
                + " outcome=succeeded time_ms=\\d+"));
  }

  @Test
  void pvcVolumesAreNamedAsTheGoDriverNamesThem() {
    assertThat(ObservedOps.opName("publish", "pvc-1234")).isEqualTo("publish_volume");
    assertThat(ObservedOps.opName("publish", "csi-abcd")).isEqualTo("publish_dynamic_volume");
    assertThat(ObservedOps.opName("unpublish", "csi-abcd"))
        .isEqualTo("unpublish_dynamic_volume");
  }
}
