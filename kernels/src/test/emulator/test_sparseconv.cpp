// The sparse-convolution dataflows in the emulator against a double-precision reference:
// DATAFLOW=0: sparseconv_gather_scatter.cu (T_IN) then sparseconv_finish.cu (T_OUT, ACT) where it exists;
// DATAFLOW=1: sparseconv_implicit_gemm.cu (T_IN, T_OUT, ACT), in one launch and split into two offset groups
// (workspace accumulate / finish), rows in bitmask-sorted and in shuffled order.
// Volumes 27 and 125, channel counts off the tile sizes, output rows with no neighbour at all (bias only).
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
#include <map>
#include <set>

#ifndef T_OUT
#define T_OUT f32
#endif
#ifndef ACT
#define ACT none
#endif
typedef LacunaStorage<LACUNA_DTYPE_ID(T_IN)> InS;
typedef LacunaStorage<LACUNA_DTYPE_ID(T_OUT)> OutS;
constexpr int ACT_ID = LACUNA_CAT(LACUNA_ACT_, ACT);

static double act(double x) {
    if (ACT_ID == LACUNA_ACT_relu) return x > 0 ? x : 0;
    if (ACT_ID == LACUNA_ACT_gelu) return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    return x;
}

struct Map {
    int volume, n_in, n_out;
    std::vector<int> neighbours;             // [n_out][volume]
    std::vector<unsigned long long> masks;   // [n_out][words]
    std::vector<long long> pair_start;
    std::vector<int> pair_inputs, pair_outputs;
};

// Submanifold-style map over random points in a box, plus `isolated` outputs far from every input.
static Map make_map(int n, int side, int isolated) {
    std::set<std::array<int, 3>> points;
    while ((int)points.size() < n) points.insert({uniform_int(0, 6), uniform_int(0, 6), uniform_int(0, 6)});
    std::vector<std::array<int, 3>> in(points.begin(), points.end()), out = in;
    for (int i = 0; i < isolated; i++) out.insert(out.begin() + uniform_int(0, out.size()), {100 + 10 * i, 100, 100});
    std::map<std::array<int, 3>, int> index;
    for (size_t i = 0; i < in.size(); i++) index[in[i]] = i;
    Map m;
    m.volume = side * side * side;
    m.n_in = in.size();
    m.n_out = out.size();
    const int words = (m.volume + 63) / 64;
    m.neighbours.assign((size_t)m.n_out * m.volume, -1);
    m.masks.assign((size_t)m.n_out * words, 0);
    std::vector<std::vector<std::pair<int, int>>> pairs(m.volume);
    for (int r = 0; r < m.n_out; r++)
        for (int v = 0; v < m.volume; v++) {
            const int h = side / 2;
            std::array<int, 3> p = {out[r][0] + v / (side * side) - h, out[r][1] + (v / side) % side - h, out[r][2] + v % side - h};
            auto it = index.find(p);
            if (it == index.end()) continue;
            m.neighbours[(size_t)r * m.volume + v] = it->second;
            m.masks[(size_t)r * words + v / 64] |= 1ull << (v % 64);
            pairs[v].push_back({it->second, r});
        }
    m.pair_start.push_back(0);
    for (int v = 0; v < m.volume; v++) {
        for (auto& p : pairs[v]) { m.pair_inputs.push_back(p.first); m.pair_outputs.push_back(p.second); }
        m.pair_start.push_back(m.pair_inputs.size());
    }
    return m;
}

static double max_error_seen = 0;

static void run_case(const Map& m, int in, int out, bool with_bias) {
    const int volume = m.volume;
    std::vector<typename InS::type> x((size_t)m.n_in * in), w((size_t)volume * in * out);
    for (auto& v : x) v = InS::store((float)uniform(-1, 1));
    for (auto& v : w) v = InS::store((float)uniform(-1, 1) / std::sqrt((double)in));
    std::vector<float> bias(out);
    for (auto& b : bias) b = (float)uniform(-0.5, 0.5);
    std::vector<double> want((size_t)m.n_out * out);
    for (int r = 0; r < m.n_out; r++)
        for (int c = 0; c < out; c++) {
            double acc = with_bias ? bias[c] : 0.0;
            for (int v = 0; v < volume; v++) {
                const int s = m.neighbours[(size_t)r * volume + v];
                if (s < 0) continue;
                for (int k = 0; k < in; k++)
                    acc += (double)InS::load(x[(size_t)s * in + k]) * InS::load(w[((size_t)v * in + k) * out + c]);
            }
            want[(size_t)r * out + c] = act(acc);
        }
    const float* bias_ptr = with_bias ? bias.data() : nullptr;
    std::vector<std::pair<std::string, std::vector<typename OutS::type>>> results;
#if DATAFLOW == 0
    std::vector<float> accumulator((size_t)m.n_out * out, 0.0f);
    // Offsets in groups of similar pair counts (the host sorts them): here two groups, by descending count.
    std::vector<int> order(volume);
    for (int v = 0; v < volume; v++) order[v] = v;
    std::sort(order.begin(), order.end(), [&](int a, int b) {
        return m.pair_start[a + 1] - m.pair_start[a] > m.pair_start[b + 1] - m.pair_start[b];
    });
    const int channel_tiles = (out + BC - 1) / BC;
    for (int half = 0; half < 2; half++) {
        std::vector<int> group(order.begin() + (half ? volume / 2 : 0), order.begin() + (half ? volume : volume / 2));
        if (group.empty()) continue;
        const long long largest = m.pair_start[group[0] + 1] - m.pair_start[group[0]];
        if (largest == 0) continue;
        emu_launch((largest + BP - 1) / BP * channel_tiles, group.size(), THREADS, 0, [&] {
            sparseconv_gather_scatter(x.data(), w.data(), m.pair_start.data(), m.pair_inputs.data(), m.pair_outputs.data(),
                                      group.data(), accumulator.data(), in, out);
        });
    }
    std::vector<typename OutS::type> y((size_t)m.n_out * out);
    poison(y);
#if HAS_FINISH
    emu_launch(3, 1, 256, 0, [&] { finish_ns::sparseconv_finish(accumulator.data(), bias_ptr, y.data(), m.n_out, out); });
#else
    for (size_t i = 0; i < y.size(); i++) y[i] = OutS::store(lacuna_activate<ACT_ID>(accumulator[i] + (bias_ptr ? bias_ptr[i % out] : 0.0f)));
#endif
    results.push_back({"gather-scatter", y});
#else
    for (int variant = 0; variant < 3; variant++) {
        // Rows: sorted by bitmask (as the host's MapStatistics), or shuffled; offsets in one group or two.
        std::vector<int> rows(m.n_out);
        for (int r = 0; r < m.n_out; r++) rows[r] = r;
        const int words = (volume + 63) / 64;
        if (variant != 1) {
            std::stable_sort(rows.begin(), rows.end(), [&](int a, int b) {
                for (int i = words - 1; i >= 0; i--)
                    if (m.masks[(size_t)a * words + i] != m.masks[(size_t)b * words + i])
                        return m.masks[(size_t)a * words + i] < m.masks[(size_t)b * words + i];
                return false;
            });
        } else {
            std::shuffle(rows.begin(), rows.end(), rng);
        }
        std::vector<int> bounds = variant == 2 ? std::vector<int>{0, volume / 2, volume} : std::vector<int>{0, volume};
        std::vector<float> workspace((size_t)m.n_out * out, NAN);
        std::vector<typename OutS::type> y((size_t)m.n_out * out);
        poison(y);
        for (size_t gi = 0; gi + 1 < bounds.size(); gi++) {
            const bool last = gi + 2 == bounds.size();
            emu_launch((m.n_out + BM - 1) / BM, (out + BN - 1) / BN, THREADS, 0, [&] {
                sparseconv_implicit_gemm(x.data(), w.data(), m.neighbours.data(), m.masks.data(), rows.data(), m.n_out,
                                         in, out, volume, words, bounds[gi], bounds[gi + 1], gi > 0 ? 1 : 0, last ? 1 : 0,
                                         workspace.data(), bias_ptr, y.data());
            });
        }
        results.push_back({variant == 0 ? "implicit sorted" : variant == 1 ? "implicit shuffled" : "implicit split", y});
    }
#endif
    const double tol = LACUNA_DTYPE_ID(T_OUT) == LACUNA_DTYPE_f16 ? 1e-3 : 1e-6;
    for (auto& result : results) {
        double max_err = 0;
        for (size_t i = 0; i < want.size(); i++) {
            const double got = OutS::load(result.second[i]), err = std::fabs(got - want[i]);
            max_err = std::max(max_err, err);
            CHECK(err <= tol * std::fabs(want[i]) + 2e-6 * std::sqrt((double)in * volume),
                  "%s volume %d in %d out %d: y[%zu][%zu] got %g want %g", result.first.c_str(), volume, in, out,
                  i / out, i % out, got, want[i]);
        }
        max_error_seen = std::max(max_error_seen, max_err);
        printf("  %-18s volume=%3d n_out=%d in=%d out=%d bias=%d: max |err| %.2e\n", result.first.c_str(), volume,
               m.n_out, in, out, with_bias, max_err);
    }
}

int main(int argc, char** argv) {
    rng.seed(argc > 1 ? atoll(argv[1]) : 1);
    printf("DATAFLOW=%d T_IN=%s T_OUT=%s ACT=%s\n", DATAFLOW, LACUNA_STR(T_IN), LACUNA_STR(T_OUT), LACUNA_STR(ACT));
    Map m27 = make_map(90, 3, 3);
    run_case(m27, 20, 70, true);
    run_case(m27, 3, 5, false);
    Map m125 = make_map(40, 5, 2);
    run_case(m125, 16, 8, true);
    if (failures) { printf("FAILED (%d)\n", failures); return 1; }
    printf("ok (max |err| %.2e)\n", max_error_seen);
    return 0;
}
