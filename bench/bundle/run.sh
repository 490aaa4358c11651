#!/usr/bin/env bash
# Runs Lacuna's GPU-tagged tests, then its GPU benchmarks, and writes a run record — on a machine with no Java:
# the bundle brings its own. Made by bench/bundle/build-bundle.sh; on the device machine:
#
#   bash .bundle/run.sh "$OUT"
#
# OUTDIR receives six files: run.log, device.txt, junit.xml (all JUnit reports merged), bench.json, and the run record
# gpu-run-<date>-<device>.json / .md; and a seventh, anchors.json, when the two-four-gemm benchmark ran and PyTorch
# imports: bench/anchors/two_four_gemm_anchor.py times PyTorch's cuBLAS and cuSPARSELt on the same cases, and the record
# gets those timings and the ratios (bench/anchors/README.md). Where the attention or sparse-conv benchmark ran,
# attention_anchor.py and sparse_conv_anchor.py (the latter on the kernel maps and weights the benchmark exported to a
# temporary folder) are timed too; their JSON stays in that folder and reaches the record through the merged report,
# so OUTDIR never holds more than seven files. The sparse-conv benchmark reads the KITTI sweep from LACUNA_KITTI, else
# data/ in the bundle, else shared/data in or beside the working tree around it. Extra arguments for the test
# launcher, GpuBenchMain and the anchor scripts can be passed in LACUNA_TEST_ARGS (e.g. "--include-classname
# .*CudaOpsGpuTest", or "--exclude-tag gpu" for none: --select-class cannot be combined with the class-path scan),
# LACUNA_BENCH_ARGS (e.g. "--filter spmm"), LACUNA_ANCHOR_ARGS (two_four_gemm_anchor.py, e.g. "--with-linear"),
# LACUNA_ATTENTION_ANCHOR_ARGS and LACUNA_SPARSE_CONV_ANCHOR_ARGS; LACUNA_TWO_FOUR_GEMM_CASES selects the sparse GEMM
# cases of both the benchmark and the anchors (e.g. "headline"), LACUNA_ATTENTION_CASES the attention ones,
# LACUNA_SPARSE_CONV_BATCHES the sparse-conv batches (default 1,4). LACUNA_SANITIZE=memcheck,racecheck adds
# compute-sanitizer passes over a reduced test set (see run_sanitizers).
#
# Exit status: 0 all passed; 1 a test failed; 3 no test failed but a benchmark (or the anchor script) failed; 4 the
# record could not be made. A test failure never stops the benchmarks.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 OUTDIR" >&2
    exit 64
fi
BUNDLE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$1"
OUT="$(cd "$1" && pwd)"
JVM_FLAGS=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss4m -Dlacuna.cacheDir=/tmp/lacuna-cache)
GPU_SEEN=0

log() {
    echo "[run.sh $(date -u +%H:%M:%S)] $*"
}

unpack_java() {
    local tarball="$BUNDLE/jre.tar.xz"
    [[ -f "$tarball" ]] || { echo "run.sh: error: $tarball is missing: rebuild the bundle" >&2; return 1; }
    # Keyed by the tarball's checksum: a new bundle never runs on a stale runtime, a rerun skips the unpacking.
    JRE_HOME="/tmp/lacuna-jre-$(cksum "$tarball" | cut -d' ' -f1)"
    if [[ ! -x "$JRE_HOME/jre/bin/java" ]]; then
        rm -rf "$JRE_HOME"
        mkdir -p "$JRE_HOME"
        if command -v xz >/dev/null; then
            tar -C "$JRE_HOME" -xJf "$tarball"
        else
            # No xz binary: Python's tarfile reads xz itself (the GPU image has Python).
            python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2], filter="data")' \
                "$tarball" "$JRE_HOME"
        fi
    fi
    JAVA="$JRE_HOME/jre/bin/java"
    "$JAVA" -version 2>&1 | head -1
}

# Writes OUTDIR/device.txt (key=value, read by RunRecord) and prints what it found.
record_device() {
    local info="$OUT/device.txt"
    : > "$info"
    if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
        GPU_SEEN=1
        nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
        local first
        first="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -1)"
        IFS=, read -r gpu_name gpu_driver gpu_memory <<< "$first"
        {
            echo "gpu_name=$(trim "$gpu_name")"
            echo "gpu_driver=$(trim "$gpu_driver")"
            echo "gpu_memory=$(trim "$gpu_memory")"
            echo "gpu_count=$(nvidia-smi -L | wc -l)"
            echo "cuda_version=$(nvidia-smi | sed -n 's/.*CUDA Version: *\([0-9.]*\).*/\1/p' | head -1)"
        } >> "$info"
    else
        log "no NVIDIA GPU visible (nvidia-smi missing or found no device): GPU tests will skip"
    fi
    local nvcc
    nvcc="$(command -v nvcc || true)"
    if [[ -z "$nvcc" && -x /usr/local/cuda/bin/nvcc ]]; then
        nvcc=/usr/local/cuda/bin/nvcc
    fi
    if [[ -n "$nvcc" ]]; then
        "$nvcc" --version | tail -2
        echo "nvcc_version=$("$nvcc" --version | sed -n 's/.*release [0-9.]*, V\([0-9.]*\).*/\1/p')" >> "$info"
    fi
    {
        echo "host_kernel=$(uname -r)"
        echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
        echo "cpu_count=$(nproc)"
        echo "java=$("$JAVA" -version 2>&1 | head -1)"
        echo "ld_library_path=${LD_LIBRARY_PATH:-}"
    } >> "$info"
    cat "$info"
}

# CUDA's own libraries (NVRTC, cuBLAS, cuSPARSE) for the runtime, since the bundle carries none.
add_cuda_libraries() {
    local dir
    for dir in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
        if [[ -d "$dir" ]]; then
            LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
        fi
    done
    export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:-}"
}

# The anchor script NAME: copied into the bundle, or in the working tree the bundle sits in (as on the device tool).
anchor_script() {
    local candidate name="$1"
    for candidate in "$BUNDLE/anchors/$name" "$BUNDLE/../bench/anchors/$name"; do
        if [[ -f "$candidate" ]]; then
            echo "$candidate"
            return 0
        fi
    done
    return 0
}

# Sets TORCH_MISSING: empty where PyTorch imports, else the import's last error line. Asks Python once per run (an
# import takes seconds); later calls keep the first answer.
TORCH_PROBED=""
TORCH_MISSING=""
probe_torch() {
    if [[ -z "$TORCH_PROBED" ]]; then
        TORCH_PROBED=1
        if ! python3 -c 'import torch' > "$1/torch-import.log" 2>&1; then
            TORCH_MISSING="$(tail -1 "$1/torch-import.log")"
            TORCH_MISSING="${TORCH_MISSING:-the import failed}"
        fi
    fi
}

# Runs the anchor script NAME (found by anchor_script) with the given arguments, when it is there and PyTorch imports;
# sets ANCHOR_NOTE to why it did not run ("" when it ran) and ANCHOR_STATUS to its exit status (0 when it did not run).
# LABEL names the anchors in the log. usage: run_anchor_script WORK NAME LABEL [script arguments...]
run_anchor_script() {
    local work="$1" name="$2" label="$3" script
    shift 3
    ANCHOR_NOTE=""
    ANCHOR_STATUS=0
    script="$(anchor_script "$name")"
    if [[ -z "$script" ]]; then
        ANCHOR_NOTE="$name is neither in the bundle nor in the working tree around it"
    elif probe_torch "$work" && [[ -n "$TORCH_MISSING" ]]; then
        ANCHOR_NOTE="PyTorch does not import here: $TORCH_MISSING"
    else
        log "PyTorch $label: $script"
        python3 "$script" "$@" || ANCHOR_STATUS=$?
        log "$label exited $ANCHOR_STATUS"
    fi
}

# PyTorch's timings of the two-four-gemm cases, merged into a copy of bench.json for RunRecord; sets RECORD_BENCH to the
# report the record should read and ANCHOR_EXIT to the script's status. Runs only where GpuBenchMain ran two-four-gemm.
run_anchors() {
    local work="$1" note_args=()
    RECORD_BENCH="$OUT/bench.json"
    ANCHOR_EXIT=0
    grep -q '"two-four-gemm"' "$OUT/bench.json" 2>/dev/null || return 0
    # shellcheck disable=SC2086 # LACUNA_ANCHOR_ARGS is a list of script options
    run_anchor_script "$work" two_four_gemm_anchor.py anchors --out "$OUT/anchors.json" ${LACUNA_ANCHOR_ARGS:-}
    ANCHOR_EXIT=$ANCHOR_STATUS
    if [[ -n "$ANCHOR_NOTE" ]]; then
        log "anchors skipped: $ANCHOR_NOTE"
        note_args=(--anchor-note "$ANCHOR_NOTE")
    fi
    if "$JAVA" -cp "$(class_path_of "${main_jars[@]}")" org.lacuna.bench.gpu.TwoFourGemmAnchors \
        --bench-json "$OUT/bench.json" --anchors-json "$OUT/anchors.json" --out "$work/bench-with-anchors.json" \
        --anchor-exit "$ANCHOR_EXIT" "${note_args[@]}"; then
        RECORD_BENCH="$work/bench-with-anchors.json"
    else
        log "anchors could not be merged: the record gets bench.json alone"
    fi
}

# Another benchmark's anchor script and its merger, chained onto RECORD_BENCH (run after run_anchors): runs only where
# GpuBenchMain ran BENCHMARK; the script's JSON goes to WORK, not OUTDIR. A failing script sets ANCHOR_EXIT unless an
# earlier one did. usage: run_more_anchors WORK BENCHMARK SCRIPT MERGER_CLASS [script arguments...]
run_more_anchors() {
    local work="$1" benchmark="$2" name="$3" merger="$4"
    shift 4
    grep -q "\"$benchmark\"" "$OUT/bench.json" 2>/dev/null || return 0
    local json="$work/$benchmark-anchors.json" merged="$work/bench-with-$benchmark-anchors.json"
    run_anchor_script "$work" "$name" "$benchmark anchors" --out "$json" "$@"
    if (( ANCHOR_STATUS != 0 && ANCHOR_EXIT == 0 )); then
        ANCHOR_EXIT=$ANCHOR_STATUS
    fi
    if [[ -n "$ANCHOR_NOTE" ]]; then
        log "$benchmark anchors skipped: $ANCHOR_NOTE"
    fi
    if "$JAVA" -cp "$(class_path_of "${main_jars[@]}")" "$merger" --bench-json "$RECORD_BENCH" \
        --anchors-json "$json" --out "$merged" --anchor-exit "$ANCHOR_STATUS"; then
        RECORD_BENCH="$merged"
    else
        log "$benchmark anchors could not be merged: the record goes without them"
    fi
}

# The KITTI sweep for the sparse-conv benchmark, or nothing (the benchmark then records why it skipped).
kitti_sweep() {
    local candidate file=kitti-velodyne-000001.bin
    for candidate in "${LACUNA_KITTI:-}" "$BUNDLE/data/$file" "$BUNDLE/../shared/data/$file" \
        "$BUNDLE/../../shared/data/$file"; do
        if [[ -n "$candidate" && -f "$candidate" ]]; then
            echo "$candidate"
            return 0
        fi
    done
    return 0
}

trim() {
    sed 's/^[[:space:]]*//; s/[[:space:]]*$//' <<< "$1"
}

class_path_of() {
    local IFS=:
    echo "$*"
}

main() {
    set -euo pipefail
    local work
    work="$(mktemp -d /tmp/lacuna-run.XXXXXX)"
    log "bundle $BUNDLE, output $OUT"
    sed 's/^/  /' "$BUNDLE/BUILD_INFO"
    unpack_java
    add_cuda_libraries
    record_device

    local main_jars=("$BUNDLE"/lib/*.jar)
    local test_jars=("$BUNDLE"/test-lib/*.jar)
    local scanned=("$BUNDLE"/test-lib/*-tests.jar)
    local launcher=("$BUNDLE"/tools/junit-platform-console-standalone-*.jar)

    log "GPU tests (tag gpu)"
    local tests_exit=0
    # shellcheck disable=SC2086 # LACUNA_TEST_ARGS is a list of launcher options
    "$JAVA" "${JVM_FLAGS[@]}" -jar "${launcher[0]}" execute --disable-banner --disable-ansi-colors --details=tree \
        --class-path "$(class_path_of "${main_jars[@]}" "${test_jars[@]}")" \
        --scan-class-path "$(class_path_of "${scanned[@]}")" \
        --include-tag gpu --reports-dir "$work/junit" ${LACUNA_TEST_ARGS:-} || tests_exit=$?
    log "tests exited $tests_exit"
    run_sanitizers "$work" "$(class_path_of "${main_jars[@]}" "${test_jars[@]}")" \
        "$(class_path_of "${scanned[@]}")" "${launcher[0]}" || tests_exit=1

    log "GPU benchmarks"
    local bench_exit=0 bench_flags=()
    # Where nvidia-smi sees a GPU, a benchmark run on the CPU fallback is a fault, not a skip.
    if (( GPU_SEEN )); then
        bench_flags+=(--require-gpu)
    fi
    # The sparse-conv benchmark exports its maps and weights for sparse_conv_anchor.py into the temporary folder.
    local sparse_conv_export="$work/sparse-conv-export" kitti bench_properties=()
    bench_properties+=("-Dlacuna.bench.exportDir=$sparse_conv_export")
    kitti="$(kitti_sweep)"
    if [[ -n "$kitti" ]]; then
        bench_properties+=("-Dlacuna.kitti=$kitti")
    fi
    # shellcheck disable=SC2086
    "$JAVA" "${JVM_FLAGS[@]}" "${bench_properties[@]}" -cp "$(class_path_of "${main_jars[@]}")" \
        org.lacuna.bench.gpu.GpuBenchMain \
        --out "$OUT/bench.json" "${bench_flags[@]}" ${LACUNA_BENCH_ARGS:-} || bench_exit=$?
    log "benchmarks exited $bench_exit"

    run_anchors "$work"
    # shellcheck disable=SC2086 # the *_ANCHOR_ARGS are lists of script options
    run_more_anchors "$work" attention attention_anchor.py org.lacuna.bench.gpu.AttentionAnchors \
        ${LACUNA_ATTENTION_ANCHOR_ARGS:-}
    if [[ -f "$sparse_conv_export/manifest.json" ]]; then
        # shellcheck disable=SC2086
        run_more_anchors "$work" sparse-conv sparse_conv_anchor.py org.lacuna.bench.gpu.SparseConvAnchors \
            --export "$sparse_conv_export" ${LACUNA_SPARSE_CONV_ANCHOR_ARGS:-}
    elif grep -q '"sparse-conv"' "$OUT/bench.json" 2>/dev/null; then
        log "sparse-conv anchors skipped: the benchmark exported nothing (no KITTI sweep, or it failed)"
    fi

    log "run record"
    local record_exit=0
    "$JAVA" -cp "$(class_path_of "${main_jars[@]}")" org.lacuna.bench.record.RunRecord \
        --junit-dir "$work/junit" --merged-junit "$OUT/junit.xml" --bench-json "$RECORD_BENCH" \
        --device-info "$OUT/device.txt" --build-info "$BUNDLE/BUILD_INFO" \
        --tests-exit "$tests_exit" --bench-exit "$bench_exit" --out-dir "$OUT" || record_exit=$?
    rm -rf "$work"

    log "summary: tests exit $tests_exit, benchmarks exit $bench_exit, anchors exit $ANCHOR_EXIT," \
        "record exit $record_exit; files in $OUT:"
    ls -l "$OUT"
    if (( tests_exit != 0 )); then
        return 1
    elif (( bench_exit != 0 || ANCHOR_EXIT != 0 )); then
        return 3
    elif (( record_exit != 0 )); then
        return 4
    fi
}

# LACUNA_SANITIZE=memcheck,racecheck reruns a reduced GPU test set (LACUNA_SANITIZE_CLASSES, a class-name regex,
# default the foundation ops and the 2:4 GEMM) under compute-sanitizer, each tool in its own pass; any error it reports
# fails the run like a failed test. Its own log's tail goes to run.log.
run_sanitizers() {
    local work="$1" class_path="$2" scan_path="$3" launcher="$4" tool sanitizer failed=0
    [[ -n "${LACUNA_SANITIZE:-}" ]] || return 0
    sanitizer="$(command -v compute-sanitizer || true)"
    [[ -n "$sanitizer" || ! -x /usr/local/cuda/bin/compute-sanitizer ]] || sanitizer=/usr/local/cuda/bin/compute-sanitizer
    if [[ -z "$sanitizer" ]]; then
        log "LACUNA_SANITIZE is set but compute-sanitizer was not found: not run"
        return 1
    fi
    for tool in ${LACUNA_SANITIZE//,/ }; do
        log "compute-sanitizer --tool $tool on ${LACUNA_SANITIZE_CLASSES:-.*CudaOpsGpuTest}"
        "$sanitizer" --tool "$tool" --target-processes all --error-exitcode 9 --log-file "$work/sanitizer-$tool.log" \
            "$JAVA" "${JVM_FLAGS[@]}" -Dlacuna.syncLaunches=true -jar "$launcher" execute --disable-banner \
            --disable-ansi-colors --details=summary --class-path "$class_path" --scan-class-path "$scan_path" \
            --include-tag gpu --include-classname "${LACUNA_SANITIZE_CLASSES:-.*CudaOpsGpuTest}" \
            --reports-dir "$work/junit-sanitizer-$tool" || failed=1
        tail -n 40 "$work/sanitizer-$tool.log" 2>/dev/null || true
    done
    return "$failed"
}

# Everything printed also goes to OUTDIR/run.log; the pipeline must not stop the script before the status is read.
set +e
main 2>&1 | tee "$OUT/run.log"
status=${PIPESTATUS[0]}
exit "$status"
