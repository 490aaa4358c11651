// The device radix sort (lacuna_radix_sort.cuh) driven as runtime/.../internal/cuda/RadixSortLaunches drives it:
// per pass of 8 bits over the low `bytes` bytes, count, scan (one CTA), scatter; the passes alternate between the
// outputs and scratch so that the last lands in the outputs; values_in empty: each key carries its own index. The
// input is left as it is. Included after the generated kernel file (voxelize.cu or sparseconv_map.cu), whose copy
// of the sort it runs, so each family's tests check the sort as that family compiles it.
#pragma once

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
