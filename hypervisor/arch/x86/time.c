/* Time: the TSC is the clock (system time is nanoseconds since boot, derived from it), calibrated at boot
 * against the PIT together with the local APIC timer's input clock. */
#include <vesta/apic.h>
#include <vesta/percpu.h>
#include <vesta/lib.h>
#include <vesta/setup.h>
#include <vesta/timer.h>
#include <vesta/traps.h>
#include <vesta/x86.h>

#define PIT_HZ 1193182
#define CALIBRATE_MS 20

uint64_t tsc_khz;
static uint64_t boot_tsc;
static uint64_t ns_per_tsc_mul; /* ns = tsc * mul >> 32 */

uint64_t tsc_to_ns(uint64_t tsc)
{
    uint64_t d = tsc - boot_tsc;
    return (uint64_t)(((unsigned __int128)d * ns_per_tsc_mul) >> 32);
}

uint64_t now_ns(void) { return tsc_to_ns(rdtsc()); }

/* Guest time (common/guest_time.c) gives guests this exact scale, so their clock and now_ns() agree. */
uint64_t tsc_ns_scale(void) { return ns_per_tsc_mul; }

/* PIT channel 2 counts down once, gated by port 0x61; its output bit tells when it reached zero. */
static void pit_calibrate(uint64_t *tsc_delta, uint64_t *apic_delta)
{
    uint32_t ticks = PIT_HZ * CALIBRATE_MS / 1000;
    outb(0x61, inb(0x61) & ~0x03); /* gate off (counting paused), speaker off */
    outb(0x43, 0xb0);              /* channel 2, lo/hi byte, mode 0: output rises at terminal count */
    outb(0x42, ticks & 0xff);
    outb(0x42, ticks >> 8);
    apic_write(APIC_TIMER_DIV, 0xb);
    apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | VECTOR_APIC_TIMER);
    this_cpu()->apic_timer_armed = false;
    apic_write(APIC_TIMER_INIT, 0xffffffff);
    outb(0x61, inb(0x61) | 0x01); /* gate on: the count starts */
    uint64_t t0 = rdtsc();
    uint32_t a0 = apic_read(APIC_TIMER_CUR);
    for (unsigned long spins = 0; !(inb(0x61) & 0x20) && spins < 100000000UL; spins++)
        cpu_relax();
    uint64_t t1 = rdtsc();
    uint32_t a1 = apic_read(APIC_TIMER_CUR);
    apic_write(APIC_TIMER_INIT, 0);
    *tsc_delta = t1 - t0;
    *apic_delta = a0 - a1;
}

void time_init(void)
{
    uint64_t tsc_d, apic_d;
    pit_calibrate(&tsc_d, &apic_d);
    tsc_khz = tsc_d / CALIBRATE_MS;
    apic_timer_khz = apic_d / CALIBRATE_MS;
    if (!tsc_khz)
        panic("TSC calibration failed (PIT not counting?)");
    if (!apic_timer_khz)
        panic("APIC timer calibration failed");
    boot_tsc = rdtsc();
    ns_per_tsc_mul = (1000000ULL << 32) / tsc_khz;
    printk("TSC: %lu.%03lu MHz%s", tsc_khz / 1000, tsc_khz % 1000,
           cpu_has_invariant_tsc ? " (invariant)" : "");
    printk("APIC timer: %lu.%03lu MHz, one-shot", apic_timer_khz / 1000, apic_timer_khz % 1000);
}
