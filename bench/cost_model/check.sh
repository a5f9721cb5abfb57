#!/usr/bin/env bash
# The cost model's check with teeth (ctest cost_model_check_TARGET, label qemu): runs the
# firmware's fresh shapes on TARGET under QEMU -icount and compares every `check` line with the
# stored table's prediction (cost_model_check, through targets/CostModel.h) within 15 %: every
# kind, odd channel counts, depthwise, strides and batches included.
#   check.sh TARGET WORK_DIR COST_MODEL_CHECK_BINARY
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
[ $# -eq 3 ] || { echo "usage: check.sh TARGET WORK_DIR COST_MODEL_CHECK" >&2; exit 2; }
target=$1 work=$2 checker=$3
mkdir -p "$work"
"$HERE/build_firmware.sh" "$target" "$work/cost_bench.elf"
"$ROOT/examples/boards/run.sh" "$target" "$work/cost_bench.elf" --icount -- check \
    >"$work/check.txt"
"$checker" "$target" 15 <"$work/check.txt"
