// two_four_gemm.cu (SM=80: mma.sp) or two_four_gemm_sm90.cu (SM=90: wgmma.sp), variant given by T_IN, T_OUT, ACT,
// BN, K_ALIGNED, against a double-precision reference: Y[N, M] = act(X · Wᵀ + bias).
//
// Two sources of cases: (1) weights compressed here, from the PTX ISA's metadata definition (independent of the Java
// packer), over ragged M/N/K, K not a multiple of 8 (K_ALIGNED=0), groups with 0, 1 and 2 non-zeros; (2) with a
// fixture directory argument, the cases the Java side wrote (TwoFourWeights' own compression, the cpu-reference
// backend's output), launched as recorded (runtime's TwoFourLaunchRecords: the launch CudaGemmOps makes, through
// TwoFourLaunches, in this build's variant), so the contract between the Java packer and launch and the kernel is
// tested end to end.
#if SM == 90
#include "gen/two_four_gemm_sm90.cu"
#define KERNEL two_four_gemm_sm90
#define TILE_N 128
#else
#include "gen/two_four_gemm.cu"
#define KERNEL two_four_gemm
#define TILE_N BN
#endif
#include "testutil.h"
#include "fixture.h"
#include "launch.h"

constexpr int IN_ID = LACUNA_DTYPE_ID(T_IN);
typedef LacunaStorage<LACUNA_DTYPE_ID(T_OUT)> OutS;

struct Compressed {
    int mp, kp;
    std::vector<unsigned short> values;  // [mp][kp/2]
    std::vector<unsigned> metadata;      // [kp/32][mp/32][32]
};

// Packs a 2:4 W[m][k] (every group of 4 has at most 2 non-zeros) for the kernel: values row-major, the metadata
// word of (k-block kb, row group q, lane) being the lane's mma.sp metadata register (see ptx_emu.h): rows
// 32q + g + 16 (t >> 1) (low half) and + 8 (high half), dense columns 32kb + 16 (t & 1) .. +15.
static Compressed compress(const std::vector<float>& w, int m, int k) {
    Compressed c;
    c.mp = (m + 127) / 128 * 128;
    c.kp = (k + 63) / 64 * 64;
    c.values.assign((size_t)c.mp * c.kp / 2, 0);
    std::vector<unsigned char> nibbles((size_t)c.mp * c.kp / 4, 0x4);  // (0, 1): an all-zero group
    for (int r = 0; r < m; r++) {
        for (int q = 0; q < (k + 3) / 4; q++) {
            int kept[2], count = 0;
            for (int j = 0; j < 4 && 4 * q + j < k; j++)
                if (w[(size_t)r * k + 4 * q + j] != 0.0f) {
                    if (count == 2) { fprintf(stderr, "not 2:4\n"); abort(); }
                    kept[count++] = j;
                }
            // Fewer than two non-zeros: complete with zero positions, keeping i0 < i1.
            if (count == 0) { kept[0] = 0; kept[1] = 1; }
            if (count == 1) {
                if (kept[0] == 3) { kept[1] = 3; kept[0] = 2; }
                else kept[1] = kept[0] + 1;
            }
            nibbles[(size_t)r * (c.kp / 4) + q] = kept[0] | (kept[1] << 2);
            for (int h = 0; h < 2; h++) {
                const int col = 4 * q + kept[h];
                const float v = col < k ? w[(size_t)r * k + col] : 0.0f;
                c.values[(size_t)r * (c.kp / 2) + 2 * q + h] = encode<IN_ID>(v);
            }
        }
    }
    c.metadata.assign((size_t)(c.kp / 32) * (c.mp / 32) * 32, 0);
    for (int kb = 0; kb < c.kp / 32; kb++)
        for (int q = 0; q < c.mp / 32; q++)
            for (int lane = 0; lane < 32; lane++) {
                const int g = lane >> 2, t = lane & 3;
                const int row = 32 * q + g + 16 * (t >> 1);
                unsigned word = 0;
                for (int half = 0; half < 2; half++)
                    for (int j = 0; j < 4; j++) {
                        const int group = 8 * kb + 4 * (t & 1) + j;
                        word |= (unsigned)nibbles[(size_t)(row + 8 * half) * (c.kp / 4) + group] << (16 * half + 4 * j);
                    }
                c.metadata[((size_t)kb * (c.mp / 32) + q) * 32 + lane] = word;
            }
    return c;
}

static double activate(double x) {
    switch (LACUNA_CAT(LACUNA_ACT_, ACT)) {
        case LACUNA_ACT_relu: return x > 0 ? x : 0;
        case LACUNA_ACT_gelu: return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
        default: return x;
    }
}

static double max_error_seen = 0;

// Compares the kernel's y with want (the reference, [n][m]).
static void compare(const std::string& label, const typename OutS::type* y, int n, int m, int k,
                    const std::vector<double>& want) {
    const double tol_out = LACUNA_DTYPE_ID(T_OUT) == LACUNA_DTYPE_bf16 ? 8e-3 : LACUNA_DTYPE_ID(T_OUT) == LACUNA_DTYPE_f16 ? 1e-3 : 1e-5;
    double max_err = 0;
    for (int i = 0; i < n; i++)
        for (int o = 0; o < m; o++) {
            const double got = OutS::load(y[(size_t)i * m + o]), ref = want[(size_t)i * m + o];
            const double err = std::fabs(got - ref);
            if (!(err <= tol_out * std::fabs(ref) + 2e-4 * std::sqrt((double)k))) {
                CHECK(false, "%s: y[%d][%d] got %g want %g", label.c_str(), i, o, got, ref);
            }
            if (err == err) max_err = std::max(max_err, err);
        }
    max_error_seen = std::max(max_error_seen, max_err);
    printf("  %-40s n=%d m=%d k=%d: max |err| %.2e\n", label.c_str(), n, m, k, max_err);
}

// Runs the kernel on a case made here; compares with want.
static void run(const std::string& label, const std::vector<unsigned short>& x, const Compressed& w,
                const std::vector<float>* bias, int n, int m, int k, const std::vector<double>& want) {
    std::vector<typename OutS::type> y((size_t)n * m);
    poison(y);
    const size_t shared = (size_t)STAGES * STAGE_BYTES;
    emu_launch((n + TILE_N - 1) / TILE_N, w.mp / BM, THREADS, shared, [&] {
        KERNEL(x.data(), w.values.data(), w.metadata.data(), bias ? bias->data() : nullptr, y.data(), n, m, k, w.mp,
               w.kp);
    });
    compare(label, y.data(), n, m, k, want);
}

static void random_case(int n, int m, int k, bool with_bias) {
    std::vector<float> w((size_t)m * k, 0.0f);
    // Groups with 0, 1 and 2 non-zeros, at every position pair.
    for (int r = 0; r < m; r++)
        for (int q = 0; q < (k + 3) / 4; q++) {
            const int kind = uniform_int(0, 5);
            int count = kind == 0 ? 0 : kind == 1 ? 1 : 2;
            int first = uniform_int(0, 3), second = uniform_int(0, 3);
            if (count == 2 && first == second) second = (first + 1 + uniform_int(0, 2)) % 4;
            for (int h = 0; h < count; h++) {
                const int col = 4 * q + (h == 0 ? first : second);
                if (col < k) w[(size_t)r * k + col] = decode<IN_ID>(encode<IN_ID>((float)uniform(-1, 1)));
            }
        }
    std::vector<unsigned short> x((size_t)n * k);
    for (auto& v : x) v = encode<IN_ID>((float)uniform(-1, 1));
    std::vector<float> bias(m);
    for (auto& b : bias) b = (float)uniform(-0.5, 0.5);
    Compressed c = compress(w, m, k);
    std::vector<double> want((size_t)n * m);
    for (int i = 0; i < n; i++)
        for (int o = 0; o < m; o++) {
            double acc = with_bias ? bias[o] : 0.0;
            for (int j = 0; j < k; j++) acc += (double)w[(size_t)o * k + j] * decode<IN_ID>(x[(size_t)i * k + j]);
            want[(size_t)i * m + o] = activate(acc);
        }
    run("random", x, c, with_bias ? &bias : nullptr, n, m, k, want);
}

// A case the Java side wrote: TwoFourWeights.compress's values and metadata, X, bias and the reference Y, and the
// launch TwoFourLaunches makes for it in this build's variant, run as recorded.
static void fixture_case(const std::string& dir, const std::string& name) {
    Fixture f(dir + "/" + name);
    const int n = f.integer("n"), m = f.integer("m"), k = f.integer("k");
    std::vector<double> want = f.f64("linear");  // X · Wᵀ + bias in double (the Java side); activation here
    for (double& v : want) v = activate(v);
    const std::string prefix = "sm" + std::to_string(SM) + "_" + LACUNA_STR(T_OUT) + "_" + LACUNA_STR(ACT) + "_bn" +
                               std::to_string(TILE_N) + "_ka" + std::to_string(K_ALIGNED) + ".";
    const std::string where = "java:" + name;
    const std::vector<RecordedLaunch> launches = recorded_launches(f, prefix);
    CHECK(launches.size() == 1, "%s: %zu launches recorded for this variant (%s), want 1", where.c_str(),
          launches.size(), prefix.c_str());
    if (launches.size() != 1) return;
    const RecordedLaunch& l = launches[0];
    std::string defines = std::string("ACT=") + LACUNA_STR(ACT) + " K_ALIGNED=" + std::to_string(K_ALIGNED) + " T_IN=" +
                          LACUNA_STR(T_IN) + " T_OUT=" + LACUNA_STR(T_OUT);
    if (SM != 90) defines += " BN=" + std::to_string(TILE_N);
    CHECK(l.file == std::string(LACUNA_STR(KERNEL)) + ".cu" && l.entry == LACUNA_STR(KERNEL),
          "%s: recorded %s in %s", where.c_str(), l.entry.c_str(), l.file.c_str());
    CHECK(l.defines == sorted_words(defines), "%s: recorded for %s, built as %s", where.c_str(), l.defines.c_str(),
          defines.c_str());
    CHECK(l.shared == (size_t)STAGES * STAGE_BYTES, "%s: %zu dynamic shared bytes recorded, the kernel's stages take %d",
          where.c_str(), l.shared, STAGES * STAGE_BYTES);
    RecordedBuffers buffers(f, launches);
    if (!launch_recorded(KERNEL, l, buffers, THREADS, where)) return;
    const auto& y = buffers.bytes[prefix + "y"];
    CHECK(y.size() == (size_t)n * m * sizeof(typename OutS::type), "%s: y has %zu bytes", where.c_str(), y.size());
    if (y.size() != (size_t)n * m * sizeof(typename OutS::type)) return;
    compare(where, reinterpret_cast<const typename OutS::type*>(y.data()), n, m, k, want);
}

// An unordered metadata nibble is undefined behaviour for the ordered instruction: the emulator must poison it.
static void invalid_nibble_case() {
    const int n = 8, m = 16, k = 64;
    std::vector<float> w((size_t)m * k, 0.0f);
    for (int r = 0; r < m; r++) w[(size_t)r * k + 1] = 1.0f;
    Compressed c = compress(w, m, k);
    c.metadata[0] = (c.metadata[0] & ~0xFu) | 0x1;    // row 0, group 0: (1, 0) is unordered
    std::vector<unsigned short> x((size_t)n * k, encode<IN_ID>(1.0f));
    std::vector<typename OutS::type> y((size_t)n * m);
    emu_launch(1, c.mp / BM, THREADS, (size_t)STAGES * STAGE_BYTES, [&] {
        KERNEL(x.data(), c.values.data(), c.metadata.data(), nullptr, y.data(), n, m, k, c.mp, c.kp);
    });
    const double row0 = OutS::load(y[0]), row1 = OutS::load(y[1]);
    // (relu turns NaN into 0, as fmaxf does on the GPU: there only the neighbour row is checked)
    const bool hides_nan = LACUNA_CAT(LACUNA_ACT_, ACT) == LACUNA_ACT_relu;
    CHECK((hides_nan || row0 != row0) && std::fabs(row1 - activate(1.0)) < 1e-2, "an unordered nibble must poison only its row (got %g, %g)", row0, row1);
}

int main(int argc, char** argv) {
    rng.seed(argc > 1 ? atoll(argv[1]) : 1);
    printf("two_four SM=%d T_IN=%s T_OUT=%s ACT=%s BN=%d K_ALIGNED=%d\n", SM, LACUNA_STR(T_IN), LACUNA_STR(T_OUT),
           LACUNA_STR(ACT), TILE_N, K_ALIGNED);
    // Ragged edges in every dimension; K_ALIGNED=0 also takes K off multiples of 8.
    random_case(TILE_N + 3, 130, K_ALIGNED ? 96 : 52, true);
    random_case(5, 37, K_ALIGNED ? 64 : 20, false);
    random_case(1, 128, K_ALIGNED ? 200 : 203, true);
    invalid_nibble_case();
    int cases = 0;
    if (argc > 2) {
        for (const std::string& name : fixture_list(argv[2], "two_four"))
            if (fixture_matches(std::string(argv[2]) + "/" + name, {{"t_in", LACUNA_STR(T_IN)}, {"k_aligned", K_ALIGNED ? "1" : "any"}})) {
                fixture_case(argv[2], name);
                cases++;
            }
    }
    return fixture_finish(cases, failures, max_error_summary(max_error_seen));
}
