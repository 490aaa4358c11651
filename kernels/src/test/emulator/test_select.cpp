// token_select.cu and gather_scatter.cu (UNIT given) in the emulator, driven by the Java side's cases (runtime's
// AttentionFixtures, the select_* fixture directories, those whose rows take this copy unit): scores, rule and the
// cpu-reference backend's TokenSelection (kept rows, slots, counts, cu_seqlens), rows gathered through it and scattered
// back with and without pass-through, all compared exactly. The launch geometry (threads, unit, lanes) is the one
// CudaAttentionOps computes.
// Stays in C++: NaN scores. The Java reference rejects a NaN score (it throws) where the kernel ranks it lowest and
// reports its row in the status word, so there is no Java result to compare with; a sort-based C++ reference of the
// selection rule checks those cases (and in-place scatter).
#include "gen/token_select.cu"
#undef THREADS
namespace rows_ns {
#include "gen/gather_scatter.cu"
}
#include "testutil.h"

static unsigned ref_key(float s) {
    if (s != s) return 0u;
    unsigned b = __float_as_uint(s);
    return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

struct Rule {
    int mode;
    double ratio;
    float threshold;
    int prefix;
    int gw, wh, ww;
};

// The reference: per sequence, items sorted by (key desc, position asc).
static void reference(const std::vector<float>& scores, const std::vector<int>& cu, const std::vector<int>* mask,
                      const Rule& r, std::vector<int>& kept_rows) {
    const int B = cu.size() - 1;
    for (int b = 0; b < B; b++) {
        const int start = cu[b], len = cu[b + 1] - cu[b];
        const int prefix = std::min(r.prefix, len);
        std::vector<unsigned> keys;
        std::vector<int> pinned;
        std::vector<std::vector<int>> members;
        if (r.gw == 0) {
            for (int p = 0; p < len; p++) {
                keys.push_back(ref_key(scores[start + p]));
                pinned.push_back(p < prefix || (mask && (*mask)[start + p]));
                members.push_back({p});
            }
        } else {
            const int grid_len = len - prefix;
            const int grid_rows = (grid_len + r.gw - 1) / r.gw;
            const int wcols = (r.gw + r.ww - 1) / r.ww;
            const int wrows = (grid_rows + r.wh - 1) / r.wh;
            for (int w = 0; w < wrows * wcols; w++) {
                int wr = w / wcols, wc = w % wcols;
                float sum = 0;
                int count = 0;
                bool pin = false;
                std::vector<int> m;
                for (int rr = wr * r.wh; rr < std::min(grid_rows, (wr + 1) * r.wh); rr++)
                    for (int c = wc * r.ww; c < std::min(r.gw, (wc + 1) * r.ww); c++) {
                        int gp = rr * r.gw + c;
                        if (gp >= grid_len) break;
                        sum += scores[start + prefix + gp];
                        count++;
                        pin = pin || (mask && (*mask)[start + prefix + gp]);
                        m.push_back(prefix + gp);
                    }
                if (count == 0) continue;
                keys.push_back(ref_key(sum / (float)count));
                pinned.push_back(pin);
                members.push_back(m);
            }
        }
        const int n = keys.size();
        int n_pinned = 0;
        for (int x : pinned) n_pinned += x;
        std::vector<bool> keep(n, false);
        for (int i = 0; i < n; i++) keep[i] = pinned[i];
        if (r.mode == 1) {
            for (int i = 0; i < n; i++) {
                unsigned k = keys[i];
                float v = __uint_as_float((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k);
                if (!pinned[i] && v >= r.threshold) keep[i] = true;
            }
        } else {
            double exact = r.ratio * (double)n * (1.0 - 1e-12);
            long long wanted = (long long)std::ceil(exact);
            long long m = std::max(0LL, std::min((long long)(n - n_pinned), wanted - n_pinned));
            std::vector<int> order;
            for (int i = 0; i < n; i++) if (!pinned[i]) order.push_back(i);
            std::stable_sort(order.begin(), order.end(), [&](int a, int b2) { return keys[a] > keys[b2]; });
            for (long long i = 0; i < m; i++) keep[order[i]] = true;
        }
        std::vector<int> kept_positions;
        for (int p = 0; p < prefix && r.gw > 0; p++) kept_positions.push_back(p);
        for (int i = 0; i < n; i++) if (keep[i]) for (int p : members[i]) kept_positions.push_back(p);
        std::sort(kept_positions.begin(), kept_positions.end());
        for (int p : kept_positions) kept_rows.push_back(start + p);
    }
}

// The launch shape CudaAttentionOps picks: threads per row a power of two covering the row, a capped grid.
static void row_launch(long long rows, int units, int& lanes_log2, unsigned& grid) {
    lanes_log2 = 0;
    while ((1 << lanes_log2) < units && lanes_log2 < 8) lanes_log2++;
    grid = std::max(1LL, std::min(64LL, (rows * (1 << lanes_log2) + 255) / 256));
}

static void run_case(const std::vector<int>& lengths, const Rule& r, bool with_mask, int tail, bool inject_nan) {
    const int B = lengths.size();
    std::vector<int> cu(B + 1, 0);
    for (int b = 0; b < B; b++) cu[b + 1] = cu[b] + lengths[b];
    const long long rows = cu[B] + tail;
    std::vector<float> scores(rows);
    for (auto& s : scores) s = (float)uniform(-3, 3);
    // Plenty of ties.
    for (auto& s : scores) if (uniform(0, 1) < 0.3) s = (float)uniform_int(-2, 2);
    int nan_row = -1;
    if (inject_nan && cu[B] > 0) {
        nan_row = uniform_int(0, cu[B] - 1);
        scores[nan_row] = NAN;
    }
    std::vector<int> mask(rows, 0);
    for (auto& m : mask) m = uniform(0, 1) < 0.05;
    const int capacity = rows;  // the selection sizes exactly; capacity bounds are tested from Java
    std::vector<unsigned> keys(rows, 0xdeadbeef);
    std::vector<int> flags(rows, 77), staged(rows, -77), slot_of(rows, -99), kept_counts(B, -5), seq_nan(B, -5),
        kept_cu(B + 1, -5), counter(1, 0), status(2, -5), kept_index(capacity, -55);
    if (B > 0) emu_launch(B, 1, BLOCK, 0, [&] {
        select_tokens(scores.data(), cu.data(), with_mask ? mask.data() : nullptr, rows, r.mode, r.ratio, r.threshold,
                      r.prefix, r.gw, r.wh, r.ww, keys.data(), flags.data(), staged.data(), slot_of.data(),
                      kept_counts.data(), seq_nan.data(), kept_cu.data(), counter.data(), status.data(), capacity);
    });
    CHECK(counter[0] == 0, "counter not reset");
    emu_launch(std::max(B, 1), 1, 256, 0, [&] {
        compact_selection(cu.data(), rows, staged.data(), kept_counts.data(), kept_cu.data(), B, capacity,
                          kept_index.data(), slot_of.data(), status.data());
    });
    std::vector<int> want;
    reference(scores, cu, with_mask ? &mask : nullptr, r, want);
    CHECK(kept_cu[B] == (int)want.size(), "total kept %d want %zu", kept_cu[B], want.size());
    for (size_t j = 0; j < want.size() && j < (size_t)capacity; j++)
        CHECK(kept_index[j] == want[j], "kept_index[%zu] = %d want %d", j, kept_index[j], want[j]);
    for (int j = want.size(); j < capacity; j++) CHECK(kept_index[j] == -1, "padding %d = %d", j, kept_index[j]);
    std::vector<int> want_slot(rows, -1);
    for (size_t j = 0; j < want.size(); j++) want_slot[want[j]] = j;
    for (long long t = 0; t < rows; t++) CHECK(slot_of[t] == want_slot[t], "slot_of[%lld] = %d want %d", t, slot_of[t], want_slot[t]);
    int offset = 0;
    for (int b = 0; b < B; b++) {
        int count = 0;
        for (int x : want) count += x >= cu[b] && x < cu[b + 1];
        CHECK(kept_counts[b] == count, "count[%d] = %d want %d", b, kept_counts[b], count);
        CHECK(kept_cu[b] == offset, "kept_cu[%d] = %d want %d", b, kept_cu[b], offset);
        offset += count;
    }
    CHECK(status[0] == nan_row, "nan status %d want %d", status[0], nan_row);
    CHECK(status[1] == 0, "overflow status");

    // Gather then scatter rows of `units` UNIT-byte words through the selection.
    const int units = uniform_int(1, 40);
    std::vector<unsigned short> x((size_t)rows * units * UNIT / 2), gathered((size_t)capacity * units * UNIT / 2, 0xAAAA),
        out((size_t)rows * units * UNIT / 2, 0xBBBB);
    for (auto& e : x) e = (unsigned short)uniform_int(0, 65535);
    int lanes_log2;
    unsigned grid;
    row_launch(capacity, units, lanes_log2, grid);
    typedef rows_ns::Unit U;
    emu_launch(grid, 1, 256, 0, [&] {
        rows_ns::gather_rows((const U*)x.data(), rows, kept_index.data(), (U*)gathered.data(), capacity, units, lanes_log2);
    });
    const size_t row_halves = units * UNIT / 2;
    for (int j = 0; j < capacity; j++)
        for (size_t e = 0; e < row_halves; e++) {
            unsigned short w = j < (int)want.size() ? x[want[j] * row_halves + e] : 0;
            CHECK(gathered[j * row_halves + e] == w, "gather row %d", j);
        }
    // Transform the kept rows so a pass-through mistake shows.
    for (auto& e : gathered) e ^= 0x5555;
    const bool in_place = uniform(0, 1) < 0.5;
    const bool no_pass = !in_place && uniform(0, 1) < 0.3;
    std::vector<unsigned short>& target = in_place ? x : out;
    std::vector<unsigned short> original = x;
    emu_launch(grid, 1, 256, 0, [&] {
        rows_ns::scatter_rows((const U*)gathered.data(), capacity, slot_of.data(), no_pass ? nullptr : (const U*)x.data(),
                              (U*)target.data(), rows, units, lanes_log2);
    });
    for (long long t = 0; t < rows; t++)
        for (size_t e = 0; e < row_halves; e++) {
            unsigned short w = want_slot[t] >= 0 ? gathered[want_slot[t] * row_halves + e]
                                                 : (no_pass ? 0 : original[t * row_halves + e]);
            CHECK(target[t * row_halves + e] == w, "scatter row %lld (in place %d, no pass %d)", t, in_place, no_pass);
        }
}

static int fixture_case(const std::string& root, const std::string& name) {
    const Fixture f(root + "/" + name);
    const int rows = f.integer("rows"), B = f.integer("batch"), capacity = f.integer("capacity");
    const std::vector<int> cu = f.i32("cu"), mask = f.i32("mask");
    const std::vector<float> scores = f.f32("scores");
    const bool with_mask = f.integer("with_mask");
    std::vector<unsigned> keys(rows, 0xdeadbeef);
    std::vector<int> flags(rows, 77), staged(rows, -77), slot_of(rows, -99), kept_counts(B, -5), seq_nan(B, -5),
        kept_cu(B + 1, -5), counter(1, 0), status(2, -5), kept_index(capacity, -55);
    if (B > 0) emu_launch(B, 1, f.integer("select_threads"), 0, [&] {
        select_tokens(scores.data(), cu.data(), with_mask ? mask.data() : nullptr, rows, f.integer("mode"),
                      f.real("ratio"), (float)f.real("threshold"), f.integer("prefix"), f.integer("grid_width"),
                      f.integer("window_height"), f.integer("window_width"), keys.data(), flags.data(), staged.data(),
                      slot_of.data(), kept_counts.data(), seq_nan.data(), kept_cu.data(), counter.data(), status.data(),
                      capacity);
    });
    emu_launch(std::max(B, 1), 1, f.integer("row_threads"), 0, [&] {
        compact_selection(cu.data(), rows, staged.data(), kept_counts.data(), kept_cu.data(), B, capacity,
                          kept_index.data(), slot_of.data(), status.data());
    });
    const int before = failures;
    CHECK(counter[0] == 0, "%s: counter not reset", name.c_str());
    CHECK(status[0] == -1 && status[1] == 0, "%s: status %d %d", name.c_str(), status[0], status[1]);
    CHECK(kept_index == f.i32("kept_index"), "%s: kept_index differs from the Java selection", name.c_str());
    CHECK(slot_of == f.i32("slot_of"), "%s: slot_of differs from the Java selection", name.c_str());
    CHECK(kept_counts == f.i32("kept_counts"), "%s: kept counts differ from the Java selection", name.c_str());
    CHECK(kept_cu == f.i32("kept_offsets"), "%s: kept offsets differ from the Java selection", name.c_str());

    // Gather and scatter through the Java selection, as CudaAttentionOps launches them.
    CHECK(f.integer("unit") == UNIT, "%s: unit", name.c_str());
    const int units = f.integer("units"), lanes_log2 = f.integer("lanes_log2");
    const std::vector<int> java_index = f.i32("kept_index"), java_slot = f.i32("slot_of");
    const std::vector<unsigned short> x = f.u16("x"), kept_rows = f.u16("kept_rows");
    typedef rows_ns::Unit U;
    const unsigned threads = f.integer("row_threads");
    auto grid = [&](long long n) { return (unsigned)std::max(1LL, std::min(64LL, ((n << lanes_log2) + threads - 1) / threads)); };
    std::vector<unsigned short> gathered(f.u16("gathered").size(), 0xAAAA);
    if (capacity > 0) emu_launch(grid(capacity), 1, threads, 0, [&] {
        rows_ns::gather_rows((const U*)x.data(), rows, java_index.data(), (U*)gathered.data(), capacity, units, lanes_log2);
    });
    CHECK(gathered == f.u16("gathered"), "%s: gathered rows differ", name.c_str());
    for (int pass = 0; pass < 2; pass++) {
        std::vector<unsigned short> out(x.size(), 0xBBBB);
        emu_launch(grid(rows), 1, threads, 0, [&] {
            rows_ns::scatter_rows((const U*)kept_rows.data(), capacity, java_slot.data(), pass == 0 ? (const U*)x.data() : nullptr,
                                  (U*)out.data(), rows, units, lanes_log2);
        });
        CHECK(out == f.u16(pass == 0 ? "scattered_over" : "scattered_alone"), "%s: scattered rows differ (%s)",
              name.c_str(), pass == 0 ? "pass-through" : "none");
    }
    printf("  %s rows=%d batch=%d capacity=%d kept=%d units=%d: %s\n", name.c_str(), rows, B, capacity, kept_cu[B],
           units, failures == before ? "exact" : "FAILED");
    return 1;
}

int main(int argc, char** argv) {
    rng.seed(argc > 1 ? atoll(argv[1]) : 1);
    printf("UNIT=%d\n", UNIT);
    // NaN scores: the C++ reference (see the top of the file).
    std::vector<std::vector<int>> batches = {{1}, {7}, {0, 3, 0}, {300, 1, 2, 129}, {64, 64, 64, 64, 65}};
    for (const auto& lengths : batches) {
        Rule tokens{0, 0.5, 0, uniform_int(0, 2), 0, 0, 0};
        run_case(lengths, tokens, uniform(0, 1) < 0.5, uniform_int(0, 3), true);
        Rule windows{0, 0.7, 0, uniform_int(0, 1), uniform_int(1, 9), uniform_int(1, 3), uniform_int(1, 4)};
        run_case(lengths, windows, uniform(0, 1) < 0.5, uniform_int(0, 3), true);
    }
    int cases = 0;
    if (argc > 2)
        for (const std::string& name : fixture_list(argv[2], "select_"))
            if (fixture_matches(std::string(argv[2]) + "/" + name, {{"unit", LACUNA_STR(UNIT)}}))
                cases += fixture_case(argv[2], name);
    return fixture_finish(cases, failures, "exact");
}
