// y = a + b element-wise (the residual connections of a transformer block), in fp32, rounded once to the storage
// type. y may be a or b itself.
// lacuna-variants: T_IN=f32 | T_IN=f16 | T_IN=bf16
#include "lacuna_common.cuh"

#ifndef T_IN
#define T_IN f32
#endif
#ifndef BLOCK
#define BLOCK 256
#endif

typedef LacunaStorage<LACUNA_DTYPE_ID(T_IN)> Elem;

extern "C" __global__ void __launch_bounds__(BLOCK)
residual_add(const typename Elem::type* a, const typename Elem::type* b, typename Elem::type* y, long long count) {
    const long long stride = (long long)gridDim.x * BLOCK;
    for (long long i = (long long)blockIdx.x * BLOCK + threadIdx.x; i < count; i += stride) {
        y[i] = Elem::store(Elem::load(a[i]) + Elem::load(b[i]));
    }
}
