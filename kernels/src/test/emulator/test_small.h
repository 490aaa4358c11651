// Checks of the small element-wise and row kernels (cast, bias_activation, residual_add, row_reduce) against
// references computed independently of the emulator's conversions: the compiler's _Float16 for f16, rounding by
// hand from double for bf16. run.sh generates one translation unit that includes every declared variant of each
// kernel in its own namespace and calls these.
#pragma once
#include "testutil.h"

// Round to the storage type and back, independently of lacuna_common's emulation.
template <int Id> double ref_round(double v) {
    if (Id == LACUNA_DTYPE_f32) return (float)v;
    if (Id == LACUNA_DTYPE_f16) return (double)(_Float16)(float)v;  // float first: as the kernel rounds from fp32
    float f = (float)v;
    if (f != f) return f;
    unsigned u;
    memcpy(&u, &f, 4);
    u += 0x7fff + ((u >> 16) & 1);
    u &= 0xffff0000u;
    memcpy(&f, &u, 4);
    return f;
}
template <typename S> constexpr int storage_id() {
    return std::is_same<typename S::type, float>::value ? LACUNA_DTYPE_f32
         : S::store(1.0f / 3.0f) == emu_float_to_half(1.0f / 3.0f) ? LACUNA_DTYPE_f16 : LACUNA_DTYPE_bf16;
}
template <typename S> double load_value(typename S::type v) { return S::load(v); }

inline double ref_activate(int act, double x) {
    if (act == LACUNA_ACT_relu) return x > 0 ? x : 0;
    if (act == LACUNA_ACT_gelu) return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    return x;
}
inline double tolerance(int out_id) { return out_id == LACUNA_DTYPE_bf16 ? 8e-3 : out_id == LACUNA_DTYPE_f16 ? 1e-3 : 2e-6; }

static double small_max_err = 0;

template <typename In, typename Out, typename Kernel>
void check_cast(Kernel kernel, const char* label) {
    const int in_id = storage_id<In>(), out_id = storage_id<Out>();
    for (long long count : {0LL, 1LL, 1000LL}) {
        std::vector<typename In::type> x(count);
        for (long long i = 0; i < count; i++) {
            double v = uniform(-3, 3) * std::pow(2.0, uniform_int(-30, 20));
            if (i % 97 == 5) v = NAN;
            if (i % 89 == 7) v = (i & 1) ? INFINITY : -1e30;
            x[i] = In::store((float)v);
        }
        std::vector<typename Out::type> y(count);
        poison(y);
        emu_launch(2, 1, 256, 0, [&] { kernel(x.data(), y.data(), count); });
        for (long long i = 0; i < count; i++) {
            const double want = ref_round<0>(0) * 0 + (out_id == LACUNA_DTYPE_f16 ? ref_round<LACUNA_DTYPE_f16>(In::load(x[i]))
                              : out_id == LACUNA_DTYPE_bf16 ? ref_round<LACUNA_DTYPE_bf16>(In::load(x[i]))
                                                            : (double)In::load(x[i]));
            const double got = Out::load(y[i]);
            CHECK((got == want) || (got != got && want != want), "%s: cast x[%lld]=%g got %g want %g", label, i,
                  (double)In::load(x[i]), got, want);
        }
        (void)in_id;
    }
    printf("  %-34s bit-exact\n", label);
}

template <typename In, typename Out, typename Kernel>
void check_bias_activation(Kernel kernel, int act, const char* label) {
    const int out_id = storage_id<Out>();
    double max_err = 0;
    for (auto shape : {std::pair<long long, long long>{1, 1}, {3, 37}, {5, 300}, {0, 8}}) {
        const long long rows = shape.first, cols = shape.second;
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            std::vector<typename In::type> x(rows * cols);
            for (auto& v : x) v = In::store((float)uniform(-4, 4));
            std::vector<float> bias(cols);
            for (auto& b : bias) b = (float)uniform(-1, 1);
            std::vector<typename Out::type> y(rows * cols);
            poison(y);
            emu_launch(3, 1, 256, 0, [&] { kernel(x.data(), with_bias ? bias.data() : nullptr, y.data(), rows, cols); });
            for (long long i = 0; i < rows * cols; i++) {
                const double want = ref_activate(act, (double)In::load(x[i]) + (with_bias ? bias[i % cols] : 0.0));
                const double got = Out::load(y[i]), err = std::fabs(got - want);
                max_err = std::max(max_err, err);
                CHECK(err <= tolerance(out_id) * std::fabs(want) + 1e-6, "%s: [%lld] got %g want %g", label, i, got, want);
            }
        }
    }
    small_max_err = std::max(small_max_err, max_err);
    printf("  %-34s max |err| %.2e\n", label, max_err);
}

template <typename Elem, typename Kernel>
void check_residual_add(Kernel kernel, const char* label) {
    const int id = storage_id<Elem>();
    double max_err = 0;
    for (long long count : {0LL, 1LL, 777LL}) {
        for (int in_place = 0; in_place < 2; in_place++) {
            std::vector<typename Elem::type> a(count), b(count), y(count);
            for (auto& v : a) v = Elem::store((float)uniform(-4, 4));
            for (auto& v : b) v = Elem::store((float)uniform(-4, 4));
            std::vector<double> want(count);
            for (long long i = 0; i < count; i++) want[i] = (double)Elem::load(a[i]) + Elem::load(b[i]);
            poison(y);
            typename Elem::type* target = in_place ? a.data() : y.data();
            emu_launch(2, 1, 256, 0, [&] { kernel(a.data(), b.data(), target, count); });
            for (long long i = 0; i < count; i++) {
                const double got = Elem::load(target[i]), err = std::fabs(got - want[i]);
                max_err = std::max(max_err, err);
                CHECK(err <= tolerance(id) * std::fabs(want[i]) + 1e-6, "%s: [%lld] got %g want %g", label, i, got, want[i]);
            }
        }
    }
    small_max_err = std::max(small_max_err, max_err);
    printf("  %-34s max |err| %.2e\n", label, max_err);
}

template <typename In, typename Kernel>
void check_row_reduce(Kernel kernel, int op, const char* label) {
    double max_rel = 0;
    for (auto shape : {std::pair<long long, long long>{1, 1}, {3, 300}, {2, 1000}, {4, 33}}) {
        const long long rows = shape.first, cols = shape.second;
        std::vector<typename In::type> x(rows * cols);
        for (auto& v : x) v = In::store((float)uniform(-2, 2));
        std::vector<float> out(rows, NAN);
        emu_launch(2, 1, 256, 0, [&] { kernel(x.data(), out.data(), rows, cols); });
        for (long long r = 0; r < rows; r++) {
            double want = op == 1 ? -INFINITY : 0;
            for (long long c = 0; c < cols; c++) {
                const double v = In::load(x[r * cols + c]);
                want = op == 1 ? std::max(want, v) : op == 2 ? want + v * v : want + v;
            }
            if (op == 2) want = std::sqrt(want);
            const double err = std::fabs(out[r] - want);
            max_rel = std::max(max_rel, err);
            CHECK(err <= 1e-5 * std::max(1.0, std::fabs(want)) * std::sqrt((double)cols), "%s: row %lld got %g want %g",
                  label, r, out[r], want);
        }
    }
    small_max_err = std::max(small_max_err, max_rel);
    printf("  %-34s max |err| %.2e\n", label, max_rel);
}

// batch_norm.cu: y = x * scale[c] + shift[c] over the last dimension, out of place and (same storage) in place.
template <typename In, typename Out, typename Kernel>
void check_batch_norm(Kernel kernel, const char* label) {
    const int out_id = storage_id<Out>();
    double max_err = 0;
    for (auto shape : {std::pair<long long, long long>{1, 1}, {3, 37}, {5, 300}, {0, 8}, {7, 5}}) {
        const long long rows = shape.first, cols = shape.second;
        for (int in_place = 0; in_place < (std::is_same<In, Out>::value ? 2 : 1); in_place++) {
            std::vector<typename In::type> x(rows * cols);
            for (auto& v : x) v = In::store((float)uniform(-4, 4));
            std::vector<float> scale(cols), shift(cols);
            for (auto& s : scale) s = (float)uniform(-2, 2);
            for (auto& s : shift) s = (float)uniform(-1, 1);
            std::vector<double> want(rows * cols);
            for (long long i = 0; i < rows * cols; i++) {
                want[i] = (double)In::load(x[i]) * scale[i % cols] + shift[i % cols];
            }
            std::vector<typename Out::type> y(rows * cols);
            poison(y);
            typename Out::type* target = y.data();
            if constexpr (std::is_same<In, Out>::value) {
                if (in_place) target = x.data();
            }
            // Three blocks of 256 threads: the grid-stride loop wraps the column index several times.
            emu_launch(3, 1, 256, 0, [&] { kernel(x.data(), scale.data(), shift.data(), target, rows, cols); });
            for (long long i = 0; i < rows * cols; i++) {
                const double got = Out::load(target[i]), err = std::fabs(got - want[i]);
                max_err = std::max(max_err, err);
                CHECK(err <= tolerance(out_id) * std::fabs(want[i]) + 1e-6, "%s: [%lld] got %g want %g", label, i, got,
                      want[i]);
            }
        }
    }
    small_max_err = std::max(small_max_err, max_err);
    printf("  %-34s max |err| %.2e\n", label, max_err);
}

// concat_columns.cu: [a | b] row by row, bit for bit (NaN payloads included: nothing may be rounded).
template <typename Bits, typename Kernel>
void check_concat_columns(Kernel kernel, const char* label) {
    for (long long rows : {0LL, 1LL, 5LL, 33LL}) {
        for (auto widths : {std::pair<long long, long long>{1, 1}, {7, 3}, {0, 5}, {64, 1}, {3, 130}}) {
            const long long a_cols = widths.first, b_cols = widths.second, cols = a_cols + b_cols;
            std::vector<Bits> a(rows * a_cols), b(rows * b_cols), y(rows * cols);
            for (auto& v : a) v = (Bits)(rng() & 0xFFFFFFFFu);
            for (auto& v : b) v = (Bits)(rng() & 0xFFFFFFFFu);
            memset(y.data(), 0xA5, y.size() * sizeof(Bits));
            emu_launch(2, 1, 256, 0, [&] { kernel(a.data(), b.data(), y.data(), rows, a_cols, b_cols); });
            for (long long r = 0; r < rows; r++) {
                for (long long c = 0; c < cols; c++) {
                    const Bits want = c < a_cols ? a[r * a_cols + c] : b[r * b_cols + (c - a_cols)];
                    CHECK(y[r * cols + c] == want, "%s: rows %lld, a %lld, b %lld: [%lld][%lld] got %#x want %#x",
                          label, rows, a_cols, b_cols, r, c, (unsigned)y[r * cols + c], (unsigned)want);
                }
            }
        }
    }
    printf("  %-34s bit for bit\n", label);
}
