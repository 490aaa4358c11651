// The device radix sort (lacuna_radix_sort.cuh) driven as runtime/.../internal/cuda/RadixSortLaunches drives it:
// per pass of 8 bits over the low `bytes` bytes, count, scan (one CTA), scatter; the passes alternate between the
// outputs and scratch so that the last lands in the outputs; values_in empty: each key carries its own index. The
// input is left as it is. Included after the generated kernel file (voxelize.cu or sparseconv_map.cu), whose copy
// of the sort it runs, so each family's tests check the sort as that family compiles it.
#pragma once
#include "launch.h"

static void device_radix_sort(const std::vector<unsigned long long>& keys, const std::vector<int>& values_in,
                              int bytes, int grid, std::vector<unsigned long long>& keys_out,
                              std::vector<int>& values_out) {
    const long long n = (long long)keys.size();
    const long long tiles = (n + BLOCK - 1) / BLOCK;
    keys_out.assign(n, 0xEEull);
    values_out.assign(n, -4);
    if (n == 0) return;
    std::vector<int> counts(256 * tiles, -3);
    std::vector<unsigned long long> scratch_keys(n, 0xDDull);
    std::vector<int> scratch_values(n, -6);
    const unsigned long long* in = keys.data();
    const int* carried = values_in.empty() ? nullptr : values_in.data();
    for (int pass = 0; pass < bytes; pass++) {
        const int shift = 8 * pass;
        const bool last_target = ((bytes - 1 - pass) & 1) == 0;
        unsigned long long* out = last_target ? keys_out.data() : scratch_keys.data();
        int* out_values = last_target ? values_out.data() : scratch_values.data();
        emu_launch(grid, 1, BLOCK, 0, [&] { radix_sort_count(in, n, shift, counts.data()); });
        emu_launch(1, 1, BLOCK, 0, [&] { radix_sort_scan(counts.data(), 256 * tiles); });
        emu_launch(grid, 1, BLOCK, 0, [&] {
            radix_sort_scatter(in, carried, n, shift, counts.data(), out, out_values);
        });
        in = out;
        carried = out_values;
    }
}

// A sort the Java side recorded under prefix (runtime's RadixSortRecords: RadixSortLaunches' launches as one of the
// CUDA ops makes them, for keys from a fixture), run exactly as recorded with launch.h's checks, against the host's
// result (want_keys, want_indices). False when the fixture holds no such record.
static bool recorded_sort(const Fixture& f, const std::string& prefix, const std::string& file, const std::string& where) {
    if (!f.has(prefix + "launch.count")) return false;
    const std::vector<RecordedLaunch> launches = recorded_launches(f, prefix);
    RecordedBuffers buffers(f, launches);
    CHECK(!launches.empty(), "%s: no launches recorded", where.c_str());
    for (size_t i = 0; i < launches.size(); i++) {
        const RecordedLaunch& l = launches[i];
        const std::string at = where + ": launch " + std::to_string(i) + " (" + l.entry + ")";
        CHECK(l.file == file, "%s: recorded for %s, not %s", at.c_str(), l.file.c_str(), file.c_str());
        CHECK(l.defines == "BLOCK=" + std::to_string(BLOCK), "%s: recorded for %s, built with BLOCK=%d", at.c_str(),
              l.defines.c_str(), BLOCK);
        if (l.entry == "radix_sort_count") launch_recorded(radix_sort_count, l, buffers, BLOCK, at);
        else if (l.entry == "radix_sort_scan") launch_recorded(radix_sort_scan, l, buffers, BLOCK, at);
        else if (l.entry == "radix_sort_scatter") launch_recorded(radix_sort_scatter, l, buffers, BLOCK, at);
        else CHECK(false, "%s: not an entry point of the sort", at.c_str());
    }
    const std::vector<unsigned long long> want_keys = f.u64(prefix + "want_keys");
    const std::vector<int> want_indices = f.i32(prefix + "want_indices");
    const auto& keys = buffers.bytes[prefix + "keys_out"];
    const auto& indices = buffers.bytes[prefix + "indices_out"];
    CHECK(keys.size() == want_keys.size() * 8 && indices.size() == want_indices.size() * 4,
          "%s: %zu sorted key bytes and %zu index bytes for %zu keys", where.c_str(), keys.size(), indices.size(),
          want_keys.size());
    if (keys.size() != want_keys.size() * 8 || indices.size() != want_indices.size() * 4) return true;
    CHECK(memcmp(keys.data(), want_keys.data(), keys.size()) == 0, "%s: the sorted keys differ from the host's",
          where.c_str());
    CHECK(memcmp(indices.data(), want_indices.data(), indices.size()) == 0,
          "%s: the carried indices differ from the host's order (unstable, or a pass landed elsewhere)", where.c_str());
    return true;
}
