// Inference batch norm over the channels (the last dimension) of a row-major [rows, cols] matrix:
// y[r, c] = x[r, c] * scale[c] + shift[c] in fp32, rounded once to the storage type; scale and shift are folded
// from the running statistics on the host when the layer is built. y may be x itself.
// lacuna-variants: T_IN=f32 T_OUT=f32 | T_IN=f16 T_OUT=f16 | T_IN=bf16 T_OUT=bf16 | T_IN=f16 T_OUT=f32
#include "lacuna_common.cuh"

#ifndef T_IN
#define T_IN f32
#endif
#ifndef T_OUT
#define T_OUT f32
#endif
#ifndef BLOCK
#define BLOCK 256
#endif

typedef LacunaStorage<LACUNA_DTYPE_ID(T_IN)> In;
typedef LacunaStorage<LACUNA_DTYPE_ID(T_OUT)> Out;

// A grid-stride loop over a 64-bit element index, the column advanced by a fixed step as in bias_activation.cu.
extern "C" __global__ void __launch_bounds__(BLOCK)
batch_norm(const typename In::type* x, const float* __restrict__ scale, const float* __restrict__ shift,
           typename Out::type* y, long long rows, long long cols) {
    const long long total = rows * cols;
    const long long stride = (long long)gridDim.x * BLOCK;
    long long i = (long long)blockIdx.x * BLOCK + threadIdx.x;
    long long c = cols > 0 ? i % cols : 0;
    const long long step = cols > 0 ? stride % cols : 0;
    for (; i < total; i += stride) {
        y[i] = Out::store(fmaf(In::load(x[i]), scale[c], shift[c]));
        c += step;
        if (c >= cols) {
            c -= cols;
        }
    }
}
