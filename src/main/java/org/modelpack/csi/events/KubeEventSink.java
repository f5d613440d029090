package org.modelpack.csi.events;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Creates core/v1 Events (API group {@code ""}) with the pod as involved object, as kubelet's
 * own events are, so {@code kubectl describe pod} lists them beside FailedMount. The client is
 * made on the first event: a node that mounts nothing never loads it (about 16 MiB resident).
 */
public final class KubeEventSink implements EventSink, AutoCloseable {
  /** Room for the unique suffix in a name of at most 253 characters. */
  private static final int MAX_NAME_PREFIX = 230;

  private final Supplier<KubernetesClient> connect;
  /** Made by the sender thread on its first event; read by {@link #close} from any thread. */
  private volatile KubernetesClient client;
  private final String component;
  private final String host;
  /** Unique names as client-go makes them, {@code <pod>.<hex nanos>}, never repeated here. */
  private final AtomicLong suffix = new AtomicLong(
      ChronoUnit.NANOS.between(Instant.EPOCH, Instant.now()));

  /**
   * @param component the reporting component (the driver's name)
   * @param host the node
   */
  public KubeEventSink(KubernetesClient client, String component, String host) {
    this(() -> client, component, host);
  }

  /**
   * @param connect makes the client, called on the first event (again after it threw)
   */
  public static KubeEventSink connectingOnFirstEvent(Supplier<KubernetesClient> connect,
      String component, String host) {
    return new KubeEventSink(connect, component, host);
  }

  private KubeEventSink(Supplier<KubernetesClient> connect, String component, String host) {
    this.connect = connect;
    this.component = component;
    this.host = host;
  }

  @Override
  public void send(PodEvent e) {
    String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    String name = e.pod().name();
    Event event = new EventBuilder()
        .withNewMetadata()
          .withName((name.length() > MAX_NAME_PREFIX ? name.substring(0, MAX_NAME_PREFIX) : name)
              + "." + Long.toHexString(suffix.incrementAndGet()))
          .withNamespace(e.pod().namespace())
        .endMetadata()
        .withNewInvolvedObject()
          .withApiVersion("v1").withKind("Pod").withName(name)
          .withNamespace(e.pod().namespace())
          .withUid(e.pod().uid().isEmpty() ? null : e.pod().uid())
        .endInvolvedObject()
        .withType(e.type()).withReason(e.reason()).withMessage(e.message())
        .withNewSource().withComponent(component).withHost(host).endSource()
        .withReportingComponent(component).withReportingInstance(host)
        .withFirstTimestamp(now).withLastTimestamp(now).withCount(1)
        .build();
    client().v1().events().inNamespace(e.pod().namespace()).resource(event).create();
  }

  private KubernetesClient client() {
    KubernetesClient c = client;
    if (c == null) {
      c = connect.get();
      client = c;
    }
    return c;
  }

  @Override
  public void close() {
    KubernetesClient c = client;
    if (c != null) {
      c.close();
    }
  }
}
