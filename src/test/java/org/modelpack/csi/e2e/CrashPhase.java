package org.modelpack.csi.e2e;

import java.util.List;
import java.util.function.Function;

/**
 * What a trial interrupts, and in which window its random kill falls. The window is a fraction
 * of the operation's duration as calibrated at the start of the run on this machine, so the
 * same seed aims at the same part of an operation on a fast or a slow machine.
 *
 * <p>A cold publish is mostly download, so it is aimed twice: once anywhere in its download and
 * ingest, once around its end, where the tar layer is extracted, the last links are made, the
 * record is written and the model is mounted. A warm publish is only link, record and mount;
 * an unpublish only unmount and delete.
 */
enum CrashPhase {
  COLD_PUBLISH_PULL("cold publish killed in pull and ingest", Operation.COLD, true, 0.0, 0.85),
  COLD_PUBLISH_END("cold publish killed in extract, link, record or mount", Operation.COLD,
      true, 0.7, 1.15),
  WARM_PUBLISH("warm publish of a second volume killed in link, record or mount",
      Operation.WARM, false, 0.0, 1.3),
  UNPUBLISH("unpublish killed in unmount or delete", Operation.UNPUBLISH, false, 0.0, 1.3),
  /** Issue 8's defect: the half-deleted volume was served to the next publish of its id. */
  UNPUBLISH_THEN_PUBLISH("unpublish killed, then its volume id published again",
      Operation.UNPUBLISH, false, 0.0, 1.3),
  CONCURRENT_PUBLISH("two cold publishes sharing layers killed together",
      Operation.CONCURRENT, true, 0.0, 1.1);

  /** Volume ids of the suite; {@link #BYSTANDER} stays published through every trial. */
  static final String A = "crash-a";
  static final String B = "crash-b";
  static final String BYSTANDER = "crash-bystander";

  /** What is timed at calibration and then interrupted. */
  enum Operation { COLD, WARM, UNPUBLISH, CONCURRENT }

  /** One call of an operation: publish or unpublish of a volume with a model. */
  record Call(boolean publish, String volumeId, Function<CrashModels, CrashModels.Model> model) {
    @Override
    public String toString() {
      return (publish ? "publish " : "unpublish ") + volumeId;
    }
  }

  final String description;
  final Operation operation;
  /** The store holds none of the trial's layers when the call starts. */
  final boolean coldStore;
  final double from;
  final double to;

  CrashPhase(String description, Operation operation, boolean coldStore, double from,
      double to) {
    this.description = description;
    this.operation = operation;
    this.coldStore = coldStore;
    this.from = from;
    this.to = to;
  }

  /** Volumes that must be published (with their model) before the calls start. */
  List<Call> before() {
    return switch (operation) {
      case WARM, UNPUBLISH -> List.of(new Call(true, A, m -> m.big));
      default -> List.of();
    };
  }

  /** The calls the kill interrupts, started together. */
  List<Call> calls() {
    return calls(operation);
  }

  /**
   * The calls made after the restart: kubelet's retries of the interrupted calls, or for
   * {@link #UNPUBLISH_THEN_PUBLISH} a publish of the volume id whose unpublish was killed.
   */
  List<Call> retries() {
    return this == UNPUBLISH_THEN_PUBLISH ? List.of(new Call(true, A, m -> m.big)) : calls();
  }

  static List<Call> calls(Operation operation) {
    return switch (operation) {
      case COLD -> List.of(new Call(true, A, m -> m.big));
      case WARM -> List.of(new Call(true, B, m -> m.big));
      case UNPUBLISH -> List.of(new Call(false, A, m -> m.big));
      case CONCURRENT -> List.of(new Call(true, A, m -> m.big), new Call(true, B, m -> m.sibling));
    };
  }

  /** The kill delay for a fraction drawn in [0, 1), given the operation's duration. */
  long delayMillis(double unit, long operationMillis) {
    return Math.round((from + unit * (to - from)) * operationMillis);
  }
}
