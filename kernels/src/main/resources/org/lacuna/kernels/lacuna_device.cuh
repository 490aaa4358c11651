// The device helpers of lacuna_common.cuh written in plain CUDA C++, without inline PTX: dtype constants and storage,
// activations, warp reductions, the grid-stride walk over a matrix's elements. Kernels include lacuna_common.cuh, not
// this file: it needs the 16-bit conversions declared there (or, in the kernel emulator, their software stand-ins).
#pragma once

// Storage type and load/store for a dtype named by a specialisation constant (f32, f16, bf16).
#define LACUNA_DTYPE_f32 0
#define LACUNA_DTYPE_f16 1
#define LACUNA_DTYPE_bf16 2
#define LACUNA_CAT_(a, b) a##b
#define LACUNA_CAT(a, b) LACUNA_CAT_(a, b)
#define LACUNA_DTYPE_ID(name) LACUNA_CAT(LACUNA_DTYPE_, name)

template <int Id> struct LacunaStorage;
template <> struct LacunaStorage<LACUNA_DTYPE_f32> {
    typedef float type;
    static __device__ __forceinline__ float load(type v) { return v; }
    static __device__ __forceinline__ type store(float v) { return v; }
};
template <> struct LacunaStorage<LACUNA_DTYPE_f16> {
    typedef lacuna_f16 type;
    static __device__ __forceinline__ float load(type v) { return lacuna_f16_to_f32(v); }
    static __device__ __forceinline__ type store(float v) { return lacuna_f32_to_f16(v); }
};
template <> struct LacunaStorage<LACUNA_DTYPE_bf16> {
    typedef lacuna_bf16 type;
    static __device__ __forceinline__ float load(type v) { return lacuna_bf16_to_f32(v); }
    static __device__ __forceinline__ type store(float v) { return lacuna_f32_to_bf16(v); }
};

// Activations of fused epilogues. GELU is the exact erf form (PyTorch's default), not the tanh approximation.
#define LACUNA_ACT_none 0
#define LACUNA_ACT_relu 1
#define LACUNA_ACT_gelu 2

template <int Act> __device__ __forceinline__ float lacuna_activate(float x);
template <> __device__ __forceinline__ float lacuna_activate<LACUNA_ACT_none>(float x) { return x; }
template <> __device__ __forceinline__ float lacuna_activate<LACUNA_ACT_relu>(float x) { return fmaxf(x, 0.0f); }
template <> __device__ __forceinline__ float lacuna_activate<LACUNA_ACT_gelu>(float x) {
    return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
}

__device__ __forceinline__ float lacuna_warp_sum(float v) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) {
        v += __shfl_xor_sync(0xffffffffu, v, offset);
    }
    return v;
}

__device__ __forceinline__ float lacuna_warp_max(float v) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) {
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
    }
    return v;
}

// The elements of a row-major [rows, cols] matrix in a grid-stride loop of Block-thread CTAs over a 64-bit index
// (rows * cols may exceed 2^31), each with its column. The column advances by a fixed step each iteration: one 64-bit
// division per thread, not one per element.
//   for (LacunaGridColumns<BLOCK> e(rows, cols); e.more(); e.next()) { ... e.index ... e.column ... }
template <int Block>
struct LacunaGridColumns {
    const long long cols;
    const long long total;
    const long long stride;
    long long index;
    long long column;
    const long long step;

    __device__ __forceinline__ LacunaGridColumns(long long rows, long long columns)
        : cols(columns), total(rows * columns), stride((long long)gridDim.x * Block),
          index((long long)blockIdx.x * Block + threadIdx.x), column(columns > 0 ? index % columns : 0),
          step(columns > 0 ? stride % columns : 0) {}

    __device__ __forceinline__ bool more() const { return index < total; }

    __device__ __forceinline__ void next() {
        column += step;
        if (column >= cols) {
            column -= cols;
        }
        index += stride;
    }
};
