package org.modelpack.csi.registry;

import java.net.URI;
import java.util.Map;
import org.modelpack.csi.oci.BlobWriter;
import org.modelpack.csi.oci.Digest;

/**
 * One blob download: the blob (digest, declared size), the registry URL asked for it, the
 * writer it goes to (which hashes it), its name in messages and the transport that fetches it.
 */
record BlobDownload(RegistryTransport transport, Reference ref, URI uri, Digest digest,
    long size, BlobWriter writer, String subject) {

  /**
   * A GET of the blob with {@code headers}, always at the registry URL: a redirect target of an
   * earlier try may have expired.
   */
  RegistryResponse send(Map<String, String> headers, Retrier retrier) throws RegistryException {
    return transport.send(new RegistryTransport.Call("GET", uri, ref.registry(),
        RegistryAccess.pullScope(ref), headers, RequestBody.EMPTY, true, subject), retrier);
  }
}
