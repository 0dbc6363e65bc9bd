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
#include <public/grant_table.h>
#include <public/xen.h>
#include <vesta/errno.h>
#include <vesta/guest_access.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/pte_rules.h>
#include <vesta/pv.h>
#include <vesta/setup.h>
#include <vesta/x86.h>

/* ---- The machine-to-phys table: written through a private alias, read by guests at RO_MPT_VIRT_START. */

#define M2P_RW_VIRT VMAP_VIRT_START
static uint64_t *m2p = (uint64_t *)M2P_RW_VIRT;
static uint64_t m2p_entries;
static mfn_t *m2p_chunks; /* first frame of each 2 MiB piece, for XENMEM_machphys_mfn_list */

void m2p_init(void)
{
    uint64_t bytes = ALIGN_UP(max_mfn * 8, 1UL << 21);
    m2p_chunks = xmalloc((bytes >> 21) * sizeof(*m2p_chunks));
    if (!m2p_chunks)
        panic("no memory for the machine-to-phys table");
    for (uint64_t off = 0; off < bytes; off += 1UL << 21) {
        struct frame *f = alloc_pages(9);
        if (!f)
            panic("no memory for the machine-to-phys table");
        m2p_chunks[off >> 21] = frame_to_mfn(f);
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

unsigned int m2p_nr_chunks(void) { return (unsigned int)(m2p_entries * 8 >> 21); }

mfn_t m2p_chunk_mfn(unsigned int i) { return m2p_chunks[i]; }

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

/* Frames the hypervisor allocated for itself and shares with a domain (shared info, grant-table frames) carry
 * FRAME_C_XEN: the domain's references come and go, but the hypervisor frees them, never the last put. */
void pv_put_page(mfn_t mfn)
{
    struct frame *f = mfn_to_frame(mfn);
    if (frame_put_ref(f) && !(frame_count_flags(f) & FRAME_C_XEN))
        domain_free_page(f);
}

/* The pseudo-domains a privileged caller may name as "foreign" owner in mmu_update: DOMID_IO (device memory)
 * and DOMID_XEN. They own no RAM frame that a guest may map (the hypervisor's own frames are never shared
 * through DOMID_XEN here), so naming them only ever reaches I/O space. */
static struct domain dom_io = {.id = DOMID_IO};
static struct domain dom_xen = {.id = DOMID_XEN};

static bool is_pseudo_domain(const struct domain *d) { return d == &dom_io || d == &dom_xen; }


/* ---- Entry flags: the pure rules are in vesta/pte_rules.h. */

static uint64_t l1_allowed(const struct domain *d) { return pte_allowed(1, d->io_all); }

static mfn_t pte_mfn(uint64_t e) { return (e & PTE_ADDR_MASK) >> PAGE_SHIFT; }

struct validate_ctx {
    struct domain *d;
    int validate_rc;  /* what the validator returned (0 if it did not run) */
};

static int get_table_ref(struct domain *d, mfn_t mfn, uint64_t type);
static void put_table_ref(mfn_t mfn);

static uint64_t mmio_cache_flip(uint64_t e) { return pte_mmio_cache_flip(e); }

/* Takes the references an L1 entry of a table owned by pt_dom needs, mapping a frame of pg_dom (Xen's
 * get_page_from_l1e). May adjust *e (MMIO caching). -EINVAL bad flags, -EPERM I/O space without the privilege,
 * -EBUSY a frame that is not pg_dom's or cannot be mapped this way, -EACCES a cache mode on a hypervisor page. */
static int get_l1e(struct domain *pt_dom, struct domain *pg_dom, uint64_t *e)
{
    uint64_t v = *e;
    if (v & ~l1_allowed(pt_dom))
        return -EINVAL;
    mfn_t mfn = pte_mfn(v);
    if (is_io_mfn(mfn)) {
        struct domain *owner = pg_dom == &dom_io ? current_domain() : pg_dom;
        bool invalid = mfn == (PTE_ADDR_MASK >> PAGE_SHIFT);
        if (!owner->io_all || (owner != pt_dom && !pt_dom->io_all))
            return invalid ? -EINVAL : -EPERM;
        *e = mmio_cache_flip(v);
        return 0;
    }
    struct frame *f = mfn_to_frame(mfn);
    uint32_t owner_id = __atomic_load_n(&f->owner, __ATOMIC_ACQUIRE);
    if (is_pseudo_domain(pg_dom))
        return -EBUSY; /* DOMID_IO and DOMID_XEN name no RAM a guest may map */
    if (owner_id != pg_dom->id) {
        /* A privileged foreign owner may pass on the right to map a third (live) domain's frames. */
        struct domain *real = owner_id < DOMID_FIRST_RESERVED ? domain_get((domid_t)owner_id) : NULL;
        bool ok = real && pg_dom != pt_dom && may_target(pg_dom, real);
        if (real)
            domain_put(real);
        if (!ok)
            return -EBUSY;
    }
    if (!frame_get_ref(f, owner_id))
        return -EBUSY;
    bool write = v & _PAGE_RW;
    if (write && frame_get_type(f, FRAME_T_WRITABLE, NULL, NULL)) {
        pv_put_page(mfn);
        return -EBUSY;
    }
    if ((v & PTE_CACHE) && (frame_count_flags(f) & FRAME_C_XEN)) {
        if (write)
            frame_put_type(f, NULL, NULL);
        pv_put_page(mfn);
        return -EACCES;
    }
    if (write)
        frame_set_count_flags(f, FRAME_C_DIRTY);
    return 0;
}

static void put_l1e(uint64_t e)
{
    mfn_t mfn = pte_mfn(e);
    if (is_io_mfn(mfn))
        return;
    if (e & _PAGE_RW)
        frame_put_type(mfn_to_frame(mfn), NULL, NULL);
    pv_put_page(mfn);
}

static uint64_t level_type(unsigned int level) { return (uint64_t)level << FRAME_T_SHIFT; }

/* ---- Linear page tables (Xen's get_lN_linear_pagetable). An L2, L3 or L4 entry may point, read-only, at a
 * table of its own level: at its own table (a self map, which holds no reference at all) or at another
 * validated table of that level (which holds a general and a type reference on it). To keep teardown bounded, a
 * table either contains such entries or is the target of some, never both. The frame table's flags_or_order
 * field, unused while a frame is allocated, counts this: > 0 linear entries inside, < 0 linear uses of it. */

static int32_t *linear_count(struct frame *f) { return (int32_t *)&f->flags_or_order; }

static bool linear_add(struct frame *f, int32_t delta)
{
    int32_t *c = linear_count(f);
    int32_t x = __atomic_load_n(c, __ATOMIC_ACQUIRE);
    do {
        if ((delta > 0 && (x < 0 || x == INT32_MAX)) || (delta < 0 && (x > 0 || x == INT32_MIN)))
            return false;
    } while (!__atomic_compare_exchange_n(c, &x, x + delta, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
    return true;
}

static void linear_undo(struct frame *f, int32_t delta) { __atomic_fetch_sub(linear_count(f), delta, __ATOMIC_ACQ_REL); }

static bool get_linear(struct domain *d, uint64_t e, mfn_t table, unsigned int level)
{
    if (e & _PAGE_RW)
        return false;
    mfn_t mfn = pte_mfn(e);
    if (mfn == table)
        return true;
    struct frame *pt = mfn_to_frame(table), *pg = mfn_to_frame(mfn);
    if (__atomic_load_n(&pt->owner, __ATOMIC_ACQUIRE) != d->id || !pv_get_page(d, mfn))
        return false;
    if (!linear_add(pt, 1)) {
        pv_put_page(mfn);
        return false;
    }
    if (!linear_add(pg, -1)) {
        linear_undo(pt, 1);
        pv_put_page(mfn);
        return false;
    }
    uint64_t x = __atomic_load_n(&pg->type_info, __ATOMIC_ACQUIRE);
    do {
        if ((x & FRAME_T_COUNT_MASK) == FRAME_T_COUNT_MASK ||
            (x & (FRAME_T_MASK | FRAME_T_VALIDATED)) != (level_type(level) | FRAME_T_VALIDATED)) {
            linear_undo(pg, -1);
            linear_undo(pt, 1);
            pv_put_page(mfn);
            return false;
        }
    } while (!__atomic_compare_exchange_n(&pg->type_info, &x, x + 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
    return true;
}

/* Takes the references an L2-L4 entry of table (level) needs: a type reference of the level below, or a linear
 * reference. Xen's get_page_from_lNe. */
static int get_lne(struct domain *d, uint64_t e, unsigned int level, mfn_t table)
{
    if (e & ~PTE_BASE_ALLOWED)
        return -EINVAL;
    int rc = get_table_ref(d, pte_mfn(e), level_type(level - 1));
    if (rc == -EINVAL && get_linear(d, e, table, level))
        rc = 0;
    return rc;
}

static void put_lne(uint64_t e, unsigned int level, mfn_t table)
{
    mfn_t mfn = pte_mfn(e);
    if (mfn == table)
        return; /* a self map holds nothing */
    struct frame *pg = mfn_to_frame(mfn);
    if (frame_type(pg) == level_type(level)) {
        /* A same-level table: this was a linear entry. */
        linear_undo(pg, -1);
        linear_undo(mfn_to_frame(table), 1);
    }
    put_table_ref(mfn);
}

static bool guest_l4_slot(unsigned int i) { return pte_guest_l4_slot(i); }

static uint64_t adjust_entry(uint64_t e, unsigned int level) { return pte_adjust(e, level); }

/* References for a new present entry of a table (mfn `table`, owned by pt_dom) mapping pg_dom's frames. */
static int get_entry(struct domain *pt_dom, struct domain *pg_dom, uint64_t *e, unsigned int level, mfn_t table)
{
    if (!(*e & _PAGE_PRESENT))
        return 0;
    *e = adjust_entry(*e, level);
    return level == 1 ? get_l1e(pt_dom, pg_dom, e) : get_lne(pt_dom, *e, level, table);
}

static void put_entry(uint64_t e, unsigned int level, mfn_t table)
{
    if (!(e & _PAGE_PRESENT))
        return;
    if (level == 1)
        put_l1e(e);
    else
        put_lne(e, level, table);
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
    mfn_t mfn = frame_to_mfn(f);
    uint64_t *t = mfn_to_virt(mfn);
    /* The guest may have dropped its writable translations without flushing: purge any still cached. */
    flush_dropped_writables(d, true);
    for (unsigned int i = 0; i < 512; i++) {
        if (level == 4 && !guest_l4_slot(i))
            continue;
        uint64_t e = t[i];
        int rc = get_entry(d, d, &e, level, mfn);
        if (rc) {
            while (i-- > 0)
                if (level != 4 || guest_l4_slot(i))
                    put_entry(t[i], level, mfn);
            ctx->validate_rc = rc;
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
    mfn_t mfn = frame_to_mfn(f);
    uint64_t *t = mfn_to_virt(mfn);
    for (unsigned int i = 0; i < 512; i++)
        if (level != 4 || guest_l4_slot(i))
            put_entry(t[i], level, mfn);
}

/* A type reference, validating the frame as a table on first use. A type conflict is -EINVAL, as in Xen; a
 * table that does not validate gives the validator's error (e.g. -EBUSY for an L1 mapping itself writable). */
int pv_get_page_type(struct domain *d, mfn_t mfn, uint64_t type)
{
    struct frame *f = mfn_to_frame(mfn);
    struct validate_ctx ctx = {.d = d};
    int rc = frame_get_type(f, type, frame_type_is_pagetable(type) ? validate_table : NULL, &ctx);
    if (rc && ctx.validate_rc)
        return ctx.validate_rc;
    return rc == -EBUSY ? -EINVAL : rc;
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

int pv_get_table_ref(struct domain *d, mfn_t mfn, uint64_t type) { return get_table_ref(d, mfn, type); }
void pv_put_table_ref(mfn_t mfn) { put_table_ref(mfn); }

/* ---- Teardown of a dying domain's memory (common/domain.c's table): one pass over its page list per level, L4
 * first. At every frame the guest's pin goes (with the references it kept) and so does the allocation
 * reference; and a table of the pass's level that is still validated -- kept so only by a cycle of linear
 * page-table entries, since the passes above devalidated every table that pointed at it -- is devalidated by
 * force, dropping what its entries held. A frame nobody else holds is freed by the last of these puts.
 *
 * The walk holds a reference on the frame it is at, and takes one on the next before letting go, so frames
 * freed meanwhile (this one included) never break it; across a continuation d->teardown_cursor keeps that
 * reference (mfn + 1; 0 = not started). */

/* From list position idx on (FRAME_NIL after `after` = start from the head), the first frame a reference can
 * still be taken on, or FRAME_NIL. A frame on the list whose count already reached zero is being freed: skipped.
 * `after` is a frame the caller holds a reference on, so it is still on the list; d->lock makes the links
 * stable. */
static uint32_t walk_next_ref(struct domain *d, uint32_t after)
{
    spin_lock(&d->lock);
    uint32_t idx = after == FRAME_NIL ? d->pages.head : frame_table[after].next;
    while (idx != FRAME_NIL && !frame_get_ref(&frame_table[idx], d->id))
        idx = frame_table[idx].next;
    spin_unlock(&d->lock);
    return idx;
}

static void relinquish_frame(mfn_t mfn, unsigned int level)
{
    struct frame *f = mfn_to_frame(mfn);
    if (frame_test_and_clear_pinned(f))
        put_table_ref(mfn);
    uint64_t old = __atomic_fetch_and(&f->count_info, ~FRAME_C_ALLOCATED, __ATOMIC_ACQ_REL);
    if (old & FRAME_C_ALLOCATED)
        pv_put_page(mfn); /* not the last: the walk holds one */
    frame_force_devalidate(f, level_type(level), devalidate_table, NULL);
}

int pv_relinquish_memory(struct domain *d, unsigned int level)
{
    ASSERT(d->is_dying == DOMDYING_dying && level >= 2 && level <= 4);
    uint32_t cur = d->teardown_cursor ? (uint32_t)(d->teardown_cursor - 1) : walk_next_ref(d, FRAME_NIL);
    while (cur != FRAME_NIL) {
        relinquish_frame(cur, level);
        uint32_t next = walk_next_ref(d, cur);
        pv_put_page(cur);
        cur = next;
        if (cur != FRAME_NIL && hypercall_preempt_check()) {
            d->teardown_cursor = (uint64_t)cur + 1;
            return -ERESTART;
        }
    }
    return 0;
}

/* ---- Changing one entry of a validated table (Xen's mod_lN_entry). */

#define PTE_AD (_PAGE_ACCESSED | _PAGE_DIRTY)

/* Writes entry `index` of `table` (a validated table of `level` owned by pt_dom) to `new`, mapping frames of
 * pg_dom. The new entry's references are taken before the old entry's are dropped. Sets *flush when a
 * translation the CPU may have cached was removed or lost write permission. */
static int set_entry(struct domain *pt_dom, struct domain *pg_dom, mfn_t table, unsigned int index, uint64_t new,
                     unsigned int level, bool preserve_ad, bool *flush)
{
    if (level == 4 && !guest_l4_slot(index))
        return -EINVAL;
    uint64_t *slot = (uint64_t *)mfn_to_virt(table) + index;
    uint64_t requested = new;
retry:
    new = requested;
    uint64_t old = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    bool fast = false;
    if (new & _PAGE_PRESENT) {
        uint64_t allowed = level == 1 ? l1_allowed(pt_dom) : PTE_BASE_ALLOWED;
        if (new & ~allowed)
            return -EINVAL;
        new = adjust_entry(new, level);
        fast = ((old ^ new) & ~PTE_FASTPATH_FLAGS) == 0;
        if (!fast) {
            int rc = get_entry(pt_dom, pg_dom, &new, level, table);
            if (rc)
                return rc;
        }
    }
    /* The CPU may set A/D in the old entry meanwhile; that changes nothing else. Any other change means another
     * vCPU updated the slot concurrently: undo and start again from what is there now. */
    for (;;) {
        uint64_t val = preserve_ad ? new | (old & PTE_AD) : new;
        uint64_t seen = old;
        if (__atomic_compare_exchange_n(slot, &seen, val, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            break;
        if ((seen ^ old) & ~PTE_AD) {
            if (!fast)
                put_entry(new, level, table);
            goto retry;
        }
        old = seen;
    }
    /* Any change above L1 flushes (paging-structure caches may still walk a table that is about to change
     * type). At L1 a removed translation is the guest's to flush, as on Xen: the TLB clock covers the frame being
     * freed, and a lost writable translation stamps the domain for the frame's next change to a page-table or
     * descriptor type (flushtlb.c) -- before the type reference goes, so that change cannot miss the stamp. A
     * writable translation of another domain's frame is flushed instead: that domain's type changes consult its
     * own dirty CPUs, not ours. */
    if (level > 1) {
        *flush = true;
    } else if ((old & (_PAGE_PRESENT | _PAGE_RW)) == (_PAGE_PRESENT | _PAGE_RW) &&
               (!(new & _PAGE_PRESENT) || ((old ^ new) & PTE_ADDR_MASK) || !(new & _PAGE_RW))) {
        mfn_t gone = pte_mfn(old);
        if (mfn_valid(gone) && mfn_to_frame(gone)->owner != pt_dom->id)
            *flush = true;
        else
            tlb_note_writable_drop(pt_dom);
    }
    if (!fast)
        put_entry(old, level, table);
    return 0;
}

/* The level of a validated table frame, or 0. */
static unsigned int table_level(mfn_t mfn)
{
    struct frame *f = mfn_to_frame(mfn);
    uint64_t ti = __atomic_load_n(&f->type_info, __ATOMIC_ACQUIRE);
    if (!(ti & FRAME_T_COUNT_MASK) || !(ti & FRAME_T_VALIDATED) || !frame_type_is_pagetable(ti & FRAME_T_MASK))
        return 0;
    return (unsigned int)((ti & FRAME_T_MASK) >> FRAME_T_SHIFT);
}

/* Xen's get_pg_owner(): DOMID_SELF is the caller; naming oneself by number, or a domain that does not exist (or
 * is dying), finds nobody (-ESRCH). Permission is checked per operation. A real domain comes with a reference,
 * dropped by put_pg_owner(). */
static struct domain *get_pg_owner(struct domain *cur, domid_t id)
{
    if (id == DOMID_IO)
        return &dom_io;
    if (id == DOMID_XEN)
        return &dom_xen;
    if (id == cur->id)
        return NULL;
    return domain_get_by_any_id(id);
}

static void put_pg_owner(struct domain *d)
{
    if (d && !is_pseudo_domain(d))
        domain_put(d);
}

/* Xen's guest_handle_okay() for an array of `count` elements of `size` bytes: the start must be a guest address
 * and the total must not overflow. */
static bool array_ok(uint64_t va, uint64_t count, uint64_t size) { return count < ~0UL / size && xen_addr_ok(va); }

static void report_done(uint64_t pdone, uint32_t done)
{
    if (pdone)
        (void)copy_to_guest(pdone, &done, sizeof(done)); /* Xen ignores a fault here */
}

HC(do_mmu_update)
{
    struct vcpu *v = current_vcpu();
    struct domain *d = v->domain, *pt_owner = d;
    uint64_t ureqs = a1, pdone = a3;
    unsigned int count = (unsigned int)a2, foreigndom = (unsigned int)a4;
    uint32_t done = 0;
    if (count & MMU_UPDATE_PREEMPTED) {
        count &= ~MMU_UPDATE_PREEMPTED;
        if (pdone)
            (void)copy_from_guest(&done, pdone, sizeof(done));
    }
    if (!array_ok(ureqs, count, sizeof(struct mmu_update)))
        return -EFAULT;
    if (foreigndom >> 16) {
        /* The page tables belong to another domain (a privileged caller building or debugging it). */
        pt_owner = domain_get((domid_t)((foreigndom >> 16) - 1));
        if (!pt_owner)
            return -ESRCH;
        if (pt_owner != d && !pt_owner->vcpus[0]) {
            domain_put(pt_owner);
            return -EINVAL;
        }
    } else {
        domain_hold(pt_owner);
    }
    struct domain *pg_owner = get_pg_owner(d, (domid_t)foreigndom);
    if (!pg_owner) {
        domain_put(pt_owner);
        return -ESRCH;
    }
    long rc = 0;
    bool flush = false;
    unsigned int i;
    for (i = 0; i < count; i++) {
        struct mmu_update req;
        if (i && hypercall_preempt_check()) {
            /* The rest later: *pdone carries the count so far across the continuation. */
            if (flush)
                flush_tlb_domain(pt_owner);
            report_done(pdone, done + i);
            put_pg_owner(pg_owner);
            domain_put(pt_owner);
            unsigned long args[4] = {ureqs + i * sizeof(req), (count - i) | MMU_UPDATE_PREEMPTED, pdone,
                                     (unsigned long)foreigndom};
            return hypercall_continue(__HYPERVISOR_mmu_update, 4, args);
        }
        if (copy_from_guest(&req, ureqs + i * sizeof(req), sizeof(req))) {
            rc = -EFAULT;
            break;
        }
        unsigned int cmd = req.ptr & 7;
        switch (cmd) {
        case MMU_NORMAL_PT_UPDATE:
        case MMU_PT_UPDATE_PRESERVE_AD:
        case MMU_PT_UPDATE_NO_TRANSLATE: { /* PV frames are machine frames: nothing to translate */
            if ((pg_owner != &dom_io && !may_target(d, pg_owner)) || !may_target(d, pt_owner)) {
                rc = -EPERM;
                break;
            }
            mfn_t mfn = req.ptr >> PAGE_SHIFT;
            if (!pv_get_page(pt_owner, mfn)) {
                rc = -EINVAL;
                break;
            }
            unsigned int index = (req.ptr & (PAGE_SIZE - 1)) >> 3;
            unsigned int level = table_level(mfn);
            rc = -EINVAL;
            if (level == 1) {
                rc = set_entry(pt_owner, pg_owner, mfn, index, req.val, 1, cmd == MMU_PT_UPDATE_PRESERVE_AD,
                               &flush);
            } else if (level) {
                if (pg_owner == pt_owner)
                    rc = set_entry(pt_owner, pt_owner, mfn, index, req.val, level,
                                   cmd == MMU_PT_UPDATE_PRESERVE_AD, &flush);
            } else if (!frame_get_type(mfn_to_frame(mfn), FRAME_T_WRITABLE, NULL, NULL)) {
                /* An ordinary page: the write simply happens. */
                __atomic_store_n((uint64_t *)mfn_to_virt(mfn) + index, req.val, __ATOMIC_RELAXED);
                frame_put_type(mfn_to_frame(mfn), NULL, NULL);
                rc = 0;
            }
            pv_put_page(mfn);
            break;
        }
        case MMU_MACHPHYS_UPDATE: {
            if (d != pt_owner) {
                rc = -EPERM;
                break;
            }
            if (pg_owner != &dom_io && !may_target(d, pg_owner)) {
                rc = -EPERM;
                break;
            }
            mfn_t mfn = req.ptr >> PAGE_SHIFT;
            if (is_pseudo_domain(pg_owner) || !pv_get_page(pg_owner, mfn)) {
                rc = -EINVAL;
                break;
            }
            set_gpfn_from_mfn(mfn, req.val);
            pv_put_page(mfn);
            rc = 0;
            break;
        }
        default:
            rc = -ENOSYS;
            break;
        }
        if (rc)
            break;
    }
    if (flush)
        flush_tlb_domain(pt_owner);
    report_done(pdone, done + i);
    put_pg_owner(pg_owner);
    domain_put(pt_owner);
    return rc;
}

/* Finds the L1 table and index that map va in the vCPU's current address space (Xen's map_guest_l1e). Returns 0
 * if there is none (a level not present, or a superpage). */
static mfn_t find_l1(uint64_t va, unsigned int *index)
{
    mfn_t t = read_cr3() >> PAGE_SHIFT;
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

static bool is_canonical(uint64_t va) { return ((int64_t)va >> 47) == 0 || ((int64_t)va >> 47) == -1; }

/* The UVMF_* / MMUEXT_*_MULTI vCPU bitmap at va, turned into the CPUs to flush (Xen's vcpumask_to_pcpumask):
 * each listed vCPU's CPU, if that CPU may hold the domain's translations. Bits past the domain's vCPUs are
 * ignored. -EFAULT if the bitmap cannot be read. */
static int vcpumask_to_cpus(struct domain *d, uint64_t va, struct cpumask *cpus)
{
    cpumask_clear_all(cpus);
    for (unsigned int i = 0; i < d->max_vcpus; i += 64) {
        uint64_t word;
        if (copy_from_guest(&word, va + i / 8, sizeof(word)))
            return -EFAULT;
        for (; word; word &= word - 1) {
            unsigned int id = i + (unsigned int)__builtin_ctzll(word);
            struct vcpu *v = id < d->max_vcpus ? d->vcpus[id] : NULL;
            if (v && cpumask_test(&d->dirty_cpus, v->processor))
                cpumask_set(cpus, v->processor);
        }
    }
    return 0;
}

/* A guest address a single-page flush may name (Xen's __addr_ok); anything else makes it a no-op, as in Xen. */
static bool invlpg_ok(uint64_t va) { return is_canonical(va) && xen_addr_ok(va); }

/* UVMF_TLB_FLUSH or UVMF_INVLPG on this CPU, every CPU of the domain, or the CPUs of a vCPU bitmap. */
static long flush_by_flags(struct domain *d, uint64_t va, unsigned long flags)
{
    unsigned long type = flags & UVMF_FLUSHTYPE_MASK, which = flags & ~UVMF_FLUSHTYPE_MASK;
    if (type != UVMF_TLB_FLUSH && type != UVMF_INVLPG)
        return 0;
    if (which == UVMF_LOCAL) {
        if (type == UVMF_TLB_FLUSH)
            flush_tlb_local();
        else if (is_canonical(va))
            invlpg((void *)va);
        return 0;
    }
    struct cpumask cpus;
    const struct cpumask *mask = &d->dirty_cpus;
    if (which != UVMF_ALL) {
        if (vcpumask_to_cpus(d, which, &cpus))
            return -EFAULT;
        mask = &cpus;
    }
    if (type == UVMF_TLB_FLUSH)
        flush_tlb_mask(mask);
    else if (invlpg_ok(va))
        flush_tlb_one_mask(mask, va);
    return 0;
}

static long update_va_mapping(struct domain *pg_owner, uint64_t va, uint64_t val, unsigned long flags)
{
    struct vcpu *v = current_vcpu();
    struct domain *d = v->domain;
    if (!may_target(d, pg_owner))
        return -EPERM;
    if (!xen_addr_ok(va))
        return -EINVAL;
    unsigned int index;
    mfn_t l1 = find_l1(va, &index);
    if (!l1 || !pv_get_page(d, l1))
        return -EINVAL;
    long rc = -EINVAL;
    bool flush = false;
    if (table_level(l1) == 1)
        rc = set_entry(d, pg_owner, l1, index, val, 1, false, &flush);
    pv_put_page(l1);
    if (rc)
        return rc; /* nothing changed: no flush */
    if (flush)
        flush_tlb_domain(d); /* see set_entry(): a foreign writable translation went away */
    return flush_by_flags(d, va, flags);
}

HC(do_update_va_mapping)
{
    return update_va_mapping(current_domain(), a1, a2, a3);
}

HC(do_update_va_mapping_otherdomain)
{
    struct domain *pg_owner = get_pg_owner(current_domain(), (domid_t)a4);
    if (!pg_owner)
        return -ESRCH;
    long rc = update_va_mapping(pg_owner, a1, a2, a3);
    put_pg_owner(pg_owner);
    return rc;
}

static long new_baseptr(struct vcpu *v, mfn_t mfn, bool user)
{
    struct domain *d = v->domain;
    mfn_t *slot = user ? &v->pv.user_l4 : &v->pv.kernel_l4;
    if (mfn == *slot) {
        if (!user)
            flush_tlb_local();
        return 0;
    }
    if (user && !mfn) {
        mfn_t old = *slot;
        *slot = 0;
        put_table_ref(old);
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

static long pin_table(struct domain *pg_owner, mfn_t mfn, unsigned int level)
{
    if (is_pseudo_domain(pg_owner))
        return -EINVAL;
    int rc = get_table_ref(pg_owner, mfn, level_type(level));
    if (rc)
        return rc;
    if (frame_test_and_set_pinned(mfn_to_frame(mfn))) {
        put_table_ref(mfn);
        return -EINVAL;
    }
    return 0;
}

static long unpin_table(struct domain *pg_owner, mfn_t mfn)
{
    if (is_pseudo_domain(pg_owner) || !pv_get_page(pg_owner, mfn))
        return -EINVAL;
    long rc = 0;
    if (!frame_test_and_clear_pinned(mfn_to_frame(mfn)))
        rc = -EINVAL;
    else
        put_table_ref(mfn);
    pv_put_page(mfn);
    return rc;
}

static void wbinvd_on_cpu(void *unused)
{
    (void)unused;
    __asm__ volatile("wbinvd" ::: "memory");
}

/* MMUEXT_CLEAR_PAGE / COPY_PAGE: the destination must be able to take the writable type (not a table). */
static long clear_or_copy_page(struct domain *pg_owner, mfn_t dst, mfn_t src, bool copy)
{
    if (is_pseudo_domain(pg_owner))
        return -EINVAL;
    if (copy && !pv_get_page(pg_owner, src))
        return -EINVAL;
    long rc = -EINVAL;
    if (pv_get_page(pg_owner, dst)) {
        if (!frame_get_type(mfn_to_frame(dst), FRAME_T_WRITABLE, NULL, NULL)) {
            if (copy)
                memcpy(mfn_to_virt(dst), mfn_to_virt(src), PAGE_SIZE);
            else
                memset(mfn_to_virt(dst), 0, PAGE_SIZE);
            frame_set_count_flags(mfn_to_frame(dst), FRAME_C_DIRTY);
            frame_put_type(mfn_to_frame(dst), NULL, NULL);
            rc = 0;
        }
        pv_put_page(dst);
    }
    if (copy)
        pv_put_page(src);
    return rc;
}

static long mmuext_one(struct vcpu *v, struct domain *pg_owner, const struct mmuext_op *op)
{
    struct domain *d = v->domain;
    bool own = pg_owner == d;
    mfn_t mfn = op->arg1.mfn;
    switch (op->cmd) {
    case MMUEXT_PIN_L1_TABLE:
    case MMUEXT_PIN_L2_TABLE:
    case MMUEXT_PIN_L3_TABLE:
    case MMUEXT_PIN_L4_TABLE:
        return pin_table(pg_owner, mfn, op->cmd - MMUEXT_PIN_L1_TABLE + 1);
    case MMUEXT_UNPIN_TABLE:
        return unpin_table(pg_owner, mfn);
    case MMUEXT_NEW_BASEPTR:
        return own ? new_baseptr(v, mfn, false) : -EPERM;
    case MMUEXT_NEW_USER_BASEPTR:
        return own ? new_baseptr(v, mfn, true) : -EPERM;
    case MMUEXT_TLB_FLUSH_LOCAL:
        if (!own)
            return -EPERM;
        flush_tlb_local();
        return 0;
    case MMUEXT_INVLPG_LOCAL:
        if (!own)
            return -EPERM;
        if (is_canonical(op->arg1.linear_addr))
            invlpg((void *)op->arg1.linear_addr);
        return 0;
    case MMUEXT_TLB_FLUSH_MULTI:
    case MMUEXT_INVLPG_MULTI: {
        if (!own)
            return -EPERM;
        struct cpumask cpus;
        if (vcpumask_to_cpus(d, op->arg2.vcpumask.p, &cpus))
            return -EINVAL;
        if (op->cmd == MMUEXT_TLB_FLUSH_MULTI)
            flush_tlb_mask(&cpus);
        else if (invlpg_ok(op->arg1.linear_addr))
            flush_tlb_one_mask(&cpus, op->arg1.linear_addr);
        return 0;
    }
    case MMUEXT_TLB_FLUSH_ALL:
        if (!own)
            return -EPERM;
        flush_tlb_domain(d);
        return 0;
    case MMUEXT_INVLPG_ALL:
        if (!own)
            return -EPERM;
        if (invlpg_ok(op->arg1.linear_addr))
            flush_tlb_one_mask(&d->dirty_cpus, op->arg1.linear_addr);
        return 0;
    case MMUEXT_FLUSH_CACHE:
        if (!own)
            return -EPERM;
        if (!d->io_all)
            return -EACCES;
        __asm__ volatile("wbinvd" ::: "memory");
        return 0;
    case MMUEXT_FLUSH_CACHE_GLOBAL:
        if (!own)
            return -EPERM;
        if (!d->io_all)
            return -EINVAL;
        __asm__ volatile("wbinvd" ::: "memory");
        smp_call_function(wbinvd_on_cpu, NULL);
        return 0;
    case MMUEXT_SET_LDT: {
        uint64_t ents = op->arg2.nr_ents, base = ents ? op->arg1.linear_addr : 0;
        if (!own)
            return -EPERM;
        if (ents > 8192 || (ents && ((base & (PAGE_SIZE - 1)) || !xen_addr_ok(base))))
            return -EINVAL;
        pv_set_ldt(v, base, (unsigned int)ents); /* descriptors.c */
        return 0;
    }
    case MMUEXT_CLEAR_PAGE:
        return clear_or_copy_page(pg_owner, mfn, 0, false);
    case MMUEXT_COPY_PAGE:
        return clear_or_copy_page(pg_owner, mfn, op->arg2.src_mfn, true);
    case MMUEXT_MARK_SUPER:
    case MMUEXT_UNMARK_SUPER:
        return -EOPNOTSUPP;
    default:
        return -ENOSYS;
    }
}
/* ---- Exposed for the privileged-instruction emulation area (emulate.c, ptwr.c). */

unsigned int pv_table_level(mfn_t mfn) { return mfn_valid(mfn) ? table_level(mfn) : 0; }

/* One guest store to an entry of a validated L1 table (writable page tables): the new value goes through the
 * same validation and reference rules as mmu_update. With expected non-NULL the store is a compare-exchange:
 * if the entry no longer holds *expected, nothing changes, *expected receives the current value and the result
 * is -EAGAIN. The caller holds a general reference on the table. */
int pv_write_l1_entry(struct domain *d, mfn_t table, unsigned int index, uint64_t new, uint64_t *expected)
{
    if (table_level(table) != 1)
        return -EINVAL;
    if (expected) {
        /* The emulated instruction's compare: a concurrent change by another vCPU makes the guest retry it.
         * (set_entry() itself retries its own exchange, so a change after this check is still applied whole.) */
        uint64_t cur = __atomic_load_n((uint64_t *)mfn_to_virt(table) + index, __ATOMIC_ACQUIRE);
        if (cur != *expected) {
            *expected = cur;
            return -EAGAIN;
        }
    }
    bool flush = false;
    int rc = set_entry(d, d, table, index, new, 1, false, &flush);
    if (!rc && flush) /* see set_entry() */
        flush_tlb_domain(d);
    return rc;
}

/* CR3 writes by the guest kernel: MMUEXT_NEW_BASEPTR semantics. */
long pv_new_guest_cr3(struct vcpu *v, mfn_t mfn) { return new_baseptr(v, mfn, false); }

HC(do_mmuext_op)
{
    struct vcpu *v = current_vcpu();
    struct domain *d = v->domain;
    uint64_t uops = a1, pdone = a3;
    unsigned int count = (unsigned int)a2;
    uint32_t done = 0;
    if (count & MMU_UPDATE_PREEMPTED) {
        count &= ~MMU_UPDATE_PREEMPTED;
        if (pdone)
            (void)copy_from_guest(&done, pdone, sizeof(done));
    }
    if (!array_ok(uops, count, sizeof(struct mmuext_op)))
        return -EFAULT;
    struct domain *pg_owner = get_pg_owner(d, (domid_t)a4);
    if (!pg_owner)
        return -ESRCH;
    if (!may_target(d, pg_owner)) {
        put_pg_owner(pg_owner);
        return -EPERM;
    }
    long rc = 0;
    unsigned int i;
    for (i = 0; i < count; i++) {
        struct mmuext_op op;
        if (i && hypercall_preempt_check()) {
            report_done(pdone, done + i);
            put_pg_owner(pg_owner);
            unsigned long args[4] = {uops + i * sizeof(op), (count - i) | MMU_UPDATE_PREEMPTED, pdone, a4};
            return hypercall_continue(__HYPERVISOR_mmuext_op, 4, args);
        }
        if (copy_from_guest(&op, uops + i * sizeof(op), sizeof(op))) {
            rc = -EFAULT;
            break;
        }
        rc = mmuext_one(v, pg_owner, &op);
        if (rc)
            break;
    }
    report_done(pdone, done + i);
    put_pg_owner(pg_owner);
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

/* ---- Grant mappings (for common/grant_table.c; Xen's arch/x86/pv/grant_table.c).
 *
 * A grant mapping's L1 entry is built by the hypervisor, not validated like a guest's: the grant code has already
 * taken the references such an entry holds (a general reference on the frame, plus a writable type reference when
 * it maps it writable), exactly the ones put_l1e() drops. So the entry is written as is, and whatever it replaced
 * is released the ordinary way. Like Xen's release builds, the entry carries no marker bit: a guest that
 * overwrites it with mmu_update simply drops those references, and the grant can then no longer be unmapped. */

/* Xen's grant_to_pte_flags() followed by the guest-kernel adjustment every L1 entry gets. */
static uint64_t grant_pte(mfn_t frame, unsigned int flags)
{
    uint64_t e = (frame << PAGE_SHIFT) | _PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_NX;
    if (flags & GNTMAP_application_map)
        e |= _PAGE_USER;
    if (!(flags & GNTMAP_readonly))
        e |= _PAGE_RW;
    e |= ((uint64_t)(flags >> _GNTMAP_guest_avail0) << 9) & PTE_AVAIL;
    return adjust_entry(e, 1);
}

/* The L1 slot a grant operation names: a linear address in the current address space, or (by_maddr) the machine
 * address of the entry itself, which must be 8-byte aligned. The table must be a validated L1 that d owns; it is
 * returned with a general and a type reference held (release with put_table_ref), so it stays an L1 while the
 * slot is changed. */
static uint64_t *grant_l1_slot(struct domain *d, uint64_t addr, bool by_maddr, mfn_t *l1)
{
    mfn_t t;
    unsigned int index;
    if (by_maddr) {
        if (addr & 7)
            return NULL;
        t = addr >> PAGE_SHIFT;
        index = (unsigned int)(addr & (PAGE_SIZE - 1)) >> 3;
    } else {
        if (!xen_addr_ok(addr))
            return NULL;
        t = find_l1(addr, &index);
        if (!t)
            return NULL;
    }
    if (!pv_get_page(d, t))
        return NULL;
    if (table_level(t) != 1 || pv_get_page_type(d, t, FRAME_T_L1)) {
        pv_put_page(t);
        return NULL;
    }
    *l1 = t;
    return (uint64_t *)mfn_to_virt(t) + index;
}

int pv_grant_create_mapping(uint64_t addr, mfn_t frame, unsigned int flags)
{
    struct domain *d = current_domain();
    mfn_t l1;
    uint64_t *slot = grant_l1_slot(d, addr, flags & GNTMAP_contains_pte, &l1);
    if (!slot)
        return GNTST_general_error;
    uint64_t old = __atomic_exchange_n(slot, grant_pte(frame, flags), __ATOMIC_ACQ_REL);
    put_table_ref(l1);
    put_entry(old, 1, 0);
    if (old & _PAGE_PRESENT)
        flush_tlb_domain(d);
    return GNTST_okay;
}

/* Takes the entry mapping `linear` out of d's page table, references and all (GNTTABOP_unmap_and_replace). */
static bool steal_linear_address(struct domain *d, uint64_t linear, uint64_t *out)
{
    mfn_t l1;
    uint64_t *slot = grant_l1_slot(d, linear, false, &l1);
    if (!slot)
        return false;
    *out = __atomic_exchange_n(slot, 0, __ATOMIC_ACQ_REL);
    put_table_ref(l1);
    return true;
}

int pv_grant_replace_mapping(uint64_t addr, mfn_t frame, uint64_t new_addr, unsigned int flags)
{
    struct domain *d = current_domain();
    uint64_t expect = grant_pte(frame, flags), new = 0;
    int rc = GNTST_general_error;
    if (flags & GNTMAP_contains_pte) {
        if (new_addr)
            return rc; /* replacing is only offered for linear addresses */
    } else if (new_addr && !steal_linear_address(d, new_addr, &new)) {
        return rc;
    }
    mfn_t l1;
    uint64_t *slot = grant_l1_slot(d, addr, flags & GNTMAP_contains_pte, &l1);
    if (slot) {
        /* The entry must still map the granted frame, present and with the grant's writability. */
        uint64_t old = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
        if (pte_mfn(old) == frame && !((old ^ expect) & (_PAGE_PRESENT | _PAGE_RW)) &&
            __atomic_compare_exchange_n(slot, &old, new, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            rc = GNTST_okay;
        put_table_ref(l1);
    }
    if (rc)
        put_entry(new, 1, 0); /* the stolen entry has nowhere to go: release it */
    return rc;
}
