// Inference batch norm over the channels (the last dimension) of a row-major [rows, cols] matrix:
// y[r, c] = x[r, c] * scale[c] + shift[c] in fp32, rounded once to the storage type; scale and shift are folded
// from the running statistics on the host when the layer is built. y may be x itself.
// lacuna-variants: T_IN=f32 T_OUT=f32 | T_IN=f16 T_OUT=f16 | T_IN=bf16 T_OUT=bf16 | T_IN=f16 T_OUT=f32
#include "lacuna_common.cuh"
#include "lacuna_variant.cuh"

#ifndef BLOCK
#define BLOCK 256
#endif

extern "C" __global__ void __launch_bounds__(BLOCK)
batch_norm(const typename In::type* x, const float* __restrict__ scale, const float* __restrict__ shift,
           typename Out::type* y, long long rows, long long cols) {
    for (LacunaGridColumns<BLOCK> e(rows, cols); e.more(); e.next()) {
        y[e.index] = Out::store(fmaf(In::load(x[e.index]), scale[e.column], shift[e.column]));
    }
}
