package org.modelpack.csi.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressPrinterTest {
  private static final long MIB = 1 << 20;
  private final StringWriter text = new StringWriter();
  private final AtomicLong now = new AtomicLong();

  private ProgressPrinter printer(boolean terminal) {
    return new ProgressPrinter(new PrintWriter(text), terminal, "csi-demo", now::get);
  }

  private void advance(Duration d) {
    now.addAndGet(d.toNanos());
  }

  @Test
  void withoutATerminalALineIsPrintedAtMostEveryFiveSecondsAndOneAtTheEnd() {
    ProgressPrinter p = printer(false);
    p.update(0, -1, "reg/models/demo:v1");
    advance(Duration.ofSeconds(1));
    p.update(1 * MIB, 10 * MIB, "reg/models/demo:v1");
    advance(Duration.ofSeconds(3));
    p.update(2 * MIB, 10 * MIB, "reg/models/demo:v1");
    advance(Duration.ofSeconds(1));
    p.update(3 * MIB, 10 * MIB, "reg/models/demo:v1");
    advance(Duration.ofSeconds(5));
    p.update(6 * MIB, 10 * MIB, "reg/models/demo:v1");
    p.finish(true);

    // Not before the size is known; then at once, and 5 s after each line.
    assertThat(text.toString().lines()).containsExactly(
        "csi-demo: pulling 1.0 MiB of 10.0 MiB (10%)",
        "csi-demo: pulling 6.0 MiB of 10.0 MiB (60%)",
        "csi-demo: pulled 10.0 MiB");
  }

  @Test
  void onATerminalTheBarShowsTheReferenceWhileItIsResolved() {
    ProgressPrinter p = printer(true);
    p.update(0, -1, "reg/models/demo:v1");
    assertThat(text.toString()).isEqualTo("\rcsi-demo: resolving reg/models/demo:v1");
  }

  @Test
  void onATerminalOneBarLineIsRedrawnInPlaceAndEndedOnce() {
    ProgressPrinter p = printer(true);
    p.update(1 * MIB, 10 * MIB, "r");
    p.update(5 * MIB, 10 * MIB, "r");
    p.finish(true);

    String out = text.toString();
    assertThat(out).doesNotContain("\n" + "csi-demo").endsWith("\n");
    assertThat(out.split("\r")).hasSize(4); // three draws, each starting with \r
    assertThat(out).contains("csi-demo [###---------------------------]  10%  1.0 MiB of "
        + "10.0 MiB");
    assertThat(out.strip()).endsWith("csi-demo [##############################] 100%  10.0 MiB "
        + "of 10.0 MiB");
  }

  @Test
  void aFailedPublishEndsTheBarLineWithoutClaimingThePullFinished() {
    ProgressPrinter terminal = printer(true);
    terminal.update(1 * MIB, 10 * MIB, "r");
    terminal.finish(false);
    assertThat(text.toString()).endsWith("\n").doesNotContain("100%");

    StringWriter plain = new StringWriter();
    ProgressPrinter log = new ProgressPrinter(new PrintWriter(plain), false, "v", now::get);
    log.update(1 * MIB, 10 * MIB, "r");
    log.finish(false);
    assertThat(plain.toString().lines()).containsExactly("v: pulling 1.0 MiB of 10.0 MiB (10%)");
  }

  @Test
  void nothingIsPrintedWhenNoPullWasShown() {
    printer(false).finish(true);
    printer(true).finish(true);
    assertThat(text.toString()).isEmpty();
  }
}
