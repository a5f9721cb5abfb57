#!/usr/bin/env bash
# odlc training tests (DESIGN.md 4.3, 5): model_train_step of odlc's compiled C against PyTorch
# (tests/reference/train_reference.py with onnx_torch.py's odlc semantics).
#
#   train.sh refs                     fixture: for every model (ODLC_E2E_MODELS, else every model
#                                     in cuts.tsv) and cut (classifier, block, half): odlc compile
#                                     --target host, and the PyTorch reference of 10 SGD steps of
#                                     batch 4 at lr 0.05 with 8 probes, in $WORK/refs/MODEL_CUT
#   train.sh model MODEL CUT TARGET [TOL]
#                                     build check_training.c with the model (host: the fixture's
#                                     compile, ASan+UBSan; else odlc compile --target TARGET),
#                                     run it (QEMU for the boards), fail if any error > TOL (1e-3);
#                                     appends a line to $WORK/results.tsv
#   train.sh ops                      fixture: the per-op gradient cases (op_cases.py): small
#                                     models, odlc compile --train-from input, references of one
#                                     SGD step at lr 1
#   train.sh op GROUP [TOL]           every case of one op group on the host (ASan+UBSan): the
#                                     weight update must be the autograd gradient within TOL
#                                     (1e-3); appends to $WORK/ops_results.tsv
#   train.sh sparse-ops               fixture: the sparse-update cases (sparse_cases.py): odlc
#                                     compile --sparse P|bias, references with PyTorch masks
#   train.sh sparse-op GROUP [TOL] [TARGET]
#                                     as `op` for a sparse group, on the host (ASan+UBSan) or on
#                                     a QEMU target (case 0 of the group)
#   train.sh harness                  self-test of check_training.c: corrupted references must
#                                     make it fail with the documented code
#   train.sh report                   the per-op and per-model tables of worst errors (latest run
#                                     of each), also written to $WORK/results.md
#
# results.tsv (tab-separated): UTC time, model, cut label, target (host is host-asan), cut tensor,
# lr, then check_training.c's worst relative errors ("-" for what did not run): start weights,
# free-running update, weights after, loss, probes before, probes after, step-by-step weights,
# loss, probes, and the reference's noise; status (PASS FAIL COMPILE_ERROR BUILD_ERROR RUN_ERROR
# SANITIZER TIMEOUT REFERENCE_ERROR NAME_MISMATCH PLAN_MISMATCH DOES_NOT_FIT), odlc compile s,
# build s, run s.
# DOES_NOT_FIT (exit 77, skipped): odlc refuses the training because it needs more than the
# board's RAM.
# ops_results.tsv: UTC time, group, case, description, samples/compiled batch, update, weights,
# loss, probes, status.
#
# Environment (ctest sets it; defaults suit a manual run from the source tree with build/):
#   ODLC              odlc binary                  (build/compiler/driver/odlc)
#   ODLC_TRAIN_WORK   outputs                      (build/tests/e2e/train)
#   ODLC_E2E_MODELS_DIR  exported reference models (build/tests/e2e/models; e2e.sh export)
#   ODLC_E2E_MODELS   comma-separated models for `refs`
#   ODLC_PYTHON       python with torch + onnx     (/usr/bin/python3)
#   ODLC_BOARDS       board scripts                (examples/boards)
#   ODLC_RUN_TIMEOUT  per-run limit of run.sh      (300 s here)
# Exit status: 0 pass, 1 fail, 2 usage or setup error, 77 skipped (no cross compiler or QEMU).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
ODLC=${ODLC:-$ROOT/build/compiler/driver/odlc}
WORK=${ODLC_TRAIN_WORK:-$ROOT/build/tests/e2e/train}
MODELS_DIR=${ODLC_E2E_MODELS_DIR:-$ROOT/build/tests/e2e/models}
PYTHON=${ODLC_PYTHON:-/usr/bin/python3}
BOARDS=${ODLC_BOARDS:-$ROOT/examples/boards}
HARNESS=$HERE/check_training.c
CUTS=$HERE/cuts.tsv
REFERENCE=$ROOT/tests/reference
export ODLC_RUN_TIMEOUT=${ODLC_RUN_TIMEOUT:-300}

# The per-model protocol (the issue's): 10 steps of batch 4 at lr 0.05 (cuts.tsv has the lr of
# each cut), 8 probes.
STEPS=10 BATCH=4 PROBES=8 SEED=1
LABELS=(classifier block half)
TARGETS=(host-asan cortex-m4 rv32imafc)

SANITIZE="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
SANITIZER_EXIT=86
export ASAN_OPTIONS=${ASAN_OPTIONS:-exitcode=$SANITIZER_EXIT:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-exitcode=$SANITIZER_EXIT:print_stacktrace=1:halt_on_error=1}

die() { echo "train.sh: $*" >&2; exit 2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
need_odlc() { [ -x "$ODLC" ] || die "odlc not found at $ODLC (set ODLC or build it)"; }
need_tool() {
  command -v "$1" >/dev/null || { echo "train.sh: $1 not installed: skipped"; exit 77; }
}

scratch() {
  local d=$WORK/$1
  rm -rf "$d"
  mkdir -p "$d"
  echo "$d"
}

# Column COL of MODEL's LABEL in cuts.tsv: 3 the cut tensor ("classifier" is odlc's keyword),
# 4 the learning rate.
cuts_field() { # MODEL LABEL COL
  awk -F'\t' -v m="$1" -v l="$2" -v c="$3" '$1 == m && $2 == l { print $c; found = 1 }
    END { exit !found }' "$CUTS" || die "no cut '$2' for model '$1' in $CUTS"
}
cut_of() { cuts_field "$1" "$2" 3; }
lr_of() { cuts_field "$1" "$2" 4; }

cut_models() {
  if [ -n "${ODLC_E2E_MODELS:-}" ]; then
    tr ',' '\n' <<<"$ODLC_E2E_MODELS" | sed '/^$/d'
    return
  fi
  awk -F'\t' '!/^#/ && NF >= 3 && !seen[$1]++ { print $1 }' "$CUTS"
}

# ---- building with cached runtime objects -------------------------------------------------
# The odlc_*.c runtime files are the same in every OUT; each distinct one (with the local
# headers it includes) is compiled once per target and flags, into $WORK/obj.
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

# build_fw TARGET OUT FW CFLAGS: OUT/*.c + check_training.c -> FW with examples/boards/build.sh.
build_fw() {
  local t=$1 out=$2 fw=$3 cflags=$4 src key obj tag
  tag=$(printf '%s\n%s\n' "$t" "$cflags" | sha256sum | cut -c1-16)
  mkdir -p "$WORK/obj/$tag"
  local -a parts=()
  for src in "$out"/*.c; do
    case $(basename "$src") in
      odlc_*.c)
        key=$(source_key "$src")
        obj=$WORK/obj/$tag/$key.o
        if [ ! -f "$obj" ]; then
          "$BOARDS/build.sh" "$t" -o "$obj.$$" --no-board --cflags "-c -I$out $cflags" "$src" ||
            return 1
          mv -f "$obj.$$" "$obj"
        fi
        parts+=("$obj")
        ;;
      *) parts+=("$src") ;;
    esac
  done
  "$BOARDS/build.sh" "$t" -o "$fw" --cflags "-I$out $cflags" "${parts[@]}" "$HARNESS"
}

# run_check TARGET FW REFDIR TOL [UPDATE_TOL] > log: the harness's exit code in $run_rc.
run_check() {
  local t=$1 fw=$2 ref=$3
  shift 3
  run_rc=0
  "$BOARDS/run.sh" "$t" "$fw" -- "$ref" "$@" || run_rc=$?
}

# Fields of check_training's summary line (before update weights loss probes_before probes
# steps_weights steps_loss steps_probes noise), or ten "-".
NO_FIELDS="- - - - - - - - - -"
summary_fields() {
  local line
  line=$(grep '^train: before ' "$1" | tail -1 || true)
  if [ -z "$line" ]; then
    echo "$NO_FIELDS"
    return
  fi
  awk '{ print $3, $5, $7, $9, $11, $13, $15, $17, $19, $21 }' <<<"$line"
}

status_of_rc() {
  case $1 in
    0) echo PASS ;;
    1) echo FAIL ;;
    124) echo TIMEOUT ;;
    "$SANITIZER_EXIT") echo SANITIZER ;;
    *) echo RUN_ERROR ;;
  esac
}

# ---- per-model tests ---------------------------------------------------------------------
# Checks that the cut is still valid and, for "half", that at least half the layers train.
check_cut() { # MODEL LABEL CUT
  [ "$3" = classifier ] && return 0
  "$ODLC" cuts "$MODELS_DIR/$1/model.onnx" --json | "$PYTHON" -c '
import json, sys
cuts = json.load(sys.stdin)
label, name = sys.argv[1], sys.argv[2]
total = max(c["trainable_layers"] for c in cuts)
hit = [c for c in cuts if c["name"] == name]
if not hit:
    sys.exit(f"{name} is not a cut of the model any more (odlc cuts)")
if label == "half" and 2 * hit[0]["trainable_layers"] < total:
    n = hit[0]["trainable_layers"]
    sys.exit(f"{name} trains {n} of {total} layers, less than half")
' "$2" "$3"
}

cmd_refs() {
  need_odlc
  mkdir -p "$WORK/refs"
  local m label cut lr dir jobs=$WORK/refs/jobs.tsv msg
  : >"$jobs"
  for m in $(cut_models); do
    [ -f "$MODELS_DIR/$m/model.onnx" ] ||
      die "model '$m' not exported to $MODELS_DIR (e2e.sh export)"
    for label in "${LABELS[@]}"; do
      cut=$(cut_of "$m" "$label")
      lr=$(lr_of "$m" "$label")
      dir=$(scratch "refs/${m}_$label")
      if ! msg=$(check_cut "$m" "$label" "$cut" 2>&1); then
        echo "CUT_ERROR $msg" >"$dir/status"
        echo "train.sh: $m $label: $msg"
        continue
      fi
      if ! "$ODLC" compile "$MODELS_DIR/$m/model.onnx" -o "$dir/out" --target host \
          --train-from "$cut" --batch $BATCH --lr "$lr" --replay-samples 1 \
          2>"$dir/compile.log"; then
        echo "COMPILE_ERROR $(head -c 2000 "$dir/compile.log")" >"$dir/status"
        echo "train.sh: $m $label: odlc compile failed: $(cat "$dir/compile.log")"
        continue
      fi
      printf '%s\t%s\t%s\t%s\n' "$MODELS_DIR/$m/model.onnx" "$dir" "$dir/out/memory_plan.json" \
        "$lr" >>"$jobs"
    done
  done
  # References in two processes (each single-threaded), every job in one torch import.
  local n half rc1=0 rc2=0
  n=$(wc -l <"$jobs")
  half=$(((n + 1) / 2))
  head -n "$half" "$jobs" >"$jobs.1"
  tail -n +"$((half + 1))" "$jobs" >"$jobs.2"
  make_refs "$jobs.1" >"$WORK/refs/refs.1.log" 2>&1 &
  local pid=$!
  make_refs "$jobs.2" >"$WORK/refs/refs.2.log" 2>&1 || rc2=$?
  wait $pid || rc1=$?
  cat "$WORK/refs/refs.1.log" "$WORK/refs/refs.2.log"
  if [ $rc1 != 0 ] || [ $rc2 != 0 ]; then die "reference generation crashed"; fi
}

# make_refs JOBS: one train_reference.run per line (model, dir, plan, lr); writes DIR/status.
make_refs() {
  "$PYTHON" - "$1" "$REFERENCE" $STEPS $BATCH $PROBES $SEED <<'PY'
import json, os, sys, time, traceback
jobs, ref_dir = sys.argv[1], sys.argv[2]
steps, batch, probes, seed = (int(v) for v in sys.argv[3:7])
sys.path.insert(0, ref_dir)
sys.dont_write_bytecode = True
import train_reference
for line in open(jobs):
    model, d, plan, lr = line.rstrip("\n").split("\t")
    lr = float(lr)
    t0 = time.time()
    try:
        cut = json.load(open(plan))["train"]["cut"]
        s = train_reference.run(model, cut, steps, batch, lr, os.path.join(d, "ref"), seed=seed,
                                probes=probes, plan=plan)
        status = "OK" if not s["plan_name_mismatch"] else \
            "NAME_MISMATCH plan names that are not ONNX weight names: " + \
            json.dumps(s["plan_name_mismatch"])
        if not s["finite"]:
            status = f"REFERENCE_ERROR PyTorch's training is not finite at lr {lr}"
        y = s["yardstick"]
        print(f"{os.path.basename(d)}: lr {lr}, {s['trainable_tensors']} tensors, "
              f"{s['trainable_params']} params, loss {s['losses'][0]:.3f} -> "
              f"{max(s['losses']):.3f} -> {s['losses'][-1]:.3f}; PyTorch float64: probes "
              f"{y['float64']['probes']:.1e}; noise {y['noise']:.1e} "
              f"[{time.time() - t0:.1f}s]", flush=True)
    except Exception as e:
        status = f"REFERENCE_ERROR {type(e).__name__}: {e}"
        traceback.print_exc()
    with open(os.path.join(d, "status"), "w") as f:
        f.write(status + "\n")
PY
}

record() { # MODEL LABEL TARGET CUT LR FIELDS(10) STATUS COMPILE_S BUILD_S RUN_S
  mkdir -p "$WORK"
  local IFS=$'\t'
  printf '%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$WORK/results.tsv"
}

record_none() { # MODEL LABEL TARGET CUT LR STATUS COMPILE_S BUILD_S RUN_S: no numbers
  record "$1" "$2" "$3" "$4" "$5" - - - - - - - - - - "${@:6}"
}

cmd_model() {
  [ $# -ge 3 ] || die "usage: train.sh model MODEL CUT TARGET [TOLERANCE]"
  local m=$1 label=$2 t=$3 tol=${4:-1e-3} board=$3
  need_odlc
  [ "$t" = host-asan ] && board=host
  [ -f "$BOARDS/$board.conf" ] || die "unknown target '$t'"
  (
    # shellcheck source=/dev/null
    . "$BOARDS/$board.conf"
    if [ "$BOARD_KIND" != host ]; then need_tool "$BOARD_CC"; need_tool "$QEMU_SYSTEM"; fi
  )
  local refdir=$WORK/refs/${m}_$label cut status lr
  [ -f "$refdir/status" ] || die "no reference for $m $label: run 'train.sh refs' first"
  cut=$(cut_of "$m" "$label")
  lr=$(lr_of "$m" "$label")
  read -r status _ <"$refdir/status"
  if [ "$status" != OK ] && [ "$status" != NAME_MISMATCH ]; then
    cat "$refdir/status"
    record_none "$m" "$label" "$t" "$cut" "$lr" "$status" - - -
    echo "FAIL: $m $label: $status"
    return 1
  fi
  local dir out fw t0 t1 t2 t3
  dir=$(scratch "run/${m}_${label}_$t")
  fw=$dir/fw.elf
  t0=$(now)
  if [ "$board" = host ]; then
    out=$refdir/out # the fixture's compile
  else
    out=$dir/out
    echo "+ odlc compile $m --target $t --train-from $cut --batch $BATCH --lr $lr"
    if ! "$ODLC" compile "$MODELS_DIR/$m/model.onnx" -o "$out" --target "$t" \
        --train-from "$cut" --batch $BATCH --lr "$lr" --replay-samples 1 2>"$dir/compile.log"; then
      cat "$dir/compile.log"
      if grep -q "but the RAM budget is" "$dir/compile.log"; then
        # odlc's documented refusal: the training does not fit the board's RAM
        record_none "$m" "$label" "$t" "$cut" "$lr" DOES_NOT_FIT - - -
        echo "train.sh: $m $label does not fit $t's RAM: skipped"
        exit 77
      fi
      record_none "$m" "$label" "$t" "$cut" "$lr" COMPILE_ERROR - - -
      echo "FAIL: odlc compile failed ($m, $label, $t)"
      return 1
    fi
    # the reference's checkpoint order comes from the host plan: the target's must be the same
    if ! "$PYTHON" -c 'import json, sys
a, b = ([json.load(open(p))["train"].get(k) for k in ("cut", "trainable")] for p in sys.argv[1:3])
sys.exit(0 if a == b else f"host plan: cut, trainable {a}; target plan: {b}")' \
        "$refdir/out/memory_plan.json" "$out/memory_plan.json"; then
      record_none "$m" "$label" "$t" "$cut" "$lr" PLAN_MISMATCH - - -
      echo "FAIL: the $t plan trains other tensors (or in another order) than the host plan"
      return 1
    fi
  fi
  t1=$(now)
  local cflags=""
  [ "$board" = host ] && cflags=$SANITIZE
  echo "+ build.sh $board OUT/*.c check_training.c"
  if ! build_fw "$board" "$out" "$fw" "$cflags"; then
    record_none "$m" "$label" "$t" "$cut" "$lr" BUILD_ERROR "$(elapsed "$t0" "$t1")" - -
    echo "FAIL: build failed ($m, $label, $t)"
    return 1
  fi
  t2=$(now)
  echo "+ run.sh $board fw.elf -- $refdir/ref $tol -"
  run_check "$board" "$fw" "$refdir/ref" "$tol" - >"$dir/run.log" 2>&1
  t3=$(now)
  grep -v ' probe [0-9]*: \|^free-running step\|^step-by-step step' "$dir/run.log" || true
  local st fields
  st=$(status_of_rc $run_rc)
  fields=$(summary_fields "$dir/run.log")
  [ "$fields" != "$NO_FIELDS" ] || { [ $run_rc = 0 ] && { st=RUN_ERROR; run_rc=1; }; }
  if [ "$status" = NAME_MISMATCH ] && [ "$st" = PASS ]; then
    st=NAME_MISMATCH
    run_rc=1
    cat "$refdir/status"
  fi
  # shellcheck disable=SC2086  # ten fields
  record "$m" "$label" "$t" "$cut" "$lr" $fields "$st" "$(elapsed "$t0" "$t1")" \
    "$(elapsed "$t1" "$t2")" "$(elapsed "$t2" "$t3")"
  echo "train: $m $label ($cut) $t: $st [compile $(elapsed "$t0" "$t1")s, build" \
    "$(elapsed "$t1" "$t2")s, run $(elapsed "$t2" "$t3")s]"
  [ $run_rc = 0 ] || { echo "FAIL: check_training exited with $run_rc ($m, $label, $t)"; return 1; }
}

# ---- per-op tests ------------------------------------------------------------------------
cmd_ops() {
  need_odlc
  local dir
  dir=$(scratch ops)
  "$PYTHON" "$HERE/op_cases.py" --out "$dir" --odlc "$ODLC"
}

cmd_op() {
  [ $# -ge 1 ] || die "usage: train.sh op GROUP [TOLERANCE]"
  op_group "$WORK/ops" host "$1" "${2:-1e-3}"
}

# The sparse-update cases (sparse_cases.py): as the per-op ones, plus case 0 of every group
# compiled for the QEMU targets.
cmd_sparse_ops() {
  need_odlc
  local dir
  dir=$(scratch sparse_ops)
  "$PYTHON" "$HERE/sparse_cases.py" --out "$dir" --odlc "$ODLC" --targets cortex-m4,rv32imafc
}

cmd_sparse_op() {
  [ $# -ge 1 ] || die "usage: train.sh sparse-op GROUP [TOLERANCE] [TARGET]"
  local target=${3:-host}
  [ "$target" = host ] || need_qemu_target "$target"
  op_group "$WORK/sparse_ops" "$target" "$1" "${2:-1e-3}"
}

need_qemu_target() {
  [ -f "$BOARDS/$1.conf" ] || die "unknown target '$1'"
  (
    # shellcheck source=/dev/null
    . "$BOARDS/$1.conf"
    need_tool "$BOARD_CC"
    need_tool "$QEMU_SYSTEM"
  )
}

# op_group ROOT TARGET GROUP TOL: every case of ROOT/GROUP (on a QEMU target: the cases
# compiled for it, OUT in out_TARGET), built and checked against its reference.
op_group() {
  local root=$1 target=$2 group=$3 tol=$4 d fails=0 cases=0
  [ -d "$root/$group" ] || die "no cases for op group '$group' in $root: run the fixture first"
  local label=$group
  [ "$target" = host ] || label=$group@$target
  for d in "$root/$group"/*/; do
    d=${d%/}
    # Each target has its own outputs and logs: ctest runs a group's targets at the same time.
    local k status desc batch samples st fields out=$d/out fw=$d/fw cflags=$SANITIZE
    local build_log=$d/build.log run_log=$d/run.log
    if [ "$target" != host ]; then
      out=$d/out_$target fw=$d/fw_$target cflags=""
      build_log=$d/build_$target.log run_log=$d/run_$target.log
      [ -d "$out" ] || continue
    fi
    k=$(basename "$d")
    cases=$((cases + 1))
    IFS=$'\t' read -r status desc batch samples < <("$PYTHON" -c 'import json, sys
c = json.load(open(sys.argv[1]))
print("\t".join(str(c[k]) for k in ("status", "description", "compiled_batch", "samples")))' \
      "$d/case.json")
    echo "== $group/$k: $desc (batch $samples of $batch)"
    if [ "$status" != OK ]; then
      "$PYTHON" -c 'import json, sys; c = json.load(open(sys.argv[1]))
print(c.get("odlc_command", "")); print(c.get("message", ""))' "$d/case.json"
      record_op "$label" "$k" "$desc" "$samples/$batch" - - - - "$status"
      fails=$((fails + 1))
      continue
    fi
    if ! build_fw "$target" "$out" "$fw" "$cflags" >"$build_log" 2>&1; then
      cat "$build_log"
      record_op "$label" "$k" "$desc" "$samples/$batch" - - - - BUILD_ERROR
      fails=$((fails + 1))
      continue
    fi
    run_check "$target" "$fw" "$d/ref" "$tol" >"$run_log" 2>&1
    st=$(status_of_rc $run_rc)
    fields=$(summary_fields "$run_log")
    [ "$fields" != "$NO_FIELDS" ] || st=RUN_ERROR
    local renamed
    renamed=$("$PYTHON" -c 'import json, sys
print(json.load(open(sys.argv[1]))["plan_name_mismatch"] or "")' "$d/ref/reference.json")
    [ "$st" = PASS ] && [ -n "$renamed" ] && st=NAME_MISMATCH
    if [ "$st" != PASS ]; then
      cat "$run_log"
      [ "$st" != NAME_MISMATCH ] || echo "memory_plan.json train.trainable names that are" \
        "not the ONNX weight names (odlc: ONNX): $renamed"
      fails=$((fails + 1))
    else
      grep '^tensor \|^train: ' "$run_log"
    fi
    # fields: before update weights loss probes_before probes ...
    read -r _ upd wts loss _ probes _ <<<"$fields"
    record_op "$label" "$k" "$desc" "$samples/$batch" "$upd" "$wts" "$loss" "$probes" "$st"
  done
  echo "train: op $label: $cases cases, $fails failing"
  [ $cases -gt 0 ] && [ $fails = 0 ]
}

record_op() {
  mkdir -p "$WORK"
  local IFS=$'\t'
  printf '%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$WORK/ops_results.tsv"
}

# ---- harness self-test -------------------------------------------------------------------
# check_training must fail on each kind of wrong reference; one small op case is the model.
cmd_harness() {
  local src=$WORK/ops/conv_standard/0 dir fails=0
  [ -f "$src/case.json" ] || die "run 'train.sh ops' first"
  dir=$(scratch harness)
  build_fw host "$src/out" "$dir/fw" "$SANITIZE" >"$dir/build.log" 2>&1 ||
    { cat "$dir/build.log"; die "cannot build the self-test"; }
  # a three-step reference of the same model, for the step-by-step checks
  local batch
  batch=$(sed -n 's/^#define MODEL_BATCH \([0-9]*\)/\1/p' "$src/out/model.h")
  "$PYTHON" "$REFERENCE/train_reference.py" --model "$src/model.onnx" --cut input --steps 3 \
    --batch "$batch" --lr 1 --probes 2 --no-yardstick --plan "$src/out/memory_plan.json" \
    --out "$dir/steps_ref" >/dev/null || die "cannot make the three-step reference"
  "$PYTHON" - "$src/ref" "$dir" "$dir/steps_ref" <<'PY'
import os, shutil, sys
import numpy as np
src, out, steps_src = sys.argv[1], sys.argv[2], sys.argv[3]
def variant(name, edit, base=src):
    d = os.path.join(out, name)
    shutil.copytree(base, d)
    edit(d)
def scale(file, factor):
    def edit(d):   # the element of largest magnitude: a relative error of factor - 1
        a = np.fromfile(os.path.join(d, file), "<f4")
        a[int(np.argmax(np.abs(a)))] *= factor
        a.tofile(os.path.join(d, file))
    return edit
def shorten(file):
    def edit(d):
        a = np.fromfile(os.path.join(d, file), "<f4")
        a[:-1].tofile(os.path.join(d, file))
    return edit
def write(file, text):
    return lambda d: open(os.path.join(d, file), "w").write(text)
def first_count(d):
    lines = open(os.path.join(d, "tensors.txt")).read().splitlines()
    n, name = lines[0].split(" ", 1)
    lines[0] = f"{int(n) + 1} {name}"
    open(os.path.join(d, "tensors.txt"), "w").write("\n".join(lines) + "\n")
variant("correct", lambda d: None)
variant("weights_after", scale("weights_after.bin", 1.01))
variant("update", scale("update_expected.bin", 1.01))
variant("probes_after", scale("probes_expected.bin", 1.01))
variant("probes_before", scale("probes_before.bin", 1.01))
variant("loss", scale("losses.bin", 1.01))
variant("weights_before", scale("weights_before.bin", 1.0001))
variant("tensor_sizes", first_count)
variant("short_reference", shorten("weights_after.bin"))
variant("batch_too_big", write("meta.txt", "steps 1\nbatch 99\n"))
variant("missing_file", lambda d: os.remove(os.path.join(d, "probes.bin")))
def noise(value, then=None):
    def edit(d):
        open(os.path.join(d, "meta.txt"), "a").write(f"noise {value}\n")
        if then:
            then(d)
    return edit
def middle(d):   # a weight of the first of the two checkpoints in trajectory.bin
    a = np.fromfile(os.path.join(d, "trajectory.bin"), "<f4")
    half = a[: a.size // 2]
    half[int(np.argmax(np.abs(half)))] *= 1.01
    np.concatenate([half, a[a.size // 2:]]).astype("<f4").tofile(os.path.join(d, "trajectory.bin"))
variant("steps_free_running", noise(0.0), steps_src)
variant("steps_chaotic", noise(1.0), steps_src)
variant("steps_trajectory", noise(1.0, middle), steps_src)
variant("steps_short_trajectory", noise(1.0, shorten("trajectory.bin")), steps_src)
variant("steps_free_running_wrong", noise(0.0, scale("weights_after.bin", 1.01)), steps_src)
PY
  # name | expected exit code | expected output text
  local -a cases=(
    "correct|0|: PASS"
    "weights_after|1|: FAIL"
    "update|1|: FAIL"
    "probes_after|1|: FAIL"
    "probes_before|1|: FAIL"
    "loss|1|: FAIL"
    "weights_before|1|: FAIL"
    "tensor_sizes|2|trainable floats"
    "short_reference|2|too short"
    "batch_too_big|2|meta.txt"
    "missing_file|2|cannot open"
    "steps_free_running|0|steps_weights - "
    "steps_chaotic|0|step by step only"
    "steps_trajectory|1|: FAIL"
    "steps_short_trajectory|2|trajectory.bin is too short"
    "steps_free_running_wrong|1|steps_weights 9.9"
  )
  local c name want text rc
  for c in "${cases[@]}"; do
    IFS='|' read -r name want text <<<"$c"
    rc=0
    "$dir/fw" "$dir/$name" >"$dir/$name.log" 2>&1 || rc=$?
    if [ "$rc" = "$want" ] && grep -qF -- "$text" "$dir/$name.log"; then
      echo "ok:   $name (exit $rc: $text)"
    else
      echo "FAIL: $name: check_training exited with $rc, expected $want and '$text':"
      tail -5 "$dir/$name.log"
      fails=$((fails + 1))
    fi
  done
  echo "train: harness self-test: ${#cases[@]} cases, $fails failing"
  [ $fails = 0 ]
}

# ---- report ------------------------------------------------------------------------------
cmd_report() {
  {
    if [ -s "$WORK/ops_results.tsv" ]; then
      echo "Per-op gradients (host ASan+UBSan; one SGD step at lr 1 from the input, momentum: 3"
      echo "steps): worst relative error of the weight update vs PyTorch (the autograd gradient)"
      echo "per tensor, and of the probes after the step"
      echo
      awk -F'\t' -v groups="$("$PYTHON" "$HERE/op_cases.py" --list)" '
        BEGIN { n = split(groups, order, " "); for (i = 1; i <= n; i++) known[order[i]] = 1 }
        { key = $2 SUBSEP $3; upd[key] = $6; st[key] = $10; probes[key] = $9
          if (!($2 in known)) { known[$2] = 1; order[++n] = $2 }
          cases[$2, $3] = 1; seen[$2] = 1 }
        END {
          printf "| op group | cases | failing | worst update error | worst probe error |\n"
          printf "|---|---:|---:|---:|---:|\n"
          for (i = 1; i <= n; i++) {
            g = order[i]; c = 0; f = 0; wu = -1; wp = -1
            if (!(g in seen)) continue
            for (k in cases) {
              split(k, parts, SUBSEP)
              if (parts[1] != g) continue
              c++
              if (st[k] != "PASS") f++
              if (upd[k] != "-" && upd[k] + 0 > wu) wu = upd[k] + 0
              if (probes[k] != "-" && probes[k] + 0 > wp) wp = probes[k] + 0
            }
            printf "| %s | %d | %s | %s | %s |\n", g, c, f ? "**" f "**" : "0",
              wu < 0 ? "–" : sprintf("%.1e", wu), wp < 0 ? "–" : sprintf("%.1e", wp)
          }
        }' "$WORK/ops_results.tsv"
      echo
    fi
    if [ -s "$WORK/results.tsv" ]; then
      echo "Per-model training ($STEPS SGD steps of batch $BATCH, $PROBES probes), worst relative"
      echo "errors vs PyTorch: probes after training / trained weights (worst tensor). noise: how"
      echo "far PyTorch's own end point moves under rounding-sized perturbations. Up to 1e-4 the"
      echo "training runs free from model_init; above (chaotic, marked s:) each step starts from"
      echo "PyTorch's weights before it (model_restore) and the weights are the worst step's."
      echo
      awk -F'\t' -v targets="${TARGETS[*]}" '
        { key = $2 SUBSEP $3 SUBSEP $4
          if ($12 != "-") cell[key] = $12 " " $9 " " $17 " -"
          else cell[key] = $15 " " $13 " " $17 " s"
          row = $2 SUBSEP $3; lr[row] = $6; if ($16 != "-" || !(row in noise)) noise[row] = $16
          if (!(row in seen)) { seen[row] = 1; order[++n] = row } }
        END {
          nt = split(targets, T, " ")
          printf "| model | cut | lr | noise |"
          for (j = 1; j <= nt; j++) printf " %s |", T[j]
          printf "\n|---|---|---:|---:|"; for (j = 1; j <= nt; j++) printf "---:|"; printf "\n"
          for (i = 1; i <= n; i++) for (k = i + 1; k <= n; k++) if (order[k] < order[i]) {
            x = order[i]; order[i] = order[k]; order[k] = x }
          for (i = 1; i <= n; i++) {
            split(order[i], rc, SUBSEP)
            printf "| %s | %s | %s | %s |", rc[1], rc[2], lr[order[i]], noise[order[i]]
            for (j = 1; j <= nt; j++) {
              key = order[i] SUBSEP T[j]
              if (!(key in cell)) { printf " – |"; continue }
              split(cell[key], v, " ")   # probes weights status mode
              mark = v[4] == "s" ? "s: " : ""
              if (v[1] == "-") printf " **%s** |", v[3]
              else printf " %s%s / %s", mark, v[1], v[2]
              if (v[1] == "-") { if (v[3] == "DOES_NOT_FIT") skip++; else failn++ }
              else if (v[3] == "PASS") { pass++; printf " |" }
              else { failn++; printf " **%s** |", v[3] }
            }
            printf "\n"
          }
          printf "\n%d passing, %d failing, %d skipped (DOES_NOT_FIT: odlc refuses a", pass, failn, skip
          printf " training that does not fit the board RAM)\n"
        }' "$WORK/results.tsv"
      echo
      echo "Cuts:"
      awk -F'\t' '{ row = $2 " " $3; if (!(row in s)) { s[row] = 1; print "  " row ": " $5 } }' \
        "$WORK/results.tsv" | sort
    fi
  } | tee "$WORK/results.md"
  [ -s "$WORK/results.md" ] || echo "train: no results yet in $WORK"
}

[ $# -ge 1 ] || die "usage: train.sh refs|model|ops|op|harness|report ..."
cmd=$1
shift
case $cmd in
  refs) cmd_refs "$@" ;;
  model) cmd_model "$@" ;;
  ops) cmd_ops "$@" ;;
  op) cmd_op "$@" ;;
  sparse-ops) cmd_sparse_ops "$@" ;;
  sparse-op) cmd_sparse_op "$@" ;;
  harness) cmd_harness "$@" ;;
  report) cmd_report "$@" ;;
  *) die "unknown command '$cmd'" ;;
esac
