package org.lacuna.runtime.internal.nvrtc;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import jcuda.nvrtc.JNvrtc;
import jcuda.nvrtc.nvrtcProgram;
import jcuda.nvrtc.nvrtcResult;
import org.lacuna.runtime.error.CudaException;
import org.lacuna.runtime.error.LibraryLoadException;

/**
 * NVRTC through JCuda's JNvrtc. Its JNI library needs {@code libnvrtc.so.12} by soname, so the library must be
 * loaded (by absolute path) before the first JNvrtc call; {@link #load(Path, Path)} does that.
 */
public final class JcudaNvrtc implements NvrtcBinding {
    private final String libraryPath;
    private final int version;

    private JcudaNvrtc(String libraryPath, int version) {
        this.libraryPath = libraryPath;
        this.version = version;
    }

    /**
     * Loads {@code builtins} (if given) and {@code nvrtc} by absolute path, then binds JNvrtc to them.
     *
     * @throws LibraryLoadException with the loader's message if either library or JNvrtc's JNI part fails to load
     */
    public static JcudaNvrtc load(Path nvrtc, Path builtins) {
        try {
            if (builtins != null) {
                System.load(builtins.toAbsolutePath().toString());
            }
            System.load(nvrtc.toAbsolutePath().toString());
            JNvrtc.setExceptionsEnabled(false);
            int[] major = {0};
            int[] minor = {0};
            int status = JNvrtc.nvrtcVersion(major, minor);
            if (status != nvrtcResult.NVRTC_SUCCESS) {
                throw new CudaException("nvrtcVersion", status, nvrtcResult.stringFor(status), null);
            }
            return new JcudaNvrtc(nvrtc.toAbsolutePath().toString(), major[0] * 1000 + minor[0] * 10);
        } catch (UnsatisfiedLinkError | SecurityException e) {
            throw new LibraryLoadException("nvrtc", "JCuda JNvrtc could not bind " + nvrtc + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String description() {
        return "JCuda JNvrtc on " + libraryPath + " (NVRTC " + version / 1000 + "." + (version % 1000) / 10 + ")";
    }

    @Override
    public int version() {
        return version;
    }

    @Override
    public NvrtcResult compile(String source, String programName, Map<String, String> headers, List<String> options) {
        nvrtcProgram program = new nvrtcProgram();
        List<String> names = new ArrayList<>(headers.keySet());
        String[] headerSources = names.stream().map(headers::get).toArray(String[]::new);
        check("nvrtcCreateProgram", JNvrtc.nvrtcCreateProgram(program, source, programName,
                names.size(), headerSources, names.toArray(String[]::new)));
        try {
            int status = JNvrtc.nvrtcCompileProgram(program, options.size(), options.toArray(String[]::new));
            String[] log = {""};
            check("nvrtcGetProgramLog", JNvrtc.nvrtcGetProgramLog(program, log));
            String text = log[0] == null ? "" : log[0];
            if (status != nvrtcResult.NVRTC_SUCCESS) {
                return new NvrtcResult(false, new byte[0], text.isEmpty() ? nvrtcResult.stringFor(status) : text);
            }
            long[] size = {0};
            check("nvrtcGetCUBINSize", JNvrtc.nvrtcGetCUBINSize(program, size));
            byte[] cubin = new byte[Math.toIntExact(size[0])];
            check("nvrtcGetCUBIN", JNvrtc.nvrtcGetCUBIN(program, cubin));
            return new NvrtcResult(true, cubin, text);
        } finally {
            JNvrtc.nvrtcDestroyProgram(program);
        }
    }

    private static void check(String call, int status) {
        if (status != nvrtcResult.NVRTC_SUCCESS) {
            throw new CudaException(call, status, nvrtcResult.stringFor(status), null);
        }
    }
}
