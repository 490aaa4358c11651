package org.lacuna.cli;

import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.LacunaException;

/**
 * The exit codes of every {@code lacuna} command, for scripts: the same failure gives the same code whichever
 * command meets it. {@link LacunaCli}'s {@code --help} lists them (an annotation cannot take them from here).
 */
final class ExitCodes {
    /** Done. */
    static final int OK = 0;
    /** The command line is wrong: an unknown command or option, a missing or invalid value ({@code --rows -5}). */
    static final int USAGE = 1;
    /** The input is: a missing, unreadable, empty or malformed file, weights or a model that do not fit. */
    static final int BAD_INPUT = 2;
    /** Lacuna failed: no usable backend, a device error, out of memory, a bug. */
    static final int FAILURE = 3;
    /** {@code selftest}: an op disagrees with the double-precision reference. */
    static final int CHECK_FAILED = 4;

    private ExitCodes() {
    }

    /** The code for an exception that ended a command. */
    static int of(Throwable e) {
        if (e instanceof LacunaException lacuna) {
            ErrorCode code = lacuna.code();
            return switch (code) {
                case MALFORMED_INPUT, INVALID_ARGUMENT, SHAPE_MISMATCH, DTYPE_MISMATCH, NOT_SUPPORTED -> BAD_INPUT;
                default -> FAILURE;
            };
        }
        return FAILURE;
    }
}
