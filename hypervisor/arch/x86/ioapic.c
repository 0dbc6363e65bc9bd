/* IO-APICs and the legacy 8259 PICs.
 *
 * At boot every IO-APIC pin is masked and the PICs are remapped away from the exception vectors and masked:
 * no external interrupt reaches a CPU until some driver owns it and routes it explicitly. */
#include <vesta/apic.h>
#include <vesta/errno.h>
#include <vesta/irq.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/setup.h>
#include <vesta/spinlock.h>
#include <vesta/x86.h>

#define IOREGSEL 0x00
#define IOWIN 0x10
#define IOAPIC_VER 0x01
#define IOAPIC_REDTBL(n) (0x10 + 2 * (n))
#define RTE_MASKED (1u << 16)
#define RTE_LEVEL (1u << 15)
#define RTE_ACTIVE_LOW (1u << 13)

struct ioapic {
    volatile uint32_t *mmio;
    uint64_t physbase;
    uint32_t gsi_base;
    unsigned int pins;
    spinlock_t lock;
};
static struct ioapic ioapics[MAX_IOAPICS];
static unsigned int nr_ioapics;
#define MAX_GSIS 1024
static uint64_t hv_owned_gsis[MAX_GSIS / 64]; /* routed by ioapic_route_isa_irq for the hypervisor itself */

static uint32_t io_read(struct ioapic *io, unsigned int reg)
{
    io->mmio[IOREGSEL / 4] = reg;
    return io->mmio[IOWIN / 4];
}

static void io_write(struct ioapic *io, unsigned int reg, uint32_t val)
{
    io->mmio[IOREGSEL / 4] = reg;
    io->mmio[IOWIN / 4] = val;
}

void pic_disable(void)
{
    /* ICW1-4: remap master to 0x20 and slave to 0x28, then mask every line. */
    outb(0x20, 0x11);
    outb(0xa0, 0x11);
    outb(0x21, 0x20);
    outb(0xa1, 0x28);
    outb(0x21, 0x04);
    outb(0xa1, 0x02);
    outb(0x21, 0x01);
    outb(0xa1, 0x01);
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
}

void ioapic_init(void)
{
    for (unsigned int i = 0; i < platform.nr_ioapics; i++) {
        struct ioapic *io = &ioapics[nr_ioapics];
        io->mmio = ioremap(platform.ioapics[i].addr, PAGE_SIZE);
        io->gsi_base = platform.ioapics[i].gsi_base;
        io->physbase = platform.ioapics[i].addr;
        uint32_t ver = io_read(io, IOAPIC_VER);
        if (ver == 0xffffffff) {
            pr_warn("IO-APIC at %#x does not respond; ignored", platform.ioapics[i].addr);
            continue;
        }
        io->pins = ((ver >> 16) & 0xff) + 1;
        for (unsigned int pin = 0; pin < io->pins; pin++) {
            io_write(io, IOAPIC_REDTBL(pin) + 1, 0);
            io_write(io, IOAPIC_REDTBL(pin), RTE_MASKED);
        }
        nr_ioapics++;
        printk("IO-APIC %u: id %u at %#x, version %#x, GSIs %u-%u, all masked", i, platform.ioapics[i].id,
               platform.ioapics[i].addr, ver & 0xff, io->gsi_base, io->gsi_base + io->pins - 1);
    }
}

/* ISA IRQs are edge-triggered, active high on GSI = IRQ unless the MADT overrides them. */
int ioapic_route_isa_irq(unsigned int isa_irq, unsigned int vector, uint32_t dest_apic_id)
{
    uint32_t gsi = isa_irq, rte = vector;
    for (unsigned int i = 0; i < platform.nr_overrides; i++) {
        const struct isa_override *o = &platform.overrides[i];
        if (o->isa_irq != isa_irq)
            continue;
        gsi = o->gsi;
        if ((o->flags & 3) == 3)
            rte |= RTE_ACTIVE_LOW;
        if (((o->flags >> 2) & 3) == 3)
            rte |= RTE_LEVEL;
    }
    for (unsigned int i = 0; i < nr_ioapics; i++) {
        struct ioapic *io = &ioapics[i];
        if (gsi < io->gsi_base || gsi >= io->gsi_base + io->pins)
            continue;
        unsigned int pin = gsi - io->gsi_base;
        spin_lock(&io->lock);
        io_write(io, IOAPIC_REDTBL(pin) + 1, dest_apic_id << 24);
        io_write(io, IOAPIC_REDTBL(pin), rte);
        spin_unlock(&io->lock);
        if (gsi < MAX_GSIS)
            __atomic_fetch_or(&hv_owned_gsis[gsi / 64], 1UL << (gsi % 64), __ATOMIC_RELEASE);
        return (int)gsi;
    }
    return -1;
}

void ioapic_dump(void)
{
    for (unsigned int i = 0; i < nr_ioapics; i++) {
        struct ioapic *io = &ioapics[i];
        printk("IO-APIC %u (GSI %u-%u):", i, io->gsi_base, io->gsi_base + io->pins - 1);
        for (unsigned int pin = 0; pin < io->pins; pin++) {
            uint32_t lo = io_read(io, IOAPIC_REDTBL(pin)), hi = io_read(io, IOAPIC_REDTBL(pin) + 1);
            if (!(lo & RTE_MASKED))
                printk("  GSI %u -> vector 0x%02x, APIC %u, %s, %s", io->gsi_base + pin, lo & 0xff, hi >> 24,
                       lo & RTE_LEVEL ? "level" : "edge", lo & RTE_ACTIVE_LOW ? "low" : "high");
        }
    }
}

/* ---- Guest interrupts (arch/x86/irq.c): pins programmed on a domain's behalf, and dom0's read access. */

static struct ioapic *gsi_to_ioapic(unsigned int gsi, unsigned int *pin)
{
    for (unsigned int i = 0; i < nr_ioapics; i++) {
        struct ioapic *io = &ioapics[i];
        if (gsi >= io->gsi_base && gsi < io->gsi_base + io->pins) {
            *pin = gsi - io->gsi_base;
            return io;
        }
    }
    return NULL;
}

unsigned int ioapic_nr_gsis(void)
{
    unsigned int n = 0;
    for (unsigned int i = 0; i < nr_ioapics; i++)
        if (ioapics[i].gsi_base + ioapics[i].pins > n)
            n = ioapics[i].gsi_base + ioapics[i].pins;
    return n < MAX_GSIS ? n : MAX_GSIS;
}

bool ioapic_gsi_valid(unsigned int gsi)
{
    unsigned int pin;
    return gsi_to_ioapic(gsi, &pin) != NULL;
}

bool ioapic_gsi_hv_owned(unsigned int gsi)
{
    return gsi < MAX_GSIS && (__atomic_load_n(&hv_owned_gsis[gsi / 64], __ATOMIC_ACQUIRE) >> (gsi % 64)) & 1;
}

/* Physical destination mode, fixed delivery: the caller gives the low word's vector/trigger/polarity/mask. */
void ioapic_set_rte(unsigned int gsi, uint32_t lo, uint32_t dest_apic_id)
{
    unsigned int pin;
    struct ioapic *io = gsi_to_ioapic(gsi, &pin);
    if (!io)
        return;
    unsigned long f = spin_lock_irqsave(&io->lock);
    io_write(io, IOAPIC_REDTBL(pin), RTE_MASKED);
    io_write(io, IOAPIC_REDTBL(pin) + 1, dest_apic_id << 24);
    io_write(io, IOAPIC_REDTBL(pin), lo & 0x1ffff & ~0x0f00u);
    spin_unlock_irqrestore(&io->lock, f);
}

uint32_t ioapic_get_rte_lo(unsigned int gsi)
{
    unsigned int pin;
    struct ioapic *io = gsi_to_ioapic(gsi, &pin);
    if (!io)
        return RTE_MASKED;
    unsigned long f = spin_lock_irqsave(&io->lock);
    uint32_t lo = io_read(io, IOAPIC_REDTBL(pin));
    spin_unlock_irqrestore(&io->lock, f);
    return lo;
}

void ioapic_mask_gsi(unsigned int gsi, bool mask)
{
    unsigned int pin;
    struct ioapic *io = gsi_to_ioapic(gsi, &pin);
    if (!io)
        return;
    unsigned long f = spin_lock_irqsave(&io->lock);
    uint32_t lo = io_read(io, IOAPIC_REDTBL(pin));
    io_write(io, IOAPIC_REDTBL(pin), mask ? lo | RTE_MASKED : lo & ~RTE_MASKED);
    spin_unlock_irqrestore(&io->lock, f);
}

/* How the firmware says a GSI is wired when nobody told us otherwise: ISA IRQs edge/high unless an MADT override
 * says differently, everything else level/low (PCI). */
void ioapic_gsi_default_mode(unsigned int gsi, bool *level, bool *active_low)
{
    *level = gsi >= 16;
    *active_low = gsi >= 16;
    for (unsigned int i = 0; i < platform.nr_overrides; i++) {
        const struct isa_override *o = &platform.overrides[i];
        if (o->gsi != gsi)
            continue;
        unsigned int pol = o->flags & 3, trig = (o->flags >> 2) & 3;
        *active_low = pol == 3;
        *level = trig == 3;
    }
}

int ioapic_physbase_to_index(uint64_t physbase)
{
    for (unsigned int i = 0; i < nr_ioapics; i++)
        if (ioapics[i].pins && ioapics[i].physbase == physbase)
            return (int)i;
    return -EINVAL;
}

/* The IRQ a pin stands for: an ISA IRQ that the MADT moved onto this pin keeps its ISA number (Xen's
 * apic_pin_2_gsi_irq), every other pin is its GSI. */
int ioapic_pin_to_gsi(int index, unsigned int pin)
{
    if (index < 0 || (unsigned int)index >= nr_ioapics || pin >= ioapics[index].pins)
        return -EINVAL;
    unsigned int gsi = ioapics[index].gsi_base + pin;
    for (unsigned int i = 0; i < platform.nr_overrides; i++)
        if (platform.overrides[i].gsi == gsi)
            return platform.overrides[i].isa_irq;
    return (int)gsi;
}

int ioapic_guest_read(uint64_t physbase, unsigned int reg, uint32_t *val)
{
    int idx = ioapic_physbase_to_index(physbase);
    if (idx < 0)
        return idx;
    struct ioapic *io = &ioapics[idx];
    unsigned long f = spin_lock_irqsave(&io->lock);
    *val = io_read(io, reg);
    spin_unlock_irqrestore(&io->lock, f);
    return 0;
}
