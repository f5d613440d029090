package org.modelpack.csi.registry;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.modelpack.csi.oci.Digest;
import org.modelpack.csi.registry.RegistryException.Kind;

/**
 * Upload of a blob (for the {@code push} command and tests): nothing when a HEAD finds the blob,
 * else one monolithic POST + PUT that streams the file with its known length.
 */
final class BlobPusher {
  private final RegistryAccess access;

  BlobPusher(RegistryAccess access) {
    this.access = access;
  }

  void push(Reference repo, Path file, String digest) throws RegistryException {
    Digest d = RegistryErrors.parseDigest(digest);
    String subject = "blob " + d + " in " + repo.name();
    List<String> scopes = RegistryAccess.pushScope(repo);
    if (present(repo, d, scopes, subject)) {
      return;
    }
    URI upload = startUpload(repo, scopes, "upload of " + subject);
    String sep = upload.getRawQuery() == null ? "?" : "&";
    URI put = URI.create(upload + sep + "digest="
        + URLEncoder.encode(d.toString(), StandardCharsets.UTF_8));
    RequestBody body;
    try {
      body = RequestBody.ofFile(file);
    } catch (IOException e) {
      throw new RegistryException(Kind.INVALID_ARGUMENT, "file " + file + " cannot be read", e);
    }
    RegistryResponse resp = access.transport().send(new RegistryTransport.Call("PUT", put,
        repo.registry(), scopes, Map.of("Content-Type", "application/octet-stream"), body, false,
        "upload of " + subject));
    byte[] respBody = RegistryTransport.readQuietly(resp);
    if (resp.statusCode() != 201) {
      throw RegistryErrors.fromResponse("upload of " + subject, resp.statusCode(), respBody);
    }
  }

  /** Whether the repository has the blob already (HEAD: 200 yes, 404 no, else an error). */
  private boolean present(Reference repo, Digest d, List<String> scopes, String subject)
      throws RegistryException {
    RegistryResponse head = access.transport().send(new RegistryTransport.Call("HEAD",
        access.url(repo, "/blobs/" + d), repo.registry(), scopes, Map.of(),
        RequestBody.EMPTY, true, subject));
    RegistryTransport.readQuietly(head);
    if (head.statusCode() == 200) {
      return true;
    }
    if (head.statusCode() != 404) {
      throw RegistryErrors.fromResponse(subject, head.statusCode(), new byte[0]);
    }
    return false;
  }

  /** Opens an upload session (POST) and returns the URL its data goes to. */
  private URI startUpload(Reference repo, List<String> scopes, String subject)
      throws RegistryException {
    RegistryResponse post = access.transport().send(new RegistryTransport.Call("POST",
        access.url(repo, "/blobs/uploads/"), repo.registry(), scopes, Map.of(),
        RequestBody.EMPTY, false, subject));
    byte[] postBody = RegistryTransport.readQuietly(post);
    String location = post.headers().firstValue("Location").orElse(null);
    if (post.statusCode() != 202 || location == null) {
      throw RegistryErrors.fromResponse(subject, post.statusCode(), postBody);
    }
    return post.uri().resolve(location);
  }
}
