/* grant_table_op: a domain's grant table, the shared pages through which it offers its memory to others
 * (Xen 4.17 common/grant_table.c).
 *
 * The table's frames are hypervisor pages shared writable with the owning domain, which maps them by MFN and
 * writes grant entries into them (version 1: 8-byte entries; version 2: 16-byte entries plus separate status
 * frames, 2 bytes per entry). Beside them the hypervisor keeps, per entry, an active record: who has the grant
 * pinned, how often (four 8-bit counters: host/device x read/write mappings), and which frame it resolved to.
 * While an entry is pinned the granting domain sees GTF_reading / GTF_writing in its flags (v1) or status (v2).
 *
 * The mapping side (map_grant_ref) records each mapping in the mapper's maptrack table; the index is the handle
 * the guest later unmaps with. Maptrack entries are handed out from per-vCPU free lists exactly as Xen does, so
 * guests see the same handle numbers. A mapping holds page references like a page-table entry would: a general
 * reference per mapping, plus a writable type reference for a writable one. The page-table side of host
 * mappings lives in arch/x86/pv/mm.c (pv_grant_create_mapping / pv_grant_replace_mapping).
 *
 * Locking: one spinlock per table covers its version, sizes, active records and maptrack entries that name it;
 * no code path holds two tables' locks at once. Page-table updates run without any grant lock held.
 *
 * Like Xen, every domain starts with one frame and version 1, and may grow to 64 frames. The table is created
 * when the domain first uses a grant op (or is first named by one); nothing can observe it earlier. Vesta has no
 * hypercall continuations: a batch runs to its end in one call. */
#include <public/grant_table.h>
#include <public/memory.h>
#include <vesta/errno.h>
#include <vesta/grant_table.h>
#include <vesta/guest_access.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/pv.h>

#define GNTTABOP_ARG_SHIFT 12
#define GNTTABOP_CMD_MASK ((1U << GNTTABOP_ARG_SHIFT) - 1)

#define INITIAL_NR_GRANT_FRAMES 1U
#define MAX_GRANT_FRAMES 64U       /* Xen's gnttab_max_frames default */
#define ENTRIES_V1_PER_FRAME (PAGE_SIZE / sizeof(struct grant_entry_v1))
#define ENTRIES_V2_PER_FRAME (PAGE_SIZE / sizeof(union grant_entry_v2))
#define STATUS_PER_FRAME (PAGE_SIZE / sizeof(grant_status_t))
/* Status frames needed for n shared frames of version-2 entries. */
#define STATUS_FRAMES(n) (((n) * ENTRIES_V2_PER_FRAME + STATUS_PER_FRAME - 1) / STATUS_PER_FRAME)
#define MAX_STATUS_FRAMES STATUS_FRAMES(MAX_GRANT_FRAMES)

/* Active records are kept per shared frame, sized for version 1 (the denser format), like Xen's. */
#define ACTIVE_PER_FRAME ENTRIES_V1_PER_FRAME

/* Pin counters of an active record (Xen's GNTPIN_*): four 8-bit counts in one word. */
#define PIN_HSTW 0x00000001U /* writable host mappings */
#define PIN_HSTR 0x00000100U /* read-only host mappings */
#define PIN_DEVW 0x00010000U /* writable device mappings */
#define PIN_DEVR 0x01000000U /* read-only device mappings */
#define PIN_HSTW_MASK 0x000000ffU
#define PIN_DEVW_MASK 0x00ff0000U
#define PIN_WRITE_MASK (PIN_HSTW_MASK | PIN_DEVW_MASK)
/* The top bit of each counter touched by an increment: set means one more could overflow it. */
#define PIN_OVERFLOW_MASK(incr) ((incr) << 7)

struct active_grant {
    uint32_t pin;
    domid_t domid;               /* the domain holding the pins */
    uint16_t start, length;      /* the part of the page granted (sub-page and transitive grants) */
    bool is_sub_page;
    grant_ref_t trans_gref;      /* for transitive grants: the entry in trans_domain finally used */
    struct domain *trans_domain;
    mfn_t mfn;
};

/* Maptrack: Xen's struct grant_mapping. A free entry's ref links the free list. */
struct maptrack_entry {
    grant_ref_t ref;
    uint16_t flags;              /* GNTMAP_*; 0 = free */
    domid_t domid;               /* the granting domain */
    uint32_t vcpu;               /* the vCPU whose free list the entry returns to */
    uint32_t pad;
};
#define MAPTRACK_PER_FRAME (PAGE_SIZE / sizeof(struct maptrack_entry))
#define MAX_MAPTRACK_FRAMES 1024U  /* Xen's gnttab_max_maptrack_frames default */
#define MAPTRACK_TAIL (~0U)
#define INVALID_HANDLE (~0U)

struct maptrack_freelist {
    unsigned int head, tail;
};

struct grant_table {
    spinlock_t lock;
    unsigned int version;
    unsigned int nr_frames, max_frames, max_maptrack_frames; /* limits from the domain's configuration */
    unsigned int nr_status_frames;
    void *shared[MAX_GRANT_FRAMES];
    void *status[MAX_STATUS_FRAMES];
    struct active_grant *active[MAX_GRANT_FRAMES];
    unsigned int nr_v2_ops;      /* sub-page / transitive copies in progress (block the switch back to v1) */
    /* Mappings this domain made of other domains' grants (or its own). */
    spinlock_t maptrack_lock;
    unsigned int maptrack_limit; /* entries allocated: MAPTRACK_PER_FRAME * frames */
    struct maptrack_entry *maptrack[MAX_MAPTRACK_FRAMES];
    struct maptrack_freelist *mt_free; /* per vCPU, max_vcpus of them */
};

/* ---- Frames shared with the domain. */

/* Takes a shared frame back, unless the domain still holds a reference to it (a mapping): then nothing changes
 * and the answer is false. */
static bool frame_unused_by_guest(void *p)
{
    struct frame *f = mfn_to_frame(virt_to_mfn(p));
    return frame_ref_count(f) == 1 && frame_type_count(f) == 0;
}

static int grow_status(struct domain *d, struct grant_table *gt, unsigned int nr_frames)
{
    unsigned int want = STATUS_FRAMES(nr_frames), i;
    for (i = gt->nr_status_frames; i < want; i++) {
        gt->status[i] = domain_share_xen_page(d);
        if (!gt->status[i]) {
            while (i-- > gt->nr_status_frames)
                domain_unshare_xen_page(gt->status[i]);
            return -ENOMEM;
        }
    }
    if (want > gt->nr_status_frames)
        gt->nr_status_frames = want;
    return 0;
}

/* Xen's gnttab_grow_table(): new shared frames up to `want` (and status frames for version 2). */
static int grow_table(struct domain *d, struct grant_table *gt, unsigned int want)
{
    if (want < INITIAL_NR_GRANT_FRAMES)
        want = INITIAL_NR_GRANT_FRAMES;
    unsigned int i;
    for (i = gt->nr_frames; i < want; i++) {
        if (!gt->active[i] && !(gt->active[i] = xzalloc(ACTIVE_PER_FRAME * sizeof(struct active_grant))))
            goto fail;
        gt->shared[i] = domain_share_xen_page(d);
        if (!gt->shared[i])
            goto fail;
    }
    if (gt->version > 1 && grow_status(d, gt, want))
        goto fail;
    if (want > gt->nr_frames)
        gt->nr_frames = want;
    return 0;
fail:
    /* Active records stay allocated (all zero): a later growth reuses them. */
    while (i-- > gt->nr_frames) {
        domain_unshare_xen_page(gt->shared[i]);
        gt->shared[i] = NULL;
    }
    return -ENOMEM;
}

static struct grant_table *grant_table_of(struct domain *d)
{
    struct grant_table *gt = __atomic_load_n((struct grant_table **)&d->grant, __ATOMIC_ACQUIRE);
    if (gt)
        return gt;
    gt = xzalloc(sizeof(*gt));
    if (!gt)
        return NULL;
    gt->lock = (spinlock_t)SPINLOCK_INIT;
    gt->maptrack_lock = (spinlock_t)SPINLOCK_INIT;
    gt->version = 1;
    gt->max_frames = MIN(d->max_grant_frames, MAX_GRANT_FRAMES);
    gt->max_maptrack_frames = MIN(d->max_maptrack_frames, MAX_MAPTRACK_FRAMES);
    gt->mt_free = xmalloc(d->max_vcpus * sizeof(*gt->mt_free));
    if (!gt->mt_free || grow_table(d, gt, INITIAL_NR_GRANT_FRAMES)) {
        xfree(gt->mt_free);
        xfree(gt->active[0]);
        xfree(gt);
        return NULL;
    }
    for (unsigned int i = 0; i < d->max_vcpus; i++)
        gt->mt_free[i].head = gt->mt_free[i].tail = MAPTRACK_TAIL;
    struct grant_table *expected = NULL;
    if (!__atomic_compare_exchange_n((struct grant_table **)&d->grant, &expected, gt, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        /* Another vCPU created it first. */
        domain_unshare_xen_page(gt->shared[0]);
        xfree(gt->active[0]);
        xfree(gt->mt_free);
        xfree(gt);
        return expected;
    }
    return gt;
}

/* ---- The sub-ops. */


/* Xen's guest_handle_okay() on a list of 8-byte frame numbers. */
static bool frame_list_ok(uint64_t va) { return xen_addr_ok(va); } /* the count (32-bit) cannot overflow */

static long write_status(uint64_t uop, size_t offset, int16_t status)
{
    return copy_to_guest(uop + offset, &status, sizeof(status)) ? -EFAULT : 0;
}

static long setup_table(uint64_t uop, unsigned int count)
{
    struct gnttab_setup_table op;
    if (count != 1)
        return -EINVAL;
    if (copy_from_guest_obj(&op, uop))
        return -EFAULT;
    if (!frame_list_ok(op.frame_list.p))
        return -EFAULT;
    struct domain *d = domain_get_by_any_id(op.dom);
    struct grant_table *gt;
    if (!d) {
        op.status = GNTST_bad_domain;
    } else if (!may_target(current_domain(), d)) {
        op.status = GNTST_permission_denied;
    } else if (!(gt = grant_table_of(d))) {
        op.status = GNTST_general_error;
    } else {
        spin_lock(&gt->lock);
        if (op.nr_frames > gt->max_frames) {
            op.status = GNTST_general_error;
        } else if ((op.nr_frames > gt->nr_frames ||
                    (gt->version > 1 && STATUS_FRAMES(op.nr_frames) > gt->nr_status_frames)) &&
                   grow_table(d, gt, op.nr_frames)) {
            op.status = GNTST_general_error;
        } else {
            op.status = GNTST_okay;
            for (uint32_t i = 0; i < op.nr_frames; i++) {
                uint64_t mfn = virt_to_mfn(gt->shared[i]);
                if (copy_to_guest(op.frame_list.p + i * 8, &mfn, 8))
                    op.status = GNTST_bad_virt_addr;
            }
        }
        spin_unlock(&gt->lock);
    }
    if (d)
        domain_put(d);
    return write_status(uop, offsetof(struct gnttab_setup_table, status), op.status);
}

static long query_size(uint64_t uop, unsigned int count)
{
    struct gnttab_query_size op;
    if (count != 1)
        return -EINVAL;
    if (copy_from_guest_obj(&op, uop))
        return -EFAULT;
    struct domain *d = domain_get_by_any_id(op.dom);
    struct grant_table *gt;
    if (!d) {
        op.status = GNTST_bad_domain;
    } else if (!may_target(current_domain(), d)) {
        op.status = GNTST_permission_denied;
    } else if (!(gt = grant_table_of(d))) {
        op.status = GNTST_general_error;
    } else {
        spin_lock(&gt->lock);
        op.nr_frames = gt->nr_frames;
        op.max_nr_frames = gt->max_frames;
        op.status = GNTST_okay;
        spin_unlock(&gt->lock);
    }
    if (d)
        domain_put(d);
    return copy_to_guest_obj(uop, &op) ? -EFAULT : 0;
}

static struct grant_entry_v1 *entry_v1(struct grant_table *gt, unsigned int i)
{
    return (struct grant_entry_v1 *)gt->shared[i / ENTRIES_V1_PER_FRAME] + i % ENTRIES_V1_PER_FRAME;
}

static union grant_entry_v2 *entry_v2(struct grant_table *gt, unsigned int i)
{
    return (union grant_entry_v2 *)gt->shared[i / ENTRIES_V2_PER_FRAME] + i % ENTRIES_V2_PER_FRAME;
}

static grant_status_t *status_entry(struct grant_table *gt, unsigned int i)
{
    return (grant_status_t *)gt->status[i / STATUS_PER_FRAME] + i % STATUS_PER_FRAME;
}

static unsigned int nr_entries(const struct grant_table *gt)
{
    return gt->nr_frames * (unsigned int)(gt->version == 1 ? ENTRIES_V1_PER_FRAME : ENTRIES_V2_PER_FRAME);
}

static struct active_grant *active_entry(struct grant_table *gt, grant_ref_t ref)
{
    return &gt->active[ref / ACTIVE_PER_FRAME][ref % ACTIVE_PER_FRAME];
}

/* Switching versions keeps the first 8 entries (reserved for the toolstack: console and xenstore rings),
 * converted to the new format, and clears the rest. It fails while another entry is pinned (-EBUSY), while a
 * v2-only copy is in flight (-EAGAIN), if a status frame is still mapped (-EBUSY, cf. XSA-255) or a reserved v2
 * entry cannot be expressed in v1 (-ERANGE). */
static long change_version(struct domain *d, struct grant_table *gt, unsigned int version)
{
    struct grant_entry_v1 keep[GNTTAB_NR_RESERVED_ENTRIES];
    for (unsigned int i = GNTTAB_NR_RESERVED_ENTRIES; i < nr_entries(gt); i++)
        if (active_entry(gt, i)->pin)
            return -EBUSY;
    if (gt->version == 2 && gt->nr_v2_ops)
        return -EAGAIN;
    if (gt->version == 1) {
        if (grow_status(d, gt, gt->nr_frames))
            return -ENOMEM;
        memcpy(keep, entry_v1(gt, 0), sizeof(keep));
    } else {
        for (unsigned int i = 0; i < GNTTAB_NR_RESERVED_ENTRIES; i++) {
            union grant_entry_v2 *e = entry_v2(gt, i);
            unsigned int type = e->hdr.flags & GTF_type_mask;
            if ((type == GTF_permit_access && (e->full_page.frame >> 32)) || type == GTF_transitive)
                return -ERANGE;
        }
        for (unsigned int i = 0; i < GNTTAB_NR_RESERVED_ENTRIES; i++) {
            union grant_entry_v2 *e = entry_v2(gt, i);
            memset(&keep[i], 0, sizeof(keep[i]));
            if ((e->hdr.flags & GTF_type_mask) == GTF_permit_access) {
                keep[i].flags = e->hdr.flags | *status_entry(gt, i);
                keep[i].domid = e->hdr.domid;
                keep[i].frame = (uint32_t)e->full_page.frame;
            }
        }
        for (unsigned int i = 0; i < gt->nr_status_frames; i++)
            if (!frame_unused_by_guest(gt->status[i]))
                return -EBUSY;
        for (unsigned int i = 0; i < gt->nr_status_frames; i++) {
            domain_unshare_xen_page(gt->status[i]);
            gt->status[i] = NULL;
        }
        gt->nr_status_frames = 0;
    }
    for (unsigned int i = 0; i < gt->nr_frames; i++)
        memset(gt->shared[i], 0, PAGE_SIZE);
    if (version == 1) {
        memcpy(entry_v1(gt, 0), keep, sizeof(keep));
    } else {
        for (unsigned int i = 0; i < GNTTAB_NR_RESERVED_ENTRIES; i++) {
            union grant_entry_v2 *e = entry_v2(gt, i);
            *status_entry(gt, i) = keep[i].flags & (GTF_reading | GTF_writing);
            e->hdr.flags = keep[i].flags & ~(GTF_reading | GTF_writing);
            e->hdr.domid = keep[i].domid;
            e->full_page.frame = keep[i].frame;
        }
    }
    gt->version = version;
    return 0;
}

static long set_version(uint64_t uop)
{
    struct gnttab_set_version op;
    if (copy_from_guest_obj(&op, uop))
        return -EFAULT;
    struct domain *d = current_domain();
    struct grant_table *gt = grant_table_of(d);
    if (!gt)
        return -ENOMEM;
    long rc;
    if (op.version != 1 && op.version != 2) {
        rc = -EINVAL;
    } else if (op.version > d->max_grant_version) {
        rc = -ENOSYS;
    } else if (gt->version == op.version) {
        rc = 0;
    } else {
        spin_lock(&gt->lock);
        rc = change_version(d, gt, op.version);
        spin_unlock(&gt->lock);
    }
    op.version = gt->version;
    if (copy_to_guest_obj(uop, &op))
        rc = -EFAULT;
    return rc;
}

static long get_status_frames(uint64_t uop, unsigned int count)
{
    struct gnttab_get_status_frames op;
    if (count != 1)
        return -EINVAL;
    if (copy_from_guest_obj(&op, uop))
        return -EFAULT;
    if (!frame_list_ok(op.frame_list.p))
        return -EFAULT;
    struct domain *d = domain_get_by_any_id(op.dom);
    struct grant_table *gt;
    if (!d) {
        op.status = GNTST_bad_domain;
    } else if (!may_target(current_domain(), d)) {
        op.status = GNTST_permission_denied;
    } else if (!(gt = grant_table_of(d))) {
        op.status = GNTST_general_error;
    } else {
        spin_lock(&gt->lock);
        if (op.nr_frames > gt->nr_status_frames) {
            op.status = GNTST_general_error;
        } else {
            op.status = GNTST_okay;
            for (uint32_t i = 0; i < op.nr_frames; i++) {
                uint64_t mfn = virt_to_mfn(gt->status[i]);
                if (copy_to_guest(op.frame_list.p + i * 8, &mfn, 8))
                    op.status = GNTST_bad_virt_addr;
            }
        }
        spin_unlock(&gt->lock);
    }
    if (d)
        domain_put(d);
    return write_status(uop, offsetof(struct gnttab_get_status_frames, status), op.status);
}

static long get_version(uint64_t uop)
{
    struct gnttab_get_version op;
    if (copy_from_guest_obj(&op, uop))
        return -EFAULT;
    struct domain *d = domain_get_by_any_id(op.dom);
    if (!d)
        return -ESRCH;
    long rc = 0;
    struct grant_table *gt = NULL;
    if (!may_target(current_domain(), d))
        rc = -EPERM;
    else if (!(gt = grant_table_of(d)))
        rc = -ENOMEM;
    else
        op.version = gt->version;
    domain_put(d);
    if (rc)
        return rc;
    return copy_to_guest(uop + offsetof(struct gnttab_get_version, version), &op.version, sizeof(op.version))
               ? -EFAULT
               : 0;
}

/* ---- Shared-entry flags. The granting domain may change its entries at any time, so every read of them is a
 * single load and every update a bounded compare-and-exchange (a guest that keeps changing the entry makes the
 * operation fail instead of stalling it). */

/* The flags and domid of an entry header, updated together (Xen's union grant_combo). */
static uint32_t *header_word(struct grant_table *gt, grant_ref_t ref)
{
    return gt->version == 1 ? (uint32_t *)entry_v1(gt, ref) : (uint32_t *)&entry_v2(gt, ref)->hdr;
}

static uint16_t combo_flags(uint32_t w) { return (uint16_t)w; }
static domid_t combo_domid(uint32_t w) { return (domid_t)(w >> 16); }

static uint16_t header_flags(struct grant_table *gt, grant_ref_t ref)
{
    return combo_flags(__atomic_load_n(header_word(gt, ref), __ATOMIC_ACQUIRE));
}

static void clear_status_flags(uint16_t *status, uint16_t mask)
{
    __atomic_fetch_and(status, (uint16_t)~mask, __ATOMIC_ACQ_REL);
}

/* The word holding GTF_reading / GTF_writing for an entry: the header flags (v1) or the status entry (v2). */
static uint16_t *status_word(struct grant_table *gt, grant_ref_t ref)
{
    return gt->version == 1 ? &entry_v1(gt, ref)->flags : status_entry(gt, ref);
}

/* Marks the entry in use for reading (and writing) by ldomid, checking on first pin that it grants access to
 * ldomid (mapping: never a sub-page grant). Xen's _set_status_v1 / _v2. */
static int16_t set_status(struct grant_table *gt, grant_ref_t ref, const struct active_grant *act, bool readonly,
                          bool mapping, domid_t ldomid)
{
    uint16_t mask = GTF_type_mask | (mapping ? GTF_sub_page : 0);
    uint32_t *hdr = header_word(gt, ref);
    uint32_t cur = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
    if (gt->version == 1) {
        for (unsigned int tries = 0;; tries++) {
            uint16_t f = combo_flags(cur);
            if (!act->pin && ((f & mask) != GTF_permit_access || combo_domid(cur) != ldomid))
                return GNTST_general_error;
            uint16_t nf = f | GTF_reading;
            if (!readonly) {
                if (f & GTF_readonly)
                    return GNTST_general_error;
                nf |= GTF_writing;
            }
            uint32_t want = (cur & 0xffff0000U) | nf;
            if (__atomic_compare_exchange_n(hdr, &cur, want, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                return GNTST_okay;
            if (tries == 4)
                return GNTST_general_error; /* the guest keeps changing it */
        }
    }
    uint16_t *status = status_entry(gt, ref);
    uint16_t f = combo_flags(cur);
    bool type_bad = (f & mask) != GTF_permit_access && (mapping || (f & mask) != GTF_transitive);
    if (!act->pin && (type_bad || combo_domid(cur) != ldomid))
        return GNTST_general_error;
    if (!readonly && (f & GTF_readonly))
        return GNTST_general_error;
    __atomic_fetch_or(status, readonly ? GTF_reading : GTF_reading | GTF_writing, __ATOMIC_SEQ_CST);
    /* The status is visible now; the entry must still say the same, or the pin is undone. */
    cur = __atomic_load_n(hdr, __ATOMIC_SEQ_CST);
    f = combo_flags(cur);
    type_bad = (f & mask) != GTF_permit_access && (mapping || (f & mask) != GTF_transitive);
    if (!act->pin) {
        if (type_bad || combo_domid(cur) != ldomid || (!readonly && (f & GTF_readonly))) {
            clear_status_flags(status, GTF_reading | GTF_writing);
            return GNTST_general_error;
        }
    } else if (f & GTF_readonly) {
        clear_status_flags(status, GTF_writing);
        return GNTST_general_error;
    }
    return GNTST_okay;
}

/* Drops the status bits the remaining pins no longer justify (Xen's reduce_status_for_pin). */
static void reduce_status_for_pin(const struct active_grant *act, uint16_t *status, bool readonly)
{
    uint16_t clear = act->pin ? 0 : GTF_reading;
    if (!status)
        return;
    if (!readonly && !(act->pin & PIN_WRITE_MASK))
        clear |= GTF_writing;
    if (clear)
        clear_status_flags(status, clear);
}

/* Xen's get_paged_frame() for a PV domain: the frame number is the machine frame, which rd must own. A general
 * reference is taken. */
static int16_t get_paged_frame(uint64_t gfn, struct domain *rd, mfn_t *mfn)
{
    if (gfn != (mfn_t)gfn || !pv_get_page(rd, gfn))
        return GNTST_bad_page;
    *mfn = gfn;
    return GNTST_okay;
}

static bool get_writable_type(mfn_t mfn)
{
    return frame_get_type(mfn_to_frame(mfn), FRAME_T_WRITABLE, NULL, NULL) == 0;
}

static void mark_dirty(mfn_t mfn) { frame_set_count_flags(mfn_to_frame(mfn), FRAME_C_DIRTY); }

/* ---- Maptrack handles (Xen's get_maptrack_handle / put_maptrack_handle). Each vCPU has a free list that always
 * keeps one entry, so that freed handles can be appended at its tail; a new maptrack frame goes to the vCPU that
 * needed it. When no frame can be added, a handle is taken from another vCPU's list. */

static struct maptrack_entry *maptrack(struct grant_table *gt, unsigned int handle)
{
    return &gt->maptrack[handle / MAPTRACK_PER_FRAME][handle % MAPTRACK_PER_FRAME];
}

/* Called with maptrack_lock held. */
static unsigned int take_from_list(struct grant_table *gt, struct maptrack_freelist *fl)
{
    unsigned int head = fl->head;
    if (head == MAPTRACK_TAIL)
        return INVALID_HANDLE;
    unsigned int next = maptrack(gt, head)->ref;
    if (next == MAPTRACK_TAIL)
        return INVALID_HANDLE; /* the last entry stays */
    fl->head = next;
    return head;
}

static unsigned int steal_handle(struct domain *d, struct grant_table *gt, const struct vcpu *curr)
{
    for (unsigned int i = 0; i < d->max_vcpus; i++) {
        if (!d->vcpus[i])
            continue;
        unsigned int h = take_from_list(gt, &gt->mt_free[i]);
        if (h != INVALID_HANDLE) {
            maptrack(gt, h)->vcpu = curr->id;
            return h;
        }
    }
    return INVALID_HANDLE;
}

static unsigned int get_maptrack_handle(struct grant_table *gt, struct vcpu *curr)
{
    struct domain *d = curr->domain;
    struct maptrack_freelist *fl = &gt->mt_free[curr->id];
    spin_lock(&gt->maptrack_lock);
    unsigned int handle = take_from_list(gt, fl);
    if (handle != INVALID_HANDLE)
        goto out;
    unsigned int nr = gt->maptrack_limit / MAPTRACK_PER_FRAME;
    struct maptrack_entry *page = nr < gt->max_maptrack_frames ? alloc_hv_pages(0) : NULL;
    if (!page) {
        if (fl->tail == MAPTRACK_TAIL) {
            /* This vCPU has no list yet: it needs a stolen entry as its permanent last one. */
            handle = steal_handle(d, gt, curr);
            if (handle == INVALID_HANDLE)
                goto out;
            maptrack(gt, handle)->ref = MAPTRACK_TAIL;
            fl->tail = handle;
            if (fl->head == MAPTRACK_TAIL)
                fl->head = handle;
        }
        handle = steal_handle(d, gt, curr);
        goto out;
    }
    handle = gt->maptrack_limit;
    for (unsigned int i = 0; i < MAPTRACK_PER_FRAME; i++) {
        page[i].ref = handle + i + 1;
        page[i].vcpu = curr->id;
    }
    if (fl->tail == MAPTRACK_TAIL)
        fl->tail = handle + MAPTRACK_PER_FRAME - 1;
    page[MAPTRACK_PER_FRAME - 1].ref = fl->head;
    fl->head = handle + 1;
    gt->maptrack[nr] = page;
    /* Unmap checks handles against the limit without the lock: publish the frame first. */
    __atomic_store_n(&gt->maptrack_limit, gt->maptrack_limit + MAPTRACK_PER_FRAME, __ATOMIC_RELEASE);
out:
    spin_unlock(&gt->maptrack_lock);
    return handle;
}

static void put_maptrack_handle(struct grant_table *gt, unsigned int handle)
{
    spin_lock(&gt->maptrack_lock);
    struct maptrack_entry *mt = maptrack(gt, handle);
    mt->ref = MAPTRACK_TAIL;
    struct maptrack_freelist *fl = &gt->mt_free[mt->vcpu];
    unsigned int tail = fl->tail;
    fl->tail = handle;
    maptrack(gt, tail)->ref = handle;
    spin_unlock(&gt->maptrack_lock);
}

/* ---- map_grant_ref. */

static void map_grant_ref_of(struct gnttab_map_grant_ref *op, struct domain *rd, uint32_t pin_incr);

static void map_grant_ref(struct gnttab_map_grant_ref *op)
{
    bool ro = op->flags & GNTMAP_readonly;
    uint32_t pin_incr = 0;
    if (op->flags & GNTMAP_device_map)
        pin_incr += ro ? PIN_DEVR : PIN_DEVW;
    if (op->flags & GNTMAP_host_map)
        pin_incr += ro ? PIN_HSTR : PIN_HSTW;
    if (!pin_incr) {
        op->status = GNTST_bad_gntref;
        return;
    }
    struct domain *rd = domain_get(op->dom); /* by number only: DOMID_SELF is no domain here */
    if (!rd) {
        op->status = GNTST_bad_domain;
        return;
    }
    map_grant_ref_of(op, rd, pin_incr);
    domain_put(rd);
}

static void map_grant_ref_of(struct gnttab_map_grant_ref *op, struct domain *rd, uint32_t pin_incr)
{
    struct vcpu *curr = current_vcpu();
    struct domain *ld = curr->domain;
    bool ro = op->flags & GNTMAP_readonly;
    struct grant_table *lgt = grant_table_of(ld), *rgt = grant_table_of(rd);
    if (!lgt || !rgt) {
        op->status = GNTST_no_space;
        return;
    }
    unsigned int handle = get_maptrack_handle(lgt, curr);
    if (handle == INVALID_HANDLE) {
        op->status = GNTST_no_space;
        return;
    }

    int16_t rc = GNTST_okay;
    grant_ref_t ref = op->ref;
    unsigned int refcnt = 0, typecnt = 0;
    bool host_map_created = false, have_frame_ref = false;
    mfn_t mfn = 0;
    struct active_grant *act;
    uint16_t *status;

    spin_lock(&rgt->lock);
    if (ref >= nr_entries(rgt)) {
        rc = GNTST_bad_gntref;
        goto unlock_out;
    }
    act = active_entry(rgt, ref);
    if (act->pin && (act->domid != ld->id || (act->pin & PIN_OVERFLOW_MASK(pin_incr)) || act->is_sub_page)) {
        rc = GNTST_general_error;
        goto unlock_out;
    }
    unsigned int version = rgt->version;
    status = status_word(rgt, ref);
    if (!act->pin || (!ro && !(act->pin & PIN_WRITE_MASK))) {
        rc = set_status(rgt, ref, act, ro, true, ld->id);
        if (rc != GNTST_okay)
            goto unlock_out;
        if (!act->pin) {
            uint64_t gfn = version == 1 ? __atomic_load_n(&entry_v1(rgt, ref)->frame, __ATOMIC_RELAXED)
                                        : __atomic_load_n(&entry_v2(rgt, ref)->full_page.frame, __ATOMIC_RELAXED);
            rc = get_paged_frame(gfn, rd, &mfn);
            if (rc != GNTST_okay)
                goto unlock_out_clear;
            have_frame_ref = true;
            act->domid = ld->id;
            act->mfn = mfn;
            act->start = 0;
            act->length = PAGE_SIZE;
            act->is_sub_page = false;
            act->trans_domain = rd;
            act->trans_gref = ref;
        }
    }
    act->pin += pin_incr;
    mfn = act->mfn;
    spin_unlock(&rgt->lock);

    /* The mapping's references: the frame must (still) be rd's. */
    if (!have_frame_ref && !pv_get_page(rd, mfn))
        goto could_not_pin;
    refcnt++;
    if ((op->flags & GNTMAP_device_map) && !ro) {
        if (!get_writable_type(mfn))
            goto could_not_pin;
        typecnt++;
    }
    if (op->flags & GNTMAP_host_map) {
        if (op->flags & GNTMAP_device_map) { /* the first reference went to the device mapping */
            if (!pv_get_page(rd, mfn))
                goto could_not_pin;
            refcnt++;
        }
        if (!ro) {
            if (!get_writable_type(mfn))
                goto could_not_pin;
            typecnt++;
        }
        rc = (int16_t)pv_grant_create_mapping(op->host_addr, mfn, op->flags);
        if (rc != GNTST_okay)
            goto undo_out;
        host_map_created = true;
    }

    struct maptrack_entry *mt = maptrack(lgt, handle);
    mt->domid = op->dom;
    mt->ref = op->ref;
    __atomic_store_n(&mt->flags, (uint16_t)op->flags, __ATOMIC_RELEASE); /* users look at flags first */
    op->dev_bus_addr = mfn << PAGE_SHIFT;
    op->handle = handle;
    op->status = GNTST_okay;
    return;

could_not_pin:
    rc = GNTST_general_error;
undo_out:
    if (host_map_created) {
        pv_grant_replace_mapping(op->host_addr, mfn, 0, op->flags);
        flush_tlb_domain(ld);
    }
    while (typecnt--)
        pv_put_page_type(mfn);
    while (refcnt--)
        pv_put_page(mfn);
    spin_lock(&rgt->lock);
    if (rgt->version != version)
        /* The version changed meanwhile: only the reserved entries survived it. */
        status = ref < GNTTAB_NR_RESERVED_ENTRIES ? status_word(rgt, ref) : NULL;
    act = active_entry(rgt, ref);
    act->pin -= pin_incr;
unlock_out_clear:
    reduce_status_for_pin(act, status, ro);
unlock_out:
    spin_unlock(&rgt->lock);
    op->status = rc;
    put_maptrack_handle(lgt, handle);
}

static long gnttab_map_grant_ref(uint64_t uop, unsigned int count)
{
    for (unsigned int i = 0; i < count; i++) {
        struct gnttab_map_grant_ref op;
        uint64_t va = uop + (uint64_t)i * sizeof(op);
        if (copy_from_guest_obj(&op, va))
            return -EFAULT;
        map_grant_ref(&op);
        if (copy_to_guest_obj(va, &op))
            return -EFAULT;
    }
    return 0;
}

/* ---- unmap_grant_ref / unmap_and_replace: a first pass undoes the page-table side of each op, then (after one
 * TLB flush for the batch) a second pass drops the pins and references. */

struct unmap_common {
    uint64_t host_addr, dev_bus_addr, new_addr;
    grant_handle_t handle;
    int16_t status;
    uint16_t done;               /* GNTMAP_host_map / device_map undone, plus GNTMAP_readonly */
    mfn_t mfn;
    struct domain *rd;
    grant_ref_t ref;
};

#define UNMAP_BATCH 32

static void unmap_common(struct unmap_common *op)
{
    struct domain *ld = current_domain();
    struct grant_table *lgt = grant_table_of(ld);
    op->done = 0;
    op->rd = NULL;
    if (!lgt || op->handle >= __atomic_load_n(&lgt->maptrack_limit, __ATOMIC_ACQUIRE)) {
        op->status = GNTST_bad_handle;
        return;
    }
    struct maptrack_entry *map = maptrack(lgt, op->handle);
    if (!__atomic_load_n(&map->flags, __ATOMIC_ACQUIRE)) {
        op->status = GNTST_bad_handle;
        return;
    }
    domid_t dom = map->domid;
    /* A dying granter still counts: the mapping's frame references keep its structure until unmapped. */
    struct domain *rd = domain_get_any(dom);
    struct grant_table *rgt = rd ? grant_table_of(rd) : NULL;
    if (!rgt) {
        /* A mapping of a domain that no longer exists. */
        domain_crash(ld, "grant unmap: handle %#x names the vanished domain %u", op->handle, dom);
        if (rd)
            domain_put(rd);
        op->status = GNTST_general_error;
        return;
    }
    int16_t rc = GNTST_okay;
    bool put_handle = false;
    unsigned int flags = 0;
    spin_lock(&rgt->lock);
    op->rd = rd;
    grant_ref_t ref = op->ref = map->ref;
    if (ref >= nr_entries(rgt)) {
        rc = GNTST_bad_handle;
        goto unlock_out;
    }
    struct active_grant *act = active_entry(rgt, ref);
    flags = __atomic_load_n(&map->flags, __ATOMIC_ACQUIRE);
    if (!flags || map->domid != dom || map->ref != ref) {
        rc = GNTST_bad_handle; /* a racing unmap of the same handle */
        goto unlock_out;
    }
    op->mfn = act->mfn;
    if (op->dev_bus_addr && (flags & GNTMAP_device_map) && op->dev_bus_addr != (act->mfn << PAGE_SHIFT)) {
        rc = GNTST_bad_dev_addr;
        goto unlock_out;
    }
    if (op->host_addr && (flags & GNTMAP_host_map)) {
        rc = (int16_t)pv_grant_replace_mapping(op->host_addr, op->mfn, op->new_addr, flags);
        if (rc < 0)
            goto unlock_out;
        map->flags &= (uint16_t)~GNTMAP_host_map;
        op->done |= GNTMAP_host_map | (flags & GNTMAP_readonly);
    }
    if (op->dev_bus_addr && (flags & GNTMAP_device_map)) {
        map->flags &= (uint16_t)~GNTMAP_device_map;
        op->done |= GNTMAP_device_map | (flags & GNTMAP_readonly);
    }
    if (!(map->flags & (GNTMAP_device_map | GNTMAP_host_map))) {
        map->flags = 0;
        put_handle = true;
    }
unlock_out:
    spin_unlock(&rgt->lock);
    if (put_handle)
        put_maptrack_handle(lgt, op->handle);
    if (rc == GNTST_okay && !(flags & GNTMAP_readonly) && op->done)
        mark_dirty(op->mfn);
    op->status = rc;
    if (!op->done) {
        op->rd = NULL; /* nothing left for unmap_common_complete(), which otherwise drops the reference */
        domain_put(rd);
    }
}

static void unmap_common_complete(struct unmap_common *op)
{
    if (!op->done)
        return;
    struct domain *rd = op->rd;
    struct grant_table *rgt = grant_table_of(rd);
    bool ro = op->done & GNTMAP_readonly;
    spin_lock(&rgt->lock);
    struct active_grant *act = active_entry(rgt, op->ref);
    uint16_t *status = NULL;
    if (rgt->version == 1 || op->ref < nr_entries(rgt))
        status = status_word(rgt, op->ref);
    if (op->done & GNTMAP_device_map) {
        if (!ro)
            pv_put_page_type(op->mfn);
        pv_put_page(op->mfn);
        act->pin -= ro ? PIN_DEVR : PIN_DEVW;
    }
    if (op->done & GNTMAP_host_map) {
        if (!ro)
            pv_put_page_type(op->mfn);
        pv_put_page(op->mfn);
        act->pin -= ro ? PIN_HSTR : PIN_HSTW;
    }
    reduce_status_for_pin(act, status, ro);
    spin_unlock(&rgt->lock);
    domain_put(rd);
}

/* Both unmap flavours: read each op (size bytes; replace: it has new_addr), undo, write its status back. */
static long gnttab_unmap(uint64_t uop, unsigned int count, bool replace)
{
    struct unmap_common common[UNMAP_BATCH];
    size_t size = replace ? sizeof(struct gnttab_unmap_and_replace) : sizeof(struct gnttab_unmap_grant_ref);
    size_t status_off = replace ? offsetof(struct gnttab_unmap_and_replace, status)
                                : offsetof(struct gnttab_unmap_grant_ref, status);
    struct domain *ld = current_domain();
    long rc = 0;
    while (count && !rc) {
        unsigned int c = count < UNMAP_BATCH ? count : UNMAP_BATCH, done = 0;
        for (unsigned int i = 0; i < c; i++, uop += size) {
            struct unmap_common *u = &common[i];
            memset(u, 0, sizeof(*u));
            if (replace) {
                struct gnttab_unmap_and_replace op;
                if (copy_from_guest_obj(&op, uop)) {
                    rc = -EFAULT;
                    break;
                }
                u->host_addr = op.host_addr;
                u->new_addr = op.new_addr;
                u->handle = op.handle;
            } else {
                struct gnttab_unmap_grant_ref op;
                if (copy_from_guest_obj(&op, uop)) {
                    rc = -EFAULT;
                    break;
                }
                u->host_addr = op.host_addr;
                u->dev_bus_addr = op.dev_bus_addr;
                u->handle = op.handle;
            }
            unmap_common(u);
            done++;
            if (copy_to_guest(uop + status_off, &u->status, sizeof(u->status))) {
                rc = -EFAULT;
                break;
            }
        }
        flush_tlb_domain(ld);
        for (unsigned int i = 0; i < done; i++)
            unmap_common_complete(&common[i]);
        count -= c;
    }
    return rc;
}

/* ---- Copy (Xen's acquire_grant_for_copy and friends). */

/* Undoes acquire_grant_for_copy() (not the page reference it returned). */
static void release_grant_for_copy(struct domain *rd, grant_ref_t gref, bool readonly)
{
    struct grant_table *rgt = grant_table_of(rd);
    spin_lock(&rgt->lock);
    struct active_grant *act = active_entry(rgt, gref);
    uint16_t *status = NULL;
    struct domain *td;
    grant_ref_t trans_gref;
    if (rgt->version == 1) {
        status = status_word(rgt, gref);
        td = rd;
        trans_gref = gref;
    } else {
        if (gref < nr_entries(rgt))
            status = status_entry(rgt, gref);
        td = act->trans_domain;
        trans_gref = act->trans_gref;
    }
    if (readonly) {
        act->pin -= PIN_HSTR;
    } else {
        mark_dirty(act->mfn);
        act->pin -= PIN_HSTW;
    }
    reduce_status_for_pin(act, status, readonly);
    if (!act->pin && act->is_sub_page)
        rgt->nr_v2_ops--;
    spin_unlock(&rgt->lock);
    if (td != rd)
        release_grant_for_copy(td, trans_gref, readonly); /* one level at most: transitivity does not chain */
}

#define GNT_RESTART 1 /* positive: the entry changed under a transitive acquire; try the op again */

/* Resolves (rd, gref) for a copy by ldom, pinning it (host read or write) and returning the frame with a general
 * reference held, and the granted part of it. A v2 transitive entry is followed one level, if allowed. */
static int16_t acquire_grant_for_copy(struct domain *rd, grant_ref_t gref, domid_t ldom, bool readonly,
                                      mfn_t *mfn, bool *have_ref, uint16_t *page_off, uint16_t *length,
                                      bool allow_transitive)
{
    struct grant_table *rgt = grant_table_of(rd);
    uint32_t pin_incr = readonly ? PIN_HSTR : PIN_HSTW;
    int16_t rc = GNTST_okay;
    mfn_t grant_mfn = 0;
    uint16_t trans_off = 0, trans_len = 0;
    struct domain *td;
    grant_ref_t trans_gref;
    *have_ref = false;
    if (!rgt)
        return GNTST_general_error;
    spin_lock(&rgt->lock);
    if (gref >= nr_entries(rgt)) {
        spin_unlock(&rgt->lock);
        return GNTST_bad_gntref;
    }
    struct active_grant *act = active_entry(rgt, gref);
    uint16_t *status = status_word(rgt, gref);
    if (act->pin && (act->domid != ldom || (act->pin & PIN_OVERFLOW_MASK(pin_incr)))) {
        rc = GNTST_general_error;
        goto unlock_out;
    }
    union grant_entry_v2 *sha2 = rgt->version == 2 ? entry_v2(rgt, gref) : NULL;
    uint32_t old_pin = act->pin;
    uint16_t hflags = header_flags(rgt, gref);
    if (sha2 && (hflags & GTF_type_mask) == GTF_transitive) {
        if ((!old_pin || (!readonly && !(old_pin & PIN_WRITE_MASK))) &&
            (rc = set_status(rgt, gref, act, readonly, false, ldom)) != GNTST_okay)
            goto unlock_out;
        if (!allow_transitive) {
            rc = GNTST_general_error;
            goto unlock_out_clear;
        }
        domid_t trans_domid = __atomic_load_n(&sha2->transitive.trans_domid, __ATOMIC_RELAXED);
        trans_gref = __atomic_load_n(&sha2->transitive.gref, __ATOMIC_RELAXED);
        if (trans_domid == rd->id) {
            rc = GNTST_general_error; /* self-referential */
            goto unlock_out_clear;
        }
        td = domain_get(trans_domid);
        if (!td) {
            rc = GNTST_general_error;
            goto unlock_out_clear;
        }
        /* The granting domain's table is unlocked while the next one is visited; note the v2 op in flight. */
        rgt->nr_v2_ops++;
        spin_unlock(&rgt->lock);
        bool got;
        rc = acquire_grant_for_copy(td, trans_gref, rd->id, readonly, &grant_mfn, &got, &trans_off, &trans_len,
                                    false);
        /* From here on the frame reference the acquire took keeps td's structure (its frames hold it). */
        domain_put(td);
        spin_lock(&rgt->lock);
        act = active_entry(rgt, gref);
        if (rc != GNTST_okay) {
            rgt->nr_v2_ops--;
            reduce_status_for_pin(act, status, readonly);
            spin_unlock(&rgt->lock);
            return rc;
        }
        /* Anything changed while unlocked: give everything back and let the caller retry. */
        if (rgt->version != 2 || act->pin != old_pin ||
            (old_pin && (act->domid != ldom || act->mfn != grant_mfn || act->start != trans_off ||
                         act->length != trans_len || act->trans_domain != td || act->trans_gref != trans_gref ||
                         !act->is_sub_page))) {
            spin_unlock(&rgt->lock);
            release_grant_for_copy(td, trans_gref, readonly);
            spin_lock(&rgt->lock);
            rgt->nr_v2_ops--;
            act = active_entry(rgt, gref);
            reduce_status_for_pin(act, rgt->version == 2 && gref < nr_entries(rgt) ? status_entry(rgt, gref)
                                                                                    : NULL, readonly);
            spin_unlock(&rgt->lock);
            pv_put_page(grant_mfn);
            return GNT_RESTART;
        }
        if (!old_pin) {
            act->domid = ldom;
            act->start = trans_off;
            act->length = trans_len;
            act->trans_domain = td;
            act->trans_gref = trans_gref;
            act->mfn = grant_mfn;
            act->is_sub_page = true; /* keeps transitive grants from being mapped */
        } else {
            rgt->nr_v2_ops--;
        }
        *have_ref = true;
    } else if (!old_pin || (!readonly && !(old_pin & PIN_WRITE_MASK))) {
        if ((rc = set_status(rgt, gref, act, readonly, false, ldom)) != GNTST_okay)
            goto unlock_out;
        td = rd;
        trans_gref = gref;
        bool is_sub_page = false;
        uint64_t gfn;
        trans_off = 0;
        trans_len = PAGE_SIZE;
        if (!sha2) {
            gfn = __atomic_load_n(&entry_v1(rgt, gref)->frame, __ATOMIC_RELAXED);
        } else if (!(hflags & GTF_sub_page)) {
            gfn = __atomic_load_n(&sha2->full_page.frame, __ATOMIC_RELAXED);
        } else {
            gfn = __atomic_load_n(&sha2->sub_page.frame, __ATOMIC_RELAXED);
            is_sub_page = true;
            trans_off = __atomic_load_n(&sha2->sub_page.page_off, __ATOMIC_RELAXED);
            trans_len = __atomic_load_n(&sha2->sub_page.length, __ATOMIC_RELAXED);
        }
        rc = get_paged_frame(gfn, rd, &grant_mfn);
        if (rc != GNTST_okay)
            goto unlock_out_clear;
        if (!act->pin) {
            act->domid = ldom;
            act->is_sub_page = is_sub_page;
            act->start = trans_off;
            act->length = trans_len;
            act->trans_domain = td;
            act->trans_gref = trans_gref;
            act->mfn = grant_mfn;
            if (is_sub_page)
                rgt->nr_v2_ops++;
        } else if (act->mfn != grant_mfn || act->trans_domain != td || act->trans_gref != trans_gref ||
                   (act->is_sub_page && (!is_sub_page || act->start != trans_off || act->length != trans_len))) {
            pv_put_page(grant_mfn);
            rc = GNTST_general_error;
            goto unlock_out_clear;
        }
        *have_ref = true;
    } else {
        /* Already pinned with enough access: just a reference on the frame, which must still be rd's. */
        if (rd->is_dying || !pv_get_page(rd, act->mfn)) {
            rc = GNTST_bad_domain;
            goto unlock_out_clear;
        }
        *have_ref = true;
    }
    act->pin += pin_incr;
    *page_off = act->start;
    *length = act->length;
    *mfn = act->mfn;
    spin_unlock(&rgt->lock);
    return GNTST_okay;

unlock_out_clear:
    reduce_status_for_pin(act, status, readonly);
unlock_out:
    spin_unlock(&rgt->lock);
    return rc;
}

struct copy_buf {
    struct gnttab_copy_ptr ptr;  /* what is held: domid, gref or gmfn, offset of the usable part */
    uint16_t len;
    struct domain *domain;
    mfn_t mfn;
    bool have_ref, have_grant, have_type, mapped, read_only;
};

static void copy_release_buf(struct copy_buf *b)
{
    b->mapped = false;
    if (b->have_grant) {
        release_grant_for_copy(b->domain, b->ptr.u.ref, b->read_only);
        b->have_grant = false;
    }
    if (b->have_type) {
        pv_put_page_type(b->mfn);
        b->have_type = false;
    }
    if (b->have_ref) {
        pv_put_page(b->mfn);
        b->have_ref = false;
    }
}

/* Only DOMID_SELF may name a frame directly; other domains only through their grants. */
static int16_t copy_lock_domain(domid_t domid, bool is_gref, struct copy_buf *b)
{
    if (domid != DOMID_SELF && !is_gref)
        return GNTST_permission_denied;
    b->domain = domain_get_by_any_id(domid);
    if (!b->domain)
        return GNTST_bad_domain;
    b->ptr.domid = domid;
    return GNTST_okay;
}

static void copy_unlock_domain(struct copy_buf *b)
{
    if (b->domain)
        domain_put(b->domain);
    b->domain = NULL;
}

static int16_t copy_claim_buf(const struct gnttab_copy *op, const struct gnttab_copy_ptr *ptr, struct copy_buf *b,
                              unsigned int gref_flag)
{
    int16_t rc;
    b->read_only = gref_flag == GNTCOPY_source_gref;
    if (op->flags & gref_flag) {
        do
            rc = acquire_grant_for_copy(b->domain, ptr->u.ref, current_domain()->id, b->read_only, &b->mfn,
                                        &b->have_ref, &b->ptr.offset, &b->len, true);
        while (rc == GNT_RESTART);
        if (rc != GNTST_okay)
            return rc;
        b->ptr.u.ref = ptr->u.ref;
        b->have_grant = true;
    } else {
        rc = get_paged_frame(ptr->u.gmfn, b->domain, &b->mfn);
        if (rc != GNTST_okay)
            return rc;
        b->have_ref = true;
        b->ptr.u.gmfn = ptr->u.gmfn;
        b->ptr.offset = 0;
        b->len = PAGE_SIZE;
    }
    if (!b->read_only) {
        if (!get_writable_type(b->mfn))
            return GNTST_general_error;
        b->have_type = true;
    }
    b->mapped = true;
    return GNTST_okay;
}

static bool copy_buf_valid(const struct gnttab_copy_ptr *p, const struct copy_buf *b, bool has_gref)
{
    if (!b->mapped)
        return false;
    if (has_gref)
        return b->have_grant && p->u.ref == b->ptr.u.ref;
    return p->u.gmfn == b->ptr.u.gmfn;
}

static int16_t copy_one(const struct gnttab_copy *op, struct copy_buf *dest, struct copy_buf *src)
{
    int16_t rc;
    if (!src->domain || op->source.domid != src->ptr.domid || !dest->domain || op->dest.domid != dest->ptr.domid) {
        copy_release_buf(src);
        copy_release_buf(dest);
        copy_unlock_domain(src);
        copy_unlock_domain(dest);
        if ((rc = copy_lock_domain(op->source.domid, op->flags & GNTCOPY_source_gref, src)) != GNTST_okay ||
            (rc = copy_lock_domain(op->dest.domid, op->flags & GNTCOPY_dest_gref, dest)) != GNTST_okay) {
            copy_unlock_domain(src);
            copy_unlock_domain(dest);
            return rc;
        }
    }
    if (!copy_buf_valid(&op->source, src, op->flags & GNTCOPY_source_gref)) {
        copy_release_buf(src);
        if ((rc = copy_claim_buf(op, &op->source, src, GNTCOPY_source_gref)) != GNTST_okay)
            return rc;
    }
    if (!copy_buf_valid(&op->dest, dest, op->flags & GNTCOPY_dest_gref)) {
        copy_release_buf(dest);
        if ((rc = copy_claim_buf(op, &op->dest, dest, GNTCOPY_dest_gref)) != GNTST_okay)
            return rc;
    }
    if (op->source.offset + op->len > PAGE_SIZE || op->dest.offset + op->len > PAGE_SIZE)
        return GNTST_bad_copy_arg;
    if (op->source.offset < src->ptr.offset || op->source.offset + op->len > src->ptr.offset + src->len ||
        op->dest.offset < dest->ptr.offset || op->dest.offset + op->len > dest->ptr.offset + dest->len)
        return GNTST_general_error; /* outside the granted part */
    memmove((char *)mfn_to_virt(dest->mfn) + op->dest.offset, (char *)mfn_to_virt(src->mfn) + op->source.offset,
            op->len);
    mark_dirty(dest->mfn);
    return GNTST_okay;
}

static long gnttab_copy(uint64_t uop, unsigned int count)
{
    struct copy_buf src, dest;
    long rc = 0;
    memset(&src, 0, sizeof(src));
    memset(&dest, 0, sizeof(dest));
    for (unsigned int i = 0; i < count; i++) {
        struct gnttab_copy op;
        uint64_t va = uop + (uint64_t)i * sizeof(op);
        if (copy_from_guest_obj(&op, va)) {
            rc = -EFAULT;
            break;
        }
        op.status = copy_one(&op, &dest, &src);
        if (op.status != GNTST_okay) {
            copy_release_buf(&src);
            copy_release_buf(&dest);
        }
        if (copy_to_guest(va + offsetof(struct gnttab_copy, status), &op.status, sizeof(op.status))) {
            rc = -EFAULT;
            break;
        }
    }
    copy_release_buf(&src);
    copy_release_buf(&dest);
    copy_unlock_domain(&src);
    copy_unlock_domain(&dest);
    return rc;
}

/* ---- Transfer: a PV domain gives one of its pages to another domain, which offered an entry for it. */

/* Commits e's entry `ref` to receive a page from domain ld (Xen's gnttab_prepare_for_transfer). Returns the
 * table version, or 0 if the entry does not accept it. */
static unsigned int prepare_for_transfer(struct grant_table *gt, domid_t ld, grant_ref_t ref)
{
    unsigned int ver = 0;
    spin_lock(&gt->lock);
    if (ref < nr_entries(gt)) {
        uint32_t *hdr = header_word(gt, ref);
        uint32_t cur = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
        for (unsigned int tries = 0;; tries++) {
            if (combo_flags(cur) != GTF_accept_transfer || combo_domid(cur) != ld)
                break;
            if (__atomic_compare_exchange_n(hdr, &cur, cur | GTF_transfer_committed, false, __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE)) {
                ver = gt->version;
                break;
            }
            if (tries == 4)
                break;
        }
    }
    spin_unlock(&gt->lock);
    return ver;
}

static int16_t transfer_one(struct domain *d, const struct gnttab_transfer *gop)
{
    mfn_t mfn = gop->mfn;
    if (!mfn_valid(mfn))
        return GNTST_bad_page;
    int rc = domain_steal_page(d, mfn);
    if (rc)
        return rc == -EINVAL ? GNTST_bad_page : GNTST_general_error;
    /* From here on the page is d's no more: every failure frees it. */
    struct frame *page = mfn_to_frame(mfn);
    int16_t status = GNTST_general_error;
    struct domain *e = domain_get(gop->domid);
    struct grant_table *egt = e ? grant_table_of(e) : NULL;
    if (!e) {
        status = GNTST_bad_domain;
        goto free_page;
    }
    if (!egt)
        goto free_page;
    /* A v1 entry holds a 32-bit frame number: a higher frame is first copied to one that fits. */
    if (egt->version == 1 && (mfn >> 32)) {
        struct frame *low = alloc_pages_below(0, 1UL << (32 + PAGE_SHIFT));
        if (!low) {
            status = GNTST_address_too_big;
            goto free_page;
        }
        memcpy(mfn_to_virt(frame_to_mfn(low)), mfn_to_virt(mfn), PAGE_SIZE);
        domain_free_page(page);
        page = low;
        mfn = frame_to_mfn(low);
        page->owner = FRAME_OWNER_NONE;
        page->count_info = 0;
        page->type_info = 0;
    }
    if (e->tot_pages >= e->max_pages)
        goto free_page;
    unsigned int ver = prepare_for_transfer(egt, d->id, gop->ref);
    if (!ver || domain_assign_page(e, page))
        goto free_page;
    spin_lock(&egt->lock);
    if (egt->version != ver) {
        spin_unlock(&egt->lock);
        domain_put(e);
        return GNTST_general_error; /* the page is e's now; the entry just does not say so */
    }
    uint64_t gfn;
    if (ver == 1) {
        struct grant_entry_v1 *sha = entry_v1(egt, gop->ref);
        gfn = sha->frame;
        sha->frame = (uint32_t)mfn;
    } else {
        union grant_entry_v2 *sha = entry_v2(egt, gop->ref);
        gfn = sha->full_page.frame;
        sha->full_page.frame = mfn;
    }
    set_gpfn_from_mfn(mfn, gfn);
    __atomic_fetch_or((uint16_t *)header_word(egt, gop->ref), (uint16_t)GTF_transfer_completed, __ATOMIC_RELEASE);
    spin_unlock(&egt->lock);
    domain_put(e);
    return GNTST_okay;

free_page:
    domain_free_page(page);
    if (e)
        domain_put(e);
    return status;
}

static long gnttab_transfer(uint64_t uop, unsigned int count)
{
    struct domain *d = current_domain();
    for (unsigned int i = 0; i < count; i++) {
        struct gnttab_transfer gop;
        uint64_t va = uop + (uint64_t)i * sizeof(gop);
        if (copy_from_guest_obj(&gop, va))
            return -EFAULT;
        gop.status = transfer_one(d, &gop);
        if (copy_to_guest(va + offsetof(struct gnttab_transfer, status), &gop.status, sizeof(gop.status)))
            return -EFAULT;
    }
    return 0;
}

/* ---- swap_grant_ref: exchange two of the caller's own unused entries. */

static int16_t swap_grant_ref(grant_ref_t a, grant_ref_t b)
{
    struct domain *d = current_domain();
    struct grant_table *gt = grant_table_of(d);
    int16_t rc = GNTST_okay;
    if (!gt)
        return GNTST_general_error;
    spin_lock(&gt->lock);
    if (a >= nr_entries(gt) || b >= nr_entries(gt))
        rc = GNTST_bad_gntref;
    else if (a == b)
        ;
    else if (active_entry(gt, a)->pin || active_entry(gt, b)->pin)
        rc = GNTST_eagain;
    else if (gt->version == 1) {
        struct grant_entry_v1 t = *entry_v1(gt, a);
        *entry_v1(gt, a) = *entry_v1(gt, b);
        *entry_v1(gt, b) = t;
    } else {
        union grant_entry_v2 t = *entry_v2(gt, a);
        grant_status_t st = *status_entry(gt, a);
        *entry_v2(gt, a) = *entry_v2(gt, b);
        *status_entry(gt, a) = *status_entry(gt, b);
        *entry_v2(gt, b) = t;
        *status_entry(gt, b) = st;
    }
    spin_unlock(&gt->lock);
    return rc;
}

static long gnttab_swap_grant_ref(uint64_t uop, unsigned int count)
{
    for (unsigned int i = 0; i < count; i++) {
        struct gnttab_swap_grant_ref op;
        uint64_t va = uop + (uint64_t)i * sizeof(op);
        if (copy_from_guest_obj(&op, va))
            return -EFAULT;
        op.status = swap_grant_ref(op.ref_a, op.ref_b);
        if (copy_to_guest(va + offsetof(struct gnttab_swap_grant_ref, status), &op.status, sizeof(op.status)))
            return -EFAULT;
    }
    return 0;
}

/* ---- cache_flush: write back (and invalidate) the cache lines of a frame the caller owns or has mapped through
 * a grant. x86 has no invalidate-only operation (-EOPNOTSUPP), as in Xen. */

static void clflush_range(const void *p, unsigned int len)
{
    const char *c = (const char *)((uintptr_t)p & ~63UL), *end = (const char *)p + len;
    for (; c < end; c += 64)
        __asm__ volatile("clflush %0" ::"m"(*c));
    __asm__ volatile("mfence" ::: "memory");
}

/* cur_ref: where the search for the caller's grant starts (a continuation's progress, in the command's upper
 * bits; Xen scans 4096 entries per step and continues from there). */
static long cache_flush_one(const struct gnttab_cache_flush *cf, grant_ref_t cur_ref)
{
    if (cf->offset >= PAGE_SIZE || cf->length > PAGE_SIZE || cf->offset + cf->length > PAGE_SIZE ||
        (cf->op & ~(GNTTAB_CACHE_INVAL | GNTTAB_CACHE_CLEAN)))
        return -EINVAL;
    if (cf->length == 0 || cf->op == 0)
        return cur_ref ? -EILSEQ : 0;
    struct domain *d = current_domain();
    mfn_t mfn = cf->a.dev_bus_addr >> PAGE_SHIFT;
    if (!mfn_valid(mfn))
        return -EINVAL;
    /* The frame must belong to a domain (a reference keeps it so). */
    struct frame *f = mfn_to_frame(mfn);
    uint32_t owner_id = __atomic_load_n(&f->owner, __ATOMIC_ACQUIRE);
    struct domain *owner = owner_id < DOMID_FIRST_RESERVED ? domain_get((domid_t)owner_id) : NULL;
    struct grant_table *ogt = owner ? grant_table_of(owner) : NULL;
    if (!ogt || !pv_get_page(owner, mfn)) {
        if (owner)
            domain_put(owner);
        return -EPERM;
    }
    long ret = 0;
    if (d != owner) {
        /* Some entry of the owner's must be pinned by d for this frame. */
        bool found = false;
        spin_lock(&ogt->lock);
        for (grant_ref_t ref = cur_ref; ref < nr_entries(ogt) && !found; ref++) {
            const struct active_grant *act = active_entry(ogt, ref);
            found = act->pin && act->domid == d->id && act->mfn == mfn;
        }
        spin_unlock(&ogt->lock);
        if (!found)
            ret = -EINVAL;
    }
    if (!ret) {
        if (cf->op & GNTTAB_CACHE_CLEAN)
            clflush_range((char *)mfn_to_virt(mfn) + cf->offset, cf->length);
        else
            ret = -EOPNOTSUPP;
    }
    pv_put_page(mfn);
    domain_put(owner);
    return ret;
}

static long gnttab_cache_flush(uint64_t uop, unsigned int count, grant_ref_t cur_ref)
{
    for (unsigned int i = 0; i < count; i++) {
        struct gnttab_cache_flush op;
        if (copy_from_guest_obj(&op, uop + (uint64_t)i * sizeof(op)))
            return -EFAULT;
        long rc = cache_flush_one(&op, cur_ref);
        if (rc < 0)
            return rc;
        cur_ref = 0;
    }
    return 0;
}

/* ---- XENMEM_acquire_resource: the toolstack maps a domain's grant-table frames directly (seeding the console
 * and xenstore entries of a domain it builds). */

unsigned int gnttab_resource_max_frames(struct domain *d, unsigned int id)
{
    unsigned int max = MIN(d->max_grant_frames, MAX_GRANT_FRAMES);
    switch (id) {
    case XENMEM_resource_grant_table_id_shared:
        return max;
    case XENMEM_resource_grant_table_id_status:
        return d->max_grant_version >= 2 ? STATUS_FRAMES(max) : 0;
    default:
        return 0;
    }
}

/* MFNs of frames [frame, frame + nr) of the resource, growing the table to hold them (as Xen does). Status frames
 * exist only while the table is at version 2. Returns nr, or -EINVAL / -ENOMEM. */
int gnttab_acquire_resource(struct domain *d, unsigned int id, unsigned int frame, unsigned int nr, uint64_t *mfns)
{
    struct grant_table *gt = grant_table_of(d);
    if (!gt)
        return -ENOMEM;
    if (!nr || frame + nr > gnttab_resource_max_frames(d, id))
        return -EINVAL;
    unsigned int last = frame + nr - 1;
    int rc = 0;
    spin_lock(&gt->lock);
    if (id == XENMEM_resource_grant_table_id_shared) {
        if (last >= gt->nr_frames)
            rc = grow_table(d, gt, last + 1);
        for (unsigned int i = 0; !rc && i < nr; i++)
            mfns[i] = virt_to_mfn(gt->shared[frame + i]);
    } else if (gt->version != 2) {
        rc = -EINVAL;
    } else {
        /* Enough shared frames that their status covers frame `last`. */
        unsigned int want = ((last + 1) * STATUS_PER_FRAME + ENTRIES_V2_PER_FRAME - 1) / ENTRIES_V2_PER_FRAME;
        if (last >= gt->nr_status_frames)
            rc = grow_table(d, gt, MIN(want, gt->max_frames));
        if (!rc && last >= gt->nr_status_frames)
            rc = -EINVAL;
        for (unsigned int i = 0; !rc && i < nr; i++)
            mfns[i] = virt_to_mfn(gt->status[frame + i]);
    }
    spin_unlock(&gt->lock);
    return rc ? rc : (int)nr;
}

/* ---- Teardown (common/domain.c). */

/* The mappings the dying d made of other domains' grants give back their pins, so the granters see their
 * entries released. A device mapping's frame references are dropped here; a host mapping's are held by the
 * entry in d's page tables and go when those tables are torn down (as on Xen, for PV). Preemptible: the handle
 * to resume at is the cursor. */
int gnttab_release_mappings(struct domain *d)
{
    ASSERT(d->is_dying == DOMDYING_dying);
    struct grant_table *gt = __atomic_load_n((struct grant_table **)&d->grant, __ATOMIC_ACQUIRE);
    if (!gt)
        return 0;
    for (unsigned int h = (unsigned int)d->teardown_cursor; h < gt->maptrack_limit; h++) {
        if (h > d->teardown_cursor && !(h % 64) && hypercall_preempt_check()) {
            d->teardown_cursor = h;
            return -ERESTART;
        }
        struct maptrack_entry *map = maptrack(gt, h);
        unsigned int flags = map->flags;
        if (!flags)
            continue;
        map->flags = 0;
        struct domain *rd = domain_get_any(map->domid);
        struct grant_table *rgt = rd ? __atomic_load_n((struct grant_table **)&rd->grant, __ATOMIC_ACQUIRE) : NULL;
        if (!rgt) {
            if (rd)
                domain_put(rd);
            continue; /* nothing of the granter's is left to release */
        }
        bool ro = flags & GNTMAP_readonly;
        spin_lock(&rgt->lock);
        if (map->ref < nr_entries(rgt)) {
            struct active_grant *act = active_entry(rgt, map->ref);
            if (flags & GNTMAP_device_map) {
                if (!ro)
                    pv_put_page_type(act->mfn);
                pv_put_page(act->mfn);
                act->pin -= ro ? PIN_DEVR : PIN_DEVW;
            }
            if (flags & GNTMAP_host_map)
                act->pin -= ro ? PIN_HSTR : PIN_HSTW;
            reduce_status_for_pin(act, status_word(rgt, map->ref), ro);
        }
        spin_unlock(&rgt->lock);
        domain_put(rd);
    }
    return 0;
}

/* The last reference to d went: its table, maptrack and shared frames go (a shared frame still mapped somewhere
 * goes with its last mapping). */
void grant_table_destroy(struct domain *d)
{
    struct grant_table *gt = d->grant;
    if (!gt)
        return;
    for (unsigned int i = 0; i < gt->maptrack_limit / MAPTRACK_PER_FRAME; i++)
        free_hv_pages(gt->maptrack[i], 0);
    for (unsigned int i = 0; i < gt->nr_status_frames; i++)
        domain_unshare_xen_page(gt->status[i]);
    for (unsigned int i = 0; i < MAX_GRANT_FRAMES; i++) {
        if (i < gt->nr_frames)
            domain_unshare_xen_page(gt->shared[i]);
        xfree(gt->active[i]);
    }
    xfree(gt->mt_free);
    xfree(gt);
    d->grant = NULL;
}

HC(do_grant_table_op)
{
    unsigned int cmd = (unsigned int)a1, count = (unsigned int)a3;
    uint64_t uop = a2;
    unsigned int opaque = cmd & ~GNTTABOP_CMD_MASK;

    if ((int)count < 0)
        return -EINVAL;
    cmd &= GNTTABOP_CMD_MASK;
    if (cmd != GNTTABOP_cache_flush && opaque)
        return -EINVAL;

    /* Xen's guest_handle_okay() for the batched ops: the array must start in guest space. */
    switch (cmd) {
    case GNTTABOP_map_grant_ref:
        return xen_addr_ok(uop) ? gnttab_map_grant_ref(uop, count) : -EFAULT;
    case GNTTABOP_unmap_grant_ref:
        return xen_addr_ok(uop) ? gnttab_unmap(uop, count, false) : -EFAULT;
    case GNTTABOP_unmap_and_replace:
        return xen_addr_ok(uop) ? gnttab_unmap(uop, count, true) : -EFAULT;
    case GNTTABOP_transfer:
        return xen_addr_ok(uop) ? gnttab_transfer(uop, count) : -EFAULT;
    case GNTTABOP_copy:
        return xen_addr_ok(uop) ? gnttab_copy(uop, count) : -EFAULT;
    case GNTTABOP_swap_grant_ref:
        return xen_addr_ok(uop) ? gnttab_swap_grant_ref(uop, count) : -EFAULT;
    case GNTTABOP_cache_flush:
        return xen_addr_ok(uop) ? gnttab_cache_flush(uop, count, opaque) : -EFAULT;
    case GNTTABOP_setup_table:
        return setup_table(uop, count);
    case GNTTABOP_query_size:
        return query_size(uop, count);
    case GNTTABOP_set_version:
        return set_version(uop);
    case GNTTABOP_get_status_frames:
        return get_status_frames(uop, count);
    case GNTTABOP_get_version:
        return get_version(uop);
    default:
        /* Including GNTTABOP_dump_table, which Xen 4.17 no longer implements. */
        return -ENOSYS;
    }
}
