package org.modelpack.csi.csi;

import csi.v1.Csi.CapacityRange;
import csi.v1.Csi.ControllerGetCapabilitiesRequest;
import csi.v1.Csi.ControllerGetCapabilitiesResponse;
import csi.v1.Csi.ControllerServiceCapability;
import csi.v1.Csi.ControllerServiceCapability.RPC.Type;
import csi.v1.Csi.CreateVolumeRequest;
import csi.v1.Csi.CreateVolumeResponse;
import csi.v1.Csi.DeleteVolumeRequest;
import csi.v1.Csi.DeleteVolumeResponse;
import csi.v1.Csi.ValidateVolumeCapabilitiesRequest;
import csi.v1.Csi.ValidateVolumeCapabilitiesResponse;
import csi.v1.Csi.VolumeCapability;
import csi.v1.Csi.VolumeCapability.AccessMode.Mode;
import csi.v1.ControllerGrpc;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.Optional;
import org.modelpack.csi.concurrent.LruCache;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * CSI Controller: a PVC's volume is a description of a model, not storage. CreateVolume checks
 * the StorageClass parameters as a publish checks inline volume attributes and returns them as
 * the volume_context; it downloads nothing and talks to no node (each node pulls when it stages
 * the volume). DeleteVolume has nothing to delete. Every RPC not overridden here answers
 * UNIMPLEMENTED, and only CREATE_DELETE_VOLUME is advertised (docs/decisions/1101).
 */
public final class ControllerService extends ControllerGrpc.ControllerImplBase {
  private static final Logger log = LoggerFactory.getLogger(ControllerService.class);
  /** Names recently created, for ALREADY_EXISTS; more than a provisioner retries at once. */
  private static final int REMEMBERED_NAMES = 4096;

  private final String serviceName;
  /**
   * name → id of the volumes this process created. Not a source of truth: ids are a function of
   * the request, so losing this at a restart only loses the courtesy of ALREADY_EXISTS for a
   * name reused with other parameters (decision 1101).
   */
  private final LruCache<String, String> created = new LruCache<>(REMEMBERED_NAMES);

  public ControllerService(String serviceName) {
    this.serviceName = serviceName;
  }

  @Override
  public void controllerGetCapabilities(ControllerGetCapabilitiesRequest request,
      StreamObserver<ControllerGetCapabilitiesResponse> observer) {
    GrpcErrors.respond("ControllerGetCapabilities", observer,
        () -> ControllerGetCapabilitiesResponse.newBuilder()
            .addCapabilities(ControllerServiceCapability.newBuilder()
                .setRpc(ControllerServiceCapability.RPC.newBuilder()
                    .setType(Type.CREATE_DELETE_VOLUME)))
            .build());
  }

  @Override
  public void createVolume(CreateVolumeRequest request,
      StreamObserver<CreateVolumeResponse> observer) {
    GrpcErrors.respond("CreateVolume " + request.getName(), observer, () -> {
      String name = request.getName();
      if (name.isBlank()) {
        throw GrpcErrors.invalid("name is required");
      }
      if (request.hasVolumeContentSource()) {
        throw GrpcErrors.invalid("volume_content_source is not supported: a model volume's "
            + "content is its model reference (" + serviceName + VolumeAttributes.REFERENCE + ")");
      }
      Map<String, String> parameters = request.getParametersMap();
      VolumeAttributes attributes = VolumeAttributes.parseProvisioned(serviceName, parameters);
      checkCapabilities(request, attributes.writable());
      long capacity = capacity(request.getCapacityRange());
      ProvisionedVolumeId id = ProvisionedVolumeId.of(name, parameters, capacity,
          attributes.writable());
      synchronized (created) {
        Optional<String> earlier = created.get(name);
        if (earlier.isPresent() && !earlier.get().equals(id.id())) {
          throw new DriverException(ErrorKind.ALREADY_EXISTS, "volume name " + name
              + " was already created as volume " + earlier.get() + " with other parameters or"
              + " another capacity; this request would be volume " + id.id());
        }
        created.put(name, id.id());
      }
      log.info("CreateVolume {}: volume {} for {}", name, id.id(), attributes.reference());
      return CreateVolumeResponse.newBuilder().setVolume(csi.v1.Csi.Volume.newBuilder()
          .setVolumeId(id.id())
          .setCapacityBytes(capacity)
          .putAllVolumeContext(parameters))
          .build();
    });
  }

  /**
   * Nothing to delete: the volume is a description, and each node removes its copy when it
   * unstages it. So any id succeeds, as CSI asks of an id that is gone.
   */
  @Override
  public void deleteVolume(DeleteVolumeRequest request,
      StreamObserver<DeleteVolumeResponse> observer) {
    GrpcErrors.respond("DeleteVolume " + request.getVolumeId(), observer, () -> {
      if (request.getVolumeId().isEmpty()) {
        throw GrpcErrors.invalid("volume_id is required");
      }
      return DeleteVolumeResponse.getDefaultInstance();
    });
  }

  @Override
  public void validateVolumeCapabilities(ValidateVolumeCapabilitiesRequest request,
      StreamObserver<ValidateVolumeCapabilitiesResponse> observer) {
    GrpcErrors.respond("ValidateVolumeCapabilities " + request.getVolumeId(), observer, () -> {
      if (request.getVolumeId().isEmpty()) {
        throw GrpcErrors.invalid("volume_id is required");
      }
      if (request.getVolumeCapabilitiesCount() == 0) {
        throw GrpcErrors.invalid("volume_capabilities is required");
      }
      ProvisionedVolumeId id = ProvisionedVolumeId.parse(request.getVolumeId())
          .orElseThrow(() -> new DriverException(ErrorKind.NOT_FOUND, "volume "
              + request.getVolumeId() + " is not a volume this driver created (its ids are "
              + "<name>.<ro|rw>.<16 hex digits>)"));
      if (!request.getVolumeContextMap().isEmpty()) {
        VolumeAttributes.parseProvisioned(serviceName, request.getVolumeContextMap());
      }
      for (int i = 0; i < request.getVolumeCapabilitiesCount(); i++) {
        String why = unsupported(request.getVolumeCapabilities(i), id.writable(),
            "volume_capabilities[" + i + "]");
        if (why != null) {
          return ValidateVolumeCapabilitiesResponse.newBuilder().setMessage(why).build();
        }
      }
      return ValidateVolumeCapabilitiesResponse.newBuilder()
          .setConfirmed(ValidateVolumeCapabilitiesResponse.Confirmed.newBuilder()
              .addAllVolumeCapabilities(request.getVolumeCapabilitiesList())
              .putAllVolumeContext(request.getVolumeContextMap())
              .putAllParameters(request.getParametersMap()))
          .build();
    });
  }

  private void checkCapabilities(CreateVolumeRequest request, boolean writable) {
    if (request.getVolumeCapabilitiesCount() == 0) {
      throw GrpcErrors.invalid("volume_capabilities is required");
    }
    for (int i = 0; i < request.getVolumeCapabilitiesCount(); i++) {
      String field = "volume_capabilities[" + i + "]";
      Mode mode = Capabilities.mountMode(request.getVolumeCapabilities(i), field);
      String refusal = Capabilities.refusal(mode, writable, serviceName);
      if (refusal != null) {
        throw GrpcErrors.invalid(field + ": " + refusal);
      }
    }
  }

  /** Why the volume cannot serve {@code cap}, or null when it can. */
  private String unsupported(VolumeCapability cap, boolean writable, String field) {
    try {
      return Capabilities.refusal(Capabilities.mountMode(cap, field), writable, serviceName);
    } catch (DriverException e) {
      return e.getMessage();
    }
  }

  /**
   * A model volume has no size of its own: it reports the size asked for (0 when none was), so
   * a CO that checks "at least what I asked" is satisfied and nothing is reserved for it.
   */
  private static long capacity(CapacityRange range) {
    long required = range.getRequiredBytes();
    long limit = range.getLimitBytes();
    if (required < 0 || limit < 0) {
      throw GrpcErrors.invalid("capacity_range: required_bytes and limit_bytes must not be "
          + "negative, got " + required + " and " + limit);
    }
    if (limit > 0 && required > limit) {
      throw GrpcErrors.invalid("capacity_range: required_bytes " + required
          + " is above limit_bytes " + limit);
    }
    return required;
  }
}
