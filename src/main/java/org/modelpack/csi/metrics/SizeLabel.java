package org.modelpack.csi.metrics;

/**
 * The Go driver's {@code size_in_mb} label of {@code model_csi_node_pull_op_latency_in_seconds}:
 * the smallest of the buckets 1 MiB, 2 MiB, … 2^23 MiB that holds the layer, written as
 * go-humanize's {@code IBytes} writes it ("1.0 MiB", "16 MiB", "1.0 GiB"), or "+Inf" above.
 */
final class SizeLabel {
  static final int LARGEST_BUCKET_EXPONENT = 23;
  private static final long MIB = 1L << 20;
  private static final String[] UNITS = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};

  private SizeLabel() {}

  static String of(long bytes) {
    for (int k = 0; k <= LARGEST_BUCKET_EXPONENT; k++) {
      long bound = MIB << k;
      if (bytes <= bound) {
        return iBytes(bound);
      }
    }
    return "+Inf";
  }

  /** go-humanize {@code IBytes}: one decimal below 10, none from 10 on. */
  static String iBytes(long bytes) {
    if (bytes < 10) {
      return bytes + " B";
    }
    int e = (63 - Long.numberOfLeadingZeros(bytes)) / 10;
    double val = Math.floor(bytes / Math.pow(1024, e) * 10 + 0.5) / 10;
    return String.format(java.util.Locale.ROOT, val < 10 ? "%.1f %s" : "%.0f %s", val,
        UNITS[e]);
  }
}
