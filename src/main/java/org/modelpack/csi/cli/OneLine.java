package org.modelpack.csi.cli;

import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/** Turns messages of any length and shape into one line a terminal shows whole. */
final class OneLine {
  /** Longer messages are cut: a registry's error body or a driver's message can be huge. */
  static final int MAX_CHARS = 500;

  private OneLine() {}

  /** Every line of {@code text} joined with spaces, at most {@link #MAX_CHARS} characters. */
  static String of(String text) {
    if (text == null || text.isBlank()) {
      return "(no message)";
    }
    return bounded(text.strip().replaceAll("\\s*\\R\\s*", " "));
  }

  /** Only the first line of {@code text}, bounded: what comes after is detail (a snippet). */
  static String firstLine(String text) {
    if (text == null || text.isBlank()) {
      return "(no message)";
    }
    return bounded(text.strip().lines().findFirst().orElse(""));
  }

  /**
   * An exception as a user reads it: file-system errors as "what: path" (their own message is
   * often only the path), anything else as its class and message.
   */
  static String describe(Throwable e) {
    if (e instanceof FileSystemException f) {
      String what = e instanceof NoSuchFileException ? "no such file or directory"
          : e instanceof AccessDeniedException ? "permission denied"
          : e instanceof FileAlreadyExistsException ? "already exists"
          : e instanceof NotDirectoryException ? "not a directory"
          : f.getReason() != null ? f.getReason() : e.getClass().getSimpleName();
      return of(what + ": " + f.getFile() + (f.getOtherFile() == null ? ""
          : " -> " + f.getOtherFile()));
    }
    return of(e.getClass().getName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
  }

  /**
   * What went wrong at the bottom of {@code e}'s causes, in its words ("Connection refused"),
   * without the class names a user cannot act on.
   */
  static String rootCause(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    if (root instanceof java.net.UnknownHostException) {
      return "unknown host " + root.getMessage();
    }
    return root.getMessage() != null ? firstLine(root.getMessage())
        : root.getClass().getSimpleName().replaceFirst("Exception$", "");
  }

  private static String bounded(String line) {
    return line.length() <= MAX_CHARS ? line : line.substring(0, MAX_CHARS - 1) + "…";
  }
}
