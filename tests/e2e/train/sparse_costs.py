#!/usr/bin/python3
"""The sparse update's savings against seed 003 eq. 7-9: compiles models with --sparse none, 1,
0.75 and 0.5 and checks, per trainable layer, memory_plan.json against the formulas:
  eq. 8  kept activation = batch * H_in * W_in * |I| floats (the planned `@kept` buffer),
  eq. 9  backward MACs   = batch * H_out * W_out * k^2 * |I| * |O| for the weight gradient, and
                           the same again for the input gradient unless the layer reads the cut,
  eq. 7  weight-gradient memory: the update is fused (no gradient buffer, dense or sparse) and
                           the input gradient reads W[O, I] four input channels at a time: a
                           scratch of k^2 * |O| * min(4, |I|) floats (depthwise k^2 * min(4, |O|))
                           instead of eq. 7's k^2 * |I| * |O|; both are printed,
with |O| = max(1, round(p * C_out)), |I| = max(1, round(p * C_in)) (depthwise: |I| = 1 per
output channel), the classifier dense; and that the train function's MACs (op table) fall by
exactly the per-layer backward savings. --sparse 1 must equal the dense plan's numbers.
Prints the table (the report's figures) and exits 1 on any mismatch.

    /usr/bin/python3 sparse_costs.py --odlc ODLC --work DIR [--example MODEL.onnx]
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True

import onnx  # noqa: E402
from onnx import shape_inference  # noqa: E402
from op_cases import Builder  # noqa: E402

BATCH = 4
DENSITIES = ["1", "0.75", "0.5"]


def mobile_model(path):
    """Conv 3x3 -> depthwise 3x3 (stride 2) -> pointwise -> GAP -> classifier."""
    b = Builder(np.random.default_rng(3), [1, 8, 12, 12])
    a = b.node("Relu", [b.conv(b.x, 16, 3)])
    d = b.node("Relu", [b.conv(a, 16, 3, group=16, strides=[2, 2])])
    p = b.node("Relu", [b.conv(d, 24, 1)])
    onnx.save(b.model(b.head(b.node("GlobalAveragePool", [p]), 10)), path)


def count(p, c):
    return max(1, min(c, int(np.floor(p * c + 0.5))))


def layers_of(model_path, cut):
    """Conv/Gemm nodes after the cut: name, weight, geometry (per sample), reads_cut."""
    m = shape_inference.infer_shapes(onnx.load(model_path))
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in list(m.graph.value_info) + list(m.graph.input) + list(m.graph.output)}
    inits = {t.name: list(t.dims) for t in m.graph.initializer}
    down, layers = {cut}, []
    for n in m.graph.node:
        if not any(i in down for i in n.input):
            continue
        down.update(n.output)
        if n.op_type not in ("Conv", "Gemm"):
            continue
        w = inits[n.input[1]]
        x, y = shapes[n.input[0]], shapes[n.output[0]]
        if n.op_type == "Conv":
            group = next((a.i for a in n.attribute if a.name == "group"), 1)
            geo = dict(cin=x[1], cout=w[0], hw_in=int(np.prod(x[2:])), hw_out=int(np.prod(y[2:])),
                       taps=int(np.prod(w[2:])), depthwise=group > 1)
        else:
            trans_b = next((a.i for a in n.attribute if a.name == "transB"), 0)
            geo = dict(cin=w[1] if trans_b else w[0], cout=w[0] if trans_b else w[1], hw_in=1,
                       hw_out=1, taps=1, depthwise=False)
        layers.append(dict(name=n.name, weight=n.input[1], reads_cut=n.input[0] == cut, **geo))
    return layers


def expected(layer, p, classifier):
    """Kept floats, backward MACs, eq. 7's weight-gradient floats and odlc's W-chunk scratch
    floats for one layer at p."""
    dense = p is None or classifier
    o = layer["cout"] if dense else count(p, layer["cout"])
    i = layer["cin"] if dense else count(p, layer["cin"])
    per_out = 1 if layer["depthwise"] else i          # input channels per output channel
    wgrad = BATCH * layer["hw_out"] * layer["taps"] * per_out * o
    bwd = wgrad * (1 if layer["reads_cut"] else 2)
    whole = o == layer["cout"] and i == layer["cin"]    # nothing left out: the dense kernels
    eq7 = layer["taps"] * per_out * o
    chunk = 0
    if not (dense or whole or layer["reads_cut"]):
        chunk = layer["taps"] * (min(4, o) if layer["depthwise"] else o * min(4, per_out))
    return BATCH * layer["hw_in"] * i, bwd, eq7, chunk


def compile_plan(odlc, model, cut, sparse, out):
    cmd = [odlc, "compile", model, "-o", out, "--train-from", cut, "--batch", str(BATCH),
           "--replay-samples", "1"] + ([] if sparse is None else ["--sparse", sparse])
    subprocess.run(cmd, check=True)
    with open(os.path.join(out, "memory_plan.json")) as f:
        return json.load(f)


def check_model(odlc, work, label, model, cut):
    layers = layers_of(model, cut)
    plans = {s: compile_plan(odlc, model, cut, s, os.path.join(work, f"{label}_{s or 'none'}"))
             for s in [None] + DENSITIES}
    errors, rows, totals = [], [], []
    dense_train = plans[None]["macs"]["train"]
    dense_bwd = {}
    for s in [None] + DENSITIES:
        plan = plans[s]
        by_weight = {r["weight"]: r for r in plan["layers"]}
        buffers = {b["name"]: b["size"] for b in plan["buffers"]}
        saved = 0
        for k, layer in enumerate(layers):
            classifier = k == len(layers) - 1
            kept, bwd, eq7, chunk = expected(layer, None if s is None else float(s), classifier)
            got = by_weight[layer["weight"]]
            if s is None:
                dense_bwd[layer["weight"]] = got["backward_macs"]
            saved += dense_bwd[layer["weight"]] - got["backward_macs"]
            planned_kept = got["kept_bytes"]
            if s is not None and not classifier and kept < BATCH * layer["hw_in"] * layer["cin"]:
                # the kept channels are a buffer of their own in the plan
                kept_buffers = [v for n, v in buffers.items() if n.endswith("@kept")
                                and v == 4 * kept]
                if not kept_buffers:
                    errors.append(f"{label} p={s} {layer['name']}: no planned @kept buffer of "
                                  f"{4 * kept} bytes")
            scratch = buffers.get(layer["weight"] + "@scratch", 0)
            if scratch != 4 * chunk:
                errors.append(f"{label} p={s} {layer['name']}: W chunk scratch {scratch} B, "
                              f"expected {4 * chunk}")
            if planned_kept != 4 * kept:
                errors.append(f"{label} p={s} {layer['name']}: kept {planned_kept} B, eq. 8 "
                              f"says {4 * kept}")
            if got["backward_macs"] != bwd:
                errors.append(f"{label} p={s} {layer['name']}: backward MACs "
                              f"{got['backward_macs']}, eq. 9 says {bwd}")
            rows.append((label, s or "dense", layer["name"], planned_kept, 4 * kept,
                         got["backward_macs"], bwd, 4 * eq7 if s and not classifier else 0,
                         scratch))
        train = plan["macs"]["train"]
        if dense_train - train != saved:
            errors.append(f"{label} p={s}: train MACs fell by {dense_train - train}, the layers "
                          f"by {saved}")
        if s == "1" and (train != dense_train):
            errors.append(f"{label}: --sparse 1 has {train} train MACs, dense {dense_train}")
        if s == "1" and plan["ram"] != plans[None]["ram"]:
            errors.append(f"{label}: --sparse 1 plans {plan['ram']}, dense {plans[None]['ram']}")
        totals.append((label, s or "dense", plan["ram"]["arena_bytes"],
                       plan["ram"]["lower_bound_bytes"], train))
    return rows, totals, errors


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--odlc", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--example", default=os.path.join(HERE, "..", "..", "..", "examples",
                                                      "fashion_mnist", "model.onnx"))
    args = ap.parse_args(argv)
    os.makedirs(args.work, exist_ok=True)
    mobile = os.path.join(args.work, "mobile.onnx")
    mobile_model(mobile)
    rows, totals, errors = [], [], []
    for label, model, cut in [("fashion_mnist", args.example,
                               "/features/features.3/MaxPool_output_0"),
                              ("mobile", mobile, "input")]:
        r, t, e = check_model(args.odlc, args.work, label, model, cut)
        rows += r
        totals += t
        errors += e
    print("| model | p | layer | kept B (plan) | eq. 8 | backward MACs (op table) | eq. 9 | "
          "weight grad B (eq. 7) | W chunk B (plan) |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print("| " + " | ".join(str(v) for v in r) + " |")
    print()
    print("| model | p | arena B | lower bound B | train MACs |")
    print("|---|---|---:|---:|---:|")
    for t in totals:
        print("| " + " | ".join(str(v) for v in t) + " |")
    for e in errors:
        print("MISMATCH: " + e)
    print(f"sparse costs: {len(rows)} rows, {len(errors)} mismatches")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
