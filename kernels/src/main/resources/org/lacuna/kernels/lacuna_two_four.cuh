// The tile loads shared by the 2:4 GEMM kernels (two_four_gemm.cu for mma.sp, two_four_gemm_sm90.cu for
// wgmma.sp): both read the same compressed weight and metadata the same way and differ only in where a piece of
// X lands in shared memory. The including kernel defines BM, BN, BK, THREADS, K_ALIGNED, the A/B/E stage sizes and
// b_offset(token_row, k_chunk) before including this file.
#pragma once

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
