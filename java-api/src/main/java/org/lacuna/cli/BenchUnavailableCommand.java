package org.lacuna.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code lacuna bench} when the bench module is not on the class path: the benchmark suites live there (it depends
 * on java-api, not the other way round), so this says how to get them instead of failing with an unknown command.
 */
@Command(name = "bench", description = {"Run the benchmark suites and write the report under bench/results/ "
        + "(needs the bench module; not built here)."})
final class BenchUnavailableCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Unmatched
    List<String> arguments = new ArrayList<>();

    @Override
    public Integer call() {
        spec.commandLine().getErr().println("lacuna bench: the benchmark suites are in the bench module, which is not "
                + "on the class path. Build it from the repository root with ./mvnw -B -DskipTests package; "
                + "java-api/bin/lacuna then adds bench/target to the class path.");
        return ExitCodes.USAGE;
    }
}
