#!/usr/bin/python3
"""--channel-policy velocity (NEq, seed 004) against PyTorch: a small CNN trained by odlc's
model_learn for several epochs with the velocity policy, and the same training in PyTorch with
the same masks and the same selection rule, implemented here from the specification
(runtime/odlc_learn.h), not from odlc's code:
  - model_learn's batches: odlc's xorshift32 permutation i -> (a * j + b) mod n per epoch;
  - a step: mean cross-entropy over the batch; the gradient arriving at a sparse layer's
    output is zero outside its selected channels O, the gradient it passes back zero outside
    its input channels I, its weight gradient zero outside [O, I] (bias outside O); SGD;
  - a channel's signature: its spatial mean output (the conv's output) for each of the first
    min(n, 8) new samples, recorded when the sample passes the training forward;
  - at each epoch end: phi = cosine similarity with the previous epoch's signature, from the
    third epoch velocity = (phi - phi_prev) - 0.5 * velocity_prev and O = the |O| - |O| // 4
    channels of largest |velocity| (ties: lower channel) plus |O| // 4 others in cyclic turn.
Checks: every trained weight within 1e-3 (max |a - r| / max |r| per tensor) on the host and the
given QEMU targets, and that the selection really changed during training (else the test
could not fail on a broken re-selection). Prints the selections per epoch.

    /usr/bin/python3 velocity_case.py --odlc ODLC --work DIR [--targets cortex-m4,rv32imafc]
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
BOARDS = os.path.join(HERE, "..", "..", "..", "examples", "boards")
SAMPLES, EPOCHS, BATCH, LR, P, PROBES, MU = 12, 7, 4, 0.1, "0.5", 8, 0.5
TOLERANCE = 1e-3


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(4, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 10, 3, padding=1)
        self.fc = nn.Linear(10, 5)

    def internals(self, x):
        """The logits and the tensors the reference masks and signs."""
        y1 = self.conv1(x)
        x2 = F.relu(y1)
        y2 = self.conv2(x2)
        z = F.relu(y2).mean(dim=(2, 3))
        return self.fc(z), (y1, x2, y2)

    def forward(self, x):
        return self.internals(x)[0]


def xorshift(state):
    x = state[0]
    x ^= (x << 13) & 0xFFFFFFFF
    x ^= x >> 17
    x ^= (x << 5) & 0xFFFFFFFF
    state[0] = x
    return x


def rand(state, bound):
    return 0 if bound == 0 else xorshift(state) % bound


def permutation(state, n):
    a = 1
    if n > 1:
        while True:
            a = 1 + rand(state, n - 1)
            if np.gcd(a, n) == 1:
                break
    b = rand(state, n)
    return [(a * j + b) % n for j in range(n)]


def select(velocity, count, cursor):
    """The fastest count - count // 4 channels, then count // 4 in turn from cursor."""
    order = sorted(range(len(velocity)), key=lambda c: (-abs(float(velocity[c])), c))
    chosen = order[:count - count // 4]
    c = cursor
    while len(chosen) < count:
        if c not in chosen:
            chosen.append(c)
            cursor = (c + 1) % len(velocity)
        c = (c + 1) % len(velocity)
    return sorted(chosen), cursor


def reference(model, inputs, labels, sparse):
    """PyTorch's model_learn with the velocity policy: the trained weights and the selections."""
    layers = [("conv1", model.conv1), ("conv2", model.conv2)]
    out = {name: list(sparse[f"{name}.weight"]["out_channels"]) for name, _ in layers}
    inn = {name: list(sparse[f"{name}.weight"]["in_channels"]) for name, _ in layers}
    probes = min(SAMPLES, PROBES)
    sig = {name: np.zeros((probes, m.out_channels), np.float32) for name, m in layers}
    prev = {name: np.zeros_like(sig[name]) for name in sig}
    phi = {name: np.zeros(m.out_channels, np.float32) for name, m in layers}
    vel = {name: np.zeros(m.out_channels, np.float32) for name, m in layers}
    state = [0x6F646C63]
    cursor = {name: 0 for name, _ in layers}
    history = [dict(out)]
    x_all = torch.tensor(inputs)
    y_all = torch.tensor(labels, dtype=torch.long)
    for epoch in range(1, EPOCHS + 1):
        order = permutation(state, SAMPLES)
        for start in range(0, SAMPLES, BATCH):
            rows = order[start:start + BATCH]
            logits, (y1, x2, y2) = model.internals(x_all[rows])
            for name, y in (("conv1", y1), ("conv2", y2)):
                means = y.detach().mean(dim=(2, 3)).numpy()
                for r, i in enumerate(rows):
                    if i < probes:
                        sig[name][i] = means[r]
            masks = {}
            for name, m in layers:
                o = torch.zeros(m.out_channels)
                o[out[name]] = 1
                i_ = torch.zeros(m.in_channels)
                i_[inn[name]] = 1
                masks[name] = (o, i_)
            y1.register_hook(lambda g: g * masks["conv1"][0].view(1, -1, 1, 1))
            y2.register_hook(lambda g: g * masks["conv2"][0].view(1, -1, 1, 1))
            x2.register_hook(lambda g: g * masks["conv2"][1].view(1, -1, 1, 1))
            loss = F.cross_entropy(logits, y_all[rows])
            model.zero_grad()
            loss.backward()
            with torch.no_grad():
                for name, m in layers:
                    o, i_ = masks[name]
                    m.weight.grad *= (o.view(-1, 1) * i_.view(1, -1)).view(
                        m.out_channels, m.in_channels, 1, 1)
                    m.bias.grad *= o
                for prm in model.parameters():
                    prm -= LR * prm.grad
        for name, m in layers:
            if epoch >= 2:
                a, b = sig[name][:probes], prev[name][:probes]
                dot = (a * b).sum(0, dtype=np.float32)
                na, nb = np.sqrt((a * a).sum(0)), np.sqrt((b * b).sum(0))
                new_phi = np.where(na * nb > 0, dot / np.maximum(na * nb, 1e-30),
                                   np.where((na == 0) & (nb == 0), 1.0, 0.0)).astype(np.float32)
                if epoch >= 3:
                    vel[name] = (new_phi - phi[name]) - MU * vel[name]
                phi[name] = new_phi
            if epoch >= 3:
                out[name], cursor[name] = select(vel[name], len(out[name]), cursor[name])
            prev[name] = sig[name].copy()
        history.append(dict(out))
    return model, history


def write_data(path, inputs, labels):
    with open(path, "w") as f:
        f.write(f"#define VELOCITY_SAMPLES {SAMPLES}\n#define VELOCITY_EPOCHS {EPOCHS}\n")
        f.write("static const float kInputs[] = {\n")
        f.write(",\n".join(f"  {float(v).hex()}" for v in inputs.ravel()) + "};\n")
        f.write("static const int32_t kLabels[] = {" + ", ".join(map(str, labels)) + "};\n")


def run_target(odlc, onnx_path, work, target):
    out = os.path.join(work, f"out_{target}")
    subprocess.run([odlc, "compile", onnx_path, "-o", out, "--target", target,
                    "--train-from", "input", "--batch", str(BATCH), "--lr", str(LR),
                    "--replay-samples", "4", "--sparse", P, "--channel-policy", "velocity"],
                   check=True)
    elf = os.path.join(work, f"fw_{target}.elf")
    sources = sorted(os.path.join(out, f) for f in os.listdir(out) if f.endswith(".c"))
    subprocess.run([os.path.join(BOARDS, "build.sh"), target, "-o", elf, "--cflags",
                    f"-I{out} -I{work}", *sources, os.path.join(HERE, "velocity_main.c")],
                   check=True)
    run = subprocess.run([os.path.join(BOARDS, "run.sh"), target, elf], capture_output=True,
                         text=True)
    if run.returncode != 0:
        sys.exit(f"velocity: {target} run failed: {run.stdout}{run.stderr}")
    weights = [float.fromhex(l.split()[2]) for l in run.stdout.splitlines()
               if l.startswith("w ")]
    with open(os.path.join(out, "memory_plan.json")) as f:
        plan = json.load(f)
    return np.array(weights, np.float32), plan


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--odlc", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--targets", default="")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    torch.manual_seed(5)
    model = Net()
    rng = np.random.default_rng(7)
    inputs = rng.standard_normal((SAMPLES, 4, 6, 6)).astype(np.float32)
    labels = [int(v) for v in rng.integers(0, 5, SAMPLES)]
    onnx_path = os.path.join(a.work, "model.onnx")
    torch.onnx.export(model, (torch.tensor(inputs[:1]),), onnx_path, input_names=["input"],
                      output_names=["logits"], opset_version=13)
    write_data(os.path.join(a.work, "velocity_data.h"), inputs, labels)
    targets = ["host"] + [t for t in a.targets.split(",") if t]
    results, failures, expected, history = {}, 0, None, None
    for target in targets:
        got, plan = run_target(a.odlc, onnx_path, a.work, target)
        if expected is None:
            trained, history = reference(model, inputs, labels, plan["train"]["sparse"])
            params = dict(trained.named_parameters())
            names = plan["train"]["trainable"]
            expected = np.concatenate([params[n].detach().numpy().ravel() for n in names])
            sizes = [params[n].numel() for n in names]
        if got.size != expected.size:
            sys.exit(f"velocity: {target} printed {got.size} weights, expected {expected.size}")
        worst, offset = 0.0, 0
        for name, size in zip(names, sizes):
            r, g = expected[offset:offset + size], got[offset:offset + size]
            worst = max(worst, float(np.abs(g - r).max() / max(np.abs(r).max(), 1e-30)))
            offset += size
        results[target] = worst
        ok = worst <= TOLERANCE
        failures += not ok
        print(f"velocity {target}: worst relative weight error {worst:.2e} "
              f"(tolerance {TOLERANCE:g}): {'PASS' if ok else 'FAIL'}")
    for epoch, sel in enumerate(history):
        print(f"  selection after epoch {epoch}: conv1 {sel['conv1']} conv2 {sel['conv2']}")
    changed = any(h != history[0] for h in history[1:])
    moved = sum(h != history[k] for k, h in enumerate(history[1:]))
    print(f"velocity: the selection changed at {moved} of {EPOCHS} epoch ends")
    if not changed:
        print("velocity: FAIL: the selection never changed, so the test proves nothing")
        failures += 1
    with open(os.path.join(a.work, "velocity.json"), "w") as f:
        json.dump({"errors": results, "selections": history}, f, indent=1)
    print(f"{len(targets) - failures if changed else 0} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
