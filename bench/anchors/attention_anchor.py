#!/usr/bin/env python3
"""PyTorch's scaled_dot_product_attention (flash backend) on the cases of Lacuna's attention benchmark.

Runs on the GPU machine, which has PyTorch but no Java and no network, after the Java benchmarks; its JSON is folded
into the run record by org.lacuna.bench.gpu.AttentionAnchors. The measurement is Lacuna's harness, shared with
two_four_gemm_anchor.py (imported from beside this file): a warm-up of at least 3 launches and 200 ms, samples timed with
CUDA events, back-to-back launches in a sample when one is under 0.1 ms, 100 samples (at least 10 when a case would
take over 3 s), inputs rotated through copies spanning 256 MiB or more, numpy's percentile definition.

Per case (batch x sequence = 16384 tokens, 16 heads of 64 or 128, fp16, non-causal, every token attended):
  sdpa-flash  F.scaled_dot_product_attention(q, k, v) under sdpa_kernel(FLASH_ATTENTION), with q, k, v strided views
              of one packed [batch, seq, 3, heads, dim] tensor: the layout a fused QKV projection writes and Lacuna's
              kernel reads, so neither side pays for a transpose.
A rejected or failing measurement is recorded as {"error": ...} and the sweep goes on.

  python3 attention_anchor.py --out anchors.json          # the cases LACUNA_ATTENTION_CASES names (default: all)
  python3 attention_anchor.py --list-cases --cases all    # no torch needed
  python3 attention_anchor.py --estimate                  # device-time estimate per preset, no torch needed
  python3 attention_anchor.py --dry-run --out a.json      # the whole flow on simulated timings, no torch needed
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import two_four_gemm_anchor as harness  # noqa: E402 - the shared sampler, statistics, report and simulated device

SCHEMA = "lacuna-attention-anchor/1"
CASES_ENV = "LACUNA_ATTENTION_CASES"
RESULT = "sdpa-flash"

# ---------------------------------------------------------------------------------------------------------------
# The sweep. Mirrors AttentionSweep.java exactly (AttentionSweepTest compares the two lists).

TOKENS = 16384
HEADS = 16
SEQUENCE_LENGTHS = (512, 1024, 2048, 4096, 8192)
HEAD_DIMS = (64, 128)


@dataclasses.dataclass(frozen=True)
class Case:
    head_dim: int
    sequence_length: int
    dtype: str = "f16"

    @property
    def id(self):
        return f"attn-d{self.head_dim}-s{self.sequence_length}-{self.dtype}"

    @property
    def batch(self):
        return TOKENS // self.sequence_length

    @property
    def flops(self):
        # Q·Kᵀ and P·V, 2·S²·D each, per sequence and head: the same count as Lacuna's dense row.
        return 4 * self.batch * HEADS * self.head_dim * self.sequence_length ** 2

    @property
    def bytes(self):
        # Q, K, V read and O written once, fp16.
        return TOKENS * 4 * HEADS * self.head_dim * 2

    def params(self):
        return {"case": self.id, "headDim": self.head_dim, "sequenceLength": self.sequence_length,
                "batch": self.batch, "heads": HEADS, "dtype": self.dtype, "causal": False}


def _all():
    return [Case(d, s) for d in HEAD_DIMS for s in SEQUENCE_LENGTHS]


PRESETS = {
    "all": _all,
    "headline": lambda: [Case(64, 2048), Case(128, 2048), Case(128, 8192)],
    "smoke": lambda: [Case(64, 512), Case(128, 1024)],
}


def select(spec):
    """Cases named by a comma-separated spec: presets, or regular expressions searched in the ids of `all`. Empty
    means `all`; duplicates keep their first place."""
    items = [item.strip() for item in (spec or "").split(",") if item.strip()] or ["all"]
    chosen = {}
    for item in items:
        if item in PRESETS:
            matched = PRESETS[item]()
        else:
            try:
                pattern = re.compile(item)
            except re.error as e:
                raise ValueError(f"case selection item '{item}' is no preset or regular expression: {e}")
            matched = [c for c in _all() if pattern.search(c.id)]
            if not matched:
                raise ValueError(f"case selection item '{item}' matches no case (presets: {', '.join(sorted(PRESETS))})")
        for c in matched:
            chosen.setdefault(c.id, c)
    return list(chosen.values())


# ---------------------------------------------------------------------------------------------------------------
# Device-time estimate and the report.

def estimated_launch_seconds(case):
    return max(case.flops / harness.PEAK_FLOPS, case.bytes / harness.PEAK_BYTES, harness.LAUNCH_FLOOR_S)


def run_dry(plan, cases, report):
    device = harness.SimulatedDevice()
    for case in cases:
        # A flash kernel at about 60% of the roofline's peak.
        device.launch_s = estimated_launch_seconds(case) / 0.6
        set_bytes = harness.align_up(TOKENS * 3 * HEADS * case.head_dim * 2)
        copies = harness.rotation_copies(set_bytes, plan.working_set_bytes, (80 << 30) // 4)
        times, per_sample, warmups = harness.sample(plan, device, device.launch, device.now_ns)
        results = {RESULT: harness.summarise(RESULT, "simulated flash attention", times, per_sample, warmups,
                                             case.flops, case.bytes, copies, set_bytes, "simulated")}
        report.add(case, results)
        print(f"  {case.id:24s} {_describe(results[RESULT])}", flush=True)


def _describe(result):
    if "error" in result:
        return result["error"][:80]
    return f"{result['medianMs']:.4f} ms {result['achievedTflops']:.1f} TFLOP/s"


# ---------------------------------------------------------------------------------------------------------------
# The GPU run.

def run_torch(plan, cases, report):
    import torch
    import torch.nn.functional as F

    if not torch.cuda.is_available():
        raise RuntimeError("torch.cuda.is_available() is False")
    device = torch.device("cuda")
    memory_cap = torch.cuda.get_device_properties(device).total_memory // 4
    dtypes = {"f16": torch.float16, "bf16": torch.bfloat16}

    try:
        from torch.nn.attention import SDPBackend, sdpa_kernel

        def flash_only():
            return sdpa_kernel([SDPBackend.FLASH_ATTENTION])
    except ImportError:  # PyTorch before 2.3
        def flash_only():
            return torch.backends.cuda.sdp_kernel(enable_flash=True, enable_math=False, enable_mem_efficient=False)

    EventTimer = harness.event_timer(torch)

    def packed(case, seed):
        g = torch.Generator(device=device).manual_seed(seed)
        qkv = (torch.rand(case.batch, case.sequence_length, 3, HEADS, case.head_dim, generator=g, device=device)
               * 2 - 1).to(dtypes[case.dtype])
        return qkv

    def views(qkv):
        # [B, S, 3, H, D] -> three [B, H, S, D] views, last dimension contiguous: what the flash kernel takes as is.
        return tuple(qkv[:, :, i].transpose(1, 2) for i in range(3))

    def relative_error(case, qkv, out):
        # One sequence, one head, a few rows in fp32: enough to tell a right result from a wrong one.
        q, k, v = (t[0, 0].float() for t in views(qkv))
        rows = [0, 1, case.sequence_length - 1]
        p = torch.softmax(q[rows] @ k.t() / case.head_dim ** 0.5, dim=-1)
        reference = p @ v
        got = out[0, 0, rows].float()
        return ((got - reference).abs().max() / reference.abs().max().clamp_min(1e-30)).item()

    for case in cases:
        results = {}
        try:
            qkv = packed(case, case.head_dim * 1000 + case.sequence_length)
            with flash_only():
                out = F.scaled_dot_product_attention(*views(qkv))
                check = relative_error(case, qkv, out)
                set_bytes = harness.align_up(qkv.numel() * qkv.element_size())
                copies = harness.rotation_copies(set_bytes, plan.working_set_bytes, memory_cap)
                sets = [qkv] + [qkv.clone() for _ in range(copies - 1)]
                try:
                    times, per_sample, warmups = harness.sample(
                        plan, EventTimer(), lambda i: F.scaled_dot_product_attention(*views(sets[i % copies])))
                finally:
                    del sets
            result = harness.summarise(RESULT, "F.scaled_dot_product_attention [SDPBackend.FLASH_ATTENTION]", times,
                                       per_sample, warmups, case.flops, case.bytes, copies, set_bytes, "device")
            result["relativeError"] = check
            results[RESULT] = result
        except Exception as e:  # noqa: BLE001 - a rejected shape or an OOM: record it, go on
            results[RESULT] = harness._error(e)
        torch.cuda.empty_cache()
        report.add(case, results)
        print(f"  {case.id:24s} {_describe(results[RESULT])}", flush=True)


# ---------------------------------------------------------------------------------------------------------------

def main(argv=None):
    parser = harness.sweep_parser(__doc__, CASES_ENV, f"presets ({', '.join(PRESETS)}) or regular expressions over"
                                                      " case ids")
    harness.add_mode_arguments(parser)
    args = parser.parse_args(argv)
    cases, plan = harness.sweep_cases_and_plan(parser, args, select)

    if args.list_cases:
        print("\n".join(c.id for c in cases))
        return 0
    if args.estimate:
        print(f"{'selection':10s} {'cases':>5s} {'GFLOP':>8s} {'device s':>9s}")
        for name in PRESETS:
            chosen = select(name)
            print(f"{name:10s} {len(chosen):5d} {sum(c.flops for c in chosen) / 1e9:8.0f} {harness.estimate_sweep(plan, chosen, estimated_launch_seconds):9.1f}")
        print("device time of the measurements only (warm-up + samples), roofline as two_four_gemm_anchor.py")
        return 0

    environment = harness.environment(args.dry_run, with_cusparselt=False)
    report = harness.Report(args.out, args.cases or "all", plan, environment, args.dry_run, SCHEMA)
    print(f"attention_anchor: {len(cases)} case(s), selection '{args.cases or 'all'}'"
          + (" (dry run, simulated timings)" if args.dry_run else f" on {environment.get('device')}"
             f", torch {environment['torch']}"), flush=True)
    run = run_dry if args.dry_run else run_torch
    return harness.run_report("attention_anchor", report, args.out, lambda: run(plan, cases, report))


if __name__ == "__main__":
    sys.exit(main())
