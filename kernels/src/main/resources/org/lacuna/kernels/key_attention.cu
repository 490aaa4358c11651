// Attention each key (token) receives, averaged over heads: the token scores EViT-style pruning ranks by.
//   MODE=cls   score[j] = 1/H · Σ_h P_h[0, j]             (what the sequence's first token, the CLS token, attends)
//   MODE=mean  score[j] = 1/(H·L) · Σ_h Σ_i P_h[i, j]     (mean attention received, over every query of the sequence)
// with P_h[i, j] = exp(scale · q_i·k_j − lse_h[i]) and lse the row log-sum-exp flash_attention.cu wrote, so the
// probabilities are exactly the forward's, without a second softmax pass. Causal: P[i, j] = 0 for j > i.
//
// Layout as flash_attention.cu (varlen rows, `stride`-apart rows, head h at column h·D, lse F32 [heads, rows]);
// scores F32 [rows]. Grid: x = key tiles of 64 (from an upper bound on the length), y = batch + 1; the extra row
// zeroes the scores of rows after the last sequence.
//
// CTA: 4 warps, 16 keys each held as A fragments; it computes Sᵀ = K Qᵀ tile by tile over every head and query tile
// (Q tiles double-buffered through shared memory with cp.async), so each key's column sum stays in one thread's
// registers: deterministic, no atomics.
// lacuna-variants: T_IN=f16 HEAD_DIM=32 MODE=cls | T_IN=f16 HEAD_DIM=32 MODE=mean | T_IN=f16 HEAD_DIM=64 MODE=cls | T_IN=f16 HEAD_DIM=64 MODE=mean | T_IN=f16 HEAD_DIM=128 MODE=cls | T_IN=f16 HEAD_DIM=128 MODE=mean | T_IN=bf16 HEAD_DIM=32 MODE=cls | T_IN=bf16 HEAD_DIM=32 MODE=mean | T_IN=bf16 HEAD_DIM=64 MODE=cls | T_IN=bf16 HEAD_DIM=64 MODE=mean | T_IN=bf16 HEAD_DIM=128 MODE=cls | T_IN=bf16 HEAD_DIM=128 MODE=mean
#include "lacuna_attention_tile.cuh"

#ifndef MODE
#define MODE mean
#endif

#define LACUNA_KEYS_cls 0
#define LACUNA_KEYS_mean 1
#define KEY_MODE LACUNA_CAT(LACUNA_KEYS_, MODE)

#define BK 64
#define WARPS 4
#define THREADS (WARPS * 32)
// Only query 0 counts for cls: a 16-query tile is the smallest an x4 ldmatrix fills.
#if KEY_MODE == LACUNA_KEYS_cls
#define BQ 16
#else
#define BQ 64
#endif
#define K_TILE_BYTES (BK * ROW_BYTES)
#define Q_TILE_BYTES (BQ * ROW_BYTES)
#define LSE_BYTES (BQ * 4)
#define STAGE_BYTES (K_TILE_BYTES + Q_TILE_BYTES + LSE_BYTES)
#define S_TILES (BQ / 8)

static_assert(KEY_MODE == LACUNA_KEYS_cls || KEY_MODE == LACUNA_KEYS_mean, "MODE must be cls or mean");

#define LACUNA_LOG2E 1.4426950408889634f

template <int ROWS>
__device__ __forceinline__ void load_tile(unsigned tile, const unsigned short* src, long long stride, int valid_rows) {
    for (int id = threadIdx.x; id < ROWS * CHUNKS; id += THREADS) {
        const int row = id / CHUNKS;
        const int chunk = id % CHUNKS;
        const bool valid = row < valid_rows;
        lacuna_copy16_async(tile + tile_offset(row, chunk), valid ? src + row * stride + chunk * 8 : src, valid);
    }
}

extern "C" __global__ void __launch_bounds__(THREADS)
key_attention(const unsigned short* __restrict__ q, const unsigned short* __restrict__ k, long long q_stride,
              long long k_stride, const float* __restrict__ lse, const int* __restrict__ cu_seqlens, int batch,
              long long rows, int heads, float scale_log2, int causal, float* __restrict__ scores) {
    extern __shared__ __align__(128) unsigned char shared[];
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int key0 = blockIdx.x * BK;
    if ((int)blockIdx.y == batch) {
        const long long first = sequence_start(cu_seqlens + batch, rows);
        if (threadIdx.x < BK) {
            for (long long r = first + key0 + threadIdx.x; r < rows; r += (long long)gridDim.x * BK) {
                scores[r] = 0.0f;
            }
        }
        return;
    }
    const long long start = sequence_start(cu_seqlens + blockIdx.y, rows);
    const int len = sequence_length(cu_seqlens + blockIdx.y, start, rows);
    if (key0 >= len) {
        return;
    }
#if KEY_MODE == LACUNA_KEYS_cls
    const int q_end = min(len, 1);
#else
    const int q_end = len;
#endif
    // Causal: no query before the tile's first key sees any of its keys.
    const int qt_begin = causal ? key0 / BQ : 0;
    const int q_tiles = max(0, (q_end + BQ - 1) / BQ - qt_begin);
    const int iterations = heads * q_tiles;

    const unsigned short* kb = k + start * k_stride;
    const unsigned short* qb = q + start * q_stride;
    const unsigned base = lacuna_smem_address(shared);
    const int g = lane >> 2;
    const int t = lane & 3;
    const int key_lo = key0 + warp * 16 + g;  // the key of accumulator rows 0, 1; key_lo + 8 holds 2, 3
    float received[2] = {0.0f, 0.0f};
    unsigned kf[K_STEPS][4];

    // Stage `it` (head it / q_tiles, query tile qt_begin + it % q_tiles): the head's K tile when the head starts,
    // the query tile, and its rows' log2-domain lse (plain loads: lse rows are not 16-byte aligned).
    auto load_stage = [&](int it) {
        const int head = it / q_tiles;
        const int q0 = (qt_begin + it % q_tiles) * BQ;
        const unsigned stage = base + (it & 1) * STAGE_BYTES;
        if (it % q_tiles == 0) {
            load_tile<BK>(stage, kb + (long long)key0 * k_stride + (long long)head * HEAD_DIM, k_stride, len - key0);
        }
        load_tile<BQ>(stage + K_TILE_BYTES, qb + (long long)q0 * q_stride + (long long)head * HEAD_DIM, q_stride,
                      q_end - q0);
        float* lse_stage = (float*)(shared + (it & 1) * STAGE_BYTES + K_TILE_BYTES + Q_TILE_BYTES);
        for (int i = threadIdx.x; i < BQ; i += THREADS) {
            lse_stage[i] = q0 + i < q_end ? lse[(long long)head * rows + start + q0 + i] * LACUNA_LOG2E : 0.0f;
        }
    };

    if (iterations > 0) {
        load_stage(0);
    }
    lacuna_commit_copies();
    for (int it = 0; it < iterations; it++) {
        lacuna_wait_copies<0>();
        // Stage `it` is complete for every thread, and every warp is done with the stage refilled below.
        __syncthreads();
        if (it + 1 < iterations) {
            load_stage(it + 1);
        }
        lacuna_commit_copies();
        const unsigned stage = base + (it & 1) * STAGE_BYTES;
        if (it % q_tiles == 0) {
            load_a_fragments(stage, warp * 16, lane, kf);
        }
        const unsigned q_tile = stage + K_TILE_BYTES;
        const float* lse_stage = (const float*)(shared + (it & 1) * STAGE_BYTES + K_TILE_BYTES + Q_TILE_BYTES);
        const int q0 = (qt_begin + it % q_tiles) * BQ;

        float s[S_TILES][4];
        multiply_abt(s, kf, q_tile, 0, lane);
#pragma unroll
        for (int nt = 0; nt < S_TILES; nt++) {
#pragma unroll
            for (int r = 0; r < 4; r++) {
                const int column = nt * 8 + 2 * t + (r & 1);
                const int query = q0 + column;
                const int key = key_lo + (r >> 1) * 8;
                if (query < q_end && (!causal || query >= key)) {
                    received[r >> 1] += lacuna_exp2(fmaf(s[nt][r], scale_log2, -lse_stage[column]));
                }
            }
        }
    }
    lacuna_wait_copies<0>();

#if KEY_MODE == LACUNA_KEYS_cls
    const float normaliser = 1.0f / (float)heads;
#else
    const float normaliser = 1.0f / ((float)heads * (float)len);
#endif
#pragma unroll
    for (int half = 0; half < 2; half++) {
        float total = received[half];
        total += __shfl_xor_sync(0xffffffffu, total, 1);
        total += __shfl_xor_sync(0xffffffffu, total, 2);
        const int key = key_lo + half * 8;
        if (t == 0 && key < len) {
            scores[start + key] = total * normaliser;
        }
    }
}
