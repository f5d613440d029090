package org.modelpack.csi.admin;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.Optional;
import org.modelpack.csi.admin.v1.GetVolumeRequest;
import org.modelpack.csi.admin.v1.GetVolumeResponse;
import org.modelpack.csi.admin.v1.VolumeAdminGrpc;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.volume.VolumeManager;
import org.modelpack.csi.volume.VolumeView;

/** Describes one volume (state, targets, pull progress) for the CLI's publish and unpublish. */
public final class VolumeAdminService extends VolumeAdminGrpc.VolumeAdminImplBase {
  private final VolumeManager volumes;

  public VolumeAdminService(VolumeManager volumes) {
    this.volumes = volumes;
  }

  @Override
  public void getVolume(GetVolumeRequest request, StreamObserver<GetVolumeResponse> observer) {
    Optional<VolumeView> view;
    try {
      view = volumes.describe(request.getVolumeId());
    } catch (DriverException e) { // an unsafe volume id
      observer.onError(Status.fromCode(Status.Code.valueOf(e.kind().name()))
          .withDescription(e.getMessage()).asRuntimeException());
      return;
    }
    if (view.isEmpty()) {
      observer.onError(Status.NOT_FOUND.withDescription("volume " + request.getVolumeId()
          + " is not known on this node").asRuntimeException());
      return;
    }
    VolumeView v = view.get();
    GetVolumeResponse.Builder b = GetVolumeResponse.newBuilder()
        .setVolumeId(v.volumeId())
        .setState(v.state().name())
        .setReference(v.reference() == null ? "" : v.reference())
        .addAllTargetPaths(v.targetPaths())
        .setDoneBytes(v.doneBytes())
        .setTotalBytes(v.totalBytes());
    if (v.error() != null) {
      b.setError(v.error());
    }
    observer.onNext(b.build());
    observer.onCompleted();
  }
}
