package org.modelpack.csi.volume;

/**
 * Where the node's operations are reported as they end (for metrics), and what happened to
 * volumes (for the pods' Events). The volume manager is the one place that calls it; an
 * implementation must be quick and must never throw, since it runs on the publish path.
 * {@link #NONE} when nobody listens.
 */
public interface NodeOps {
  NodeOps NONE = (op, outcome, nanos) -> { };

  /** How an operation ended. */
  enum Outcome {
    SUCCEEDED,
    FAILED,
    /** Not over yet: the publish answered ABORTED while its pull goes on; kubelet retries. */
    PENDING
  }

  /**
   * @param op the Go driver's op name ({@code publish_dynamic_volume}, {@code pull_image}, …)
   * @param nanos how long it took
   */
  void record(String op, Outcome outcome, long nanos);

  /** A volume's pull started, progressed, or its publish mounted or failed. */
  default void event(VolumeEvent event) {}

  /** Reports to {@code first}, then to {@code second}. */
  static NodeOps both(NodeOps first, NodeOps second) {
    return new NodeOps() {
      @Override
      public void record(String op, Outcome outcome, long nanos) {
        first.record(op, outcome, nanos);
        second.record(op, outcome, nanos);
      }

      @Override
      public void event(VolumeEvent event) {
        first.event(event);
        second.event(event);
      }
    };
  }
}
