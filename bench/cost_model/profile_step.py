#!/usr/bin/python3
"""Measured against predicted instructions of every kernel call of one SGD step.

Compiles MODEL for rv32imafc (as tests/e2e/train/sparse_instructions.py does), wraps every
kernel call of the generated train function (model_train_batch) in minstret reads, runs
model_learn over two epochs of MODEL_BATCH cached samples under QEMU -icount (two steps) and
prints per call: node, kernel kind, measured and predicted (cost_breakdown) instructions.

    profile_step.py --odlc ODLC --breakdown COST_BREAKDOWN MODEL CUT SPARSE --work DIR
"""
import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BOARDS = os.path.join(ROOT, "examples", "boards")

MAIN = r'''
#include <stdio.h>
#include <stdlib.h>
#include "model.h"
#include "odlc_board.h"
extern unsigned long long odlc_prof[];
extern const char *const odlc_prof_name[];
extern const int odlc_prof_n;
static float inputs[MODEL_BATCH * MODEL_INPUT_SIZE];
static int32_t labels[MODEL_BATCH];
int main(void) {
  unsigned state = 12345u;
  for (int i = 0; i < MODEL_BATCH * MODEL_INPUT_SIZE; ++i) {
    state = state * 1664525u + 1013904223u;
    inputs[i] = (float)(state >> 8) / 16777216.0f * 2.0f - 1.0f;
  }
  for (int i = 0; i < MODEL_BATCH; ++i) labels[i] = i % MODEL_NUM_CLASSES;
  model_init();
  board_counter_start();
  if (model_learn(inputs, labels, MODEL_BATCH, 2) != 0) return 1;
  for (int i = 0; i < odlc_prof_n; ++i) printf("call %d %llu %s\n", i, odlc_prof[i] / 2, odlc_prof_name[i]);
  return 0;
}
'''


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def instrument(src):
    lines = src.split("\n")
    start = next(i for i, l in enumerate(lines) if l.startswith("static float model_train_batch("))
    end = next(i for i in range(start, len(lines)) if lines[i] == "}")
    names, out = [], []
    last = ""
    for i, l in enumerate(lines):
        m = re.match(r"\s*/\* (\S+) \((\w+)\)", l)
        if start < i < end and m:
            last = m.group(1)
        if start < i < end and re.match(r"  odlc_\w+\(.*\);$", l):
            k = len(names)
            names.append(last)
            out.append("  { unsigned long long t0_ = board_instructions();")
            out.append(l)
            out.append(f"  odlc_prof[{k}] += board_instructions() - t0_; }}")
            continue
        out.append(l)
    head = ('#include "odlc_board.h"\nunsigned long long odlc_prof[%d];\n'
            "const char *const odlc_prof_name[] = {%s};\nconst int odlc_prof_n = %d;\n"
            % (max(len(names), 1), ", ".join('"%s"' % n for n in names) or '""', len(names)))
    return head + "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--odlc", required=True)
    ap.add_argument("--breakdown", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("model")
    ap.add_argument("cut")
    ap.add_argument("sparse")
    a = ap.parse_args()
    out = os.path.join(a.work, "out")
    run([a.odlc, "compile", a.model, "-o", out, "--target", "rv32imafc", "--train-from", a.cut,
         "--sparse", a.sparse, "--batch", "4", "--replay-samples", "0", "--learn-cache", "100",
         "--channel-policy", "first"])
    with open(os.path.join(out, "model.c")) as f:
        src = instrument(f.read())
    with open(os.path.join(out, "model.c"), "w") as f:
        f.write(src)
    with open(os.path.join(a.work, "main.c"), "w") as f:
        f.write(MAIN)
    sources = sorted(os.path.join(out, f) for f in os.listdir(out) if f.endswith(".c"))
    fw = os.path.join(a.work, "fw.elf")
    run([os.path.join(BOARDS, "build.sh"), "rv32imafc", "-o", fw, "--cflags", "-I" + out]
        + sources + [os.path.join(a.work, "main.c")])
    measured = []
    for line in run([os.path.join(BOARDS, "run.sh"), "rv32imafc", fw, "--icount", "--"]).splitlines():
        f = line.split()
        if f and f[0] == "call":
            measured.append((f[3], int(f[2])))
    predicted = []
    for line in run([a.breakdown, a.model, "rv32imafc", a.cut, a.sparse, "4"]).splitlines():
        f = line.split("\t")
        if f[0] == "node":
            predicted.append((f[1], f[2], f[3], float(f[4]), f[5:]))
    # calls by node name (each call follows its node's comment); a node without a call (none)
    # predicts 0
    nodes = {name: (name, op, kind, instr, terms) for name, op, kind, instr, terms in predicted}
    by_kind = {}
    tm = tp = 0
    seen = set()
    for name, instr in measured:
        node = nodes.get(name, (name, "?", "?", 0.0, []))
        seen.add(name)
        err = 100 * (node[3] - instr) / instr if instr else 0
        print(f"{instr:>10} {node[3]:>10.0f} {err:>+7.1f}%  {node[2]:<32} {node[1]:<16} {name}  "
              + " ".join(node[4]))
        k = by_kind.setdefault(node[2], [0, 0])
        k[0] += instr
        k[1] += node[3]
        tm += instr
        tp += node[3]
    for name, node in nodes.items():
        if name not in seen and node[3]:
            print(f"{'-':>10} {node[3]:>10.0f}   (no call)  {node[2]:<32} {node[1]:<16} {name}")
            tp += node[3]
    print("\nper kind: measured predicted error")
    for k, (m, p) in sorted(by_kind.items(), key=lambda kv: -kv[1][0]):
        print(f"  {k:<32} {m:>11} {p:>11.0f} {100 * (p - m) / max(m, 1):>+7.1f}%")
    print(f"  {'total':<32} {tm:>11} {tp:>11.0f} {100 * (tp - tm) / max(tm, 1):>+7.1f}%")


if __name__ == "__main__":
    sys.exit(main())
