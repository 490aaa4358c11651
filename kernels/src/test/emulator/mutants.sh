#!/usr/bin/env bash
# The mutation check: deliberately broken copies of shipped kernels, each of which the emulated tests must reject
# (a failed check or an emulator abort). A mutant that passes means the tests cannot see that kind of bug.
#
#   mutants.sh BUILD FLAGS KEY   (run.sh calls it after the suite: the generated sources in BUILD/gen, its compiler
#                                 flags with the precompiled prelude, and the key of its sources for the build cache;
#                                 FIXTURES in the environment: the Java side's cases, which the mutants run too)
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="$1"
FLAGS="$2"
SOURCES_KEY="$3"
CXX="${CXX:-g++}"
JOBS="${LACUNA_EMU_JOBS:-2}"

# name | generated file | sed program | test source | defines
MUTANTS=(
  "selector-pairs-swapped|two_four_gemm.cu|s/mma_sparse<1>(acc/mma_sparse<X>(acc/;s/mma_sparse<0>(acc/mma_sparse<1>(acc/;s/mma_sparse<X>(acc/mma_sparse<0>(acc/|test_two_four_gemm.cpp|-DSM=80 -DT_IN=f16 -DT_OUT=f32 -DACT=none -DBN=32 -DK_ALIGNED=1"
  "metadata-words-swapped|two_four_gemm.cu|s/(i >> 1) ? e1 : e0/(i >> 1) ? e0 : e1/|test_two_four_gemm.cpp|-DSM=80 -DT_IN=f16 -DT_OUT=f32 -DACT=none -DBN=32 -DK_ALIGNED=1"
  "b-k-halves-swapped|two_four_gemm.cu|s/ks \* 4 + (lane >> 3)/ks * 4 + ((lane >> 3) ^ 2)/|test_two_four_gemm.cpp|-DSM=80 -DT_IN=f16 -DT_OUT=f32 -DACT=none -DBN=32 -DK_ALIGNED=1"
  "sm90-metadata-not-shuffled|two_four_gemm_sm90.cu|s/e\[ks\] = (warp_in_group \& 1) ? upper : word;/e[ks] = word;/|test_two_four_gemm.cpp|-DSM=90 -DT_IN=f16 -DT_OUT=f32 -DACT=none -DK_ALIGNED=1"
  "sm90-fence-removed|two_four_gemm_sm90.cu|/^ *wgmma_fence();/d|test_two_four_gemm.cpp|-DSM=90 -DT_IN=f16 -DT_OUT=f32 -DACT=none -DK_ALIGNED=1"
  "sm90-wait-removed|two_four_gemm_sm90.cu|/^ *wgmma_wait_all();/d|test_two_four_gemm.cpp|-DSM=90 -DT_IN=f16 -DT_OUT=f32 -DACT=none -DK_ALIGNED=1"
  "gather-barrier-removed|sparseconv_gather_scatter.cu|BARRIER_BEFORE_INNER_LOOP|test_sparseconv.cpp|-DDATAFLOW=0 -DT_IN=f32 -DT_OUT=f32 -DACT=none"
  "implicit-mma-k-halves-swapped|sparseconv_implicit_gemm.cu|s/b\[ni\]\[1\] = \*reinterpret_cast<const unsigned\*>(\&bs\[n\]\[2 \* t + 8\]);/b[ni][1] = *reinterpret_cast<const unsigned*>(\&bs[n][2 * t]);/|test_sparseconv.cpp|-DDATAFLOW=1 -DT_IN=f16 -DT_OUT=f32 -DACT=none"
  "voxel-radix-unstable|lacuna_radix_sort.cuh|s/for (int u = 0; u < (int)threadIdx.x; u++)/for (int u = (int)threadIdx.x + 1; u < BLOCK; u++)/|test_voxelize.cpp|-DBLOCK=256"
  "map-radix-unstable|lacuna_radix_sort.cuh|s/for (int u = 0; u < (int)threadIdx.x; u++)/for (int u = (int)threadIdx.x + 1; u < BLOCK; u++)/|test_sparseconv_map.cpp|"
  "voxel-first-by-race|voxelize.cu|s/atomicMin(slot_first + slot, (unsigned int)i);/slot_first[slot] = (unsigned int)i;/|test_voxelize.cpp|-DBLOCK=256"
  "downsample-floors-toward-zero|sparseconv_map.cu|s/-((-c\[axis\] + s\[axis\] - 1) \/ s\[axis\])/c[axis] \/ s[axis]/|test_sparseconv_map.cpp|"
  "map-scan-inclusive|sparseconv_map.cu|s/carry + partial\[t\] - value/carry + partial[t]/|test_sparseconv_map.cpp|"
  "layer-norm-epsilon-as-double|layer_norm.cu|s/long long cols, float epsilon)/long long cols, double epsilon)/|SMALL|"
  "duplicate-report-by-race|sparseconv_map.cu|s/atomicMax(duplicate, max(other, (int)i) + 1);/atomicMax(duplicate, (int)i + 1);/|test_sparseconv_map.cpp|"
)

# One mutant: apply, build (cached by key), run; one line of result in $dir/result.
mutant() {
    IFS='|' read -r name file program source defs <<< "$1"
    # SMALL: the small kernels' generated translation unit (every variant, launched as the Java side recorded).
    if [[ "$source" == SMALL ]]; then source="$BUILD/gen/test_small_all.cpp"; else source="$HERE/$source"; fi
    local dir="$BUILD/mutants/$name"
    mkdir -p "$dir/gen"
    rm -f "$dir/result" "$dir"/gen/*
    cp "$BUILD"/gen/* "$dir/gen/"
    if [[ "$program" == BARRIER_BEFORE_INNER_LOOP ]]; then
        # The barrier between filling the shared tiles and the multiply (fma_tile) that reads them.
        line=$(grep -n 'fma_tile(' "$dir/gen/$file" | head -1 | cut -d: -f1)
        sed -i "$((line - 1))"'{/__syncthreads();/d}' "$dir/gen/$file"
    else
        sed -i "$program" "$dir/gen/$file"
    fi
    if cmp -s "$dir/gen/$file" "$BUILD/gen/$file"; then
        echo "missed: the mutation no longer applies to $file (update mutants.sh)" > "$dir/result"
        return 0
    fi
    local key
    key="$( { echo "$SOURCES_KEY|$1"; cat "$source" "$dir"/gen/*.cu "$dir"/gen/*.cuh; } | sha256sum | cut -c1-32)"
    if [[ ! -x "$dir/test" || "$(cat "$dir/key" 2>/dev/null)" != "$key" ]]; then
        rm -f "$dir/key"
        # shellcheck disable=SC2086
        if ! $CXX -I"$dir" $FLAGS $defs "$source" -o "$dir/test" > "$dir/build.log" 2>&1; then
            echo "missed: does not compile (update mutants.sh): $(head -3 "$dir/build.log" | tr '\n' ' ')" > "$dir/result"
            return 0
        fi
        echo "$key" > "$dir/key"
    fi
    # shellcheck disable=SC2086
    if "$dir/test" 1 ${FIXTURES:+"$FIXTURES"} > "$dir/run.log" 2>&1; then
        echo "missed: NOT CAUGHT" > "$dir/result"
    else
        echo "caught ($(grep -m1 -E 'FAIL|emulator:' "$dir/run.log" | cut -c1-110))" > "$dir/result"
    fi
}
export -f mutant
export BUILD FLAGS SOURCES_KEY CXX HERE
printf '%s\n' "${MUTANTS[@]}" | xargs -d '\n' -P "$JOBS" -I{} bash -c 'mutant "$@"' _ {}

caught=0
missed=()
for m in "${MUTANTS[@]}"; do
    name="${m%%|*}"
    result="$(cat "$BUILD/mutants/$name/result" 2>/dev/null || echo "missed: no result")"
    echo "mutant $name: $result"
    if [[ "$result" == caught* ]]; then caught=$((caught + 1)); else missed+=("$name"); fi
done
echo "mutants: $caught of ${#MUTANTS[@]} caught"
(( ${#missed[@]} == 0 ))
