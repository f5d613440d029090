package org.modelpack.csi.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.modelpack.csi.testing.CsiRequests;

/**
 * sha256 of files, each inode hashed once while it is unchanged. The suite checks the same
 * model in the store, in a volume and at its targets (hard links of one inode) after every
 * trial; hashing each copy each time would cost more than the trials themselves.
 *
 * <p>Sound for what the suite looks for: the key is the inode with its size, mtime and ctime,
 * and any write, truncation, rename or link to a file moves its ctime (nanoseconds on the
 * filesystems the suite runs on), so changed content is never answered from the cache.
 */
final class FileHashes {
  private record Key(Object inode, long size, FileTime mtime, Object ctime) {}

  private static final Map<Key, String> KNOWN = new ConcurrentHashMap<>();

  private FileHashes() {}

  static String sha256(Path file) throws IOException {
    Map<String, Object> a = Files.readAttributes(file, "unix:ino,dev,size,lastModifiedTime,ctime",
        LinkOption.NOFOLLOW_LINKS);
    Key key = new Key(a.get("dev") + ":" + a.get("ino"), (Long) a.get("size"),
        (FileTime) a.get("lastModifiedTime"), a.get("ctime"));
    String known = KNOWN.get(key);
    if (known != null) {
      return known;
    }
    String sha = CsiRequests.sha256(file);
    KNOWN.put(key, sha);
    return sha;
  }
}
