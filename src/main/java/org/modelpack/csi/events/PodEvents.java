package org.modelpack.csi.events;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.util.function.LongSupplier;
import org.modelpack.csi.volume.NodeOps;
import org.modelpack.csi.volume.VolumeEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns volume events into Kubernetes Events on the pod that asked for the volume, sent off the
 * publish path by an {@link EventSender}. Events without a pod (kubelet without
 * {@code podInfoOnMount}, the CLI) are ignored; so is everything when {@link #OFF}.
 */
public final class PodEvents implements NodeOps, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PodEvents.class);
  /** Set by Kubernetes in every container of a pod: the driver runs in a cluster. */
  static final String IN_CLUSTER_ENV = "KUBERNETES_SERVICE_HOST";
  private static final String IN_CLUSTER_PORT_ENV = "KUBERNETES_SERVICE_PORT";
  /** A slow API server holds the sender, never a publish; still, give up on a call soon. */
  private static final int REQUEST_TIMEOUT_MS = 10_000;

  public static final PodEvents OFF = new PodEvents(null, null, System::nanoTime);

  private final EventSender sender;
  private final AutoCloseable sink;
  private final ProgressThrottle progress;

  private PodEvents(EventSender sender, AutoCloseable sink, LongSupplier nanoTime) {
    this.sender = sender;
    this.sink = sink;
    this.progress = new ProgressThrottle(nanoTime);
  }

  /**
   * Events to the API server of the cluster the driver runs in, with its ServiceAccount; {@link
   * #OFF} outside a cluster (no {@value #IN_CLUSTER_ENV}: tests, {@code serve} on a laptop).
   */
  public static PodEvents inCluster(String component, String host) {
    if (System.getenv(IN_CLUSTER_ENV) == null) {
      log.info("not in a cluster ({} unset): no Kubernetes Events", IN_CLUSTER_ENV);
      return OFF;
    }
    KubeEventSink sink = KubeEventSink.connectingOnFirstEvent(PodEvents::inClusterClient,
        component, host);
    log.info("Kubernetes Events on published pods through the API server at {}:{}",
        System.getenv(IN_CLUSTER_ENV), System.getenv(IN_CLUSTER_PORT_ENV));
    return sendingTo(sink, EventSender.DEFAULT_CAPACITY, System::nanoTime);
  }

  /**
   * The client, with the ServiceAccount's token and CA. A client that cannot be made fails the
   * event being sent (counted and logged), never the node; the next event tries again.
   */
  private static KubernetesClient inClusterClient() {
    Config config = new ConfigBuilder(Config.autoConfigure(null))
        .withRequestTimeout(REQUEST_TIMEOUT_MS).withConnectionTimeout(REQUEST_TIMEOUT_MS)
        .withRequestRetryBackoffLimit(1).build();
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  /**
   * Events to {@code sink}, at most {@code capacity} waiting; closing closes the sink when it
   * is {@link AutoCloseable}.
   */
  public static PodEvents sendingTo(EventSink sink, int capacity, LongSupplier nanoTime) {
    return new PodEvents(new EventSender(sink, capacity),
        sink instanceof AutoCloseable c ? c : null, nanoTime);
  }

  @Override
  public void record(String op, Outcome outcome, long nanos) {
    // operations are for metrics
  }

  @Override
  public void event(VolumeEvent event) {
    if (sender == null || event.pod() == null) {
      return;
    }
    if (event instanceof VolumeEvent.PullProgressed && !progress.allow(event.volumeId())) {
      return;
    }
    if (event instanceof VolumeEvent.Mounted || event instanceof VolumeEvent.Failed) {
      progress.ended(event.volumeId());
    }
    sender.offer(EventMessages.of(event));
  }

  /** Events dropped because the API server did not keep up. */
  public long dropped() {
    return sender == null ? 0 : sender.dropped();
  }

  /** Events the API server refused or could not be reached for. */
  public long failed() {
    return sender == null ? 0 : sender.failed();
  }

  @Override
  public void close() {
    if (sender == null) {
      return;
    }
    sender.close();
    if (sink != null) {
      try {
        sink.close();
      } catch (Exception e) {
        log.debug("closing the event sink: {}", e.toString());
      }
    }
  }
}
