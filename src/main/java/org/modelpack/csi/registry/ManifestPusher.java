package org.modelpack.csi.registry;

import java.util.Map;
import org.modelpack.csi.registry.RegistryException.Kind;

/**
 * Upload of a manifest (for the {@code push} command and tests) under a tag, or its digest when
 * the reference has no tag. The registry stores these exact bytes.
 */
final class ManifestPusher {
  private final RegistryAccess access;

  ManifestPusher(RegistryAccess access) {
    this.access = access;
  }

  /** Returns the sha256 digest of {@code manifestJson}, which the registry must confirm. */
  String push(Reference ref, byte[] manifestJson, String mediaType) throws RegistryException {
    String digest = ManifestPuller.sha256Of(manifestJson).toString();
    if (ref.digest() != null && !ref.digest().equals(digest)) {
      throw new RegistryException(Kind.INVALID_ARGUMENT,
          "manifest bytes have digest " + digest + ", not " + ref.digest());
    }
    String identifier = ref.tag() != null ? ref.tag() : digest;
    String subject = "manifest " + ref.name() + (ref.tag() != null ? ":" : "@") + identifier;
    RegistryResponse resp = access.transport().send(new RegistryTransport.Call("PUT",
        access.url(ref, "/manifests/" + identifier), ref.registry(),
        RegistryAccess.pushScope(ref), Map.of("Content-Type", mediaType),
        RequestBody.of(manifestJson), false, "upload of " + subject));
    byte[] body = RegistryTransport.readQuietly(resp);
    if (resp.statusCode() != 201) {
      throw RegistryErrors.fromResponse("upload of " + subject, resp.statusCode(), body);
    }
    String answered = resp.headers().firstValue("Docker-Content-Digest").orElse(digest);
    if (!answered.equals(digest)) {
      throw new RegistryException(Kind.INVALID_CONTENT, "upload of " + subject
          + ": registry stored digest " + answered + " instead of " + digest);
    }
    return digest;
  }
}
