package org.modelpack.csi.json;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

/**
 * The project's Jackson mappers, each configured once here, so that every file the driver
 * writes and reads is handled the same way.
 *
 * <p>The mappers are shared: never reconfigure one. A caller that needs other settings derives
 * an immutable reader or writer, e.g. {@code mapper().readerFor(Manifest.class)
 * .without(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)} or {@code mapper()
 * .writer(SerializationFeature.INDENT_OUTPUT)}.
 */
public final class Json {
  /**
   * Jackson's defaults plus {@code java.time} types written as ISO-8601 text (records on disk
   * are read by people and by other tools, not only by this driver).
   */
  private static final ObjectMapper JSON = JsonMapper.builder()
      .addModule(new JavaTimeModule())
      .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
      .build();

  /** Jackson's defaults; the driver's configuration file is the only YAML it reads. */
  private static final ObjectMapper YAML = new YAMLMapper();

  private Json() {}

  /** The JSON mapper. */
  public static ObjectMapper mapper() {
    return JSON;
  }

  /** The YAML mapper. */
  public static ObjectMapper yamlMapper() {
    return YAML;
  }
}
