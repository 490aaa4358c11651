// sparseconv_map.cu in the emulator: the coordinate hash (insert, duplicate report), the kernel-map query
// (neighbour table, bitmasks) and the offset-major pair lists, against a reference built with std::map, for
// submanifold, dilated, strided and transposed geometries, volumes 27 and 125, coordinates at the edges of the key
// range (no wrap-around), and several batches. With a fixture directory, also the maps KernelMapBuilder built.
#include "gen/sparseconv_map.cu"
#include "testutil.h"
#include "fixture.h"
#include <map>
#include <set>

static unsigned long long key_of(int b, int x, int y, int z) {
    return ((unsigned long long)b << 48) | ((unsigned long long)(x + 32768) << 32) |
           ((unsigned long long)(y + 32768) << 16) | (unsigned long long)(z + 32768);
}

static unsigned long long capacity_for(long long n) {
    unsigned long long c = 1;
    while (c < 2ull * (unsigned long long)std::max(1LL, n)) c <<= 1;
    return c;
}

struct Built {
    std::vector<int> neighbours;
    std::vector<unsigned long long> masks;
    std::vector<long long> pair_start;
    std::vector<int> pair_inputs, pair_outputs;
    int duplicate = 0;
};

// The device steps exactly as CudaConvolutionOps drives them.
static Built build(const std::vector<unsigned long long>& in_keys, const std::vector<unsigned long long>& out_keys,
                   const std::vector<int>& deltas, int grid) {
    const int volume = deltas.size() / 3, words = (volume + 63) / 64;
    const long long n_in = in_keys.size(), n_out = out_keys.size();
    const unsigned long long capacity = capacity_for(n_in);
    std::vector<unsigned long long> slots(capacity, COORD_EMPTY);
    std::vector<int> rows(capacity, -1);
    Built b;
    emu_launch(grid, 1, BLOCK, 0, [&] {
        coord_hash_insert(in_keys.data(), n_in, slots.data(), rows.data(), capacity, &b.duplicate);
    });
    if (b.duplicate) return b;
    b.neighbours.assign(n_out * volume, 12345);
    b.masks.assign(n_out * words, 0xDEADull);
    emu_launch(grid, 1, BLOCK, 0, [&] {
        coord_map_query(out_keys.data(), n_out, slots.data(), rows.data(), capacity, deltas.data(), volume, words,
                        b.neighbours.data(), b.masks.data());
    });
    const long long chunks = (n_out + BLOCK - 1) / BLOCK;
    std::vector<unsigned> counts(chunks * volume, 0xFFFFFFFFu);
    emu_launch(chunks, volume, BLOCK, 0, [&] { coord_map_chunk_counts(b.neighbours.data(), n_out, volume, counts.data()); });
    std::vector<long long> chunk_start(chunks * volume);
    b.pair_start.assign(volume + 1, 0);
    long long running = 0;
    for (long long i = 0; i < chunks * volume; i++) {
        if (i % chunks == 0) b.pair_start[i / chunks] = running;
        chunk_start[i] = running;
        running += counts[i];
    }
    b.pair_start[volume] = running;
    b.pair_inputs.assign(running, -7);
    b.pair_outputs.assign(running, -7);
    emu_launch(chunks, volume, BLOCK, 0, [&] {
        coord_map_pairs(b.neighbours.data(), n_out, volume, chunk_start.data(), b.pair_inputs.data(),
                        b.pair_outputs.data());
    });
    return b;
}

static void check(const std::string& label, const std::vector<unsigned long long>& in_keys,
                  const std::vector<unsigned long long>& out_keys, const std::vector<int>& deltas, int grid) {
    const int volume = deltas.size() / 3, words = (volume + 63) / 64;
    std::map<unsigned long long, int> index;
    for (size_t i = 0; i < in_keys.size(); i++) index[in_keys[i]] = i;
    Built b = build(in_keys, out_keys, deltas, grid);
    CHECK(b.duplicate == 0, "%s: duplicate reported (%d)", label.c_str(), b.duplicate);
    long long pairs = 0;
    std::vector<std::vector<std::pair<int, int>>> want_pairs(volume);
    for (size_t r = 0; r < out_keys.size(); r++) {
        const unsigned long long key = out_keys[r];
        const int batch = key >> 48, x = (int)((key >> 32) & 0xFFFF) - 32768, y = (int)((key >> 16) & 0xFFFF) - 32768,
                  z = (int)(key & 0xFFFF) - 32768;
        for (int v = 0; v < volume; v++) {
            const long long nx = (long long)x + deltas[3 * v], ny = (long long)y + deltas[3 * v + 1],
                            nz = (long long)z + deltas[3 * v + 2];
            int want = -1;
            if (std::max({nx, ny, nz}) <= 32767 && std::min({nx, ny, nz}) >= -32768) {
                auto it = index.find(key_of(batch, nx, ny, nz));
                if (it != index.end()) want = it->second;
            }
            CHECK(b.neighbours[r * volume + v] == want, "%s: row %zu offset %d got %d want %d", label.c_str(), r, v,
                  b.neighbours[r * volume + v], want);
            const bool bit = (b.masks[r * words + v / 64] >> (v % 64)) & 1;
            CHECK(bit == (want >= 0), "%s: mask row %zu offset %d", label.c_str(), r, v);
            if (want >= 0) want_pairs[v].push_back({want, (int)r});
        }
    }
    for (int v = 0; v < volume; v++) {
        CHECK(b.pair_start[v + 1] - b.pair_start[v] == (long long)want_pairs[v].size(), "%s: offset %d pair count",
              label.c_str(), v);
        for (size_t p = 0; p < want_pairs[v].size() && b.pair_start[v] + (long long)p < b.pair_start[v + 1]; p++) {
            const long long at = b.pair_start[v] + p;
            CHECK(b.pair_inputs[at] == want_pairs[v][p].first && b.pair_outputs[at] == want_pairs[v][p].second,
                  "%s: offset %d pair %zu got (%d,%d) want (%d,%d)", label.c_str(), v, p, b.pair_inputs[at],
                  b.pair_outputs[at], want_pairs[v][p].first, want_pairs[v][p].second);
        }
        pairs += want_pairs[v].size();
    }
    printf("  %-44s in=%zu out=%zu volume=%d pairs=%lld\n", label.c_str(), in_keys.size(), out_keys.size(), volume, pairs);
}

static std::vector<int> cube(int size, int step, int origin) {
    std::vector<int> d;
    for (int i = 0; i < size; i++)
        for (int j = 0; j < size; j++)
            for (int k = 0; k < size; k++) {
                d.push_back((i + origin) * step);
                d.push_back((j + origin) * step);
                d.push_back((k + origin) * step);
            }
    return d;
}

// Random distinct coordinates in a small box (dense enough that most offsets find a neighbour), two batches.
static std::vector<unsigned long long> cloud(int n, int box, int stride) {
    std::set<unsigned long long> seen;
    std::vector<unsigned long long> keys;
    while ((int)keys.size() < n) {
        const unsigned long long k = key_of(uniform_int(0, 1), uniform_int(0, box) * stride, uniform_int(0, box) * stride,
                                            uniform_int(-box, 0) * stride);
        if (seen.insert(k).second) keys.push_back(k);
    }
    return keys;
}

static void duplicates() {
    // Grid-stride order in the emulator: CTA 0's thread 0 inserts row 0, then row 2 * BLOCK, before thread 1
    // inserts row 1: so row 2 * BLOCK claims the slot first and the smaller row finds the key taken.
    const int n = 2 * BLOCK + 40;
    std::vector<unsigned long long> keys = cloud(n, 20, 1);
    keys[2 * BLOCK] = keys[1];            // rows 1 and 2*BLOCK
    keys[2 * BLOCK + 9] = keys[BLOCK + 3];  // rows BLOCK+3 and 2*BLOCK+9: the largest repeated row
    std::vector<int> deltas = cube(3, 1, -1);
    for (int grid : {1, 2, 3}) {
        Built b = build(keys, keys, deltas, grid);
        CHECK(b.duplicate == 2 * BLOCK + 9 + 1, "duplicates (grid %d): reported row %d, want the largest repeated row %d",
              grid, b.duplicate - 1, 2 * BLOCK + 9);
    }
    printf("  duplicates: the largest repeated row is reported for grids 1, 2, 3\n");
}

static void fixture_case(const std::string& dir, const std::string& name) {
    Fixture f(dir + "/" + name);
    std::vector<unsigned long long> in_keys = f.u64("in_keys"), out_keys = f.u64("out_keys");
    std::vector<int> deltas = f.i32("deltas");
    const int volume = deltas.size() / 3;
    Built b = build(in_keys, out_keys, deltas, 2);
    std::vector<int> want = f.i32("neighbours");
    CHECK(b.neighbours == want, "java:%s: the device neighbour table differs from KernelMapBuilder's", name.c_str());
    std::vector<long long> start = f.i64("pair_start");
    CHECK(b.pair_start == start, "java:%s: pair offsets differ", name.c_str());
    CHECK(b.pair_inputs == f.i32("pair_inputs") && b.pair_outputs == f.i32("pair_outputs"), "java:%s: pair lists differ",
          name.c_str());
    printf("  java:%-39s in=%zu out=%zu volume=%d\n", name.c_str(), in_keys.size(), out_keys.size(), volume);
}

int main(int argc, char** argv) {
    rng.seed(argc > 1 ? atoll(argv[1]) : 1);
    std::vector<unsigned long long> in = cloud(300, 7, 1);
    check("submanifold 3^3", in, in, cube(3, 1, -1), 2);
    check("submanifold 5^3", in, in, cube(5, 1, -2), 1);
    check("dilated 3^3 (dilation 2)", in, in, cube(3, 2, -1), 2);
    // Strided (stride 2): outputs on the even grid, offsets 0..1 at input spacing.
    std::set<unsigned long long> coarse;
    for (unsigned long long k : in) {
        const int b = k >> 48, x = (int)((k >> 32) & 0xFFFF) - 32768, y = (int)((k >> 16) & 0xFFFF) - 32768,
                  z = (int)(k & 0xFFFF) - 32768;
        auto down = [](int c) { return c >= 0 ? c / 2 * 2 : -((-c + 1) / 2 * 2); };
        coarse.insert(key_of(b, down(x), down(y), down(z)));
    }
    std::vector<unsigned long long> out(coarse.begin(), coarse.end());
    check("strided 2^3 (stride 2)", in, out, cube(2, 1, 0), 2);
    // Transposed: from the coarse set back to the fine one, offsets 0..-1.
    check("transposed 2^3", out, in, cube(2, 1, -1), 2);
    // Edges of the key range: large deltas must not wrap back into range.
    std::vector<unsigned long long> edge = {key_of(0, 32767, 0, 0), key_of(0, -32768, 0, 0), key_of(0, 32765, 0, 0),
                                            key_of(1, 0, 32767, -32768)};
    std::vector<int> far = {65535, 0, 0, -65535, 0, 0, 2, 0, 0, -2, 0, 0, 0, 0, 0, 0, -65535, 65535};
    check("key-range edges", edge, edge, far, 1);
    duplicates();
    int cases = 0;
    if (argc > 2)
        for (const std::string& name : fixture_list(argv[2], "map")) {
            fixture_case(argv[2], name);
            cases++;
        }
    return fixture_finish(cases, failures, "exact");
}
