#!/usr/bin/env python3
"""Checks explore.json against odlc itself and against the definition of the Pareto front.

  check_explore.py ODLC MODEL TARGET EXPLORE_DIR [--min-new ACC] [--same-as DIR2]

- every trainable point's ram_bytes equals ram.total_bytes of `odlc compile --train-from CUT`
  with the same training flags (memory comes from the planner, not from a formula);
- `fits` is ram_bytes <= ram_budget and flash_bytes <= flash_budget;
- `pareto` marks exactly the fitting points no other fitting point dominates (less or equal RAM
  and instructions, at least as many trainable parameters, or with --data at least the same
  accuracy_all, one of them strictly better);
- deeper cuts never train fewer parameters at the same p (only checked between neighbours in
  the swept cuts);
- at the same cut, a smaller p never updates more parameters or costs more instructions.
With --data (a "data" section in explore.json):
- exactly the trainable fitting points carry accuracy_old/new/all, each in [0, 1], and
  accuracy_all is the test-set mix of old and new (between the two);
- the best point's new-class accuracy is at least --min-new (default 0.3; chance is 0.1);
- --same-as DIR2: every point of DIR2's explore.json (a second run, e.g. of fewer cuts) has the
  same numbers as the point with its cut and p here (the sweep is deterministic).
"""
import json
import os
import subprocess
import sys
import tempfile


def quality(p):
    return p["accuracy_all"] if "accuracy_all" in p else p["trainable_params"]


def dominates(a, b):
    no_worse = (a["ram_bytes"] <= b["ram_bytes"] and
                a["instructions_per_sample"] <= b["instructions_per_sample"] and
                quality(a) >= quality(b))
    better = (a["ram_bytes"] < b["ram_bytes"] or
              a["instructions_per_sample"] < b["instructions_per_sample"] or
              quality(a) > quality(b))
    return no_worse and better


def training_flags(doc):
    flags = ["--batch", str(doc["batch"]), "--epochs", str(doc["epochs"]),
             "--replay-samples", str(doc["replay_samples"]),
             "--replay-bits", str(doc["replay_bits"]),
             "--replay-per-batch", str(doc["replay_per_batch"]),
             "--learn-cache", str(doc["learn_cache"]), "--lr", repr(doc["lr"]),
             "--momentum", repr(doc["momentum"]), "--channel-policy", doc["channel_policy"]]
    return flags + (["--class-weighted"] if doc["class_weighted"] else [])


def check_accuracy(doc, points, min_new, errors):
    measured = [p for p in points if "accuracy_all" in p]
    for p in points:
        if ("accuracy_all" in p) != p["fits"]:
            errors.append(f"{p['cut']} p={p['p']}: fits is {p['fits']} but accuracy is "
                          f"{'' if 'accuracy_all' in p else 'not '}measured")
    for p in measured:
        accs = [p["accuracy_old"], p["accuracy_new"], p["accuracy_all"]]
        if not all(0 <= a <= 1 for a in accs):
            errors.append(f"{p['cut']} p={p['p']}: accuracy outside [0, 1]: {accs}")
        lo, hi = sorted(accs[:2])
        if not lo - 1e-6 <= accs[2] <= hi + 1e-6:
            errors.append(f"{p['cut']} p={p['p']}: accuracy_all {accs[2]} is not between old "
                          f"and new")
    if not measured:
        errors.append("--data given but no point was measured")
        return
    best = max(p["accuracy_new"] for p in measured)
    if best < min_new:
        errors.append(f"learning did not work: the best new-class accuracy is {best:.3f}, "
                      f"below {min_new} (chance 0.1)")
    before = doc["data"].get("accuracy_old_before")
    if before is None or not 0 <= before <= 1:
        errors.append(f"data.accuracy_old_before is {before}")
    print(f"check_explore: {len(measured)} points measured, new-class accuracy up to "
          f"{best:.3f}, old classes before learning {before}")


def check_same(points, other_dir, errors):
    other = json.load(open(os.path.join(other_dir, "explore.json")))
    mine = {(p["cut"], p["p"]): p for p in points}
    keys = ["ram_bytes", "flash_bytes", "trainable_params", "instructions_per_sample",
            "accuracy_old", "accuracy_new", "accuracy_all"]
    for q in other["points"]:
        p = mine.get((q["cut"], q["p"]))
        if p is None:
            errors.append(f"--same-as: {q['cut']} p={q['p']} is not in the first sweep")
            continue
        for k in keys:
            if p.get(k) != q.get(k):
                errors.append(f"--same-as: {q['cut']} p={q['p']}: {k} is {p.get(k)} in one run, "
                              f"{q.get(k)} in the other")


def main():
    args = sys.argv[1:]
    min_new, same_as = 0.3, None
    if "--min-new" in args:
        i = args.index("--min-new")
        min_new = float(args[i + 1])
        del args[i:i + 2]
    if "--same-as" in args:
        i = args.index("--same-as")
        same_as = args[i + 1]
        del args[i:i + 2]
    odlc, model, target, directory = args[:4]
    doc = json.load(open(os.path.join(directory, "explore.json")))
    points = [p for p in doc["points"] if p["trainable"]]
    errors = []
    with tempfile.TemporaryDirectory() as work:
        for i, p in enumerate(points):
            out = os.path.join(work, str(i))
            subprocess.run([odlc, "compile", model, "-o", out, "--target", target,
                            "--train-from", p["cut"],
                            "--sparse", "none" if p["p"] == 1 else f"{p['p']:g}"] +
                           training_flags(doc), check=True)
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
    if "data" in doc:
        check_accuracy(doc, points, min_new, errors)
    if same_as:
        check_same(points, same_as, errors)
    for e in errors:
        print("check_explore:", e)
    print(f"check_explore: {len(points)} points, {sum(p['pareto'] for p in points)} on the "
          f"Pareto front, {len(errors)} errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
