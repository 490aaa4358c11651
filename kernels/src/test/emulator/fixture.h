// Cases written by the Java side (runtime's KernelEmulationFixtures): one directory per case, holding meta.txt
// (key=value lines) and one little-endian binary file per array (NAME.bin).
#pragma once
#include <dirent.h>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

struct Fixture {
    std::string dir;
    std::map<std::string, std::string> meta;
    explicit Fixture(const std::string& d) : dir(d) {
        std::ifstream in(dir + "/meta.txt");
        if (!in) { fprintf(stderr, "fixture %s: no meta.txt\n", dir.c_str()); abort(); }
        std::string line;
        while (std::getline(in, line)) {
            const size_t eq = line.find('=');
            if (eq != std::string::npos) meta[line.substr(0, eq)] = line.substr(eq + 1);
        }
    }
    std::string text(const std::string& key) const {
        auto it = meta.find(key);
        if (it == meta.end()) { fprintf(stderr, "fixture %s: no key %s\n", dir.c_str(), key.c_str()); abort(); }
        return it->second;
    }
    long long integer(const std::string& key) const { return std::stoll(text(key)); }
    double real(const std::string& key) const { return std::stod(text(key)); }
    bool has(const std::string& key) const { return meta.count(key) != 0; }
    template <typename T> std::vector<T> array(const std::string& name) const {
        std::ifstream in(dir + "/" + name + ".bin", std::ios::binary | std::ios::ate);
        if (!in) return {};
        const size_t bytes = (size_t)in.tellg();
        std::vector<T> v(bytes / sizeof(T));
        in.seekg(0);
        in.read((char*)v.data(), bytes);
        return v;
    }
    std::vector<unsigned short> u16(const std::string& n) const { return array<unsigned short>(n); }
    std::vector<unsigned> u32(const std::string& n) const { return array<unsigned>(n); }
    std::vector<int> i32(const std::string& n) const { return array<int>(n); }
    std::vector<long long> i64(const std::string& n) const { return array<long long>(n); }
    std::vector<unsigned long long> u64(const std::string& n) const { return array<unsigned long long>(n); }
    std::vector<float> f32(const std::string& n) const { return array<float>(n); }
    std::vector<double> f64(const std::string& n) const { return array<double>(n); }
};

// The case directories under dir whose names start with prefix, sorted.
inline std::vector<std::string> fixture_list(const std::string& dir, const std::string& prefix) {
    std::vector<std::string> names;
    if (DIR* d = opendir(dir.c_str())) {
        while (dirent* e = readdir(d)) {
            const std::string name = e->d_name;
            if (name.rfind(prefix, 0) == 0) names.push_back(name);
        }
        closedir(d);
    }
    std::sort(names.begin(), names.end());
    return names;
}

// Whether the case's meta has each key at the given value ("any" matches everything).
inline bool fixture_matches(const std::string& dir, std::initializer_list<std::pair<std::string, std::string>> want) {
    Fixture f(dir);
    for (const auto& kv : want)
        if (kv.second != "any" && (!f.has(kv.first) || f.text(kv.first) != kv.second)) return false;
    return true;
}

// The last line of a fixture-driven test: "ok (SUMMARY, N fixture cases)". KernelEmulationTest checks N against the
// cases it wrote for the build; a run of no case at all fails here as well (a test that ran nothing must not pass).
inline int fixture_finish(int cases, int failed, const std::string& summary) {
    if (failed) {
        printf("FAILED (%d)\n", failed);
        return 1;
    }
    if (cases == 0) {
        printf("FAILED: no fixture case ran (run through KernelEmulationTest, or pass the fixture folder it writes)\n");
        return 1;
    }
    printf("ok (%s, %d fixture cases)\n", summary.c_str(), cases);
    return 0;
}

inline std::string max_error_summary(double max_err) {
    char text[64];
    snprintf(text, sizeof text, "max |err| %.2e", max_err);
    return text;
}
