#!/usr/bin/env bash
# Builds the cost-model firmware (cost_bench.c + every runtime/*.c, build.sh's -O2) for one board.
#   build_firmware.sh TARGET OUT.elf
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
[ $# -eq 2 ] || { echo "usage: build_firmware.sh TARGET OUT.elf" >&2; exit 2; }
mapfile -t runtime < <(ls "$ROOT"/runtime/*.c | LC_ALL=C sort)
"$ROOT/examples/boards/build.sh" "$1" -o "$2" --cflags "-I$ROOT/runtime -I$ROOT/targets/costs" \
    "${runtime[@]}" "$HERE/cost_bench.c"
