// Shared device helpers for every Lacuna kernel. Self-contained on purpose: kernels compile through NVRTC with
// no CUDA headers, so the 16-bit float types are carried as raw bits and converted with PTX cvt instructions.
// This file holds what is written in PTX (the conversions); the rest, plain CUDA C++, is in lacuna_device.cuh, which
// the kernel emulator compiles as shipped under its own software conversions (kernels/src/test/emulator/inc).
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

#include "lacuna_device.cuh"
