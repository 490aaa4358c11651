package org.lacuna.cli;

/**
 * A subcommand that a module built on top of java-api adds to {@code lacuna} — the bench module's {@code lacuna bench}
 * — found through {@link java.util.ServiceLoader} when that module's jar is on the class path, so java-api never
 * depends on it.
 */
public interface CommandExtension {
    /** The subcommand's name, e.g. {@code bench}. */
    String name();

    /** A fresh picocli command object (annotated with {@code @Command}) for one run of the command line. */
    Object command();
}
