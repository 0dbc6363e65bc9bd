/* domctl: the toolstack's per-domain interface (Xen 4.17, interface version 0x15).
 *
 * The dispatcher does, once for every op, what Xen's do_domctl does around them: copy the request in, check the
 * interface version (-EACCES), find the target domain (-ESRCH; createdomain names none, getdomaininfo may name
 * one that does not exist), check privilege (Xen's default policy: the control domain only, -EPERM), take the
 * domctl lock (busy: a hypercall continuation, so two toolstack calls never interleave), call the op, and copy the
 * request back when the op produced output. Each op then calls the subsystem that owns what it changes.
 *
 * The target comes with a reference. Ops marked `live` refuse a dying domain (-ESRCH), since they would give it
 * new state that its teardown may already have passed; the rest (destroy, pause, information) also act on a
 * dying one, as the toolstack must be able to see and finish it.
 *
 * Locking: domctl_lock serialises ops (not getdomaininfo, which only reads). Ops that change a vCPU's state pause
 * it, or its domain, first; pausing oneself would never finish, so those refuse the caller's own domain. */
#include <public/domctl.h>
#include <public/vcpu.h>
#include <vesta/domain.h>
#include <vesta/domctl.h>
#include <vesta/errno.h>
#include <vesta/guest_access.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/percpu.h>
#include <vesta/pv.h>
#include <vesta/sched.h>
#include <vesta/setup.h>
#include <vesta/xenctl_bitmap.h>

#define DEFAULT_MAX_GRANT_FRAMES 64      /* Xen's gnttab_max_frames */
#define DEFAULT_MAX_MAPTRACK_FRAMES 1024 /* Xen's gnttab_max_maptrack_frames */

static spinlock_t domctl_lock = SPINLOCK_INIT;

/* ---- getdomaininfo, shared with sysctl getdomaininfolist. */

void domain_get_info(struct domain *d, struct xen_domctl_getdomaininfo *info)
{
    memset(info, 0, sizeof(*info));
    info->domain = d->id;
    info->max_vcpu_id = XEN_INVALID_MAX_VCPU_ID;
    /* Blocked only if every online vCPU is; running if any is. */
    uint32_t flags = XEN_DOMINF_blocked;
    uint64_t cpu_time = 0;
    for_each_vcpu (d, v) {
        struct vcpu_runstate_info rs;
        vcpu_runstate_get(v, &rs);
        cpu_time += rs.time[RUNSTATE_running];
        info->max_vcpu_id = v->id;
        uint32_t pf = __atomic_load_n(&v->pause_flags, __ATOMIC_ACQUIRE);
        if (pf & VPF_DOWN)
            continue;
        if (!(pf & VPF_BLOCKED))
            flags &= ~XEN_DOMINF_blocked;
        if (__atomic_load_n(&v->is_running, __ATOMIC_ACQUIRE))
            flags |= XEN_DOMINF_running;
        info->nr_online_vcpus++;
    }
    info->cpu_time = cpu_time;
    /* Xen keeps the code in an unsigned int, ~0 until the domain shuts down, and shifts all of it in: bits 31:16
     * are all ones for a domain that never shut down (readers mask out 23:16). */
    uint32_t code = d->shutdown_code == SHUTDOWN_CODE_INVALID ? 0xffffU : d->shutdown_code;
    info->flags = (info->nr_online_vcpus ? flags : 0) | (d->is_dying == DOMDYING_dead ? XEN_DOMINF_dying : 0) |
                  (d->is_shut_down ? XEN_DOMINF_shutdown : 0) |
                  (d->controller_pause_count > 0 ? XEN_DOMINF_paused : 0) | (code << XEN_DOMINF_shutdownshift);
    info->ssidref = d->ssidref;
    info->tot_pages = d->tot_pages;
    info->max_pages = d->max_pages;
    info->outstanding_pages = d->outstanding_pages;
    info->shared_info_frame = d->shared_info_mfn; /* a PV domain's gfn is the mfn */
    info->cpupool = 0;
    memcpy(info->handle, d->handle, sizeof(info->handle));
    uint32_t a, b, c, dx;
    cpuid(0x80000008, &a, &b, &c, &dx);
    info->gpaddr_bits = (uint8_t)((a >> 16) & 0xff ? (a >> 16) & 0xff : a & 0xff); /* Xen's hap_paddr_bits */
    info->arch_config.misc_flags = d->msr_relaxed ? XEN_X86_MSR_RELAXED : 0;
}

/* ---- Domain life cycle. */

/* Xen's sanitise_domain_config for what a PV-only hypervisor offers. */
static long createdomain_config(const struct xen_domctl_createdomain *c, domid_t want, struct domain_config *cfg)
{
    const uint32_t known = XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap | XEN_DOMCTL_CDF_s3_integrity |
                           XEN_DOMCTL_CDF_oos_off | XEN_DOMCTL_CDF_xs_domain | XEN_DOMCTL_CDF_iommu |
                           XEN_DOMCTL_CDF_nested_virt | XEN_DOMCTL_CDF_vpmu;
    if ((c->flags & ~known) || (c->grant_opts & ~XEN_DOMCTL_GRANT_version_mask) || c->max_vcpus < 1)
        return -EINVAL;
    if ((c->flags & XEN_DOMCTL_CDF_hap) && !(c->flags & XEN_DOMCTL_CDF_hvm))
        return -EINVAL;
    /* No IOMMU, no processor trace, no vPMU, no HVM, no TBOOT: Xen refuses each when it lacks it. */
    if ((c->flags & (XEN_DOMCTL_CDF_iommu | XEN_DOMCTL_CDF_vpmu | XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_s3_integrity |
                     XEN_DOMCTL_CDF_nested_virt)) ||
        c->iommu_opts || c->vmtrace_size)
        return -EINVAL;
    if (c->max_vcpus > MAX_VIRT_CPUS || (c->arch.misc_flags & ~XEN_X86_MSR_RELAXED))
        return -EINVAL;
    if (c->arch.emulation_flags && c->arch.emulation_flags != XEN_X86_EMU_PIT)
        return -EINVAL;
    unsigned int version = XEN_DOMCTL_GRANT_version(c->grant_opts);
    int32_t gframes = c->max_grant_frames < 0 ? DEFAULT_MAX_GRANT_FRAMES : c->max_grant_frames;
    int32_t mframes = c->max_maptrack_frames < 0 ? DEFAULT_MAX_MAPTRACK_FRAMES : c->max_maptrack_frames;
    if (!version || version > 2 || gframes < 1 || gframes > DEFAULT_MAX_GRANT_FRAMES ||
        mframes > DEFAULT_MAX_MAPTRACK_FRAMES)
        return -EINVAL;
    if (c->cpupool_id != 0)
        return -ESRCH; /* pool 0 is the only one */
    *cfg = (struct domain_config){
        .id = want,
        .max_vcpus = c->max_vcpus,
        .max_evtchn_port = MIN(c->max_evtchn_port, EVTCHN_2L_NR_CHANNELS - 1),
        .max_grant_frames = (unsigned int)gframes,
        .max_maptrack_frames = (unsigned int)mframes,
        .max_grant_version = version,
        .ssidref = c->ssidref,
        .msr_relaxed = c->arch.misc_flags & XEN_X86_MSR_RELAXED,
    };
    memcpy(cfg->handle, c->handle, sizeof(cfg->handle));
    return 0;
}

static long op_createdomain(struct xen_domctl *op, struct domain *unused)
{
    (void)unused;
    domid_t want = op->domain > 0 && op->domain < DOMID_FIRST_RESERVED ? op->domain : DOMID_INVALID;
    struct domain_config cfg;
    long rc = createdomain_config(&op->u.createdomain, want, &cfg);
    if (rc)
        return rc;
    int err;
    struct domain *d = domain_create(&cfg, &err);
    if (!d)
        return err;
    op->domain = d->id;
    pr_debug("Domain %u created: %u vCPU%s, grant v%u", d->id, cfg.max_vcpus, cfg.max_vcpus == 1 ? "" : "s",
           cfg.max_grant_version);
    domain_put(d); /* the table keeps it until it is destroyed */
    return 0;
}

static long op_destroydomain(struct xen_domctl *op, struct domain *d)
{
    (void)op;
    return domain_kill(d); /* -ERESTART: the dispatcher continues the hypercall */
}

static long op_pausedomain(struct xen_domctl *op, struct domain *d)
{
    (void)op;
    return d == current_domain() ? -EINVAL : domain_pause_by_controller(d);
}

static long op_unpausedomain(struct xen_domctl *op, struct domain *d)
{
    (void)op;
    return domain_unpause_by_controller(d);
}

static long op_resumedomain(struct xen_domctl *op, struct domain *d)
{
    (void)op;
    if (d == current_domain())
        return -EINVAL;
    domain_resume(d);
    return 0;
}

static long op_getdomaininfo(struct xen_domctl *op, struct domain *d)
{
    domain_get_info(d, &op->u.getdomaininfo);
    op->domain = d->id;
    return 0;
}

/* The vCPUs were sized at creation; this creates them (down, placed on CPUs). */
static long op_max_vcpus(struct xen_domctl *op, struct domain *d)
{
    if (d == current_domain() || op->u.max_vcpus.max != d->max_vcpus)
        return -EINVAL;
    domain_pause(d);
    long rc = 0;
    for (unsigned int i = 0; i < d->max_vcpus && !rc; i++)
        if (!d->vcpus[i] && !vcpu_create(d, i))
            rc = -ENOMEM;
    domain_unpause(d);
    return rc;
}

/* Xen removed the check against tot_pages: a domain above its new limit may only shrink. */
static long op_max_mem(struct xen_domctl *op, struct domain *d)
{
    uint64_t pages = op->u.max_mem.max_memkb >> (PAGE_SHIFT - 10);
    spin_lock(&d->lock);
    d->max_pages = MIN(pages, (uint64_t)UINT32_MAX);
    spin_unlock(&d->lock);
    return 0;
}

static long op_setdomainhandle(struct xen_domctl *op, struct domain *d)
{
    memcpy(d->handle, op->u.setdomainhandle.handle, sizeof(d->handle));
    return 0;
}

static long op_settimeoffset(struct xen_domctl *op, struct domain *d)
{
    d->time_offset_seconds = op->u.settimeoffset.time_offset_seconds;
    update_domain_wallclock(d);
    return 0;
}

/* ---- vCPUs. */

static struct vcpu *domain_vcpu(const struct domain *d, uint32_t id)
{
    return id < d->max_vcpus ? __atomic_load_n(&d->vcpus[id], __ATOMIC_ACQUIRE) : NULL;
}

static long op_getvcpuinfo(struct xen_domctl *op, struct domain *d)
{
    struct xen_domctl_getvcpuinfo *vi = &op->u.getvcpuinfo;
    if (vi->vcpu >= d->max_vcpus)
        return -EINVAL;
    struct vcpu *v = domain_vcpu(d, vi->vcpu);
    if (!v)
        return -ESRCH;
    struct vcpu_runstate_info rs;
    vcpu_runstate_get(v, &rs);
    uint32_t pf = __atomic_load_n(&v->pause_flags, __ATOMIC_ACQUIRE);
    vi->online = !(pf & VPF_DOWN);
    vi->blocked = !!(pf & VPF_BLOCKED);
    vi->running = __atomic_load_n(&v->is_running, __ATOMIC_ACQUIRE);
    vi->cpu_time = rs.time[RUNSTATE_running];
    vi->cpu = v->processor;
    return 0;
}

static long op_setvcpucontext(struct xen_domctl *op, struct domain *d)
{
    struct vcpu *v = domain_vcpu(d, op->u.vcpucontext.vcpu);
    if (d == current_domain() || !v)
        return -EINVAL;
    if (!op->u.vcpucontext.ctxt.p)
        return -EOPNOTSUPP; /* resetting a vCPU (a NULL context) is only for soft reset, which Vesta lacks */
    struct vcpu_guest_context *c = xmalloc(sizeof(*c));
    if (!c)
        return -ENOMEM;
    long rc = copy_from_guest(c, op->u.vcpucontext.ctxt.p, sizeof(*c)) ? -EFAULT : 0;
    if (!rc) {
        domain_pause(d);
        rc = vcpu_set_context(v, c);
        domain_unpause(d);
    }
    xfree(c);
    return rc;
}

static long op_getvcpucontext(struct xen_domctl *op, struct domain *d)
{
    struct vcpu *v = domain_vcpu(d, op->u.vcpucontext.vcpu);
    if (!v || v == current_vcpu())
        return -EINVAL;
    if (!v->is_initialised)
        return -ENODATA;
    struct vcpu_guest_context *c = xmalloc(sizeof(*c));
    if (!c)
        return -ENOMEM;
    vcpu_pause(v);
    vcpu_get_context(v, c);
    vcpu_unpause(v);
    long rc = copy_to_guest(op->u.vcpucontext.ctxt.p, c, sizeof(*c)) ? -EFAULT : 0;
    xfree(c);
    return rc;
}

/* Hard affinity is where a vCPU may run: it stays pinned to its CPU while that is in the mask, and otherwise moves
 * to the least loaded CPU of the mask. Soft affinity is recorded; the pinned placement has no room for a
 * preference. Returned: hard & online CPUs, soft & hard & online (Xen's effective affinities). */
static long op_vcpuaffinity(struct xen_domctl *op, struct domain *d)
{
    struct xen_domctl_vcpuaffinity *va = &op->u.vcpuaffinity;
    if (va->vcpu >= d->max_vcpus)
        return -EINVAL;
    struct vcpu *v = domain_vcpu(d, va->vcpu);
    if (!v)
        return -ESRCH;
    if ((va->flags & ~(XEN_VCPUAFFINITY_HARD | XEN_VCPUAFFINITY_SOFT | XEN_VCPUAFFINITY_FORCE)) ||
        !(va->flags & (XEN_VCPUAFFINITY_HARD | XEN_VCPUAFFINITY_SOFT)) ||
        ((va->flags & XEN_VCPUAFFINITY_HARD) && !va->cpumap_hard.nr_bits) ||
        ((va->flags & XEN_VCPUAFFINITY_SOFT) && !va->cpumap_soft.nr_bits))
        return -EINVAL;
    struct cpumask online, hard, soft;
    cpumask_online(&online);
    if (op->cmd == XEN_DOMCTL_setvcpuaffinity) {
        long rc;
        hard = v->hard_affinity;
        soft = v->soft_affinity;
        if ((va->flags & XEN_VCPUAFFINITY_HARD) && (rc = xenctl_to_bitmap(hard.bits, CPUMASK_BITS, &va->cpumap_hard)))
            return rc;
        if ((va->flags & XEN_VCPUAFFINITY_SOFT) && (rc = xenctl_to_bitmap(soft.bits, CPUMASK_BITS, &va->cpumap_soft)))
            return rc;
        struct cpumask eff;
        cpumask_and(&eff, &hard, &online);
        if (cpumask_empty(&eff))
            return -EINVAL;
        if (v == current_vcpu() && !cpumask_test(&eff, v->processor))
            return -EBUSY; /* a vCPU cannot move itself while it runs this */
        v->hard_affinity = hard;
        v->soft_affinity = soft;
        if (!cpumask_test(&eff, v->processor)) {
            vcpu_pause(v);
            vcpu_move(v, sched_pick_cpu_in(&eff));
            vcpu_unpause(v);
        }
    }
    cpumask_and(&hard, &v->hard_affinity, &online);
    cpumask_and(&soft, &v->soft_affinity, &hard);
    long rc = 0;
    if (va->flags & XEN_VCPUAFFINITY_HARD)
        rc = bitmap_to_xenctl(&va->cpumap_hard, hard.bits, nr_cpu_ids());
    if (!rc && (va->flags & XEN_VCPUAFFINITY_SOFT))
        rc = bitmap_to_xenctl(&va->cpumap_soft, soft.bits, nr_cpu_ids());
    return rc;
}

/* One NUMA node: a node map is all the machine's memory, or (no node 0) none, which Xen refuses. */
static long op_setnodeaffinity(struct xen_domctl *op, struct domain *d)
{
    (void)d;
    uint64_t nodes = 0;
    long rc = xenctl_to_bitmap(&nodes, 1, &op->u.nodeaffinity.nodemap);
    return rc ? rc : (nodes & 1) ? 0 : -EINVAL;
}

static long op_getnodeaffinity(struct xen_domctl *op, struct domain *d)
{
    (void)d;
    uint64_t node0 = 1;
    return bitmap_to_xenctl(&op->u.nodeaffinity.nodemap, &node0, 1);
}

/* ---- The table. */

#define LIVE 1u       /* refuses a dying domain */
#define OUT 2u        /* copies the request back on success */
#define OUT_ALWAYS 4u /* ... and on failure (it explains it) */
#define NO_LOCK 8u    /* reads only: runs without the domctl lock */
#define NO_DOMAIN 16u /* names no existing domain */

static const struct domctl_op {
    long (*fn)(struct xen_domctl *op, struct domain *d);
    const char *name;
    unsigned int flags;
} domctl_ops[] = {
    [XEN_DOMCTL_createdomain] = {op_createdomain, "createdomain", NO_DOMAIN | OUT},
    [XEN_DOMCTL_destroydomain] = {op_destroydomain, "destroydomain", 0},
    [XEN_DOMCTL_pausedomain] = {op_pausedomain, "pausedomain", 0},
    [XEN_DOMCTL_unpausedomain] = {op_unpausedomain, "unpausedomain", 0},
    [XEN_DOMCTL_resumedomain] = {op_resumedomain, "resumedomain", LIVE},
    [XEN_DOMCTL_getdomaininfo] = {op_getdomaininfo, "getdomaininfo", NO_LOCK | OUT},
    [XEN_DOMCTL_max_vcpus] = {op_max_vcpus, "max_vcpus", LIVE},
    [XEN_DOMCTL_max_mem] = {op_max_mem, "max_mem", 0},
    [XEN_DOMCTL_setdomainhandle] = {op_setdomainhandle, "setdomainhandle", 0},
    [XEN_DOMCTL_settimeoffset] = {op_settimeoffset, "settimeoffset", LIVE},
    [XEN_DOMCTL_getvcpuinfo] = {op_getvcpuinfo, "getvcpuinfo", OUT},
    [XEN_DOMCTL_setvcpucontext] = {op_setvcpucontext, "setvcpucontext", LIVE},
    [XEN_DOMCTL_getvcpucontext] = {op_getvcpucontext, "getvcpucontext", OUT},
    [XEN_DOMCTL_setvcpuaffinity] = {op_vcpuaffinity, "setvcpuaffinity", LIVE | OUT},
    [XEN_DOMCTL_getvcpuaffinity] = {op_vcpuaffinity, "getvcpuaffinity", OUT},
    [XEN_DOMCTL_setnodeaffinity] = {op_setnodeaffinity, "setnodeaffinity", LIVE},
    [XEN_DOMCTL_getnodeaffinity] = {op_getnodeaffinity, "getnodeaffinity", OUT},
    [XEN_DOMCTL_scheduler_op] = {sched_domctl, "scheduler_op", LIVE | OUT},
    [XEN_DOMCTL_hypercall_init] = {pv_domctl_hypercall_init, "hypercall_init", LIVE},
    [XEN_DOMCTL_set_address_size] = {pv_domctl_address_size, "set_address_size", LIVE},
    [XEN_DOMCTL_get_address_size] = {pv_domctl_address_size, "get_address_size", OUT},
    [XEN_DOMCTL_settscinfo] = {pv_domctl_tscinfo, "settscinfo", LIVE},
    [XEN_DOMCTL_gettscinfo] = {pv_domctl_tscinfo, "gettscinfo", OUT},
    [XEN_DOMCTL_getpageframeinfo3] = {pv_domctl_getpageframeinfo3, "getpageframeinfo3", 0},
    [XEN_DOMCTL_get_cpu_policy] = {pv_domctl_get_cpu_policy, "get_cpu_policy", OUT},
    [XEN_DOMCTL_set_cpu_policy] = {pv_domctl_set_cpu_policy, "set_cpu_policy", LIVE | OUT_ALWAYS},
};

/* XEN_DOMCTL_getdomaininfo names the first domain at or after op->domain (dying ones too). */
static struct domain *domctl_target(const struct xen_domctl *op, const struct domctl_op *o)
{
    if (o->flags & NO_DOMAIN)
        return NULL;
    if (op->cmd == XEN_DOMCTL_getdomaininfo)
        return op->domain < DOMID_FIRST_RESERVED ? domain_get_next(op->domain) : NULL;
    return o->flags & LIVE ? domain_get(op->domain) : domain_get_any(op->domain);
}

HC(do_domctl)
{
    uint64_t u_domctl = a1;
    struct xen_domctl op;
    if (copy_from_guest(&op, u_domctl, sizeof(op)))
        return -EFAULT;
    if (op.interface_version != XEN_DOMCTL_INTERFACE_VERSION)
        return -EACCES;
    const struct domctl_op *o = op.cmd < ARRAY_SIZE(domctl_ops) ? &domctl_ops[op.cmd] : NULL;
    if (!o || !o->fn)
        return current_domain()->privileged ? -ENOSYS : -EPERM;
    struct domain *d = domctl_target(&op, o);
    if (!d && !(o->flags & NO_DOMAIN))
        return op.cmd == XEN_DOMCTL_getdomaininfo && op.domain >= DOMID_FIRST_RESERVED ? -EINVAL : -ESRCH;
    long rc;
    if (!current_domain()->privileged) {
        rc = -EPERM;
    } else if (!(o->flags & NO_LOCK) && !spin_trylock(&domctl_lock)) {
        if (d)
            domain_put(d);
        return hypercall_continue(__HYPERVISOR_domctl, 1, &a1);
    } else {
        rc = o->fn(&op, d);
        if (!(o->flags & NO_LOCK))
            spin_unlock(&domctl_lock);
    }
    if (d)
        domain_put(d);
    if (rc == -ERESTART)
        return hypercall_continue(__HYPERVISOR_domctl, 1, &a1);
    if (((!rc && (o->flags & OUT)) || (o->flags & OUT_ALWAYS)) && copy_to_guest(u_domctl, &op, sizeof(op)))
        rc = -EFAULT;
    return rc;
}
