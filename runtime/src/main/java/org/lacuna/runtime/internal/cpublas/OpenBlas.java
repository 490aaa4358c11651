package org.lacuna.runtime.internal.cpublas;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.List;
import org.lacuna.runtime.backend.LacunaConfig;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.LibraryLoadException;
import org.lacuna.runtime.internal.nativelib.BundledFiles;
import org.lacuna.runtime.internal.nativelib.Failures;
import org.lacuna.runtime.internal.nativelib.LoadedLibrary;
import org.lacuna.runtime.internal.nativelib.NativeCalls;
import org.lacuna.runtime.internal.nativelib.NativeLoader;

/**
 * OpenBLAS's {@code cblas_sgemm} through java.lang.foreign, for the CPU backend's dense GEMM. The library comes from
 * {@code lacuna.openblas.path} / {@code LACUNA_OPENBLAS_PATH} (a {@code libopenblas.so} with 32-bit integers), else
 * from Maven Central's {@code org.bytedeco:openblas} jar (classifier linux-x86_64) on the class path, extracted once
 * into the cache folder together with the gfortran runtime it links against.
 * <p>
 * OpenBLAS is set to one thread when bound: the CPU backend splits its GEMMs over its own worker threads, and a
 * second pool inside each call would oversubscribe the cores. The downcall is critical with heap access, so Java
 * arrays and the backend's off-heap buffers alike go to OpenBLAS without a copy (the garbage collector waits for the
 * call, which is one bounded tile).
 */
@SuppressWarnings("restricted")
public final class OpenBlas {
    static final String RESOURCE_FOLDER = "org/bytedeco/openblas/linux-x86_64/";
    static final String LIBRARY = "libopenblas.so.0";
    /** Loaded by path before OpenBLAS, in this order: its {@code libgfortran} finds no {@code $ORIGIN} run path. */
    private static final List<String> BUNDLED_DEPENDENCIES = List.of("libquadmath.so.0", "libgfortran.so.5");
    private static final String ORIGIN = "org.bytedeco:openblas (linux-x86_64)";

    private static final String CALL = "sgemm";
    private static final int ROW_MAJOR = 101;
    private static final int NO_TRANSPOSE = 111;
    private static final int TRANSPOSE = 112;

    private static final FunctionDescriptor SGEMM = FunctionDescriptor.ofVoid(JAVA_INT, JAVA_INT, JAVA_INT,
            JAVA_INT, JAVA_INT, JAVA_INT, JAVA_FLOAT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_FLOAT, ADDRESS, JAVA_INT);

    private final MethodHandle sgemm;
    private final String description;

    private OpenBlas(LoadedLibrary library, String origin) {
        this.sgemm = library.symbols().find("cblas_sgemm")
                .map(address -> Linker.nativeLinker().downcallHandle(address, SGEMM, Linker.Option.critical(true)))
                .orElseThrow(() -> new LibraryLoadException("openblas", library.file() + " has no cblas_sgemm", null));
        MethodHandle setThreads = library.function("openblas_set_num_threads", FunctionDescriptor.ofVoid(JAVA_INT));
        try {
            setThreads.invokeExact(1);
        } catch (Throwable e) {
            throw NativeCalls.rethrow("openblas_set_num_threads", e);
        }
        String version = versionOf(library);
        this.description = (version.startsWith("OpenBLAS") ? version : ("OpenBLAS " + version).strip()) + " from "
                + origin + ", 1 thread per call";
    }

    /**
     * Loads OpenBLAS from the configured path or the bundled jar.
     *
     * @throws LibraryLoadException saying why not (no jar on the class path, the loader's message, a missing symbol)
     */
    public static OpenBlas load() {
        var configured = LacunaConfig.get("openblas.path");
        if (configured.isPresent()) {
            Path file = Path.of(configured.get());
            return new OpenBlas(NativeLoader.load("openblas", file), file.toString());
        }
        BundledFiles jar = new BundledFiles("openblas", RESOURCE_FOLDER);
        Path folder = jar.extract(LIBRARY, BUNDLED_DEPENDENCIES).orElseThrow(() -> new LibraryLoadException("openblas",
                "the " + ORIGIN + " jar is not on the class path (add org.bytedeco:openblas:0.3.30-1.5.12, classifier "
                        + "linux-x86_64, or set lacuna.openblas.path)", null));
        for (String dependency : BUNDLED_DEPENDENCIES) {
            NativeLoader.load("openblas", folder.resolve(dependency));
        }
        return new OpenBlas(NativeLoader.load("openblas", folder.resolve(LIBRARY)), ORIGIN);
    }

    /** One line for {@code lacuna info}: version, core and where the library came from. */
    public String description() {
        return description;
    }

    /**
     * {@code C[m×n] (+)= A[m×k] · op(B)}, row-major, with {@code op(B)} = {@code B[k×n]} or {@code B[n×k]ᵀ}; the same
     * contract as {@link org.lacuna.runtime.cpu.kernels.Sgemm#multiply}, OpenBLAS's own summation order.
     */
    public void sgemm(int m, int n, int k, float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
                      boolean transposeB, float[] c, int cOffset, int ldc, boolean accumulate) {
        requireArray("A", a);
        requireArray("B", b);
        requireArray("C", c);
        sgemm(m, n, k, MemorySegment.ofArray(a), aOffset, lda, MemorySegment.ofArray(b), bOffset, ldb, transposeB,
                MemorySegment.ofArray(c), cOffset, ldc, accumulate);
    }

    /**
     * The same product over fp32 matrices in memory segments, on the heap or off it (the CPU backend's buffers go
     * to OpenBLAS without a copy); offsets count floats from the segment's start.
     */
    public void sgemm(int m, int n, int k, MemorySegment a, long aOffset, int lda, MemorySegment b, long bOffset,
                      int ldb, boolean transposeB, MemorySegment c, long cOffset, int ldc, boolean accumulate) {
        if (m < 0 || n < 0 || k < 0) {
            throw InvalidInputException.argument(CALL, "negative size m=" + m + " n=" + n + " k=" + k);
        }
        // The downcall hands the memory to native code unchecked: an index out of range would corrupt memory.
        requireMatrix("A", a, aOffset, lda, m, k);
        requireMatrix("B", b, bOffset, ldb, transposeB ? n : k, transposeB ? k : n);
        requireMatrix("C", c, cOffset, ldc, m, n);
        if (c.isReadOnly()) {
            throw InvalidInputException.argument(CALL, "C is read-only");
        }
        if (m == 0 || n == 0) {
            return;
        }
        try {
            sgemm.invokeExact(ROW_MAJOR, NO_TRANSPOSE, transposeB ? TRANSPOSE : NO_TRANSPOSE, m, n, k,
                    1f, slice(a, aOffset), lda, slice(b, bOffset), ldb,
                    accumulate ? 1f : 0f, slice(c, cOffset), ldc);
        } catch (Throwable e) {
            throw NativeCalls.rethrow("cblas_sgemm", e);
        }
    }

    private static void requireArray(String name, float[] array) {
        if (array == null) {
            throw InvalidInputException.argument(CALL, name + " is null");
        }
    }

    /** A row-major {@code rows × cols} matrix at float {@code offset} with rows {@code ld} apart lies inside it. */
    private static void requireMatrix(String name, MemorySegment memory, long offset, int ld, int rows, int cols) {
        if (memory == null) {
            throw InvalidInputException.argument(CALL, name + " is null");
        }
        if (ld < Math.max(1, cols)) {
            throw InvalidInputException.argument(CALL, "ld" + name.toLowerCase(java.util.Locale.ROOT) + " = " + ld
                    + " is less than max(1, " + cols + ")");
        }
        long end = rows == 0 || cols == 0 ? offset : offset + (long) (rows - 1) * ld + cols;
        long floats = memory.byteSize() / Float.BYTES;
        if (offset < 0 || end > floats) {
            throw InvalidInputException.argument(CALL, name + " [" + rows + " x " + cols + "] at offset " + offset
                    + " with rows " + ld + " apart needs " + end + " floats, the memory holds " + floats);
        }
    }

    private static MemorySegment slice(MemorySegment memory, long offset) {
        return memory.asSlice(offset * Float.BYTES);
    }

    private static String versionOf(LoadedLibrary library) {
        StringBuilder text = new StringBuilder();
        appendString(library, "openblas_get_config", text);
        if (library.hasSymbol("openblas_get_corename")) {
            text.append(" (kernels for");
            appendString(library, "openblas_get_corename", text);
            text.append(')');
        }
        return text.toString().strip();
    }

    private static void appendString(LoadedLibrary library, String symbol, StringBuilder text) {
        if (!library.hasSymbol(symbol)) {
            return;
        }
        try {
            MemorySegment pointer = (MemorySegment) library.function(symbol, FunctionDescriptor.of(ADDRESS)).invokeExact();
            text.append(' ').append(NativeCalls.cString(pointer).strip());
        } catch (Throwable e) {
            text.append(" (").append(symbol).append(": ").append(Failures.describe(e)).append(')');
        }
    }
}
