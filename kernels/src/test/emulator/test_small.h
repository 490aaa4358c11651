// The elementwise and normalisation kernels (bias_activation, cast, row_reduce, residual_add, batch_norm,
// concat_columns, layer_norm), driven by the Java side's cases (runtime's ElementwiseFixtures, the ew_* fixture
// directories): each case holds the operands, the launch CudaElementwiseOps makes for them (recorded, see launch.h)
// and the cpu-reference backend's result. run.sh generates one translation unit that includes every declared variant
// of each kernel in its own namespace and calls run_recorded_cases for each; a case runs in the variant whose
// constants it was recorded with, and a case no variant claims fails the run.
#pragma once
#include "launch.h"

static int small_cases = 0;
static double small_max_err = 0;
static std::set<std::string> small_claimed;
static std::map<std::string, int> small_cases_per_file;  // reported, so the Java side checks each kernel's count

template <typename Kernel>
void run_recorded_cases(const char* root, const std::string& file, const std::string& variant, unsigned block,
                        Kernel kernel) {
    if (!root) return;
    const std::string defines = sorted_words(variant + " BLOCK=" + std::to_string(block));
    int cases = 0;
    double max_err = 0;
    for (const std::string& name : fixture_list(root, "ew_")) {
        const Fixture f(std::string(root) + "/" + name);
        const std::vector<RecordedLaunch> launches = recorded_launches(f);
        if (launches.empty() || launches[0].file != file || launches[0].defines != defines) continue;
        small_claimed.insert(name);
        RecordedBuffers buffers(f, launches);
        bool launched = true;
        for (const RecordedLaunch& l : launches) {
            CHECK(l.file == file && l.defines == defines, "%s: launches of several variants", name.c_str());
            launched = launched && launch_recorded(kernel, l, buffers, block, name + " (" + l.entry + ")");
        }
        if (launched) max_err = std::max(max_err, compare_recorded(f, buffers, name));
        cases++;
    }
    CHECK(cases > 0, "%s %s: no fixture case recorded for this variant", file.c_str(), variant.c_str());
    small_cases += cases;
    small_cases_per_file[file] += cases;
    small_max_err = std::max(small_max_err, max_err);
    printf("  %-18s %-28s %2d cases, max |err| %.2e\n", file.c_str(), variant.c_str(), cases, max_err);
}

// Every ew_ case must have run in some variant: a launch with constants no declared variant has is a failure.
inline int finish_small(const char* root) {
    if (root)
        for (const std::string& name : fixture_list(root, "ew_"))
            CHECK(small_claimed.count(name), "%s: its launch matches no declared variant", name.c_str());
    std::string summary = max_error_summary(small_max_err) + "; cases per kernel:";
    for (const auto& [file, cases] : small_cases_per_file) summary += " " + file + " " + std::to_string(cases);
    return fixture_finish(small_cases, failures, summary);
}
