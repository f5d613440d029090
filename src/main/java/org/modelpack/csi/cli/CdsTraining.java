package org.modelpack.csi.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.modelpack.csi.csi.CsiServer;
import org.modelpack.csi.csi.IdentityService;
import org.modelpack.csi.fs.FileTrees;
import picocli.CommandLine;

/**
 * The workload the build runs once under {@code -XX:ArchiveClassesAtExit} to write the
 * class-data sharing archive beside the jar (docs/decisions/1201-cli-class-data-sharing.md).
 * The archive holds the classes this run loaded, so it runs what a CLI invocation loads: picocli
 * and every command's help, and the client commands over a real gRPC connection. They talk to a
 * throwaway server on a socket in {@code SCRATCH_DIR} that serves only Identity, so the node and
 * admin calls end in their error path (which a user also meets); no volume, mount or store is
 * touched. Output is discarded; the run always exits 0 — a build where it cannot run simply
 * ships no archive.
 *
 * <pre>java -XX:ArchiveClassesAtExit=A.jsa -cp model-csi-driver.jar \
 *     org.modelpack.csi.cli.CdsTraining SCRATCH_DIR</pre>
 */
public final class CdsTraining {
  private CdsTraining() {}

  public static void main(String[] args) throws IOException {
    Path scratch = Path.of(args[0]).toAbsolutePath();
    Files.createDirectories(scratch);
    try {
      train(scratch);
    } catch (Exception | LinkageError e) {
      System.err.println("class-data sharing training incomplete: " + e);
    } finally {
      FileTrees.delete(scratch);
    }
    // Not System.exit from a command: the archive is written when the JVM exits normally.
  }

  private static void train(Path scratch) throws IOException {
    LogbackSetup.markClient();
    Main.quietNettyJfrEvents();
    Main.unpooledNettyBuffers();
    LogLevel.quietForClientCommands();
    Path socket = scratch.resolve("csi.sock");
    String ep = "unix://" + socket;
    String target = scratch.resolve("target").toString();
    CsiServer server = CsiServer.start(socket,
        List.of(new IdentityService("training.example", "0", () -> true, false)));
    try {
      run("--help");
      for (String c : List.of("serve", "publish", "unpublish", "info", "store", "push", "mount",
          "umount", "list", "inspect")) {
        run(c, "--help");
      }
      run("info", "--endpoint", ep);
      run("store", "list", "--endpoint", ep);
      run("publish", "--endpoint", ep, "--volume-id", "training", "--target", target,
          "--reference", "127.0.0.1:1/training/model:v1", "--timeout", "5");
      run("unpublish", "--endpoint", ep, "--volume-id", "training", "--target", target);
      run("list", "--workdir", scratch.toString());
      run("inspect", "--workdir", scratch.toString(), "127.0.0.1:1/training/model:v1");
    } finally {
      server.close();
    }
  }

  private static void run(String... args) {
    CommandLine cli = Main.commandLine();
    StringWriter sink = new StringWriter();
    cli.setOut(new PrintWriter(sink));
    cli.setErr(new PrintWriter(sink));
    cli.execute(args);
  }
}
