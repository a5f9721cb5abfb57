#!/bin/sh
# Installs every Debian package odlc's build, tests and examples need. Idempotent: does nothing
# when all are present. Run as root on Debian 12 (bookworm).
set -eu
PACKAGES="cmake ninja-build g++ clang llvm-14-tools libgtest-dev libonnx-dev libprotobuf-dev
protobuf-compiler libfmt-dev libcli11-dev nlohmann-json3-dev gcc-arm-none-eabi
picolibc-arm-none-eabi gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-system-arm
qemu-system-misc python3-torch python3-torchvision python3-onnx libonnx-testdata
dataset-fashion-mnist"

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq $missing >/dev/null
