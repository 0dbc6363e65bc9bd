/* The pure part of the PV dom0 builder: where everything goes in dom0's initial address space.
 *
 * Given a parsed 64-bit kernel, the initrd length and dom0's page count, dom0_plan_layout() computes the same
 * arrangement Xen 4.17's PV dom0 builder produces (and prints as "VIRTUAL MEMORY ARRANGEMENT"), together with the
 * pseudo-physical frame numbering that start_info's fields are derived from. Nothing here touches memory; the
 * builder allocates, maps and copies according to the plan.
 *
 * The bootstrap region [v_start, v_end) holds, in this order, each piece starting on a page boundary:
 *   kernel image [vkern_start, vkern_end)
 *   initrd [vinitrd_start, vinitrd_end)       only when the kernel lacks XEN_ELFNOTE_MOD_START_PFN
 *   P2M list, nr_pages * 8 bytes              only when the kernel lacks XEN_ELFNOTE_INIT_P2M
 *   start_info, then dom0_vga_console_info   (one page)
 *   bootstrap page tables, nr_pt_pages pages (L4 first, mapped read-only)
 *   boot stack, one page
 * v_end is the first 4 MiB boundary at least 512 KiB beyond the stack's end. The region is mapped 1:1 onto pfns
 * 0 .. bootstrap_pages - 1: the page at v_start + (p << PAGE_SHIFT) is pfn p.
 *
 * Pfn order (what Xen's builder does, so start_info matches):
 *   [0, alloc_pages)                          one order-alloc_order allocation; its first bootstrap_pages
 *                                             frames (less the initrd's, when the initrd is mapped) back the
 *                                             bootstrap region, the rest follow it
 *   initrd                                    when mapped: at initrd_pfn inside the bootstrap region, using the
 *                                             module's own frames; when unmapped: pfns [alloc_pages,
 *                                             alloc_pages + initrd_pages), and start_info.mod_start = initrd_pfn
 *                                             with SIF_MOD_START_PFN
 *   [first_p2m_pfn, + nr_p2m_frames)          with INIT_P2M: the P2M list and the page tables mapping it
 *   the rest up to nr_pages                   allocated afterwards
 */
#ifndef VESTA_DOM0_LAYOUT_H
#define VESTA_DOM0_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vesta/elf.h"
#include "vesta/errno.h"
#include "vesta/types.h"

/* The 64-bit PV guest's view of Xen's reserved virtual range (public arch-x86/xen-x86_64.h). */
#define DOM0_HV_VIRT_START 0xffff800000000000ULL
#define DOM0_HV_VIRT_END 0xffff880000000000ULL

/* sizeof(struct start_info) and sizeof(struct dom0_vga_console_info) for a 64-bit guest. */
#define DOM0_START_INFO_SIZE 1168u
#define DOM0_VGA_CONSOLE_INFO_SIZE 40u

#define DOM0_SIF_MOD_START_PFN (1u << 3)

struct dom0_layout {
    /* Inputs, as given (after the checks). */
    uint64_t nr_pages;   /* pages dom0 owns in total: start_info.nr_pages */
    uint64_t initrd_len; /* bytes; 0 = no initrd */

    /* Virtual arrangement; every *_end is exclusive. */
    uint64_t v_start;                        /* = virt_base */
    uint64_t vkern_start, vkern_end;         /* the ELF's extent, as loaded */
    uint64_t vinitrd_start, vinitrd_end;     /* both 0 when the initrd is passed unmapped; when mapped they
                                              * start at round_up(vkern_end) even with no initrd (empty) */
    uint64_t vphysmap_start, vphysmap_end;   /* the P2M list: in the bootstrap region, or at INIT_P2M */
    uint64_t vstartinfo_start, vstartinfo_end; /* start_info + dom0_vga_console_info */
    uint64_t vpt_start, vpt_end;             /* bootstrap page tables; vpt_start = start_info.pt_base */
    uint64_t vstack_start, vstack_end;       /* initial rsp = vstack_end */
    uint64_t v_end;                          /* 4 MiB aligned */
    uint64_t entry;                          /* initial rip */

    bool initrd_mapped; /* kernel lacks MOD_START_PFN: the initrd sits after the kernel */
    bool p2m_outside;   /* kernel has INIT_P2M: the P2M list is mapped at that address, outside [v_start, v_end) */

    /* Bootstrap page tables: nr_pt_pages = nr_l4 + nr_l3 + nr_l2 + nr_l1 (start_info.nr_pt_frames). The search
     * Xen performs converges on exactly the number of tables needed to map [v_start, v_end). */
    unsigned nr_pt_pages, nr_l4, nr_l3, nr_l2, nr_l1;

    /* Pseudo-physical numbering (see the file comment). */
    uint64_t bootstrap_pages; /* (v_end - v_start) >> PAGE_SHIFT */
    unsigned alloc_order;     /* order of the first allocation */
    uint64_t alloc_pages;     /* 1 << alloc_order */
    uint64_t initrd_pages;    /* initrd_len rounded up to pages */
    uint64_t initrd_pfn;      /* first pfn of the initrd; UINT64_MAX without one */
    uint64_t kern_pfn, physmap_pfn, startinfo_pfn, pt_pfn, stack_pfn; /* first pfn of each bootstrap piece;
                                                                       * physmap_pfn is UINT64_MAX if outside */
    uint64_t first_p2m_pfn;   /* start_info.first_p2m_pfn = alloc_pages + initrd_pages */
    uint64_t nr_p2m_frames;   /* start_info.nr_p2m_frames: 0, or with INIT_P2M the frames holding the list and
                               * the tables mapping it, counted with 2 MiB (never 1 GiB) superpages; see
                               * dom0_p2m_frames() for the 1 GiB variant */
    uint64_t total_pages_used; /* first_p2m_pfn + nr_p2m_frames: pages consumed before the remainder is
                                * allocated; never more than nr_pages */

    /* start_info fields that follow from the plan. */
    uint64_t si_mod_start; /* vinitrd_start, or initrd_pfn when unmapped; 0 without an initrd */
    uint32_t si_flags;     /* DOM0_SIF_MOD_START_PFN or 0 (the caller adds SIF_PRIVILEGED | SIF_INITDOMAIN) */
};

/* Plans the layout for a 64-bit PV dom0. elf->virt_kstart/virt_kend must be Xen's kernel extent (physical
 * addresses of the loadable segments moved by virt_base - paddr_offset, as elf_parse_xen() computes it).
 *
 * Returns 0, or a negative errno with *why (if why is non-NULL) set to a static sentence:
 *   -EINVAL  the kernel's addresses are inconsistent (kstart > kend, entry outside the kernel, virt_base above
 *            kstart, INIT_P2M inside the kernel, HYPERCALL_PAGE outside [v_start, v_end)); it advertises
 *            supported features without XENFEAT_dom0; it requires supervisor_mode_kernel; the bootstrap region
 *            overlaps Xen's range [DOM0_HV_VIRT_START, DOM0_HV_VIRT_END); or the P2M list overlaps the bootstrap
 *            region or Xen's range. Xen rejects, or panics on, each of these.
 *   -EINVAL  virt_base is not page aligned, or a region is not canonical. Xen does not check these and builds a
 *            broken domain; Vesta refuses.
 *   -ERANGE  the arrangement runs past the top of the address space (Xen would silently wrap).
 *   -ENOMEM  nr_pages is too small: for the first allocation plus the initrd ("Domain 0 allocation is too
 *            small for kernel image"), or for the P2M list at INIT_P2M ("Dom0 allocation too small for initial
 *            P->M table"). Xen panics in both cases.
 * out is fully written on success and unspecified on failure. */
int dom0_plan_layout(const struct xen_elf_info *elf, uint64_t initrd_len, uint64_t nr_pages,
                     struct dom0_layout *out, const char **why);

/* Frames (tables and list pages) Xen spends mapping the P2M list at INIT_P2M: layout->nr_p2m_frames when
 * allow_1g is false; allow_1g models a host with 1 GiB pages and no shadow paging, where Xen maps each 1 GiB
 * aligned GiB of the list with one 1 GiB page. Returns 0 (and 0 frames without INIT_P2M) or -ENOMEM / -EINVAL
 * as dom0_plan_layout. */
int dom0_p2m_frames(const struct dom0_layout *layout, bool allow_1g, uint64_t *frames, const char **why);

/* Calls cb once per bootstrap page-table page, in the order Xen allocates them, idx 0 .. nr_pt_pages - 1 (pfn
 * pt_pfn + idx, address vpt_start + idx * PAGE_SIZE). level is 4..1; va is the lowest address the table
 * translates that lies in [v_start, v_end) rounded down to the table's span (L4: 0). Order: the L4, then for
 * each 2 MiB slice of the region, low to high, its L1 followed, when the slice starts the region or a new
 * 1 GiB / 512 GiB span, by that span's L2 and then L3. */
void dom0_for_each_pt_page(const struct dom0_layout *layout,
                           void (*cb)(void *ctx, unsigned idx, unsigned level, uint64_t va), void *ctx);

/* Xen's legacy cap on dom0's size for kernels without INIT_P2M when no dom0_mem size was given: the bootstrap
 * region must fit twice below the end of the address space. Returns nr_pages, possibly lowered (then Xen
 * prints "Dom0 memory clipped to N pages"). */
uint64_t dom0_legacy_nr_pages_cap(const struct xen_elf_info *elf, uint64_t initrd_len, uint64_t nr_pages);

/* The lines of Xen's "VIRTUAL MEMORY ARRANGEMENT" block, for the caller to print. */
#define DOM0_LAYOUT_MAX_LINES 8
struct dom0_layout_line {
    const char *label; /* e.g. "Loaded kernel:", padded as Xen pads it */
    uint64_t start, end;
    bool has_end; /* false only for the entry address */
};

/* Fills lines[] (room for DOM0_LAYOUT_MAX_LINES) and returns how many there are. The initrd line is present
 * only when the initrd is mapped and non-empty, as in Xen. */
unsigned dom0_layout_lines(const struct dom0_layout *layout, struct dom0_layout_line *lines);

/* Writes " <label> <16 hex digits>-><16 hex digits>" (or just one number for the entry line), as Xen prints it
 * after its "(XEN) " prefix, NUL-terminated and truncated to fit len. Returns the untruncated length. */
size_t dom0_layout_format_line(const struct dom0_layout_line *line, char *buf, size_t len);

#endif
