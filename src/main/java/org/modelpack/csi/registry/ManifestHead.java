package org.modelpack.csi.registry;

import java.util.Optional;
import org.modelpack.csi.oci.Digest;

/**
 * HEAD of a manifest: the digest the registry states for it, the cheap way to learn whether a
 * tag still names a manifest already known (docs/decisions/0012).
 */
final class ManifestHead {
  private final RegistryAccess access;

  ManifestHead(RegistryAccess access) {
    this.access = access;
  }

  /**
   * The Docker-Content-Digest of the answer; empty when the registry sends none or a malformed
   * one (the header is a SHOULD in the distribution spec). No body is read.
   */
  Optional<String> digest(Reference ref) throws RegistryException {
    String subject = "manifest " + ref;
    RegistryResponse resp =
        access.transport().send(ManifestPuller.request(access, "HEAD", ref, subject));
    RegistryTransport.readQuietly(resp);
    if (resp.statusCode() != 200) {
      throw RegistryErrors.fromResponse(subject, resp.statusCode(), new byte[0]);
    }
    return resp.headers().firstValue("Docker-Content-Digest").filter(d -> {
      try {
        Digest.parse(d);
        return true;
      } catch (IllegalArgumentException e) {
        return false;
      }
    });
  }
}
