package org.modelpack.csi.registry;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpHeaders;

/**
 * A registry answer whose body is still open: status, headers, the URI that answered (after
 * redirects) and the body stream, which the caller must close.
 */
record RegistryResponse(int statusCode, HttpHeaders headers, InputStream body, URI uri)
    implements AutoCloseable {

  @Override
  public void close() {
    try {
      body.close();
    } catch (IOException e) {
      // nothing useful to do: the connection is discarded either way
    }
  }
}
