package org.lacuna.cli;

import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;

/** The {@code --backend} option every running command takes: the best available, or one by name. */
enum BackendChoice {
    auto, cpu, cuda;

    Session open() {
        return this == auto ? Lacuna.open() : Lacuna.open(name(), 0);
    }
}
