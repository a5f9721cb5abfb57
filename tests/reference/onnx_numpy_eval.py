#!/usr/bin/python3
"""A small, independent ONNX interpreter in NumPy (float64), written from the
ONNX operator specification.  onnx 1.12 has no onnx.reference and no ONNX
runtime is installed, so export_models.py uses this to check that each
exported graph, read the way the spec says, computes what PyTorch computed.

It covers only the operators the reference models use; anything else raises
NotImplementedError.  Floating-point tensors are evaluated in float64, so
the comparison against PyTorch's float32 measures PyTorch's rounding, not
ours.

    /usr/bin/python3 onnx_numpy_eval.py model.onnx input.bin [expected.bin]
"""
import math
import sys

import numpy as np
import onnx
from onnx import numpy_helper, helper


def _attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _f(x):
    """Promote floating tensors to float64, leave integers alone."""
    x = np.asarray(x)
    return x.astype(np.float64) if x.dtype.kind == "f" else x


# ---------------------------------------------------------------- helpers --
def _pool_geometry(in_sz, k, s, d, pb, pe, ceil_mode):
    eff = (k - 1) * d + 1
    span = in_sz + pb + pe - eff
    if ceil_mode:
        out = int(math.ceil(span / s)) + 1
    else:
        out = span // s + 1
    return out


def _windows(x, kernel, strides, dilations, pads, ceil_mode, pad_value):
    """Return (patches, valid) with patches[N, C, oh, ow, kh, kw].
    Explicit pads are filled with pad_value; positions past the padded input
    that a ceil_mode window reaches are marked invalid (valid == False)."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, strides, dilations
    pt, pl, pb, pr = pads[0], pads[1], pads[2], pads[3]
    oh = _pool_geometry(h, kh, sh, dh, pt, pb, ceil_mode)
    ow = _pool_geometry(w, kw, sw, dw, pl, pr, ceil_mode)
    need_h = (oh - 1) * sh + (kh - 1) * dh + 1
    need_w = (ow - 1) * sw + (kw - 1) * dw + 1
    extra_h = max(0, need_h - (h + pt + pb))
    extra_w = max(0, need_w - (w + pl + pr))
    xp = np.full((n, c, h + pt + pb + extra_h, w + pl + pr + extra_w), pad_value, dtype=x.dtype)
    xp[:, :, pt:pt + h, pl:pl + w] = x
    valid = np.zeros(xp.shape[2:], dtype=bool)
    valid[:h + pt + pb, :w + pl + pr] = True
    real = np.zeros(xp.shape[2:], dtype=bool)
    real[pt:pt + h, pl:pl + w] = True
    iy = (np.arange(oh) * sh)[:, None] + (np.arange(kh) * dh)[None, :]   # oh, kh
    ix = (np.arange(ow) * sw)[:, None] + (np.arange(kw) * dw)[None, :]   # ow, kw
    patches = xp[:, :, iy[:, None, :, None], ix[None, :, None, :]]       # n c oh ow kh kw
    v = valid[iy[:, None, :, None], ix[None, :, None, :]]                # oh ow kh kw
    r = real[iy[:, None, :, None], ix[None, :, None, :]]
    return patches, v, r


def _spatial_attrs(a, x, kernel=None):
    nsp = x.ndim - 2
    if nsp != 2:
        raise NotImplementedError("only 2-D spatial ops are supported")
    kernel = list(a.get("kernel_shape", kernel))
    strides = list(a.get("strides", [1] * nsp))
    dil = list(a.get("dilations", [1] * nsp))
    auto_pad = a.get("auto_pad", b"NOTSET")
    if isinstance(auto_pad, bytes):
        auto_pad = auto_pad.decode()
    if auto_pad in ("NOTSET", ""):
        pads = list(a.get("pads", [0] * (2 * nsp)))
    elif auto_pad == "VALID":
        pads = [0] * (2 * nsp)
    else:
        raise NotImplementedError("auto_pad=" + auto_pad)
    return kernel, strides, dil, pads


# -------------------------------------------------------------- operators --
def op_Conv(node, a, x, w, b=None):
    kernel, strides, dil, pads = _spatial_attrs(a, x, w.shape[2:])
    group = a.get("group", 1)
    n, c, _, _ = x.shape
    m = w.shape[0]
    assert c == w.shape[1] * group, (c, w.shape, group)
    patches, _, _ = _windows(x, kernel, strides, dil, pads, False, 0.0)  # n c oh ow kh kw
    _, _, oh, ow, kh, kw = patches.shape
    cg, mg = c // group, m // group
    p = patches.reshape(n, group, cg, oh, ow, kh, kw)
    wg = w.reshape(group, mg, cg, kh, kw)
    y = np.einsum("ngchwij,gmcij->ngmhw", p, wg, optimize=True).reshape(n, m, oh, ow)
    if b is not None:
        y = y + b.reshape(1, m, 1, 1)
    return y


def op_MaxPool(node, a, x):
    if len(node.output) > 1 and node.output[1]:
        raise NotImplementedError("MaxPool indices output")
    if a.get("storage_order", 0):
        raise NotImplementedError("storage_order")
    kernel, strides, dil, pads = _spatial_attrs(a, x)
    patches, valid, _ = _windows(x, kernel, strides, dil, pads, a.get("ceil_mode", 0), -np.inf)
    patches = np.where(valid[None, None], patches, -np.inf)
    return patches.max(axis=(4, 5))


def op_AveragePool(node, a, x):
    kernel, strides, dil, pads = _spatial_attrs(a, x)
    patches, valid, real = _windows(x, kernel, strides, dil, pads, a.get("ceil_mode", 0), 0.0)
    counted = valid if a.get("count_include_pad", 0) else real
    s = np.where(valid[None, None], patches, 0.0).sum(axis=(4, 5))
    return s / counted.sum(axis=(2, 3))[None, None]


def op_GlobalAveragePool(node, a, x):
    return x.mean(axis=tuple(range(2, x.ndim)), keepdims=True)


def op_BatchNormalization(node, a, x, scale, bias, mean, var):
    if a.get("training_mode", 0) or len([o for o in node.output if o]) > 1:
        raise NotImplementedError("BatchNormalization in training mode")
    eps = a.get("epsilon", 1e-5)
    shp = (1, -1) + (1,) * (x.ndim - 2)
    return (x - mean.reshape(shp)) / np.sqrt(var.reshape(shp) + eps) * scale.reshape(shp) \
        + bias.reshape(shp)


def op_Relu(node, a, x):
    return np.maximum(x, 0)


def op_Clip(node, a, x, lo=None, hi=None):
    lo = a.get("min", -np.inf) if lo is None else lo
    hi = a.get("max", np.inf) if hi is None else hi
    return np.minimum(np.maximum(x, lo), hi)


def op_HardSigmoid(node, a, x):
    return np.clip(a.get("alpha", 0.2) * x + a.get("beta", 0.5), 0, 1)


def op_HardSwish(node, a, x):
    return x * np.clip(x / 6.0 + 0.5, 0, 1)


def op_Sigmoid(node, a, x):
    return 1.0 / (1.0 + np.exp(-x))


def op_Add(node, a, x, y):
    return x + y


def op_Sub(node, a, x, y):
    return x - y


def op_Mul(node, a, x, y):
    return x * y


def op_Div(node, a, x, y):
    if x.dtype.kind in "iu" and y.dtype.kind in "iu":
        q = np.abs(x) // np.abs(y)                 # integer Div truncates toward zero
        return (q * np.sign(x) * np.sign(y)).astype(np.result_type(x, y))
    return x / y


def op_ReduceMean(node, a, x, axes_in=None):
    axes = a.get("axes") if axes_in is None else list(axes_in)
    axes = tuple(range(x.ndim)) if axes is None else tuple(int(ax) % x.ndim for ax in axes)
    return x.mean(axis=axes, keepdims=bool(a.get("keepdims", 1)))


def op_Flatten(node, a, x):
    axis = a.get("axis", 1)
    axis = axis + x.ndim if axis < 0 else axis
    lead = int(np.prod(x.shape[:axis])) if axis > 0 else 1
    return x.reshape(lead, -1)


def op_Gemm(node, a, A, B, C=None):
    A = A.T if a.get("transA", 0) else A
    B = B.T if a.get("transB", 0) else B
    y = a.get("alpha", 1.0) * (A @ B)
    if C is not None:
        y = y + a.get("beta", 1.0) * C
    return y


def op_MatMul(node, a, x, y):
    return x @ y


def op_Concat(node, a, *xs):
    return np.concatenate(xs, axis=a["axis"])


def op_Reshape(node, a, x, shape):
    shape = [int(s) for s in shape]
    if not a.get("allowzero", 0):
        shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
    return x.reshape(shape)


def op_Transpose(node, a, x):
    return np.transpose(x, a.get("perm", list(range(x.ndim))[::-1]))


def op_Split(node, a, x, split=None):
    axis = a.get("axis", 0) % x.ndim
    if split is None:
        split = a.get("split")
    nout = len(node.output)
    if split is None:
        assert x.shape[axis] % nout == 0
        split = [x.shape[axis] // nout] * nout
    idx = np.cumsum([int(s) for s in split])[:-1]
    return tuple(np.split(x, idx, axis=axis))


def op_Slice(node, a, x, starts, ends, axes=None, steps=None):
    axes = list(range(len(starts))) if axes is None else [int(v) % x.ndim for v in axes]
    steps = [1] * len(starts) if steps is None else [int(v) for v in steps]
    sl = [slice(None)] * x.ndim
    for st, en, ax, sp in zip(starts, ends, axes, steps):
        dim = x.shape[ax]
        st, en = int(st), int(en)
        # clamp as the spec says (also keeps huge INT64 sentinels harmless)
        st = st + dim if st < 0 else st
        en = en + dim if en < 0 else en
        if sp > 0:
            st, en = min(max(st, 0), dim), min(max(en, 0), dim)
        else:
            st, en = min(max(st, 0), dim - 1), min(max(en, -1), dim - 1)
            en = None if en < 0 else en
        sl[ax] = slice(st, en, sp)
    return x[tuple(sl)]


def op_Shape(node, a, x):
    s = np.array(x.shape, dtype=np.int64)
    start, end = a.get("start", 0), a.get("end", None)
    return s[start:end]


def op_Gather(node, a, x, idx):
    return np.take(x, idx.astype(np.int64), axis=a.get("axis", 0))


def op_Unsqueeze(node, a, x, axes=None):
    axes = a["axes"] if axes is None else [int(v) for v in axes]
    r = x.ndim + len(axes)
    for ax in sorted(int(v) % r for v in axes):
        x = np.expand_dims(x, ax)
    return x


def op_Squeeze(node, a, x, axes=None):
    axes = a.get("axes") if axes is None else [int(v) for v in axes]
    if axes is None:
        return np.squeeze(x)
    return np.squeeze(x, axis=tuple(int(v) % x.ndim for v in axes))


def op_Pad(node, a, x, pads=None, value=None):
    mode = a.get("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    pads = a.get("pads") if pads is None else [int(v) for v in pads]
    value = a.get("value", 0.0) if value is None else float(value)
    r = x.ndim
    if any(p < 0 for p in pads):
        raise NotImplementedError("negative pads")
    width = [(pads[i], pads[i + r]) for i in range(r)]
    if mode == "constant":
        return np.pad(x, width, mode="constant", constant_values=value)
    if mode == "reflect":
        return np.pad(x, width, mode="reflect")
    if mode == "edge":
        return np.pad(x, width, mode="edge")
    raise NotImplementedError("Pad mode " + mode)


def op_Identity(node, a, x):
    return x


def op_Dropout(node, a, x, ratio=None, training_mode=None):
    if training_mode is not None and bool(training_mode):
        raise NotImplementedError("Dropout in training mode")
    mask = np.ones(x.shape, dtype=bool)
    return (x, mask) if len(node.output) > 1 else x


_ONNX_TO_NP = {
    onnx.TensorProto.FLOAT: np.float64, onnx.TensorProto.DOUBLE: np.float64,
    onnx.TensorProto.FLOAT16: np.float64, onnx.TensorProto.INT64: np.int64,
    onnx.TensorProto.INT32: np.int32, onnx.TensorProto.BOOL: np.bool_,
    onnx.TensorProto.INT8: np.int8, onnx.TensorProto.UINT8: np.uint8,
}


def op_Cast(node, a, x):
    return x.astype(_ONNX_TO_NP[a["to"]])


def op_Constant(node, a):
    if "value" in a:
        return _f(numpy_helper.to_array(a["value"]))
    for k in ("value_float", "value_int"):
        if k in a:
            return _f(np.array(a[k]))
    for k in ("value_floats", "value_ints"):
        if k in a:
            return _f(np.array(a[k]))
    raise NotImplementedError("Constant " + ",".join(a))


OPS = {k[3:]: v for k, v in globals().items() if k.startswith("op_")}


def _declared_shapes(model):
    g = model.graph
    out = {}
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        t = vi.type.tensor_type
        if t.HasField("shape"):
            dims = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
            out[vi.name] = dims
    return out


def run(model, feeds, check_shapes=False, return_all=False):
    """Evaluate `model` (ModelProto) on `feeds` {name: ndarray}.
    Returns {output name: float64 ndarray}; with return_all, every value.
    With check_shapes, each computed tensor is checked against any shape the
    model declares for it (inputs, outputs, value_info)."""
    g = model.graph
    env = {}
    for init in g.initializer:
        env[init.name] = _f(numpy_helper.to_array(init))
    for k, v in feeds.items():
        env[k] = _f(v)
    declared = _declared_shapes(model) if check_shapes else {}
    for node in g.node:
        if node.domain not in ("", "ai.onnx"):
            raise NotImplementedError(f"domain {node.domain}")
        fn = OPS.get(node.op_type)
        if fn is None:
            raise NotImplementedError(f"op {node.op_type}")
        args = [env[i] if i else None for i in node.input]
        while args and args[-1] is None:
            args.pop()
        res = fn(node, _attrs(node), *args)
        if not isinstance(res, tuple):
            res = (res,)
        for name, val in zip(node.output, res):
            if not name:
                continue
            val = np.asarray(val)
            env[name] = val
            want = declared.get(name)
            if want is not None and (len(want) != val.ndim or any(
                    w is not None and w != s for w, s in zip(want, val.shape))):
                raise AssertionError(f"{node.op_type} -> {name}: shape {val.shape}, declared {want}")
    if return_all:
        return env
    return {o.name: env[o.name] for o in g.output}


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    model = onnx.load(argv[1])
    inp = model.graph.input[0]
    shape = [d.dim_value for d in inp.type.tensor_type.shape.dim]
    per = int(np.prod(shape))
    xs = np.fromfile(argv[2], dtype="<f4")
    n = xs.size // per
    ys = [run(model, {inp.name: xs[i * per:(i + 1) * per].reshape(shape)})[model.graph.output[0].name]
          for i in range(n)]
    got = np.concatenate([y.ravel() for y in ys])
    if len(argv) > 3:
        exp = np.fromfile(argv[3], dtype="<f4").astype(np.float64)
        err = np.abs(got - exp).max()
        print(f"{n} probes, max |onnx - expected| = {err:.3g}")
        return 0 if err <= 1e-4 * max(1.0, np.abs(exp).max()) else 1
    np.savetxt(sys.stdout, got.reshape(n, -1), fmt="%.6g")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
