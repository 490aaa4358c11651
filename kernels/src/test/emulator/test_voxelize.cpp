// voxelize.cu in the emulator, driven step by step as runtime/.../internal/cuda/CudaVoxelizer drives it, and compared
// bit for bit: (1) with a reference written here from CpuVoxelizer's definition (keys from the double division and
// floor, voxels in unsigned key order, each voxel's points in input order, MEAN summed in double, FIRST the first
// point), over random clouds with several batches, negative cells, points on cell boundaries and one voxel holding
// most points; (2) with a fixture directory, with what the Java CpuVoxelizer itself returned for clouds the Java side
// wrote (the real KITTI sweep among them where ../shared/data has it).
// The atomics' order is the thread order here, so the test shuffles what a GPU may return in any order (the
// compaction, each voxel's bucketed list) before the kernels that must not depend on it.
#include "gen/voxelize.cu"

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
    // The host's part: the distinct keys in CoordinateKey.compare (unsigned) order, each entry's rank.
    out.keys = shuffled_keys;
    std::sort(out.keys.begin(), out.keys.end());
    std::vector<int> ranks(m);
    for (long long j = 0; j < m; j++)
        ranks[j] = (int)(std::lower_bound(out.keys.begin(), out.keys.end(), shuffled_keys[j]) - out.keys.begin());
    std::vector<int> slot_rank(capacity, -9), first_point(m, -9);
    out.counts.assign(m, -9);
    emu_launch(GRID, 1, BLOCK, 0, [&] {
        voxel_rank(shuffled_slots.data(), ranks.data(), m, slot_count.data(), slot_first.data(), slot_rank.data(),
                   out.counts.data(), first_point.data());
    });
    out.point_voxel.assign(n, -9);
    emu_launch(GRID, 1, BLOCK, 0, [&] {
        voxel_point_voxel(point_slot.data(), n, slot_rank.data(), out.point_voxel.data());
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
    std::vector<long long> start(m + 1, 0);
    for (long long v = 0; v < m; v++) start[v + 1] = start[v] + out.counts[v];
    std::vector<int> fill(m, 0), members(n, -9), sorted(n, -9);
    emu_launch(GRID, 1, BLOCK, 0, [&] {
        voxel_bucket(out.point_voxel.data(), n, start.data(), fill.data(), members.data());
    });
    // Each list in atomic order: any permutation of it.
    for (long long v = 0; v < m; v++) std::shuffle(members.begin() + start[v], members.begin() + start[v + 1], rng);
    const long long sort_blocks = (32 * m + BLOCK - 1) / BLOCK;
    emu_launch((unsigned)std::min<long long>(sort_blocks, GRID), 1, BLOCK, 0, [&] {
        voxel_bucket_sort(members.data(), start.data(), m, sorted.data());
    });
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
    printf("  java:%-28s n=%lld voxels=%zu %s\n", name.c_str(), cloud.n(), want.keys.size(), mean ? "MEAN" : "FIRST");
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
    int cases = 0;
    if (argc > 2)
        for (const std::string& name : fixture_list(argv[2], "voxelize")) {
            fixture_case(argv[2], name);
            cases++;
        }
    return fixture_finish(cases, failures, "bit for bit");
}
