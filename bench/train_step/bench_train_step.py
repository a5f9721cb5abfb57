#!/usr/bin/python3
"""Training-step benchmark (issue: one training step per sample on RV32 and against PyTorch).

For each model and cut: compiles the model with odlc for rv32imafc and for the host (batch 8,
no replay, latents cached), runs train_bench.c, and prints per learned sample
  - retired RV32 instructions of one tail SGD step (QEMU -icount: exact) and MACs/instruction,
  - host nanoseconds of the same step and PyTorch's (one thread, same tail, same batch, SGD),
    measured in this run, and their ratio,
plus the host time of one model_learn experience (80 samples, 16 epochs, the device example's
setting). Writes JSON.

    bench_train_step.py --odlc build/compiler/driver/odlc --work DIR [--json FILE]
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "reference"))

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402
import onnx_torch  # noqa: E402

BATCH = 8
FASHION = os.path.join(ROOT, "examples", "fashion_mnist", "model.onnx")
CASES = [  # (label, model, cut)
    ("fashion/classifier", FASHION, "classifier"),
    ("fashion/conv5+classifier", FASHION, "/features/features.4/features.4.2/Relu_output_0"),
    ("fashion/conv4-5+classifier", FASHION, "/features/features.3/MaxPool_output_0"),
]


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def compile_and_run(odlc, work, model, cut, target):
    out = os.path.join(work, "out")
    run([odlc, "compile", model, "-o", out, "--target", target, "--train-from", cut,
         "--batch", str(BATCH), "--replay-samples", "0", "--learn-cache", "100", "--lr", "0.01"])
    boards = os.path.join(ROOT, "examples", "boards")
    sources = [os.path.join(out, f) for f in sorted(os.listdir(out)) if f.endswith(".c")]
    fw = os.path.join(work, "fw.elf")
    run([os.path.join(boards, "build.sh"), target, "-o", fw, "--cflags", "-I" + out]
        + sources + [os.path.join(HERE, "train_bench.c")])
    experience = ["80", "16"] if target == "host" else ["0", "0"]
    text = run([os.path.join(boards, "run.sh"), target, fw, "--icount", "--"] + experience)
    values = {line.split()[0]: int(line.split()[1]) for line in text.splitlines() if line}
    with open(os.path.join(out, "memory_plan.json")) as f:
        plan = json.load(f)
    return values, plan


def torch_step_ns(model, cut_name, steps=30):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    m = onnx_torch.OnnxTorch(onnx.load(model), cut=cut_name)
    shape = [BATCH] + [d.dim_value for d in onnx.load(model).graph.input[0].type.tensor_type.shape.dim][1:]
    x = torch.randn(shape)
    y = torch.arange(BATCH) % 10
    with torch.no_grad():
        latents = m.latents(x)
    opt = torch.optim.SGD(list(m.trainable.values()), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(m.tail_logits(latents), y).backward()
        opt.step()
    for _ in range(5):
        step()
    times = []
    for _ in range(7):
        start = time.perf_counter_ns()
        for _ in range(steps):
            step()
        times.append((time.perf_counter_ns() - start) / steps)
    return sorted(times)[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--odlc", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    rows = []
    for label, model, cut in CASES:
        work = os.path.join(args.work, label.replace("/", "_"))
        os.makedirs(work, exist_ok=True)
        rv, plan = compile_and_run(args.odlc, os.path.join(work, "rv32"), model, cut, "rv32imafc")
        host, _ = compile_and_run(args.odlc, os.path.join(work, "host"), model, cut, "host")
        cut_name = plan["train"]["cut"]
        torch_ns = torch_step_ns(model, cut_name)
        macs = plan["macs"]["train"]
        rows.append({
            "case": label, "cut": cut_name, "batch": BATCH,
            "trainable_params": sum(1 for _ in plan["train"]["trainable"]),
            "train_step_macs": macs,
            "rv32_instructions_per_sample": rv["tail_step"] / BATCH,
            "rv32_macs_per_instruction": macs / rv["tail_step"],
            "rv32_train_step_api_instructions_per_sample": rv["train_step_api"] / BATCH,
            "host_ns_per_sample": host["tail_step"] / BATCH,
            "pytorch_ns_per_sample": torch_ns / BATCH,
            "host_over_pytorch": host["tail_step"] / torch_ns,
            "host_learn_experience_s": host["learn_experience"] / 1e9,
        })
    print(f"{'case':<28} {'RV32 instr/sample':>18} {'MAC/instr':>9} {'host us/sample':>15} "
          f"{'PyTorch us/sample':>18} {'odlc/PyTorch':>12} {'learn (s)':>10}")
    for r in rows:
        print(f"{r['case']:<28} {r['rv32_instructions_per_sample']:>18,.0f} "
              f"{r['rv32_macs_per_instruction']:>9.3f} {r['host_ns_per_sample'] / 1e3:>15.1f} "
              f"{r['pytorch_ns_per_sample'] / 1e3:>18.1f} {r['host_over_pytorch']:>12.3f} "
              f"{r['host_learn_experience_s']:>10.3f}")
    print(f"batch {BATCH}; tail step without the prefix (latents cached); PyTorch: same tail "
          "and batch, SGD, 1 thread, same run; learn: 80 samples x 16 epochs on the host")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
