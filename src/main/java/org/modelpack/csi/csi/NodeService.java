package org.modelpack.csi.csi;

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
import java.util.Arrays;
import org.modelpack.csi.volume.PublishRequest;
import org.modelpack.csi.volume.VolumeIds;
import org.modelpack.csi.volume.VolumeManager;

/**
 * CSI Node service: validates requests (the volume attributes in {@link VolumeAttributes}), then
 * hands them to the {@link VolumeManager}. Knows nothing about files or registries.
 */
public final class NodeService extends NodeGrpc.NodeImplBase {
  private final String nodeId;
  /** Prefix of the volume attributes' keys ({@code <service_name>/reference}, …). */
  private final String serviceName;
  private final VolumeManager volumes;
  /** Volumes without a reference; null where the node serves none (they are refused). */
  private final DynamicRootVolumes dynamic;

  public NodeService(String nodeId, String serviceName, VolumeManager volumes) {
    this(nodeId, serviceName, volumes, null);
  }

  public NodeService(String nodeId, String serviceName, VolumeManager volumes,
      DynamicRootVolumes dynamic) {
    this.nodeId = nodeId;
    this.serviceName = serviceName;
    this.volumes = volumes;
    this.dynamic = dynamic;
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
      if (dynamic != null && isDynamic(request)) {
        VolumeIds.requireSafe(request.getVolumeId());
        dynamic.publish(request.getVolumeId(), targetPath(request.getTargetPath()));
        return NodePublishVolumeResponse.getDefaultInstance();
      }
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
      Path target = targetPath(request.getTargetPath());
      if (dynamic == null || !dynamic.unpublishIfDynamic(request.getVolumeId(), target)) {
        volumes.unpublish(request.getVolumeId(), target);
      }
      return NodeUnpublishVolumeResponse.getDefaultInstance();
    });
  }

  /** No reference attribute, or an empty one: the Go driver's dynamic volume. */
  private boolean isDynamic(NodePublishVolumeRequest r) {
    return r.getVolumeContextMap().getOrDefault(serviceName + VolumeAttributes.REFERENCE, "")
        .isEmpty();
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
    Mode mode = accessMode(cap);
    VolumeAttributes attributes = VolumeAttributes.parse(serviceName, r.getVolumeContextMap(),
        r.getReadonly(), mode);
    return new PublishRequest(r.getVolumeId(), target, attributes.reference(),
        mode == Mode.SINGLE_NODE_SINGLE_WRITER, attributes.writable(), attributes.filter(),
        attributes.checkDiskQuota(), r.getSecretsMap(), attributes.pod());
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
          + " is not an access mode; use one of " + Arrays.stream(Mode.values())
              .filter(m -> m != Mode.UNKNOWN && m != Mode.UNRECOGNIZED).toList());
    }
    return mode;
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
