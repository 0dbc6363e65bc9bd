/* The rules for a single PV page-table entry, as pure functions (unit-tested on the host).
 *
 * Which flags a guest may use at each level, how Vesta adjusts an entry before installing it (guest kernel and
 * user both run in ring 3), when a change needs no new validation, and how device memory is made uncached.
 * Ownership and page types are not here: they need the frame table (arch/x86/pv/mm.c). */
#ifndef VESTA_PTE_RULES_H
#define VESTA_PTE_RULES_H

#include "vesta/types.h"

#define PTE_P (1UL << 0)
#define PTE_RW (1UL << 1)
#define PTE_US (1UL << 2)
#define PTE_PWT (1UL << 3)
#define PTE_PCD (1UL << 4)
#define PTE_A (1UL << 5)
#define PTE_D (1UL << 6)
#define PTE_PSE (1UL << 7)
#define PTE_G (1UL << 8)
#define PTE_NX (1UL << 63)
#define PTE_FRAME 0x000ffffffffff000UL

/* Xen's base rule: P, RW, US, A, D, the available bits and NX; L1 entries may also be global, and cache
 * attributes need I/O privilege. (Xen's debug builds reserve bit 62 for grant mappings; the release build guests
 * run on leaves it to the guest like the other high available bits.) PSE is refused at every level: PV guests
 * get no superpages. */
#define PTE_AVAIL (7UL << 9)
#define PTE_AVAIL_HIGH (0x7ffUL << 52)
#define PTE_PAT PTE_PSE /* bit 7 of an L1 entry */
#define PTE_CACHE (PTE_PWT | PTE_PCD | PTE_PAT)
#define PTE_BASE_ALLOWED (PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D | PTE_AVAIL | PTE_AVAIL_HIGH | PTE_NX | PTE_FRAME)

/* Flags a guest may change in a present entry without the entry being validated again (Xen's fast path):
 * nothing that changes the frame, its writability or its caching. */
#define PTE_FASTPATH_FLAGS (PTE_NX | PTE_AVAIL_HIGH | PTE_AVAIL | PTE_G | PTE_D | PTE_A | PTE_US)

/* Marks an L1 entry the guest kernel made without the user bit (Xen's _PAGE_GUEST_KERNEL, bit 52). */
#define PTE_GUEST_KERNEL (1UL << 52)

static inline uint64_t pte_allowed(unsigned int level, bool io_privileged)
{
    if (level != 1)
        return PTE_BASE_ALLOWED;
    return PTE_BASE_ALLOWED | PTE_G | (io_privileged ? PTE_CACHE : 0);
}

/* Every present entry gets the user bit; an L1 entry that lacked it is marked as the guest kernel's and is never
 * global (a global kernel translation would outlive the switch to the user page table); L4 entries always get
 * the accessed bit (the guest cannot observe it being set lazily). Guests see the adjusted entries. */
static inline uint64_t pte_adjust(uint64_t e, unsigned int level)
{
    if (!(e & PTE_P))
        return e;
    if (level == 4)
        return e | PTE_US | PTE_A;
    if (level > 1)
        return e | PTE_US;
    if (!(e & PTE_US))
        e |= PTE_US | PTE_GUEST_KERNEL;
    if (e & PTE_GUEST_KERNEL)
        e &= ~PTE_G;
    return e;
}

/* A present entry replacing a present one that differs only in fast-path flags keeps its references. */
static inline bool pte_fastpath(uint64_t old, uint64_t new)
{
    return (old & PTE_P) && (new & PTE_P) && ((old ^ new) & ~PTE_FASTPATH_FLAGS) == 0;
}

/* Device memory is mapped uncached unless the guest chose a caching mode: write-back becomes UC, write-through
 * becomes UC, write-protect becomes UC (Xen's cache-attribute flip for MMIO). */
static inline uint64_t pte_mmio_cache_flip(uint64_t e)
{
    switch (e & PTE_CACHE) {
    case 0:
        return e | PTE_PWT | PTE_PCD;
    case PTE_PWT:
        return e | PTE_PCD;
    case PTE_PWT | PTE_PAT:
        return (e | PTE_PCD) & ~PTE_PAT;
    default:
        return e;
    }
}

/* L4 slots 256-271 belong to the hypervisor in every guest L4. */
static inline bool pte_guest_l4_slot(unsigned int i) { return i < 256 || i > 271; }

#endif
