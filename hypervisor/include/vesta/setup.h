/* Boot-time options and the start-up sequence's shared state. */
#ifndef VESTA_SETUP_H
#define VESTA_SETUP_H

#include <vesta/bootinfo.h>
#include <vesta/cmdline.h>
#include <vesta/console.h>

struct boot_options {
    bool noreboot;
    unsigned int maxcpus;          /* 0: all */
    unsigned int dom0_max_vcpus;   /* 0: one per CPU */
    struct dom0_mem_opt dom0_mem;  /* parsed as Xen does */
    struct com_port_opt com1;
    char console[64];
    bool console_to_ring;          /* dom0's console output is kept in the console ring too (Xen's option) */
    struct log_levels loglvl, guest_loglvl;
    char selftest[32];             /* test hooks, e.g. selftest=fault */
};

extern struct boot_options boot_opts;
extern struct boot_info boot_info;

void parse_boot_options(const char *cmdline);

__noreturn void start_vesta(uint32_t magic, uint32_t info_pa);
__noreturn void start_secondary(unsigned int cpu);
__noreturn void idle_loop(void);

/* CPU set-up (cpu.c) */
void cpu_init_tables(unsigned int cpu);   /* this CPU's GDT, TSS, IDT */
void cpu_gdt_window_init(unsigned int cpu); /* move this CPU's GDT into its window (needs the allocator) */
unsigned long gdt_window(unsigned int cpu);
paddr_t zero_page_maddr(void);
void cpu_init_features(void);             /* CR4 protections and other per-CPU switches */
void cpu_identify_boot(void);
extern char cpu_brand[49];
extern bool cpu_has_smep, cpu_has_smap, cpu_has_nx, cpu_has_x2apic, cpu_has_pdpe1gb, cpu_has_invariant_tsc;

/* SMP (smp.c) */
void smp_boot_cpus(void);
void smp_stop_others(void);
void smp_call_function(void (*fn)(void *), void *data); /* runs fn on every other CPU, waits for all */
struct cpumask;
void smp_call_function_mask(const struct cpumask *mask, void (*fn)(void *), void *data); /* those in mask */
void cpumask_online(struct cpumask *m); /* the CPUs online now */
void smp_init_ipis(void);
void smp_selfcheck(void);
struct percpu *percpu_alloc(unsigned int cpu, uint32_t apic_id, void *stack);
void smp_send_event_check(unsigned int cpu);

/* dom0_build.c: dom0_inspect() reads and reports the kernel module once; dom0_plan() sizes dom0 and plans
 * its address space from what dom0_inspect() found. */
void dom0_inspect(void);
void dom0_build(void);

/* Platform (acpi.c, ioapic.c, time.c) */
void acpi_init(void);
void ioapic_init(void);
int ioapic_route_isa_irq(unsigned int isa_irq, unsigned int vector, uint32_t dest_apic_id);
void ioapic_dump(void);
void pic_disable(void);
void time_init(void);
void timers_init_cpu(void);

#endif
