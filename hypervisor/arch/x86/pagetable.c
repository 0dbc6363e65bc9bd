/* The hypervisor's own page tables.
 *
 * One mechanism maps everything: map_pages() walks (and grows) the four-level tables and uses the largest page
 * size that the alignment and the remaining length allow, splitting an existing superpage when a smaller
 * mapping must be placed inside it. Page-table pages come from the boot allocator until the page allocator is
 * up, then from the page allocator. */
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/spinlock.h>
#include <vesta/setup.h>
#include <vesta/x86.h>

uint64_t *idle_pg_table;
static spinlock_t pt_lock = SPINLOCK_INIT;
static void *(*pt_alloc_fn)(void);

void pagetable_set_allocator(void *(*fn)(void));

void pagetable_set_allocator(void *(*fn)(void)) { pt_alloc_fn = fn; }

static uint64_t *pt_alloc(void)
{
    void *p = pt_alloc_fn ? pt_alloc_fn() : NULL;
    if (!p)
        panic("out of memory for hypervisor page tables");
    memset(p, 0, PAGE_SIZE);
    return p;
}

/* Intermediate entries allow user access; the leaves decide. That lets guests read the one user-visible
 * hypervisor mapping (the read-only machine-to-phys table) through tables shared with the hypervisor's own. */
#define TABLE_FLAGS (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY)

/* Replace the superpage in *entry (mapping `span` bytes) by a table of 512 entries of the next size down. */
static void split_superpage(uint64_t *entry, unsigned long span)
{
    uint64_t old = *entry;
    uint64_t *t = pt_alloc();
    unsigned long sub = span / 512;
    uint64_t flags = old & ~PTE_ADDR_MASK & ~(1UL << 12); /* bit 12 is PAT in a superpage, address in a PTE */
    uint64_t base = old & PTE_ADDR_MASK & ~(span - 1);
    if (sub == PAGE_SIZE)
        flags &= ~_PAGE_PSE;
    for (unsigned int i = 0; i < 512; i++)
        t[i] = (base + i * sub) | flags;
    *entry = virt_to_maddr(t) | TABLE_FLAGS;
}

static uint64_t *next_table(uint64_t *entry, unsigned long span)
{
    if (!(*entry & _PAGE_PRESENT))
        *entry = virt_to_maddr(pt_alloc()) | TABLE_FLAGS;
    else if (*entry & _PAGE_PSE)
        split_superpage(entry, span);
    return maddr_to_virt(*entry & PTE_ADDR_MASK);
}

static unsigned int idx(unsigned long va, unsigned int level) { return (va >> (12 + 9 * (level - 1))) & 511; }

static void map_one(unsigned long va, paddr_t pa, unsigned long size, uint64_t flags)
{
    uint64_t *t = idle_pg_table;
    for (unsigned int level = 4; level > 1; level--) {
        unsigned long span = 1UL << (12 + 9 * (level - 1));
        uint64_t *e = &t[idx(va, level)];
        if (span == size) {
            *e = pa | flags | _PAGE_PSE;
            return;
        }
        t = next_table(e, span);
    }
    t[idx(va, 1)] = pa | flags;
}

static bool slot_free_or_leaf(unsigned long va, unsigned long size)
{
    uint64_t *t = idle_pg_table;
    for (unsigned int level = 4; level > 1; level--) {
        unsigned long span = 1UL << (12 + 9 * (level - 1));
        uint64_t e = t[idx(va, level)];
        if (span == size)
            return !(e & _PAGE_PRESENT) || (e & _PAGE_PSE);
        if (!(e & _PAGE_PRESENT) || (e & _PAGE_PSE))
            return true;
        t = maddr_to_virt(e & PTE_ADDR_MASK);
    }
    return true;
}

int map_pages(unsigned long va, paddr_t pa, unsigned long nr, uint64_t flags)
{
    unsigned long end = va + nr * PAGE_SIZE;
    unsigned long f = spin_lock_irqsave(&pt_lock);
    while (va < end) {
        unsigned long size = PAGE_SIZE;
        if (cpu_has_pdpe1gb && !((va | pa) & ((1UL << 30) - 1)) && end - va >= (1UL << 30) &&
            slot_free_or_leaf(va, 1UL << 30))
            size = 1UL << 30;
        else if (!((va | pa) & ((1UL << 21) - 1)) && end - va >= (1UL << 21) && slot_free_or_leaf(va, 1UL << 21))
            size = 1UL << 21;
        map_one(va, pa, size, flags);
        if (read_cr3() == virt_to_maddr(idle_pg_table))
            invlpg((void *)va);
        va += size;
        pa += size;
    }
    spin_unlock_irqrestore(&pt_lock, f);
    return 0;
}

void unmap_page(unsigned long va)
{
    unsigned long f = spin_lock_irqsave(&pt_lock);
    map_one(va, 0, PAGE_SIZE, 0);
    spin_unlock_irqrestore(&pt_lock, f);
    /* Only for pages no other CPU has touched yet (fresh stack blocks, zeroed by this CPU): a local flush is
     * enough. Unmapping shared pages would need a flush on every CPU. */
    invlpg((void *)va);
}

void guard_stack(void *stack_block) { unmap_page((unsigned long)stack_block + STACK_GUARD_PAGE * PAGE_SIZE); }

/* Is va mapped in the hypervisor's tables? (For on-demand mappings of firmware and MMIO.) */
static bool va_mapped(unsigned long va)
{
    uint64_t *t = idle_pg_table;
    for (unsigned int level = 4; level >= 1; level--) {
        uint64_t e = t[idx(va, level)];
        if (!(e & _PAGE_PRESENT))
            return false;
        if (level == 1 || (e & _PAGE_PSE))
            return true;
        t = maddr_to_virt(e & PTE_ADDR_MASK);
    }
    return true;
}

/* Device memory and firmware tables outside the RAM map live at their direct-map address too, mapped page by
 * page on first use: uncached for MMIO, cached read-only for tables. */
static void *map_on_demand(paddr_t pa, size_t len, uint64_t flags)
{
    paddr_t first = ALIGN_DOWN(pa, PAGE_SIZE), last = ALIGN_UP(pa + len, PAGE_SIZE);
    for (paddr_t p = first; p < last; p += PAGE_SIZE)
        if (!va_mapped(DIRECTMAP_VIRT_START + p))
            map_pages(DIRECTMAP_VIRT_START + p, p, 1, flags);
    return maddr_to_virt(pa);
}

void *ioremap(paddr_t pa, size_t len) { return map_on_demand(pa, len, PAGE_HV_UC); }

const void *map_firmware(paddr_t pa, size_t len) { return map_on_demand(pa, len, PAGE_HV_RO); }
