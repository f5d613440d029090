package org.modelpack.csi.registry;

import java.io.IOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.modelpack.csi.oci.Digest;

/**
 * One blob download: the blob (digest, declared size), the registry URL asked for it, the file
 * it is written to, its name in messages and the transport that fetches it.
 */
record BlobDownload(RegistryTransport transport, Reference ref, URI uri, Digest digest,
    long size, Path destination, String subject) {

  /** The destination, created or truncated: every whole-blob try starts from an empty file. */
  FileChannel openTruncated() throws IOException {
    return FileChannel.open(destination, StandardOpenOption.CREATE, StandardOpenOption.READ,
        StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
  }

  /**
   * A GET of the blob with {@code headers}, always at the registry URL: a redirect target of an
   * earlier try may have expired.
   */
  RegistryResponse send(Map<String, String> headers, Retrier retrier) throws RegistryException {
    return transport.send(new RegistryTransport.Call("GET", uri, ref.registry(),
        RegistryAccess.pullScope(ref), headers, RequestBody.EMPTY, true, subject), retrier);
  }
}
