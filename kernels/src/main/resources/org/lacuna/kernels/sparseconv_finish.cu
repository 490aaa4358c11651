// y[r, c] = act(accumulator[r, c] + bias[c]) into T_OUT: the epilogue of the gather-GEMM-scatter dataflow, whose
// scatter accumulates in fp32 (a grid-stride loop over a 64-bit element index).
// lacuna-variants: T_OUT=f32 ACT=none | T_OUT=f32 ACT=relu | T_OUT=f16 ACT=none | T_OUT=f16 ACT=relu
#include "lacuna_common.cuh"

#ifndef T_OUT
#define T_OUT f32
#endif
#ifndef ACT
#define ACT none
#endif
#ifndef BLOCK
#define BLOCK 256
#endif

typedef LacunaStorage<LACUNA_DTYPE_ID(T_OUT)> Out;

extern "C" __global__ void __launch_bounds__(BLOCK)
sparseconv_finish(const float* __restrict__ accumulator, const float* __restrict__ bias,
                  typename Out::type* __restrict__ y, long long rows, int cols) {
    const long long total = rows * cols;
    for (long long i = (long long)blockIdx.x * BLOCK + threadIdx.x; i < total; i += (long long)gridDim.x * BLOCK) {
        const float b = bias != nullptr ? bias[i % cols] : 0.0f;
        y[i] = Out::store(lacuna_activate<LACUNA_CAT(LACUNA_ACT_, ACT)>(accumulator[i] + b));
    }
}
