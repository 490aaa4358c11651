#!/usr/bin/env bash
# Runs every shipped kernel, in every variant its `lacuna-variants` line declares, on the CPU in an emulator of the
# CUDA subset the kernels use, against double-precision references; then checks that deliberately broken kernels
# (mutants.sh) are caught. Needs g++ (C++17) and bash; the Maven build runs it (kernels module, KernelEmulationTest).
#
#   kernels/src/test/emulator/run.sh [SEED [FIXTURE_DIR]]
#
# FIXTURE_DIR holds the cases the Java side wrote (runtime's KernelEmulationTest, under
# runtime/target/kernel-emulation/fixtures): the fixture-driven tests need it and fail when they ran none of its cases.
# Environment: LACUNA_EMU_BUILD (build folder), LACUNA_EMU_JOBS (parallel builds and runs, default 2),
# LACUNA_EMU_MUTANTS=0 skips the mutation check, LACUNA_EMU_ONLY=REGEX builds only the matching variants.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KERNELS="$(cd "$HERE/../../main/resources/org/lacuna/kernels" && pwd)"
BUILD="${LACUNA_EMU_BUILD:-${TMPDIR:-/tmp}/lacuna-kernel-emulator}"
SEED="${1:-1}"
FIXTURES="${2:-}"
JOBS="${LACUNA_EMU_JOBS:-2}"
CXX="${CXX:-g++}"
mkdir -p "$BUILD/gen" "$BUILD/bin" "$BUILD/log"
# One run at a time per build folder: a second waits, then finds the first one's binaries in the cache.
if command -v flock > /dev/null; then exec 9> "$BUILD/.lock"; flock 9; fi
rm -f "$BUILD"/gen/* "$BUILD"/log/*

"$CXX" -O1 -std=c++17 "$HERE/gen_sources.cpp" -o "$BUILD/gen_sources"
# Host C++ copies of the kernels (and of the shipped headers the emulator does not replace with inc/).
for f in "$KERNELS"/*.cu "$KERNELS"/*.cuh; do
    name="$(basename "$f")"
    [[ -e "$HERE/inc/$name" ]] && continue
    "$BUILD/gen_sources" "$f" "$BUILD/gen/$name"
done

variants() { sed -n 's|^// lacuna-variants: ||p' "$KERNELS/$1" | tr '|' '\n' | sed 's/^ *//; s/ *$//' | grep -v '^$' || true; }
defines() { local d=""; for kv in $1; do d+=" -D$kv"; done; echo "$d"; }
slug() { echo "$1" | tr ' =' '_-'; }

FLAGS="-O1 -std=c++17 -Wno-unknown-pragmas -I$HERE/inc -I$BUILD"
BUILDS=()   # "binary|source|defines"
COVERED=()  # kernel files with a test
add() { BUILDS+=("$1|$2|$3"); }

# Attention: each flash_attention variant with the key_attention mode of the same dtype and head size (cls with
# CAUSAL=0, mean with CAUSAL=1); a key_attention variant left over gets its own build.
declare -A attention_built=()
for v in $(variants flash_attention.cu | tr ' ' ','); do
    v="${v//,/ }"
    mode=cls; [[ "$v" == *CAUSAL=1* ]] && mode=mean
    add "attention_$(slug "$v")_$mode" test_attention.cpp "$(defines "$v MODE=$mode")"
    t="$(echo "$v" | sed 's/.*T_IN=\([a-z0-9]*\).*/\1/')"; d="$(echo "$v" | sed 's/.*HEAD_DIM=\([0-9]*\).*/\1/')"
    attention_built["$t $d $mode"]=1
done
for v in $(variants key_attention.cu | tr ' ' ','); do
    v="${v//,/ }"
    t="$(echo "$v" | sed 's/.*T_IN=\([a-z0-9]*\).*/\1/')"; d="$(echo "$v" | sed 's/.*HEAD_DIM=\([0-9]*\).*/\1/')"
    m="$(echo "$v" | sed 's/.*MODE=\([a-z]*\).*/\1/')"
    [[ -n "${attention_built["$t $d $m"]:-}" ]] && continue
    add "attention_$(slug "$v")" test_attention.cpp "$(defines "$v CAUSAL=0")"
done
COVERED+=(flash_attention.cu key_attention.cu)

for v in $(variants two_four_gemm.cu | tr ' ' ','); do
    v="${v//,/ }"; add "two_four_$(slug "$v")" test_two_four_gemm.cpp "$(defines "$v SM=80")"
done
for v in $(variants two_four_gemm_sm90.cu | tr ' ' ','); do
    v="${v//,/ }"; add "two_four_sm90_$(slug "$v")" test_two_four_gemm.cpp "$(defines "$v SM=90")"
done
COVERED+=(two_four_gemm.cu two_four_gemm_sm90.cu)

for v in $(variants gather_scatter.cu | tr ' ' ','); do
    v="${v//,/ }"; add "select_$(slug "$v")" test_select.cpp "$(defines "$v")"
done
COVERED+=(token_select.cu gather_scatter.cu)

# Gather-GEMM-scatter: its two input types, each finished by the finish variants of the matching output type.
if [[ -e "$KERNELS/sparseconv_gather_scatter.cu" ]]; then
    if [[ -e "$KERNELS/sparseconv_finish.cu" ]]; then
        for v in $(variants sparseconv_finish.cu | tr ' ' ','); do
            v="${v//,/ }"
            t_in=f32; [[ "$v" == *T_OUT=f16* ]] && t_in=f16
            add "sparseconv_gather_$(slug "$v")" test_sparseconv.cpp "$(defines "$v T_IN=$t_in DATAFLOW=0")"
        done
        COVERED+=(sparseconv_finish.cu)
    else
        for v in $(variants sparseconv_gather_scatter.cu | tr ' ' ','); do
            v="${v//,/ }"; add "sparseconv_gather_$(slug "$v")" test_sparseconv.cpp "$(defines "$v DATAFLOW=0")"
        done
    fi
    COVERED+=(sparseconv_gather_scatter.cu)
fi
for v in $(variants sparseconv_implicit_gemm.cu | tr ' ' ','); do
    v="${v//,/ }"; add "sparseconv_implicit_$(slug "$v")" test_sparseconv.cpp "$(defines "$v DATAFLOW=1")"
done
COVERED+=(sparseconv_implicit_gemm.cu)
add sparseconv_map test_sparseconv_map.cpp ""
COVERED+=(sparseconv_map.cu)
for v in $(variants voxelize.cu | tr ' ' ','); do
    v="${v//,/ }"; add "voxelize_$(slug "$v")" test_voxelize.cpp "$(defines "$v")"
done
COVERED+=(voxelize.cu)

# The small kernels: every variant in one translation unit, each in its own namespace (compiles once, not 33 times),
# each launched as the Java side recorded it (test_small.h, launch.h).
SMALL="$BUILD/gen/test_small_all.cpp"
{
    echo "#include \"$HERE/inc/lacuna_common.cuh\""
    echo "#include \"$HERE/test_small.h\""
    calls=()
    i=0
    small_kernel() {  # file (its entry point has the file's name)
        local file="$1"
        [[ -e "$KERNELS/$file" ]] || return 0
        for v in $(variants "$file" | tr ' ' ','); do
            v="${v//,/ }"
            echo "namespace small_$i {"
            for kv in $v; do echo "#define ${kv%%=*} ${kv#*=}"; done
            echo "#include \"gen/$file\""
            echo "void test(const char* root) { run_recorded_cases(root, \"$file\", \"$v\", BLOCK, ${file%.cu}); }"
            echo "}"
            for kv in $v BLOCK=; do echo "#undef ${kv%%=*}"; done
            calls+=("small_$i::test(root);")
            i=$((i + 1))
        done
    }
    for file in cast.cu bias_activation.cu residual_add.cu row_reduce.cu batch_norm.cu concat_columns.cu layer_norm.cu; do
        small_kernel "$file"
    done
    echo 'int main(int argc, char** argv) {'
    echo '    const char* root = argc > 2 ? argv[2] : nullptr;'
    for c in "${calls[@]}"; do echo "    $c"; done
    echo '    return finish_small(root);'
    echo '}'
} > "$SMALL"
add small_kernels "$SMALL" ""
COVERED+=(cast.cu bias_activation.cu residual_add.cu row_reduce.cu batch_norm.cu concat_columns.cu layer_norm.cu)

if [[ -n "${LACUNA_EMU_ONLY:-}" ]]; then  # a regular expression over the build names, while working on one kernel
    selected=()
    for b in "${BUILDS[@]}"; do [[ "${b%%|*}" =~ $LACUNA_EMU_ONLY ]] && selected+=("$b"); done
    BUILDS=("${selected[@]}")
fi

# The shared prelude, precompiled once (every build includes it first), and a cache: a binary is rebuilt only when
# its key changes (the compiler, the flags, the emulator's sources, the generated kernels, its own defines).
if command -v sha256sum > /dev/null; then hash() { sha256sum | cut -c1-32; }; else hash() { cksum | tr -d ' '; }; fi
# SOURCES_KEY covers the emulator itself; a binary's key adds its test source and the generated kernels it includes.
SOURCES_KEY="$( { "$CXX" --version; echo "$FLAGS"; cat "$HERE"/*.h "$HERE"/inc/* "$HERE/emu_runtime.cpp" "$BUILD"/gen/*.cuh; } | hash)"
# The emulator's own large functions are compiled once, optimised, into emu_runtime.o (see cuda_emu.h).
FLAGS="$FLAGS -DLACUNA_EMU_RUNTIME_OBJECT"
mkdir -p "$BUILD/pch"
echo "#include \"$HERE/emu_prelude.h\"" > "$BUILD/pch/emu_prelude.h"
if [[ "$(cat "$BUILD/pch/key" 2>/dev/null)" != "$SOURCES_KEY" ]]; then
    rm -f "$BUILD/pch/key"
    # shellcheck disable=SC2086
    { $CXX $FLAGS -x c++-header "$BUILD/pch/emu_prelude.h" -o "$BUILD/pch/emu_prelude.h.gch" &
      $CXX -O2 -std=c++17 -Wno-unknown-pragmas -I"$HERE/inc" -I"$BUILD" -c "$HERE/emu_runtime.cpp" -o "$BUILD/pch/emu_runtime.o" &
      wait -n && wait -n; } || { echo "kernel emulation: the emulator itself does not compile" >&2; exit 1; }
    echo "$SOURCES_KEY" > "$BUILD/pch/key"
fi
FLAGS="$FLAGS -Winvalid-pch -include $BUILD/pch/emu_prelude.h $BUILD/pch/emu_runtime.o"

# Build JOBS at a time, each binary run as soon as it is built (a build waits for no other test's run).
build_and_run() {
    IFS='|' read -r name source defs <<< "$1"
    [[ "$source" == /* ]] || source="$HERE/$source"
    local key
    key="$( { echo "$SOURCES_KEY|$source|$defs"; cat "$source";
              grep -o 'gen/[A-Za-z0-9_]*\.cu' "$source" | sort -u | sed "s|^|$BUILD/|" | xargs cat; } | hash)"
    if [[ ! -x "$BUILD/bin/$name" || "$(cat "$BUILD/bin/$name.key" 2>/dev/null)" != "$key" ]]; then
        rm -f "$BUILD/bin/$name.key"
        # shellcheck disable=SC2086
        if ! $CXX $FLAGS $defs "$source" -o "$BUILD/bin/$name" > "$BUILD/log/$name.build" 2>&1; then
            { echo "FAILED $name (build)"; head -30 "$BUILD/log/$name.build" | sed 's/^/       /'; } > "$BUILD/log/$name.result"
            return 0
        fi
        echo "$key" > "$BUILD/bin/$name.key"
    fi
    # shellcheck disable=SC2086
    if "$BUILD/bin/$name" "$SEED" ${FIXTURES:+"$FIXTURES"} > "$BUILD/log/$name.out" 2>&1; then
        echo "ok     $name: $(tail -1 "$BUILD/log/$name.out")" > "$BUILD/log/$name.result"
    else
        { echo "FAILED $name"; sed 's/^/       /' "$BUILD/log/$name.out" | tail -25; } > "$BUILD/log/$name.result"
    fi
}
export -f build_and_run hash
export CXX FLAGS BUILD HERE SEED FIXTURES SOURCES_KEY
(( ${#BUILDS[@]} )) && printf '%s\n' "${BUILDS[@]}" | xargs -d '\n' -P "$JOBS" -I{} bash -c 'build_and_run "$@"' _ {}

failed=()
for b in "${BUILDS[@]}"; do
    name="${b%%|*}"
    result="$(cat "$BUILD/log/$name.result" 2>/dev/null || echo "FAILED $name (no result)")"
    echo "$result"
    [[ "$result" == ok* ]] || failed+=("$name")
done

not_emulated=()
for f in "$KERNELS"/*.cu; do
    name="$(basename "$f")"
    [[ " ${COVERED[*]} " == *" $name "* ]] || not_emulated+=("$name")
done
if (( ${#not_emulated[@]} )); then
    echo "kernel emulation: NOT EMULATED (no test yet): ${not_emulated[*]}"
fi

if [[ "${LACUNA_EMU_MUTANTS:-1}" != 0 ]]; then
    if ! "$HERE/mutants.sh" "$BUILD" "$FLAGS" "$SOURCES_KEY"; then failed+=(mutants); fi
fi

if (( ${#failed[@]} )); then
    echo "kernel emulation: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "kernel emulation: all ${#BUILDS[@]} builds passed"
