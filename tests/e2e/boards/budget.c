/* Memory-budget check for build.sh --ram/--flash: 64 KiB of .bss and 64 KiB
 * of const (flash) data.  smoke.sh expects the link to fail when either region
 * is sized below that and to succeed (and run) when it is large enough. */
#include <stdint.h>
#include <stdio.h>

#define BUDGET_BYTES 65536u

static uint8_t ram_buf[BUDGET_BYTES];

#define R4(x) x, x + 1u, x + 2u, x + 3u
#define R16(x) R4(x), R4(x + 4u), R4(x + 8u), R4(x + 12u)
#define R64(x) R16(x), R16(x + 16u), R16(x + 32u), R16(x + 48u)
static const uint32_t flash_tab[BUDGET_BYTES / 4u] = {R64(0u), R64(64u), R64(128u)};

int main(void)
{
    uint32_t i, sum = 0;
    for (i = 0; i < BUDGET_BYTES; i++)
        ram_buf[i] = (uint8_t)i;
    for (i = 0; i < BUDGET_BYTES / 4u; i++)
        sum += flash_tab[i] + ram_buf[i];
    printf("budget sum=%lu\n", (unsigned long)sum);
    return 0;
}
