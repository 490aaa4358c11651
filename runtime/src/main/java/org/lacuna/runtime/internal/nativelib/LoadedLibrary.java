package org.lacuna.runtime.internal.nativelib;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import org.lacuna.runtime.error.LibraryLoadException;

/** A shared library loaded by {@link NativeLoader}; stays loaded for the JVM's lifetime. */
@SuppressWarnings("restricted")
public record LoadedLibrary(String library, Path file, SymbolLookup symbols) {

    /** A downcall handle for {@code symbol}; throws naming the symbol and file when the library lacks it. */
    public MethodHandle function(String symbol, FunctionDescriptor descriptor) {
        MemorySegment address = symbols.find(symbol).orElseThrow(() -> new LibraryLoadException(library,
                file + " has no symbol " + symbol + " (not the library it is named as, or an incompatible version)",
                null));
        return Linker.nativeLinker().downcallHandle(address, descriptor);
    }

    public boolean hasSymbol(String symbol) {
        return symbols.find(symbol).isPresent();
    }
}
