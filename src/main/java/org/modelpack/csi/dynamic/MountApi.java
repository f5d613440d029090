package org.modelpack.csi.dynamic;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectReader;
import java.io.InputStream;
import java.util.function.Function;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.modelpack.csi.dynamic.ApiErrors.ApiError;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.json.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The in-pod API, the Go driver's routes:
 * <pre>
 *   POST   /api/v1/volumes/{volume}/mounts              201 mount (waits for the pull)
 *   GET    /api/v1/volumes/{volume}/mounts              200 [mount…]
 *   GET    /api/v1/volumes/{volume}/mounts/{mount_id}   200 mount | 404
 *   DELETE /api/v1/volumes/{volume}/mounts/{mount_id}   204 (also when there was none)
 *   GET    /api/v1/artifacts/{reference, slashes and all} 200 inspected artifact
 * </pre>
 * A request names a volume, and the socket it came in on serves exactly one: any other is
 * refused with 403 before anything is looked up (decision 1123).
 */
final class MountApi extends Handler.Abstract {
  private static final Logger log = LoggerFactory.getLogger(MountApi.class);
  private static final String VOLUMES = "/api/v1/volumes/";
  private static final String ARTIFACTS = "/api/v1/artifacts/";
  private static final int MAX_BODY = 64 * 1024;
  private static final ObjectReader BODY = Json.mapper().readerFor(MountRequest.class);

  private final DynamicMounts mounts;
  private final ArtifactInspector inspector;
  private volatile Function<Connector, String> socketVolume = c -> null;

  MountApi(DynamicMounts mounts, ArtifactInspector inspector) {
    this.mounts = mounts;
    this.inspector = inspector;
  }

  /** How to tell which volume a connector serves (set once the sockets exist). */
  void servedBy(Function<Connector, String> socketVolume) {
    this.socketVolume = socketVolume;
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) {
    String method = request.getMethod();
    String path = request.getHttpURI().getDecodedPath();
    try {
      if (path.startsWith(ARTIFACTS) && path.length() > ARTIFACTS.length()) {
        if (!method.equals("GET")) {
          throw notAllowed(method, "GET");
        }
        send(response, callback, 200, inspector.inspect(path.substring(ARTIFACTS.length())));
        return true;
      }
      if (!path.startsWith(VOLUMES)) {
        throw notFound(method, path);
      }
      String[] parts = path.substring(VOLUMES.length()).split("/", -1);
      if (parts.length < 2 || !parts[1].equals("mounts") || parts.length > 3
          || (parts.length == 3 && parts[2].isEmpty())) {
        throw notFound(method, path);
      }
      String volume = ownVolume(request, parts[0]);
      if (parts.length == 2) {
        switch (method) {
          case "GET" -> send(response, callback, 200, mounts.list(volume));
          case "POST" -> mounts.mount(volume, body(request)).whenComplete((status, e) -> {
            if (e == null) {
              send(response, callback, 201, status);
            } else {
              fail(response, callback, e);
            }
          });
          default -> throw notAllowed(method, "GET or POST");
        }
        return true;
      }
      String mountId = parts[2];
      switch (method) {
        case "GET" -> send(response, callback, 200, mounts.get(volume, mountId).orElseThrow(
            () -> new DriverException(ErrorKind.NOT_FOUND, "volume " + volume + " has no mount "
                + mountId)));
        case "DELETE" -> {
          mounts.delete(volume, mountId);
          response.setStatus(204);
          callback.succeeded();
        }
        default -> throw notAllowed(method, "GET or DELETE");
      }
    } catch (MethodNotAllowed e) {
      send(response, callback, 405, new ApiErrors.Body("METHOD_NOT_ALLOWED", e.getMessage()));
    } catch (Exception | Error e) {
      fail(response, callback, e);
    }
    return true;
  }

  /** The volume the path names, which must be the one this socket serves. */
  private String ownVolume(Request request, String named) {
    String volume = DynamicNames.require("volume_name", named);
    String own = socketVolume.apply(request.getConnectionMetaData().getConnector());
    if (!volume.equals(own)) {
      throw new Forbidden("this socket serves volume " + own + " only; it cannot manage volume "
          + volume);
    }
    return volume;
  }

  private static MountRequest body(Request request) throws java.io.IOException {
    byte[] bytes;
    try (InputStream in = Content.Source.asInputStream(request)) {
      bytes = in.readNBytes(MAX_BODY + 1);
    }
    if (bytes.length > MAX_BODY) {
      throw new DriverException(ErrorKind.INVALID_ARGUMENT, "request body is larger than "
          + MAX_BODY + " bytes");
    }
    if (bytes.length == 0) {
      throw new DriverException(ErrorKind.INVALID_ARGUMENT,
          "invalid JSON body: the body is empty; send {\"mount_id\": …, \"reference\": …}");
    }
    try {
      MountRequest r = BODY.readValue(bytes);
      if (r == null) {
        throw new DriverException(ErrorKind.INVALID_ARGUMENT, "invalid JSON body: null");
      }
      return r;
    } catch (JsonProcessingException e) {
      throw new DriverException(ErrorKind.INVALID_ARGUMENT, "invalid JSON body: "
          + e.getOriginalMessage().lines().findFirst().orElse("cannot parse"));
    }
  }

  private static DriverException notFound(String method, String path) {
    return new DriverException(ErrorKind.NOT_FOUND, "no such route: " + method + " " + path);
  }

  private static MethodNotAllowed notAllowed(String method, String allowed) {
    return new MethodNotAllowed("method " + method + " is not allowed here; use " + allowed);
  }

  private static void fail(Response response, Callback callback, Throwable e) {
    Throwable t = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
        ? e.getCause() : e;
    if (t instanceof Forbidden f) {
      send(response, callback, 403, new ApiErrors.Body("PERMISSION_DENIED", f.getMessage()));
      return;
    }
    ApiError error = ApiErrors.of(t);
    if (error.status() == 500) {
      log.warn("dynamic API: {}", error.body().message());
    }
    send(response, callback, error.status(), error.body());
  }

  private static void send(Response response, Callback callback, int status, Object body) {
    byte[] json;
    try {
      json = Json.mapper().writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      callback.failed(e);
      return;
    }
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    response.write(true, java.nio.ByteBuffer.wrap(json), callback);
  }

  /** The request names another volume than its socket's. */
  private static final class Forbidden extends RuntimeException {
    Forbidden(String message) {
      super(message, null, false, false);
    }
  }

  private static final class MethodNotAllowed extends RuntimeException {
    MethodNotAllowed(String message) {
      super(message, null, false, false);
    }
  }
}
