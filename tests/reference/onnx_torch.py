#!/usr/bin/python3
"""ONNX -> torch.nn.Module with odlc's training semantics: the PyTorch oracle of odlc's training
tests (tests/e2e/train). Written from the ONNX operator spec and odlc's documented semantics,
not from odlc's code paths, so that autograd checks odlc's gradients independently.

    import onnx_torch
    m = onnx_torch.OnnxTorch(onnx.load("model.onnx"), cut="input")   # or cut=None: frozen
    y = m(x)                     # the ONNX output(s) for a batch x (N x ...), float32
    z = m.logits(x)              # the loss's logits: the input of a final Softmax, else the output
    m.trainable                  # OrderedDict odlc weight name -> nn.Parameter

odlc's semantics mirrored here (README, DESIGN.md 4.1/4.3, passes/):
  - Identity and Dropout are dropped; Clip(0, 6) is relu6 and every Clip has PyTorch's hardtanh
    gradient (zero at and beyond the bounds); x * HardSigmoid(x) (alpha 1/6, beta 0.5) and
    x * Relu6(x + 3) / 6 are HardSwish.
  - A BatchNormalization whose input comes from a Conv (or a 2-D Gemm) with constant weights,
    read by nothing but the BN, is FOLDED into that layer, in float64 and then rounded to float32:
        k = gamma / sqrt(var + eps);  w' = w * k (per output channel);  b' = b * k + (beta - mean k)
    (for a Gemm, b is beta_gemm * C). The folded weights are named WEIGHT_bnfold and
    WEIGHT_bnfold_bias (odlc's names in memory_plan.json) and are what trains; the layer's
    output takes the BN output's name. Any other BN is a frozen per-channel affine x * k + c with
    k and c = beta - mean k rounded to float32.
  - Trainable: every float constant input 1 or 2 (weight, bias) of a Conv, Gemm or MatMul that
    reads a tensor computed from the cut (the tail), except the bias of a Gemm with beta 0.
    Nothing else trains (no BN parameters).
  - The exported graphs have batch 1 baked into Reshape targets. A batch is evaluated at once,
    with a Reshape's leading 1 read as the batch, when that was checked to give what one sample
    at a time gives (self.batched); else one sample at a time. With frozen BN the samples are
    independent either way.

dtype=torch.float64 evaluates the same float32 constants in float64: the yardstick for how much of
a difference is float32 rounding.

    /usr/bin/python3 onnx_torch.py MODEL.onnx INPUT.bin EXPECTED.bin     forward check
    /usr/bin/python3 onnx_torch.py --models DIR                          every DIR/*/model.onnx
"""
import argparse
import collections
import math
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import helper, numpy_helper

_INT64_MAX = 2 ** 63 - 1

_ONNX_DTYPES = {
    onnx.TensorProto.FLOAT: "float", onnx.TensorProto.DOUBLE: "float",
    onnx.TensorProto.FLOAT16: "float", onnx.TensorProto.INT64: torch.int64,
    onnx.TensorProto.INT32: torch.int32, onnx.TensorProto.INT16: torch.int16,
    onnx.TensorProto.INT8: torch.int8, onnx.TensorProto.UINT8: torch.uint8,
    onnx.TensorProto.BOOL: torch.bool,
}


class Node:
    __slots__ = ("op", "name", "inputs", "outputs", "attrs")

    def __init__(self, op, name, inputs, outputs, attrs):
        self.op, self.name, self.inputs, self.outputs, self.attrs = op, name, inputs, outputs, attrs

    def __repr__(self):
        return f"{self.op}({', '.join(self.inputs)}) -> {', '.join(self.outputs)}"


def _attr_value(a):
    v = helper.get_attribute_value(a)
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, list) and v and isinstance(v[0], bytes):
        return [s.decode() for s in v]
    return v


def _ints(t):
    return [int(v) for v in t.reshape(-1).tolist()]


class OnnxTorch(nn.Module):
    """See the module docstring. cut: a tensor name (graph input or any computed tensor) from
    which on everything trains as odlc would, or None (nothing trains)."""

    def __init__(self, model, cut=None, dtype=torch.float32):
        super().__init__()
        if isinstance(model, (str, bytes, os.PathLike)):
            model = onnx.load(model)
        self.dtype = dtype
        g = model.graph
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 1)
        inits = {i.name for i in g.initializer}
        self.input_names = [i.name for i in g.input if i.name not in inits]
        self.output_names = [o.name for o in g.output]
        self.input_shapes = [[d.dim_value for d in i.type.tensor_type.shape.dim]
                             for i in g.input if i.name not in inits]
        self.output_shapes = [[d.dim_value for d in o.type.tensor_type.shape.dim] for o in g.output]
        # constants: name -> numpy array (floats kept as float32, as odlc stores them)
        self.consts = {}
        for init in g.initializer:
            self.consts[init.name] = self._np(numpy_helper.to_array(init))
        self.nodes = []
        for i, n in enumerate(g.node):
            if n.domain not in ("", "ai.onnx"):
                raise NotImplementedError(f"domain {n.domain}")
            attrs = {a.name: _attr_value(a) for a in n.attribute}
            self.nodes.append(Node(n.op_type, n.name or f"node{i}", list(n.input), list(n.output),
                                   attrs))
        self.alias = {}
        self.trainable = collections.OrderedDict()
        self._frozen = {}
        self._shapes = None
        self.batched = False
        self._fold_constants()
        self._remove_identity()
        self._canonicalize_clip()
        self._fuse_hardswish()
        self._value_shape(None)
        self._fold_static_shapes()
        self._fold_batchnorm()
        self._choose_trainable(cut)
        self._check_batched()

    # ------------------------------------------------------------------ graph preprocessing --
    @staticmethod
    def _np(a):
        a = np.asarray(a)
        if a.dtype.kind == "f":
            return a.astype(np.float32)
        return a

    def _resolve(self, name):
        while name in self.alias:
            name = self.alias[name]
        return name

    def _uses(self, name):
        """Number of reads of `name` (node input slots, graph outputs count as reads)."""
        n = sum(1 for node in self.nodes for i in node.inputs if i == name)
        return n + sum(1 for o in self.output_names if self._resolve(o) == name)

    def _producer(self, name):
        for node in self.nodes:
            if name in node.outputs:
                return node
        return None

    def _is_const(self, name):
        return name in self.consts

    def _fold_constants(self):
        """Evaluate every node whose inputs are all constants (Constant nodes, shape arithmetic on
        constants, ...) once, in float32, as odlc's importer folds them."""
        kept = []
        for node in self.nodes:
            ins = [i for i in node.inputs if i]
            if node.op == "Constant" or (ins and all(self._is_const(i) for i in ins)
                                         and node.op not in ("Conv", "Gemm", "MatMul")):
                args = [self._torch_const(i, torch.float32) if i else None for i in node.inputs]
                res = self._run_node(node, args)
                if not isinstance(res, (tuple, list)):
                    res = (res,)
                for name, val in zip(node.outputs, res):
                    if name:
                        self.consts[name] = self._np(val.detach().cpu().numpy())
                continue
            kept.append(node)
        self.nodes = kept

    def _remove_identity(self):
        kept = []
        for node in self.nodes:
            if node.op in ("Identity", "Dropout"):
                if node.op == "Dropout" and len(node.inputs) > 2 and node.inputs[2]:
                    mode = self.consts.get(node.inputs[2])
                    if mode is None or bool(mode):
                        raise NotImplementedError("Dropout in training mode")
                self.alias[node.outputs[0]] = node.inputs[0]
                continue
            kept.append(node)
        for node in kept:
            node.inputs = [self._resolve(i) if i else i for i in node.inputs]
        self.nodes = kept

    def _canonicalize_clip(self):
        """Clip bounds given as inputs become attributes (odlc's importer does the same)."""
        for node in self.nodes:
            if node.op != "Clip":
                continue
            lo = node.attrs.get("min", -np.inf)
            hi = node.attrs.get("max", np.inf)
            if len(node.inputs) > 1 and node.inputs[1]:
                lo = float(self.consts[node.inputs[1]])
            if len(node.inputs) > 2 and node.inputs[2]:
                hi = float(self.consts[node.inputs[2]])
            node.inputs = node.inputs[:1]
            node.attrs = {"min": lo, "max": hi}

    def _scalar_const(self, name, value):
        if name not in self.consts:
            return False
        c = self.consts[name]
        return c.size == 1 and abs(float(c.reshape(-1)[0]) - value) <= 1e-6 * abs(value) + 1e-12

    def _producer_op(self, name, op):
        p = self._producer(name)
        return p if p is not None and p.op == op else None

    def _is_relu6(self, node):
        return node is not None and node.op == "Clip" and node.attrs["min"] == 0.0 and \
            node.attrs["max"] == 6.0

    def _relu6_plus_three_input(self, r):
        relu6 = self._producer(r)
        if not self._is_relu6(relu6) or self._uses(r) != 1:
            return None
        s = relu6.inputs[0]
        add = self._producer_op(s, "Add")
        if add is None or self._uses(s) != 1:
            return None
        for i in range(2):
            if self._scalar_const(add.inputs[1 - i], 3.0):
                return add.inputs[i], [relu6, add]
        return None

    def _sixth_of(self, node):
        if node.op == "Div" and self._scalar_const(node.inputs[1], 6.0):
            return node.inputs[0]
        if node.op != "Mul":
            return None
        for i in range(2):
            if self._scalar_const(node.inputs[1 - i], 1.0 / 6.0):
                return node.inputs[i]
        return None

    def _fuse_hardswish(self):
        dead = set()
        for node in self.nodes:
            if id(node) in dead:
                continue
            victims, x = None, None
            if node.op == "Mul":
                for i in range(2):
                    xi, gate = node.inputs[i], node.inputs[1 - i]
                    hs = self._producer_op(gate, "HardSigmoid")
                    if hs is not None and hs.inputs[0] == xi and self._uses(gate) == 1 and \
                            np.float32(hs.attrs.get("alpha", 0.2)) == np.float32(1.0 / 6.0) and \
                            hs.attrs.get("beta", 0.5) == 0.5:
                        victims, x = [hs], xi
                        break
                    # x * (Relu6(x + 3) / 6)
                    sixth = self._producer(gate)
                    if sixth is None or self._uses(gate) != 1:
                        continue
                    r = self._sixth_of(sixth)
                    m = self._relu6_plus_three_input(r) if r is not None else None
                    if m is not None and m[0] == xi:
                        victims, x = [sixth] + m[1], xi
                        break
            if victims is None and node.op in ("Div", "Mul"):
                # (x * Relu6(x + 3)) / 6
                product = self._sixth_of(node)
                mul = self._producer_op(product, "Mul") if product is not None else None
                if mul is not None and self._uses(product) == 1:
                    for i in range(2):
                        xi, r = mul.inputs[i], mul.inputs[1 - i]
                        m = self._relu6_plus_three_input(r)
                        if m is not None and m[0] == xi:
                            victims, x = [mul] + m[1], xi
                            break
            if victims is None:
                continue
            dead.update(id(v) for v in victims)
            node.op, node.inputs, node.attrs = "HardSwish", [x], {}
        self.nodes = [n for n in self.nodes if id(n) not in dead]

    def _fold_batchnorm(self):
        """odlc's fold-batchnorm (module docstring), float64 arithmetic rounded to float32."""
        kept = []
        self.bn_folded, self.bn_affine = 0, 0
        for node in self.nodes:
            if node.op != "BatchNormalization":
                kept.append(node)
                continue
            if node.attrs.get("training_mode", 0) or len([o for o in node.outputs if o]) > 1:
                raise NotImplementedError("BatchNormalization in training mode")
            s, b, mean, var = (self.consts[i].astype(np.float64) for i in node.inputs[1:5])
            eps = float(node.attrs.get("epsilon", 1e-5))
            k = s / np.sqrt(var + eps)
            shift = b - mean * k
            x = node.inputs[0]
            p = self._producer(x)
            if self._try_fold(p, x, k, shift):
                p.outputs = [node.outputs[0] if o == x else o for o in p.outputs]
                self.bn_folded += 1
                continue
            self.consts[node.name + "_scale"] = k.astype(np.float32)
            self.consts[node.name + "_shift"] = shift.astype(np.float32)
            node.op = "ChannelAffine"
            node.inputs = [x, node.name + "_scale", node.name + "_shift"]
            node.attrs = {}
            self.bn_affine += 1
            kept.append(node)
        self.nodes = kept

    def _try_fold(self, p, x, k, shift):
        if p is None or self._uses(x) != 1 or x in self.output_names:
            return False
        if p.op not in ("Conv", "Gemm"):
            return False
        w = p.inputs[1]
        bias = p.inputs[2] if len(p.inputs) > 2 and p.inputs[2] else None
        if not self._float_const(w) or (bias is not None and not self._float_const(bias)):
            return False
        wt = self.consts[w].astype(np.float64)
        old_scale = 1.0
        if p.op == "Conv":
            wf = wt * k.reshape((-1,) + (1,) * (wt.ndim - 1))
        else:
            if len(self._value_shape(x) or ()) != 2:
                return False
            if bias is not None and self.consts[bias].size != k.size:
                return False
            wf = wt * (k.reshape(-1, 1) if p.attrs.get("transB", 0) else k.reshape(1, -1))
            old_scale = float(p.attrs.get("beta", 1.0))
            p.attrs = dict(p.attrs, beta=1.0)
        old = np.zeros_like(k) if bias is None else \
            self.consts[bias].astype(np.float64).reshape(-1) * old_scale
        self.consts[w + "_bnfold"] = wf.astype(np.float32)
        self.consts[w + "_bnfold_bias"] = (old * k + shift).astype(np.float32)
        p.inputs = [p.inputs[0], w + "_bnfold", w + "_bnfold_bias"]
        return True

    def _float_const(self, name):
        return name in self.consts and self.consts[name].dtype == np.float32

    def _value_shape(self, name):
        """Static shape of a value, from one float32 forward run (before BN folding)."""
        if self._shapes is None:
            feeds = [torch.zeros(s, dtype=self.dtype) for s in self.input_shapes]
            env = self._run_graph(feeds, None, return_env=True)
            self._shapes = {k: tuple(v.shape) for k, v in env.items()}
            self._frozen = {}
        return self._shapes.get(name)

    def _fold_static_shapes(self):
        """Shapes are static: every integer or boolean value (Shape -> Gather -> Concat ->
        Reshape subgraphs) is a constant, as odlc's importer folds it. Nodes whose outputs are
        all such constants go; the tail then reads only values computed from the cut."""
        feeds = [torch.zeros(s, dtype=self.dtype) for s in self.input_shapes]
        env = self._run_graph(feeds, None, return_env=True)
        kept = []
        for node in self.nodes:
            outs = [o for o in node.outputs if o]
            if outs and all(not env[o].is_floating_point() for o in outs):
                for o in outs:
                    self.consts[o] = env[o].numpy().copy()
                continue
            kept.append(node)
        self.nodes = kept
        self._frozen = {}

    def _choose_trainable(self, cut):
        """Parameters: trainable weights of the tail (odlc's order is not needed here)."""
        self.cut = None if cut is None else self._resolve(cut)
        down = set()
        if self.cut is not None:
            produced = {o for n in self.nodes for o in n.outputs} | set(self.input_names)
            if self.cut not in produced:
                raise ValueError(f"cut '{cut}' names no computed tensor or graph input")
            down.add(self.cut)
        self.tail = []
        trainable_names = []
        for node in self.nodes:
            in_tail = any(i in down for i in node.inputs if i)
            if in_tail:
                down.update(o for o in node.outputs if o)
                self.tail.append(node)
                if node.op in ("Conv", "Gemm", "MatMul"):
                    for i, w in enumerate(node.inputs[1:3], 1):
                        if i == 2 and node.op == "Gemm" and float(node.attrs.get("beta", 1.0)) == 0:
                            continue   # a bias scaled by 0 has no gradient: it does not train
                        if w and self._float_const(w) and w not in trainable_names:
                            trainable_names.append(w)
        self.trainable = collections.OrderedDict()
        self._params = nn.ParameterList()
        for name in trainable_names:
            p = nn.Parameter(torch.from_numpy(self.consts[name].copy()).to(self.dtype))
            self._params.append(p)
            self.trainable[name] = p

    # --------------------------------------------------------------------------- evaluation --
    def _torch_const(self, name, dtype):
        a = self.consts[name]
        t = torch.from_numpy(np.array(a, copy=True))
        if t.is_floating_point():
            t = t.to(dtype)
        return t

    def _value(self, env, name):
        if name in self.trainable:
            return self.trainable[name]
        if name in env:
            return env[name]
        if name in self.consts:
            t = self._frozen.get(name)
            if t is None:
                t = self._frozen[name] = self._torch_const(name, self.dtype)
            return t
        raise KeyError(f"value '{name}' not computed")

    def _run_graph(self, feeds, outputs, return_env=False, nodes=None, names=None):
        env = {}
        for name, x in zip(names or self.input_names, feeds):
            env[name] = x
        for node in self.nodes if nodes is None else nodes:
            args = [self._value(env, i) if i else None for i in node.inputs]
            res = self._run_node(node, args)
            if not isinstance(res, (tuple, list)):
                res = (res,)
            for name, val in zip(node.outputs, res):
                if name:
                    env[name] = val
        if return_env:
            return env
        return [self._value(env, self._resolve(o)) for o in outputs]

    def _run_batch(self, xs, outputs, nodes=None, names=None):
        """The graph (or `nodes` fed with `names`) on a batch: at once when that was checked to
        equal one sample at a time (self.batched), else sample by sample."""
        if isinstance(xs, torch.Tensor):
            xs = [xs]
        xs = [x.to(self.dtype) for x in xs]
        n = xs[0].shape[0]
        if self.batched and n > 1:
            return self._run_graph(xs, outputs, nodes=nodes, names=names)
        per = [self._run_graph([x[i:i + 1] for x in xs], outputs, nodes=nodes, names=names)
               for i in range(n)]
        return [torch.cat([p[j] for p in per], 0) for j in range(len(outputs))]

    def _check_batched(self):
        """Batched evaluation (Reshape targets' leading 1 read as the batch) is a speed-up only:
        it is used when it gives what sample-by-sample evaluation gives on a random batch."""
        self.batched = False
        g = torch.Generator().manual_seed(0)
        xs = [torch.randn([3] + s[1:], generator=g, dtype=self.dtype) for s in self.input_shapes]
        with torch.no_grad():
            want = self._run_batch(xs, self.output_names)
            self.batched = True
            try:
                got = self._run_batch(xs, self.output_names)
                ok = all(a.shape == b.shape and torch.allclose(a, b, rtol=1e-4, atol=1e-5)
                         for a, b in zip(got, want))
            except (RuntimeError, IndexError, ValueError):
                ok = False
        self.batched = ok

    def forward(self, *xs):
        """The ONNX outputs for a batch (inputs N x ... each); one tensor for one output."""
        ys = self._run_batch(list(xs), self.output_names)
        return ys[0] if len(ys) == 1 else ys

    def logits_name(self):
        out = self._resolve(self.output_names[0])
        p = self._producer(out)
        if p is not None and p.op == "Softmax":
            return p.inputs[0]
        return out

    def logits(self, *xs):
        """What odlc's loss takes: the input of a final Softmax, else the (first) output,
        flattened to N x classes."""
        z = self._run_batch(list(xs), [self.logits_name()])[0]
        return z.reshape(z.shape[0], -1)

    def latents(self, *xs):
        """The cut tensor for a batch (the frozen prefix, no gradient): what odlc's prefix
        computes and its replay buffer stores."""
        if self.cut in self.input_names:
            return xs[self.input_names.index(self.cut)].to(self.dtype)
        with torch.no_grad():
            return self._run_batch(list(xs), [self.cut])[0]

    def tail_logits(self, latents):
        """logits() from latents(): only the tail runs (the cut dominates every path)."""
        z = self._run_batch([latents], [self.logits_name()], nodes=self.tail, names=[self.cut])[0]
        return z.reshape(z.shape[0], -1)

    # -------------------------------------------------------------------------------- ops --
    def _run_node(self, node, args):
        fn = getattr(self, "op_" + node.op, None)
        if fn is None:
            raise NotImplementedError(f"op {node.op} ({node.name})")
        while args and args[-1] is None:
            args = args[:-1]
        return fn(node, node.attrs, *args)

    # --- convolution and pooling
    @staticmethod
    def _auto_pads(a, in_sizes, kernel, strides, dils):
        auto = a.get("auto_pad", "NOTSET")
        nsp = len(in_sizes)
        if auto in ("NOTSET", ""):
            return list(a.get("pads", [0] * (2 * nsp)))
        if auto == "VALID":
            return [0] * (2 * nsp)
        begin, end = [], []
        for i in range(nsp):
            out = -(-in_sizes[i] // strides[i])
            total = max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dils[i] + 1 - in_sizes[i])
            small, big = total // 2, total - total // 2
            if auto == "SAME_UPPER":
                begin.append(small), end.append(big)
            else:
                begin.append(big), end.append(small)
        return begin + end

    @staticmethod
    def _torch_pad(pads):
        """ONNX [b0, b1, ..., e0, e1, ...] over the spatial dims -> F.pad's order."""
        nsp = len(pads) // 2
        out = []
        for i in reversed(range(nsp)):
            out += [pads[i], pads[i + nsp]]
        return out

    def op_Conv(self, node, a, x, w, b=None):
        nsp = x.dim() - 2
        if nsp not in (1, 2):
            raise NotImplementedError("Conv: only 1-D and 2-D")
        kernel = list(a.get("kernel_shape", w.shape[2:]))
        strides = list(a.get("strides", [1] * nsp))
        dils = list(a.get("dilations", [1] * nsp))
        pads = self._auto_pads(a, list(x.shape[2:]), kernel, strides, dils)
        if any(pads):
            x = F.pad(x, self._torch_pad(pads))
        conv = F.conv1d if nsp == 1 else F.conv2d
        return conv(x, w, b, stride=strides, dilation=dils, groups=a.get("group", 1))

    def _pool_prep(self, a, x, fill):
        """Pads x for a pooling window (explicit pads with `fill`, plus the extra positions a
        ceil_mode window reaches), returns (xp, mask of counted positions for
        count_include_pad, mask of real positions, kernel, strides, dils)."""
        nsp = x.dim() - 2
        if nsp not in (1, 2):
            raise NotImplementedError("pooling: only 1-D and 2-D")
        kernel = list(a["kernel_shape"])
        strides = list(a.get("strides", [1] * nsp))
        dils = list(a.get("dilations", [1] * nsp))
        in_sizes = list(x.shape[2:])
        pads = self._auto_pads(a, in_sizes, kernel, strides, dils)
        ceil_mode = a.get("ceil_mode", 0)
        extra = []
        for i in range(nsp):
            span = in_sizes[i] + pads[i] + pads[i + nsp] - ((kernel[i] - 1) * dils[i] + 1)
            out = (-(-span // strides[i]) if ceil_mode else span // strides[i]) + 1
            need = (out - 1) * strides[i] + (kernel[i] - 1) * dils[i] + 1
            extra.append(max(0, need - (in_sizes[i] + pads[i] + pads[i + nsp])))
        full = [pads[i] for i in range(nsp)] + [pads[i + nsp] + extra[i] for i in range(nsp)]
        xp = F.pad(x, self._torch_pad(full), value=fill)
        ones = torch.ones([1, 1] + in_sizes, dtype=x.dtype)
        real = F.pad(ones, self._torch_pad(full))
        padded = F.pad(F.pad(ones, self._torch_pad(pads), value=1.0),
                       self._torch_pad([0] * nsp + extra))
        return xp, padded, real, kernel, strides, dils

    def op_MaxPool(self, node, a, x):
        if len(node.outputs) > 1 and node.outputs[1]:
            raise NotImplementedError("MaxPool indices")
        xp, _, _, kernel, strides, dils = self._pool_prep(a, x, -math.inf)
        pool = F.max_pool1d if x.dim() == 3 else F.max_pool2d
        return pool(xp, kernel, strides, 0, dils)

    def _window_sum(self, x, kernel, strides, dils):
        c = x.shape[1]
        ones = torch.ones([c, 1] + kernel, dtype=x.dtype)
        conv = F.conv1d if x.dim() == 3 else F.conv2d
        return conv(x, ones, None, stride=strides, dilation=dils, groups=c)

    def op_AveragePool(self, node, a, x):
        xp, padded, real, kernel, strides, dils = self._pool_prep(a, x, 0.0)
        s = self._window_sum(xp, kernel, strides, dils)
        counted = padded if a.get("count_include_pad", 0) else real
        return s / self._window_sum(counted, kernel, strides, dils)

    def op_GlobalAveragePool(self, node, a, x):
        return x.mean(dim=tuple(range(2, x.dim())), keepdim=True)

    def op_GlobalMaxPool(self, node, a, x):
        return x.amax(dim=tuple(range(2, x.dim())), keepdim=True)

    # --- normalization
    def op_ChannelAffine(self, node, a, x, scale, shift):
        shp = (1, -1) + (1,) * (x.dim() - 2)
        return x * scale.reshape(shp) + shift.reshape(shp)

    def op_BatchNormalization(self, node, a, x, s, b, mean, var):
        # only constant-folded BNs reach here
        shp = (1, -1) + (1,) * (x.dim() - 2)
        eps = float(a.get("epsilon", 1e-5))
        return (x - mean.reshape(shp)) / torch.sqrt(var.reshape(shp) + eps) * s.reshape(shp) \
            + b.reshape(shp)

    # --- linear algebra
    def op_Gemm(self, node, a, A, B, C=None):
        A = A.t() if a.get("transA", 0) else A
        B = B.t() if a.get("transB", 0) else B
        alpha, beta = float(a.get("alpha", 1.0)), float(a.get("beta", 1.0))
        y = A @ B
        if alpha != 1.0:
            y = alpha * y
        if C is not None:
            y = y + (C if beta == 1.0 else beta * C)
        return y

    def op_MatMul(self, node, a, x, y):
        return torch.matmul(x, y)

    # --- activations
    def op_Relu(self, node, a, x):
        return F.relu(x)

    def op_Clip(self, node, a, x, lo=None, hi=None):
        lo = float(a.get("min", -math.inf)) if lo is None else float(lo)
        hi = float(a.get("max", math.inf)) if hi is None else float(hi)
        if not x.is_floating_point():
            return torch.clamp(x, int(max(lo, -_INT64_MAX)), int(min(hi, _INT64_MAX)))
        if lo == 0.0 and hi == math.inf:
            return F.relu(x)
        return F.hardtanh(x, lo, hi)

    def op_LeakyRelu(self, node, a, x):
        return F.leaky_relu(x, float(a.get("alpha", 0.01)))

    def op_Sigmoid(self, node, a, x):
        return torch.sigmoid(x)

    def op_HardSigmoid(self, node, a, x):
        alpha, beta = float(a.get("alpha", 0.2)), float(a.get("beta", 0.5))
        return F.hardtanh(alpha * x + beta, 0.0, 1.0)

    def op_HardSwish(self, node, a, x):
        return F.hardswish(x)

    def op_Tanh(self, node, a, x):
        return torch.tanh(x)

    def op_Softmax(self, node, a, x):
        axis = a.get("axis", -1 if self.opset >= 13 else 1)
        axis = axis % x.dim()
        if self.opset >= 13:
            return torch.softmax(x, axis)
        shp = x.shape
        lead = int(np.prod(shp[:axis])) if axis else 1
        return torch.softmax(x.reshape(lead, -1), 1).reshape(shp)

    # --- elementwise
    def _legacy_broadcast(self, a, x, y):
        if self.opset < 7 and a.get("broadcast", 0) and y.dim() < x.dim():
            axis = a.get("axis", x.dim() - y.dim())
            axis = axis % x.dim()
            y = y.reshape(list(y.shape) + [1] * (x.dim() - axis - y.dim()))
        return y

    def op_Add(self, node, a, x, y):
        return x + self._legacy_broadcast(a, x, y)

    def op_Sub(self, node, a, x, y):
        return x - self._legacy_broadcast(a, x, y)

    def op_Mul(self, node, a, x, y):
        return x * self._legacy_broadcast(a, x, y)

    def op_Div(self, node, a, x, y):
        y = self._legacy_broadcast(a, x, y)
        if not x.is_floating_point() and not y.is_floating_point():
            return torch.div(x, y, rounding_mode="trunc")
        return x / y

    def op_Abs(self, node, a, x):
        return torch.abs(x)

    def op_Neg(self, node, a, x):
        return -x

    def op_Exp(self, node, a, x):
        return torch.exp(x)

    def op_Sqrt(self, node, a, x):
        return torch.sqrt(x)

    def op_Floor(self, node, a, x):
        return torch.floor(x)

    def op_Ceil(self, node, a, x):
        return torch.ceil(x)

    def op_Equal(self, node, a, x, y):
        return torch.eq(x, y)

    def op_Greater(self, node, a, x, y):
        return torch.gt(x, y)

    def op_Less(self, node, a, x, y):
        return torch.lt(x, y)

    def op_Not(self, node, a, x):
        return torch.logical_not(x)

    def op_Where(self, node, a, c, x, y):
        return torch.where(c.bool(), x, y)

    def op_ReduceMean(self, node, a, x, axes=None):
        axes = a.get("axes") if axes is None else _ints(axes)
        if not axes:
            if a.get("noop_with_empty_axes", 0):
                return x
            axes = list(range(x.dim()))
        axes = sorted({int(v) % x.dim() for v in axes})
        return x.mean(dim=axes, keepdim=bool(a.get("keepdims", 1)))

    # --- movement
    def op_Flatten(self, node, a, x):
        axis = a.get("axis", 1)
        axis = axis + x.dim() if axis < 0 else axis
        lead = int(np.prod(x.shape[:axis])) if axis else 1
        return x.reshape(lead, -1)

    def op_Reshape(self, node, a, x, shape):
        shape = _ints(shape)
        if not a.get("allowzero", 0):
            shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
        if self.batched and shape and shape[0] == 1 and x.dim() and x.shape[0] > 1:
            shape = [x.shape[0]] + shape[1:]   # batched evaluation: the leading 1 is the batch
        return x.reshape(shape)

    def op_Squeeze(self, node, a, x, axes=None):
        axes = a.get("axes") if axes is None else _ints(axes)
        if axes is None:
            axes = [i for i, s in enumerate(x.shape) if s == 1]
        axes = {int(v) % x.dim() for v in axes}
        return x.reshape([s for i, s in enumerate(x.shape) if i not in axes])

    def op_Unsqueeze(self, node, a, x, axes=None):
        axes = a.get("axes") if axes is None else _ints(axes)
        r = x.dim() + len(axes)
        for ax in sorted(int(v) % r for v in axes):
            x = x.unsqueeze(ax)
        return x

    def op_Transpose(self, node, a, x):
        return x.permute(a.get("perm", list(range(x.dim()))[::-1]))

    def op_Concat(self, node, a, *xs):
        xs = [x for x in xs if x is not None]
        return torch.cat(xs, a["axis"] % xs[0].dim())

    def op_Split(self, node, a, x, split=None):
        axis = a.get("axis", 0) % x.dim()
        split = a.get("split") if split is None else _ints(split)
        n = len(node.outputs)
        if split is None:
            size = x.shape[axis]
            chunk = -(-size // n)
            split = [chunk] * (n - 1) + [size - chunk * (n - 1)]
        return tuple(torch.split(x, list(split), dim=axis))

    def op_Slice(self, node, a, x, starts=None, ends=None, axes=None, steps=None):
        if self.opset < 10:
            starts, ends, axes = a["starts"], a["ends"], a.get("axes")
        else:
            starts, ends = _ints(starts), _ints(ends)
            axes = None if axes is None else _ints(axes)
            steps = None if steps is None else _ints(steps)
        axes = list(range(len(starts))) if axes is None else [v % x.dim() for v in axes]
        steps = [1] * len(starts) if steps is None else steps
        for st, en, ax, sp in zip(starts, ends, axes, steps):
            dim = x.shape[ax]
            st = st + dim if st < 0 else st
            en = en + dim if en < 0 else en
            if sp > 0:
                st, en = min(max(st, 0), dim), min(max(en, 0), dim)
                idx = list(range(st, en, sp))
            else:
                st, en = min(max(st, 0), dim - 1), min(max(en, -1), dim - 1)
                idx = list(range(st, en, sp))
            if sp == 1:
                x = x.narrow(ax, st, max(0, en - st))
            else:
                x = x.index_select(ax, torch.tensor(idx, dtype=torch.int64))
        return x

    def op_Pad(self, node, a, x, pads=None, value=None, axes=None):
        mode = a.get("mode", "constant")
        pads = a.get("pads") if pads is None else _ints(pads)
        if axes is not None:
            raise NotImplementedError("Pad axes")
        value = float(a.get("value", 0.0)) if value is None else float(value.reshape(-1)[0])
        r = x.dim()
        tp = []
        for i in reversed(range(r)):
            tp += [pads[i], pads[i + r]]
        while len(tp) > 2 and tp[-1] == 0 and tp[-2] == 0:   # leading dims unpadded
            tp = tp[:-2]
        if mode == "constant":
            return F.pad(x, tp, value=value)
        if mode in ("reflect", "edge"):
            return F.pad(x, tp, mode="reflect" if mode == "reflect" else "replicate")
        raise NotImplementedError("Pad mode " + mode)

    def op_Gather(self, node, a, x, idx):
        axis = a.get("axis", 0) % x.dim()
        i = idx.to(torch.int64)
        i = torch.where(i < 0, i + x.shape[axis], i)
        out = x.index_select(axis, i.reshape(-1))
        return out.reshape(list(x.shape[:axis]) + list(i.shape) + list(x.shape[axis + 1:]))

    # --- shape computations (folded at compile time by odlc)
    def op_Shape(self, node, a, x):
        s = list(x.shape)
        start, end = a.get("start", 0), a.get("end", None)
        return torch.tensor(s[start:end], dtype=torch.int64)

    def op_Size(self, node, a, x):
        return torch.tensor(x.numel(), dtype=torch.int64)

    def op_Constant(self, node, a):
        if "value" in a:
            return torch.from_numpy(self._np(numpy_helper.to_array(a["value"])).copy())
        for k, dt in (("value_float", torch.float32), ("value_floats", torch.float32),
                      ("value_int", torch.int64), ("value_ints", torch.int64)):
            if k in a:
                return torch.tensor(a[k], dtype=dt)
        raise NotImplementedError("Constant " + ",".join(a))

    def op_ConstantOfShape(self, node, a, shape):
        v = torch.zeros(1, dtype=torch.float32)
        if "value" in a:
            v = torch.from_numpy(self._np(numpy_helper.to_array(a["value"])).copy()).reshape(-1)
        return v.expand(_ints(shape)).clone()

    def op_Cast(self, node, a, x):
        to = _ONNX_DTYPES[a["to"]]
        return x.to(self.dtype if to == "float" else to)

    def op_Expand(self, node, a, x, shape):
        out = torch.broadcast_shapes(tuple(x.shape), tuple(_ints(shape)))
        return x.expand(out)

    def op_Range(self, node, a, start, limit, delta):
        return torch.arange(start.item(), limit.item(), delta.item(), dtype=start.dtype)

    def op_Identity(self, node, a, x):
        return x

    def op_Dropout(self, node, a, x, ratio=None, mode=None):
        return x


# ------------------------------------------------------------------------------ self-test --
def rel_err(y, r):
    """max|y - r| / max|r| per sample (rows), the metric of odlc's harnesses."""
    y = np.asarray(y, dtype=np.float64).reshape(len(r), -1)
    r = np.asarray(r, dtype=np.float64).reshape(len(r), -1)
    scale = np.abs(r).max(1)
    diff = np.abs(y - r).max(1)
    return np.where(scale > 0, diff / np.where(scale > 0, scale, 1), diff)


def check_forward(path, input_bin, expected_bin, tol=1e-5):
    m = OnnxTorch(path)
    shape = m.input_shapes[0]
    per = int(np.prod(shape[1:]))
    x = torch.from_numpy(np.fromfile(input_bin, dtype="<f4").reshape([-1] + shape[1:]))
    exp = np.fromfile(expected_bin, dtype="<f4").reshape(x.shape[0], -1)
    with torch.no_grad():
        y = m(x).reshape(x.shape[0], -1).numpy()
    err = rel_err(y, exp)
    assert per * x.shape[0] == x.numel()
    return float(err.max()), m


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", nargs="?")
    ap.add_argument("input", nargs="?")
    ap.add_argument("expected", nargs="?")
    ap.add_argument("--models", help="check every DIR/*/model.onnx against its expected.bin")
    ap.add_argument("--tol", type=float, default=1e-5)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    jobs = []
    if args.models:
        for name in sorted(os.listdir(args.models)):
            d = os.path.join(args.models, name)
            if os.path.isfile(os.path.join(d, "model.onnx")):
                jobs.append((name, os.path.join(d, "model.onnx"), os.path.join(d, "input.bin"),
                             os.path.join(d, "expected.bin")))
    elif args.expected:
        jobs.append((args.model, args.model, args.input, args.expected))
    else:
        ap.error("give MODEL INPUT EXPECTED or --models DIR")
    bad = 0
    for name, path, inp, exp in jobs:
        err, m = check_forward(path, inp, exp)
        ok = err <= args.tol
        bad += not ok
        print(f"{name}: worst relative error {err:.3e} vs expected.bin "
              f"(BN folded {m.bn_folded}, frozen affine {m.bn_affine}): {'ok' if ok else 'FAIL'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
