package org.lacuna.runtime.internal.cuda;

/** The loaded kernels and the backend's stream they run on: what an op family needs to issue its launches. */
record KernelStream(KernelModules modules, StreamHandle stream) {
    /** Loads (once) the launch's kernel and launches it on the stream. */
    void launch(KernelLaunch launch) {
        modules.launch(launch, stream);
    }
}
