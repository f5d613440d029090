package org.modelpack.csi.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import csi.v1.Csi.CreateVolumeRequest;
import csi.v1.Csi.CreateVolumeResponse;
import csi.v1.Csi.VolumeCapability;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.storage.CSIDriver;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modelpack.csi.csi.ControllerService;

/**
 * The chart's PVC objects, rendered by real Helm: the controller Deployment with csi-provisioner,
 * its RBAC, the example StorageClass, and Persistent in the CSIDriver's lifecycle modes.
 */
class HelmChartControllerTest {
  static final String STORAGE_CLASS_VALUES = """
      config:
        serviceName: models.csi.example.com
      storageClass:
        enabled: true
        name: qwen3
        reference: registry.example.com/models/qwen3:v1
        parameters:
          exclude-file-patterns: '["*.md"]'
          exclude-model-weights: false
      """;

  @TempDir static Path dir;
  static RenderedChart defaults;
  static RenderedChart withStorageClass;
  static RenderedChart inlineOnly;

  @BeforeAll
  static void render() {
    defaults = RenderedChart.render("", dir);
    withStorageClass = RenderedChart.render(STORAGE_CLASS_VALUES, dir);
    inlineOnly = RenderedChart.render("controller: {enabled: false}", dir);
  }

  static PodSpec controllerPod(RenderedChart chart) {
    return chart.one(Deployment.class).getSpec().getTemplate().getSpec();
  }

  static Container container(PodSpec pod, String name) {
    return pod.getContainers().stream().filter(c -> c.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no container " + name));
  }

  @Test
  void controllerServesControllerModeNextToAPinnedCsiProvisionerOnASharedSocket() {
    PodSpec pod = controllerPod(defaults);
    Container controller = container(pod, "controller");
    Container provisioner = container(pod, "csi-provisioner");
    assertThat(controller.getImage()).isEqualTo(defaults.container("driver").getImage());
    assertThat(controller.getArgs()).containsSequence("serve", "--config",
        "/etc/model-csi/config.yaml", "--mode", "controller");
    assertThat(provisioner.getImage())
        .matches("registry\\.k8s\\.io/sig-storage/csi-provisioner:v\\d+\\.\\d+\\.\\d+");
    assertThat(provisioner.getArgs()).contains("--csi-address=/csi/csi.sock",
        "--leader-election", "--leader-election-namespace=" + RenderedChart.NAMESPACE);
    // The driver's config puts the socket at /csi/csi.sock; both containers mount one volume
    // there.
    assertThat(defaults.driverConfig()).contains("csi_endpoint: \"unix:///csi/csi.sock\"");
    String socketVolume = mountAt(controller, "/csi");
    assertThat(mountAt(provisioner, "/csi")).isEqualTo(socketVolume);
    assertThat(pod.getVolumes()).filteredOn(v -> v.getName().equals(socketVolume))
        .singleElement().satisfies(v -> assertThat(v.getEmptyDir()).isNotNull());
    // No privileges and no host paths: it mounts nothing and downloads nothing.
    assertThat(pod.getVolumes()).allSatisfy(v -> assertThat(v.getHostPath()).isNull());
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getContainers()).allSatisfy(c -> {
      assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
      assertThat(c.getSecurityContext().getPrivileged()).isNotEqualTo(Boolean.TRUE);
      assertThat(c.getResources().getRequests()).containsKeys("cpu", "memory");
      assertThat(c.getResources().getLimits()).containsKey("memory");
    });
    ServiceAccount account = defaults.all(ServiceAccount.class).stream()
        .filter(a -> a.getMetadata().getName().endsWith("-controller")).findFirst().orElseThrow();
    assertThat(pod.getServiceAccountName()).isEqualTo(account.getMetadata().getName());
  }

  @Test
  void nodePluginMountsKubeletsStagingDirectoryBidirectionallyOnlyForPvcs() {
    for (RenderedChart chart : List.of(defaults, withStorageClass)) {
      Container driver = chart.container("driver");
      String path = "/var/lib/kubelet/plugins/kubernetes.io/csi";
      assertThat(driver.getVolumeMounts()).filteredOn(m -> m.getMountPath().equals(path))
          .singleElement().satisfies(m -> {
            assertThat(m.getMountPropagation()).isEqualTo("Bidirectional");
            assertThat(chart.volume(m.getName()).getHostPath().getPath()).isEqualTo(path);
          });
    }
    assertThat(inlineOnly.container("driver").getVolumeMounts())
        .noneMatch(m -> m.getMountPath().contains("kubernetes.io/csi"));
  }

  @Test
  void theDaemonSetAndTheDeploymentNeverSelectEachOthersPods() {
    Deployment deployment = defaults.one(Deployment.class);
    DaemonSet daemonSet = defaults.one(DaemonSet.class);
    Map<String, String> controllerPods = deployment.getSpec().getTemplate().getMetadata()
        .getLabels();
    Map<String, String> nodePods = daemonSet.getSpec().getTemplate().getMetadata().getLabels();
    assertThat(controllerPods)
        .containsAllEntriesOf(deployment.getSpec().getSelector().getMatchLabels())
        .doesNotContainEntry("app.kubernetes.io/name", "model-csi-driver");
    assertThat(nodePods).doesNotContainEntry("app.kubernetes.io/name",
        deployment.getSpec().getSelector().getMatchLabels().get("app.kubernetes.io/name"));
    assertThat(daemonSet.getSpec().getSelector().getMatchLabels().entrySet())
        .isNotEmpty().anyMatch(e -> !e.getValue().equals(controllerPods.get(e.getKey())));
  }

  @Test
  void controllerRbacGrantsCsiProvisionersRightsToTheControllersAccountOnly() {
    ClusterRole role = controllerOne(ClusterRole.class);
    assertThat(rules(role.getRules())).containsExactlyInAnyOrder(
        "/persistentvolumes:get", "/persistentvolumes:list", "/persistentvolumes:watch",
        "/persistentvolumes:create", "/persistentvolumes:delete",
        "/persistentvolumeclaims:get", "/persistentvolumeclaims:list",
        "/persistentvolumeclaims:watch", "/persistentvolumeclaims:update",
        "storage.k8s.io/storageclasses:get", "storage.k8s.io/storageclasses:list",
        "storage.k8s.io/storageclasses:watch",
        "/events:list", "/events:watch", "/events:create", "/events:update", "/events:patch",
        "storage.k8s.io/csinodes:get", "storage.k8s.io/csinodes:list",
        "storage.k8s.io/csinodes:watch",
        "/nodes:get", "/nodes:list", "/nodes:watch");
    Role leases = defaults.one(Role.class);
    assertThat(leases.getMetadata().getNamespace()).isEqualTo(RenderedChart.NAMESPACE);
    assertThat(rules(leases.getRules())).allMatch(r -> r.startsWith("coordination.k8s.io/leases:"))
        .contains("coordination.k8s.io/leases:create", "coordination.k8s.io/leases:update");
    String account = controllerPod(defaults).getServiceAccountName();
    ClusterRoleBinding clusterBinding = controllerOne(ClusterRoleBinding.class);
    assertThat(clusterBinding.getRoleRef().getName()).isEqualTo(role.getMetadata().getName());
    assertThat(clusterBinding.getSubjects()).singleElement()
        .satisfies(s -> assertThat(s.getName()).isEqualTo(account));
    RoleBinding binding = defaults.one(RoleBinding.class);
    assertThat(binding.getRoleRef().getName()).isEqualTo(leases.getMetadata().getName());
    assertThat(binding.getSubjects()).singleElement()
        .satisfies(s -> assertThat(s.getName()).isEqualTo(account));
  }

  @Test
  void storageClassIsOffByDefaultAndItsParametersAreAcceptedByTheController() {
    assertThat(defaults.all(StorageClass.class)).isEmpty();
    StorageClass sc = withStorageClass.one(StorageClass.class);
    assertThat(sc.getMetadata().getName()).isEqualTo("qwen3");
    assertThat(sc.getProvisioner()).isEqualTo("models.csi.example.com");
    assertThat(sc.getAllowVolumeExpansion()).isFalse();
    assertThat(sc.getParameters()).containsExactlyInAnyOrderEntriesOf(Map.of(
        "models.csi.example.com/reference", "registry.example.com/models/qwen3:v1",
        "models.csi.example.com/exclude-file-patterns", "[\"*.md\"]",
        "models.csi.example.com/exclude-model-weights", "false"));

    // What csi-provisioner would send for a ReadOnlyMany PVC of this class.
    AtomicReference<Object> answer = new AtomicReference<>();
    new ControllerService("models.csi.example.com").createVolume(CreateVolumeRequest.newBuilder()
        .setName("pvc-0").putAllParameters(sc.getParameters())
        .addVolumeCapabilities(VolumeCapability.newBuilder()
            .setMount(VolumeCapability.MountVolume.getDefaultInstance())
            .setAccessMode(VolumeCapability.AccessMode.newBuilder()
                .setMode(VolumeCapability.AccessMode.Mode.MULTI_NODE_READER_ONLY)))
        .build(), new StreamObserver<>() {
          @Override
          public void onNext(CreateVolumeResponse value) {
            answer.set(value);
          }

          @Override
          public void onError(Throwable t) {
            answer.set(t);
          }

          @Override
          public void onCompleted() {}
        });
    assertThat(answer.get()).isInstanceOfSatisfying(CreateVolumeResponse.class, r ->
        assertThat(r.getVolume().getVolumeContextMap()).isEqualTo(sc.getParameters()));
  }

  @Test
  void disablingTheControllerLeavesInlineVolumesOnly() {
    assertThat(inlineOnly.all(Deployment.class)).isEmpty();
    assertThat(inlineOnly.all(Role.class)).isEmpty();
    assertThat(inlineOnly.all(ClusterRole.class)).hasSize(1);
    assertThat(inlineOnly.one(CSIDriver.class).getSpec().getVolumeLifecycleModes())
        .containsExactly("Ephemeral");
    assertThat(defaults.one(CSIDriver.class).getSpec().getVolumeLifecycleModes())
        .containsExactly("Persistent", "Ephemeral");
  }

  private static <T extends HasMetadata> T controllerOne(Class<T> kind) {
    List<T> found = defaults.all(kind).stream()
        .filter(o -> o.getMetadata().getName().endsWith("-controller")).toList();
    assertThat(found).as("controller's %s objects", kind.getSimpleName()).hasSize(1);
    return found.get(0);
  }

  private static Set<String> rules(List<PolicyRule> rules) {
    Set<String> out = new TreeSet<>();
    for (PolicyRule rule : rules) {
      assertThat(rule.getResourceNames()).isEmpty();
      for (String group : rule.getApiGroups()) {
        for (String resource : rule.getResources()) {
          rule.getVerbs().forEach(verb -> out.add(group + "/" + resource + ":" + verb));
        }
      }
    }
    return out;
  }

  private static String mountAt(Container container, String path) {
    return container.getVolumeMounts().stream().filter(m -> m.getMountPath().equals(path))
        .findFirst().orElseThrow(() -> new AssertionError(container.getName()
            + " mounts nothing at " + path)).getName();
  }
}
