package org.lacuna.cli;

import org.lacuna.api.Session;
import picocli.CommandLine.Option;

/** The {@code --backend} option of the commands that run a model (a picocli mixin). */
final class BackendOption {
    @Option(names = "--backend", defaultValue = "auto", description = "cpu, cuda or auto (the best available). "
            + "Default ${DEFAULT-VALUE}.")
    BackendChoice choice;

    Session open() {
        return choice.open();
    }

    @Override
    public String toString() {
        return choice.toString();
    }
}
