// Runs flash_attention.cu and key_attention.cu (MODE given) in the emulator against a double-precision reference.
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

struct Case {
    std::vector<int> lengths;
    int heads;
    bool packed;
    int tail;  // rows after the last sequence
};

static void run_case(const Case& c) {
    const int B = c.lengths.size();
    std::vector<int> cu(B + 1, 0);
    for (int b = 0; b < B; b++) cu[b + 1] = cu[b] + c.lengths[b];
    const long long rows = cu[B] + c.tail;
    const int H = c.heads;
    const int HD = H * D;
    const int stride = c.packed ? 3 * HD : HD;
    std::vector<unsigned short> qkv((size_t)rows * 3 * HD);
    for (auto& x : qkv) x = encode<ID>((float)uniform(-1.5, 1.5));
    const unsigned short* q = qkv.data();
    const unsigned short* k = c.packed ? qkv.data() + HD : qkv.data() + rows * HD;
    const unsigned short* v = c.packed ? qkv.data() + 2 * HD : qkv.data() + 2 * rows * HD;
    std::vector<unsigned short> out((size_t)rows * HD, 0xffff);
    std::vector<float> lse((size_t)H * rows, NAN);
    int max_len = 0;
    for (int L : c.lengths) max_len = std::max(max_len, L);
    const int q_tiles = std::max(1, (max_len + 127) / 128);
    const double scale = 1.0 / std::sqrt((double)D) * (uniform(0, 1) < 0.5 ? 1.0 : 1.7);
    const float scale_log2 = (float)(scale * 1.4426950408889634);
    const size_t shared = FLASH_SHARED;
    emu_launch(q_tiles * H, B + 1, 256, shared, [&] {
        flash_attention(q, k, v, stride, stride, stride, out.data(), HD, lse.data(), cu.data(), B, rows, H, q_tiles,
                        scale_log2);
    });

    double max_err = 0;
    for (int b = 0; b < B; b++) {
        const int L = c.lengths[b];
        for (int h = 0; h < H; h++) {
            for (int i = 0; i < L; i++) {
                const long long qi = cu[b] + i;
                std::vector<double> s(L);
                double m = -INFINITY;
                for (int j = 0; j < L; j++) {
                    if (CAUSAL && j > i) { s[j] = -INFINITY; continue; }
                    double dot = 0;
                    for (int d = 0; d < D; d++)
                        dot += (double)decode<ID>(q[qi * stride + h * D + d]) * decode<ID>(k[(cu[b] + j) * stride + h * D + d]);
                    s[j] = dot * scale;
                    m = std::max(m, s[j]);
                }
                double l = 0;
                for (int j = 0; j < L; j++) l += s[j] == -INFINITY ? 0 : std::exp(s[j] - m);
                for (int d = 0; d < D; d++) {
                    double o = 0;
                    for (int j = 0; j < L; j++)
                        if (s[j] != -INFINITY) o += std::exp(s[j] - m) / l * decode<ID>(v[(cu[b] + j) * stride + h * D + d]);
                    const float got = decode<ID>(out[qi * HD + h * D + d]);
                    const double tol = ID == LACUNA_DTYPE_bf16 ? 2.5e-2 : 4e-3;
                    max_err = std::max(max_err, std::fabs(got - o));
                    CHECK(std::fabs(got - o) <= tol, "b=%d h=%d i=%d d=%d L=%d got %f want %f", b, h, i, d, L, got, o);
                }
                const double want_lse = m + std::log(l);
                CHECK(std::fabs(lse[h * rows + qi] - want_lse) <= 1e-4 * std::max(1.0, std::fabs(want_lse)),
                      "lse b=%d h=%d i=%d got %f want %f", b, h, i, lse[h * rows + qi], want_lse);
            }
        }
    }
    for (long long r = cu[B]; r < rows; r++) {
        for (int x = 0; x < HD; x++) CHECK(out[r * HD + x] == 0, "tail row %lld not zeroed", r);
        for (int h = 0; h < H; h++) CHECK(lse[h * rows + r] == -INFINITY, "tail lse row %lld", r);
    }

    // Token scores from the lse just computed.
    for (int mode_causal = 0; mode_causal < 2; mode_causal++) {
        if (mode_causal != CAUSAL) continue;
        std::vector<float> scores(rows, NAN);
        const int key_tiles = std::max(1, (max_len + 63) / 64);
        const size_t key_shared = 2 * STAGE_BYTES;
        emu_launch(key_tiles, B + 1, 128, key_shared, [&] {
            keys::key_attention(q, k, stride, stride, lse.data(), cu.data(), B, rows, H, scale_log2, CAUSAL,
                                scores.data());
        });
        const bool cls = KEY_MODE == LACUNA_KEYS_cls;
        for (int b = 0; b < B; b++) {
            const int L = c.lengths[b];
            std::vector<double> want(L, 0.0);
            for (int h = 0; h < H; h++) {
                for (int i = 0; i < (cls ? std::min(L, 1) : L); i++) {
                    std::vector<double> s(L);
                    double m = -INFINITY;
                    for (int j = 0; j < L; j++) {
                        if (CAUSAL && j > i) { s[j] = -INFINITY; continue; }
                        double dot = 0;
                        for (int d = 0; d < D; d++)
                            dot += (double)decode<ID>(q[(cu[b] + i) * stride + h * D + d]) *
                                   decode<ID>(k[(cu[b] + j) * stride + h * D + d]);
                        s[j] = dot * scale;
                        m = std::max(m, s[j]);
                    }
                    double l = 0;
                    for (int j = 0; j < L; j++) l += s[j] == -INFINITY ? 0 : std::exp(s[j] - m);
                    for (int j = 0; j < L; j++)
                        if (s[j] != -INFINITY) want[j] += std::exp(s[j] - m) / l / (H * (cls ? 1.0 : L));
                }
            }
            for (int j = 0; j < L; j++) {
                CHECK(std::fabs(scores[cu[b] + j] - want[j]) <= 2e-4 * want[j] + 1e-6, "%s score b=%d j=%d L=%d got %g want %g",
                      cls ? "cls" : "mean", b, j, L, scores[cu[b] + j], want[j]);
            }
        }
        for (long long r = cu[B]; r < rows; r++) CHECK(scores[r] == 0.0f, "tail score %lld", r);
    }
    printf("  lengths=[");
    for (int L : c.lengths) printf("%d ", L);
    printf("] H=%d packed=%d: max |err| %.2e\n", H, c.packed, max_err);
}

int main(int argc, char** argv) {
    rng.seed(argc > 1 ? atoll(argv[1]) : 1);
    printf("T_IN=%s HEAD_DIM=%d CAUSAL=%d MODE=%s\n", ID == LACUNA_DTYPE_bf16 ? "bf16" : "f16", D, CAUSAL,
           KEY_MODE == LACUNA_KEYS_cls ? "cls" : "mean");
    std::vector<Case> cases = {
        {{1}, 1, false, 0},
        {{5, 0, 130}, 2, true, 3},
        {{64, 129, 1, 200}, 1, false, 7},
        {{257}, 2, true, 0},
        {{0, 0}, 1, false, 2},
    };
    for (const Case& c : cases) run_case(c);
    printf(failures ? "FAILED (%d)\n" : "ok\n", failures);
    return failures ? 1 : 0;
}
