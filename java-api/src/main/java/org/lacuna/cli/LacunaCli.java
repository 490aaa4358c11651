package org.lacuna.cli;

import java.util.ServiceLoader;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.LacunaException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code lacuna} command line. Modules built on java-api add subcommands through {@link CommandExtension}
 * (the bench module adds {@code bench}); without the bench module {@code lacuna bench} says how to build it.
 */
@Command(name = "lacuna", mixinStandardHelpOptions = true, versionProvider = LacunaCli.Version.class,
        description = {"Lacuna: GPU sparse kernels for Java.", ExitCodes.DESCRIPTION},
        subcommands = {InfoCommand.class, SelftestCommand.class, EmbedCommand.class, CommandLine.HelpCommand.class})
public final class LacunaCli implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (for tests and embedding). */
    public static int run(String... args) {
        // The tokenizer library logs through SLF4J; without a provider SLF4J would print three warning lines.
        if (System.getProperty("slf4j.internal.verbosity") == null) {
            System.setProperty("slf4j.internal.verbosity", "ERROR");
        }
        return commandLine().execute(args);
    }

    /**
     * The command line with every subcommand (extensions included) and the shared exit codes ({@link ExitCodes}):
     * usage errors exit 1, an unavailable backend 3, any other failure 2.
     */
    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new LacunaCli());
        boolean bench = false;
        for (CommandExtension extension : ServiceLoader.load(CommandExtension.class)) {
            cli.addSubcommand(extension.name(), extension.command());
            bench |= extension.name().equals("bench");
        }
        if (!bench) {
            cli.addSubcommand("bench", new BenchUnavailableCommand());
        }
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("lacuna: " + e.getMessage());
            return e instanceof LacunaException l && l.code() == ErrorCode.BACKEND_UNAVAILABLE
                    ? ExitCodes.BACKEND_UNAVAILABLE : ExitCodes.FAILED;
        });
        setUsageExitCode(cli);
        return cli;
    }

    private static void setUsageExitCode(CommandLine cli) {
        cli.getCommandSpec().exitCodeOnInvalidInput(ExitCodes.BAD_INPUT);
        cli.getSubcommands().values().forEach(LacunaCli::setUsageExitCode);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = LacunaCli.class.getPackage().getImplementationVersion();
            return new String[] {"lacuna " + (version == null ? "(development build)" : version)};
        }
    }
}
