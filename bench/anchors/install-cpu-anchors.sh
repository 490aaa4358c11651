#!/usr/bin/env bash
# Installs the CPU anchors' Python side: Debian's PyTorch (python3-torch) and OpenBLAS built with OpenMP
# (libopenblas0-openmp), then checks that torch really multiplies through OpenBLAS. Without an optimised BLAS,
# Debian's torch falls back to the reference BLAS (libblas3) and its dense matmuls run ~70x slower, which would
# make every "Lacuna vs PyTorch" ratio meaningless.
#
# Usage: bench/anchors/install-cpu-anchors.sh [--check-only]
#   --check-only   do not install; only report what torch links and how fast a 1024^3 fp32 matmul runs.
# Runs as root (or with sudo available). The ONNX Runtime anchor needs nothing here: it is a Maven dependency of
# the bench module.
set -euo pipefail

PYTHON="${LACUNA_ANCHOR_PYTHON:-/usr/bin/python3}"
check_only=false
[[ "${1:-}" == "--check-only" ]] && check_only=true

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

if ! $check_only; then
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update
  as_root apt-get install -y --no-install-recommends python3-torch libopenblas0-openmp
  # libopenblas0-openmp registers itself as the libblas.so.3 / liblapack.so.3 alternative; make sure it is the
  # chosen one even when another BLAS (reference, pthread OpenBLAS) was installed earlier.
  for lib in libblas.so.3 liblapack.so.3; do
    target=$(update-alternatives --list "$lib-x86_64-linux-gnu" 2>/dev/null | grep openblas-openmp | head -n1 || true)
    if [[ -n "$target" ]]; then as_root update-alternatives --set "$lib-x86_64-linux-gnu" "$target"; fi
  done
fi

echo "== BLAS alternatives"
update-alternatives --display libblas.so.3-x86_64-linux-gnu 2>/dev/null | head -n 3 || true

echo "== torch"
"$PYTHON" - <<'PY'
import time, torch
print("torch", torch.__version__)
config = torch.__config__.show()
blas = [part.strip() for line in config.splitlines() for part in line.split(",") if "BLAS_INFO" in part]
print("build config:", blas or "(no BLAS_INFO)", "(generic: whatever libblas.so.3 points to)")
print("OpenBLAS mapped:", "libopenblas" in open("/proc/self/maps").read())
torch.set_num_threads(2)
a = torch.rand(1024, 1024); b = torch.rand(1024, 1024); c = torch.empty(1024, 1024)
for _ in range(3):
    torch.mm(a, b, out=c)
samples = []
for _ in range(10):
    t0 = time.perf_counter(); torch.mm(a, b, out=c); samples.append(time.perf_counter() - t0)
samples.sort()
gflops = 2 * 1024 ** 3 / samples[len(samples) // 2] / 1e9
print(f"1024^3 fp32 matmul, 2 threads: {gflops:.1f} GFLOP/s")
# The reference BLAS manages ~2-5 GFLOP/s on one core; any optimised BLAS is far above 20.
if gflops < 20:
    raise SystemExit("torch's matmul is too slow for an optimised BLAS: is libopenblas0-openmp the libblas.so.3 alternative?")
PY
libs=$("$PYTHON" -c 'import torch, os; print(os.path.dirname(torch.__file__))')
echo "== libraries torch's core loads"
ldd "$libs"/lib/libtorch_cpu.so 2>/dev/null | grep -Ei 'blas|lapack|omp' || true
