#!/usr/bin/env python3
"""Export a TorchSparse MinkUNet or an OpenPCDet VoxelBackBone8x state dict to Lacuna's safetensors naming.

Lacuna's MinkUNet (org.lacuna.api.models.MinkUNet) and VoxelBackboneBev (org.lacuna.api.models.VoxelBackboneBev)
read safetensors whose keys are the PyTorch module names and whose convolution kernels are float32
[volume, in, out] with the kernel offsets in Lacuna's order: x slowest, z fastest, offset k - (K - 1) // 2 per
axis for odd K. This script writes exactly that from a checkpoint:

  torchsparse  TorchSparse / SPVNAS MinkUNet (stem.*, stage1..4.*, up1..4.*, classifier.*). Kernels are
               [K^3, in, out] ([in, out] for 1x1x1, kept so: Lacuna accepts it). TorchSparse's get_kernel_offsets
               (1.x and 2.0) lists odd kernels x fastest, so those are reordered; even kernels (the 2x2x2 strided
               and transposed convolutions) are already in Lacuna's order. --kernel-order lacuna skips the reorder.
  openpcdet    OpenPCDet VoxelBackBone8x (backbone_3d.conv_input.*, conv1..4.*, conv_out.*), spconv weights.
               spconv 2.x stores [out, k0, k1, k2, in], spconv 1.x [k0, k1, k2, in, out], with the spatial axes in
               OpenPCDet's (z, y, x) voxel order; both become [volume, in, out] over (x, y, z). Keys lose the
               "backbone_3d." prefix; other modules of the detector (heads, BEV backbone) are left out.

Common: a checkpoint dict holding the weights under "model" or "state_dict" is unwrapped, DataParallel's "module."
prefix is dropped, and integer counters (num_batches_tracked) are skipped. Inputs: .pt/.pth/.tar (needs torch),
.npz or .safetensors (numpy only). Every tensor written is float32.

  /usr/bin/python3 bench/anchors/export_state_dict.py --format torchsparse SemanticKITTI_val_MinkUNet.pt minkunet.safetensors
  lacuna segment scan.bin --weights minkunet.safetensors

Checked by java-api's ExportStateDictScriptTest, which runs this script on files written in each source layout
and loads the result into Lacuna's networks.
"""

import argparse
import json
import struct
import sys

import numpy as np

SAFETENSORS_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32,
                      "U8": np.uint8, "I8": np.int8, "I16": np.int16, "BOOL": np.bool_}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_len])
    body = data[8 + header_len:]
    tensors = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        if spec["dtype"] == "BF16":
            raw = np.frombuffer(body[spec["data_offsets"][0]:spec["data_offsets"][1]], dtype=np.uint16)
            values = (raw.astype(np.uint32) << 16).view(np.float32)
        else:
            dtype = SAFETENSORS_DTYPES[spec["dtype"]]
            values = np.frombuffer(body[spec["data_offsets"][0]:spec["data_offsets"][1]], dtype=dtype)
        tensors[name] = values.reshape(spec["shape"])
    return tensors


def write_safetensors(path, tensors):
    header = {}
    offset = 0
    blobs = []
    for name, array in tensors.items():
        blob = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * ((8 - len(encoded) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for blob in blobs:
            f.write(blob)


def read_state_dict(path):
    lower = path.lower()
    if lower.endswith(".safetensors"):
        tensors = read_safetensors(path)
    elif lower.endswith(".npz"):
        with np.load(path) as archive:
            tensors = {name: archive[name] for name in archive.files}
    else:
        import torch  # only checkpoints need it
        checkpoint = torch.load(path, map_location="cpu")
        for key in ("model", "state_dict", "model_state"):
            if isinstance(checkpoint, dict) and key in checkpoint and isinstance(checkpoint[key], dict):
                checkpoint = checkpoint[key]
        tensors = {name: value.detach().cpu().numpy() for name, value in checkpoint.items()
                   if hasattr(value, "detach")}
    out = {}
    for name, value in tensors.items():
        if name.startswith("module."):
            name = name[len("module."):]
        out[name] = np.asarray(value)
    return out


def x_fastest_to_lacuna(kernel, k):
    """[k^3, in, out] with offset (ix, iy, iz) at (iz*k + iy)*k + ix -> Lacuna's (ix*k + iy)*k + iz."""
    block = kernel.reshape(k, k, k, *kernel.shape[1:])  # [iz, iy, ix, in, out]
    return np.transpose(block, (2, 1, 0, 3, 4)).reshape(kernel.shape)


def export_torchsparse(tensors, kernel_order):
    out = {}
    for name, value in tensors.items():
        if not np.issubdtype(value.dtype, np.floating):
            continue  # num_batches_tracked
        if name.endswith(".kernel") and value.ndim == 3 and kernel_order == "torchsparse":
            volume = value.shape[0]
            k = round(volume ** (1 / 3))
            if k ** 3 != volume:
                raise ValueError(f"{name}: a kernel of {volume} offsets is not a cube")
            if k % 2 == 1 and k > 1:
                value = x_fastest_to_lacuna(value, k)
        out[name] = value.astype(np.float32)
    return out


def spconv_to_lacuna(weight, spconv_version):
    """spconv [out, kz, ky, kx, in] (2.x) or [kz, ky, kx, in, out] (1.x) -> [kx*ky*kz, in, out], x slowest."""
    if weight.ndim != 5:
        raise ValueError(f"a 3-D spconv weight has 5 dimensions, not shape {weight.shape}")
    if spconv_version == 2:
        xyz_in_out = np.transpose(weight, (3, 2, 1, 4, 0))
    else:
        xyz_in_out = np.transpose(weight, (2, 1, 0, 3, 4))
    kx, ky, kz, cin, cout = xyz_in_out.shape
    return np.ascontiguousarray(xyz_in_out).reshape(kx * ky * kz, cin, cout)


def export_openpcdet(tensors, spconv_version):
    out = {}
    prefix = "backbone_3d."
    for name, value in tensors.items():
        if not name.startswith(prefix):
            continue  # the detector's other modules
        if not np.issubdtype(value.dtype, np.floating):
            continue
        key = name[len(prefix):]
        if value.ndim == 5:
            value = spconv_to_lacuna(value, spconv_version)
        out[key] = value.astype(np.float32)
    if not out:
        raise ValueError("no tensor starts with 'backbone_3d.': is this an OpenPCDet detector checkpoint?")
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--format", choices=["torchsparse", "openpcdet"], required=True,
                        help="the checkpoint's layout")
    parser.add_argument("--kernel-order", choices=["torchsparse", "lacuna"], default="torchsparse",
                        help="torchsparse: odd kernels listed x fastest (reordered); lacuna: already Lacuna's")
    parser.add_argument("--spconv", type=int, choices=[1, 2], default=2, help="spconv major version (openpcdet)")
    parser.add_argument("checkpoint", help=".pt/.pth/.tar (torch), .npz or .safetensors")
    parser.add_argument("output", help="the safetensors file to write")
    args = parser.parse_args(argv)
    try:
        tensors = read_state_dict(args.checkpoint)
        if args.format == "torchsparse":
            out = export_torchsparse(tensors, args.kernel_order)
        else:
            out = export_openpcdet(tensors, args.spconv)
    except (OSError, ValueError, KeyError) as e:
        print(f"export_state_dict: {args.checkpoint}: {e}", file=sys.stderr)
        return 2
    write_safetensors(args.output, out)
    kernels = sum(1 for v in out.values() if v.ndim == 3)
    print(f"export_state_dict: wrote {len(out)} tensors ({kernels} convolution kernels) to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
