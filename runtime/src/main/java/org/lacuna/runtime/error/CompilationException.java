package org.lacuna.runtime.error;

/** NVRTC rejected a kernel source. {@link #log()} is NVRTC's full log. */
public class CompilationException extends LacunaException {
    private static final long serialVersionUID = 1L;
    private final String kernelName;
    private final String log;

    public CompilationException(String kernelName, String options, String log) {
        super(ErrorCode.COMPILE_ERROR, "nvrtcCompileProgram", "compiling " + kernelName + " with [" + options + "] failed:\n" + log);
        this.kernelName = kernelName;
        this.log = log;
    }

    public String kernelName() {
        return kernelName;
    }

    public String log() {
        return log;
    }
}
