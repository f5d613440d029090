package org.modelpack.csi.registry;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A request body of known length that can be sent more than once (an auth round replays it).
 * A file body is streamed from disk each time, never loaded.
 */
record RequestBody(long length, Source source) {
  static final RequestBody EMPTY = new RequestBody(0, InputStream::nullInputStream);

  interface Source {
    InputStream open() throws IOException;
  }

  static RequestBody of(byte[] bytes) {
    return new RequestBody(bytes.length, () -> new ByteArrayInputStream(bytes));
  }

  static RequestBody ofFile(Path file) throws IOException {
    return new RequestBody(Files.size(file), () -> Files.newInputStream(file));
  }
}
