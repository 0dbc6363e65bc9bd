/* Taking ownership of machine memory at boot, and the page allocator the rest of the hypervisor uses.
 *
 * Boot order: the firmware map gives the RAM ranges; a boot allocator hands out pages top-down from them,
 * avoiding the image, the boot modules and the low megabyte; with it we build the hypervisor's own page tables
 * (image mapped W^X, direct map of all RAM), switch to them, allocate the frame table (one struct frame per
 * machine frame) and give every page still free to the buddy allocator. */
#include <vesta/buddy.h>
#include <vesta/domain.h>
#include <vesta/errno.h>
#include <vesta/flushtlb.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/spinlock.h>
#include <vesta/setup.h>
#include <vesta/x86.h>

struct frame *frame_table;
uint64_t max_mfn;
uint64_t total_ram_pages;

static struct buddy heap;
static spinlock_t heap_lock = SPINLOCK_INIT;
static paddr_t tramp_pa;
static uint64_t boot_pages_used;

void pagetable_set_allocator(void *(*fn)(void));

/* ---- boot allocator: a list of free physical ranges ---- */

#define MAX_RANGES (BOOT_MAX_MEM + 2 * BOOT_MAX_MODS + 8)
static struct range {
    paddr_t start, end;
} ranges[MAX_RANGES];
static unsigned int nr_ranges;
static bool boot_alloc_closed;

static void range_add(paddr_t s, paddr_t e)
{
    s = ALIGN_UP(s, PAGE_SIZE);
    e = ALIGN_DOWN(e, PAGE_SIZE);
    if (s < e && nr_ranges < MAX_RANGES)
        ranges[nr_ranges++] = (struct range){s, e};
}

static void range_reserve(paddr_t s, paddr_t e)
{
    s = ALIGN_DOWN(s, PAGE_SIZE);
    e = ALIGN_UP(e, PAGE_SIZE);
    for (unsigned int i = 0; i < nr_ranges; i++) {
        struct range *r = &ranges[i];
        if (e <= r->start || s >= r->end)
            continue;
        if (s > r->start && e < r->end) { /* a hole in the middle: split */
            paddr_t tail = r->end;
            r->end = s;
            range_add(e, tail);
        } else if (s <= r->start && e >= r->end) {
            r->start = r->end = 0;
        } else if (s <= r->start) {
            r->start = e;
        } else {
            r->end = s;
        }
    }
}

static paddr_t boot_alloc(size_t size, paddr_t align, paddr_t limit)
{
    BUG_ON(boot_alloc_closed);
    size = ALIGN_UP(size, PAGE_SIZE);
    paddr_t best = 0;
    int best_i = -1;
    for (unsigned int i = 0; i < nr_ranges; i++) {
        paddr_t top = MIN(ranges[i].end, limit);
        if (top < size || ranges[i].start >= top)
            continue;
        paddr_t at = ALIGN_DOWN(top - size, align);
        if (at >= ranges[i].start && at + size <= top && at > best) {
            best = at;
            best_i = (int)i;
        }
    }
    if (best_i < 0)
        panic("boot allocator: no %zu bytes below %#lx", size, limit);
    range_reserve(best, best + size);
    boot_pages_used += size >> PAGE_SHIFT;
    return best;
}

static void *boot_alloc_pt_page(void) { return maddr_to_virt(boot_alloc(PAGE_SIZE, PAGE_SIZE, 1UL << 32)); }

static void *heap_alloc_pt_page(void) { return alloc_hv_pages(0); }

paddr_t trampoline_page(void) { return tramp_pa; }

static const char *mem_type_name(uint32_t t)
{
    switch (t) {
    case BOOT_MEM_RAM: return "RAM";
    case BOOT_MEM_RESERVED: return "reserved";
    case BOOT_MEM_ACPI: return "ACPI data";
    case BOOT_MEM_NVS: return "ACPI NVS";
    case BOOT_MEM_BAD: return "unusable";
    default: return "unknown";
    }
}

static void build_page_tables(void)
{
    extern char _image_start[], _etext[], _erodata[], _end[];
    pagetable_set_allocator(boot_alloc_pt_page);
    idle_pg_table = boot_alloc_pt_page();
    memset(idle_pg_table, 0, PAGE_SIZE);

    /* The image, W^X: text read-execute, rodata read-only, data and bss read-write no-execute. */
    unsigned long text = (unsigned long)_image_start, ro = (unsigned long)_etext, rw = (unsigned long)_erodata;
    unsigned long end = ALIGN_UP((unsigned long)_end, PAGE_SIZE);
    map_pages(text, virt_to_maddr(_image_start), (ro - text) >> PAGE_SHIFT, PAGE_HV_RX);
    map_pages(ro, virt_to_maddr((void *)ro), (rw - ro) >> PAGE_SHIFT, PAGE_HV_RO);
    map_pages(rw, virt_to_maddr((void *)rw), (end - rw) >> PAGE_SHIFT, PAGE_HV_RW);

    /* Direct map: the low megabyte (BIOS data, EBDA, where firmware tables hide) and every range the firmware
     * describes as memory. Device memory is mapped later, uncached, by ioremap(). */
    map_pages(DIRECTMAP_VIRT_START, 0, 256, PAGE_HV_RW);
    for (unsigned int i = 0; i < boot_info.nr_mem; i++) {
        const struct boot_mem_region *m = &boot_info.mem[i];
        if (m->type != BOOT_MEM_RAM && m->type != BOOT_MEM_ACPI && m->type != BOOT_MEM_NVS)
            continue;
        paddr_t s = ALIGN_DOWN(m->base, PAGE_SIZE), e = ALIGN_UP(m->base + m->len, PAGE_SIZE);
        if (e > DIRECTMAP_VIRT_END - DIRECTMAP_VIRT_START)
            e = DIRECTMAP_VIRT_END - DIRECTMAP_VIRT_START;
        if (s < e)
            map_pages(DIRECTMAP_VIRT_START + s, s, (e - s) >> PAGE_SHIFT, PAGE_HV_RW);
    }

    /* Application processors enable paging while running from the trampoline page, so it is mapped 1:1. */
    map_pages(tramp_pa, tramp_pa, 1, PAGE_HV_RX & ~_PAGE_GLOBAL);

    write_cr3(virt_to_maddr(idle_pg_table));
}

void memory_init(void)
{
    extern char _image_start[], _end[];

    printk("Physical memory map:");
    paddr_t ram_top = 0;
    for (unsigned int i = 0; i < boot_info.nr_mem; i++) {
        const struct boot_mem_region *m = &boot_info.mem[i];
        printk("  [%016lx, %016lx) %s", m->base, m->base + m->len, mem_type_name(m->type));
        if (m->type != BOOT_MEM_RAM)
            continue;
        total_ram_pages += m->len >> PAGE_SHIFT;
        ram_top = MAX(ram_top, m->base + m->len);
        range_add(m->base, m->base + m->len);
    }
    if (!total_ram_pages)
        panic("the firmware reported no RAM");
    max_mfn = ALIGN_UP(ram_top, PAGE_SIZE) >> PAGE_SHIFT;

    /* AP start-up needs one page below 1 MiB; the rest of the low megabyte is left to the firmware. */
    tramp_pa = boot_alloc(PAGE_SIZE, PAGE_SIZE, 0x9f000);
    range_reserve(0, 1UL << 20);
    range_reserve(virt_to_maddr(_image_start), virt_to_maddr(_end));
    for (unsigned int i = 0; i < boot_info.nr_mods; i++)
        range_reserve(boot_info.mods[i].start, boot_info.mods[i].end);

    build_page_tables();

    size_t ft_bytes = ALIGN_UP(max_mfn * sizeof(struct frame), PAGE_SIZE);
    frame_table = maddr_to_virt(boot_alloc(ft_bytes, 1UL << 21, ~0UL));

    boot_alloc_closed = true;
    buddy_init(&heap, frame_table, max_mfn); /* every frame starts reserved; free RAM is added below */
    uint64_t free = 0;
    for (unsigned int i = 0; i < nr_ranges; i++)
        if (ranges[i].start < ranges[i].end)
            free += buddy_add_range(&heap, ranges[i].start >> PAGE_SHIFT,
                                    (ranges[i].end - ranges[i].start) >> PAGE_SHIFT);
    pagetable_set_allocator(heap_alloc_pt_page);

    printk("Frame table: %lu frames, %lu KiB at %p", max_mfn, ft_bytes >> 10, frame_table);
    printk("Memory: %lu KiB RAM in the firmware map, %lu KiB free for domains", total_ram_pages << 2, free << 2);
}

/* Frames come back with count_info and type_info 0. A frame freed while some CPU may still cache a guest
 * translation of it (a guest's unflushed mapping, see arch/x86/flushtlb.c) is only handed out once every such CPU
 * has flushed. With `zero`, the frames hold zeros: only those the scrubber has not already cleared are cleared
 * here. */
/* Frames leaving the free lists (for an owner or for the scrubber): every CPU that has not flushed since the
 * newest free among them does so first. The stamps are left for the caller. */
static void flush_before_reuse(const struct frame *f, unsigned int order)
{
    uint64_t freed_at = 0;
    for (unsigned long i = 0; i < (1UL << order); i++)
        freed_at = MAX(freed_at, f[i].type_info);
    flush_tlb_for_reuse(freed_at);
}

/* Zeroes the frames the scrubber has not reached (count_info as buddy_alloc left it: 0 or FRAME_C_ZEROED). */
static void zero_unscrubbed(const struct frame *f, unsigned int order)
{
    for (unsigned long i = 0; i < (1UL << order); i++)
        if (!(f[i].count_info & FRAME_C_ZEROED))
            memset(mfn_to_virt(frame_to_mfn(f + i)), 0, PAGE_SIZE);
}

/* ---- Claims (XENMEM_claim_pages): memory promised to a domain the toolstack is building, before it is
 * allocated, so that creating several domains at once cannot leave one of them half built. Claimed memory is
 * unavailable to any allocation but the claiming domain's, which consumes its claim as it allocates (Xen's
 * rule). outstanding_claims and every domain's outstanding_pages change under heap_lock. */
static uint64_t outstanding_claims;

uint64_t memory_outstanding_claims(void) { return __atomic_load_n(&outstanding_claims, __ATOMIC_RELAXED); }

/* Sets d's claim to cover `pages` in all (0 cancels it): 0, -EINVAL (a claim already stands, or pages is not
 * above what d has or is above its limit), -ENOMEM (the host cannot cover it). */
int memory_set_claim(struct domain *d, uint64_t pages)
{
    unsigned long f = spin_lock_irqsave(&heap_lock);
    int rc = 0;
    if (!pages) {
        outstanding_claims -= d->outstanding_pages;
        d->outstanding_pages = 0;
    } else if (d->outstanding_pages || pages <= d->tot_pages || pages > d->max_pages) {
        rc = -EINVAL;
    } else if (pages - d->tot_pages > buddy_free_frames(&heap) - outstanding_claims) {
        rc = -ENOMEM;
    } else {
        d->outstanding_pages = pages - d->tot_pages;
        outstanding_claims += d->outstanding_pages;
    }
    spin_unlock_irqrestore(&heap_lock, f);
    return rc;
}

/* Frames for `claimant` (NULL: the hypervisor, or a domain without a claim to use). */
static struct frame *alloc_frames(struct domain *claimant, unsigned int order, paddr_t limit, bool zero)
{
    uint64_t n = 1UL << order;
    unsigned long f = spin_lock_irqsave(&heap_lock);
    int64_t mfn = -1;
    if (outstanding_claims + n <= buddy_free_frames(&heap) || (claimant && claimant->outstanding_pages >= n))
        mfn = limit ? buddy_alloc_below(&heap, order, limit >> PAGE_SHIFT) : buddy_alloc(&heap, order);
    if (mfn >= 0 && claimant && claimant->outstanding_pages) {
        uint64_t used = MIN(n, claimant->outstanding_pages);
        claimant->outstanding_pages -= used;
        outstanding_claims -= used;
    }
    spin_unlock_irqrestore(&heap_lock, f);
    if (mfn < 0)
        return NULL;
    struct frame *frames = mfn_to_frame((mfn_t)mfn);
    flush_before_reuse(frames, order);
    if (zero)
        zero_unscrubbed(frames, order);
    for (unsigned long i = 0; i < (1UL << order); i++)
        frames[i].type_info = frames[i].count_info = 0;
    return frames;
}

struct frame *alloc_pages_below(unsigned int order, paddr_t limit) { return alloc_frames(NULL, order, limit, false); }

struct frame *alloc_zeroed_pages_below(unsigned int order, paddr_t limit)
{
    return alloc_frames(NULL, order, limit, true);
}

struct frame *alloc_pages(unsigned int order) { return alloc_pages_below(order, 0); }

struct frame *alloc_domain_frames(struct domain *d, unsigned int order, paddr_t limit, bool zero)
{
    return alloc_frames(d, order, limit, zero);
}

/* A RAM frame reserved at boot (a boot module) joins the heap once its contents are no longer needed. */
void free_boot_frame(mfn_t mfn)
{
    struct frame *f = mfn_to_frame(mfn);
    if (!mfn_valid(mfn) || !(f->count_info & FRAME_C_RESERVED) || frame_ref_count(f))
        return;
    f->count_info = 0;
    f->owner = FRAME_OWNER_NONE;
    free_pages(f, 0);
}

/* Frees frames whose contents are unknown (zeroed ones are the scrubber's to free). */
void free_pages(struct frame *f, unsigned int order)
{
    uint64_t now = tlb_stamp();
    for (unsigned long i = 0; i < (1UL << order); i++) {
        f[i].type_info = now; /* the free's TLB-clock stamp, read back at allocation (buddy.h) */
        f[i].count_info &= ~FRAME_C_ZEROED;
    }
    unsigned long fl = spin_lock_irqsave(&heap_lock);
    int rc = buddy_free(&heap, frame_to_mfn(f), order);
    spin_unlock_irqrestore(&heap_lock, fl);
    if (rc)
        panic("freeing frame %#lx order %u: %d (double free or bad range)", frame_to_mfn(f), order, rc);
}

void *alloc_hv_pages(unsigned int order)
{
    struct frame *f = alloc_zeroed_pages_below(order, 0);
    if (!f)
        return NULL;
    for (unsigned long i = 0; i < (1UL << order); i++)
        f[i].owner = FRAME_OWNER_XEN;
    return mfn_to_virt(frame_to_mfn(f));
}

/* ---- Scrubbing free memory in idle time (Xen's idle scrub): free frames may hold a previous owner's data
 * (or whatever firmware left at boot); zeroing them while CPUs have nothing else to do keeps that work off
 * allocations, which then only clear frames the scrubber has not reached. */

#define SCRUB_ORDER 6 /* frames per batch: short enough to keep an idle CPU responsive */

bool scrub_free_pages(void)
{
    unsigned int order;
    unsigned long fl = spin_lock_irqsave(&heap_lock);
    int64_t mfn = buddy_alloc_unzeroed(&heap, SCRUB_ORDER, &order);
    spin_unlock_irqrestore(&heap_lock, fl);
    if (mfn < 0)
        return false;
    struct frame *f = mfn_to_frame((mfn_t)mfn);
    /* A guest may still write through a stale translation: only after a flush does zero stay zero. The stamps
     * stay, and are older than that flush for whoever allocates the frames next. */
    flush_before_reuse(f, order);
    zero_unscrubbed(f, order);
    for (unsigned long i = 0; i < (1UL << order); i++)
        f[i].count_info = FRAME_C_ZEROED;
    fl = spin_lock_irqsave(&heap_lock);
    int rc = buddy_free(&heap, (uint64_t)mfn, order);
    spin_unlock_irqrestore(&heap_lock, fl);
    if (rc)
        panic("scrubber: freeing frame %#lx order %u: %d", (mfn_t)mfn, order, rc);
    return true;
}

void free_hv_pages(void *va, unsigned int order)
{
    struct frame *f = mfn_to_frame(virt_to_mfn(va));
    for (unsigned long i = 0; i < (1UL << order); i++)
        f[i].owner = FRAME_OWNER_NONE;
    free_pages(f, order);
}

uint64_t free_page_count(void) { return buddy_free_frames(&heap); }
uint64_t scrub_pending_count(void) { return buddy_dirty_frames(&heap); }

void memory_dump(void)
{
    uint64_t zeroed = 0;
    for (mfn_t m = 0; m < max_mfn; m++)
        zeroed += (frame_table[m].count_info & (FRAME_C_FREE | FRAME_C_ZEROED)) == (FRAME_C_FREE | FRAME_C_ZEROED);
    printk("Memory: %lu KiB RAM, %lu KiB free (%lu KiB of it scrubbed), %lu KiB used at boot by the hypervisor",
           total_ram_pages << 2, buddy_free_frames(&heap) << 2, zeroed << 2, boot_pages_used << 2);
    printk("Frame table: %lu frames (%lu KiB)", max_mfn, (max_mfn * sizeof(struct frame)) >> 10);
    for (unsigned int o = 0; o <= BUDDY_MAX_ORDER; o++) {
        uint64_t n = buddy_free_blocks(&heap, o);
        if (n)
            printk("  order %2u (%7lu KiB blocks): %lu free", o, (4UL << o), n);
    }
    heap_dump();
}
