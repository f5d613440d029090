package org.modelpack.csi.cli;

import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.modelpack.csi.admin.v1.EvictRequest;
import org.modelpack.csi.admin.v1.EvictResponse;
import org.modelpack.csi.admin.v1.ListEntriesRequest;
import org.modelpack.csi.admin.v1.ListEntriesResponse;
import org.modelpack.csi.admin.v1.StoreCounters;
import org.modelpack.csi.admin.v1.StoreEntryInfo;
import org.modelpack.csi.config.ByteSize;
import org.modelpack.csi.csi.CsiClient;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "store", mixinStandardHelpOptions = true,
    description = "Inspect, evict and prefetch the node's layer store (through the running "
        + "driver).",
    subcommands = {StoreCommand.ListCommand.class, StoreCommand.EvictCommand.class,
        StorePullCommand.class})
final class StoreCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "List store entries (digest, kind, size, volumes using it, last use) and "
          + "the store's counters.")
  static final class ListCommand implements Callable<Integer> {
    private static final int TIMEOUT_SECONDS = 30;

    @Spec CommandSpec spec;
    @Mixin EndpointOptions endpoint;

    @Override
    public Integer call() {
      Path socket = endpoint.socket();
      ListEntriesResponse r;
      try (CsiClient client = EndpointOptions.connect(socket)) {
        r = client.storeAdmin().withDeadlineAfter(TIMEOUT_SECONDS, TimeUnit.SECONDS)
            .listEntries(ListEntriesRequest.getDefaultInstance());
      } catch (StatusRuntimeException e) {
        throw GrpcFailures.of(e, socket, TIMEOUT_SECONDS + " s");
      }
      PrintWriter out = spec.commandLine().getOut();
      out.printf("%-78s %-5s %12s %-24s %s%n", "DIGEST", "KIND", "SIZE", "LAST USED",
          "VOLUMES");
      for (StoreEntryInfo e : r.getEntriesList()) {
        out.printf("%-78s %-5s %12s %-24s %s%n", e.getDigest(), e.getKind(),
            ByteSize.format(e.getSizeBytes()),
            Instant.ofEpochMilli(e.getLastUsedUnixMillis()).toString(),
            e.getVolumesCount() == 0 ? "-" : String.join(",", e.getVolumesList()));
      }
      StoreCounters c = r.getCounters();
      out.printf("%d entries, %s in %s%n", r.getEntriesCount(),
          ByteSize.format(r.getTotalSizeBytes()), r.getStoreDir());
      out.printf("hits %d, joined downloads %d, misses %d, downloaded %s, saved by dedup %s,"
          + " evictions %d (%s)%n", c.getHits(), c.getJoins(), c.getMisses(),
          ByteSize.format(c.getBytesDownloaded()), ByteSize.format(c.getBytesSavedByDedup()),
          c.getEvictions(), ByteSize.format(c.getBytesEvicted()));
      return 0;
    }
  }

  @Command(name = "evict", mixinStandardHelpOptions = true,
      description = {"Evict unreferenced entries, least recently used first.",
          "Without options, applies the configured cache.max_size and disk watermarks."})
  static final class EvictCommand implements Callable<Integer> {
    private static final int TIMEOUT_SECONDS = 600;

    @Spec CommandSpec spec;
    @Mixin EndpointOptions endpoint;

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Scope scope;

    /** What to evict beyond the configured budget; one or the other. */
    static final class Scope {
      @Option(names = "--all-unreferenced", required = true,
          description = "Evict every unreferenced entry")
      boolean all;

      @Option(names = "--target-size", required = true, paramLabel = "SIZE",
          converter = OptionConverters.Size.class,
          description = "Evict until the store holds at most SIZE (e.g. 50GiB, 500GB, bytes)")
      Long targetSize;
    }

    @Override
    public Integer call() {
      EvictRequest.Builder req = EvictRequest.newBuilder();
      if (scope != null && scope.all) {
        req.setAllUnreferenced(true);
      } else if (scope != null && scope.targetSize != null) {
        // 0 would mean "apply the configured budget" on the wire; 1 byte empties it as asked.
        req.setTargetSizeBytes(Math.max(1, scope.targetSize));
      }
      Path socket = endpoint.socket();
      EvictResponse r;
      try (CsiClient client = EndpointOptions.connect(socket)) {
        r = client.storeAdmin().withDeadlineAfter(TIMEOUT_SECONDS, TimeUnit.SECONDS)
            .evict(req.build());
      } catch (StatusRuntimeException e) {
        throw GrpcFailures.of(e, socket, TIMEOUT_SECONDS + " s");
      }
      PrintWriter out = spec.commandLine().getOut();
      r.getEvictedList().forEach(out::println);
      out.printf("evicted %d entries, freed %s%n", r.getEvictedCount(),
          ByteSize.format(r.getBytesFreed()));
      return 0;
    }
  }
}
