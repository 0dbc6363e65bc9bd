/* Guest descriptor tables: set_gdt, update_descriptor, the LDT, and the per-CPU GDT/LDT window.
 *
 * Each CPU's GDTR points at its window (cpu.c): pages 0-13 show the running vCPU's GDT frames (the shared zero
 * page where it has none), page 14 holds the hypervisor's own descriptors (selector 0xe000 on), and from
 * LDT_WINDOW_OFFSET come the running vCPU's LDT pages. A guest frame shown there must have the SEG_DESC page type,
 * which it only gets after every descriptor in it passed check_descriptor(), and which it keeps while it is shown:
 * no writable mapping of it can exist meanwhile, so what the CPU reads through the window stays checked.
 *
 * GDT frames are mapped when set_gdt installs them and on every switch to the vCPU. LDT pages are mapped lazily,
 * as Xen does: the CPU's first descriptor read in an LDT page faults in the window, and pv_map_ldt_page() looks the
 * page up in the guest's kernel page tables, types it and maps it. The mapped LDT pages are remembered per vCPU
 * (ldt_shadow) and dropped when the LDT or the kernel page table changes. */
#include <vesta/errno.h>
#include <vesta/guest_access.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/pv.h>
#include <vesta/setup.h>
#include <vesta/x86.h>

/* High word of a segment descriptor. */
#define SEG_TYPE (15u << 8)
#define SEG_S (1u << 12)     /* code/data (set) or system (clear) */
#define SEG_DPL (3u << 13)
#define SEG_P (1u << 15)
#define SEG_TYPE_CALLGATE64 (12u << 8)
#define SYS_DESC_LDT 2

#define GDT_LIMIT ((GUEST_GDT_PAGES + 1) * PAGE_SIZE - 1) /* guest pages and the hypervisor's page, as Xen */
#define LDT_WINDOW_PAGES 16

/* ---- The window's page-table entries. */

static uint64_t *window_l1_cache[MAX_CPUS];

/* The L1 entries that map this CPU's window (32 consecutive entries: a window never crosses a 2 MiB boundary). */
static uint64_t *window_ptes(unsigned int cpu)
{
    if (window_l1_cache[cpu])
        return window_l1_cache[cpu];
    unsigned long va = gdt_window(cpu);
    uint64_t *t = idle_pg_table;
    for (unsigned int level = 4; level > 1; level--) {
        uint64_t e = t[(va >> (12 + 9 * (level - 1))) & 511];
        if (!(e & _PAGE_PRESENT) || (e & _PAGE_PSE))
            panic("CPU%u: GDT/LDT window at %#lx is not mapped with 4 KiB pages", cpu, va);
        t = maddr_to_virt(e & PTE_ADDR_MASK);
    }
    window_l1_cache[cpu] = &t[(va >> 12) & 511];
    return window_l1_cache[cpu];
}

static void set_window_pte(unsigned int cpu, unsigned int page, uint64_t pte)
{
    uint64_t *ptes = window_ptes(cpu);
    if (ptes[page] == pte)
        return;
    __atomic_store_n(&ptes[page], pte, __ATOMIC_RELEASE);
    invlpg((void *)(gdt_window(cpu) + page * PAGE_SIZE));
}

static uint64_t zero_pte(void) { return zero_page_maddr() | PAGE_HV_RO; }
static uint64_t frame_pte(mfn_t mfn) { return (mfn << PAGE_SHIFT) | PAGE_HV_RW; } /* the CPU sets accessed bits */

static bool running_here(const struct vcpu *v) { return this_cpu()->curr == v; }

/* ---- Descriptor checks (Xen's check_descriptor for a 64-bit PV guest). */

/* A call gate may only lead to a guest selector (GDT below the reserved area, or LDT) or the flat kernel CS. */
static bool gate_selector_ok(unsigned int sel)
{
    return (sel >> 3) < FIRST_RESERVED_GDT_ENTRY || sel == FLAT_KERNEL_CS || (sel & 4);
}

/* Checks one descriptor and applies the fix-ups Xen makes: code/data DPLs below 3 become 3 (the guest kernel runs
 * in ring 3), call gates get DPL 0 so that using one traps (the original DPL goes into the target selector's RPL)
 * and must target a guest or flat-kernel selector; every other system descriptor is refused. Returns false if the
 * descriptor is not allowed. */
static bool check_descriptor(uint64_t *desc)
{
    uint32_t a = (uint32_t)*desc, b = (uint32_t)(*desc >> 32);
    if (!(b & SEG_P))
        return true; /* not present: always faults */
    unsigned int dpl = (b >> 13) & 3;
    if (dpl < 3)
        dpl = 3;
    b = (b & ~SEG_DPL) | (dpl << 13);
    if (!(b & SEG_S)) {
        if ((b & SEG_TYPE) == 0)
            return true; /* type 0 is harmless; it is the upper half of a 64-bit gate (left as it was) */
        if ((b & SEG_TYPE) != SEG_TYPE_CALLGATE64)
            return false;
        unsigned int cs = a >> 16;
        if (!gate_selector_ok(cs))
            return false;
        b &= ~SEG_DPL;
        cs = (cs & ~3u) | dpl;
        a = (a & 0xffff) | (cs << 16);
        if (b & 0xff)
            return false; /* IST and reserved bits */
    }
    *desc = ((uint64_t)b << 32) | a;
    return true;
}

bool pv_check_descriptor(uint64_t *desc) { return check_descriptor(desc); }

/* Runs on a frame's change to SEG_DESC: the guest may have had it writable until now, so stale writable TLB
 * entries are purged first (those the TLB clock cannot rule out); then every descriptor is checked (fixed up in
 * place, as Xen does). */
static int validate_segdesc(struct frame *f, uint64_t type, void *ctx)
{
    (void)type;
    struct domain *d = ctx;
    /* Flushing another CPU needs interrupts (IPIs); the one caller that runs without them is a context switch
     * reloading an LDT selector, where refusing is safe. */
    if (!flush_dropped_writables(d, local_irq_enabled()))
        return -EAGAIN;
    uint64_t *descs = mfn_to_virt(frame_to_mfn(f));
    for (unsigned int i = 0; i < PAGE_SIZE / 8; i++) {
        uint64_t v = __atomic_load_n(&descs[i], __ATOMIC_RELAXED);
        if (!check_descriptor(&v))
            return -EINVAL;
        if (v != descs[i])
            __atomic_store_n(&descs[i], v, __ATOMIC_RELAXED);
    }
    return 0;
}

static int get_segdesc_type(struct domain *d, mfn_t mfn)
{
    return frame_get_type(mfn_to_frame(mfn), FRAME_T_SEG_DESC, validate_segdesc, d);
}

static void put_segdesc_type(mfn_t mfn) { frame_put_type(mfn_to_frame(mfn), NULL, NULL); }

/* A general and a SEG_DESC type reference on a frame d owns. */
static bool get_segdesc_page(struct domain *d, mfn_t mfn)
{
    if (!pv_get_page(d, mfn))
        return false;
    if (get_segdesc_type(d, mfn)) {
        pv_put_page(mfn);
        return false;
    }
    return true;
}

static void put_segdesc_page(mfn_t mfn)
{
    put_segdesc_type(mfn);
    pv_put_page(mfn);
}

/* ---- GDT. */

static unsigned int gdt_frames_for(unsigned int entries) { return (entries + 511) / 512; }

static void destroy_gdt(struct vcpu *v)
{
    bool here = running_here(v);
    for (unsigned int i = 0; i < GUEST_GDT_PAGES; i++) {
        if (v->pv.gdt_frames[i])
            put_segdesc_page(v->pv.gdt_frames[i]);
        v->pv.gdt_frames[i] = 0;
        if (here)
            set_window_pte(smp_processor_id(), i, zero_pte());
    }
    v->pv.gdt_ents = 0;
}

int pv_set_gdt(struct vcpu *v, const uint64_t *frames, unsigned int entries)
{
    struct domain *d = v->domain;
    if (entries > FIRST_RESERVED_GDT_ENTRY)
        return -EINVAL;
    unsigned int nr = gdt_frames_for(entries);
    for (unsigned int i = 0; i < nr; i++) {
        if (!mfn_valid(frames[i]) || !get_segdesc_page(d, frames[i])) {
            while (i-- > 0)
                put_segdesc_page(frames[i]);
            return -EINVAL;
        }
    }
    destroy_gdt(v);
    v->pv.gdt_ents = entries;
    for (unsigned int i = 0; i < nr; i++)
        v->pv.gdt_frames[i] = frames[i];
    if (running_here(v))
        for (unsigned int i = 0; i < nr; i++)
            set_window_pte(smp_processor_id(), i, frame_pte(frames[i]));
    return 0;
}

HC(do_set_gdt)
{
    unsigned long list = a1;
    unsigned int entries = (unsigned int)a2;
    uint64_t frames[GUEST_GDT_PAGES];
    if (entries > FIRST_RESERVED_GDT_ENTRY)
        return -EINVAL;
    if (copy_from_guest(frames, list, gdt_frames_for(entries) * sizeof(frames[0])))
        return -EFAULT;
    struct vcpu *v = current_vcpu();
    int rc = pv_set_gdt(v, frames, entries);
    if (!rc)
        flush_tlb_local();
    return rc;
}

HC(do_update_descriptor)
{
    struct domain *d = current_domain();
    uint64_t maddr = a1, desc = a2;
    if ((maddr & 7) || !check_descriptor(&desc))
        return -EINVAL;
    mfn_t mfn = maddr >> PAGE_SHIFT;
    if (!pv_get_page(d, mfn))
        return -EINVAL;
    struct frame *f = mfn_to_frame(mfn);
    /* A descriptor page in use takes the checked descriptor directly; any other page must be writable now. */
    bool segdesc = frame_type(f) == FRAME_T_SEG_DESC;
    int rc = segdesc ? get_segdesc_type(d, mfn) : frame_get_type(f, FRAME_T_WRITABLE, NULL, NULL);
    if (rc) {
        pv_put_page(mfn);
        return -EINVAL;
    }
    frame_set_count_flags(f, FRAME_C_DIRTY);
    __atomic_store_n((uint64_t *)((char *)mfn_to_virt(mfn) + (maddr & (PAGE_SIZE - 1))), desc, __ATOMIC_RELAXED);
    frame_put_type(f, NULL, NULL);
    pv_put_page(mfn);
    return 0;
}

/* ---- LDT. */

static unsigned long ldt_window(unsigned int cpu) { return gdt_window(cpu) + LDT_WINDOW_OFFSET; }

bool pv_ldt_window_offset(uint64_t addr, unsigned int *offset)
{
    unsigned long w = ldt_window(smp_processor_id());
    if (addr < w || addr >= w + LDT_WINDOW_PAGES * PAGE_SIZE)
        return false;
    *offset = (unsigned int)(addr - w);
    return true;
}

bool pv_destroy_ldt(struct vcpu *v)
{
    bool here = running_here(v), dropped = false;
    for (unsigned int i = 0; i < LDT_WINDOW_PAGES; i++) {
        mfn_t mfn = v->ldt_shadow[i];
        if (!mfn)
            continue;
        if (here)
            set_window_pte(smp_processor_id(), GUEST_GDT_PAGES + 2 + i, 0);
        v->ldt_shadow[i] = 0;
        put_segdesc_page(mfn);
        dropped = true;
    }
    return dropped;
}

static bool canonical(uint64_t va) { return (uint64_t)((int64_t)(va << 16) >> 16) == va; }

/* The guest's L1 entry for va in its kernel page tables (the LDT is always looked up there, even from user mode,
 * as Xen does), or 0. Guest tables never use superpages. */
static uint64_t guest_kernel_l1e(struct vcpu *v, uint64_t va)
{
    mfn_t t = v->pv.kernel_l4;
    if (!t || !canonical(va))
        return 0;
    for (unsigned int level = 4; level >= 1; level--) {
        if (!mfn_valid(t))
            return 0;
        uint64_t e = __atomic_load_n((uint64_t *)mfn_to_virt(t) + ((va >> (12 + 9 * (level - 1))) & 511),
                                     __ATOMIC_RELAXED);
        if (!(e & _PAGE_PRESENT))
            return 0;
        if (level == 1)
            return e;
        if (e & _PAGE_PSE)
            return 0;
        t = (e & PTE_ADDR_MASK) >> PAGE_SHIFT;
    }
    return 0;
}

bool pv_map_ldt_page(struct vcpu *v, uint64_t addr)
{
    unsigned int offset;
    if (!v || !pv_ldt_window_offset(addr, &offset) || (offset >> 3) >= v->pv.ldt_ents)
        return false;
    unsigned int page = offset >> PAGE_SHIFT;
    if (v->ldt_shadow[page])
        return false; /* already mapped: this fault is something else */
    uint64_t l1e = guest_kernel_l1e(v, v->pv.ldt_base + offset);
    if (!(l1e & _PAGE_PRESENT))
        return false;
    mfn_t mfn = (l1e & PTE_ADDR_MASK) >> PAGE_SHIFT;
    if (!get_segdesc_page(v->domain, mfn))
        return false;
    v->ldt_shadow[page] = mfn;
    set_window_pte(smp_processor_id(), GUEST_GDT_PAGES + 2 + page, frame_pte(mfn));
    return true;
}

/* The LDT descriptor in this CPU's hypervisor GDT page, then LLDT; or no LDT at all. */
static void load_ldt(struct vcpu *v)
{
    unsigned int cpu = smp_processor_id();
    if (!v->pv.ldt_ents) {
        __asm__ volatile("lldt %w0" ::"r"(0));
        return;
    }
    uint64_t base = ldt_window(cpu), limit = v->pv.ldt_ents * 8 - 1;
    uint64_t *g = this_cpu()->gdt + ((LDT_SELECTOR >> 3) - FIRST_RESERVED_GDT_ENTRY);
    g[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) | ((uint64_t)(0x80 | SYS_DESC_LDT) << 40) |
           (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    g[1] = base >> 32;
    __asm__ volatile("lldt %w0" ::"r"(LDT_SELECTOR) : "memory");
}

/* Shows v's descriptor tables in this CPU's window: on every switch to v, and after set_gdt / MMUEXT_SET_LDT. */
void pv_load_gdt_ldt(struct vcpu *v)
{
    static bool limit_set[MAX_CPUS];
    unsigned int cpu = smp_processor_id();
    if (!this_cpu()->gdt_in_window)
        return;
    unsigned int nr = gdt_frames_for(v->pv.gdt_ents);
    for (unsigned int i = 0; i < GUEST_GDT_PAGES; i++)
        set_window_pte(cpu, i, i < nr && v->pv.gdt_frames[i] ? frame_pte(v->pv.gdt_frames[i]) : zero_pte());
    for (unsigned int i = 0; i < LDT_WINDOW_PAGES; i++)
        set_window_pte(cpu, GUEST_GDT_PAGES + 2 + i, v->ldt_shadow[i] ? frame_pte(v->ldt_shadow[i]) : 0);
    if (!limit_set[cpu]) {
        struct desc_ptr gp = {.limit = GDT_LIMIT, .base = gdt_window(cpu)};
        __asm__ volatile("lgdt %0" ::"m"(gp) : "memory");
        limit_set[cpu] = true;
    }
    load_ldt(v);
}

/* This CPU's window shows no guest page any more (its vCPU is going away; context.c). */
void pv_clear_gdt_ldt_window(void)
{
    unsigned int cpu = smp_processor_id();
    if (!this_cpu()->gdt_in_window)
        return;
    for (unsigned int i = 0; i < GUEST_GDT_PAGES; i++)
        set_window_pte(cpu, i, zero_pte());
    for (unsigned int i = 0; i < LDT_WINDOW_PAGES; i++)
        set_window_pte(cpu, GUEST_GDT_PAGES + 2 + i, 0);
    __asm__ volatile("lldt %w0" ::"r"(0));
}

/* MMUEXT_SET_LDT (pv/mm.c has checked the arguments): the old LDT's pages are dropped, the new one is mapped
 * lazily. */
void pv_set_ldt(struct vcpu *v, uint64_t base, unsigned int ents)
{
    if (v->pv.ldt_base == base && v->pv.ldt_ents == ents)
        return;
    pv_destroy_ldt(v);
    v->pv.ldt_base = base;
    v->pv.ldt_ents = ents;
    if (running_here(v))
        load_ldt(v);
}
