#!/usr/bin/env bash
# Build C99 sources (e.g. an odlc OUT/ directory plus a main.c) for one board.
#
#   build.sh TARGET -o fw.elf [--ram BYTES] [--flash BYTES] [--stack BYTES]
#            [--cflags "..."] [--ldflags "..."] [--no-board] SOURCES...
#
#   TARGET    host | cortex-m4 | cortex-m7 | rv32imafc   (facts in TARGET.conf)
#   --ram     size of the linker RAM region (.data+.bss+heap+stack); default and
#             maximum = the board's RAM.  Over budget => the link fails.
#   --flash   size of the linker flash region (code+rodata+.data image); default
#             and maximum = the board's flash.  Over budget => the link fails.
#   --stack   stack reserved at the top of RAM (default BOARD_STACK_SIZE).
#   --cflags  extra compiler flags, also passed to the link (e.g. "-Iout",
#             "-fsanitize=address,undefined"); may be repeated.
#   --ldflags extra link-only flags; may be repeated.
#   --no-board  do not add odlc_board.c (it is added automatically otherwise).
#   -v        print the compiler command line (to stderr).
#   BYTES     decimal, 0x-hex, or with a K/M suffix (256K, 2M).
#
# Always: -std=c99 -O2 -Wall -Wextra -Werror ... -lm.  host uses ${CC:-cc}.
# MCU targets link picolibc with semihosting and also write fw.elf.map.
set -euo pipefail

BOARDS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() { echo "build.sh: $*" >&2; exit 2; }

to_bytes() { # "256K" / "0x4000" / "1M" / "1000" -> decimal
    local v=$1 mult=1
    case $v in
        *[kK]) mult=1024; v=${v%?} ;;
        *[mM]) mult=$((1024 * 1024)); v=${v%?} ;;
    esac
    [[ $v =~ ^(0[xX][0-9a-fA-F]+|[0-9]+)$ ]] || die "bad size '$1'"
    [[ $v =~ ^0[0-9] ]] && v=$((10#$v))
    echo $((v * mult))
}

[ $# -ge 1 ] || die "usage: build.sh TARGET -o fw.elf [--ram B] [--flash B] [--stack B] [--cflags ...] [--ldflags ...] SOURCES..."
TARGET=$1; shift
CONF="$BOARDS_DIR/$TARGET.conf"
if [ ! -f "$CONF" ]; then
    have=""; for c in "$BOARDS_DIR"/*.conf; do c=${c##*/}; have+=" ${c%.conf}"; done
    die "unknown TARGET '$TARGET' (have:$have)"
fi
# shellcheck source=/dev/null
. "$CONF"

OUT="" RAM="" FLASH="" STACK="" USE_BOARD=1 VERBOSE=0
USER_CFLAGS=() USER_LDFLAGS=() SOURCES=()
while [ $# -gt 0 ]; do
    case $1 in
        -o) [ $# -ge 2 ] || die "-o needs a file"; OUT=$2; shift 2 ;;
        --ram) [ $# -ge 2 ] || die "--ram needs a size"; RAM=$(to_bytes "$2"); shift 2 ;;
        --flash) [ $# -ge 2 ] || die "--flash needs a size"; FLASH=$(to_bytes "$2"); shift 2 ;;
        --stack) [ $# -ge 2 ] || die "--stack needs a size"; STACK=$(to_bytes "$2"); shift 2 ;;
        --cflags) [ $# -ge 2 ] || die "--cflags needs a value"
                  read -r -a _f <<<"$2"; USER_CFLAGS+=("${_f[@]}"); shift 2 ;;
        --ldflags) [ $# -ge 2 ] || die "--ldflags needs a value"
                   read -r -a _f <<<"$2"; USER_LDFLAGS+=("${_f[@]}"); shift 2 ;;
        --no-board) USE_BOARD=0; shift ;;
        -v) VERBOSE=1; shift ;;
        -*) die "unknown option '$1'" ;;
        *) SOURCES+=("$1"); shift ;;
    esac
done
[ -n "$OUT" ] || die "missing -o OUTPUT"
[ ${#SOURCES[@]} -gt 0 ] || die "no sources"
# Linker-script fragments among the sources (e.g. odlc's OUT/odlc_memory.ld budget) go after
# the board defaults, so their symbol assignments win; the host build ignores them.
SCRIPTS=() CODE=()
for src in "${SOURCES[@]}"; do
    case $src in *.ld) SCRIPTS+=("$src") ;; *) CODE+=("$src") ;; esac
done
if [ $USE_BOARD = 1 ]; then
    have=0
    for s in "${SOURCES[@]}"; do [ "$(basename "$s")" = odlc_board.c ] && have=1; done
    [ $have = 1 ] || CODE+=("$BOARDS_DIR/odlc_board.c")
fi

read -r -a CPU_FLAGS <<<"${BOARD_CPU_FLAGS:-}"
read -r -a DEFINES <<<"${BOARD_DEFINES:-}"
COMMON=(-std=c99 -O2 -Wall -Wextra -Werror "${CPU_FLAGS[@]}" "${DEFINES[@]}"
        "-DODLC_BOARD_NAME=\"$TARGET\"" -I"$BOARDS_DIR")

if [ "$BOARD_KIND" = host ]; then
    [ -z "$RAM$FLASH$STACK" ] || die "--ram/--flash/--stack are meaningless for host"
    read -r -a CCV <<<"${CC:-cc}"
    [ $VERBOSE = 1 ] && set -x
    "${CCV[@]}" "${COMMON[@]}" "${USER_CFLAGS[@]}" "${CODE[@]}" -o "$OUT" "${USER_LDFLAGS[@]}" -lm
    exit 0
fi

# ---- MCU: picolibc + semihosting, memory regions from the .conf -------------
RAM=${RAM:-$((BOARD_RAM_SIZE))}
FLASH=${FLASH:-$((BOARD_FLASH_SIZE))}
STACK=${STACK:-$((BOARD_STACK_SIZE))}
[ "$RAM" -le $((BOARD_RAM_SIZE)) ] || die "--ram $RAM exceeds $TARGET RAM ($((BOARD_RAM_SIZE)) bytes)"
[ "$FLASH" -le $((BOARD_FLASH_SIZE)) ] || die "--flash $FLASH exceeds $TARGET flash ($((BOARD_FLASH_SIZE)) bytes)"
[ "$STACK" -lt "$RAM" ] || die "--stack $STACK does not fit in RAM ($RAM bytes)"

hex() { printf '0x%x' "$1"; }
MCU=(--specs=picolibc.specs --oslib=semihost --crt0=semihost
     -ffunction-sections -fdata-sections
     "-DODLC_BOARD_ICOUNT_SHIFT=$QEMU_ICOUNT_SHIFT")
[ -n "${BOARD_SYSTICK_HZ:-}" ] && MCU+=("-DODLC_BOARD_SYSTICK_HZ=${BOARD_SYSTICK_HZ}u")
# shellcheck disable=SC2054  # commas inside -Wl, arguments are intended
LINK=(-Wl,--defsym=__flash="$(hex $((BOARD_FLASH_BASE)))"
      -Wl,--defsym=__flash_size="$(hex "$FLASH")"
      -Wl,--defsym=__ram="$(hex $((BOARD_RAM_BASE)))"
      -Wl,--defsym=__ram_size="$(hex "$RAM")"
      -Wl,--defsym=__stack_size="$(hex "$STACK")"
      -Wl,-Map="$OUT.map")
[ $VERBOSE = 1 ] && set -x
"$BOARD_CC" "${COMMON[@]}" "${MCU[@]}" "${USER_CFLAGS[@]}" "${CODE[@]}" \
    -o "$OUT" "${LINK[@]}" "${SCRIPTS[@]}" "${USER_LDFLAGS[@]}" -lm
