// The sparse-convolution dataflows in the emulator, driven by the Java side's cases (runtime's SparseConvFixtures,
// the conv* fixture directories): kernel maps from KernelMapBuilder, the launch plan the CUDA backend derives from
// them (MapStatistics: offset-group bounds and row order per TileOrder, gather-scatter offset groups) and the
// cpu-reference backend's output.
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
#include "fixture.h"

#ifndef T_OUT
#define T_OUT f32
#endif
#ifndef ACT
#define ACT none
#endif
typedef LacunaStorage<LACUNA_DTYPE_ID(T_IN)> InS;
typedef LacunaStorage<LACUNA_DTYPE_ID(T_OUT)> OutS;
constexpr int ACT_ID = LACUNA_CAT(LACUNA_ACT_, ACT);

static double max_error_seen = 0;

template <typename T> static std::vector<T> inputs(const Fixture& f, const std::string& name);
template <> std::vector<float> inputs<float>(const Fixture& f, const std::string& name) { return f.f32(name); }
template <> std::vector<unsigned short> inputs<unsigned short>(const Fixture& f, const std::string& name) { return f.u16(name); }

static void fixture_case(const std::string& root, const std::string& name) {
    const Fixture f(root + "/" + name);
    const int n_in = f.integer("n_in"), n_out = f.integer("n_out"), in = f.integer("in"), out = f.integer("out");
    const int volume = f.integer("volume"), words = f.integer("words");
    const std::vector<typename InS::type> x = inputs<typename InS::type>(f, "x"), w = inputs<typename InS::type>(f, "w");
    CHECK(x.size() == (size_t)n_in * in && w.size() == (size_t)volume * in * out, "%s: x/w sizes", name.c_str());
    const std::vector<float> bias = f.f32("bias");
    const float* bias_ptr = f.integer("bias") ? bias.data() : nullptr;
    const std::vector<int> neighbours = f.i32("neighbours");
    const std::vector<unsigned long long> masks = f.u64("masks");
    // The cpu-reference backend's output for this variant's activation.
    const std::vector<float> want = f.f32(ACT_ID == LACUNA_ACT_relu ? "y_relu" : "y_none");
    CHECK(want.size() == (size_t)n_out * out, "%s: reference size", name.c_str());
    std::vector<std::pair<std::string, std::vector<typename OutS::type>>> results;
#if DATAFLOW == 0
    (void)neighbours; (void)masks; (void)words;
    const std::vector<long long> pair_start = f.i64("pair_start");
    const std::vector<int> pair_inputs = f.i32("pair_inputs"), pair_outputs = f.i32("pair_outputs");
    const std::vector<int> group_start = f.i32("scatter_group_start"), offsets = f.i32("scatter_offsets");
    std::vector<float> accumulator((size_t)n_out * out, 0.0f);
    const int channel_tiles = (out + BC - 1) / BC;
    for (size_t g = 0; g + 1 < group_start.size(); g++) {
        const int* group = offsets.data() + group_start[g];
        const int count = group_start[g + 1] - group_start[g];
        const long long largest = pair_start[group[0] + 1] - pair_start[group[0]];
        emu_launch((largest + BP - 1) / BP * channel_tiles, count, THREADS, 0, [&] {
            sparseconv_gather_scatter(x.data(), w.data(), pair_start.data(), pair_inputs.data(), pair_outputs.data(),
                                      group, accumulator.data(), in, out);
        });
    }
    std::vector<typename OutS::type> y((size_t)n_out * out);
    poison(y);
#if HAS_FINISH
    emu_launch(3, 1, 256, 0, [&] { finish_ns::sparseconv_finish(accumulator.data(), bias_ptr, y.data(), n_out, out); });
#else
    for (size_t i = 0; i < y.size(); i++)
        y[i] = OutS::store(lacuna_activate<ACT_ID>(accumulator[i] + (bias_ptr ? bias_ptr[i % out] : 0.0f)));
#endif
    results.push_back({"gather-scatter", y});
#else
    for (const char* order : {"unsorted", "sorted", "sorted_split"}) {
        const std::vector<int> bounds = f.i32(std::string("bounds_") + order);
        const std::vector<int> rows = f.i32(std::string("rows_") + order);
        CHECK(bounds.size() >= 2 && rows.size() == (bounds.size() - 1) * (size_t)n_out, "%s: %s plan sizes",
              name.c_str(), order);
        std::vector<float> workspace((size_t)n_out * out, NAN);
        std::vector<typename OutS::type> y((size_t)n_out * out);
        poison(y);
        for (size_t gi = 0; gi + 1 < bounds.size(); gi++) {
            const bool last = gi + 2 == bounds.size();
            emu_launch((n_out + BM - 1) / BM, (out + BN - 1) / BN, THREADS, 0, [&] {
                sparseconv_implicit_gemm(x.data(), w.data(), neighbours.data(), masks.data(), rows.data() + gi * n_out,
                                         n_out, in, out, volume, words, bounds[gi], bounds[gi + 1], gi > 0 ? 1 : 0,
                                         last ? 1 : 0, workspace.data(), bias_ptr, y.data());
            });
        }
        results.push_back({std::string("implicit ") + order, y});
    }
#endif
    const double tol = LACUNA_DTYPE_ID(T_OUT) == LACUNA_DTYPE_f16 ? 1e-3 : 1e-6;
    for (auto& result : results) {
        double max_err = 0;
        for (size_t i = 0; i < want.size(); i++) {
            const double got = OutS::load(result.second[i]), err = std::fabs(got - want[i]);
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
