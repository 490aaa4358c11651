#!/usr/bin/env python3
"""PyTorch gather-GEMM-scatter on the exact kernel maps and weights of Lacuna's sparse-conv benchmark (MinkUNet).

Runs on the GPU machine (PyTorch, no Java, no network) after the Java benchmarks; its JSON is folded into the run
record by org.lacuna.bench.gpu.SparseConvAnchors. SparseConvBenchmark exports, to -Dlacuna.bench.exportDir, a folder
with manifest.json (cases, row counts, pairs per offset), weights.safetensors (F32 [volume, in, out] under MinkUNet's
keys) and map-*.npy (int32 [2, pairs]: input rows, output rows, offset-major). Per layer case, in fp16:

  torch-gather-gemm-scatter   y.zero_(); per kernel offset v with pairs: y.index_add_(0, out_rows,
                              x.index_select(0, in_rows) @ w[v]); an offset whose pairs are the identity (the centre
                              of a submanifold conv on its own coordinates, a 1x1x1 conv) is y.addmm_(x, w[v]), as
                              TorchSparse does, so the baseline does no gather it would not do.

and per end-to-end case every layer of the batch in forward order, each on its own input (as the Java side does).
FLOPs are useful ones, 2*pairs*in*out, the same count as Lacuna's rows. The measurement is Lacuna's harness, shared
with two_four_gemm_anchor.py (imported from beside this file): >= 3 warm-up launches and 200 ms, CUDA events, back-to-back
launches in a sample when one is under 0.1 ms, 100 samples (>= 10 when a case would take over 3 s), numpy's percentile
definition. Inputs are not rotated: a layer's features are a few MB, warm in L2 on both sides alike.

With --device cpu (the CPU benchmark, org.lacuna.bench.cpu.CpuBenchMain) the same gather-GEMM-scatter runs on the
CPU in fp32 with torch.set_num_threads(--threads), timed by the host clock; case ids are the same, params say f32.

  python3 sparse_conv_anchor.py --export DIR --out anchors.json   # time the exported cases
  python3 sparse_conv_anchor.py --list-cases [--export DIR]       # no torch needed
  python3 sparse_conv_anchor.py --estimate [--export DIR]         # device-time estimate, no torch needed
  python3 sparse_conv_anchor.py --dry-run [--export DIR] --out a.json   # simulated timings, no torch needed
  python3 sparse_conv_anchor.py --device cpu --threads 2 --export DIR --cases end-to-end --out cpu.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import two_four_gemm_anchor as harness  # noqa: E402 - the shared sampler, statistics, report and simulated device

SCHEMA = "lacuna-sparse-conv-anchor/1"
EXPORT_SCHEMA = "lacuna-sparse-conv-export/1"
RESULT = "torch-gather-gemm-scatter"
BATCHES_ENV = "LACUNA_SPARSE_CONV_BATCHES"

# ---------------------------------------------------------------------------------------------------------------
# The network. Mirrors SparseConvNetwork.java (SparseConvBenchmarkTest compares the two case lists).

DEFAULT_CHANNELS = (32, 32, 64, 128, 256, 256, 128, 96, 96)
DEFAULT_IN_CHANNELS = 4


def layer_keys(in_channels=DEFAULT_IN_CHANNELS, cs=DEFAULT_CHANNELS):
    """MinkUNet's convolutions in forward order, by state-dict key without '.kernel'."""
    keys = ["stem.0", "stem.3"]

    def block(prefix, cin, cout):
        keys.extend([prefix + ".net.0", prefix + ".net.3"] + ([prefix + ".downsample.0"] if cin != cout else []))

    for i in range(1, 5):
        keys.append(f"stage{i}.0.net.0")
        block(f"stage{i}.1", cs[i - 1], cs[i])
        block(f"stage{i}.2", cs[i], cs[i])
    for i in range(1, 5):
        to = cs[4 + i]
        keys.append(f"up{i}.0.net.0")
        block(f"up{i}.1.0", to + cs[4 - i], to)
        block(f"up{i}.1.1", to, to)
    return keys


def layer_case(batch, key):
    return f"minkunet-b{batch}-{key}"


def end_to_end_case(batch):
    return f"minkunet-b{batch}-end-to-end"


@dataclasses.dataclass
class Case:
    """One case: a layer (entry from the manifest, or only its name) or a batch's end-to-end chain."""
    id: str
    batch: int
    kind: str
    entry: dict = dataclasses.field(default_factory=dict)
    layers: list = dataclasses.field(default_factory=list)
    dtype: str = "f16"

    @property
    def flops(self):
        return int(self.entry.get("flops", 0))

    def params(self):
        p = {"case": self.id, "batch": self.batch, "kind": self.kind, "dtype": self.dtype}
        for key in ("layer", "in", "out", "volume", "inputRows", "outputRows", "pairs"):
            if key in self.entry:
                p[key] = self.entry[key]
        if self.kind == "end-to-end":
            p["layers"] = len(self.layers)
        return p


def parse_batches(spec):
    return [int(b) for b in (spec or "1,4").split(",") if b.strip()]


def cases_from_manifest(manifest):
    by_id = {}
    ordered = []
    for entry in manifest["cases"]:
        case = Case(entry["case"], int(entry["batch"]), entry["kind"], entry)
        by_id[case.id] = case
        ordered.append(case)
    for case in ordered:
        if case.kind == "end-to-end":
            case.layers = [by_id[i] for i in case.entry["layers"]]
    return ordered


def cases_from_architecture(batches, in_channels=DEFAULT_IN_CHANNELS, cs=DEFAULT_CHANNELS):
    ordered = []
    for batch in batches:
        layers = [Case(layer_case(batch, k), batch, "layer", {"layer": k}) for k in layer_keys(in_channels, cs)]
        ordered.extend(layers)
        ordered.append(Case(end_to_end_case(batch), batch, "end-to-end", {}, layers))
    return ordered


def select(cases, spec):
    """Regular expressions (comma-separated) searched in the case ids; empty means every case."""
    items = [item.strip() for item in (spec or "").split(",") if item.strip()]
    if not items:
        return cases
    chosen = []
    for item in items:
        try:
            pattern = re.compile(item)
        except re.error as e:
            raise ValueError(f"case selection item '{item}' is no regular expression: {e}")
        matched = [c for c in cases if pattern.search(c.id)]
        if not matched:
            raise ValueError(f"case selection item '{item}' matches no case")
        chosen.extend(c for c in matched if c not in chosen)
    return [c for c in cases if c in chosen]


# ---------------------------------------------------------------------------------------------------------------
# The export, read without numpy or safetensors (the GPU image may lack either).

def read_manifest(export_dir):
    with open(os.path.join(export_dir, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    if manifest.get("schema") != EXPORT_SCHEMA:
        raise ValueError(f"{export_dir}/manifest.json has schema {manifest.get('schema')}, expected {EXPORT_SCHEMA}")
    return manifest


def read_npy_int32(path):
    """(shape, raw little-endian bytes) of a version 1.0 .npy of '<i4' in C order."""
    with open(path, "rb") as f:
        if f.read(6) != b"\x93NUMPY":
            raise ValueError(f"{path} is not a .npy file")
        major, _minor = f.read(2)
        length = struct.unpack("<H" if major == 1 else "<I", f.read(2 if major == 1 else 4))[0]
        header = f.read(length).decode("latin1")
        if "'<i4'" not in header or "True" in header:
            raise ValueError(f"{path}: expected C-ordered int32, header {header.strip()}")
        shape = tuple(int(d) for d in re.search(r"'shape': \(([^)]*)\)", header).group(1).split(",") if d.strip())
        return shape, f.read()


def read_safetensors_header(path):
    with open(path, "rb") as f:
        length = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(length))
        return header, 8 + length


# ---------------------------------------------------------------------------------------------------------------
# Device-time estimate and the report.

def estimated_launch_seconds(case):
    if case.kind == "end-to-end":
        return sum(estimated_launch_seconds(layer) for layer in case.layers)
    volume = int(case.entry.get("volume", 27))
    # A gather-GEMM-scatter launches three kernels per offset; the kernels are small, so launches dominate.
    return max(case.flops / harness.PEAK_FLOPS, 3 * volume * harness.LAUNCH_FLOOR_S)


def _describe(result):
    if "error" in result:
        return result["error"][:80]
    return f"{result['medianMs']:.4f} ms {result['achievedTflops']:.2f} TFLOP/s"


def run_dry(plan, cases, report):
    device = harness.SimulatedDevice()
    for case in cases:
        device.launch_s = estimated_launch_seconds(case)
        times, per_sample, warmups = harness.sample(plan, device, device.launch, device.now_ns)
        results = {RESULT: harness.summarise(RESULT, "simulated gather-GEMM-scatter", times, per_sample, warmups,
                                             case.flops, 0, 1, 0, "simulated")}
        report.add(case, results)
        print(f"  {case.id:40s} {_describe(results[RESULT])}", flush=True)


# ---------------------------------------------------------------------------------------------------------------
# The GPU run.

def run_torch(plan, cases, report, export_dir, on_cpu=False, threads=2):
    import torch

    if on_cpu:
        # The CPU benchmark's peer: fp32 (what Lacuna's CPU backend computes in), the host clock, fixed threads.
        torch.set_num_threads(threads)
        device = torch.device("cpu")
        dtype = torch.float32
        EventTimer = harness.WallClockTimer
        timer_name = "wall-clock"
    else:
        if not torch.cuda.is_available():
            raise RuntimeError("torch.cuda.is_available() is False")
        device = torch.device("cuda")
        dtype = torch.float16
        # fp16 GEMMs accumulate in fp32 on Lacuna's side; keep cuBLAS from reducing in fp16.
        torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction = False
        EventTimer = harness.event_timer(torch)
        timer_name = "device"

    def empty_cache():
        if not on_cpu:
            torch.cuda.empty_cache()

    header, data_start = read_safetensors_header(os.path.join(export_dir, report.manifest["weights"]))
    with open(os.path.join(export_dir, report.manifest["weights"]), "rb") as f:
        blob = bytearray(f.read())

    def weight(key, volume, cin, cout):
        info = header[key]
        if info["dtype"] != "F32":
            raise ValueError(f"{key}: dtype {info['dtype']}")
        begin, end = info["data_offsets"]
        values = torch.frombuffer(blob, dtype=torch.float32, count=(end - begin) // 4, offset=data_start + begin)
        return values.view(volume, cin, cout).to(device=device, dtype=dtype)

    pair_cache = {}

    def pairs(file):
        if file not in pair_cache:
            shape, raw = read_npy_int32(os.path.join(export_dir, file))
            t = torch.frombuffer(bytearray(raw), dtype=torch.int32).view(shape)
            pair_cache[file] = t.to(device=device, dtype=torch.int64)
        return pair_cache[file]

    class Layer:
        """One layer's tensors and its launch: per offset with pairs, gather, GEMM, scatter-add."""

        def __init__(self, case):
            e = case.entry
            self.case = case
            g = torch.Generator(device=device).manual_seed(case.batch * 1000 + len(layers_built))
            self.x = (torch.rand(e["inputRows"], e["in"], generator=g, device=device) * 2 - 1).to(dtype)
            self.w = weight(e["weight"], e["volume"], e["in"], e["out"])
            self.y = torch.empty(e["outputRows"], e["out"], device=device, dtype=dtype)
            both = pairs(e["pairsFile"])
            self.steps = []
            start = 0
            for v, count in enumerate(e["pairsPerOffset"]):
                if count:
                    ins, outs = both[0, start:start + count], both[1, start:start + count]
                    identity = (count == e["inputRows"] == e["outputRows"]
                                and bool(torch.equal(ins, outs))
                                and bool(torch.equal(ins, torch.arange(count, device=device))))
                    self.steps.append((v, None if identity else ins, None if identity else outs))
                start += count
            self.bytes = sum(t.numel() * t.element_size() for t in (self.x, self.w, self.y))

        def launch(self, _index=0):
            y = self.y
            y.zero_()
            for v, ins, outs in self.steps:
                if ins is None:
                    y.addmm_(self.x, self.w[v])
                else:
                    y.index_add_(0, outs, torch.mm(self.x.index_select(0, ins), self.w[v]))

        def relative_error(self):
            # The same sum in fp32, the whole layer: a wrong map or weight layout shows at once.
            self.launch()
            ref = torch.zeros(self.y.shape, device=device, dtype=torch.float32)
            x, w = self.x.float(), self.w.float()
            for v, ins, outs in self.steps:
                if ins is None:
                    ref += x @ w[v]
                else:
                    ref.index_add_(0, outs, x.index_select(0, ins) @ w[v])
            return ((self.y.float() - ref).abs().max() / ref.abs().max().clamp_min(1e-30)).item()

    kernel = "index_select -> mm -> index_add_ per offset (addmm_ for identity offsets), " + (
        "fp32, CPU" if on_cpu else "fp16")
    layers_built = {}
    for case in cases:
        results = {}
        try:
            if case.kind == "layer":
                layer = layers_built.get(case.id) or layers_built.setdefault(case.id, Layer(case))
                check = layer.relative_error()
                times, per_sample, warmups = harness.sample(plan, EventTimer(), layer.launch)
                result = harness.summarise(RESULT, kernel, times, per_sample, warmups, case.flops, layer.bytes, 1,
                                           layer.bytes, timer_name)
                result["relativeError"] = check
            else:
                chain = []
                for c in case.layers:
                    chain.append(layers_built.get(c.id) or layers_built.setdefault(c.id, Layer(c)))

                def launch_all(_index, chain=chain):
                    for layer in chain:
                        layer.launch()

                times, per_sample, warmups = harness.sample(plan, EventTimer(), launch_all)
                nbytes = sum(layer.bytes for layer in chain)
                result = harness.summarise(RESULT, kernel, times, per_sample, warmups, case.flops, nbytes, 1,
                                           nbytes, timer_name)
                # The next batch's layers are new tensors: free this batch's before building them.
                for c in case.layers:
                    layers_built.pop(c.id, None)
                pair_cache.clear()
                empty_cache()
            results[RESULT] = result
        except Exception as e:  # noqa: BLE001 - an OOM or a bad export: record it, go on
            results[RESULT] = harness._error(e)
        report.add(case, results)
        print(f"  {case.id:40s} {_describe(results[RESULT])}", flush=True)


# ---------------------------------------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--export", help="the folder SparseConvBenchmark exported (-Dlacuna.bench.exportDir)")
    parser.add_argument("--cases", default="", help="regular expressions over case ids, comma-separated (default all)")
    parser.add_argument("--batches", default=os.environ.get(BATCHES_ENV, ""),
                        help=f"batches when there is no export (default: ${BATCHES_ENV}, else 1,4)")
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda",
                        help="cuda (fp16, CUDA events; default) or cpu (fp32, host clock, --threads)")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads with --device cpu")
    parser.add_argument("--min-samples", type=int, default=10)
    harness.add_run_arguments(parser)
    harness.add_mode_arguments(parser, "print the device-time estimate and exit")
    args = parser.parse_args(argv)
    on_cpu = args.device == "cpu"

    manifest = None
    if args.export:
        try:
            manifest = read_manifest(args.export)
        except (OSError, ValueError) as e:
            parser.error(f"cannot read the export: {e}")
        all_cases = cases_from_manifest(manifest)
    else:
        all_cases = cases_from_architecture(parse_batches(args.batches))
    try:
        cases = select(all_cases, args.cases)
    except ValueError as e:
        parser.error(str(e))
    for case in all_cases:
        case.dtype = "f32" if on_cpu else "f16"
    plan = harness.Plan(samples=args.samples, min_samples=min(args.min_samples, args.samples),
                        warmup_ms=args.warmup_ms, max_measure_ms=args.max_ms_per_case,
                        min_warmup_launches=1 if on_cpu else 3)

    if args.list_cases:
        print("\n".join(c.id for c in cases))
        return 0
    if args.estimate:
        print(f"{'cases':>5s} {'GFLOP':>8s} {'device s':>9s}")
        print(f"{len(cases):5d} {sum(c.flops for c in cases) / 1e9:8.1f} {harness.estimate_sweep(plan, cases, estimated_launch_seconds):9.1f}")
        print("device time of the measurements only (warm-up + samples); without --export the FLOPs are unknown and"
              " each launch is costed at 3 kernel launches per offset")
        return 0
    if not args.dry_run and manifest is None:
        parser.error("timing needs --export (the maps and weights SparseConvBenchmark wrote)")

    environment = harness.environment(args.dry_run, with_cusparselt=False, on_cpu=on_cpu, threads=args.threads)
    report = harness.Report(args.out, args.cases or "all", plan, environment, args.dry_run, SCHEMA)
    report.manifest = manifest
    if manifest is not None:
        report.data["export"] = {"source": manifest.get("source"), "voxelSize": manifest.get("voxelSize"),
                                 "channels": manifest.get("channels")}
    print(f"sparse_conv_anchor: {len(cases)} case(s)"
          + (" (dry run, simulated timings)" if args.dry_run else f" on {environment.get('device')}"
             f", torch {environment['torch']}"), flush=True)
    return harness.run_report("sparse_conv_anchor", report, args.out, lambda: run_dry(plan, cases, report)
                              if args.dry_run else run_torch(plan, cases, report, args.export, on_cpu,
                                                             args.threads))


if __name__ == "__main__":
    sys.exit(main())
