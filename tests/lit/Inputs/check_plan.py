#!/usr/bin/python3
"""Checks memory_plan.json against DESIGN.md 4.4: the fields exist with their meaning, and two
buffers of one level whose [first, last] overlap never overlap in [offset, offset + size).
Prints one line per problem; exit 1 if any."""
import json
import sys


def main(path):
    plan = json.load(open(path))
    problems = []
    for key in ("target", "budget", "ram", "flash", "train", "buffers"):
        if key not in plan:
            problems.append(f"missing field {key}")
    ram = plan["ram"]
    if ram["arena_bytes"] < ram["lower_bound_bytes"]:
        problems.append("arena smaller than its lower bound")
    by_level = {}
    for b in plan["buffers"]:
        for key in ("name", "kind", "level", "offset", "size", "first", "last"):
            if key not in b:
                problems.append(f"buffer {b.get('name')} lacks {key}")
        if b["kind"] not in ("activation", "gradient", "weight", "replay", "scratch"):
            problems.append(f"buffer {b['name']} has kind {b['kind']}")
        by_level.setdefault(b["level"], []).append(b)
    for level, buffers in by_level.items():
        buffers.sort(key=lambda b: (b["offset"], b["first"]))
        for i, a in enumerate(buffers):
            for b in buffers[i + 1:]:
                if b["offset"] >= a["offset"] + a["size"]:
                    break
                if a["first"] <= b["last"] and b["first"] <= a["last"] and a["size"] and b["size"]:
                    problems.append(f"{level}: '{a['name']}' and '{b['name']}' overlap")
    for p in problems:
        print(p)
    print(f"{len(plan['buffers'])} buffers in {len(by_level)} levels: "
          f"{'ok' if not problems else 'FAILED'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
