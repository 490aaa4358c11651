#!/usr/bin/env bash
# The side-by-side CPU benchmark: Lacuna's serving cpu backend against PyTorch (OpenBLAS) and ONNX Runtime in one
# run, recorded under bench/results/ as cpu-run-<date>.json and .md (org.lacuna.bench.cpu.CpuBenchMain).
#
#   bench/run-cpu.sh                      # the issue's cases (tens of minutes on 2 cores with the slow kernels)
#   bench/run-cpu.sh --quick              # toy sizes: a smoke test of the whole flow in about a minute
#   bench/run-cpu.sh --filter '^dense-'   # some cases only; --help lists every option
#
# Builds the project (tests skipped) when the bench jar is missing or older than any source. Install the PyTorch
# anchor first with bench/anchors/install-cpu-anchors.sh; without it the PyTorch peers are recorded as skipped.
# JAVA_HOME must be a JDK 25 (default: /usr/lib/jvm/temurin-25-jdk-amd64 when it exists).
set -euo pipefail
exec "$(dirname "$0")/run-main.sh" org.lacuna.bench.cpu.CpuBenchMain "$@"
