#!/bin/sh
# The main job: builds odlc, compiles the Fashion-MNIST example model for a Cortex-M4 with a
# 256 KiB RAM and 1 MiB flash budget, builds the firmware and runs it under QEMU (mps2-an386):
# it prints predictions and per-class accuracy, then the memory-plan summary.
#
#   scripts/run-example.sh [TARGET]      (default cortex-m4; also cortex-m7, rv32imafc, host)
set -eu
cd "$(dirname "$0")/.."
TARGET=${1:-cortex-m4}
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C build odlc >/dev/null

work=build/example-$TARGET
mkdir -p "$work"
data=/usr/share/datasets/fashion-mnist
# The firmware reads raw test images and labels (idx headers stripped) through semihosting.
gunzip -c $data/t10k-images-idx3-ubyte.gz | tail -c +17 > "$work/images.u8"
gunzip -c $data/t10k-labels-idx1-ubyte.gz | tail -c +9 > "$work/labels.u8"

build/compiler/driver/odlc compile examples/fashion_mnist/model.onnx -o "$work/out" \
  --target "$TARGET" --ram 256K --flash 1M
examples/boards/build.sh "$TARGET" -o "$work/fw.elf" --ram 262144 --flash 1048576 \
  --cflags "-I$work/out" "$work"/out/*.c examples/fashion_mnist/main.c
echo "== running on $TARGET =="
examples/boards/run.sh "$TARGET" "$work/fw.elf" --icount -- "$work/images.u8" "$work/labels.u8" 1000
echo
echo "== memory plan ($work/out/memory_plan.md) =="
sed -n '/^| memory/,/^$/p' "$work/out/memory_plan.md"
sed -n '/^Arena/p' "$work/out/memory_plan.md"
