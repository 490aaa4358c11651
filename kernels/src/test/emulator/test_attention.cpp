// Runs flash_attention.cu and key_attention.cu (MODE given) in the emulator on the Java side's cases (runtime's
// AttentionFixtures, the attn_* fixture directories): inputs, launch geometry (AttentionTiling) and results of the
// cpu-reference backend, for the full ragged batch and for the kept batch of the token-dropping path (Q, K and V
// gathered through the reference's TokenSelection, attention over the selection's capacity rows, padding included).
// Both kernels run as the Java side recorded their launches (AttentionLaunches, what CudaAttentionOps runs), with
// launch.h's checks against their parameter lists.
#include "gen/flash_attention.cu"
constexpr size_t FLASH_SHARED = Q_TILE_BYTES + 2 * STAGE_BYTES;
constexpr unsigned FLASH_BLOCK = THREADS;
#undef BK
#undef WARPS
#undef THREADS
#undef S_TILES
#undef STAGE_BYTES
#include "testutil.h"

// key_attention lives in its own namespace: its helpers share names with flash_attention's. What both take from
// lacuna_attention_tile.cuh (included once, by flash_attention.cu) stays at file scope, its macros defined.
namespace keys {
#undef BM
#undef BN
#undef Q_TILE_BYTES
#undef KV_TILE_BYTES
#undef O_TILES
#undef P_STEPS
#undef MIN_BLOCKS
#undef STEP
#include "gen/key_attention.cu"
constexpr unsigned KEY_BLOCK = THREADS;
}
#include "launch.h"

constexpr int D = HEAD_DIM;
constexpr int ID = LACUNA_DTYPE_ID(T_IN);

static double max_error_seen = 0;

// One attention pass and its key scores over the arrays written under `prefix`, against the reference's.
static void run_stage(const Fixture& f, const std::string& name, const std::string& prefix) {
    const int H = f.integer("heads");
    const int HD = H * D;
    const bool packed = f.integer("packed");
    const long long rows = f.integer(prefix + "rows");
    const int B = f.integer(prefix + "batch");
    const std::vector<unsigned short> want_out = f.u16(prefix + "out");
    const std::vector<float> want_lse = f.f32(prefix + "lse"), want_scores = f.f32(prefix + "scores");
    CHECK(f.u16(packed ? prefix + "qkv" : prefix + "q").size() == (size_t)rows * (packed ? 3 : 1) * HD,
          "%s: q size", name.c_str());
    // The flash pass, then the key scores from the lse it wrote, as the Java side chains them.
    const std::vector<RecordedLaunch> launches = recorded_launches(f, prefix + "rec.");
    CHECK(launches.size() == 2, "%s %s: %zu launches recorded, want flash and key attention", name.c_str(),
          prefix.c_str(), launches.size());
    if (launches.size() != 2) return;
    const std::string defines = std::string("HEAD_DIM=") + LACUNA_STR(HEAD_DIM) + " T_IN=" + LACUNA_STR(T_IN);
    CHECK(launches[0].entry == "flash_attention" && launches[0].defines == sorted_words(defines + " CAUSAL=" +
              std::to_string(CAUSAL)), "%s %s: first launch %s %s", name.c_str(), prefix.c_str(),
          launches[0].entry.c_str(), launches[0].defines.c_str());
    CHECK(launches[1].entry == "key_attention" && launches[1].defines == sorted_words(defines + " MODE=" +
              (KEY_MODE == LACUNA_KEYS_cls ? "cls" : "mean")), "%s %s: second launch %s %s", name.c_str(),
          prefix.c_str(), launches[1].entry.c_str(), launches[1].defines.c_str());
    CHECK(launches[0].shared == FLASH_SHARED && launches[1].shared == (size_t)f.integer("key_shared"),
          "%s %s: shared bytes", name.c_str(), prefix.c_str());
    CHECK(launches[0].grid_x == (unsigned)(f.integer(prefix + "flash_tiles") * H) && launches[0].grid_y == (unsigned)B + 1
              && launches[1].grid_x == (unsigned)f.integer(prefix + "key_tiles") && launches[1].grid_y == (unsigned)B + 1,
          "%s %s: grids %ux%u and %ux%u", name.c_str(), prefix.c_str(), launches[0].grid_x, launches[0].grid_y,
          launches[1].grid_x, launches[1].grid_y);
    RecordedBuffers buffers(f, launches);
    if (!launch_recorded(flash_attention, launches[0], buffers, FLASH_BLOCK, name + " " + prefix + "flash")) return;
    if (!launch_recorded(keys::key_attention, launches[1], buffers, keys::KEY_BLOCK, name + " " + prefix + "keys")) return;
    const auto& out_bytes = buffers.bytes[prefix + "rec.out"];
    const auto& lse_bytes = buffers.bytes[prefix + "rec.lse"];
    const auto& score_bytes = buffers.bytes[prefix + "rec.scores"];
    CHECK(out_bytes.size() == (size_t)rows * HD * 2 && lse_bytes.size() == (size_t)H * rows * 4
              && score_bytes.size() == (size_t)rows * 4, "%s %s: output sizes", name.c_str(), prefix.c_str());
    if (out_bytes.size() != (size_t)rows * HD * 2 || lse_bytes.size() != (size_t)H * rows * 4
        || score_bytes.size() != (size_t)rows * 4) return;
    std::vector<unsigned short> out((size_t)rows * HD);
    std::vector<float> lse((size_t)H * rows), scores(rows);
    memcpy(out.data(), out_bytes.data(), out_bytes.size());
    memcpy(lse.data(), lse_bytes.data(), lse_bytes.size());
    memcpy(scores.data(), score_bytes.data(), score_bytes.size());
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
