package org.modelpack.csi.pull;

import java.io.IOException;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.fs.NoSpace;
import org.modelpack.csi.unpack.ConflictingPathException;
import org.modelpack.csi.unpack.ExpansionLimitException;
import org.modelpack.csi.unpack.MalformedLayerException;
import org.modelpack.csi.unpack.UnsafePathException;
import org.modelpack.csi.unpack.UnsupportedEntryException;
import org.modelpack.csi.registry.RegistryException;

/** Classifies what went wrong during a pull so the user sees the right code and a clear cause. */
final class Failures {
  private Failures() {}

  static DriverException classify(String context, Throwable e) {
    if (e instanceof DriverException d) {
      return d;
    }
    if (e instanceof RegistryException r) {
      ErrorKind kind = switch (r.kind()) {
        case NOT_FOUND -> ErrorKind.NOT_FOUND;
        case UNAUTHENTICATED -> ErrorKind.UNAUTHENTICATED;
        case PERMISSION_DENIED -> ErrorKind.PERMISSION_DENIED;
        case UNAVAILABLE -> ErrorKind.UNAVAILABLE;
        case INVALID_CONTENT -> ErrorKind.FAILED_PRECONDITION;
        case INVALID_ARGUMENT -> ErrorKind.INVALID_ARGUMENT;
      };
      return new DriverException(kind, context + ": " + r.getMessage(), r);
    }
    // A tar layer that is not the archive it claims, or that expands beyond its ratio bound,
    // is the artifact's fault; one that needs more room than the node has is not.
    if (e instanceof MalformedLayerException) {
      return new DriverException(ErrorKind.FAILED_PRECONDITION, context + ": " + e.getMessage(), e);
    }
    if (e instanceof ExpansionLimitException x) {
      return new DriverException(x.bound() == ExpansionLimitException.Bound.ARCHIVE
          ? ErrorKind.FAILED_PRECONDITION : ErrorKind.RESOURCE_EXHAUSTED,
          context + ": " + e.getMessage(), e);
    }
    if (NoSpace.causedBy(e)) {
      return new DriverException(ErrorKind.RESOURCE_EXHAUSTED,
          context + ": no space left on device", e);
    }
    // Unsafe or conflicting paths, unsupported tar entries, unknown layer types and malformed
    // metadata (both IllegalArgumentExceptions) describe a bad artifact, not a bug.
    if (e instanceof UnsafePathException || e instanceof ConflictingPathException
        || e instanceof UnsupportedEntryException || e instanceof IllegalArgumentException) {
      return new DriverException(ErrorKind.INVALID_ARGUMENT, context + ": " + e.getMessage(), e);
    }
    if (e instanceof IOException) {
      return new DriverException(ErrorKind.INTERNAL, context + ": " + e.getMessage(), e);
    }
    return new DriverException(ErrorKind.INTERNAL, context + ": " + e, e);
  }

}
