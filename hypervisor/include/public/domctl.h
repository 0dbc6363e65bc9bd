/* SPDX-License-Identifier: MIT */
/*
 * Vesta public ABI: domain control (the toolstack's per-domain interface).
 *
 * HYPERVISOR_domctl(struct xen_domctl *op)
 *   Only the control domain may call it (Xen's default policy; -EPERM for
 *   anyone else), with a few exceptions the dispatcher documents.  The
 *   caller stamps interface_version with XEN_DOMCTL_INTERFACE_VERSION; any
 *   other value is refused with -EACCES before anything else is looked at.
 *   'domain' names the target domain (for createdomain it is IN/OUT).  An
 *   unknown cmd returns -ENOSYS.  Unless an op says otherwise the whole
 *   structure is copied back to the caller when the op succeeds.
 *
 * These definitions carry the numbers and layouts of Xen 4.17's interface
 * version 0x15 (the union is 128 bytes, the structure 144).  Every size and
 * the offsets a slip would most likely move are checked below with
 * _Static_assert.  Guest handles are 64-bit, 8-byte aligned
 * (xen_guest_handle_t); the element type is named in the field comment.
 */
#ifndef VESTA_PUBLIC_DOMCTL_H
#define VESTA_PUBLIC_DOMCTL_H

#include "xen.h"
#include "event_channel.h"
#include "grant_table.h"
#include "memory.h"

#define XEN_DOMCTL_INTERFACE_VERSION 0x00000015

/* ------------------------------------------------------------------ */
/* Types shared with sysctl                                            */
/* ------------------------------------------------------------------ */

/* A bitmap in the caller's memory: nr_bits bits, bit i in byte i/8 (LSB
 * first).  The hypervisor reads or writes at most (nr_bits + 7) / 8 bytes;
 * when it writes a map larger than its own, the excess is zero-filled. */
struct xenctl_bitmap {
    xen_guest_handle_t bitmap;     /* -> uint8_t[] */
    uint32_t nr_bits;
    uint32_t _pad0;                /* implicit in Xen's layout */
};
typedef struct xenctl_bitmap xenctl_bitmap_t;

/* x86 part of the domain configuration (createdomain, getdomaininfo). */
#define XEN_X86_EMU_LAPIC      (1U << 0)
#define XEN_X86_EMU_HPET       (1U << 1)
#define XEN_X86_EMU_PM         (1U << 2)
#define XEN_X86_EMU_RTC        (1U << 3)
#define XEN_X86_EMU_IOAPIC     (1U << 4)
#define XEN_X86_EMU_PIC        (1U << 5)
#define XEN_X86_EMU_VGA        (1U << 6)
#define XEN_X86_EMU_IOMMU      (1U << 7)
#define XEN_X86_EMU_PIT        (1U << 8)
#define XEN_X86_EMU_USE_PIRQ   (1U << 9)
#define XEN_X86_EMU_VPCI       (1U << 10)
#define XEN_X86_EMU_ALL        0x7ffU

/* Unhandled MSR accesses read 0 / are dropped instead of raising #GP. */
#define XEN_X86_MSR_RELAXED    (1U << 0)
#define XEN_X86_MISC_FLAGS_MAX XEN_X86_MSR_RELAXED

struct xen_arch_domainconfig {
    uint32_t emulation_flags;      /* XEN_X86_EMU_*; 0 for a PV domain */
    uint32_t misc_flags;           /* XEN_X86_MSR_RELAXED */
};

/*
 * One CPUID leaf of a serialised policy.  subleaf is XEN_CPUID_NO_SUBLEAF
 * for leaves that have none.  Order in a list: ascending (leaf, subleaf).
 */
#define XEN_CPUID_NO_SUBLEAF   0xffffffffU
#define XEN_CPUID_INPUT_UNUSED 0xffffffffU
typedef struct xen_cpuid_leaf {
    uint32_t leaf, subleaf;
    uint32_t a, b, c, d;
} xen_cpuid_leaf_t;

/* One MSR of a serialised policy; flags must be zero. */
typedef struct xen_msr_entry {
    uint32_t idx;
    uint32_t flags;
    uint64_t val;
} xen_msr_entry_t;

/* Scheduler identifiers (also sysctl sched_id and cpupool sched_id). */
#define XEN_SCHEDULER_CREDIT    5
#define XEN_SCHEDULER_CREDIT2   6
#define XEN_SCHEDULER_ARINC653  7
#define XEN_SCHEDULER_RTDS      8
#define XEN_SCHEDULER_NULL      9   /* 4 was SEDF, long gone */

/* ------------------------------------------------------------------ */
/* Domain lifetime                                                     */
/* ------------------------------------------------------------------ */

/*
 * createdomain (1): domctl.domain is IN/OUT.  0 or an id at or above
 * DOMID_FIRST_RESERVED asks the hypervisor to pick one; an id in use gives
 * -EEXIST.  The new domain starts paused by its controller (count 1).
 */
#define XEN_DOMCTL_CDF_hvm            (1U << 0)
#define XEN_DOMCTL_CDF_hap            (1U << 1)
#define XEN_DOMCTL_CDF_s3_integrity   (1U << 2)
#define XEN_DOMCTL_CDF_oos_off        (1U << 3)
#define XEN_DOMCTL_CDF_xs_domain      (1U << 4)
#define XEN_DOMCTL_CDF_iommu          (1U << 5)
#define XEN_DOMCTL_CDF_nested_virt    (1U << 6)
#define XEN_DOMCTL_CDF_vpmu           (1U << 7)
#define XEN_DOMCTL_CDF_MAX            XEN_DOMCTL_CDF_vpmu

#define XEN_DOMCTL_IOMMU_no_sharept   (1U << 0)
#define XEN_DOMCTL_IOMMU_MAX          XEN_DOMCTL_IOMMU_no_sharept

/* grant_opts: the highest grant-table version the domain may use. */
#define XEN_DOMCTL_GRANT_version_mask 0xfU
#define XEN_DOMCTL_GRANT_version(v)   ((v) & XEN_DOMCTL_GRANT_version_mask)

struct xen_domctl_createdomain {
    uint32_t ssidref;
    xen_domain_handle_t handle;    /* toolstack UUID */
    uint32_t flags;                /* XEN_DOMCTL_CDF_* */
    uint32_t iommu_opts;           /* XEN_DOMCTL_IOMMU_* */
    uint32_t max_vcpus;
    uint32_t max_evtchn_port;
    int32_t  max_grant_frames;     /* < 0: the hypervisor's default */
    int32_t  max_maptrack_frames;  /* < 0: the hypervisor's default */
    uint32_t grant_opts;           /* XEN_DOMCTL_GRANT_version(n) */
    uint32_t vmtrace_size;         /* bytes per vCPU, 0 = none */
    uint32_t cpupool_id;
    struct xen_arch_domainconfig arch;
};

/*
 * getdomaininfo (5): reports the first domain whose id is >= domctl.domain
 * (and writes that id to info.domain and domctl.domain); -ESRCH if none.
 */
#define XEN_DOMINF_dying          (1U << 0)   /* only once fully dead */
#define XEN_DOMINF_hvm_guest      (1U << 1)
#define XEN_DOMINF_shutdown       (1U << 2)
#define XEN_DOMINF_paused         (1U << 3)   /* controller pause count > 0 */
#define XEN_DOMINF_blocked        (1U << 4)
#define XEN_DOMINF_running        (1U << 5)
#define XEN_DOMINF_debugged       (1U << 6)
#define XEN_DOMINF_xs_domain      (1U << 7)
#define XEN_DOMINF_hap            (1U << 8)
#define XEN_DOMINF_shutdownshift  16          /* shutdown code in 23:16 */
#define XEN_DOMINF_shutdownmask   255
#define XEN_INVALID_MAX_VCPU_ID   (~0U)       /* max_vcpu_id with no vCPUs */

struct xen_domctl_getdomaininfo {
    domid_t  domain;
    uint16_t pad1;
    uint32_t flags;                /* XEN_DOMINF_* */
    uint64_t tot_pages;
    uint64_t max_pages;
    uint64_t outstanding_pages;
    uint64_t shr_pages;
    uint64_t paged_pages;
    uint64_t shared_info_frame;    /* MFN for a PV domain */
    uint64_t cpu_time;             /* ns, summed over vCPUs */
    uint32_t nr_online_vcpus;
    uint32_t max_vcpu_id;
    uint32_t ssidref;
    xen_domain_handle_t handle;
    uint32_t cpupool;
    uint8_t  gpaddr_bits;          /* guest physical address width */
    uint8_t  pad2[7];
    struct xen_arch_domainconfig arch_config;
};
typedef struct xen_domctl_getdomaininfo xen_domctl_getdomaininfo_t;

/* max_vcpus (15): must equal createdomain's max_vcpus; creates the vCPUs. */
struct xen_domctl_max_vcpus {
    uint32_t max;
};

/* max_mem (11): the domain's memory limit in KiB. */
struct xen_domctl_max_mem {
    uint64_t max_memkb;
};

/* setdomainhandle (17) */
struct xen_domctl_setdomainhandle {
    xen_domain_handle_t handle;
};

/* setdebugging (18) */
struct xen_domctl_setdebugging {
    uint8_t enable;
};

/* set_address_size (35) / get_address_size (36): 64 for a 64-bit PV guest. */
struct xen_domctl_address_size {
    uint32_t size;
};

/* hypercall_init (22): write the hypercall page into frame gmfn. */
struct xen_domctl_hypercall_init {
    uint64_t gmfn;
};

/* settimeoffset (24): seconds added to the domain's wallclock. */
struct xen_domctl_settimeoffset {
    int64_t time_offset_seconds;
};

/* gettscinfo (59) / settscinfo (60) */
#define XEN_DOMCTL_TSC_MODE_DEFAULT         0
#define XEN_DOMCTL_TSC_MODE_ALWAYS_EMULATE  1
#define XEN_DOMCTL_TSC_MODE_NEVER_EMULATE   2
struct xen_domctl_tsc_info {
    uint32_t tsc_mode;
    uint32_t gtsc_khz;
    uint32_t incarnation;
    uint32_t pad;
    uint64_t elapsed_nsec;
};

/* set_target (46): the domain (a device model) may act on 'target'. */
struct xen_domctl_set_target {
    domid_t target;
};

/* subscribe (29): signal this port instead of VIRQ_DOM_EXC on suspend. */
struct xen_domctl_subscribe {
    uint32_t port;
};

/* set_virq_handler (66): route a global VIRQ to the target domain. */
struct xen_domctl_set_virq_handler {
    uint32_t virq;
};

/* sendtrigger (28) */
#define XEN_DOMCTL_SENDTRIGGER_NMI    0
#define XEN_DOMCTL_SENDTRIGGER_RESET  1
#define XEN_DOMCTL_SENDTRIGGER_INIT   2
#define XEN_DOMCTL_SENDTRIGGER_POWER  3
#define XEN_DOMCTL_SENDTRIGGER_SLEEP  4
struct xen_domctl_sendtrigger {
    uint32_t trigger;
    uint32_t vcpu;
};

/* ------------------------------------------------------------------ */
/* vCPUs                                                               */
/* ------------------------------------------------------------------ */

/* setvcpucontext (12) / getvcpucontext (13).  A null ctxt on set resets
 * the vCPU; get of a never-initialised vCPU is -ENODATA. */
struct xen_domctl_vcpucontext {
    uint32_t vcpu;
    uint32_t _pad0;
    xen_guest_handle_t ctxt;       /* -> struct vcpu_guest_context */
};

/* getvcpuinfo (14) */
struct xen_domctl_getvcpuinfo {
    uint32_t vcpu;                 /* IN */
    uint8_t  online;               /* OUT */
    uint8_t  blocked;
    uint8_t  running;
    uint8_t  _pad0;
    uint64_t cpu_time;             /* ns */
    uint32_t cpu;                  /* physical CPU it last ran on */
    uint32_t _pad1;
};

/*
 * setvcpuaffinity (9) / getvcpuaffinity (25).  flags choose which maps are
 * used.  On set both maps are IN/OUT and return the effective affinity
 * (hard: requested & pool's online CPUs; soft: also & hard).  On get they
 * return the maps as last set.
 */
#define XEN_VCPUAFFINITY_HARD   (1U << 0)
#define XEN_VCPUAFFINITY_SOFT   (1U << 1)
#define XEN_VCPUAFFINITY_FORCE  (1U << 2)   /* also drops a SCHEDOP_pin_override */
struct xen_domctl_vcpuaffinity {
    uint32_t vcpu;
    uint32_t flags;
    struct xenctl_bitmap cpumap_hard;
    struct xenctl_bitmap cpumap_soft;
};

/* setnodeaffinity (68) / getnodeaffinity (69) */
struct xen_domctl_nodeaffinity {
    struct xenctl_bitmap nodemap;
};

/*
 * set_ext_vcpucontext (42) / get_ext_vcpucontext (43).  size is IN for set
 * (at most sizeof this structure) and OUT for get.
 */
struct xen_domctl_ext_vcpucontext {
    uint32_t vcpu;
    uint32_t size;
    uint64_t syscall32_callback_eip;   /* SYSCALL from compat mode */
    uint64_t sysenter_callback_eip;
    uint16_t syscall32_callback_cs;
    uint16_t sysenter_callback_cs;
    uint8_t  syscall32_disables_events;
    uint8_t  sysenter_disables_events;
    uint8_t  _pad0[2];
    union {
        uint64_t mcg_cap;              /* virtual MCG_CAP (older streams) */
        struct {
            uint64_t caps;             /* MCG_CAP */
            uint64_t mci_ctl2_bank0;
            uint64_t mci_ctl2_bank1;
            uint64_t mcg_ext_ctl;
        } vmce;
    };
};

/*
 * setvcpuextstate (62) / getvcpuextstate (63): the vCPU's XSAVE area.
 * Get with a null buffer (or size 0) returns the required size and the
 * xfeature mask; the buffer holds XCR0, XCR0_ACCUM, then the XSAVE image.
 */
struct xen_domctl_vcpuextstate {
    uint32_t vcpu;
    uint32_t _pad0;
    uint64_t xfeature_mask;
    uint64_t size;
    xen_guest_handle_t buffer;     /* -> uint64_t[] */
};

/*
 * get_vcpu_msrs (72) / set_vcpu_msrs (73).  A null msrs handle asks for the
 * maximum count.  Get with too small a count is -ENOBUFS (count updated);
 * a bad entry on set is -EINVAL with msr_count set to its index.
 */
struct xen_domctl_vcpu_msr {
    uint32_t index;
    uint32_t reserved;             /* must be zero */
    uint64_t value;
};
typedef struct xen_domctl_vcpu_msr xen_domctl_vcpu_msr_t;

struct xen_domctl_vcpu_msrs {
    uint32_t vcpu;
    uint32_t msr_count;
    xen_guest_handle_t msrs;       /* -> xen_domctl_vcpu_msr_t[] */
};

/* ------------------------------------------------------------------ */
/* Scheduling                                                          */
/* ------------------------------------------------------------------ */

struct xen_domctl_sched_credit {
    uint16_t weight;               /* 1..65535; put 0 = unchanged */
    uint16_t cap;                  /* percent of a CPU, 0 = none */
};

struct xen_domctl_sched_credit2 {
    uint16_t weight;
    uint16_t cap;
};

#define XEN_DOMCTL_SCHEDRT_extra   (1U << 0)
struct xen_domctl_sched_rtds {
    uint32_t period;
    uint32_t budget;
    uint32_t flags;                /* XEN_DOMCTL_SCHEDRT_* */
};

typedef struct xen_domctl_schedparam_vcpu {
    union {
        struct xen_domctl_sched_credit  credit;
        struct xen_domctl_sched_credit2 credit2;
        struct xen_domctl_sched_rtds    rtds;
    } u;
    uint32_t vcpuid;
} xen_domctl_schedparam_vcpu_t;

/*
 * scheduler_op (16): sched_id must be the scheduler of the domain's pool
 * (-EINVAL otherwise).  putinfo/getinfo act on the whole domain; the vcpu
 * forms are for schedulers with per-vCPU parameters (RTDS).
 */
#define XEN_DOMCTL_SCHEDOP_putinfo      0
#define XEN_DOMCTL_SCHEDOP_getinfo      1
#define XEN_DOMCTL_SCHEDOP_putvcpuinfo  2
#define XEN_DOMCTL_SCHEDOP_getvcpuinfo  3
struct xen_domctl_scheduler_op {
    uint32_t sched_id;             /* XEN_SCHEDULER_* */
    uint32_t cmd;                  /* XEN_DOMCTL_SCHEDOP_* */
    union {
        struct xen_domctl_sched_credit  credit;
        struct xen_domctl_sched_credit2 credit2;
        struct xen_domctl_sched_rtds    rtds;
        struct {
            xen_guest_handle_t vcpus;  /* -> xen_domctl_schedparam_vcpu_t[] */
            uint32_t nr_vcpus;         /* IN: entries; OUT: processed */
            uint32_t padding;
        } v;
    } u;
};

/* ------------------------------------------------------------------ */
/* Memory                                                              */
/* ------------------------------------------------------------------ */

/*
 * getpageframeinfo3 (61): num MFNs in array[] (at most 1024, else -E2BIG)
 * are replaced in place by their type: the top nibble is one of the values
 * below, the rest of each word is the frame number as passed.
 */
#define XEN_DOMCTL_PFINFO_LTAB_SHIFT     28
#define XEN_DOMCTL_PFINFO_NOTAB          (0x0U << 28)
#define XEN_DOMCTL_PFINFO_L1TAB          (0x1U << 28)
#define XEN_DOMCTL_PFINFO_L2TAB          (0x2U << 28)
#define XEN_DOMCTL_PFINFO_L3TAB          (0x3U << 28)
#define XEN_DOMCTL_PFINFO_L4TAB          (0x4U << 28)
#define XEN_DOMCTL_PFINFO_LTABTYPE_MASK  (0x7U << 28)
#define XEN_DOMCTL_PFINFO_LPINTAB        (0x1U << 31)   /* pinned */
#define XEN_DOMCTL_PFINFO_XTAB           (0xfU << 28)   /* not the domain's */
#define XEN_DOMCTL_PFINFO_XALLOC         (0xeU << 28)
#define XEN_DOMCTL_PFINFO_BROKEN         (0xdU << 28)
#define XEN_DOMCTL_PFINFO_LTAB_MASK      (0xfU << 28)

struct xen_domctl_getpageframeinfo3 {
    uint64_t num;
    xen_guest_handle_t array;      /* -> xen_pfn_t[num], IN/OUT */
};

/*
 * shadow_op (10): shadow paging and log-dirty control.  For PV only OFF,
 * the log-dirty enables, CLEAN and PEEK matter.  CLEAN/PEEK copy the dirty
 * bitmap (pages bits) and return pages = the domain's p2m size.
 */
#define XEN_DOMCTL_SHADOW_OP_OFF               0
#define XEN_DOMCTL_SHADOW_OP_ENABLE_TEST       1
#define XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY   2
#define XEN_DOMCTL_SHADOW_OP_CLEAN            11
#define XEN_DOMCTL_SHADOW_OP_PEEK             12
#define XEN_DOMCTL_SHADOW_OP_GET_ALLOCATION   30
#define XEN_DOMCTL_SHADOW_OP_SET_ALLOCATION   31
#define XEN_DOMCTL_SHADOW_OP_ENABLE           32

#define XEN_DOMCTL_SHADOW_ENABLE_REFCOUNT  (1U << 1)   /* mode for ENABLE */
#define XEN_DOMCTL_SHADOW_ENABLE_LOG_DIRTY (1U << 2)
#define XEN_DOMCTL_SHADOW_ENABLE_TRANSLATE (1U << 3)
#define XEN_DOMCTL_SHADOW_ENABLE_EXTERNAL  (1U << 4)
#define XEN_DOMCTL_SHADOW_LOGDIRTY_FINAL   (1U << 0)   /* mode for CLEAN/PEEK */

struct xen_domctl_shadow_op_stats {
    uint32_t fault_count;
    uint32_t dirty_count;
};

struct xen_domctl_shadow_op {
    uint32_t op;                   /* XEN_DOMCTL_SHADOW_OP_* */
    uint32_t mode;
    uint32_t mb;                   /* GET/SET_ALLOCATION */
    uint32_t _pad0;
    xen_guest_handle_t dirty_bitmap;   /* -> uint8_t[] */
    uint64_t pages;                /* IN: bitmap size in bits; OUT: p2m size */
    struct xen_domctl_shadow_op_stats stats;
};

/* get/set_paging_mempool_size (85/86), in bytes. */
struct xen_domctl_paging_mempool {
    uint64_t size;
};

/* cacheflush (71): write back and invalidate a range of the domain's
 * frames (meaningful on ARM; on x86 the range is only checked). */
struct xen_domctl_cacheflush {
    xen_pfn_t start_pfn, nr_pfns;
};

/* setvnumainfo (74): a virtual NUMA topology for the guest (ranges as in
 * memory.h's get_vnumainfo). */

struct xen_domctl_vnuma {
    uint32_t nr_vnodes;
    uint32_t nr_vmemranges;
    uint32_t nr_vcpus;
    uint32_t pad;
    xen_guest_handle_t vdistance;      /* -> uint32_t[nr_vnodes^2] */
    xen_guest_handle_t vcpu_to_vnode;  /* -> uint32_t[nr_vcpus] */
    xen_guest_handle_t vnode_to_pnode; /* -> uint32_t[nr_vnodes] */
    xen_guest_handle_t vmemrange;      /* -> xen_vmemrange_t[] */
};

/* ------------------------------------------------------------------ */
/* Hardware access                                                     */
/* ------------------------------------------------------------------ */

/* irq_permission (19) */
struct xen_domctl_irq_permission {
    uint32_t pirq;
    uint8_t  allow_access;
    uint8_t  pad[3];
};

/* iomem_permission (20): frames [first_mfn, first_mfn + nr_mfns). */
struct xen_domctl_iomem_permission {
    uint64_t first_mfn;
    uint64_t nr_mfns;
    uint8_t  allow_access;
    uint8_t  _pad0[7];
};

/* ioport_permission (21): ports [first_port, first_port + nr_ports). */
struct xen_domctl_ioport_permission {
    uint32_t first_port;
    uint32_t nr_ports;
    uint8_t  allow_access;
    uint8_t  _pad0[3];
};

/* ------------------------------------------------------------------ */
/* CPUID and MSR policy (x86)                                          */
/* ------------------------------------------------------------------ */

/*
 * get_cpu_policy (82) / set_cpu_policy (83).  Get with null handles
 * returns the maximum counts.  On set, the leaves and MSRs given replace
 * those of the domain's current policy; the result must be within what the
 * hypervisor can offer the domain.  When auditing refuses an entry,
 * err_leaf/err_subleaf or err_msr name it (otherwise they are ~0).
 */
struct xen_domctl_cpu_policy {
    uint32_t nr_leaves;
    uint32_t nr_msrs;
    xen_guest_handle_t leaves;     /* -> xen_cpuid_leaf_t[] */
    xen_guest_handle_t msrs;       /* -> xen_msr_entry_t[] */
    uint32_t err_leaf, err_subleaf, err_msr;
    uint32_t _pad0;
};
typedef struct xen_domctl_cpu_policy xen_domctl_cpu_policy_t;

/* ------------------------------------------------------------------ */
/* HVM context (listed for completeness; a PV-only hypervisor refuses) */
/* ------------------------------------------------------------------ */

struct xen_domctl_hvmcontext {
    uint32_t size;
    uint32_t _pad0;
    xen_guest_handle_t buffer;     /* -> uint8_t[] */
};

struct xen_domctl_hvmcontext_partial {
    uint32_t type;
    uint32_t instance;
    uint64_t bufsz;
    xen_guest_handle_t buffer;     /* -> uint8_t[] */
};

struct xen_domctl_debug_op {
    uint32_t op;
    uint32_t vcpu;
};
#define XEN_DOMCTL_DEBUG_OP_SINGLE_STEP_OFF  0
#define XEN_DOMCTL_DEBUG_OP_SINGLE_STEP_ON   1

/* ------------------------------------------------------------------ */
/* The hypercall argument                                              */
/* ------------------------------------------------------------------ */

#define XEN_DOMCTL_createdomain               1
#define XEN_DOMCTL_destroydomain              2
#define XEN_DOMCTL_pausedomain                3
#define XEN_DOMCTL_unpausedomain              4
#define XEN_DOMCTL_getdomaininfo              5
/* 6 (getmemlist), 7, 8 (getpageframeinfo/2) are gone. */
#define XEN_DOMCTL_setvcpuaffinity            9
#define XEN_DOMCTL_shadow_op                 10
#define XEN_DOMCTL_max_mem                   11
#define XEN_DOMCTL_setvcpucontext            12
#define XEN_DOMCTL_getvcpucontext            13
#define XEN_DOMCTL_getvcpuinfo               14
#define XEN_DOMCTL_max_vcpus                 15
#define XEN_DOMCTL_scheduler_op              16
#define XEN_DOMCTL_setdomainhandle           17
#define XEN_DOMCTL_setdebugging              18
#define XEN_DOMCTL_irq_permission            19
#define XEN_DOMCTL_iomem_permission          20
#define XEN_DOMCTL_ioport_permission         21
#define XEN_DOMCTL_hypercall_init            22
#define XEN_DOMCTL_soft_reset_cont           23   /* hypervisor-internal */
#define XEN_DOMCTL_settimeoffset             24
#define XEN_DOMCTL_getvcpuaffinity           25
#define XEN_DOMCTL_real_mode_area            26   /* obsolete */
#define XEN_DOMCTL_resumedomain              27
#define XEN_DOMCTL_sendtrigger               28
#define XEN_DOMCTL_subscribe                 29
#define XEN_DOMCTL_gethvmcontext             33
#define XEN_DOMCTL_sethvmcontext             34
#define XEN_DOMCTL_set_address_size          35
#define XEN_DOMCTL_get_address_size          36
#define XEN_DOMCTL_assign_device             37
#define XEN_DOMCTL_bind_pt_irq               38
#define XEN_DOMCTL_memory_mapping            39
#define XEN_DOMCTL_ioport_mapping            40
#define XEN_DOMCTL_set_ext_vcpucontext       42
#define XEN_DOMCTL_get_ext_vcpucontext       43
#define XEN_DOMCTL_set_opt_feature           44   /* obsolete */
#define XEN_DOMCTL_test_assign_device        45
#define XEN_DOMCTL_set_target                46
#define XEN_DOMCTL_deassign_device           47
#define XEN_DOMCTL_unbind_pt_irq             48
#define XEN_DOMCTL_get_device_group          50
#define XEN_DOMCTL_debug_op                  54
#define XEN_DOMCTL_gethvmcontext_partial     55
#define XEN_DOMCTL_vm_event_op               56
#define XEN_DOMCTL_mem_sharing_op            57
#define XEN_DOMCTL_gettscinfo                59
#define XEN_DOMCTL_settscinfo                60
#define XEN_DOMCTL_getpageframeinfo3         61
#define XEN_DOMCTL_setvcpuextstate           62
#define XEN_DOMCTL_getvcpuextstate           63
#define XEN_DOMCTL_set_access_required       64
#define XEN_DOMCTL_audit_p2m                 65
#define XEN_DOMCTL_set_virq_handler          66
#define XEN_DOMCTL_set_broken_page_p2m       67
#define XEN_DOMCTL_setnodeaffinity           68
#define XEN_DOMCTL_getnodeaffinity           69
#define XEN_DOMCTL_cacheflush                71
#define XEN_DOMCTL_get_vcpu_msrs             72
#define XEN_DOMCTL_set_vcpu_msrs             73
#define XEN_DOMCTL_setvnumainfo              74
#define XEN_DOMCTL_psr_cmt_op                75
#define XEN_DOMCTL_monitor_op                77
#define XEN_DOMCTL_psr_alloc                 78
#define XEN_DOMCTL_soft_reset                79
#define XEN_DOMCTL_vuart_op                  81
#define XEN_DOMCTL_get_cpu_policy            82
#define XEN_DOMCTL_set_cpu_policy            83
#define XEN_DOMCTL_vmtrace_op                84
#define XEN_DOMCTL_get_paging_mempool_size   85
#define XEN_DOMCTL_set_paging_mempool_size   86
#define XEN_DOMCTL_gdbsx_guestmemio        1000
#define XEN_DOMCTL_gdbsx_pausevcpu         1001
#define XEN_DOMCTL_gdbsx_unpausevcpu       1002
#define XEN_DOMCTL_gdbsx_domstatus         1003

struct xen_domctl {
    uint32_t cmd;                  /* XEN_DOMCTL_* */
    uint32_t interface_version;    /* XEN_DOMCTL_INTERFACE_VERSION */
    domid_t  domain;
    uint16_t _pad[3];
    union {
        struct xen_domctl_createdomain        createdomain;
        struct xen_domctl_getdomaininfo       getdomaininfo;
        struct xen_domctl_getpageframeinfo3   getpageframeinfo3;
        struct xen_domctl_nodeaffinity        nodeaffinity;
        struct xen_domctl_vcpuaffinity        vcpuaffinity;
        struct xen_domctl_shadow_op           shadow_op;
        struct xen_domctl_max_mem             max_mem;
        struct xen_domctl_vcpucontext         vcpucontext;
        struct xen_domctl_getvcpuinfo         getvcpuinfo;
        struct xen_domctl_max_vcpus           max_vcpus;
        struct xen_domctl_scheduler_op        scheduler_op;
        struct xen_domctl_setdomainhandle     setdomainhandle;
        struct xen_domctl_setdebugging        setdebugging;
        struct xen_domctl_irq_permission      irq_permission;
        struct xen_domctl_iomem_permission    iomem_permission;
        struct xen_domctl_ioport_permission   ioport_permission;
        struct xen_domctl_hypercall_init      hypercall_init;
        struct xen_domctl_settimeoffset       settimeoffset;
        struct xen_domctl_tsc_info            tsc_info;
        struct xen_domctl_hvmcontext          hvmcontext;
        struct xen_domctl_hvmcontext_partial  hvmcontext_partial;
        struct xen_domctl_address_size        address_size;
        struct xen_domctl_sendtrigger         sendtrigger;
        struct xen_domctl_ext_vcpucontext     ext_vcpucontext;
        struct xen_domctl_set_target          set_target;
        struct xen_domctl_subscribe           subscribe;
        struct xen_domctl_debug_op            debug_op;
        struct xen_domctl_cpu_policy          cpu_policy;
        struct xen_domctl_vcpuextstate        vcpuextstate;
        struct xen_domctl_vcpu_msrs           vcpu_msrs;
        struct xen_domctl_set_virq_handler    set_virq_handler;
        struct xen_domctl_cacheflush          cacheflush;
        struct xen_domctl_vnuma               vnuma;
        struct xen_domctl_paging_mempool      paging_mempool;
        uint8_t                               pad[128];
    } u;
};
typedef struct xen_domctl xen_domctl_t;

/* ------------------------------------------------------------------ */
/* Layout checks (figures from Xen 4.17's headers, x86-64)             */
/* ------------------------------------------------------------------ */

_Static_assert(sizeof(struct xenctl_bitmap) == 16, "xenctl_bitmap");
_Static_assert(offsetof(struct xenctl_bitmap, nr_bits) == 8, "bitmap.nr_bits");
_Static_assert(sizeof(struct xen_arch_domainconfig) == 8, "arch_domainconfig");
_Static_assert(sizeof(xen_cpuid_leaf_t) == 24, "xen_cpuid_leaf");
_Static_assert(sizeof(xen_msr_entry_t) == 16, "xen_msr_entry");
_Static_assert(offsetof(xen_msr_entry_t, val) == 8, "msr_entry.val");

_Static_assert(sizeof(struct xen_domctl_createdomain) == 64, "createdomain");
_Static_assert(offsetof(struct xen_domctl_createdomain, flags) == 20, "cd.flags");
_Static_assert(offsetof(struct xen_domctl_createdomain, max_vcpus) == 28, "cd.max_vcpus");
_Static_assert(offsetof(struct xen_domctl_createdomain, grant_opts) == 44, "cd.grant_opts");
_Static_assert(offsetof(struct xen_domctl_createdomain, cpupool_id) == 52, "cd.cpupool");
_Static_assert(offsetof(struct xen_domctl_createdomain, arch) == 56, "cd.arch");
_Static_assert(sizeof(struct xen_domctl_getdomaininfo) == 112, "getdomaininfo");
_Static_assert(offsetof(struct xen_domctl_getdomaininfo, flags) == 4, "gdi.flags");
_Static_assert(offsetof(struct xen_domctl_getdomaininfo, tot_pages) == 8, "gdi.tot");
_Static_assert(offsetof(struct xen_domctl_getdomaininfo, shared_info_frame) == 48, "gdi.sif");
_Static_assert(offsetof(struct xen_domctl_getdomaininfo, cpu_time) == 56, "gdi.cpu_time");
_Static_assert(offsetof(struct xen_domctl_getdomaininfo, nr_online_vcpus) == 64, "gdi.online");
_Static_assert(offsetof(struct xen_domctl_getdomaininfo, handle) == 76, "gdi.handle");
_Static_assert(offsetof(struct xen_domctl_getdomaininfo, cpupool) == 92, "gdi.cpupool");
_Static_assert(offsetof(struct xen_domctl_getdomaininfo, gpaddr_bits) == 96, "gdi.gpaddr");
_Static_assert(offsetof(struct xen_domctl_getdomaininfo, arch_config) == 104, "gdi.arch");
_Static_assert(sizeof(struct xen_domctl_max_vcpus) == 4, "max_vcpus");
_Static_assert(sizeof(struct xen_domctl_max_mem) == 8, "max_mem");
_Static_assert(sizeof(struct xen_domctl_setdomainhandle) == 16, "setdomainhandle");
_Static_assert(sizeof(struct xen_domctl_setdebugging) == 1, "setdebugging");
_Static_assert(sizeof(struct xen_domctl_address_size) == 4, "address_size");
_Static_assert(sizeof(struct xen_domctl_hypercall_init) == 8, "hypercall_init");
_Static_assert(sizeof(struct xen_domctl_settimeoffset) == 8, "settimeoffset");
_Static_assert(sizeof(struct xen_domctl_tsc_info) == 24, "tsc_info");
_Static_assert(offsetof(struct xen_domctl_tsc_info, elapsed_nsec) == 16, "tsc.elapsed");
_Static_assert(sizeof(struct xen_domctl_set_target) == 2, "set_target");
_Static_assert(sizeof(struct xen_domctl_subscribe) == 4, "subscribe");
_Static_assert(sizeof(struct xen_domctl_set_virq_handler) == 4, "set_virq_handler");
_Static_assert(sizeof(struct xen_domctl_sendtrigger) == 8, "sendtrigger");
_Static_assert(sizeof(struct xen_domctl_vcpucontext) == 16, "vcpucontext");
_Static_assert(offsetof(struct xen_domctl_vcpucontext, ctxt) == 8, "vc.ctxt");
_Static_assert(sizeof(struct xen_domctl_getvcpuinfo) == 24, "getvcpuinfo");
_Static_assert(offsetof(struct xen_domctl_getvcpuinfo, online) == 4, "gvi.online");
_Static_assert(offsetof(struct xen_domctl_getvcpuinfo, running) == 6, "gvi.running");
_Static_assert(offsetof(struct xen_domctl_getvcpuinfo, cpu_time) == 8, "gvi.cpu_time");
_Static_assert(offsetof(struct xen_domctl_getvcpuinfo, cpu) == 16, "gvi.cpu");
_Static_assert(sizeof(struct xen_domctl_vcpuaffinity) == 40, "vcpuaffinity");
_Static_assert(offsetof(struct xen_domctl_vcpuaffinity, cpumap_hard) == 8, "va.hard");
_Static_assert(offsetof(struct xen_domctl_vcpuaffinity, cpumap_soft) == 24, "va.soft");
_Static_assert(sizeof(struct xen_domctl_nodeaffinity) == 16, "nodeaffinity");
_Static_assert(sizeof(struct xen_domctl_ext_vcpucontext) == 64, "ext_vcpucontext");
_Static_assert(offsetof(struct xen_domctl_ext_vcpucontext, syscall32_callback_cs) == 24,
               "evc.s32cs");
_Static_assert(offsetof(struct xen_domctl_ext_vcpucontext, syscall32_disables_events) == 28,
               "evc.s32de");
_Static_assert(offsetof(struct xen_domctl_ext_vcpucontext, mcg_cap) == 32, "evc.mcg_cap");
_Static_assert(offsetof(struct xen_domctl_ext_vcpucontext, vmce.mcg_ext_ctl) == 56, "evc.ext");
_Static_assert(sizeof(struct xen_domctl_vcpuextstate) == 32, "vcpuextstate");
_Static_assert(offsetof(struct xen_domctl_vcpuextstate, xfeature_mask) == 8, "ves.mask");
_Static_assert(offsetof(struct xen_domctl_vcpuextstate, buffer) == 24, "ves.buffer");
_Static_assert(sizeof(struct xen_domctl_vcpu_msr) == 16, "vcpu_msr");
_Static_assert(sizeof(struct xen_domctl_vcpu_msrs) == 16, "vcpu_msrs");
_Static_assert(offsetof(struct xen_domctl_vcpu_msrs, msrs) == 8, "vm.msrs");
_Static_assert(sizeof(struct xen_domctl_sched_credit) == 4, "sched_credit");
_Static_assert(sizeof(struct xen_domctl_sched_rtds) == 12, "sched_rtds");
_Static_assert(sizeof(xen_domctl_schedparam_vcpu_t) == 16, "schedparam_vcpu");
_Static_assert(offsetof(xen_domctl_schedparam_vcpu_t, vcpuid) == 12, "spv.vcpuid");
_Static_assert(sizeof(struct xen_domctl_scheduler_op) == 24, "scheduler_op");
_Static_assert(offsetof(struct xen_domctl_scheduler_op, u) == 8, "so.u");
_Static_assert(offsetof(struct xen_domctl_scheduler_op, u.v.nr_vcpus) == 16, "so.nr");
_Static_assert(sizeof(struct xen_domctl_getpageframeinfo3) == 16, "getpageframeinfo3");
_Static_assert(sizeof(struct xen_domctl_shadow_op) == 40, "shadow_op");
_Static_assert(offsetof(struct xen_domctl_shadow_op, dirty_bitmap) == 16, "so.bitmap");
_Static_assert(offsetof(struct xen_domctl_shadow_op, pages) == 24, "so.pages");
_Static_assert(offsetof(struct xen_domctl_shadow_op, stats) == 32, "so.stats");
_Static_assert(sizeof(struct xen_domctl_paging_mempool) == 8, "paging_mempool");
_Static_assert(sizeof(struct xen_domctl_cacheflush) == 16, "cacheflush");
_Static_assert(sizeof(struct xen_domctl_vnuma) == 48, "vnuma");
_Static_assert(offsetof(struct xen_domctl_vnuma, vmemrange) == 40, "vnuma.vmemrange");
_Static_assert(sizeof(struct xen_domctl_irq_permission) == 8, "irq_permission");
_Static_assert(sizeof(struct xen_domctl_iomem_permission) == 24, "iomem_permission");
_Static_assert(offsetof(struct xen_domctl_iomem_permission, allow_access) == 16, "iomem.allow");
_Static_assert(sizeof(struct xen_domctl_ioport_permission) == 12, "ioport_permission");
_Static_assert(offsetof(struct xen_domctl_ioport_permission, allow_access) == 8, "ioport.allow");
_Static_assert(sizeof(struct xen_domctl_cpu_policy) == 40, "domctl cpu_policy");
_Static_assert(offsetof(struct xen_domctl_cpu_policy, leaves) == 8, "dcp.leaves");
_Static_assert(offsetof(struct xen_domctl_cpu_policy, msrs) == 16, "dcp.msrs");
_Static_assert(offsetof(struct xen_domctl_cpu_policy, err_leaf) == 24, "dcp.err_leaf");
_Static_assert(offsetof(struct xen_domctl_cpu_policy, err_msr) == 32, "dcp.err_msr");
_Static_assert(sizeof(struct xen_domctl_hvmcontext) == 16, "hvmcontext");
_Static_assert(sizeof(struct xen_domctl_hvmcontext_partial) == 24, "hvmcontext_partial");
_Static_assert(sizeof(struct xen_domctl_debug_op) == 8, "debug_op");

_Static_assert(offsetof(struct xen_domctl, domain) == 8, "domctl.domain");
_Static_assert(offsetof(struct xen_domctl, u) == 16, "domctl.u");
_Static_assert(sizeof(((struct xen_domctl *)0)->u) == 128, "domctl union is 128 bytes");
_Static_assert(sizeof(struct xen_domctl) == 144, "domctl size");

#endif /* VESTA_PUBLIC_DOMCTL_H */
