/* Machine memory: the frame table, the page allocator, the hypervisor heap and the hypervisor's page tables. */
#ifndef VESTA_MM_H
#define VESTA_MM_H

#include <vesta/frame.h>
#include <vesta/layout.h>
#include <vesta/types.h>

/* Page-table entry bits. */
#define _PAGE_PRESENT (1UL << 0)
#define _PAGE_RW (1UL << 1)
#define _PAGE_USER (1UL << 2)
#define _PAGE_PWT (1UL << 3)
#define _PAGE_PCD (1UL << 4)
#define _PAGE_ACCESSED (1UL << 5)
#define _PAGE_DIRTY (1UL << 6)
#define _PAGE_PSE (1UL << 7)
#define _PAGE_GLOBAL (1UL << 8)
#define _PAGE_NX (1UL << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000UL

#define PAGE_HV_RW (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_GLOBAL | _PAGE_NX)
#define PAGE_HV_RO (_PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_GLOBAL | _PAGE_NX)
#define PAGE_HV_RX (_PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_GLOBAL)
#define PAGE_HV_UC (PAGE_HV_RW | _PAGE_PCD | _PAGE_PWT)

extern struct frame *frame_table;
extern uint64_t max_mfn;         /* frames tracked by the frame table: [0, max_mfn) */
extern uint64_t total_ram_pages; /* RAM in the firmware map */
extern uint64_t *idle_pg_table;  /* the hypervisor's own L4 */

static inline struct frame *mfn_to_frame(mfn_t mfn) { return &frame_table[mfn]; }
static inline mfn_t frame_to_mfn(const struct frame *f) { return (mfn_t)(f - frame_table); }
static inline bool mfn_valid(mfn_t mfn) { return mfn < max_mfn; }

void memory_init(void);                    /* boot: memory map -> page tables -> frame table -> allocator */
paddr_t trampoline_page(void);             /* a page below 1 MiB kept for AP start-up */

/* Page allocator (buddy over the frame table). Returns the first frame or NULL. */
struct frame *alloc_pages(unsigned int order);
struct frame *alloc_pages_below(unsigned int order, paddr_t limit);
struct frame *alloc_zeroed_pages_below(unsigned int order, paddr_t limit); /* limit 0: anywhere */
void free_pages(struct frame *f, unsigned int order);
/* For a domain: its claim (XENMEM_claim_pages) lets it use claimed memory, and is consumed (memory.c). */
struct domain;
struct frame *alloc_domain_frames(struct domain *d, unsigned int order, paddr_t limit, bool zero);
int memory_set_claim(struct domain *d, uint64_t pages);
uint64_t memory_outstanding_claims(void);
bool scrub_free_pages(void); /* idle: zeroes one batch of free memory; false when all of it is known zero */
void free_boot_frame(mfn_t mfn);          /* a boot module's frame, once consumed */
void *alloc_hv_pages(unsigned int order);  /* mapped through the direct map, zeroed */
void free_hv_pages(void *va, unsigned int order);
uint64_t free_page_count(void);
uint64_t scrub_pending_count(void); /* free frames the idle scrubber has yet to clear */
void memory_dump(void);

/* Hypervisor heap for small objects. */
void *xmalloc(size_t size);
void *xzalloc(size_t size);
void xfree(void *p);
void heap_dump(void);

/* Hypervisor mappings. */
int map_pages(unsigned long va, paddr_t pa, unsigned long nr, uint64_t flags);
void unmap_page(unsigned long va);                  /* make one 4 KiB page not-present (splits superpages) */
void guard_stack(void *stack_block);                /* unmap a CPU stack block's guard page */
void *ioremap(paddr_t pa, size_t len);               /* uncached MMIO */
const void *map_firmware(paddr_t pa, size_t len);  /* firmware tables, read-only, cached */

#endif
