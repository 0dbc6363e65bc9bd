/* sysctl: the toolstack's host-wide operations (HYPERVISOR_sysctl, struct xen_sysctl in public/sysctl.h).
 *
 * One dispatcher does what every op needs, in Xen's order: copy the whole argument in (-EFAULT), check the
 * interface version (-EACCES), check the caller is the control domain (-EPERM: Xen's default policy treats every
 * sysctl alike), then call the op's handler from the table below under sysctl_lock. Afterwards it copies the whole
 * structure back if the handler succeeded -- except for ops marked own_copyback, which write back exactly the
 * fields Xen writes, also on some errors. Commands without a handler answer -ENOSYS, as Xen does for ops it was
 * built without.
 *
 * Locking: sysctl_lock serialises the ops, as Xen's does; handlers take the locks of what they read (the console
 * ring's) inside it. Xen spins on a trylock with hypercall continuations; nothing here waits on another vCPU,
 * so a plain lock does. */
#include <public/sysctl.h>
#include <vesta/console.h>
#include <vesta/cpu_policy.h>
#include <vesta/domain.h>
#include <vesta/domctl.h>
#include <vesta/errno.h>
#include <vesta/grant_table.h>
#include <vesta/guest_access.h>
#include <vesta/irq.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/percpu.h>
#include <vesta/pv.h>
#include <vesta/setup.h>
#include <vesta/sysctl.h>
#include <vesta/timer.h>
#include <vesta/topology.h>
#include <vesta/xenctl_bitmap.h>

/* Vesta has no NUMA support: all memory and every CPU is node 0. */
#define NODE_LOCAL_DISTANCE 10 /* ACPI SLIT's distance of a node to itself, what Xen reports without a SLIT */

static spinlock_t sysctl_lock = SPINLOCK_INIT;

/* Writes one field of the caller's struct xen_sysctl. */
static int copy_field_back(uint64_t uop, size_t offset, const void *src, size_t len)
{
    return copy_to_guest(uop + offset, src, len) ? -EFAULT : 0;
}
#define COPY_FIELD_BACK(uop, op, field) \
    copy_field_back((uop), offsetof(struct xen_sysctl, field), &(op)->field, sizeof((op)->field))

/* ---- CPUs ---- */

static void online_cpus(uint64_t bits[CPUMASK_WORDS])
{
    struct cpumask m;
    cpumask_online(&m);
    for (unsigned int i = 0; i < CPUMASK_WORDS; i++)
        bits[i] = m.bits[i];
}

/* CPU 0's siblings (same core) and package mates, among the online CPUs: Xen's threads_per_core and
 * cores_per_socket come from CPU 0's sibling and core masks. */
static void cpu0_layout(uint32_t *threads_per_core, uint32_t *cores_per_socket)
{
    struct cpu_topo t0, t;
    uint32_t same_core = 0, same_socket = 0;
    if (cpu_topology(0, &t0))
        for (unsigned int cpu = 0; cpu < MAX_CPUS; cpu++) {
            if (!cpu_topology(cpu, &t) || t.socket != t0.socket)
                continue;
            same_socket++;
            same_core += t.core == t0.core;
        }
    *threads_per_core = same_core ? same_core : 1;
    *cores_per_socket = same_socket / *threads_per_core;
}

/* ---- Handlers ---- */

static long sysctl_readconsole(struct xen_sysctl *op, uint64_t uop) { return console_read_ring(&op->u.readconsole); }

static long sysctl_physinfo(struct xen_sysctl *op, uint64_t uop)
{
    struct xen_sysctl_physinfo *pi = &op->u.physinfo;
    uint32_t fs[FS_NR];
    memset(pi, 0, sizeof(*pi));
    cpu0_layout(&pi->threads_per_core, &pi->cores_per_socket);
    pi->nr_cpus = nr_cpus_online;
    pi->max_cpu_id = nr_cpu_ids() - 1;
    pi->nr_nodes = 1;
    pi->max_node_id = 0;
    pi->cpu_khz = (uint32_t)tsc_khz;
    pi->total_pages = total_ram_pages;
    pi->free_pages = free_page_count();
    pi->scrub_pages = scrub_pending_count();
    pi->outstanding_pages = memory_outstanding_claims();
    pi->max_mfn = max_mfn - 1; /* no memory hotplug: the last frame of the frame table */
    cpu_policy_host_featureset(fs);
    _Static_assert(ARRAY_SIZE(pi->hw_cap) <= FS_NR, "hw_cap holds the first featureset words");
    memcpy(pi->hw_cap, fs, sizeof(pi->hw_cap));
    pi->capabilities = XEN_SYSCTL_PHYSCAP_pv;
    if (GNTTAB_MAX_VERSION >= 1)
        pi->capabilities |= XEN_SYSCTL_PHYSCAP_gnttab_v1;
    if (GNTTAB_MAX_VERSION >= 2)
        pi->capabilities |= XEN_SYSCTL_PHYSCAP_gnttab_v2;
    return 0;
}

static long sysctl_sched_id(struct xen_sysctl *op, uint64_t uop)
{
    op->u.sched_id.sched_id = VESTA_SCHEDULER_ID;
    return 0;
}

/* Domains in cpupool 0, which holds them all. */
static uint32_t pool0_domains(void) { return domain_count(); }

/* Xen's order: ascending ids from first_domain, at most max_domains, dying domains included. */
static long sysctl_getdomaininfolist(struct xen_sysctl *op, uint64_t uop)
{
    struct xen_sysctl_getdomaininfolist *l = &op->u.getdomaininfolist;
    uint32_t n = 0;
    long rc = 0;
    for (struct domain *d = domain_get_next(l->first_domain), *next; d && n < l->max_domains; d = next) {
        struct xen_domctl_getdomaininfo info;
        domain_get_info(d, &info);
        if (copy_to_guest(l->buffer.p + (uint64_t)n * sizeof(info), &info, sizeof(info)))
            rc = -EFAULT;
        n++;
        /* The next domain only if there is room for it: a reference taken here would otherwise outlive the loop
         * (with max_domains 1, as oxenstored and xenconsoled ask, every domain but the last would stay forever). */
        next = rc || n >= l->max_domains || d->id + 1U >= DOMID_FIRST_RESERVED
                   ? NULL
                   : domain_get_next((domid_t)(d->id + 1));
        domain_put(d);
        if (rc) {
            if (next)
                domain_put(next);
            return rc;
        }
    }
    l->num_domains = n;
    return 0;
}

/* Vesta has one cpupool, 0, with every online CPU and every domain; pools cannot be created, destroyed or
 * changed (those requests answer -EOPNOTSUPP). */
static long sysctl_cpupool_op(struct xen_sysctl *op, uint64_t uop)
{
    struct xen_sysctl_cpupool_op *cp = &op->u.cpupool_op;
    uint64_t bits[CPUMASK_WORDS] = {0};
    switch (cp->op) {
    case XEN_SYSCTL_CPUPOOL_OP_INFO: /* the first pool with an id >= cpupool_id */
        if (cp->cpupool_id > 0)
            return -ENOENT;
        cp->cpupool_id = 0;
        cp->sched_id = VESTA_SCHEDULER_ID;
        cp->n_dom = pool0_domains();
        online_cpus(bits);
        return bitmap_to_xenctl(&cp->cpumap, bits, nr_cpu_ids());
    case XEN_SYSCTL_CPUPOOL_OP_FREEINFO: /* CPUs in no pool: none */
        return bitmap_to_xenctl(&cp->cpumap, bits, nr_cpu_ids());
    case XEN_SYSCTL_CPUPOOL_OP_CREATE:
    case XEN_SYSCTL_CPUPOOL_OP_DESTROY:
    case XEN_SYSCTL_CPUPOOL_OP_ADDCPU:
    case XEN_SYSCTL_CPUPOOL_OP_RMCPU:
    case XEN_SYSCTL_CPUPOOL_OP_MOVEDOMAIN:
        return -EOPNOTSUPP;
    default:
        return -ENOSYS;
    }
}

static long sysctl_numainfo(struct xen_sysctl *op, uint64_t uop)
{
    struct xen_sysctl_numainfo *ni = &op->u.numainfo;
    const uint32_t nodes = 1;
    uint32_t i = nodes;
    if (!xen_guest_handle_is_null(ni->meminfo) || !xen_guest_handle_is_null(ni->distance)) {
        uint32_t n = MIN(nodes, ni->num_nodes);
        for (i = 0; i < n; i++) {
            if (!xen_guest_handle_is_null(ni->meminfo)) {
                /* Node 0 spans all of machine memory, holes included (Xen's spanned pages). */
                struct xen_sysctl_meminfo mi = {.memsize = max_mfn << PAGE_SHIFT,
                                                .memfree = free_page_count() << PAGE_SHIFT};
                if (copy_to_guest(ni->meminfo.p + (uint64_t)i * sizeof(mi), &mi, sizeof(mi)))
                    return -EFAULT;
            }
            if (!xen_guest_handle_is_null(ni->distance)) {
                /* Row i of the n x n matrix. */
                for (uint32_t j = 0; j < n; j++) {
                    uint32_t dist = NODE_LOCAL_DISTANCE;
                    if (copy_to_guest(ni->distance.p + ((uint64_t)i * n + j) * sizeof(dist), &dist, sizeof(dist)))
                        return -EFAULT;
                }
            }
        }
    }
    ni->num_nodes = i;
    return 0;
}

static long sysctl_cputopoinfo(struct xen_sysctl *op, uint64_t uop)
{
    struct xen_sysctl_cputopoinfo *ti = &op->u.cputopoinfo;
    uint32_t n = nr_cpu_ids(), i = n;
    if (!xen_guest_handle_is_null(ti->cputopo)) {
        n = MIN(n, ti->num_cpus);
        for (i = 0; i < n; i++) {
            struct cpu_topo t;
            struct xen_sysctl_cputopo ct = {XEN_INVALID_CORE_ID, XEN_INVALID_SOCKET_ID, XEN_INVALID_NODE_ID};
            if (cpu_topology(i, &t))
                ct = (struct xen_sysctl_cputopo){t.core, t.socket, 0};
            if (copy_to_guest(ti->cputopo.p + (uint64_t)i * sizeof(ct), &ct, sizeof(ct)))
                return -EFAULT;
        }
    }
    ti->num_cpus = i;
    return 0;
}

/* The node of each listed PCI device: Vesta knows the devices of segment 0 (through configuration space), and
 * with a single node every device is on node 0. */
static long sysctl_pcitopoinfo(struct xen_sysctl *op, uint64_t uop)
{
    struct xen_sysctl_pcitopoinfo *ti = &op->u.pcitopoinfo;
    if (xen_guest_handle_is_null(ti->devs) || xen_guest_handle_is_null(ti->nodes))
        return -EINVAL;
    for (uint32_t i = 0; i < ti->num_devs; i++) {
        struct physdev_pci_device dev;
        if (copy_from_guest(&dev, ti->devs.p + (uint64_t)i * sizeof(dev), sizeof(dev)))
            return -EFAULT;
        uint32_t node = dev.seg == 0 && pci_device_present(dev.bus, dev.devfn) ? 0 : XEN_INVALID_DEV;
        if (copy_to_guest(ti->nodes.p + (uint64_t)i * sizeof(node), &node, sizeof(node)))
            return -EFAULT;
    }
    return 0;
}

static long sysctl_debug_keys(struct xen_sysctl *op, uint64_t uop)
{
    for (uint32_t i = 0; i < op->u.debug_keys.nr_keys; i++) {
        char c;
        if (copy_from_guest(&c, op->u.debug_keys.keys.p + i, 1))
            return -EFAULT;
        handle_debugkey((unsigned char)c);
    }
    return 0;
}

/* Writes nr_features back even when the copy was short (-ENOBUFS), as Xen does. */
static long sysctl_get_cpu_featureset(struct xen_sysctl *op, uint64_t uop)
{
    struct xen_sysctl_cpu_featureset *cf = &op->u.cpu_featureset;
    uint32_t fs[FS_NR];
    if (xen_guest_handle_is_null(cf->features)) {
        cf->nr_features = FS_NR;
        return COPY_FIELD_BACK(uop, op, u.cpu_featureset.nr_features);
    }
    uint32_t nr = MIN(cf->nr_features, (uint32_t)FS_NR);
    long rc = cpu_policy_system_featureset(cf->index, fs);
    if (!rc && copy_to_guest(cf->features.p, fs, nr * sizeof(fs[0])))
        rc = -EFAULT;
    cf->nr_features = nr;
    if (!rc)
        rc = COPY_FIELD_BACK(uop, op, u.cpu_featureset.nr_features);
    if (!rc && nr < FS_NR)
        rc = -ENOBUFS;
    return rc;
}

/* The counts are written back one by one, each once its array was written. */
static long sysctl_get_cpu_policy(struct xen_sysctl *op, uint64_t uop)
{
    struct xen_sysctl_cpu_policy *cp = &op->u.cpu_policy;
    if (cp->_rsvd || cp->index > XEN_SYSCTL_cpu_policy_hvm_default)
        return -EINVAL;
    if (!cpu_policy_system_exists(cp->index))
        return -EOPNOTSUPP;
    long rc = cpu_policy_system_leaves(cp, &cp->nr_leaves);
    if (!rc)
        rc = COPY_FIELD_BACK(uop, op, u.cpu_policy.nr_leaves);
    if (!rc)
        rc = cpu_policy_system_msrs(cp, &cp->nr_msrs);
    if (!rc)
        rc = COPY_FIELD_BACK(uop, op, u.cpu_policy.nr_msrs);
    return rc;
}

/* ---- The table and the dispatcher ---- */

struct sysctl_op {
    long (*handler)(struct xen_sysctl *op, uint64_t uop);
    const char *name;
    bool own_copyback; /* the handler writes back the fields it returns; nothing else is copied */
};

static const struct sysctl_op sysctl_ops[] = {
    [XEN_SYSCTL_readconsole] = {sysctl_readconsole, "readconsole", false},
    [XEN_SYSCTL_physinfo] = {sysctl_physinfo, "physinfo", false},
    [XEN_SYSCTL_sched_id] = {sysctl_sched_id, "sched_id", false},
    [XEN_SYSCTL_getdomaininfolist] = {sysctl_getdomaininfolist, "getdomaininfolist", false},
    [XEN_SYSCTL_debug_keys] = {sysctl_debug_keys, "debug_keys", true},
    [XEN_SYSCTL_cputopoinfo] = {sysctl_cputopoinfo, "cputopoinfo", false},
    [XEN_SYSCTL_numainfo] = {sysctl_numainfo, "numainfo", false},
    [XEN_SYSCTL_cpupool_op] = {sysctl_cpupool_op, "cpupool_op", false},
    [XEN_SYSCTL_scheduler_op] = {NULL, "scheduler_op", false}, /* belongs with the scheduler */
    [XEN_SYSCTL_pcitopoinfo] = {sysctl_pcitopoinfo, "pcitopoinfo", false},
    [XEN_SYSCTL_get_cpu_featureset] = {sysctl_get_cpu_featureset, "get_cpu_featureset", true},
    [XEN_SYSCTL_get_cpu_policy] = {sysctl_get_cpu_policy, "get_cpu_policy", true},
};

HC(do_sysctl)
{
    uint64_t uop = a1;
    struct xen_sysctl op;
    if (copy_from_guest_obj(&op, uop))
        return -EFAULT;
    if (op.interface_version != XEN_SYSCTL_INTERFACE_VERSION)
        return -EACCES;
    if (!current_domain()->privileged)
        return -EPERM;
    const struct sysctl_op *s = op.cmd < ARRAY_SIZE(sysctl_ops) ? &sysctl_ops[op.cmd] : NULL;
    if (!s || !s->handler) {
        if (s && s->name)
            pr_debug("sysctl %s: not implemented", s->name);
        return -ENOSYS;
    }

    spin_lock(&sysctl_lock);
    long rc = s->handler(&op, uop);
    spin_unlock(&sysctl_lock);

    if (!rc && !s->own_copyback && copy_to_guest_obj(uop, &op))
        rc = -EFAULT;
    return rc;
}
