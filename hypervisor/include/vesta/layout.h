/* The hypervisor's virtual address layout.
 *
 * x86-64 PV guests own the lower half and the upper half from 0xffff880000000000 upwards; the sixteen L4 slots
 * 256..271 (0xffff800000000000 - 0xffff87ffffffffff) belong to the hypervisor and appear in every guest page
 * table. Vesta arranges that reserved hole like this:
 *
 *   slot 256      0xffff800000000000  read-only machine-to-phys table, visible to guests (ABI-fixed address)
 *   slot 260      0xffff820000000000  per-domain mappings (guest GDT/LDT frames, ...), switched per vCPU
 *   slot 261      0xffff828000000000  hypervisor private: vmap/ioremap area, then the image at VESTA_VIRT_START
 *   slots 262-271 0xffff830000000000  direct map of all machine memory (5 TiB)
 *
 * The image is linked at VESTA_VIRT_START + its physical load address, so inside the image virt = phys +
 * VESTA_VIRT_START. The image lies outside the top 2 GiB (which belong to guests), so code is compiled
 * position-independent (-fpie) and addresses itself RIP-relative. */
#ifndef VESTA_LAYOUT_H
#define VESTA_LAYOUT_H

#ifdef __ASSEMBLER__
#define _UL(x) x
#else
#define _UL(x) x##UL
#endif

#define RO_MPT_VIRT_START _UL(0xffff800000000000)
#define PERDOMAIN_VIRT_START _UL(0xffff820000000000)
#define VMAP_VIRT_START _UL(0xffff828000000000)
#define VMAP_VIRT_END _UL(0xffff82d000000000)
#define VESTA_VIRT_START _UL(0xffff82d080000000)
#define VESTA_PHYS_BASE _UL(0x200000)
#define DIRECTMAP_VIRT_START _UL(0xffff830000000000)
#define DIRECTMAP_VIRT_END _UL(0xffff880000000000)
#define HYPERVISOR_SLOT_FIRST 256
#define HYPERVISOR_SLOT_LAST 271

/* Stacks: each CPU owns one STACK_SIZE-aligned block. The first pages are the IST stacks for double fault, NMI
 * and machine check, then an unmapped guard page, then the ordinary hypervisor stack with struct cpu_info at its
 * very top, so any code finds its CPU from %rsp alone (no reliance on GS, which belongs to guests). A stack
 * overflow hits the guard page; the page fault that follows cannot be delivered on the same stack and becomes a
 * double fault, which runs on its own IST stack and is reported. */
#define STACK_ORDER 3
#define STACK_SIZE (4096UL << STACK_ORDER)
#define IST_DF_PAGE 0
#define IST_NMI_PAGE 1
#define IST_MCE_PAGE 2
#define STACK_GUARD_PAGE 3

/* Selectors: entries from 0xe000 up (GDT entry 7168) are the hypervisor's, the rest belong to PV guests. */
#define FIRST_RESERVED_GDT_ENTRY 7168
#define HYPERVISOR_CS 0xe008
#define HYPERVISOR_DS 0xe010
#define GUEST_CS32 0xe023
#define GUEST_DS32 0xe02b
#define GUEST_CS64 0xe033
#define TSS_SELECTOR 0xe040

/* Per-CPU GDT/LDT windows in the per-domain slot: 14 guest GDT pages, the hypervisor's GDT page (selector 0xe000
 * is its first entry), one spare, then 16 LDT pages. */
#define GUEST_GDT_PAGES 14
#define GDT_LDT_WINDOW_PAGES 32
#define GDT_LDT_WINDOW_SIZE (GDT_LDT_WINDOW_PAGES * 4096UL)
#define LDT_WINDOW_OFFSET (16 * 4096UL)
#define LDT_SELECTOR 0xe050

#ifndef __ASSEMBLER__
#include <vesta/types.h>

static inline void *maddr_to_virt(paddr_t pa) { return (void *)(DIRECTMAP_VIRT_START + pa); }
static inline paddr_t virt_to_maddr(const void *va)
{
    unsigned long v = (unsigned long)va;
    if (v >= VESTA_VIRT_START && v < DIRECTMAP_VIRT_START)
        return v - VESTA_VIRT_START;
    return v - DIRECTMAP_VIRT_START;
}
static inline void *mfn_to_virt(mfn_t mfn) { return maddr_to_virt(mfn << PAGE_SHIFT); }
static inline mfn_t virt_to_mfn(const void *va) { return virt_to_maddr(va) >> PAGE_SHIFT; }
#endif

#endif
