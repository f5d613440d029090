package org.modelpack.csi.events;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.modelpack.csi.concurrent.DaemonThreads;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends events from one background thread through a bounded queue, so that an API server that
 * is slow or down costs a publish nothing: {@link #offer} never waits, and what does not fit
 * is dropped and counted. Events are for people; losing some beats holding a pod's volume.
 */
final class EventSender implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EventSender.class);
  static final int DEFAULT_CAPACITY = 256;

  private final BlockingQueue<PodEvent> queue;
  private final EventSink sink;
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final Thread thread;

  EventSender(EventSink sink, int capacity) {
    this.sink = sink;
    this.queue = new ArrayBlockingQueue<>(capacity);
    this.thread = DaemonThreads.named("pod-events").newThread(this::run);
    thread.start();
  }

  /** Queues the event, or drops it when the queue is full. Never blocks. */
  void offer(PodEvent event) {
    if (!queue.offer(event)) {
      long n = dropped.incrementAndGet();
      // The first drop, then every hundredth: a down API server must not flood the log either.
      if (n == 1 || n % 100 == 0) {
        log.warn("event queue full ({} waiting): dropped {} event(s) so far, latest {} on pod {}",
            queue.size(), n, event.reason(), event.pod());
      }
    }
  }

  /** Events dropped because the queue was full. */
  long dropped() {
    return dropped.get();
  }

  /** Events the sink refused or could not deliver. */
  long failed() {
    return failed.get();
  }

  private void run() {
    try {
      while (!Thread.currentThread().isInterrupted()) {
        send(queue.take());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // closed
    }
  }

  private void send(PodEvent event) {
    try {
      sink.send(event);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      long n = failed.incrementAndGet();
      if (n == 1 || n % 100 == 0) {
        log.warn("cannot send event {} to pod {} ({} failed so far): {}", event.reason(),
            event.pod(), n, e.toString());
      } else {
        log.debug("cannot send event {} to pod {}: {}", event.reason(), event.pod(), e.toString());
      }
    }
  }

  /** Stops the thread; queued events are dropped (the node is going away). */
  @Override
  public void close() {
    thread.interrupt();
    try {
      thread.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
