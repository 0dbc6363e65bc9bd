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
#define CALIBRATE_MS 10
#define CALIBRATE_ROUNDS 5

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

/* PIT channel 2's count, latched so that both bytes belong to the same moment. */
static uint32_t pit2_count(void)
{
    outb(0x43, 0x80); /* counter latch, channel 2 */
    uint32_t lo = inb(0x42);
    return lo | (uint32_t)inb(0x42) << 8;
}

/* One round: PIT channel 2, gated by port 0x61, counts down from CALIBRATE_MS worth of ticks; its output bit
 * rises at zero. The loop sees that bit only when it next runs, so a CPU taken away meanwhile (an SMI; under
 * emulation, the host descheduling QEMU -- seen to make a 2.4 GHz TSC read as 13.9 GHz and every guest clock run
 * 5.7 times slow) would count the extra time in. The counter goes on below zero (wrapping to 0xffff) in mode
 * 0, so the ticks that really passed between the two reads are taken from it, as Xen does with its platform
 * timer: exact while the round stays under one wrap (55 ms). Returns the PIT ticks, or 0 for a round to drop. */
static uint32_t pit_round(uint64_t *tsc_delta, uint64_t *apic_delta)
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
    uint32_t c0 = pit2_count();
    for (unsigned long spins = 0; !(inb(0x61) & 0x20) && spins < 100000000UL; spins++)
        cpu_relax();
    uint64_t t1 = rdtsc();
    uint32_t a1 = apic_read(APIC_TIMER_CUR);
    uint32_t c1 = pit2_count();
    apic_write(APIC_TIMER_INIT, 0);
    *tsc_delta = t1 - t0;
    *apic_delta = a0 - a1;
    uint32_t passed = (c0 - c1) & 0xffff;
    /* Fewer than the programmed ticks: the counter wrapped past c0 (a round over 55 ms), or never ran. */
    return passed >= c0 ? passed : 0;
}

/* Several rounds, each scaled by the ticks that really passed; the median TSC rate, with the APIC rate of the
 * same round, leaves out a round that is still off (e.g. time lost between a counter read and its TSC read). */
static void calibrate(uint64_t *tsc_hz, uint64_t *apic_hz)
{
    uint64_t tsc[CALIBRATE_ROUNDS], apic[CALIBRATE_ROUNDS];
    int n = 0;
    for (int tries = 0; n < CALIBRATE_ROUNDS && tries < 4 * CALIBRATE_ROUNDS; tries++) {
        uint64_t td, ad;
        uint32_t passed = pit_round(&td, &ad);
        if (!passed)
            continue;
        uint64_t t = td * PIT_HZ / passed, a = ad * PIT_HZ / passed;
        /* Insertion sort by TSC rate, the APIC rate moving with it. */
        int j = n++;
        for (; j > 0 && tsc[j - 1] > t; j--)
            tsc[j] = tsc[j - 1], apic[j] = apic[j - 1];
        tsc[j] = t, apic[j] = a;
    }
    *tsc_hz = n ? tsc[n / 2] : 0;
    *apic_hz = n ? apic[n / 2] : 0;
}

void time_init(void)
{
    uint64_t tsc_hz, apic_hz;
    calibrate(&tsc_hz, &apic_hz);
    tsc_khz = tsc_hz / 1000;
    apic_timer_khz = apic_hz / 1000;
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
