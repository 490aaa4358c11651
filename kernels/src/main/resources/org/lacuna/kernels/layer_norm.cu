// y[r, :] = (x[r, :] - mean) / sqrt(var + eps) * gamma + beta over the last dimension (biased variance, as
// PyTorch's LayerNorm). One CTA a row (grid-stride); fp32 statistics, two passes over the row (mean, then the
// centred sum of squares: no cancellation), the second and third read from L1/L2. gamma and beta are F32.
// lacuna-variants: T_IN=f32 T_OUT=f32 | T_IN=f16 T_OUT=f16 | T_IN=bf16 T_OUT=bf16 | T_IN=f16 T_OUT=f32 | T_IN=bf16 T_OUT=f32
#include "lacuna_common.cuh"
#include "lacuna_variant.cuh"

#ifndef BLOCK
#define BLOCK 256
#endif

static_assert(BLOCK % 32 == 0 && BLOCK <= 1024, "BLOCK must be whole warps");

// The row total, on every thread of the CTA.
__device__ __forceinline__ float block_sum(float value, float* partial) {
    value = lacuna_warp_sum(value);
    if ((threadIdx.x & 31) == 0) {
        partial[threadIdx.x >> 5] = value;
    }
    __syncthreads();
    float total = threadIdx.x < BLOCK / 32 ? partial[threadIdx.x] : 0.0f;
    if (threadIdx.x < 32) {
        total = lacuna_warp_sum(total);
        if (threadIdx.x == 0) {
            partial[BLOCK / 32] = total;
        }
    }
    __syncthreads();
    total = partial[BLOCK / 32];
    __syncthreads();
    return total;
}

extern "C" __global__ void __launch_bounds__(BLOCK)
layer_norm(const typename In::type* __restrict__ x, const float* __restrict__ gamma, const float* __restrict__ beta,
           typename Out::type* __restrict__ y, long long rows, long long cols, float epsilon) {
    __shared__ float partial[BLOCK / 32 + 1];
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        const typename In::type* line = x + row * cols;
        float sum = 0.0f;
        for (long long c = threadIdx.x; c < cols; c += BLOCK) {
            sum += In::load(line[c]);
        }
        const float mean = block_sum(sum, partial) / (float)cols;
        float squares = 0.0f;
        for (long long c = threadIdx.x; c < cols; c += BLOCK) {
            const float d = In::load(line[c]) - mean;
            squares = fmaf(d, d, squares);
        }
        const float rstd = 1.0f / sqrtf(block_sum(squares, partial) / (float)cols + epsilon);
        typename Out::type* out = y + row * cols;
        for (long long c = threadIdx.x; c < cols; c += BLOCK) {
            const float normalised = (In::load(line[c]) - mean) * rstd;
            out[c] = Out::store(fmaf(normalised, gamma[c], beta != nullptr ? beta[c] : 0.0f));
        }
    }
}
