#!/usr/bin/env python3
"""PyTorch's cuBLAS and cuSPARSELt on the cases of Lacuna's 2:4 sparse GEMM benchmark (TwoFourGemmBenchmark).

Runs on the GPU machine, which has PyTorch but no Java and no network; bench/bundle/run.sh calls it after the Java
benchmarks and folds its JSON into the run record (see bench/anchors/README.md). Every case is measured the way
Lacuna's harness measures (bench/src/main/java/org/lacuna/bench/measure/Sampler.java): a warm-up of at least 3 launches
and 200 ms, samples timed with CUDA events, back-to-back launches in a sample when one is under 0.1 ms, 100 samples
(at least 10 when a case would take over 3 s), inputs rotated through copies spanning 256 MiB or more so no launch
reads what the previous one left in the L2, and numpy's percentile definition for the statistics.

Per case it measures, with Y[tokens, out] = X[tokens, in] . W[out, in]^T in fp16 or bf16 and fp32 accumulation:
  cublas      torch.mm(x, w.t(), out=y): cuBLAS on the dense, unpruned W (Lacuna's `dense` rows do the same)
  cusparselt  torch._cslt_sparse_mm(compress(prune_2_4(W)), x.t(), transpose_result=True): cuSPARSELt writing Y
              as Lacuna's `twofour` kernel does, with the algorithm cuSPARSELt's own search picks
  linear      (--with-linear) F.linear(x, to_sparse_semi_structured(prune_2_4(W))): the user-facing path, padding
              and transposes included
A rejected or failing measurement is recorded as {"error": ...} and the sweep goes on.

  python3 two_four_gemm_anchor.py --out anchors.json            # the cases LACUNA_TWO_FOUR_GEMM_CASES names (default: all)
  python3 two_four_gemm_anchor.py --cases headline --out a.json
  python3 two_four_gemm_anchor.py --list-cases --cases all      # no torch needed
  python3 two_four_gemm_anchor.py --estimate                    # device-time estimate per preset, no torch needed
  python3 two_four_gemm_anchor.py --dry-run --out a.json        # the whole flow on simulated timings, no torch needed
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import math
import os
import platform
import random
import re
import sys
import time

SCHEMA = "lacuna-two-four-gemm-anchor/1"
CASES_ENV = "LACUNA_TWO_FOUR_GEMM_CASES"

# ---------------------------------------------------------------------------------------------------------------
# The sweep. Mirrors TwoFourGemmSweep.java exactly (TwoFourGemmSweepTest compares the two lists): the ids are how the
# run record matches these timings with Lacuna's.

SQUARE_SIZES = (1024, 2048, 4096, 8192, 16384)
# (model, layer, out, in) of the linear layers whose weights 2:4 pruning targets.
LAYER_SHAPES = (
    ("bert-base", "attn-proj", 768, 768),
    ("bert-base", "ffn-up", 3072, 768),
    ("bert-base", "ffn-down", 768, 3072),
    ("minilm", "ffn-up", 1536, 384),
    ("minilm", "ffn-down", 384, 1536),
    ("llama-7b", "ffn-up", 11008, 4096),
    ("llama-7b", "ffn-down", 4096, 11008),
)
TOKENS = (1, 16, 128, 2048, 16384)
DTYPES = ("f16", "bf16")
CUSTOM = re.compile(r"^(\d+)x(\d+)x(\d+)(?:-(f16|bf16))?$")


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    model: str
    layer: str
    tokens: int
    out: int
    inp: int
    dtype: str

    def params(self):
        return {"case": self.id, "model": self.model, "layer": self.layer, "tokens": self.tokens,
                "out": self.out, "in": self.inp, "dtype": self.dtype}

    @property
    def flops(self):
        # Dense-equivalent: what the dense layer would do, so 2:4 and dense rates compare directly.
        return 2 * self.tokens * self.out * self.inp

    @property
    def dense_bytes(self):
        return 2 * (self.tokens * self.inp + self.out * self.inp + self.tokens * self.out)


def square(n, dtype):
    return Case(f"square-{n}-{dtype}", "square", "square", n, n, n, dtype)


def layer(model, name, out, inp, tokens, dtype):
    return Case(f"{model}-{name}-{out}x{inp}-t{tokens}-{dtype}", model, name, tokens, out, inp, dtype)


def custom(tokens, out, inp, dtype):
    if min(tokens, out, inp) <= 0:
        raise ValueError(f"a custom case needs positive sizes, got {tokens}x{out}x{inp}")
    return Case(f"custom-{out}x{inp}-t{tokens}-{dtype}", "custom", "custom", tokens, out, inp, dtype)


def _headline():
    # What a short run must not miss: the big square, the FFN layers at prefill sizes, and decode-sized batches.
    cases = [square(8192, "f16")]
    cases += [layer(m, n, o, i, t, "f16") for m, n, o, i in LAYER_SHAPES if n.startswith("ffn") for t in (2048, 16384)]
    cases += [layer(m, n, o, i, t, "f16") for m, n, o, i in LAYER_SHAPES for t in (1, 16)]
    return cases


def _squares():
    return [square(n, d) for n in SQUARE_SIZES for d in DTYPES]


def _layers(dtype):
    return [layer(m, n, o, i, t, dtype) for m, n, o, i in LAYER_SHAPES for t in TOKENS]


PRESETS = {
    "headline": _headline,
    "squares": _squares,
    "layers": lambda: _layers("f16"),
    "layers-bf16": lambda: _layers("bf16"),
    "all": lambda: _dedup(_headline() + _squares() + _layers("f16")),
    "everything": lambda: _dedup(_headline() + _squares() + _layers("f16") + _layers("bf16")),
    "smoke": lambda: [square(1024, "f16"), layer("bert-base", "ffn-up", 3072, 768, 128, "f16")],
}


def _dedup(cases):
    seen = set()
    return [c for c in cases if not (c.id in seen or seen.add(c.id))]


def select(spec):
    """Cases named by a comma-separated spec: preset names, TOKENSxOUTxIN[-f16|-bf16], or regular expressions
    searched in the ids of `everything`. Empty means `all`; duplicates keep their first place."""
    items = [item.strip() for item in (spec or "").split(",") if item.strip()]
    if not items:
        items = ["all"]
    cases = []
    universe = None
    for item in items:
        if item in PRESETS:
            cases += PRESETS[item]()
            continue
        m = CUSTOM.match(item)
        if m:
            cases.append(custom(int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4) or "f16"))
            continue
        try:
            pattern = re.compile(item)
        except re.error as e:
            raise ValueError(f"case selection item '{item}' is no preset, TOKENSxOUTxIN or regular expression: {e}")
        if universe is None:
            universe = PRESETS["everything"]()
        matched = [c for c in universe if pattern.search(c.id)]
        if not matched:
            raise ValueError(f"case selection item '{item}' matches no case (presets: {', '.join(PRESETS)})")
        cases += matched
    return _dedup(cases)


# ---------------------------------------------------------------------------------------------------------------
# Measurement settings and statistics: the same as MeasurementPlan.defaults(), InputRotation and SampleStatistics.

@dataclasses.dataclass(frozen=True)
class Plan:
    min_warmup_launches: int = 3
    warmup_ms: float = 200.0
    samples: int = 100
    min_samples: int = 10
    max_measure_ms: float = 3000.0
    min_sample_ms: float = 0.1
    working_set_bytes: int = 256 << 20
    min_copies: int = 4

    def as_json(self):
        return {"minWarmupLaunches": self.min_warmup_launches, "warmupMillis": self.warmup_ms,
                "samples": self.samples, "minSamples": self.min_samples, "maxMeasureMillis": self.max_measure_ms,
                "minSampleMillis": self.min_sample_ms, "workingSetTargetBytes": self.working_set_bytes}


def percentile(sorted_values, p):
    """Linear interpolation between the nearest ranks: numpy's default, R's type 7."""
    if not 0 <= p <= 100:
        raise ValueError(f"percentile outside 0..100: {p}")
    rank = p / 100.0 * (len(sorted_values) - 1)
    below = math.floor(rank)
    above = min(below + 1, len(sorted_values) - 1)
    return sorted_values[below] + (rank - below) * (sorted_values[above] - sorted_values[below])


def statistics(samples):
    if not samples:
        raise ValueError("no samples")
    s = sorted(samples)
    return {"medianMs": percentile(s, 50), "minMs": s[0], "p10Ms": percentile(s, 10), "p90Ms": percentile(s, 90),
            "maxMs": s[-1], "meanMs": sum(s) / len(s)}


def align_up(n, alignment=256):
    return (n + alignment - 1) // alignment * alignment


def rotation_copies(set_bytes, target, cap):
    """InputRotation.plan: copies enough to span `target`, at least 4 when the set is smaller, within `cap`."""
    if set_bytes >= target:
        return 1
    wanted = max(4, -(-target // set_bytes))
    return max(1, min(wanted, cap // set_bytes))


def sample(plan, timer, launch, now_ns=time.perf_counter_ns):
    """Sampler.sample: warm up, size the samples from the last warm-up launch, then time them."""
    index = 0
    start = now_ns()
    warmups = 0
    last = float("nan")
    while warmups < plan.min_warmup_launches or (now_ns() - start) / 1e6 < plan.warmup_ms:
        timer.start()
        launch(index)
        index += 1
        last = timer.stop_ms()
        warmups += 1
    estimate = max(last, 1e-6)
    per_sample = max(1, math.ceil(plan.min_sample_ms / estimate))
    count = min(max(math.floor(plan.max_measure_ms / (estimate * per_sample)), plan.min_samples), plan.samples)
    times = []
    for _ in range(count):
        timer.start()
        for _ in range(per_sample):
            launch(index)
            index += 1
        times.append(timer.stop_ms() / per_sample)
    return times, per_sample, warmups


def summarise(name, kernel, times, per_sample, warmups, flops, nbytes, copies, set_bytes, timer_name):
    stats = statistics(times)
    seconds = stats["medianMs"] / 1e3
    result = {"name": name, "kernel": kernel, "timer": timer_name, "samples": len(times),
              "launchesPerSample": per_sample, "iterations": len(times) * per_sample, "warmupLaunches": warmups}
    result.update(stats)
    result.update({"flops": flops, "bytes": nbytes, "achievedTflops": flops / seconds / 1e12,
                   "achievedGBps": nbytes / seconds / 1e9, "rotationCopies": copies,
                   "workingSetBytes": copies * set_bytes})
    return result


# ---------------------------------------------------------------------------------------------------------------
# Device-time estimate: the harness's schedule on a roofline of ~700 TFLOP/s and ~3 TB/s.

PEAK_FLOPS = 700e12
PEAK_BYTES = 3e12
LAUNCH_FLOOR_S = 5e-6  # a library call is rarely issued faster than this, whatever the kernel


def two_four_bytes(case):
    """X + Y + W as a 2:4 kernel stores it: half the values, plus 2 bits of index per kept value (1/16 of W)."""
    return 2 * (case.tokens * case.inp + case.tokens * case.out) + case.out * case.inp * 9 // 8


def estimated_launch_seconds(case, two_four):
    # The 2:4 launch is charged the dense compute time: a conservative bound, the point of 2:4 being to beat it.
    nbytes = two_four_bytes(case) if two_four else case.dense_bytes
    return max(case.flops / PEAK_FLOPS, nbytes / PEAK_BYTES, LAUNCH_FLOOR_S)


def estimated_measurement_seconds(plan, launch_s):
    launch_ms = launch_s * 1e3
    warmup = max(plan.min_warmup_launches * launch_ms, plan.warmup_ms)
    per_sample = max(1, math.ceil(plan.min_sample_ms / launch_ms))
    count = min(max(math.floor(plan.max_measure_ms / (launch_ms * per_sample)), plan.min_samples), plan.samples)
    return (warmup + count * per_sample * launch_ms) / 1e3


def estimate_sweep(plan, cases, launch_seconds):
    """Seconds of device time the harness spends on `cases`, one measurement each of launch_seconds(case) seconds."""
    return sum(estimated_measurement_seconds(plan, launch_seconds(c)) for c in cases)


def estimate(plan, cases, measurements=2):
    """Seconds of device time the harness spends on `cases`, one dense and one 2:4 measurement each."""
    total = 0.0
    for case in cases:
        total += estimated_measurement_seconds(plan, estimated_launch_seconds(case, False))
        if measurements > 1:
            total += (measurements - 1) * estimated_measurement_seconds(plan, estimated_launch_seconds(case, True))
    return total


# ---------------------------------------------------------------------------------------------------------------
# The report: written after every case, so a run cut short still leaves what it measured.

class Report:
    def __init__(self, path, spec, plan, environment, dry_run, schema=SCHEMA):
        """`schema` names the anchor's report format: each anchor script that uses this harness has its own."""
        self.path = path
        self.data = {"schema": schema, "startedAt": _now(), "finishedAt": None, "status": "running",
                     "dryRun": dry_run, "selection": spec, "environment": environment, "settings": plan.as_json(),
                     "cases": []}

    def add(self, case, results):
        self.data["cases"].append({"case": case.id, "params": case.params(), "flops": case.flops,
                                   "results": results})
        self.write()

    def finish(self, status, message=None):
        self.data["status"] = status
        self.data["finishedAt"] = _now()
        if message:
            self.data["message"] = message
        self.write()

    def write(self):
        if self.path is None:
            return
        temporary = self.path + ".tmp"
        with open(temporary, "w", encoding="utf-8") as f:
            json.dump(_finite(self.data), f, indent=2, allow_nan=False)
            f.write("\n")
        os.replace(temporary, self.path)


def _finite(value):
    """NaN and infinities (a relative error of a NaN result, say) are not JSON: they are written as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _error(e):
    return {"error": f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"[:500]}


def case_status(results):
    return "ok" if all("error" not in r for r in results.values()) else "partial"


# ---------------------------------------------------------------------------------------------------------------
# Dry run: the same flow on a simulated device, so the pure-Python parts run (and are tested) without torch.

class SimulatedDevice:
    """Times each launch from the roofline with a little seeded jitter, on a clock that only it advances."""

    def __init__(self, seed=1):
        self.random = random.Random(seed)
        self.clock_ns = 0
        self.started = 0
        self.launch_s = 0.0

    def now_ns(self):
        return self.clock_ns

    def launch(self, _index):
        seconds = self.launch_s * (1 + 0.05 * self.random.random())
        self.clock_ns += int(seconds * 1e9) + 1000

    def start(self):
        self.started = self.clock_ns

    def stop_ms(self):
        return (self.clock_ns - self.started) / 1e6


def run_dry(plan, cases, report, with_linear):
    device = SimulatedDevice()
    for case in cases:
        results = {}
        kinds = [("cublas", False, "simulated cuBLAS"), ("cusparselt", True, "simulated cuSPARSELt")]
        if with_linear:
            kinds.append(("linear", True, "simulated F.linear on SparseSemiStructuredTensor"))
        for name, two_four, kernel in kinds:
            if name == "cusparselt" and case.tokens == 1:
                # Exercises the error path the way a rejected shape would on the GPU.
                results[name] = {"error": "RuntimeError: simulated rejection of a 1-token case"}
                continue
            device.launch_s = estimated_launch_seconds(case, two_four) / (1.6 if two_four else 1.0)
            nbytes = two_four_bytes(case) if two_four else case.dense_bytes
            copies = rotation_copies(align_up(nbytes), plan.working_set_bytes, (80 << 30) // 4)
            times, per_sample, warmups = sample(plan, device, device.launch, device.now_ns)
            results[name] = summarise(name, kernel, times, per_sample, warmups, case.flops, nbytes, copies,
                                      align_up(nbytes), "simulated")
        report.add(case, results)
        print(f"  {case.id:45s} " + "  ".join(_describe(k, r) for k, r in results.items()), flush=True)


def _describe(name, result):
    if "error" in result:
        return f"{name}: {result['error'][:60]}"
    return f"{name} {result['medianMs']:.4f} ms {result['achievedTflops']:.1f} TFLOP/s"


# ---------------------------------------------------------------------------------------------------------------
# The GPU run.

def run_torch(plan, cases, report, with_linear):
    import torch
    import torch.nn.functional as F

    if not torch.cuda.is_available():
        raise RuntimeError("torch.cuda.is_available() is False")
    # Lacuna's cuBLAS call accumulates in fp32 throughout; PyTorch may otherwise let cuBLAS reduce split-K partial
    # sums in fp16/bf16, which is faster and not the same computation.
    torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction = False
    torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction = False
    device = torch.device("cuda")
    memory_cap = torch.cuda.get_device_properties(device).total_memory // 4
    dtypes = {"f16": torch.float16, "bf16": torch.bfloat16}

    EventTimer = event_timer(torch)

    def random_nonzero(rows, cols, dtype, seed):
        # Magnitudes in [0.25, 1) with random signs: never zero, so no timing is flattered by trivial data, and
        # dot products over 16384 terms stay far from fp16's range limit.
        g = torch.Generator(device=device).manual_seed(seed)
        magnitude = torch.rand(rows, cols, generator=g, device=device) * 0.75 + 0.25
        sign = torch.randint(0, 2, (rows, cols), generator=g, device=device, dtype=torch.int8) * 2 - 1
        return (magnitude * sign).to(dtype)

    def prune_2_4(w):
        # Magnitude pruning, as TwoFourPruning: the two largest of every four along `in` survive.
        out, inp = w.shape
        groups = w.reshape(out, inp // 4, 4)
        keep = groups.abs().float().topk(2, dim=-1).indices
        mask = torch.zeros_like(groups, dtype=torch.bool).scatter_(-1, keep, True)
        return (groups * mask).reshape(out, inp).contiguous()

    def relative_error(y, x, w):
        # A slice of the product in fp32 is enough to tell a right result from a wrong one, at no real cost.
        rows = min(y.shape[0], 64)
        reference = x[:rows].float() @ w.float().t()
        return ((y[:rows].float() - reference).abs().max() / reference.abs().max().clamp_min(1e-30)).item()

    def tensor_bytes(tensors):
        return sum(align_up(t.numel() * t.element_size()) for t in tensors)

    def measure(name, kernel, case, first_set, copy_set, set_bytes, launch, nbytes):
        """Times launch(set) over copies of an input set: first_set, then copy_set() until the copies span the
        working-set target, so no launch finds its operands in the L2 the previous one left warm."""
        copies = rotation_copies(set_bytes, plan.working_set_bytes, memory_cap)
        sets = [first_set] + [copy_set() for _ in range(copies - 1)]
        try:
            times, per_sample, warmups = sample(plan, EventTimer(), lambda i: launch(sets[i % copies]))
        finally:
            del sets
        return summarise(name, kernel, times, per_sample, warmups, case.flops, nbytes, copies, set_bytes,
                         "device")

    search = getattr(torch, "_cslt_sparse_mm_search", None)

    def cslt_mm(wc, xt, alg_id):
        try:
            return torch._cslt_sparse_mm(wc, xt, transpose_result=True, alg_id=alg_id)
        except TypeError:  # PyTorch from before alg_id
            return torch._cslt_sparse_mm(wc, xt, transpose_result=True)

    def cslt_search(wc, xt):
        if search is None:
            return 0
        try:
            return int(search(wc, xt, transpose_result=True))
        except TypeError:
            return int(search(wc, xt))

    def time_cublas(case, x, w):
        y = torch.empty(case.tokens, case.out, dtype=x.dtype, device=device)
        torch.mm(x, w.t(), out=y)
        check = relative_error(y, x, w)
        r = measure("cublas", "torch.mm(x, w.t(), out=y)", case, [x, w, y], lambda: [x.clone(), w.clone(), y.clone()],
                    tensor_bytes([x, w, y]), lambda s: torch.mm(s[0], s[1].t(), out=s[2]), case.dense_bytes)
        r["relativeError"] = check
        return r

    def time_cusparselt(case, x, w_pruned):
        wc = torch._cslt_compress(w_pruned)
        x_used = x
        exact_error = None
        try:
            alg_id = cslt_search(wc, x.t())
            y = cslt_mm(wc, x.t(), alg_id)
        except RuntimeError as e:
            # Some cuSPARSELt versions want the dense operand's dimensions in multiples of 8 or 16: pad the tokens
            # with zero rows, as PyTorch's SparseSemiStructuredTensor does, time that, and say so.
            padded = -(-case.tokens // 16) * 16
            if padded == case.tokens:
                raise
            exact_error = _error(e)["error"]
            x_used = torch.cat([x, x.new_zeros(padded - case.tokens, case.inp)])
            alg_id = cslt_search(wc, x_used.t())
            y = cslt_mm(wc, x_used.t(), alg_id)
        if tuple(y.shape) != (x_used.shape[0], case.out):
            raise RuntimeError(f"_cslt_sparse_mm returned shape {tuple(y.shape)}, expected {(x_used.shape[0], case.out)}")
        check = relative_error(y[:case.tokens], x, w_pruned)
        nbytes = (x_used.numel() + y.numel()) * x.element_size() + wc.numel() * wc.element_size()
        r = measure("cusparselt", f"torch._cslt_sparse_mm(transpose_result=True, alg_id={alg_id})", case,
                    [x_used, wc], lambda: [x_used.clone(), wc.clone()], tensor_bytes([x_used, wc]),
                    lambda s: cslt_mm(s[1], s[0].t(), alg_id), nbytes)
        r.update({"algId": alg_id, "relativeError": check, "compressedWeightBytes": wc.numel() * wc.element_size()})
        if exact_error is not None:
            r.update({"paddedTokens": x_used.shape[0], "exactShapeError": exact_error})
        return r

    def time_linear(case, x, w_pruned):
        from torch.sparse import SparseSemiStructuredTensor, to_sparse_semi_structured
        SparseSemiStructuredTensor._FORCE_CUTLASS = False
        ws = to_sparse_semi_structured(w_pruned)
        check = relative_error(F.linear(x, ws), x, w_pruned)
        w_stored = case.out * case.inp * 9 // 8
        r = measure("linear", "F.linear(x, to_sparse_semi_structured(w)) [cuSPARSELt]", case, [x, ws],
                    lambda: [x.clone(), to_sparse_semi_structured(w_pruned)],
                    tensor_bytes([x]) + align_up(w_stored), lambda s: F.linear(s[0], s[1]),
                    two_four_bytes(case))
        r["relativeError"] = check
        return r

    for case in cases:
        results = {}
        seed = (case.out * 1_000_003 + case.inp) % (2 ** 31)
        w = x = w_pruned = None
        try:
            w = random_nonzero(case.out, case.inp, dtypes[case.dtype], seed)
            x = random_nonzero(case.tokens, case.inp, dtypes[case.dtype], seed + 1)
        except Exception as e:  # noqa: BLE001 - out of memory and the like: record it, go on
            results = {"cublas": _error(e), "cusparselt": _error(e)}
        if x is not None:
            timings = [("cublas", time_cublas)]
            try:
                w_pruned = prune_2_4(w)
                timings.append(("cusparselt", time_cusparselt))
                if with_linear:
                    timings.append(("linear", time_linear))
            except Exception as e:  # noqa: BLE001 - e.g. `in` not a multiple of 4
                results["cusparselt"] = _error(e)
            for name, timing in timings:
                try:
                    results[name] = timing(case, x, w if name == "cublas" else w_pruned)
                except Exception as e:  # noqa: BLE001 - a rejected shape or an OOM: record it, go on
                    results[name] = _error(e)
                    torch.cuda.empty_cache()
        del w, x, w_pruned
        torch.cuda.empty_cache()
        report.add(case, results)
        print(f"  {case.id:45s} " + "  ".join(_describe(k, r) for k, r in results.items()), flush=True)


def event_timer(torch):
    """The timer of a sample on the GPU: CUDA events around the launches (shared by the anchor scripts)."""
    class EventTimer:
        def __init__(self):
            self.begin = torch.cuda.Event(enable_timing=True)
            self.end = torch.cuda.Event(enable_timing=True)

        def start(self):
            self.begin.record()

        def stop_ms(self):
            self.end.record()
            self.end.synchronize()
            return self.begin.elapsed_time(self.end)

    return EventTimer


class WallClockTimer:
    """The timer of a sample on the CPU: the host clock around the (synchronous) launches."""

    def __init__(self):
        self.begin = 0

    def start(self):
        self.begin = time.perf_counter_ns()

    def stop_ms(self):
        return (time.perf_counter_ns() - self.begin) / 1e6


def cpu_environment(threads):
    """PyTorch's CPU build as the CPU anchors run it: version, threads, BLAS, whether OpenBLAS is mapped."""
    import torch
    torch.set_num_threads(threads)  # before parallel_info, so it reports the threads the timings use
    blas = [part.strip() for line in torch.__config__.show().splitlines() for part in line.split(",")
            if "BLAS_INFO" in part]
    try:
        with open("/proc/self/maps", encoding="utf-8") as f:
            openblas = "libopenblas" in f.read()
    except OSError:
        openblas = None
    return {"torch": torch.__version__, "python": platform.python_version(), "device": "cpu", "threads": threads,
            "blasInfo": blas[0].split("=", 1)[1] if blas else None, "openblasLoaded": openblas,
            "parallelInfo": torch.__config__.parallel_info().splitlines()[:6]}


def torch_environment(with_cusparselt=True):
    import torch
    env = {"torch": torch.__version__, "cuda": torch.version.cuda, "python": platform.python_version()}
    if with_cusparselt:
        try:
            env["cusparselt"] = torch.backends.cusparselt.version()
        except Exception:  # noqa: BLE001 - older PyTorch, or built without it
            env["cusparselt"] = None
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        env.update({"device": props.name, "capability": f"{props.major}.{props.minor}",
                    "multiprocessors": props.multi_processor_count, "totalMemoryBytes": props.total_memory})
    return env


def environment(dry_run, with_cusparselt=True, on_cpu=False, threads=2):
    """The simulated device's environment for a dry run, else PyTorch's and the GPU's (or the CPU's)."""
    if dry_run:
        return {"simulated": True, "python": platform.python_version()}
    return cpu_environment(threads) if on_cpu else torch_environment(with_cusparselt)


def add_run_arguments(parser):
    """The options every anchor script takes: where the report goes and how long to sample."""
    parser.add_argument("--out", help="JSON report to write")
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--warmup-ms", type=float, default=200.0)
    parser.add_argument("--max-ms-per-case", type=float, default=3000.0)


def sweep_parser(doc, cases_env, cases_help):
    """The arguments of a case-sweep anchor: --cases (default from the environment variable cases_env; cases_help
    says what an item may be), the run options and --working-set-mib. Mode arguments go last (add_mode_arguments)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default=os.environ.get(cases_env, ""),
                        help=f"{cases_help}, comma-separated (default: ${cases_env}, else all)")
    add_run_arguments(parser)
    parser.add_argument("--working-set-mib", type=int, default=256)
    return parser


def sweep_cases_and_plan(parser, args, select):
    """The cases select(args.cases) chooses (a bad selection is a usage error) and the sampling plan the arguments of
    sweep_parser ask for, keeping at least 10 samples (or all of fewer) however slow a case."""
    try:
        cases = select(args.cases)
    except ValueError as e:
        parser.error(str(e))
    return cases, Plan(samples=args.samples, min_samples=min(10, args.samples), warmup_ms=args.warmup_ms,
                       max_measure_ms=args.max_ms_per_case, working_set_bytes=args.working_set_mib << 20)


def add_mode_arguments(parser, estimate_help="print the device-time estimate per preset and exit"):
    """--list-cases, --estimate and --dry-run, one at a time."""
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--list-cases", action="store_true", help="print the selected case ids and exit")
    mode.add_argument("--estimate", action="store_true", help=estimate_help)
    mode.add_argument("--dry-run", action="store_true", help="run on a simulated device (no torch needed)")


def run_report(script, report, out, run):
    """Runs run() into the report and finishes it: exit status 1 (report "failed") when run raised, else 0."""
    try:
        run()
    except Exception as e:  # noqa: BLE001 - the report must say why the run stopped
        report.finish("failed", _error(e)["error"])
        print(f"{script}: failed: {e}", file=sys.stderr)
        return 1
    statuses = {case_status(c["results"]) for c in report.data["cases"]}
    report.finish("ok" if statuses <= {"ok"} else "partial")
    if out:
        print(f"{script}: wrote {out} ({report.data['status']})")
    return 0


# ---------------------------------------------------------------------------------------------------------------

def main(argv=None):
    parser = sweep_parser(__doc__, CASES_ENV, f"presets ({', '.join(PRESETS)}), TOKENSxOUTxIN[-f16|-bf16] or regular"
                                              " expressions over case ids")
    parser.add_argument("--with-linear", action="store_true",
                        help="also time F.linear on a SparseSemiStructuredTensor (cuSPARSELt through PyTorch's API)")
    add_mode_arguments(parser)
    args = parser.parse_args(argv)
    cases, plan = sweep_cases_and_plan(parser, args, select)

    if args.list_cases:
        print("\n".join(c.id for c in cases))
        return 0
    if args.estimate:
        timings = 3 if args.with_linear else 2
        print(f"{'selection':14s} {'cases':>5s} {'GFLOP':>8s} {'device s':>9s}   ({timings} timings a case)")
        for name in list(PRESETS) + ([args.cases] if args.cases and args.cases not in PRESETS else []):
            chosen = select(name)
            print(f"{name:14s} {len(chosen):5d} {sum(c.flops for c in chosen) / 1e9:8.0f} "
                  f"{estimate(plan, chosen, timings):9.1f}")
        print("device time of the measurements only (warm-up + samples) at 700 TFLOP/s, 3 TB/s, >= 5 us a launch;"
              " add data preparation and uploads, and the tests and other benchmarks of a bundle run")
        return 0

    env = environment(args.dry_run)
    report = Report(args.out, args.cases or "all", plan, env, args.dry_run)
    print(f"two_four_gemm_anchor: {len(cases)} case(s), selection '{args.cases or 'all'}'"
          + (" (dry run, simulated timings)" if args.dry_run else f" on {env.get('device')}"
             f", torch {env['torch']}, cuSPARSELt {env.get('cusparselt')}"), flush=True)
    run = run_dry if args.dry_run else run_torch
    return run_report("two_four_gemm_anchor", report, args.out, lambda: run(plan, cases, report, args.with_linear))


if __name__ == "__main__":
    sys.exit(main())
