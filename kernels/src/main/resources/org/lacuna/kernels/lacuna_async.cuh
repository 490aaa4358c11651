// Shared-memory staging of the tensor-core kernels, as inline PTX (sm_80 and newer) so kernels need no CUDA
// headers: cp.async global -> shared copies and ldmatrix shared -> register loads. See lacuna_mma.cuh for the
// fragment layouts ldmatrix produces.
#pragma once

// The 32-bit shared-window address of a generic pointer into shared memory (ldmatrix and cp.async take these).
__device__ __forceinline__ unsigned lacuna_smem_address(const void* pointer) {
    unsigned address;
    asm("{ .reg .u64 a; cvta.to.shared.u64 a, %1; cvt.u32.u64 %0, a; }" : "=r"(address) : "l"(pointer));
    return address;
}

// 16-byte global -> shared copy that bypasses L1. With valid == false nothing is read and the 16 bytes are zeroed,
// which is how tiles past the end of a sequence become zeros (never garbage that 0 * NaN would spread).
__device__ __forceinline__ void lacuna_copy16_async(unsigned shared, const void* global, bool valid) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(shared), "l"(global), "r"(valid ? 16 : 0));
}

__device__ __forceinline__ void lacuna_commit_copies() {
    asm volatile("cp.async.commit_group;\n" ::);
}

// Waits until at most Pending of this thread's committed copy groups are still in flight.
template <int Pending>
__device__ __forceinline__ void lacuna_wait_copies() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(Pending));
}

__device__ __forceinline__ void lacuna_ldmatrix_x4(unsigned address, unsigned (&r)[4]) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(address));
}

__device__ __forceinline__ void lacuna_ldmatrix_x4_trans(unsigned address, unsigned (&r)[4]) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(address));
}
