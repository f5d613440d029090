package org.modelpack.csi.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.modelpack.csi.json.Json;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Reads the configuration's YAML into a tree. Every failure is one line naming the file and,
 * for a syntax error, the parser's problem and where it is: the parser's own message spans
 * several lines (context, a snippet with a caret), which a log line or a CLI error cannot carry.
 */
final class ConfigYaml {
  private ConfigYaml() {}

  /** The file's mapping; an empty file is an empty mapping. */
  static JsonNode readFile(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (CharacterCodingException e) {
      throw new ConfigException("config file " + file + " is not UTF-8 text", e);
    } catch (NoSuchFileException e) {
      throw new ConfigException("config file " + file + " does not exist", e);
    } catch (IOException e) {
      String reason = e instanceof FileSystemException f && f.getReason() != null
          ? f.getReason() : e.getMessage();
      throw new ConfigException("cannot read config file " + file + ": " + reason, e);
    }
    JsonNode tree = parse(text, "config file " + file);
    if (!tree.isObject()) {
      throw new ConfigException("config file " + file + " must be a YAML mapping");
    }
    return tree;
  }

  /** The text's tree ({@code what} names it in errors); empty text is an empty mapping. */
  static JsonNode parse(String text, String what) {
    JsonNode tree;
    try {
      tree = Json.yamlMapper().readTree(text);
    } catch (JsonProcessingException e) {
      throw new ConfigException(what + " is not valid YAML: " + problem(e), e);
    }
    return tree == null || tree.isMissingNode() || tree.isNull() ? emptyMapping() : tree;
  }

  static JsonNode emptyMapping() {
    return Json.yamlMapper().createObjectNode();
  }

  private static String problem(JsonProcessingException e) {
    if (e.getCause() instanceof MarkedYAMLException m && m.getProblem() != null) {
      String where = m.getProblemMark() == null ? ""
          : " at line " + (m.getProblemMark().getLine() + 1) + ", column "
              + (m.getProblemMark().getColumn() + 1);
      return m.getProblem().strip().lines().findFirst().orElse("") + where;
    }
    String first = String.valueOf(e.getOriginalMessage()).strip().lines().findFirst().orElse("");
    JsonLocation at = e.getLocation();
    return at == null ? first
        : first + " at line " + at.getLineNr() + ", column " + at.getColumnNr();
  }
}
