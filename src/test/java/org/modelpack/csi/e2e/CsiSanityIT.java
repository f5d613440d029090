package org.modelpack.csi.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modelpack.csi.registry.Reference;
import org.modelpack.csi.registry.RegistryClient;
import org.modelpack.csi.registry.RegistrySettings;
import org.modelpack.csi.testing.Closeables;
import org.modelpack.csi.testing.CsiRequests;
import org.modelpack.csi.testing.ModelArtifactBuilder;
import org.modelpack.csi.testing.RegistryServer;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * kubernetes-csi's conformance suite (csi-sanity, prebuilt next to the checkout; pom property
 * {@code csi.sanity}) against the packaged driver serving controller and node on one socket,
 * with a real registry holding a small model whose reference is the CreateVolume parameters.
 * No spec is skipped by us: the suite skips on its own only what the driver does not advertise
 * (docs/decisions/1103 lists them and why).
 */
class CsiSanityIT {
  @TempDir Path tmp;
  DriverProcess driver;
  RegistryServer registry;

  @AfterEach
  void stop() throws Exception {
    CsiRequests.unmountAllUnder(tmp);
    Closeables.closeAll(driver, registry);
  }

  static Path tool() {
    Path tool = Path.of(System.getProperty("csi.sanity",
        "../shared/tools/csi-sanity/csi-sanity")).toAbsolutePath().normalize();
    assertThat(Files.isExecutable(tool)).as("csi-sanity is not at %s (an executable file); "
        + "it is expected at ../shared/tools/csi-sanity/csi-sanity next to the checkout, or "
        + "give its path with -Dcsi.sanity=PATH", tool).isTrue();
    return tool;
  }

  @Test
  void everyCsiSanitySpecThatAppliesPassesAgainstThePackagedDriver() throws Exception {
    Path tool = tool();
    registry = RegistryServer.start(tmp.resolve("registry"));
    String reference = registry.host() + "/models/sanity:v1";
    try (RegistryClient pusher = new RegistryClient(RegistrySettings.defaults()
        .withDockerConfigDir(tmp.resolve("docker")))) {
      ModelArtifactBuilder.create(tmp.resolve("artifact"))
          .rawFile("model.safetensors", 200_000, 1).rawFile("config.json", 100, 2)
          .push(pusher, Reference.parse(reference));
    }
    Path root = tmp.resolve("root");
    Path socket = tmp.resolve("plugin/csi.sock");
    Path config = Files.writeString(tmp.resolve("driver.yaml"), """
        root_dir: %s
        csi_endpoint: unix://%s
        pull_config:
          docker_config_dir: %s
        """.formatted(root, socket, tmp.resolve("docker")));
    driver = DriverProcess.start(config, socket, tmp.resolve("driver.log"), null,
        List.of("--mode", "all"));
    // csi-sanity creates, stages, publishes, writes nothing into and then deletes volumes with
    // SINGLE_NODE_WRITER and readonly=false everywhere, so its volume must be a writable one
    // (decision 1103); the read-only kind is proven by PvcVolumeIT.
    Path parameters = Files.writeString(tmp.resolve("parameters.yaml"), """
        model.csi.modelpack.org/reference: "%s"
        model.csi.modelpack.org/type: image
        model.csi.modelpack.org/writable: "true"
        """.formatted(reference));
    Path report = tmp.resolve("sanity.xml");
    Path output = tmp.resolve("sanity.out");
    Process sanity = new ProcessBuilder(tool.toString(),
        "--csi.endpoint", "unix://" + socket,
        "--csi.mountdir", tmp.resolve("sanity-mnt").toString(),
        "--csi.stagingdir", tmp.resolve("sanity-stage").toString(),
        "--csi.testvolumeaccesstype", "mount",
        "--csi.testvolumeparameters", parameters.toString(),
        "--ginkgo.junit-report", report.toString(),
        "--ginkgo.no-color", "--ginkgo.timeout", "5m")
        .redirectErrorStream(true).redirectOutput(output.toFile()).start();
    assertThat(sanity.waitFor(6, TimeUnit.MINUTES)).as("csi-sanity finished").isTrue();

    assertThat(report).as("JUnit report; output:\n%s", Files.readString(output)).exists();
    Results results = Results.read(report);
    System.out.printf("csi-sanity: %d passed, %d failed, %d skipped by the suite%n",
        results.passed.size(), results.failed.size(), results.skipped.size());
    assertThat(results.failed).as("failed csi-sanity specs; output in %s:\n%s", output,
        tail(output)).isEmpty();
    assertThat(sanity.exitValue()).as("csi-sanity exit code").isZero();
    // The specs that prove the PVC path ran, not only the validation ones.
    assertThat(results.passed).anyMatch(n -> n.contains("Node Service") && n.contains("should work"))
        .anyMatch(n -> n.contains("should fail when requesting to create a volume with already "
            + "existing name and different capacity"))
        .anyMatch(n -> n.contains("NodeUnpublishVolume") && n.contains("should remove target"));
    try (Stream<String> mounts = Files.lines(Path.of("/proc/self/mountinfo"))) {
      assertThat(mounts.filter(l -> l.contains(tmp.toString()))).isEmpty();
    }
    try (Stream<Path> volumes = Files.list(root.resolve("volumes"))) {
      assertThat(volumes).as("volumes left after csi-sanity's cleanup").isEmpty();
    }
  }

  private static String tail(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file);
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 80), lines.size()));
  }

  /** Spec names by outcome, from Ginkgo's JUnit report. */
  record Results(List<String> passed, List<String> failed, List<String> skipped) {
    static Results read(Path report) throws Exception {
      var factory = DocumentBuilderFactory.newInstance();
      factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      NodeList cases = factory.newDocumentBuilder().parse(report.toFile())
          .getElementsByTagName("testcase");
      Results r = new Results(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
      for (int i = 0; i < cases.getLength(); i++) {
        Element c = (Element) cases.item(i);
        String name = c.getAttribute("name");
        if (c.getElementsByTagName("failure").getLength() > 0
            || c.getElementsByTagName("error").getLength() > 0) {
          r.failed.add(name);
        } else if (c.getElementsByTagName("skipped").getLength() > 0) {
          r.skipped.add(name);
        } else {
          r.passed.add(name);
        }
      }
      return r;
    }
  }
}
