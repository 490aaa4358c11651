// Sparse convolution, gather-GEMM-scatter dataflow: for each kernel offset v, gather the input rows of its pairs,
// multiply by W[v] ([in, out]) and scatter-add the products into an fp32 accumulator [outputs, out];
// then bias_activation.cu (T_IN=f32) applies bias and activation and stores T_OUT. The scatter uses atomicAdd, so the order of the
// fp32 additions into one output, and the last bits of the result, vary from run to run (the implicit GEMM is the
// deterministic dataflow).
//
// Offsets are launched in groups of similar pair counts (the host sorts them), grid (pair tiles x channel tiles,
// offsets in group):
// blocks past their offset's pairs exit at once, and grouping keeps those few.
// Tile: BP=64 pairs x BC=64 output channels, K chunks of BK=16; 256 threads, each 4 pairs x 4 channels in fp32
// FMA (the small per-offset GEMMs are memory bound: the gathers and the scatter dominate, not the multiply).
// lacuna-variants: T_IN=f32 | T_IN=f16
#include "lacuna_common.cuh"
#include "lacuna_variant.cuh"
#include "lacuna_sparseconv_tile.cuh"

#define BP 64
#define BC 64
#define BK 16
#define THREADS 256

// group_offsets[blockIdx.y] is the offset; its pairs are [pair_start[v], pair_start[v + 1]).
extern "C" __global__ void __launch_bounds__(THREADS)
sparseconv_gather_scatter(const typename In::type* __restrict__ x, const typename In::type* __restrict__ w,
                          const long long* __restrict__ pair_start, const int* __restrict__ pair_inputs,
                          const int* __restrict__ pair_outputs, const int* __restrict__ group_offsets,
                          float* __restrict__ accumulator, int in, int out) {
    __shared__ float xs[BK][BP + 1];
    __shared__ float ws[BK][BC];
    __shared__ int inputs[BP];
    __shared__ int outputs[BP];
    const int channel_tiles = (out + BC - 1) / BC;
    const int v = group_offsets[blockIdx.y];
    const long long begin = pair_start[v] + (long long)(blockIdx.x / channel_tiles) * BP;
    const long long end = pair_start[v + 1];
    if (begin >= end) {
        return;
    }
    const int c0 = (blockIdx.x % channel_tiles) * BC;
    const int pairs = (int)min((long long)BP, end - begin);
    if (threadIdx.x < BP) {
        const bool live = threadIdx.x < pairs;
        inputs[threadIdx.x] = live ? pair_inputs[begin + threadIdx.x] : -1;
        outputs[threadIdx.x] = live ? pair_outputs[begin + threadIdx.x] : -1;
    }
    // The pair lists are read after the channel loop too, which has no barrier of its own when in == 0.
    __syncthreads();
    const int tp = threadIdx.x / 16;  // 16 groups of 4 pairs
    const int tc = threadIdx.x % 16;  // 16 groups of 4 channels
    float acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++) {
#pragma unroll
        for (int j = 0; j < 4; j++) {
            acc[i][j] = 0.0f;
        }
    }
    const long long w_base = (long long)v * in * out;
    for (int k0 = 0; k0 < in; k0 += BK) {
        __syncthreads();
        // Gather: BP rows x BK channels of x, transposed into shared so the inner loop reads along pairs.
        for (int e = threadIdx.x; e < BP * BK; e += THREADS) {
            const int p = e / BK;
            const int k = e % BK;
            const int row = inputs[p];
            xs[k][p] = row >= 0 && k0 + k < in ? In::load(x[(long long)row * in + k0 + k]) : 0.0f;
        }
        for (int e = threadIdx.x; e < BK * BC; e += THREADS) {
            const int k = e / BC;
            const int c = e % BC;
            ws[k][c] = k0 + k < in && c0 + c < out ? In::load(w[w_base + (long long)(k0 + k) * out + c0 + c]) : 0.0f;
        }
        __syncthreads();
        fma_tile(acc, xs, ws, tp * 4, tc * 4);
    }
    store_tile(acc, outputs + tp * 4, c0 + tc * 4, out, [&](int row, int c, float value) {
        atomicAdd(accumulator + (long long)row * out + c, value);
    });
}
