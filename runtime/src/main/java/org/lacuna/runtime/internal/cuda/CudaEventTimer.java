package org.lacuna.runtime.internal.cuda;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventElapsedTime;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;

import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUstream;
import org.lacuna.runtime.backend.DeviceTimer;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.lifetime.ClosedFlag;

/** Two CUDA events on the backend's stream; the host waits only in {@link #stopMillis()}. */
final class CudaEventTimer implements DeviceTimer {
    private final CudaContext context;
    private final CUstream stream;
    private final CUevent begin = new CUevent();
    private final CUevent end = new CUevent();
    private final ClosedFlag closed = new ClosedFlag();

    CudaEventTimer(CudaContext context, CUstream stream) {
        this.context = context;
        this.stream = stream;
        context.makeCurrent();
        CudaCalls.check("cuEventCreate", cuEventCreate(begin, CUevent_flags.CU_EVENT_DEFAULT));
        try {
            CudaCalls.check("cuEventCreate", cuEventCreate(end, CUevent_flags.CU_EVENT_DEFAULT));
        } catch (RuntimeException e) {
            cuEventDestroy(begin);
            throw e;
        }
    }

    @Override
    public void start() {
        checkOpen("DeviceTimer.start");
        context.makeCurrent();
        CudaCalls.check("cuEventRecord", cuEventRecord(begin, stream));
    }

    @Override
    public double stopMillis() {
        checkOpen("DeviceTimer.stopMillis");
        context.makeCurrent();
        CudaCalls.check("cuEventRecord", cuEventRecord(end, stream));
        CudaCalls.check("cuEventSynchronize", cuEventSynchronize(end));
        float[] millis = {0};
        CudaCalls.check("cuEventElapsedTime", cuEventElapsedTime(millis, begin, end));
        return millis[0];
    }

    @Override
    public void close() {
        if (closed.markClosed()) {
            context.makeCurrent();
            cuEventDestroy(begin);
            cuEventDestroy(end);
        }
    }

    private void checkOpen(String call) {
        if (closed.isClosed()) {
            throw new ResourceClosedException(call, "CUDA event timer");
        }
    }
}
