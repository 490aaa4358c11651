package org.lacuna.runtime.internal.cuda;

import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import org.lacuna.kernels.KernelSources;
import org.lacuna.runtime.LacunaConfig;
import org.lacuna.runtime.compile.CompileRequest;
import org.lacuna.runtime.compile.CompiledKernel;
import org.lacuna.runtime.compile.KernelCompiler;

/**
 * Loaded kernels of one backend: compiles (or finds in the cache) each specialisation once for the device's exact
 * architecture, loads it as a module and launches it with every status checked.
 */
final class KernelModules implements AutoCloseable {
    private final CudaContext context;
    private final KernelCompiler compiler;
    private final String architecture;
    private final Map<String, CUfunction> functions = new ConcurrentHashMap<>();
    private final List<CUmodule> modules = new ArrayList<>();
    private boolean closed;

    KernelModules(CudaContext context, KernelCompiler compiler, String architecture) {
        this.context = context;
        this.compiler = compiler;
        this.architecture = architecture;
    }

    /** The entry point {@code entry} of {@code file} specialised with {@code constants}. */
    CUfunction function(String file, Map<String, String> constants, String entry) {
        CompileRequest request = new CompileRequest(KernelSources.shipped().kernel(file), constants, architecture);
        return functions.computeIfAbsent(request.displayName() + "#" + entry, k -> load(request, entry));
    }

    private synchronized CUfunction load(CompileRequest request, String entry) {
        CompiledKernel kernel = compiler.compile(request);
        context.makeCurrent();
        CUmodule module = new CUmodule();
        CudaCalls.check("cuModuleLoadData", cuModuleLoadData(module, kernel.cubin()), request.displayName());
        modules.add(module);
        CUfunction function = new CUfunction();
        CudaCalls.check("cuModuleGetFunction", cuModuleGetFunction(function, module, entry), request.displayName());
        return function;
    }

    /** Launches on {@code stream}; with {@code lacuna.syncLaunches} it also waits, so faults name this kernel. */
    void launch(String kernelName, CUfunction function, long gridX, int block, int sharedBytes, CUstream stream,
                Pointer parameters) {
        if (gridX <= 0) {
            return;
        }
        context.makeCurrent();
        int grid = (int) Math.min(gridX, Integer.MAX_VALUE);
        CudaCalls.check("cuLaunchKernel", cuLaunchKernel(function, grid, 1, 1, block, 1, 1, sharedBytes, stream,
                parameters, null), kernelName);
        if (LacunaConfig.syncLaunches()) {
            CudaCalls.check("cuStreamSynchronize", cuStreamSynchronize(stream), kernelName);
        }
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            context.makeCurrent();
            modules.forEach(m -> cuModuleUnload(m));
            modules.clear();
            functions.clear();
        }
    }
}
