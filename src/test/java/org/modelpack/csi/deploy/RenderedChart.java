package org.modelpack.csi.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathFactory;

/**
 * The chart rendered by real Helm (helm-java's bundled library) with a values file, every
 * document read into its typed fabric8 model.
 */
final class RenderedChart {
  static final Path CHART = Path.of("charts", "model-csi-driver");
  static final String RELEASE = "model-csi";
  static final String NAMESPACE = "model-csi";
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Pattern DOCUMENT_SEPARATOR = Pattern.compile("(?m)^---\\s*$");

  final List<HasMetadata> objects;

  private RenderedChart(List<HasMetadata> objects) {
    this.objects = objects;
  }

  /** Renders the chart with {@code values} (YAML, may be empty) layered over values.yaml. */
  static RenderedChart render(String values, Path dir) {
    try {
      Path file = Files.createTempFile(dir, "values", ".yaml");
      Files.writeString(file, values);
      String manifest = new Helm(CHART).template().withName(RELEASE).withNamespace(NAMESPACE)
          .withValuesFile(file).call();
      List<HasMetadata> objects = new ArrayList<>();
      for (String document : DOCUMENT_SEPARATOR.split(manifest)) {
        if (document.lines().allMatch(l -> l.isBlank() || l.trim().startsWith("#"))) {
          continue;
        }
        objects.add(typed(document));
      }
      return new RenderedChart(objects);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Reads one document into the model its apiVersion and kind name, failing for a kind fabric8
   * does not know or a field its model does not have.
   */
  static HasMetadata typed(String document) {
    Object parsed = Serialization.unmarshal(document);
    assertThat(parsed).as("a typed Kubernetes object:%n%s", document)
        .isInstanceOf(HasMetadata.class).isNotInstanceOf(GenericKubernetesResource.class);
    List<String> unknown = new ArrayList<>();
    collectUnknownFields(parsed, ((HasMetadata) parsed).getKind(), unknown);
    assertThat(unknown).as("fields the typed model does not know:%n%s", document).isEmpty();
    return (HasMetadata) parsed;
  }

  /**
   * fabric8's models keep what they do not know in {@code additionalProperties} instead of
   * failing: walks the object and reports every such field with its path.
   */
  private static void collectUnknownFields(Object value, String path, List<String> unknown) {
    if (value == null) {
      return;
    }
    if (value instanceof Collection<?> items) {
      int i = 0;
      for (Object item : items) {
        collectUnknownFields(item, path + "[" + i++ + "]", unknown);
      }
      return;
    }
    if (value instanceof Map<?, ?> map) {
      map.forEach((k, v) -> collectUnknownFields(v, path + "." + k, unknown));
      return;
    }
    if (!value.getClass().getPackageName().startsWith("io.fabric8.kubernetes.api.model")) {
      return;
    }
    for (Method getter : value.getClass().getMethods()) {
      if (getter.getParameterCount() != 0 || !getter.getName().startsWith("get")
          || Modifier.isStatic(getter.getModifiers()) || getter.getName().equals("getClass")) {
        continue;
      }
      Object field = invoke(getter, value);
      if (getter.getName().equals("getAdditionalProperties")) {
        if (field instanceof Map<?, ?> extra && !extra.isEmpty()) {
          unknown.add(path + ": " + extra.keySet());
        }
      } else {
        collectUnknownFields(field, path + "." + getter.getName().substring(3), unknown);
      }
    }
  }

  private static Object invoke(Method getter, Object target) {
    try {
      return getter.invoke(target);
    } catch (IllegalAccessException | InvocationTargetException e) {
      throw new IllegalStateException(getter + " failed", e);
    }
  }

  <T extends HasMetadata> List<T> all(Class<T> kind) {
    return objects.stream().filter(kind::isInstance).map(kind::cast).toList();
  }

  <T extends HasMetadata> T one(Class<T> kind) {
    List<T> found = all(kind);
    assertThat(found).as("rendered %s objects", kind.getSimpleName()).hasSize(1);
    return found.get(0);
  }

  PodSpec pod() {
    return one(DaemonSet.class).getSpec().getTemplate().getSpec();
  }

  Container container(String name) {
    return pod().getContainers().stream().filter(c -> c.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no container " + name));
  }

  Volume volume(String name) {
    return pod().getVolumes().stream().filter(v -> v.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no volume " + name));
  }

  /** The driver's config.yaml as the ConfigMap holds it. */
  String driverConfig() {
    return one(ConfigMap.class).getData().get("config.yaml");
  }

  /**
   * The file on the node that {@code containerPath} reaches in {@code container}: through the
   * mount with the longest matching path, which must be a hostPath volume.
   */
  String hostPathOf(Container container, String containerPath) {
    Path target = Path.of(containerPath).normalize();
    VolumeMount mount = container.getVolumeMounts().stream()
        .filter(m -> target.startsWith(Path.of(m.getMountPath())))
        .max(Comparator.comparingInt(m -> Path.of(m.getMountPath()).getNameCount()))
        .orElseThrow(() -> new AssertionError(container.getName() + " mounts nothing at "
            + containerPath));
    Volume volume = volume(mount.getName());
    assertThat(volume.getHostPath()).as("volume %s is a hostPath", volume.getName()).isNotNull();
    Path relative = Path.of(mount.getMountPath()).relativize(target);
    return Path.of(volume.getHostPath().getPath()).resolve(relative).toString();
  }

  /** The value of {@code --name=value} among {@code container}'s args. */
  static Optional<String> flag(Container container, String name) {
    return container.getArgs().stream().filter(a -> a.startsWith(name + "="))
        .map(a -> a.substring(name.length() + 1)).findFirst();
  }

  /** The project version in pom.xml: the chart's version and appVersion and the image's tag. */
  static String projectVersion() {
    try {
      var pom = DocumentBuilderFactory.newInstance().newDocumentBuilder()
          .parse(Path.of("pom.xml").toFile());
      return XPathFactory.newInstance().newXPath().evaluate("/project/version", pom).trim();
    } catch (Exception e) {
      throw new IllegalStateException("pom.xml has no readable version", e);
    }
  }

  /**
   * A copy of the chart under {@code dir} whose values.yaml is the chart's with {@code values}
   * merged in: {@code helm lint} reads only the chart's own values file.
   */
  static Path chartWithValues(String values, Path dir) {
    try {
      Path copy = dir.resolve("model-csi-driver");
      try (var files = Files.walk(CHART)) {
        for (Path source : (Iterable<Path>) files::iterator) {
          Path target = copy.resolve(CHART.relativize(source).toString());
          if (Files.isDirectory(source)) {
            Files.createDirectories(target);
          } else {
            Files.copy(source, target);
          }
        }
      }
      JsonNode merged = merge((ObjectNode) YAML.readTree(CHART.resolve("values.yaml").toFile()),
          YAML.readTree(values));
      YAML.writeValue(copy.resolve("values.yaml").toFile(), merged);
      return copy;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static JsonNode merge(ObjectNode base, JsonNode overrides) {
    overrides.fields().forEachRemaining(e -> {
      JsonNode current = base.get(e.getKey());
      if (current instanceof ObjectNode object && e.getValue().isObject()) {
        merge(object, e.getValue());
      } else {
        base.set(e.getKey(), e.getValue());
      }
    });
    return base;
  }
}
