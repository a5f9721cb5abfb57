#!/usr/bin/python3
"""Checks a placement certificate of a MiniMalloc instance on its own: the same buffers (id,
lower, upper, size) as the instance, every offset >= 0,
no two buffers that are live at the same time overlapping in memory, and the arena (largest
offset + size) at most CAPACITY, by default the instance's max-live bound (the largest sum of
sizes live at one step). Used to show that an instance's max-live bound is reachable.

    check_certificate.py INSTANCE.csv CERTIFICATE.csv [CAPACITY]   (exit 77: no instance)
"""
import csv
import os
import sys


def rows(path):
    with open(path) as f:
        return {int(r["id"]): r for r in csv.DictReader(f)}


def max_live(buffers):
    # Live sums only change where a buffer starts, so checking the starts is enough.
    starts = {int(r["lower"]) for r in buffers}
    return max(sum(int(r["size"]) for r in buffers if int(r["lower"]) <= t < int(r["upper"]))
               for t in starts)


def main():
    instance, certificate = sys.argv[1], sys.argv[2]
    if not os.path.exists(instance):
        print(f"certificate: instance {instance} not found; skipped")
        sys.exit(77)
    want, got = rows(instance), rows(certificate)
    bound = max_live(list(want.values()))
    capacity = int(sys.argv[3]) if len(sys.argv) > 3 else bound
    if set(want) != set(got):
        sys.exit(f"certificate: buffers differ from {instance}")
    spans = []
    for i, r in got.items():
        if any(int(r[k]) != int(want[i][k]) for k in ("lower", "upper", "size")):
            sys.exit(f"certificate: buffer {i} differs from the instance")
        offset = int(r["offset"])
        if offset < 0:
            sys.exit(f"certificate: buffer {i} has a negative offset")
        spans.append((int(r["lower"]), int(r["upper"]), offset, offset + int(r["size"]), i))
    arena = max(end for _, _, _, end, _ in spans)
    for a in range(len(spans)):
        for b in range(a + 1, len(spans)):
            la, ua, oa, ea, ia = spans[a]
            lb, ub, ob, eb, ib = spans[b]
            if la < ub and lb < ua and oa < eb and ob < ea:
                sys.exit(f"certificate: buffers {ia} and {ib} overlap")
    if arena > capacity:
        sys.exit(f"certificate: arena {arena} exceeds {capacity}")
    print(f"certificate: {len(spans)} buffers, no overlap, arena {arena} <= {capacity}"
          f" (max-live bound {bound}): valid")


if __name__ == "__main__":
    main()
