package org.modelpack.csi.registry;

/**
 * Decides how many ranged streams one blob download runs (decision 1211): it starts with one,
 * measures the aggregate rate over a window, adds a stream, measures again once the new stream
 * delivers (over a window that grows with the new stream's latency), and keeps it only if the rate rose by at least {@link #MIN_GAIN} of one stream's
 * share; then it tries the next, up to the maximum. A stream that did not pay is retired and
 * growth stops for this blob. A link that caps each connection thus reaches the maximum, while
 * a link (or CPU, or disk) that all streams share stays at one stream. Fed from one thread.
 */
final class StreamGrowth {
  /** What to do with the streams after a sample. */
  enum Step { KEEP, ADD, RETIRE }

  /** A new stream must add half of what each stream brought so far. */
  static final double MIN_GAIN = 0.5;
  /** Shortest measuring window. */
  static final long WINDOW_NANOS = 300_000_000L;
  /**
   * A trial's window lasts at least this many times the new stream's time to its first byte:
   * on a long round trip a new connection needs several of them to leave slow start, and a
   * window over that would reject a stream that pays.
   */
  static final int WINDOW_PER_LATENCY = 8;
  /** Longest window, however slow a stream was to start. */
  static final long MAX_WINDOW_NANOS = 4_000_000_000L;

  private final int max;
  private final long minWindow;
  /** This window's length. */
  private long window;
  /** When the stream on trial was asked for. */
  private long askedAt;
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
    this.minWindow = windowNanos;
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
        window = !trial ? minWindow : Math.max(minWindow,
            Math.min(MAX_WINDOW_NANOS, WINDOW_PER_LATENCY * (nanos - askedAt)));
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
    askedAt = nanos;
    return Step.ADD;
  }

  /** Streams it wants now. */
  int streams() {
    return streams;
  }
}
