/* SPDX-License-Identifier: MIT */
/*
 * Vesta public ABI: system control (the toolstack's host-wide interface).
 *
 * HYPERVISOR_sysctl(struct xen_sysctl *op)
 *   Only the control domain may call it (-EPERM otherwise: Xen's default
 *   policy treats every sysctl alike).  interface_version must be
 *   XEN_SYSCTL_INTERFACE_VERSION or the call fails with -EACCES before
 *   anything else is looked at.  An unknown cmd returns -ENOSYS.  Unless
 *   an op says otherwise, the whole structure is copied back when the op
 *   succeeds and nothing is copied back when it fails.
 *
 * Numbers and layouts are Xen 4.17's interface version 0x15: the union is
 * 128 bytes at offset 8, the structure 136.  Checked with _Static_assert
 * at the end of this file.
 */
#ifndef VESTA_PUBLIC_SYSCTL_H
#define VESTA_PUBLIC_SYSCTL_H

#include "xen.h"
#include "domctl.h"
#include "physdev.h"

#define XEN_SYSCTL_INTERFACE_VERSION 0x00000015

/*
 * readconsole (1): copy out the hypervisor's console ring.
 *   incremental = 0: start at the oldest byte still in the ring.
 *   incremental = 1: start at 'index' if it lies inside the ring's current
 *                    contents, else at the oldest byte.
 *   At most 'count' bytes are copied; on return count is the number copied
 *   and index the position after the last byte copied.  clear = 1 discards
 *   what was read (everything up to the returned index).
 */
struct xen_sysctl_readconsole {
    uint8_t  clear;
    uint8_t  incremental;
    uint8_t  pad0, pad1;
    uint32_t index;                /* IN/OUT */
    xen_guest_handle_t buffer;     /* -> char[count] */
    uint32_t count;                /* IN: buffer size; OUT: bytes written */
    uint32_t _pad0;
};

/* tbuf_op (2): trace buffers. */
#define XEN_SYSCTL_TBUFOP_get_info      0
#define XEN_SYSCTL_TBUFOP_set_cpu_mask  1
#define XEN_SYSCTL_TBUFOP_set_evt_mask  2
#define XEN_SYSCTL_TBUFOP_set_size      3
#define XEN_SYSCTL_TBUFOP_enable        4
#define XEN_SYSCTL_TBUFOP_disable       5
struct xen_sysctl_tbuf_op {
    uint32_t cmd;
    uint32_t _pad0;
    struct xenctl_bitmap cpu_mask;
    uint32_t evt_mask;
    uint32_t _pad1;
    uint64_t buffer_mfn;
    uint32_t size;
    uint32_t _pad2;
};

/*
 * physinfo (3): facts about the host.  max_cpu_id + 1 bits size every CPU
 * map the toolstack passes around; capabilities say which guest types and
 * features the hypervisor offers.
 */
#define XEN_SYSCTL_PHYSCAP_hvm                (1U << 0)
#define XEN_SYSCTL_PHYSCAP_pv                 (1U << 1)
#define XEN_SYSCTL_PHYSCAP_directio           (1U << 2)
#define XEN_SYSCTL_PHYSCAP_hap                (1U << 3)
#define XEN_SYSCTL_PHYSCAP_shadow             (1U << 4)
#define XEN_SYSCTL_PHYSCAP_iommu_hap_pt_share (1U << 5)
#define XEN_SYSCTL_PHYSCAP_vmtrace            (1U << 6)
#define XEN_SYSCTL_PHYSCAP_vpmu               (1U << 7)
#define XEN_SYSCTL_PHYSCAP_gnttab_v1          (1U << 8)
#define XEN_SYSCTL_PHYSCAP_gnttab_v2          (1U << 9)
#define XEN_SYSCTL_PHYSCAP_MAX                XEN_SYSCTL_PHYSCAP_gnttab_v2

struct xen_sysctl_physinfo {
    uint32_t threads_per_core;
    uint32_t cores_per_socket;
    uint32_t nr_cpus;              /* online */
    uint32_t max_cpu_id;
    uint32_t nr_nodes;             /* online */
    uint32_t max_node_id;
    uint32_t cpu_khz;
    uint32_t capabilities;         /* XEN_SYSCTL_PHYSCAP_* */
    uint32_t arch_capabilities;    /* none defined for x86 */
    uint32_t pad;
    uint64_t total_pages;
    uint64_t free_pages;
    uint64_t scrub_pages;
    uint64_t outstanding_pages;
    uint64_t max_mfn;              /* highest MFN the host may have */
    uint32_t hw_cap[8];            /* the first 8 words of the host featureset */
};

/* sched_id (4): the scheduler of cpupool 0. */
struct xen_sysctl_sched_id {
    uint32_t sched_id;             /* XEN_SCHEDULER_* */
};

/* perfc_op (5) */
#define XEN_SYSCTL_PERFCOP_reset 1
#define XEN_SYSCTL_PERFCOP_query 2
struct xen_sysctl_perfc_desc {
    char     name[80];
    uint32_t nr_vals;
};
typedef struct xen_sysctl_perfc_desc xen_sysctl_perfc_desc_t;
typedef uint32_t xen_sysctl_perfc_val_t;
struct xen_sysctl_perfc_op {
    uint32_t cmd;
    uint32_t nr_counters;
    uint32_t nr_vals;
    uint32_t _pad0;
    xen_guest_handle_t desc;       /* -> xen_sysctl_perfc_desc_t[] */
    xen_guest_handle_t val;        /* -> xen_sysctl_perfc_val_t[] */
};

/*
 * getdomaininfolist (6): up to max_domains entries for the domains with
 * id >= first_domain, in ascending id order; num_domains is how many.
 */
struct xen_sysctl_getdomaininfolist {
    domid_t  first_domain;
    uint16_t _pad0;
    uint32_t max_domains;
    xen_guest_handle_t buffer;     /* -> xen_domctl_getdomaininfo_t[] */
    uint32_t num_domains;          /* OUT */
    uint32_t _pad1;
};

/* debug_keys (7): feed characters to the debug-key handler. */
struct xen_sysctl_debug_keys {
    xen_guest_handle_t keys;       /* -> const char[nr_keys] */
    uint32_t nr_keys;
    uint32_t _pad0;
};

/* getcpuinfo (8): idle time per physical CPU. */
struct xen_sysctl_cpuinfo {
    uint64_t idletime;             /* ns */
};
typedef struct xen_sysctl_cpuinfo xen_sysctl_cpuinfo_t;
struct xen_sysctl_getcpuinfo {
    uint32_t max_cpus;
    uint32_t _pad0;
    xen_guest_handle_t info;       /* -> xen_sysctl_cpuinfo_t[max_cpus] */
    uint32_t nr_cpus;              /* OUT */
    uint32_t _pad1;
};

/* availheap (9) */
struct xen_sysctl_availheap {
    uint32_t min_bitwidth;
    uint32_t max_bitwidth;
    int32_t  node;                 /* -1: all nodes */
    uint32_t _pad0;
    uint64_t avail_bytes;          /* OUT */
};

/* cpu_hotplug (11) */
#define XEN_SYSCTL_CPU_HOTPLUG_ONLINE       0
#define XEN_SYSCTL_CPU_HOTPLUG_OFFLINE      1
#define XEN_SYSCTL_CPU_HOTPLUG_SMT_ENABLE   2
#define XEN_SYSCTL_CPU_HOTPLUG_SMT_DISABLE  3
struct xen_sysctl_cpu_hotplug {
    uint32_t cpu;
    uint32_t op;
};

/* page_offline_op (14) */
#define sysctl_page_offline        1
#define sysctl_page_online         2
#define sysctl_query_page_offline  3
struct xen_sysctl_page_offline_op {
    uint32_t cmd;
    uint32_t start;
    uint32_t end;
    uint32_t _pad0;
    xen_guest_handle_t status;     /* -> uint32_t[end - start + 1] */
};

/*
 * cputopoinfo (16): per-CPU core, socket and node.  A null cputopo handle
 * asks for the number of entries (last present CPU + 1); otherwise up to
 * num_cpus entries are written and num_cpus says how many.
 */
#define XEN_INVALID_CORE_ID     (~0U)
#define XEN_INVALID_SOCKET_ID   (~0U)
#define XEN_INVALID_NODE_ID     (~0U)
struct xen_sysctl_cputopo {
    uint32_t core;
    uint32_t socket;
    uint32_t node;
};
typedef struct xen_sysctl_cputopo xen_sysctl_cputopo_t;
struct xen_sysctl_cputopoinfo {
    uint32_t num_cpus;
    uint32_t _pad0;
    xen_guest_handle_t cputopo;    /* -> xen_sysctl_cputopo_t[num_cpus] */
};

/*
 * numainfo (17): per-node memory and the node distance matrix.  With both
 * handles null, num_nodes returns the node count; otherwise up to
 * num_nodes nodes are described and distance[i * N + j] (N = the returned
 * num_nodes) is the distance from node i to node j.
 */
#define XEN_INVALID_MEM_SZ      (~0U)
#define XEN_INVALID_NODE_DIST   (~0U)
struct xen_sysctl_meminfo {
    uint64_t memsize;              /* bytes */
    uint64_t memfree;
};
typedef struct xen_sysctl_meminfo xen_sysctl_meminfo_t;
struct xen_sysctl_numainfo {
    uint32_t num_nodes;
    uint32_t _pad0;
    xen_guest_handle_t meminfo;    /* -> xen_sysctl_meminfo_t[] */
    xen_guest_handle_t distance;   /* -> uint32_t[] */
};

/*
 * cpupool_op (18).  The letters say which op uses a field:
 * C create, D destroy, I info, A add CPU, R remove CPU, M move domain,
 * F free-CPU info.  INFO reports the first pool with id >= cpupool_id
 * (-ENOENT if there is none).  FREEINFO returns the CPUs in no pool.
 */
#define XEN_SYSCTL_CPUPOOL_OP_CREATE      1
#define XEN_SYSCTL_CPUPOOL_OP_DESTROY     2
#define XEN_SYSCTL_CPUPOOL_OP_INFO        3
#define XEN_SYSCTL_CPUPOOL_OP_ADDCPU      4
#define XEN_SYSCTL_CPUPOOL_OP_RMCPU       5
#define XEN_SYSCTL_CPUPOOL_OP_MOVEDOMAIN  6
#define XEN_SYSCTL_CPUPOOL_OP_FREEINFO    7
#define XEN_SYSCTL_CPUPOOL_PAR_ANY        0xffffffffU
struct xen_sysctl_cpupool_op {
    uint32_t op;                   /* XEN_SYSCTL_CPUPOOL_OP_* */
    uint32_t cpupool_id;           /* IN: C D I A R M; OUT: C I */
    uint32_t sched_id;             /* IN: C; OUT: I */
    uint32_t domid;                /* IN: M */
    uint32_t cpu;                  /* IN: A R */
    uint32_t n_dom;                /* OUT: I */
    struct xenctl_bitmap cpumap;   /* OUT: I F */
};

/*
 * scheduler_op (19): global parameters of a pool's scheduler.  sched_id
 * must match the pool's scheduler (-EINVAL otherwise).
 */
#define XEN_SYSCTL_SCHED_RATELIMIT_MAX    500000
#define XEN_SYSCTL_SCHED_RATELIMIT_MIN    100
#define XEN_SYSCTL_CSCHED_TSLICE_MAX      1000
#define XEN_SYSCTL_CSCHED_TSLICE_MIN      1
#define XEN_SYSCTL_CSCHED_MGR_DLY_MAX_US  (100 * 1000)

#define ARINC653_MAX_DOMAINS_PER_SCHEDULE 64
struct xen_sysctl_arinc653_schedule {
    uint64_t major_frame;          /* ns */
    uint8_t  num_sched_entries;
    uint8_t  _pad0[7];
    struct {
        xen_domain_handle_t dom_handle;
        uint32_t vcpu_id;
        uint32_t _pad0;
        uint64_t runtime;          /* ns per major frame */
    } sched_entries[ARINC653_MAX_DOMAINS_PER_SCHEDULE];
};
typedef struct xen_sysctl_arinc653_schedule xen_sysctl_arinc653_schedule_t;

struct xen_sysctl_credit_schedule {
    uint32_t tslice_ms;            /* 1..1000 */
    uint32_t ratelimit_us;         /* 0, or 100..500000 */
    uint32_t vcpu_migr_delay_us;   /* <= 100000 */
};

struct xen_sysctl_credit2_schedule {
    uint32_t ratelimit_us;
};

#define XEN_SYSCTL_SCHEDOP_putinfo 0
#define XEN_SYSCTL_SCHEDOP_getinfo 1
struct xen_sysctl_scheduler_op {
    uint32_t cpupool_id;
    uint32_t sched_id;             /* XEN_SCHEDULER_* */
    uint32_t cmd;                  /* XEN_SYSCTL_SCHEDOP_* */
    uint32_t _pad0;
    union {
        struct xen_sysctl_sched_arinc653 {
            xen_guest_handle_t schedule; /* -> xen_sysctl_arinc653_schedule_t */
        } sched_arinc653;
        struct xen_sysctl_credit_schedule  sched_credit;
        struct xen_sysctl_credit2_schedule sched_credit2;
    } u;
};

/*
 * pcitopoinfo (22): the NUMA node of each listed PCI device: a node id,
 * XEN_INVALID_NODE_ID if unknown, XEN_INVALID_DEV if no such device.
 * num_devs returns how many were processed (the call may stop early).
 */
#define XEN_INVALID_DEV         (XEN_INVALID_NODE_ID - 1)
struct xen_sysctl_pcitopoinfo {
    uint32_t num_devs;
    uint32_t _pad0;
    xen_guest_handle_t devs;       /* -> physdev_pci_device_t[num_devs] */
    xen_guest_handle_t nodes;      /* -> uint32_t[num_devs] */
};

/* get_cpu_levelling_caps (25) */
#define XEN_SYSCTL_CPU_LEVELCAP_faulting     (1U << 0)
#define XEN_SYSCTL_CPU_LEVELCAP_ecx          (1U << 1)
#define XEN_SYSCTL_CPU_LEVELCAP_edx          (1U << 2)
#define XEN_SYSCTL_CPU_LEVELCAP_extd_ecx     (1U << 3)
#define XEN_SYSCTL_CPU_LEVELCAP_extd_edx     (1U << 4)
#define XEN_SYSCTL_CPU_LEVELCAP_xsave_eax    (1U << 5)
#define XEN_SYSCTL_CPU_LEVELCAP_thermal_ecx  (1U << 6)
#define XEN_SYSCTL_CPU_LEVELCAP_l7s0_eax     (1U << 7)
#define XEN_SYSCTL_CPU_LEVELCAP_l7s0_ebx     (1U << 8)
struct xen_sysctl_cpu_levelling_caps {
    uint32_t caps;
};

/*
 * get_cpu_featureset (26): a featureset as an array of 32-bit words (the
 * word numbering of Xen's cpufeatureset.h).  A null handle asks for the
 * word count.  Fewer words than the hypervisor has gives -ENOBUFS after
 * copying what fits.
 */
#define XEN_SYSCTL_cpu_featureset_raw      0
#define XEN_SYSCTL_cpu_featureset_host     1
#define XEN_SYSCTL_cpu_featureset_pv       2
#define XEN_SYSCTL_cpu_featureset_hvm      3
#define XEN_SYSCTL_cpu_featureset_pv_max   4
#define XEN_SYSCTL_cpu_featureset_hvm_max  5
struct xen_sysctl_cpu_featureset {
    uint32_t index;
    uint32_t nr_features;          /* IN/OUT */
    xen_guest_handle_t features;   /* -> uint32_t[nr_features] */
};

/*
 * get_cpu_policy (29): a whole system policy serialised as CPUID leaves
 * and MSRs.  Null handles ask for the maximum counts.  Note the index
 * numbering differs from get_cpu_featureset's.
 */
#define XEN_SYSCTL_cpu_policy_raw          0
#define XEN_SYSCTL_cpu_policy_host         1
#define XEN_SYSCTL_cpu_policy_pv_max       2
#define XEN_SYSCTL_cpu_policy_hvm_max      3
#define XEN_SYSCTL_cpu_policy_pv_default   4
#define XEN_SYSCTL_cpu_policy_hvm_default  5
struct xen_sysctl_cpu_policy {
    uint32_t index;
    uint32_t nr_leaves;            /* IN/OUT */
    uint32_t nr_msrs;              /* IN/OUT */
    uint32_t _rsvd;                /* must be zero */
    xen_guest_handle_t leaves;     /* -> xen_cpuid_leaf_t[nr_leaves] */
    xen_guest_handle_t msrs;       /* -> xen_msr_entry_t[nr_msrs] */
};
typedef struct xen_sysctl_cpu_policy xen_sysctl_cpu_policy_t;

/* ------------------------------------------------------------------ */
/* The hypercall argument                                              */
/* ------------------------------------------------------------------ */

#define XEN_SYSCTL_readconsole               1
#define XEN_SYSCTL_tbuf_op                   2
#define XEN_SYSCTL_physinfo                  3
#define XEN_SYSCTL_sched_id                  4
#define XEN_SYSCTL_perfc_op                  5
#define XEN_SYSCTL_getdomaininfolist         6
#define XEN_SYSCTL_debug_keys                7
#define XEN_SYSCTL_getcpuinfo                8
#define XEN_SYSCTL_availheap                 9
#define XEN_SYSCTL_get_pmstat               10
#define XEN_SYSCTL_cpu_hotplug              11
#define XEN_SYSCTL_pm_op                    12
/* 13 is unallocated. */
#define XEN_SYSCTL_page_offline_op          14
#define XEN_SYSCTL_lockprof_op              15
#define XEN_SYSCTL_cputopoinfo              16
#define XEN_SYSCTL_numainfo                 17
#define XEN_SYSCTL_cpupool_op               18
#define XEN_SYSCTL_scheduler_op             19
#define XEN_SYSCTL_coverage_op              20
#define XEN_SYSCTL_psr_cmt_op               21
#define XEN_SYSCTL_pcitopoinfo              22
#define XEN_SYSCTL_psr_alloc                23
/* 24 is unallocated. */
#define XEN_SYSCTL_get_cpu_levelling_caps   25
#define XEN_SYSCTL_get_cpu_featureset       26
#define XEN_SYSCTL_livepatch_op             27
/* 28 (set_parameter) was removed. */
#define XEN_SYSCTL_get_cpu_policy           29

struct xen_sysctl {
    uint32_t cmd;                  /* XEN_SYSCTL_* */
    uint32_t interface_version;    /* XEN_SYSCTL_INTERFACE_VERSION */
    union {
        struct xen_sysctl_readconsole        readconsole;
        struct xen_sysctl_tbuf_op            tbuf_op;
        struct xen_sysctl_physinfo           physinfo;
        struct xen_sysctl_cputopoinfo        cputopoinfo;
        struct xen_sysctl_pcitopoinfo        pcitopoinfo;
        struct xen_sysctl_numainfo           numainfo;
        struct xen_sysctl_sched_id           sched_id;
        struct xen_sysctl_perfc_op           perfc_op;
        struct xen_sysctl_getdomaininfolist  getdomaininfolist;
        struct xen_sysctl_debug_keys         debug_keys;
        struct xen_sysctl_getcpuinfo         getcpuinfo;
        struct xen_sysctl_availheap          availheap;
        struct xen_sysctl_cpu_hotplug        cpu_hotplug;
        struct xen_sysctl_page_offline_op    page_offline;
        struct xen_sysctl_cpupool_op         cpupool_op;
        struct xen_sysctl_scheduler_op       scheduler_op;
        struct xen_sysctl_cpu_levelling_caps cpu_levelling_caps;
        struct xen_sysctl_cpu_featureset     cpu_featureset;
        struct xen_sysctl_cpu_policy         cpu_policy;
        uint8_t                              pad[128];
    } u;
};
typedef struct xen_sysctl xen_sysctl_t;

/* ------------------------------------------------------------------ */
/* Layout checks (figures from Xen 4.17's headers, x86-64)             */
/* ------------------------------------------------------------------ */

_Static_assert(sizeof(struct xen_sysctl_readconsole) == 24, "readconsole");
_Static_assert(offsetof(struct xen_sysctl_readconsole, index) == 4, "rc.index");
_Static_assert(offsetof(struct xen_sysctl_readconsole, buffer) == 8, "rc.buffer");
_Static_assert(offsetof(struct xen_sysctl_readconsole, count) == 16, "rc.count");
_Static_assert(sizeof(struct xen_sysctl_tbuf_op) == 48, "tbuf_op");
_Static_assert(offsetof(struct xen_sysctl_tbuf_op, evt_mask) == 24, "tbuf.evt_mask");
_Static_assert(offsetof(struct xen_sysctl_tbuf_op, buffer_mfn) == 32, "tbuf.mfn");
_Static_assert(sizeof(struct xen_sysctl_physinfo) == 112, "physinfo");
_Static_assert(offsetof(struct xen_sysctl_physinfo, cpu_khz) == 24, "pi.cpu_khz");
_Static_assert(offsetof(struct xen_sysctl_physinfo, capabilities) == 28, "pi.caps");
_Static_assert(offsetof(struct xen_sysctl_physinfo, total_pages) == 40, "pi.total");
_Static_assert(offsetof(struct xen_sysctl_physinfo, max_mfn) == 72, "pi.max_mfn");
_Static_assert(offsetof(struct xen_sysctl_physinfo, hw_cap) == 80, "pi.hw_cap");
_Static_assert(sizeof(struct xen_sysctl_sched_id) == 4, "sched_id");
_Static_assert(sizeof(struct xen_sysctl_perfc_desc) == 84, "perfc_desc");
_Static_assert(sizeof(struct xen_sysctl_perfc_op) == 32, "perfc_op");
_Static_assert(sizeof(struct xen_sysctl_getdomaininfolist) == 24, "getdomaininfolist");
_Static_assert(offsetof(struct xen_sysctl_getdomaininfolist, max_domains) == 4, "gdil.max");
_Static_assert(offsetof(struct xen_sysctl_getdomaininfolist, buffer) == 8, "gdil.buffer");
_Static_assert(offsetof(struct xen_sysctl_getdomaininfolist, num_domains) == 16, "gdil.num");
_Static_assert(sizeof(struct xen_sysctl_debug_keys) == 16, "debug_keys");
_Static_assert(sizeof(struct xen_sysctl_getcpuinfo) == 24, "getcpuinfo");
_Static_assert(offsetof(struct xen_sysctl_getcpuinfo, nr_cpus) == 16, "gci.nr");
_Static_assert(sizeof(struct xen_sysctl_availheap) == 24, "availheap");
_Static_assert(offsetof(struct xen_sysctl_availheap, avail_bytes) == 16, "ah.bytes");
_Static_assert(sizeof(struct xen_sysctl_cpu_hotplug) == 8, "cpu_hotplug");
_Static_assert(sizeof(struct xen_sysctl_page_offline_op) == 24, "page_offline");
_Static_assert(offsetof(struct xen_sysctl_page_offline_op, status) == 16, "po.status");
_Static_assert(sizeof(struct xen_sysctl_cputopo) == 12, "cputopo");
_Static_assert(sizeof(struct xen_sysctl_cputopoinfo) == 16, "cputopoinfo");
_Static_assert(offsetof(struct xen_sysctl_cputopoinfo, cputopo) == 8, "cti.cputopo");
_Static_assert(sizeof(struct xen_sysctl_meminfo) == 16, "meminfo");
_Static_assert(sizeof(struct xen_sysctl_numainfo) == 24, "numainfo");
_Static_assert(offsetof(struct xen_sysctl_numainfo, meminfo) == 8, "ni.meminfo");
_Static_assert(offsetof(struct xen_sysctl_numainfo, distance) == 16, "ni.distance");
_Static_assert(sizeof(struct xen_sysctl_cpupool_op) == 40, "cpupool_op");
_Static_assert(offsetof(struct xen_sysctl_cpupool_op, n_dom) == 20, "cp.n_dom");
_Static_assert(offsetof(struct xen_sysctl_cpupool_op, cpumap) == 24, "cp.cpumap");
_Static_assert(sizeof(struct xen_sysctl_arinc653_schedule) == 2064, "arinc653_schedule");
_Static_assert(sizeof(struct xen_sysctl_credit_schedule) == 12, "credit_schedule");
_Static_assert(sizeof(struct xen_sysctl_credit2_schedule) == 4, "credit2_schedule");
_Static_assert(sizeof(struct xen_sysctl_scheduler_op) == 32, "sysctl scheduler_op");
_Static_assert(offsetof(struct xen_sysctl_scheduler_op, u) == 16, "sso.u");
_Static_assert(sizeof(struct xen_sysctl_pcitopoinfo) == 24, "pcitopoinfo");
_Static_assert(sizeof(struct xen_sysctl_cpu_levelling_caps) == 4, "levelling_caps");
_Static_assert(sizeof(struct xen_sysctl_cpu_featureset) == 16, "cpu_featureset");
_Static_assert(offsetof(struct xen_sysctl_cpu_featureset, features) == 8, "cfs.features");
_Static_assert(sizeof(struct xen_sysctl_cpu_policy) == 32, "sysctl cpu_policy");
_Static_assert(offsetof(struct xen_sysctl_cpu_policy, _rsvd) == 12, "scp.rsvd");
_Static_assert(offsetof(struct xen_sysctl_cpu_policy, leaves) == 16, "scp.leaves");
_Static_assert(offsetof(struct xen_sysctl_cpu_policy, msrs) == 24, "scp.msrs");

_Static_assert(offsetof(struct xen_sysctl, u) == 8, "sysctl.u");
_Static_assert(sizeof(((struct xen_sysctl *)0)->u) == 128, "sysctl union is 128 bytes");
_Static_assert(sizeof(struct xen_sysctl) == 136, "sysctl size");

#endif /* VESTA_PUBLIC_SYSCTL_H */
