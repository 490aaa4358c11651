package org.lacuna.runtime.internal.cuda;

import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import java.lang.foreign.MemorySegment;
import jcuda.Pointer;
import jcuda.driver.CUstream;
import org.lacuna.runtime.lifetime.ClosedFlag;
import org.lacuna.runtime.memory.TransferCounter;

/**
 * A page-locked host buffer that every host↔device copy goes through in chunks: copies from pinned memory run at
 * full PCIe/NVLink speed and never make the driver pin pages on the fly. One copy at a time per backend. Every
 * copy, the backend's public ones and those its ops make, is counted here: one per call, and one stream wait per
 * chunk.
 */
final class PinnedStaging implements AutoCloseable {
    static final long CHUNK_BYTES = 8L << 20;

    private final CudaContext context;
    private final TransferCounter transfers;
    private final Pointer host = new Pointer();
    private final MemorySegment staging;
    private final ClosedFlag closed = new ClosedFlag();

    PinnedStaging(CudaContext context, TransferCounter transfers) {
        this.context = context;
        this.transfers = transfers;
        context.makeCurrent();
        CudaCalls.checkAllocation("cuMemAllocHost", cuMemAllocHost(host, CHUNK_BYTES), CHUNK_BYTES);
        staging = MemorySegment.ofBuffer(host.getByteBuffer(0, CHUNK_BYTES));
    }

    synchronized void upload(MemorySegment source, long deviceAddress, long bytes, CUstream stream) {
        context.makeCurrent();
        transfers.upload(bytes);
        for (long done = 0; done < bytes; done += CHUNK_BYTES) {
            long n = Math.min(CHUNK_BYTES, bytes - done);
            MemorySegment.copy(source, done, staging, 0, n);
            CudaCalls.check("cuMemcpyHtoDAsync", cuMemcpyHtoDAsync(DevicePointer.at(deviceAddress + done), host, n, stream));
            // The staging buffer is reused by the next chunk: wait until the DMA engine has read it.
            CudaCalls.check("cuStreamSynchronize", cuStreamSynchronize(stream));
            transfers.synchronization();
        }
    }

    synchronized void download(long deviceAddress, MemorySegment target, long bytes, CUstream stream) {
        context.makeCurrent();
        transfers.download(bytes);
        copyToHost(deviceAddress, target, bytes, stream);
    }

    /**
     * A read of a size or status the host needs before it can go on (a few bytes: a count that sizes what follows,
     * an invalid-input flag): copied as {@link #download} copies, counted apart as a size read (see {@link
     * org.lacuna.runtime.backend.TransferStats}).
     */
    synchronized void readSize(long deviceAddress, MemorySegment target, long bytes, CUstream stream) {
        context.makeCurrent();
        transfers.sizeRead(bytes);
        copyToHost(deviceAddress, target, bytes, stream);
    }

    private void copyToHost(long deviceAddress, MemorySegment target, long bytes, CUstream stream) {
        for (long done = 0; done < bytes; done += CHUNK_BYTES) {
            long n = Math.min(CHUNK_BYTES, bytes - done);
            CudaCalls.check("cuMemcpyDtoHAsync", cuMemcpyDtoHAsync(host, DevicePointer.at(deviceAddress + done), n, stream));
            CudaCalls.check("cuStreamSynchronize", cuStreamSynchronize(stream));
            transfers.synchronization();
            MemorySegment.copy(staging, 0, target, done, n);
        }
    }

    @Override
    public synchronized void close() {
        if (closed.markClosed()) {
            context.makeCurrent();
            cuMemFreeHost(host);
        }
    }
}
