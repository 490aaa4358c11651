// Warp-level tensor-core and asynchronous-copy helpers (inline PTX, sm_80+), shared by the attention kernels.
// Kept apart from the kernels so that every PTX instruction they use sits in one place, each with the fragment
// layout it produces; the kernels themselves are plain CUDA C++.
//
// mma.sync m16n8k16 (row.col), lane = 4g + t (g = lane / 4, t = lane % 4), 16-bit pairs packed low element first:
//   A (16x16, row-major)  a0: row g,   k 2t..2t+1     a1: row g+8, k 2t..2t+1
//                         a2: row g,   k 2t+8..2t+9   a3: row g+8, k 2t+8..2t+9
//   B (16x8, k by n)      b0: k 2t..2t+1, col g       b1: k 2t+8..2t+9, col g
//   C/D (16x8, fp32)      c0, c1: row g, cols 2t, 2t+1   c2, c3: row g+8, cols 2t, 2t+1
// ldmatrix.x4 loads four 8x8 matrices of 16-bit elements; lanes 8i..8i+7 give the addresses of matrix i's eight
// rows (16 contiguous bytes each) and register i receives matrix i: without .trans lane (g, t) gets row g, elements
// 2t and 2t+1; with .trans it gets elements (2t, g) and (2t+1, g), i.e. the transposed matrix.
#pragma once

#include "lacuna_common.cuh"
#include "lacuna_async.cuh"

// D = A.B + D for one m16n8k16 tile, fp32 accumulation, A and B both f16 or both bf16 (DtypeId).
template <int DtypeId>
__device__ __forceinline__ void lacuna_mma_16816(float (&d)[4], const unsigned (&a)[4], unsigned b0, unsigned b1);

// One specialisation per 16-bit input type; TYPE names it in the instruction (inline PTX takes only a literal).
#define LACUNA_MMA_16816_FOR(DTYPE_ID, TYPE)                                                                          \
    template <>                                                                                                       \
    __device__ __forceinline__ void lacuna_mma_16816<DTYPE_ID>(float (&d)[4], const unsigned (&a)[4], unsigned b0,    \
                                                               unsigned b1) {                                         \
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32." TYPE "." TYPE ".f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "     \
                     "{%8,%9}, {%0,%1,%2,%3};\n"                                                                      \
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])                                                 \
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));                                 \
    }
LACUNA_MMA_16816_FOR(LACUNA_DTYPE_f16, "f16")
LACUNA_MMA_16816_FOR(LACUNA_DTYPE_bf16, "bf16")
#undef LACUNA_MMA_16816_FOR

// 2^x with the special-function unit (relative error about 2^-22); 2^-inf = +0, which masked scores rely on.
__device__ __forceinline__ float lacuna_exp2(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

// Two fp32 values rounded to nearest even into one 16-bit pair, lo in the low half. cvt's first source operand
// goes to the upper half, hence the order.
template <int DtypeId>
__device__ __forceinline__ unsigned lacuna_pack2(float lo, float hi);

template <>
__device__ __forceinline__ unsigned lacuna_pack2<LACUNA_DTYPE_f16>(float lo, float hi) {
    unsigned packed;
    asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(packed) : "f"(hi), "f"(lo));
    return packed;
}

template <>
__device__ __forceinline__ unsigned lacuna_pack2<LACUNA_DTYPE_bf16>(float lo, float hi) {
    unsigned packed;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(packed) : "f"(hi), "f"(lo));
    return packed;
}
