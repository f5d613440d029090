package org.modelpack.csi.fs;

import java.nio.file.FileSystemException;

/** Recognises "no space left on device" (ENOSPC) anywhere in a cause chain. */
public final class NoSpace {
  private NoSpace() {}

  public static boolean causedBy(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof FileSystemException fse
          && String.valueOf(fse.getReason()).contains("No space left")) {
        return true;
      }
      if (String.valueOf(t.getMessage()).contains("No space left on device")) {
        return true;
      }
    }
    return false;
  }
}
