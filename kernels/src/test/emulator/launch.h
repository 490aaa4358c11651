// Launches recorded by the Java side (runtime's LaunchRecorder): a fixture's meta holds launch.count and, per launch,
// launchI.file, .entry, .defines (the variant's constants, sorted), .grid ("X Y"), .block, .shared and .args, each
// argument as ptr:NAME+BYTE_OFFSET, ptr:null, i32:V, i64:V, f32:HEXFLOAT or f64:HEXFLOAT. Buffers are declared as
// buffer.NAME=DTYPE (NAME.bin holds an input's contents; an output starts poisoned) and expect.NAME="REL ABS" names
// each buffer the kernel must have written, compared with the cpu-reference result want_NAME.bin (F32 values).
// launch_recorded() calls the kernel with exactly those arguments after checking each against the kernel's own
// parameter list: count, kind (pointer, int, long long, float, double), a pointer's element size against the buffer's
// dtype, an offset inside the buffer; and every buffer the Java side expects written passed to a non-const parameter.
// So the Java launch contract (argument order and types, grid, block, shared bytes) is what is emulated, not a hand-written copy.
#pragma once
#include <algorithm>
#include <cstring>
#include <set>
#include <sstream>
#include <tuple>
#include <type_traits>
#include "fixture.h"
#include "testutil.h"

struct RecordedArg {
    std::string kind, buffer;  // buffer: "" for scalars, "null" for the null pointer
    long long offset = 0, integer = 0;
    double real = 0;
};

struct RecordedLaunch {
    std::string file, entry, defines;
    unsigned grid_x = 0, grid_y = 0, block = 0;
    size_t shared = 0;
    std::vector<RecordedArg> args;
};

// The words of text, sorted and joined by single spaces (defines compare as sets).
inline std::string sorted_words(const std::string& text) {
    std::istringstream in(text);
    std::vector<std::string> words;
    for (std::string w; in >> w;) words.push_back(w);
    std::sort(words.begin(), words.end());
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
    return out;
}

// The launches recorded under prefix (LaunchRecorder's), in order.
inline std::vector<RecordedLaunch> recorded_launches(const Fixture& f, const std::string& prefix = "") {
    std::vector<RecordedLaunch> launches;
    const long long count = f.has(prefix + "launch.count") ? f.integer(prefix + "launch.count") : 0;
    for (long long i = 0; i < count; i++) {
        const std::string p = prefix + "launch" + std::to_string(i) + ".";
        RecordedLaunch l;
        l.file = f.text(p + "file");
        l.entry = f.text(p + "entry");
        l.defines = sorted_words(f.text(p + "defines"));
        std::istringstream grid(f.text(p + "grid"));
        grid >> l.grid_x >> l.grid_y;
        l.block = (unsigned)f.integer(p + "block");
        l.shared = (size_t)f.integer(p + "shared");
        std::istringstream args(f.text(p + "args"));
        for (std::string word; args >> word;) {
            RecordedArg a;
            const size_t colon = word.find(':');
            a.kind = word.substr(0, colon);
            const std::string value = word.substr(colon + 1);
            if (a.kind == "ptr") {
                const size_t plus = value.find('+');
                a.buffer = value.substr(0, plus);
                if (plus != std::string::npos) a.offset = std::stoll(value.substr(plus + 1));
            } else if (a.kind == "i32" || a.kind == "i64") {
                a.integer = std::stoll(value);
            } else {
                a.real = std::strtod(value.c_str(), nullptr);  // hexadecimal floats read back exactly
            }
            l.args.push_back(a);
        }
        launches.push_back(l);
    }
    return launches;
}

inline size_t dtype_bytes(const std::string& dtype) {
    if (dtype == "f16" || dtype == "bf16") return 2;
    if (dtype == "f32" || dtype == "i32" || dtype == "u32") return 4;
    if (dtype == "i64" || dtype == "u64" || dtype == "f64") return 8;
    return 0;
}

inline double decode_element(const std::string& dtype, const unsigned char* p) {
    if (dtype == "f16" || dtype == "bf16") {
        unsigned short bits;
        memcpy(&bits, p, 2);
        return dtype == "f16" ? emu_half_to_float(bits) : emu_bf16_to_float(bits);
    }
    float v;
    memcpy(&v, p, 4);
    return v;
}

// The buffers a fixture's launches use: from NAME.bin where the Java side wrote one, else SIZE.NAME bytes of poison
// (all-ones: NaN in every float type), e.g. outputs and scratch.
struct RecordedBuffers {
    std::map<std::string, std::vector<unsigned char>> bytes;
    std::map<std::string, std::string> dtype;
    std::set<std::string> written;   // the buffers the Java side expects the kernel to write (expect.NAME)
    std::set<std::string> writable;  // the buffers a launch passed through a non-const pointer parameter

    RecordedBuffers(const Fixture& f, const std::vector<RecordedLaunch>& launches) {
        for (const auto& kv : f.meta)
            if (kv.first.rfind("expect.", 0) == 0) written.insert(kv.first.substr(7));
        std::set<std::string> used(written);
        for (const auto& l : launches)
            for (const auto& a : l.args)
                if (a.kind == "ptr" && a.buffer != "null") used.insert(a.buffer);
        for (const auto& name : used) {
            if (!f.has("buffer." + name)) continue;  // reported by recorded_argument
            dtype[name] = f.text("buffer." + name);
            auto& b = bytes[name];
            b = f.array<unsigned char>(name);
            if (b.empty()) b.assign((size_t)f.integer("size." + name), 0xFF);
        }
    }
};

template <typename T>
T recorded_argument(const RecordedLaunch& l, size_t i, RecordedBuffers& buffers, const std::string& where) {
    const RecordedArg& a = l.args[i];
    if constexpr (std::is_pointer<T>::value) {
        typedef typename std::remove_pointer<T>::type Pointee;
        typedef typename std::remove_cv<Pointee>::type Element;
        CHECK(a.kind == "ptr", "%s: parameter %zu is a pointer, the Java side passes %s", where.c_str(), i, a.kind.c_str());
        if (a.kind != "ptr" || a.buffer == "null") return nullptr;
        auto it = buffers.bytes.find(a.buffer);
        CHECK(it != buffers.bytes.end(), "%s: parameter %zu: no buffer %s", where.c_str(), i, a.buffer.c_str());
        if (it == buffers.bytes.end()) return nullptr;
        if constexpr (!std::is_void<Element>::value) {
            if (buffers.dtype[a.buffer] != "scratch") {  // scratch: untyped workspace bytes
                CHECK(dtype_bytes(buffers.dtype[a.buffer]) == sizeof(Element),
                      "%s: parameter %zu points to %zu-byte elements, the Java side passes %s (%s)", where.c_str(), i,
                      sizeof(Element), a.buffer.c_str(), buffers.dtype[a.buffer].c_str());
            }
            CHECK(a.offset % sizeof(Element) == 0, "%s: parameter %zu: misaligned offset %lld", where.c_str(), i, a.offset);
        }
        if (!std::is_const<Pointee>::value) buffers.writable.insert(a.buffer);
        CHECK(a.offset >= 0 && (size_t)a.offset <= it->second.size(), "%s: parameter %zu: offset %lld outside %s",
              where.c_str(), i, a.offset, a.buffer.c_str());
        return (T)(it->second.data() + a.offset);
    } else if constexpr (std::is_same<T, long long>::value) {
        CHECK(a.kind == "i64", "%s: parameter %zu is long long, the Java side passes %s", where.c_str(), i, a.kind.c_str());
        return (T)a.integer;
    } else if constexpr (std::is_same<T, int>::value) {
        CHECK(a.kind == "i32", "%s: parameter %zu is int, the Java side passes %s", where.c_str(), i, a.kind.c_str());
        return (T)a.integer;
    } else if constexpr (std::is_same<T, float>::value) {
        CHECK(a.kind == "f32", "%s: parameter %zu is float, the Java side passes %s", where.c_str(), i, a.kind.c_str());
        return (T)a.real;
    } else if constexpr (std::is_same<T, double>::value) {
        CHECK(a.kind == "f64", "%s: parameter %zu is double, the Java side passes %s", where.c_str(), i, a.kind.c_str());
        return (T)a.real;
    } else {
        static_assert(sizeof(T) == 0, "a kernel parameter type the recorded launches do not carry");
    }
}

template <typename... P, size_t... I>
std::tuple<P...> recorded_arguments(const RecordedLaunch& l, RecordedBuffers& buffers, const std::string& where,
                                    std::index_sequence<I...>) {
    return std::tuple<P...>{recorded_argument<P>(l, I, buffers, where)...};
}

// Launches kernel as recorded; false (with the failures counted) when the recording does not fit the kernel.
template <typename... P>
bool launch_recorded(void (*kernel)(P...), const RecordedLaunch& l, RecordedBuffers& buffers, unsigned max_block,
                     const std::string& where) {
    const int before = failures;
    CHECK(l.args.size() == sizeof...(P), "%s: the kernel takes %zu parameters, the Java side passes %zu", where.c_str(),
          sizeof...(P), l.args.size());
    CHECK(l.block >= 1 && l.block <= max_block, "%s: block %u outside the kernel's launch bounds %u", where.c_str(),
          l.block, max_block);
    CHECK(l.grid_x >= 1 && l.grid_y >= 1, "%s: an empty grid %ux%u was recorded", where.c_str(), l.grid_x, l.grid_y);
    if (failures != before) return false;
    auto args = recorded_arguments<P...>(l, buffers, where, std::index_sequence_for<P...>{});
    if (failures != before) return false;
    emu_launch(l.grid_x, l.grid_y, l.block, l.shared, [&] { std::apply(kernel, args); });
    return true;
}

// Compares each written buffer with the reference; returns the largest |error| (0 for bit-for-bit comparisons).
inline double compare_recorded(const Fixture& f, const RecordedBuffers& buffers, const std::string& where) {
    double max_err = 0;
    for (const auto& name : buffers.written) {
        std::istringstream tolerance(f.text("expect." + name));
        double rel = 0, abs = 0;
        tolerance >> rel >> abs;
        CHECK(buffers.writable.count(name), "%s: the Java side expects %s written, but no launch passes it through a "
              "writable pointer parameter", where.c_str(), name.c_str());
        const std::vector<float> want = f.f32("want_" + name);
        const std::string dtype = buffers.dtype.at(name);
        const auto& got_bytes = buffers.bytes.at(name);
        const size_t width = dtype_bytes(dtype);
        CHECK(got_bytes.size() == want.size() * width, "%s: %s has %zu bytes for %zu reference values", where.c_str(),
              name.c_str(), got_bytes.size(), want.size());
        for (size_t i = 0; i < want.size() && i * width < got_bytes.size(); i++) {
            const double got = decode_element(dtype, got_bytes.data() + i * width);
            if (rel == 0 && abs == 0) {  // bit for bit (as floats): -0 against +0 fails, NaN matches NaN
                const float g = (float)got, w = want[i];
                CHECK((g != g && w != w) || memcmp(&g, &w, 4) == 0, "%s: %s[%zu] got %g want %g", where.c_str(),
                      name.c_str(), i, got, (double)w);
                continue;
            }
            const double err = std::fabs(got - want[i]);
            if (err == err) max_err = std::max(max_err, err);
            CHECK(err <= rel * std::fabs(want[i]) + abs, "%s: %s[%zu] got %g want %g", where.c_str(), name.c_str(), i,
                  got, (double)want[i]);
        }
    }
    return max_err;
}
