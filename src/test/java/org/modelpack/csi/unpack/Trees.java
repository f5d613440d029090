package org.modelpack.csi.unpack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Directory listing helper for assertions. */
final class Trees {
  private Trees() {}

  /** All paths below {@code dir} (not following links), relative and sorted. */
  static List<String> list(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(p -> !p.equals(dir)).map(p -> dir.relativize(p).toString()).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
