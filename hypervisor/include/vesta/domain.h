/* Domains and virtual CPUs.
 *
 * A domain owns memory (frames whose frame-table owner is its id, linked on its page list), event channels, a
 * grant table and a set of vCPUs. Structures are allocated per domain and sized at creation, so nothing here
 * limits how many domains exist beyond memory and the id space (Xen's: 0 .. DOMID_FIRST_RESERVED-1).
 *
 * Life cycle (common/domain.c): created from a struct domain_config (the dom0 builder and
 * XEN_DOMCTL_createdomain share it), alive, then dying once the toolstack destroys it: its resources are released
 * step by step (a preemptible teardown), after which it is dead, and it leaves the domain table when the last
 * reference goes. References are counted: the domain table holds one until the domain is dead, every frame it
 * owns together holds one (so a frame still mapped by another domain keeps the owner's structure alive), and
 * every lookup holds one until domain_put(). domain_get() fails for a dying domain, so code that may only act
 * on live domains needs no is_dying test of its own.
 *
 * While a vCPU runs, its guest registers live in the cpu_regs frame at the top of the CPU's stack (every entry
 * from the guest builds it there); when it is descheduled they are copied into vcpu->regs. */
#ifndef VESTA_DOMAIN_H
#define VESTA_DOMAIN_H

#include <public/xen.h>
#include <vesta/cpumask.h>
#include <vesta/frame.h>
#include <vesta/sched.h>
#include <vesta/spinlock.h>
#include <vesta/timer.h>
#include <vesta/traps.h>
#include <vesta/types.h>

#define MAX_DOMID (DOMID_FIRST_RESERVED - 1) /* the highest id a domain can have */
#define MAX_VIRT_CPUS 128         /* per domain */
#ifndef EVTCHN_2L_NR_CHANNELS
#define EVTCHN_2L_NR_CHANNELS 4096 /* 64 * 64: the 2-level ABI limit for a 64-bit guest */
#endif
#define VIRQ_COUNT 24

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
    bool is_initialised;             /* has a context: built, VCPUOP_initialise or setvcpucontext */
    /* ---- Scheduling (common/sched.c; the fields below pause_count change under the run-queue lock of
     * `processor`, the pause inputs atomically; vesta/sched.h has the model) ---- */
    unsigned int processor;          /* the physical CPU it runs on (pinned at creation) */
    uint32_t pause_flags;            /* VPF_*: its own reasons not to run */
    int pause_count;                 /* vcpu_pause() nesting */
    bool paused_for_shutdown;        /* one of those pauses is the domain's shutdown (domain.c, shutdown_lock) */
    bool is_running;                 /* its state is on its CPU: set when picked, cleared once saved */
    bool on_runq;
    struct vcpu *next_runnable;      /* per-CPU run queue link */
    struct cpumask hard_affinity;    /* where it may run (processor is one of them) */
    struct cpumask soft_affinity;    /* where the toolstack would like it to run */
    int runstate;                    /* RUNSTATE_*, and the time spent in each */
    uint64_t runstate_entry_time;
    uint64_t runstate_time[4];
    struct cpu_regs regs;            /* guest registers while not running */
    struct pv_vcpu pv;
    struct vcpu_info *vcpu_info;     /* in shared_info, or where VCPUOP_register_vcpu_info put it */
    mfn_t vcpu_info_mfn;             /* registered page, or 0 */
    uint8_t fpu_state[512] __aligned(16);
    bool fpu_initialised;
    /* Timers. */
    struct timer singleshot_timer;   /* set_timer_op / VCPUOP_set_singleshot_timer */
    struct timer periodic_timer;
    uint64_t periodic_period;
    struct timer poll_timer;         /* SCHEDOP_poll timeout */
    unsigned int virq_to_port[VIRQ_COUNT];
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

/* What a domain is created with. The dom0 builder fills it from the command line, XEN_DOMCTL_createdomain from
 * the toolstack's request once validated; domain_create() takes nothing else. */
struct domain_config {
    domid_t id;
    bool privileged;                 /* the control domain: may use the control interfaces */
    unsigned int max_vcpus;
    unsigned int max_evtchn_port;    /* highest event-channel port it may allocate */
    unsigned int max_grant_frames, max_maptrack_frames;
    unsigned int max_grant_version;  /* 1 or 2 */
    uint8_t handle[16];              /* the toolstack's UUID */
    uint32_t ssidref;
    bool msr_relaxed;                /* XEN_X86_MSR_RELAXED: unknown MSRs read 0, writes dropped */
};

enum domain_dying { DOMDYING_alive, DOMDYING_dying, DOMDYING_dead };
#define SHUTDOWN_CODE_INVALID 0xff   /* shutdown_code of a domain that never shut down (Xen's ~0 in a u8) */

struct domain {
    /* ---- Identity and life cycle (common/domain.c) ---- */
    domid_t id;
    bool privileged;                 /* the control domain: may use privileged operations */
    uint8_t handle[16];
    uint32_t ssidref;
    int refcnt;                      /* see the top of this file; guarded by the domain table's lock */
    enum domain_dying is_dying;      /* advances only in domain_kill() (under the domctl lock) */
    bool creation_finished;          /* the toolstack's first unpause happened */
    int pause_count;                 /* domain_pause() nesting (vesta/sched.h) */
    int controller_pause_count;      /* the toolstack's share of it, at most 255 */
    spinlock_t shutdown_lock;        /* the shutdown fields and every vCPU's paused_for_shutdown */
    bool is_shutting_down, is_shut_down;
    uint8_t shutdown_code;           /* SHUTDOWN_*, or SHUTDOWN_CODE_INVALID */
    unsigned int teardown_step;      /* domain_kill(): the step to resume at, and that step's cursor */
    uint64_t teardown_cursor;
    /* ---- vCPUs and scheduling (common/sched.c) ---- */
    unsigned int sched_weight;       /* relative share of CPU time, 1..65535 (XEN_DOMCTL_scheduler_op) */
    unsigned int max_vcpus;
    struct vcpu **vcpus;             /* max_vcpus slots, filled by vcpu_create() */
    /* ---- Memory (common/domain.c; `lock` guards the page list and the counts) ---- */
    spinlock_t lock;
    struct frame_list pages;         /* every frame it owns, but the hypervisor frames shared with it */
    uint64_t tot_pages, max_pages;
    uint64_t outstanding_pages;      /* XENMEM_claim_pages: claimed and not yet allocated */
    struct shared_info *shared_info; /* a hypervisor frame shared with it */
    mfn_t shared_info_mfn;
    uint64_t vm_assist;              /* VMASST_* enabled */
    uint64_t max_pfn;                /* P2M size: the P2M of a PV guest lives in guest memory */
    unsigned int address_size;       /* XEN_DOMCTL_set_address_size: 64 for a 64-bit PV guest */
    /* CPUs whose TLB may hold this domain's translations: set by a CPU before it loads the domain's page tables,
     * cleared once it has switched to another domain and flushed (arch/x86/flushtlb.c). */
    struct cpumask dirty_cpus;
    uint64_t tlb_writable_dropped;   /* TLB clock when a writable translation of its own frame last went away */
    /* ---- Events (common/event_channel.c; evtchn_lock) ---- */
    spinlock_t evtchn_lock;
    struct evtchn *evtchn;           /* max_evtchns entries, allocated at creation */
    unsigned int max_evtchns;        /* config.max_evtchn_port + 1, at most the 2-level ABI's limit */
    unsigned int evtchn_valid;       /* ports below this are valid (allocated in buckets of 64, as in Xen) */
    uint64_t poll_mask[(MAX_VIRT_CPUS + 63) / 64]; /* vCPUs blocked in SCHEDOP_poll */
    /* ---- Grant table (common/grant_table.c) ---- */
    void *grant;
    unsigned int max_grant_frames, max_maptrack_frames, max_grant_version;
    /* ---- Time (common/guest_time.c) ---- */
    int64_t time_offset_seconds;     /* XEN_DOMCTL_settimeoffset: the guest's wallclock offset */
    uint32_t tsc_mode;               /* XEN_DOMCTL_settscinfo (the PV TSC is always native here) */
    /* ---- Devices and privileged-instruction emulation ---- */
    bool msr_relaxed;                /* unknown MSRs the hardware has read as 0, writes dropped (pv/msr.c) */
    bool io_all;                     /* I/O ports the domain may access directly: dom0 all */
    uint8_t cmos_idx;                /* latched CMOS index and PCI CONFIG_ADDRESS (arch/x86/pv/emulate.c) */
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

#define for_each_vcpu(d, v)                                                                                        \
    for (struct vcpu *v, **v##_slot_ = (d)->vcpus; v##_slot_ < (d)->vcpus + (d)->max_vcpus; v##_slot_++)       \
        if ((v = __atomic_load_n(v##_slot_, __ATOMIC_ACQUIRE)) != NULL)

extern struct domain *hardware_domain;          /* dom0, once built */

/* Creation and lookup. domain_create() returns the domain with a reference for the caller; vcpu_create() places
 * the vCPU on a CPU (sched_pick_cpu()) and leaves it down and paused by nothing but VPF_DOWN. */
struct domain *domain_create(const struct domain_config *cfg, int *err);
struct vcpu *vcpu_create(struct domain *d, unsigned int id);
struct domain *domain_get(domid_t id);          /* a live domain with a reference, or NULL */
struct domain *domain_get_any(domid_t id);      /* the same, dying domains included (info, destroy, unmap) */
struct domain *domain_get_by_any_id(domid_t id); /* DOMID_SELF or an id: domain_get() */
struct domain *domain_get_next(domid_t from);   /* the first domain with id >= from, dying included, or NULL */
void domain_hold(struct domain *d);             /* another reference to a domain the caller holds one to */
void domain_put(struct domain *d);
unsigned int domain_count(void);                /* domains in the table, dying ones included */
void domain_debugkeys_init(void);               /* 'q': domains, vCPUs, frame ownership */
/* Xen's default XSM rule for "target" operations: on itself, or the control domain on anyone. */
static inline bool may_target(const struct domain *cur, const struct domain *d)
{
    return cur == d || cur->privileged;
}

/* Destruction (XEN_DOMCTL_destroydomain): marks d dying and releases its resources; -ERESTART asks to be called
 * again (a hypercall continuation), 0 once d is dead. */
int domain_kill(struct domain *d);

/* Memory a domain owns: allocation gives the frame to d (owner, ALLOCATED, general count 1, on its list). */
struct frame *domain_alloc_pages(struct domain *d, unsigned int order);
int domain_assign_page(struct domain *d, struct frame *f); /* existing frame (e.g. a boot module page) */
void domain_free_page(struct frame *f);           /* last reference dropped */
int domain_steal_page(struct domain *d, mfn_t mfn); /* 0 or -EINVAL: see domain.c */
/* A hypervisor frame shared with d (shared info, grant-table frames): owned by d for mapping purposes, freed by
 * the hypervisor, or, if d still maps it when it is given back, by the last put. */
void *domain_share_xen_page(struct domain *d);
void domain_unshare_xen_page(void *p);

/* Pausing by the toolstack (Xen's pause_by_systemcontroller): -EOVERFLOW past 255, -EINVAL below 0. */
int domain_pause_by_controller(struct domain *d);
int domain_unpause_by_controller(struct domain *d);

/* A domain (or the hypervisor on its behalf) ends it: its vCPUs are paused and the control domain hears of it
 * (VIRQ_DOM_EXC). crash names the reason on the console. domain_resume() undoes a shutdown (xl save -c). */
void domain_shutdown(struct domain *d, unsigned int reason);
void domain_resume(struct domain *d);
__attribute__((format(printf, 2, 3))) void domain_crash(struct domain *d, const char *fmt, ...);

/* The vCPU running on this CPU, or NULL in the idle loop. */
struct vcpu *current_vcpu(void);
static inline struct domain *current_domain(void)
{
    struct vcpu *v = current_vcpu();
    return v ? v->domain : NULL;
}

/* Events (common/event_channel.c). */
int evtchn_init_domain(struct domain *d, unsigned int max_port);
int evtchn_destroy(struct domain *d);         /* teardown: close every port (preemptible: -ERESTART) */
void evtchn_free_domain(struct domain *d);
void evtchn_set_pending(struct vcpu *v, unsigned int port);
void send_guest_virq(struct vcpu *v, unsigned int virq);
void send_guest_global_virq(struct domain *d, unsigned int virq);
void send_global_virq(unsigned int virq);      /* to the domain that bound it: VIRQ_DOM_EXC to dom0 */
bool vcpu_event_pending(const struct vcpu *v);
long do_event_channel_op(unsigned long cmd, unsigned long arg);

/* ---- Events, vCPU operations and guest time ---- */
struct vcpu_runstate_info;
/* common/event_channel.c */
void vcpu_kick(struct vcpu *v);               /* wake it if blocked; make a running vCPU pass its exit path */
void vcpu_mark_events_pending(struct vcpu *v);
/* common/guest_time.c */
/* common/vcpu_op.c */
void unmap_vcpu_info(struct vcpu *v);         /* teardown of VCPUOP_register_vcpu_info */
struct vcpu_guest_context;
long vcpu_set_context(struct vcpu *v, struct vcpu_guest_context *c); /* XEN_DOMCTL_setvcpucontext, d paused */
void vcpu_get_context(struct vcpu *v, struct vcpu_guest_context *c); /* XEN_DOMCTL_getvcpucontext, v paused */
void vcpu_guest_init(struct vcpu *v);         /* from vcpu_create: vCPU timers, default tick, wallclock */
void vcpu_sched_out(struct vcpu *v);          /* from context_switch, v's page tables still loaded */
void vcpu_sched_in(struct vcpu *v);           /* from context_switch, v's page tables loaded */
void update_vcpu_system_time(struct vcpu *v, bool force);
void update_domain_wallclock(struct domain *d);
void vcpu_runstate_get(const struct vcpu *v, struct vcpu_runstate_info *r);
void update_runstate_area(struct vcpu *v);    /* v's page tables must be loaded */
void vcpu_set_periodic_timer(struct vcpu *v, uint64_t period_ns);
void send_timer_event(struct vcpu *v);

#endif
