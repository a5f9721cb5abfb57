#!/bin/sh
# Compiles the Fashion-MNIST example for TARGET, builds the firmware and runs it: it learns
# classes 6-9 on the device in two experiences. Used by scripts/run-example.sh and by ctest.
#
#   examples/fashion_mnist/run.sh ODLC TARGET WORKDIR [--check]
#
# --check: exit 1 unless, after both experiences, new-class accuracy (classes 6-9) is at least
# 50 % (chance is 10 %) and old-class accuracy (0-5) fell by at most 10 points.
set -eu
ODLC=$1 TARGET=$2 WORK=$3 CHECK=${4:-}
HERE=$(cd "$(dirname "$0")" && pwd)
BOARDS=$HERE/../boards
mkdir -p "$WORK"
data=/usr/share/datasets/fashion-mnist
# The firmware reads raw images and labels (idx headers stripped) through semihosting.
for split in train t10k; do
  [ -s "$WORK/$split-labels.u8" ] && continue
  gunzip -c $data/$split-images-idx3-ubyte.gz | tail -c +17 > "$WORK/$split-images.u8"
  gunzip -c $data/$split-labels-idx1-ubyte.gz | tail -c +9 > "$WORK/$split-labels.u8"
done

# A chip with 512 KiB of RAM and 1 MiB of flash: odlc picks the latent-replay cut
# (--train-from auto) so the model's RAM (arena, trainable weights, replay buffer, latent cache)
# fits, and odlc_memory.ld makes the whole firmware (model, the images it stages for an
# experience, stack, heap) fail to link if it does not.
"$ODLC" compile "$HERE/model.onnx" -o "$WORK/out" --target "$TARGET" --ram 512K --flash 1M \
  --lr 0.01 --momentum 0.9 --epochs 16 --class-weighted \
  --replay-samples 400 --replay-per-batch 7 --learn-cache 80
budget=$(ls "$WORK"/out/odlc_memory.ld 2>/dev/null || true) # none for the host
"$BOARDS/build.sh" "$TARGET" -o "$WORK/fw.elf" --cflags "-I$WORK/out" "$WORK"/out/*.c \
  "$HERE/main.c" $budget
"$BOARDS/run.sh" "$TARGET" "$WORK/fw.elf" --icount -- \
  "$WORK/train-images.u8" "$WORK/train-labels.u8" "$WORK/t10k-images.u8" "$WORK/t10k-labels.u8" \
  500 40 40 > "$WORK/output.txt"
grep -v '^RESULT' "$WORK/output.txt"
[ "$CHECK" = --check ] || exit 0
awk '/^RESULT before/ { for (i = 1; i <= NF; i++) if ($i ~ /^old=/) before = substr($i, 5) }
     /^RESULT after experience 2/ {
       for (i = 1; i <= NF; i++) {
         if ($i ~ /^old=/) old = substr($i, 5)
         if ($i ~ /^new=/) new = substr($i, 5)
       }
     }
     END {
       ok = new >= 0.5 && old >= before - 0.10
       printf "check: old classes %.1f%% -> %.1f%% (drop %.1f points, limit 10), new classes %.1f%% (floor 50%%): %s\n",
              100 * before, 100 * old, 100 * (before - old), 100 * new, ok ? "PASS" : "FAIL"
       exit ok ? 0 : 1
     }' "$WORK/output.txt"
