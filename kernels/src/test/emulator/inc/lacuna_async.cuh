// Emulated lacuna_async.cuh: cp.async and ldmatrix from the PTX ISA's definitions.
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
        f->proxy_dirty = true;  // written through the generic proxy: wgmma must not read it before a proxy fence
    }
}

inline unsigned short emu_smem16(unsigned address) {
    if (address + 2 > emu().dynamic_shared.size() - 16) { fprintf(stderr, "ldmatrix: address %u out of range\n", address); abort(); }
    unsigned short v;
    memcpy(&v, emu_dynamic_shared() + address, 2);
    return v;
}

EMU_RUNTIME void emu_ldmatrix(unsigned address, unsigned (&r)[4], bool trans)
#if EMU_RUNTIME_BODIES
{
    if (address % 16 != 0) { fprintf(stderr, "ldmatrix: misaligned row address %u\n", address); abort(); }
    EmuWarp& w = emu().warps[emu_warp()];
    w.slot64[emu_lane()][1] = address;
    emu_warp_barrier();
    emu().current->wg_fenced = false;  // a register write: a later wgmma needs a wgmma.fence first
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
#else
;
#endif
inline void lacuna_ldmatrix_x4(unsigned address, unsigned (&r)[4]) { emu_ldmatrix(address, r, false); }
inline void lacuna_ldmatrix_x4_trans(unsigned address, unsigned (&r)[4]) { emu_ldmatrix(address, r, true); }

