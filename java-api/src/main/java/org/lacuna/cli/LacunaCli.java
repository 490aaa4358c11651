package org.lacuna.cli;

import java.util.ServiceLoader;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code lacuna} command line. Modules built on java-api add subcommands through {@link CommandExtension}
 * (the bench module adds {@code bench}); without the bench module {@code lacuna bench} says how to build it.
 */
@Command(name = "lacuna", mixinStandardHelpOptions = true, versionProvider = LacunaCli.Version.class,
        description = "Lacuna: GPU sparse kernels for Java.",
        exitCodeListHeading = "%nExit codes (every command):%n", exitCodeList = {
                "0:ok",
                "1:usage error (unknown command or option, invalid value)",
                "2:bad input (missing, empty or malformed file; weights or model that do not fit)",
                "3:runtime failure (no usable backend, device error, out of memory)",
                "4:selftest found an op that disagrees with the reference"},
        subcommands = {InfoCommand.class, SelftestCommand.class, EmbedCommand.class, SegmentCommand.class, PlanCommand.class,
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
        return commandLine().execute(args);
    }

    /**
     * The command line with every subcommand (extensions included: the bench module adds {@code bench}) and its
     * exit codes ({@link ExitCodes}): a usage error is 1; an exception that ends a command
     * prints one line naming the command and the problem and exits 2 (bad input) or 3 (anything else).
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
        CommandLine.IParameterExceptionHandler standard = cli.getParameterExceptionHandler();
        return cli
                .setParameterExceptionHandler((e, args) -> {
                    standard.handleParseException(e, args); // prints the problem and the usage, as picocli does
                    return ExitCodes.USAGE;
                })
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    cmd.getErr().println("lacuna " + cmd.getCommandName() + ": " + describe(e));
                    return ExitCodes.of(e);
                });
    }

    /** The message, or for an exception without one (a bug), its type, so the line is never a bare number. */
    private static String describe(Exception e) {
        String message = e.getMessage();
        return e instanceof org.lacuna.runtime.error.LacunaException && message != null ? message
                : e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
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
