package org.modelpack.csi.admin;

import io.grpc.stub.StreamObserver;
import org.modelpack.csi.admin.v1.GetVolumeRequest;
import org.modelpack.csi.admin.v1.GetVolumeResponse;
import org.modelpack.csi.admin.v1.VolumeAdminGrpc;
import org.modelpack.csi.csi.GrpcErrors;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
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
    GrpcErrors.respond("GetVolume " + request.getVolumeId(), observer, () -> {
      VolumeView v = volumes.describe(request.getVolumeId()).orElseThrow(() ->
          new DriverException(ErrorKind.NOT_FOUND, "volume " + request.getVolumeId()
              + " is not known on this node"));
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
      return b.build();
    });
  }
}
