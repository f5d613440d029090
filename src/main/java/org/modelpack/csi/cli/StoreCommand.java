package org.modelpack.csi.cli;

import io.grpc.StatusRuntimeException;
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
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "store", mixinStandardHelpOptions = true,
    description = "Inspect and evict the node's layer store (through the running driver).",
    subcommands = {StoreCommand.ListCommand.class, StoreCommand.EvictCommand.class})
final class StoreCommand implements Runnable {
  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "List store entries (digest, kind, size, volumes using it, last use) and "
          + "the store's counters.")
  static final class ListCommand implements Callable<Integer> {
    @Mixin EndpointOptions endpoint;

    @Override
    public Integer call() {
      ListEntriesResponse r;
      try (CsiClient client = new CsiClient(endpoint.socket())) {
        r = client.storeAdmin().withDeadlineAfter(30, TimeUnit.SECONDS)
            .listEntries(ListEntriesRequest.getDefaultInstance());
      } catch (StatusRuntimeException e) {
        System.err.println("store list failed: " + e.getStatus());
        return 1;
      }
      System.out.printf("%-78s %-5s %12s %-24s %s%n", "DIGEST", "KIND", "SIZE", "LAST USED",
          "VOLUMES");
      for (StoreEntryInfo e : r.getEntriesList()) {
        System.out.printf("%-78s %-5s %12s %-24s %s%n", e.getDigest(), e.getKind(),
            ByteSize.format(e.getSizeBytes()),
            Instant.ofEpochMilli(e.getLastUsedUnixMillis()).toString(),
            e.getVolumesCount() == 0 ? "-" : String.join(",", e.getVolumesList()));
      }
      StoreCounters c = r.getCounters();
      System.out.printf("%d entries, %s in %s%n", r.getEntriesCount(),
          ByteSize.format(r.getTotalSizeBytes()), r.getStoreDir());
      System.out.printf("hits %d, joined downloads %d, misses %d, downloaded %s, saved by dedup %s,"
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
    @Mixin EndpointOptions endpoint;

    @Option(names = "--all-unreferenced", description = "Evict every unreferenced entry")
    boolean all;

    @Option(names = "--target-size", paramLabel = "SIZE",
        description = "Evict until the store holds at most SIZE (e.g. 50GiB)")
    String targetSize;

    @Override
    public Integer call() {
      EvictRequest.Builder req = EvictRequest.newBuilder().setAllUnreferenced(all);
      if (targetSize != null) {
        req.setTargetSizeBytes(Math.max(1, ByteSize.parse(targetSize)));
      }
      EvictResponse r;
      try (CsiClient client = new CsiClient(endpoint.socket())) {
        r = client.storeAdmin().withDeadlineAfter(10, TimeUnit.MINUTES).evict(req.build());
      } catch (StatusRuntimeException e) {
        System.err.println("store evict failed: " + e.getStatus());
        return 1;
      }
      r.getEvictedList().forEach(System.out::println);
      System.out.printf("evicted %d entries, freed %s%n", r.getEvictedCount(),
          ByteSize.format(r.getBytesFreed()));
      return 0;
    }
  }
}
