package org.modelpack.csi.csi;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import csi.v1.Csi.NodeGetCapabilitiesRequest;
import csi.v1.Csi.NodeGetCapabilitiesResponse;
import csi.v1.Csi.NodeGetInfoRequest;
import csi.v1.Csi.NodeGetInfoResponse;
import csi.v1.Csi.NodePublishVolumeRequest;
import csi.v1.Csi.NodePublishVolumeResponse;
import csi.v1.Csi.NodeUnpublishVolumeRequest;
import csi.v1.Csi.NodeUnpublishVolumeResponse;
import csi.v1.Csi.VolumeCapability;
import csi.v1.Csi.VolumeCapability.AccessMode.Mode;
import csi.v1.NodeGrpc;
import io.grpc.stub.StreamObserver;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.modelpack.csi.pull.LayerFilter;
import org.modelpack.csi.registry.auth.CredentialStore;
import org.modelpack.csi.registry.auth.PodSecretCredentials;
import org.modelpack.csi.volume.PublishRequest;
import org.modelpack.csi.volume.VolumeIds;
import org.modelpack.csi.volume.VolumeManager;

/**
 * CSI Node service: validates requests, then hands them to the {@link VolumeManager}. Knows
 * nothing about files or registries.
 */
public final class NodeService extends NodeGrpc.NodeImplBase {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final String nodeId;
  private static final java.util.Set<Mode> WRITER_MODES = java.util.EnumSet.of(
      Mode.SINGLE_NODE_WRITER, Mode.SINGLE_NODE_SINGLE_WRITER, Mode.SINGLE_NODE_MULTI_WRITER,
      Mode.MULTI_NODE_SINGLE_WRITER, Mode.MULTI_NODE_MULTI_WRITER);

  private final String referenceKey;
  private final String writableKey;
  private final String excludeWeightsKey;
  private final String excludePatternsKey;
  private final String checkDiskQuotaKey;
  private final VolumeManager volumes;

  public NodeService(String nodeId, String serviceName, VolumeManager volumes) {
    this.nodeId = nodeId;
    this.referenceKey = serviceName + "/reference";
    this.writableKey = serviceName + "/writable";
    this.excludeWeightsKey = serviceName + "/exclude-model-weights";
    this.excludePatternsKey = serviceName + "/exclude-file-patterns";
    this.checkDiskQuotaKey = serviceName + "/check-disk-quota";
    this.volumes = volumes;
  }

  @Override
  public void nodeGetCapabilities(NodeGetCapabilitiesRequest request,
      StreamObserver<NodeGetCapabilitiesResponse> observer) {
    // No staging, stats or expansion: publish does everything.
    GrpcErrors.respond("NodeGetCapabilities", observer,
        () -> NodeGetCapabilitiesResponse.getDefaultInstance());
  }

  @Override
  public void nodeGetInfo(NodeGetInfoRequest request,
      StreamObserver<NodeGetInfoResponse> observer) {
    GrpcErrors.respond("NodeGetInfo", observer,
        () -> NodeGetInfoResponse.newBuilder().setNodeId(nodeId).build());
  }

  @Override
  public void nodePublishVolume(NodePublishVolumeRequest request,
      StreamObserver<NodePublishVolumeResponse> observer) {
    GrpcErrors.respond("NodePublishVolume " + request.getVolumeId(), observer, () -> {
      PublishRequest req = validate(request);
      volumes.publish(req);
      return NodePublishVolumeResponse.getDefaultInstance();
    });
  }

  @Override
  public void nodeUnpublishVolume(NodeUnpublishVolumeRequest request,
      StreamObserver<NodeUnpublishVolumeResponse> observer) {
    GrpcErrors.respond("NodeUnpublishVolume " + request.getVolumeId(), observer, () -> {
      VolumeIds.requireSafe(request.getVolumeId());
      volumes.unpublish(request.getVolumeId(), targetPath(request.getTargetPath()));
      return NodeUnpublishVolumeResponse.getDefaultInstance();
    });
  }

  private PublishRequest validate(NodePublishVolumeRequest r) {
    VolumeIds.requireSafe(r.getVolumeId());
    Path target = targetPath(r.getTargetPath());
    if (!r.hasVolumeCapability()) {
      throw GrpcErrors.invalid("volume_capability is required");
    }
    VolumeCapability cap = r.getVolumeCapability();
    if (cap.hasBlock()) {
      throw GrpcErrors.invalid("block access is not supported: model volumes are directories");
    }
    if (!cap.hasMount()) {
      throw GrpcErrors.invalid("volume_capability must have mount access type");
    }
    String reference = r.getVolumeContextMap().getOrDefault(referenceKey, "");
    if (reference.isBlank()) {
      throw GrpcErrors.invalid("volume_context has no " + referenceKey
          + ": set it to the model's OCI reference (volumes without one are not supported yet)");
    }
    if (!reference.equals(reference.strip())) {
      throw GrpcErrors.invalid(referenceKey + " '" + reference
          + "' has leading or trailing white space; a reference has none");
    }
    Mode mode = accessMode(cap);
    boolean writable = parseBool(r.getVolumeContextMap().get(writableKey), writableKey);
    if (writable && (r.getReadonly() || !WRITER_MODES.contains(mode))) {
      throw GrpcErrors.invalid(writableKey + "=true needs readonly=false and a writer access "
          + "mode, got readonly=" + r.getReadonly() + " and " + mode);
    }
    Map<String, String> context = r.getVolumeContextMap();
    LayerFilter filter = layerFilter(parseBool(context.get(excludeWeightsKey), excludeWeightsKey),
        context.get(excludePatternsKey));
    boolean checkDiskQuota = parseBool(context.get(checkDiskQuotaKey), checkDiskQuotaKey);
    try {
      PodSecretCredentials.from(r.getSecretsMap(), CredentialStore.ANONYMOUS);
    } catch (IllegalArgumentException e) {
      throw GrpcErrors.invalid("node publish secret: " + e.getMessage());
    }
    return new PublishRequest(r.getVolumeId(), target, reference,
        mode == Mode.SINGLE_NODE_SINGLE_WRITER, writable, filter, checkDiskQuota,
        r.getSecretsMap());
  }

  /** The capability's access mode; UNKNOWN, missing and unrecognised modes are refused. */
  private static Mode accessMode(VolumeCapability cap) {
    if (!cap.hasAccessMode()) {
      throw GrpcErrors.invalid("volume_capability.access_mode is required");
    }
    Mode mode = cap.getAccessMode().getMode();
    if (mode == Mode.UNKNOWN || mode == Mode.UNRECOGNIZED) {
      throw GrpcErrors.invalid("volume_capability.access_mode "
          + (mode == Mode.UNKNOWN ? "UNKNOWN" : cap.getAccessMode().getModeValue())
          + " is not an access mode; use one of " + java.util.Arrays.stream(Mode.values())
              .filter(m -> m != Mode.UNKNOWN && m != Mode.UNRECOGNIZED).toList());
    }
    return mode;
  }

  private LayerFilter layerFilter(boolean excludeWeights, String patternsJson) {
    List<String> patterns = parsePatterns(patternsJson, excludePatternsKey);
    try {
      return new LayerFilter(excludeWeights, patterns);
    } catch (IllegalArgumentException e) {
      throw GrpcErrors.invalid(excludePatternsKey + ": " + e.getMessage());
    }
  }

  /**
   * A JSON array of strings, as the Go driver reads it; blank or {@code null} means none.
   * Package-private for tests.
   */
  static List<String> parsePatterns(String value, String key) {
    if (value == null || value.isBlank()) {
      return List.of();
    }
    JsonNode node;
    try {
      node = JSON.readTree(value.trim());
    } catch (JsonProcessingException e) {
      throw GrpcErrors.invalid(key + " must be a JSON array of strings, e.g. "
          + "[\"*.bin\", \"!config.json\"]; cannot parse '" + value + "': "
          + e.getOriginalMessage());
    }
    if (node == null || node.isNull()) {
      return List.of();
    }
    if (!node.isArray()) {
      throw GrpcErrors.invalid(key + " must be a JSON array of strings, got " + node.getNodeType()
          .name().toLowerCase() + " '" + value + "'");
    }
    List<String> patterns = new ArrayList<>();
    for (int i = 0; i < node.size(); i++) {
      if (!node.get(i).isTextual()) {
        throw GrpcErrors.invalid(key + " must be a JSON array of strings; element " + i + " is "
            + node.get(i).getNodeType().name().toLowerCase() + " " + node.get(i));
      }
      patterns.add(node.get(i).asText());
    }
    return patterns;
  }

  /** Go's strconv.ParseBool values, plus yes/no, case-insensitive. Package-private for tests. */
  static boolean parseBool(String value, String key) {
    if (value == null || value.isBlank()) {
      return false;
    }
    return switch (value.trim().toLowerCase()) {
      case "true", "1", "t", "yes" -> true;
      case "false", "0", "f", "no" -> false;
      default -> throw GrpcErrors.invalid(key + " must be true or false, got '" + value + "'");
    };
  }

  private static Path targetPath(String value) {
    if (value == null || value.isEmpty()) {
      throw GrpcErrors.invalid("target_path is required");
    }
    try {
      Path p = Path.of(value);
      if (!p.isAbsolute() || !p.normalize().equals(p)) {
        throw GrpcErrors.invalid("target_path '" + value + "' must be an absolute, normalised path");
      }
      return p;
    } catch (InvalidPathException e) {
      throw GrpcErrors.invalid("target_path '" + value + "' is not a valid path");
    }
  }
}
