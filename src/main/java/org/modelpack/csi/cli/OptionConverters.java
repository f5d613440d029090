package org.modelpack.csi.cli;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import org.modelpack.csi.config.ByteSize;
import org.modelpack.csi.registry.Reference;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Option values checked while the command line is parsed, so a bad one is a usage error naming
 * the option and the value, before anything is done.
 */
final class OptionConverters {
  private OptionConverters() {}

  /** {@code unix:///abs/path} → the socket's path. */
  static final class UnixEndpoint implements ITypeConverter<Path> {
    @Override
    public Path convert(String value) {
      String path = value.startsWith("unix://") ? value.substring("unix://".length()) : "";
      if (!path.startsWith("/")) {
        throw new TypeConversionException("'" + value + "' is not a unix socket URL such as "
            + "unix:///var/lib/model-csi/csi/csi.sock");
      }
      return Path.of(path).normalize();
    }
  }

  /** An absolute path, normalised (kubelet's target paths are absolute). */
  static final class AbsolutePath implements ITypeConverter<Path> {
    @Override
    public Path convert(String value) {
      Path path;
      try {
        path = Path.of(value);
      } catch (InvalidPathException e) {
        throw new TypeConversionException("'" + value + "' is not a valid path");
      }
      if (!path.isAbsolute()) {
        throw new TypeConversionException("'" + value + "' must be an absolute path, such as "
            + Path.of("").toAbsolutePath().resolve(path).normalize());
      }
      return path.normalize();
    }
  }

  /** A whole number of seconds, at least 1. */
  static final class PositiveSeconds implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      long seconds;
      try {
        seconds = Long.parseLong(value.trim());
      } catch (NumberFormatException e) {
        seconds = 0;
      }
      if (seconds < 1) {
        throw new TypeConversionException("'" + value + "' is not a number of seconds of 1 or "
            + "more");
      }
      return Duration.ofSeconds(seconds);
    }
  }

  /** A size as the config file takes it: {@code 50GiB}, {@code 500GB}, a number of bytes. */
  static final class Size implements ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      try {
        return ByteSize.parse(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }

  /** An OCI reference, {@code host[:port]/repository:tag} or {@code …@sha256:…}. */
  static final class ModelReference implements ITypeConverter<Reference> {
    @Override
    public Reference convert(String value) {
      try {
        return Reference.parse(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
