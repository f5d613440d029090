package org.modelpack.csi.fs;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import java.io.IOException;

/**
 * The libc functions the driver calls through JNA: declared in one interface, loaded one way,
 * their errno turned into an exception one way. Each user keeps its own fallback for a
 * platform where libc or its function is missing.
 */
public final class Libc {
  public static final int O_RDONLY = 0;
  public static final int O_DIRECTORY = 0200000;
  public static final int O_CLOEXEC = 02000000;

  /** The functions used; JNA turns a -1 return into a LastErrorException with errno. */
  public interface Functions extends Library {
    int open(String path, int flags) throws LastErrorException;

    int close(int fd) throws LastErrorException;

    int sync_file_range(int fd, long offset, long nbytes, int flags) throws LastErrorException;

    int syncfs(int fd) throws LastErrorException;

    int mount(String source, String target, String fsType, NativeLong flags, Pointer data)
        throws LastErrorException;

    int umount2(String target, int flags) throws LastErrorException;
  }

  /** One call of a libc function, failing with errno. */
  public interface Call {
    int run() throws LastErrorException;
  }

  private Libc() {}

  /**
   * Loads libc and looks up each of {@code required} now, so a platform without one fails here
   * (with a {@link LinkageError}), where the caller can fall back, not at the first call.
   */
  public static Functions load(String... required) {
    NativeLibrary c = NativeLibrary.getInstance("c");
    for (String function : required) {
      c.getFunction(function);
    }
    return Native.load("c", Functions.class);
  }

  /** Runs {@code call}; its errno becomes an IOException saying that {@code what} failed. */
  public static int call(String what, Call call) throws IOException {
    try {
      return call.run();
    } catch (LastErrorException e) {
      throw failure(what, e);
    }
  }

  /** {@code what} failed with the errno of {@code e}. */
  public static IOException failure(String what, LastErrorException e) {
    return new IOException(what + " failed: " + e.getMessage(), e);
  }
}
