// Emulated lacuna_common.cuh: the same API, conversions in software (round to nearest even).
#pragma once
#include "../cuda_emu.h"

typedef unsigned short lacuna_f16;
typedef unsigned short lacuna_bf16;
typedef long long lacuna_i64;

EMU_RUNTIME float emu_half_to_float_exact(unsigned short h)
#if EMU_RUNTIME_BODIES
{
    unsigned sign = (h >> 15) & 1, exp = (h >> 10) & 31, mant = h & 1023;
    float v;
    if (exp == 0) v = std::ldexp((float)mant, -24);
    else if (exp == 31) v = mant ? NAN : INFINITY;
    else v = std::ldexp((float)(mant | 1024), (int)exp - 25);
    return sign ? -v : v;
}
#else
;
#endif
// Decoding by table: the conversion is hot in the mma emulation.
struct EmuHalfTable {
    float value[65536];
    EmuHalfTable() { for (unsigned i = 0; i < 65536; i++) value[i] = emu_half_to_float_exact((unsigned short)i); }
};
inline EmuHalfTable emu_half_table;
inline float emu_half_to_float(unsigned short h) { return emu_half_table.value[h]; }
EMU_RUNTIME unsigned short emu_float_to_half(float f)
#if EMU_RUNTIME_BODIES
{
    if (std::isnan(f)) return 0x7e00;
    unsigned sign = std::signbit(f) ? 0x8000 : 0;
    double a = std::fabs((double)f);
    if (a >= 65520.0) return sign | 0x7c00;
    if (a < std::ldexp(1.0, -14)) {  // subnormal: units of 2^-24
        double q = a / std::ldexp(1.0, -24);
        double r = std::nearbyint(q);  // ties to even under the default rounding mode
        return sign | (unsigned)r;
    }
    int e;
    std::frexp(a, &e);                 // a = m * 2^e, m in [0.5, 1)
    double unit = std::ldexp(1.0, e - 11);
    double r = std::nearbyint(a / unit) * unit;
    std::frexp(r, &e);
    if (r >= 65520.0) return sign | 0x7c00;
    int exp = e - 1 + 15;
    unsigned mant = (unsigned)(std::ldexp(r, -(e - 1)) * 1024.0) - 1024;
    return sign | (exp << 10) | mant;
}
#else
;
#endif
inline float emu_bf16_to_float(unsigned short b) { return __uint_as_float(((unsigned)b) << 16); }
inline unsigned short emu_float_to_bf16(float f) {
    unsigned u = __float_as_uint(f);
    if (std::isnan(f)) return 0x7fc0;
    unsigned lsb = (u >> 16) & 1;
    u += 0x7fff + lsb;
    return (unsigned short)(u >> 16);
}

inline float lacuna_f16_to_f32(lacuna_f16 h) { return emu_half_to_float(h); }
inline lacuna_f16 lacuna_f32_to_f16(float f) { return emu_float_to_half(f); }
inline float lacuna_bf16_to_f32(lacuna_bf16 b) { return emu_bf16_to_float(b); }
inline lacuna_bf16 lacuna_f32_to_bf16(float f) { return emu_float_to_bf16(f); }

#define LACUNA_DTYPE_f32 0
#define LACUNA_DTYPE_f16 1
#define LACUNA_DTYPE_bf16 2
#define LACUNA_CAT_(a, b) a##b
#define LACUNA_CAT(a, b) LACUNA_CAT_(a, b)
#define LACUNA_DTYPE_ID(name) LACUNA_CAT(LACUNA_DTYPE_, name)

template <int Id> struct LacunaStorage;
template <> struct LacunaStorage<LACUNA_DTYPE_f32> {
    typedef float type;
    static float load(type v) { return v; }
    static type store(float v) { return v; }
};
template <> struct LacunaStorage<LACUNA_DTYPE_f16> {
    typedef lacuna_f16 type;
    static float load(type v) { return lacuna_f16_to_f32(v); }
    static type store(float v) { return lacuna_f32_to_f16(v); }
};
template <> struct LacunaStorage<LACUNA_DTYPE_bf16> {
    typedef lacuna_bf16 type;
    static float load(type v) { return lacuna_bf16_to_f32(v); }
    static type store(float v) { return lacuna_f32_to_bf16(v); }
};

inline float lacuna_warp_sum(float v) {
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}
inline float lacuna_warp_max(float v) {
    for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
    return v;
}

#define LACUNA_ACT_none 0
#define LACUNA_ACT_relu 1
#define LACUNA_ACT_gelu 2
template <int Act> inline float lacuna_activate(float x);
template <> inline float lacuna_activate<LACUNA_ACT_none>(float x) { return x; }
template <> inline float lacuna_activate<LACUNA_ACT_relu>(float x) { return fmaxf(x, 0.0f); }
template <> inline float lacuna_activate<LACUNA_ACT_gelu>(float x) { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); }

#include "../ptx_emu.h"
