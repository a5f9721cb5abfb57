#!/usr/bin/env python3
"""Checks explore.json against odlc itself and against the definition of the Pareto front.

  check_explore.py ODLC MODEL TARGET EXPLORE_DIR

- every trainable point's ram_bytes equals ram.total_bytes of `odlc compile --train-from CUT`
  (memory comes from the planner, not from a formula);
- `fits` is ram_bytes <= ram_budget and flash_bytes <= flash_budget;
- `pareto` marks exactly the fitting points no other fitting point dominates (less or equal RAM
  and instructions, at least as many trainable parameters, one of them strictly better);
- deeper cuts never train fewer parameters at the same p;
- at the same cut, a smaller p never updates more parameters or costs more instructions.
"""
import json
import os
import subprocess
import sys
import tempfile


def dominates(a, b):
    no_worse = (a["ram_bytes"] <= b["ram_bytes"] and
                a["instructions_per_sample"] <= b["instructions_per_sample"] and
                a["trainable_params"] >= b["trainable_params"])
    better = (a["ram_bytes"] < b["ram_bytes"] or
              a["instructions_per_sample"] < b["instructions_per_sample"] or
              a["trainable_params"] > b["trainable_params"])
    return no_worse and better


def main():
    odlc, model, target, directory = sys.argv[1:5]
    doc = json.load(open(os.path.join(directory, "explore.json")))
    points = [p for p in doc["points"] if p["trainable"]]
    errors = []
    with tempfile.TemporaryDirectory() as work:
        for i, p in enumerate(points):
            out = os.path.join(work, str(i))
            subprocess.run([odlc, "compile", model, "-o", out, "--target", target,
                            "--train-from", p["cut"], "--batch", str(doc["batch"]),
                            "--epochs", str(doc["epochs"]),
                            "--sparse", "none" if p["p"] == 1 else f"{p['p']:g}",
                            "--replay-samples", str(doc["replay_samples"])], check=True)
            plan = json.load(open(os.path.join(out, "memory_plan.json")))
            if plan["ram"]["total_bytes"] != p["ram_bytes"]:
                errors.append(f"{p['cut']}: explore says {p['ram_bytes']} B, the plan "
                              f"{plan['ram']['total_bytes']} B")
    for p in points:
        fits = p["ram_bytes"] <= doc["ram_budget"] and p["flash_bytes"] <= doc["flash_budget"]
        if fits != p["fits"]:
            errors.append(f"{p['cut']}: fits is {p['fits']}, expected {fits}")
        pareto = fits and not any(q["fits"] and dominates(q, p) for q in points)
        if pareto != p["pareto"]:
            errors.append(f"{p['cut']} p={p['p']}: pareto is {p['pareto']}, expected {pareto}")
    by_p = {}
    for p in points:
        by_p.setdefault(p["p"], []).append(p)
    for same in by_p.values():
        same.sort(key=lambda p: p["cut_index"])
        for a, b in zip(same, same[1:]):
            if a["trainable_params"] < b["trainable_params"]:
                errors.append(f"{a['cut']} trains fewer parameters than the later {b['cut']}")
    by_cut = {}
    for p in points:
        by_cut.setdefault(p["cut"], []).append(p)
    for same in by_cut.values():
        same.sort(key=lambda p: -p["p"])
        for a, b in zip(same, same[1:]):
            if b["trainable_params"] > a["trainable_params"]:
                errors.append(f"{a['cut']}: p={b['p']} updates more parameters than p={a['p']}")
            if b["instructions_per_sample"] > a["instructions_per_sample"]:
                errors.append(f"{a['cut']}: p={b['p']} costs more instructions than p={a['p']}")
    for e in errors:
        print("check_explore:", e)
    print(f"check_explore: {len(points)} points, {sum(p['pareto'] for p in points)} on the "
          f"Pareto front, {len(errors)} errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
