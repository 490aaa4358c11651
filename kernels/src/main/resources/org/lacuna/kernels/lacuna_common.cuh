// Shared device helpers for every Lacuna kernel. Self-contained on purpose: kernels compile through NVRTC with
// no CUDA headers, so the 16-bit float types are carried as raw bits and converted with PTX cvt instructions.
#pragma once

typedef unsigned short lacuna_f16;   // IEEE binary16 bits
typedef unsigned short lacuna_bf16;  // bfloat16 bits
typedef long long lacuna_i64;

__device__ __forceinline__ float lacuna_f16_to_f32(lacuna_f16 h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}

__device__ __forceinline__ lacuna_f16 lacuna_f32_to_f16(float f) {
    lacuna_f16 h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
}

__device__ __forceinline__ float lacuna_bf16_to_f32(lacuna_bf16 b) {
    return __uint_as_float(((unsigned int)b) << 16);
}

__device__ __forceinline__ lacuna_bf16 lacuna_f32_to_bf16(float f) {
    lacuna_bf16 b;
    asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(b) : "f"(f));
    return b;
}

// Storage type and load/store for a dtype named by a specialisation constant (f32, f16, bf16).
#define LACUNA_DTYPE_f32 0
#define LACUNA_DTYPE_f16 1
#define LACUNA_DTYPE_bf16 2
#define LACUNA_CAT_(a, b) a##b
#define LACUNA_CAT(a, b) LACUNA_CAT_(a, b)
#define LACUNA_DTYPE_ID(name) LACUNA_CAT(LACUNA_DTYPE_, name)

template <int Id> struct LacunaStorage;
template <> struct LacunaStorage<LACUNA_DTYPE_f32> {
    typedef float type;
    static __device__ __forceinline__ float load(type v) { return v; }
    static __device__ __forceinline__ type store(float v) { return v; }
};
template <> struct LacunaStorage<LACUNA_DTYPE_f16> {
    typedef lacuna_f16 type;
    static __device__ __forceinline__ float load(type v) { return lacuna_f16_to_f32(v); }
    static __device__ __forceinline__ type store(float v) { return lacuna_f32_to_f16(v); }
};
template <> struct LacunaStorage<LACUNA_DTYPE_bf16> {
    typedef lacuna_bf16 type;
    static __device__ __forceinline__ float load(type v) { return lacuna_bf16_to_f32(v); }
    static __device__ __forceinline__ type store(float v) { return lacuna_f32_to_bf16(v); }
};

// Activations of fused epilogues. GELU is the exact erf form (PyTorch's default), not the tanh approximation.
#define LACUNA_ACT_none 0
#define LACUNA_ACT_relu 1
#define LACUNA_ACT_gelu 2

template <int Act> __device__ __forceinline__ float lacuna_activate(float x);
template <> __device__ __forceinline__ float lacuna_activate<LACUNA_ACT_none>(float x) { return x; }
template <> __device__ __forceinline__ float lacuna_activate<LACUNA_ACT_relu>(float x) { return fmaxf(x, 0.0f); }
template <> __device__ __forceinline__ float lacuna_activate<LACUNA_ACT_gelu>(float x) {
    return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
}

__device__ __forceinline__ float lacuna_warp_sum(float v) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) {
        v += __shfl_xor_sync(0xffffffffu, v, offset);
    }
    return v;
}

__device__ __forceinline__ float lacuna_warp_max(float v) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) {
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
    }
    return v;
}
