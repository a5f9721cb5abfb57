/* odlc_board.h - tiny board support for odlc test/benchmark firmware.
 *
 * build.sh compiles odlc_board.c into every program and defines exactly one of
 * ODLC_BOARD_HOST, ODLC_BOARD_CORTEX_M, ODLC_BOARD_RISCV, plus ODLC_BOARD_NAME
 * (the TARGET string) and the counter constants used below.
 *
 * Console and file I/O need nothing from this header: on the QEMU targets the
 * program is linked against picolibc's semihosting layer, so printf/puts go to
 * run.sh's stdout, fopen/fread/fwrite/fclose work on host files (relative paths
 * resolve against the directory run.sh was started in), and the value returned
 * by main (or passed to exit) is QEMU's exit status.
 */
#ifndef ODLC_BOARD_H
#define ODLC_BOARD_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What board_instructions() measures on this build. */
enum board_counter_kind {
    BOARD_COUNTER_NONE = 0,     /* host: always returns 0 */
    BOARD_COUNTER_EXACT = 1,    /* rv32imafc: minstret (exact under run.sh --icount) */
    BOARD_COUNTER_ESTIMATE = 2  /* cortex-m*: SysTick ticks / 1.6 (under run.sh --icount) */
};

/* TARGET name given to build.sh: "host", "cortex-m4", "cortex-m7", "rv32imafc". */
const char *board_name(void);

enum board_counter_kind board_counter_kind(void);

/* Start (or restart) the instruction counter.  Cheap; may be called many times. */
void board_counter_start(void);

/* Guest instructions retired since the last board_counter_start().
 * Only meaningful when the program runs under `run.sh TARGET fw.elf --icount`:
 * without -icount QEMU derives both minstret and SysTick from host time.
 * Host builds return 0 (see board_counter_kind()). */
uint64_t board_instructions(void);

#ifdef __cplusplus
}
#endif

#endif /* ODLC_BOARD_H */
