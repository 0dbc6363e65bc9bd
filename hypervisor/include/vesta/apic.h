/* Local APIC (xAPIC through MMIO, or x2APIC through MSRs when the firmware handed it over in that mode) and
 * the firmware's description of the interrupt hardware (ACPI MADT). */
#ifndef VESTA_APIC_H
#define VESTA_APIC_H

#include <vesta/types.h>

#define APIC_ID 0x20
#define APIC_VERSION 0x30
#define APIC_TPR 0x80
#define APIC_EOI 0xb0
#define APIC_LDR 0xd0
#define APIC_DFR 0xe0
#define APIC_SVR 0xf0
#define APIC_ESR 0x280
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_THERMAL 0x330
#define APIC_LVT_PERF 0x340
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_ERROR 0x370
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_CUR 0x390
#define APIC_TIMER_DIV 0x3e0

#define APIC_LVT_MASKED (1u << 16)
#define APIC_DM_FIXED 0x000
#define APIC_DM_NMI 0x400
#define APIC_DM_INIT 0x500
#define APIC_DM_STARTUP 0x600
#define APIC_ICR_BUSY (1u << 12)
#define APIC_ICR_ASSERT (1u << 14)
#define APIC_ICR_LEVEL (1u << 15)
#define APIC_DEST_SELF (1u << 18)
#define APIC_DEST_ALL (2u << 18)
#define APIC_DEST_OTHERS (3u << 18)

uint32_t apic_read(unsigned int reg);
void apic_write(unsigned int reg, uint32_t val);
void apic_init_boot(void);       /* map, choose the access mode */
void apic_init_cpu(void);        /* enable and quiesce this CPU's local APIC */
uint32_t apic_id(void);
void apic_eoi(void);
void apic_send_ipi(uint32_t dest_apic_id, uint32_t icr_lo);
bool apic_ready(void);
void apic_timer_oneshot(uint64_t delta_ns);

/* What ACPI's MADT told us. */
#define MAX_IOAPICS 8
#define MAX_ISA_OVERRIDES 16
struct ioapic_info {
    uint8_t id;
    uint32_t addr, gsi_base;
};
struct isa_override {
    uint8_t isa_irq;
    uint32_t gsi;
    uint16_t flags; /* polarity bits 0-1, trigger bits 2-3, as in the MADT */
};
struct platform_info {
    uint64_t lapic_addr;
    unsigned int nr_cpus;           /* enabled processors found */
    uint32_t cpu_apic_ids[256];
    uint32_t cpu_acpi_ids[256];     /* the MADT's processor UID for each entry of cpu_apic_ids */
    unsigned int nr_ioapics;
    struct ioapic_info ioapics[MAX_IOAPICS];
    unsigned int nr_overrides;
    struct isa_override overrides[MAX_ISA_OVERRIDES];
    bool have_madt;
    uint64_t rsdp_addr;
    char oem[7];
};
extern struct platform_info platform;

#endif
