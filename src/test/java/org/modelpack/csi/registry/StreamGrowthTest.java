package org.modelpack.csi.registry;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntToDoubleFunction;
import org.junit.jupiter.api.Test;
import org.modelpack.csi.registry.StreamGrowth.Step;

class StreamGrowthTest {
  private static final long MS = 1_000_000L;
  private static final long WINDOW = 300 * MS;

  /**
   * Runs a download whose aggregate rate (bytes/s) with {@code n} streams is {@code rate(n)},
   * sampled every 10 ms for 10 s; every stream delivers 20 ms after it was asked for. Returns
   * the steps taken, in order.
   */
  private static List<Step> run(int max, IntToDoubleFunction rate) {
    StreamGrowth g = new StreamGrowth(max, WINDOW);
    List<Step> steps = new ArrayList<>();
    double bytes = 0;
    int running = 1;
    long askedAt = 0;
    for (long t = 0; t <= 10_000 * MS; t += 10 * MS) {
      int flowing = t - askedAt >= 20 * MS ? running : running - 1;
      bytes += rate.applyAsDouble(flowing) / 100;
      Step s = g.sample(t, (long) bytes, flowing);
      if (s != Step.KEEP) {
        steps.add(s);
      }
      if (s == Step.ADD) {
        running++;
        askedAt = t;
      } else if (s == Step.RETIRE) {
        running--;
      }
    }
    assertThat(g.streams()).isEqualTo(running);
    return steps;
  }

  @Test
  void aLinkThatCapsEachConnectionGrowsToTheMaximum() {
    assertThat(run(4, n -> n * 50e6)).containsExactly(Step.ADD, Step.ADD, Step.ADD);
  }

  @Test
  void aLinkAllStreamsShareTriesOneMoreStreamAndRetiresIt() {
    assertThat(run(4, n -> n == 0 ? 0 : 400e6)).containsExactly(Step.ADD, Step.RETIRE);
  }

  @Test
  void growthStopsWhereAStreamMoreAddsLessThanHalfAStreamsShare() {
    // 100, 190, 230 MB/s: the third stream adds 40, less than half of 95: retired.
    double[] rates = {0, 100e6, 190e6, 230e6, 270e6};
    assertThat(run(4, n -> rates[n])).containsExactly(Step.ADD, Step.ADD, Step.RETIRE);
  }

  @Test
  void oneAllowedStreamIsNeverGrown() {
    assertThat(run(1, n -> n * 50e6)).isEmpty();
  }

  @Test
  void aTrialLastsLongerWhenTheNewStreamWasSlowToDeliver() {
    StreamGrowth g = new StreamGrowth(4, WINDOW);
    g.sample(0, 1, 1);
    assertThat(g.sample(WINDOW, 300_001, 1)).isEqualTo(Step.ADD); // 1 MB/s
    // First byte 100 ms after the stream was asked for: the window is 800 ms, not 300.
    g.sample(WINDOW + 100 * MS, 400_000, 2);
    assertThat(g.sample(WINDOW + 500 * MS, 1_200_000, 2)).isEqualTo(Step.KEEP);
    assertThat(g.sample(WINDOW + 900 * MS, 2_000_000, 2)).isEqualTo(Step.ADD); // 2 MB/s
  }

  @Test
  void noWindowStartsBeforeTheNewStreamDelivers() {
    StreamGrowth g = new StreamGrowth(4, WINDOW);
    assertThat(g.sample(0, 1, 1)).isEqualTo(Step.KEEP);
    assertThat(g.sample(WINDOW, 1_000_000, 1)).isEqualTo(Step.ADD);
    // The second stream has not delivered yet: however long that takes, no verdict on it; once
    // it does, the window is the longest one.
    assertThat(g.sample(10 * WINDOW, 2_000_000, 1)).isEqualTo(Step.KEEP);
    long first = 11 * WINDOW;
    assertThat(g.sample(first, 2_000_000, 2)).isEqualTo(Step.KEEP);
    assertThat(g.sample(first + StreamGrowth.MAX_WINDOW_NANOS - MS, 9_000_000, 2))
        .isEqualTo(Step.KEEP);
    assertThat(g.sample(first + StreamGrowth.MAX_WINDOW_NANOS, 30_000_000, 2))
        .isEqualTo(Step.ADD);
  }
}
