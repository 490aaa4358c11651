package org.lacuna.cli;

/** The exit statuses every {@code lacuna} command keeps, so scripts can tell bad input from a failed run. */
final class ExitCodes {
    /** Everything asked for was done. */
    static final int OK = 0;
    /** Bad input or usage: an unknown option, a value out of range, a missing or unreadable file or model. */
    static final int BAD_INPUT = 1;
    /** The run failed after its input was accepted (a kernel, an I/O write, an internal error). */
    static final int FAILED = 2;
    /** The backend asked for ({@code --backend cuda}) is not available on this machine. */
    static final int BACKEND_UNAVAILABLE = 3;

    /** The line every command's help ends with. */
    static final String DESCRIPTION = "Exit codes: 0 done; 1 bad input or usage; 2 the run failed; 3 the backend "
            + "asked for is unavailable.";

    private ExitCodes() {
    }
}
