#!/usr/bin/env bash
# The mutation check: deliberately broken copies of shipped kernels, each of which the emulated tests must reject
# (a failed check or an emulator abort). A mutant that passes means the tests cannot see that kind of bug.
#
#   mutants.sh BUILD   (run.sh calls it after the suite, with the generated sources in BUILD/gen)
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="$1"
CXX="${CXX:-g++}"
FLAGS="-O1 -std=c++17 -Wno-unknown-pragmas -I$HERE/inc"

# name | generated file | sed program | test source | defines
MUTANTS=(
  "selector-pairs-swapped|sparse24_gemm.cu|s/mma_sparse<1>(acc/mma_sparse<X>(acc/;s/mma_sparse<0>(acc/mma_sparse<1>(acc/;s/mma_sparse<X>(acc/mma_sparse<0>(acc/|test_sparse24.cpp|-DSM=80 -DT_IN=f16 -DT_OUT=f32 -DACT=none -DBN=32 -DK_ALIGNED=1"
  "metadata-words-swapped|sparse24_gemm.cu|s/(i >> 1) ? e1 : e0/(i >> 1) ? e0 : e1/|test_sparse24.cpp|-DSM=80 -DT_IN=f16 -DT_OUT=f32 -DACT=none -DBN=32 -DK_ALIGNED=1"
  "b-k-halves-swapped|sparse24_gemm.cu|s/ks \* 4 + (lane >> 3)/ks * 4 + ((lane >> 3) ^ 2)/|test_sparse24.cpp|-DSM=80 -DT_IN=f16 -DT_OUT=f32 -DACT=none -DBN=32 -DK_ALIGNED=1"
  "sm90-metadata-not-shuffled|sparse24_gemm_sm90.cu|s/e\[ks\] = (warp_in_group \& 1) ? upper : word;/e[ks] = word;/|test_sparse24.cpp|-DSM=90 -DT_IN=f16 -DT_OUT=f32 -DACT=none -DK_ALIGNED=1"
  "sm90-fence-removed|sparse24_gemm_sm90.cu|/^ *wgmma_fence();/d|test_sparse24.cpp|-DSM=90 -DT_IN=f16 -DT_OUT=f32 -DACT=none -DK_ALIGNED=1"
  "sm90-wait-removed|sparse24_gemm_sm90.cu|/^ *wgmma_wait_all();/d|test_sparse24.cpp|-DSM=90 -DT_IN=f16 -DT_OUT=f32 -DACT=none -DK_ALIGNED=1"
  "gather-barrier-removed|sparseconv_gather_scatter.cu|BARRIER_BEFORE_INNER_LOOP|test_sparseconv.cpp|-DDATAFLOW=0 -DT_IN=f32 -DT_OUT=f32 -DACT=none"
  "implicit-mma-k-halves-swapped|sparseconv_implicit_gemm.cu|s/b\[ni\]\[1\] = \*reinterpret_cast<const unsigned\*>(\&bs\[n\]\[2 \* t + 8\]);/b[ni][1] = *reinterpret_cast<const unsigned*>(\&bs[n][2 * t]);/|test_sparseconv.cpp|-DDATAFLOW=1 -DT_IN=f16 -DT_OUT=f32 -DACT=none"
  "duplicate-report-by-race|sparseconv_map.cu|s/if (other >= 0) {/if (previous == key) {/;s/atomicMax(duplicate, max(other, (int)i) + 1);/atomicMax(duplicate, (int)i + 1);/|test_sparseconv_map.cpp|"
)

caught=0
missed=()
for m in "${MUTANTS[@]}"; do
    IFS='|' read -r name file program source defs <<< "$m"
    dir="$BUILD/mutants/$name"
    rm -rf "$dir" && mkdir -p "$dir/gen"
    cp "$BUILD"/gen/* "$dir/gen/"
    if [[ "$program" == BARRIER_BEFORE_INNER_LOOP ]]; then
        # The barrier between filling the shared tiles and the multiply loop that reads them.
        line=$(grep -n 'for (int k = 0; k < BK; k++) {' "$dir/gen/$file" | head -1 | cut -d: -f1)
        sed -i "$((line - 2))"'{/__syncthreads();/d}' "$dir/gen/$file"
    else
        sed -i "$program" "$dir/gen/$file"
    fi
    if cmp -s "$dir/gen/$file" "$BUILD/gen/$file"; then
        echo "mutant $name: the mutation no longer applies to $file (update mutants.sh)"
        missed+=("$name")
        continue
    fi
    # shellcheck disable=SC2086
    if ! $CXX $FLAGS -I"$dir" $defs "$HERE/$source" -o "$dir/test" > "$dir/build.log" 2>&1; then
        echo "mutant $name: does not compile (update mutants.sh)"; head -5 "$dir/build.log"
        missed+=("$name")
        continue
    fi
    if "$dir/test" 1 > "$dir/run.log" 2>&1; then
        echo "mutant $name: NOT CAUGHT"
        missed+=("$name")
    else
        why="$(grep -m1 -E 'FAIL|emulator:' "$dir/run.log" | cut -c1-110)"
        echo "mutant $name: caught ($why)"
        caught=$((caught + 1))
    fi
done
echo "mutants: $caught of ${#MUTANTS[@]} caught"
(( ${#missed[@]} == 0 ))
