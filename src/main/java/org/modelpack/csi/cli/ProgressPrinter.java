package org.modelpack.csi.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.function.LongSupplier;
import org.modelpack.csi.config.ByteSize;

/**
 * Shows a volume's pull while a publish waits for it. On a terminal: one bar line, redrawn in
 * place with {@code \r}. Otherwise (a log, a pipe): a plain line at most every
 * {@link #PLAIN_INTERVAL}, so a long pull does not flood the log, and one at the end.
 */
final class ProgressPrinter {
  static final Duration PLAIN_INTERVAL = Duration.ofSeconds(5);
  private static final int BAR_WIDTH = 30;

  private final PrintWriter out;
  private final boolean terminal;
  private final String volumeId;
  private final LongSupplier nanoTime;
  private boolean shown;
  private long lastPlainLine;
  private int barLength;
  private long done;
  private long total = -1;

  ProgressPrinter(PrintWriter out, boolean terminal, String volumeId, LongSupplier nanoTime) {
    this.out = out;
    this.terminal = terminal;
    this.volumeId = volumeId;
    this.nanoTime = nanoTime;
  }

  /** The pull has {@code done} of {@code total} bytes; {@code total} is -1 while resolving. */
  void update(long done, long total, String reference) {
    this.done = done;
    this.total = total;
    if (terminal) {
      drawBar(total < 0 ? volumeId + ": resolving " + reference : bar());
      shown = true;
    } else if (total >= 0 && (!shown
        || nanoTime.getAsLong() - lastPlainLine >= PLAIN_INTERVAL.toNanos())) {
      // Lines start once the size is known: a "resolving" line would take the first 5 s.
      out.println(pulling());
      lastPlainLine = nanoTime.getAsLong();
      shown = true;
    }
    out.flush();
  }

  /**
   * Ends the display: after a publish that succeeded, a pull that was shown gets its last line
   * (all of it); a bar's line is ended either way, so what follows starts on its own line.
   */
  void finish(boolean succeeded) {
    if (!shown) {
      return;
    }
    boolean complete = succeeded && total >= 0;
    if (complete) {
      done = total;
    }
    if (terminal) {
      if (complete) {
        drawBar(bar());
      }
      out.println();
    } else if (complete) {
      out.println(volumeId + ": pulled " + ByteSize.format(total));
    }
    out.flush();
  }

  private String pulling() {
    return volumeId + ": pulling " + ByteSize.format(done) + " of " + ByteSize.format(total)
        + " (" + percent() + "%)";
  }

  private String bar() {
    int filled = (int) (BAR_WIDTH * percent() / 100);
    return String.format(Locale.ROOT, "%s [%s%s] %3d%%  %s of %s", volumeId, "#".repeat(filled),
        "-".repeat(BAR_WIDTH - filled), percent(), ByteSize.format(done),
        ByteSize.format(total));
  }

  private long percent() {
    return total <= 0 ? 100 : Math.min(100, done * 100 / total);
  }

  /** Redraws the line, blanking what a longer previous text left. */
  private void drawBar(String text) {
    out.print("\r" + text + " ".repeat(Math.max(0, barLength - text.length())));
    barLength = text.length();
  }
}
