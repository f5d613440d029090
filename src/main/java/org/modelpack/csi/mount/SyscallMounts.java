package org.modelpack.csi.mount;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.file.Path;
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

  /** The libc functions used; JNA turns a -1 return into a LastErrorException with errno. */
  interface LibC extends Library {
    int mount(String source, String target, String fsType, NativeLong flags, Pointer data)
        throws LastErrorException;

    int umount2(String target, int flags) throws LastErrorException;
  }

  private final LibC libc;

  private SyscallMounts(LibC libc) {
    this.libc = libc;
  }

  /**
   * Loads libc and looks up both functions now, so a platform without them fails here, at
   * start (where the caller falls back to mount(8)), not at the first publish.
   */
  static SyscallMounts load() {
    NativeLibrary c = NativeLibrary.getInstance("c");
    c.getFunction("mount");
    c.getFunction("umount2");
    return new SyscallMounts(Native.load("c", LibC.class));
  }

  @Override
  public void bind(Path source, Path target) throws IOException {
    call("mount --bind " + source + " " + target,
        () -> libc.mount(source.toString(), target.toString(), null, new NativeLong(MS_BIND),
            null));
  }

  @Override
  public void restrict(Path target, boolean readOnly) throws IOException {
    // The kernel ignores every flag but MS_REC on a bind itself; a remount applies them.
    long flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | (readOnly ? MS_RDONLY : 0);
    call("remount " + target + (readOnly ? " ro,nosuid,nodev" : " nosuid,nodev"),
        () -> libc.mount(null, target.toString(), null, new NativeLong(flags), null));
  }

  @Override
  public void makeShared(Path target) throws IOException {
    call("mount --make-shared " + target,
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
          call("umount --lazy " + target, () -> libc.umount2(target.toString(),
              MNT_DETACH | UMOUNT_NOFOLLOW));
          return true;
        }
        default -> throw failure("umount " + target, e);
      }
    }
  }

  @Override
  public String describe() {
    return "mount(2) system calls";
  }

  private interface Call {
    int run() throws LastErrorException;
  }

  private static void call(String what, Call call) throws IOException {
    try {
      call.run();
    } catch (LastErrorException e) {
      throw failure(what, e);
    }
  }

  private static IOException failure(String what, LastErrorException e) {
    return new IOException(what + " failed: " + e.getMessage());
  }
}
