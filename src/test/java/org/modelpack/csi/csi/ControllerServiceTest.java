package org.modelpack.csi.csi;

import static org.assertj.core.api.Assertions.assertThat;

import csi.v1.Csi.CapacityRange;
import csi.v1.Csi.ControllerPublishVolumeRequest;
import csi.v1.Csi.ControllerPublishVolumeResponse;
import csi.v1.Csi.CreateVolumeRequest;
import csi.v1.Csi.CreateVolumeResponse;
import csi.v1.Csi.DeleteVolumeRequest;
import csi.v1.Csi.DeleteVolumeResponse;
import csi.v1.Csi.ListVolumesRequest;
import csi.v1.Csi.ListVolumesResponse;
import csi.v1.Csi.ValidateVolumeCapabilitiesRequest;
import csi.v1.Csi.ValidateVolumeCapabilitiesResponse;
import csi.v1.Csi.VolumeCapability;
import csi.v1.Csi.VolumeCapability.AccessMode.Mode;
import csi.v1.Csi.VolumeContentSource;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The Controller's answers, called directly (the gRPC transport is PvcVolumeIT's). */
class ControllerServiceTest {
  static final String SVC = "model.csi.modelpack.org";
  static final Map<String, String> READ_ONLY = Map.of(SVC + "/reference", "r.example/m:v1");
  static final Map<String, String> WRITABLE = Map.of(SVC + "/reference", "r.example/m:v1",
      SVC + "/writable", "true");

  final ControllerService controller = new ControllerService(SVC);

  /** The response, or the failure's status. */
  static <T> Object call(Consumer<StreamObserver<T>> rpc) {
    Object[] answer = new Object[1];
    rpc.accept(new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        answer[0] = value;
      }

      @Override
      public void onError(Throwable t) {
        answer[0] = Status.fromThrowable(t);
      }

      @Override
      public void onCompleted() {}
    });
    return answer[0];
  }

  static VolumeCapability mount(Mode mode) {
    return VolumeCapability.newBuilder()
        .setMount(VolumeCapability.MountVolume.getDefaultInstance())
        .setAccessMode(VolumeCapability.AccessMode.newBuilder().setMode(mode)).build();
  }

  static CreateVolumeRequest.Builder create(String name, Map<String, String> params, Mode mode) {
    return CreateVolumeRequest.newBuilder().setName(name).putAllParameters(params)
        .addVolumeCapabilities(mount(mode));
  }

  Object create(CreateVolumeRequest.Builder request) {
    return ControllerServiceTest.<CreateVolumeResponse>call(
        o -> controller.createVolume(request.build(), o));
  }

  static void assertInvalid(Object answer, String... parts) {
    assertThat(answer).isInstanceOfSatisfying(Status.class, s -> {
      assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(s.getDescription()).contains(parts);
    });
  }

  @Test
  void capacityIsWhatWasAskedForAndPartOfTheVolumesIdentity() {
    CreateVolumeResponse first = (CreateVolumeResponse) create(create("v", READ_ONLY,
        Mode.MULTI_NODE_READER_ONLY).setCapacityRange(CapacityRange.newBuilder()
            .setRequiredBytes(5 << 20)));
    assertThat(first.getVolume().getCapacityBytes()).isEqualTo(5 << 20);
    assertThat(create(create("v", READ_ONLY, Mode.MULTI_NODE_READER_ONLY)
        .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(6 << 20))))
        .isInstanceOfSatisfying(Status.class, s -> assertThat(s.getCode())
            .isEqualTo(Status.Code.ALREADY_EXISTS));
    assertThat(((CreateVolumeResponse) create(create("none", READ_ONLY,
        Mode.MULTI_NODE_READER_ONLY))).getVolume().getCapacityBytes()).isZero();
    assertInvalid(create(create("w", READ_ONLY, Mode.MULTI_NODE_READER_ONLY)
        .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(10).setLimitBytes(5))),
        "required_bytes 10", "limit_bytes 5");
  }

  @Test
  void writersNeedAWritableVolumeAndNeverSpanNodes() {
    assertInvalid(create(create("a", READ_ONLY, Mode.SINGLE_NODE_SINGLE_WRITER)),
        "SINGLE_NODE_SINGLE_WRITER", SVC + "/writable");
    assertThat(create(create("b", WRITABLE, Mode.SINGLE_NODE_WRITER)))
        .isInstanceOf(CreateVolumeResponse.class);
    assertInvalid(create(create("c", WRITABLE, Mode.MULTI_NODE_MULTI_WRITER)),
        "MULTI_NODE_MULTI_WRITER", "private copy on each node");
    assertInvalid(create(CreateVolumeRequest.newBuilder().setName("d").putAllParameters(READ_ONLY)
        .addVolumeCapabilities(VolumeCapability.newBuilder()
            .setBlock(VolumeCapability.BlockVolume.getDefaultInstance())
            .setAccessMode(VolumeCapability.AccessMode.newBuilder()
                .setMode(Mode.MULTI_NODE_READER_ONLY)))), "block access");
    assertInvalid(create(create("e", READ_ONLY, Mode.MULTI_NODE_READER_ONLY)
        .setVolumeContentSource(VolumeContentSource.newBuilder().setVolume(
            VolumeContentSource.VolumeSource.newBuilder().setVolumeId("x")))),
        "volume_content_source");
    assertInvalid(create(CreateVolumeRequest.newBuilder().setName("f")
        .putAllParameters(READ_ONLY)), "volume_capabilities is required");
  }

  @Test
  void whatIsNotImplementedAnswersUnimplemented() {
    assertThat(ControllerServiceTest.<ListVolumesResponse>call(o -> controller.listVolumes(
        ListVolumesRequest.getDefaultInstance(), o)))
        .isInstanceOfSatisfying(Status.class, s -> assertThat(s.getCode())
            .isEqualTo(Status.Code.UNIMPLEMENTED));
    assertThat(ControllerServiceTest.<ControllerPublishVolumeResponse>call(o -> controller
        .controllerPublishVolume(ControllerPublishVolumeRequest.getDefaultInstance(), o)))
        .isInstanceOfSatisfying(Status.class, s -> assertThat(s.getCode())
            .isEqualTo(Status.Code.UNIMPLEMENTED));
  }

  @Test
  void deleteSucceedsForAnyIdAndNeedsOne() {
    assertThat(ControllerServiceTest.<DeleteVolumeResponse>call(o -> controller.deleteVolume(
        DeleteVolumeRequest.newBuilder().setVolumeId("never-created").build(), o)))
        .isInstanceOf(DeleteVolumeResponse.class);
    assertInvalid(ControllerServiceTest.<DeleteVolumeResponse>call(o -> controller.deleteVolume(
        DeleteVolumeRequest.getDefaultInstance(), o)), "volume_id is required");
  }

  @Test
  void validateConfirmsWritersOnlyForAWritableIdWithoutBeingToldTheParameters() {
    String rw = ((CreateVolumeResponse) create(create("rw", WRITABLE, Mode.SINGLE_NODE_WRITER)))
        .getVolume().getVolumeId();
    String ro = ((CreateVolumeResponse) create(create("ro", READ_ONLY,
        Mode.MULTI_NODE_READER_ONLY))).getVolume().getVolumeId();
    assertThat(validate(rw, Mode.SINGLE_NODE_WRITER).hasConfirmed()).isTrue();
    assertThat(validate(ro, Mode.SINGLE_NODE_WRITER).hasConfirmed()).isFalse();
    assertThat(validate(ro, Mode.MULTI_NODE_READER_ONLY).getConfirmed()
        .getVolumeCapabilitiesList()).containsExactly(mount(Mode.MULTI_NODE_READER_ONLY));
  }

  ValidateVolumeCapabilitiesResponse validate(String id, Mode mode) {
    return (ValidateVolumeCapabilitiesResponse) ControllerServiceTest
        .<ValidateVolumeCapabilitiesResponse>call(o -> controller.validateVolumeCapabilities(
        ValidateVolumeCapabilitiesRequest.newBuilder().setVolumeId(id)
            .addVolumeCapabilities(mount(mode)).build(), o));
  }
}
