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

  python3 cpu_anchor.py --spec cases.json --out anchors.json [--threads 2]
  python3 cpu_anchor.py --spec cases.json --dry-run --out a.json    # simulated timings, no torch needed
  python3 cpu_anchor.py --spec cases.json --list-cases
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import two_four_gemm_anchor as harness  # noqa: E402 - the shared sampler, statistics, report and simulated device

SCHEMA = "lacuna-cpu-anchor/1"
SPEC_SCHEMA = "lacuna-cpu-cases/1"
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


def run_dry(plan, cases, report):
    device = harness.SimulatedDevice()
    for case in cases:
        results = {}
        for name in RESULTS[case.kind]:
            # A 100 GFLOP/s machine with a 3 us floor: enough to exercise every path of the flow.
            device.launch_s = max(case.flops / 100e9, 3e-6)
            times, per_sample, warmups = harness.sample(plan, device, device.launch, device.now_ns)
            results[name] = harness.summarise(name, "simulated", times, per_sample, warmups, case.flops, 0, 1, 0,
                                              "simulated")
        report.add(case, results)
        print(f"  {case.id:40s} {_describe(results)}", flush=True)


def run_torch(plan, cases, report, threads):
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    generator = torch.Generator().manual_seed(20)

    def uniform(*shape):
        return torch.rand(*shape, generator=generator) * 2 - 1

    if hasattr(F, "scaled_dot_product_attention"):
        sdpa_name = "F.scaled_dot_product_attention"

        def sdpa(q, k, v):
            return F.scaled_dot_product_attention(q, k, v)
    else:
        sdpa_name = "F._scaled_dot_product_attention (torch < 2.0)"

        def sdpa(q, k, v):
            return F._scaled_dot_product_attention(q, k, v, None, 0.0, False, False)[0]

    def measure(name, kernel, case, launch, nbytes, check=None):
        times, per_sample, warmups = harness.sample(plan, harness.WallClockTimer(), launch)
        r = harness.summarise(name, kernel, times, per_sample, warmups, case.flops, nbytes, 1, nbytes, "wall-clock")
        if check is not None:
            r["relativeError"] = check
        return r

    def relative_error(got, want):
        return ((got - want).abs().max() / want.abs().max().clamp_min(1e-30)).item()

    def linear(case):
        p = case.param
        x, w = uniform(p["tokens"], p["in"]), uniform(p["out"], p["in"])
        y = torch.empty(p["tokens"], p["out"])
        torch.mm(x, w.t(), out=y)
        check = relative_error(y[:8], x[:8].double().mm(w.double().t()).float())
        nbytes = 4 * (x.numel() + w.numel() + y.numel())
        return {"torch-mm": measure("torch-mm", "torch.mm(x, w.t(), out=y), fp32", case,
                                    lambda _i: torch.mm(x, w.t(), out=y), nbytes, check)}

    def attention(case):
        p = case.param
        b, h, s, d = p["batch"], p["heads"], p["sequence"], p["headDim"]
        q, k, v = uniform(b, h, s, d), uniform(b, h, s, d), uniform(b, h, s, d)
        scale = 1.0 / d ** 0.5

        def explicit(_i=0):
            return torch.softmax(torch.matmul(q, k.transpose(-2, -1)) * scale, dim=-1).matmul(v)

        want = explicit()
        nbytes = 4 * 4 * q.numel()
        results = {"torch-explicit": measure("torch-explicit", "softmax(q @ k^T * scale) @ v, fp32", case, explicit,
                                             nbytes)}
        try:
            check = relative_error(sdpa(q, k, v), want)
            results["torch-sdpa"] = measure("torch-sdpa", sdpa_name + ", fp32", case, lambda _i: sdpa(q, k, v),
                                            nbytes, check)
        except Exception as e:  # noqa: BLE001 - an API this torch lacks: record it, go on
            results["torch-sdpa"] = harness._error(e)
        return results

    def tiny_linear(case):
        p = case.param
        x, w = uniform(p["tokens"], p["in"]), uniform(p["out"], p["in"])
        nbytes = 4 * (x.numel() + w.numel() + p["tokens"] * p["out"])
        return {"torch-linear": measure("torch-linear", "F.linear(x, w): a new output per call, fp32", case,
                                        lambda _i: F.linear(x, w), nbytes)}

    kinds = {"linear": linear, "attention": attention, "tiny-linear": tiny_linear}
    with torch.no_grad():
        for case in cases:
            try:
                results = kinds[case.kind](case)
            except Exception as e:  # noqa: BLE001 - an OOM or a rejected shape: record it, go on
                results = {name: harness._error(e) for name in RESULTS[case.kind]}
            report.add(case, results)
            print(f"  {case.id:40s} {_describe(results)}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", required=True, help="the cases file the Java runner wrote (lacuna-cpu-cases/1)")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument("--min-samples", type=int, default=3)
    parser.add_argument("--min-warmup", type=int, default=1)
    parser.add_argument("--min-sample-ms", type=float, default=1.0)
    harness.add_run_arguments(parser)
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
        else harness.cpu_environment(args.threads)
    report = harness.Report(args.out, args.spec, plan, environment, args.dry_run, SCHEMA)
    print(f"cpu_anchor: {len(cases)} case(s)" + (" (dry run, simulated timings)" if args.dry_run else
          f", torch {environment['torch']}, {args.threads} thread(s), BLAS {environment.get('blasInfo')}"
          f", OpenBLAS loaded: {environment.get('openblasLoaded')}"), flush=True)
    return harness.run_report("cpu_anchor", report, args.out, lambda: run_dry(plan, cases, report)
                              if args.dry_run else run_torch(plan, cases, report, args.threads))


if __name__ == "__main__":
    sys.exit(main())
