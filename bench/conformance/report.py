#!/usr/bin/env python3
"""Summarizes odlc_conformance --json output: counts per suite, time, unsupported reasons and,
per ONNX op, how many passing tests use it. Standard library only."""
import argparse
import collections
import json


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("results", help="JSON written by odlc_conformance --json")
    parser.add_argument("--json", help="write the summary JSON here")
    parser.add_argument("--markdown", help="write the Markdown tables here (default: stdout)")
    args = parser.parse_args()
    with open(args.results) as f:
        run = json.load(f)

    passing_ops = collections.Counter()
    for test in run["tests"]:
        if test["status"] == "PASS":
            passing_ops.update(test.get("ops", []))
    summary = {
        "seconds": run["seconds"],
        "jobs": run["jobs"],
        "cc": run["cc"],
        "tolerance": run["tolerance"],
        "counts": run["counts"],
        "suites": run["suites"],
        "unsupported_reasons": run["unsupported_reasons"],
        "passing_tests_per_op": dict(sorted(passing_ops.items())),
    }

    lines = ["# ONNX conformance (libonnx-testdata)", ""]
    lines.append(f"{run['seconds']:.1f} s with {run['jobs']} jobs; C compiler `{run['cc']}`; "
                 f"rtol {run['tolerance']['rtol']}, atol {run['tolerance']['atol']}.")
    lines += ["", "| suite | passed | failed | unsupported | total |", "|---|---:|---:|---:|---:|"]
    rows = list(run["suites"].items()) + [("**all**", run["counts"])]
    for suite, c in rows:
        total = c["passed"] + c["failed"] + c["unsupported"]
        lines.append(f"| {suite} | {c['passed']} | {c['failed']} | {c['unsupported']} | {total} |")
    failed = [t for t in run["tests"] if t["status"] == "FAIL"]
    if failed:
        lines += ["", "## Failures", "", "| test | reason |", "|---|---|"]
        lines += [f"| {t['name']} | {t['reason'].replace('|', '/')} |" for t in failed]
    lines += ["", "## Unsupported reasons", "", "| tests | reason |", "|---:|---|"]
    lines += [f"| {r['count']} | {r['reason'].replace('|', '/')} |"
              for r in run["unsupported_reasons"]]
    lines += ["", "## Passing tests per op", "", "| op | passing tests |", "|---|---:|"]
    lines += [f"| {op} | {n} |" for op, n in sorted(passing_ops.items())]
    text = "\n".join(lines) + "\n"

    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)
            f.write("\n")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)
    else:
        print(text, end="")


if __name__ == "__main__":
    main()
