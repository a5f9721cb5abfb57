#!/usr/bin/python3
"""Compile-time benchmark of odlc on the reference CNNs of tests/reference/.

    bench_compile_time.py --odlc BUILD/compiler/driver/odlc --work DIR [--export]
                          [--models a,b] [--target cortex-m4] [--reps 7] [--json FILE]

Compiles every model REPS times (after one warm-up compile) and prints one row per model:
parameters, MACs, ONNX nodes (from the exporter's info.json), the median wall-clock and CPU
(user+sys) time of `odlc compile`, and the size of the generated C (OUT/*.c + OUT/*.h). The
repetitions are interleaved (round-robin over the models, starting from a different model each
round) so that load changes on a shared machine hit every model alike; the ratio of each
model's median to the fastest model's median in the same run is the stable number to compare
across runs and machines. --export first writes the models with tests/reference/export_models.py
(needs torch; the benchmark itself needs only the standard library). Writes the table as JSON
to --json (default WORK/compile_time.json).
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EXPORTER = os.path.join(ROOT, "tests", "reference", "export_models.py")


def run_timed(cmd):
    """Runs cmd; returns (wall seconds, CPU seconds of the child). Raises on failure."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    if proc.returncode != 0:
        raise RuntimeError("%s failed (exit %d): %s" % (" ".join(cmd), proc.returncode,
                                                        stderr.decode(errors="replace").strip()))
    return wall, usage.ru_utime + usage.ru_stime


def c_size(out_dir):
    """Bytes of generated C (sources and headers) in out_dir, all and without weight tables."""
    total = code = 0
    for name in sorted(os.listdir(out_dir)):
        if not name.endswith((".c", ".h")):
            continue
        size = os.path.getsize(os.path.join(out_dir, name))
        total += size
        if "_weights." not in name:
            code += size
    return total, code


def git_revision():
    try:
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], check=True,
                             capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               check=True, capture_output=True, text=True).stdout.strip()
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--odlc", required=True, help="the odlc binary")
    ap.add_argument("--work", required=True, help="scratch directory (models/, out/)")
    ap.add_argument("--models-dir", help="exported models (default WORK/models)")
    ap.add_argument("--export", action="store_true", help="export the models first")
    ap.add_argument("--python", default="/usr/bin/python3", help="python for the exporter")
    ap.add_argument("--models", help="comma-separated subset (default: every exported model)")
    ap.add_argument("--target", default="cortex-m4")
    ap.add_argument("--reps", type=int, default=7, help="timed compiles per model (default 7)")
    ap.add_argument("--json", help="output file (default WORK/compile_time.json)")
    args = ap.parse_args(argv)
    if args.reps < 1:
        ap.error("--reps must be >= 1")

    models_dir = args.models_dir or os.path.join(args.work, "models")
    os.makedirs(args.work, exist_ok=True)
    if args.export:
        cmd = [args.python, EXPORTER, "--out", models_dir, "-q"]
        if args.models:
            cmd += ["--models", args.models]
        subprocess.run(cmd, check=True)
    if args.models:
        names = [n for n in args.models.split(",") if n]
    else:
        names = sorted(n for n in os.listdir(models_dir)
                       if os.path.isfile(os.path.join(models_dir, n, "model.onnx")))
    if not names:
        sys.exit("bench_compile_time: no models in %s (use --export)" % models_dir)

    out_root = os.path.join(args.work, "out")
    shutil.rmtree(out_root, ignore_errors=True)
    os.makedirs(out_root)

    def compile_cmd(name):
        return [args.odlc, "compile", os.path.join(models_dir, name, "model.onnx"),
                "-o", os.path.join(out_root, name), "--target", args.target]

    rows = {}
    for name in names:  # warm-up: page cache, and the output whose size we report
        with open(os.path.join(models_dir, name, "info.json")) as f:
            info = json.load(f)
        run_timed(compile_cmd(name))
        total, code = c_size(os.path.join(out_root, name))
        rows[name] = {"model": name, "params": info["param_count"], "macs": info["macs"],
                      "onnx_nodes": info["onnx_node_count"], "c_bytes": total,
                      "c_bytes_without_weights": code, "wall_ms": [], "cpu_ms": []}

    load_before = os.getloadavg()
    for rep in range(args.reps):
        order = names[rep % len(names):] + names[:rep % len(names)]
        for name in order:
            wall, cpu = run_timed(compile_cmd(name))
            rows[name]["wall_ms"].append(round(wall * 1e3, 2))
            rows[name]["cpu_ms"].append(round(cpu * 1e3, 2))
    load_after = os.getloadavg()

    for r in rows.values():
        r["median_wall_ms"] = round(statistics.median(r["wall_ms"]), 2)
        r["median_cpu_ms"] = round(statistics.median(r["cpu_ms"]), 2)
        r["min_wall_ms"] = min(r["wall_ms"])
    fastest_wall = min(r["median_wall_ms"] for r in rows.values())
    fastest_cpu = min(r["median_cpu_ms"] for r in rows.values())
    for r in rows.values():
        r["wall_ratio_to_fastest"] = round(r["median_wall_ms"] / fastest_wall, 3)
        r["cpu_ratio_to_fastest"] = round(r["median_cpu_ms"] / fastest_cpu, 3)

    header = ("model", "params", "MACs", "ONNX nodes", "wall ms (median)", "x fastest",
              "CPU ms (median)", "x fastest", "C KiB", "C KiB w/o weights")
    table = [header]
    for name in names:
        r = rows[name]
        table.append((name, str(r["params"]), str(r["macs"]), str(r["onnx_nodes"]),
                      "%.1f" % r["median_wall_ms"], "%.2f" % r["wall_ratio_to_fastest"],
                      "%.1f" % r["median_cpu_ms"], "%.2f" % r["cpu_ratio_to_fastest"],
                      "%.1f" % (r["c_bytes"] / 1024), "%.1f" % (r["c_bytes_without_weights"] / 1024)))
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for k, row in enumerate(table):
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(row, widths))))
        if k == 0:
            print("  ".join("-" * w for w in widths))
    print("odlc compile --target %s, %d timed runs per model (interleaved) after one warm-up; "
          "load average %.2f before, %.2f after" % (args.target, args.reps, load_before[0],
                                                   load_after[0]))

    result = {
        "benchmark": "compile_time",
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "odlc": os.path.abspath(args.odlc),
        "odlc_version": subprocess.run([args.odlc, "--version"], capture_output=True,
                                       text=True).stdout.strip(),
        "git_revision": git_revision(),
        "target": args.target,
        "reps": args.reps,
        "method": "wall clock and child CPU time (user+sys, wait4) of one `odlc compile` "
                  "process, repetitions interleaved round-robin over the models after one "
                  "warm-up compile each; medians; ratios are to the fastest model's median",
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "loadavg_1min_before": round(load_before[0], 2),
                    "loadavg_1min_after": round(load_after[0], 2)},
        "models": [rows[n] for n in names],
    }
    json_path = args.json or os.path.join(args.work, "compile_time.json")
    with open(json_path, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print("wrote " + json_path)


if __name__ == "__main__":
    main()
