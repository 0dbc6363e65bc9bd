/* grant_table_op: a domain's grant table, the shared pages through which it offers its memory to others
 * (Xen 4.17 common/grant_table.c).
 *
 * The table's frames are hypervisor pages shared writable with the owning domain, which maps them by MFN and
 * writes grant entries into them (version 1: 8-byte entries; version 2: 16-byte entries plus separate status
 * frames, 2 bytes per entry). What exists so far is what a single domain needs: sizing (setup_table,
 * query_size), the version switch with its status frames, and the queries. Mapping, copying and transferring
 * between domains need the active-grant and maptrack machinery that comes with the second domain; until then
 * those sub-ops answer as Xen does for one it does not provide (-ENOSYS).
 *
 * Like Xen, every domain starts with one frame and version 1, and may grow to 64 frames. The table is created
 * when the domain first uses a grant op; nothing can observe it earlier. */
#include <public/grant_table.h>
#include <vesta/errno.h>
#include <vesta/guest_access.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/pv.h>

#define GNTTABOP_ARG_SHIFT 12
#define GNTTABOP_CMD_MASK ((1U << GNTTABOP_ARG_SHIFT) - 1)

#define INITIAL_NR_GRANT_FRAMES 1U
#define MAX_GRANT_FRAMES 64U       /* Xen's gnttab_max_frames default */
#define GNTTAB_MAX_VERSION 2U
#define ENTRIES_V1_PER_FRAME (PAGE_SIZE / sizeof(struct grant_entry_v1))
#define ENTRIES_V2_PER_FRAME (PAGE_SIZE / sizeof(union grant_entry_v2))
#define STATUS_PER_FRAME (PAGE_SIZE / sizeof(grant_status_t))
/* Status frames needed for n shared frames of version-2 entries. */
#define STATUS_FRAMES(n) (((n) * ENTRIES_V2_PER_FRAME + STATUS_PER_FRAME - 1) / STATUS_PER_FRAME)
#define MAX_STATUS_FRAMES STATUS_FRAMES(MAX_GRANT_FRAMES)

struct grant_table {
    spinlock_t lock;
    unsigned int version;
    unsigned int nr_frames, max_frames;
    unsigned int nr_status_frames;
    void *shared[MAX_GRANT_FRAMES];
    void *status[MAX_STATUS_FRAMES];
};

/* ---- Frames shared with the domain. */

/* A zeroed hypervisor page the domain may map (writable): owned by it for the frame table's purposes, held by
 * the table's own reference (FRAME_C_ALLOCATED, counted) and never freed by the domain's puts (FRAME_C_XEN). It
 * has no pseudo-physical address. */
static void *share_new_frame(struct domain *d)
{
    void *p = alloc_hv_pages(0);
    if (!p)
        return NULL;
    mfn_t mfn = virt_to_mfn(p);
    struct frame *f = mfn_to_frame(mfn);
    f->type_info = 0;
    f->count_info = FRAME_C_ALLOCATED | FRAME_C_XEN | 1;
    set_gpfn_from_mfn(mfn, M2P_INVALID);
    __atomic_store_n(&f->owner, d->id, __ATOMIC_RELEASE);
    return p;
}

/* Takes a shared frame back, unless the domain still holds a reference to it (a mapping): then nothing changes
 * and the answer is false. */
static bool frame_unused_by_guest(void *p)
{
    struct frame *f = mfn_to_frame(virt_to_mfn(p));
    return frame_ref_count(f) == 1 && frame_type_count(f) == 0;
}

static void unshare_frame(void *p)
{
    struct frame *f = mfn_to_frame(virt_to_mfn(p));
    __atomic_store_n(&f->owner, FRAME_OWNER_XEN, __ATOMIC_RELEASE);
    f->count_info = 0;
    free_hv_pages(p, 0);
}

static int grow_status(struct domain *d, struct grant_table *gt, unsigned int nr_frames)
{
    unsigned int want = STATUS_FRAMES(nr_frames), i;
    for (i = gt->nr_status_frames; i < want; i++) {
        gt->status[i] = share_new_frame(d);
        if (!gt->status[i]) {
            while (i-- > gt->nr_status_frames)
                unshare_frame(gt->status[i]);
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
        gt->shared[i] = share_new_frame(d);
        if (!gt->shared[i])
            goto fail;
    }
    if (gt->version > 1 && grow_status(d, gt, want))
        goto fail;
    if (want > gt->nr_frames)
        gt->nr_frames = want;
    return 0;
fail:
    while (i-- > gt->nr_frames)
        unshare_frame(gt->shared[i]);
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
    gt->version = 1;
    gt->max_frames = MAX_GRANT_FRAMES;
    if (grow_table(d, gt, INITIAL_NR_GRANT_FRAMES)) {
        xfree(gt);
        return NULL;
    }
    struct grant_table *expected = NULL;
    if (!__atomic_compare_exchange_n((struct grant_table **)&d->grant, &expected, gt, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        /* Another vCPU created it first. */
        unshare_frame(gt->shared[0]);
        xfree(gt);
        return expected;
    }
    return gt;
}

/* ---- The sub-ops. */

static struct domain *domain_by_any_id(domid_t id)
{
    return id == DOMID_SELF ? current_domain() : domain_lookup(id);
}

static bool may_target(const struct domain *cur, const struct domain *d) { return cur == d || cur->privileged; }

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
    struct domain *d = domain_by_any_id(op.dom);
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
    return write_status(uop, offsetof(struct gnttab_setup_table, status), op.status);
}

static long query_size(uint64_t uop, unsigned int count)
{
    struct gnttab_query_size op;
    if (count != 1)
        return -EINVAL;
    if (copy_from_guest_obj(&op, uop))
        return -EFAULT;
    struct domain *d = domain_by_any_id(op.dom);
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

/* Switching versions keeps the first 8 entries (reserved for the toolstack: console and xenstore rings),
 * converted to the new format, and clears the rest. It fails if a status frame is still mapped (-EBUSY, cf.
 * XSA-255) or a reserved v2 entry cannot be expressed in v1 (-ERANGE). No grant can be in use yet. */
static long change_version(struct domain *d, struct grant_table *gt, unsigned int version)
{
    struct grant_entry_v1 keep[GNTTAB_NR_RESERVED_ENTRIES];
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
            unshare_frame(gt->status[i]);
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
    } else if (op.version > GNTTAB_MAX_VERSION) {
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
    struct domain *d = domain_by_any_id(op.dom);
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
    return write_status(uop, offsetof(struct gnttab_get_status_frames, status), op.status);
}

static long get_version(uint64_t uop)
{
    struct gnttab_get_version op;
    if (copy_from_guest_obj(&op, uop))
        return -EFAULT;
    struct domain *d = domain_by_any_id(op.dom);
    if (!d)
        return -ESRCH;
    if (!may_target(current_domain(), d))
        return -EPERM;
    struct grant_table *gt = grant_table_of(d);
    if (!gt)
        return -ENOMEM;
    op.version = gt->version;
    return copy_to_guest(uop + offsetof(struct gnttab_get_version, version), &op.version, sizeof(op.version))
               ? -EFAULT
               : 0;
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

    switch (cmd) {
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
        /* map/unmap/unmap_and_replace, transfer, copy, swap_grant_ref, cache_flush: need grant mapping between
         * domains, which does not exist yet. */
        return -ENOSYS;
    }
}
