#!/usr/bin/python3
"""PyTorch reference of odlc's model_train_step (DESIGN.md 4.3): K plain SGD steps on the
trainable tail of an ONNX model, with odlc's semantics (onnx_torch.py), and the files
tests/e2e/train/check_training.c compares odlc's compiled model against.

    /usr/bin/python3 train_reference.py --model M.onnx --cut NAME --steps K --batch B --lr X
        [--momentum M] --out DIR [--seed S] [--probes P] [--plan OUT/memory_plan.json]
        [--dtype float32|float64] [--no-yardstick]

Data (deterministic in --seed): inputs ~ N(0, 1) shaped like the model input, labels uniform
in [0, classes), probes ~ N(0, 1). Step k trains on samples [k*B, (k+1)*B) with
torch.optim.SGD(lr, momentum) on the mean CrossEntropyLoss of the logits (the input of a final
Softmax, as odlc fuses it).

DIR receives (float32 / int32 little-endian, samples concatenated):
    train_inputs.bin        K*B input samples          train_labels.bin   K*B labels (int32)
    probes.bin              P probe inputs
    probes_before.bin       the ONNX outputs on the probes before training
    probes_expected.bin     ... after training
    losses.bin              the loss of every step (K floats)
    weights_before.bin      the trainable weights before / after training, in odlc's checkpoint
    weights_after.bin       order (train.trainable of --plan; else the graph's order), each
                            tensor flattened row-major
    trajectory.bin          the weights after each step 1..K-1 (K-1 checkpoints; with
                            weights_before and weights_after, the whole trajectory)
    update_expected.bin     weights_before - weights_after; for one step without momentum the
                            exact lr * gradient from autograd (float32)
    tensors.txt             one line per trainable tensor: element count, name
    meta.txt                "steps K", "batch B", "noise N" and "momentum M" lines (read by
                            check_training.c)
    reference.json          the settings, sizes and the yardstick below
Yardstick (unless --no-yardstick): the same training in float64, and in float32 from trainable
weights perturbed by a relative 1e-5 (three draws; 10x the differences odlc's float32 shows in
one step): how far the result moves under rounding-sized changes. "noise" is the largest
relative difference of the final probes or of a final weight tensor among them: when it is not
far below the test tolerance the K-step trajectory is chaotic (ReLU/clip/max-pool decisions
flip, divergent SGD) and its end point cannot be compared with another implementation;
check_training.c then checks every step from the reference's weights (trajectory.bin) instead.
--plan: the names in train.trainable must be exactly the tensors that train here, else the
script fails (odlc and the reference disagree on what trains). Plan names that are not ONNX
weight names are paired with the reference's leftover tensors (graph order, same size) and
listed in reference.json's plan_name_mismatch, which the tests count as a failure.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True

import onnx  # noqa: E402
import onnx_torch  # noqa: E402

# The yardstick's perturbation: 10x the relative differences odlc's float32 arithmetic shows
# against PyTorch's in one step (~1e-6), so that a trajectory whose end point depends on rounding
# decisions (a ReLU or max-pool choice that flips) is caught with a margin.
PERTURBATION = 1e-5
PERTURBED_RUNS = 3


class PlanMismatch(RuntimeError):
    pass


def set_determinism():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(0)


def num_classes(model):
    return int(model.output_shapes[0][-1])


def make_data(model, steps, batch, probes, seed):
    shape = model.input_shapes[0][1:]
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randn([steps * batch] + shape, generator=g)
    classes = num_classes(model)
    labels = torch.randint(0, classes, (steps * batch,), generator=g, dtype=torch.int64)
    probe_x = torch.randn([probes] + shape, generator=g)
    return inputs, labels, probe_x, classes


def order_from_plan(model, plan_path):
    """The trainable tensors in odlc's checkpoint order (train.trainable of the plan), as names
    of model.trainable, and the plan names that are not ONNX weight names. Such a name is
    paired with the reference's unmatched tensors in graph order when their sizes agree (so the
    numbers can still be compared); anything else is a PlanMismatch."""
    with open(plan_path) as f:
        plan = json.load(f)
    names = list(plan["train"]["trainable"])
    sizes = {b["name"]: b.get("size") for b in plan.get("buffers", [])}
    mine = list(model.trainable)
    unknown = [n for n in names if n not in model.trainable]
    extra = [n for n in mine if n not in names]
    problem = None
    if len(set(names)) != len(names):
        problem = "train.trainable lists a tensor twice"
    elif len(unknown) != len(extra):
        problem = "different tensors"
    renamed = {}
    if problem is None and unknown:
        for u, e in zip(unknown, extra):
            size = sizes.get(u)
            if size is not None and size != 4 * model.trainable[e].numel():
                problem = f"'{u}' has {size} bytes, '{e}' {4 * model.trainable[e].numel()}"
                break
            renamed[u] = e
    if problem is not None:
        raise PlanMismatch(
            f"{problem}: odlc trains {len(names)} tensors, the reference {len(mine)}: only odlc: "
            f"{unknown}, only the reference: {extra}")
    return [renamed.get(n, n) for n in names], renamed


def train(model, inputs, labels, steps, batch, lr, momentum, probe_x, names=None):
    """Returns (losses, grads of step 0, probes before, probes after, flat weights after each
    step in `names` order (when names is given))."""
    params = list(model.trainable.values())
    opt = torch.optim.SGD(params, lr=lr, momentum=momentum)
    dt = model.dtype
    with torch.no_grad():
        before = model(probe_x.to(dt))
    latents = model.latents(inputs[:steps * batch].to(dt))   # the frozen prefix, once
    losses, grad0, trajectory = [], None, []
    for k in range(steps):
        y = labels[k * batch:(k + 1) * batch]
        opt.zero_grad(set_to_none=False)
        z = model.tail_logits(latents[k * batch:(k + 1) * batch])
        loss = F.cross_entropy(z, y)
        loss.backward()
        if k == 0:
            grad0 = {n: p.grad.detach().clone() for n, p in model.trainable.items()}
        opt.step()
        losses.append(float(loss))
        if names is not None:
            trajectory.append(flat(model.trainable, names))
    with torch.no_grad():
        after = model(probe_x.to(dt))
    return losses, grad0, before, after, trajectory


def flat(tensors, names):
    return np.concatenate([tensors[n].detach().double().numpy().reshape(-1) for n in names]) \
        if names else np.zeros(0)


def rel(a, b):
    """max|a-b|/max|b| (max|a-b| when b is all 0; inf when a or b is not finite)."""
    a, b = np.asarray(a, np.float64).reshape(-1), np.asarray(b, np.float64).reshape(-1)
    if a.size == 0:
        return 0.0
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return float("inf")
    s = np.abs(b).max()
    d = np.abs(a - b).max()
    return float(d / s) if s > 0 else float(d)


def probes_rel(a, b):
    a, b = a.detach().double().numpy(), b.detach().double().numpy()
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return float("inf")
    return float(onnx_torch.rel_err(a, b).max())


def write_f32(path, arr):
    np.asarray(arr, dtype=np.float64).astype("<f4").tofile(path)


def yardstick(proto, cut, inputs, labels, steps, batch, lr, momentum, probe_x, names, ref):
    """How far the final state moves under rounding-sized changes (module docstring)."""
    losses, after, w1 = ref
    out = {}
    m64 = onnx_torch.OnnxTorch(proto, cut=cut, dtype=torch.float64)
    l64, _, _, a64, _ = train(m64, inputs, labels, steps, batch, lr, momentum, probe_x)
    out["float64"] = {
        "probes": probes_rel(after, a64),
        "weights_worst_tensor": max([rel(flat(w1, [n]), flat(m64.trainable, [n]))
                                     for n in names] or [0.0]),
        "loss": max(abs(a - b) / max(abs(b), 1e-30) for a, b in zip(losses, l64)),
    }
    for r in range(PERTURBED_RUNS):
        m = onnx_torch.OnnxTorch(proto, cut=cut)
        g = torch.Generator().manual_seed(1000 + r)
        with torch.no_grad():
            for p in m.trainable.values():
                p.mul_(1 + PERTURBATION * torch.randn(p.shape, generator=g))
        _, _, _, ap, _ = train(m, inputs, labels, steps, batch, lr, momentum, probe_x)
        out[f"perturbed_{r}"] = {
            "probes": probes_rel(after, ap),
            "weights_worst_tensor": max([rel(flat(w1, [n]), flat(m.trainable, [n]))
                                         for n in names] or [0.0]),
        }
    out["noise"] = max(max(v["probes"], v["weights_worst_tensor"]) for v in out.values())
    return out


def run(model_path, cut, steps, batch, lr, out, momentum=0.0, seed=1, probes=8, plan=None,
        dtype="float32", yardstick_runs=True, proto=None):
    """Writes the reference files to `out` (see the module docstring); returns the summary
    that goes to reference.json."""
    set_determinism()
    proto = proto if proto is not None else onnx.load(model_path)
    tdt = torch.float64 if dtype == "float64" else torch.float32
    model = onnx_torch.OnnxTorch(proto, cut=cut, dtype=tdt)
    names, renamed = order_from_plan(model, plan) if plan else (list(model.trainable), {})
    inputs, labels, probe_x, classes = make_data(model, steps, batch, probes, seed)
    w0 = {n: p.detach().clone() for n, p in model.trainable.items()}
    losses, grad0, before, after, trajectory = train(model, inputs, labels, steps, batch, lr,
                                                     momentum, probe_x, names)
    w1 = {n: p.detach().clone() for n, p in model.trainable.items()}

    os.makedirs(out, exist_ok=True)
    write_f32(os.path.join(out, "train_inputs.bin"), inputs.numpy())
    labels.numpy().astype("<i4").tofile(os.path.join(out, "train_labels.bin"))
    write_f32(os.path.join(out, "probes.bin"), probe_x.numpy())
    write_f32(os.path.join(out, "probes_before.bin"), before.detach().double().numpy())
    write_f32(os.path.join(out, "probes_expected.bin"), after.detach().double().numpy())
    write_f32(os.path.join(out, "losses.bin"), np.array(losses))
    before_w, after_w = flat(w0, names), flat(w1, names)
    write_f32(os.path.join(out, "weights_before.bin"), before_w)
    write_f32(os.path.join(out, "weights_after.bin"), after_w)
    write_f32(os.path.join(out, "trajectory.bin"),
              np.concatenate(trajectory[:-1]) if steps > 1 else np.zeros(0))
    if steps == 1 and momentum == 0.0:
        update = np.concatenate([(lr * grad0[n]).to(torch.float32).double().numpy().reshape(-1)
                                 for n in names]) if names else np.zeros(0)
    else:
        update = before_w - after_w
    write_f32(os.path.join(out, "update_expected.bin"), update)
    plan_names = {v: k for k, v in renamed.items()}
    with open(os.path.join(out, "tensors.txt"), "w") as f:
        for n in names:
            f.write(f"{w0[n].numel()} {n}" + (f" (odlc: {plan_names[n]})" if n in plan_names
                                              else "") + "\n")

    summary = {
        "model": os.path.abspath(model_path) if model_path else None, "cut": cut,
        "steps": steps, "batch": batch, "lr": lr, "momentum": momentum, "seed": seed,
        "probes": probes, "dtype": dtype, "classes": classes,
        "trainable_tensors": len(names), "trainable_params": int(before_w.size),
        "order": "plan" if plan else "graph", "losses": losses,
        "finite": bool(np.isfinite(after_w).all() and np.isfinite(losses).all()),
        "bn_folded": model.bn_folded, "bn_frozen_affine": model.bn_affine,
        # plan names that are not the ONNX weight names (paired by graph order and size)
        "plan_name_mismatch": renamed,
    }
    noise = 0.0
    if yardstick_runs and dtype == "float32":
        y = yardstick(proto, cut, inputs, labels, steps, batch, lr, momentum, probe_x, names,
                      (losses, after, w1))
        summary["yardstick"] = y
        noise = y["noise"]
    with open(os.path.join(out, "meta.txt"), "w") as f:
        f.write(f"steps {steps}\nbatch {batch}\nnoise {noise:.6e}\nmomentum {momentum}\n")
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(summary, f, indent=1)
    return summary


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--cut", required=True, help="tensor name (or the graph input's name)")
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--batch", type=int, required=True, help="samples per step")
    ap.add_argument("--lr", type=float, required=True)
    ap.add_argument("--momentum", type=float, default=0.0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--probes", type=int, default=8)
    ap.add_argument("--plan", help="odlc's memory_plan.json: checkpoint order of train.trainable")
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    ap.add_argument("--no-yardstick", action="store_true",
                    help="skip the float64 and perturbed reruns (noise 0 in meta.txt)")
    args = ap.parse_args(argv)
    try:
        s = run(args.model, args.cut, args.steps, args.batch, args.lr, args.out,
                momentum=args.momentum, seed=args.seed, probes=args.probes, plan=args.plan,
                dtype=args.dtype, yardstick_runs=not args.no_yardstick)
    except PlanMismatch as e:
        print(f"train_reference: {e}", file=sys.stderr)
        return 1
    y = s.get("yardstick")
    print(f"train_reference: {s['trainable_tensors']} tensors, {s['trainable_params']} params, "
          f"losses {s['losses'][0]:.4f} -> {s['losses'][-1]:.4f}"
          + (f"; float64 probes {y['float64']['probes']:.2e}, noise {y['noise']:.2e}" if y
             else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
