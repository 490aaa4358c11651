package org.lacuna.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code lacuna} command line. */
@Command(name = "lacuna", mixinStandardHelpOptions = true, versionProvider = LacunaCli.Version.class,
        description = "Lacuna: GPU sparse kernels for Java.",
        subcommands = {InfoCommand.class, SelftestCommand.class, EmbedCommand.class, PlanCommand.class,
                CommandLine.HelpCommand.class})
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
        return new CommandLine(new LacunaCli())
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    cmd.getErr().println("lacuna: " + e.getMessage());
                    return 2;
                })
                .execute(args);
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
