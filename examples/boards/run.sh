#!/usr/bin/env bash
# Run a program built by build.sh and return its exit code.
#
#   run.sh TARGET fw.elf [--icount] [-v] [-- ARGS...]
#
#   host       runs fw.elf directly.
#   MCU        runs it under QEMU (machine from TARGET.conf) with semihosting:
#              the program's stdout AND stderr arrive on run.sh's stdout (QEMU
#              has a single semihosting console), QEMU's own diagnostics on
#              stderr; fopen() of relative paths resolves against the current
#              directory, which run.sh leaves unchanged; stdin is /dev/null.
#   --icount   deterministic virtual clock (-icount shift=QEMU_ICOUNT_SHIFT),
#              needed for board_instructions(); ignored for host.
#   -v         print the command line (to stderr).
#   -- ARGS    program arguments (argv[1..]); under QEMU they travel through
#              semihosting (-semihosting-config arg=...), so no commas in them.
#
# Environment: ODLC_RUN_TIMEOUT (seconds, default 120; exit code 124 on
# timeout), ODLC_QEMU_EXTRA (extra QEMU arguments, word-split).
set -euo pipefail

BOARDS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "run.sh: $*" >&2; exit 2; }

[ $# -ge 2 ] || die "usage: run.sh TARGET fw.elf [--icount] [-v]"
TARGET=$1 ELF=$2; shift 2
CONF="$BOARDS_DIR/$TARGET.conf"
[ -f "$CONF" ] || die "unknown TARGET '$TARGET'"
# shellcheck source=/dev/null
. "$CONF"
ICOUNT=0 VERBOSE=0
PROG_ARGS=()
while [ $# -gt 0 ]; do
    case $1 in
        --icount) ICOUNT=1 ;;
        -v) VERBOSE=1 ;;
        --) shift; PROG_ARGS=("$@"); break ;;
        *) die "unknown argument '$1'" ;;
    esac
    shift
done
[ -f "$ELF" ] || die "no such file: $ELF"
TIMEOUT=${ODLC_RUN_TIMEOUT:-120}

if [ "$BOARD_KIND" = host ]; then
    case $ELF in */*) ;; *) ELF=./$ELF ;; esac
    CMD=("$ELF" "${PROG_ARGS[@]}")
else
    # picolibc's crt0 supplies argv[0] itself; the semihosting args become argv[1..].
    SEMI=enable=on,target=native,chardev=odlc_semihost
    for a in "${PROG_ARGS[@]}"; do
        case $a in *,*) die "program arguments may not contain commas: '$a'" ;; esac
        SEMI+=",arg=$a"
    done
    read -r -a EXTRA <<<"${QEMU_EXTRA:-}"
    read -r -a USER_EXTRA <<<"${ODLC_QEMU_EXTRA:-}"
    # shellcheck disable=SC2054  # commas inside QEMU option values are intended
    CMD=("$QEMU_SYSTEM" -M "$QEMU_MACHINE" "${EXTRA[@]}"
         -display none -serial none -monitor none
         -chardev stdio,id=odlc_semihost
         -semihosting-config "$SEMI")
    [ $ICOUNT = 1 ] && CMD+=(-icount "shift=$QEMU_ICOUNT_SHIFT")
    CMD+=("${USER_EXTRA[@]}" -kernel "$ELF")
fi

[ $VERBOSE = 1 ] && echo "+ timeout $TIMEOUT ${CMD[*]}" >&2
rc=0
if [ "$BOARD_KIND" = host ]; then
    timeout -k 5 "$TIMEOUT" "${CMD[@]}" || rc=$?
else
    timeout -k 5 "$TIMEOUT" "${CMD[@]}" </dev/null || rc=$?
fi
[ $rc = 124 ] && echo "run.sh: $TARGET: timed out after ${TIMEOUT}s" >&2
exit $rc
