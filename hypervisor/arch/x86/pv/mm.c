/* PV guest page tables: Xen's type rules applied to guest-built tables.
 *
 * A guest builds its own page tables in its own frames; before a frame is used as a table of level N it must
 * validate as one (frame_get_type() runs the validator once, on the first type reference): every present entry
 * must point at something the domain may map with flags it may use, which for levels 2-4 means a frame that in
 * turn validates as a table of level N-1. While a frame is a page table, nothing maps it writable, so the guest
 * can change it only through the hypercalls here (or the trap-and-emulate path for writable page tables), which
 * validate each new entry with the same functions and take its references before dropping the old entry's.
 *
 * References held by a table's entries: each present L1 entry holds a general reference on the mapped frame
 * (and a `writable` type reference if it maps it writable); each present L2-L4 entry holds a general reference
 * and a type reference of the next lower level on the table it points at. I/O frames (outside RAM) carry no
 * references; only privileged domains may map them. */
#include <public/xen.h>
#include <vesta/errno.h>
#include <vesta/guest_access.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/pv.h>
#include <vesta/setup.h>
#include <vesta/x86.h>

/* ---- The machine-to-phys table: written through a private alias, read by guests at RO_MPT_VIRT_START. */

#define M2P_RW_VIRT VMAP_VIRT_START
static uint64_t *m2p = (uint64_t *)M2P_RW_VIRT;
static uint64_t m2p_entries;

void m2p_init(void)
{
    uint64_t bytes = ALIGN_UP(max_mfn * 8, 1UL << 21);
    for (uint64_t off = 0; off < bytes; off += 1UL << 21) {
        struct frame *f = alloc_pages(9);
        if (!f)
            panic("no memory for the machine-to-phys table");
        for (unsigned int i = 0; i < 512; i++)
            f[i].owner = FRAME_OWNER_XEN;
        paddr_t pa = frame_to_mfn(f) << PAGE_SHIFT;
        memset(maddr_to_virt(pa), 0xff, 1UL << 21);
        map_pages(M2P_RW_VIRT + off, pa, 512, PAGE_HV_RW);
        map_pages(RO_MPT_VIRT_START + off, pa, 512, (PAGE_HV_RO | _PAGE_USER) & ~_PAGE_GLOBAL);
    }
    m2p_entries = bytes / 8;
    printk("Machine-to-phys table: %lu entries, read-only to guests at %#lx", max_mfn, RO_MPT_VIRT_START);
}

void set_gpfn_from_mfn(mfn_t mfn, uint64_t pfn)
{
    if (mfn < m2p_entries)
        m2p[mfn] = pfn;
}

uint64_t get_gpfn_from_mfn(mfn_t mfn) { return mfn < m2p_entries ? m2p[mfn] : M2P_INVALID; }

/* ---- Which frames a domain may map. */

/* Frames outside RAM (MMIO, firmware) and the low megabyte: I/O space, mappable by privileged domains only. */
static bool is_io_mfn(mfn_t mfn)
{
    if (mfn >= max_mfn || mfn < 256)
        return true;
    paddr_t pa = mfn << PAGE_SHIFT;
    for (unsigned int i = 0; i < boot_info.nr_mem; i++) {
        const struct boot_mem_region *m = &boot_info.mem[i];
        if (pa >= m->base && pa < m->base + m->len)
            return m->type != BOOT_MEM_RAM;
    }
    return true;
}

bool pv_get_page(struct domain *d, mfn_t mfn)
{
    return mfn_valid(mfn) && frame_get_ref(mfn_to_frame(mfn), d->id);
}

void pv_put_page(mfn_t mfn)
{
    struct frame *f = mfn_to_frame(mfn);
    if (frame_put_ref(f))
        domain_free_page(f);
}

/* ---- Entry flags (PTE bits). Xen's base rule: P, RW, US, A, D, the available bits and NX; L1 entries may also
 * be global, and cache attributes need I/O privilege; bit 62 is Xen's grant-mapping marker and never allowed. */
#define PTE_AVAIL (7UL << 9)
#define PTE_AVAIL_HIGH (0x7ffUL << 52)
#define PTE_GNTTAB (1UL << 62)
#define PTE_CACHE (_PAGE_PWT | _PAGE_PCD | _PAGE_PSE /* PAT in an L1 entry */)
#define PTE_BASE_ALLOWED (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY | PTE_AVAIL | \
                          PTE_AVAIL_HIGH | _PAGE_NX | PTE_ADDR_MASK)

static uint64_t l1_allowed(const struct domain *d)
{
    uint64_t m = (PTE_BASE_ALLOWED | _PAGE_GLOBAL) & ~PTE_GNTTAB;
    if (d->io_all)
        m |= PTE_CACHE;
    return m;
}

static mfn_t pte_mfn(uint64_t e) { return (e & PTE_ADDR_MASK) >> PAGE_SHIFT; }

struct validate_ctx {
    struct domain *d;
    bool flush_first; /* the frame was writable before: purge stale TLB entries before trusting its contents */
};

static int get_table_ref(struct domain *d, mfn_t mfn, uint64_t type);
static void put_table_ref(mfn_t mfn);

/* Takes the references an L1 entry needs. May adjust *e: MMIO mapped write-back is made uncached, as Xen does. */
static int get_l1e(struct domain *d, uint64_t *e)
{
    uint64_t v = *e;
    if (v & ~l1_allowed(d))
        return -EINVAL;
    mfn_t mfn = pte_mfn(v);
    if (is_io_mfn(mfn)) {
        if (!d->io_all)
            return -EPERM;
        if (!(v & PTE_CACHE))
            *e = v | _PAGE_PWT | _PAGE_PCD;
        return 0;
    }
    struct frame *f = mfn_to_frame(mfn);
    if (!frame_get_ref(f, d->id))
        return -EBUSY;
    if ((v & _PAGE_RW) && frame_get_type(f, FRAME_T_WRITABLE, NULL, NULL)) {
        pv_put_page(mfn);
        return -EBUSY;
    }
    if (v & _PAGE_RW)
        frame_set_count_flags(f, FRAME_C_DIRTY);
    return 0;
}

static void put_l1e(uint64_t e)
{
    if (!(e & _PAGE_PRESENT))
        return;
    mfn_t mfn = pte_mfn(e);
    if (is_io_mfn(mfn))
        return;
    if (e & _PAGE_RW)
        frame_put_type(mfn_to_frame(mfn), NULL, NULL);
    pv_put_page(mfn);
}

static uint64_t level_type(unsigned int level) { return (uint64_t)level << FRAME_T_SHIFT; }

static int get_lne(struct domain *d, uint64_t e, unsigned int level)
{
    if (e & ~PTE_BASE_ALLOWED)
        return -EINVAL;
    return get_table_ref(d, pte_mfn(e), level_type(level - 1));
}

static bool guest_l4_slot(unsigned int i) { return i < HYPERVISOR_SLOT_FIRST || i > HYPERVISOR_SLOT_LAST; }

/* Guest kernel and user both run in ring 3, so every present entry needs the user bit. Xen marks L1 entries
 * that lacked it with an available bit (52, "guest kernel") and never lets such a mapping be global: a global
 * kernel translation would outlive the switch to the user page table. Guests see the adjusted entries. */
#define PTE_GUEST_KERNEL (1UL << 52)

static uint64_t adjust_entry(uint64_t e, unsigned int level)
{
    if (!(e & _PAGE_PRESENT))
        return e;
    if (level > 1)
        return e | _PAGE_USER;
    if (!(e & _PAGE_USER))
        e |= _PAGE_USER | PTE_GUEST_KERNEL;
    if (e & PTE_GUEST_KERNEL)
        e &= ~_PAGE_GLOBAL;
    return e;
}

static int get_entry(struct domain *d, uint64_t *e, unsigned int level)
{
    if (!(*e & _PAGE_PRESENT))
        return 0;
    *e = adjust_entry(*e, level);
    return level == 1 ? get_l1e(d, e) : get_lne(d, *e, level);
}

static void put_entry(uint64_t e, unsigned int level)
{
    if (!(e & _PAGE_PRESENT))
        return;
    if (level == 1)
        put_l1e(e);
    else
        put_table_ref(pte_mfn(e));
}

void pv_init_guest_l4(struct domain *d, uint64_t *l4)
{
    (void)d;
    for (unsigned int i = HYPERVISOR_SLOT_FIRST; i <= HYPERVISOR_SLOT_LAST; i++)
        l4[i] = idle_pg_table[i];
}

static int validate_table(struct frame *f, uint64_t type, void *vctx)
{
    struct validate_ctx *ctx = vctx;
    struct domain *d = ctx->d;
    unsigned int level = (unsigned int)(type >> FRAME_T_SHIFT);
    uint64_t *t = mfn_to_virt(frame_to_mfn(f));
    if (ctx->flush_first)
        flush_tlb_domain(d);
    for (unsigned int i = 0; i < 512; i++) {
        if (level == 4 && !guest_l4_slot(i))
            continue;
        uint64_t e = t[i];
        int rc = get_entry(d, &e, level);
        if (rc) {
            while (i-- > 0)
                if (level != 4 || guest_l4_slot(i))
                    put_entry(t[i], level);
            return rc;
        }
        if (e != t[i])
            t[i] = e;
    }
    if (level == 4)
        pv_init_guest_l4(d, t);
    return 0;
}

static void devalidate_table(struct frame *f, uint64_t type, void *ctx)
{
    (void)ctx;
    unsigned int level = (unsigned int)(type >> FRAME_T_SHIFT);
    uint64_t *t = mfn_to_virt(frame_to_mfn(f));
    for (unsigned int i = 0; i < 512; i++)
        if (level != 4 || guest_l4_slot(i))
            put_entry(t[i], level);
}

int pv_get_page_type(struct domain *d, mfn_t mfn, uint64_t type)
{
    struct frame *f = mfn_to_frame(mfn);
    struct validate_ctx ctx = {.d = d};
    uint64_t old = __atomic_load_n(&f->type_info, __ATOMIC_ACQUIRE);
    ctx.flush_first = (old & FRAME_T_MASK) == FRAME_T_WRITABLE && frame_type_is_pagetable(type);
    int rc = frame_get_type(f, type, frame_type_is_pagetable(type) ? validate_table : NULL, &ctx);
    return rc == -EBUSY ? -EINVAL : rc; /* Xen reports a type conflict on a table as -EINVAL */
}

void pv_put_page_type(mfn_t mfn) { frame_put_type(mfn_to_frame(mfn), devalidate_table, NULL); }

static int get_table_ref(struct domain *d, mfn_t mfn, uint64_t type)
{
    if (!pv_get_page(d, mfn))
        return -EINVAL;
    int rc = pv_get_page_type(d, mfn, type);
    if (rc)
        pv_put_page(mfn);
    return rc;
}

static void put_table_ref(mfn_t mfn)
{
    pv_put_page_type(mfn);
    pv_put_page(mfn);
}

/* ---- Changing one entry of a validated table. */

#define PTE_AD (_PAGE_ACCESSED | _PAGE_DIRTY)

/* Same frame, same writability and same cache attributes: no references change. */
static bool same_refs(uint64_t a, uint64_t b)
{
    return ((a ^ b) & (PTE_ADDR_MASK | _PAGE_PRESENT | _PAGE_RW)) == 0;
}

static int set_entry(struct domain *d, mfn_t table, unsigned int index, uint64_t new, unsigned int level,
                     bool preserve_ad, bool *flush)
{
    if (level == 4 && !guest_l4_slot(index))
        return -EINVAL;
    uint64_t *slot = (uint64_t *)mfn_to_virt(table) + index;
    uint64_t old = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    bool fast = (old & _PAGE_PRESENT) && (new & _PAGE_PRESENT) && same_refs(old, new);
    if (fast) {
        new = adjust_entry(new, level);
        uint64_t allowed = level == 1 ? l1_allowed(d) : PTE_BASE_ALLOWED;
        if (new & ~allowed)
            return -EINVAL;
        if (level == 1 && is_io_mfn(pte_mfn(new)) && !(new & PTE_CACHE))
            new |= _PAGE_PWT | _PAGE_PCD;
    } else {
        int rc = get_entry(d, &new, level);
        if (rc)
            return rc;
    }
    /* The CPU may set A/D in the old entry meanwhile: retry the exchange so preserve-AD sees the final bits. */
    for (;;) {
        uint64_t val = preserve_ad ? new | (old & PTE_AD) : new;
        if (__atomic_compare_exchange_n(slot, &old, val, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            break;
    }
    if (!fast)
        put_entry(old, level);
    if ((old & _PAGE_PRESENT) && (!(new & _PAGE_PRESENT) || !fast || ((old & _PAGE_RW) && !(new & _PAGE_RW))))
        *flush = true;
    return 0;
}

/* The level of a validated table frame the domain owns, or 0. */
static unsigned int table_level(mfn_t mfn)
{
    struct frame *f = mfn_to_frame(mfn);
    uint64_t ti = __atomic_load_n(&f->type_info, __ATOMIC_ACQUIRE);
    if (!(ti & FRAME_T_COUNT_MASK) || !(ti & FRAME_T_VALIDATED) || !frame_type_is_pagetable(ti & FRAME_T_MASK))
        return 0;
    return (unsigned int)((ti & FRAME_T_MASK) >> FRAME_T_SHIFT);
}

static struct domain *resolve_foreign(struct domain *cur, unsigned long foreigndom, long *err)
{
    domid_t id = (domid_t)foreigndom;
    if (id == DOMID_SELF || id == cur->id)
        return cur;
    if (id == DOMID_IO)
        return cur->privileged ? cur : (*err = -EPERM, NULL);
    if (!cur->privileged) {
        *err = -EPERM;
        return NULL;
    }
    struct domain *d = domain_lookup(id);
    if (!d)
        *err = -ESRCH;
    return d;
}

void flush_tlb_domain(struct domain *d)
{
    (void)d;
    flush_tlb_local();
    /* Other CPUs: each vCPU is pinned, so only CPUs hosting one of d's vCPUs can hold its translations. */
    for (unsigned int i = 0; i < d->max_vcpus; i++) {
        struct vcpu *v = d->vcpus[i];
        if (v && v->processor != smp_processor_id() && percpu[v->processor]->curr == v)
            smp_call_function((void (*)(void *))flush_tlb_local, NULL);
    }
}

HC(do_mmu_update)
{
    struct vcpu *v = current_vcpu();
    struct domain *d = v->domain;
    unsigned long ureqs = a1, count = a2 & ~MMU_UPDATE_PREEMPTED, pdone = a3;
    long rc = 0;
    struct domain *pg_owner = resolve_foreign(d, a4, &rc);
    if (!pg_owner)
        return rc;
    bool flush = false;
    unsigned long i;
    for (i = 0; i < count; i++) {
        struct mmu_update req;
        if (copy_from_guest(&req, ureqs + i * sizeof(req), sizeof(req))) {
            rc = -EFAULT;
            break;
        }
        unsigned int cmd = req.ptr & 3;
        mfn_t mfn = req.ptr >> PAGE_SHIFT;
        switch (cmd) {
        case MMU_NORMAL_PT_UPDATE:
        case MMU_PT_UPDATE_PRESERVE_AD: {
            if (!pv_get_page(d, mfn)) {
                rc = -EINVAL;
                break;
            }
            unsigned int index = (req.ptr & (PAGE_SIZE - 1)) >> 3;
            unsigned int level = table_level(mfn);
            if (level) {
                rc = set_entry(pg_owner, mfn, index, req.val, level, cmd == MMU_PT_UPDATE_PRESERVE_AD, &flush);
            } else if (!frame_get_type(mfn_to_frame(mfn), FRAME_T_WRITABLE, NULL, NULL)) {
                ((uint64_t *)mfn_to_virt(mfn))[index] = req.val;
                frame_put_type(mfn_to_frame(mfn), NULL, NULL);
                rc = 0;
            } else {
                rc = -EINVAL;
            }
            pv_put_page(mfn);
            break;
        }
        case MMU_MACHPHYS_UPDATE:
            if (!pv_get_page(pg_owner, mfn)) {
                rc = -EINVAL;
                break;
            }
            set_gpfn_from_mfn(mfn, req.val);
            pv_put_page(mfn);
            rc = 0;
            break;
        default:
            rc = -ENOSYS;
            break;
        }
        if (rc)
            break;
    }
    if (flush)
        flush_tlb_domain(d);
    if (pdone) {
        uint32_t done = (uint32_t)i;
        if (copy_to_guest(pdone, &done, sizeof(done)) && !rc)
            rc = -EFAULT;
    }
    return rc;
}

/* Finds the L1 table and index that map va in the vCPU's current address space. Returns 0 if there is none
 * (a level not present, or a superpage). */
static mfn_t find_l1(struct vcpu *v, uint64_t va, unsigned int *index)
{
    mfn_t t = read_cr3() >> PAGE_SHIFT;
    (void)v;
    for (unsigned int level = 4; level > 1; level--) {
        uint64_t e = ((uint64_t *)mfn_to_virt(t))[(va >> (12 + 9 * (level - 1))) & 511];
        if (!(e & _PAGE_PRESENT) || (e & _PAGE_PSE))
            return 0;
        t = pte_mfn(e);
        if (!mfn_valid(t))
            return 0;
    }
    *index = (va >> 12) & 511;
    return t;
}

static long flush_by_flags(struct domain *d, uint64_t va, unsigned long flags)
{
    unsigned long type = flags & UVMF_FLUSHTYPE_MASK;
    if (!type)
        return 0;
    bool local = (flags & ~UVMF_FLUSHTYPE_MASK) == UVMF_LOCAL;
    if (!local) {
        if ((flags & ~UVMF_FLUSHTYPE_MASK) != UVMF_ALL) {
            uint64_t mask;
            if (copy_from_guest(&mask, flags & ~UVMF_FLUSHTYPE_MASK, sizeof(mask)))
                return -EFAULT;
        }
        flush_tlb_domain(d);
        return 0;
    }
    if (type == UVMF_INVLPG && guest_range_ok(va, 1))
        invlpg((void *)va);
    else
        flush_tlb_local();
    return 0;
}

static long update_va_mapping(struct domain *pg_owner, uint64_t va, uint64_t val, unsigned long flags)
{
    struct vcpu *v = current_vcpu();
    if (!guest_range_ok(va, 1))
        return -EINVAL;
    unsigned int index;
    mfn_t l1 = find_l1(v, va, &index);
    if (!l1 || !pv_get_page(v->domain, l1))
        return -EINVAL;
    long rc = -EINVAL;
    bool flush = false;
    if (table_level(l1) == 1)
        rc = set_entry(pg_owner, l1, index, val, 1, false, &flush);
    pv_put_page(l1);
    if (rc)
        return rc;
    return flush_by_flags(v->domain, va, flags);
}

HC(do_update_va_mapping)
{
    struct domain *d = current_domain();
    return update_va_mapping(d, a1, a2, a3);
}

HC(do_update_va_mapping_otherdomain)
{
    long rc = 0;
    struct domain *pg_owner = resolve_foreign(current_domain(), a4, &rc);
    if (!pg_owner)
        return rc;
    return update_va_mapping(pg_owner, a1, a2, a3);
}

static long new_baseptr(struct vcpu *v, mfn_t mfn, bool user)
{
    struct domain *d = v->domain;
    mfn_t *slot = user ? &v->pv.user_l4 : &v->pv.kernel_l4;
    if (user && !mfn) {
        mfn_t old = *slot;
        *slot = 0;
        if (old)
            put_table_ref(old);
        return 0;
    }
    if (mfn == *slot) {
        if (!user)
            flush_tlb_local();
        return 0;
    }
    int rc = get_table_ref(d, mfn, FRAME_T_L4);
    if (rc)
        return rc;
    mfn_t old = *slot;
    *slot = mfn;
    if (!user)
        pv_destroy_ldt(v); /* descriptors.c: the LDT's linear mapping may differ now, as Xen does */
    if (!user)
        pv_load_cr3(v); /* hypercalls come from kernel mode: the user L4 is loaded at the next switch to user */
    if (old)
        put_table_ref(old);
    return 0;
}

HC(do_mmuext_op)
{
    struct vcpu *v = current_vcpu();
    struct domain *d = v->domain;
    unsigned long uops = a1, count = a2 & ~MMU_UPDATE_PREEMPTED, pdone = a3;
    long rc = 0;
    struct domain *pg_owner = resolve_foreign(d, a4, &rc);
    if (!pg_owner)
        return rc;
    unsigned long i;
    for (i = 0; i < count; i++) {
        struct mmuext_op op;
        if (copy_from_guest(&op, uops + i * sizeof(op), sizeof(op))) {
            rc = -EFAULT;
            break;
        }
        mfn_t mfn = op.arg1.mfn;
        switch (op.cmd) {
        case MMUEXT_PIN_L1_TABLE:
        case MMUEXT_PIN_L2_TABLE:
        case MMUEXT_PIN_L3_TABLE:
        case MMUEXT_PIN_L4_TABLE: {
            uint64_t type = level_type(op.cmd - MMUEXT_PIN_L1_TABLE + 1);
            if (pg_owner != d) {
                rc = -EINVAL;
                break;
            }
            rc = get_table_ref(d, mfn, type);
            if (rc)
                break;
            if (frame_test_and_set_pinned(mfn_to_frame(mfn))) {
                put_table_ref(mfn);
                rc = -EINVAL;
            }
            break;
        }
        case MMUEXT_UNPIN_TABLE:
            if (!pv_get_page(pg_owner, mfn)) {
                rc = -EINVAL;
                break;
            }
            if (!frame_test_and_clear_pinned(mfn_to_frame(mfn)))
                rc = -EINVAL;
            else
                put_table_ref(mfn);
            pv_put_page(mfn);
            break;
        case MMUEXT_NEW_BASEPTR:
            rc = pg_owner != d ? -EINVAL : new_baseptr(v, mfn, false);
            break;
        case MMUEXT_NEW_USER_BASEPTR:
            rc = pg_owner != d ? -EINVAL : new_baseptr(v, mfn, true);
            break;
        case MMUEXT_TLB_FLUSH_LOCAL:
            flush_tlb_local();
            break;
        case MMUEXT_INVLPG_LOCAL:
            if (guest_range_ok(op.arg1.linear_addr, 1))
                invlpg((void *)op.arg1.linear_addr);
            break;
        case MMUEXT_TLB_FLUSH_MULTI:
        case MMUEXT_INVLPG_MULTI:
        case MMUEXT_TLB_FLUSH_ALL:
        case MMUEXT_INVLPG_ALL:
            flush_tlb_domain(d);
            break;
        case MMUEXT_FLUSH_CACHE:
        case MMUEXT_FLUSH_CACHE_GLOBAL:
            if (!d->privileged)
                rc = -EACCES;
            else
                __asm__ volatile("wbinvd" ::: "memory");
            break;
        case MMUEXT_SET_LDT: {
            uint64_t ents = op.arg2.nr_ents, base = ents ? op.arg1.linear_addr : 0;
            if (pg_owner != d)
                rc = -EPERM;
            else if ((base & (PAGE_SIZE - 1)) || !guest_range_ok(base, 1) || ents > 8192)
                rc = -EINVAL;
            else
                pv_set_ldt(v, base, (unsigned int)ents); /* descriptors.c */
            break;
        }
        case MMUEXT_CLEAR_PAGE:
            if (!pv_get_page(d, mfn)) {
                rc = -EINVAL;
                break;
            }
            if (frame_get_type(mfn_to_frame(mfn), FRAME_T_WRITABLE, NULL, NULL)) {
                rc = -EINVAL;
            } else {
                memset(mfn_to_virt(mfn), 0, PAGE_SIZE);
                frame_put_type(mfn_to_frame(mfn), NULL, NULL);
            }
            pv_put_page(mfn);
            break;
        case MMUEXT_COPY_PAGE: {
            mfn_t src = op.arg2.src_mfn;
            if (!pv_get_page(d, src)) {
                rc = -EINVAL;
                break;
            }
            if (!pv_get_page(d, mfn)) {
                pv_put_page(src);
                rc = -EINVAL;
                break;
            }
            if (frame_get_type(mfn_to_frame(mfn), FRAME_T_WRITABLE, NULL, NULL)) {
                rc = -EINVAL;
            } else {
                memcpy(mfn_to_virt(mfn), mfn_to_virt(src), PAGE_SIZE);
                frame_put_type(mfn_to_frame(mfn), NULL, NULL);
            }
            pv_put_page(mfn);
            pv_put_page(src);
            break;
        }
        case MMUEXT_MARK_SUPER:
        case MMUEXT_UNMARK_SUPER:
            rc = -EOPNOTSUPP;
            break;
        default:
            rc = -ENOSYS;
            break;
        }
        if (rc)
            break;
    }
    if (pdone) {
        uint32_t done = (uint32_t)i;
        if (copy_to_guest(pdone, &done, sizeof(done)) && !rc)
            rc = -EFAULT;
    }
    return rc;
}

HC(do_vm_assist)
{
    unsigned int cmd = (unsigned int)a1, type = (unsigned int)a2;
    const uint64_t valid = (1UL << VMASST_TYPE_4gb_segments) | (1UL << VMASST_TYPE_4gb_segments_notify) |
                           (1UL << VMASST_TYPE_writable_pagetables) | (1UL << VMASST_TYPE_pae_extended_cr3) |
                           (1UL << VMASST_TYPE_architectural_iopl) | (1UL << VMASST_TYPE_runstate_update_flag) |
                           (1UL << VMASST_TYPE_m2p_strict);
    struct domain *d = current_domain();
    if (type >= 64 || !(valid & (1UL << type)))
        return -EINVAL;
    switch (cmd) {
    case VMASST_CMD_enable:
        __atomic_or_fetch(&d->vm_assist, 1UL << type, __ATOMIC_SEQ_CST);
        return 0;
    case VMASST_CMD_disable:
        __atomic_and_fetch(&d->vm_assist, ~(1UL << type), __ATOMIC_SEQ_CST);
        return 0;
    default:
        return -ENOSYS;
    }
}
