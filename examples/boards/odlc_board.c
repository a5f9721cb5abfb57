/* odlc_board.c - see odlc_board.h.  C99, warning-clean with -Wall -Wextra. */
#include "odlc_board.h"

#ifndef ODLC_BOARD_NAME
#define ODLC_BOARD_NAME "unknown"
#endif

const char *board_name(void) { return ODLC_BOARD_NAME; }

#if defined(ODLC_BOARD_CORTEX_M)
/* ------------------------------------------------------------------------
 * Cortex-M: QEMU implements no DWT cycle counter (CYCCNT reads 0), but SysTick
 * on the processor clock follows QEMU's virtual clock.  Under -icount shift=S
 * every instruction advances that clock by 2^S ns, so
 *     instructions = ticks * 1e9 / (SYSTICK_HZ * 2^S)      (= ticks / 1.6)
 * SysTick is a 24-bit down-counter: we run it free with RELOAD = 0xFFFFFF and
 * count wraps in the SysTick exception (one per ~10.5 M instructions), so
 * arbitrarily long runs are fine as long as interrupts are not masked for a
 * whole wrap period.
 */
#ifndef ODLC_BOARD_SYSTICK_HZ
#define ODLC_BOARD_SYSTICK_HZ 25000000u
#endif
#ifndef ODLC_BOARD_ICOUNT_SHIFT
#define ODLC_BOARD_ICOUNT_SHIFT 6
#endif

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SCB_ICSR (*(volatile uint32_t *)0xE000ED04u)
#define SYST_CSR_ENABLE_TICKINT_CPUCLK 7u
#define ICSR_PENDSTSET (1u << 26)
#define SYST_RELOAD 0x00FFFFFFu

static volatile uint32_t systick_wraps;
static int systick_running;
static uint64_t counter_start_ticks;

/* Replaces picolibc's weak default entry in its vector table. */
void arm_systick_isr(void);
void arm_systick_isr(void) { systick_wraps++; }

/* Monotonic tick count since the counter was first started. */
static uint64_t systick_ticks(void)
{
    uint32_t w1, w2, v, pending;
    do {
        w1 = systick_wraps;
        v = SYST_CVR;
        pending = SCB_ICSR & ICSR_PENDSTSET;
        w2 = systick_wraps;
    } while (w1 != w2);
    /* Wrapped (counter reloaded, v near the top) but the exception has not
     * been taken yet: count that wrap ourselves. */
    if (pending && v > SYST_RELOAD / 2u)
        w1++;
    return (uint64_t)w1 * (SYST_RELOAD + 1u) + (SYST_RELOAD - v);
}

enum board_counter_kind board_counter_kind(void) { return BOARD_COUNTER_ESTIMATE; }

void board_counter_start(void)
{
    if (!systick_running) {
        SYST_CSR = 0u;
        SYST_RVR = SYST_RELOAD;
        SYST_CVR = 0u;          /* any write clears the counter */
        systick_wraps = 0u;
        SYST_CSR = SYST_CSR_ENABLE_TICKINT_CPUCLK;
        while (SYST_CVR == 0u) /* wait for the first load of RELOAD */
            ;
        systick_running = 1;
    }
    counter_start_ticks = systick_ticks();
}

uint64_t board_instructions(void)
{
    const uint64_t num = 1000000000u;
    const uint64_t den = (uint64_t)ODLC_BOARD_SYSTICK_HZ << ODLC_BOARD_ICOUNT_SHIFT;
    uint64_t ticks;
    if (!systick_running)
        return 0;
    ticks = systick_ticks() - counter_start_ticks;
    /* ticks * num / den, rounded, without 64-bit overflow */
    return (ticks / den) * num + ((ticks % den) * num + den / 2u) / den;
}

#elif defined(ODLC_BOARD_RISCV)
/* ------------------------------------------------------------------------
 * RV32 in M-mode: minstret/minstreth.  Under -icount shift=0 QEMU derives them
 * from its instruction counter, so the count is exact and repeatable; the
 * reads themselves (a few instructions) are included.
 */
static uint64_t counter_start;

static uint64_t read_minstret(void)
{
    uint32_t hi, lo, hi2;
    do {
        __asm__ volatile("csrr %0, minstreth" : "=r"(hi));
        __asm__ volatile("csrr %0, minstret" : "=r"(lo));
        __asm__ volatile("csrr %0, minstreth" : "=r"(hi2));
    } while (hi != hi2);
    return ((uint64_t)hi << 32) | lo;
}

enum board_counter_kind board_counter_kind(void) { return BOARD_COUNTER_EXACT; }
void board_counter_start(void) { counter_start = read_minstret(); }
uint64_t board_instructions(void) { return read_minstret() - counter_start; }

#else
/* ------------------------------------------------------------------------
 * Host: no portable instruction counter (Linux perf_event is often absent in
 * VMs/containers), so report 0 and BOARD_COUNTER_NONE.  Time host runs
 * externally if needed.
 */
enum board_counter_kind board_counter_kind(void) { return BOARD_COUNTER_NONE; }
void board_counter_start(void) { }
uint64_t board_instructions(void) { return 0; }

#endif
