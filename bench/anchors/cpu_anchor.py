#!/usr/bin/env python3
"""PyTorch on the CPU (fp32, OpenBLAS) on the cases of Lacuna's side-by-side CPU benchmark (CpuBenchMain).

The Java runner (org.lacuna.bench.cpu.CpuBenchMain) writes the cases it measures to a spec file and calls this script
in the same run, so both sides time exactly the same problems on the same machine within minutes of each other. Install
the anchors first with bench/anchors/install-cpu-anchors.sh (Debian's python3-torch with libopenblas0-openmp: without
an optimised BLAS, torch falls back to the reference BLAS and is ~70x slower).

Per case kind, with torch.set_num_threads(--threads), fp32, inputs in [-1, 1):
  linear        torch-mm        torch.mm(x, w.t(), out=y): Y[tokens, out] = X[tokens, in] . W[out, in]^T, as Lacuna's
                                linearDense writes into a preallocated output
  attention     torch-explicit  softmax(q @ k^T * scale) @ v on [B, H, S, D] tensors (the issue's peer)
                torch-sdpa      F.scaled_dot_product_attention (torch >= 2.0; torch 1.13's private
                                F._scaled_dot_product_attention otherwise, and the result says which)
  tiny-linear   torch-linear    F.linear(x, w) on x [tokens, in]: a new output per call, the host time of a tiny op

The measurement is Lacuna's harness (two_four_gemm_anchor.py's sample/statistics/report, imported from beside this
file) with a wall-clock timer: a warm-up of --min-warmup launches and --warmup-ms, back-to-back launches in a sample
when one launch is shorter than --min-sample-ms, up to --samples samples (at least --min-samples), medians.

The Java runner uses --serve: the process stays up and answers one request per stdin line ({"case": id} with the
round's plan: warmupMs, samples, minSamples, maxMeasureMs, minSampleMs, minWarmupLaunches) with one line on stdout,
"@lacuna-cpu-anchor " and the case's results as JSON, after a first {"ready": true, "environment": ...} line. It asks
for a case between its own measurements of it, round after round, so both sides take turns on the same machine and
a drift of the shared machine's speed lands on both. Without --serve every case is timed once into --out.

  python3 cpu_anchor.py --spec cases.json --out anchors.json [--threads 2]
  python3 cpu_anchor.py --spec cases.json --serve [--dry-run]     # one request per stdin line
  python3 cpu_anchor.py --spec cases.json --dry-run --out a.json    # simulated timings, no torch needed
  python3 cpu_anchor.py --spec cases.json --list-cases
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import two_four_gemm_anchor as harness  # noqa: E402 - the shared sampler, statistics, report and simulated device

SCHEMA = "lacuna-cpu-anchor/1"
SPEC_SCHEMA = "lacuna-cpu-cases/1"
# Marks the serve mode's reply lines, so that anything else the process prints (a torch warning) is only echoed.
REPLY_MARKER = "@lacuna-cpu-anchor "
RESULTS = {"linear": ("torch-mm",), "attention": ("torch-explicit", "torch-sdpa"), "tiny-linear": ("torch-linear",)}


class Case:
    """One case of the spec: its id, kind, parameters and FLOPs, as the Java runner wrote them."""

    def __init__(self, entry):
        self.id = entry["case"]
        self.kind = entry["kind"]
        self.param = dict(entry.get("params", {}))
        self.flops = int(entry.get("flops", 0))
        if self.kind not in RESULTS:
            raise ValueError(f"case {self.id}: unknown kind '{self.kind}' (known: {', '.join(RESULTS)})")

    def params(self):
        return dict(self.param, case=self.id, kind=self.kind)


def read_spec(path):
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
    if spec.get("schema") != SPEC_SCHEMA:
        raise ValueError(f"{path} has schema {spec.get('schema')}, expected {SPEC_SCHEMA}")
    return spec, [Case(entry) for entry in spec.get("cases", [])]


def _describe(results):
    parts = []
    for name, r in results.items():
        if "error" in r:
            parts.append(f"{name}: {r['error'][:60]}")
        else:
            parts.append(f"{name} {r['medianMs']:.4f} ms {r['achievedTflops'] * 1e3:.1f} GFLOP/s")
    return "  ".join(parts)


class DryMeasurer:
    """Simulated timings on a 100 GFLOP/s machine with a 3 us floor: enough to exercise every path of the flow."""

    def __init__(self):
        self.device = harness.SimulatedDevice()

    def measure(self, case, plan):
        results = {}
        for name in RESULTS[case.kind]:
            self.device.launch_s = max(case.flops / 100e9, 3e-6)
            times, per_sample, warmups = harness.sample(plan, self.device, self.device.launch, self.device.now_ns)
            results[name] = harness.summarise(name, "simulated", times, per_sample, warmups, case.flops, 0, 1, 0,
                                              "simulated")
        return results


class TorchMeasurer:
    """PyTorch on the CPU: each case's tensors are made once (on its first request) and kept until another case is
    asked for, so the rounds of an interleaved run time the same tensors without building them again."""

    def __init__(self, threads):
        import torch
        import torch.nn.functional as F

        self.torch = torch
        self.F = F
        torch.set_num_threads(threads)
        torch.set_grad_enabled(False)
        self.generator = torch.Generator().manual_seed(20)
        self.prepared_id = None
        self.kernels = None
        if hasattr(F, "scaled_dot_product_attention"):
            self.sdpa_name = "F.scaled_dot_product_attention"
            self.sdpa = F.scaled_dot_product_attention
        else:
            self.sdpa_name = "F._scaled_dot_product_attention (torch < 2.0)"
            self.sdpa = lambda q, k, v: F._scaled_dot_product_attention(q, k, v, None, 0.0, False, False)[0]

    def uniform(self, *shape):
        return self.torch.rand(*shape, generator=self.generator) * 2 - 1

    @staticmethod
    def relative_error(got, want):
        return ((got - want).abs().max() / want.abs().max().clamp_min(1e-30)).item()

    def measure(self, case, plan):
        """{result name: summary} for one case at `plan`; a kernel that fails is recorded as its error."""
        if self.prepared_id != case.id:
            self.prepared_id, self.kernels = None, None  # the previous case's tensors go before the next are made
            self.kernels = {"linear": self.linear, "attention": self.attention,
                            "tiny-linear": self.tiny_linear}[case.kind](case)
            self.prepared_id = case.id
        results = {}
        for name, (kernel, launch, nbytes, check) in self.kernels.items():
            try:
                if isinstance(launch, Exception):
                    raise launch
                times, per_sample, warmups = harness.sample(plan, harness.WallClockTimer(), launch)
            except Exception as e:  # noqa: BLE001 - an OOM or an API this torch lacks: record it, go on
                results[name] = harness._error(e)
                continue
            r = harness.summarise(name, kernel, times, per_sample, warmups, case.flops, nbytes, 1, nbytes,
                                  "wall-clock")
            if check is not None:
                r["relativeError"] = check
            results[name] = r
        return results

    def linear(self, case):
        p, torch = case.param, self.torch
        x, w = self.uniform(p["tokens"], p["in"]), self.uniform(p["out"], p["in"])
        y = torch.empty(p["tokens"], p["out"])
        torch.mm(x, w.t(), out=y)
        check = self.relative_error(y[:8], x[:8].double().mm(w.double().t()).float())
        nbytes = 4 * (x.numel() + w.numel() + y.numel())
        return {"torch-mm": ("torch.mm(x, w.t(), out=y), fp32", lambda _i: torch.mm(x, w.t(), out=y), nbytes, check)}

    def attention(self, case):
        p, torch = case.param, self.torch
        b, h, s, d = p["batch"], p["heads"], p["sequence"], p["headDim"]
        q, k, v = self.uniform(b, h, s, d), self.uniform(b, h, s, d), self.uniform(b, h, s, d)
        scale = 1.0 / d ** 0.5

        def explicit(_i=0):
            return torch.softmax(torch.matmul(q, k.transpose(-2, -1)) * scale, dim=-1).matmul(v)

        want = explicit()
        nbytes = 4 * 4 * q.numel()
        kernels = {"torch-explicit": ("softmax(q @ k^T * scale) @ v, fp32", explicit, nbytes, None)}
        try:
            check = self.relative_error(self.sdpa(q, k, v), want)
            kernels["torch-sdpa"] = (self.sdpa_name + ", fp32", lambda _i: self.sdpa(q, k, v), nbytes, check)
        except Exception as e:  # noqa: BLE001 - an API this torch lacks: record it, go on
            kernels["torch-sdpa"] = (self.sdpa_name, e, nbytes, None)
        return kernels

    def tiny_linear(self, case):
        p = case.param
        x, w = self.uniform(p["tokens"], p["in"]), self.uniform(p["out"], p["in"])
        nbytes = 4 * (x.numel() + w.numel() + p["tokens"] * p["out"])
        return {"torch-linear": ("F.linear(x, w): a new output per call, fp32", lambda _i: self.F.linear(x, w),
                                 nbytes, None)}


def measure_case(measurer, case, plan):
    try:
        return measurer.measure(case, plan)
    except Exception as e:  # noqa: BLE001 - an OOM or a rejected shape while making the tensors: record it, go on
        return {name: harness._error(e) for name in RESULTS[case.kind]}


def run_cases(measurer, plan, cases, report):
    for case in cases:
        results = measure_case(measurer, case, plan)
        report.add(case, results)
        print(f"  {case.id:40s} {_describe(results)}", flush=True)


def request_plan(request, default):
    """The sampling plan a serve request asks for: its values where given, else the command line's."""
    return harness.Plan(min_warmup_launches=int(request.get("minWarmupLaunches", default.min_warmup_launches)),
                        warmup_ms=float(request.get("warmupMs", default.warmup_ms)),
                        samples=int(request.get("samples", default.samples)),
                        min_samples=int(request.get("minSamples", default.min_samples)),
                        max_measure_ms=float(request.get("maxMeasureMs", default.max_measure_ms)),
                        min_sample_ms=float(request.get("minSampleMs", default.min_sample_ms)))


def reply(message):
    """One line of the serve protocol: the marker, then the message as JSON (other lines are only echoed)."""
    sys.stdout.write(REPLY_MARKER + json.dumps(harness._finite(message), allow_nan=False) + "\n")
    sys.stdout.flush()


def serve(measurer, plan, cases, environment):
    """Answers requests on stdin, one JSON line each ({"case": id, plan values...}, or {"quit": true}), with one
    reply line each ({"case": id, "results": {...}} or {"error": ...}), after a first {"ready": ...} line: the Java
    runner asks for one case at a time between its own measurements of that case, so both sides take turns."""
    by_id = {c.id: c for c in cases}
    reply({"ready": True, "cases": len(cases), "environment": environment})
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except ValueError as e:
            reply({"error": f"not a JSON request: {e}"})
            continue
        if request.get("quit"):
            break
        case = by_id.get(request.get("case"))
        if case is None:
            reply({"case": request.get("case"), "error": "no such case in the spec"})
            continue
        results = measure_case(measurer, case, request_plan(request, plan))
        print(f"  {case.id:40s} {_describe(results)}", file=sys.stderr, flush=True)
        reply({"case": case.id, "results": results})
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", required=True, help="the cases file the Java runner wrote (lacuna-cpu-cases/1)")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument("--min-samples", type=int, default=3)
    parser.add_argument("--min-warmup", type=int, default=1)
    parser.add_argument("--min-sample-ms", type=float, default=1.0)
    harness.add_run_arguments(parser)
    parser.add_argument("--serve", action="store_true",
                        help="answer one request per stdin line (a case id and its plan) instead of timing every case"
                             " once; with --dry-run, on simulated timings")
    harness.add_mode_arguments(parser, "print the number of cases and their GFLOP, and exit")
    args = parser.parse_args(argv)

    try:
        spec, cases = read_spec(args.spec)
    except (OSError, ValueError, KeyError) as e:
        parser.error(f"cannot read the spec: {e}")
    plan = harness.Plan(min_warmup_launches=args.min_warmup, warmup_ms=args.warmup_ms, samples=args.samples,
                        min_samples=min(args.min_samples, args.samples), max_measure_ms=args.max_ms_per_case,
                        min_sample_ms=args.min_sample_ms)
    if args.list_cases:
        print("\n".join(c.id for c in cases))
        return 0
    if args.estimate:
        print(f"{len(cases)} case(s), {sum(c.flops for c in cases) / 1e9:.1f} GFLOP a pass")
        return 0

    environment = {"simulated": True, "python": platform.python_version()} if args.dry_run \
        else dict(harness.cpu_environment(args.threads), openblasCore=openblas_core())
    measurer = DryMeasurer() if args.dry_run else TorchMeasurer(args.threads)
    print(f"cpu_anchor: {len(cases)} case(s)" + (" (dry run, simulated timings)" if args.dry_run else
          f", torch {environment['torch']}, {args.threads} thread(s), BLAS {environment.get('blasInfo')}"
          f", OpenBLAS loaded: {environment.get('openblasLoaded')} ({environment.get('openblasCore')})"),
          file=sys.stderr if args.serve else sys.stdout, flush=True)
    if args.serve:
        return serve(measurer, plan, cases, environment)
    report = harness.Report(args.out, args.spec, plan, environment, args.dry_run, SCHEMA)
    return harness.run_report("cpu_anchor", report, args.out, lambda: run_cases(measurer, plan, cases, report))


def openblas_core():
    """The OpenBLAS this process mapped and the kernels it chose for the CPU (openblas_get_corename), or null."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as f:
            paths = sorted({line.split()[-1] for line in f if "libopenblas" in line and "/" in line})
        if not paths:
            return None
        library = ctypes.CDLL(paths[0])
        library.openblas_get_corename.restype = ctypes.c_char_p
        library.openblas_get_config.restype = ctypes.c_char_p
        return (f"{os.path.realpath(paths[0])}: {library.openblas_get_config().decode().strip()}"
                f" (kernels for {library.openblas_get_corename().decode().strip()})")
    except (OSError, AttributeError) as e:
        return f"unknown ({e})"


if __name__ == "__main__":
    sys.exit(main())
