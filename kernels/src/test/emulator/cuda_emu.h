// A CPU emulator for the CUDA subset the Lacuna kernels use: every CUDA thread is a fiber (ucontext), one CTA runs
// at a time; barriers and warp collectives switch fibers cooperatively. Warp-level PTX (ldmatrix, mma.sync, shuffles)
// is emulated from the PTX ISA's fragment definitions; cp.async copies are deferred until the wait that covers them,
// so a kernel that reads a tile before waiting sees stale data.
#pragma once
#include <ucontext.h>

// The emulator's large functions (scheduler, PTX parsing, the mma/wgmma emulation) are marked EMU_RUNTIME. By
// default they are inline definitions, so one translation unit is a whole program. run.sh instead compiles them
// once into emu_runtime.o (emu_runtime.cpp defines LACUNA_EMU_IMPLEMENTATION) and builds each test with
// LACUNA_EMU_RUNTIME_OBJECT, which leaves only their declarations: a variant's compile then generates code for its
// kernel and its test alone.
#if defined(LACUNA_EMU_IMPLEMENTATION)
#define EMU_RUNTIME
#define EMU_RUNTIME_BODIES 1
#elif defined(LACUNA_EMU_RUNTIME_OBJECT)
#define EMU_RUNTIME
#define EMU_RUNTIME_BODIES 0
#else
#define EMU_RUNTIME inline
#define EMU_RUNTIME_BODIES 1
#endif
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
#define __align__(x) __attribute__((aligned(x)))

struct dim3e { unsigned x = 0, y = 0, z = 0; };
struct uint4 { unsigned x, y, z, w; };
struct uint2 { unsigned x, y; };
inline uint4 make_uint4(unsigned a, unsigned b, unsigned c, unsigned d) { return {a, b, c, d}; }
inline uint2 make_uint2(unsigned a, unsigned b) { return {a, b}; }

struct EmuCopy { unsigned dst; const void* src; int bytes; };

// Fiber switching. On x86-64 a hand-written switch saves only what the System V ABI makes callee-saved (rbx, rbp,
// r12-r15, the stack pointer, MXCSR and the x87 control word): no signal mask, hence no system call per switch, which
// swapcontext makes twice (rt_sigprocmask). Elsewhere ucontext.
#if defined(__x86_64__) && !defined(LACUNA_EMU_UCONTEXT)
#define LACUNA_EMU_FAST_SWITCH 1
extern "C" void emu_switch_stack(void** save_sp, void* next_sp);
asm(R"(
    .text
    .weak emu_switch_stack
    .type emu_switch_stack, @function
emu_switch_stack:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size emu_switch_stack, .-emu_switch_stack
)");
struct EmuContext { void* sp = nullptr; };
#else
#define LACUNA_EMU_FAST_SWITCH 0
struct EmuContext { ucontext_t uc; };
#endif

struct EmuFiber {
    EmuContext context;
    char* stack = nullptr;
    dim3e tid;
    bool done = false;
    int waiting = 0;  // 0 running, 1 block barrier, 2 warp barrier, 3 warpgroup barrier
    unsigned long long wait_generation = 0;
    std::vector<std::vector<EmuCopy>> groups;  // committed groups, oldest first
    std::vector<EmuCopy> open_group;
    // wgmma state of this thread (ptx_emu.h): ops issued, where each committed group ends, registers in flight.
    int wg_issued = 0;
    std::vector<int> wg_group_ends;
    int wg_completed = 0;
    bool wg_fenced = false;
    std::vector<std::pair<float*, float>> wg_in_flight;
    std::vector<std::vector<float*>> wg_ops_registers;  // per op issued: the accumulator registers it writes  // accumulator register -> its value inside the async unit
    bool proxy_dirty = false;  // cp.async writes landed since this thread's last fence.proxy.async
};

struct EmuWarp {
    int arrived = 0;
    int live = 0;
    unsigned long long generation = 0;
    // Exchange slots for collectives.
    unsigned long long slot64[32][8];
    unsigned wide[32][16];
};

// One wgmma.mma_async.sp of a warpgroup: every thread's operands, gathered as the threads issue it; the product is
// formed once, when the first thread's wait_group covers it (ptx_emu.h).
struct EmuWgmmaOp {
    int n = 0, dtype = 0, selector = -1, scale_d = 1, scale_a = 1, scale_b = 1, trans_b = 0, issued = 0;
    unsigned long long descriptor = 0;
    unsigned a[128][4];
    unsigned e[128];
    bool computed = false;
    std::vector<float> product;  // [64][n]
};

// A warpgroup (4 consecutive warps, sm_90): its own barrier and exchange area for the wgmma emulation.
struct EmuWarpgroup {
    int arrived = 0;
    int live = 0;
    unsigned long long generation = 0;
    std::vector<EmuWgmmaOp> ops;  // every wgmma.mma_async issued by this warpgroup, in order
};

constexpr size_t EMU_STACK_BYTES = 128 * 1024;

struct EmuState {
    std::vector<EmuFiber> fibers;
    std::vector<EmuWarp> warps;
    std::vector<EmuWarpgroup> warpgroups;
    std::vector<char*> stacks;  // reused by every launch: never zeroed, never freed
    EmuContext scheduler;
    EmuFiber* current = nullptr;
    dim3e block_idx, grid_dim, block_dim;
    int block_arrived = 0;
    unsigned long long block_generation = 0;
    std::vector<unsigned char> dynamic_shared;
    std::function<void()> body;
    int live = 0;
    unsigned long long progress = 0;
    unsigned long long switches = 0;
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

inline void emu_switch(EmuContext& from, EmuContext& to) {
    emu().switches++;
#if LACUNA_EMU_FAST_SWITCH
    emu_switch_stack(&from.sp, to.sp);
#else
    swapcontext(&from.uc, &to.uc);
#endif
}

inline void emu_yield() { emu_switch(emu().current->context, emu().scheduler); }

inline int emu_lane() { return threadIdx.x & 31; }
inline int emu_warp() { return threadIdx.x >> 5; }

inline int emu_live_in_warp(int w) { return emu().warps[w].live; }

// Blocks the current fiber until generation moves on; the scheduler does not resume it before (it checks the
// generation itself), so a wait costs two switches, not one per scheduling pass.
inline void emu_wait(int kind, unsigned long long& generation) {
    EmuState& s = emu();
    s.current->waiting = kind;
    s.current->wait_generation = generation;
    while (s.current->wait_generation == generation) emu_yield();
    s.current->waiting = 0;
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
    emu_wait(1, s.block_generation);
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
    emu_wait(2, w.generation);
}

inline void emu_warpgroup_barrier() {
    EmuState& s = emu();
    const int group = threadIdx.x / 128;
    EmuWarpgroup& w = s.warpgroups[group];
    s.progress++;
    w.arrived++;
    if (w.arrived == w.live) {
        w.arrived = 0;
        w.generation++;
        return;
    }
    emu_wait(3, w.generation);
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

// Atomics are plain read-modify-writes: fibers never switch inside one.
template <typename T> inline T atomicAdd(T* p, T v) { T old = *p; *p = old + v; return old; }
template <typename T> inline T atomicMin(T* p, T v) { T old = *p; *p = std::min(old, v); return old; }
template <typename T> inline T atomicMax(T* p, T v) { T old = *p; *p = std::max(old, v); return old; }
template <typename T> inline T atomicOr(T* p, T v) { T old = *p; *p = old | v; return old; }
template <typename T> inline T atomicCAS(T* p, T compare, T value) {
    T old = *p;
    if (old == compare) *p = value;
    return old;
}
inline unsigned __ballot_sync(unsigned mask, int predicate) {
    EmuWarp& w = emu().warps[emu_warp()];
    w.wide[emu_lane()][15] = predicate ? 1u : 0u;
    emu_warp_barrier();
    unsigned bits = 0;
    for (int l = 0; l < 32; l++) {
        const bool exists = (size_t)(emu_warp() * 32 + l) < emu().fibers.size() && !emu().fibers[emu_warp() * 32 + l].done;
        if (exists && (mask >> l & 1) && w.wide[l][15]) bits |= 1u << l;
    }
    emu_warp_barrier();
    return bits;
}
inline int __popc(unsigned v) { return __builtin_popcount(v); }
inline int __popcll(unsigned long long v) { return __builtin_popcountll(v); }
inline int __ffsll(long long v) { return __builtin_ffsll(v); }
inline int __ffs(int v) { return __builtin_ffs(v); }
// The explicitly rounded double operations: the host's IEEE operations under round-to-nearest-even.
inline double __ddiv_rn(double a, double b) { volatile double r = a / b; return r; }
inline double __dadd_rn(double a, double b) { volatile double r = a + b; return r; }
inline double __dmul_rn(double a, double b) { volatile double r = a * b; return r; }
inline float __fadd_rn(float a, float b) { volatile float r = a + b; return r; }
inline float __fmul_rn(float a, float b) { volatile float r = a * b; return r; }
inline float __double2float_rn(double a) { volatile float r = (float)a; return r; }
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
using std::floor;

EMU_RUNTIME void emu_fiber_main()
#if EMU_RUNTIME_BODIES
{
    emu().body();
    emu().current->done = true;
    emu_yield();  // never resumed
    abort();
}
#else
;
#endif

EMU_RUNTIME void emu_start_fiber(EmuFiber& f, char* stack)
#if EMU_RUNTIME_BODIES
{
    f.stack = stack;
#if LACUNA_EMU_FAST_SWITCH
    // The frame emu_switch_stack pops: MXCSR and x87 control word, r15..r12, rbx, rbp, then the return address
    // (the fiber's entry) with the stack 16-byte aligned at the call boundary.
    uintptr_t top = ((uintptr_t)(stack + EMU_STACK_BYTES)) & ~(uintptr_t)15;
    uint64_t* sp = (uint64_t*)top;
    *--sp = 0;                            // the entry's own (never used) return address: rsp = 8 mod 16 on entry
    *--sp = (uint64_t)&emu_fiber_main;
    for (int r = 0; r < 6; r++) *--sp = 0;
    unsigned control[2];
    asm volatile("stmxcsr %0" : "=m"(control[0]));
    asm volatile("fnstcw %0" : "=m"(control[1]));
    *--sp = (uint64_t)control[0] | ((uint64_t)(control[1] & 0xFFFF) << 32);
    f.context.sp = sp;
#else
    getcontext(&f.context.uc);
    f.context.uc.uc_stack.ss_sp = stack;
    f.context.uc.uc_stack.ss_size = EMU_STACK_BYTES;
    f.context.uc.uc_link = nullptr;
    makecontext(&f.context.uc, (void (*)()) & emu_fiber_main, 0);
#endif
}
#else
;
#endif

// Whether a waiting fiber's barrier has opened (else the scheduler leaves it asleep).
inline bool emu_runnable(const EmuFiber& f, unsigned t) {
    const EmuState& s = emu();
    switch (f.waiting) {
        case 1: return f.wait_generation != s.block_generation;
        case 2: return f.wait_generation != s.warps[t / 32].generation;
        case 3: return f.wait_generation != s.warpgroups[t / 128].generation;
        default: return true;
    }
}

// Runs `kernel` over the grid, one CTA at a time, each thread a fiber.
EMU_RUNTIME void emu_launch(unsigned gx, unsigned gy, unsigned threads, size_t shared_bytes, std::function<void()> kernel)
#if EMU_RUNTIME_BODIES
{
    EmuState& s = emu();
    s.grid_dim = {gx, gy, 1};
    s.block_dim = {threads, 1, 1};
    while (s.stacks.size() < threads) s.stacks.push_back(new char[EMU_STACK_BYTES]);
    for (unsigned by = 0; by < gy; by++) {
        for (unsigned bx = 0; bx < gx; bx++) {
            s.block_idx = {bx, by, 0};
            s.dynamic_shared.assign(shared_bytes + 16, 0xCD);  // garbage, as real shared memory is
            s.fibers.clear();
            s.fibers.resize(threads);
            s.warps.assign((threads + 31) / 32, EmuWarp{});
            s.warpgroups.assign((threads + 127) / 128, EmuWarpgroup{});
            for (unsigned t = 0; t < threads; t++) {
                s.warps[t / 32].live++;
                s.warpgroups[t / 128].live++;
            }
            s.block_arrived = 0;
            s.block_generation = 0;
            s.live = threads;
            s.body = kernel;
            for (unsigned t = 0; t < threads; t++) {
                s.fibers[t].tid = {t, 0, 0};
                emu_start_fiber(s.fibers[t], s.stacks[t]);
            }
            while (true) {
                bool any_alive = false;
                unsigned long long before = s.progress;
                for (unsigned t = 0; t < threads; t++) {
                    EmuFiber& f = s.fibers[t];
                    if (f.done) continue;
                    any_alive = true;
                    if (!emu_runnable(f, t)) continue;
                    s.current = &f;
                    emu_switch(s.scheduler, f.context);
                    if (f.done) {
                        s.live--;
                        s.progress++;
                        // A thread that exits no longer counts toward barriers.
                        if (s.block_arrived > 0 && s.block_arrived == s.live) {
                            s.block_arrived = 0;
                            s.block_generation++;
                        }
                        EmuWarp& w = s.warps[t / 32];
                        w.live--;
                        if (w.arrived > 0 && w.arrived == emu_live_in_warp(t / 32)) {
                            w.arrived = 0;
                            w.generation++;
                        }
                        EmuWarpgroup& wg = s.warpgroups[t / 128];
                        wg.live--;
                        if (wg.arrived > 0 && wg.arrived == wg.live) {
                            wg.arrived = 0;
                            wg.generation++;
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
#else
;
#endif
