#!/usr/bin/env bash
# odlc end-to-end tests (DESIGN.md section 5): the reference CNNs from tests/reference/ are
# compiled by odlc, built for a board, run, and compared with the PyTorch outputs.
#
#   e2e.sh export                     export the reference models to $WORK/models (PyTorch)
#   e2e.sh model MODEL TARGET [TOL [RAM POLICY]]
#                                     odlc compile --target TARGET [--ram RAM, checking the fast
#                                     level's policy]; build with examples/boards
#                                     (host: ASan+UBSan, no recovery); run harness/check_model
#                                     on the probes; fail if the worst relative error > TOL
#                                     (default 1e-4). Appends a line to $WORK/results.tsv.
#   e2e.sh warnings COMPILER          every model's emitted C compiles warning-free with
#                                     -Werror: gcc, clang (host output), arm-none-eabi-gcc
#                                     (cortex-m4 output), riscv64-unknown-elf-gcc (rv32imafc)
#   e2e.sh determinism                compiling a model twice (fresh, and over an OUT of another
#                                     model, from another cwd) gives byte-identical OUT dirs
#   e2e.sh harness                    self-test of harness/check_model.c: a fake model with each
#                                     kind of bug must make it fail with the documented code
#   e2e.sh report                     worst relative error per model x target (latest run of
#                                     each) from results.tsv; also written to results.md
#
# results.tsv, one line per `e2e.sh model` run, tab-separated: UTC time, model, target (host is
# "host-asan"), worst relative error (or -), status (PASS FAIL COMPILE_ERROR BUILD_ERROR
# RUN_ERROR SANITIZER TIMEOUT), odlc compile s, build s, run s.
#
# ctest sets the environment; the defaults suit a manual run from the source tree with the build
# in build/:
#   ODLC             odlc binary               (build/compiler/driver/odlc)
#   ODLC_E2E_WORK    all outputs go here       (build/tests/e2e)
#   ODLC_E2E_MODELS  comma-separated models    (export: every default model of models.py;
#                                               others: every model exported to $WORK/models)
#   ODLC_PYTHON      python with torch + onnx  (/usr/bin/python3)
#   ODLC_BOARDS      board scripts             (examples/boards)
#   ODLC_RUN_TIMEOUT per-run limit of run.sh   (120 s)
# Each test works in its own directory under $WORK and keeps it for inspection, so tests can run
# in parallel (ctest -j). Exit status: 0 pass, 1 fail, 2 usage or setup error, 77 skipped (a
# cross compiler or QEMU is not installed).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
ODLC=${ODLC:-$ROOT/build/compiler/driver/odlc}
WORK=${ODLC_E2E_WORK:-$ROOT/build/tests/e2e}
PYTHON=${ODLC_PYTHON:-/usr/bin/python3}
BOARDS=${ODLC_BOARDS:-$ROOT/examples/boards}
MODELS_DIR=$WORK/models
RESULTS=$WORK/results.tsv
HARNESS=$HERE/harness/check_model.c
TARGETS=(host cortex-m4 cortex-m7 rv32imafc)

# Host builds: AddressSanitizer + UndefinedBehaviorSanitizer; any finding ends the run with
# exit code 86 (reported as SANITIZER).
SANITIZE="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
SANITIZER_EXIT=86
export ASAN_OPTIONS=${ASAN_OPTIONS:-exitcode=$SANITIZER_EXIT:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-exitcode=$SANITIZER_EXIT:print_stacktrace=1:halt_on_error=1}

# Warning flags for the emitted C (e2e.sh warnings). Every one is clean today; the extra GCC set
# guards what matters on a microcontroller: no double arithmetic (soft-float on the M4), no VLAs
# or alloca, no implicit narrowing, bounded stack frames. -Wfloat-equal is left out on purpose
# (kernels compare with exact constants such as beta != 0). clang gets -Weverything minus two
# style warnings that do not apply to C99 code (declarations after statements, struct padding),
# and minus warnings newer clangs add for C++-style buffer hardening.
WARN_BASE="-std=c99 -pedantic -Wall -Wextra -Werror -O2 -c"
WARN_GCC_EXTRA="-Wdouble-promotion -Wvla -Walloca -Wconversion -Wsign-conversion -Wshadow
  -Wstrict-prototypes -Wmissing-prototypes -Wmissing-declarations -Wold-style-definition
  -Wcast-qual -Wcast-align=strict -Wundef -Wredundant-decls -Wnested-externs -Wswitch-enum
  -Wformat=2 -Wnull-dereference -Wwrite-strings -Wpointer-arith -Wbad-function-cast
  -Wlogical-op -Wduplicated-cond -Wduplicated-branches"
WARN_MCU_EXTRA="-Wstack-usage=2048"
WARN_CLANG="-Weverything -Wno-unknown-warning-option -Wno-declaration-after-statement
  -Wno-padded -Wno-unsafe-buffer-usage"

die() { echo "e2e.sh: $*" >&2; exit 2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# Models to test: $ODLC_E2E_MODELS, else every model exported to $MODELS_DIR.
model_list() {
  if [ -n "${ODLC_E2E_MODELS:-}" ]; then
    tr ',' '\n' <<<"$ODLC_E2E_MODELS" | sed '/^$/d'
    return
  fi
  [ -d "$MODELS_DIR" ] || die "no models in $MODELS_DIR: run 'e2e.sh export' first"
  local d
  for d in "$MODELS_DIR"/*/model.onnx; do basename "$(dirname "$d")"; done
}

need_model() {
  [ -f "$MODELS_DIR/$1/model.onnx" ] || die "model '$1' not exported: run 'e2e.sh export' first"
}

need_odlc() { [ -x "$ODLC" ] || die "odlc not found at $ODLC (set ODLC or build it)"; }

# A missing cross compiler or QEMU skips the test (exit 77, ctest's SKIP_RETURN_CODE).
need_tool() {
  command -v "$1" >/dev/null || { echo "e2e.sh: $1 not installed: skipped"; exit 77; }
}

# Fresh per-test scratch directory $WORK/NAME.
scratch() {
  local d=$WORK/$1
  rm -rf "$d"
  mkdir -p "$d"
  echo "$d"
}

cmd_export() {
  local models=${ODLC_E2E_MODELS:-} script=$ROOT/tests/reference/export_models.py
  mkdir -p "$MODELS_DIR"
  if [ -z "$models" ]; then
    "$PYTHON" "$script" --out "$MODELS_DIR"
    return
  fi
  # Two exporters in parallel (each is single-threaded): halves the fixture's wall time.
  local -a all half1=() half2=()
  IFS=, read -r -a all <<<"$models"
  local i
  for i in "${!all[@]}"; do
    if [ $((i % 2)) = 0 ]; then half1+=("${all[$i]}"); else half2+=("${all[$i]}"); fi
  done
  local log1=$WORK/export.1.log log2=$WORK/export.2.log rc1=0 rc2=0
  "$PYTHON" "$script" --out "$MODELS_DIR" --models "$(IFS=,; echo "${half1[*]}")" >"$log1" 2>&1 &
  local pid1=$!
  if [ ${#half2[@]} -gt 0 ]; then
    "$PYTHON" "$script" --out "$MODELS_DIR" --models "$(IFS=,; echo "${half2[*]}")" >"$log2" 2>&1 || rc2=$?
  else
    : >"$log2"
  fi
  wait "$pid1" || rc1=$?
  cat "$log1" "$log2"
  if [ $rc1 != 0 ] || [ $rc2 != 0 ]; then
    echo "e2e.sh: export failed" >&2
    exit 1
  fi
  for i in "${all[@]}"; do
    [ -f "$MODELS_DIR/$i/expected.bin" ] || { echo "e2e.sh: $i was not exported" >&2; exit 1; }
  done
}

# One line per test run; appends are single short writes, safe under ctest -j.
record() { # MODEL TARGET WORST STATUS COMPILE_S BUILD_S RUN_S
  mkdir -p "$WORK"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$@" >>"$RESULTS"
}

cmd_model() {
  [ $# -ge 2 ] || die "usage: e2e.sh model MODEL TARGET [TOLERANCE [RAM POLICY]]"
  local m=$1 t=$2 tol=${3:-1e-4} ram=${4:-} policy=${5:-}
  local -a budget=()
  [ -z "$ram" ] || budget=(--ram "$ram")
  need_odlc
  need_model "$m"
  [ -f "$BOARDS/$t.conf" ] || die "unknown target '$t'"
  (
    # shellcheck source=/dev/null
    . "$BOARDS/$t.conf"
    if [ "$BOARD_KIND" != host ]; then need_tool "$BOARD_CC"; need_tool "$QEMU_SYSTEM"; fi
  )
  local dir label=$t
  dir=$(scratch "run/${m}_$t${ram:+_ram$ram}")
  [ "$t" = host ] && label=host-asan
  [ -z "$ram" ] || label="$t@$ram"
  local out=$dir/out fw=$dir/fw.elf in=$MODELS_DIR/$m/input.bin ref=$MODELS_DIR/$m/expected.bin
  local t0 t1 t2 t3 rc=0

  t0=$(now)
  echo "+ odlc compile $m --target $t ${budget[*]}"
  if ! "$ODLC" compile "$MODELS_DIR/$m/model.onnx" -o "$out" --target "$t" --train-from none \
    "${budget[@]}"; then
    record "$m" "$label" - COMPILE_ERROR - - -
    echo "FAIL: odlc compile failed ($m, $t)"
    return 1
  fi
  # Under a tight budget the fast level's policy is what this run is about: check it is the one.
  if [ -n "$policy" ] && ! grep -q "\"policy\": \"$policy\"" "$out/memory_plan.json"; then
    echo "FAIL: expected the fast level's policy '$policy' ($m, $t, --ram $ram)"
    grep '"policy"' "$out/memory_plan.json"
    return 1
  fi
  t1=$(now)

  local cflags="-I$out"
  [ "$t" = host ] && cflags+=" $SANITIZE"
  echo "+ build.sh $t --cflags \"$cflags\" OUT/*.c check_model.c"
  if ! "$BOARDS/build.sh" "$t" -o "$fw" --cflags "$cflags" "$out"/*.c "$HARNESS"; then
    record "$m" "$label" - BUILD_ERROR "$(elapsed "$t0" "$t1")" - -
    echo "FAIL: build failed ($m, $t)"
    return 1
  fi
  t2=$(now)

  echo "+ run.sh $t fw.elf -- input.bin expected.bin $tol"
  "$BOARDS/run.sh" "$t" "$fw" -- "$in" "$ref" "$tol" >"$dir/run.log" 2>&1 || rc=$?
  t3=$(now)
  cat "$dir/run.log"
  local worst status
  worst=$(sed -n 's/^[0-9]* samples, worst relative error \([^ ]*\) .*/\1/p' "$dir/run.log" | tail -1)
  case $rc in
    0) status=PASS ;;
    1) status=FAIL ;;
    124) status=TIMEOUT ;;
    "$SANITIZER_EXIT") status=SANITIZER ;;
    *) status=RUN_ERROR ;;
  esac
  [ -n "$worst" ] || { worst=-; [ $rc = 0 ] && { status=RUN_ERROR; rc=1; }; }
  record "$m" "$label" "$worst" "$status" "$(elapsed "$t0" "$t1")" "$(elapsed "$t1" "$t2")" \
    "$(elapsed "$t2" "$t3")"
  echo "e2e: $m $label worst relative error $worst (tolerance $tol): $status" \
    "[compile $(elapsed "$t0" "$t1")s, build $(elapsed "$t1" "$t2")s, run $(elapsed "$t2" "$t3")s]"
  [ $rc = 0 ] || { echo "FAIL: check_model exited with $rc ($m, $t)"; return 1; }
}

cmd_warnings() {
  [ $# = 1 ] || die "usage: e2e.sh warnings gcc|clang|arm-none-eabi-gcc|riscv64-unknown-elf-gcc"
  local cc=$1 target flags
  need_odlc
  case $cc in
    gcc) target=host; flags="$WARN_BASE $WARN_GCC_EXTRA" ;;
    clang) target=host; flags="$WARN_BASE $WARN_CLANG" ;;
    arm-none-eabi-gcc) target=cortex-m4 ;;
    riscv64-unknown-elf-gcc) target=rv32imafc ;;
    *) die "unknown compiler '$cc'" ;;
  esac
  if [ "$target" != host ]; then # the board's own CPU flags and C library headers (picolibc)
    local BOARD_CC BOARD_CPU_FLAGS
    # shellcheck source=/dev/null
    . "$BOARDS/$target.conf"
    [ "$BOARD_CC" = "$cc" ] || die "$target.conf uses $BOARD_CC, not $cc"
    flags="$WARN_BASE $WARN_GCC_EXTRA $WARN_MCU_EXTRA $BOARD_CPU_FLAGS --specs=picolibc.specs"
  fi
  need_tool "$cc"
  local -a f
  read -r -d '' -a f <<<"$flags" || true # the flag lists span lines
  echo "$cc ${f[*]}"

  local dir m src key fails=0 files=0 distinct=0
  local -A seen=()
  dir=$(scratch "warnings/$cc")
  for m in $(model_list); do
    need_model "$m"
    "$ODLC" compile "$MODELS_DIR/$m/model.onnx" -o "$dir/$m" --target "$target" --train-from classifier ||
      { echo "FAIL: odlc compile $m --target $target"; fails=$((fails + 1)); continue; }
    for src in "$dir/$m"/*.c; do
      files=$((files + 1))
      # The runtime kernels are the same in every model: compile each distinct translation
      # unit (the file and the local headers it includes) once.
      key=$(source_key "$src")
      [ -z "${seen[$key]:-}" ] || continue
      seen[$key]=1
      distinct=$((distinct + 1))
      if ! "$cc" "${f[@]}" -I"$dir/$m" "$src" -o "${src%.c}.o" 2>"${src%.c}.log"; then
        echo "FAIL: $m/$(basename "$src"):"
        head -40 "${src%.c}.log"
        fails=$((fails + 1))
      elif [ -s "${src%.c}.log" ]; then # diagnostics that are not warnings (notes) still count
        echo "FAIL: $m/$(basename "$src") printed diagnostics:"
        head -40 "${src%.c}.log"
        fails=$((fails + 1))
      fi
    done
  done
  echo "e2e: warnings $cc ($target output): $files files ($distinct distinct), $fails failing"
  [ $fails = 0 ] && [ $files -gt 0 ]
}

# Hash of a C file and of every local header it includes, transitively ("..." includes that
# exist next to it): two files with the same key compile identically.
source_key() {
  local d todo f inc
  d=$(dirname "$1")
  local -a order=("$1")
  local -A have=(["$1"]=1)
  todo=0
  while [ $todo -lt ${#order[@]} ]; do
    f=${order[$todo]}
    todo=$((todo + 1))
    while IFS= read -r inc; do
      if [ -f "$d/$inc" ] && [ -z "${have[$d/$inc]:-}" ]; then
        have[$d/$inc]=1
        order+=("$d/$inc")
      fi
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
  done
  for f in "${order[@]}"; do basename "$f"; cat "$f"; done | sha256sum | cut -d' ' -f1
}

cmd_determinism() {
  need_odlc
  local dir m t other fails=0 runs=0
  dir=$(scratch determinism)
  local -a models
  mapfile -t models < <(model_list)
  [ ${#models[@]} -gt 0 ] || die "no models"
  for t in "${TARGETS[@]}"; do
    for i in "${!models[@]}"; do
      m=${models[$i]}
      other=${models[$(((i + 1) % ${#models[@]}))]}
      need_model "$m"
      runs=$((runs + 1))
      # a: fresh OUT, relative paths from $dir.  b: OUT first filled by another model, then
      # replaced, from another cwd with absolute paths.
      (cd "$dir" && "$ODLC" compile "$MODELS_DIR/$m/model.onnx" -o "a_${m}_$t" --target "$t" --train-from classifier) ||
        { echo "FAIL: odlc compile $m --target $t"; fails=$((fails + 1)); continue; }
      "$ODLC" compile "$MODELS_DIR/$other/model.onnx" -o "$dir/b_${m}_$t" --target "$t" --train-from classifier ||
        { echo "FAIL: odlc compile $other --target $t"; fails=$((fails + 1)); continue; }
      (cd / && "$ODLC" compile "$MODELS_DIR/$m/model.onnx" -o "$dir/b_${m}_$t" --target "$t" --train-from classifier) ||
        { echo "FAIL: odlc recompile $m --target $t"; fails=$((fails + 1)); continue; }
      if ! diff -r "$dir/a_${m}_$t" "$dir/b_${m}_$t" >"$dir/diff_${m}_$t.txt"; then
        echo "FAIL: $m --target $t: OUT differs between two compiles:"
        head -20 "$dir/diff_${m}_$t.txt"
        fails=$((fails + 1))
      else
        rm -rf "$dir/a_${m}_$t" "$dir/b_${m}_$t" "$dir/diff_${m}_$t.txt"
      fi
    done
  done
  echo "e2e: determinism: $runs model x target pairs, $fails differing"
  [ $fails = 0 ]
}

# check_model must catch every bug it claims to: a fake model (harness/selftest) with one bug
# at a time, on tiny probes whose reference outputs all have scale 8.
cmd_harness() {
  local dir fails=0
  dir=$(scratch harness)
  "$PYTHON" - "$dir" <<'PY'
import struct, sys
d = sys.argv[1]
xs = [(4, 4, 1, 2), (1, 2, 3, 8), (-4, -4, 0, 1)]
ys = [(a + b, c - e, a * e) for a, b, c, e in xs]
def write(name, rows):
    with open(f"{d}/{name}", "wb") as f:
        for r in rows:
            f.write(struct.pack("<%df" % len(r), *r))
write("in.bin", xs)
write("ref.bin", ys)
write("ref_extra.bin", ys + [ys[0]])
write("ref_short.bin", ys[:2])
write("in_partial.bin", xs + [(1, 2)])
PY
  # name | -D flags | input | reference | tolerance | expected exit code | expected output text
  local -a cases=(
    "correct|-DNO_BUG|in.bin|ref.bin|1e-4|0|worst relative error 0.000e+00"
    "offset_beyond_tolerance|-DBUG_OFFSET|in.bin|ref.bin|1e-4|1|worst relative error 2.000e-04"
    "offset_within_tolerance|-DBUG_OFFSET|in.bin|ref.bin|1e-3|0|worst relative error 2.000e-04"
    "nan_output|-DBUG_NAN|in.bin|ref.bin|1e-4|1|worst relative error inf"
    "writes_const_input|-DBUG_WRITES_INPUT|in.bin|ref.bin|1e-4|2|modified its const input"
    "state_between_calls|-DBUG_STATE|in.bin|ref.bin|1e-4|2|state leaks between"
    "infer_fails|-DBUG_FAILS|in.bin|ref.bin|1e-4|2|model_infer failed"
    "reference_too_long|-DNO_BUG|in.bin|ref_extra.bin|1e-4|2|has more samples than"
    "reference_too_short|-DNO_BUG|in.bin|ref_short.bin|1e-4|2|has fewer samples than"
    "partial_input_sample|-DNO_BUG|in_partial.bin|ref.bin|1e-4|2|ends with a partial sample"
    "missing_file|-DNO_BUG|in.bin|no_such.bin|1e-4|2|cannot open no_such.bin"
    "asan_catches_overflow|-DBUG_OVERFLOW|in.bin|ref.bin|1e-4|$SANITIZER_EXIT|AddressSanitizer"
    "ubsan_catches_ub|-DBUG_UB|in.bin|ref.bin|1e-4|$SANITIZER_EXIT|runtime error: signed integer overflow"
  )
  local c name defs in ref tol want text rc
  local -A built=()
  for c in "${cases[@]}"; do
    IFS='|' read -r name defs in ref tol want text <<<"$c"
    if [ -z "${built[$defs]:-}" ]; then
      "$BOARDS/build.sh" host -o "$dir/check$defs" --no-board \
        --cflags "-I$HERE/harness/selftest $defs $SANITIZE" \
        "$HERE/harness/selftest/fake_model.c" "$HARNESS" || die "cannot build the self-test"
      built[$defs]=1
    fi
    rc=0
    (cd "$dir" && "./check$defs" "$in" "$ref" "$tol") >"$dir/$name.log" 2>&1 || rc=$?
    if [ "$rc" = "$want" ] && grep -qF "$text" "$dir/$name.log"; then
      echo "ok:   $name (exit $rc: $text)"
    else
      echo "FAIL: $name: check_model exited with $rc, expected $want and '$text':"
      cat "$dir/$name.log"
      fails=$((fails + 1))
    fi
  done
  echo "e2e: harness self-test: ${#cases[@]} cases, $fails failing"
  [ $fails = 0 ]
}

cmd_report() {
  if [ ! -s "$RESULTS" ]; then
    echo "e2e: no results yet ($RESULTS)"
    return 0
  fi
  # Latest line per (model, target); columns host-asan, cortex-m4, cortex-m7, rv32imafc.
  awk -F'\t' '
    { key = $2 SUBSEP $3; err[key] = $4; st[key] = $5; when[key] = $1
      if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2 } }
    END {
      nt = split("host-asan cortex-m4 cortex-m7 rv32imafc", T, " ")
      printf "| model |"; for (j = 1; j <= nt; j++) printf " %s |", T[j]; printf "\n"
      printf "|---|"; for (j = 1; j <= nt; j++) printf "---:|"; printf "\n"
      # sort model names
      for (i = 1; i <= n; i++) for (k = i + 1; k <= n; k++) if (order[k] < order[i]) {
        x = order[i]; order[i] = order[k]; order[k] = x }
      for (i = 1; i <= n; i++) {
        printf "| %s |", order[i]
        for (j = 1; j <= nt; j++) {
          key = order[i] SUBSEP T[j]
          if (!(key in st)) cell = "–"
          else if (st[key] == "PASS") cell = err[key]
          else cell = (err[key] == "-" ? "" : err[key] " ") "**" st[key] "**"
          if ((key in st) && st[key] == "PASS" && (!(j in worst) || err[key] + 0 > worst[j] + 0))
            worst[j] = err[key]
          printf " %s |", cell
        }
        printf "\n"
      }
      printf "| **worst** |"
      for (j = 1; j <= nt; j++) printf " %s |", (j in worst) ? worst[j] : "–"
      printf "\n"
    }' "$RESULTS" | tee "$WORK/results.md"
  echo "(worst relative error max|y-r|/max|r| over the probes vs PyTorch; latest run of each" \
    "model x target in $RESULTS)"
}

[ $# -ge 1 ] || die "usage: e2e.sh export|model|warnings|determinism|harness|report ..."
cmd=$1
shift
case $cmd in
  export) cmd_export "$@" ;;
  model) cmd_model "$@" ;;
  warnings) cmd_warnings "$@" ;;
  determinism) cmd_determinism "$@" ;;
  harness) cmd_harness "$@" ;;
  report) cmd_report "$@" ;;
  *) die "unknown command '$cmd'" ;;
esac
