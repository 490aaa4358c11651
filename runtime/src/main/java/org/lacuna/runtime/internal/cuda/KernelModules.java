package org.lacuna.runtime.internal.cuda;

import static jcuda.driver.JCudaDriver.cuFuncSetAttribute;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import org.lacuna.kernels.KernelSources;
import org.lacuna.runtime.backend.LacunaConfig;
import org.lacuna.runtime.compile.CompileRequest;
import org.lacuna.runtime.compile.CompiledKernel;
import org.lacuna.runtime.compile.KernelCompiler;
import org.lacuna.runtime.error.NotSupportedException;
import org.lacuna.runtime.lifetime.ClosedFlag;

/**
 * Loaded kernels of one backend: compiles (or finds in the cache) each specialisation once for the device's exact
 * architecture, loads it as a module and launches it with every status checked.
 */
final class KernelModules implements AutoCloseable {
    private final CudaContext context;
    private final KernelCompiler compiler;
    private final String architecture;
    private final Map<String, CUfunction> functions = new ConcurrentHashMap<>();
    /** Dynamic shared memory each function has been opted into, in bytes (absent: the default 48 KiB). */
    private final Map<CUfunction, Integer> dynamicSharedAllowed = new ConcurrentHashMap<>();
    private final List<CUmodule> modules = new ArrayList<>();
    private final ClosedFlag closed = new ClosedFlag();
    /** Read once: the launch path must not consult properties and the environment on every kernel. */
    private final boolean syncLaunches = LacunaConfig.syncLaunches();

    KernelModules(CudaContext context, KernelCompiler compiler, String architecture) {
        this.context = context;
        this.compiler = compiler;
        this.architecture = architecture;
    }

    /** The entry point {@code entry} of {@code file} specialised with {@code constants}. */
    CUfunction function(String file, Map<String, String> constants, String entry) {
        var source = KernelSources.shipped().kernel(file);
        if (!source.supports(architecture)) {
            throw new NotSupportedException("KernelModules.function", file + " runs on "
                    + source.architectures() + " only, not on this " + architecture + " device");
        }
        CompileRequest request = new CompileRequest(source, constants, architecture);
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

    /**
     * Lets {@code function} use {@code bytes} of dynamic shared memory; above the default 48 KiB the driver needs the
     * opt-in attribute before the first launch that uses that much. Checked without a lock on every launch: the
     * attribute is set again only when a launch asks for more than the function was opted into.
     */
    void allowDynamicShared(String kernelName, CUfunction function, int bytes) {
        if (bytes > 48 * 1024 && dynamicSharedAllowed.getOrDefault(function, 0) < bytes) {
            raiseDynamicShared(kernelName, function, bytes);
        }
    }

    private synchronized void raiseDynamicShared(String kernelName, CUfunction function, int bytes) {
        // Recorded only once the attribute is set, so no thread launches before it (and a failure is retried).
        if (dynamicSharedAllowed.getOrDefault(function, 0) < bytes) {
            context.makeCurrent();
            CudaCalls.check("cuFuncSetAttribute", cuFuncSetAttribute(function,
                    CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes), kernelName);
            dynamicSharedAllowed.put(function, bytes);
        }
    }

    /** Launches on {@code stream}; with {@code lacuna.syncLaunches} it also waits, so faults name this kernel. */
    void launch(String kernelName, CUfunction function, long gridX, int block, int sharedBytes, CUstream stream,
                KernelArguments parameters) {
        launch(kernelName, function, gridX, 1, block, sharedBytes, stream, parameters);
    }

    /**
     * Loads (once) the launch's kernel, lets it use the launch's dynamic shared memory (see
     * {@link #allowDynamicShared}) and launches it on {@code stream}.
     */
    void launch(KernelLaunch launch, CUstream stream) {
        CUfunction function = function(launch.file(), launch.constants(), launch.entry());
        allowDynamicShared(launch.entry(), function, launch.sharedBytes());
        launch(launch.entry(), function, launch.gridX(), launch.gridY(), launch.block(), launch.sharedBytes(), stream,
                launch.arguments());
    }

    void launch(String kernelName, CUfunction function, long gridX, long gridY, int block, int sharedBytes,
                CUstream stream, KernelArguments parameters) {
        if (gridX <= 0 || gridY <= 0) {
            return;
        }
        if (gridX > Integer.MAX_VALUE || gridY > 65_535) {
            throw new NotSupportedException("cuLaunchKernel", kernelName + ": grid " + gridX + "x"
                    + gridY + " exceeds the device's limits (2^31-1 x 65535)");
        }
        context.makeCurrent();
        CudaCalls.check("cuLaunchKernel", cuLaunchKernel(function, (int) gridX, (int) gridY, 1, block, 1, 1,
                sharedBytes, stream, parameters.pack(kernelName), null), kernelName);
        if (syncLaunches) {
            CudaCalls.check("cuStreamSynchronize", cuStreamSynchronize(stream), kernelName);
        }
    }

    @Override
    public synchronized void close() {
        if (closed.markClosed()) {
            context.makeCurrent();
            modules.forEach(m -> cuModuleUnload(m));
            modules.clear();
            functions.clear();
        }
    }
}
