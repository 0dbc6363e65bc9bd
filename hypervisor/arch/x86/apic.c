/* The local APIC: interrupt acceptance, EOI, IPIs and the one-shot timer.
 *
 * Vesta uses x2APIC mode (MSR access, 32-bit IDs) whenever the CPU has it, switching to it if the firmware left
 * the xAPIC on, as Xen does; otherwise the xAPIC through its uncached MMIO page. Besides IDs above 255 and cheaper
 * IPIs, MSR access keeps the hypervisor's own APIC traffic out of the MMIO space that dom0 reconfigures while it
 * sets up PCI devices (QEMU's TCG has crashed on an xAPIC write racing with another vCPU's BAR update). */
#include <vesta/apic.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/percpu.h>
#include <vesta/setup.h>
#include <vesta/timer.h>
#include <vesta/traps.h>
#include <vesta/x86.h>

#define APIC_BASE_ENABLE (1UL << 11)
#define APIC_BASE_X2APIC (1UL << 10)
#define X2APIC_MSR(reg) (0x800 + ((reg) >> 4))

static volatile uint32_t *apic_mmio;
static bool x2apic_mode;
static bool apic_up;

uint64_t apic_timer_khz;

bool apic_ready(void) { return apic_up; }

uint32_t apic_read(unsigned int reg)
{
    if (x2apic_mode)
        return (uint32_t)rdmsr(X2APIC_MSR(reg));
    return apic_mmio[reg / 4];
}

void apic_write(unsigned int reg, uint32_t val)
{
    if (x2apic_mode)
        wrmsr(X2APIC_MSR(reg), val);
    else
        apic_mmio[reg / 4] = val;
}

uint32_t apic_id(void) { return x2apic_mode ? apic_read(APIC_ID) : apic_read(APIC_ID) >> 24; }

void apic_eoi(void) { apic_write(APIC_EOI, 0); }

void apic_send_ipi(uint32_t dest, uint32_t icr_lo)
{
    unsigned long f = local_irq_save();
    if (x2apic_mode) {
        wrmsr(X2APIC_MSR(APIC_ICR_LO), ((uint64_t)dest << 32) | icr_lo);
    } else {
        while (apic_read(APIC_ICR_LO) & APIC_ICR_BUSY)
            cpu_relax();
        apic_write(APIC_ICR_HI, dest << 24);
        apic_write(APIC_ICR_LO, icr_lo);
    }
    local_irq_restore(f);
}

static void apic_error_interrupt(struct cpu_regs *regs, void *data)
{
    apic_write(APIC_ESR, 0);
    pr_warn("CPU%u: APIC error %#x", smp_processor_id(), apic_read(APIC_ESR));
}

static void apic_timer_interrupt(struct cpu_regs *regs, void *data)
{
    timers_run();
}

void apic_init_boot(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);
    if (cpu_has_x2apic && !(base & APIC_BASE_X2APIC)) {
        /* xAPIC -> x2APIC goes through "enabled, xAPIC" (the architectural transition). */
        base |= APIC_BASE_ENABLE;
        wrmsr(MSR_APIC_BASE, base);
        base |= APIC_BASE_X2APIC;
        wrmsr(MSR_APIC_BASE, base);
    }
    x2apic_mode = (base & APIC_BASE_X2APIC) && (base & APIC_BASE_ENABLE);
    if (!x2apic_mode)
        apic_mmio = ioremap(platform.lapic_addr ? platform.lapic_addr : (base & PTE_ADDR_MASK), PAGE_SIZE);
    set_irq_handler(VECTOR_APIC_TIMER, apic_timer_interrupt, NULL, "APIC timer");
    set_irq_handler(VECTOR_APIC_ERROR, apic_error_interrupt, NULL, "APIC error");
    set_irq_handler(VECTOR_SPURIOUS, NULL, NULL, "spurious");
    printk("APIC: %s mode, boot CPU APIC ID %u", x2apic_mode ? "x2APIC" : "xAPIC", apic_id());
}

void apic_init_cpu(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);
    if (!(base & APIC_BASE_ENABLE))
        wrmsr(MSR_APIC_BASE, base |= APIC_BASE_ENABLE);
    if (x2apic_mode && !(base & APIC_BASE_X2APIC))
        wrmsr(MSR_APIC_BASE, base | APIC_BASE_X2APIC); /* each CPU switches its own APIC */
    if (!x2apic_mode) {
        apic_write(APIC_DFR, 0xffffffff); /* flat model */
        apic_write(APIC_LDR, 1u << 24);
    }
    apic_write(APIC_TPR, 0);
    apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | VECTOR_APIC_TIMER);
    this_cpu()->apic_timer_armed = false;
    apic_write(APIC_LVT_LINT0, APIC_LVT_MASKED);
    apic_write(APIC_LVT_LINT1, APIC_DM_NMI); /* LINT1 is the legacy NMI line */
    if ((apic_read(APIC_VERSION) >> 16 & 0xff) >= 4)
        apic_write(APIC_LVT_PERF, APIC_LVT_MASKED);
    if ((apic_read(APIC_VERSION) >> 16 & 0xff) >= 5)
        apic_write(APIC_LVT_THERMAL, APIC_LVT_MASKED);
    apic_write(APIC_LVT_ERROR, VECTOR_APIC_ERROR);
    apic_write(APIC_ESR, 0);
    apic_write(APIC_SVR, 0x100 | VECTOR_SPURIOUS); /* software enable */
    apic_write(APIC_TIMER_DIV, 0xb);              /* divide by 1 */
    apic_eoi();
    apic_up = true;
}

void apic_timer_oneshot(uint64_t delta_ns)
{
    uint64_t count = delta_ns * apic_timer_khz / 1000000;
    if (count == 0)
        count = 1;
    if (count > 0xffffffffu)
        count = 0xffffffffu;
    /* The LVT entry stays one-shot and unmasked once set; re-arming is the initial-count write alone (each APIC
     * access is an MMIO exit on most hypervisors and emulators). */
    struct percpu *pc = this_cpu();
    if (!pc->apic_timer_armed) {
        apic_write(APIC_LVT_TIMER, VECTOR_APIC_TIMER);
        pc->apic_timer_armed = true;
    }
    apic_write(APIC_TIMER_INIT, (uint32_t)count);
}
