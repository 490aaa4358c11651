package org.lacuna.bench.report;

import org.lacuna.cli.CommandExtension;

/** Adds {@code lacuna bench} to the command line when the bench module is on the class path. */
public final class BenchExtension implements CommandExtension {
    @Override
    public String name() {
        return "bench";
    }

    @Override
    public Object command() {
        return new BenchCommand();
    }
}
