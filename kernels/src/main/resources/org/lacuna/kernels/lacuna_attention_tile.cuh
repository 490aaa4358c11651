// What the attention kernels (flash_attention.cu, key_attention.cu) share: the variant constants T_IN and HEAD_DIM,
// tiles of HEAD_DIM-wide 16-bit rows in shared memory (16-byte chunks, XOR-swizzled), a warp's A fragments and the
// S = A Bᵀ product over one tile, and the rows of one sequence of a ragged (varlen) batch.
#pragma once

#include "lacuna_mma.cuh"

#ifndef T_IN
#define T_IN f16
#endif
#ifndef HEAD_DIM
#define HEAD_DIM 64
#endif

#define DTYPE LACUNA_DTYPE_ID(T_IN)
#define CHUNKS (HEAD_DIM / 8)
#define ROW_BYTES (HEAD_DIM * 2)
#define K_STEPS (HEAD_DIM / 16)

static_assert(HEAD_DIM == 32 || HEAD_DIM == 64 || HEAD_DIM == 128, "head dim must be 32, 64 or 128");
static_assert(DTYPE == LACUNA_DTYPE_f16 || DTYPE == LACUNA_DTYPE_bf16, "the tensor cores take f16 or bf16 here");

// Byte offset of 16-byte chunk `chunk` of row `row` in a tile of HEAD_DIM-wide rows, swizzled so that eight
// consecutive rows of one logical chunk land in eight different bank groups. Rows of 128 bytes or more XOR the low
// three chunk bits with the row. A 64-byte row (head dim 32) has only four chunks and two rows share each 128-byte
// line: the row's parity already picks the line's half, and the chunk is XORed with (row / 2) mod 4, which keeps it
// inside its own row. (Checked on paper and by the compile check; bank conflicts have not been profiled on a GPU.)
__device__ __forceinline__ unsigned tile_offset(int row, int chunk) {
#if HEAD_DIM == 32
    return row * ROW_BYTES + ((chunk ^ ((row >> 1) & 3)) << 4);
#else
    return row * ROW_BYTES + ((chunk ^ (row & 7)) << 4);
#endif
}

// Rows [row0, row0 + 16) of a tile, this warp's, as A fragments: one per 16-wide k-step of the head dimension.
__device__ __forceinline__ void load_a_fragments(unsigned tile, int row0, int lane, unsigned (&a)[K_STEPS][4]) {
#pragma unroll
    for (int ks = 0; ks < K_STEPS; ks++) {
        lacuna_ldmatrix_x4(tile + tile_offset(row0 + (lane & 15), 2 * ks + (lane >> 4)), a[ks]);
    }
}

// s = A Bᵀ: this warp's 16 rows (A fragments) against rows [b0, b0 + TILES * 8) of a tile. Rows of B are the columns
// of the product, so a non-transposed ldmatrix gives the col-major B fragments directly.
template <int TILES>
__device__ __forceinline__ void multiply_abt(float (&s)[TILES][4], const unsigned (&a)[K_STEPS][4], unsigned tile,
                                             int b0, int lane) {
#pragma unroll
    for (int i = 0; i < TILES; i++) {
#pragma unroll
        for (int r = 0; r < 4; r++) {
            s[i][r] = 0.0f;
        }
    }
#pragma unroll
    for (int ks = 0; ks < K_STEPS; ks++) {
#pragma unroll
        for (int jj = 0; jj < TILES / 2; jj++) {
            unsigned b[4];
            lacuna_ldmatrix_x4(tile + tile_offset(b0 + jj * 16 + (lane & 7) + ((lane >> 4) << 3),
                                                  2 * ks + ((lane >> 3) & 1)), b);
            lacuna_mma_16816<DTYPE>(s[2 * jj], a[ks], b[0], b[1]);
            lacuna_mma_16816<DTYPE>(s[2 * jj + 1], a[ks], b[2], b[3]);
        }
    }
}

// Where the sequence whose offset `offset` points at (&cu_seqlens[b]) starts, clamped to [0, rows]: offsets are
// device data, and bad ones must never address outside the operands.
__device__ __forceinline__ long long sequence_start(const int* offset, long long rows) {
    return min((long long)max(offset[0], 0), rows);
}

// Its length: the next offset clamped to [start, rows], less the start.
__device__ __forceinline__ int sequence_length(const int* offset, long long start, long long rows) {
    return (int)(min(max((long long)offset[1], start), rows) - start);
}
