// Executes the inline PTX that gen_sources turned into emu_asm(text, outputs, inputs) calls: the instruction text
// is parsed (mnemonic, operand list with %n references, vector operands, immediates), so the emulator runs what the
// kernel wrote, operand order and immediates included. Semantics from the PTX ISA:
//
//  mma.sp::ordered_metadata.sync.aligned.m16n8k32.row.col.f32.{f16,bf16}.{f16,bf16}.f32 d, a, b, c, e, selector
//    A 16x32 2:4-sparse, stored compressed 16x16 in the m16n8k16 A layout (a0: row g, k 2t..2t+1; a1: row g+8;
//    a2: row g, k 2t+8..; a3: row g+8, k 2t+8..), k being the compressed column: compressed columns 2q, 2q+1 are the
//    two kept values of dense group q (dense columns 4q..4q+3). B 32x8: b_j holds k = 2t + 8j (+1), column g.
//    C/D: c0, c1 row g, columns 2t, 2t+1; c2, c3 row g+8. Metadata: the thread pair t = 2*selector, 2*selector+1 of
//    each group of four lanes; lane 4g + 2*selector + h holds dense columns 16h..16h+15 of row g in bits 0..15 and of
//    row g+8 in bits 16..31, one nibble (i0 | i1 << 2) per group of four. The ordered variant requires i0 < i1:
//    any other nibble is undefined behaviour, which the emulator makes visible by poisoning the group with NaN.
//  wgmma.mma_async.sp.sync.aligned.m64nNk32.f32.{f16,bf16}.{f16,bf16} d, a, b-desc, e, selector, scale-d,
//    imm-scale-a, imm-scale-b, imm-trans-b
//    A from registers: warp w of the warpgroup holds rows 16w..16w+15 with mma.sp's per-warp fragment and metadata
//    layouts. B (32 x N, K-major unless imm-trans-b) in shared memory through a matrix descriptor: start address
//    (bits 0-13), leading byte offset (16-29, K direction), stride byte offset (32-45, N direction), all >> 4, base
//    offset (49-51), swizzle (62-63: 0 none, 1 128-byte, 2 64-byte, 3 32-byte). Without swizzle an 8x8 core matrix
//    (8 rows of N, 16 bytes of K) is 128 contiguous bytes; with swizzle rows are the swizzle width apart and the
//    16-byte chunk index is XORed with address bits 7.. (the row within the 8-row atom). D: thread (w, g, t) holds
//    d[4j + i] = D[16w + g + 8(i >> 1)][8j + 2t + (i & 1)].
//    Asynchrony: the accumulators are in flight from mma_async until a wait_group that covers its commit group;
//    the emulator sets them to NaN meanwhile (a kernel that reads them early reads NaN) and reads B from shared
//    memory only when the wait retires the group (a kernel that overwrites the stage early gets wrong sums).
//    wgmma.fence must separate register writes (ldmatrix into A fragments here) from a later mma_async, and
//    fence.proxy.async must separate cp.async writes to shared memory from wgmma's reads: both are checked.
#pragma once
#include <initializer_list>
#include <string>

struct EmuOperand {
    bool output;
    char type;  // constraint letter: f, r, l, h, n
    void* pointer;
    unsigned long long bits;
};

template <typename T>
inline EmuOperand emu_out(const char* constraint, T& target) {
    EmuOperand o{true, constraint[strlen(constraint) - 1], &target, 0};
    memcpy(&o.bits, &target, sizeof(T));
    return o;
}
template <typename T>
inline EmuOperand emu_in(const char* constraint, T value) {
    EmuOperand o{false, constraint[strlen(constraint) - 1], nullptr, 0};
    memcpy(&o.bits, &value, sizeof(T));
    return o;
}

[[noreturn]] inline void emu_ptx_fail(const std::string& what) {
    fprintf(stderr, "emulator: PTX: %s\n", what.c_str());
    abort();
}

// One parsed instruction: mnemonic and arguments, each a list of tokens (a vector operand has several).
struct EmuInstruction {
    std::string mnemonic;
    std::vector<std::vector<std::string>> args;
};

EMU_RUNTIME std::string emu_trim(const std::string& s)
#if EMU_RUNTIME_BODIES
{
    size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
    return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}
#else
;
#endif

EMU_RUNTIME std::vector<EmuInstruction> emu_parse_ptx(const std::string& text)
#if EMU_RUNTIME_BODIES
{
    std::string body = emu_trim(text);
    // A { ... } scope around the statements.
    if (!body.empty() && body.front() == '{' && body.back() == '}') body = body.substr(1, body.size() - 2);
    std::vector<EmuInstruction> out;
    size_t start = 0;
    while (start < body.size()) {
        size_t end = body.find(';', start);
        if (end == std::string::npos) end = body.size();
        std::string statement = emu_trim(body.substr(start, end - start));
        start = end + 1;
        if (statement.empty()) continue;
        EmuInstruction instruction;
        size_t space = statement.find_first_of(" \t\n");
        instruction.mnemonic = statement.substr(0, space);
        std::string rest = space == std::string::npos ? "" : statement.substr(space);
        std::vector<std::string> current;
        std::string token;
        int depth = 0;
        auto flush_token = [&] {
            std::string t = emu_trim(token);
            if (!t.empty()) current.push_back(t);
            token.clear();
        };
        for (char c : rest) {
            if (c == '{') { depth++; continue; }
            if (c == '}') { depth--; flush_token(); continue; }
            if (c == ',') {
                flush_token();
                if (depth == 0) { instruction.args.push_back(current); current.clear(); }
                continue;
            }
            token += c;
        }
        flush_token();
        if (!current.empty()) instruction.args.push_back(current);
        out.push_back(instruction);
    }
    return out;
}
#else
;
#endif

struct EmuAsm {
    std::vector<EmuOperand> operands;
    const EmuOperand& ref(const std::string& token) const {
        if (token.empty() || token[0] != '%') emu_ptx_fail("expected an operand reference, got '" + token + "'");
        const size_t i = std::stoul(token.substr(1));
        if (i >= operands.size()) emu_ptx_fail("operand " + token + " out of range");
        return operands[i];
    }
    unsigned long long value(const std::string& token) const {
        if (!token.empty() && token[0] == '%') return ref(token).bits;
        return std::stoull(token, nullptr, 0);
    }
    float* f32(const std::string& token) const {
        const EmuOperand& o = ref(token);
        if (!o.output || o.type != 'f') emu_ptx_fail("operand " + token + " must be a read-write f32 register");
        return (float*)o.pointer;
    }
};

EMU_RUNTIME int emu_ptx_dtype(const std::string& mnemonic, const std::string& types_after)
#if EMU_RUNTIME_BODIES
{
    const size_t at = mnemonic.find(types_after);
    const std::string tail = mnemonic.substr(at + types_after.size());
    if (tail.rfind(".bf16.bf16", 0) == 0) return LACUNA_DTYPE_bf16;
    if (tail.rfind(".f16.f16", 0) == 0) return LACUNA_DTYPE_f16;
    emu_ptx_fail("unsupported operand types in " + mnemonic);
}
#else
;
#endif

inline float emu_decode16(int dtype, unsigned short v) {
    return dtype == LACUNA_DTYPE_bf16 ? emu_bf16_to_float(v) : emu_half_to_float(v);
}

// Row r (0..15) of one warp's dense 16x32 A from its 32 lanes' compressed fragments and metadata (see the file
// comment). Groups whose nibble the ordered instruction does not define become NaN.
EMU_RUNTIME void emu_sparse_a_row(int dtype, const unsigned (*a)[4], const unsigned* e, int selector, int r, float* dense)
#if EMU_RUNTIME_BODIES
{
    for (int c = 0; c < 32; c++) dense[c] = 0.0f;
    for (int q = 0; q < 8; q++) {
        const int lane = 4 * (r % 8) + 2 * selector + q / 4;
        const unsigned nibble = (e[lane] >> ((r >= 8 ? 16 : 0) + 4 * (q % 4))) & 0xF;
        const int i0 = nibble & 3, i1 = nibble >> 2;
        // Compressed columns 2q, 2q+1 of row r: lane (g = r % 8, t = q % 4), register by row half and q / 4.
        const int owner = 4 * (r % 8) + q % 4;
        const unsigned reg = a[owner][(r >= 8 ? 1 : 0) + (q >= 4 ? 2 : 0)];
        if (i0 >= i1) {
            for (int j = 0; j < 4; j++) dense[4 * q + j] = NAN;
            continue;
        }
        dense[4 * q + i0] = emu_decode16(dtype, reg & 0xFFFF);
        dense[4 * q + i1] = emu_decode16(dtype, reg >> 16);
    }
}
#else
;
#endif

EMU_RUNTIME void emu_mma_sp_m16n8k32(const EmuAsm& x, const EmuInstruction& in)
#if EMU_RUNTIME_BODIES
{
    const int dtype = emu_ptx_dtype(in.mnemonic, ".row.col.f32");
    if (in.mnemonic.find(".f32", in.mnemonic.size() - 4) == std::string::npos)
        emu_ptx_fail("only f32 accumulators are emulated: " + in.mnemonic);
    if (in.args.size() != 6 || in.args[0].size() != 4 || in.args[1].size() != 4 || in.args[2].size() != 4 ||
        in.args[3].size() != 4)
        emu_ptx_fail("mma.sp m16n8k32 takes {d0..d3}, {a0..a3}, {b0..b3}, {c0..c3}, e, selector");
    const int selector = (int)x.value(in.args[5][0]);
    if (selector < 0 || selector > 1) emu_ptx_fail("sparsity selector of m16n8k32 f16/bf16 must be 0 or 1");
    EmuWarp& w = emu().warps[emu_warp()];
    const int lane = emu_lane();
    for (int i = 0; i < 4; i++) w.wide[lane][i] = (unsigned)x.value(in.args[1][i]);
    for (int i = 0; i < 4; i++) w.wide[lane][4 + i] = (unsigned)x.value(in.args[2][i]);
    w.wide[lane][8] = (unsigned)x.value(in.args[4][0]);
    w.wide[lane][9] = (unsigned)selector;
    float c[4];
    for (int i = 0; i < 4; i++) {
        const unsigned long long bits = x.value(in.args[3][i]);
        memcpy(&c[i], &bits, 4);
    }
    emu_warp_barrier();
    unsigned a[32][4], e[32];
    for (int l = 0; l < 32; l++) {
        if ((int)w.wide[l][9] != selector) emu_ptx_fail("lanes of one mma.sp disagree on the sparsity selector");
        for (int i = 0; i < 4; i++) a[l][i] = w.wide[l][i];
        e[l] = w.wide[l][8];
    }
    const int g = lane >> 2, t = lane & 3;
    float A[16][32];
    emu_sparse_a_row(dtype, a, e, selector, g, A[g]);
    emu_sparse_a_row(dtype, a, e, selector, g + 8, A[g + 8]);
    // Column g of B for this lane's outputs: B[k][n] from lane 4n + (k % 8) / 2, register k / 8, half k % 2.
    float d[4];
    for (int r = 0; r < 4; r++) {
        const int row = g + 8 * (r >> 1), col = 2 * t + (r & 1);
        double acc = 0;
        for (int k = 0; k < 32; k++) {
            const unsigned reg = w.wide[4 * col + (k % 8) / 2][4 + k / 8];
            acc += (double)A[row][k] * emu_decode16(dtype, (k & 1) ? reg >> 16 : reg & 0xFFFF);
        }
        d[r] = (float)(c[r] + acc);
    }
    emu_warp_barrier();
    for (int i = 0; i < 4; i++) *x.f32(in.args[0][i]) = d[i];
}
#else
;
#endif

// Byte address in shared memory of B[k][n] (K-major: N rows of K) through a wgmma matrix descriptor.
EMU_RUNTIME unsigned emu_descriptor_address(unsigned long long desc, int k, int n, bool trans)
#if EMU_RUNTIME_BODIES
{
    const unsigned start = (unsigned)(desc & 0x3FFF) << 4;
    const unsigned leading = (unsigned)((desc >> 16) & 0x3FFF) << 4;
    const unsigned stride = (unsigned)((desc >> 32) & 0x3FFF) << 4;
    const unsigned base_offset = (unsigned)((desc >> 49) & 7);
    const unsigned mode = (unsigned)(desc >> 62);
    if (base_offset != 0) emu_ptx_fail("matrix descriptor base offset other than 0 is not emulated");
    // Element (row, col) of the stored layout: rows run along the strided dimension, 16-byte chunks along the leading.
    const int row = trans ? k : n, col = trans ? n : k;
    if (mode == 0) {
        return start + (row / 8) * stride + (col / 8) * leading + (row % 8) * 16 + (col % 8) * 2;
    }
    const unsigned width = mode == 1 ? 128 : mode == 2 ? 64 : 32;
    const unsigned per_row = width / 2;  // elements per swizzle row
    unsigned address = start + (row / 8) * stride + (col / per_row) * leading + (row % 8) * width + (col % per_row) * 2;
    const unsigned mask = width / 16 - 1;
    return address ^ (((address >> 7) & mask) << 4);
}
#else
;
#endif

EMU_RUNTIME void emu_wgmma_compute(EmuWgmmaOp& op)
#if EMU_RUNTIME_BODIES
{
    op.product.assign(64 * op.n, 0.0f);
    for (int warp = 0; warp < 4; warp++) {
        float A[16][32];
        for (int r = 0; r < 16; r++) emu_sparse_a_row(op.dtype, op.a + 32 * warp, op.e + 32 * warp, op.selector, r, A[r]);
        for (int r = 0; r < 16; r++) {
            for (int col = 0; col < op.n; col++) {
                double acc = 0;
                for (int k = 0; k < 32; k++) {
                    const unsigned address = emu_descriptor_address(op.descriptor, k, col, op.trans_b);
                    if (address + 2 > emu().dynamic_shared.size() - 16)
                        emu_ptx_fail("wgmma B operand address " + std::to_string(address) + " outside shared memory");
                    unsigned short v;
                    memcpy(&v, emu_dynamic_shared() + address, 2);
                    acc += (double)A[r][k] * emu_decode16(op.dtype, v);
                }
                op.product[(16 * warp + r) * op.n + col] = (float)(acc * op.scale_a * op.scale_b);
            }
        }
    }
    op.computed = true;
}
#else
;
#endif

EMU_RUNTIME void emu_wgmma_mma_async(const EmuAsm& x, const EmuInstruction& in)
#if EMU_RUNTIME_BODIES
{
    const std::string& m = in.mnemonic;
    if (m.find(".sp.") == std::string::npos || m.find("k32.") == std::string::npos || m.find(".m64n") == std::string::npos)
        emu_ptx_fail("only wgmma.mma_async.sp m64nNk32 is emulated: " + m);
    const int n = std::stoi(m.substr(m.find(".m64n") + 5));
    const int dtype = emu_ptx_dtype(m, "k32.f32");
    if (in.args.size() != 9 || (int)in.args[0].size() != n / 2 || in.args[1].size() != 4)
        emu_ptx_fail("wgmma.mma_async.sp with A in registers takes d, a, b-desc, e, selector, scale-d, imm-scale-a, "
                     "imm-scale-b, imm-trans-b");
    EmuState& s = emu();
    EmuFiber& f = *s.current;
    if (!f.wg_fenced) emu_ptx_fail("wgmma.mma_async after a register write without wgmma.fence");
    for (const EmuFiber& other : s.fibers)
        if (other.proxy_dirty)
            emu_ptx_fail("wgmma reads shared memory that cp.async wrote without fence.proxy.async since");
    EmuWarpgroup& group = s.warpgroups[threadIdx.x / 128];
    const int index = f.wg_issued++;
    if ((int)group.ops.size() <= index) group.ops.resize(index + 1);
    EmuWgmmaOp& op = group.ops[index];
    const int me = threadIdx.x % 128;
    const int selector = (int)x.value(in.args[4][0]);
    const unsigned long long descriptor = x.value(in.args[2][0]);
    const int scale_d = (int)x.value(in.args[5][0]);
    const int scale_a = (int)(long long)x.value(in.args[6][0]), scale_b = (int)(long long)x.value(in.args[7][0]);
    const int trans_b = (int)x.value(in.args[8][0]);
    if (op.issued == 0) {
        op.n = n, op.dtype = dtype, op.selector = selector, op.descriptor = descriptor, op.scale_d = scale_d;
        op.scale_a = scale_a, op.scale_b = scale_b, op.trans_b = trans_b;
        if (selector < 0 || selector > 1) emu_ptx_fail("sparsity selector must be 0 or 1");
    } else if (op.n != n || op.selector != selector || op.descriptor != descriptor || op.scale_d != scale_d ||
               op.trans_b != trans_b || op.dtype != dtype) {
        emu_ptx_fail("threads of one warpgroup issue different wgmma.mma_async operands (the instruction is .aligned)");
    }
    op.issued++;
    for (int i = 0; i < 4; i++) op.a[me][i] = (unsigned)x.value(in.args[1][i]);
    op.e[me] = (unsigned)x.value(in.args[3][0]);
    // The accumulators go in flight: their value lives in the async unit, the registers read NaN until the wait.
    for (int i = 0; i < n / 2; i++) {
        float* reg = x.f32(in.args[0][i]);
        bool known = false;
        for (auto& entry : f.wg_in_flight) known = known || entry.first == reg;
        if (!known) f.wg_in_flight.push_back({reg, *reg});
        *reg = NAN;
    }
    // Remember which registers this op accumulates into (in issue order, per thread).
    f.wg_ops_registers.push_back({});
    for (int i = 0; i < n / 2; i++) f.wg_ops_registers.back().push_back(x.f32(in.args[0][i]));
}
#else
;
#endif

EMU_RUNTIME void emu_wgmma_wait(int pending)
#if EMU_RUNTIME_BODIES
{
    EmuState& s = emu();
    EmuFiber& f = *s.current;
    emu_warpgroup_barrier();  // .sync.aligned: the whole warpgroup waits together
    EmuWarpgroup& group = s.warpgroups[threadIdx.x / 128];
    const int groups = (int)f.wg_group_ends.size();
    const int retire_to = groups > pending ? f.wg_group_ends[groups - pending - 1] : f.wg_completed;
    const int me = threadIdx.x % 128, warp = me / 32, lane = me % 32, g = lane >> 2, t = lane & 3;
    for (int index = f.wg_completed; index < retire_to; index++) {
        EmuWgmmaOp& op = group.ops[index];
        if (op.issued != 128) emu_ptx_fail("a wgmma.mma_async was not issued by all 128 threads of the warpgroup");
        if (!op.computed) emu_wgmma_compute(op);
        const std::vector<float*>& registers = f.wg_ops_registers[index];
        for (int i = 0; i < op.n / 2; i++) {
            const int row = 16 * warp + g + 8 * ((i % 4) >> 1), col = 8 * (i / 4) + 2 * t + (i & 1);
            for (auto& entry : f.wg_in_flight) {
                if (entry.first != registers[i]) continue;
                entry.second = (op.scale_d ? entry.second : 0.0f) + op.product[row * op.n + col];
            }
        }
    }
    f.wg_completed = std::max(f.wg_completed, retire_to);
    // Registers no longer used by an op in flight come back.
    std::vector<std::pair<float*, float>> still;
    for (auto& entry : f.wg_in_flight) {
        bool busy = false;
        for (int index = f.wg_completed; index < f.wg_issued; index++)
            for (float* reg : f.wg_ops_registers[index]) busy = busy || reg == entry.first;
        if (busy) still.push_back(entry);
        else *entry.first = entry.second;
    }
    f.wg_in_flight = still;
    emu_warpgroup_barrier();
}
#else
;
#endif

EMU_RUNTIME void emu_asm(const char* text, std::initializer_list<EmuOperand> outputs, std::initializer_list<EmuOperand> inputs)
#if EMU_RUNTIME_BODIES
{
    EmuAsm x;
    x.operands.assign(outputs.begin(), outputs.end());
    x.operands.insert(x.operands.end(), inputs.begin(), inputs.end());
    for (const EmuInstruction& in : emu_parse_ptx(text)) {
        const std::string& m = in.mnemonic;
        if (m.rfind("mma.sp::ordered_metadata.sync.aligned.m16n8k32.row.col.", 0) == 0) {
            emu_mma_sp_m16n8k32(x, in);
        } else if (m.rfind("mma.sp.", 0) == 0) {
            emu_ptx_fail("mma.sp without ::ordered_metadata is not emulated: " + m);
        } else if (m.rfind("wgmma.mma_async.", 0) == 0) {
            emu_wgmma_mma_async(x, in);
        } else if (m == "wgmma.fence.sync.aligned") {
            emu_warpgroup_barrier();
            emu().current->wg_fenced = true;
        } else if (m == "wgmma.commit_group.sync.aligned") {
            emu_warpgroup_barrier();
            emu().current->wg_group_ends.push_back(emu().current->wg_issued);
        } else if (m == "wgmma.wait_group.sync.aligned") {
            if (in.args.size() != 1) emu_ptx_fail("wgmma.wait_group takes one immediate");
            emu_wgmma_wait((int)x.value(in.args[0][0]));
        } else if (m == "fence.proxy.async.shared::cta" || m == "fence.proxy.async") {
            emu().current->proxy_dirty = false;
        } else {
            emu_ptx_fail("instruction not emulated: " + m);
        }
    }
}
#else
;
#endif
