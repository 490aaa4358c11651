// What the 2:4 GEMM kernels (two_four_gemm.cu for mma.sp, two_four_gemm_sm90.cu for wgmma.sp) share: the variant's
// defaults and tile constants, the tile loads and the cp.async pipeline that feeds them (both read the same
// compressed weight and metadata the same way and differ only in where a piece of X lands in shared memory, which
// each kernel's b_offset says), the A fragments and metadata words a warp reads from a stage, and the epilogue (both
// accumulators follow the mma row/column layout). The including kernel defines BN and B_STAGE_BYTES (its B layout)
// before including this file, and b_offset(token_row, k_chunk) after it.
#pragma once

#ifndef T_IN
#define T_IN f16
#endif
#ifndef T_OUT
#define T_OUT f16
#endif
#ifndef ACT
#define ACT none
#endif
// 1 when K % 8 == 0: rows of X are 16-byte aligned and tiles load with cp.async; 0 falls back to guarded scalar loads.
#ifndef K_ALIGNED
#define K_ALIGNED 1
#endif
#ifndef STAGES
#define STAGES 3
#endif

// CTA tile: BM output features x BN tokens x BK dense K, 8 warps.
#define BM 128
#define BK 64
#define THREADS 256

// A stage: compressed A (BM x BK/2 values), B, metadata (BK/32 x BM/32 x 32 words).
#define A_STAGE_BYTES (BM * (BK / 2) * 2)
#define E_STAGE_BYTES ((BK / 32) * (BM / 32) * 32 * 4)
#define STAGE_BYTES (A_STAGE_BYTES + B_STAGE_BYTES + E_STAGE_BYTES)

static_assert(LACUNA_DTYPE_ID(T_IN) != LACUNA_DTYPE_f32, "the sparse tensor cores take f16 or bf16 inputs");

typedef LacunaStorage<LACUNA_DTYPE_ID(T_OUT)> Out;

// Byte offset in a stage's B tile of the 16-byte piece (token row, chunk of 8 K values): the kernel's B layout.
__device__ __forceinline__ unsigned b_offset(int row, int chunk);

// Compressed A rows are 64 B (4 chunks of 16 B), XOR-swizzled so the 8 rows of an ldmatrix hit distinct banks.
__device__ __forceinline__ unsigned a_offset(int row, int chunk) {
    return row * 64 + ((chunk ^ ((row >> 1) & 3)) << 4);
}

__device__ __forceinline__ void load_stage(unsigned char* stage, const unsigned short* __restrict__ x,
                                           const unsigned short* __restrict__ w, const unsigned* __restrict__ e,
                                           int k_tile, long long m0, long long n0, int n, int k, int mp, int kp) {
    const int tid = threadIdx.x;
    const unsigned a_base = lacuna_smem_address(stage);
    const unsigned b_base = a_base + A_STAGE_BYTES;
    const unsigned e_base = b_base + B_STAGE_BYTES;
    const long long k0 = (long long)k_tile * BK;

    // A: BM rows x 4 chunks of compressed values; always inside the padded weight.
#pragma unroll
    for (int i = 0; i < (BM * 4) / THREADS; i++) {
        const int id = tid + i * THREADS;
        const int row = id >> 2;
        const int chunk = id & 3;
        const unsigned short* source = w + (m0 + row) * (kp / 2) + k0 / 2 + chunk * 8;
        lacuna_copy16_async(a_base + a_offset(row, chunk), source, true);
    }
    // Metadata: the CTA's 4 row groups are contiguous for each of the 2 k-blocks of this tile.
    if (tid < E_STAGE_BYTES / 16) {
        const int kb = tid / 32;
        const int word = (tid % 32) * 4;
        const unsigned* source = e + (((k0 / 32) + kb) * (mp / 32) + m0 / 32) * 32 + word;
        lacuna_copy16_async(e_base + (kb * 128 + word) * 4, source, true);
    }
    // B: BN token rows x 8 chunks of 8 K values; rows past N and columns past K are zeros.
#pragma unroll
    for (int i = 0; i < (BN * 8) / THREADS; i++) {
        const int id = tid + i * THREADS;
        const int row = id >> 3;
        const int chunk = id & 7;
        const long long token = n0 + row;
        const long long col = k0 + chunk * 8;
#if K_ALIGNED
        const bool valid = token < n && col < k;
        const unsigned short* source = valid ? x + token * k + col : x;
        lacuna_copy16_async(b_base + b_offset(row, chunk), source, valid);
#else
        unsigned short values[8];
#pragma unroll
        for (int j = 0; j < 8; j++) {
            values[j] = token < n && col + j < k ? x[token * k + col + j] : (unsigned short)0;
        }
        unsigned short* target = (unsigned short*)(stage + A_STAGE_BYTES + b_offset(row, chunk));
#pragma unroll
        for (int j = 0; j < 8; j++) {
            target[j] = values[j];
        }
#endif
    }
}

// Tile `tile` of K into its stage of the ring (when there is such a tile), then a commit: one commit group per
// call, empty past the last tile, so lacuna_wait_copies<STAGES - 2> always waits for the right one.
__device__ __forceinline__ void load_tile_async(unsigned char* shared, int tile, int k_tiles,
                                                const unsigned short* __restrict__ x,
                                                const unsigned short* __restrict__ w, const unsigned* __restrict__ e,
                                                long long m0, long long n0, int n, int k, int mp, int kp) {
    if (tile < k_tiles) {
        load_stage(shared + (tile % STAGES) * STAGE_BYTES, x, w, e, tile, m0, n0, n, k, mp, kp);
    }
    lacuna_commit_copies();
}

// Where tile kt's pieces sit in its stage: A and B as shared-memory addresses, the metadata words as a pointer.
struct TwoFourStage {
    unsigned a;
    unsigned b;
    const unsigned* e;
};

__device__ __forceinline__ TwoFourStage stage_of(const unsigned char* shared, int kt) {
    const unsigned char* stage = shared + (kt % STAGES) * STAGE_BYTES;
    const unsigned a = lacuna_smem_address(stage);
    return {a, a + A_STAGE_BYTES, (const unsigned*)(stage + A_STAGE_BYTES + B_STAGE_BYTES)};
}

// The mma.sp A fragment of 16 compressed rows from `row0` for k-step ks (32 dense K), one ldmatrix.x4.
__device__ __forceinline__ void load_a_fragment(const TwoFourStage& stage, int row0, int ks, unsigned (&a)[4]) {
    const int lane = threadIdx.x & 31;
    lacuna_ldmatrix_x4(stage.a + a_offset(row0 + (lane & 15), ks * 2 + (lane >> 4)), a);
}

// This lane's metadata register for row group `group` (32 rows) and k-step ks.
__device__ __forceinline__ unsigned metadata_word(const TwoFourStage& stage, int ks, int group) {
    return stage.e[ks * 128 + group * 32 + (threadIdx.x & 31)];
}

// Y = act(acc + bias) from the warp's accumulators, laid out as mma's D fragments over (output rows) x (tokens):
// lane (g = lane / 4, t = lane % 4) holds, for row tile i (16 rows from out0 + 16 i) and half h, output feature
// out0 + 16 i + 8 h + g, and for token tile j (8 tokens from token0 + 8 j) tokens 2t and 2t + 1 at
// acc(i, j, 2 h + r), r = 0, 1. D = Yᵀ, so each lands at Y[token][out]; rows past M and tokens past N are skipped.
template <int RowTiles, int TokenTiles, typename Accumulator>
__device__ __forceinline__ void store_output(typename Out::type* __restrict__ y, const float* __restrict__ bias,
                                             int n, int m, long long out0, long long token0, Accumulator acc) {
    const int lane = threadIdx.x & 31;
    const int g = lane >> 2;
    const int t = lane & 3;
#pragma unroll
    for (int i = 0; i < RowTiles; i++) {
#pragma unroll
        for (int half = 0; half < 2; half++) {
            const long long out = out0 + i * 16 + g + half * 8;
            if (out >= m) {
                continue;
            }
            const float b = bias != nullptr ? bias[out] : 0.0f;
#pragma unroll
            for (int j = 0; j < TokenTiles; j++) {
#pragma unroll
                for (int r = 0; r < 2; r++) {
                    const long long token = token0 + j * 8 + 2 * t + r;
                    if (token < n) {
                        y[token * m + out] =
                            Out::store(lacuna_activate<LACUNA_CAT(LACUNA_ACT_, ACT)>(acc(i, j, half * 2 + r) + b));
                    }
                }
            }
        }
    }
}
