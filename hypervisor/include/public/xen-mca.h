/* Machine-check architecture hypercall (__HYPERVISOR_mca, 31): the parts of Xen 4.17's
 * public/arch-x86/xen-mca.h a PV dom0 uses (Linux's drivers/xen/mcelog.c). Layouts checked against Xen. */
#ifndef VESTA_PUBLIC_XEN_MCA_H
#define VESTA_PUBLIC_XEN_MCA_H

#include "xen.h"

#define XEN_MCA_INTERFACE_VERSION 0x01ecc003

#define XEN_MC_NONURGENT 0x0001
#define XEN_MC_URGENT 0x0002
#define XEN_MC_ACK 0x0004
#define XEN_MC_OK 0x0
#define XEN_MC_FETCHFAILED 0x1
#define XEN_MC_NODATA 0x2

#define XEN_MC_fetch 1
#define XEN_MC_notifydomain 2
#define XEN_MC_physcpuinfo 3
#define XEN_MC_msrinject 4
#define XEN_MC_mceinject 5
#define XEN_MC_inject_v2 6

#define MC_NCAPS 7
#define MC_MSR_ARRAYSIZE 8
#define MC_MSRINJ_MAXMSRS 8

struct mcinfo_msr {
    uint64_t reg;
    uint64_t value;
};

struct mcinfo_logical_cpu {
    uint32_t mc_cpunr;
    uint32_t mc_chipid;
    uint16_t mc_coreid;
    uint16_t mc_threadid;
    uint32_t mc_apicid;
    uint32_t mc_clusterid;
    uint32_t mc_ncores;
    uint32_t mc_ncores_active;
    uint32_t mc_nthreads;
    int32_t mc_cpuid_level;
    uint32_t mc_family;
    uint32_t mc_vendor;
    uint32_t mc_model;
    uint32_t mc_step;
    char mc_vendorid[16];
    char mc_brandid[64];
    uint32_t mc_cpu_caps[MC_NCAPS];
    uint32_t mc_cache_size;
    uint32_t mc_cache_alignment;
    int32_t mc_nmsrvals;
    struct mcinfo_msr mc_msrvalues[MC_MSR_ARRAYSIZE];
};

struct xen_mc_fetch {
    uint32_t flags;      /* IN: XEN_MC_(NON)URGENT [| XEN_MC_ACK]; OUT: XEN_MC_OK/FETCHFAILED/NODATA */
    uint32_t _pad0;
    uint64_t fetch_id;
    xen_guest_handle_t data;
};

struct xen_mc_physcpuinfo {
    uint32_t ncpus;      /* IN/OUT */
    uint32_t _pad0;
    xen_guest_handle_t info; /* -> struct mcinfo_logical_cpu[ncpus], or null to ask for the count */
};

struct xen_mc_msrinject {
    uint32_t mcinj_cpunr;
    uint32_t mcinj_flags;
    uint32_t mcinj_count;
    domid_t mcinj_domid;
    uint16_t _pad0;
    struct mcinfo_msr mcinj_msr[MC_MSRINJ_MAXMSRS];
};

struct xen_mc {
    uint32_t cmd;
    uint32_t interface_version;
    union {
        struct xen_mc_fetch mc_fetch;
        struct xen_mc_physcpuinfo mc_physcpuinfo;
        struct xen_mc_msrinject mc_msrinject;
        uint32_t mc_mceinject_cpunr;
    } u;
};

_Static_assert(sizeof(struct mcinfo_logical_cpu) == 304, "mcinfo_logical_cpu");
_Static_assert(offsetof(struct mcinfo_logical_cpu, mc_msrvalues) == 176, "mc_msrvalues");
_Static_assert(sizeof(struct xen_mc_fetch) == 24, "mc_fetch");
_Static_assert(sizeof(struct xen_mc) == 152, "xen_mc");

#endif
