package org.lacuna.codegen;

/**
 * One generated Java source file, named after its emitter (the emitter {@code VectorSgemmTile} writes the class
 * {@code VectorSgemmTile}), so a reader of the generated file finds the emitter by the name.
 */
abstract class GeneratedClass {
    private final String packageName;

    GeneratedClass(String packageName) {
        this.packageName = packageName;
    }

    final String packageName() {
        return packageName;
    }

    final String simpleName() {
        return getClass().getSimpleName();
    }

    /** The whole text of the file. */
    abstract String source();
}
