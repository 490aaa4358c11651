package org.lacuna.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * JMH's command line ({@code org.openjdk.jmh.Main}, same options) with Lacuna's JVM flags added to every fork:
 * the benchmarks load JCuda's JNI libraries and use java.lang.foreign, which JDK 25 warns about (and a later JDK
 * refuses) without {@code --enable-native-access}; and JMH itself reads fields through sun.misc.Unsafe, which JDK 25
 * warns about on every fork unless allowed. Flags given with {@code -jvmArgsAppend} are kept.
 *
 * <pre>java -cp 'bench/target/lib/*:bench/target/lacuna-bench-0.1.0-SNAPSHOT.jar' org.lacuna.bench.JmhMain -h</pre>
 */
public final class JmhMain {
    static final String NATIVE_ACCESS = "--enable-native-access=ALL-UNNAMED";
    static final String UNSAFE_ACCESS = "--sun-misc-unsafe-memory-access=allow";

    private JmhMain() {
    }

    public static void main(String[] args) throws Exception {
        CommandLineOptions commandLine;
        try {
            commandLine = new CommandLineOptions(args);
        } catch (CommandLineOptionException e) {
            System.err.println("Error parsing command line: " + e.getMessage());
            System.exit(1);
            return;
        }
        if (commandLine.shouldHelp() || commandLine.shouldList() || commandLine.shouldListWithParams()
                || commandLine.shouldListProfilers() || commandLine.shouldListResultFormats()) {
            // Listing and help fork nothing; JMH's own entry point already does them right.
            org.openjdk.jmh.Main.main(args);
            return;
        }
        try {
            new Runner(withForkFlags(commandLine)).run();
        } catch (RunnerException e) {
            System.err.println("JMH failed: " + e.getMessage());
            e.printStackTrace();
            System.exit(1);
        }
    }

    static Options withForkFlags(CommandLineOptions commandLine) {
        Collection<String> given = commandLine.getJvmArgsAppend().orElse(List.of());
        List<String> append = new ArrayList<>(given);
        for (String flag : List.of(NATIVE_ACCESS, UNSAFE_ACCESS)) {
            if (!append.contains(flag)) {
                append.add(flag);
            }
        }
        return new OptionsBuilder().parent(commandLine).jvmArgsAppend(append.toArray(String[]::new)).build();
    }
}
