// voxelize.cu in the emulator, driven step by step as runtime/.../internal/cuda/CudaVoxelizationOps drives it, and
// compared bit for bit: (1) with a reference written here from CpuVoxelizer's definition (keys from the double
// division and floor, voxels in unsigned key order, each voxel's points in input order, MEAN summed in double, FIRST
// the first point), over random clouds with several batches, negative cells, points on cell boundaries and one voxel
// holding most points; (2) with a fixture directory, with what the Java CpuVoxelizer itself returned for clouds the
// Java side wrote (the real KITTI sweep among them where ../shared/data has it). The key sort runs on the device
// (radix_sort_*, lacuna_radix_sort.cuh), checked also on its own against std::stable_sort.
// The atomics' order is the thread order here, so the test shuffles what a GPU may return in any order (the
// compaction) before the kernels that must not depend on it.
// The family's ops on device tensors (voxel_batch_pool_*, voxel_bev_*, voxel_table_insert, voxel_devoxelize_*):
// against references written here in double on random ragged tensors, and with voxelops* fixtures against what the
// Java serving CPU backend returned (bit for bit: the same fp32 operations in the same order) and what the
// cpu-reference backend returned (within fp32 rounding).
#include "gen/voxelize.cu"
#include "radix_sort.h"
#include <array>
#include <map>
#include <set>

struct Cloud {
    std::vector<float> xs, ys, zs, channels;  // channels [c][n]
    std::vector<int> batches;
    int c = 0;
    long long n() const { return (long long)xs.size(); }
};

struct Voxels {
    int bad = 0x7FFFFFFF;
    std::vector<unsigned long long> keys;
    std::vector<float> positions, channels;
    std::vector<int> counts, point_voxel;
};

static const int GRID = 3;  // a few CTAs, each striding over the rest of the work

// The radix sort alone against std::stable_sort of (key, index): random 64-bit keys with many repeats (stability
// shows), keys varying only in high bytes, and sizes around the tile.
static void check_radix_sort() {
    for (long long n : {1LL, 255LL, 256LL, 257LL, 3000LL}) {
        for (int kind = 0; kind < 3; kind++) {
            std::vector<unsigned long long> keys(n);
            for (auto& k : keys) {
                const unsigned long long r = ((unsigned long long)uniform_int(0, 0x7FFFFFFF) << 33)
                                           ^ ((unsigned long long)uniform_int(0, 0x7FFFFFFF) << 2) ^ uniform_int(0, 3);
                k = kind == 0 ? r : kind == 1 ? (unsigned long long)uniform_int(0, 9) : r & 0xFF00000000000000ull;
            }
            std::vector<long long> idx(n);
            std::iota(idx.begin(), idx.end(), 0);
            std::stable_sort(idx.begin(), idx.end(), [&](long long a, long long b) { return keys[a] < keys[b]; });
            std::vector<unsigned long long> got_keys;
            std::vector<int> got_values;
            device_radix_sort(keys, {}, 8, GRID, got_keys, got_values);
            bool same = (long long)got_keys.size() == n;
            for (long long i = 0; same && i < n; i++) same = got_keys[i] == keys[idx[i]] && got_values[i] == idx[i];
            CHECK(same, "radix sort of %lld keys (kind %d) differs from a stable sort", n, kind);
        }
        // An odd number of passes (the first writes the outputs, not the scratch), carried values given: keys
        // that differ only above the sorted bytes keep their input order.
        std::vector<unsigned long long> keys(n);
        std::vector<int> carried(n);
        for (long long i = 0; i < n; i++) {
            keys[i] = ((unsigned long long)uniform_int(0, 3) << 40) | (unsigned long long)uniform_int(0, 0xFFFF);
            carried[i] = uniform_int(-1000000, 1000000);
        }
        for (int bytes : {1, 3}) {
            const unsigned long long low = bytes == 1 ? 0xFFull : 0xFFFFFFull;
            std::vector<long long> idx(n);
            std::iota(idx.begin(), idx.end(), 0);
            std::stable_sort(idx.begin(), idx.end(), [&](long long a, long long b) { return (keys[a] & low) < (keys[b] & low); });
            std::vector<unsigned long long> got_keys;
            std::vector<int> got_values;
            device_radix_sort(keys, carried, bytes, GRID, got_keys, got_values);
            bool same = true;
            for (long long i = 0; same && i < n; i++) same = got_keys[i] == keys[idx[i]] && got_values[i] == carried[idx[i]];
            CHECK(same, "radix sort of %lld keys on their low %d bytes, values carried, differs from a stable sort", n,
                  bytes);
        }
    }
}

static Voxels device_voxelize(const Cloud& cloud, double sx, double sy, double sz, bool mean) {
    const long long n = cloud.n();
    const int c = cloud.c;
    Voxels out;
    std::vector<unsigned long long> keys(n, 0xABABABABull);
    emu_launch(GRID, 1, BLOCK, 0, [&] {
        voxel_keys(cloud.xs.data(), cloud.ys.data(), cloud.zs.data(), cloud.batches.data(), n, sx, sy, sz,
                   keys.data(), &out.bad);
    });
    if (out.bad != 0x7FFFFFFF) return out;
    unsigned long long capacity = 1;
    while (capacity < 2ull * (unsigned long long)n) capacity <<= 1;  // CoordinateIndex.capacityFor
    std::vector<unsigned long long> slots(capacity, COORD_EMPTY);
    std::vector<int> slot_count(capacity, 0);
    std::vector<unsigned> slot_first(capacity, 0xFFFFFFFFu);
    std::vector<long long> point_slot(n, -5);
    emu_launch(GRID, 1, BLOCK, 0, [&] {
        voxel_insert(keys.data(), n, slots.data(), capacity, point_slot.data(), slot_count.data(), slot_first.data());
    });
    int counter = 0;
    std::vector<unsigned long long> out_keys(n);
    std::vector<long long> out_slots(n);
    emu_launch(GRID, 1, BLOCK, 0, [&] {
        voxel_compact(slots.data(), capacity, &counter, out_keys.data(), out_slots.data());
    });
    const long long m = counter;
    // The compaction's order is the atomics' order: any permutation.
    std::vector<long long> perm(m);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    std::vector<unsigned long long> shuffled_keys(m);
    std::vector<long long> shuffled_slots(m);
    for (long long j = 0; j < m; j++) {
        shuffled_keys[j] = out_keys[perm[j]];
        shuffled_slots[j] = out_slots[perm[j]];
    }
    // The distinct keys sorted on the device, each carrying its compaction index.
    std::vector<int> order;
    device_radix_sort(shuffled_keys, {}, 8, GRID, out.keys, order);
    std::vector<int> slot_rank(capacity, -9), first_point(m, -9);
    out.counts.assign(m, -9);
    emu_launch(GRID, 1, BLOCK, 0, [&] {
        voxel_rank(shuffled_slots.data(), order.data(), m, slot_count.data(), slot_first.data(), slot_rank.data(),
                   out.counts.data(), first_point.data());
    });
    out.point_voxel.assign(n, -9);
    std::vector<unsigned long long> voxel_keys(n, 0xCDCDull);
    emu_launch(GRID, 1, BLOCK, 0, [&] {
        voxel_point_voxel(point_slot.data(), n, slot_rank.data(), out.point_voxel.data(),
                          mean ? voxel_keys.data() : nullptr);
    });
    out.positions.assign(3 * m, NAN);
    out.channels.assign((size_t)c * m, NAN);
    if (!mean) {
        emu_launch(GRID, 1, BLOCK, 0, [&] {
            voxel_first(first_point.data(), m, cloud.xs.data(), cloud.ys.data(), cloud.zs.data(), cloud.channels.data(),
                        c, n, out.positions.data(), out.channels.data());
        });
        return out;
    }
    // The points sorted stably by voxel on the device (as many bytes as voxel indices need): lists in input order.
    int bytes = 1;
    while (bytes < 8 && ((unsigned long long)(m - 1) >> (8 * bytes)) != 0) bytes++;
    std::vector<unsigned long long> sorted_voxel;
    std::vector<int> sorted;
    device_radix_sort(voxel_keys, {}, bytes, GRID, sorted_voxel, sorted);
    std::vector<long long> start(m + 1, -7);
    emu_launch(GRID, 1, BLOCK, 0, [&] { voxel_list_starts(sorted_voxel.data(), n, m, start.data()); });
    emu_launch(GRID, 1, BLOCK, 0, [&] {
        voxel_mean(sorted.data(), start.data(), m, cloud.xs.data(), cloud.ys.data(), cloud.zs.data(),
                   cloud.channels.data(), c, n, out.positions.data(), out.channels.data());
    });
    return out;
}

// CpuVoxelizer's definition, written independently of the kernels.
static Voxels reference(const Cloud& cloud, double sx, double sy, double sz, bool mean) {
    const long long n = cloud.n();
    const int c = cloud.c;
    Voxels out;
    std::vector<unsigned long long> keys(n);
    for (long long i = 0; i < n; i++) {
        const double cell[3] = {std::floor((double)cloud.xs[i] / sx), std::floor((double)cloud.ys[i] / sy),
                                std::floor((double)cloud.zs[i] / sz)};
        bool ok = true;
        for (double v : cell) ok = ok && v >= -32768.0 && v <= 32767.0;
        if (!ok) {
            out.bad = (int)std::min<long long>(out.bad, i);
            continue;
        }
        keys[i] = ((unsigned long long)cloud.batches[i] << 48) | ((unsigned long long)((int)cell[0] + 32768) << 32) |
                  ((unsigned long long)((int)cell[1] + 32768) << 16) | (unsigned long long)((int)cell[2] + 32768);
    }
    if (out.bad != 0x7FFFFFFF) return out;
    std::vector<long long> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](long long a, long long b) { return keys[a] < keys[b]; });
    out.point_voxel.assign(n, -1);
    std::vector<std::vector<long long>> lists;
    for (long long j = 0; j < n; j++) {
        const long long p = order[j];
        if (out.keys.empty() || out.keys.back() != keys[p]) {
            out.keys.push_back(keys[p]);
            lists.emplace_back();
        }
        lists.back().push_back(p);
        out.point_voxel[p] = (int)out.keys.size() - 1;
    }
    const size_t m = out.keys.size();
    out.positions.resize(3 * m);
    out.channels.resize(c * m);
    for (size_t v = 0; v < m; v++) {
        out.counts.push_back((int)lists[v].size());
        auto reduce = [&](auto value) {
            if (!mean) return value(lists[v][0]);
            double sum = 0;
            for (long long p : lists[v]) sum += value(p);
            return (float)(sum / (double)lists[v].size());
        };
        out.positions[3 * v] = reduce([&](long long p) { return cloud.xs[p]; });
        out.positions[3 * v + 1] = reduce([&](long long p) { return cloud.ys[p]; });
        out.positions[3 * v + 2] = reduce([&](long long p) { return cloud.zs[p]; });
        for (int k = 0; k < c; k++) out.channels[c * v + k] = reduce([&](long long p) { return cloud.channels[k * n + p]; });
    }
    return out;
}

static bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && (a.empty() || memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

static void compare(const std::string& label, const Voxels& got, const Voxels& want) {
    CHECK(got.bad == want.bad, "%s: first invalid point %d, want %d", label.c_str(), got.bad, want.bad);
    if (want.bad != 0x7FFFFFFF) return;
    CHECK(got.keys == want.keys, "%s: voxel keys differ (%zu vs %zu voxels)", label.c_str(), got.keys.size(),
          want.keys.size());
    CHECK(got.counts == want.counts, "%s: point counts differ", label.c_str());
    CHECK(got.point_voxel == want.point_voxel, "%s: point-to-voxel differs", label.c_str());
    CHECK(same_bits(got.positions, want.positions), "%s: positions differ in their bits", label.c_str());
    CHECK(same_bits(got.channels, want.channels), "%s: channels differ in their bits", label.c_str());
}

static Cloud random_cloud(long long n, int c, int batches, double extent, bool crowd) {
    Cloud cloud;
    cloud.c = c;
    std::vector<long long> crowd_rank(n, -1);
    long long crowded = 0;
    for (long long i = 0; i < n; i++) {
        // With crowd, two thirds of the points fall in the one cell [0, 0.1)^3 (batch 0): a long list.
        const bool in_crowd = crowd && i % 3 != 0;
        float p[3];
        for (float& v : p) {
            v = in_crowd ? (float)uniform(0.01, 0.09) : (float)uniform(-extent, extent);
            if (!in_crowd && i % 17 == 3) v = (float)(std::round(v / 0.05) * 0.05);  // near or on a cell boundary
        }
        cloud.xs.push_back(p[0]);
        cloud.ys.push_back(p[1]);
        cloud.zs.push_back(p[2]);
        cloud.batches.push_back(in_crowd ? 0 : uniform_int(0, batches - 1));
        if (in_crowd) crowd_rank[i] = crowded++;
    }
    for (int k = 0; k < c; k++)
        for (long long i = 0; i < n; i++) {
            // In the crowded cell, channel 0 holds +2^60, -2^60 and five small values in turn: a double sum keeps
            // the small values after the last cancellation and loses those absorbed by 2^60, so the list summed in
            // another order gives another mean. Elsewhere magnitudes 2^-30 .. 2^30.
            const long long j = crowd_rank[i];
            const double v = k > 0 || j < 0 ? uniform(-1, 1) * std::ldexp(1.0, uniform_int(-30, 30))
                           : j % 7 == 0 ? std::ldexp(1.0, 60) : j % 7 == 1 ? -std::ldexp(1.0, 60) : uniform(-1, 1);
            cloud.channels.push_back((float)v);
        }
    return cloud;
}

static void check_case(const std::string& label, const Cloud& cloud, double sx, double sy, double sz) {
    for (bool mean : {true, false}) {
        const std::string l = label + (mean ? " MEAN" : " FIRST");
        compare(l, device_voxelize(cloud, sx, sy, sz, mean), reference(cloud, sx, sy, sz, mean));
    }
}

static Cloud fixture_cloud(const Fixture& f) {
    Cloud cloud;
    cloud.xs = f.f32("xs");
    cloud.ys = f.f32("ys");
    cloud.zs = f.f32("zs");
    cloud.batches = f.i32("batches");
    cloud.channels = f.f32("channels");
    cloud.c = (int)f.integer("c");
    return cloud;
}

// What the Java CpuVoxelizer returned for this cloud, against the kernels driven as CudaVoxelizer drives them.
static void fixture_case(const std::string& dir, const std::string& name) {
    Fixture f(dir + "/" + name);
    const Cloud cloud = fixture_cloud(f);
    const bool mean = f.text("reduction") == "MEAN";
    Voxels want;
    if (f.has("invalid")) {
        want.bad = (int)f.integer("invalid");
    } else {
        for (long long k : f.i64("keys")) want.keys.push_back((unsigned long long)k);
        want.positions = f.f32("positions");
        want.channels = f.f32("out_channels");
        want.counts = f.i32("counts");
        want.point_voxel = f.i32("point_voxel");
    }
    const Voxels got = device_voxelize(cloud, f.real("size_x"), f.real("size_y"), f.real("size_z"), mean);
    compare("java:" + name, got, want);
    if (!f.has("invalid")) {
        // The two sorts as CudaVoxelizationOps launches them, recorded: the voxels' keys, the points by voxel.
        CHECK(recorded_sort(f, "sort_voxels.", "voxelize.cu", "java:" + name + " voxel key sort"),
              "java:%s: no recorded voxel key sort", name.c_str());
        CHECK(recorded_sort(f, "sort_points.", "voxelize.cu", "java:" + name + " points-by-voxel sort"),
              "java:%s: no recorded points-by-voxel sort", name.c_str());
    }
    printf("  java:%-28s n=%lld voxels=%zu %s\n", name.c_str(), cloud.n(), want.keys.size(), mean ? "MEAN" : "FIRST");
}

// ---- The family's ops on device tensors ----

struct Sparse {
    std::vector<int> coords;        // [rows, 4] (batch, x, y, z), distinct
    std::vector<float> features;    // [rows, c]
    long long rows = 0, c = 0;
    int batches = 0;
};

struct Bev {
    int origin[3], cells[3], stride;
};

static std::vector<float> device_pool(const Sparse& t, int mean) {
    std::vector<float> out((size_t)t.batches * t.c, NAN);
    emu_launch(GRID, 1, BLOCK, 0, [&] {
        voxel_batch_pool_f32(t.features.data(), t.coords.data(), t.rows, t.c, t.batches, mean, out.data());
    });
    return out;
}

static std::vector<int> device_bev_index(const Sparse& t, const Bev& g) {
    std::vector<int> index((size_t)t.batches * g.cells[0] * g.cells[1] * g.cells[2], -1);
    emu_launch(GRID, 1, BLOCK, 0, [&] {
        voxel_bev_index(t.coords.data(), t.rows, g.origin[0], g.origin[1], g.origin[2], g.stride, g.stride, g.stride,
                        g.cells[0], g.cells[1], g.cells[2], t.batches, index.data());
    });
    return index;
}

static long long bev_size(const Sparse& t, const Bev& g, int mode) {
    return (long long)t.batches * (mode == 0 ? t.c * g.cells[2] : t.c) * g.cells[1] * g.cells[0];
}

static std::vector<float> device_bev(const Sparse& t, const Bev& g, int mode) {
    const std::vector<int> index = device_bev_index(t, g);
    std::vector<float> out(bev_size(t, g, mode), NAN);
    emu_launch(GRID, 1, BLOCK, 0, [&] {
        voxel_bev_gather_f32(t.features.data(), index.data(), t.c, t.batches, g.cells[0], g.cells[1], g.cells[2], mode,
                             out.data());
    });
    return out;
}

struct Table {
    std::vector<unsigned long long> slots;
    std::vector<int> slot_row;
};

static Table device_table(const Sparse& t) {
    unsigned long long capacity = 16;
    while (capacity < 2ull * (unsigned long long)t.rows) capacity <<= 1;  // CoordinateIndex.capacityFor
    Table table{std::vector<unsigned long long>(capacity, COORD_EMPTY), std::vector<int>(capacity, -5)};
    emu_launch(GRID, 1, BLOCK, 0, [&] {
        voxel_table_insert(t.coords.data(), t.rows, table.slots.data(), table.slot_row.data(), capacity);
    });
    return table;
}

static std::vector<float> device_devox(const Sparse& t, const std::vector<float>& points,
                                       const std::vector<int>& batches, const double size[3], int stride,
                                       int trilinear) {
    const Table table = device_table(t);
    const long long p = (long long)batches.size();
    std::vector<float> out((size_t)p * t.c, NAN);
    emu_launch(GRID, 1, BLOCK, 0, [&] {
        voxel_devoxelize_f32(points.data(), batches.data(), p, size[0], size[1], size[2], stride, stride, stride,
                             table.slots.data(), table.slot_row.data(), table.slots.size(), t.features.data(), t.c,
                             trilinear, out.data());
    });
    return out;
}

// References in double, written from VoxelizationOps' definitions.
static std::vector<double> ref_pool(const Sparse& t, int mean) {
    std::vector<double> out((size_t)t.batches * t.c, 0.0);
    for (int b = 0; b < t.batches; b++)
        for (long long ch = 0; ch < t.c; ch++) {
            double acc = mean ? 0.0 : -INFINITY;
            long long count = 0;
            for (long long r = 0; r < t.rows; r++)
                if (t.coords[4 * r] == b) {
                    const double v = t.features[r * t.c + ch];
                    acc = mean ? acc + v : std::max(acc, v);
                    count++;
                }
            out[b * t.c + ch] = count == 0 ? 0.0 : mean ? acc / (double)count : acc;
        }
    return out;
}

static long long floor_div(long long a, long long b) { return (long long)std::floor((double)a / (double)b); }

static std::vector<double> ref_bev(const Sparse& t, const Bev& g, int mode) {
    const long long cx = g.cells[0], cy = g.cells[1], cz = g.cells[2];
    const long long out_c = mode == 0 ? t.c * cz : t.c;
    std::vector<double> out(bev_size(t, g, mode), 0.0);
    std::vector<char> seen(out.size(), 0);
    for (long long r = 0; r < t.rows; r++) {
        long long cell[3];
        bool inside = t.coords[4 * r] < t.batches;
        for (int a = 0; a < 3; a++) {
            cell[a] = floor_div((long long)t.coords[4 * r + 1 + a] - g.origin[a], g.stride);
            inside = inside && cell[a] >= 0 && cell[a] < g.cells[a];
        }
        if (!inside) continue;
        for (long long ch = 0; ch < t.c; ch++) {
            const long long plane = mode == 0 ? ch * cz + cell[2] : ch;
            const size_t o = (size_t)(((t.coords[4 * r] * out_c + plane) * cy + cell[1]) * cx + cell[0]);
            const double v = t.features[r * t.c + ch];
            out[o] = mode == 1 ? out[o] + v : mode == 2 && seen[o] ? std::max(out[o], v) : v;
            seen[o] = 1;
        }
    }
    return out;
}

static std::vector<double> ref_devox(const Sparse& t, const std::vector<float>& points, const std::vector<int>& batches,
                                     const double size[3], int stride, int trilinear) {
    std::map<std::array<long long, 4>, long long> rows;
    for (long long r = 0; r < t.rows; r++)
        rows[{t.coords[4 * r], t.coords[4 * r + 1], t.coords[4 * r + 2], t.coords[4 * r + 3]}] = r;
    const long long p = (long long)batches.size();
    std::vector<double> out((size_t)p * t.c, 0.0);
    for (long long i = 0; i < p; i++) {
        double g[3];
        for (int a = 0; a < 3; a++) g[a] = (double)points[3 * i + a] / size[a];
        std::vector<std::pair<long long, double>> hits;
        if (!trilinear) {
            std::array<long long, 4> v{batches[i], 0, 0, 0};
            for (int a = 0; a < 3; a++) v[a + 1] = floor_div((long long)std::floor(g[a]), stride) * stride;
            auto it = rows.find(v);
            if (it != rows.end()) hits.push_back({it->second, 1.0});
        } else {
            for (int corner = 0; corner < 8; corner++) {
                std::array<long long, 4> v{batches[i], 0, 0, 0};
                double w = 1.0;
                for (int a = 0; a < 3; a++) {
                    const double u = (g[a] - stride / 2.0) / stride;
                    const double k = std::floor(u);
                    const int d = corner >> (2 - a) & 1;
                    w *= d == 0 ? 1.0 - (u - k) : u - k;
                    v[a + 1] = ((long long)k + d) * stride;
                }
                auto it = rows.find(v);
                if (w > 0 && it != rows.end()) hits.push_back({it->second, w});
            }
        }
        double total = 0;
        for (auto& h : hits) total += h.second;
        for (long long ch = 0; ch < t.c; ch++) {
            double acc = 0;
            for (auto& h : hits) acc += h.second * t.features[h.first * t.c + ch];
            out[i * t.c + ch] = hits.empty() ? 0.0 : acc / total;
        }
    }
    return out;
}

// Within terms fp32 roundings of scale (exact for terms 0), every element written.
static void compare_close(const std::string& label, const std::vector<float>& got, const std::vector<double>& want,
                          int terms, double scale) {
    CHECK(got.size() == want.size(), "%s: %zu values, want %zu", label.c_str(), got.size(), want.size());
    if (got.size() != want.size()) return;
    double worst = 0;
    for (size_t i = 0; i < got.size(); i++) {
        const double tolerance = terms == 0 ? 0.0 : terms * scale * std::ldexp(1.0, -23) + std::ldexp(std::fabs(want[i]), -23);
        const double error = std::fabs((double)got[i] - (double)(float)want[i]);
        worst = std::max(worst, error);
        if (!(error <= tolerance)) {
            CHECK(false, "%s: element %zu is %.9g, want %.9g", label.c_str(), i, got[i], want[i]);
            return;
        }
    }
}

static Sparse random_sparse(long long rows, int c, int batches, int empty_batch, int extent, int stride) {
    Sparse t;
    t.c = c;
    t.batches = batches;
    std::set<std::array<int, 4>> seen;
    for (long long attempt = 0; (long long)seen.size() < rows && attempt < 20 * rows; attempt++) {
        int b = uniform_int(0, batches - 1);
        if (b == empty_batch) continue;
        std::array<int, 4> v{b, uniform_int(-extent, extent) * stride, uniform_int(-extent, extent) * stride,
                             uniform_int(-2, 2) * stride};
        if (seen.insert(v).second) t.coords.insert(t.coords.end(), v.begin(), v.end());
    }
    t.rows = (long long)t.coords.size() / 4;
    for (long long i = 0; i < t.rows * c; i++) t.features.push_back((float)uniform(-4, 4));
    return t;
}

static void check_dense_ops() {
    for (int stride : {1, 2}) {
        for (long long rows : {1LL, 40LL, 600LL}) {
            const Sparse t = random_sparse(rows, 3, 4, 2, 6, stride);
            const std::string l = "rows " + std::to_string(t.rows) + " stride " + std::to_string(stride);
            for (int mean : {0, 1}) compare_close(l + (mean ? " pool mean" : " pool max"), device_pool(t, mean),
                                                  ref_pool(t, mean), mean ? (int)t.rows : 0, 4);
            // The grid one cell short on x: rows beyond it are left out (the layer checks them beforehand).
            const Bev g{{-6 * stride, -6 * stride, -2 * stride}, {12, 13, 5}, stride};
            for (int mode : {0, 1, 2}) compare_close(l + " bev mode " + std::to_string(mode), device_bev(t, g, mode),
                                                     ref_bev(t, g, mode), mode == 1 ? 5 : 0, 4);
            // Points near the voxels, some in none (zeros), at an anisotropic voxel size.
            const double size[3] = {0.2, 0.25, 0.3};
            std::vector<float> points;
            std::vector<int> batches;
            for (long long r = 0; r < t.rows; r++)
                for (int k = 0; k < 2; k++) {
                    for (int a = 0; a < 3; a++)
                        points.push_back((float)((t.coords[4 * r + 1 + a] + uniform(-0.5, 1.5) * stride) * size[a]));
                    batches.push_back(t.coords[4 * r]);
                }
            for (int tri : {0, 1}) compare_close(l + (tri ? " trilinear" : " nearest"),
                                                 device_devox(t, points, batches, size, stride, tri),
                                                 ref_devox(t, points, batches, size, stride, tri), tri ? 24 : 0, 4);
        }
    }
    // The 16-bit entry points read (and devoxelisation writes) their type and compute as the f32 ones do.
    Sparse t = random_sparse(300, 2, 2, -1, 5, 1);
    std::vector<lacuna_f16> half(t.features.size());
    std::vector<lacuna_bf16> brain(t.features.size());
    for (size_t i = 0; i < half.size(); i++) {
        half[i] = lacuna_f32_to_f16(t.features[i]);
        brain[i] = emu_float_to_bf16(t.features[i]);
    }
    Sparse widened = t, bwidened = t;
    for (size_t i = 0; i < half.size(); i++) {
        widened.features[i] = lacuna_f16_to_f32(half[i]);
        bwidened.features[i] = emu_bf16_to_float(brain[i]);
    }
    std::vector<float> pooled((size_t)t.batches * t.c, NAN);
    emu_launch(GRID, 1, BLOCK, 0, [&] {
        voxel_batch_pool_f16(half.data(), t.coords.data(), t.rows, t.c, t.batches, 1, pooled.data());
    });
    CHECK(same_bits(pooled, device_pool(widened, 1)), "voxel_batch_pool_f16 differs from f32 on the same values");
    const Bev g{{-5, -5, -2}, {11, 11, 5}, 1};
    const std::vector<int> index = device_bev_index(t, g);
    std::vector<float> bev(bev_size(t, g, 1), NAN);
    emu_launch(GRID, 1, BLOCK, 0, [&] {
        voxel_bev_gather_bf16(brain.data(), index.data(), t.c, t.batches, 11, 11, 5, 1, bev.data());
    });
    CHECK(same_bits(bev, device_bev(bwidened, g, 1)), "voxel_bev_gather_bf16 differs from f32 on the same values");
    const double size[3] = {0.1, 0.1, 0.1};
    std::vector<float> points;
    std::vector<int> batches;
    for (long long r = 0; r < t.rows; r++) {
        for (int a = 0; a < 3; a++) points.push_back((float)((t.coords[4 * r + 1 + a] + uniform(0, 1)) * 0.1));
        batches.push_back(t.coords[4 * r]);
    }
    const Table table = device_table(t);
    std::vector<lacuna_f16> devox((size_t)t.rows * t.c, 0x7E00);
    emu_launch(GRID, 1, BLOCK, 0, [&] {
        voxel_devoxelize_f16(points.data(), batches.data(), t.rows, 0.1, 0.1, 0.1, 1, 1, 1, table.slots.data(),
                             table.slot_row.data(), table.slots.size(), half.data(), t.c, 1, devox.data());
    });
    const std::vector<float> wide = device_devox(widened, points, batches, size, 1, 1);
    bool same = true;
    for (size_t i = 0; i < wide.size(); i++) same = same && devox[i] == lacuna_f32_to_f16(wide[i]);
    CHECK(same, "voxel_devoxelize_f16 differs from f32 rounded to f16");
}

static std::vector<double> widen(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

// What the Java serving backend returned, bit for bit, and the reference's double, within fp32 rounding.
static void voxelops_case(const std::string& dir, const std::string& name) {
    Fixture f(dir + "/" + name);
    Sparse t;
    t.coords = f.i32("coords");
    t.features = f.f32("features");
    t.rows = (long long)t.coords.size() / 4;
    t.c = f.integer("c");
    t.batches = (int)f.integer("batches");
    const int stride = (int)f.integer("stride");
    const Bev g{{(int)f.integer("origin_x"), (int)f.integer("origin_y"), (int)f.integer("origin_z")},
                {(int)f.integer("cells_x"), (int)f.integer("cells_y"), (int)f.integer("cells_z")}, stride};
    const double size[3] = {f.real("size_x"), f.real("size_y"), f.real("size_z")};
    const std::vector<float> points = f.f32("points");
    const std::vector<int> batches = f.i32("point_batches");
    const std::string l = "java:" + name;
    const char* pools[] = {"max", "mean"};
    for (int mean : {0, 1}) {
        const std::vector<float> got = device_pool(t, mean);
        CHECK(same_bits(got, f.f32(std::string("pool_") + pools[mean])), "%s pool %s differs from the Java CPU backend",
              l.c_str(), pools[mean]);
        compare_close(l + " pool vs reference", got, widen(f.f32(std::string("ref_pool_") + pools[mean])),
                      mean ? (int)t.rows : 0, 4);
    }
    const char* modes[] = {"stack_z", "sum", "max"};
    for (int mode : {0, 1, 2}) {
        const std::vector<float> got = device_bev(t, g, mode);
        CHECK(same_bits(got, f.f32(std::string("bev_") + modes[mode])), "%s bev %s differs from the Java CPU backend",
              l.c_str(), modes[mode]);
        compare_close(l + " bev vs reference", got, widen(f.f32(std::string("ref_bev_") + modes[mode])),
                      mode == 1 ? g.cells[2] : 0, 4);
    }
    const char* interpolations[] = {"nearest", "trilinear"};
    for (int tri : {0, 1}) {
        const std::vector<float> got = device_devox(t, points, batches, size, stride, tri);
        CHECK(same_bits(got, f.f32(std::string("devox_") + interpolations[tri])),
              "%s devoxelize %s differs from the Java CPU backend", l.c_str(), interpolations[tri]);
        compare_close(l + " devoxelize vs reference", got,
                      widen(f.f32(std::string("ref_devox_") + interpolations[tri])), tri ? 24 : 0, 4);
    }
    printf("  java:%-28s rows=%lld points=%zu bev=%dx%dx%d\n", name.c_str(), t.rows, batches.size(), g.cells[0],
           g.cells[1], g.cells[2]);
}

int main(int argc, char** argv) {
    rng.seed(argc > 1 ? atoll(argv[1]) : 1);
    check_case("one point", random_cloud(1, 0, 1, 1.0, false), 0.1, 0.1, 0.1);
    check_case("ragged 1000, 2 channels, 3 batches", random_cloud(1000, 2, 3, 2.0, false), 0.05, 0.07, 0.2);
    check_case("crowded voxel, 1 channel", random_cloud(1500, 1, 1, 3.0, true), 0.1, 0.1, 0.1);
    check_case("one voxel per point", random_cloud(700, 0, 2, 50.0, false), 0.01, 0.01, 0.01);
    // Invalid points: the first one is reported, whichever thread finds it first.
    Cloud bad = random_cloud(600, 1, 1, 1.0, false);
    bad.xs[517] = NAN;
    bad.zs[301] = 1e9f;  // cell 1e10: out of the 16-bit range
    bad.ys[555] = -INFINITY;
    check_case("invalid points (301, 517, 555)", bad, 0.1, 0.1, 0.1);
    // The edges of the cell range: -32768 and 32767 are in, one beyond is out.
    Cloud edge = random_cloud(4, 0, 1, 1.0, false);
    edge.xs = {-32768.0f, 32767.5f, 0.0f, 0.5f};
    check_case("cell range edges", edge, 1.0, 1.0, 1.0);
    edge.xs[3] = 32768.0f;
    check_case("cell range edges, one beyond", edge, 1.0, 1.0, 1.0);
    check_radix_sort();
    check_dense_ops();
    int cases = 0;
    if (argc > 2) {
        for (const std::string& name : fixture_list(argv[2], "voxelize")) {
            fixture_case(argv[2], name);
            cases++;
        }
        for (const std::string& name : fixture_list(argv[2], "voxelops")) {
            voxelops_case(argv[2], name);
            cases++;
        }
    }
    return fixture_finish(cases, failures, "bit for bit");
}
