#!/usr/bin/python3
"""Export odlc's reference CNNs (models.py) to ONNX with probe inputs and
the PyTorch eval-mode outputs.

    /usr/bin/python3 tests/reference/export_models.py --out DIR [--models a,b] [--probes N]

For every model NAME this writes
    DIR/NAME/model.onnx     torch.onnx.export, eval mode, static batch 1
    DIR/NAME/input.bin      N probes, float32 little-endian, 1x3x32x32 each, concatenated
    DIR/NAME/expected.bin   N outputs of the eval-mode PyTorch model, float32 LE, 1x10 each
    DIR/NAME/info.json      shapes, parameter count, MACs, opset, ONNX op counts, ...

Output is deterministic: the same command gives byte-identical files.
Each exported graph is checked with onnx.checker (full check) and
onnx.shape_inference (strict, data_prop); every tensor must have a static
shape.  The ONNX graph is also run by the independent NumPy interpreter in
onnx_numpy_eval.py (written from the ONNX operator spec, since onnx 1.12 has
no onnx.reference) and compared against the PyTorch outputs on every probe.
"""
import argparse
import collections
import copy
import hashlib
import io
import json
import os
import sys
import time
import warnings

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import models  # noqa: E402
import onnx_numpy_eval  # noqa: E402

import onnx  # noqa: E402
from onnx import shape_inference  # noqa: E402


def set_determinism():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    np.random.seed(0)
    torch.manual_seed(0)


def f32le_bytes(tensors):
    return b"".join(t.detach().numpy().astype("<f4").tobytes() for t in tensors)


def export_onnx(model, example, spec):
    mode = torch.onnx.TrainingMode.PRESERVE if spec["keep_bn"] else torch.onnx.TrainingMode.EVAL
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (example,), buf,
            export_params=True,
            opset_version=spec["opset"],
            training=mode,
            do_constant_folding=spec["fold_constants"],
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes=None,
        )
    return buf.getvalue()


def static_shape_problems(model_proto):
    """Names of graph values whose shape is unknown or has a non-static dim."""
    g = model_proto.graph
    bad = []
    known = set()
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        known.add(vi.name)
        t = vi.type.tensor_type
        if not t.HasField("shape"):
            bad.append(vi.name + " (no shape)")
            continue
        for d in t.shape.dim:
            if not d.HasField("dim_value") or d.dim_value <= 0:
                bad.append(vi.name + " (dim %r)" % (d.dim_param or "?"))
                break
    inits = {i.name for i in g.initializer}
    for node in g.node:
        for o in node.output:
            if o and o not in known and o not in inits:
                bad.append(o + " (no value_info)")
    return bad


def export_one(name, out_dir, n_probes):
    spec = models.MODELS[name]
    t0 = time.time()
    model = models.build(name)
    assert not model.training
    params = models.param_count(model)
    if params > models.MAX_PARAMS:
        raise RuntimeError(f"{name}: {params} parameters > {models.MAX_PARAMS}")
    macs = models.count_macs(model)
    n_bn_torch = sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())

    probes = models.sample_inputs(spec["seed"] + 1000, n_probes)
    with torch.no_grad():
        outs = [model(x) for x in probes]
    for y in outs:
        assert tuple(y.shape) == (1, models.NUM_CLASSES), y.shape
        assert torch.isfinite(y).all()

    # how far PyTorch's own float32 result is from the same model in float64:
    # a yardstick for the tolerance a float32 compiler can be held to
    m64 = copy.deepcopy(model).double()
    with torch.no_grad():
        f32_vs_f64 = max(float((m64(x.double()) - y.double()).abs().max()) for x, y in zip(probes, outs))
    del m64

    onnx_bytes = export_onnx(model, probes[0], spec)
    # the export must not have changed the module (mode, BN stats)
    assert not model.training
    with torch.no_grad():
        for x, y in zip(probes, outs):
            assert torch.equal(model(x), y), "model changed during export"

    proto = onnx.load_from_string(onnx_bytes)
    onnx.checker.check_model(proto, full_check=True)
    assert len(proto.graph.input) == 1, "initializers must not be graph inputs"
    for vi in list(proto.graph.input) + list(proto.graph.output):
        dims = vi.type.tensor_type.shape.dim
        assert all(d.HasField("dim_value") and d.dim_value > 0 for d in dims), \
            f"{name}: dynamic dim in graph {vi.name}"
    inferred = shape_inference.infer_shapes(proto, check_type=True, strict_mode=True, data_prop=True)
    in_shape = [d.dim_value for d in inferred.graph.input[0].type.tensor_type.shape.dim]
    out_shape = [d.dim_value for d in inferred.graph.output[0].type.tensor_type.shape.dim]
    assert in_shape == list(models.INPUT_SHAPE), in_shape
    assert out_shape == [1, models.NUM_CLASSES], out_shape

    # Run the graph with the independent NumPy interpreter: checks every
    # computed shape against what onnx.shape_inference declared, gives the
    # concrete shape of every value, and cross-checks the numbers.
    values = onnx_numpy_eval.run(inferred, {"input": probes[0].numpy()}, check_shapes=True,
                                 return_all=True)
    # onnx.shape_inference (even with data_prop) cannot see through Reshape
    # targets built from Constant -> Unsqueeze -> Concat, as emitted with
    # do_constant_folding=False.  Those shapes are still static: fill them in
    # from the interpreter and let strict shape inference re-check the whole
    # graph for consistency.
    unresolved = static_shape_problems(inferred)
    if unresolved:
        annotated = onnx.ModelProto()
        annotated.CopyFrom(proto)
        for node in proto.graph.node:
            for o in node.output:
                if o and o in values:
                    v = values[o]
                    elem = onnx.TensorProto.INT64 if v.dtype.kind in "iu" else onnx.TensorProto.FLOAT
                    if v.dtype == np.bool_:
                        elem = onnx.TensorProto.BOOL
                    annotated.graph.value_info.append(
                        onnx.helper.make_tensor_value_info(o, elem, list(v.shape)))
        reinferred = shape_inference.infer_shapes(annotated, check_type=True, strict_mode=True,
                                                  data_prop=True)
        left = static_shape_problems(reinferred)
        if left:
            raise RuntimeError(f"{name}: non-static shapes: {left[:10]}")
        onnx_numpy_eval.run(reinferred, {"input": probes[0].numpy()}, check_shapes=True)

    op_counts = collections.Counter(n.op_type for n in proto.graph.node)
    opset = {o.domain or "ai.onnx": o.version for o in proto.opset_import}
    n_bn_onnx = op_counts.get("BatchNormalization", 0)
    if spec["keep_bn"] and n_bn_onnx != n_bn_torch:
        raise RuntimeError(f"{name}: expected {n_bn_torch} BatchNormalization nodes, got {n_bn_onnx}")
    weight_values = sum(int(np.prod(i.dims)) for i in proto.graph.initializer)

    max_err, max_rel = 0.0, 0.0
    for x, y in zip(probes, outs):
        got = onnx_numpy_eval.run(proto, {"input": x.numpy()})["logits"]
        ref = y.numpy().astype(np.float64)
        err = float(np.abs(got - ref).max())
        max_err = max(max_err, err)
        max_rel = max(max_rel, err / max(1e-6, float(np.abs(ref).max())))
    if max_rel > 1e-4:
        raise RuntimeError(f"{name}: ONNX (numpy interpreter) differs from PyTorch: "
                           f"max abs {max_err:.3g}, rel {max_rel:.3g}")
    verify_info = {"evaluator": "onnx_numpy_eval.py (float64)",
                   "max_abs_err_vs_torch": float("%.3g" % max_err),
                   "max_rel_err_vs_torch": float("%.3g" % max_rel)}
    shape_info = collections.OrderedDict([
        ("all_static", True),
        ("values_unshaped_by_onnx_shape_inference", len(unresolved)),
        ("note", "static only after constant-propagating the shape subgraphs "
                 "(onnx.shape_inference leaves them unknown)" if unresolved else
                 "onnx.shape_inference gives a static shape for every value"),
    ])

    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    files = {
        "model.onnx": onnx_bytes,
        "input.bin": f32le_bytes(probes),
        "expected.bin": f32le_bytes(outs),
    }
    for fn, data in files.items():
        with open(os.path.join(d, fn), "wb") as f:
            f.write(data)

    y_all = torch.cat(outs)
    info = collections.OrderedDict([
        ("name", name),
        ("source", spec["source"]),
        ("covers", spec["covers"]),
        ("input_name", "input"),
        ("output_name", "logits"),
        ("input_shape", list(models.INPUT_SHAPE)),
        ("output_shape", [1, models.NUM_CLASSES]),
        ("dtype", "float32"),
        ("layout", "NCHW"),
        ("num_probes", n_probes),
        ("probe_kinds", [models.INPUT_KINDS[k % 4] for k in range(n_probes)]),
        ("param_count", params),
        ("macs", macs),
        ("macs_note", "multiply-accumulates of Conv2d and Linear layers, batch 1"),
        ("onnx_weight_values", weight_values),
        ("opset", opset.get("ai.onnx")),
        ("opset_import", opset),
        ("ir_version", proto.ir_version),
        ("onnx_ops", dict(sorted(op_counts.items()))),
        ("onnx_node_count", len(proto.graph.node)),
        ("batchnorm_modules_in_torch", n_bn_torch),
        ("batchnorm_nodes_in_onnx", n_bn_onnx),
        ("export", collections.OrderedDict([
            ("training", "PRESERVE (module in eval mode)" if spec["keep_bn"] else "EVAL"),
            ("do_constant_folding", spec["fold_constants"]),
            ("torch", torch.__version__),
            ("onnx", onnx.__version__),
        ])),
        ("seed", spec["seed"]),
        ("expected_stats", {
            "min": round(float(y_all.min()), 4),
            "max": round(float(y_all.max()), 4),
            "std": round(float(y_all.std()), 4),
            "argmax": [int(i) for i in y_all.argmax(1)],
        }),
        ("torch_float32_vs_float64_max_abs", float("%.3g" % f32_vs_f64)),
        ("shapes", shape_info),
        ("onnx_vs_torch", verify_info),
        ("sha256", {fn: hashlib.sha256(data).hexdigest() for fn, data in files.items()}),
    ])
    with open(os.path.join(d, "info.json"), "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")
    return info, time.time() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--models", default=",".join(models.DEFAULT_MODELS),
                    help="comma-separated subset of: " + ",".join(models.MODELS))
    ap.add_argument("--probes", type=int, default=4, help="probe inputs per model (default 4)")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args(argv)

    names = [n for n in args.models.split(",") if n]
    unknown = [n for n in names if n not in models.MODELS]
    if unknown:
        ap.error("unknown model(s): %s (known: %s)" % (",".join(unknown), ",".join(models.MODELS)))
    if args.probes < 1:
        ap.error("--probes must be >= 1")

    set_determinism()
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()
    for name in names:
        info, dt = export_one(name, args.out, args.probes)
        if not args.quiet:
            ops = " ".join(f"{k}:{v}" for k, v in info["onnx_ops"].items())
            err = " max|onnx-torch|=%.2g" % info["onnx_vs_torch"]["max_abs_err_vs_torch"]
            print(f"{name:18s} opset {info['opset']:2d} params {info['param_count']:7d} "
                  f"MACs {info['macs']:9d} BN {info['batchnorm_nodes_in_onnx']:2d}/"
                  f"{info['batchnorm_modules_in_torch']:2d}{err} ({dt:.1f}s)\n    {ops}")
    if not args.quiet:
        print(f"wrote {len(names)} models to {args.out} in {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
