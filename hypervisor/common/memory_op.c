/* memory_op: how a PV domain grows, shrinks and inspects its memory (Xen 4.17 common/memory.c and the x86
 * arch_memory_op / subarch_memory_op).
 *
 * A PV domain is not translated: its "gmfn" are machine frame numbers and its pseudo-physical map lives in its
 * own memory. So the reservation ops hand out or take back machine frames, report their MFNs in the guest's
 * extent list, and keep only the machine-to-phys table up to date. The reservation ops do not return an error
 * code: they return how many extents they completed, and stop at the first one that fails (a bad argument
 * counts as "none done").
 *
 * Frame lifetime: a domain's frame holds one "allocation" reference (FRAME_C_ALLOCATED) for as long as the
 * domain owns it, plus one per mapping or other use. Giving a frame back drops only the allocation reference; the
 * frame returns to the heap when its last reference goes, so a page the guest still maps stays intact (and owned,
 * and counted) until it unmaps it, exactly as in Xen. */
#include <public/memory.h>
#include <vesta/apic.h>
#include <vesta/errno.h>
#include <vesta/grant_table.h>
#include <vesta/guest_access.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/pv.h>
#include <vesta/setup.h>
#include <vesta/x86.h>

/* A continuation of a reservation op carries the next extent in the command's upper bits. */
#define MEMOP_EXTENT_SHIFT 6
#define MEMOP_CMD_MASK ((1UL << MEMOP_EXTENT_SHIFT) - 1)

/* Largest extents (Xen's memop-max-order defaults on x86): 2 MiB for ordinary domains, 1 GiB for the control
 * domain, which dom0 is. */
#define DOMU_MAX_ORDER 9
#define CTLDOM_MAX_ORDER 18

#define NUMA_NO_NODE 0xffu
#define MAX_NUMNODES 64

static unsigned int max_order(const struct domain *d) { return d->privileged ? CTLDOM_MAX_ORDER : DOMU_MAX_ORDER; }

/* Whether id names a live domain (DOMID_SELF or an id), for sub-ops that answer differently for none. */
static bool domain_exists(domid_t id)
{
    struct domain *d = domain_get_by_any_id(id);
    if (d)
        domain_put(d);
    return d != NULL;
}

/* Xen's guest_handle_subrange_okay() for an array of 8-byte elements [first, last]: only the first element's
 * address is checked (see xen_addr_ok()), plus that the byte count does not overflow. */
static bool subrange_ok(uint64_t base, uint64_t first, uint64_t last)
{
    uint64_t count = last - first + 1;
    return count < ~0UL / 8 && xen_addr_ok(base + first * 8);
}

static int get_list(uint64_t base, uint64_t i, uint64_t *val) { return copy_from_guest(val, base + i * 8, 8); }
static int put_list(uint64_t base, uint64_t i, uint64_t val) { return copy_to_guest(base + i * 8, &val, 8); }

/* ---- Giving frames to a domain and taking them back. */

/* A new extent of 2^order frames for d, every frame below 2^address_bits if that is non-zero. The frames are
 * zeroed (they may have held another domain's or the hypervisor's data; the idle scrubber has usually done it
 * already) and carry no M2P entry yet. Refused when it
 * would take d past max_pages, or d is dying. */
static struct frame *alloc_extent(struct domain *d, unsigned int order, unsigned int address_bits)
{
    uint64_t n = 1UL << order;
    if (d->is_dying || d->tot_pages + n > d->max_pages)
        return NULL;
    struct frame *f = alloc_domain_frames(d, order, address_bits ? (1UL << address_bits) - PAGE_SIZE : 0, true);
    if (!f)
        return NULL;
    mfn_t mfn = frame_to_mfn(f);
    for (uint64_t i = 0; i < n; i++) {
        set_gpfn_from_mfn(mfn + i, M2P_INVALID);
        domain_assign_page(d, f + i); /* fresh from the heap: count 0, so this cannot fail */
    }
    return f;
}

/* Drops the allocation reference of a frame d owns (Xen's put_page_alloc_ref). The caller holds a reference of
 * its own, so the frame cannot be freed under it. */
static void drop_alloc_ref(struct frame *f)
{
    uint64_t old = __atomic_fetch_and(&f->count_info, ~FRAME_C_ALLOCATED, __ATOMIC_ACQ_REL);
    if (old & FRAME_C_ALLOCATED)
        pv_put_page(frame_to_mfn(f));
}

/* Xen's guest_remove_page() for a PV domain: the gmfn is the machine frame. */
static int remove_page(struct domain *d, uint64_t gmfn)
{
    if (!mfn_valid(gmfn))
        return -EINVAL;
    if (!pv_get_page(d, gmfn))
        return -ENXIO;
    drop_alloc_ref(mfn_to_frame(gmfn));
    pv_put_page(gmfn);
    return 0;
}

/* ---- The reservation ops. */

struct memop_args {
    struct domain *d;
    uint64_t list;              /* extent_start */
    unsigned int nr_extents, extent_order;
    unsigned int address_bits;  /* 0: anywhere */
    bool populate_on_demand;
    bool exact_foreign_node;    /* an exact NUMA node request that this single-node machine cannot meet */
    unsigned int nr_done;
    bool preempted;             /* stopped for other work: continue at nr_done */
};

/* Between extents: has other work been waiting long enough to stop here and continue later? */
static bool memop_preempt(struct memop_args *a, unsigned int i)
{
    if (i > a->nr_done && hypercall_preempt_check()) {
        a->preempted = true;
        return true;
    }
    return false;
}

static void increase_reservation(struct memop_args *a)
{
    if (a->list && !subrange_ok(a->list, a->nr_done, a->nr_extents - 1))
        return;
    if (a->extent_order > max_order(current_domain()))
        return;
    unsigned int i;
    for (i = a->nr_done; i < a->nr_extents && !memop_preempt(a, i); i++) {
        struct frame *f = a->exact_foreign_node ? NULL : alloc_extent(a->d, a->extent_order, a->address_bits);
        if (!f)
            break;
        if (a->list && put_list(a->list, i, frame_to_mfn(f)))
            break;
    }
    a->nr_done = i;
}

static void populate_physmap(struct memop_args *a)
{
    struct domain *cur = current_domain();
    if (!subrange_ok(a->list, a->nr_done, a->nr_extents - 1))
        return;
    if (a->extent_order > max_order(cur))
        return;
    unsigned int i;
    for (i = a->nr_done; i < a->nr_extents && !memop_preempt(a, i); i++) {
        uint64_t gpfn;
        if (get_list(a->list, i, &gpfn))
            break;
        if (a->populate_on_demand) {
            /* Populate-on-demand is an HVM notion: Xen refuses it on oneself and does nothing for a PV target. */
            if (a->d == cur)
                break;
            continue;
        }
        struct frame *f = a->exact_foreign_node ? NULL : alloc_extent(a->d, a->extent_order, a->address_bits);
        if (!f)
            break;
        mfn_t mfn = frame_to_mfn(f);
        for (uint64_t j = 0; j < (1UL << a->extent_order); j++)
            set_gpfn_from_mfn(mfn + j, gpfn + j);
        if (put_list(a->list, i, mfn))
            break;
    }
    a->nr_done = i;
}

static void decrease_reservation(struct memop_args *a)
{
    if (!subrange_ok(a->list, a->nr_done, a->nr_extents - 1) || a->extent_order > max_order(current_domain()))
        return;
    unsigned int i;
    for (i = a->nr_done; i < a->nr_extents && !memop_preempt(a, i); i++) {
        uint64_t gmfn;
        if (get_list(a->list, i, &gmfn))
            goto out;
        for (uint64_t j = 0; j < (1UL << a->extent_order); j++)
            if (remove_page(a->d, gmfn + j))
                goto out;
    }
out:
    a->nr_done = i;
}

/* Xen's propagate_node(): a NUMA node in mem_flags. There is one node (0) here, so a request for another node
 * is fine unless it insists on that exact node. Returns false for a request Xen rejects outright. */
static bool check_node(uint32_t mem_flags, bool *exact_elsewhere)
{
    unsigned int node = XENMEMF_get_node(mem_flags);
    *exact_elsewhere = false;
    if (node == NUMA_NO_NODE)
        return true;
    struct domain *cur = current_domain();
    if (cur->privileged) {
        if (node >= MAX_NUMNODES)
            return false;
        *exact_elsewhere = (mem_flags & XENMEMF_exact_node_request) && node != 0;
        return true;
    }
    return !(mem_flags & XENMEMF_exact_node_request);
}

static unsigned int host_address_bits(void)
{
    unsigned int order = 0;
    while ((1UL << order) < max_mfn)
        order++;
    return order + PAGE_SHIFT;
}

static long reservation_op_on(unsigned int op, unsigned long start_extent, const struct xen_memory_reservation *rp,
                              struct domain *d, uint64_t rp_arg);

static long reservation_op(unsigned int op, unsigned long start_extent, uint64_t arg)
{
    struct xen_memory_reservation r;
    if (copy_from_guest_obj(&r, arg))
        return (long)start_extent;
    if (r.nr_extents > (UINT32_MAX >> MEMOP_EXTENT_SHIFT) || start_extent >= r.nr_extents)
        return (long)start_extent;
    struct domain *d = domain_get_by_any_id(r.domid);
    if (!d)
        return (long)start_extent;
    long rc = reservation_op_on(op, start_extent, &r, d, arg);
    domain_put(d);
    return rc;
}

static long reservation_op_on(unsigned int op, unsigned long start_extent, const struct xen_memory_reservation *rp,
                              struct domain *d, uint64_t rp_arg)
{
    struct xen_memory_reservation r = *rp;
    struct memop_args a = {.d = d,
                           .list = r.extent_start.p,
                           .nr_extents = (unsigned int)r.nr_extents,
                           .extent_order = r.extent_order,
                           .nr_done = (unsigned int)start_extent};
    unsigned int bits = XENMEMF_get_address_bits(r.mem_flags);
    if (bits && bits < host_address_bits()) {
        if (bits <= PAGE_SHIFT)
            return (long)start_extent;
        a.address_bits = bits;
    }
    /* vNUMA is not offered (no domain has a virtual topology), so a vnode request carries no placement. */
    if (!(r.mem_flags & XENMEMF_vnode) && !check_node(r.mem_flags, &a.exact_foreign_node))
        return (long)start_extent;
    if (op == XENMEM_populate_physmap && (r.mem_flags & XENMEMF_populate_on_demand))
        a.populate_on_demand = true;
    if (!may_target(current_domain(), d))
        return (long)start_extent;
    switch (op) {
    case XENMEM_increase_reservation:
        increase_reservation(&a);
        break;
    case XENMEM_decrease_reservation:
        decrease_reservation(&a);
        break;
    default:
        populate_physmap(&a);
        break;
    }
    if (a.preempted) {
        unsigned long args[2] = {op | ((unsigned long)a.nr_done << MEMOP_EXTENT_SHIFT), rp_arg};
        return hypercall_continue(__HYPERVISOR_memory_op, 2, args);
    }
    return a.nr_done;
}

/* ---- XENMEM_exchange: swap some of a domain's frames for new ones (e.g. below 4 GiB for DMA), chunk by chunk;
 * nr_exchanged tells the caller how far it got. */

#define EXCHANGE_MAX_CHUNK 512 /* frames in one chunk: 2^max(order difference) with orders <= 9 for domUs */

static long write_nr_exchanged(uint64_t arg, uint64_t n)
{
    return copy_to_guest(arg + offsetof(struct xen_memory_exchange, nr_exchanged), &n, sizeof(n)) ? -EFAULT : 0;
}

/* Gives the stolen input frames back to d after a failed chunk. */
static void unsteal(struct domain *d, mfn_t *in, unsigned int n)
{
    for (unsigned int k = 0; k < n; k++) {
        struct frame *f = mfn_to_frame(in[k]);
        if (domain_assign_page(d, f))
            domain_free_page(f);
    }
}

static void free_extents(struct frame **out, unsigned int n, unsigned int order)
{
    for (unsigned int k = 0; k < n; k++)
        for (uint64_t j = 0; j < (1UL << order); j++) {
            drop_alloc_ref(out[k] + j);
        }
}

static long memory_exchange(uint64_t arg)
{
    struct xen_memory_exchange x;
    if (copy_from_guest_obj(&x, arg))
        return -EFAULT;
    struct domain *cur = current_domain(), *d = NULL;
    long rc;
    if (MAX(x.in.extent_order, x.out.extent_order) > max_order(cur)) {
        rc = -EPERM;
        goto fail_early;
    }
    if (x.nr_exchanged > x.in.nr_extents || x.in.domid != x.out.domid ||
        (~0UL >> x.in.extent_order) < x.in.nr_extents || (~0UL >> x.out.extent_order) < x.out.nr_extents ||
        (x.in.nr_extents << x.in.extent_order) != (x.out.nr_extents << x.out.extent_order)) {
        rc = -EINVAL;
        goto fail_early;
    }
    if (x.nr_exchanged == x.in.nr_extents)
        return 0;
    if (!subrange_ok(x.in.extent_start.p, x.nr_exchanged, x.in.nr_extents - 1)) {
        rc = -EFAULT;
        goto fail_early;
    }
    unsigned int in_chunk_order, out_chunk_order;
    bool out_ok;
    if (x.in.extent_order <= x.out.extent_order) {
        in_chunk_order = x.out.extent_order - x.in.extent_order;
        out_chunk_order = 0;
        out_ok = subrange_ok(x.out.extent_start.p, x.nr_exchanged >> in_chunk_order, x.out.nr_extents - 1);
    } else {
        in_chunk_order = 0;
        out_chunk_order = x.in.extent_order - x.out.extent_order;
        out_ok = subrange_ok(x.out.extent_start.p, x.nr_exchanged << out_chunk_order, x.out.nr_extents - 1);
    }
    if (!out_ok) {
        rc = -EFAULT;
        goto fail_early;
    }
    bool exact_elsewhere;
    if (!check_node(x.out.mem_flags, &exact_elsewhere)) {
        rc = -EINVAL;
        goto fail_early;
    }
    d = domain_get_by_any_id(x.in.domid);
    if (!d) {
        rc = -ESRCH;
        goto fail_early;
    }
    if (!may_target(cur, d)) {
        rc = -EPERM;
        goto fail_early;
    }
    unsigned int bits = XENMEMF_get_address_bits(x.out.mem_flags);
    if (bits >= 64 + PAGE_SHIFT || bits >= host_address_bits())
        bits = 0;
    else if (bits && bits <= PAGE_SHIFT)
        exact_elsewhere = true; /* nothing can be allocated below one page */

    /* Chunk sizes are bounded by the order checks above; keep the bookkeeping off the stack. */
    uint64_t in_per_chunk = (1UL << in_chunk_order) << x.in.extent_order;
    if (in_per_chunk > (1UL << CTLDOM_MAX_ORDER) || (1UL << out_chunk_order) > (1UL << CTLDOM_MAX_ORDER)) {
        rc = -EINVAL; /* unreachable with the order checks; keeps the arrays below bounded */
        goto fail_early;
    }
    mfn_t *in = xmalloc(in_per_chunk * sizeof(*in));
    struct frame **out = xmalloc((1UL << out_chunk_order) * sizeof(*out));
    if (!in || !out) {
        xfree(in);
        xfree(out);
        rc = -ENOMEM;
        goto fail_early;
    }
    uint64_t i;
    rc = 0;
    for (i = x.nr_exchanged >> in_chunk_order; i < (x.in.nr_extents >> in_chunk_order); i++) {
        unsigned int nin = 0, nout = 0;
        /* Take the chunk's input frames away from the domain. */
        for (uint64_t j = 0; j < (1UL << in_chunk_order) && !rc; j++) {
            uint64_t gmfn;
            if (get_list(x.in.extent_start.p, (i << in_chunk_order) + j, &gmfn)) {
                rc = -EFAULT;
                break;
            }
            for (uint64_t k = 0; k < (1UL << x.in.extent_order); k++) {
                if (!mfn_valid(gmfn + k)) {
                    rc = -EINVAL;
                    break;
                }
                rc = domain_steal_page(d, gmfn + k);
                if (rc)
                    break;
                in[nin++] = gmfn + k;
            }
        }
        /* Output frames. The stolen ones are off the domain's count, so max_pages does not get in the way. */
        for (uint64_t j = 0; j < (1UL << out_chunk_order) && !rc; j++) {
            struct frame *f = exact_elsewhere ? NULL : alloc_extent(d, x.out.extent_order, bits);
            if (!f)
                rc = -ENOMEM;
            else
                out[nout++] = f;
        }
        if (rc) {
            unsteal(d, in, nin);
            free_extents(out, nout, x.out.extent_order);
            break;
        }
        /* The chunk cannot fail from here on: release the input frames (the caller's steal reference is the
         * last one) and tell the guest about the output frames. */
        for (unsigned int k = 0; k < nin; k++) {
            struct frame *f = mfn_to_frame(in[k]);
            set_gpfn_from_mfn(in[k], M2P_INVALID);
            f->count_info = 0;
            free_pages(f, 0);
        }
        for (unsigned int j = 0; j < nout; j++) {
            uint64_t idx = (i << out_chunk_order) + j, gpfn;
            mfn_t mfn = frame_to_mfn(out[j]);
            if (get_list(x.out.extent_start.p, idx, &gpfn)) {
                rc = -EFAULT;
                continue;
            }
            for (uint64_t k = 0; k < (1UL << x.out.extent_order); k++)
                set_gpfn_from_mfn(mfn + k, gpfn + k);
            if (put_list(x.out.extent_start.p, idx, mfn))
                rc = -EFAULT;
        }
        if (rc)
            break; /* like Xen, the chunk whose report failed is not counted as exchanged */
    }
    xfree(in);
    xfree(out);
    x.nr_exchanged = rc ? i << in_chunk_order : x.in.nr_extents;
fail_early:
    if (d)
        domain_put(d);
    if (write_nr_exchanged(arg, x.nr_exchanged))
        rc = -EFAULT;
    return rc;
}

/* ---- XENMEM_acquire_resource: frames of another domain's resource, by MFN for a PV caller to map with
 * mmu_update. Only grant-table frames exist here; other resource types are Xen's -EOPNOTSUPP (ioreq servers and
 * trace buffers belong to HVM domains and processor tracing), which tells libxenguest to use older interfaces. */
static long acquire_resource(uint64_t arg, unsigned long start_extent)
{
    struct xen_mem_acquire_resource r;
    if (copy_from_guest_obj(&r, arg))
        return -EFAULT;
    if (r.pad || (r.frame >> 32) || ((r.frame + r.nr_frames) >> 32))
        return -EINVAL;
    struct domain *d = domain_get(r.domid);
    if (!d)
        return -ESRCH;
    long rc;
    unsigned int max = 0;
    if (d == current_domain())
        rc = -EPERM;
    else if (!current_domain()->privileged)
        rc = -EPERM; /* Xen's default policy: the control domain (or a device model) only */
    else if (r.type != XENMEM_resource_grant_table)
        rc = r.type == XENMEM_resource_ioreq_server || r.type == XENMEM_resource_vmtrace_buf ? -EINVAL : -EOPNOTSUPP;
    else if (!(max = gnttab_resource_max_frames(d, r.id)))
        rc = -EINVAL;
    else if (!r.frame_list.p)
        rc = r.nr_frames || start_extent ? -EINVAL : 0;
    else if (start_extent >= r.nr_frames || r.nr_frames > (UINT32_MAX >> MEMOP_EXTENT_SHIFT))
        rc = -EINVAL;
    else
        rc = 0;
    if (!rc && !r.frame_list.p) {
        r.nr_frames = max;
        rc = copy_to_guest(arg + offsetof(struct xen_mem_acquire_resource, nr_frames), &r.nr_frames,
                           sizeof(r.nr_frames)) ? -EFAULT : 0;
        domain_put(d);
        return rc;
    }
    while (!rc && start_extent < r.nr_frames) {
        uint64_t mfns[32];
        unsigned int todo = (unsigned int)MIN(ARRAY_SIZE(mfns), r.nr_frames - start_extent);
        int n = gnttab_acquire_resource(d, r.id, (unsigned int)(r.frame + start_extent), todo, mfns);
        if (n < 0) {
            rc = n;
            break;
        }
        if (copy_to_guest(r.frame_list.p + start_extent * 8, mfns, (size_t)n * 8)) {
            rc = -EFAULT;
            break;
        }
        start_extent += (unsigned int)n;
        if (start_extent < r.nr_frames && hypercall_preempt_check()) {
            domain_put(d);
            unsigned long args[2] = {XENMEM_acquire_resource | (start_extent << MEMOP_EXTENT_SHIFT), arg};
            return hypercall_continue(__HYPERVISOR_memory_op, 2, args);
        }
    }
    domain_put(d);
    return rc;
}

/* ---- XENMEM_claim_pages: the toolstack stakes a claim on memory for a domain it is about to populate (0
 * cancels it); mm/memory.c keeps the claims. Xen's argument checks, in Xen's order. */
static long claim_pages(uint64_t arg)
{
    struct xen_memory_reservation r;
    if (copy_from_guest_obj(&r, arg))
        return -EFAULT;
    if (r.extent_start.p || r.extent_order || r.mem_flags)
        return -EINVAL;
    struct domain *d = domain_get(r.domid);
    if (!d)
        return -EINVAL;
    long rc = current_domain()->privileged ? memory_set_claim(d, r.nr_extents) : -EPERM;
    domain_put(d);
    return rc;
}

/* ---- Read-only queries. */

static long domain_query(unsigned int op, uint64_t arg)
{
    struct xen_memory_domain md;
    if (copy_from_guest_obj(&md, arg))
        return -EFAULT;
    struct domain *d = domain_get_by_any_id(md.domid);
    if (!d)
        return -ESRCH;
    long rc;
    if (!may_target(current_domain(), d)) {
        rc = -EPERM;
    } else if (op == XENMEM_current_reservation) {
        rc = (long)d->tot_pages;
    } else if (op == XENMEM_maximum_reservation) {
        rc = (long)d->max_pages;
    } else {
        /* PV guests record the size of their P2M in shared_info; Xen reports the highest pfn from it. */
        uint64_t n = __atomic_load_n(&d->shared_info->arch.max_pfn, __ATOMIC_RELAXED);
        rc = (long)((n ? n : 1) - 1);
    }
    domain_put(d);
    return rc;
}

static long machphys_mfn_list(uint64_t arg)
{
    struct xen_machphys_mfn_list ml;
    if (copy_from_guest_obj(&ml, arg))
        return -EFAULT;
    uint32_t i;
    for (i = 0; i != ml.max_extents && i < m2p_nr_chunks(); i++) {
        uint64_t mfn = m2p_chunk_mfn(i);
        if (put_list(ml.extent_start.p, i, mfn))
            return -EFAULT;
    }
    ml.nr_extents = i;
    return copy_to_guest_obj(arg, &ml) ? -EFAULT : 0;
}

static long machphys_mapping(uint64_t arg)
{
    /* The hardware domain sees the real extent of machine memory (no memory hotplug here). */
    struct xen_machphys_mapping m = {.v_start = MACH2PHYS_VIRT_START,
                                     .v_end = MACH2PHYS_VIRT_END,
                                     .max_mfn = ((MACH2PHYS_VIRT_END - MACH2PHYS_VIRT_START) >> 3) - 1};
    if (current_domain()->privileged)
        m.max_mfn = max_mfn - 1;
    return copy_to_guest_obj(arg, &m) ? -EFAULT : 0;
}

/* ---- XENMEM_machine_memory_map (Xen: arch/x86/mm.c): the host's E820 map for the control domain, with the
 * holes the domain may not touch as MMIO added as "reserved" entries, so that a dom0 kernel never places a
 * device BAR there. */

#define E820_RESERVED 2
#define E820_UNUSABLE 5
#define MSI_PFN_FIRST 0xfee00UL
#define MSI_PFN_LAST 0xfeeffUL

/* The MMIO ranges dom0 is denied, as Xen 4.17's dom0_setup_permissions() computes them on this machine: the
 * local APIC and IO-APIC pages, the MSI window, AMD's HyperTransport hole, and unusable E820 regions above 1 MiB.
 * Everything else below 2^paddr_bits is dom0's. */
struct pfn_range {
    uint64_t s, e; /* inclusive */
};
#define MAX_DENIED (4 + MAX_IOAPICS + BOOT_MAX_MEM)

struct mmap_ctx {
    uint32_t n;            /* entries produced so far */
    uint64_t s;            /* first pfn not yet accounted for */
    uint32_t nr_entries;   /* guest buffer capacity */
    uint64_t buffer;       /* 0: count only */
    unsigned int paddr_bits;
    struct pfn_range denied[MAX_DENIED];
    unsigned int nr_denied;
};

static void deny(struct mmap_ctx *c, uint64_t s, uint64_t e)
{
    if (c->nr_denied < MAX_DENIED)
        c->denied[c->nr_denied++] = (struct pfn_range){s, e};
}

static unsigned int cpu_paddr_bits(void)
{
    uint32_t a, b, cx, d;
    cpuid(0x80000000, &a, &b, &cx, &d);
    if (a < 0x80000008)
        return 36;
    cpuid(0x80000008, &a, &b, &cx, &d);
    return a & 0xff;
}

static void dom0_denied_mmio(struct mmap_ctx *c)
{
    if (platform.lapic_addr)
        deny(c, platform.lapic_addr >> PAGE_SHIFT, platform.lapic_addr >> PAGE_SHIFT);
    for (unsigned int i = 0; i < platform.nr_ioapics; i++)
        deny(c, platform.ioapics[i].addr >> PAGE_SHIFT, platform.ioapics[i].addr >> PAGE_SHIFT);
    deny(c, MSI_PFN_FIRST, MSI_PFN_LAST);
    uint32_t a, vendor_b, cx, d;
    cpuid(0, &a, &vendor_b, &cx, &d);
    if (vendor_b == 0x68747541 /* "Auth"enticAMD */ || vendor_b == 0x6f677948 /* "Hygo"nGenuine */) {
        uint32_t sig, b1, c1, d1;
        cpuid(1, &sig, &b1, &c1, &d1);
        unsigned int family = (sig >> 8) & 0xf;
        if (family == 0xf)
            family += (sig >> 20) & 0xff;
        uint64_t end = 1UL << ((family < 0x17 ? 40 : c->paddr_bits) - PAGE_SHIFT);
        deny(c, end - ((3UL << 32) >> PAGE_SHIFT), end - 1);
    }
    for (unsigned int i = 0; i < boot_info.nr_mem; i++) {
        const struct boot_mem_region *m = &boot_info.mem[i];
        uint64_t s = MAX(m->base >> PAGE_SHIFT, 0x100UL), e = (m->base + m->len - 1) >> PAGE_SHIFT;
        if (m->type == E820_UNUSABLE && m->len && s <= e)
            deny(c, s, e);
    }
}

static bool pfn_denied(const struct mmap_ctx *c, uint64_t pfn)
{
    for (unsigned int i = 0; i < c->nr_denied; i++)
        if (pfn >= c->denied[i].s && pfn <= c->denied[i].e)
            return true;
    return false;
}

/* The next change point above pfn: the first pfn after it whose "denied" state may differ. */
static uint64_t next_boundary(const struct mmap_ctx *c, uint64_t pfn)
{
    uint64_t best = UINT64_MAX;
    for (unsigned int i = 0; i < c->nr_denied; i++) {
        if (c->denied[i].s > pfn && c->denied[i].s < best)
            best = c->denied[i].s;
        if (c->denied[i].e >= pfn && c->denied[i].e != UINT64_MAX && c->denied[i].e + 1 < best)
            best = c->denied[i].e + 1;
    }
    return best;
}

/* Xen's _handle_iomem_range(): a permitted range [s, e] starts; what lay unaccounted before it becomes a
 * reserved entry (if it is below the physical address width). */
static int permitted_range(struct mmap_ctx *c, uint64_t s, uint64_t e)
{
    if (s > c->s && !(s >> (c->paddr_bits - PAGE_SHIFT))) {
        if (c->buffer) {
            if (c->n + 1 >= c->nr_entries)
                return -EINVAL;
            struct xen_e820_entry ent = {.addr = c->s << PAGE_SHIFT,
                                         .size = (s - c->s) << PAGE_SHIFT,
                                         .type = E820_RESERVED};
            if (copy_to_guest(c->buffer + c->n * sizeof(ent), &ent, sizeof(ent)))
                return -EFAULT;
        }
        c->n++;
    }
    c->s = e + 1;
    return 0;
}

/* Xen's handle_iomem_range(): IO-APIC pages are always cut out of a permitted range. */
static int iomem_range(struct mmap_ctx *c, uint64_t s, uint64_t e)
{
    int err = 0;
    for (;;) {
        uint64_t low = UINT64_MAX;
        for (unsigned int i = 0; i < platform.nr_ioapics; i++) {
            uint64_t mfn = platform.ioapics[i].addr >> PAGE_SHIFT;
            if (mfn >= s && mfn <= e && mfn < low)
                low = mfn;
        }
        if (low == UINT64_MAX)
            break;
        if (s < low)
            err = permitted_range(c, s, low - 1);
        s = low + 1;
        if (err)
            break;
    }
    return err || s > e ? err : permitted_range(c, s, e);
}

/* Xen's rangeset_report_ranges() over the domain's permitted MMIO, clipped to [s, e]. Permission covers
 * [0, 2^paddr_bits) minus the denied ranges. */
static int report_permitted(struct mmap_ctx *c, uint64_t s, uint64_t e)
{
    uint64_t limit = (1UL << (c->paddr_bits - PAGE_SHIFT)) - 1;
    if (e > limit)
        e = limit;
    uint64_t p = s;
    while (p <= e) {
        uint64_t next = next_boundary(c, p);
        uint64_t end = next == UINT64_MAX || next - 1 > e ? e : next - 1;
        if (!pfn_denied(c, p)) {
            int rc = iomem_range(c, p, end);
            if (rc)
                return rc;
        }
        if (end == UINT64_MAX)
            break;
        p = end + 1;
    }
    return 0;
}

static long machine_memory_map(uint64_t arg)
{
    if (!current_domain()->privileged)
        return -EPERM;
    static struct mmap_ctx c; /* large; calls are serialised below */
    static spinlock_t lock = SPINLOCK_INIT;
    struct xen_memory_map map;
    if (copy_from_guest_obj(&map, arg))
        return -EFAULT;
    bool store = map.buffer.p != 0;
    unsigned int nr_map = boot_info.nr_mem;
    if (store && map.nr_entries < nr_map + 1)
        return -EINVAL;
    if (store && !xen_addr_ok(map.buffer.p))
        return -EFAULT;
    spin_lock(&lock);
    memset(&c, 0, sizeof(c));
    c.nr_entries = map.nr_entries;
    c.buffer = map.buffer.p;
    c.paddr_bits = cpu_paddr_bits();
    dom0_denied_mmio(&c);
    long rc = 0;
    for (unsigned int i = 0; i < nr_map && !rc; i++, c.n++) {
        const struct boot_mem_region *m = &boot_info.mem[i];
        uint64_t s = m->base >> PAGE_SHIFT;
        if (s > c.s) {
            rc = report_permitted(&c, c.s, s - 1);
            if (!rc)
                rc = iomem_range(&c, s, s);
            if (rc)
                break;
        }
        if (store) {
            if (c.nr_entries <= c.n + (nr_map - i)) {
                rc = -EINVAL;
                break;
            }
            struct xen_e820_entry ent = {.addr = m->base, .size = m->len, .type = m->type};
            if (copy_to_guest(c.buffer + c.n * sizeof(ent), &ent, sizeof(ent))) {
                rc = -EFAULT;
                break;
            }
        }
        c.s = (m->base + m->len + PAGE_SIZE - 1) >> PAGE_SHIFT;
    }
    if (!rc && c.s) {
        rc = report_permitted(&c, c.s, UINT64_MAX);
        if (!rc && c.s)
            rc = iomem_range(&c, UINT64_MAX, UINT64_MAX);
    }
    if (!rc) {
        map.nr_entries = c.n;
        if (copy_to_guest_obj(arg, &map))
            rc = -EFAULT;
    }
    spin_unlock(&lock);
    return rc;
}

HC(do_memory_op)
{
    unsigned long cmd = a1;
    uint64_t arg = a2;
    unsigned long start_extent = cmd >> MEMOP_EXTENT_SHIFT;
    unsigned int op = (unsigned int)(cmd & MEMOP_CMD_MASK);

    switch (op) {
    case XENMEM_increase_reservation:
    case XENMEM_decrease_reservation:
    case XENMEM_populate_physmap:
        return reservation_op(op, start_extent, arg);
    case XENMEM_exchange:
        return start_extent ? -EINVAL : memory_exchange(arg);
    case XENMEM_acquire_resource:
        return acquire_resource(arg, start_extent);
    case XENMEM_claim_pages:
        return start_extent ? -EINVAL : claim_pages(arg);
    case XENMEM_maximum_ram_page:
        return start_extent ? -EINVAL : (long)max_mfn;
    case XENMEM_current_reservation:
    case XENMEM_maximum_reservation:
    case XENMEM_maximum_gpfn:
        return start_extent ? -EINVAL : domain_query(op, arg);
    case XENMEM_add_to_physmap: {
        struct xen_add_to_physmap xatp;
        if (start_extent != (uint16_t)start_extent)
            return -EDOM;
        if (copy_from_guest_obj(&xatp, arg))
            return -EFAULT;
        if (xatp.space == XENMAPSPACE_gmfn_foreign)
            return -ENOSYS;
        /* The physmap belongs to translated guests; a PV domain has none to add to. */
        return domain_exists(xatp.domid) ? -EACCES : -ESRCH;
    }
    case XENMEM_add_to_physmap_batch: {
        struct xen_add_to_physmap_batch b;
        if (start_extent != (uint16_t)start_extent)
            return -EDOM;
        if (copy_from_guest_obj(&b, arg))
            return -EFAULT;
        if (b.space == XENMAPSPACE_gmfn_range)
            return -EOPNOTSUPP;
        return domain_exists(b.domid) ? -EACCES : -ESRCH;
    }
    case XENMEM_get_vnumainfo: {
        struct xen_vnuma_topology_info topo;
        if (start_extent)
            return -EINVAL;
        if (copy_from_guest_obj(&topo, arg))
            return -EFAULT;
        if (topo.pad)
            return -EINVAL;
        struct domain *d = domain_get_by_any_id(topo.domid);
        if (!d)
            return -ESRCH;
        bool ok = may_target(current_domain(), d);
        domain_put(d);
        return ok ? -EOPNOTSUPP : -EPERM; /* no domain has a virtual NUMA topology */
    }
    case XENMEM_remove_from_physmap: {
        struct xen_remove_from_physmap r;
        if (start_extent)
            return -EINVAL;
        if (copy_from_guest_obj(&r, arg))
            return -EFAULT;
        return domain_exists(r.domid) ? -EACCES : -ESRCH;
    }
    default:
        break;
    }

    /* arch_memory_op: the whole command must match (no continuation bits). */
    switch (cmd) {
    case XENMEM_memory_map: {
        struct xen_memory_map map;
        if (copy_from_guest_obj(&map, arg))
            return -EFAULT;
        /* Xen keeps a pseudo-physical map only for domains the toolstack gave one (set_memory_map); a PV dom0
         * has none and gets Xen's "not available" answer, falling back to nr_pages. */
        return -ENOSYS;
    }
    case XENMEM_machine_memory_map:
        return machine_memory_map(arg);
    case XENMEM_machphys_mapping:
        return machphys_mapping(arg);
    case XENMEM_machphys_mfn_list:
        return machphys_mfn_list(arg);
    case XENMEM_machphys_compat_mfn_list:
        return -EOPNOTSUPP; /* no 32-bit PV guests */
    case XENMEM_get_sharing_freed_pages:
    case XENMEM_get_sharing_shared_pages:
        /* Host-wide counters, open to any domain and never failing: Vesta never shares a frame between domains,
         * so both counts are 0, which is also what Xen built without memory sharing answers. */
        return 0;
    default:
        /* Toolstack, HVM, sharing, paging and resource ops: not provided. */
        return -ENOSYS;
    }
}
