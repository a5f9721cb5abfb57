/* Board smoke test: one main for host and every QEMU board.
 *
 *  1. prints a greeting,
 *  2. reads smoke_input.bin (host file, via semihosting on MCU targets),
 *     prints its size and FNV-1a hash and writes them to smoke_output.txt,
 *  3. measures board_instructions() around loops of exactly known length
 *     (2 instructions per iteration, hand-written asm) and prints
 *     "loop N=<iterations> expected=<2N> measured=<count>".
 *
 * Exit code 0 on success; smoke.sh checks the printed values.
 */
#include <stdint.h>
#include <stdio.h>

#include "odlc_board.h"

/* Exactly 2 retired instructions per iteration on the MCU targets. */
static void known_loop(uint32_t n)
{
    if (n == 0)
        return;
#if defined(__arm__) && defined(__thumb2__)
    __asm__ volatile("1: subs %0, %0, #1\n\t"
                     "bne 1b"
                     : "+l"(n) : : "cc");
#elif defined(__riscv)
    __asm__ volatile("1: addi %0, %0, -1\n\t"
                     "bnez %0, 1b"
                     : "+r"(n));
#else
    {
        volatile uint32_t i = n;
        while (i != 0)
            i--;
    }
#endif
}

static uint64_t measure(uint32_t n)
{
    uint64_t c;
    board_counter_start();
    known_loop(n);
    c = board_instructions();
    return c;
}

static unsigned char buf[4096];

int main(void)
{
    static const uint32_t sizes[] = {0u, 1000u, 1000000u, 2000000u, 30000000u};
    uint32_t hash = 2166136261u;
    unsigned long total = 0;
    size_t n, i;
    FILE *f;
    enum board_counter_kind kind;

    printf("hello from %s\n", board_name());

    f = fopen("smoke_input.bin", "rb");
    if (!f) {
        printf("FAIL: cannot open smoke_input.bin\n");
        return 3;
    }
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        for (i = 0; i < n; i++) {
            hash ^= buf[i];
            hash *= 16777619u;
        }
        total += (unsigned long)n;
    }
    if (ferror(f)) {
        printf("FAIL: read error\n");
        return 4;
    }
    fclose(f);
    printf("input bytes=%lu fnv1a=%08lx\n", total, (unsigned long)hash);

    f = fopen("smoke_output.txt", "wb");
    if (!f) {
        printf("FAIL: cannot create smoke_output.txt\n");
        return 5;
    }
    fprintf(f, "bytes=%lu fnv1a=%08lx\n", total, (unsigned long)hash);
    if (fclose(f) != 0) {
        printf("FAIL: cannot write smoke_output.txt\n");
        return 6;
    }

    kind = board_counter_kind();
    printf("counter kind=%d\n", (int)kind);
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint64_t m = measure(sizes[i]);
        printf("loop N=%lu expected=%lu measured=%lu\n", (unsigned long)sizes[i],
               2ul * (unsigned long)sizes[i], (unsigned long)m);
    }
    printf("done\n");
    return 0;
}
