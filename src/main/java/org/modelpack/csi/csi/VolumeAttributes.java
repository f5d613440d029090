package org.modelpack.csi.csi;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import csi.v1.Csi.VolumeCapability.AccessMode.Mode;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.modelpack.csi.json.Json;
import org.modelpack.csi.pull.LayerFilter;
import org.modelpack.csi.volume.PodRef;

/**
 * The volume attributes ({@code volume_context}) of a publish, parsed and checked: the one place
 * that knows the {@code <service_name>/…} keys, so a new attribute goes here. Every refusal is
 * INVALID_ARGUMENT and names its key.
 *
 * @param reference the model's OCI reference ({@code /reference}), not blank, without white
 *     space around it; its syntax is checked where it is used
 * @param writable {@code /writable}: private, writable copies and a read-write mount
 * @param filter {@code /exclude-model-weights} and {@code /exclude-file-patterns}
 * @param checkDiskQuota {@code /check-disk-quota}: check the disk quota before pulling
 * @param pod kubelet's {@code csi.storage.k8s.io/pod.*} (with {@code podInfoOnMount}); null
 *     without a pod name and namespace
 */
public record VolumeAttributes(String reference, boolean writable, LayerFilter filter,
    boolean checkDiskQuota, PodRef pod) {
  static final String REFERENCE = "/reference";
  static final String TYPE = "/type";
  /** The only {@code /type} a model volume may name (the Go driver's value). */
  static final String IMAGE_TYPE = "image";
  static final String WRITABLE = "/writable";
  static final String EXCLUDE_MODEL_WEIGHTS = "/exclude-model-weights";
  static final String EXCLUDE_FILE_PATTERNS = "/exclude-file-patterns";
  static final String CHECK_DISK_QUOTA = "/check-disk-quota";
  static final String POD_NAME = "csi.storage.k8s.io/pod.name";
  static final String POD_NAMESPACE = "csi.storage.k8s.io/pod.namespace";
  static final String POD_UID = "csi.storage.k8s.io/pod.uid";

  private static final ObjectMapper JSON = Json.mapper();
  private static final Set<Mode> WRITER_MODES = EnumSet.of(
      Mode.SINGLE_NODE_WRITER, Mode.SINGLE_NODE_SINGLE_WRITER, Mode.SINGLE_NODE_MULTI_WRITER,
      Mode.MULTI_NODE_SINGLE_WRITER, Mode.MULTI_NODE_MULTI_WRITER);

  /**
   * Parses the attributes under {@code serviceName}'s keys; unknown keys are ignored (kubelet
   * adds its own). {@code readonly} and {@code mode} are the request's: a writable volume needs
   * a writer mode and a read-write publish.
   */
  public static VolumeAttributes parse(String serviceName, Map<String, String> context,
      boolean readonly, Mode mode) {
    String referenceKey = serviceName + REFERENCE;
    String reference = context.getOrDefault(referenceKey, "");
    if (reference.isBlank()) {
      throw GrpcErrors.invalid("volume_context has no " + referenceKey
          + ": set it to the model's OCI reference (volumes without one are not supported yet)");
    }
    if (!reference.equals(reference.strip())) {
      throw GrpcErrors.invalid(referenceKey + " '" + reference
          + "' has leading or trailing white space; a reference has none");
    }
    String writableKey = serviceName + WRITABLE;
    boolean writable = parseBool(context.get(writableKey), writableKey);
    if (writable && (readonly || !WRITER_MODES.contains(mode))) {
      throw GrpcErrors.invalid(writableKey + "=true needs readonly=false and a writer access "
          + "mode, got readonly=" + readonly + " and " + mode);
    }
    String weightsKey = serviceName + EXCLUDE_MODEL_WEIGHTS;
    LayerFilter filter = layerFilter(parseBool(context.get(weightsKey), weightsKey),
        context.get(serviceName + EXCLUDE_FILE_PATTERNS), serviceName + EXCLUDE_FILE_PATTERNS);
    String quotaKey = serviceName + CHECK_DISK_QUOTA;
    boolean checkDiskQuota = parseBool(context.get(quotaKey), quotaKey);
    return new VolumeAttributes(reference, writable, filter, checkDiskQuota, pod(context));
  }

  /**
   * Parses the parameters of a PVC's volume (a StorageClass's, or the volume_context CreateVolume
   * returned): as {@link #parse}, and {@code /type}, when set, must be {@code image}. The
   * volume's writability decides the request's: a writable volume is checked as a read-write
   * publish with a writer mode would be.
   */
  static VolumeAttributes parseProvisioned(String serviceName, Map<String, String> parameters) {
    String typeKey = serviceName + TYPE;
    String type = parameters.get(typeKey);
    if (type != null && !type.strip().equals(IMAGE_TYPE)) {
      throw GrpcErrors.invalid(typeKey + " must be '" + IMAGE_TYPE + "' (or unset), got '"
          + type + "'");
    }
    boolean writable = writable(serviceName, parameters);
    return parse(serviceName, parameters, !writable,
        writable ? Mode.SINGLE_NODE_WRITER : Mode.MULTI_NODE_READER_ONLY);
  }

  /** The {@code /writable} attribute; INVALID_ARGUMENT naming it when it is not a bool. */
  static boolean writable(String serviceName, Map<String, String> context) {
    return parseBool(context.get(serviceName + WRITABLE), serviceName + WRITABLE);
  }

  /** True for the access modes that let a pod write. */
  static boolean isWriter(Mode mode) {
    return WRITER_MODES.contains(mode);
  }

  /** Only for Events: a pod kubelet names without its namespace cannot be addressed. */
  private static PodRef pod(Map<String, String> context) {
    String name = context.getOrDefault(POD_NAME, "");
    String namespace = context.getOrDefault(POD_NAMESPACE, "");
    if (name.isBlank() || namespace.isBlank()) {
      return null;
    }
    return new PodRef(namespace, name, context.getOrDefault(POD_UID, ""));
  }

  private static LayerFilter layerFilter(boolean excludeWeights, String patternsJson,
      String patternsKey) {
    List<String> patterns = parsePatterns(patternsJson, patternsKey);
    try {
      return new LayerFilter(excludeWeights, patterns);
    } catch (IllegalArgumentException e) {
      throw GrpcErrors.invalid(patternsKey + ": " + e.getMessage());
    }
  }

  /**
   * A JSON array of strings, as the Go driver reads it; blank or {@code null} means none.
   * Package-private for tests.
   */
  static List<String> parsePatterns(String value, String key) {
    if (value == null || value.isBlank()) {
      return List.of();
    }
    JsonNode node;
    try {
      node = JSON.readTree(value.trim());
    } catch (JsonProcessingException e) {
      throw GrpcErrors.invalid(key + " must be a JSON array of strings, e.g. "
          + "[\"*.bin\", \"!config.json\"]; cannot parse '" + value + "': "
          + e.getOriginalMessage());
    }
    if (node == null || node.isNull()) {
      return List.of();
    }
    if (!node.isArray()) {
      throw GrpcErrors.invalid(key + " must be a JSON array of strings, got " + node.getNodeType()
          .name().toLowerCase() + " '" + value + "'");
    }
    List<String> patterns = new ArrayList<>();
    for (int i = 0; i < node.size(); i++) {
      if (!node.get(i).isTextual()) {
        throw GrpcErrors.invalid(key + " must be a JSON array of strings; element " + i + " is "
            + node.get(i).getNodeType().name().toLowerCase() + " " + node.get(i));
      }
      patterns.add(node.get(i).asText());
    }
    return patterns;
  }

  /** Go's strconv.ParseBool values, plus yes/no, case-insensitive. Package-private for tests. */
  static boolean parseBool(String value, String key) {
    if (value == null || value.isBlank()) {
      return false;
    }
    return switch (value.trim().toLowerCase()) {
      case "true", "1", "t", "yes" -> true;
      case "false", "0", "f", "no" -> false;
      default -> throw GrpcErrors.invalid(key + " must be true or false, got '" + value + "'");
    };
  }
}
