#!/usr/bin/env python3
"""Budget grid: `--train-from auto` on every end-to-end model under a grid of RAM budgets.

For each model and target, odlc compiles with --ram B for B in a geometric grid, and checks:
  - a plan that compiles fits: memory_plan.json ram.total_bytes <= B;
  - a budget that fails says "no latent-replay cut fits" and names the smallest budget S that
    fits; compiling at S succeeds and at S - 1 fails (checked once per model and target);
  - more budget never gives a shallower tail: the cut's position in `odlc cuts` order never
    moves later and the trainable parameters never fall as B grows; once a budget fits, every
    larger one fits.
With --sparse auto the compiler may also train a deeper cut with a sparse update; then the
same checks hold, and for a cut that stays the same as B grows no layer's density falls.
Prints a table per model and writes JSON. Exit status 1 on any violation.

  budget_grid.py --odlc ODLC --models DIR --targets cortex-m4,rv32imafc --json OUT.json
                 [--sparse auto]
"""
import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile

KIB = 1024
GRID = [32 * KIB * 2 ** i for i in range(10)]  # 32 KiB .. 16 MiB
SMALLEST = re.compile(r"the smallest budget that fits is --ram (\d+)")


def compile_at(odlc, model, target, ram, work, sparse):
    """odlc compile with --train-from auto at `ram` bytes: (plan or None, stderr)."""
    out = os.path.join(work, f"{target}_{ram}")
    cmd = [odlc, "compile", model, "-o", out, "--target", target, "--ram", str(ram),
           "--sparse", sparse]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        return None, run.stderr.strip()
    with open(os.path.join(out, "memory_plan.json")) as f:
        return json.load(f), ""


def cuts_of(odlc, model):
    run = subprocess.run([odlc, "cuts", model, "--json"], capture_output=True, text=True,
                         check=True)
    return {c["name"]: (i, c["trainable_params"]) for i, c in enumerate(json.loads(run.stdout))}


def check_model(odlc, name, model, target, work, sparse):
    """Rows of the grid and the violations found."""
    os.makedirs(work, exist_ok=True)
    cuts = cuts_of(odlc, model)
    rows, errors = [], []
    smallest = None
    for ram in GRID:
        plan, err = compile_at(odlc, model, target, ram, work, sparse)
        if plan is None:
            m = SMALLEST.search(err)
            if not m:
                errors.append(f"{name} {target} --ram {ram}: unexpected error: {err}")
                continue
            smallest = int(m.group(1))
            rows.append({"ram": ram, "fits": False, "smallest": smallest})
            continue
        cut = plan["train"]["cut"]
        total = plan["ram"]["total_bytes"]
        position, params = cuts[cut]
        densities = plan["train"].get("sparse_mode", {}).get("densities", [])
        rows.append({"ram": ram, "fits": True, "cut": cut, "position": position,
                     "trainable_params": params, "planned_bytes": total,
                     "densities": densities})
        if total > ram:
            errors.append(f"{name} {target} --ram {ram}: the plan needs {total} bytes")
    errors += monotonic(name, target, rows)
    if smallest is not None:
        errors += named_budget_is_exact(odlc, name, model, target, smallest, work, sparse)
    return rows, errors


def monotonic(name, target, rows):
    errors, last = [], None
    for row in rows:
        if last and last["fits"] and not row["fits"]:
            errors.append(f"{name} {target}: --ram {last['ram']} fits but {row['ram']} does not")
        if last and last["fits"] and row["fits"]:
            if row["position"] > last["position"]:
                errors.append(f"{name} {target}: --ram {row['ram']} cuts later ({row['cut']}) "
                              f"than --ram {last['ram']} ({last['cut']})")
            if row["trainable_params"] < last["trainable_params"]:
                errors.append(f"{name} {target}: --ram {row['ram']} trains fewer parameters "
                              f"than --ram {last['ram']}")
            same = row["cut"] == last["cut"] and len(row["densities"]) == len(last["densities"])
            if same and any(a < b for a, b in zip(row["densities"], last["densities"])):
                errors.append(f"{name} {target}: --ram {row['ram']} updates {row['cut']} more "
                              f"sparsely than --ram {last['ram']}")
        last = row
    return errors


def named_budget_is_exact(odlc, name, model, target, smallest, work, sparse):
    plan, err = compile_at(odlc, model, target, smallest, work, sparse)
    errors = []
    if plan is None:
        errors.append(f"{name} {target}: the named smallest budget {smallest} fails: {err}")
    below, _ = compile_at(odlc, model, target, smallest - 1, work, sparse)
    if below is not None:
        errors.append(f"{name} {target}: {smallest - 1} bytes also fit, below the named smallest")
    return errors


def print_table(name, target, rows):
    print(f"\n{name} on {target}:")
    print(f"  {'--ram':>9} {'planned':>9} {'params':>9}  cut")
    for r in rows:
        if r["fits"]:
            p = r["densities"]
            sparse = f"  p {min(p):g}..{max(p):g}" if p and min(p) < 1 else ""
            print(f"  {r['ram']:>9} {r['planned_bytes']:>9} {r['trainable_params']:>9}  "
                  f"#{r['position']} {r['cut']}{sparse}")
        else:
            print(f"  {r['ram']:>9} {'-':>9} {'-':>9}  does not fit; smallest {r['smallest']}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--odlc", required=True)
    ap.add_argument("--models", required=True, help="directory of MODEL/model.onnx")
    ap.add_argument("--targets", default="cortex-m4,rv32imafc")
    ap.add_argument("--json", required=True)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--sparse", default="none", help="--sparse of odlc compile: none or auto")
    a = ap.parse_args()
    names = sorted(d for d in os.listdir(a.models)
                   if os.path.isfile(os.path.join(a.models, d, "model.onnx")))
    if not names:
        sys.exit(f"budget_grid: no models in {a.models}")
    jobs = [(n, t) for n in names for t in a.targets.split(",")]
    with tempfile.TemporaryDirectory(prefix="odlc-budget-") as work, \
            concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
        futures = [pool.submit(check_model, a.odlc, n, os.path.join(a.models, n, "model.onnx"),
                               t, os.path.join(work, n), a.sparse) for n, t in jobs]
        results = [f.result() for f in futures]
    report, errors = {}, []
    for (n, t), (rows, errs) in zip(jobs, results):
        print_table(n, t, rows)
        report.setdefault(n, {})[t] = rows
        errors += errs
    with open(a.json, "w") as f:
        json.dump(report, f, indent=1, sort_keys=True)
    for e in errors:
        print("FAIL:", e)
    print(f"\nbudget grid: {len(jobs)} model x target grids of {len(GRID)} budgets, "
          f"{len(errors)} violations")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
