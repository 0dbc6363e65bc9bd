/* Per-CPU state.
 *
 * Every CPU's stack block is STACK_SIZE aligned and ends with its struct cpu_info, so the running CPU is found
 * from %rsp alone. struct percpu holds the rest of a CPU's state; percpu[] is indexed by Vesta's logical CPU
 * number (0 = the boot CPU), which is not the APIC ID. */
#ifndef VESTA_PERCPU_H
#define VESTA_PERCPU_H

#include <vesta/cpumask.h>
#include <vesta/layout.h>
#include <vesta/spinlock.h>
#include <vesta/timer.h>

#define MAX_CPUS 256
_Static_assert(MAX_CPUS == CPUMASK_BITS, "a cpumask holds every CPU");

struct domain;

struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __packed;

struct cpu_info {
    unsigned int cpu;
    unsigned int pad;
    struct percpu *pc;
    uint64_t reserved[2];
};

struct percpu {
    unsigned int cpu;
    uint32_t apic_id;
    bool online;
    bool in_fault;
    bool apic_timer_armed;   /* LVT timer entry is one-shot and unmasked */
    void *stack;             /* base of the STACK_SIZE block */
    uint64_t *gdt;           /* hypervisor-reserved GDT entries (selector 0xe000 on) */
    bool gdt_in_window;      /* gdt is inside this CPU's GDT/LDT window (see cpu.c) */
    struct vcpu *curr;       /* vCPU running here, NULL when idle */
    struct vcpu *runq;       /* runnable vCPUs pinned here, round robin */
    spinlock_t runq_lock;
    struct vcpu *fpu_owner;  /* whose state the FPU registers hold */
    struct domain *tlb_domain; /* whose translations the TLB may hold (kept while idle); see flushtlb.c */
    uint64_t tlb_flush_time;   /* TLB clock tick at which this CPU's last full flush began */
    struct tss64 *tss;
    struct timer_queue timers;
    uint64_t irq_count;
    uint64_t ipi_count;
    uint64_t idle_halts;
    uint64_t tlb_flushes;    /* full flushes (flushtlb.c) */
    volatile uint32_t softirq_pending;
    bool call_pending;       /* owes the cross-CPU call in flight (smp.c) */
    char brand[8];
    uint64_t hc_count[64], hc_tsc[64]; /* hypercalls by number, and TSC ticks spent in them (debug key 'p') */
};

extern struct percpu *percpu[MAX_CPUS];
extern unsigned int nr_cpus_online;
extern unsigned int nr_cpus_possible;

/* One past the highest CPU number that exists (Xen's nr_cpu_ids): how wide the CPU maps the toolstack gets are. */
static inline unsigned int nr_cpu_ids(void)
{
    unsigned int n = 0;
    for (unsigned int cpu = 0; cpu < MAX_CPUS; cpu++)
        if (percpu[cpu])
            n = cpu + 1;
    return n;
}

static inline struct cpu_info *get_cpu_info(void)
{
    unsigned long sp;
    __asm__("mov %%rsp, %0" : "=r"(sp));
    return (struct cpu_info *)((sp | (STACK_SIZE - 1)) + 1 - sizeof(struct cpu_info));
}
static inline unsigned int smp_processor_id(void) { return get_cpu_info()->cpu; }
static inline struct percpu *this_cpu(void) { return get_cpu_info()->pc; }


#endif
