// A CPU emulator for the CUDA subset the Lacuna kernels use: every CUDA thread is a fiber (ucontext), one CTA runs
// at a time; barriers and warp collectives switch fibers cooperatively. Warp-level PTX (ldmatrix, mma.sync, shuffles)
// is emulated from the PTX ISA's fragment definitions; cp.async copies are deferred until the wait that covers them,
// so a kernel that reads a tile before waiting sees stale data.
#pragma once
#include <ucontext.h>
#include <cstdint>
#include <cstring>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <deque>
#include <functional>
#include <algorithm>
#include <climits>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __launch_bounds__(...)
#define __align__(x) alignas(x)

struct dim3e { unsigned x = 0, y = 0, z = 0; };
struct uint4 { unsigned x, y, z, w; };
struct uint2 { unsigned x, y; };
inline uint4 make_uint4(unsigned a, unsigned b, unsigned c, unsigned d) { return {a, b, c, d}; }
inline uint2 make_uint2(unsigned a, unsigned b) { return {a, b}; }

struct EmuCopy { unsigned dst; const void* src; int bytes; };

struct EmuFiber {
    ucontext_t context;
    std::vector<char> stack;
    dim3e tid;
    bool done = false;
    int waiting = 0;  // 0 running, 1 block barrier, 2 warp barrier
    unsigned long long wait_generation = 0;
    std::vector<std::vector<EmuCopy>> groups;  // committed groups, oldest first
    std::vector<EmuCopy> open_group;
};

struct EmuWarp {
    int arrived = 0;
    unsigned long long generation = 0;
    // Exchange slots for collectives.
    unsigned long long slot64[32][8];
};

struct EmuState {
    std::vector<EmuFiber> fibers;
    std::vector<EmuWarp> warps;
    ucontext_t scheduler;
    EmuFiber* current = nullptr;
    dim3e block_idx, grid_dim, block_dim;
    int block_arrived = 0;
    unsigned long long block_generation = 0;
    std::vector<unsigned char> dynamic_shared;
    std::function<void()> body;
    int live = 0;
    unsigned long long progress = 0;
};

inline EmuState& emu() {
    static EmuState state;
    return state;
}

#define threadIdx (emu().current->tid)
#define blockIdx (emu().block_idx)
#define gridDim (emu().grid_dim)
#define blockDim (emu().block_dim)

inline unsigned char* emu_dynamic_shared() { return emu().dynamic_shared.data(); }

inline void emu_yield() { swapcontext(&emu().current->context, &emu().scheduler); }

inline int emu_lane() { return threadIdx.x & 31; }
inline int emu_warp() { return threadIdx.x >> 5; }

inline int emu_live_in_warp(int w) {
    int n = 0;
    for (size_t i = w * 32; i < std::min(emu().fibers.size(), (size_t)(w + 1) * 32); i++) n += !emu().fibers[i].done;
    return n;
}

inline void __syncthreads() {
    EmuState& s = emu();
    s.progress++;
    s.block_arrived++;
    if (s.block_arrived == s.live) {
        s.block_arrived = 0;
        s.block_generation++;
        return;
    }
    s.current->waiting = 1;
    s.current->wait_generation = s.block_generation;
    while (s.current->wait_generation == s.block_generation) emu_yield();
    s.current->waiting = 0;
}

inline void emu_warp_barrier() {
    EmuState& s = emu();
    EmuWarp& w = s.warps[emu_warp()];
    s.progress++;
    w.arrived++;
    if (w.arrived == emu_live_in_warp(emu_warp())) {
        w.arrived = 0;
        w.generation++;
        return;
    }
    s.current->waiting = 2;
    s.current->wait_generation = w.generation;
    while (s.current->wait_generation == w.generation) emu_yield();
    s.current->waiting = 0;
}

inline void __syncwarp(unsigned = 0xffffffffu) { emu_warp_barrier(); }
inline void __threadfence() {}

template <typename T>
inline T emu_exchange(T value, int source_lane) {
    static_assert(sizeof(T) <= 8, "");
    EmuWarp& w = emu().warps[emu_warp()];
    unsigned long long bits = 0;
    memcpy(&bits, &value, sizeof(T));
    w.slot64[emu_lane()][0] = bits;
    emu_warp_barrier();
    unsigned long long other = w.slot64[source_lane][0];
    emu_warp_barrier();
    T result;
    memcpy(&result, &other, sizeof(T));
    return result;
}

template <typename T> inline T __shfl_xor_sync(unsigned, T v, int m) { return emu_exchange(v, emu_lane() ^ m); }
template <typename T> inline T __shfl_up_sync(unsigned, T v, int d) {
    int src = emu_lane() - d;
    T r = emu_exchange(v, src < 0 ? emu_lane() : src);
    return src < 0 ? v : r;
}

inline int atomicAdd(int* p, int v) { int old = *p; *p += v; return old; }
inline int atomicMin(int* p, int v) { int old = *p; *p = std::min(old, v); return old; }
inline float __uint_as_float(unsigned u) { float f; memcpy(&f, &u, 4); return f; }
inline unsigned __float_as_uint(float f) { unsigned u; memcpy(&u, &f, 4); return u; }
inline float __int_as_float(int u) { float f; memcpy(&f, &u, 4); return f; }
inline float exp2f_(float x) { return std::exp2(x); }
using std::min;
using std::max;
inline float fmaxf(float a, float b) { return std::fmax(a, b); }
inline float fmaf(float a, float b, float c) { return std::fma(a, b, c); }
inline float sqrtf(float a) { return std::sqrt(a); }
inline float log2f(float a) { return std::log2(a); }
inline float erff(float a) { return std::erf(a); }

// Runs `kernel` over the grid, one CTA at a time, each thread a fiber.
inline void emu_launch(unsigned gx, unsigned gy, unsigned threads, size_t shared_bytes, std::function<void()> kernel) {
    EmuState& s = emu();
    s.grid_dim = {gx, gy, 1};
    s.block_dim = {threads, 1, 1};
    for (unsigned by = 0; by < gy; by++) {
        for (unsigned bx = 0; bx < gx; bx++) {
            s.block_idx = {bx, by, 0};
            s.dynamic_shared.assign(shared_bytes + 16, 0xCD);  // garbage, as real shared memory is
            s.fibers.clear();
            s.fibers.resize(threads);
            s.warps.assign((threads + 31) / 32, EmuWarp{});
            s.block_arrived = 0;
            s.block_generation = 0;
            s.live = threads;
            s.body = kernel;
            for (unsigned t = 0; t < threads; t++) {
                EmuFiber& f = s.fibers[t];
                f.tid = {t, 0, 0};
                f.stack.resize(256 * 1024);
                getcontext(&f.context);
                f.context.uc_stack.ss_sp = f.stack.data();
                f.context.uc_stack.ss_size = f.stack.size();
                f.context.uc_link = &s.scheduler;
                makecontext(&f.context, (void (*)()) + [] {
                    emu().body();
                    EmuFiber* me = emu().current;
                    if (!me->groups.empty() || !me->open_group.empty()) {
                        // Copies never waited for are still performed by the hardware; nothing reads them now.
                    }
                    me->done = true;
                }, 0);
            }
            while (true) {
                bool any_alive = false;
                unsigned long long before = s.progress;
                for (unsigned t = 0; t < threads; t++) {
                    EmuFiber& f = s.fibers[t];
                    if (f.done) continue;
                    any_alive = true;
                    s.current = &f;
                    swapcontext(&s.scheduler, &f.context);
                    if (f.done) {
                        s.live--;
                        s.progress++;
                        // A thread that exits no longer counts toward barriers.
                        if (s.block_arrived > 0 && s.block_arrived == s.live) {
                            s.block_arrived = 0;
                            s.block_generation++;
                        }
                        EmuWarp& w = s.warps[t / 32];
                        if (w.arrived > 0 && w.arrived == emu_live_in_warp(t / 32)) {
                            w.arrived = 0;
                            w.generation++;
                        }
                    }
                }
                if (!any_alive) break;
                if (s.progress == before) {
                    fprintf(stderr, "emulator: deadlock in block (%u,%u)\n", bx, by);
                    abort();
                }
            }
        }
    }
}
