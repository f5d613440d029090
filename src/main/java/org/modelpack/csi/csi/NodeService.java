package org.modelpack.csi.csi;

import csi.v1.Csi.NodeGetCapabilitiesRequest;
import csi.v1.Csi.NodeGetCapabilitiesResponse;
import csi.v1.Csi.NodeGetInfoRequest;
import csi.v1.Csi.NodeGetInfoResponse;
import csi.v1.Csi.NodePublishVolumeRequest;
import csi.v1.Csi.NodePublishVolumeResponse;
import csi.v1.Csi.NodeUnpublishVolumeRequest;
import csi.v1.Csi.NodeUnpublishVolumeResponse;
import csi.v1.Csi.NodeGetVolumeStatsRequest;
import csi.v1.Csi.NodeGetVolumeStatsResponse;
import csi.v1.Csi.NodeServiceCapability;
import csi.v1.Csi.NodeStageVolumeRequest;
import csi.v1.Csi.NodeStageVolumeResponse;
import csi.v1.Csi.NodeUnstageVolumeRequest;
import csi.v1.Csi.NodeUnstageVolumeResponse;
import csi.v1.Csi.VolumeUsage;
import csi.v1.Csi.VolumeCapability.AccessMode.Mode;
import csi.v1.NodeGrpc;
import io.grpc.stub.StreamObserver;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import org.modelpack.csi.volume.PublishRequest;
import org.modelpack.csi.volume.StagedVolumes;
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
    // Staging for PVCs (inline volumes skip it, as kubelet does) and stats; no expansion.
    GrpcErrors.respond("NodeGetCapabilities", observer,
        () -> NodeGetCapabilitiesResponse.newBuilder()
            .addCapabilities(capability(NodeServiceCapability.RPC.Type.STAGE_UNSTAGE_VOLUME))
            .addCapabilities(capability(NodeServiceCapability.RPC.Type.GET_VOLUME_STATS))
            .build());
  }

  private static NodeServiceCapability capability(NodeServiceCapability.RPC.Type type) {
    return NodeServiceCapability.newBuilder()
        .setRpc(NodeServiceCapability.RPC.newBuilder().setType(type)).build();
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
      if (!request.getStagingTargetPath().isEmpty()) {
        // A PVC: NodeStageVolume pulled the model; bind it at this pod's target.
        Path staging = path("staging_target_path", request.getStagingTargetPath());
        volumes.staged().publish(validate(request, true), staging);
      } else if (dynamic != null && isDynamic(request)) {
        VolumeIds.requireSafe(request.getVolumeId());
        Path target = targetPath(request.getTargetPath());
        mountMode(request); // a workspace is a mount too: the same capability checks
        dynamic.publish(request.getVolumeId(), target);
      } else {
        volumes.publish(validate(request, false));
      }
      return NodePublishVolumeResponse.getDefaultInstance();
    });
  }

  /**
   * A PVC's volume on this node: the pull of an inline publish, with the staging path as its
   * target (docs/decisions/1102), so the wait, ABORTED with progress and the reaping of a pull
   * nobody comes back for all apply.
   */
  @Override
  public void nodeStageVolume(NodeStageVolumeRequest request,
      StreamObserver<NodeStageVolumeResponse> observer) {
    GrpcErrors.respond("NodeStageVolume " + request.getVolumeId(), observer, () -> {
      VolumeIds.requireSafe(request.getVolumeId());
      Path staging = path("staging_target_path", request.getStagingTargetPath());
      if (!request.hasVolumeCapability()) {
        throw GrpcErrors.invalid("volume_capability is required");
      }
      Mode mode = Capabilities.mountMode(request.getVolumeCapability(), "volume_capability");
      VolumeAttributes attributes = VolumeAttributes.parseProvisioned(serviceName,
          request.getVolumeContextMap());
      String refusal = Capabilities.refusal(mode, attributes.writable(), serviceName);
      if (refusal != null) {
        throw GrpcErrors.invalid("volume " + request.getVolumeId() + ": " + refusal);
      }
      volumes.publish(new PublishRequest(request.getVolumeId(), staging,
          attributes.reference(), false, attributes.writable(), attributes.filter(),
          attributes.checkDiskQuota(), request.getSecretsMap(), null));
      return NodeStageVolumeResponse.getDefaultInstance();
    });
  }

  /** Unmounts the staging path; the volume's data goes with its last target. */
  @Override
  public void nodeUnstageVolume(NodeUnstageVolumeRequest request,
      StreamObserver<NodeUnstageVolumeResponse> observer) {
    GrpcErrors.respond("NodeUnstageVolume " + request.getVolumeId(), observer, () -> {
      VolumeIds.requireSafe(request.getVolumeId());
      volumes.unpublish(request.getVolumeId(),
          path("staging_target_path", request.getStagingTargetPath()));
      return NodeUnstageVolumeResponse.getDefaultInstance();
    });
  }

  @Override
  public void nodeGetVolumeStats(NodeGetVolumeStatsRequest request,
      StreamObserver<NodeGetVolumeStatsResponse> observer) {
    GrpcErrors.respond("NodeGetVolumeStats " + request.getVolumeId(), observer, () -> {
      VolumeIds.requireSafe(request.getVolumeId());
      if (request.getVolumePath().isEmpty()) {
        throw GrpcErrors.invalid("volume_path is required");
      }
      StagedVolumes.Usage usage = volumes.staged().usage(request.getVolumeId(),
          request.getVolumePath());
      // Read-only content: everything it holds is used, nothing is available.
      return NodeGetVolumeStatsResponse.newBuilder()
          .addUsage(VolumeUsage.newBuilder().setUnit(VolumeUsage.Unit.BYTES)
              .setTotal(usage.bytes()).setUsed(usage.bytes()).setAvailable(0))
          .addUsage(VolumeUsage.newBuilder().setUnit(VolumeUsage.Unit.INODES)
              .setTotal(usage.inodes()).setUsed(usage.inodes()).setAvailable(0))
          .build();
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

  /**
   * The request as a publish. A staged one ({@code staged}) has a PVC's parameters as its
   * context, checked as CreateVolume checked them, and binds read-write only when the volume is
   * writable and the pod does not ask for read-only.
   */
  private PublishRequest validate(NodePublishVolumeRequest r, boolean staged) {
    VolumeIds.requireSafe(r.getVolumeId());
    Path target = targetPath(r.getTargetPath());
    Mode mode = mountMode(r);
    VolumeAttributes attributes = staged
        ? VolumeAttributes.parseProvisioned(serviceName, r.getVolumeContextMap())
        : VolumeAttributes.parse(serviceName, r.getVolumeContextMap(), r.getReadonly(), mode);
    if (staged) {
      String refusal = Capabilities.refusal(mode, attributes.writable(), serviceName);
      if (refusal != null) {
        throw GrpcErrors.invalid("volume " + r.getVolumeId() + ": " + refusal);
      }
    }
    boolean writable = attributes.writable() && !(staged && r.getReadonly());
    return new PublishRequest(r.getVolumeId(), target, attributes.reference(),
        mode == Mode.SINGLE_NODE_SINGLE_WRITER, writable, attributes.filter(),
        attributes.checkDiskQuota(), r.getSecretsMap(), attributes.pod());
  }

  /** The mount access mode asked for; INVALID_ARGUMENT without one, or for block access. */
  private static Mode mountMode(NodePublishVolumeRequest r) {
    if (!r.hasVolumeCapability()) {
      throw GrpcErrors.invalid("volume_capability is required");
    }
    return Capabilities.mountMode(r.getVolumeCapability(), "volume_capability");
  }

  private static Path targetPath(String value) {
    return path("target_path", value);
  }

  private static Path path(String field, String value) {
    if (value == null || value.isEmpty()) {
      throw GrpcErrors.invalid(field + " is required");
    }
    try {
      Path p = Path.of(value);
      if (!p.isAbsolute() || !p.normalize().equals(p)) {
        throw GrpcErrors.invalid(field + " '" + value + "' must be an absolute, normalised path");
      }
      return p;
    } catch (InvalidPathException e) {
      throw GrpcErrors.invalid(field + " '" + value + "' is not a valid path");
    }
  }
}
