#!/bin/sh
# Runs the whole test suite: installs dependencies, builds odlc with ASan and UBSan, runs every
# ctest suite (unit, lit, conformance, e2e on host and QEMU). The last line is
# `N passed, N failed`.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
BUILD=${ODLC_TEST_BUILD:-build-test}
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DODLC_SANITIZE=ON >/dev/null
ninja -C "$BUILD"
log="$BUILD/ctest.log"
status=0
ctest --test-dir "$BUILD" -j "${ODLC_TEST_JOBS:-2}" --output-on-failure "$@" 2>&1 | tee "$log" ||
  status=$?
summary=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
total=$(echo "$summary" | sed -E 's/.* out of ([0-9]+).*/\1/')
failed=$(echo "$summary" | sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/')
if [ -z "$summary" ]; then
  echo "0 passed, 1 failed"
  exit 1
fi
grep -q "tests passed, 0 tests failed" "$log" || status=1
echo "$((total - failed)) passed, $failed failed"
exit $status
