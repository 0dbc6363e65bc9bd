/* SPDX-License-Identifier: MIT */
/*
 * Vesta public guest ABI: memory reservation and information.
 *
 * HYPERVISOR_memory_op(unsigned long cmd, void *arg)
 *   cmd & XENMEMOP_CMD_MASK selects the operation; cmd >> 6 is a
 *   continuation start index the hypervisor uses when it preempts a long
 *   request.  Guests pass 0 there (non-zero is -EINVAL for simple ops).
 *   Errors: -EFAULT (unreadable arg), -ESRCH (bad domid), -EPERM (foreign
 *   domain without privilege), -EINVAL, -ENOSYS (unknown cmd).
 */
#ifndef VESTA_PUBLIC_MEMORY_H
#define VESTA_PUBLIC_MEMORY_H

#include "xen.h"

#define XENMEMOP_CMD_MASK        ((1U << 6) - 1)   /* MEMOP_CMD_MASK in Xen */
#define XENMEMOP_EXTENT_SHIFT    6                  /* continuation index   */

/*
 * Reservation ops (arg = struct xen_memory_reservation).  Each returns the
 * number of extents processed (possibly fewer than asked), not 0.
 *  increase_reservation: allocate nr_extents extents of 2^extent_order
 *    pages; for PV, writes the new MFNs to extent_start[] if non-null.
 *  decrease_reservation: free the frames named by extent_start[] (GMFNs).
 *  populate_physmap: back the GPFNs in extent_start[] with new memory and
 *    (PV) write back the allocated MFNs; updates the M2P.
 */
#define XENMEM_increase_reservation      0
#define XENMEM_decrease_reservation      1
#define XENMEM_populate_physmap          6

/* mem_flags encoding. */
#define XENMEMF_address_bits(x)      (x)            /* limit: MFN < 2^x     */
#define XENMEMF_get_address_bits(x)  ((x) & 0xffu)
#define XENMEMF_node(x)              (((x) + 1) << 8)
#define XENMEMF_get_node(x)          ((((x) >> 8) - 1) & 0xffu)
#define XENMEMF_populate_on_demand   (1U << 16)
#define XENMEMF_exact_node_request   (1U << 17)
#define XENMEMF_exact_node(n)        (XENMEMF_node(n) | XENMEMF_exact_node_request)
#define XENMEMF_vnode                (1U << 18)

struct xen_memory_reservation {
    xen_guest_handle_t extent_start; /* -> xen_pfn_t[nr_extents], IN/OUT */
    xen_ulong_t nr_extents;
    uint32_t    extent_order;        /* each extent is 2^order pages     */
    uint32_t    mem_flags;           /* XENMEMF_*                        */
    domid_t     domid;               /* DOMID_SELF unless privileged     */
    uint16_t    _pad0[3];
};

/*
 * exchange (PV only): atomically free in.* extents and allocate out.*
 * extents covering the same number of pages.  Returns 0 only on complete
 * success; nr_exchanged (caller must zero it) counts input extents done.
 */
#define XENMEM_exchange                 11
struct xen_memory_exchange {
    struct xen_memory_reservation in;
    struct xen_memory_reservation out;
    xen_ulong_t nr_exchanged;
};

/* Returns Xen's max_page (one past the highest RAM MFN); never fails.
 * arg unused. */
#define XENMEM_maximum_ram_page          2

/* arg = domid_t (struct xen_memory_domain); returns pages, not 0. */
#define XENMEM_current_reservation       3
#define XENMEM_maximum_reservation       4
/* arg = domid_t; returns the highest GPFN in use by the domain. */
#define XENMEM_maximum_gpfn             14
struct xen_memory_domain {
    domid_t domid;
};

/*
 * machphys_mfn_list: fill extent_start[] with the MFNs of the 2 MiB
 * chunks backing the read-only M2P table (0 for holes) and return their
 * count in nr_extents.
 */
#define XENMEM_machphys_mfn_list         5
struct xen_machphys_mfn_list {
    uint32_t max_extents;            /* IN: capacity of extent_start[]  */
    uint32_t _pad0;
    xen_guest_handle_t extent_start; /* -> xen_pfn_t[]                  */
    uint32_t nr_extents;             /* OUT                             */
    uint32_t _pad1;
};
#define XENMEM_machphys_compat_mfn_list 25

/* machphys_mapping: where the M2P table is mapped for this guest. */
#define XENMEM_machphys_mapping         12
struct xen_machphys_mapping {
    xen_ulong_t v_start;   /* MACH2PHYS_VIRT_START for 64-bit PV  */
    xen_ulong_t v_end;
    xen_ulong_t max_mfn;   /* highest MFN with an M2P entry        */
};

/* Spaces for add_to_physmap.  Translated guests only: a PV domain gets
 * -EACCES. */
#define XENMAPSPACE_shared_info    0
#define XENMAPSPACE_grant_table    1
#define XENMAPSPACE_gmfn           2
#define XENMAPSPACE_gmfn_range     3
#define XENMAPSPACE_gmfn_foreign   4
#define XENMAPSPACE_dev_mmio       5
#define XENMAPIDX_grant_table_status  0x80000000U

#define XENMEM_add_to_physmap            7
struct xen_add_to_physmap {
    domid_t   domid;
    uint16_t  size;         /* pages, for XENMAPSPACE_gmfn_range     */
    uint32_t  space;        /* XENMAPSPACE_*                          */
    xen_ulong_t idx;        /* index within the space                 */
    xen_pfn_t gpfn;         /* where the page should appear           */
};

#define XENMEM_add_to_physmap_batch     23
struct xen_add_to_physmap_batch {
    domid_t  domid;
    uint16_t space;
    uint16_t size;
    union {
        domid_t  foreign_domid;   /* XENMAPSPACE_gmfn_foreign */
        uint16_t res0;            /* otherwise zero           */
    } u;
    xen_guest_handle_t idxs;      /* -> xen_ulong_t[size]     */
    xen_guest_handle_t gpfns;     /* -> xen_pfn_t[size]       */
    xen_guest_handle_t errs;      /* -> int[size], OUT        */
};

#define XENMEM_remove_from_physmap      15
struct xen_remove_from_physmap {
    domid_t   domid;
    uint16_t  _pad0[3];
    xen_pfn_t gpfn;
};

/*
 * memory_map: the guest's pseudo-physical E820 map; machine_memory_map:
 * the host E820 (privileged).  buffer holds nr_entries E820 records of 20
 * bytes each (u64 addr, u64 size, u32 type, packed).  On return nr_entries
 * is the number stored.  For machine_memory_map a null buffer asks for the
 * required count.
 */
#define XENMEM_memory_map                9
#define XENMEM_machine_memory_map       10
struct xen_memory_map {
    uint32_t nr_entries;
    uint32_t _pad0;
    xen_guest_handle_t buffer;
};

/* Toolstack: set a domain's pseudo-physical map. */
#define XENMEM_set_memory_map           13
struct xen_foreign_memory_map {
    domid_t  domid;
    uint16_t _pad0[3];
    struct xen_memory_map map;
};

struct xen_e820_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
} __attribute__((packed));

/* Populate-on-demand (HVM only; a PV domain gets -EOPNOTSUPP). */
#define XENMEM_set_pod_target               16
#define XENMEM_get_pod_target               17
struct xen_pod_target {
    uint64_t target_pages;      /* IN (set)        */
    uint64_t tot_pages;         /* OUT             */
    uint64_t pod_cache_pages;   /* OUT             */
    uint64_t pod_entries;       /* OUT             */
    domid_t  domid;             /* IN              */
    uint16_t _pad0[3];
};

/*
 * Host-wide memory-sharing counters (arg unused): frames saved by sharing
 * and frames currently shared.  Never fail; 0 on a hypervisor that does
 * not share memory.
 */
#define XENMEM_get_sharing_freed_pages      18
#define XENMEM_get_sharing_shared_pages     19

#define XENMEM_paging_op                    20
#define XENMEM_access_op                    21
#define XENMEM_sharing_op                   22

/*
 * claim_pages (toolstack): arg is a struct xen_memory_reservation with
 * domid, nr_extents = pages to set aside for the domain (0 cancels the
 * claim), extent_order 0, mem_flags 0 and a null extent_start.  The claim
 * covers nr_extents minus what the domain already has; allocations for it
 * consume the claim.  Fails with -ENOMEM if the host cannot cover it.
 */
#define XENMEM_claim_pages                  24

/*
 * reserved_device_memory_map: guest-physical ranges that devices (RMRRs)
 * need.  Too small a buffer gives -ERANGE with nr_entries set to the
 * count needed.
 */
#define XENMEM_reserved_device_memory_map   27
#define XENMEM_RDM_ALL                      1   /* flags: ignore dev */
struct xen_reserved_device_memory {
    xen_pfn_t   start_pfn;
    xen_ulong_t nr_pages;
};
struct xen_reserved_device_memory_map {
    uint32_t flags;                 /* IN: XENMEM_RDM_*                   */
    uint32_t nr_entries;            /* IN/OUT                             */
    xen_guest_handle_t buffer;      /* -> struct xen_reserved_device_memory[] */
    union {
        struct {
            uint16_t seg;
            uint8_t  bus;
            uint8_t  devfn;
        } pci;                      /* IN: the device, unless RDM_ALL     */
    } dev;
    uint32_t _pad0;
};

/*
 * acquire_resource: frames of a domain's resource, for the toolstack to
 * map directly.  A PV caller gets the MFNs written to frame_list.  With
 * nr_frames 0 and a null frame_list, nr_frames returns the resource size.
 * pad must be zero.  A resource type the hypervisor does not offer gives
 * -EOPNOTSUPP (libxenguest then falls back to older interfaces).
 */
#define XENMEM_acquire_resource             28
#define XENMEM_resource_ioreq_server            0
#define XENMEM_resource_grant_table             1
#define XENMEM_resource_vmtrace_buf             2
#define XENMEM_resource_grant_table_id_shared   0   /* id for grant_table */
#define XENMEM_resource_grant_table_id_status   1
#define XENMEM_resource_ioreq_server_frame_bufioreq 0
#define XENMEM_resource_ioreq_server_frame_ioreq(n) (1 + (n))
struct xen_mem_acquire_resource {
    domid_t  domid;
    uint16_t type;                  /* XENMEM_resource_*                  */
    uint32_t id;                    /* type-specific, else 0              */
    uint32_t nr_frames;             /* IN/OUT                             */
    uint32_t pad;
    uint64_t frame;                 /* first frame of the resource        */
    xen_guest_handle_t frame_list;  /* -> xen_pfn_t[nr_frames], OUT for PV */
};

/*
 * get_vnumainfo: the caller's virtual NUMA topology (see also domctl
 * setvnumainfo).  Counts are IN (array sizes) and OUT (actual sizes).
 */
#define XENMEM_get_vnumainfo                26
struct xen_vmemrange {
    uint64_t start, end;
    uint32_t flags;
    uint32_t nid;
};
typedef struct xen_vmemrange xen_vmemrange_t;

struct xen_vnuma_topology_info {
    domid_t  domid;
    uint16_t pad;                   /* must be zero                       */
    uint32_t nr_vnodes;
    uint32_t nr_vcpus;
    uint32_t nr_vmemranges;
    xen_guest_handle_t vdistance;     /* -> uint32_t[nr_vnodes^2]          */
    xen_guest_handle_t vcpu_to_vnode; /* -> uint32_t[nr_vcpus]             */
    xen_guest_handle_t vmemrange;     /* -> xen_vmemrange_t[nr_vmemranges] */
};
/* 8 (translate_gpfn_list) was removed; 29 is the next free number. */

typedef struct xen_memory_reservation  xen_memory_reservation_t;
typedef struct xen_memory_exchange     xen_memory_exchange_t;
typedef struct xen_machphys_mfn_list   xen_machphys_mfn_list_t;
typedef struct xen_machphys_mapping    xen_machphys_mapping_t;
typedef struct xen_add_to_physmap      xen_add_to_physmap_t;
typedef struct xen_add_to_physmap_batch xen_add_to_physmap_batch_t;
typedef struct xen_remove_from_physmap xen_remove_from_physmap_t;
typedef struct xen_memory_map          xen_memory_map_t;
typedef struct xen_foreign_memory_map  xen_foreign_memory_map_t;

_Static_assert(sizeof(struct xen_memory_reservation) == 32, "reservation");
_Static_assert(offsetof(struct xen_memory_reservation, nr_extents) == 8, "r.nr");
_Static_assert(offsetof(struct xen_memory_reservation, extent_order) == 16, "r.ord");
_Static_assert(offsetof(struct xen_memory_reservation, mem_flags) == 20, "r.fl");
_Static_assert(offsetof(struct xen_memory_reservation, domid) == 24, "r.domid");
_Static_assert(sizeof(struct xen_memory_exchange) == 72, "exchange");
_Static_assert(offsetof(struct xen_memory_exchange, out) == 32, "x.out");
_Static_assert(offsetof(struct xen_memory_exchange, nr_exchanged) == 64, "x.nr");
_Static_assert(sizeof(struct xen_memory_domain) == 2, "memory_domain");
_Static_assert(sizeof(struct xen_machphys_mfn_list) == 24, "mfn_list");
_Static_assert(offsetof(struct xen_machphys_mfn_list, extent_start) == 8, "ml.es");
_Static_assert(offsetof(struct xen_machphys_mfn_list, nr_extents) == 16, "ml.nr");
_Static_assert(sizeof(struct xen_machphys_mapping) == 24, "machphys_mapping");
_Static_assert(sizeof(struct xen_add_to_physmap) == 24, "add_to_physmap");
_Static_assert(offsetof(struct xen_add_to_physmap, space) == 4, "atp.space");
_Static_assert(offsetof(struct xen_add_to_physmap, idx) == 8, "atp.idx");
_Static_assert(offsetof(struct xen_add_to_physmap, gpfn) == 16, "atp.gpfn");
_Static_assert(sizeof(struct xen_add_to_physmap_batch) == 32, "atp_batch");
_Static_assert(offsetof(struct xen_add_to_physmap_batch, idxs) == 8, "atpb.idxs");
_Static_assert(sizeof(struct xen_remove_from_physmap) == 16, "rfp");
_Static_assert(sizeof(struct xen_memory_map) == 16, "memory_map");
_Static_assert(offsetof(struct xen_memory_map, buffer) == 8, "mm.buffer");
_Static_assert(sizeof(struct xen_foreign_memory_map) == 24, "foreign_map");
_Static_assert(sizeof(struct xen_e820_entry) == 20, "e820 entry");
_Static_assert(sizeof(struct xen_pod_target) == 40, "pod_target");
_Static_assert(offsetof(struct xen_pod_target, domid) == 32, "pod.domid");
_Static_assert(sizeof(struct xen_reserved_device_memory) == 16, "rdm");
_Static_assert(sizeof(struct xen_reserved_device_memory_map) == 24, "rdm_map");
_Static_assert(offsetof(struct xen_reserved_device_memory_map, buffer) == 8, "rdm.buffer");
_Static_assert(offsetof(struct xen_reserved_device_memory_map, dev) == 16, "rdm.dev");
_Static_assert(sizeof(struct xen_mem_acquire_resource) == 32, "acquire_resource");
_Static_assert(offsetof(struct xen_mem_acquire_resource, nr_frames) == 8, "ar.nr");
_Static_assert(offsetof(struct xen_mem_acquire_resource, frame) == 16, "ar.frame");
_Static_assert(offsetof(struct xen_mem_acquire_resource, frame_list) == 24, "ar.list");
_Static_assert(sizeof(struct xen_vmemrange) == 24, "vmemrange");
_Static_assert(sizeof(struct xen_vnuma_topology_info) == 40, "vnuma_topology_info");
_Static_assert(offsetof(struct xen_vnuma_topology_info, vdistance) == 16, "vt.vdistance");
_Static_assert(offsetof(struct xen_vnuma_topology_info, vmemrange) == 32, "vt.vmemrange");

#endif /* VESTA_PUBLIC_MEMORY_H */
