// y[r, c] = act(x[r, c] + bias[c]) over a row-major [rows, cols] matrix: the fused epilogue that later families
// (GEMM, convolution) apply in registers, here as a standalone memory-bound kernel.
// lacuna-variants: T_IN=f32 T_OUT=f32 ACT=none | T_IN=f32 T_OUT=f32 ACT=relu | T_IN=f32 T_OUT=f32 ACT=gelu | T_IN=f16 T_OUT=f16 ACT=gelu | T_IN=bf16 T_OUT=bf16 ACT=relu | T_IN=f16 T_OUT=f32 ACT=none | T_IN=bf16 T_OUT=f32 ACT=gelu
#include "lacuna_common.cuh"
#include "lacuna_variant.cuh"

#ifndef ACT
#define ACT none
#endif
#ifndef BLOCK
#define BLOCK 256
#endif

// Bias is always fp32: it is tiny and keeping it exact makes the CPU reference independent of T_IN.
extern "C" __global__ void __launch_bounds__(BLOCK)
bias_activation(const typename In::type* __restrict__ x, const float* __restrict__ bias,
                typename Out::type* __restrict__ y, long long rows, long long cols) {
    for (LacunaGridColumns<BLOCK> e(rows, cols); e.more(); e.next()) {
        const float b = bias != nullptr ? bias[e.column] : 0.0f;
        y[e.index] = Out::store(lacuna_activate<LACUNA_CAT(LACUNA_ACT_, ACT)>(In::load(x[e.index]) + b));
    }
}
