package org.lacuna.codegen;

/** One generated Java source file: its package, its class name and its whole text. */
interface GeneratedClass {
    String packageName();

    String simpleName();

    String source();
}
