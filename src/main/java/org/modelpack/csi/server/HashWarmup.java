package org.modelpack.csi.server;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs SHA-256 over a few hundred MiB of zeros once at start, in the background. The JIT only
 * uses the CPU's SHA instructions for compiled code, so without this the first pull after a
 * restart hashes its first gigabyte several times slower than every later one.
 */
final class HashWarmup {
  private static final Logger log = LoggerFactory.getLogger(HashWarmup.class);
  private static final int ROUNDS = 256;

  private HashWarmup() {}

  static void startInBackground() {
    Thread t = new Thread(HashWarmup::run, "hash-warmup");
    t.setDaemon(true);
    t.setPriority(Thread.MIN_PRIORITY);
    t.start();
  }

  private static void run() {
    try {
      long start = System.nanoTime();
      byte[] chunk = new byte[1 << 20];
      for (String alg : new String[] {"SHA-256", "SHA-512"}) {
        MessageDigest md = MessageDigest.getInstance(alg);
        for (int i = 0; i < (alg.equals("SHA-256") ? ROUNDS : ROUNDS / 8); i++) {
          md.update(chunk);
        }
        md.digest();
      }
      log.debug("hash warm-up done in {} ms", (System.nanoTime() - start) / 1_000_000);
    } catch (NoSuchAlgorithmException e) {
      log.warn("hash warm-up skipped: {}", e.getMessage());
    }
  }
}
