package org.modelpack.csi.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.modelpack.csi.deploy.RenderedChart.flag;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.storage.CSIDriver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.modelpack.csi.config.ConfigLoader;
import org.modelpack.csi.config.DriverConfig;
import org.slf4j.LoggerFactory;

/**
 * The Helm chart rendered by real Helm: it lints, every object is a typed Kubernetes object with
 * no unknown field, and the pieces that must agree (socket paths, ports, names, the driver's
 * config keys) do, with the default values and with non-default ones.
 */
class HelmChartTest {
  /** Values an operator would change: another driver name, kubelet dir, image, credentials. */
  static final String CUSTOM_VALUES = """
      kubeletDir: /var/lib/k0s/kubelet/
      config:
        serviceName: models.csi.example.com
        rootDir: /data/model-csi
        registryAuths:
          registry.example.com:
            auth: dXNlcjpwYXNz
            serverscheme: https
        pullConfig:
          concurrency: 8
          node_layer_concurrency: 16
        cache:
          max_size: 100GiB
          dir: /mnt/fast/model-store
        features:
          check_disk_quota: true
      image:
        repository: registry.example.com/tools/model-csi-driver
        tag: 1.2.3
      metrics:
        port: 9100
      logLevel: debug
      logFormat: json
      """;
  static final String EXISTING_SECRET_VALUES = """
      registryAuth:
        existingSecret: model-registry-creds
      metrics:
        enabled: false
      """;

  @TempDir static Path dir;
  static RenderedChart defaults;
  static RenderedChart custom;
  static RenderedChart existingSecret;

  @BeforeAll
  static void render() {
    defaults = RenderedChart.render("", dir);
    custom = RenderedChart.render(CUSTOM_VALUES, dir);
    existingSecret = RenderedChart.render(EXISTING_SECRET_VALUES, dir);
  }

  static Stream<RenderedChart> renderings() {
    return Stream.of(defaults, custom, existingSecret);
  }

  @Test
  void lintPassesWithTheDefaultValues() {
    LintResult result = new Helm(RenderedChart.CHART).lint().strict().call();
    assertThat(result.isFailed()).as("%s", result.getMessages()).isFalse();
  }

  @Test
  void lintPassesWithNonDefaultValues(@TempDir Path copies) throws Exception {
    for (String values : List.of(CUSTOM_VALUES, EXISTING_SECRET_VALUES)) {
      Path chart = RenderedChart.chartWithValues(values,
          Files.createTempDirectory(copies, "chart"));
      LintResult result = new Helm(chart).lint().strict().call();
      assertThat(result.isFailed()).as("%s with%n%s", result.getMessages(), values).isFalse();
    }
  }

  @Test
  void typedReadingRejectsAFieldTheModelDoesNotKnow() {
    assertTypedReadingRefuses("CSIDriver",
        "spec: {attachRequired: false, volumeLifecycleMode: [Ephemeral]}", "volumeLifecycleMode");
  }

  @Test
  void typedReadingRejectsAKindFabric8DoesNotKnow() {
    assertTypedReadingRefuses("CSIDriverr", "", "typed Kubernetes object");
  }

  @Test
  void defaultValuesRenderTheNodePluginsObjectsAndNoSecret() {
    assertThat(defaults.objects).extracting(HasMetadata::getKind).containsExactlyInAnyOrder(
        "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "CSIDriver",
        "DaemonSet",
        // the controller (PVCs): its Deployment, account and csi-provisioner's roles
        "Deployment", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role",
        "RoleBinding");
    assertThat(defaults.objects).filteredOn(o -> !o.getKind().startsWith("Cluster")
            && !o.getKind().equals("CSIDriver"))
        .allSatisfy(o -> assertThat(o.getMetadata().getNamespace())
            .isEqualTo(RenderedChart.NAMESPACE));
  }

  @ParameterizedTest
  @MethodSource("renderings")
  void everyObjectCarriesTheReleasesLabels(RenderedChart chart) {
    assertThat(chart.objects).allSatisfy(o -> assertThat(o.getMetadata().getLabels())
        .containsEntry("app.kubernetes.io/instance", RenderedChart.RELEASE)
        .containsEntry("app.kubernetes.io/name", "model-csi-driver")
        .containsEntry("app.kubernetes.io/version", RenderedChart.projectVersion()));
  }

  @Test
  void chartVersionAppVersionAndDefaultImageTagAreTheProjectVersion() throws Exception {
    String version = RenderedChart.projectVersion();
    JsonNode chart = RenderedChart.YAML.readTree(
        RenderedChart.CHART.resolve("Chart.yaml").toFile());
    assertThat(chart.get("version").asText()).isEqualTo(version);
    assertThat(chart.get("appVersion").asText()).isEqualTo(version);
    assertThat(defaults.container("driver").getImage())
        .isEqualTo("model-csi-driver:" + version).doesNotEndWith(":latest");
    assertThat(custom.container("driver").getImage())
        .isEqualTo("registry.example.com/tools/model-csi-driver:1.2.3");
  }

  @ParameterizedTest
  @MethodSource("renderings")
  void driverServesWithTheConfigMapsConfigFile(RenderedChart chart) {
    Container driver = chart.container("driver");
    assertThat(driver.getCommand()).as("the image's entrypoint runs the jar").isEmpty();
    assertThat(driver.getArgs().subList(0, 5)).containsExactly("serve", "--config",
        "/etc/model-csi/config.yaml", "--mode", "node");
    VolumeMount config = mount(driver, "/etc/model-csi");
    assertThat(config.getReadOnly()).isTrue();
    assertThat(chart.volume(config.getName()).getConfigMap().getName())
        .isEqualTo(chart.one(ConfigMap.class).getMetadata().getName());
    assertThat(chart.one(ConfigMap.class).getData()).containsOnlyKeys("config.yaml");
  }

  @Test
  void logLevelAndFormatArePassedToServeWhenSet() {
    assertThat(defaults.container("driver").getArgs())
        .doesNotContain("--log-level", "--log-format");
    assertThat(custom.container("driver").getArgs())
        .endsWith("--log-level", "debug", "--log-format", "json");
  }

  @Test
  void csiDriverIsAttachlessEphemeralWithPodInfoAndNoFsGroupChange() {
    for (RenderedChart chart : List.of(defaults, custom)) {
      CSIDriver driver = chart.one(CSIDriver.class);
      assertThat(driver.getSpec().getAttachRequired()).isFalse();
      assertThat(driver.getSpec().getPodInfoOnMount()).isTrue();
      assertThat(driver.getSpec().getFsGroupPolicy()).isEqualTo("None");
      assertThat(driver.getSpec().getVolumeLifecycleModes())
          .containsExactly("Persistent", "Ephemeral");
    }
    assertThat(defaults.one(CSIDriver.class).getMetadata().getName())
        .isEqualTo("model.csi.modelpack.org");
    assertThat(custom.one(CSIDriver.class).getMetadata().getName())
        .isEqualTo("models.csi.example.com");
  }

  @ParameterizedTest
  @MethodSource("renderings")
  void driverIsPrivilegedWithBidirectionalPropagationOnThePodsAndRootDirs(RenderedChart chart) {
    Container driver = chart.container("driver");
    assertThat(driver.getSecurityContext().getPrivileged()).isTrue();
    DriverConfig config = load(chart);
    String kubeletDir = kubeletDir(chart);
    VolumeMount pods = mount(driver, kubeletDir + "/pods");
    assertThat(pods.getMountPropagation()).isEqualTo("Bidirectional");
    assertThat(chart.hostPathOf(driver, kubeletDir + "/pods")).isEqualTo(kubeletDir + "/pods");
    VolumeMount root = mount(driver, config.rootDir().toString());
    assertThat(root.getMountPropagation()).isEqualTo("Bidirectional");
    assertThat(chart.hostPathOf(driver, config.rootDir().toString()))
        .as("volumes are reached at the same path on the node and in the driver")
        .isEqualTo(config.rootDir().toString());
    assertThat(chart.hostPathOf(driver, config.cache().dir().toString()))
        .isEqualTo(config.cache().dir().toString());
    VolumeMount staging = mount(driver, kubeletDir + "/plugins/kubernetes.io/csi");
    assertThat(staging.getMountPropagation()).as("PVCs' staging paths").isEqualTo("Bidirectional");
    assertThat(driver.getVolumeMounts()).filteredOn(m -> m.getMountPropagation() != null)
        .extracting(VolumeMount::getName)
        .containsExactlyInAnyOrder(pods.getName(), root.getName(), staging.getName());
  }

  @ParameterizedTest
  @MethodSource("renderings")
  void socketPathsAgreeBetweenDriverRegistrarLivenessprobeAndKubelet(RenderedChart chart) {
    DriverConfig config = load(chart);
    String kubeletDir = kubeletDir(chart);
    String socketOnNode = kubeletDir + "/plugins/" + config.serviceName() + "/csi.sock";
    assertThat(config.serviceName())
        .isEqualTo(chart.one(CSIDriver.class).getMetadata().getName());
    assertThat(chart.hostPathOf(chart.container("driver"), config.csiEndpoint().toString()))
        .isEqualTo(socketOnNode);

    Container registrar = chart.container("node-driver-registrar");
    assertThat(chart.hostPathOf(registrar, flag(registrar, "--csi-address").orElseThrow()))
        .isEqualTo(socketOnNode);
    assertThat(flag(registrar, "--kubelet-registration-path")).contains(socketOnNode);
    assertThat(chart.hostPathOf(registrar, "/registration"))
        .as("kubelet's plugin registration directory")
        .isEqualTo(kubeletDir + "/plugins_registry");

    Container probe = chart.container("liveness-probe");
    assertThat(chart.hostPathOf(probe, flag(probe, "--csi-address").orElseThrow()))
        .isEqualTo(socketOnNode);
  }

  @Test
  void kubeletDirValueMovesEveryKubeletPath() {
    assertThat(custom.pod().getVolumes()).filteredOn(v -> v.getHostPath() != null)
        .extracting(v -> v.getHostPath().getPath())
        .containsExactlyInAnyOrder("/var/lib/k0s/kubelet/plugins/models.csi.example.com",
            "/var/lib/k0s/kubelet/plugins_registry", "/var/lib/k0s/kubelet/pods",
            "/var/lib/k0s/kubelet/plugins/kubernetes.io/csi", "/data/model-csi",
            "/mnt/fast/model-store");
  }

  @ParameterizedTest
  @MethodSource("renderings")
  void registrarServesHealthzAndItsLivenessProbeCallsIt(RenderedChart chart) {
    Container registrar = chart.container("node-driver-registrar");
    assertThat(flag(registrar, "--http-endpoint")).contains(":9809");
    assertCallsHealthzOnPort(registrar, registrar.getLivenessProbe(), 9809);
    assertThat(registrar.getEnv()).extracting(EnvVar::getName).contains("KUBE_NODE_NAME");
  }

  @ParameterizedTest
  @MethodSource("renderings")
  void driversProbesCallTheLivenessprobeSidecarWhichCallsTheDriversProbe(RenderedChart chart) {
    Container probe = chart.container("liveness-probe");
    assertThat(flag(probe, "--http-endpoint")).contains(":9808");
    assertThat(flag(probe, "--probe-timeout")).contains("3s");
    Container driver = chart.container("driver");
    assertCallsHealthzOnPort(driver, driver.getLivenessProbe(), 9808);
    assertCallsHealthzOnPort(driver, driver.getStartupProbe(), 9808);
  }

  @Test
  void metricsAddressUsesThePodIpFromTheDownwardApiAndMatchesTheContainerPort() throws Exception {
    assertMetrics(defaults, 5244);
    assertMetrics(custom, 9100);
    assertThat(RenderedChart.YAML.readTree(existingSecret.driverConfig()).has("metrics_addr"))
        .isFalse();
    assertThat(existingSecret.container("driver").getPorts())
        .noneMatch(p -> "metrics".equals(p.getName()));
  }

  @ParameterizedTest
  @MethodSource("renderings")
  void nodeIdComesFromTheNodeName(RenderedChart chart) {
    assertThat(env(chart.container("driver"), "CSI_NODE_ID").getValueFrom().getFieldRef()
        .getFieldPath()).isEqualTo("spec.nodeName");
  }

  @Test
  void driverConfigCarriesPullCacheAndFeatureKeysAsTheDriverReadsThem() {
    DriverConfig config = load(custom);
    assertThat(config.rootDir()).isEqualTo(Path.of("/data/model-csi"));
    assertThat(config.pull().concurrency()).isEqualTo(8);
    assertThat(config.pull().nodeLayerConcurrency()).isEqualTo(16);
    assertThat(config.cache().maxSizeBytes()).isEqualTo(100L << 30);
    assertThat(config.cache().dir()).isEqualTo(Path.of("/mnt/fast/model-store"));
    assertThat(config.features().checkDiskQuota()).isTrue();
    DriverConfig byDefault = load(defaults);
    assertThat(byDefault.rootDir()).isEqualTo(Path.of("/var/lib/model-csi"));
    assertThat(byDefault.serviceName()).isEqualTo(DriverConfig.DEFAULT_SERVICE_NAME);
  }

  @ParameterizedTest
  @MethodSource("renderings")
  void driverConfigHasNoKeyTheDriverWarnsAbout(RenderedChart chart) {
    Logger logger = (Logger) LoggerFactory.getLogger(ConfigLoader.class);
    ListAppender<ILoggingEvent> warnings = new ListAppender<>();
    warnings.start();
    logger.addAppender(warnings);
    try {
      load(chart);
    } finally {
      logger.detachAppender(warnings);
    }
    assertThat(warnings.list).extracting(ILoggingEvent::getFormattedMessage).isEmpty();
  }

  @Test
  void registryAuthsBecomeASecretMountedAsTheDriversDockerConfig() throws Exception {
    assertThat(defaults.all(Secret.class)).isEmpty();
    assertThat(defaults.container("driver").getEnv()).extracting(EnvVar::getName)
        .doesNotContain("DOCKER_CONFIG");

    Secret secret = custom.one(Secret.class);
    JsonNode json = RenderedChart.YAML.readTree(new String(
        Base64.getDecoder().decode(secret.getData().get("config.json")), StandardCharsets.UTF_8));
    assertThat(json.at("/auths/registry.example.com/auth").asText()).isEqualTo("dXNlcjpwYXNz");
    assertThat(json.at("/auths/registry.example.com/serverscheme").asText()).isEqualTo("https");
    Container driver = custom.container("driver");
    String dockerConfig = env(driver, "DOCKER_CONFIG").getValue();
    Volume auth = custom.volume(mount(driver, dockerConfig).getName());
    assertThat(auth.getSecret().getSecretName()).isEqualTo(secret.getMetadata().getName());
    assertThat(auth.getSecret().getItems()).isEmpty();
  }

  @Test
  void anExistingRegistrySecretIsMountedAsConfigJsonAndNoSecretIsRendered() {
    assertThat(existingSecret.all(Secret.class)).isEmpty();
    Container driver = existingSecret.container("driver");
    Volume auth = existingSecret.volume(mount(driver, env(driver, "DOCKER_CONFIG").getValue())
        .getName());
    assertThat(auth.getSecret().getSecretName()).isEqualTo("model-registry-creds");
    assertThat(auth.getSecret().getItems()).singleElement().satisfies(item -> {
      assertThat(item.getKey()).isEqualTo(".dockerconfigjson");
      assertThat(item.getPath()).isEqualTo("config.json");
    });
  }

  @ParameterizedTest
  @MethodSource("renderings")
  void rbacGrantsOnlyEventCreateAndPatchAndPodGetToTheDaemonSetsAccount(RenderedChart chart) {
    var rules = new TreeSet<String>();
    nodeOne(chart, ClusterRole.class).getRules().forEach(rule -> {
      assertThat(rule.getResourceNames()).isEmpty();
      assertThat(rule.getNonResourceURLs()).isEmpty();
      for (String group : rule.getApiGroups()) {
        for (String resource : rule.getResources()) {
          rule.getVerbs().forEach(verb -> rules.add(group + "/" + resource + ":" + verb));
        }
      }
    });
    assertThat(rules).containsExactlyInAnyOrder("/events:create", "/events:patch",
        "events.k8s.io/events:create", "events.k8s.io/events:patch", "/pods:get");

    ClusterRoleBinding binding = nodeOne(chart, ClusterRoleBinding.class);
    assertThat(binding.getRoleRef().getName())
        .isEqualTo(nodeOne(chart, ClusterRole.class).getMetadata().getName());
    ServiceAccount account = nodeOne(chart, ServiceAccount.class);
    assertThat(binding.getSubjects()).singleElement().satisfies(s -> {
      assertThat(s.getKind()).isEqualTo("ServiceAccount");
      assertThat(s.getName()).isEqualTo(account.getMetadata().getName());
      assertThat(s.getNamespace()).isEqualTo(account.getMetadata().getNamespace());
    });
    assertThat(chart.pod().getServiceAccountName()).isEqualTo(account.getMetadata().getName());
  }

  @Test
  void daemonSetRunsOnEveryNodeAsANodeCriticalAgentAndRollsWithoutSurge() {
    DaemonSet daemonSet = defaults.one(DaemonSet.class);
    assertThat(daemonSet.getSpec().getTemplate().getMetadata().getLabels())
        .containsAllEntriesOf(daemonSet.getSpec().getSelector().getMatchLabels());
    assertThat(defaults.pod().getPriorityClassName()).isEqualTo("system-node-critical");
    assertThat(defaults.pod().getTolerations()).singleElement()
        .satisfies(t -> {
          assertThat(t.getOperator()).isEqualTo("Exists");
          assertThat(t.getKey()).isNull();
        });
    var strategy = daemonSet.getSpec().getUpdateStrategy();
    assertThat(strategy.getType()).isEqualTo("RollingUpdate");
    assertThat(strategy.getRollingUpdate().getMaxUnavailable()).isEqualTo(new IntOrString("10%"));
    assertThat(strategy.getRollingUpdate().getMaxSurge()).isEqualTo(new IntOrString(0));
  }

  @Test
  void changingTheConfigChangesThePodTemplate() {
    String key = "checksum/config";
    assertThat(defaults.one(DaemonSet.class).getSpec().getTemplate().getMetadata()
        .getAnnotations().get(key)).isNotBlank().isNotEqualTo(custom.one(DaemonSet.class)
        .getSpec().getTemplate().getMetadata().getAnnotations().get(key));
  }

  @ParameterizedTest
  @MethodSource("renderings")
  void sidecarImagesArePinnedToExactReleases(RenderedChart chart) {
    assertThat(chart.container("node-driver-registrar").getImage())
        .matches("registry\\.k8s\\.io/sig-storage/csi-node-driver-registrar:v\\d+\\.\\d+\\.\\d+");
    assertThat(chart.container("liveness-probe").getImage())
        .matches("registry\\.k8s\\.io/sig-storage/livenessprobe:v\\d+\\.\\d+\\.\\d+");
  }

  @ParameterizedTest
  @MethodSource("renderings")
  void everyContainerHasResourcesAndAMemoryLimit(RenderedChart chart) {
    assertThat(chart.pod().getContainers()).allSatisfy(c -> {
      assertThat(c.getResources().getRequests()).containsKeys("cpu", "memory");
      assertThat(c.getResources().getLimits()).containsKey("memory");
    });
  }

  /** The node plugin's one object of a kind (the controller's are named *-controller). */
  static <T extends HasMetadata> T nodeOne(RenderedChart chart, Class<T> kind) {
    List<T> found = chart.all(kind).stream()
        .filter(o -> !o.getMetadata().getName().endsWith("-controller")).toList();
    assertThat(found).as("node plugin's %s objects", kind.getSimpleName()).hasSize(1);
    return found.get(0);
  }

  private static void assertTypedReadingRefuses(String kind, String spec, String because) {
    String document = "apiVersion: storage.k8s.io/v1\nkind: " + kind
        + "\nmetadata: {name: x.example.com}\n" + spec;
    assertThatThrownBy(() -> RenderedChart.typed(document)).isInstanceOf(AssertionError.class)
        .hasMessageContaining(because);
  }

  private static void assertMetrics(RenderedChart chart, int port) throws Exception {
    assertThat(RenderedChart.YAML.readTree(chart.driverConfig()).get("metrics_addr").asText())
        .isEqualTo("tcp://$POD_IP:" + port);
    Container driver = chart.container("driver");
    assertThat(env(driver, "POD_IP").getValueFrom().getFieldRef().getFieldPath())
        .isEqualTo("status.podIP");
    assertThat(driver.getPorts()).anySatisfy(p -> {
      assertThat(p.getName()).isEqualTo("metrics");
      assertThat(p.getContainerPort()).isEqualTo(port);
      assertThat(p.getProtocol()).isEqualTo("TCP");
    });
  }

  /** The probe is an HTTP GET of /healthz on {@code port}, directly or by the port's name. */
  private static void assertCallsHealthzOnPort(Container container, Probe probe, int port) {
    assertThat(probe).as("%s's probe", container.getName()).isNotNull();
    assertThat(probe.getHttpGet().getPath()).isEqualTo("/healthz");
    IntOrString target = probe.getHttpGet().getPort();
    int resolved = target.getIntVal() != null ? target.getIntVal()
        : container.getPorts().stream().filter(p -> target.getStrVal().equals(p.getName()))
            .findFirst().orElseThrow(() -> new AssertionError("no port " + target.getStrVal()))
            .getContainerPort();
    assertThat(resolved).isEqualTo(port);
  }

  private static VolumeMount mount(Container container, String path) {
    return container.getVolumeMounts().stream().filter(m -> m.getMountPath().equals(path))
        .findFirst().orElseThrow(() -> new AssertionError(
            container.getName() + " mounts nothing at " + path));
  }

  private static EnvVar env(Container container, String name) {
    return container.getEnv().stream().filter(e -> e.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError(container.getName() + " has no env " + name));
  }

  /** kubelet's directory as the pods dir volume names it. */
  private static String kubeletDir(RenderedChart chart) {
    String pods = chart.pod().getVolumes().stream()
        .filter(v -> v.getHostPath() != null && v.getHostPath().getPath().endsWith("/pods"))
        .findFirst().orElseThrow().getHostPath().getPath();
    String dir = pods.substring(0, pods.length() - "/pods".length());
    assertThat(dir).isIn("/var/lib/kubelet", "/var/lib/k0s/kubelet");
    return dir;
  }

  /** The ConfigMap's config.yaml read by the driver's own loader, as in the pod. */
  private static DriverConfig load(RenderedChart chart) {
    return new ConfigLoader(Map.of("CSI_NODE_ID", "node-1", "POD_IP", "10.1.2.3"),
        () -> "node-1", Path.of("/")).parse(chart.driverConfig());
  }
}
