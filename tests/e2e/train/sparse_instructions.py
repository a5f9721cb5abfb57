#!/usr/bin/python3
"""Sparse-update savings against the cost model (issue 5 item 6).

For each case (model, fixed cut) and update density p in {1, 0.75, 0.5}: compiles the model for
rv32imafc (--train-from CUT --batch 4 --sparse none|p --channel-policy first, no replay, latents
cached), builds bench/cost_model/sparse_step.c with it and measures the exact retired
instructions of one SGD step of the tail (the "train" function; minstret under QEMU -icount
shift=0). The cost model's prediction of the same step is the sum of instructionsOf() over the
"train" function's nodes, which `odlc explore` reports per (cut, p) as step_instructions in
explore.json.

Checks, per case: the predicted step within 15 % of the measured one at every p, and the
predicted saving 1 - I(p)/I(1) within 15 % (relative) of the measured saving. Reports the RAM
(memory_plan.json: ram.total_bytes, and the arena alone: ram.arena_bytes) and their savings too.
Prints a table, writes JSON.

    sparse_instructions.py --odlc ODLC --work DIR --models-dir DIR [--json FILE]

The mobilenetv2 case reads the exported e2e model from --models-dir (tests/e2e: e2e.sh export).
"""
import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
BOARDS = os.path.join(ROOT, "examples", "boards")
FIRMWARE = os.path.join(ROOT, "bench", "cost_model", "sparse_step.c")
TARGET = "rv32imafc"
BATCH = 4
DENSITIES = [1.0, 0.75, 0.5]
TOLERANCE = 0.15
COMMON = ["--batch", str(BATCH), "--replay-samples", "0", "--learn-cache", "100",
          "--channel-policy", "first"]
FASHION = os.path.join(ROOT, "examples", "fashion_mnist", "model.onnx")
# (label, model path or models-dir relative path, cut): fashion from its second conv block on
# (conv 2, 4, 5 + classifier: `odlc cuts`), mobilenetv2 late (inverted residual blocks 10-11,
# the last 1x1 convs and the classifier; tests/e2e/train/cuts.tsv's "block" is one block later).
CASES = [
    ("fashion_mnist", FASHION, "/features/features.1/MaxPool_output_0"),
    ("mobilenetv2", "mobilenetv2/model.onnx", "/features/features.9/Add_output_0"),
]


def run(cmd, check=True):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if check and r.returncode != 0:
        sys.stderr.write(r.stdout + r.stderr)
        raise SystemExit("failed: " + " ".join(cmd))
    return r


def predicted_steps(odlc, model, cut, work):
    """The cost model's instructions of one step at each p (explore.json step_instructions)."""
    out = os.path.join(work, "explore")
    run([odlc, "explore", model, "--target", TARGET, "--cuts", cut, "--p",
         ",".join(f"{p:g}" for p in DENSITIES), "-o", out] + COMMON)
    with open(os.path.join(out, "explore.json")) as f:
        points = json.load(f)["points"]
    steps = {pt["p"]: pt["step_instructions"] for pt in points if pt["cut"] == cut}
    missing = [p for p in DENSITIES if p not in steps]
    if missing:
        raise SystemExit(f"odlc explore gave no point for {cut} at p {missing}")
    return steps


def measure(odlc, model, cut, p, work):
    out = os.path.join(work, f"out_p{p:g}")
    run([odlc, "compile", model, "-o", out, "--target", TARGET, "--train-from", cut,
         "--sparse", "none" if p == 1.0 else f"{p:g}", "--lr", "0.01"] + COMMON)
    sources = sorted(os.path.join(out, f) for f in os.listdir(out) if f.endswith(".c"))
    fw = os.path.join(work, f"fw_p{p:g}.elf")
    run([os.path.join(BOARDS, "build.sh"), TARGET, "-o", fw, "--cflags", "-I" + out]
        + sources + [FIRMWARE])
    text = run([os.path.join(BOARDS, "run.sh"), TARGET, fw, "--icount", "--"]).stdout
    m = re.search(r"^step (\d+)$", text, re.M)
    if not m:
        raise SystemExit(f"no step line from the firmware:\n{text}")
    with open(os.path.join(out, "memory_plan.json")) as f:
        plan = json.load(f)
    return int(m.group(1)), plan["ram"]["total_bytes"], plan["ram"]["arena_bytes"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--odlc", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--json", help="write the results here (default WORK/sparse_instructions.json)")
    ap.add_argument("--models-dir", required=True)
    a = ap.parse_args()
    odlc = os.path.abspath(a.odlc)
    rows, failures = [], []
    for label, model, cut in CASES:
        model = model if os.path.isabs(model) else os.path.join(a.models_dir, model)
        work = os.path.join(a.work, label)
        os.makedirs(work, exist_ok=True)
        predicted = predicted_steps(odlc, model, cut, work)
        measured = {p: measure(odlc, model, cut, p, work) for p in DENSITIES}
        base_i, base_ram, base_arena = measured[1.0]
        for p in DENSITIES:
            instr, ram, arena = measured[p]
            row = {"model": label, "cut": cut, "p": p, "measured_instructions": instr,
                   "predicted_instructions": round(predicted[p]),
                   "step_error": predicted[p] / instr - 1,
                   "measured_saving": 1 - instr / base_i,
                   "predicted_saving": 1 - predicted[p] / predicted[1.0],
                   "ram_bytes": ram, "arena_bytes": arena, "ram_saving": 1 - ram / base_ram,
                   "arena_saving": 1 - arena / base_arena}
            if abs(row["step_error"]) > TOLERANCE:
                failures.append(f"{label} p={p:g}: predicted step off by "
                                f"{100 * row['step_error']:+.1f} %")
            if p != 1.0:
                ms, ps = row["measured_saving"], row["predicted_saving"]
                row["saving_error"] = (ps - ms) / ms if ms else float("inf")
                if abs(ps - ms) > TOLERANCE * abs(ms):
                    failures.append(f"{label} p={p:g}: predicted saving {100 * ps:.1f} % vs "
                                    f"measured {100 * ms:.1f} %")
            rows.append(row)
    print(f"{'model':<14} {'p':>5} {'measured instr':>15} {'predicted instr':>16} {'err':>7} "
          f"{'meas. saving':>13} {'pred. saving':>13} {'RAM B':>10} {'RAM saving':>11} "
          f"{'arena B':>9} {'arena saving':>13}")
    for r in rows:
        print(f"{r['model']:<14} {r['p']:>5g} {r['measured_instructions']:>15,} "
              f"{r['predicted_instructions']:>16,} {100 * r['step_error']:>+6.1f}% "
              f"{100 * r['measured_saving']:>12.1f}% {100 * r['predicted_saving']:>12.1f}% "
              f"{r['ram_bytes']:>10,} {100 * r['ram_saving']:>10.1f}% "
              f"{r['arena_bytes']:>9,} {100 * r['arena_saving']:>12.1f}%")
    out = a.json or os.path.join(a.work, "sparse_instructions.json")
    with open(out, "w") as f:
        json.dump({"target": TARGET, "batch": BATCH, "tolerance": TOLERANCE, "rows": rows,
                   "failures": failures}, f, indent=1)
    print(f"wrote {out}")
    for msg in failures:
        print("FAIL " + msg)
    print("ok: every step and saving within 15 %" if not failures else
          f"{len(failures)} checks failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
