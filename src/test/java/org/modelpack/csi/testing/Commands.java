package org.modelpack.csi.testing;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** Runs system commands (mount, umount) for test set-up. */
public final class Commands {
  private Commands() {}

  /** Runs {@code command}; fails with its output unless it exits 0 within 30 s. */
  public static void run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException(String.join(" ", command) + " failed: " + out);
    }
  }
}
