// Y[N, M] = act(X[N, K] · W[M, K]ᵀ + bias[M]) with W pruned 2:4 along K, on the sparse tensor cores
// (mma.sp::ordered_metadata m16n8k32, fp16/bf16 in, fp32 accumulation).
//
// W is the sparse A operand (M = output features), X the dense B operand (N = tokens), so D = W·Xᵀ = Yᵀ.
// W arrives compressed once at load time (runtime/.../gemm/TwoFourWeights): values [Mp][Kp/2] row-major and
// metadata words E[Kp/32][Mp/32][32], word (kb, q, lane) being exactly lane's metadata register for rows
// 32q..32q+31 and dense K 32kb..32kb+31 (rows 32q..+15 use sparsity selector 0, rows 32q+16..+31 selector 1).
// Mp is a multiple of 128 and Kp of 64, padded with zeros, so W tiles never need guards; X rows (tokens) and the
// output are guarded.
//
// CTA tile BM=128 (out) x BN (tokens) x BK=64 (dense K), 8 warps as 2 (M) x 4 (N), warp tile 64 x BN/4.
// Global -> shared through a STAGES-deep cp.async pipeline; shared -> registers with ldmatrix (XOR-swizzled rows
// so the eight 16-byte rows of each 8x8 matrix fall in distinct bank groups).
// lacuna-variants: T_IN=f16 T_OUT=f16 ACT=none BN=128 K_ALIGNED=1 | T_IN=bf16 T_OUT=bf16 ACT=gelu BN=128 K_ALIGNED=1 | T_IN=f16 T_OUT=f32 ACT=relu BN=64 K_ALIGNED=1 | T_IN=f16 T_OUT=f16 ACT=none BN=32 K_ALIGNED=1 | T_IN=bf16 T_OUT=f32 ACT=none BN=32 K_ALIGNED=0 | T_IN=f16 T_OUT=bf16 ACT=gelu BN=128 K_ALIGNED=0
#include "lacuna_common.cuh"
#include "lacuna_async.cuh"

#ifndef BN
#define BN 128
#endif
#define B_STAGE_BYTES (BN * BK * 2)
#include "lacuna_two_four.cuh"

#define WARPS_N 4
#define WARP_N (BN / WARPS_N)
#define N_TILES (WARP_N / 8)
#define M_TILES 4

static_assert(BN == 32 || BN == 64 || BN == 128, "BN must be 32, 64 or 128");

#if LACUNA_DTYPE_ID(T_IN) == LACUNA_DTYPE_bf16
#define MMA_SP_TYPES ".f32.bf16.bf16.f32"
#else
#define MMA_SP_TYPES ".f32.f16.f16.f32"
#endif

// The sparsity selector is an immediate: selector 0 reads metadata from lanes t=0,1, selector 1 from t=2,3.
template <int Selector>
__device__ __forceinline__ void mma_sparse(float* c, const unsigned* a, const unsigned* b, unsigned e) {
    asm volatile("mma.sp::ordered_metadata.sync.aligned.m16n8k32.row.col" MMA_SP_TYPES
                 " {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9,%10,%11}, {%0,%1,%2,%3}, %12, %13;\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "r"(b[2]), "r"(b[3]), "r"(e),
                   "n"(Selector));
}

// B rows are 128 B (8 chunks of 16 B), XOR-swizzled by row for conflict-free ldmatrix.
__device__ __forceinline__ unsigned b_offset(int row, int chunk) {
    return row * 128 + ((chunk ^ (row & 7)) << 4);
}

extern "C" __global__ void __launch_bounds__(THREADS)
two_four_gemm(const unsigned short* __restrict__ x, const unsigned short* __restrict__ w_values,
              const unsigned* __restrict__ w_metadata, const float* __restrict__ bias,
              typename Out::type* __restrict__ y, int n, int m, int k, int mp, int kp) {
    extern __shared__ __align__(128) unsigned char shared[];
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warp_m = warp / WARPS_N;
    const int warp_n = warp % WARPS_N;
    const long long m0 = (long long)blockIdx.y * BM;
    const long long n0 = (long long)blockIdx.x * BN;
    const int k_tiles = kp / BK;

    float acc[M_TILES][N_TILES][4];
#pragma unroll
    for (int i = 0; i < M_TILES; i++)
#pragma unroll
        for (int j = 0; j < N_TILES; j++)
#pragma unroll
            for (int r = 0; r < 4; r++) acc[i][j][r] = 0.0f;

#pragma unroll
    for (int s = 0; s < STAGES - 1; s++) {
        load_tile_async(shared, s, k_tiles, x, w_values, w_metadata, m0, n0, n, k, mp, kp);
    }

    for (int kt = 0; kt < k_tiles; kt++) {
        lacuna_wait_copies<STAGES - 2>();
        // Also guarantees every warp finished reading the stage the prefetch below overwrites.
        __syncthreads();
        load_tile_async(shared, kt + STAGES - 1, k_tiles, x, w_values, w_metadata, m0, n0, n, k, mp, kp);
        const TwoFourStage stage = stage_of(shared, kt);

#pragma unroll
        for (int ks = 0; ks < BK / 32; ks++) {
            const unsigned e0 = metadata_word(stage, ks, warp_m * 2 + 0);
            const unsigned e1 = metadata_word(stage, ks, warp_m * 2 + 1);
            unsigned a[M_TILES][4];
            unsigned b[N_TILES][4];
#pragma unroll
            for (int i = 0; i < M_TILES; i++) {
                load_a_fragment(stage, warp_m * 64 + i * 16, ks, a[i]);
            }
#pragma unroll
            for (int j = 0; j < N_TILES; j++) {
                const int row = warp_n * WARP_N + j * 8 + (lane & 7);
                lacuna_ldmatrix_x4(stage.b + b_offset(row, ks * 4 + (lane >> 3)), b[j]);
            }
#pragma unroll
            for (int i = 0; i < M_TILES; i++) {
#pragma unroll
                for (int j = 0; j < N_TILES; j++) {
                    if (i & 1) {
                        mma_sparse<1>(acc[i][j], a[i], b[j], (i >> 1) ? e1 : e0);
                    } else {
                        mma_sparse<0>(acc[i][j], a[i], b[j], (i >> 1) ? e1 : e0);
                    }
                }
            }
        }
    }
    lacuna_wait_copies<0>();

    store_output<M_TILES, N_TILES>(y, bias, n, m, m0 + warp_m * 64, n0 + warp_n * WARP_N,
                                   [&](int i, int j, int e) { return acc[i][j][e]; });
}
