// Multi-head attention over a ragged (varlen) batch, flash style: O = softmax(scale * Q Kᵀ [+ causal mask]) V per
// sequence and head, never materialising the scores. fp16 or bf16 in and out, fp32 accumulation and softmax.
//
// Layout: token rows packed back to back, sequence b owning rows cu_seqlens[b] .. cu_seqlens[b+1]-1 of every
// operand. Q, K and V rows are `stride` elements apart (H·D for separate tensors, 3·H·D for a packed QKV), head h
// at column h·D; O is [rows, H·D]. lse (optional, F32 [heads, rows]) receives each row's natural-log sum of
// exp(scale · q·k): the token-scoring kernel (key_attention.cu) turns it back into probabilities.
//
// Grid: x = query tiles x heads (heaviest tile first, so causal tails do not trail), y = batch + 1. The tile count
// comes from an upper bound on the sequence length, so a batch whose lengths only the device knows (after token
// selection) launches without a host round-trip: CTAs past their sequence's end return at once. The extra grid row
// writes zeros (and lse = -inf) into rows after the last sequence, which the selection's padding leaves.
//
// CTA: 8 warps, 128 query rows (16 a warp, their Q fragments held in registers for the whole pass), key/value tiles
// of 64 rows streamed through shared memory with a 2-stage cp.async pipeline; S = Q Kᵀ and O += P V on mma.sync
// m16n8k16; online softmax in the log2 domain (scores pre-scaled by scale·log2 e, exp2 on the SFU). Shared tiles
// are XOR-swizzled by 16-byte chunk so every ldmatrix phase hits eight distinct bank groups.
// lacuna-variants: T_IN=f16 HEAD_DIM=32 CAUSAL=0 | T_IN=f16 HEAD_DIM=32 CAUSAL=1 | T_IN=f16 HEAD_DIM=64 CAUSAL=0 | T_IN=f16 HEAD_DIM=64 CAUSAL=1 | T_IN=f16 HEAD_DIM=128 CAUSAL=0 | T_IN=f16 HEAD_DIM=128 CAUSAL=1 | T_IN=bf16 HEAD_DIM=32 CAUSAL=0 | T_IN=bf16 HEAD_DIM=32 CAUSAL=1 | T_IN=bf16 HEAD_DIM=64 CAUSAL=0 | T_IN=bf16 HEAD_DIM=64 CAUSAL=1 | T_IN=bf16 HEAD_DIM=128 CAUSAL=0 | T_IN=bf16 HEAD_DIM=128 CAUSAL=1
#include "lacuna_attention_tile.cuh"

#ifndef CAUSAL
#define CAUSAL 0
#endif

#define BM 128
#define BN 64
#define WARPS 8
#define THREADS (WARPS * 32)
#define Q_TILE_BYTES (BM * ROW_BYTES)
#define KV_TILE_BYTES (BN * ROW_BYTES)
#define STAGE_BYTES (2 * KV_TILE_BYTES)
#define O_TILES (HEAD_DIM / 8)
// Head dim 64 fits two CTAs an SM in registers (<= 128 a thread) when the softmax takes 32 keys at a time; 128
// needs the whole register budget anyway and takes the tile's 64 keys at once. Head dim 32 holds half of 64's Q and
// O fragments, so two CTAs an SM should fit with the whole tile's 64 keys at once (the register counts are from the
// compile check; occupancy has not been measured on a GPU).
#if HEAD_DIM == 32
#define MIN_BLOCKS 2
#define STEP 64
#elif HEAD_DIM == 64
#define MIN_BLOCKS 2
#define STEP 32
#else
#define MIN_BLOCKS 1
#define STEP 64
#endif
#define S_TILES (STEP / 8)
#define P_STEPS (STEP / 16)

#define LACUNA_LN2 0.6931471805599453f

// Starts the copy of ROWS rows of one head into a swizzled tile; rows at or past valid_rows become zeros. `src` is
// this thread's first element (row threadIdx.x / CHUNKS of the tile, its chunk), so the loop adds constants only.
template <int ROWS>
__device__ __forceinline__ void load_tile(unsigned tile, const unsigned short* src, int stride, int valid_rows) {
    static_assert((ROWS * CHUNKS) % THREADS == 0, "a tile must split evenly over the CTA");
    // THREADS / CHUNKS is a multiple of 8, so every row this thread copies has the swizzle of its first.
    static_assert((THREADS / CHUNKS) % 8 == 0, "the rows a thread copies must share a swizzle");
    const unsigned target = tile + tile_offset(threadIdx.x / CHUNKS, threadIdx.x % CHUNKS);
#pragma unroll
    for (int i = 0; i < ROWS * CHUNKS / THREADS; i++) {
        const int row = i * (THREADS / CHUNKS);  // counted from this thread's first row, as valid_rows is
        const bool valid = row < valid_rows;
        lacuna_copy16_async(target + row * ROW_BYTES, valid ? src + row * stride : src, valid);
    }
}

// Rows [first, rows) belong to no sequence: zero them (this head's columns) so downstream ops see no garbage.
__device__ void zero_tail(unsigned short* __restrict__ out, int out_stride, float* __restrict__ lse,
                          long long first, long long rows, int head, int tile, int q_tiles) {
    const uint4 zero = make_uint4(0, 0, 0, 0);
    for (long long r0 = first + (long long)tile * BM; r0 < rows; r0 += (long long)q_tiles * BM) {
        for (int i = threadIdx.x; i < BM * CHUNKS; i += THREADS) {
            const long long row = r0 + i / CHUNKS;
            if (row < rows) {
                *(uint4*)(out + row * out_stride + head * HEAD_DIM + (i % CHUNKS) * 8) = zero;
                if (lse != nullptr && i % CHUNKS == 0) {
                    lse[(long long)head * rows + row] = -__int_as_float(0x7f800000);
                }
            }
        }
    }
}

extern "C" __global__ void __launch_bounds__(THREADS, MIN_BLOCKS)
flash_attention(const unsigned short* __restrict__ q, const unsigned short* __restrict__ k,
                const unsigned short* __restrict__ v, int q_stride, int k_stride, int v_stride,
                unsigned short* __restrict__ out, int out_stride, float* __restrict__ lse,
                const int* __restrict__ cu_seqlens, int batch, long long rows, int heads, int q_tiles,
                float scale_log2) {
    extern __shared__ __align__(128) unsigned char shared[];
    const float neg_inf = -__int_as_float(0x7f800000);
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int head = blockIdx.x / q_tiles;
    const int tile = q_tiles - 1 - (int)(blockIdx.x % q_tiles);
    if (head >= heads) {
        return;
    }
    if ((int)blockIdx.y == batch) {
        zero_tail(out, out_stride, lse, sequence_start(cu_seqlens + batch, rows), rows, head, tile, q_tiles);
        return;
    }
    const long long start = sequence_start(cu_seqlens + blockIdx.y, rows);
    const int len = sequence_length(cu_seqlens + blockIdx.y, start, rows);
    const int m0 = tile * BM;
    if (m0 >= len) {
        return;
    }

    // Each thread's own element of a tile's rows: row threadIdx.x / CHUNKS, chunk threadIdx.x % CHUNKS.
    const int my_row = threadIdx.x / CHUNKS;
    const int my_column = head * HEAD_DIM + (threadIdx.x % CHUNKS) * 8;
    const unsigned short* qh = q + (start + my_row) * q_stride + my_column;
    const unsigned short* kh = k + (start + my_row) * k_stride + my_column;
    const unsigned short* vh = v + (start + my_row) * v_stride + my_column;
    const unsigned q_tile = lacuna_smem_address(shared);
    const unsigned kv_tiles = q_tile + Q_TILE_BYTES;

#if CAUSAL
    const int n_end = min(len, m0 + BM);
#else
    const int n_end = len;
#endif
    const int n_tiles = (n_end + BN - 1) / BN;

    load_tile<BM>(q_tile, qh + (long long)m0 * q_stride, q_stride, len - m0 - my_row);
    lacuna_commit_copies();
    load_tile<BN>(kv_tiles, kh, k_stride, n_end - my_row);
    load_tile<BN>(kv_tiles + KV_TILE_BYTES, vh, v_stride, n_end - my_row);
    lacuna_commit_copies();
    lacuna_wait_copies<1>();
    __syncthreads();

    // This warp's 16 query rows as A fragments.
    unsigned qf[K_STEPS][4];
    load_a_fragments(q_tile, warp * 16, lane, qf);

    const int g = lane >> 2;
    const int t = lane & 3;
    const int row_lo = m0 + warp * 16 + g;  // the row of accumulator elements 0, 1; row_lo + 8 holds 2, 3
    float o[O_TILES][4];
#pragma unroll
    for (int i = 0; i < O_TILES; i++) {
#pragma unroll
        for (int r = 0; r < 4; r++) {
            o[i][r] = 0.0f;
        }
    }
    float row_max[2] = {neg_inf, neg_inf};  // running maxima of the log2-scaled scores
    float row_sum[2] = {0.0f, 0.0f};        // this thread's share of the running denominators

    for (int j = 0; j < n_tiles; j++) {
        lacuna_wait_copies<0>();
        // Tile j has landed for every thread, and every warp is done with the stage the prefetch overwrites.
        __syncthreads();
        if (j + 1 < n_tiles) {
            const int next = (j + 1) * BN;
            const unsigned stage = kv_tiles + ((j + 1) & 1) * STAGE_BYTES;
            load_tile<BN>(stage, kh + (long long)next * k_stride, k_stride, n_end - next - my_row);
            load_tile<BN>(stage + KV_TILE_BYTES, vh + (long long)next * v_stride, v_stride, n_end - next - my_row);
        }
        lacuna_commit_copies();
        const unsigned k_tile = kv_tiles + (j & 1) * STAGE_BYTES;
        const unsigned v_tile = k_tile + KV_TILE_BYTES;
        // The tile's keys go through the softmax STEP keys at a time: for head dim 64 that keeps S at 16 registers
        // (two CTAs an SM fit), at the price of one more rescale of O per tile.
#pragma unroll 1
        for (int step = 0; step < BN / STEP; step++) {
            const int n0 = j * BN + step * STEP;
            // S = Q Kᵀ over this step's keys.
            float s[S_TILES][4];
            multiply_abt(s, qf, k_tile, step * STEP, lane);

            // Keys past the sequence, and (causal) keys after the query, get -inf. A uniform test: only edge tiles
            // pay for it.
            if (n0 + STEP > len || (CAUSAL && n0 + STEP - 1 > m0)) {
#pragma unroll
                for (int nt = 0; nt < S_TILES; nt++) {
#pragma unroll
                    for (int r = 0; r < 4; r++) {
                        const int key = n0 + nt * 8 + 2 * t + (r & 1);
                        const int row = row_lo + (r >> 1) * 8;
                        if (key >= len || (CAUSAL && key > row)) {
                            s[nt][r] = neg_inf;
                        }
                    }
                }
            }

            // Online softmax: rescale what was accumulated so far to the new row maximum, then exponentiate.
#pragma unroll
            for (int half = 0; half < 2; half++) {
                float step_max = neg_inf;
#pragma unroll
                for (int nt = 0; nt < S_TILES; nt++) {
                    step_max = fmaxf(step_max, fmaxf(s[nt][2 * half], s[nt][2 * half + 1]));
                }
                // The four lanes of a quad share a row.
                step_max = fmaxf(step_max, __shfl_xor_sync(0xffffffffu, step_max, 1));
                step_max = fmaxf(step_max, __shfl_xor_sync(0xffffffffu, step_max, 2));
                const float new_max = fmaxf(row_max[half], step_max * scale_log2);
                // A row whose keys were all masked so far keeps max -inf: exponentiate against 0, not -inf - -inf.
                const float base = new_max == neg_inf ? 0.0f : new_max;
                const float correction = lacuna_exp2(row_max[half] - base);
                row_max[half] = new_max;
                row_sum[half] *= correction;
#pragma unroll
                for (int dt = 0; dt < O_TILES; dt++) {
                    o[dt][2 * half] *= correction;
                    o[dt][2 * half + 1] *= correction;
                }
#pragma unroll
                for (int nt = 0; nt < S_TILES; nt++) {
#pragma unroll
                    for (int c = 0; c < 2; c++) {
                        const float p = lacuna_exp2(fmaf(s[nt][2 * half + c], scale_log2, -base));
                        s[nt][2 * half + c] = p;
                        row_sum[half] += p;
                    }
                }
            }

            // O += P V. The S accumulator of key tiles 2kk, 2kk+1 is exactly the A fragment of k-step kk; V rows are
            // keys (k), so the B fragments come from a transposing ldmatrix.
#pragma unroll
            for (int kk = 0; kk < P_STEPS; kk++) {
                unsigned a[4];
                a[0] = lacuna_pack2<DTYPE>(s[2 * kk][0], s[2 * kk][1]);
                a[1] = lacuna_pack2<DTYPE>(s[2 * kk][2], s[2 * kk][3]);
                a[2] = lacuna_pack2<DTYPE>(s[2 * kk + 1][0], s[2 * kk + 1][1]);
                a[3] = lacuna_pack2<DTYPE>(s[2 * kk + 1][2], s[2 * kk + 1][3]);
#pragma unroll
                for (int dd = 0; dd < O_TILES / 2; dd++) {
                    unsigned b[4];
                    lacuna_ldmatrix_x4_trans(v_tile + tile_offset(step * STEP + kk * 16 + (lane & 15),
                                                                  2 * dd + (lane >> 4)), b);
                    lacuna_mma_16816<DTYPE>(o[2 * dd], a, b[0], b[1]);
                    lacuna_mma_16816<DTYPE>(o[2 * dd + 1], a, b[2], b[3]);
                }
            }
        }
    }
    lacuna_wait_copies<0>();

    float inverse[2];
#pragma unroll
    for (int half = 0; half < 2; half++) {
        row_sum[half] += __shfl_xor_sync(0xffffffffu, row_sum[half], 1);
        row_sum[half] += __shfl_xor_sync(0xffffffffu, row_sum[half], 2);
        inverse[half] = row_sum[half] > 0.0f ? 1.0f / row_sum[half] : 0.0f;
    }

    // Stage the warp's 16 output rows in its own rows of the Q tile (no warp reads Q from shared memory any more),
    // then write them out as whole 16-byte chunks.
#pragma unroll
    for (int dt = 0; dt < O_TILES; dt++) {
#pragma unroll
        for (int half = 0; half < 2; half++) {
            const int row = warp * 16 + g + half * 8;
            *(unsigned*)(shared + tile_offset(row, dt) + 4 * t) =
                lacuna_pack2<DTYPE>(o[dt][2 * half] * inverse[half], o[dt][2 * half + 1] * inverse[half]);
        }
    }
    __syncwarp();
    // Addressed afresh here rather than kept in registers through the loop.
    unsigned short* oh = out + start * out_stride + head * HEAD_DIM;
#pragma unroll
    for (int i = lane; i < 16 * CHUNKS; i += 32) {
        const int row = warp * 16 + i / CHUNKS;
        const int chunk = i % CHUNKS;
        if (m0 + row < len) {
            *(uint4*)(oh + (long long)(m0 + row) * out_stride + chunk * 8) =
                *(const uint4*)(shared + tile_offset(row, chunk));
        }
    }
    if (lse != nullptr && t == 0) {
#pragma unroll
        for (int half = 0; half < 2; half++) {
            const int row = row_lo + half * 8;
            if (row < len) {
                lse[(long long)head * rows + start + row] =
                    row_sum[half] > 0.0f ? (row_max[half] + log2f(row_sum[half])) * LACUNA_LN2 : neg_inf;
            }
        }
    }
}
