package org.modelpack.csi.mount;

import com.sun.jna.LastErrorException;
import com.sun.jna.NativeLong;
import java.io.IOException;
import java.nio.file.Path;
import org.modelpack.csi.fs.Libc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * mount(2) and umount2(2) called directly through libc. A publish then costs a few system calls
 * instead of starting mount(8) processes, each of which reads the whole mount table and takes
 * milliseconds: most of a warm publish (decision 0011).
 */
final class SyscallMounts implements MountCalls {
  private static final Logger log = LoggerFactory.getLogger(SyscallMounts.class);
  private static final long MS_RDONLY = 1;
  private static final long MS_NOSUID = 2;
  private static final long MS_NODEV = 4;
  private static final long MS_REMOUNT = 32;
  private static final long MS_BIND = 4096;
  private static final long MS_SHARED = 1 << 20;
  private static final int MNT_DETACH = 2;
  /** A symlink at the target is not followed: the mount checked is the mount removed. */
  private static final int UMOUNT_NOFOLLOW = 8;
  private static final int ENOENT = 2;
  private static final int EBUSY = 16;
  private static final int EINVAL = 22;

  private final Libc.Functions libc;

  private SyscallMounts(Libc.Functions libc) {
    this.libc = libc;
  }

  /**
   * Loads libc and looks up both functions now, so a platform without them fails here, at
   * start (where the caller falls back to mount(8)), not at the first publish.
   */
  static SyscallMounts load() {
    return new SyscallMounts(Libc.load("mount", "umount2"));
  }

  @Override
  public void bind(Path source, Path target) throws IOException {
    Libc.call("mount --bind " + source + " " + target,
        () -> libc.mount(source.toString(), target.toString(), null, new NativeLong(MS_BIND),
            null));
  }

  @Override
  public void restrict(Path target, boolean readOnly) throws IOException {
    // The kernel ignores every flag but MS_REC on a bind itself; a remount applies them.
    long flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | (readOnly ? MS_RDONLY : 0);
    Libc.call("remount " + target + (readOnly ? " ro,nosuid,nodev" : " nosuid,nodev"),
        () -> libc.mount(null, target.toString(), null, new NativeLong(flags), null));
  }

  @Override
  public void makeShared(Path target) throws IOException {
    Libc.call("mount --make-shared " + target,
        () -> libc.mount(null, target.toString(), null, new NativeLong(MS_SHARED), null));
  }

  @Override
  public boolean unmountTop(Path target) throws IOException {
    try {
      libc.umount2(target.toString(), UMOUNT_NOFOLLOW);
      return true;
    } catch (LastErrorException e) {
      switch (e.getErrorCode()) {
        case EINVAL, ENOENT -> {
          return false; // not a mount point, or not there at all
        }
        case EBUSY -> {
          log.warn("{} is busy; detaching it lazily", target);
          Libc.call("umount --lazy " + target, () -> libc.umount2(target.toString(),
              MNT_DETACH | UMOUNT_NOFOLLOW));
          return true;
        }
        default -> throw Libc.failure("umount " + target, e);
      }
    }
  }

  @Override
  public String describe() {
    return "mount(2) system calls";
  }
}
