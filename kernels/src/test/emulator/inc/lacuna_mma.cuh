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
    // This lane's outputs need rows g, g+8 of A and columns 2t, 2t+1 of B: decode only those.
    const int g = lane >> 2, t = lane & 3;
    auto half = [](unsigned long long x, int h) { return (unsigned short)((x >> (16 * h)) & 0xffff); };
    float A[2][16], B[2][16];
    for (int hr = 0; hr < 2; hr++)
        for (int k = 0; k < 16; k++) {
            // A[row][k]: lane 4*(row%8) + (k%8)/2, register (row >= 8) + 2*(k >= 8), half k%2.
            const unsigned long long reg = w.slot64[4 * g + (k % 8) / 2][2 + hr + 2 * (k >= 8)];
            A[hr][k] = emu_decode<DtypeId>(half(reg, k & 1));
        }
    for (int c = 0; c < 2; c++)
        for (int k = 0; k < 16; k++) {
            // B[k][col]: lane 4*col + (k%8)/2, register b0 (k < 8) or b1, half k%2.
            const unsigned long long reg = w.slot64[4 * (2 * t + c) + (k % 8) / 2][6 + (k >= 8)];
            B[c][k] = emu_decode<DtypeId>(half(reg, k & 1));
        }
    emu_warp_barrier();
    for (int r = 0; r < 4; r++) {
        double acc = 0;
        for (int k = 0; k < 16; k++) acc += (double)A[r >> 1][k] * B[r & 1][k];
        d[r] = (float)(d[r] + acc);
    }
}

inline float lacuna_exp2(float x) { return std::exp2(x); }

template <int DtypeId>
inline unsigned lacuna_pack2(float lo, float hi) {
    if (DtypeId == LACUNA_DTYPE_bf16) return emu_float_to_bf16(lo) | ((unsigned)emu_float_to_bf16(hi) << 16);
    return emu_float_to_half(lo) | ((unsigned)emu_float_to_half(hi) << 16);
}
