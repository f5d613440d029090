package org.modelpack.csi.config;

/** The configuration cannot be used; the message names the key and what is wrong with it. */
public class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
