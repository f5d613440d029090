package org.modelpack.csi.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.volume.NodeOps.Outcome;

class ObservedOpsTest {
  private final List<String> recorded = new ArrayList<>();
  private final ObservedOps ops = new ObservedOps((op, outcome, nanos) ->
      recorded.add(op + " " + outcome));

  @Test
  void recorderThatThrowsNeitherFailsNorChangesTheOperation() {
    ObservedOps broken = new ObservedOps((op, outcome, nanos) -> {
      throw new IllegalStateException("registry broken");
    });

    assertThat(broken.observe("publish_dynamic_volume", () -> "mounted")).isEqualTo("mounted");
    assertThatThrownBy(() -> broken.observe("publish_dynamic_volume", () -> {
      throw new DriverException(ErrorKind.NOT_FOUND, "no such model");
    })).isInstanceOf(DriverException.class).hasMessage("no such model");
  }

  @Test
  void successFailureAndStillPullingAreTheThreeOutcomes() {
    ops.observe("publish_dynamic_volume", () -> "ok");
    assertThatThrownBy(() -> ops.observe("publish_dynamic_volume", () -> {
      throw new DriverException(ErrorKind.NOT_FOUND, "no such model");
    }));
    assertThatThrownBy(() -> ops.observe("publish_dynamic_volume", () -> {
      throw new DriverException(ErrorKind.ABORTED, "still pulling");
    }));
    assertThatThrownBy(() -> ops.observe("unpublish_dynamic_volume", (Runnable) () -> {
      throw new IllegalStateException("bug");
    }));

    assertThat(recorded).containsExactly("publish_dynamic_volume " + Outcome.SUCCEEDED,
        "publish_dynamic_volume " + Outcome.FAILED, "publish_dynamic_volume " + Outcome.PENDING,
        "unpublish_dynamic_volume " + Outcome.FAILED);
  }

  @Test
  void pvcVolumesAreNamedAsTheGoDriverNamesThem() {
    assertThat(ObservedOps.opName("publish", "pvc-1234")).isEqualTo("publish_volume");
    assertThat(ObservedOps.opName("publish", "csi-abcd")).isEqualTo("publish_dynamic_volume");
    assertThat(ObservedOps.opName("unpublish", "csi-abcd"))
        .isEqualTo("unpublish_dynamic_volume");
  }
}
