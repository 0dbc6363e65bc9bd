/* dom0 layout planning. The Linux and XTF cases use the numbers real Xen 4.17 printed for Debian's 6.1 kernel
 * and for XTF's pv64 example (see compare_dom0_layout.sh); the others are worked out by hand from Xen's rules. */
#include "testlib.h"
#include "vesta/dom0_layout.h"

#include <stdlib.h>

#define LNX_BASE 0xffffffff80000000ULL
#define LNX_KSTART 0xffffffff81000000ULL
#define LNX_KEND 0xffffffff84a00000ULL
#define LNX_ENTRY 0xffffffff830791c0ULL
#define LNX_P2M 0x8000000000ULL

/* Kernel info as elf_parse_xen gives it for Debian's linux-image-6.1.0-56-amd64. */
static struct xen_elf_info linux_elf(void)
{
    struct xen_elf_info e;

    memset(&e, 0, sizeof(e));
    e.elf_entry = 0x1000000;
    e.entry = LNX_ENTRY;
    e.virt_base = LNX_BASE;
    e.paddr_offset = 0;
    e.hypercall_page = 0xffffffff81001000ULL;
    e.init_p2m = LNX_P2M;
    e.hv_start_low = 0xffff800000000000ULL;
    e.phys32_entry = XEN_ELF_UNSET;
    e.mod_start_pfn = true;
    e.features_supported = 1u << XENFEAT_dom0;
    e.notes_present = (1u << XEN_ELFNOTE_VIRT_BASE) | (1u << XEN_ELFNOTE_PADDR_OFFSET) |
                      (1u << XEN_ELFNOTE_INIT_P2M) | (1u << XEN_ELFNOTE_MOD_START_PFN) |
                      (1u << XEN_ELFNOTE_SUPPORTED_FEATURES);
    e.virt_kstart = LNX_KSTART;
    e.virt_kend = LNX_KEND;
    e.has_xen_notes = true;
    return e;
}

/* XTF's test-pv64-example: no VIRT_BASE, a 68 KiB kernel at 1 MiB, no INIT_P2M, no MOD_START_PFN. */
static struct xen_elf_info xtf_elf(void)
{
    struct xen_elf_info e;

    memset(&e, 0, sizeof(e));
    e.elf_entry = e.entry = 0x100000;
    e.virt_base = e.paddr_offset = 0;
    e.hypercall_page = 0x106000;
    e.init_p2m = e.hv_start_low = e.phys32_entry = XEN_ELF_UNSET;
    e.virt_kstart = 0x100000;
    e.virt_kend = 0x111000;
    e.has_xen_notes = true;
    return e;
}

static int plan(const struct xen_elf_info *e, uint64_t initrd, uint64_t nr, struct dom0_layout *l,
                const char **why)
{
    *why = "unset";
    return dom0_plan_layout(e, initrd, nr, l, why);
}

static void check_lines(const struct dom0_layout *l, const char *const *want, unsigned nwant)
{
    struct dom0_layout_line lines[DOM0_LAYOUT_MAX_LINES];
    char buf[80];
    unsigned n = dom0_layout_lines(l, lines);

    CHECK_EQ(n, nwant);
    for (unsigned i = 0; i < n && i < nwant; i++) {
        dom0_layout_format_line(&lines[i], buf, sizeof(buf));
        CHECK_STR(buf, want[i]);
    }
}

TEST(dom0_linux_as_xen)
{
    struct xen_elf_info e = linux_elf();
    struct dom0_layout l;
    const char *why;
    static const char *const want[] = {
        " Loaded kernel: ffffffff81000000->ffffffff84a00000",
        " Phys-Mach map: 0000008000000000->0000008000100000",
        " Start info:    ffffffff84a00000->ffffffff84a004b8",
        " Page tables:   ffffffff84a01000->ffffffff84a2a000",
        " Boot stack:    ffffffff84a2a000->ffffffff84a2b000",
        " TOTAL:         ffffffff80000000->ffffffff84c00000",
        " ENTRY ADDRESS: ffffffff830791c0",
    };

    CHECK_EQ(plan(&e, 0, 131072, &l, &why), 0);
    CHECK(why == NULL);
    check_lines(&l, want, ARRAY_SIZE(want));
    CHECK(!l.initrd_mapped);
    CHECK(l.p2m_outside);
    CHECK_EQ(l.vinitrd_start, 0);
    CHECK_EQ(l.vinitrd_end, 0);
    CHECK_EQ(l.nr_pt_pages, 41);
    CHECK_EQ(l.nr_l4, 1);
    CHECK_EQ(l.nr_l3, 1);
    CHECK_EQ(l.nr_l2, 1);
    CHECK_EQ(l.nr_l1, 38);
    CHECK_EQ(l.bootstrap_pages, 0x4c00);
    /* Xen: "Dom0 alloc.: 0x30000000->0x38000000 (98304 pages to be allocated)" */
    CHECK_EQ(l.alloc_order, 15);
    CHECK_EQ(l.alloc_pages, 32768);
    CHECK_EQ(l.nr_pages - l.alloc_pages - l.initrd_pages, 98304);
    CHECK_EQ(l.kern_pfn, 0x1000);
    CHECK_EQ(l.physmap_pfn, UINT64_MAX);
    CHECK_EQ(l.startinfo_pfn, 0x4a00);
    CHECK_EQ(l.pt_pfn, 0x4a01);
    CHECK_EQ(l.stack_pfn, 0x4a2a);
    CHECK_EQ(l.initrd_pfn, UINT64_MAX);
    CHECK_EQ(l.first_p2m_pfn, 32768);
    /* 1 MiB list at 512 GiB: an L3, an L2 and an L1 table plus 256 pages. */
    CHECK_EQ(l.nr_p2m_frames, 259);
    CHECK_EQ(l.total_pages_used, 32768 + 259);
    CHECK_EQ(l.si_mod_start, 0);
    CHECK_EQ(l.si_flags, 0);
}

TEST(dom0_linux_unmapped_initrd)
{
    struct xen_elf_info e = linux_elf();
    struct dom0_layout l;
    const char *why;

    CHECK_EQ(plan(&e, 3000001, 131072, &l, &why), 0);
    /* The virtual arrangement does not change; the initrd follows the first allocation in pfn space. */
    CHECK_EQ(l.v_end, 0xffffffff84c00000ULL);
    CHECK_EQ(l.vinitrd_end, 0);
    CHECK_EQ(l.initrd_pages, 733);
    CHECK_EQ(l.initrd_pfn, 32768);
    CHECK_EQ(l.si_mod_start, 32768);
    CHECK_EQ(l.si_flags, DOM0_SIF_MOD_START_PFN);
    CHECK_EQ(l.first_p2m_pfn, 32768 + 733);
    /* Xen: "(97571 pages to be allocated)" */
    CHECK_EQ(l.nr_pages - l.alloc_pages - l.initrd_pages, 97571);
}

TEST(dom0_xtf_as_xen)
{
    struct xen_elf_info e = xtf_elf();
    struct dom0_layout l;
    const char *why;
    static const char *const want[] = {
        " Loaded kernel: 0000000000100000->0000000000111000",
        " Phys-Mach map: 0000000000111000->0000000000131000",
        " Start info:    0000000000131000->00000000001314b8",
        " Page tables:   0000000000132000->0000000000137000",
        " Boot stack:    0000000000137000->0000000000138000",
        " TOTAL:         0000000000000000->0000000000400000",
        " ENTRY ADDRESS: 0000000000100000",
    };

    CHECK_EQ(plan(&e, 0, 16384, &l, &why), 0);
    check_lines(&l, want, ARRAY_SIZE(want));
    CHECK(l.initrd_mapped);
    /* Mapped but empty: the initrd range sits, empty, right after the kernel. */
    CHECK_EQ(l.vinitrd_start, 0x111000);
    CHECK_EQ(l.vinitrd_end, 0x111000);
    CHECK_EQ(l.nr_pt_pages, 5);
    CHECK_EQ(l.nr_l1, 2);
    CHECK_EQ(l.alloc_pages, 1024); /* Xen: 0x3e800000->0x3ec00000 */
    CHECK_EQ(l.nr_pages - l.alloc_pages, 15360);
    CHECK_EQ(l.physmap_pfn, 0x111);
    CHECK_EQ(l.first_p2m_pfn, 1024);
    CHECK_EQ(l.nr_p2m_frames, 0);
    CHECK_EQ(l.initrd_pfn, UINT64_MAX);
}

TEST(dom0_xtf_mapped_initrd)
{
    struct xen_elf_info e = xtf_elf();
    struct dom0_layout l;
    const char *why;
    static const char *const want[] = {
        " Loaded kernel: 0000000000100000->0000000000111000",
        " Init. ramdisk: 0000000000111000->00000000003ed6c1",
        " Phys-Mach map: 00000000003ee000->000000000040e000",
        " Start info:    000000000040e000->000000000040e4b8",
        " Page tables:   000000000040f000->0000000000416000",
        " Boot stack:    0000000000416000->0000000000417000",
        " TOTAL:         0000000000000000->0000000000800000",
        " ENTRY ADDRESS: 0000000000100000",
    };

    CHECK_EQ(plan(&e, 3000001, 16384, &l, &why), 0);
    check_lines(&l, want, ARRAY_SIZE(want));
    /* 8 MiB less the initrd's own 733 pages still needs an order-11 allocation. Xen: 13603 to be allocated. */
    CHECK_EQ(l.alloc_order, 11);
    CHECK_EQ(l.nr_pages - l.alloc_pages - l.initrd_pages, 13603);
    CHECK_EQ(l.initrd_pfn, 0x111);
    CHECK_EQ(l.si_mod_start, 0x111000);
    CHECK_EQ(l.si_flags, 0);
    CHECK_EQ(l.first_p2m_pfn, 2048 + 733);
}

TEST(dom0_tiny_nr_pages)
{
    struct xen_elf_info e = xtf_elf();
    struct dom0_layout l;
    const char *why;

    /* The region is 4 MiB (1024 pages) however small the list gets. */
    CHECK_EQ(plan(&e, 0, 1024, &l, &why), 0);
    CHECK_EQ(l.vphysmap_end - l.vphysmap_start, 8192);
    CHECK_EQ(l.v_end, 0x400000);
    CHECK_EQ(plan(&e, 0, 1023, &l, &why), -ENOMEM);
    CHECK_STR(why, "Domain 0 allocation is too small for kernel image");
    /* A mapped initrd's pages are counted on top of the allocation. */
    CHECK_EQ(plan(&e, 0x1000, 1024, &l, &why), -ENOMEM);
    CHECK_EQ(plan(&e, 0x1000, 1025, &l, &why), 0);
    CHECK_EQ(plan(&e, 0, 0, &l, &why), -ENOMEM);
}

TEST(dom0_large_nr_pages_in_bootstrap)
{
    struct xen_elf_info e = xtf_elf();
    struct dom0_layout l;
    const char *why;

    e.virt_kend = 0x200000;
    /* 128 GiB: a 256 MiB list; the region ends at 260 MiB and takes 130 L1 tables. */
    CHECK_EQ(plan(&e, 0, 1ULL << 25, &l, &why), 0);
    CHECK_EQ(l.vphysmap_end, 0x10200000);
    CHECK_EQ(l.vpt_start, 0x10201000);
    CHECK_EQ(l.nr_pt_pages, 133);
    CHECK_EQ(l.nr_l1, 130);
    CHECK_EQ(l.vstack_end, 0x10287000);
    CHECK_EQ(l.v_end, 0x10400000);
    CHECK_EQ(l.alloc_order, 17);

    /* 512 GiB: a 1 GiB list; the search has to go round several times and the region spans two L2 tables. */
    CHECK_EQ(plan(&e, 0, 1ULL << 27, &l, &why), 0);
    CHECK_EQ(l.nr_pt_pages, 520);
    CHECK_EQ(l.nr_l1, 516);
    CHECK_EQ(l.nr_l2, 2);
    CHECK_EQ(l.nr_l3, 1);
    CHECK_EQ(l.vpt_end, 0x40201000 + 520 * 4096ULL);
    CHECK_EQ(l.v_end, 0x40800000);
    CHECK_EQ(l.alloc_order, 19);
}

TEST(dom0_padding_rule)
{
    struct xen_elf_info e = xtf_elf();
    struct dom0_layout l;
    const char *why;

    /* With 5 tables the stack would end 256 KiB short of 4 MiB: 4 MiB more, so 7 tables, so the stack moves. */
    CHECK_EQ(plan(&e, 0, 0x55000, &l, &why), 0);
    CHECK_EQ(l.vstartinfo_start, 0x3b9000);
    CHECK_EQ(l.nr_pt_pages, 7);
    CHECK_EQ(l.vstack_end, 0x3c2000);
    CHECK_EQ(l.v_end, 0x800000);
    /* Exactly 512 KiB to spare is enough. */
    CHECK_EQ(plan(&e, 0, 0x4d000, &l, &why), 0);
    CHECK_EQ(l.vstack_end, 0x380000);
    CHECK_EQ(l.nr_pt_pages, 5);
    CHECK_EQ(l.v_end, 0x400000);
}

TEST(dom0_unaligned_virt_base)
{
    struct xen_elf_info e = xtf_elf();
    struct dom0_layout l;
    const char *why;

    /* Page aligned but not 4 MiB aligned: fine, v_end is still a 4 MiB boundary; the tables count from v_start. */
    e.virt_base = 0x3ff000;
    e.virt_kstart = e.entry = 0x400000;
    e.virt_kend = 0x411000;
    e.hypercall_page = XEN_ELF_UNSET;
    CHECK_EQ(plan(&e, 0, 16384, &l, &why), 0);
    CHECK_EQ(l.v_start, 0x3ff000);
    CHECK_EQ(l.v_end, 0x800000);
    CHECK_EQ(l.kern_pfn, 1);
    CHECK_EQ(l.nr_l1, 3); /* 2 MiB slices at 2, 4 and 6 MiB */
    CHECK_EQ(l.nr_pt_pages, 6);
    CHECK_EQ(l.bootstrap_pages, 0x401);
    CHECK_EQ(l.alloc_order, 11);

    e.virt_base = 0x3ff800;
    CHECK_EQ(plan(&e, 0, 16384, &l, &why), -EINVAL);
    CHECK_STR(why, "VIRT_BASE is not page aligned");
}

TEST(dom0_elf_bounds_errors)
{
    struct xen_elf_info e;
    struct dom0_layout l;
    const char *why;

    e = xtf_elf();
    e.entry = 0x111001;
    CHECK_EQ(plan(&e, 0, 16384, &l, &why), -EINVAL);
    CHECK_STR(why, "ELF start or entries are out of bounds");
    e.entry = 0x111000; /* the end itself is accepted, as in Xen */
    CHECK_EQ(plan(&e, 0, 16384, &l, &why), 0);
    e = xtf_elf();
    e.virt_base = 0x200000;
    CHECK_EQ(plan(&e, 0, 16384, &l, &why), -EINVAL);
    e = xtf_elf();
    e.virt_kstart = 0x120000;
    CHECK_EQ(plan(&e, 0, 16384, &l, &why), -EINVAL);

    e = linux_elf();
    e.init_p2m = LNX_KSTART + 0x1000;
    CHECK_EQ(plan(&e, 0, 131072, &l, &why), -EINVAL);
    CHECK_STR(why, "P->M table base is out of bounds");

    e = xtf_elf();
    e.hypercall_page = 0x400000; /* just past v_end */
    CHECK_EQ(plan(&e, 0, 16384, &l, &why), -EINVAL);
    CHECK_STR(why, "Invalid HYPERCALL_PAGE field in ELF notes");
    e.hypercall_page = 0x3ff000;
    CHECK_EQ(plan(&e, 0, 16384, &l, &why), 0);
}

TEST(dom0_feature_errors)
{
    struct xen_elf_info e = linux_elf();
    struct dom0_layout l;
    const char *why;

    e.features_supported = 0;
    CHECK_EQ(plan(&e, 0, 131072, &l, &why), -EINVAL);
    CHECK_STR(why, "Kernel does not support Dom0 operation");
    /* Without a SUPPORTED_FEATURES note nothing is demanded (XTF has none). */
    e.notes_present &= ~(1u << XEN_ELFNOTE_SUPPORTED_FEATURES);
    CHECK_EQ(plan(&e, 0, 131072, &l, &why), 0);

    e = linux_elf();
    e.features_required = 1u << XENFEAT_supervisor_mode_kernel;
    e.features_supported |= e.features_required;
    CHECK_EQ(plan(&e, 0, 131072, &l, &why), -EINVAL);
    CHECK_STR(why, "Dom0 requires supervisor-mode execution");
}

TEST(dom0_address_space_errors)
{
    struct xen_elf_info e = xtf_elf();
    struct dom0_layout l;
    const char *why;

    /* Right in Xen's range. */
    e.virt_base = e.virt_kstart = e.entry = 0xffff800000000000ULL;
    e.virt_kend = e.virt_kstart + 0x11000;
    e.hypercall_page = XEN_ELF_UNSET;
    CHECK_EQ(plan(&e, 0, 16384, &l, &why), -EINVAL);
    CHECK_STR(why, "DOM0 image overlaps with Xen private area");
    /* Starting below it and running into it. */
    e.virt_base = e.virt_kstart = e.entry = 0xffff7ffffff00000ULL;
    e.virt_kend = e.virt_kstart + 0x200000;
    CHECK_EQ(plan(&e, 0, 16384, &l, &why), -EINVAL);
    CHECK_STR(why, "DOM0 image overlaps with Xen private area");
    /* Right after it: fine (the upper half is not required for 64-bit). */
    e.virt_base = e.virt_kstart = e.entry = 0xffff880000000000ULL;
    e.virt_kend = e.virt_kstart + 0x11000;
    CHECK_EQ(plan(&e, 0, 16384, &l, &why), 0);
    /* Non-canonical. */
    e.virt_base = e.virt_kstart = e.entry = 0x0000800000000000ULL;
    e.virt_kend = e.virt_kstart + 0x11000;
    CHECK_EQ(plan(&e, 0, 16384, &l, &why), -EINVAL);
    CHECK_STR(why, "dom0 layout is not canonical");
    e.virt_base = e.virt_kstart = e.entry = 0x00007ffffff00000ULL;
    e.virt_kend = e.virt_kstart + 0x200000;
    CHECK_EQ(plan(&e, 0, 16384, &l, &why), -EINVAL);
    /* Ending exactly at the top of the lower half is still canonical. */
    e.virt_kend = e.virt_kstart + 0x11000;
    CHECK_EQ(plan(&e, 0, 16384, &l, &why), 0);
    CHECK_EQ(l.v_end, 0x0000800000000000ULL);
    CHECK_EQ(l.nr_pt_pages, 4);
    /* Past the top of the address space. */
    e.virt_base = e.virt_kstart = e.entry = 0xfffffffffff00000ULL;
    e.virt_kend = e.virt_kstart + 0x11000;
    CHECK_EQ(plan(&e, 0, 16384, &l, &why), -ERANGE);
    e = xtf_elf();
    CHECK_EQ(plan(&e, 0, UINT64_MAX / 4, &l, &why), -ERANGE);
    CHECK_EQ(plan(&e, UINT64_MAX - 10, 16384, &l, &why), -ERANGE);
    /* Ending exactly 4 MiB below the top still works. */
    e.hypercall_page = XEN_ELF_UNSET;
    e.virt_base = e.virt_kstart = e.entry = 0xffffffffff000000ULL;
    e.virt_kend = e.virt_kstart + 0x11000;
    CHECK_EQ(plan(&e, 0, 16384, &l, &why), 0);
    CHECK_EQ(l.v_end, 0xffffffffff400000ULL);
    CHECK_EQ(l.nr_pt_pages, 5);
}

TEST(dom0_p2m_errors)
{
    struct xen_elf_info e = linux_elf();
    struct dom0_layout l;
    const char *why;

    /* Touching the bootstrap region counts as overlapping (Xen compares inclusively). */
    e.init_p2m = 0xffffffff84c00000ULL;
    CHECK_EQ(plan(&e, 0, 131072, &l, &why), -EINVAL);
    CHECK_STR(why, "DOM0 P->M table overlaps initial mapping");
    e.init_p2m = LNX_BASE - 131072 * 8;
    CHECK_EQ(plan(&e, 0, 131072, &l, &why), -EINVAL);
    e.init_p2m = LNX_BASE - 131072 * 8 - 0x1000;
    CHECK_EQ(plan(&e, 0, 131072, &l, &why), 0);
    /* In Xen's range. */
    e.init_p2m = 0xffff840000000000ULL;
    CHECK_EQ(plan(&e, 0, 131072, &l, &why), -EINVAL);
    CHECK_STR(why, "P->M table overlaps with Xen private area");
    e.init_p2m = 0x0000800000000000ULL;
    CHECK_EQ(plan(&e, 0, 131072, &l, &why), -EINVAL);
    CHECK_STR(why, "P->M table is not canonical");

    /* Room: Xen checks before each page that the rest of the list and 3 more tables still fit. After the first
     * page came with its 3 tables, 32772 + 64 + 3 must fit. */
    e = linux_elf();
    CHECK_EQ(plan(&e, 0, 32838, &l, &why), -ENOMEM);
    CHECK_STR(why, "Dom0 allocation too small for initial P->M table");
    CHECK_EQ(plan(&e, 0, 32839, &l, &why), 0);
    CHECK_EQ(l.nr_p2m_frames, 3 + 65);
    CHECK_EQ(l.total_pages_used, 32768 + 68);
    /* The bootstrap allocation alone needs 32768. */
    CHECK_EQ(plan(&e, 0, 32767, &l, &why), -ENOMEM);
    CHECK_STR(why, "Domain 0 allocation is too small for kernel image");
}

TEST(dom0_p2m_superpages)
{
    struct xen_elf_info e = linux_elf();
    struct dom0_layout l;
    const char *why;
    uint64_t frames;

    /* 1 TiB: a 2 GiB list at 512 GiB. 2 MiB pages: per GiB an L2 table and 512 x 512 pages; plus the L3. */
    CHECK_EQ(plan(&e, 0, 1ULL << 28, &l, &why), 0);
    CHECK_EQ(l.nr_p2m_frames, 1 + 2 * (1 + 262144));
    CHECK_EQ(dom0_p2m_frames(&l, true, &frames, &why), 0);
    CHECK_EQ(frames, 1 + 2 * 262144);
    CHECK_EQ(dom0_p2m_frames(&l, false, &frames, &why), 0);
    CHECK_EQ(frames, l.nr_p2m_frames);

    /* 4 MiB + 4 KiB list, 2 MiB aligned: two 2 MiB pages, then an L1 and a page. */
    CHECK_EQ(plan(&e, 0, (4ULL << 20) / 8 + 512, &l, &why), 0);
    CHECK_EQ(l.nr_p2m_frames, 2 + 1024 + 1 + 1);
    /* Misaligned by a page: 4K pages up to 2 MiB, then a 2 MiB page, then the tail in a new L1. */
    e.init_p2m = LNX_P2M + 0x1000;
    CHECK_EQ(plan(&e, 0, (4ULL << 20) / 8, &l, &why), 0);
    CHECK_EQ(l.nr_p2m_frames, 2 + 1 + 511 + 512 + 1 + 1);

    /* Sharing tables with the bootstrap region. Just above v_end, in the same GiB: only an L1 is new. */
    e = linux_elf();
    e.init_p2m = 0xffffffff84c01000ULL;
    CHECK_EQ(plan(&e, 0, 131072, &l, &why), 0);
    CHECK_EQ(l.nr_p2m_frames, 1 + 256);
    /* Just below v_start, which starts a GiB: the L3 is shared, the L2 and L1 are new. */
    e.init_p2m = LNX_BASE - 0x200000;
    CHECK_EQ(plan(&e, 0, 0x200000 / 8 - 0x1000 / 8 - 512, &l, &why), 0);
    CHECK_EQ(l.vphysmap_end, LNX_BASE - 0x2000);
    CHECK_EQ(l.nr_p2m_frames, 2 + 510);
}

struct pt_rec {
    unsigned n, level[600];
    uint64_t va[600];
};

static void pt_cb(void *ctx, unsigned idx, unsigned level, uint64_t va)
{
    struct pt_rec *r = ctx;

    CHECK_EQ(idx, r->n);
    if (r->n < ARRAY_SIZE(r->level)) {
        r->level[r->n] = level;
        r->va[r->n] = va;
    }
    r->n++;
}

TEST(dom0_pt_order)
{
    struct xen_elf_info e = xtf_elf();
    struct dom0_layout l;
    const char *why;
    struct pt_rec *r = calloc(1, sizeof(*r));

    CHECK_EQ(plan(&e, 0, 16384, &l, &why), 0);
    dom0_for_each_pt_page(&l, pt_cb, r);
    CHECK_EQ(r->n, l.nr_pt_pages);
    /* L4, then the first L1 before the L2 and L3 it hangs from. */
    CHECK_EQ(r->level[0], 4);
    CHECK_EQ(r->level[1], 1);
    CHECK_EQ(r->level[2], 2);
    CHECK_EQ(r->level[3], 3);
    CHECK_EQ(r->level[4], 1);
    CHECK_EQ(r->va[4], 0x200000);

    e.virt_kend = 0x200000;
    CHECK_EQ(plan(&e, 0, 1ULL << 27, &l, &why), 0);
    r->n = 0;
    dom0_for_each_pt_page(&l, pt_cb, r);
    CHECK_EQ(r->n, 520);
    CHECK_EQ(r->level[514], 1);
    CHECK_EQ(r->va[514], 0x3fe00000);
    CHECK_EQ(r->level[515], 1);
    CHECK_EQ(r->va[515], 0x40000000);
    CHECK_EQ(r->level[516], 2);
    CHECK_EQ(r->va[516], 0x40000000);
    CHECK_EQ(r->level[517], 1);
    unsigned counts[5] = { 0 };
    for (unsigned i = 0; i < r->n && i < ARRAY_SIZE(r->level); i++)
        counts[r->level[i]]++;
    CHECK_EQ(counts[1], l.nr_l1);
    CHECK_EQ(counts[2], l.nr_l2);
    CHECK_EQ(counts[3], l.nr_l3);
    CHECK_EQ(counts[4], 1);

    /* A region crossing a 512 GiB boundary needs a second L3 right after that slice's L1 and L2. */
    e = xtf_elf();
    e.virt_base = 0x7fffc00000ULL;
    e.virt_kstart = e.entry = 0x7fffe00000ULL;
    e.virt_kend = 0x8000001000ULL;
    e.hypercall_page = XEN_ELF_UNSET;
    CHECK_EQ(plan(&e, 0, 16384, &l, &why), 0);
    CHECK_EQ(l.nr_l3, 2);
    CHECK_EQ(l.nr_l2, 2);
    r->n = 0;
    dom0_for_each_pt_page(&l, pt_cb, r);
    CHECK_EQ(r->n, l.nr_pt_pages);
    CHECK_EQ(r->level[5], 1);
    CHECK_EQ(r->va[5], 0x8000000000ULL);
    CHECK_EQ(r->level[6], 2);
    CHECK_EQ(r->level[7], 3);
    CHECK_EQ(r->va[7], 0x8000000000ULL);
    free(r);
}

TEST(dom0_legacy_cap)
{
    struct xen_elf_info e = linux_elf();

    e.init_p2m = XEN_ELF_UNSET;
    e.virt_kend = 0xffffffff82000000ULL;
    /* 4 GiB fits twice below the top; 1 TiB does not: what is left above the kernel, halved, in 8-byte entries. */
    CHECK_EQ(dom0_legacy_nr_pages_cap(&e, 0, 1ULL << 20), 1ULL << 20);
    CHECK_EQ(dom0_legacy_nr_pages_cap(&e, 0, 1ULL << 28), 0x7e000000ULL / 16);
    /* A mapped initrd takes room too. */
    e.mod_start_pfn = false;
    CHECK_EQ(dom0_legacy_nr_pages_cap(&e, 0x1000000, 1ULL << 28), 0x7d000000ULL / 16);
    /* Kernels with INIT_P2M are never capped. */
    e.init_p2m = LNX_P2M;
    CHECK_EQ(dom0_legacy_nr_pages_cap(&e, 0, 1ULL << 28), 1ULL << 28);
}

TEST(dom0_format_line)
{
    struct dom0_layout_line ln = { "Boot stack:   ", 0xffffffff84a2a000ULL, 0xffffffff84a2b000ULL, true };
    char buf[64];

    CHECK_EQ(dom0_layout_format_line(&ln, buf, sizeof(buf)), 50);
    CHECK_STR(buf, " Boot stack:    ffffffff84a2a000->ffffffff84a2b000");
    CHECK_EQ(dom0_layout_format_line(&ln, buf, 8), 50);
    CHECK_STR(buf, " Boot s");
    CHECK_EQ(dom0_layout_format_line(&ln, NULL, 0), 50);
}

/* A small ELF whose segments' physical addresses differ from their virtual ones, as in Linux (whose per-CPU
 * segment has vaddr 0). */
#define IMG 1024
static void w16(uint8_t *b, size_t o, uint16_t v) { memcpy(b + o, &v, 2); }
static void w32(uint8_t *b, size_t o, uint32_t v) { memcpy(b + o, &v, 4); }
static void w64(uint8_t *b, size_t o, uint64_t v) { memcpy(b + o, &v, 8); }

static void seg(uint8_t *b, unsigned i, uint32_t flags, uint64_t vaddr, uint64_t paddr, uint64_t memsz)
{
    size_t p = 64 + 56 * i;

    w32(b, p, 1);
    w32(b, p + 4, flags);
    w64(b, p + 8, 512);
    w64(b, p + 16, vaddr);
    w64(b, p + 24, paddr);
    w64(b, p + 32, 16);
    w64(b, p + 40, memsz);
    w64(b, p + 48, 0x1000);
}

static void build_elf(uint8_t *b)
{
    memset(b, 0, IMG);
    memcpy(b, "\177ELF", 4);
    b[4] = 2;
    b[5] = 1;
    b[6] = 1;
    w16(b, 16, 2);
    w16(b, 18, 62);
    w32(b, 20, 1);
    w64(b, 24, 0x1000000);
    w64(b, 32, 64);
    w16(b, 52, 64);
    w16(b, 54, 56);
    w16(b, 56, 4);
    seg(b, 0, ELF_PF_R | ELF_PF_X, LNX_KSTART, 0x1000000, 0x2000);
    seg(b, 1, ELF_PF_R | ELF_PF_W, 0, 0x1002000, 0x1000);
    seg(b, 2, ELF_PF_R | ELF_PF_W, LNX_KSTART + 0x3000, 0x1003000, 0x1000);
    seg(b, 3, 0, LNX_KSTART + 0x100000, 0x1100000, 0x1000); /* no R/W/X: Xen ignores it */
}

TEST(elf_kernel_extent_uses_paddr)
{
    uint8_t *b = malloc(IMG);
    struct xen_elf_info e;

    /* elf_parse_xen gives Xen's extent: physical addresses of the segments with any access right (the per-CPU
     * segment at vaddr 0 does not drag the start down; the segment with no rights is ignored). Without notes,
     * virt_base and paddr_offset are both 0. */
    build_elf(b);
    CHECK_EQ(elf_parse_xen(b, IMG, &e), 0);
    CHECK_EQ(e.virt_kstart, 0x1000000);
    CHECK_EQ(e.virt_kend, 0x1004000);
    /* Nothing loadable. */
    for (unsigned i = 0; i < 4; i++)
        w32(b, 64 + 56 * i + 4, 0);
    CHECK_EQ(elf_parse_xen(b, IMG, &e), -ENOEXEC);
    free(b);
}
