// Runs flash_attention.cu and key_attention.cu (MODE given) in the emulator on the Java side's cases (runtime's
// AttentionFixtures, the attn_* fixture directories): inputs, launch geometry (AttentionTiling) and results of the
// cpu-reference backend, for the full ragged batch and for the kept batch of the token-dropping path (Q, K and V
// gathered through the reference's TokenSelection, attention over the selection's capacity rows, padding included).
#include "gen/flash_attention.cu"
constexpr size_t FLASH_SHARED = Q_TILE_BYTES + 2 * STAGE_BYTES;
#undef BK
#undef WARPS
#undef THREADS
#undef CHUNKS
#undef ROW_BYTES
#undef K_STEPS
#undef S_TILES
#undef STAGE_BYTES
#include "testutil.h"

// key_attention lives in its own namespace: its helpers share names with flash_attention's.
namespace keys {
#undef BM
#undef BN
#undef Q_TILE_BYTES
#undef KV_TILE_BYTES
#undef O_TILES
#undef P_STEPS
#undef MIN_BLOCKS
#undef STEP
#undef DTYPE
#include "gen/key_attention.cu"
}

constexpr int D = HEAD_DIM;
constexpr int ID = LACUNA_DTYPE_ID(T_IN);

static double max_error_seen = 0;

// One attention pass and its key scores over the arrays written under `prefix`, against the reference's.
static void run_stage(const Fixture& f, const std::string& name, const std::string& prefix) {
    const int H = f.integer("heads");
    const int HD = H * D;
    const bool packed = f.integer("packed");
    const int stride = packed ? 3 * HD : HD;
    const long long rows = f.integer(prefix + "rows");
    const int B = f.integer(prefix + "batch");
    const std::vector<int> cu = f.i32(prefix + "cu");
    std::vector<unsigned short> qkv, q_own, k_own, v_own;
    const unsigned short *q, *k, *v;
    if (packed) {
        qkv = f.u16(prefix + "qkv");
        CHECK(qkv.size() == (size_t)rows * 3 * HD, "%s: qkv size", name.c_str());
        q = qkv.data(); k = qkv.data() + HD; v = qkv.data() + 2 * HD;
    } else {
        q_own = f.u16(prefix + "q"); k_own = f.u16(prefix + "k"); v_own = f.u16(prefix + "v");
        CHECK(q_own.size() == (size_t)rows * HD && k_own.size() == q_own.size() && v_own.size() == q_own.size(),
              "%s: q/k/v sizes", name.c_str());
        q = q_own.data(); k = k_own.data(); v = v_own.data();
    }
    const std::vector<unsigned short> want_out = f.u16(prefix + "out");
    const std::vector<float> want_lse = f.f32(prefix + "lse"), want_scores = f.f32(prefix + "scores");
    const float scale_log2 = (float)f.real("scale_log2");
    const int q_tiles = f.integer(prefix + "flash_tiles");
    std::vector<unsigned short> out((size_t)rows * HD, 0xffff);
    std::vector<float> lse((size_t)H * rows, NAN);
    emu_launch(q_tiles * H, B + 1, f.integer("flash_threads"), f.integer("flash_shared"), [&] {
        flash_attention(q, k, v, stride, stride, stride, out.data(), HD, lse.data(), cu.data(), B, rows, H, q_tiles,
                        scale_log2);
    });
    const double tol = ID == LACUNA_DTYPE_bf16 ? 2.5e-2 : 4e-3;
    double max_err = 0;
    for (size_t i = 0; i < out.size(); i++) {
        const double got = decode<ID>(out[i]), want = decode<ID>(want_out[i]);
        max_err = std::max(max_err, std::fabs(got - want));
        CHECK(std::fabs(got - want) <= tol, "%s %sout row %zu col %zu: got %f want %f", name.c_str(), prefix.c_str(),
              i / HD, i % HD, got, want);
    }
    for (size_t i = 0; i < lse.size(); i++) {
        const double want = want_lse[i];
        CHECK(want == -INFINITY ? lse[i] == -INFINITY : std::fabs(lse[i] - want) <= 1e-4 * std::max(1.0, std::fabs(want)),
              "%s %slse head %zu row %zu: got %f want %f", name.c_str(), prefix.c_str(), i / rows, i % rows, lse[i], want);
    }
    // Key scores from the lse just computed, as the Java side chains them.
    std::vector<float> scores(rows, NAN);
    emu_launch(f.integer(prefix + "key_tiles"), B + 1, f.integer("key_threads"), f.integer("key_shared"), [&] {
        keys::key_attention(q, k, stride, stride, lse.data(), cu.data(), B, rows, H, scale_log2, CAUSAL, scores.data());
    });
    for (long long r = 0; r < rows; r++)
        CHECK(std::fabs(scores[r] - want_scores[r]) <= 2e-4 * std::fabs(want_scores[r]) + 1e-6,
              "%s %sscore row %lld: got %g want %g", name.c_str(), prefix.c_str(), r, scores[r], want_scores[r]);
    max_error_seen = std::max(max_error_seen, max_err);
    printf("  %s %-5s rows=%lld batch=%d H=%d packed=%d: max |err| %.2e\n", name.c_str(),
           prefix.empty() ? "full" : "kept", rows, B, H, packed, max_err);
}

int main(int argc, char** argv) {
    printf("T_IN=%s HEAD_DIM=%d CAUSAL=%d MODE=%s\n", ID == LACUNA_DTYPE_bf16 ? "bf16" : "f16", D, CAUSAL,
           KEY_MODE == LACUNA_KEYS_cls ? "cls" : "mean");
    int cases = 0;
    if (argc > 2)
        for (const std::string& name : fixture_list(argv[2], "attn_")) {
            const std::string dir = std::string(argv[2]) + "/" + name;
            if (!fixture_matches(dir, {{"t_in", LACUNA_STR(T_IN)}, {"head_dim", LACUNA_STR(HEAD_DIM)},
                                       {"causal", LACUNA_STR(CAUSAL)}, {"mode", KEY_MODE == LACUNA_KEYS_cls ? "cls" : "mean"}}))
                continue;
            const Fixture f(dir);
            run_stage(f, name, "");
            run_stage(f, name, "kept_");
            cases++;
        }
    return fixture_finish(cases, failures, max_error_summary(max_error_seen));
}
