#!/bin/sh
# The main job: builds odlc, compiles the Fashion-MNIST example (a small CNN pretrained on
# classes 0-5) for a Cortex-M4 with a 512 KiB RAM and 1 MiB flash budget, runs the firmware
# under QEMU (mps2-an386): it learns classes 6-9 on the device in two experiences with latent
# replay and prints accuracy on old and new classes before and after each, then the memory plan.
#
#   scripts/run-example.sh [TARGET]      (default cortex-m4; also cortex-m7, rv32imafc, host)
set -eu
cd "$(dirname "$0")/.."
TARGET=${1:-cortex-m4}
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C build odlc >/dev/null
work=build/example-$TARGET
echo "== learning classes 6-9 on $TARGET =="
examples/fashion_mnist/run.sh build/compiler/driver/odlc "$TARGET" "$work" --check
echo
echo "== memory plan ($work/out/memory_plan.md) =="
sed -n '/^| memory/,/^$/p' "$work/out/memory_plan.md"
sed -n '/^Arena/p' "$work/out/memory_plan.md"
grep -o '"cut": "[^"]*"' "$work/out/memory_plan.json"
