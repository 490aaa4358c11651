// Emulated lacuna_mma.cuh: ldmatrix, mma.sync m16n8k16 and cp.async from the PTX ISA's definitions.
#pragma once
#include "lacuna_common.cuh"

inline unsigned lacuna_smem_address(const void* p) {
    return (unsigned)((const unsigned char*)p - emu_dynamic_shared());
}

inline void lacuna_copy16_async(unsigned shared, const void* global, bool valid) {
    if (shared % 16 != 0) { fprintf(stderr, "cp.async: misaligned shared address %u\n", shared); abort(); }
    if (valid && ((uintptr_t)global % 16 != 0)) { fprintf(stderr, "cp.async: misaligned global address\n"); abort(); }
    if (shared + 16 > emu().dynamic_shared.size() - 16) { fprintf(stderr, "cp.async: shared address %u out of range\n", shared); abort(); }
    emu().current->open_group.push_back({shared, global, valid ? 16 : 0});
}
inline void lacuna_commit_copies() {
    EmuFiber* f = emu().current;
    f->groups.push_back(f->open_group);
    f->open_group.clear();
}
template <int Pending>
inline void lacuna_wait_copies() {
    EmuFiber* f = emu().current;
    while ((int)f->groups.size() > Pending) {
        for (const EmuCopy& c : f->groups.front()) {
            unsigned char* dst = emu_dynamic_shared() + c.dst;
            memset(dst, 0, 16);
            if (c.bytes) memcpy(dst, c.src, c.bytes);
        }
        f->groups.erase(f->groups.begin());
    }
}

inline unsigned short emu_smem16(unsigned address) {
    if (address + 2 > emu().dynamic_shared.size() - 16) { fprintf(stderr, "ldmatrix: address %u out of range\n", address); abort(); }
    unsigned short v;
    memcpy(&v, emu_dynamic_shared() + address, 2);
    return v;
}

inline void emu_ldmatrix(unsigned address, unsigned (&r)[4], bool trans) {
    if (address % 16 != 0) { fprintf(stderr, "ldmatrix: misaligned row address %u\n", address); abort(); }
    EmuWarp& w = emu().warps[emu_warp()];
    w.slot64[emu_lane()][1] = address;
    emu_warp_barrier();
    const int lane = emu_lane(), g = lane >> 2, t = lane & 3;
    for (int i = 0; i < 4; i++) {
        unsigned short lo, hi;
        if (!trans) {
            unsigned row = (unsigned)w.slot64[8 * i + g][1];
            lo = emu_smem16(row + 4 * t);
            hi = emu_smem16(row + 4 * t + 2);
        } else {
            lo = emu_smem16((unsigned)w.slot64[8 * i + 2 * t][1] + 2 * g);
            hi = emu_smem16((unsigned)w.slot64[8 * i + 2 * t + 1][1] + 2 * g);
        }
        r[i] = lo | ((unsigned)hi << 16);
    }
    emu_warp_barrier();
}
inline void lacuna_ldmatrix_x4(unsigned address, unsigned (&r)[4]) { emu_ldmatrix(address, r, false); }
inline void lacuna_ldmatrix_x4_trans(unsigned address, unsigned (&r)[4]) { emu_ldmatrix(address, r, true); }

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
