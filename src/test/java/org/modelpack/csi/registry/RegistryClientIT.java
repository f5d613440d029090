package org.modelpack.csi.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.modelpack.csi.oci.Descriptor;
import org.modelpack.csi.oci.Manifest;
import org.modelpack.csi.registry.RegistryException.Kind;
import org.modelpack.csi.testing.ModelArtifactBuilder;
import org.modelpack.csi.testing.ModelArtifactBuilder.Compression;
import org.modelpack.csi.testing.ModelArtifactBuilder.Family;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedArtifact;
import org.modelpack.csi.testing.ModelArtifactBuilder.TarEntry;
import org.modelpack.csi.testing.RegistryServer;

class RegistryClientIT {

  static String sha256(Path file) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[65536];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  static Path dockerConfig(Path dir, String host, String user, String password)
      throws IOException {
    Files.createDirectories(dir);
    String auth = Base64.getEncoder().encodeToString(
        (user + ":" + password).getBytes(StandardCharsets.UTF_8));
    Files.writeString(dir.resolve("config.json"),
        "{\"auths\":{\"" + host + "\":{\"auth\":\"" + auth + "\"}}}");
    return dir;
  }

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class AnonymousRegistry {
    Path work;
    RegistryServer registry;
    RegistryClient client;

    @BeforeAll
    void start(@TempDir Path dir) throws IOException {
      work = dir;
      registry = RegistryServer.start(work.resolve("registry"));
      client = new RegistryClient(RegistrySettings.defaults());
    }

    @AfterAll
    void stop() {
      client.close();
      registry.close();
    }

    Reference ref(String repoAndTag) {
      return Reference.parse(registry.host() + "/" + repoAndTag);
    }

    @Test
    void pushedCncfArtifactIsFetchedWithItsDigestAndArtifactType() throws Exception {
      PushedArtifact pushed = ModelArtifactBuilder.create(work.resolve("a1"))
          .rawFile("model.safetensors", 10_000, 1)
          .rawFile("weight.config", "config.json",
              ModelArtifactBuilder.Content.text("{\"a\":1}"), ModelArtifactBuilder.FileMeta.DEFAULT)
          .push(client, ref("ns/cncf:v1"));

      ResolvedManifest m = client.fetchManifest(ref("ns/cncf:v1"));

      assertThat(m.digest()).isEqualTo(pushed.manifestDigest());
      assertThat(m.reference()).hasToString(registry.host() + "/ns/cncf:v1@" + m.digest());
      assertThat(m.raw()).isEqualTo(pushed.manifestJson());
      assertThat(m.manifest().artifactType())
          .isEqualTo("application/vnd.cncf.model.manifest.v1+json");
      assertThat(m.manifest().config().mediaType())
          .isEqualTo("application/vnd.cncf.model.config.v1+json");
      assertThat(m.manifest().layers()).extracting(Descriptor::mediaType).containsExactly(
          "application/vnd.cncf.model.weight.v1.raw",
          "application/vnd.cncf.model.weight.config.v1.raw");
      Descriptor first = m.manifest().layers().get(0);
      assertThat(first.annotation("org.cncf.model.filepath")).isEqualTo("model.safetensors");
      assertThat(first.annotation("org.cncf.model.file.metadata+json"))
          .contains("\"name\":\"model.safetensors\"", "\"mode\":420", "\"size\":10000",
              "\"typeflag\":0");
    }

    @Test
    void legacyCnaiArtifactIsFetched() throws Exception {
      ModelArtifactBuilder.create(work.resolve("a2")).family(Family.CNAI)
          .rawFile("w.bin", 100, 2)
          .tarLayer(Compression.NONE, TarEntry.file("docs/README.md", 50, 3))
          .push(client, ref("ns/cnai:v1"));

      Manifest m = client.fetchManifest(ref("ns/cnai:v1")).manifest();

      assertThat(m.artifactType()).isEqualTo("application/vnd.cnai.model.manifest.v1+json");
      assertThat(m.layers()).extracting(Descriptor::mediaType).containsExactly(
          "application/vnd.cnai.model.weight.v1.raw", "application/vnd.cnai.model.weight.v1.tar");
      assertThat(m.layers().get(0).annotation("org.cnai.model.filepath")).isEqualTo("w.bin");
    }

    @Test
    void fetchingByDigestReturnsTheSameVerifiedManifest() throws Exception {
      PushedArtifact pushed = ModelArtifactBuilder.create(work.resolve("a3"))
          .rawFile("w.bin", 10, 4).push(client, ref("ns/bydigest:v1"));

      ResolvedManifest m = client.fetchManifest(
          Reference.parse(registry.host() + "/ns/bydigest@" + pushed.manifestDigest()));

      assertThat(m.digest()).isEqualTo(pushed.manifestDigest());
      assertThat(m.raw()).isEqualTo(pushed.manifestJson());
    }

    @Test
    void headOfATagOrDigestStatesTheManifestDigestAndAnUnknownTagIsNotFound() throws Exception {
      PushedArtifact pushed = ModelArtifactBuilder.create(work.resolve("a3h"))
          .rawFile("w.bin", 10, 44).push(client, ref("ns/head:v1"));

      assertThat(client.headManifestDigest(ref("ns/head:v1"))).contains(pushed.manifestDigest());
      assertThat(client.headManifestDigest(Reference.parse(
          registry.host() + "/ns/head@" + pushed.manifestDigest())))
          .contains(pushed.manifestDigest());
      assertThatThrownBy(() -> client.headManifestDigest(ref("ns/head:missing")))
          .isInstanceOfSatisfying(RegistryException.class,
              e -> assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND));
    }

    @Test
    void tagPointingAtAnIndexResolvesToTheModelManifestNotTheDecoy() throws Exception {
      PushedArtifact pushed = ModelArtifactBuilder.create(work.resolve("a4"))
          .rawFile("w.bin", 10, 5).wrapInIndexWithDecoy().push(client, ref("ns/indexed:v1"));

      ResolvedManifest m = client.fetchManifest(ref("ns/indexed:v1"));

      assertThat(pushed.indexDigest()).isNotNull();
      assertThat(m.digest()).isEqualTo(pushed.manifestDigest());
      assertThat(m.reference().digest()).isEqualTo(pushed.manifestDigest());
      assertThat(m.manifest().isIndex()).isFalse();
      assertThat(m.manifest().layers()).hasSize(1);
    }

    @Test
    void indexWithASingleEntryResolvesToIt() throws Exception {
      PushedArtifact pushed = ModelArtifactBuilder.create(work.resolve("a5"))
          .rawFile("w.bin", 10, 6).wrapInIndex().push(client, ref("ns/single:v1"));

      assertThat(client.fetchManifest(ref("ns/single:v1")).digest())
          .isEqualTo(pushed.manifestDigest());
    }

    @Test
    void rawAndTarLayersDownloadWithMatchingSha256AndOneGetEach() throws Exception {
      PushedArtifact pushed = ModelArtifactBuilder.create(work.resolve("a6"))
          .rawFile("model.safetensors", 3 * 1024 * 1024 + 17, 7)
          .tarLayer(Compression.GZIP, TarEntry.file("tok/vocab.txt", 5000, 8))
          .tarLayer(Compression.ZSTD, TarEntry.file("a.py", 100, 9), TarEntry.file("b.py", 0, 10))
          .push(client, ref("ns/blobs:v1"));
      ResolvedManifest m = client.fetchManifest(ref("ns/blobs:v1"));
      Path out = Files.createDirectories(work.resolve("out6"));

      List<Descriptor> layers = m.manifest().layers();
      for (int i = 0; i < layers.size(); i++) {
        Path dest = out.resolve("layer" + i);
        client.downloadBlob(m.reference(), layers.get(i), dest);
        assertThat("sha256:" + sha256(dest)).isEqualTo(layers.get(i).digest());
        assertThat(Files.size(dest)).isEqualTo(layers.get(i).size());
      }
      assertThat(sha256(out.resolve("layer0")))
          .isEqualTo(pushed.file("model.safetensors").sha256());
      for (Descriptor layer : layers) {
        await().atMost(Duration.ofSeconds(10))
            .until(() -> registry.countBlobGets(layer.digest()) == 1);
      }
    }

    @Test
    void tarLayersCarryTheEntriesTheBuilderWasGiven() throws Exception {
      ModelArtifactBuilder.create(work.resolve("a7"))
          .tarLayer(Compression.NONE,
              TarEntry.file("../evil", 4, 11),
              TarEntry.symlink("link", "/etc/passwd"),
              TarEntry.hardlink("hard", "../evil"),
              TarEntry.dir("/abs/dir"))
          .push(client, ref("ns/evil:v1"));
      ResolvedManifest m = client.fetchManifest(ref("ns/evil:v1"));
      Path dest = work.resolve("evil.tar");
      client.downloadBlob(m.reference(), m.manifest().layers().get(0), dest);

      List<String> seen = new ArrayList<>();
      try (TarArchiveInputStream tar = new TarArchiveInputStream(Files.newInputStream(dest))) {
        for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
          seen.add(e.getName() + (e.isSymbolicLink() || e.isLink() ? " -> " + e.getLinkName()
              : ""));
        }
      }
      assertThat(seen).containsExactly("../evil", "link -> /etc/passwd", "hard -> ../evil",
          "/abs/dir/");
    }

    @Test
    void severalBlobsDownloadConcurrentlyThroughOneClient() throws Exception {
      ModelArtifactBuilder b = ModelArtifactBuilder.create(work.resolve("a8"));
      for (int i = 0; i < 8; i++) {
        b.rawFile("f" + i, 200_000 + i, 100 + i);
      }
      b.push(client, ref("ns/concurrent:v1"));
      ResolvedManifest m = client.fetchManifest(ref("ns/concurrent:v1"));
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        List<Future<String>> results = new ArrayList<>();
        for (Descriptor layer : m.manifest().layers()) {
          results.add(pool.submit(() -> {
            Path dest = work.resolve("c-" + layer.digest().substring(7));
            client.downloadBlob(m.reference(), layer, dest);
            return "sha256:" + sha256(dest);
          }));
        }
        for (int i = 0; i < results.size(); i++) {
          assertThat(results.get(i).get()).isEqualTo(m.manifest().layers().get(i).digest());
        }
      } finally {
        pool.shutdownNow();
      }
    }

    @Test
    void missingRepositoryIsNotFoundAndTheMessageNamesTheReference() {
      // distribution 2.8 reports MANIFEST_UNKNOWN (not NAME_UNKNOWN) for unknown repositories.
      assertThatThrownBy(() -> client.fetchManifest(ref("ns/missing:nope")))
          .isInstanceOfSatisfying(RegistryException.class,
              e -> assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND))
          .hasMessage("manifest " + registry.host() + "/ns/missing:nope not found "
              + "(404 MANIFEST_UNKNOWN: manifest unknown)");
    }

    @Test
    void missingTagInAnExistingRepositoryIsManifestUnknown() throws Exception {
      ModelArtifactBuilder.create(work.resolve("a9")).rawFile("w", 1, 1)
          .push(client, ref("ns/exists:v1"));
      assertThatThrownBy(() -> client.fetchManifest(ref("ns/exists:v2")))
          .isInstanceOfSatisfying(RegistryException.class,
              e -> assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND))
          .hasMessage("manifest " + registry.host() + "/ns/exists:v2 not found "
              + "(404 MANIFEST_UNKNOWN: manifest unknown)");
    }

    @Test
    void missingBlobIsNotFoundAndNoFileIsCreated() throws Exception {
      ModelArtifactBuilder.create(work.resolve("a10")).rawFile("w", 1, 1)
          .push(client, ref("ns/noblob:v1"));
      String digest = "sha256:" + "e".repeat(64);
      Path dest = work.resolve("noblob");
      assertThatThrownBy(() -> client.downloadBlob(ref("ns/noblob:v1"),
          new Descriptor("application/octet-stream", digest, 5, null), dest))
          .isInstanceOfSatisfying(RegistryException.class,
              e -> assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND))
          .hasMessageContaining("blob " + digest + " in " + registry.host() + "/ns/noblob")
          .hasMessageContaining("404 BLOB_UNKNOWN");
      assertThat(dest).doesNotExist();
    }

    @Test
    void descriptorSizeDifferentFromTheBlobIsInvalidContentAndLeavesNoFile() throws Exception {
      PushedArtifact p = ModelArtifactBuilder.create(work.resolve("a11")).rawFile("w", 100, 1)
          .push(client, ref("ns/size:v1"));
      Descriptor real = p.manifest().layers().get(0);
      Path dest = work.resolve("size-out");
      assertThatThrownBy(() -> client.downloadBlob(p.reference(),
          new Descriptor(real.mediaType(), real.digest(), 99, null), dest))
          .isInstanceOfSatisfying(RegistryException.class,
              e -> assertThat(e.kind()).isEqualTo(Kind.INVALID_CONTENT))
          .hasMessageContaining(real.digest());
      assertThat(dest).doesNotExist();
    }

    @Test
    void pushingTheSameArtifactTwiceGivesTheSameDigest() throws Exception {
      ModelArtifactBuilder b = ModelArtifactBuilder.create(work.resolve("a12"))
          .rawFile("w", 1000, 12);
      String first = b.push(client, ref("ns/twice:v1")).manifestDigest();
      String second = b.push(client, ref("ns/twice:v1")).manifestDigest();
      assertThat(second).isEqualTo(first);
    }
  }

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class HtpasswdRegistry {
    static final String USER = "alice";
    static final String PASSWORD = "s3cret-Pa55word";
    Path work;
    RegistryServer registry;

    @BeforeAll
    void start(@TempDir Path dir) throws IOException {
      work = dir;
      registry = RegistryServer.startWithHtpasswd(work.resolve("registry"), USER, PASSWORD);
    }

    @AfterAll
    void stop() {
      registry.close();
    }

    RegistryClient clientWith(String user, String password) throws IOException {
      Path dir = dockerConfig(work.resolve("cfg-" + user + "-" + password.length()),
          registry.host(), user, password);
      return new RegistryClient(RegistrySettings.defaults().withDockerConfigDir(dir));
    }

    @Test
    void credentialsFromDockerConfigAllowPushAndPull() throws Exception {
      try (RegistryClient client = clientWith(USER, PASSWORD)) {
        Reference ref = Reference.parse(registry.host() + "/private/model:v1");
        PushedArtifact pushed = ModelArtifactBuilder.create(work.resolve("p1"))
            .rawFile("w.bin", 1000, 1).push(client, ref);
        ResolvedManifest m = client.fetchManifest(ref);
        Path dest = work.resolve("dl");
        client.downloadBlob(m.reference(), m.manifest().layers().get(0), dest);
        assertThat(sha256(dest)).isEqualTo(pushed.file("w.bin").sha256());
      }
    }

    @Test
    void withoutCredentialsPullIsUnauthenticated() {
      try (RegistryClient client = new RegistryClient(
          RegistrySettings.defaults().withDockerConfigDir(work.resolve("no-such-dir")))) {
        assertThatThrownBy(() -> client.fetchManifest(
            Reference.parse(registry.host() + "/private/model:v1")))
            .isInstanceOfSatisfying(RegistryException.class,
                e -> assertThat(e.kind()).isEqualTo(Kind.UNAUTHENTICATED))
            .hasMessage("manifest " + registry.host() + "/private/model:v1: registry "
                + registry.host() + " requires Basic credentials and none are configured");
      }
    }

    @Test
    void headNeedsTheSameCredentialsAsAFetch() throws Exception {
      Reference ref = Reference.parse(registry.host() + "/private/head:v1");
      try (RegistryClient client = clientWith(USER, PASSWORD)) {
        PushedArtifact pushed = ModelArtifactBuilder.create(work.resolve("p-head"))
            .rawFile("w.bin", 1000, 45).push(client, ref);
        assertThat(client.headManifestDigest(ref)).contains(pushed.manifestDigest());
      }
      try (RegistryClient anonymous = new RegistryClient(
          RegistrySettings.defaults().withDockerConfigDir(work.resolve("no-such-dir")))) {
        assertThatThrownBy(() -> anonymous.headManifestDigest(ref))
            .isInstanceOfSatisfying(RegistryException.class,
                e -> assertThat(e.kind()).isEqualTo(Kind.UNAUTHENTICATED));
      }
    }

    @Test
    void wrongPasswordIsUnauthenticatedAndTheMessageHoldsNoSecret() throws Exception {
      String wrong = "wrong-Pa55word-xyz";
      try (RegistryClient client = clientWith(USER, wrong)) {
        assertThatThrownBy(() -> client.fetchManifest(
            Reference.parse(registry.host() + "/private/model:v1")))
            .isInstanceOfSatisfying(RegistryException.class, e -> {
              assertThat(e.kind()).isEqualTo(Kind.UNAUTHENTICATED);
              assertThat(e.getMessage()).contains("manifest " + registry.host()
                  + "/private/model:v1").contains("401")
                  .doesNotContain(wrong).doesNotContain(PASSWORD)
                  .doesNotContain(Base64.getEncoder().encodeToString(
                      (USER + ":" + wrong).getBytes(StandardCharsets.UTF_8)));
            });
      }
    }
  }

  /** Fake servers: only for misbehaviour a real registry cannot be made to show. */
  @Nested
  class MisbehavingServers {
    @TempDir Path work;
    final List<HttpServer> servers = new ArrayList<>();

    HttpServer serve(String bindAddress) throws IOException {
      HttpServer s = HttpServer.create(
          new InetSocketAddress(InetAddress.getByName(bindAddress), 0), 0);
      s.start();
      servers.add(s);
      return s;
    }

    @org.junit.jupiter.api.AfterEach
    void stopServers() {
      servers.forEach(s -> s.stop(0));
    }

    String hostOf(HttpServer s) {
      return s.getAddress().getAddress().getHostAddress() + ":" + s.getAddress().getPort();
    }

    @Test
    void blobWithWrongBytesIsInvalidContentAndNoFileIsLeft() throws Exception {
      byte[] good = "the real content".getBytes(StandardCharsets.UTF_8);
      byte[] bad = "THE REAL CONTENT".getBytes(StandardCharsets.UTF_8);
      String digest = "sha256:" + HexFormat.of().formatHex(
          MessageDigest.getInstance("SHA-256").digest(good));
      HttpServer server = serve("127.0.0.1");
      server.createContext("/v2/ns/m/blobs/", ex -> {
        ex.sendResponseHeaders(200, bad.length);
        ex.getResponseBody().write(bad);
        ex.close();
      });
      Path dest = work.resolve("out");
      Files.writeString(dest, "stale");
      try (RegistryClient client = new RegistryClient(RegistrySettings.defaults())) {
        assertThatThrownBy(() -> client.downloadBlob(
            Reference.parse(hostOf(server) + "/ns/m:v1"),
            new Descriptor("application/octet-stream", digest, good.length, null), dest))
            .isInstanceOfSatisfying(RegistryException.class,
                e -> assertThat(e.kind()).isEqualTo(Kind.INVALID_CONTENT))
            .hasMessageContaining(digest);
      }
      assertThat(dest).doesNotExist();
    }

    @Test
    void headWithoutADigestHeaderStatesNothing() throws Exception {
      HttpServer server = serve("127.0.0.1");
      server.createContext("/v2/ns/m/manifests/", ex -> {
        ex.sendResponseHeaders(200, -1);
        ex.close();
      });
      try (RegistryClient client = new RegistryClient(RegistrySettings.defaults())) {
        assertThat(client.headManifestDigest(Reference.parse(hostOf(server) + "/ns/m:v1")))
            .isEmpty();
      }
    }

    @Test
    void redirectToAnotherHostDoesNotForwardAuthorization() throws Exception {
      byte[] blob = "blob behind a redirect".getBytes(StandardCharsets.UTF_8);
      String digest = "sha256:" + HexFormat.of().formatHex(
          MessageDigest.getInstance("SHA-256").digest(blob));
      List<String> registryAuth = new CopyOnWriteArrayList<>();
      List<String> storageAuth = new CopyOnWriteArrayList<>();
      HttpServer storage = serve("127.0.0.2");
      storage.createContext("/bucket/", ex -> {
        storageAuth.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
        ex.sendResponseHeaders(200, blob.length);
        ex.getResponseBody().write(blob);
        ex.close();
      });
      HttpServer registryServer = serve("127.0.0.1");
      registryServer.createContext("/v2/", ex -> {
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        registryAuth.add(String.valueOf(auth));
        if (auth == null) {
          ex.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"fake\"");
          ex.sendResponseHeaders(401, -1);
        } else {
          ex.getResponseHeaders().add("Location",
              "http://" + hostOf(storage) + "/bucket/object?sig=abc");
          ex.sendResponseHeaders(307, -1);
        }
        ex.close();
      });
      Path cfg = dockerConfig(work.resolve("cfg"), hostOf(registryServer), "bob", "pw");
      Path dest = work.resolve("out");
      try (RegistryClient client =
          new RegistryClient(RegistrySettings.defaults().withDockerConfigDir(cfg))) {
        client.downloadBlob(Reference.parse(hostOf(registryServer) + "/ns/m:v1"),
            new Descriptor("application/octet-stream", digest, blob.length, null), dest);
      }
      assertThat(Files.readAllBytes(dest)).isEqualTo(blob);
      assertThat(registryAuth).containsExactly("null", "Basic " + Base64.getEncoder()
          .encodeToString("bob:pw".getBytes(StandardCharsets.UTF_8)));
      assertThat(storageAuth).containsExactly("null");
    }

    @Test
    void plainHttpHostSettingIsHonouredForNonLoopbackNamesToo() {
      RegistrySettings s = new RegistrySettings(null, Set.of("reg.internal"), null, null, null);
      assertThat(s.plainHttpConfigured("reg.internal:5000")).isTrue();
    }
  }
}
