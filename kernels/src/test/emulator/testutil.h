#pragma once
#include <random>
#include <string>
#include <cassert>
static std::mt19937_64 rng;
static double uniform(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }
static int uniform_int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
template <int Id> unsigned short encode(float v) { return Id == LACUNA_DTYPE_bf16 ? emu_float_to_bf16(v) : emu_float_to_half(v); }
template <int Id> float decode(unsigned short v) { return Id == LACUNA_DTYPE_bf16 ? emu_bf16_to_float(v) : emu_half_to_float(v); }
static int failures = 0;
#define CHECK(cond, ...) do { if (!(cond)) { failures++; if (failures < 20) { fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); fprintf(stderr, __VA_ARGS__); fprintf(stderr, "\n"); } } } while (0)
#define LACUNA_STR_(x) #x
#define LACUNA_STR(x) LACUNA_STR_(x)
// Outputs start as NaN (float) or all-ones bits (16-bit and integer types): a value the kernel never writes shows.
template <typename T> void poison(std::vector<T>& v) {
    if (std::is_same<T, float>::value) for (auto& x : v) x = (T)NAN;
    else memset(v.data(), 0xFF, v.size() * sizeof(T));
}
