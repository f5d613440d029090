package org.modelpack.csi.cli;

import org.modelpack.csi.server.Version;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point: {@code java -jar model-csi-driver.jar <command>}. */
@Command(name = "model-csi-driver",
    description = "CSI driver that serves ModelPack model artifacts from OCI registries as "
        + "read-only volumes.",
    mixinStandardHelpOptions = true,
    versionProvider = Main.VersionProvider.class,
    subcommands = {ServeCommand.class, PublishCommand.class, UnpublishCommand.class,
        InfoCommand.class, StoreCommand.class, PushCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  static CommandLine commandLine() {
    return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  static final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"model-csi-driver " + Version.get()};
    }
  }
}
