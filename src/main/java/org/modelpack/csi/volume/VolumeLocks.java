package org.modelpack.csi.volume;

import java.io.IOException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;

/**
 * Serialises the operations on one volume. The wait is short (kubelet retries an ABORTED call),
 * and a volume has a lock only while someone holds or waits for it.
 */
final class VolumeLocks {
  private static final long WAIT_SECONDS = 30;

  private final ConcurrentHashMap<String, VolumeLock> locks = new ConcurrentHashMap<>();

  /** An operation on a volume; an {@link IOException} it throws becomes INTERNAL. */
  interface Operation<T> {
    T run() throws IOException;
  }

  /** A volume's lock and how many calls hold or wait for it; gone from the map at zero. */
  private static final class VolumeLock {
    final ReentrantLock lock = new ReentrantLock();
    int users;
  }

  /**
   * Runs {@code op} holding the volume's lock.
   *
   * @throws DriverException ABORTED when another operation holds the lock for too long
   */
  <T> T withLock(String volumeId, Operation<T> op) {
    VolumeIds.requireSafe(volumeId);
    VolumeLock entry = locks.compute(volumeId, (k, v) -> {
      VolumeLock l = v == null ? new VolumeLock() : v;
      l.users++;
      return l;
    });
    try {
      try {
        if (!entry.lock.tryLock(WAIT_SECONDS, TimeUnit.SECONDS)) {
          throw new DriverException(ErrorKind.ABORTED,
              "an operation on volume " + volumeId + " is already in progress");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new DriverException(ErrorKind.ABORTED, "interrupted waiting for volume "
            + volumeId);
      }
      try {
        return op.run();
      } catch (IOException e) {
        throw new DriverException(ErrorKind.INTERNAL, "volume " + volumeId + ": "
            + e.getMessage(), e);
      } finally {
        entry.lock.unlock();
      }
    } finally {
      // Kept only while someone holds or waits for it: the map does not grow with every
      // volume the node has ever seen.
      locks.compute(volumeId, (k, v) -> --v.users == 0 ? null : v);
    }
  }

  /** How many volumes have a lock now (held or waited for); for tests. */
  int size() {
    return locks.size();
  }
}
