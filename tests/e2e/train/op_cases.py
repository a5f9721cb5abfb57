#!/usr/bin/python3
"""Per-op gradient cases of odlc's training tests: for every op group, a few small ONNX models
(random shapes and attributes, seeded) in which the op sits between trainable layers, so that
its input gradient shows in the weight gradient of the layer before it and its own weights'
gradients (Conv, Gemm, MatMul) show directly. Each case is compiled by odlc (--train-from the
graph input, one SGD step at lr 1) and given a PyTorch reference (train_reference.py) of that
step: the weight update odlc makes must be the autograd gradient.

    /usr/bin/python3 op_cases.py --out DIR --odlc ODLC [--groups a,b] [--list]

writes DIR/GROUP/K/{model.onnx, case.json, out/ (odlc's C), ref/ (the reference)} and
DIR/cases.tsv (group, case, status, description). A case whose odlc compile or reference fails
gets status COMPILE_ERROR or REFERENCE_ERROR and its message in case.json; the per-op test reports
it. Deterministic: the same command writes the same models and references.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "..", "..", "reference")
sys.path.insert(0, REFERENCE)
sys.dont_write_bytecode = True

import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper, shape_inference  # noqa: E402

LR = 1.0
STEPS = 1
PROBES = 2


class Builder:
    """A small ONNX graph under construction: input "input", output "logits"."""

    def __init__(self, rng, in_shape, opset=13):
        self.rng, self.in_shape, self.opset = rng, list(in_shape), opset
        self.nodes, self.inits, self.count = [], [], 0
        self.x = "input"

    def fresh(self, prefix):
        self.count += 1
        return f"{prefix}{self.count}"

    def const(self, arr, prefix="c"):
        name = self.fresh(prefix)
        arr = np.asarray(arr)
        if arr.dtype.kind == "f":
            arr = arr.astype(np.float32)
        self.inits.append(numpy_helper.from_array(arr, name))
        return name

    def ints(self, values, prefix="shape"):
        return self.const(np.array(values, dtype=np.int64), prefix)

    def node(self, op, inputs, outputs=1, **attrs):
        outs = [self.fresh(op.lower() + "_") for _ in range(outputs)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=self.fresh(op), **attrs))
        return outs[0] if outputs == 1 else outs

    def shape(self, name):
        """Static shape of a value (ONNX shape inference on the graph so far)."""
        if name == "input":
            return list(self.in_shape)
        g = helper.make_graph(self.nodes, "probe",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                                             self.in_shape)],
                              [helper.make_tensor_value_info(name, TensorProto.FLOAT, None)],
                              self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", self.opset)])
        m = shape_inference.infer_shapes(m, strict_mode=True)
        for vi in list(m.graph.value_info) + list(m.graph.output):
            if vi.name == name:
                return [d.dim_value for d in vi.type.tensor_type.shape.dim]
        raise KeyError(name)

    def weight(self, shape, fan_in, gain=1.0, prefix="w"):
        w = self.rng.standard_normal(shape) * gain * np.sqrt(2.0 / max(1, fan_in))
        return self.const(w, prefix)

    def bias(self, n, prefix="b"):
        return self.const(0.2 * self.rng.standard_normal(n), prefix)

    def conv(self, x, cout, k=3, pads=None, group=1, bias=True, gain=1.0, **attrs):
        cin = self.shape(x)[1]
        ks = [k, k] if isinstance(k, int) else list(k)
        if len(self.shape(x)) == 3:
            ks = ks[:1]
        if pads is None:
            pads = [kk // 2 for kk in ks] * 2
        w = self.weight([cout, cin // group] + ks, cin // group * int(np.prod(ks)), gain)
        ins = [x, w] + ([self.bias(cout)] if bias else [])
        return self.node("Conv", ins, kernel_shape=ks, pads=pads, group=group, **attrs)

    def gemm(self, x, n, trans_b=1, bias=True, gain=1.0, **attrs):
        k = self.shape(x)[1]
        w = self.weight([n, k] if trans_b else [k, n], k, gain)
        ins = [x, w] + ([self.bias(n)] if bias else [])
        return self.node("Gemm", ins, transB=trans_b, **attrs)

    def head(self, x, classes):
        """Flatten -> Gemm to the logits (std ~1)."""
        if len(self.shape(x)) != 2:
            x = self.node("Flatten", [x], axis=1)
        return self.gemm(x, classes, gain=np.sqrt(0.5))

    def model(self, out):
        self.nodes.append(helper.make_node("Identity", [out], ["logits"], name="output"))
        oshape = self.shape("logits")
        g = helper.make_graph(
            self.nodes, "op_case",
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, self.in_shape)],
            [helper.make_tensor_value_info("logits", TensorProto.FLOAT, oshape)], self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", self.opset)],
                              producer_name="odlc op_cases.py")
        m.ir_version = 8
        onnx.checker.check_model(m, full_check=True)
        return m


def ri(rng, lo, hi):
    """Uniform integer in [lo, hi]."""
    return int(rng.integers(lo, hi + 1))


def image(rng, c=(1, 3), hw=(5, 9)):
    return [1, ri(rng, *c), ri(rng, *hw), ri(rng, *hw)]


def classes(rng):
    return ri(rng, 3, 8)


# ---------------------------------------------------------------------------------- cases --
# Each case function takes (rng, k) and returns (Builder, output name, description).

def conv_case(variant):
    def make(rng, k):
        b = Builder(rng, image(rng))
        c1 = ri(rng, 2, 6)
        a = b.conv(b.x, c1, 3)                                  # trainable layer before
        attrs, desc = {}, variant
        cout = ri(rng, 2, 6)
        if variant == "standard":
            kk = [3, 3] if k == 0 else [ri(rng, 2, 4), ri(rng, 2, 4)]
            pads = [kk[0] // 2, kk[1] // 2] * 2
            bias = k != 1
            y = b.conv(a, cout, kk, pads=pads, bias=bias)
            desc = f"k{kk} pads{pads} bias={bias}"
        elif variant == "depthwise":
            mult = 1 if k != 1 else 2
            kk = [3, 5, 3][k % 3]
            stride = [1, 1, 2][k % 3]
            y = b.conv(a, c1 * mult, kk, group=c1, strides=[stride, stride])
            desc = f"C{c1} x{mult} k{kk} s{stride}"
        elif variant == "grouped":
            g = [2, 3, 2][k % 3]
            b2 = Builder(rng, image(rng))
            b = b2
            a = b.conv(b.x, g * ri(rng, 1, 3), 3)
            cout = g * ri(rng, 1, 3)
            kk = [3, 1, 3][k % 3]
            y = b.conv(a, cout, kk, group=g)
            desc = f"C{b.shape(a)[1]}->{cout} groups {g} k{kk}"
        elif variant == "pointwise":
            stride = [1, 2, 1][k % 3]
            y = b.conv(a, cout, 1, strides=[stride, stride], bias=k != 2)
            desc = f"1x1 C{c1}->{cout} s{stride} bias={k != 2}"
        elif variant == "stride":
            s = [[2, 2], [2, 1], [3, 3]][k % 3]
            kk = [3, 3, 2][k % 3]
            pads = [[1, 1, 1, 1], [1, 0, 1, 0], [0, 0, 0, 0]][k % 3]
            y = b.conv(a, cout, kk, pads=pads, strides=s)
            desc = f"k{kk} strides{s} pads{pads}"
        elif variant == "dilation":
            d = [[2, 2], [1, 2], [2, 2]][k % 3]
            s = [1, 1, 2][k % 3]
            pads = [d[0], d[1], d[0], d[1]]
            y = b.conv(a, cout, 3, pads=pads, dilations=d, strides=[s, s])
            desc = f"k3 dilations{d} s{s} pads{pads}"
        elif variant == "pads_sym":
            kk = [3, 5, 3][k % 3]
            p = [2, 1, 0][k % 3]
            y = b.conv(a, cout, kk, pads=[p] * 4)
            desc = f"k{kk} pads {p}"
        elif variant == "pads_asym":
            if k < 2:
                pads = [[0, 1, 1, 0], [2, 0, 0, 1]][k]
                y = b.conv(a, cout, 3, pads=pads)
                desc = f"k3 pads{pads}"
            else:
                y = b.node("Conv", [a, b.weight([cout, c1, 3, 3], 9 * c1), b.bias(cout)],
                           kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER")
                desc = "k3 s2 auto_pad SAME_UPPER"
        elif variant == "1d":
            b = Builder(rng, [1, ri(rng, 1, 3), ri(rng, 8, 16)])
            a = b.conv(b.x, c1, 3)
            kk, s = [(3, 1), (5, 2), (2, 1)][k % 3]
            pads = [[1, 1], [2, 1], [0, 1]][k % 3]
            y = b.conv(a, cout, kk, pads=pads, strides=[s], group=1)
            desc = f"1-D k{kk} s{s} pads{pads}"
        else:
            raise ValueError(variant)
        return b, b.head(y, classes(rng)), desc
    return make


def gemm_case(rng, k):
    f = ri(rng, 6, 16)
    b = Builder(rng, [1, f])
    h = b.gemm(b.x, ri(rng, 4, 12))
    h = b.node("Relu", [h])
    n = ri(rng, 3, 10)
    trans_b = [1, 0, 0, 1][k]
    hk = b.shape(h)[1]
    w = b.weight([n, hk] if trans_b else [hk, n], hk)
    alpha, beta = [(1.0, 1.0), (0.5, 2.0), (1.0, 1.0), (1.0, 0.0)][k]   # beta 0: C does not train
    cshape = [[n], [1, n], None, [n]][k]
    ins = [h, w] + ([b.const(0.2 * rng.standard_normal(cshape), "b")] if cshape else [])
    y = b.node("Gemm", ins, transB=trans_b, alpha=alpha, beta=beta)
    y = b.node("Relu", [y])
    return b, b.head(y, classes(rng)), f"transB={trans_b} alpha={alpha} beta={beta} C{cshape}"


def matmul_case(rng, k):
    if k == 0:
        f = ri(rng, 6, 16)
        b = Builder(rng, [1, f])
        h = b.gemm(b.x, ri(rng, 4, 10))
        n = ri(rng, 3, 9)
        y = b.node("MatMul", [h, b.weight([b.shape(h)[1], n], b.shape(h)[1])])
        y = b.node("Add", [y, b.bias(n)])
        y = b.node("Relu", [y])
        return b, b.head(y, classes(rng)), f"[1,{b.shape(h)[1]}] x [{b.shape(h)[1]},{n}]"
    b = Builder(rng, image(rng))
    a = b.conv(b.x, ri(rng, 2, 5), 3)
    c, h, w = b.shape(a)[1:]
    g = ri(rng, 2, 6)
    if k == 1:   # tokens: [1, HW, C] x [C, G]
        t = b.node("Reshape", [a, b.ints([1, c, h * w])])
        t = b.node("Transpose", [t], perm=[0, 2, 1])
        y = b.node("MatMul", [t, b.weight([c, g], c)])
        desc = f"[1,{h * w},{c}] x [{c},{g}]"
    else:        # along the last axis of a 4-D tensor
        y = b.node("MatMul", [a, b.weight([w, g], w)])
        desc = f"[1,{c},{h},{w}] x [{w},{g}]"
    return b, b.head(y, classes(rng)), desc


def activation_case(op):
    def make(rng, k):
        opset = 14 if op == "HardSwish" else 10 if (op == "Clip" and k == 2) else 13
        b = Builder(rng, image(rng), opset)
        gain = {"Relu": 1.0, "LeakyRelu": 1.0, "Sigmoid": 1.5, "Clip": 3.0, "HardSigmoid": 3.0,
                "HardSwish": 3.0}[op]
        a = b.conv(b.x, ri(rng, 2, 6), 3, gain=gain)
        desc = ""
        if op == "Clip":
            lo, hi = [(0.0, 6.0), (-1.0, 2.0), (0.0, 6.0)][k % 3]
            if k == 2:       # opset 6..10 form: bounds as attributes
                a2 = b.node("Clip", [a], min=lo, max=hi)
                desc = f"opset 10 Clip({lo}, {hi}) attributes"
            else:
                a2 = b.node("Clip", [a, b.const(np.float32(lo)), b.const(np.float32(hi))])
                desc = f"Clip({lo}, {hi})" + (" = relu6" if (lo, hi) == (0.0, 6.0) else "")
            y = a2
        elif op == "LeakyRelu":
            alpha = [0.01, 0.2, 0.1][k % 3]
            y = b.node("LeakyRelu", [a], alpha=alpha)
            desc = f"alpha {alpha}"
        elif op == "HardSigmoid":
            alpha, beta = [(0.2, 0.5), (1.0 / 6.0, 0.5), (0.3, 0.4)][k % 3]
            y = b.node("HardSigmoid", [a], alpha=alpha, beta=beta)
            desc = f"alpha {alpha:.4g} beta {beta}"
        elif op == "HardSwish":
            if k == 0:
                y = b.node("HardSwish", [a])
                desc = "HardSwish op (opset 14)"
            elif k == 1:
                hs = b.node("HardSigmoid", [a], alpha=1.0 / 6.0, beta=0.5)
                y = b.node("Mul", [a, hs])
                desc = "x * HardSigmoid(x)"
            else:
                r = b.node("Clip", [b.node("Add", [a, b.const(np.float32(3.0))]),
                                    b.const(np.float32(0.0)), b.const(np.float32(6.0))])
                y = b.node("Div", [b.node("Mul", [a, r]), b.const(np.float32(6.0))])
                desc = "x * Relu6(x + 3) / 6"
        else:
            y = b.node(op, [a])
        y = b.conv(y, ri(rng, 2, 5), [1, 3][k % 2])
        shp = b.shape(a)
        return b, b.head(y, classes(rng)), (f"{shp} " + desc).strip()
    return make


def add_case(rng, k):
    b = Builder(rng, image(rng))
    c = ri(rng, 2, 6)
    a = b.conv(b.x, c, 3)
    _, _, h, w = b.shape(a)
    if k == 0:     # residual
        r = b.conv(b.node("Relu", [a]), c, 3)
        y = b.node("Add", [a, r])
        desc = f"residual [1,{c},{h},{w}]"
    elif k == 1:   # broadcast against a constant
        y = b.node("Add", [a, b.const(rng.standard_normal([c, 1, w]), "k")])
        desc = f"[1,{c},{h},{w}] + const [{c},1,{w}]"
    else:          # broadcast between activations: both sides need the gradient
        s = b.node("GlobalAveragePool", [b.conv(b.x, c, 1)])
        y = b.node("Add", [s, a])
        desc = f"[1,{c},1,1] + [1,{c},{h},{w}] (both computed)"
    y = b.conv(b.node("Relu", [y]), ri(rng, 2, 5), 3)
    return b, b.head(y, classes(rng)), desc


def mul_case(rng, k):
    b = Builder(rng, image(rng))
    c = ri(rng, 3, 8)
    a = b.node("Relu", [b.conv(b.x, c, 3)])
    _, _, h, w = b.shape(a)
    if k < 2:      # squeeze-excite: x * gate(GAP(x))
        r = ri(rng, 2, 4)
        s = b.node("GlobalAveragePool", [a])
        s = b.node("Relu", [b.conv(s, r, 1)])
        s = b.conv(s, c, 1)
        gate = "HardSigmoid" if k == 0 else "Sigmoid"
        s = b.node(gate, [s], **({"alpha": 1.0 / 6.0, "beta": 0.5} if k == 0 else {}))
        y = b.node("Mul", [a, s] if k == 0 else [s, a])
        desc = f"SE [1,{c},{h},{w}] * {gate}(..)[1,{c},1,1], reduce {r}"
    else:          # two computed tensors of one shape, and a constant broadcast
        y = b.node("Mul", [a, b.conv(b.x, c, 3)])
        y = b.node("Mul", [y, b.const(rng.standard_normal([c, 1, 1]), "k")])
        desc = f"[1,{c},{h},{w}] * [1,{c},{h},{w}] * const [{c},1,1]"
    y = b.conv(y, ri(rng, 2, 5), 3)
    return b, b.head(y, classes(rng)), desc


def gap_case(rng, k):
    b = Builder(rng, image(rng, hw=(3, 9)))
    a = b.conv(b.x, ri(rng, 2, 8), 3)
    if k == 1:
        a = b.node("Relu", [a])
    y = b.node("GlobalAveragePool", [a])
    if k == 2:
        y = b.conv(y, ri(rng, 2, 6), 1)
    return b, b.head(y, classes(rng)), f"{b.shape(a)}"


def pool_case(op):
    def make(rng, k):
        b = Builder(rng, image(rng, hw=(6, 9)))
        a = b.conv(b.x, ri(rng, 2, 5), 3)
        kk = [[2, 2], [3, 3], [3, 2], [3, 3]][k]
        s = [[2, 2], [2, 2], [1, 2], [1, 1]][k]          # case 3: overlapping windows
        pads = [[0, 0, 0, 0], [1, 1, 1, 1], [0, 1, 1, 0], [1, 1, 1, 1]][k]
        attrs = dict(kernel_shape=kk, strides=s, pads=pads)
        if k == 1:
            attrs["ceil_mode"] = 1
        if op == "AveragePool":
            attrs["count_include_pad"] = [0, 0, 1, 0][k]
        if op == "MaxPool" and k == 2:
            attrs["dilations"] = [2, 1]
        y = b.node(op, [a], **attrs)
        y = b.conv(y, ri(rng, 2, 5), [3, 1, 3, 1][k])
        desc = f"{b.shape(a)} " + " ".join(f"{key}={v}" for key, v in attrs.items())
        return b, b.head(y, classes(rng)), desc
    return make


def flatten_case(rng, k):
    b = Builder(rng, image(rng))
    a = b.conv(b.x, ri(rng, 2, 5), 3)
    if k == 1:
        a = b.node("Relu", [a])
    if k == 2:   # 3-D tensor
        c, h, w = b.shape(a)[1:]
        a = b.node("Reshape", [a, b.ints([1, c * h, w])])
    y = b.node("Flatten", [a], axis=1)
    y = b.node("Relu", [b.gemm(y, ri(rng, 3, 8))])
    return b, b.head(y, classes(rng)), f"{b.shape(a)} -> {b.shape(y)}"


def reshape_case(rng, k):
    b = Builder(rng, image(rng))
    a = b.conv(b.x, 2 * ri(rng, 1, 3), 3)
    c, h, w = b.shape(a)[1:]
    if k == 0:
        t = b.node("Reshape", [a, b.ints([1, c * h, w])])
        y = b.node("MatMul", [t, b.weight([w, 3], w)])
        desc = f"[1,{c},{h},{w}] -> [1,{c * h},{w}] -> MatMul"
    elif k == 1:
        y = b.node("Reshape", [a, b.ints([0, -1])])
        y = b.node("Relu", [b.gemm(y, ri(rng, 3, 8))])
        desc = f"[1,{c},{h},{w}] -> [0,-1] -> Gemm"
    else:
        t = b.node("Reshape", [a, b.ints([1, c // 2, 2 * h, w])])
        y = b.conv(t, ri(rng, 2, 4), 3)
        desc = f"[1,{c},{h},{w}] -> [1,{c // 2},{2 * h},{w}] -> Conv"
    return b, b.head(y, classes(rng)), desc


def transpose_case(rng, k):
    b = Builder(rng, image(rng))
    if k == 2:
        g = 2
        a = b.conv(b.x, g * ri(rng, 1, 3), 3)
        c, h, w = b.shape(a)[1:]
        t = b.node("Reshape", [a, b.ints([1, g, c // g, h, w])])
        t = b.node("Transpose", [t], perm=[0, 2, 1, 3, 4])
        y = b.node("Reshape", [t, b.ints([1, c, h, w])])
        y = b.conv(y, ri(rng, 2, 4), 1)
        return b, b.head(y, classes(rng)), f"channel shuffle g{g} of [1,{c},{h},{w}]"
    a = b.conv(b.x, ri(rng, 2, 5), 3)
    perm = [[0, 1, 3, 2], [0, 2, 3, 1]][k]
    y = b.node("Transpose", [a], perm=perm)
    if k == 0:
        y = b.conv(y, ri(rng, 2, 4), [3, 1], pads=[1, 0, 1, 0])
    else:
        y = b.node("MatMul", [y, b.weight([b.shape(a)[1], 3], b.shape(a)[1])])
    return b, b.head(y, classes(rng)), f"{b.shape(a)} perm {perm}"


def concat_case(rng, k):
    b = Builder(rng, image(rng))
    a = b.conv(b.x, ri(rng, 2, 4), 3)
    if k == 0:
        c = b.conv(b.x, ri(rng, 1, 4), 1)
        y = b.node("Concat", [a, c], axis=1)
        desc = f"channels {b.shape(a)[1]}+{b.shape(c)[1]}"
    elif k == 1:
        c = b.node("Relu", [b.conv(b.x, b.shape(a)[1], 3)])
        axis = 3
        y = b.node("Concat", [a, c], axis=axis)
        desc = f"axis {axis} of two {b.shape(a)}"
    else:
        c = b.node("Relu", [a])
        y = b.node("Concat", [a, c, a], axis=1)
        desc = f"(x, relu(x), x) on axis 1, {b.shape(a)}"
    y = b.conv(y, ri(rng, 2, 4), 3)
    return b, b.head(y, classes(rng)), desc


def split_case(rng, k):
    opset = 11 if k == 2 else 13
    b = Builder(rng, image(rng), opset)
    c1, c2 = ri(rng, 1, 3), ri(rng, 2, 4)
    a = b.conv(b.x, c1 + c2 if k != 1 else 4, 3)
    if k == 0:
        s0, s1 = b.node("Split", [a, b.ints([c1, c2], "split")], outputs=2, axis=1)
        desc = f"channels [{c1},{c2}]"
    elif k == 1:
        h = b.shape(a)[2]
        h0 = h // 2
        s0, s1 = b.node("Split", [a, b.ints([h0, h - h0], "split")], outputs=2, axis=2)
        desc = f"axis 2 [{h0},{h - h0}] of {b.shape(a)}"
    elif k == 2:
        s0, s1 = b.node("Split", [a], outputs=2, axis=1, split=[c1, c2])
        desc = f"opset 11 split attribute [{c1},{c2}]"
    else:        # three outputs, the middle one unused: its gradient is zero
        s0, _, s1 = b.node("Split", [a, b.ints([c1, 1, c2 - 1], "split")], outputs=3, axis=1)
        desc = f"channels [{c1},1,{c2 - 1}], the middle output unused"
    n = ri(rng, 2, 4)
    y0 = b.conv(s0, n, 3)
    y1 = b.conv(b.node("Relu", [s1]), n, 3)
    if b.shape(y0) == b.shape(y1):
        y = b.node("Add", [y0, y1])
    else:
        y = b.node("Concat", [y0, y1], axis=2)
    return b, b.head(y, classes(rng)), desc


def slice_case(rng, k):
    b = Builder(rng, image(rng, hw=(6, 9)))
    a = b.conv(b.x, ri(rng, 3, 6), 3)
    c, h, w = b.shape(a)[1:]
    if k == 0:
        y = b.node("Slice", [a, b.ints([1]), b.ints([c - 1]), b.ints([1])])
        desc = f"channels 1:{c - 1} of {c}"
    elif k == 1:
        y = b.node("Slice", [a, b.ints([1, 0]), b.ints([h, 1000]), b.ints([2, 3]),
                             b.ints([2, 2])])
        desc = f"H 1::2, W 0::2 (end clamped) of {b.shape(a)}"
    else:
        y = b.node("Slice", [a, b.ints([-1]), b.ints([-1000]), b.ints([3]), b.ints([-1])])
        desc = f"W reversed (step -1) of {b.shape(a)}"
    y = b.conv(y, ri(rng, 2, 4), 3)
    return b, b.head(y, classes(rng)), desc


def softmax_case(rng, k):
    b = Builder(rng, image(rng), [13, 11][k % 2])
    a = b.node("Relu", [b.conv(b.x, ri(rng, 2, 5), 3)])
    z = b.head(b.node("GlobalAveragePool", [a]), classes(rng))
    y = b.node("Softmax", [z], axis=[-1, 1][k % 2])
    return b, y, f"final Softmax (opset {b.opset}): the loss takes its input"


def bn_params(b, rng, c):
    """Random BatchNormalization inputs: gamma (some negative), beta, mean, var."""
    gamma = rng.uniform(0.5, 1.5, c) * np.where(rng.random(c) < 0.2, -1, 1)
    return [b.const(gamma, "gamma"), b.const(0.2 * rng.standard_normal(c), "beta"),
            b.const(0.3 * rng.standard_normal(c), "mean"),
            b.const(rng.uniform(0.3, 2.0, c), "var")]


def batchnorm_case(rng, k):
    """BN folded into the Conv/Gemm before it (the folded weights train) or, when something
    else reads the layer's output, a frozen per-channel affine."""
    if k == 2:     # BatchNorm1d after a Gemm: folded, beta of the Gemm included
        f = ri(rng, 6, 12)
        b = Builder(rng, [1, f])
        n = ri(rng, 4, 8)
        w = b.weight([f, n], f)
        g = b.node("Gemm", [b.x, w, b.bias(n)], transB=0, beta=0.5)
        y = b.node("BatchNormalization", [g] + bn_params(b, rng, n), epsilon=1e-3)
        y = b.node("Relu", [y])
        return b, b.head(y, classes(rng)), f"Gemm(transB=0, beta 0.5) -> BN over {n} (folded)"
    b = Builder(rng, image(rng))
    c = ri(rng, 2, 6)
    a = b.conv(b.x, c, 3, bias=k == 1)
    if k == 0:
        y = b.node("BatchNormalization", [a] + bn_params(b, rng, c))
        y = b.node("Relu", [y])
        desc = f"Conv(no bias) -> BN over {c} (folded)"
    else:          # the conv output has two readers: the BN stays a frozen affine
        y = b.node("BatchNormalization", [a] + bn_params(b, rng, c), epsilon=1e-3)
        y = b.node("Add", [b.node("Relu", [y]), a])
        desc = f"Conv -> BN over {c} with a second reader of the Conv (frozen affine)"
    y = b.conv(y, ri(rng, 2, 4), 3)
    return b, b.head(y, classes(rng)), desc


def pad_case(rng, k):
    """Constant padding (odlc trains through constant, non-negative pads only)."""
    opset = [13, 13, 10][k % 3]
    b = Builder(rng, image(rng), opset)
    a = b.conv(b.x, ri(rng, 2, 4), 3, pads=[0, 0, 0, 0])
    pads = [[0, 0, 1, 2, 0, 0, 2, 1], [0, 1, 1, 1, 0, 2, 1, 1], [0, 0, 2, 0, 0, 0, 0, 1]][k % 3]
    value = [0.5, 0.0, -1.0][k % 3]
    if opset >= 11:
        ins = [a, b.ints(pads, "pads")] + ([b.const(np.float32(value))] if value else [])
        y = b.node("Pad", ins, mode="constant")
    else:
        y = b.node("Pad", [a], mode="constant", pads=pads, value=value)
    y = b.conv(y, ri(rng, 2, 4), 3, pads=[0, 0, 0, 0])
    return b, b.head(y, classes(rng)), f"value {value}, pads {pads} (opset {opset})"


def reducemean_case(rng, k):
    """ReduceMean over the spatial axes (odlc trains through no other reduction)."""
    b = Builder(rng, image(rng))
    a = b.node("Relu", [b.conv(b.x, ri(rng, 2, 5), 3)])
    axes, keep = [([2, 3], 0), ([-1, -2], 1), ([3, 2], 1)][k % 3]
    y = b.node("ReduceMean", [a], axes=axes, keepdims=keep)
    if k == 2:
        y = b.conv(y, ri(rng, 2, 4), 1)
    return b, b.head(y, classes(rng)), f"axes {axes} keepdims {keep}"


def arith_case(rng, k):
    """Sub, Tanh, and a Mul that reads one tensor twice, between trainable layers."""
    b = Builder(rng, image(rng))
    c = ri(rng, 2, 5)
    a = b.conv(b.x, c, 3)
    if k == 0:
        y = b.node("Tanh", [b.node("Sub", [a, b.conv(b.x, c, 1)])])
        desc = "tanh(conv - conv)"
    elif k == 1:
        y = b.node("Sub", [b.const(rng.standard_normal([c, 1, 1]), "k"), a])
        desc = "const [C,1,1] - x"
    else:
        y = b.node("Mul", [a, a])
        desc = "x * x (one tensor read twice)"
    y = b.conv(y, ri(rng, 2, 4), 3)
    return b, b.head(y, classes(rng)), desc


def squeeze_case(rng, k):
    b = Builder(rng, image(rng))
    a = b.conv(b.x, ri(rng, 2, 6), 3)
    s = b.node("GlobalAveragePool", [a])                      # [1, C, 1, 1]
    if k == 0:
        y = b.node("Squeeze", [s, b.ints([2, 3], "axes")])    # [1, C]
        y = b.node("Relu", [b.gemm(y, ri(rng, 3, 6))])
        desc = "GAP -> Squeeze(2, 3) -> Gemm"
    else:
        y = b.node("Squeeze", [s, b.ints([3], "axes")])       # [1, C, 1]
        y = b.node("Unsqueeze", [y, b.ints([3], "axes")])     # [1, C, 1, 1]
        y = b.node("Mul", [a, b.node("Sigmoid", [y])])
        y = b.conv(y, ri(rng, 2, 4), 3)
        desc = "GAP -> Squeeze(3) -> Unsqueeze(3) gate"
    return b, b.head(y, classes(rng)), desc


def momentum_case(rng, k):
    """Several SGD steps with momentum (the velocity carries over)."""
    b = Builder(rng, image(rng))
    a = b.node("Relu", [b.conv(b.x, ri(rng, 2, 5), 3)])
    y = b.conv(a, ri(rng, 2, 4), 3)
    return b, b.head(y, classes(rng)), "Conv-Relu-Conv-Gemm"


GROUPS = {
    "conv_standard": (conv_case("standard"), 3),
    "conv_depthwise": (conv_case("depthwise"), 3),
    "conv_grouped": (conv_case("grouped"), 3),
    "conv_pointwise": (conv_case("pointwise"), 3),
    "conv_stride": (conv_case("stride"), 3),
    "conv_dilation": (conv_case("dilation"), 3),
    "conv_pads_sym": (conv_case("pads_sym"), 3),
    "conv_pads_asym": (conv_case("pads_asym"), 3),
    "conv_1d": (conv_case("1d"), 3),
    "gemm": (gemm_case, 4),
    "matmul": (matmul_case, 3),
    "relu": (activation_case("Relu"), 3),
    "clip": (activation_case("Clip"), 3),
    "leakyrelu": (activation_case("LeakyRelu"), 3),
    "sigmoid": (activation_case("Sigmoid"), 3),
    "hardsigmoid": (activation_case("HardSigmoid"), 3),
    "hardswish": (activation_case("HardSwish"), 3),
    "add": (add_case, 3),
    "mul": (mul_case, 3),
    "globalaveragepool": (gap_case, 3),
    "averagepool": (pool_case("AveragePool"), 4),
    "maxpool": (pool_case("MaxPool"), 4),
    "flatten": (flatten_case, 3),
    "reshape": (reshape_case, 3),
    "transpose": (transpose_case, 3),
    "concat": (concat_case, 3),
    "split": (split_case, 4),
    "slice": (slice_case, 3),
    "softmax": (softmax_case, 2),
    # beyond the list: ops the reference models train through, BN folding, momentum
    "batchnorm": (batchnorm_case, 3),
    "pad": (pad_case, 3),
    "reducemean": (reducemean_case, 3),
    "arith": (arith_case, 3),
    "squeeze": (squeeze_case, 2),
    "momentum": (momentum_case, 2, {"steps": 3, "lr": 0.1, "momentum": 0.9}),
}


def seed_of(group, k):
    return (sum(ord(ch) * (i + 1) for i, ch in enumerate(group)) * 7919 + k * 104729) % 2 ** 31


def settings(group):
    """steps, lr, momentum of a group's cases (default: one step at lr 1, no momentum)."""
    extra = GROUPS[group][2] if len(GROUPS[group]) > 2 else {}
    return extra.get("steps", STEPS), extra.get("lr", LR), extra.get("momentum", 0.0)


def build_case(group, k):
    fn = GROUPS[group][0]
    rng = np.random.default_rng(seed_of(group, k))
    b, out, desc = fn(rng, k)
    model = b.model(out)
    batch = [2, 3, 4][k % 3]           # compiled MODEL_BATCH
    n = batch - 1 if k % 3 == 1 else batch   # samples in the step: one case in three is partial
    return model, desc, batch, n


def fresh_case_dir(out_dir, group, k):
    d = os.path.join(out_dir, group, str(k))
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    return d


def run_reference(case, d, path, steps, n, lr, momentum, probes, prepare_plan=None):
    """PyTorch's training of the case into d/ref (after prepare_plan(plan path), e.g. masks);
    sets case["reference"] and keeps an earlier status, or records REFERENCE_ERROR."""
    import train_reference  # torch: imported only when references are made
    plan = os.path.join(d, "out", "memory_plan.json")
    try:
        if prepare_plan:
            prepare_plan(plan)
        case["reference"] = train_reference.run(path, "input", steps, n, lr,
                                                os.path.join(d, "ref"), momentum=momentum,
                                                seed=case["seed"], probes=probes, plan=plan)
        case.setdefault("status", "OK")
    except Exception as e:  # noqa: BLE001  (reported per case)
        case["status"] = "REFERENCE_ERROR"
        case["message"] = f"{type(e).__name__}: {e}"


def save_case(d, case):
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump(case, f, indent=1)
    return case


def run_case(group, k, out_dir, odlc):
    d = fresh_case_dir(out_dir, group, k)
    model, desc, batch, n = build_case(group, k)
    steps, lr, momentum = settings(group)
    path = os.path.join(d, "model.onnx")
    onnx.save(model, path)
    case = {"group": group, "case": k, "description": desc, "compiled_batch": batch,
            "samples": n, "lr": lr, "steps": steps, "momentum": momentum,
            "seed": seed_of(group, k)}
    if steps > 1 or momentum:
        case["description"] += f" ({steps} steps, lr {lr}, momentum {momentum})"
    cmd = [odlc, "compile", path, "-o", os.path.join(d, "out"), "--train-from", "input",
           "--batch", str(batch), "--lr", str(lr), "--momentum", str(momentum),
           "--replay-samples", "1"]
    case["odlc_command"] = " ".join(cmd)
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        case["status"] = "COMPILE_ERROR"
        case["message"] = (p.stderr or p.stdout).strip()
    else:
        run_reference(case, d, path, steps, n, lr, momentum, PROBES)
    return save_case(d, case)


def case_args(argv, description, groups, extra=None):
    """--out, --odlc, --groups, --list (and what `extra` adds): (args, groups to run), or
    (None, None) after --list printed the groups."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--out")
    ap.add_argument("--odlc")
    ap.add_argument("--groups", help="comma-separated groups (default: all)")
    ap.add_argument("--list", action="store_true", help="print the groups and exit")
    if extra:
        extra(ap)
    args = ap.parse_args(argv)
    if args.list:
        print(" ".join(groups))
        return None, None
    if not args.out or not args.odlc:
        ap.error("--out and --odlc are required")
    chosen = args.groups.split(",") if args.groups else list(groups)
    for group in chosen:
        if group not in groups:
            ap.error(f"unknown group {group}")
    return args, chosen


def main(argv):
    args, groups = case_args(argv, __doc__.split("\n\n")[0], GROUPS)
    if args is None:
        return 0
    rows = []
    for group in groups:
        d = os.path.join(args.out, group)
        if os.path.isdir(d):
            shutil.rmtree(d)
        for k in range(GROUPS[group][1]):
            c = run_case(group, k, args.out, args.odlc)
            rows.append(c)
            print(f"{group}/{k}: {c['status']}: {c['description']}"
                  + (f": {c['message']}" if c["status"] != "OK" else ""), flush=True)
    with open(os.path.join(args.out, "cases.tsv"), "a") as f:
        for c in rows:
            f.write(f"{c['group']}\t{c['case']}\t{c['status']}\t{c['description']}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
