// y[r, c] = act(x[r, c] + bias[c]) over a row-major [rows, cols] matrix: the fused epilogue that later families
// (GEMM, convolution) apply in registers, here as a standalone memory-bound kernel.
// lacuna-variants: T_IN=f32 T_OUT=f32 ACT=none | T_IN=f32 T_OUT=f32 ACT=relu | T_IN=f32 T_OUT=f32 ACT=gelu | T_IN=f16 T_OUT=f16 ACT=gelu | T_IN=bf16 T_OUT=bf16 ACT=relu | T_IN=f16 T_OUT=f32 ACT=none | T_IN=bf16 T_OUT=f32 ACT=gelu
#include "lacuna_common.cuh"

#ifndef T_IN
#define T_IN f32
#endif
#ifndef T_OUT
#define T_OUT f32
#endif
#ifndef ACT
#define ACT none
#endif
#ifndef BLOCK
#define BLOCK 256
#endif

typedef LacunaStorage<LACUNA_DTYPE_ID(T_IN)> In;
typedef LacunaStorage<LACUNA_DTYPE_ID(T_OUT)> Out;

// Bias is always fp32: it is tiny and keeping it exact makes the CPU reference independent of T_IN.
// A grid-stride loop over a 64-bit element index: rows * cols may exceed 2^31.
extern "C" __global__ void __launch_bounds__(BLOCK)
bias_activation(const typename In::type* __restrict__ x, const float* __restrict__ bias,
                typename Out::type* __restrict__ y, long long rows, long long cols) {
    const long long total = rows * cols;
    const long long stride = (long long)gridDim.x * BLOCK;
    long long i = (long long)blockIdx.x * BLOCK + threadIdx.x;
    // The column advances by a fixed step each iteration: one 64-bit division per thread, not one per element.
    long long c = cols > 0 ? i % cols : 0;
    const long long step = cols > 0 ? stride % cols : 0;
    for (; i < total; i += stride) {
        const float b = bias != nullptr ? bias[c] : 0.0f;
        y[i] = Out::store(lacuna_activate<LACUNA_CAT(LACUNA_ACT_, ACT)>(In::load(x[i]) + b));
        c += step;
        if (c >= cols) {
            c -= cols;
        }
    }
}
