#!/usr/bin/env bash
# Runs the attention family's kernels on the CPU, in an emulator of the CUDA subset they use, against
# double-precision references: every variant of flash_attention.cu and key_attention.cu, token_select.cu and
# gather_scatter.cu, layer_norm.cu. For machines without a GPU; needs g++ (C++17). Not part of the Maven build.
#
#   kernels/src/test/emulator/run.sh [SEED]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KERNELS="$HERE/../../main/resources/org/lacuna/kernels"
BUILD="${TMPDIR:-/tmp}/lacuna-kernel-emulator"
SEED="${1:-1}"
mkdir -p "$BUILD/gen"
# Device-only spellings become host C++: dynamic shared memory is the emulator's per-CTA buffer, static shared arrays
# become statics (one CTA runs at a time), entry points lose their C linkage (several files share helper names).
for f in "$KERNELS"/*.cu; do
    sed -e 's/extern __shared__ __align__(128) unsigned char shared\[\];/unsigned char* shared = emu_dynamic_shared();/' \
        -e 's/__shared__ /static /' -e 's/extern "C" //' "$f" > "$BUILD/gen/$(basename "$f")"
done
FLAGS=(-O1 -std=c++17 -Wno-unknown-pragmas -I"$HERE/inc" -I"$BUILD")
build() {
    local name="$1" source="$2"
    shift 2
    g++ "${FLAGS[@]}" "$@" "$HERE/$source" -o "$BUILD/$name"
}
failed=0
run() {
    if ! "$BUILD/$1" "$SEED"; then
        failed=1
    fi
}
for T in f16 bf16; do for D in 64 128; do for C in 0 1; do for M in cls mean; do
    build "attention_${T}_${D}_${C}_${M}" test_attention.cpp -DT_IN=$T -DHEAD_DIM=$D -DCAUSAL=$C -DMODE=$M &
done; wait; done; done; done
for U in 16 8 4 2; do build "select_$U" test_select.cpp -DUNIT=$U & done; wait
for V in "f32 f32" "f16 f16" "bf16 f32"; do
    set -- $V
    build "layer_norm_$1_$2" test_layer_norm.cpp -DT_IN=$1 -DT_OUT=$2
done
for T in f16 bf16; do for D in 64 128; do for C in 0 1; do for M in cls mean; do
    run "attention_${T}_${D}_${C}_${M}"
done; done; done; done
for U in 16 8 4 2; do run "select_$U"; done
for V in "f32_f32" "f16_f16" "bf16_f32"; do run "layer_norm_$V"; done
if (( failed )); then
    echo "kernel emulation: FAILED" >&2
    exit 1
fi
echo "kernel emulation: all passed"
