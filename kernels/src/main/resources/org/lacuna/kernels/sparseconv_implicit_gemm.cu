// Sparse convolution, output-stationary implicit GEMM: each CTA owns BM=64 output rows x BN=64 output channels and
// walks the kernel offsets that any of its rows needs (the OR of the rows' neighbour bitmasks: offsets no row has
// are skipped), gathering each row's neighbour for that offset on the fly and multiplying by W[v]. Rows arrive in
// the order of rows[] (sorted by bitmask on the host, so rows needing the same offsets share a tile). No atomics:
// each output element is summed by one thread in a fixed order, so the result is deterministic.
//
// Offsets may be split into groups, one launch per group over [v_begin, v_end) with its own row order: the first
// launch starts from zero (ACCUMULATE=0 at run time), later ones add to the fp32 workspace, the last one (finish=1)
// applies bias + activation and stores T_OUT. Batch norm is folded into W and bias on the host.
//
// T_IN=f16: mma.sync m16n8k16 fp16 x fp16 -> fp32 on the tensor cores, 4 warps as 2 (rows) x 2 (channels), warp
// tile 32 x 32. T_IN=f32: the same tiles in fp32 FMA (no tf32 rounding: fp32 results match the fp32 reference).
// lacuna-variants: T_IN=f16 T_OUT=f16 ACT=relu | T_IN=f16 T_OUT=f32 ACT=none | T_IN=f32 T_OUT=f32 ACT=relu | T_IN=f32 T_OUT=f16 ACT=none
#include "lacuna_common.cuh"
#include "lacuna_mma.cuh"
#include "lacuna_sparseconv_tile.cuh"

// The tensor-core path when a build names no input type.
#ifndef T_IN
#define T_IN f16
#endif
#include "lacuna_variant.cuh"

#ifndef ACT
#define ACT none
#endif

#define BM 64
#define BN 64
#define BK 16
#define THREADS 128
// Kernel volumes up to 4096 offsets (ConvGeometry.MAX_VOLUME).
#define MAX_MASK_WORDS 64
#define MMA_PATH (LACUNA_DTYPE_ID(T_IN) == LACUNA_DTYPE_f16)
// Padding keeps the 32-bit fragment loads of successive rows off the same banks.
#define A_PITCH (BK + 8)

// Adds the workspace (later groups), then either keeps the sum in the workspace or finishes it into y.
__device__ __forceinline__ void sparseconv_store(float value, int row, int c, int out, int accumulate, int finish,
                                                 float* __restrict__ workspace, const float* __restrict__ bias,
                                                 typename Out::type* __restrict__ y) {
    const long long at = (long long)row * out + c;
    if (accumulate) {
        value += workspace[at];
    }
    if (finish) {
        const float b = bias != nullptr ? bias[c] : 0.0f;
        y[at] = Out::store(lacuna_activate<LACUNA_CAT(LACUNA_ACT_, ACT)>(value + b));
    } else {
        workspace[at] = value;
    }
}

extern "C" __global__ void __launch_bounds__(THREADS)
sparseconv_implicit_gemm(const typename In::type* __restrict__ x, const typename In::type* __restrict__ w,
                         const int* __restrict__ neighbours, const unsigned long long* __restrict__ masks,
                         const int* __restrict__ rows, long long n_out, int in, int out, int volume, int mask_words,
                         int v_begin, int v_end, int accumulate, int finish, float* __restrict__ workspace,
                         const float* __restrict__ bias, typename Out::type* __restrict__ y) {
    __shared__ int tile_rows[BM];
    __shared__ int tile_inputs[BM];
    __shared__ unsigned long long tile_mask[MAX_MASK_WORDS];
#if MMA_PATH
    __shared__ __align__(16) unsigned short as[BM][A_PITCH];
    __shared__ __align__(16) unsigned short bs[BN][A_PITCH];  // W[v] transposed: [channel][k]
#else
    __shared__ float as[BK][BM + 1];
    __shared__ float bs[BK][BN];
#endif
    const int tid = threadIdx.x;
    const long long first_row = (long long)blockIdx.x * BM;
    const int c0 = blockIdx.y * BN;
    const int word_begin = v_begin >> 6;
    const int word_end = (v_end + 63) >> 6;
    for (int i = tid; i < MAX_MASK_WORDS; i += THREADS) {
        tile_mask[i] = 0ull;
    }
    if (tid < BM) {
        tile_rows[tid] = first_row + tid < n_out ? rows[first_row + tid] : -1;
    }
    __syncthreads();
    // The tile's offsets: the OR of its rows' bitmasks, restricted to this launch's group [v_begin, v_end).
    for (int e = tid; e < BM * (word_end - word_begin); e += THREADS) {
        const int r = e % BM;
        const int word = word_begin + e / BM;
        const int row = tile_rows[r];
        if (row >= 0) {
            unsigned long long bits = masks[(long long)row * mask_words + word];
            const int lo = max(v_begin - word * 64, 0);
            const int hi = min(v_end - word * 64, 64);
            const unsigned long long keep = (hi >= 64 ? ~0ull : ((1ull << hi) - 1ull)) & (~0ull << lo);
            bits &= keep;
            if (bits != 0ull) {
                atomicOr(&tile_mask[word], bits);
            }
        }
    }
    __syncthreads();

#if MMA_PATH
    const int warp = tid >> 5;
    const int lane = tid & 31;
    const int g = lane >> 2;
    const int t = lane & 3;
    const int wm = warp >> 1;
    const int wn = warp & 1;
    float acc[2][4][4];
#else
    const int tr = tid / 16;  // 8 groups of 8 rows
    const int tc = tid % 16;  // 16 groups of 4 channels
    float acc[8][4];
#endif
#pragma unroll
    for (int i = 0; i < (MMA_PATH ? 2 : 8); i++) {
#pragma unroll
        for (int j = 0; j < 4 * (MMA_PATH ? 4 : 1); j++) {
#if MMA_PATH
            acc[i][j / 4][j % 4] = 0.0f;
#else
            acc[i][j] = 0.0f;
#endif
        }
    }

    for (int word = word_begin; word < word_end; word++) {
        unsigned long long bits = tile_mask[word];
        while (bits != 0ull) {
            const int v = word * 64 + __ffsll((long long)bits) - 1;
            bits &= bits - 1ull;
            __syncthreads();  // the previous offset's tiles are no longer read
            if (tid < BM) {
                const int row = tile_rows[tid];
                tile_inputs[tid] = row >= 0 ? neighbours[(long long)row * volume + v] : -1;
            }
            const long long w_base = (long long)v * in * out;
            for (int k0 = 0; k0 < in; k0 += BK) {
                __syncthreads();
                for (int e = tid; e < BM * BK; e += THREADS) {
                    const int r = e / BK;
                    const int k = e % BK;
                    const int source = tile_inputs[r];
                    const bool live = source >= 0 && k0 + k < in;
#if MMA_PATH
                    as[r][k] = live ? x[(long long)source * in + k0 + k] : (unsigned short)0;
#else
                    as[k][r] = live ? x[(long long)source * in + k0 + k] : 0.0f;
#endif
                }
                for (int e = tid; e < BK * BN; e += THREADS) {
                    const int k = e / BN;
                    const int c = e % BN;
                    const bool live = k0 + k < in && c0 + c < out;
#if MMA_PATH
                    bs[c][k] = live ? w[w_base + (long long)(k0 + k) * out + c0 + c] : (unsigned short)0;
#else
                    bs[k][c] = live ? w[w_base + (long long)(k0 + k) * out + c0 + c] : 0.0f;
#endif
                }
                __syncthreads();
#if MMA_PATH
                unsigned b[4][2];
#pragma unroll
                for (int ni = 0; ni < 4; ni++) {
                    const int n = wn * 32 + ni * 8 + g;
                    b[ni][0] = *reinterpret_cast<const unsigned*>(&bs[n][2 * t]);
                    b[ni][1] = *reinterpret_cast<const unsigned*>(&bs[n][2 * t + 8]);
                }
#pragma unroll
                for (int mi = 0; mi < 2; mi++) {
                    const int m = wm * 32 + mi * 16 + g;
                    const unsigned a[4] = {*reinterpret_cast<const unsigned*>(&as[m][2 * t]),
                                           *reinterpret_cast<const unsigned*>(&as[m + 8][2 * t]),
                                           *reinterpret_cast<const unsigned*>(&as[m][2 * t + 8]),
                                           *reinterpret_cast<const unsigned*>(&as[m + 8][2 * t + 8])};
#pragma unroll
                    for (int ni = 0; ni < 4; ni++) {
                        lacuna_mma_16816<LACUNA_DTYPE_f16>(acc[mi][ni], a, b[ni][0], b[ni][1]);
                    }
                }
#else
                fma_tile(acc, as, bs, tr * 8, tc * 4);
#endif
            }
        }
    }

    // Every row of the tile is stored, also one no offset reached (its value is the bias): no output stays unwritten.
#if MMA_PATH
#pragma unroll
    for (int mi = 0; mi < 2; mi++) {
#pragma unroll
        for (int half = 0; half < 2; half++) {
            const int row = tile_rows[wm * 32 + mi * 16 + g + 8 * half];
            if (row < 0) {
                continue;
            }
#pragma unroll
            for (int ni = 0; ni < 4; ni++) {
#pragma unroll
                for (int j = 0; j < 2; j++) {
                    const int c = c0 + wn * 32 + ni * 8 + 2 * t + j;
                    if (c < out) {
                        sparseconv_store(acc[mi][ni][2 * half + j], row, c, out, accumulate, finish, workspace, bias,
                                         y);
                    }
                }
            }
        }
    }
#else
    store_tile(acc, tile_rows + tr * 8, c0 + tc * 4, out, [&](int row, int c, float value) {
        sparseconv_store(value, row, c, out, accumulate, finish, workspace, bias, y);
    });
#endif
}
