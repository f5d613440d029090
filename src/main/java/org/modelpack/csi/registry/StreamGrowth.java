package org.modelpack.csi.registry;

/**
 * Decides how many ranged streams one blob download runs (decision 1211): it starts with one,
 * measures the aggregate rate over a window, adds a stream, measures again once the new stream
 * delivers, and keeps it only if the rate rose by at least {@link #MIN_GAIN} of one stream's
 * share; then it tries the next, up to the maximum. A stream that did not pay is retired and
 * growth stops for this blob. A link that caps each connection thus reaches the maximum, while
 * a link (or CPU, or disk) that all streams share stays at one stream. Fed from one thread.
 */
final class StreamGrowth {
  /** What to do with the streams after a sample. */
  enum Step { KEEP, ADD, RETIRE }

  /** A new stream must add half of what each stream brought so far. */
  static final double MIN_GAIN = 0.5;
  /** Default measuring window. */
  static final long WINDOW_NANOS = 500_000_000L;

  private final int max;
  private final long window;
  /** Streams asked for so far (running or starting). */
  private int streams = 1;
  /** Aggregate rate of {@code streams - 1} streams while a trial runs; of all otherwise. */
  private double baseline = -1;
  private boolean trial;
  private boolean done;
  private long windowStart = -1;
  private long bytesAtStart;

  StreamGrowth(int max, long windowNanos) {
    this.max = max;
    this.window = windowNanos;
    this.done = max <= 1;
  }

  /**
   * One observation: at {@code nanos}, {@code bytes} were written in total by all streams, and
   * {@code flowing} streams have delivered at least one byte.
   */
  Step sample(long nanos, long bytes, int flowing) {
    if (done) {
      return Step.KEEP;
    }
    if (windowStart < 0) {
      // A window starts once every stream asked for delivers: no request latency in it.
      if (flowing >= streams && bytes > 0) {
        windowStart = nanos;
        bytesAtStart = bytes;
      }
      return Step.KEEP;
    }
    if (nanos - windowStart < window) {
      return Step.KEEP;
    }
    double rate = (bytes - bytesAtStart) * 1e9 / (nanos - windowStart);
    windowStart = -1;
    if (trial) {
      trial = false;
      double needed = baseline * (1 + MIN_GAIN / (streams - 1));
      if (rate < needed) {
        done = true;
        streams--;
        return Step.RETIRE;
      }
    }
    baseline = rate;
    if (streams >= max) {
      done = true;
      return Step.KEEP;
    }
    streams++;
    trial = true;
    return Step.ADD;
  }

  /** Streams it wants now. */
  int streams() {
    return streams;
  }
}
