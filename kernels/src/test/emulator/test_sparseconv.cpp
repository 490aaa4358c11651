// The sparse-convolution dataflows in the emulator, driven by the Java side's cases (runtime's SparseConvFixtures,
// the conv* fixture directories): kernel maps from KernelMapBuilder, the launches the CUDA backend makes for them
// (recorded from ConvolutionLaunches: MapStatistics' offset-group bounds and row order per TileOrder, the
// gather-scatter offset groups, every argument, grid and uploaded table) and the cpu-reference backend's output.
// DATAFLOW=0: sparseconv_gather_scatter.cu (T_IN) over the Java offset groups, then sparseconv_finish.cu (T_OUT, ACT)
// where it exists (else bias + activation as the elementwise op does it);
// DATAFLOW=1: sparseconv_implicit_gemm.cu (T_IN, T_OUT, ACT) over rows unsorted, sorted and split (two launches:
// workspace accumulate / finish), exactly as CudaConvolutionOps launches them.
#if DATAFLOW == 0
#include "gen/sparseconv_gather_scatter.cu"
#if __has_include("gen/sparseconv_finish.cu")
#define HAS_FINISH 1
#undef BLOCK
namespace finish_ns {
#include "gen/sparseconv_finish.cu"
}
#else
#define HAS_FINISH 0
#endif
#else
#include "gen/sparseconv_implicit_gemm.cu"
#endif
#include "testutil.h"
#include "launch.h"

// In and Out: the kernel's storage types (lacuna_variant.cuh; T_OUT is f32 for the gather-scatter dataflow).
#ifndef ACT
#define ACT none
#endif
constexpr int ACT_ID = LACUNA_CAT(LACUNA_ACT_, ACT);

static double max_error_seen = 0;

template <typename T> static std::vector<T> inputs(const Fixture& f, const std::string& name);
template <> std::vector<float> inputs<float>(const Fixture& f, const std::string& name) { return f.f32(name); }
template <> std::vector<unsigned short> inputs<unsigned short>(const Fixture& f, const std::string& name) { return f.u16(name); }

static void fixture_case(const std::string& root, const std::string& name) {
    const Fixture f(root + "/" + name);
    const int n_in = f.integer("n_in"), n_out = f.integer("n_out"), in = f.integer("in"), out = f.integer("out");
    const int volume = f.integer("volume"), words = f.integer("words");
    const std::vector<typename In::type> x = inputs<typename In::type>(f, "x"), w = inputs<typename In::type>(f, "w");
    CHECK(x.size() == (size_t)n_in * in && w.size() == (size_t)volume * in * out, "%s: x/w sizes", name.c_str());
    const std::vector<float> bias = f.f32("bias");
    const float* bias_ptr = f.integer("bias") ? bias.data() : nullptr;
    (void)words;
    // The cpu-reference backend's output for this variant's activation.
    const std::vector<float> want = f.f32(ACT_ID == LACUNA_ACT_relu ? "y_relu" : "y_none");
    CHECK(want.size() == (size_t)n_out * out, "%s: reference size", name.c_str());
    std::vector<std::pair<std::string, std::vector<typename Out::type>>> results;
    // Each dataflow launched exactly as CudaConvolutionOps would (its arguments, grids and uploaded tables recorded
    // by the Java side: see launch.h), in this build's variant.
#if DATAFLOW == 0
    const std::string prefix = "gather.", defines = "T_IN=" LACUNA_STR(T_IN);
    const std::vector<RecordedLaunch> launches = recorded_launches(f, prefix);
    RecordedBuffers buffers(f, launches);
    for (const RecordedLaunch& l : launches) {
        CHECK(l.file == "sparseconv_gather_scatter.cu" && l.defines == defines, "%s: recorded %s %s", name.c_str(),
              l.file.c_str(), l.defines.c_str());
        launch_recorded(sparseconv_gather_scatter, l, buffers, THREADS, name + " gather-scatter");
    }
    std::vector<float> accumulator((size_t)n_out * out);
    CHECK(buffers.bytes[prefix + "sums"].size() == accumulator.size() * 4, "%s: accumulator size", name.c_str());
    memcpy(accumulator.data(), buffers.bytes[prefix + "sums"].data(), std::min(buffers.bytes[prefix + "sums"].size(), accumulator.size() * 4));
    std::vector<typename Out::type> y((size_t)n_out * out);
    poison(y);
#if HAS_FINISH
    emu_launch(3, 1, 256, 0, [&] { finish_ns::sparseconv_finish(accumulator.data(), bias_ptr, y.data(), n_out, out); });
#else
    // The CUDA backend finishes with the elementwise bias-activation op (bias_activation.cu, emulated with its own
    // recorded launches among the small kernels); here the same formula on the host.
    for (size_t i = 0; i < y.size(); i++)
        y[i] = Out::store(lacuna_activate<ACT_ID>(accumulator[i] + (bias_ptr ? bias_ptr[i % out] : 0.0f)));
#endif
    results.push_back({"gather-scatter", y});
#else
    (void)bias_ptr;
    const std::string defines = sorted_words("T_IN=" LACUNA_STR(T_IN) " T_OUT=" LACUNA_STR(T_OUT) " ACT=" LACUNA_STR(ACT));
    for (const char* order : {"unsorted", "sorted", "sorted_split"}) {
        const std::string prefix = std::string("implicit_") + LACUNA_STR(T_OUT) + "_" + LACUNA_STR(ACT) + "_" + order + ".";
        const std::vector<RecordedLaunch> launches = recorded_launches(f, prefix);
        CHECK(!launches.empty(), "%s: no launches recorded under %s", name.c_str(), prefix.c_str());
        RecordedBuffers buffers(f, launches);
        for (const RecordedLaunch& l : launches) {
            CHECK(l.file == "sparseconv_implicit_gemm.cu" && l.defines == defines, "%s: recorded %s %s", name.c_str(),
                  l.file.c_str(), l.defines.c_str());
            launch_recorded(sparseconv_implicit_gemm, l, buffers, THREADS, name + " implicit " + order);
        }
        const auto& bytes = buffers.bytes[prefix + "y"];
        std::vector<typename Out::type> y((size_t)n_out * out);
        CHECK(bytes.size() == y.size() * sizeof(typename Out::type), "%s: output size", name.c_str());
        memcpy(y.data(), bytes.data(), std::min(bytes.size(), y.size() * sizeof(typename Out::type)));
        results.push_back({std::string("implicit ") + order, y});
    }
#endif
    const double tol = LACUNA_DTYPE_ID(T_OUT) == LACUNA_DTYPE_f16 ? 1e-3 : 1e-6;
    for (auto& result : results) {
        double max_err = 0;
        for (size_t i = 0; i < want.size(); i++) {
            const double got = Out::load(result.second[i]), err = std::fabs(got - want[i]);
            max_err = std::max(max_err, err);
            CHECK(err <= tol * std::fabs(want[i]) + 2e-6 * std::sqrt((double)in * volume),
                  "%s %s: y[%zu][%zu] got %g want %g", name.c_str(), result.first.c_str(), i / out, i % out, got,
                  (double)want[i]);
        }
        max_error_seen = std::max(max_error_seen, max_err);
        printf("  %-24s %-22s volume=%3d n_out=%d in=%d out=%d: max |err| %.2e\n", name.c_str(), result.first.c_str(),
               volume, n_out, in, out, max_err);
    }
}

int main(int argc, char** argv) {
    printf("DATAFLOW=%d T_IN=%s T_OUT=%s ACT=%s\n", DATAFLOW, LACUNA_STR(T_IN), LACUNA_STR(T_OUT), LACUNA_STR(ACT));
    int cases = 0;
    if (argc > 2)
        for (const std::string& name : fixture_list(argv[2], "conv_"))
            if (fixture_matches(std::string(argv[2]) + "/" + name, {{"t_in", LACUNA_STR(T_IN)}})) {
                fixture_case(argv[2], name);
                cases++;
            }
    return fixture_finish(cases, failures, max_error_summary(max_error_seen));
}
