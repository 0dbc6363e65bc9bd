/* SPDX-License-Identifier: MIT */
/*
 * Vesta public guest ABI: grant tables.
 *
 * A domain's grant table is an array of entries in frames shared with the
 * hypervisor.  Entry <ref> tells the hypervisor that domain <domid> may map
 * or copy frame <frame> of the granting domain.  Peers then operate on
 * (granting domid, ref) pairs instead of raw frame numbers.
 *
 * HYPERVISOR_grant_table_op(unsigned cmd, void *args, unsigned count)
 *   args is an array of count per-command structures.  The hypercall
 *   returns 0 when the array was processed (per-entry results are in each
 *   element's 'status', a GNTST_* value) or a negative errno if the call
 *   as a whole failed (-EFAULT, -EINVAL, -ENOSYS).
 *
 * Guest protocol for a v1 entry: write domid and frame, then (after a write
 * barrier) flags with the type.  Revoke an unused GTF_permit_access entry by
 * cmpxchg of flags to 0 when neither GTF_reading nor GTF_writing is set.
 */
#ifndef VESTA_PUBLIC_GRANT_TABLE_H
#define VESTA_PUBLIC_GRANT_TABLE_H

#include "xen.h"

typedef uint32_t grant_ref_t;
typedef uint32_t grant_handle_t;   /* tracks one mapping made via a ref */

/* Version 1 entry (default). */
struct grant_entry_v1 {
    uint16_t flags;     /* GTF_*, written by guest and hypervisor        */
    domid_t  domid;     /* grantee                                        */
    uint32_t frame;     /* frame granted (or transferred into / from)    */
};
typedef struct grant_entry_v1 grant_entry_v1_t;

/* Entries 0..7 survive version switches; the toolstack may pre-fill them. */
#define GNTTAB_NR_RESERVED_ENTRIES   8
#define GNTTAB_RESERVED_CONSOLE      0
#define GNTTAB_RESERVED_XENSTORE     1

/* Entry type, flags[1:0]. */
#define GTF_invalid          (0U << 0)
#define GTF_permit_access    (1U << 0)   /* domid may map/copy frame        */
#define GTF_accept_transfer  (2U << 0)   /* domid may transfer a page here  */
#define GTF_transitive       (3U << 0)   /* v2 only: re-grant of another ref */
#define GTF_type_mask        (3U << 0)

/* Sub-flags of permit_access / transitive. */
#define _GTF_readonly        2
#define GTF_readonly         (1U << _GTF_readonly)   /* guest: RO only       */
#define _GTF_reading         3
#define GTF_reading          (1U << _GTF_reading)    /* hv: mapped for read  */
#define _GTF_writing         4
#define GTF_writing          (1U << _GTF_writing)    /* hv: mapped for write */
#define _GTF_PWT             5
#define GTF_PWT              (1U << _GTF_PWT)
#define _GTF_PCD             6
#define GTF_PCD              (1U << _GTF_PCD)
#define _GTF_PAT             7
#define GTF_PAT              (1U << _GTF_PAT)
#define _GTF_sub_page        8
#define GTF_sub_page         (1U << _GTF_sub_page)   /* v2: copy-only range  */

/* Sub-flags of accept_transfer. */
#define _GTF_transfer_committed  2
#define GTF_transfer_committed   (1U << _GTF_transfer_committed)
#define _GTF_transfer_completed  3
#define GTF_transfer_completed   (1U << _GTF_transfer_completed)

/* Version 2 entries (16 bytes) plus a separate status array. */
struct grant_entry_header {
    uint16_t flags;
    domid_t  domid;
};
typedef struct grant_entry_header grant_entry_header_t;

union grant_entry_v2 {
    struct grant_entry_header hdr;
    struct {
        struct grant_entry_header hdr;
        uint32_t pad0;
        uint64_t frame;
    } full_page;
    struct {
        struct grant_entry_header hdr;
        uint16_t page_off;
        uint16_t length;
        uint64_t frame;
    } sub_page;
    struct {
        struct grant_entry_header hdr;
        domid_t  trans_domid;
        uint16_t pad0;
        grant_ref_t gref;
    } transitive;
    uint32_t __spacer[4];
};
typedef union grant_entry_v2 grant_entry_v2_t;
typedef uint16_t grant_status_t;

/* Commands. */
#define GNTTABOP_map_grant_ref        0
#define GNTTABOP_unmap_grant_ref      1
#define GNTTABOP_setup_table          2
#define GNTTABOP_dump_table           3
#define GNTTABOP_transfer             4
#define GNTTABOP_copy                 5
#define GNTTABOP_query_size           6
#define GNTTABOP_unmap_and_replace    7
#define GNTTABOP_set_version          8
#define GNTTABOP_get_status_frames    9
#define GNTTABOP_get_version         10
#define GNTTABOP_swap_grant_ref      11
#define GNTTABOP_cache_flush         12

/* map_grant_ref flags. */
#define _GNTMAP_device_map        0
#define GNTMAP_device_map         (1U << _GNTMAP_device_map)   /* for DMA   */
#define _GNTMAP_host_map          1
#define GNTMAP_host_map           (1U << _GNTMAP_host_map)     /* for CPU   */
#define _GNTMAP_readonly          2
#define GNTMAP_readonly           (1U << _GNTMAP_readonly)
#define _GNTMAP_application_map   3
#define GNTMAP_application_map    (1U << _GNTMAP_application_map) /* user-accessible */
#define _GNTMAP_contains_pte      4
#define GNTMAP_contains_pte       (1U << _GNTMAP_contains_pte) /* host_addr is
                                                  the machine address of a PTE */
#define _GNTMAP_guest_avail0      16
#define GNTMAP_guest_avail_mask   ((uint32_t)~0U << _GNTMAP_guest_avail0)

/*
 * map_grant_ref: map (dom, ref).  With GNTMAP_host_map, host_addr is a
 * virtual address in the current address space, or (GNTMAP_contains_pte)
 * the machine address of the PTE to write.  handle identifies the mapping
 * for unmapping; dev_bus_addr is the DMA address when GNTMAP_device_map.
 */
struct gnttab_map_grant_ref {
    uint64_t host_addr;        /* IN  */
    uint32_t flags;            /* IN: GNTMAP_* */
    grant_ref_t ref;           /* IN  */
    domid_t  dom;              /* IN: granting domain */
    int16_t  status;           /* OUT: GNTST_* */
    grant_handle_t handle;     /* OUT */
    uint64_t dev_bus_addr;     /* OUT */
};

/* unmap_grant_ref: undo the mapping(s) tracked by handle; a zero
 * host_addr / dev_bus_addr means "not that kind". */
struct gnttab_unmap_grant_ref {
    uint64_t host_addr;        /* IN  */
    uint64_t dev_bus_addr;     /* IN  */
    grant_handle_t handle;     /* IN  */
    int16_t  status;           /* OUT */
    uint16_t _pad0;
};

/* setup_table: grow <dom>'s table to at least nr_frames frames and write
 * the first nr_frames frame numbers (MFNs for PV) to frame_list. */
struct gnttab_setup_table {
    domid_t  dom;              /* IN  */
    uint16_t _pad0;
    uint32_t nr_frames;        /* IN  */
    int16_t  status;           /* OUT */
    uint16_t _pad1[3];
    xen_guest_handle_t frame_list;   /* -> xen_pfn_t[nr_frames], OUT */
};

/* dump_table: debug print of the table on the hypervisor console. */
struct gnttab_dump_table {
    domid_t dom;               /* IN  */
    int16_t status;            /* OUT */
};

/* transfer (PV only): give frame mfn to domid, into its entry ref.  The
 * caller loses the page even on failure, except with GNTST_bad_page. */
struct gnttab_transfer {
    xen_pfn_t   mfn;           /* IN  */
    domid_t     domid;         /* IN  */
    uint16_t    _pad0;
    grant_ref_t ref;           /* IN  */
    int16_t     status;        /* OUT */
    uint16_t    _pad1[3];
};

/* copy: hypervisor-side byte copy; each side is a local frame or a
 * (domid, grant ref), selected by GNTCOPY_*_gref.  Must not cross a page. */
#define _GNTCOPY_source_gref   0
#define GNTCOPY_source_gref    (1U << _GNTCOPY_source_gref)
#define _GNTCOPY_dest_gref     1
#define GNTCOPY_dest_gref      (1U << _GNTCOPY_dest_gref)

struct gnttab_copy_ptr {
    union {
        grant_ref_t ref;
        xen_pfn_t   gmfn;
    } u;
    domid_t  domid;
    uint16_t offset;
    uint32_t _pad0;
};

struct gnttab_copy {
    struct gnttab_copy_ptr source;  /* IN  */
    struct gnttab_copy_ptr dest;    /* IN  */
    uint16_t len;                   /* IN  */
    uint16_t flags;                 /* IN: GNTCOPY_* */
    int16_t  status;                /* OUT */
    uint16_t _pad0;
};

/* query_size: current and maximum table size of <dom>, in frames. */
struct gnttab_query_size {
    domid_t  dom;              /* IN  */
    uint16_t _pad0;
    uint32_t nr_frames;        /* OUT */
    uint32_t max_nr_frames;    /* OUT */
    int16_t  status;           /* OUT */
    uint16_t _pad1;
};

/* unmap_and_replace: unmap handle at host_addr and move the PTE mapping
 * new_addr into its place (new_addr's PTE is cleared). */
struct gnttab_unmap_and_replace {
    uint64_t host_addr;        /* IN  */
    uint64_t new_addr;         /* IN  */
    grant_handle_t handle;     /* IN  */
    int16_t  status;           /* OUT */
    uint16_t _pad0;
};

/* set_version: select table format 1 or 2 (no grants may be in use);
 * writes back the version in effect. */
struct gnttab_set_version {
    uint32_t version;          /* IN/OUT */
};

/* get_status_frames: v2 status frame list of <dom>. */
struct gnttab_get_status_frames {
    uint32_t nr_frames;        /* IN  */
    domid_t  dom;              /* IN  */
    int16_t  status;           /* OUT */
    xen_guest_handle_t frame_list;   /* -> uint64_t[nr_frames], OUT */
};

struct gnttab_get_version {
    domid_t  dom;              /* IN  */
    uint16_t pad;
    uint32_t version;          /* OUT */
};

/* swap_grant_ref: exchange the contents of two entries of the caller. */
struct gnttab_swap_grant_ref {
    grant_ref_t ref_a;         /* IN  */
    grant_ref_t ref_b;         /* IN  */
    int16_t status;            /* OUT */
    uint16_t _pad0;
};

/* cache_flush (Arm): clean/invalidate part of a granted page. */
#define GNTTAB_CACHE_CLEAN          (1U << 0)
#define GNTTAB_CACHE_INVAL          (1U << 1)
#define GNTTAB_CACHE_SOURCE_GREF    (1U << 31)
struct gnttab_cache_flush {
    union {
        uint64_t dev_bus_addr;
        grant_ref_t ref;
    } a;
    uint16_t offset;
    uint16_t length;
    uint32_t op;               /* GNTTAB_CACHE_* */
};

/* Per-entry status codes (negative = error). */
#define GNTST_okay                0
#define GNTST_general_error      (-1)
#define GNTST_bad_domain         (-2)   /* unknown domain id             */
#define GNTST_bad_gntref         (-3)   /* bad or unusable grant ref     */
#define GNTST_bad_handle         (-4)   /* bad mapping handle            */
#define GNTST_bad_virt_addr      (-5)   /* unusable host virtual address */
#define GNTST_bad_dev_addr       (-6)   /* unusable device address       */
#define GNTST_no_device_space    (-7)   /* IOMMU out of space            */
#define GNTST_permission_denied  (-8)
#define GNTST_bad_page           (-9)   /* frame unsuitable for the op   */
#define GNTST_bad_copy_arg      (-10)   /* copy crosses a page boundary  */
#define GNTST_address_too_big   (-11)   /* transferred frame too high    */
#define GNTST_eagain            (-12)   /* retry later                   */
#define GNTST_no_space          (-13)   /* out of handles etc.           */

typedef struct gnttab_map_grant_ref      gnttab_map_grant_ref_t;
typedef struct gnttab_unmap_grant_ref    gnttab_unmap_grant_ref_t;
typedef struct gnttab_setup_table        gnttab_setup_table_t;
typedef struct gnttab_dump_table         gnttab_dump_table_t;
typedef struct gnttab_transfer           gnttab_transfer_t;
typedef struct gnttab_copy               gnttab_copy_t;
typedef struct gnttab_query_size         gnttab_query_size_t;
typedef struct gnttab_unmap_and_replace  gnttab_unmap_and_replace_t;
typedef struct gnttab_set_version        gnttab_set_version_t;
typedef struct gnttab_get_status_frames  gnttab_get_status_frames_t;
typedef struct gnttab_get_version        gnttab_get_version_t;
typedef struct gnttab_swap_grant_ref     gnttab_swap_grant_ref_t;
typedef struct gnttab_cache_flush        gnttab_cache_flush_t;

_Static_assert(sizeof(struct grant_entry_v1) == 8, "grant_entry_v1");
_Static_assert(offsetof(struct grant_entry_v1, frame) == 4, "gev1.frame");
_Static_assert(sizeof(union grant_entry_v2) == 16, "grant_entry_v2");
_Static_assert(offsetof(union grant_entry_v2, full_page.frame) == 8, "gev2.frame");
_Static_assert(sizeof(struct gnttab_map_grant_ref) == 32, "map_grant_ref");
_Static_assert(offsetof(struct gnttab_map_grant_ref, ref) == 12, "map.ref");
_Static_assert(offsetof(struct gnttab_map_grant_ref, dom) == 16, "map.dom");
_Static_assert(offsetof(struct gnttab_map_grant_ref, status) == 18, "map.status");
_Static_assert(offsetof(struct gnttab_map_grant_ref, handle) == 20, "map.handle");
_Static_assert(offsetof(struct gnttab_map_grant_ref, dev_bus_addr) == 24, "map.dba");
_Static_assert(sizeof(struct gnttab_unmap_grant_ref) == 24, "unmap_grant_ref");
_Static_assert(offsetof(struct gnttab_unmap_grant_ref, status) == 20, "unmap.st");
_Static_assert(sizeof(struct gnttab_setup_table) == 24, "setup_table");
_Static_assert(offsetof(struct gnttab_setup_table, nr_frames) == 4, "st.nr");
_Static_assert(offsetof(struct gnttab_setup_table, status) == 8, "st.status");
_Static_assert(offsetof(struct gnttab_setup_table, frame_list) == 16, "st.fl");
_Static_assert(sizeof(struct gnttab_dump_table) == 4, "dump_table");
_Static_assert(sizeof(struct gnttab_transfer) == 24, "transfer");
_Static_assert(offsetof(struct gnttab_transfer, ref) == 12, "xfer.ref");
_Static_assert(offsetof(struct gnttab_transfer, status) == 16, "xfer.status");
_Static_assert(sizeof(struct gnttab_copy_ptr) == 16, "copy_ptr");
_Static_assert(offsetof(struct gnttab_copy_ptr, domid) == 8, "cp.domid");
_Static_assert(offsetof(struct gnttab_copy_ptr, offset) == 10, "cp.offset");
_Static_assert(sizeof(struct gnttab_copy) == 40, "copy");
_Static_assert(offsetof(struct gnttab_copy, len) == 32, "copy.len");
_Static_assert(offsetof(struct gnttab_copy, status) == 36, "copy.status");
_Static_assert(sizeof(struct gnttab_query_size) == 16, "query_size");
_Static_assert(offsetof(struct gnttab_query_size, status) == 12, "qs.status");
_Static_assert(sizeof(struct gnttab_unmap_and_replace) == 24, "unmap_and_replace");
_Static_assert(sizeof(struct gnttab_set_version) == 4, "set_version");
_Static_assert(sizeof(struct gnttab_get_status_frames) == 16, "get_status_frames");
_Static_assert(offsetof(struct gnttab_get_status_frames, frame_list) == 8, "gsf.fl");
_Static_assert(sizeof(struct gnttab_get_version) == 8, "get_version");
_Static_assert(sizeof(struct gnttab_swap_grant_ref) == 12, "swap_grant_ref");
_Static_assert(sizeof(struct gnttab_cache_flush) == 16, "cache_flush");

#endif /* VESTA_PUBLIC_GRANT_TABLE_H */
