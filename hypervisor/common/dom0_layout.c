/* Planning dom0's initial address space the way Xen 4.17's 64-bit PV dom0 builder lays it out. Pure arithmetic:
 * see vesta/dom0_layout.h for the arrangement and the meaning of every field. */
#include "vesta/dom0_layout.h"

#define SZ_2M (1ULL << 21)
#define SZ_4M (1ULL << 22)
#define PAD_MIN (512ULL << 10)

#define L1_SHIFT 21 /* address bits one L1 table translates */
#define L2_SHIFT 30
#define L3_SHIFT 39

#define NONE UINT64_MAX

static uint64_t pg_up(uint64_t x)
{
    return (x + PAGE_SIZE - 1) & PAGE_MASK;
}

/* Number of 2^shift-byte spans touched by [lo, hi). Done modulo 2^64 so that hi rounding up to the very top of the
 * address space (to 0) still gives the right count. */
static uint64_t spans(uint64_t lo, uint64_t hi, unsigned shift)
{
    uint64_t m = (1ULL << shift) - 1;

    return (((hi + m) & ~m) - (lo & ~m)) >> shift;
}

static unsigned order_for_bytes(uint64_t bytes)
{
    unsigned order = 0;

    while (order < 52 && (PAGE_SIZE << order) < bytes)
        order++;
    return order;
}

/* True if [lo, hi) lies wholly in one canonical half (hi exclusive, no wrap; an empty range is judged by lo). */
static bool canonical(uint64_t lo, uint64_t hi)
{
    uint64_t last = hi > lo ? hi - 1 : lo;

    return last < (1ULL << 47) || lo >= 0xffff800000000000ULL;
}

static int fail(const char **why, const char *msg, int err)
{
    if (why)
        *why = msg;
    return err;
}

/* Does the bootstrap region [v_start, v_end) translate anything in the span of 2^shift bytes holding va? */
static bool bootstrap_has(const struct dom0_layout *l, uint64_t va, unsigned shift)
{
    uint64_t base = va & ~((1ULL << shift) - 1);
    uint64_t last = base + ((1ULL << shift) - 1);

    return base < l->v_end && last >= l->v_start;
}

int dom0_p2m_frames(const struct dom0_layout *l, bool allow_1g, uint64_t *frames, const char **why)
{
    uint64_t s, e, tot, n = 0, last_l4 = NONE, last_l3 = NONE, last_l2 = NONE;

    *frames = 0;
    if (!l->p2m_outside)
        return 0;
    s = l->vphysmap_start;
    e = l->vphysmap_end;
    /* Xen compares inclusively here, so merely touching the bootstrap region counts. */
    if (l->v_start <= e && s <= l->v_end)
        return fail(why, "DOM0 P->M table overlaps initial mapping", -EINVAL);

    tot = l->first_p2m_pfn;
    while (s < e) {
        uint64_t i4 = s >> L3_SHIFT, i3 = s >> L2_SHIFT, i2 = s >> L1_SHIFT, stop, pages;

        /* Room for what is left of the list plus up to three tables. */
        if (tot + ((pg_up(e) - s) >> PAGE_SHIFT) + 3 > l->nr_pages)
            return fail(why, "Dom0 allocation too small for initial P->M table", -ENOMEM);

        if (!bootstrap_has(l, s, L3_SHIFT) && last_l4 != i4) {
            n++, tot++; /* an L3 table */
            last_l4 = i4;
        }
        if (!bootstrap_has(l, s, L2_SHIFT) && last_l3 != i3) {
            if (allow_1g && !(s & ((1ULL << L2_SHIFT) - 1)) && e - s >= (1ULL << L2_SHIFT)) {
                n += 1ULL << (L2_SHIFT - PAGE_SHIFT);
                tot += 1ULL << (L2_SHIFT - PAGE_SHIFT);
                s += 1ULL << L2_SHIFT;
                continue;
            }
            n++, tot++; /* an L2 table */
            last_l3 = i3;
        }
        if (!bootstrap_has(l, s, L1_SHIFT) && last_l2 != i2) {
            if (!(s & (SZ_2M - 1)) && e - s >= SZ_2M) {
                n += SZ_2M >> PAGE_SHIFT;
                tot += SZ_2M >> PAGE_SHIFT;
                s += SZ_2M;
                continue;
            }
            n++, tot++; /* an L1 table */
            last_l2 = i2;
        }
        /* One 4 KiB page, as each of Xen's iterations maps. */
        n++, tot++;
        s = (s & PAGE_MASK) + PAGE_SIZE;
        if (s == 0)
            break; /* reached the top of the address space */
        /* The rest of this 2 MiB slice needs no tables, so Xen's room check, repeated for each page, gives the
         * same answer as it does for the first of them: take them together. */
        stop = (s + SZ_2M - 1) & ~(SZ_2M - 1);
        if (stop == 0 || stop > pg_up(e))
            stop = pg_up(e);
        if (stop > s && s < e) {
            if (tot + ((pg_up(e) - s) >> PAGE_SHIFT) + 3 > l->nr_pages)
                return fail(why, "Dom0 allocation too small for initial P->M table", -ENOMEM);
            pages = (stop - s) >> PAGE_SHIFT;
            n += pages;
            tot += pages;
            s = stop;
        }
    }
    *frames = n;
    return 0;
}

int dom0_plan_layout(const struct xen_elf_info *elf, uint64_t initrd_len, uint64_t nr_pages,
                     struct dom0_layout *out, const char **why)
{
    struct dom0_layout l = { 0 };
    uint64_t p2m_bytes, count;
    unsigned nr;
    int rc;

    if (why)
        *why = NULL;

    /* What Xen's ELF address checks reject. */
    if (elf->virt_kstart > elf->virt_kend || elf->entry < elf->virt_kstart || elf->entry > elf->virt_kend ||
        elf->virt_base > elf->virt_kstart)
        return fail(why, "ELF start or entries are out of bounds", -EINVAL);
    if (elf->init_p2m != XEN_ELF_UNSET && elf->init_p2m >= elf->virt_kstart && elf->init_p2m < elf->virt_kend)
        return fail(why, "P->M table base is out of bounds", -EINVAL);
    if ((elf->notes_present & (1u << XEN_ELFNOTE_SUPPORTED_FEATURES)) &&
        !(elf->features_supported & (1u << XENFEAT_dom0)))
        return fail(why, "Kernel does not support Dom0 operation", -EINVAL);
    if (elf->virt_base & (PAGE_SIZE - 1))
        return fail(why, "VIRT_BASE is not page aligned", -EINVAL);

    l.nr_pages = nr_pages;
    l.initrd_len = initrd_len;
    l.v_start = elf->virt_base;
    l.vkern_start = elf->virt_kstart;
    l.vkern_end = elf->virt_kend;
    l.entry = elf->entry;
    l.initrd_mapped = !elf->mod_start_pfn;
    l.p2m_outside = elf->init_p2m != XEN_ELF_UNSET;

    /* Sizes that cannot fit in the address space make every later sum meaningless. */
    if (nr_pages > (UINT64_MAX >> 3) || initrd_len > UINT64_MAX - 2 * PAGE_SIZE ||
        l.vkern_end > UINT64_MAX - PAGE_SIZE)
        return fail(why, "dom0 layout runs past the end of the address space", -ERANGE);
    p2m_bytes = nr_pages * 8;
    l.initrd_pages = pg_up(initrd_len) >> PAGE_SHIFT;

    if (l.initrd_mapped) {
        l.vinitrd_start = pg_up(l.vkern_end);
        if (initrd_len > UINT64_MAX - PAGE_SIZE - l.vinitrd_start)
            return fail(why, "dom0 layout runs past the end of the address space", -ERANGE);
        l.vinitrd_end = l.vinitrd_start + initrd_len;
        l.vphysmap_start = pg_up(l.vinitrd_end);
    } else {
        l.vphysmap_start = pg_up(l.vkern_end);
    }
    /* With INIT_P2M the list takes no room here; its real place is filled in below. */
    l.vphysmap_end = l.p2m_outside ? l.vphysmap_start : l.vphysmap_start + p2m_bytes;
    if (l.vphysmap_end < l.vphysmap_start || l.vphysmap_end > UINT64_MAX - PAGE_SIZE)
        return fail(why, "dom0 layout runs past the end of the address space", -ERANGE);
    l.vstartinfo_start = pg_up(l.vphysmap_end);
    l.vpt_start = pg_up(l.vstartinfo_start + DOM0_START_INFO_SIZE);
    l.vstartinfo_end = l.vstartinfo_start + DOM0_START_INFO_SIZE + DOM0_VGA_CONSOLE_INFO_SIZE;
    if (l.vpt_start == 0)
        return fail(why, "dom0 layout runs past the end of the address space", -ERANGE);

    /* The tables map the region and sit inside it, so their number and the region's end depend on each other:
     * try counts upward until the tables needed fit in the tables counted. The count never overshoots. */
    for (nr = 2;; nr++) {
        uint64_t need;

        l.vpt_end = l.vpt_start + (uint64_t)nr * PAGE_SIZE;
        l.vstack_start = l.vpt_end;
        l.vstack_end = l.vstack_start + PAGE_SIZE;
        if (l.vpt_end < l.vpt_start || l.vstack_end <= l.vstack_start ||
            l.vstack_end > UINT64_MAX - SZ_4M - PAD_MIN)
            return fail(why, "dom0 layout runs past the end of the address space", -ERANGE);
        l.v_end = (l.vstack_end + SZ_4M - 1) & ~(SZ_4M - 1);
        if (l.v_end - l.vstack_end < PAD_MIN)
            l.v_end += SZ_4M;

        l.nr_l4 = 1;
        l.nr_l3 = (unsigned)spans(l.v_start, l.v_end, L3_SHIFT);
        l.nr_l2 = (unsigned)spans(l.v_start, l.v_end, L2_SHIFT);
        l.nr_l1 = (unsigned)spans(l.v_start, l.v_end, L1_SHIFT);
        need = (uint64_t)l.nr_l4 + l.nr_l3 + l.nr_l2 + l.nr_l1;
        if (need <= nr)
            break;
    }
    l.nr_pt_pages = nr;

    l.bootstrap_pages = (l.v_end - l.v_start) >> PAGE_SHIFT;
    count = l.v_end - l.v_start;
    if (l.initrd_mapped)
        count -= l.initrd_pages << PAGE_SHIFT; /* the module's own frames back it */
    l.alloc_order = order_for_bytes(count);
    l.alloc_pages = 1ULL << l.alloc_order;
    if (l.alloc_pages + l.initrd_pages > nr_pages)
        return fail(why, "Domain 0 allocation is too small for kernel image", -ENOMEM);

    if (l.v_start < DOM0_HV_VIRT_END && l.v_end > DOM0_HV_VIRT_START)
        return fail(why, "DOM0 image overlaps with Xen private area", -EINVAL);
    if (!canonical(l.v_start, l.v_end))
        return fail(why, "dom0 layout is not canonical", -EINVAL);

    if (elf->hypercall_page != XEN_ELF_UNSET && (elf->hypercall_page < l.v_start || elf->hypercall_page >= l.v_end))
        return fail(why, "Invalid HYPERCALL_PAGE field in ELF notes", -EINVAL);

    l.kern_pfn = (l.vkern_start - l.v_start) >> PAGE_SHIFT;
    l.startinfo_pfn = (l.vstartinfo_start - l.v_start) >> PAGE_SHIFT;
    l.pt_pfn = (l.vpt_start - l.v_start) >> PAGE_SHIFT;
    l.stack_pfn = (l.vstack_start - l.v_start) >> PAGE_SHIFT;
    if (initrd_len == 0)
        l.initrd_pfn = NONE;
    else if (l.initrd_mapped)
        l.initrd_pfn = (l.vinitrd_start - l.v_start) >> PAGE_SHIFT;
    else
        l.initrd_pfn = l.alloc_pages; /* the frames owned so far are exactly the first allocation */
    l.first_p2m_pfn = l.alloc_pages + l.initrd_pages;

    if (l.p2m_outside) {
        l.physmap_pfn = NONE;
        l.vphysmap_start = elf->init_p2m;
        if (p2m_bytes > UINT64_MAX - PAGE_SIZE - l.vphysmap_start)
            return fail(why, "dom0 layout runs past the end of the address space", -ERANGE);
        l.vphysmap_end = l.vphysmap_start + p2m_bytes;
        /* Xen does not check this; the list's tables would land in its own. */
        if (l.vphysmap_start < DOM0_HV_VIRT_END && l.vphysmap_end > DOM0_HV_VIRT_START)
            return fail(why, "P->M table overlaps with Xen private area", -EINVAL);
        if (!canonical(l.vphysmap_start, l.vphysmap_end))
            return fail(why, "P->M table is not canonical", -EINVAL);
        rc = dom0_p2m_frames(&l, false, &l.nr_p2m_frames, why);
        if (rc)
            return rc;
    } else {
        l.physmap_pfn = (l.vphysmap_start - l.v_start) >> PAGE_SHIFT;
    }
    l.total_pages_used = l.first_p2m_pfn + l.nr_p2m_frames;

    if (elf->features_required & (1u << XENFEAT_supervisor_mode_kernel))
        return fail(why, "Dom0 requires supervisor-mode execution", -EINVAL);

    if (initrd_len) {
        l.si_mod_start = l.initrd_mapped ? l.vinitrd_start : l.initrd_pfn;
        l.si_flags = l.initrd_mapped ? 0 : DOM0_SIF_MOD_START_PFN;
    }

    *out = l;
    return 0;
}

void dom0_for_each_pt_page(const struct dom0_layout *l,
                           void (*cb)(void *ctx, unsigned idx, unsigned level, uint64_t va), void *ctx)
{
    uint64_t slices = spans(l->v_start, l->v_end, L1_SHIFT);
    uint64_t va = l->v_start & ~(SZ_2M - 1);
    unsigned idx = 0;

    cb(ctx, idx++, 4, 0);
    for (uint64_t i = 0; i < slices; i++, va += SZ_2M) {
        cb(ctx, idx++, 1, va);
        if (i == 0 || !(va & ((1ULL << L2_SHIFT) - 1))) {
            cb(ctx, idx++, 2, va & ~((1ULL << L2_SHIFT) - 1));
            if (i == 0 || !(va & ((1ULL << L3_SHIFT) - 1)))
                cb(ctx, idx++, 3, va & ~((1ULL << L3_SHIFT) - 1));
        }
    }
}

uint64_t dom0_legacy_nr_pages_cap(const struct xen_elf_info *elf, uint64_t initrd_len, uint64_t nr_pages)
{
    uint64_t vstart = elf->virt_base, vend, end;

    if (elf->init_p2m != XEN_ELF_UNSET)
        return nr_pages;
    vend = pg_up(elf->virt_kend);
    if (!elf->mod_start_pfn)
        vend += pg_up(initrd_len);
    end = vend + nr_pages * 8;
    if (end > vstart)
        end += end - vstart;
    if (end <= vstart)
        nr_pages = (0 - vend) / 16; /* what fits twice between vend and the top */
    return nr_pages;
}

unsigned dom0_layout_lines(const struct dom0_layout *l, struct dom0_layout_line *lines)
{
    unsigned n = 0;

    lines[n++] = (struct dom0_layout_line){ "Loaded kernel:", l->vkern_start, l->vkern_end, true };
    if (l->vinitrd_end > l->vinitrd_start)
        lines[n++] = (struct dom0_layout_line){ "Init. ramdisk:", l->vinitrd_start, l->vinitrd_end, true };
    lines[n++] = (struct dom0_layout_line){ "Phys-Mach map:", l->vphysmap_start, l->vphysmap_end, true };
    lines[n++] = (struct dom0_layout_line){ "Start info:   ", l->vstartinfo_start, l->vstartinfo_end, true };
    lines[n++] = (struct dom0_layout_line){ "Page tables:  ", l->vpt_start, l->vpt_end, true };
    lines[n++] = (struct dom0_layout_line){ "Boot stack:   ", l->vstack_start, l->vstack_end, true };
    lines[n++] = (struct dom0_layout_line){ "TOTAL:        ", l->v_start, l->v_end, true };
    lines[n++] = (struct dom0_layout_line){ "ENTRY ADDRESS:", l->entry, 0, false };
    return n;
}

/* Appends c at position *pos if it fits (leaving room for the terminator); always counts it. */
static void put(char *buf, size_t len, size_t *pos, char c)
{
    if (*pos + 1 < len)
        buf[*pos] = c;
    (*pos)++;
}

static void put_hex(char *buf, size_t len, size_t *pos, uint64_t v)
{
    for (int shift = 60; shift >= 0; shift -= 4)
        put(buf, len, pos, "0123456789abcdef"[(v >> shift) & 0xf]);
}

size_t dom0_layout_format_line(const struct dom0_layout_line *line, char *buf, size_t len)
{
    size_t pos = 0;

    put(buf, len, &pos, ' ');
    for (const char *p = line->label; *p; p++)
        put(buf, len, &pos, *p);
    put(buf, len, &pos, ' ');
    put_hex(buf, len, &pos, line->start);
    if (line->has_end) {
        put(buf, len, &pos, '-');
        put(buf, len, &pos, '>');
        put_hex(buf, len, &pos, line->end);
    }
    if (len)
        buf[pos < len ? pos : len - 1] = '\0';
    return pos;
}
