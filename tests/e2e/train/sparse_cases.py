#!/usr/bin/python3
"""Sparse-update cases of odlc's training tests (seed 003 sec. 4.4; the semantics are in
passes/SparseUpdatePass.cpp): small ONNX models compiled with `--sparse P --channel-policy POL`
(or `--sparse bias`), and a PyTorch reference of the same training with the same masks:
  (a) the gradient arriving at a sparse layer's output is zero outside its output channels O,
  (b) the gradient it passes to its input is zero outside its input channels I,
  (c) its weight gradient is zero outside the block [O, I] (the bias gradient outside O).
The channels come from odlc's memory_plan.json (train.sparse); the reference checks that every
trainable layer but the classifier is listed there, so a layer odlc left dense fails the case.

    /usr/bin/python3 sparse_cases.py --out DIR --odlc ODLC [--groups a,b] [--list]
        [--targets cortex-m4,rv32imafc]

writes DIR/GROUP/K/{model.onnx, case.json, out/ (host C), out_TARGET/ (for --targets, case 0
of each group only), ref/} in the layout of op_cases.py, so `train.sh sparse-op GROUP` checks
them with check_training.c like the per-op cases. Deterministic.
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "..", "..", "reference")
sys.path.insert(0, HERE)
sys.path.insert(0, REFERENCE)
sys.dont_write_bytecode = True

from op_cases import (Builder, case_args, fresh_case_dir, ri, run_reference,  # noqa: E402
                      save_case, seed_of)
import onnx  # noqa: E402

# (policy, p) of case k; even cases take one SGD step at lr 1 (the update is the masked
# gradient itself), odd ones 10 steps of batch 4 at lr 0.05, the last with momentum 0.9.
SETTINGS = [("first", "0.5"), ("magnitude", "0.75"), ("random", "0.5"),
            ("first", "0.75"), ("magnitude", "0.5"), ("random", "0.75")]
PROBES = 2


def image(rng, c, hw=(5, 8)):
    return [1, c, ri(rng, *hw), ri(rng, *hw)]


def conv_standard(rng, k):
    b = Builder(rng, image(rng, ri(rng, 4, 9)))
    a = b.node("Relu", [b.conv(b.x, ri(rng, 8, 10), 3)])
    y = b.conv(a, ri(rng, 5, 9), 3)
    return b, b.head(y, ri(rng, 3, 6)), "Conv3x3-Relu-Conv3x3-Gemm"


def conv_pointwise(rng, k):
    b = Builder(rng, image(rng, ri(rng, 6, 10)))
    a = b.node("Relu", [b.conv(b.x, ri(rng, 8, 12), 1)])
    y = b.conv(a, ri(rng, 4, 9), 1, bias=k != 2)
    return b, b.head(y, ri(rng, 3, 6)), "Conv1x1-Relu-Conv1x1-Gemm"


def conv_depthwise(rng, k):
    c = ri(rng, 4, 9)
    b = Builder(rng, image(rng, 3))
    a = b.node("Relu", [b.conv(b.x, c, 3)])
    kk = [3, 5, 3][k % 3]
    y = b.conv(a, c, kk, group=c, strides=[1 + k % 2] * 2)
    return b, b.head(y, ri(rng, 3, 6)), f"Conv-Relu-Depthwise{kk}x{kk}-Gemm"


def conv_stride(rng, k):
    b = Builder(rng, image(rng, ri(rng, 3, 6), hw=(7, 10)))
    a = b.node("Relu", [b.conv(b.x, ri(rng, 6, 9), 3, strides=[2, 2])])
    y = b.conv(a, ri(rng, 4, 8), 3, strides=[2, 1])
    return b, b.head(y, ri(rng, 3, 6)), "Conv(s2)-Relu-Conv(s2x1)-Gemm"


def gemm(rng, k):
    b = Builder(rng, [1, ri(rng, 6, 12)])
    h = b.node("Relu", [b.gemm(b.x, ri(rng, 8, 12), trans_b=1)])
    h = b.node("Relu", [b.gemm(h, ri(rng, 6, 10), trans_b=0, bias=k != 2)])
    return b, b.head(h, ri(rng, 3, 6)), "Gemm(transB)-Relu-Gemm-Relu-Gemm"


def chain(rng, k):
    """Three layers and a residual Add: the masked input gradient of the third layer meets the
    dense path of the skip connection."""
    b = Builder(rng, image(rng, ri(rng, 3, 6)))
    c = ri(rng, 6, 9)
    a = b.node("Relu", [b.conv(b.x, c, 3)])
    y = b.conv(b.node("Relu", [b.conv(a, c, 3)]), c, 1)
    s = b.node("Relu", [b.node("Add", [a, y])])
    g = b.node("GlobalAveragePool", [s])
    return b, b.head(g, ri(rng, 3, 6)), "Conv-Relu-[Conv-Relu-Conv1x1]+Add-Relu-GAP-Gemm"


def bias_only(rng, k):
    b = Builder(rng, image(rng, ri(rng, 3, 6)))
    a = b.node("Relu", [b.conv(b.x, ri(rng, 4, 8), 3)])
    y = b.node("Relu", [b.conv(a, ri(rng, 4, 8), 3, bias=k != 1)])
    h = b.node("Relu", [b.gemm(b.node("Flatten", [y], axis=1), ri(rng, 6, 10))])
    return b, b.head(h, ri(rng, 3, 6)), "Conv-Relu-Conv-Relu-Gemm-Relu-Gemm (biases only)"


GROUPS = {
    "sparse_conv_standard": conv_standard,
    "sparse_conv_pointwise": conv_pointwise,
    "sparse_conv_depthwise": conv_depthwise,
    "sparse_conv_stride": conv_stride,
    "sparse_gemm": gemm,
    "sparse_chain": chain,
    "sparse_bias": bias_only,
}


def settings(group, k):
    """--sparse, --channel-policy, steps, lr, momentum of case k."""
    policy, p = SETTINGS[k]
    if group == "sparse_bias":
        p = "bias"
    if k % 2 == 0:
        return p, policy, 1, 1.0, 0.0
    return p, policy, 10, 0.05, 0.9 if k == 5 else 0.0


# ------------------------------------------------------------------ PyTorch with masks --

def install_masks(plan_path):
    """Makes onnx_torch.OnnxTorch (which train_reference builds its models with) apply the
    plan's sparse update: masks (a)-(c) on every layer of train.sparse, and only the tensors of
    train.trainable train (--sparse bias freezes weights)."""
    import torch
    import onnx_torch

    with open(plan_path) as f:
        plan = json.load(f)
    sparse = plan["train"]["sparse"]
    trainable = set(plan["train"]["trainable"])
    base = getattr(onnx_torch, "_DenseOnnxTorch", onnx_torch.OnnxTorch)
    onnx_torch._DenseOnnxTorch = base

    class GradMask(torch.autograd.Function):
        """Identity forward; backward multiplies the gradient by a 0/1 mask."""

        @staticmethod
        def forward(ctx, x, mask):
            ctx.save_for_backward(mask)
            return x.view_as(x)

        @staticmethod
        def backward(ctx, g):
            (mask,) = ctx.saved_tensors
            return g * mask, None

    def channel_mask(n, chosen, dtype):
        m = torch.zeros(n, dtype=dtype)
        m[list(chosen)] = 1
        return m

    def along(mask, dim, rank):
        shape = [1] * rank
        shape[dim] = -1
        return mask.reshape(shape)

    class SparseOnnxTorch(base):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            for name in [n for n in self.trainable if n not in trainable]:
                self.trainable[name].requires_grad_(False)   # frozen (--sparse bias)
                del self.trainable[name]
            layers = [n for n in self.tail if n.op in ("Conv", "Gemm", "MatMul")
                      and n.inputs[1] in self.trainable]
            missing = [n.inputs[1] for n in layers[:-1] if n.inputs[1] not in sparse]
            if plan["train"].get("sparse_mode", {}).get("sparse", "bias") != "bias" and missing:
                raise RuntimeError(f"odlc left layers dense: {missing}")

        def op_Conv(self, node, a, x, w, b=None):
            if node.inputs[1] not in sparse:
                return super().op_Conv(node, a, x, w, b)
            s = sparse[node.inputs[1]]
            mo = channel_mask(w.shape[0], s["out_channels"], w.dtype)
            mi = channel_mask(x.shape[1], s["in_channels"], w.dtype)
            depthwise = a.get("group", 1) > 1
            mw = along(mo, 0, w.dim()) * (1 if depthwise else along(mi, 1, w.dim()))
            x = GradMask.apply(x, along(mi, 1, x.dim()))                       # (b)
            w = GradMask.apply(w, mw)                                          # (c)
            b = None if b is None else GradMask.apply(b, mo)
            y = super().op_Conv(node, a, x, w, b)
            return GradMask.apply(y, along(mo, 1, y.dim()))                    # (a)

        def op_Gemm(self, node, a, A, B, C=None):
            if node.inputs[1] not in sparse:
                return super().op_Gemm(node, a, A, B, C)
            s = sparse[node.inputs[1]]
            trans_b = a.get("transB", 0)
            n_out = B.shape[0] if trans_b else B.shape[1]
            mo = channel_mask(n_out, s["out_channels"], B.dtype)
            mi = channel_mask(A.shape[1], s["in_channels"], B.dtype)
            mb = mo[:, None] * mi[None, :] if trans_b else mi[:, None] * mo[None, :]
            A = GradMask.apply(A, mi[None, :])
            B = GradMask.apply(B, mb)
            C = None if C is None else GradMask.apply(C, mo.reshape(C.shape))
            return GradMask.apply(super().op_Gemm(node, a, A, B, C), mo[None, :])

    onnx_torch.OnnxTorch = SparseOnnxTorch


# ----------------------------------------------------------------------------- driver --

def compile_case(odlc, path, out, batch, lr, momentum, sparse, policy, target="host"):
    cmd = [odlc, "compile", path, "-o", out, "--train-from", "input", "--target", target,
           "--batch", str(batch), "--lr", str(lr), "--momentum", str(momentum),
           "--replay-samples", "1", "--sparse", sparse, "--channel-policy", policy]
    p = subprocess.run(cmd, capture_output=True, text=True)
    return " ".join(cmd), p.returncode, (p.stderr or p.stdout).strip()


def run_case(group, k, out_dir, odlc, targets):
    d = fresh_case_dir(out_dir, group, k)
    rng = np.random.default_rng(seed_of(group, k))
    b, out, desc = GROUPS[group](rng, k)
    model = b.model(out)
    sparse, policy, steps, lr, momentum = settings(group, k)
    batch = 4 if steps > 1 else [2, 3, 4][k % 3]
    path = os.path.join(d, "model.onnx")
    onnx.save(model, path)
    desc += f" --sparse {sparse}" + ("" if sparse == "bias" else f" --channel-policy {policy}")
    if steps > 1:
        desc += f" ({steps} steps, lr {lr}, momentum {momentum})"
    case = {"group": group, "case": k, "description": desc, "compiled_batch": batch,
            "samples": batch, "lr": lr, "steps": steps, "momentum": momentum,
            "seed": seed_of(group, k), "sparse": sparse, "policy": policy}
    cmd, rc, msg = compile_case(odlc, path, os.path.join(d, "out"), batch, lr, momentum,
                                sparse, policy)
    case["odlc_command"] = cmd
    if rc != 0:
        case["status"], case["message"] = "COMPILE_ERROR", msg
    else:
        for t in targets if k == 0 else []:
            tcmd, trc, tmsg = compile_case(odlc, path, os.path.join(d, "out_" + t), batch, lr,
                                           momentum, sparse, policy, t)
            if trc != 0:
                case["status"], case["message"] = "COMPILE_ERROR", f"{tcmd}: {tmsg}"
        run_reference(case, d, path, steps, batch, lr, momentum, PROBES, install_masks)
        if "reference" in case:
            with open(os.path.join(d, "out", "memory_plan.json")) as f:
                case["sparse_channels"] = json.load(f)["train"]["sparse"]
    return save_case(d, case)


def main(argv):
    def targets_flag(ap):
        ap.add_argument("--targets", default="",
                        help="QEMU targets compiled for case 0 of a group")
    args, groups = case_args(argv, __doc__.split("\n\n")[0], GROUPS, targets_flag)
    if args is None:
        return 0
    targets = [t for t in args.targets.split(",") if t]
    for group in groups:
        d = os.path.join(args.out, group)
        if os.path.isdir(d):
            shutil.rmtree(d)
        for k in range(len(SETTINGS)):
            c = run_case(group, k, args.out, args.odlc, targets)
            print(f"{group}/{k}: {c['status']}: {c['description']}"
                  + (f": {c['message']}" if c["status"] != "OK" else ""), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
