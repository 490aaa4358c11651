// Emulated lacuna_mma.cuh: mma.sync m16n8k16 from the PTX ISA's definitions (cp.async and ldmatrix: lacuna_async.cuh).
#pragma once
#include "lacuna_common.cuh"
#include "lacuna_async.cuh"

template <int DtypeId>
inline float emu_decode(unsigned short v) { return DtypeId == LACUNA_DTYPE_bf16 ? emu_bf16_to_float(v) : emu_half_to_float(v); }

template <int DtypeId>
inline void lacuna_mma_16816(float (&d)[4], const unsigned (&a)[4], unsigned b0, unsigned b1) {
    EmuWarp& w = emu().warps[emu_warp()];
    const int lane = emu_lane();
    for (int i = 0; i < 4; i++) w.slot64[lane][2 + i] = a[i];
    w.slot64[lane][6] = b0;
    w.slot64[lane][7] = b1;
    emu_warp_barrier();
    float A[16][16], B[16][8];
    for (int l = 0; l < 32; l++) {
        const int g = l >> 2, t = l & 3;
        auto lo = [](unsigned long long x) { return (unsigned short)(x & 0xffff); };
        auto hi = [](unsigned long long x) { return (unsigned short)((x >> 16) & 0xffff); };
        A[g][2 * t] = emu_decode<DtypeId>(lo(w.slot64[l][2]));     A[g][2 * t + 1] = emu_decode<DtypeId>(hi(w.slot64[l][2]));
        A[g + 8][2 * t] = emu_decode<DtypeId>(lo(w.slot64[l][3])); A[g + 8][2 * t + 1] = emu_decode<DtypeId>(hi(w.slot64[l][3]));
        A[g][2 * t + 8] = emu_decode<DtypeId>(lo(w.slot64[l][4])); A[g][2 * t + 9] = emu_decode<DtypeId>(hi(w.slot64[l][4]));
        A[g + 8][2 * t + 8] = emu_decode<DtypeId>(lo(w.slot64[l][5])); A[g + 8][2 * t + 9] = emu_decode<DtypeId>(hi(w.slot64[l][5]));
        B[2 * t][g] = emu_decode<DtypeId>(lo(w.slot64[l][6]));     B[2 * t + 1][g] = emu_decode<DtypeId>(hi(w.slot64[l][6]));
        B[2 * t + 8][g] = emu_decode<DtypeId>(lo(w.slot64[l][7])); B[2 * t + 9][g] = emu_decode<DtypeId>(hi(w.slot64[l][7]));
    }
    emu_warp_barrier();
    const int g = lane >> 2, t = lane & 3;
    for (int r = 0; r < 4; r++) {
        const int row = g + 8 * (r >> 1), col = 2 * t + (r & 1);
        double acc = 0;
        for (int k = 0; k < 16; k++) acc += (double)A[row][k] * B[k][col];
        d[r] = (float)(d[r] + acc);
    }
}

inline float lacuna_exp2(float x) { return std::exp2(x); }

template <int DtypeId>
inline unsigned lacuna_pack2(float lo, float hi) {
    if (DtypeId == LACUNA_DTYPE_bf16) return emu_float_to_bf16(lo) | ((unsigned)emu_float_to_bf16(hi) << 16);
    return emu_float_to_half(lo) | ((unsigned)emu_float_to_half(hi) << 16);
}
