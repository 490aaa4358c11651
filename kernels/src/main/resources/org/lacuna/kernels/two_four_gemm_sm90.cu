// Y[N, M] = act(X[N, K] · W[M, K]ᵀ + bias[M]) with W pruned 2:4 along K, on Hopper's warpgroup sparse tensor
// cores: wgmma.mma_async.sp m64n128k32, fp16/bf16 in, fp32 accumulation. sm_90a only (wgmma needs the 'a' target).
//
// Same operands and the same compressed weight as two_four_gemm.cu (values [Mp][Kp/2], metadata words E[Kp/32][Mp/32][32]
// in mma.sp register order), so one TwoFourWeight serves both. The sparse W is the register operand A: each warp
// loads its 16 rows with ldmatrix exactly as for mma.sp, and its metadata word shuffled into the selector-0 lanes — the
// per-warp metadata layout of wgmma.sp m64nNk32 is that of mma.sp m16n8k32. X is the shared-memory operand B,
// K-major without swizzle: 8x8 core matrices (8 tokens x 16 bytes of K) stored as contiguous 128-byte blocks,
// core matrices adjacent in N 128 B apart (stride byte offset), adjacent in K BN*16 B apart (leading byte offset).
//
// CTA: 2 warpgroups (256 threads), tile BM=128 (out) x BN=128 (tokens) x BK=64, STAGES-deep cp.async pipeline.
// lacuna-architectures: sm_90a
// lacuna-variants: T_IN=f16 T_OUT=f16 ACT=none K_ALIGNED=1 | T_IN=bf16 T_OUT=bf16 ACT=gelu K_ALIGNED=1 | T_IN=f16 T_OUT=f32 ACT=relu K_ALIGNED=0
#include "lacuna_common.cuh"
#include "lacuna_async.cuh"

#define BN 128
#define B_SLICE_BYTES (BN * 32 * 2)
#define B_STAGE_BYTES (B_SLICE_BYTES * (BK / 32))
#include "lacuna_two_four.cuh"

#if LACUNA_DTYPE_ID(T_IN) == LACUNA_DTYPE_bf16
#define WGMMA_SP_TYPES ".f32.bf16.bf16"
#else
#define WGMMA_SP_TYPES ".f32.f16.f16"
#endif

// Byte offset of the 16-byte piece (token, K chunk of 8) of a stage's B tile in the canonical no-swizzle K-major
// layout: [k32 slice][K chunk within slice][token / 8][token % 8][8 values].
__device__ __forceinline__ unsigned b_offset(int token, int k_chunk) {
    return (k_chunk >> 2) * B_SLICE_BYTES + (k_chunk & 3) * (BN / 8) * 128 + (token >> 3) * 128 + (token & 7) * 16;
}

// Shared-memory matrix descriptor: start address, leading (K-direction) and stride (N-direction) byte offsets,
// all in 16-byte units; base offset 0 and swizzle mode 0 (none).
__device__ __forceinline__ unsigned long long b_descriptor(unsigned address) {
    const unsigned long long leading = (BN / 8) * 128;
    const unsigned long long stride = 128;
    return (unsigned long long)((address & 0x3FFFF) >> 4) | ((leading >> 4) << 16) | ((stride >> 4) << 32);
}

template <int Selector>
__device__ __forceinline__ void wgmma_sparse(float* d, const unsigned* a, unsigned long long b_desc, unsigned e) {
    asm volatile(
        "{\n"
        "wgmma.mma_async.sp.sync.aligned.m64n128k32" WGMMA_SP_TYPES " "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, "
        "{%64, %65, %66, %67}, %68, %69, %70, 1, 1, 1, 0;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
      "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
      "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
      "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
      "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
      "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
      "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
      "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b_desc), "r"(e), "n"(Selector));
}

__device__ __forceinline__ void wgmma_fence() {
    asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
}

__device__ __forceinline__ void wgmma_commit() {
    asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}

__device__ __forceinline__ void wgmma_wait_all() {
    asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory");
}

// Pins the accumulators at this point of the instruction stream (CUTLASS's warpgroup_fence_operand): wgmma reads and
// writes d[] asynchronously, invisibly to the compiler, so without an empty asm that "modifies" each register the
// compiler could move epilogue reads above wgmma.wait_group or accumulator writes below wgmma.fence.
__device__ __forceinline__ void pin_accumulators(float* d) {
#pragma unroll
    for (int i = 0; i < 64; i++) {
        asm volatile("" : "+f"(d[i])::"memory");
    }
}

// Makes the cp.async (generic proxy) writes to shared memory visible to wgmma's async-proxy reads.
__device__ __forceinline__ void fence_async_shared() {
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}

extern "C" __global__ void __launch_bounds__(THREADS)
two_four_gemm_sm90(const unsigned short* __restrict__ x, const unsigned short* __restrict__ w_values,
                   const unsigned* __restrict__ w_metadata, const float* __restrict__ bias,
                   typename Out::type* __restrict__ y, int n, int m, int k, int mp, int kp) {
    extern __shared__ __align__(128) unsigned char shared[];
    const int warp = threadIdx.x >> 5;
    const int warpgroup = warp >> 2;
    const int warp_in_group = warp & 3;
    const long long m0 = (long long)blockIdx.y * BM;
    const long long n0 = (long long)blockIdx.x * BN;
    const int k_tiles = kp / BK;
    // This warp's 16 rows of the CTA tile, and where their metadata sits: row group (rows / 32), selector.
    const int warp_row = warpgroup * 64 + warp_in_group * 16;
    const int row_group = warp_row / 32;

    float d[64];
#pragma unroll
    for (int i = 0; i < 64; i++) d[i] = 0.0f;

#pragma unroll
    for (int s = 0; s < STAGES - 1; s++) {
        load_tile_async(shared, s, k_tiles, x, w_values, w_metadata, m0, n0, n, k, mp, kp);
    }

    for (int kt = 0; kt < k_tiles; kt++) {
        lacuna_wait_copies<STAGES - 2>();
        fence_async_shared();
        __syncthreads();
        load_tile_async(shared, kt + STAGES - 1, k_tiles, x, w_values, w_metadata, m0, n0, n, k, mp, kp);
        const TwoFourStage stage = stage_of(shared, kt);

        unsigned a[BK / 32][4];
        unsigned e[BK / 32];
#pragma unroll
        for (int ks = 0; ks < BK / 32; ks++) {
            load_a_fragment(stage, warp_row, ks, a[ks]);
            // Every warp of a warpgroup must issue the very same wgmma (selector included), so all use selector 0:
            // an odd warp's rows (the upper 16 of its 32-row group) sit in lanes t = 2, 3 and move to t = 0, 1.
            const unsigned word = metadata_word(stage, ks, row_group);
            const unsigned upper = __shfl_xor_sync(0xffffffffu, word, 2);
            e[ks] = (warp_in_group & 1) ? upper : word;
        }
        pin_accumulators(d);
        wgmma_fence();
#pragma unroll
        for (int ks = 0; ks < BK / 32; ks++) {
            const unsigned long long descriptor = b_descriptor(stage.b + ks * B_SLICE_BYTES);
            wgmma_sparse<0>(d, a[ks], descriptor, e[ks]);
        }
        wgmma_commit();
        // The A fragments live in registers the next tile overwrites: wait before reusing them.
        wgmma_wait_all();
        pin_accumulators(d);
    }
    lacuna_wait_copies<0>();

    // The warp's 16 rows by all BN tokens: token tile j holds accumulators 4j .. 4j + 3.
    store_output<1, BN / 8>(y, bias, n, m, m0 + warp_row, n0, [&](int, int j, int e) { return d[4 * j + e]; });
}
