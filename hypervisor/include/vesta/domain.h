/* Domains and virtual CPUs.
 *
 * A domain owns memory (frames whose frame-table owner is its id, linked on its page list), event channels, a
 * grant table and a set of vCPUs. Structures are allocated per domain and sized at creation, so nothing here
 * limits how many domains exist beyond memory and the id space.
 *
 * While a vCPU runs, its guest registers live in the cpu_regs frame at the top of the CPU's stack (every entry
 * from the guest builds it there); when it is descheduled they are copied into vcpu->regs. */
#ifndef VESTA_DOMAIN_H
#define VESTA_DOMAIN_H

#include <public/xen.h>
#include <vesta/cpumask.h>
#include <vesta/frame.h>
#include <vesta/spinlock.h>
#include <vesta/timer.h>
#include <vesta/traps.h>
#include <vesta/types.h>

#define MAX_DOMAINS 1024          /* ids 0 .. MAX_DOMAINS-1 usable; the id table grows no further for now */
#define MAX_VIRT_CPUS 128         /* per domain */
#ifndef EVTCHN_2L_NR_CHANNELS
#define EVTCHN_2L_NR_CHANNELS 4096 /* 64 * 64: the 2-level ABI limit for a 64-bit guest */
#endif
#define VIRQ_COUNT 24

/* Guest vCPU states. */
enum vcpu_state { VCPU_DOWN, VCPU_RUNNABLE, VCPU_RUNNING, VCPU_BLOCKED };

struct domain;

struct evtchn;
struct cpu_policy;

/* PV architectural state of one vCPU (what a vcpu_guest_context describes). */
struct pv_vcpu {
    struct trap_info traps[256];
    uint64_t kernel_ss, kernel_sp;
    uint64_t event_callback, failsafe_callback, syscall_callback, nmi_callback;
    bool event_mask_on_callback;     /* event callback registered with CALLBACKF_mask_events (always) */
    bool failsafe_disables_events;
    bool syscall_disables_events;
    bool kernel_mode;                /* guest kernel (true) or guest user (false) */
    mfn_t kernel_l4, user_l4;        /* 0 = none */
    uint64_t fs_base, gs_base_kernel, gs_base_user;
    uint16_t ds, es, fs, gs;         /* selectors saved at deschedule */
    unsigned int iopl;               /* virtual IOPL, 0-3 (set_iopl) */
    uint64_t iobmp_va;               /* set_iobitmap: guest VA and bit count */
    unsigned int iobmp_limit;
    bool ctrlreg0_ts;                /* guest's virtual CR0.TS (fpu_taskswitch) */
    uint64_t gdt_frames[16];
    unsigned int gdt_ents;
    uint64_t ldt_base;
    unsigned int ldt_ents;
    uint64_t dr[8];
    bool nmi_pending, nmi_masked;
};

struct vcpu {
    unsigned int id;
    struct domain *domain;
    unsigned int processor;          /* the physical CPU it runs on (pinned) */
    volatile enum vcpu_state state;
    bool online;
    struct cpu_regs regs;            /* guest registers while not running */
    struct pv_vcpu pv;
    struct vcpu_info *vcpu_info;     /* in shared_info, or where VCPUOP_register_vcpu_info put it */
    mfn_t vcpu_info_mfn;             /* registered page, or 0 */
    uint8_t fpu_state[512] __aligned(16);
    bool fpu_initialised;
    struct vcpu *next_runnable;      /* per-CPU run queue link */
    /* Timers. */
    struct timer singleshot_timer;   /* set_timer_op / VCPUOP_set_singleshot_timer */
    struct timer periodic_timer;
    uint64_t periodic_period;
    struct timer poll_timer;         /* SCHEDOP_poll timeout */
    uint32_t poll_ports[8];
    unsigned int nr_poll_ports;
    bool polling;
    unsigned int virq_to_port[VIRQ_COUNT];
    /* Runstate accounting. */
    uint64_t runstate_entry_time;
    uint64_t runstate_time[4];
    int runstate;
    uint64_t runstate_guest_va;       /* registered area, guest VA (kernel mode address space) */
    uint64_t time_info_guest_va;      /* VCPUOP_register_vcpu_time_memory_area */
    /* Statistics. */
    uint64_t hypercalls, bounces;
    /* ---- Events, vCPU operations and guest time (common/event_channel.c, vcpu_op.c, guest_time.c) ---- */
    int poll_evtchn;                  /* SCHEDOP_poll: the single port polled, -1 for several, 0 for none */
    spinlock_t periodic_lock;         /* periodic_period / periodic_last_event */
    uint64_t periodic_last_event;     /* system time the periodic timer last raised VIRQ_TIMER */
    /* Privileged-instruction emulation (arch/x86/pv/emulate.c, cpuid.c). */
    uint64_t emul_cr4;               /* guest-controlled CR4 bits (TSD, DE, FSGSBASE, OSXSAVE) as last written */
    bool cpuid_faulting;             /* MSR_MISC_FEATURES_ENABLES.CPUID_FAULTING */
    uint32_t tsc_aux;                /* MSR_TSC_AUX as the guest set it */
    uint64_t mcg_status;             /* virtual machine-check MSRs (always quiet) */
    /* Descriptor tables, segments and trap delivery (arch/x86/pv/descriptors.c, traps.c). */
    mfn_t ldt_shadow[16];            /* guest LDT pages mapped into the window; each holds a SEG_DESC type ref */
    uint64_t syscall32_callback, sysenter_callback;
    bool syscall32_disables_events, sysenter_disables_events;
};

struct domain {
    domid_t id;
    bool privileged;                 /* dom0: may use privileged operations */
    spinlock_t lock;                 /* page list, tot_pages */
    struct frame_list pages;
    uint64_t tot_pages, max_pages;
    struct shared_info *shared_info;
    mfn_t shared_info_mfn;
    unsigned int max_vcpus;
    struct vcpu **vcpus;
    /* CPUs whose TLB may hold this domain's translations: set by a CPU before it loads the domain's page tables,
     * cleared once it has switched to another domain and flushed (arch/x86/flushtlb.c). */
    struct cpumask dirty_cpus;
    uint64_t tlb_writable_dropped;   /* TLB clock when a writable translation of its own frame last went away */
    /* Shutdown. */
    bool is_shutting_down, is_shut_down, is_dying;
    unsigned int shutdown_code;
    /* Memory ABI state. */
    uint64_t vm_assist;
    /* P2M of a PV guest lives in guest memory; the hypervisor keeps only its size. */
    uint64_t max_pfn;
    /* Event channels (common/event_channel.c). */
    spinlock_t evtchn_lock;
    struct evtchn *evtchn;           /* EVTCHN_2L_NR_CHANNELS entries, allocated at creation */
    /* Grant table (common/grant_table.c). */
    void *grant;
    /* I/O ports the domain may access directly: dom0 all. */
    bool io_all;
    /* Console. */
    char conbuf[160];
    unsigned int conlen;
    /* ---- Events (common/event_channel.c) ---- */
    unsigned int evtchn_valid;        /* ports below this are valid (allocated in buckets of 64, as in Xen) */
    uint64_t poll_mask[(MAX_VIRT_CPUS + 63) / 64]; /* vCPUs blocked in SCHEDOP_poll */
    /* Privileged-instruction emulation (arch/x86/pv/emulate.c): latched CMOS index and PCI CONFIG_ADDRESS. */
    uint8_t cmos_idx;
    uint32_t pci_cf8;
    /* ---- Physical IRQs (arch/x86/irq.c, pv/physdev.c; the PIRQ side of common/event_channel.c) ---- */
    struct pirq *pirqs;               /* domain_nr_pirqs() entries, allocated on first use (vesta/irq.h) */
    mfn_t pirq_eoi_map_mfn;           /* PHYSDEVOP_pirq_eoi_gmfn: the guest's EOI bitmap page, 0 = none */
    uint64_t *pirq_eoi_map;
    bool pirq_auto_unmask;            /* registered with the v1 call: PHYSDEVOP_eoi also unmasks the port */
    /* ---- CPUID/MSR policy (arch/x86/pv/cpuid.c, vesta/cpu_policy.h). No lock: set only while the domain is
     * paused during its construction (domctl set_cpu_policy), read without a lock afterwards. NULL: the initial
     * domain's policy (dom0). ---- */
    struct cpu_policy *cpu_policy;
};

extern struct domain *domain_table[MAX_DOMAINS];

struct domain *domain_create(domid_t id, unsigned int max_vcpus, bool privileged);
struct vcpu *vcpu_create(struct domain *d, unsigned int id, unsigned int processor);
struct domain *domain_lookup(domid_t id);        /* NULL if no such domain */

/* Memory a domain owns: allocation gives the frame to d (owner, ALLOCATED, general count 1, on its list). */
struct frame *domain_alloc_pages(struct domain *d, unsigned int order);
int domain_assign_page(struct domain *d, struct frame *f); /* existing frame (e.g. a boot module page) */
void domain_free_page(struct frame *f);           /* last reference dropped */
int domain_steal_page(struct domain *d, mfn_t mfn); /* 0 or -EINVAL: see domain.c */

/* A domain (or the hypervisor on its behalf) ends it. crash names the reason on the console. */
void domain_shutdown(struct domain *d, unsigned int reason);
__attribute__((format(printf, 2, 3))) void domain_crash(struct domain *d, const char *fmt, ...);

/* The vCPU running on this CPU, or NULL in the idle loop. */
struct vcpu *current_vcpu(void);
static inline struct domain *current_domain(void)
{
    struct vcpu *v = current_vcpu();
    return v ? v->domain : NULL;
}

/* Scheduler (common/sched.c). Every vCPU is pinned to one physical CPU; each CPU round-robins its runnable vCPUs
 * and halts when none is runnable. */
void sched_init_cpu(unsigned int cpu);
void vcpu_wake(struct vcpu *v);
void vcpu_block(struct vcpu *v);           /* current vCPU only: blocks unless an event is pending */
void vcpu_yield(void);
void vcpu_pause_all(struct domain *d);     /* takes every vCPU of d off its CPU */
__noreturn void sched_run(void);           /* the idle loop: runs vCPUs when there are any */
void sched_softirq(void);                  /* called on the way back to a guest */
void raise_softirq(unsigned int cpu, unsigned int nr);
#define SOFTIRQ_SCHEDULE 1

/* Events (common/event_channel.c). */
void evtchn_init_domain(struct domain *d);
void evtchn_set_pending(struct vcpu *v, unsigned int port);
void send_guest_virq(struct vcpu *v, unsigned int virq);
void send_guest_global_virq(struct domain *d, unsigned int virq);
bool vcpu_event_pending(const struct vcpu *v);
long do_event_channel_op(unsigned long cmd, unsigned long arg);

/* ---- Events, vCPU operations and guest time ---- */
struct vcpu_runstate_info;
/* common/event_channel.c */
void vcpu_kick(struct vcpu *v);               /* wake it if blocked; make a running vCPU pass its exit path */
void vcpu_mark_events_pending(struct vcpu *v);
/* common/guest_time.c */
void vcpu_guest_init(struct vcpu *v);         /* from vcpu_create: vCPU timers, default tick, wallclock */
void vcpu_sched_out(struct vcpu *v);          /* from context_switch, v's page tables still loaded */
void vcpu_sched_in(struct vcpu *v);           /* from context_switch, v's page tables loaded */
void update_vcpu_system_time(struct vcpu *v, bool force);
void update_domain_wallclock(struct domain *d);
void vcpu_runstate_get(const struct vcpu *v, struct vcpu_runstate_info *r);
void update_runstate_area(struct vcpu *v);    /* v's page tables must be loaded */
void vcpu_set_periodic_timer(struct vcpu *v, uint64_t period_ns);
void send_timer_event(struct vcpu *v);
/* common/sched.c */
void vcpu_take_down(struct vcpu *v);          /* VCPU_DOWN: off its run queue and off its CPU */

#endif
