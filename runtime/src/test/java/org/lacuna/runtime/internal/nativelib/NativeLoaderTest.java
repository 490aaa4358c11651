package org.lacuna.runtime.internal.nativelib;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.runtime.error.LibraryLoadException;

class NativeLoaderTest {
    @TempDir
    Path temp;

    @Test
    void loadsARealLibraryByPathAndCallsIntoIt() throws Throwable {
        Optional<Path> libm = SearchFixture.someSystemLibrary();
        assumeTrue(libm.isPresent(), "no libm.so.6 in the usual folders");

        LoadedLibrary library = NativeLoader.load("m", libm.get());
        MethodHandle cos = library.function("cos", FunctionDescriptor.of(JAVA_DOUBLE, JAVA_DOUBLE));

        assertEquals(-1.0, (double) cos.invokeExact(Math.PI), 1e-15);
        assertSame(library, NativeLoader.load("m", libm.get()));
        assertFalse(library.hasSymbol("cublasCreate_v2"));
    }

    @Test
    void aMissingSymbolIsNamedWithTheFile() {
        Optional<Path> libm = SearchFixture.someSystemLibrary();
        assumeTrue(libm.isPresent(), "no libm.so.6 in the usual folders");

        LibraryLoadException failure = assertThrows(LibraryLoadException.class, () -> NativeLoader.load("m", libm.get())
                .function("nvrtcVersion", FunctionDescriptor.ofVoid()));

        assertTrue(failure.getMessage().contains("has no symbol nvrtcVersion"), failure.getMessage());
        assertTrue(failure.getMessage().contains(libm.get().toString()), failure.getMessage());
    }

    @Test
    void aFailedLoadCarriesDlerrorsMessage() {
        Path broken = SearchFixture.notAnElfFile(temp.resolve("libbroken.so.1"));
        Path absent = temp.resolve("libabsent.so.1");

        LibraryLoadException notElf = assertThrows(LibraryLoadException.class, () -> NativeLoader.load("x", broken));
        LibraryLoadException missing = assertThrows(LibraryLoadException.class, () -> NativeLoader.load("x", absent));

        assertEquals("load x", notElf.call());
        assertTrue(notElf.getMessage().contains(broken + ": invalid ELF header"), notElf.getMessage());
        assertTrue(missing.getMessage().contains("No such file or directory"), missing.getMessage());
    }

    @Test
    void aJcudaSlotBindsOneFileForGood() {
        Path first = SearchFixture.emptyFile(temp.resolve("a/libx.so.12"));
        Path second = SearchFixture.emptyFile(temp.resolve("b/libx.so.12"));
        Path linkToFirst = SearchFixture.link(temp.resolve("c/libx.so.12"), first);
        JcudaSlot<String> slot = new JcudaSlot<>("x", "JCuda JX");
        AtomicInteger binds = new AtomicInteger();

        String bound = slot.bind(first, file -> "bound " + binds.incrementAndGet());

        assertEquals("bound 1", bound);
        assertSame(bound, slot.bind(linkToFirst, file -> "bound " + binds.incrementAndGet()));
        LibraryLoadException refused = assertThrows(LibraryLoadException.class,
                () -> slot.bind(second, file -> "bound " + binds.incrementAndGet()));
        assertEquals(1, binds.get());
        assertTrue(refused.getMessage().contains("JCuda JX is already bound to " + first), refused.getMessage());
        assertTrue(refused.getMessage().contains(second.toString()), refused.getMessage());
    }

    @Test
    void aFailedBindLeavesTheSlotFree() {
        Path first = SearchFixture.emptyFile(temp.resolve("a/libx.so.12"));
        JcudaSlot<String> slot = new JcudaSlot<>("x", "JCuda JX");

        assertThrows(UnsatisfiedLinkError.class, () -> slot.bind(first, file -> {
            throw new UnsatisfiedLinkError("nope");
        }));

        assertEquals("ok", slot.bind(first, file -> "ok"));
    }

    @Test
    void bindingPreferenceIsReadFromPropertyThenEnvironment() {
        SearchFixture fixture = new SearchFixture(temp);
        LibraryCandidate so12 = new LibraryCandidate(temp.resolve("libcublas.so.12"), SearchStep.DEFAULT_CUDA);
        LibraryCandidate so13 = new LibraryCandidate(temp.resolve("libcublas.so.13"), SearchStep.DEFAULT_CUDA);

        assertEquals(BindingPreference.AUTO, BindingPreference.read(fixture.environment(), LibrarySpec.CUBLAS));
        assertTrue(BindingPreference.AUTO.useJcuda(so12, LibrarySpec.CUBLAS));
        assertFalse(BindingPreference.AUTO.useJcuda(so13, LibrarySpec.CUBLAS));

        fixture.env("LACUNA_CUBLAS_BINDING", "jcuda");
        assertEquals(BindingPreference.JCUDA, BindingPreference.read(fixture.environment(), LibrarySpec.CUBLAS));
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> BindingPreference.JCUDA.useJcuda(so13, LibrarySpec.CUBLAS));
        assertTrue(refused.getMessage().contains("libcublas.so.13"), refused.getMessage());

        fixture.property("lacuna.cublas.binding", "FFM");
        assertEquals(BindingPreference.FFM, BindingPreference.read(fixture.environment(), LibrarySpec.CUBLAS));
        assertFalse(BindingPreference.FFM.useJcuda(so12, LibrarySpec.CUBLAS));

        fixture.property("lacuna.cublas.binding", "jni-please");
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> BindingPreference.read(fixture.environment(), LibrarySpec.CUBLAS));
        assertTrue(bad.getMessage().contains("lacuna.cublas.binding=jni-please"), bad.getMessage());
    }
}
