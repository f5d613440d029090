package org.modelpack.csi.testing;

import csi.v1.Csi.NodePublishVolumeRequest;
import csi.v1.Csi.NodeUnpublishVolumeRequest;
import csi.v1.Csi.VolumeCapability;
import csi.v1.Csi.VolumeCapability.AccessMode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Builds CSI requests the way kubelet sends them for an inline volume, plus small file helpers. */
public final class CsiRequests {
  public static final String REFERENCE_KEY = "model.csi.modelpack.org/reference";

  private CsiRequests() {}

  public static NodePublishVolumeRequest.Builder publish(String volumeId, Path target,
      String reference) {
    return NodePublishVolumeRequest.newBuilder()
        .setVolumeId(volumeId)
        .setTargetPath(target.toString())
        .setVolumeCapability(mountCapability(AccessMode.Mode.SINGLE_NODE_WRITER))
        .putVolumeContext(REFERENCE_KEY, reference)
        .putVolumeContext("csi.storage.k8s.io/ephemeral", "true")
        .putVolumeContext("csi.storage.k8s.io/pod.name", "inference-0");
  }

  /** A publish as kubelet sends it for a pod volume without a reference: a dynamic volume. */
  public static NodePublishVolumeRequest publishDynamic(String volumeId, Path target) {
    return NodePublishVolumeRequest.newBuilder()
        .setVolumeId(volumeId)
        .setTargetPath(target.toString())
        .setVolumeCapability(mountCapability(AccessMode.Mode.SINGLE_NODE_WRITER))
        .putVolumeContext("csi.storage.k8s.io/ephemeral", "true")
        .build();
  }

  public static VolumeCapability mountCapability(AccessMode.Mode mode) {
    return VolumeCapability.newBuilder()
        .setMount(VolumeCapability.MountVolume.getDefaultInstance())
        .setAccessMode(AccessMode.newBuilder().setMode(mode))
        .build();
  }

  public static NodeUnpublishVolumeRequest unpublish(String volumeId, Path target) {
    return NodeUnpublishVolumeRequest.newBuilder().setVolumeId(volumeId)
        .setTargetPath(target.toString()).build();
  }

  /** How a call ended: {@link io.grpc.Status#OK} when it succeeded, its status when it failed. */
  public static io.grpc.Status statusOf(Runnable call) {
    try {
      call.run();
      return io.grpc.Status.OK;
    } catch (io.grpc.StatusRuntimeException e) {
      return e.getStatus();
    }
  }

  public static String sha256(Path file) throws IOException {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      try (InputStream in = new DigestInputStream(Files.newInputStream(file), md)) {
        in.transferTo(OutputStream.nullOutputStream());
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Unmounts whatever a failed test left mounted under {@code dir}, deepest first, so one failure
   * does not leave mounts behind on the machine (or break the temp-dir cleanup).
   */
  public static void unmountAllUnder(Path dir) throws IOException, InterruptedException {
    String prefix = dir.toAbsolutePath().normalize().toString();
    java.util.List<String> mounts = new java.util.ArrayList<>();
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String[] f = line.split(" ");
      if (f.length > 4 && (f[4].equals(prefix) || f[4].startsWith(prefix + "/"))) {
        mounts.add(f[4].replace("\\040", " "));
      }
    }
    java.util.Collections.reverse(mounts);
    for (String m : mounts) {
      new ProcessBuilder("umount", "--lazy", m).inheritIO().start().waitFor();
    }
  }

  /** True when {@code path} is listed as a mount point in this process's mount table. */
  public static boolean isMountPoint(Path path) throws IOException {
    String p = path.toAbsolutePath().normalize().toString().replace(" ", "\\040");
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String[] f = line.split(" ");
      if (f.length > 4 && f[4].equals(p)) {
        return true;
      }
    }
    return false;
  }
}
