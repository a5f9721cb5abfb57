#!/bin/sh
# The main job: builds odlc, compiles the Fashion-MNIST example (a small CNN pretrained on
# classes 0-5) for a Cortex-M4 with a 256 KiB RAM and 1 MiB flash budget, runs the firmware
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
mkdir -p "$work"
data=/usr/share/datasets/fashion-mnist
# The firmware reads raw images and labels (idx headers stripped) through semihosting.
for split in train t10k; do
  gunzip -c $data/$split-images-idx3-ubyte.gz | tail -c +17 > "$work/$split-images.u8"
  gunzip -c $data/$split-labels-idx1-ubyte.gz | tail -c +9 > "$work/$split-labels.u8"
done

# The model's RAM (arena, trainable weights, replay buffer) must fit 256 KiB: odlc picks the
# latent-replay cut (--train-from auto) under that budget and fails if nothing fits.
build/compiler/driver/odlc compile examples/fashion_mnist/model.onnx -o "$work/out" \
  --target "$TARGET" --ram 256K --flash 1M \
  --lr 0.01 --momentum 0.9 --epochs 16 --class-weighted \
  --replay-samples 400 --replay-per-batch 6 --learn-cache 100
# The firmware also stages one experience's images (100 x 3 KiB) outside the model's budget.
examples/boards/build.sh "$TARGET" -o "$work/fw.elf" --ram 1048576 --flash 1048576 \
  --cflags "-I$work/out" "$work"/out/*.c examples/fashion_mnist/main.c
echo "== running on $TARGET =="
examples/boards/run.sh "$TARGET" "$work/fw.elf" --icount -- \
  "$work/train-images.u8" "$work/train-labels.u8" "$work/t10k-images.u8" "$work/t10k-labels.u8" \
  500 50 40 | grep -v '^RESULT'
echo
echo "== memory plan ($work/out/memory_plan.md) =="
sed -n '/^| memory/,/^$/p' "$work/out/memory_plan.md"
sed -n '/^Arena/p' "$work/out/memory_plan.md"
grep -o '"cut": "[^"]*"' "$work/out/memory_plan.json"
