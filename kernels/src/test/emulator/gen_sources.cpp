// Turns a shipped .cu file into host C++ for the emulator (gen_sources IN.cu OUT.cu):
//   - dynamic shared memory becomes the emulator's per-CTA buffer, static __shared__ arrays become statics (one CTA
//     runs at a time), entry points lose their C linkage (several files share helper names);
//   - every inline-PTX statement `asm [volatile] ("text" : outputs : inputs : clobbers);` becomes a call
//     `emu_asm("text", {emu_out("+f", d[0]), ...}, {emu_in("r", a[0]), ...})`, so the emulator executes the
//     kernel's own PTX text (instruction, operand order, immediates) instead of a hand-written stand-in.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

static std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    for (size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) s.replace(at, from.size(), to);
    return s;
}

// Index just past the string or character literal starting at i.
static size_t skip_literal(const std::string& s, size_t i) {
    const char quote = s[i];
    for (i++; i < s.size() && s[i] != quote; i++)
        if (s[i] == '\\') i++;
    return i + 1;
}

// Splits at top-level occurrences of sep (outside literals and brackets).
static std::vector<std::string> split_top(const std::string& s, char sep) {
    std::vector<std::string> parts;
    int depth = 0;
    size_t start = 0;
    for (size_t i = 0; i < s.size();) {
        const char c = s[i];
        if (c == '"' || c == '\'') { i = skip_literal(s, i); continue; }
        if (c == '(' || c == '[' || c == '{') depth++;
        if (c == ')' || c == ']' || c == '}') depth--;
        if (c == sep && depth == 0) {
            parts.push_back(s.substr(start, i - start));
            start = i + 1;
        }
        i++;
    }
    parts.push_back(s.substr(start));
    return parts;
}

static std::string trim(const std::string& s) {
    size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
    return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// `"c"(expr)` -> `emu_out("c", expr)` or `emu_in("c", expr)`.
static std::string operand(const std::string& text, bool output) {
    const std::string t = trim(text);
    const size_t close = skip_literal(t, 0);
    const std::string constraint = t.substr(0, close);
    const std::string rest = trim(t.substr(close));
    if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')') {
        fprintf(stderr, "gen_sources: cannot read asm operand '%s'\n", t.c_str());
        exit(2);
    }
    return std::string(output ? "emu_out(" : "emu_in(") + constraint + ", " + rest.substr(1, rest.size() - 2) + ")";
}

static std::string operands(const std::string& section, bool output) {
    std::string out = "{";
    if (!trim(section).empty()) {
        bool first = true;
        for (const std::string& part : split_top(section, ',')) {
            out += (first ? "" : ", ") + operand(part, output);
            first = false;
        }
    }
    return out + "}";
}

static bool word_at(const std::string& s, size_t i, const std::string& word) {
    if (s.compare(i, word.size(), word) != 0) return false;
    const bool left = i == 0 || !(isalnum((unsigned char)s[i - 1]) || s[i - 1] == '_');
    const size_t j = i + word.size();
    const bool right = j >= s.size() || !(isalnum((unsigned char)s[j]) || s[j] == '_');
    return left && right;
}

static std::string rewrite_asm(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size();) {
        const char c = s[i];
        if (c == '"' || c == '\'') {
            const size_t j = skip_literal(s, i);
            out += s.substr(i, j - i);
            i = j;
            continue;
        }
        if (c == '/' && i + 1 < s.size() && s[i + 1] == '/') {
            const size_t j = s.find('\n', i);
            out += s.substr(i, j - i);
            i = j;
            continue;
        }
        if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
            const size_t j = s.find("*/", i) + 2;
            out += s.substr(i, j - i);
            i = j;
            continue;
        }
        if (word_at(s, i, "asm")) {
            size_t j = i + 3;
            while (isspace((unsigned char)s[j])) j++;
            if (word_at(s, j, "volatile")) j += 8;
            while (isspace((unsigned char)s[j])) j++;
            if (s[j] != '(') { out += c; i++; continue; }
            // The matching parenthesis.
            int depth = 0;
            size_t k = j;
            for (; k < s.size();) {
                if (s[k] == '"' || s[k] == '\'') { k = skip_literal(s, k); continue; }
                if (s[k] == '(') depth++;
                if (s[k] == ')' && --depth == 0) break;
                k++;
            }
            std::vector<std::string> sections = split_top(s.substr(j + 1, k - j - 1), ':');
            // "a" "::" "b": split_top keeps literals whole, but `::` between sections (no outputs) yields empties.
            while (sections.size() < 3) sections.push_back("");
            out += "emu_asm(" + trim(sections[0]) + ", " + operands(sections[1], true) + ", " +
                   operands(sections[2], false) + ")";
            i = k + 1;
            continue;
        }
        out += c;
        i++;
    }
    return out;
}

int main(int argc, char** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: gen_sources IN.cu OUT.cu\n");
        return 2;
    }
    std::ifstream in(argv[1]);
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::string s = buffer.str();
    s = replace_all(s, "extern __shared__ __align__(128) unsigned char shared[];",
                    "unsigned char* shared = emu_dynamic_shared();");
    s = replace_all(s, "__shared__ ", "static ");
    s = replace_all(s, "extern \"C\" ", "");
    s = rewrite_asm(s);
    std::ofstream(argv[2]) << s;
    return 0;
}
