#!/bin/sh
# ONNX conformance benchmark: runs odlc_conformance over libonnx-testdata and writes
#   OUT/conformance.txt   the runner's report (one line per test, reasons, counts)
#   OUT/conformance.json  per-test results, counts per suite, unsupported reasons, time
#   OUT/summary.json      counts per suite, unsupported reasons, time (no per-test rows)
#   OUT/summary.md        the same as Markdown tables, also printed
# Usage: run.sh [--data DIR] [--out DIR] [other odlc_conformance options, e.g. --jobs 2]
# ODLC_CONFORMANCE names the runner (default: build/tests/conformance/odlc_conformance).
# Exit code: the runner's (0 iff no test failed).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
runner=${ODLC_CONFORMANCE:-$here/../../build/tests/conformance/odlc_conformance}
out=$here/../../build/bench/conformance
data=/usr/share/libonnx-testdata/data
while [ $# -gt 0 ]; do
  case $1 in
    --out) out=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    *) break ;;
  esac
done
mkdir -p "$out"
status=0
"$runner" --data "$data" --json "$out/conformance.json" "$@" >"$out/conformance.txt" || status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then
  cat "$out/conformance.txt"
  exit "$status"
fi
"${PYTHON:-python3}" "$here/report.py" "$out/conformance.json" --json "$out/summary.json" \
  --markdown "$out/summary.md"
cat "$out/summary.md"
tail -n 1 "$out/conformance.txt"
exit "$status"
