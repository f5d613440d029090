package org.modelpack.csi.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.pull.PullStart;
import org.modelpack.csi.volume.PodRef;
import org.modelpack.csi.volume.VolumeEvent;

@EnableKubernetesMockClient(crud = true)
class PodEventsTest {
  static KubernetesClient client;
  static final PodRef POD = new PodRef("ml", "inference-0", "0b1c-uid");
  static final String REF = "registry.local/models/m:v1";

  static VolumeEvent.PullStarted started(PodRef pod) {
    return new VolumeEvent.PullStarted(pod, "vol-1", REF, new PullStart(3_000_000, 4, 1, 1_000));
  }

  static VolumeEvent.PullProgressed progress() {
    return new VolumeEvent.PullProgressed(POD, "vol-1", REF, 500_000, 3_000_000);
  }

  @Test
  void pullStartedAndFailedReachTheApiServerAsCoreEventsOnThePod() {
    // Not closed here: closing the sink would close the extension's client.
    PodEvents events = PodEvents.sendingTo(new KubeEventSink(client, "model.csi.modelpack.org",
        "node-a"), 8, System::nanoTime);
    events.event(started(POD));
    events.event(new VolumeEvent.Failed(POD, "vol-1", REF, ErrorKind.NOT_FOUND,
        "manifest unknown"));

    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(
        client.v1().events().inNamespace("ml").list().getItems()).hasSize(2));
    List<Event> items = client.v1().events().inNamespace("ml").list().getItems();
    Event start = items.stream().filter(e -> e.getReason().equals("PullStarted")).findFirst()
        .orElseThrow();
    assertThat(start.getType()).isEqualTo("Normal");
    assertThat(start.getInvolvedObject().getKind()).isEqualTo("Pod");
    assertThat(start.getInvolvedObject().getName()).isEqualTo("inference-0");
    assertThat(start.getInvolvedObject().getNamespace()).isEqualTo("ml");
    assertThat(start.getInvolvedObject().getUid()).isEqualTo("0b1c-uid");
    assertThat(start.getSource().getHost()).isEqualTo("node-a");
    assertThat(start.getMessage()).contains(REF, "4 layers", "1 of them");
    Event failed = items.stream().filter(e -> e.getReason().equals("Failed")).findFirst()
        .orElseThrow();
    assertThat(failed.getType()).isEqualTo("Warning");
    assertThat(failed.getMessage()).contains("NOT_FOUND", "manifest unknown");
  }

  @Test
  void theClientIsMadeOnTheFirstEventAndMadeAgainWhenItCouldNotBe() {
    AtomicInteger made = new AtomicInteger();
    PodRef pod = new PodRef("lazy", "inference-1", "");
    try (PodEvents events = PodEvents.sendingTo(KubeEventSink.connectingOnFirstEvent(() -> {
      if (made.incrementAndGet() == 1) {
        throw new KubernetesClientException("no service account token yet");
      }
      return new KubernetesClientBuilder().withConfig(client.getConfiguration()).build();
    }, "c", "n"), 8, System::nanoTime)) {
      assertThat(made).hasValue(0); // an idle node never makes a client

      events.event(started(pod));
      await().atMost(Duration.ofSeconds(20)).until(() -> events.failed() == 1);
      events.event(started(pod));
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(
          client.v1().events().inNamespace("lazy").list().getItems()).hasSize(1));
      events.event(started(pod));
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(
          client.v1().events().inNamespace("lazy").list().getItems()).hasSize(2));
      assertThat(made).hasValue(2); // made once it worked, then kept
    }
  }

  @Test
  void aFullQueueDropsAndCountsWithoutWaiting() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    List<PodEvent> sent = new CopyOnWriteArrayList<>();
    try (PodEvents events = PodEvents.sendingTo(e -> {
      entered.countDown();
      release.await();
      sent.add(e);
    }, 1, System::nanoTime)) {
      events.event(started(POD));
      assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue(); // the sender is stuck in it
      events.event(started(POD)); // waits in the queue
      events.event(started(POD)); // no room
      events.event(started(POD));

      assertThat(events.dropped()).isEqualTo(2);
      release.countDown();
      await().atMost(Duration.ofSeconds(10)).until(() -> sent.size() == 2);
    }
  }

  @Test
  void anApiServerThatIsDownCountsAFailureAndThrowsNothing() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    Config config = new ConfigBuilder(Config.empty()).withMasterUrl("http://127.0.0.1:"
        + closedPort).withRequestRetryBackoffLimit(0).build();
    try (PodEvents events = PodEvents.sendingTo(new KubeEventSink(
        new KubernetesClientBuilder().withConfig(config).build(), "c", "n"), 8,
        System::nanoTime)) {
      events.event(started(POD));

      await().atMost(Duration.ofSeconds(30)).until(() -> events.failed() == 1);
      assertThat(events.dropped()).isZero();
    }
  }

  @Test
  void progressIsReportedAtMostEveryThirtySecondsPerVolume() throws Exception {
    AtomicLong now = new AtomicLong();
    List<PodEvent> sent = new CopyOnWriteArrayList<>();
    try (PodEvents events = PodEvents.sendingTo(sent::add, 16, now::get)) {
      events.event(progress());
      now.addAndGet(TimeUnit.SECONDS.toNanos(29));
      events.event(progress());
      now.addAndGet(TimeUnit.SECONDS.toNanos(1));
      events.event(progress());

      await().atMost(Duration.ofSeconds(10)).until(() -> sent.size() == 2);
      assertThat(sent).extracting(PodEvent::reason).containsOnly("PullProgress");
      assertThat(sent.get(0).message()).contains("488.3 KiB", "(16 %)");
    }
  }

  @Test
  void eventsWithoutAPodOrWithEventsOffGoNowhere() throws Exception {
    List<PodEvent> sent = new CopyOnWriteArrayList<>();
    try (PodEvents events = PodEvents.sendingTo(sent::add, 16, System::nanoTime)) {
      events.event(started(null));
      PodEvents.OFF.event(started(POD));
      events.event(new VolumeEvent.Mounted(POD, "vol-1", REF, Duration.ofMillis(1500),
          new PullStart(3_000_000, 4, 1, 1_000)));

      await().atMost(Duration.ofSeconds(10)).until(() -> sent.size() == 1);
      assertThat(sent.get(0).reason()).isEqualTo("Mounted");
      assertThat(sent.get(0).message()).contains("in 1.5 s", "downloaded", "reused");
    }
  }
}
