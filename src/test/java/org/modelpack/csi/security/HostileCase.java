package org.modelpack.csi.security;

import io.grpc.Status;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.modelpack.csi.oci.Descriptor;
import org.modelpack.csi.registry.Reference;
import org.modelpack.csi.registry.RegistryClient;
import org.modelpack.csi.testing.ModelArtifactBuilder;
import org.modelpack.csi.testing.RegistryServer;

/**
 * One hostile artifact of the corpus: how to build and push it, the gRPC code its publish must
 * answer, what the answer must mention, and which of its layers the store may keep (layers
 * that are fine on their own, such as the raw layer next to a bomb).
 */
record HostileCase(String category, String name, Status.Code code, Artifact artifact,
    Function<Pushed, List<String>> mentions, Function<Pushed, Set<String>> storable,
    Check also) {

  /** Builds the artifact and pushes it to the corpus registry. */
  interface Artifact {
    Pushed build(Ctx ctx) throws Exception;
  }

  /** A further assertion after the publish failed. */
  interface Check {
    void verify(Ctx ctx, Pushed pushed) throws Exception;
  }

  static HostileCase refused(String category, String name, Status.Code code, Artifact artifact,
      Function<Pushed, List<String>> mentions) {
    return new HostileCase(category, name, code, artifact, mentions, p -> Set.of(),
        (c, p) -> { });
  }

  /** The same case, allowing the store to keep the tar layers {@code storable} names. */
  HostileCase storing(Function<Pushed, Set<String>> layers) {
    return new HostileCase(category, name, code, artifact, mentions, layers, also);
  }

  HostileCase also(Check check) {
    return new HostileCase(category, name, code, artifact, mentions, storable, check);
  }

  @Override
  public String toString() {
    return "[" + category + "] " + name + " -> " + code;
  }

  /** What was pushed: the reference to publish and the layers as the manifest lists them. */
  record Pushed(String reference, List<Descriptor> layers) {
    String layer(int i) {
      return layers.get(i).digest();
    }
  }

  /** Where a case builds its artifact and what it pushes with. */
  static final class Ctx {
    final String name;
    final Path workDir;
    final RegistryClient pusher;
    final RegistryServer registry;
    /** A directory outside every volume that attacks aim at; it must stay untouched. */
    final Path sentinel;
    /** Size of the filesystem holding the node's store. */
    final long storeFilesystemSize;

    Ctx(String name, Path workDir, RegistryClient pusher, RegistryServer registry,
        Path sentinel, long storeFilesystemSize) {
      this.name = name;
      this.workDir = workDir;
      this.pusher = pusher;
      this.registry = registry;
      this.sentinel = sentinel;
      this.storeFilesystemSize = storeFilesystemSize;
    }

    ModelArtifactBuilder builder() throws IOException {
      return ModelArtifactBuilder.create(workDir.resolve(name));
    }

    Reference ref() {
      return Reference.parse(registry.host() + "/hostile/" + name + ":v1");
    }

    /** Servers and the like a case starts, closed once its publish was checked. */
    final List<AutoCloseable> toClose = new java.util.ArrayList<>();

    <T extends AutoCloseable> T closeAfterCase(T c) {
      toClose.add(c);
      return c;
    }

    Pushed push(ModelArtifactBuilder b) throws IOException {
      ModelArtifactBuilder.PushedArtifact a = b.push(pusher, ref());
      return new Pushed(a.reference().toString(), a.manifest().layers());
    }
  }
}
