// sparseconv_map.cu in the emulator: the coordinate hash (insert, duplicate report), the kernel-map query
// (neighbour table, bitmasks) and the offset-major pair lists, against a reference built with std::map, for
// submanifold, dilated, strided and transposed geometries, volumes 27 and 125, coordinates at the edges of the key
// range (no wrap-around), and several batches. With a fixture directory, also the maps KernelMapBuilder built.
// The pair starts come from the device scan (coord_scan_chunks), checked against a host scan on every build; the
// resident-map helpers (coord_map_deltas, the shared radix sort of lacuna_radix_sort.cuh, a downsampling's output keys, the implicit
// GEMM's row orders, the offset order) against std:: references and, from Java, ConvGeometry.deltas,
// KernelMapBuilder's strided output sets and MapStatistics.sortedRows; coord_unpack against CoordinateSet.coordinates.
#include "gen/sparseconv_map.cu"
#include "radix_sort.h"
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
    std::vector<long long> chunk_start(chunks * volume, -9);
    b.pair_start.assign(volume + 1, -9);
    emu_launch(1, 1, BLOCK, 0, [&] {
        coord_scan_chunks(counts.data(), chunks * volume, chunks, chunk_start.data(), b.pair_start.data());
    });
    long long running = 0;
    for (long long i = 0; i < chunks * volume; i++) {
        CHECK(chunk_start[i] == running, "device scan: chunk cell %lld starts at %lld, want %lld", i, chunk_start[i],
              running);
        if (i % chunks == 0) CHECK(b.pair_start[i / chunks] == running, "device scan: offset %lld start", i / chunks);
        running += counts[i];
    }
    CHECK(b.pair_start[volume] == running, "device scan: total %lld want %lld", b.pair_start[volume], running);
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

// A downsampling's output keys on the device: floor, sort, flag run starts, list them, gather.
static std::vector<unsigned long long> downsample(const std::vector<unsigned long long>& keys, int sx, int sy, int sz,
                                                  int grid) {
    const long long n = keys.size();
    std::vector<unsigned long long> floored(n, 7), sorted;
    std::vector<int> rows;
    emu_launch(grid, 1, BLOCK, 0, [&] { coord_downsample_keys(keys.data(), n, sx, sy, sz, floored.data()); });
    device_radix_sort(floored, {}, 8, grid, sorted, rows);
    std::vector<int> flags(n, 12345);
    emu_launch(grid, 1, BLOCK, 0, [&] { coord_unique_flags(sorted.data(), n, flags.data()); });
    const long long chunks = (n + BLOCK - 1) / BLOCK;
    std::vector<unsigned> counts(chunks, 0xFFFFFFFFu);
    emu_launch(chunks, 1, BLOCK, 0, [&] { coord_map_chunk_counts(flags.data(), n, 1, counts.data()); });
    std::vector<long long> chunk_start(chunks), total(2);
    emu_launch(1, 1, BLOCK, 0, [&] { coord_scan_chunks(counts.data(), chunks, chunks, chunk_start.data(), total.data()); });
    std::vector<int> first(total[1], -1), first_too(total[1], -1);
    emu_launch(chunks, 1, BLOCK, 0, [&] {
        coord_map_pairs(flags.data(), n, 1, chunk_start.data(), first.data(), first_too.data());
    });
    std::vector<unsigned long long> out(total[1], 5);
    emu_launch(grid, 1, BLOCK, 0, [&] { coord_gather_keys(sorted.data(), first.data(), total[1], out.data()); });
    return out;
}

// The implicit GEMM's row order for offsets [from, to) on the device (sorted on the bytes that hold the group's
// bits, as CudaConvolutionOps.rowOrder sorts them, or the identity).
static std::vector<int> rows_by_mask(const std::vector<unsigned long long>& masks, long long n, int words, int from,
                                     int to, bool sorted, int grid) {
    std::vector<int> rows(n, -4);
    if (!sorted) {
        emu_launch(grid, 1, BLOCK, 0, [&] { coord_identity(n, rows.data()); });
        return rows;
    }
    std::vector<unsigned long long> keys(n, 9), sorted_keys;
    emu_launch(grid, 1, BLOCK, 0, [&] { coord_rows_by_mask(masks.data(), n, words, from, to, keys.data()); });
    device_radix_sort(keys, {}, (std::min(to - from, 64) + 7) / 8, grid, sorted_keys, rows);
    return rows;
}

// The host's order (MapStatistics.sortedRows): group bits compared from the top, descending, ties by row.
static std::vector<int> rows_by_mask_reference(const std::vector<unsigned long long>& masks, long long n, int words,
                                               int from, int to) {
    std::vector<int> order(n);
    for (long long r = 0; r < n; r++) order[r] = r;
    auto bit = [&](int r, int v) { return (masks[(long long)r * words + v / 64] >> (v % 64)) & 1ull; };
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
        for (int v = to - 1; v >= from; v--)
            if (bit(a, v) != bit(b, v)) return bit(a, v) > bit(b, v);
        return false;
    });
    return order;
}

// The offsets by descending pair count, sorted on the bytes that hold n_out (a count's bound), as
// CudaConvolutionOps.offsetOrder sorts them.
static std::vector<int> offset_order(const std::vector<long long>& pair_start, long long n_out, int grid) {
    const int volume = pair_start.size() - 1;
    std::vector<unsigned long long> keys(volume, 1), sorted_keys;
    std::vector<int> rows;
    emu_launch(grid, 1, BLOCK, 0, [&] { coord_offset_order_keys(pair_start.data(), volume, keys.data()); });
    int bytes = 1;
    while (bytes < 8 && (n_out >> (8 * bytes)) != 0) bytes++;
    device_radix_sort(keys, {}, bytes, grid, sorted_keys, rows);
    return rows;
}

// The resident-map helpers against std:: references: deltas for odd, even and mixed kernels with a sign; the
// downsampled keys of a random cloud (negative cells, two batches) for strides 2 and (3, 2, 4); row orders for
// volumes 27 (whole and split) and 125 (a 62-offset and a 63-offset group) and 343 (groups over 64 offsets: rows
// must at least be grouped by their top 64 bits); the offset order with ties.
static void helpers() {
    for (auto k : std::vector<std::vector<int>>{{3, 3, 3, 1, 1, 1, 1}, {2, 2, 2, 4, 4, 4, -1}, {3, 2, 5, 2, 3, 1, 1}}) {
        std::vector<int> want;
        const int kx = k[0], ky = k[1], kz = k[2];
        for (int i = 0; i < kx; i++)
            for (int j = 0; j < ky; j++)
                for (int l = 0; l < kz; l++) {
                    want.push_back(k[6] * ((kx % 2 ? -(kx - 1) / 2 : 0) + i) * k[3]);
                    want.push_back(k[6] * ((ky % 2 ? -(ky - 1) / 2 : 0) + j) * k[4]);
                    want.push_back(k[6] * ((kz % 2 ? -(kz - 1) / 2 : 0) + l) * k[5]);
                }
        std::vector<int> got(want.size(), 77);
        emu_launch(1, 1, BLOCK, 0, [&] { coord_map_deltas(kx, ky, kz, k[3], k[4], k[5], k[6], got.data()); });
        CHECK(got == want, "deltas %dx%dx%d step (%d,%d,%d) sign %d", kx, ky, kz, k[3], k[4], k[5], k[6]);
    }
    std::vector<unsigned long long> in = cloud(700, 9, 1);
    for (auto s : std::vector<std::vector<int>>{{2, 2, 2}, {3, 2, 4}}) {
        std::set<unsigned long long> want;
        for (unsigned long long k : in) {
            const int b = k >> 48, c[3] = {(int)((k >> 32) & 0xFFFF) - 32768, (int)((k >> 16) & 0xFFFF) - 32768,
                                           (int)(k & 0xFFFF) - 32768};
            int f[3];
            for (int a = 0; a < 3; a++) f[a] = (int)std::floor((double)c[a] / s[a]) * s[a];
            want.insert(key_of(b, f[0], f[1], f[2]));
        }
        for (int grid : {1, 3}) {
            std::vector<unsigned long long> got = downsample(in, s[0], s[1], s[2], grid);
            CHECK(got == std::vector<unsigned long long>(want.begin(), want.end()),
                  "downsampled keys, stride (%d,%d,%d) grid %d: %zu keys, want %zu", s[0], s[1], s[2], grid, got.size(),
                  want.size());
        }
    }
    for (int size : {3, 5, 7}) {
        const std::vector<int> deltas = cube(size, 1, -(size - 1) / 2);
        const int volume = deltas.size() / 3, words = (volume + 63) / 64;
        Built b = build(in, in, deltas, 2);
        const long long n = in.size();
        const int half = volume / 2;
        for (auto g : std::vector<std::pair<int, int>>{{0, volume}, {0, half}, {half, volume}}) {
            std::vector<int> got = rows_by_mask(b.masks, n, words, g.first, g.second, true, 2);
            std::vector<int> want = rows_by_mask_reference(b.masks, n, words, g.first, g.second);
            if (g.second - g.first <= 64) {
                CHECK(got == want, "rows by mask, volume %d offsets [%d, %d)", volume, g.first, g.second);
            } else {
                // Over 64 offsets: the device orders by the top 64 bits, then by row; a permutation whose top-64
                // keys are non-increasing.
                std::vector<int> seen(n, 0);
                for (int r : got) seen[r]++;
                CHECK(std::count(seen.begin(), seen.end(), 1) == n, "rows by mask, volume %d: not a permutation", volume);
                const int low = std::max(g.first, g.second - 64);
                auto top = [&](int r) {
                    unsigned long long bits = 0;
                    for (int v = low; v < g.second; v++)
                        bits |= ((b.masks[(long long)r * words + v / 64] >> (v % 64)) & 1ull) << (v - low);
                    return bits;
                };
                for (long long i = 1; i < n; i++)
                    CHECK(top(got[i - 1]) >= top(got[i]), "rows by mask, volume %d: row order at %lld", volume, i);
            }
        }
        std::vector<int> identity = rows_by_mask(b.masks, n, words, 0, volume, false, 2);
        for (long long r = 0; r < n; r++) CHECK(identity[r] == r, "unsorted rows: %lld", r);
        std::vector<int> order = offset_order(b.pair_start, n, 2), want(volume);
        for (int v = 0; v < volume; v++) want[v] = v;
        std::stable_sort(want.begin(), want.end(), [&](int x, int y) {
            return b.pair_start[x + 1] - b.pair_start[x] > b.pair_start[y + 1] - b.pair_start[y];
        });
        CHECK(order == want, "offset order, volume %d", volume);
    }
    printf("  resident helpers: deltas, downsampled keys (strides 2 and 3x2x4), row orders (27, 125, 343), offset order\n");
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
    // The coordinates a layer's output gets from its set's keys (CoordinateSet.coordinates).
    std::vector<int> coordinates(4 * in_keys.size(), 31);
    emu_launch(2, 1, BLOCK, 0, [&] { coord_unpack(in_keys.data(), in_keys.size(), coordinates.data()); });
    CHECK(coordinates == f.i32("in_coordinates"), "java:%s: coord_unpack differs from CoordinateSet.coordinates",
          name.c_str());
    // The deltas as the resident build makes them, from the kernel and the step (dilation x tensor stride).
    std::vector<int> kernel = f.i32("kernel");
    std::vector<int> made(deltas.size(), 77);
    emu_launch(1, 1, BLOCK, 0, [&] {
        coord_map_deltas(kernel[0], kernel[1], kernel[2], kernel[3], kernel[4], kernel[5], kernel[6], made.data());
    });
    CHECK(made == deltas, "java:%s: coord_map_deltas differs from ConvGeometry.deltas", name.c_str());
    std::vector<int> out_stride = f.i32("out_stride");
    if (!out_stride.empty()) {
        CHECK(downsample(in_keys, out_stride[0], out_stride[1], out_stride[2], 2) == out_keys,
              "java:%s: the device's downsampled keys differ from KernelMapBuilder's output set", name.c_str());
    }
    const int words = (volume + 63) / 64;
    const long long n_out = out_keys.size();
    // Groups of up to 64 offsets sort exactly as the host does; a larger one by its top 64 offsets (helpers()).
    if (volume <= 64) {
        CHECK(rows_by_mask(b.masks, n_out, words, 0, volume, true, 2) == f.i32("sorted_rows"),
              "java:%s: row order differs from MapStatistics.sortedRows", name.c_str());
        // The same order's sort as CudaConvolutionOps launches it, recorded (keys ~mask, the group's bytes).
        CHECK(recorded_sort(f, "sort_rows.", "sparseconv_map.cu", "java:" + name + " row-order sort"),
              "java:%s: no recorded row-order sort", name.c_str());
    }
    if (volume > 1) {
        CHECK(rows_by_mask(b.masks, n_out, words, 0, volume / 2, true, 2) == f.i32("sorted_rows_low")
                  && rows_by_mask(b.masks, n_out, words, volume / 2, volume, true, 2) == f.i32("sorted_rows_high"),
              "java:%s: split row orders differ from MapStatistics.sortedRows", name.c_str());
    }
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
    helpers();
    int cases = 0;
    if (argc > 2)
        for (const std::string& name : fixture_list(argv[2], "map")) {
            fixture_case(argv[2], name);
            cases++;
        }
    return fixture_finish(cases, failures, "exact");
}
