package org.modelpack.csi.concurrent;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** A small thread-safe map that forgets its least recently used entry beyond a capacity. */
public final class LruCache<K, V> {
  private final Map<K, V> map;

  public LruCache(int capacity) {
    this.map = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
        return size() > capacity;
      }
    };
  }

  public synchronized Optional<V> get(K key) {
    return Optional.ofNullable(map.get(key));
  }

  public synchronized void put(K key, V value) {
    map.put(key, value);
  }
}
