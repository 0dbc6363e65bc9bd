/* Domain and vCPU life cycle: the domain table and references, creation and destruction, memory ownership,
 * pausing by the toolstack, shutdown, and the teardown of a destroyed domain (vesta/domain.h has the model).
 *
 * Creation and final destruction mirror each other: domain_create() acquires in order and unwinds in exact
 * reverse on failure, and domain_destroy() -- run when the last reference goes -- is that same unwinding. What
 * must be given back while other domains may still hold on to parts of a domain (its page references, event
 * channels, grant mappings) is released earlier, by domain_kill(), in the order of one table (teardown_steps[]):
 * each step is preemptible and says where to resume, so XEN_DOMCTL_destroydomain finishes through hypercall
 * continuations however large the domain.
 *
 * Locking: domain_table_lock guards the table, the id bitmap, the id rover and every domain's refcnt; d->lock a
 * domain's page list and counts; d->shutdown_lock its shutdown state. The table lock is taken inside d->lock
 * (a frame's last put drops the page reference under neither, see domain_free_page()). */
#include <public/sched.h>
#include <public/vcpu.h>
#include <vesta/acpi.h>
#include <vesta/console.h>
#include <vesta/cpu_policy.h>
#include <vesta/domain.h>
#include <vesta/domid.h>
#include <vesta/errno.h>
#include <vesta/grant_table.h>
#include <vesta/irq.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/pv.h>
#include <vesta/setup.h>

struct domain *hardware_domain;

/* ---- The domain table. */

static struct domain *domain_table[DOMID_FIRST_RESERVED];
static uint64_t domid_used[DOMID_BITMAP_WORDS];
static domid_t domid_rover;
static unsigned int nr_domains;
static spinlock_t domain_table_lock = SPINLOCK_INIT;

/* A reference on d, found in the table under its lock: refused once the count reached 0 (d is leaving) and,
 * unless `any`, once d is dying. */
static struct domain *get_locked(struct domain *d, bool any)
{
    ASSERT(spin_is_locked(&domain_table_lock));
    if (!d || !d->refcnt || (!any && d->is_dying != DOMDYING_alive))
        return NULL;
    d->refcnt++;
    return d;
}

static struct domain *lookup(domid_t id, bool any)
{
    if (id >= DOMID_FIRST_RESERVED)
        return NULL;
    unsigned long f = spin_lock_irqsave(&domain_table_lock);
    struct domain *d = get_locked(domain_table[id], any);
    spin_unlock_irqrestore(&domain_table_lock, f);
    return d;
}

struct domain *domain_get(domid_t id) { return lookup(id, false); }
struct domain *domain_get_any(domid_t id) { return lookup(id, true); }

struct domain *domain_get_by_any_id(domid_t id)
{
    if (id != DOMID_SELF)
        return domain_get(id);
    struct domain *d = current_domain();
    domain_hold(d);
    return d;
}

struct domain *domain_get_next(domid_t from)
{
    unsigned long f = spin_lock_irqsave(&domain_table_lock);
    struct domain *d = NULL;
    for (unsigned int w = from / 64; w < ARRAY_SIZE(domid_used) && !d; w++) {
        uint64_t bits = domid_used[w];
        if (w == from / 64)
            bits &= ~0UL << (from % 64);
        for (; bits && !d; bits &= bits - 1)
            d = get_locked(domain_table[w * 64 + (unsigned int)__builtin_ctzll(bits)], true);
    }
    spin_unlock_irqrestore(&domain_table_lock, f);
    return d;
}

void domain_hold(struct domain *d)
{
    unsigned long f = spin_lock_irqsave(&domain_table_lock);
    ASSERT(d->refcnt > 0);
    d->refcnt++;
    spin_unlock_irqrestore(&domain_table_lock, f);
}

static void domain_destroy(struct domain *d);

void domain_put(struct domain *d)
{
    unsigned long f = spin_lock_irqsave(&domain_table_lock);
    ASSERT(d->refcnt > 0);
    bool last = --d->refcnt == 0;
    spin_unlock_irqrestore(&domain_table_lock, f);
    if (last)
        domain_destroy(d);
}

/* Reserves an id for d: the one it asks for, or (DOMID_INVALID) the next free one (domid.c: Xen's rule). Lookups
 * cannot find d until table_publish(), when it is whole. */
static int table_reserve(struct domain *d, domid_t want)
{
    unsigned long f = spin_lock_irqsave(&domain_table_lock);
    domid_t id;
    int rc = domid_pick(domid_used, &domid_rover, want, &id);
    if (!rc) {
        d->id = id;
        nr_domains++;
        domid_used[id / 64] |= 1UL << (id % 64);
    }
    spin_unlock_irqrestore(&domain_table_lock, f);
    return rc;
}

static void table_publish(struct domain *d)
{
    unsigned long f = spin_lock_irqsave(&domain_table_lock);
    ASSERT(!domain_table[d->id]);
    __atomic_store_n(&domain_table[d->id], d, __ATOMIC_RELEASE);
    spin_unlock_irqrestore(&domain_table_lock, f);
}

/* Gives d's id back: d was never published, or its last reference went. */
static void table_remove(struct domain *d)
{
    unsigned long f = spin_lock_irqsave(&domain_table_lock);
    ASSERT(!d->refcnt && (domain_table[d->id] == d || !domain_table[d->id]));
    domain_table[d->id] = NULL;
    nr_domains--;
    domid_used[d->id / 64] &= ~(1UL << (d->id % 64));
    spin_unlock_irqrestore(&domain_table_lock, f);
}

unsigned int domain_count(void) { return __atomic_load_n(&nr_domains, __ATOMIC_RELAXED); }

struct vcpu *current_vcpu(void) { return this_cpu()->curr; }

/* ---- Hypervisor frames shared with a domain. */

void *domain_share_xen_page(struct domain *d)
{
    void *p = alloc_hv_pages(0);
    if (!p)
        return NULL;
    mfn_t mfn = virt_to_mfn(p);
    struct frame *f = mfn_to_frame(mfn);
    f->type_info = 0;
    f->count_info = FRAME_C_ALLOCATED | FRAME_C_XEN | 1; /* the hypervisor's reference; never the guest's last */
    set_gpfn_from_mfn(mfn, M2P_INVALID);
    __atomic_store_n(&f->owner, d->id, __ATOMIC_RELEASE);
    return p;
}

/* The hypervisor lets go of a shared frame. If the domain (or a domain that mapped it) still holds references,
 * the frame becomes an orphan: owned by the hypervisor's pseudo-domain, so nothing can map it again, and freed by
 * the last put (domain_free_page()). */
void domain_unshare_xen_page(void *p)
{
    struct frame *f = mfn_to_frame(virt_to_mfn(p));
    __atomic_store_n(&f->owner, FRAME_OWNER_XEN, __ATOMIC_RELEASE);
    frame_clear_count_flags(f, FRAME_C_XEN | FRAME_C_ALLOCATED);
    if (frame_put_ref(f))
        free_hv_pages(p, 0);
}

/* ---- Creation and final destruction. */

static void vcpu_destroy(struct vcpu *v);

struct domain *domain_create(const struct domain_config *cfg, int *err)
{
    int rc = -EINVAL;
    if (!cfg->max_vcpus || cfg->max_vcpus > MAX_VIRT_CPUS || cfg->max_evtchn_port >= EVTCHN_2L_NR_CHANNELS ||
        !cfg->max_grant_version || cfg->max_grant_version > 2)
        goto out;
    rc = -ENOMEM;
    struct domain *d = xzalloc(sizeof(*d));
    if (!d)
        goto out;
    d->privileged = cfg->privileged;
    d->io_all = cfg->privileged;
    memcpy(d->handle, cfg->handle, sizeof(d->handle));
    d->ssidref = cfg->ssidref;
    d->msr_relaxed = cfg->msr_relaxed;
    d->sched_weight = SCHED_DEFAULT_WEIGHT;
    d->refcnt = 2; /* the table's, and the caller's */
    d->controller_pause_count = cfg->privileged ? 0 : 1; /* domUs start paused for the toolstack to build */
    d->pause_count = d->controller_pause_count;
    d->shutdown_code = SHUTDOWN_CODE_INVALID;
    d->lock = (spinlock_t)SPINLOCK_INIT;
    d->shutdown_lock = (spinlock_t)SPINLOCK_INIT;
    frame_list_init(&d->pages);
    d->address_size = 64;
    d->max_grant_frames = cfg->max_grant_frames;
    d->max_maptrack_frames = cfg->max_maptrack_frames;
    d->max_grant_version = cfg->max_grant_version;
    d->max_vcpus = cfg->max_vcpus;
    d->vcpus = xzalloc(cfg->max_vcpus * sizeof(*d->vcpus));
    if (!d->vcpus)
        goto fail_vcpus;
    /* The id first: the shared frame's owner names it. */
    rc = table_reserve(d, cfg->id);
    if (rc)
        goto fail_id;
    rc = -ENOMEM;
    d->shared_info = domain_share_xen_page(d);
    if (!d->shared_info)
        goto fail_shared_info;
    d->shared_info_mfn = virt_to_mfn(d->shared_info);
    rc = evtchn_init_domain(d, cfg->max_evtchn_port);
    if (rc)
        goto fail_evtchn;
    /* The first control domain reads the initial domain's policy; every other domain gets its own copy. */
    if (cfg->privileged && !hardware_domain)
        hardware_domain = d;
    else if ((rc = cpu_policy_domain_init(d)))
        goto fail_policy;
    table_publish(d);
    *err = 0;
    return d;

fail_policy:
    evtchn_free_domain(d);
fail_evtchn:
    domain_unshare_xen_page(d->shared_info);
fail_shared_info:
    d->refcnt = 0;
    table_remove(d);
fail_id:
    xfree(d->vcpus);
fail_vcpus:
    xfree(d);
out:
    *err = rc;
    return NULL;
}

/* The last reference went: nothing refers to d any more, no frame is d's but the hypervisor frames it shares,
 * and its vCPUs are off every CPU. Undoes domain_create() and vcpu_create(), in reverse. */
static void domain_destroy(struct domain *d)
{
    ASSERT(d->is_dying == DOMDYING_dead && !d->tot_pages);
    pr_debug("Domain %u destroyed", d->id);
    for_each_vcpu (d, v)
        vcpu_destroy(v);
    tlb_forget_domain(d);
    grant_table_destroy(d);
    xfree(d->pirqs);
    cpu_policy_domain_destroy(d);
    evtchn_free_domain(d);
    domain_unshare_xen_page(d->shared_info);
    table_remove(d);
    xfree(d->vcpus);
    xfree(d);
    send_global_virq(VIRQ_DOM_EXC); /* gone from the list now, as the toolstack will see */
}

struct vcpu *vcpu_create(struct domain *d, unsigned int id)
{
    if (id >= d->max_vcpus || d->vcpus[id])
        return NULL;
    struct vcpu *v = xzalloc(sizeof(*v));
    if (!v)
        return NULL;
    v->id = id;
    v->domain = d;
    cpumask_online(&v->hard_affinity);
    cpumask_online(&v->soft_affinity);
    v->processor = sched_pick_cpu_in(&v->hard_affinity);
    v->pause_flags = VPF_DOWN;
    v->runstate = RUNSTATE_offline;
    v->runstate_entry_time = now_ns();
    if (id < XEN_LEGACY_MAX_VCPUS)
        v->vcpu_info = &d->shared_info->vcpu_info[id];
    if (v->vcpu_info)
        v->vcpu_info->evtchn_upcall_mask = 1;
    v->pv.kernel_mode = true;
    v->pv.event_mask_on_callback = true;
    vcpu_init_fpu(v);
    vcpu_guest_init(v); /* events/time: vCPU timers, the default periodic tick, the wallclock (vCPU 0) */
    sched_vcpu_placed(v);
    __atomic_store_n(&d->vcpus[id], v, __ATOMIC_RELEASE);
    return v;
}

static void vcpu_kill_timers(struct vcpu *v)
{
    timer_kill(&v->poll_timer);
    timer_kill(&v->periodic_timer);
    timer_kill(&v->singleshot_timer);
}

static void vcpu_destroy(struct vcpu *v)
{
    vcpu_kill_timers(v);
    pv_vcpu_forget(v); /* no CPU keeps pointers to it (FPU owner, descriptor-table window) */
    sched_vcpu_removed(v);
    v->domain->vcpus[v->id] = NULL;
    xfree(v);
}

/* ---- Memory ownership. A domain's frames together hold one reference on it: taken when tot_pages leaves 0,
 * dropped when it returns there, so a frame that outlives its owner's teardown (still mapped elsewhere) keeps
 * the owner's structure, and its id, until it is freed. */

/* Adds f to d's list, unless d is dying or would exceed max_pages. */
static bool domain_add_frame(struct domain *d, struct frame *f)
{
    spin_lock(&d->lock);
    if (d->is_dying != DOMDYING_alive || d->tot_pages >= d->max_pages) {
        spin_unlock(&d->lock);
        return false;
    }
    frame_list_add_tail(frame_table, &d->pages, (uint32_t)frame_to_mfn(f));
    if (d->tot_pages++ == 0)
        domain_hold(d);
    spin_unlock(&d->lock);
    return true;
}

struct frame *domain_alloc_pages(struct domain *d, unsigned int order)
{
    if (d->tot_pages + (1UL << order) > d->max_pages)
        return NULL;
    struct frame *f = alloc_domain_frames(d, order, 0, false);
    if (!f)
        return NULL;
    for (unsigned long i = 0; i < (1UL << order); i++) {
        if (domain_assign_page(d, f + i)) {
            /* Raced with a change of max_pages or death: give back what was assigned and what was not. */
            for (unsigned long j = 0; j < i; j++)
                if (frame_put_ref(f + j))
                    domain_free_page(f + j);
            for (unsigned long j = i; j < (1UL << order); j++)
                free_pages(f + j, 0);
            return NULL;
        }
    }
    return f;
}

int domain_assign_page(struct domain *d, struct frame *f)
{
    if (frame_ref_count(f))
        return -EBUSY;
    f->type_info = 0;
    f->count_info = FRAME_C_ALLOCATED | 1;
    __atomic_store_n(&f->owner, d->id, __ATOMIC_RELEASE);
    if (!domain_add_frame(d, f)) {
        f->count_info = 0;
        __atomic_store_n(&f->owner, FRAME_OWNER_NONE, __ATOMIC_RELEASE);
        return -EINVAL;
    }
    return 0;
}

/* The last reference to f went. Its owner is a domain (whose frames hold a reference on it, so it is still
 * there), the hypervisor for an orphaned shared frame (domain_unshare_xen_page()), or nobody for a stolen frame
 * that found no new owner (domain_steal_page()). */
void domain_free_page(struct frame *f)
{
    uint32_t owner = __atomic_load_n(&f->owner, __ATOMIC_ACQUIRE);
    mfn_t mfn = frame_to_mfn(f);
    if (owner == FRAME_OWNER_XEN) {
        free_hv_pages(mfn_to_virt(mfn), 0);
        return;
    }
    struct domain *d = NULL;
    bool last = false;
    if (owner != FRAME_OWNER_NONE) {
        ASSERT(owner < DOMID_FIRST_RESERVED && domain_table[owner]);
        d = domain_table[owner];
        spin_lock(&d->lock);
        frame_list_remove(frame_table, &d->pages, (uint32_t)mfn);
        last = --d->tot_pages == 0;
        spin_unlock(&d->lock);
    }
    f->owner = FRAME_OWNER_NONE;
    f->count_info = 0;
    f->type_info = 0;
    set_gpfn_from_mfn(mfn, M2P_INVALID);
    free_pages(f, 0);
    if (last)
        domain_put(d);
}

/* Xen's steal_page(), for page exchange and grant transfer: takes a frame away from d, but only if nothing but
 * its allocation holds it (no mapping, no type) and it is not a hypervisor page shared with d. Afterwards the
 * frame is off d's list and owned by nobody, with the caller holding the one reference left. */
int domain_steal_page(struct domain *d, mfn_t mfn)
{
    struct frame *f = mfn_to_frame(mfn);
    if (!pv_get_page(d, mfn))
        return -EINVAL;
    uint64_t x = __atomic_load_n(&f->count_info, __ATOMIC_ACQUIRE);
    do {
        if ((x & (FRAME_C_COUNT_MASK | FRAME_C_ALLOCATED)) != (2 | FRAME_C_ALLOCATED) || (x & FRAME_C_XEN) ||
            frame_type_count(f)) {
            pv_put_page(mfn);
            return -EINVAL;
        }
    } while (!__atomic_compare_exchange_n(&f->count_info, &x, x & ~(FRAME_C_COUNT_MASK | FRAME_C_ALLOCATED),
                                          false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
    spin_lock(&d->lock);
    frame_list_remove(frame_table, &d->pages, (uint32_t)mfn);
    bool last = --d->tot_pages == 0;
    spin_unlock(&d->lock);
    f->type_info = 0;
    __atomic_store_n(&f->owner, FRAME_OWNER_NONE, __ATOMIC_RELEASE);
    if (last)
        domain_put(d);
    return 0;
}

/* ---- Pausing by the toolstack. */

int domain_pause_by_controller(struct domain *d)
{
    int old = __atomic_load_n(&d->controller_pause_count, __ATOMIC_ACQUIRE);
    do {
        if (old + 1 > 255) /* Xen's bound: the count must not be able to overflow the domain's pause count */
            return -EOVERFLOW;
    } while (!__atomic_compare_exchange_n(&d->controller_pause_count, &old, old + 1, false, __ATOMIC_SEQ_CST,
                                          __ATOMIC_ACQUIRE));
    domain_pause(d);
    return 0;
}

int domain_unpause_by_controller(struct domain *d)
{
    int old = __atomic_load_n(&d->controller_pause_count, __ATOMIC_ACQUIRE);
    do {
        if (old - 1 < 0)
            return -EINVAL;
    } while (!__atomic_compare_exchange_n(&d->controller_pause_count, &old, old - 1, false, __ATOMIC_SEQ_CST,
                                          __ATOMIC_ACQUIRE));
    /* Creation is finished when the toolstack first lets the domain run. */
    if (old == 1)
        d->creation_finished = true;
    domain_unpause(d);
    return 0;
}

/* ---- Shutdown. */

static const char *const shutdown_reasons[] = {"poweroff", "reboot", "suspend", "crash", "watchdog", "soft_reset"};

/* The whole machine follows dom0: when it shuts down there is nothing left to run. */
static __noreturn void hardware_domain_gone(struct domain *d)
{
    if (d->shutdown_code == SHUTDOWN_reboot) {
        printk("Domain 0 shutdown: rebooting machine");
        machine_restart();
    }
    if (d->shutdown_code == SHUTDOWN_crash && !boot_opts.noreboot) {
        printk("Domain 0 crashed: rebooting machine");
        machine_restart();
    }
    if (d->shutdown_code == SHUTDOWN_poweroff) {
        printk("Domain 0 shutdown: powering off machine");
        acpi_power_off(); /* returns only if the platform has no usable S5 */
    }
    printk("Domain 0 shutdown: halting machine");
    /* Without ACPI S5, halting with -no-reboot would make QEMU wait forever, so reboot there. */
    if (!boot_opts.noreboot)
        machine_restart();
    machine_halt();
}

/* Every vCPU is paused for the shutdown: the domain is shut down, and the control domain hears of it. (Xen lets
 * an HVM vCPU defer its pause; a PV vCPU never does, so this completes at once.) shutdown_lock held. */
static void finalise_shutdown(struct domain *d)
{
    ASSERT(spin_is_locked(&d->shutdown_lock));
    if (d->is_shut_down)
        return;
    d->is_shut_down = true;
    send_global_virq(VIRQ_DOM_EXC);
}

void domain_shutdown(struct domain *d, unsigned int reason)
{
    unsigned long f = spin_lock_irqsave(&d->shutdown_lock);
    if (d->shutdown_code == SHUTDOWN_CODE_INVALID)
        d->shutdown_code = (uint8_t)reason;
    reason = d->shutdown_code;
    if (d == hardware_domain) {
        spin_unlock_irqrestore(&d->shutdown_lock, f);
        printk("Domain %u shut down: reason %s (%u)", d->id,
               reason < ARRAY_SIZE(shutdown_reasons) ? shutdown_reasons[reason] : "unknown", reason);
        hardware_domain_gone(d);
    }
    if (d->is_shutting_down) {
        spin_unlock_irqrestore(&d->shutdown_lock, f);
        return;
    }
    d->is_shutting_down = true;
    pr_debug("Domain %u shut down: reason %s (%u)", d->id,
           reason < ARRAY_SIZE(shutdown_reasons) ? shutdown_reasons[reason] : "unknown", reason);
    for_each_vcpu (d, v) {
        vcpu_pause_nosync(v);
        v->paused_for_shutdown = true;
    }
    finalise_shutdown(d);
    spin_unlock_irqrestore(&d->shutdown_lock, f);
}

void domain_resume(struct domain *d)
{
    domain_pause(d); /* nothing of d runs while its shutdown state is reset */
    unsigned long f = spin_lock_irqsave(&d->shutdown_lock);
    d->is_shutting_down = d->is_shut_down = false;
    d->shutdown_code = SHUTDOWN_CODE_INVALID;
    for_each_vcpu (d, v) {
        if (v->paused_for_shutdown)
            vcpu_unpause(v);
        v->paused_for_shutdown = false;
    }
    spin_unlock_irqrestore(&d->shutdown_lock, f);
    domain_unpause(d);
}

void domain_crash(struct domain *d, const char *fmt, ...)
{
    char buf[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    struct vcpu *v = current_vcpu();
    if (d->is_shutting_down) {
        /* Already on its way out: the first reason stands. */
    } else if (v && v->domain == d) {
        pr_err("Domain %u (vcpu %u) crashed: %s", d->id, v->id, buf);
        struct cpu_regs *r = guest_frame();
        pr_err("  guest RIP %04lx:%016lx RSP %016lx RFLAGS %08lx %s mode", r->cs, r->rip, r->rsp, r->rflags,
               v->pv.kernel_mode ? "kernel" : "user");
    } else {
        pr_err("Domain %u crashed: %s", d->id, buf);
    }
    domain_shutdown(d, SHUTDOWN_crash);
}

/* ---- Teardown (XEN_DOMCTL_destroydomain). Resources go back in the order below, which is the order of their
 * dependencies: the grant mappings d made (their pins in other domains' tables), d's event channels (their
 * other ends), what its vCPUs hold (descriptor tables, page-table bases, registered pages), then its memory:
 * page-table references top down, L4 first, so that each level's devalidation drops the references that kept
 * the next one validated, with any table still validated after its level's pass (held by a linear page-table
 * cycle) devalidated by force; the same passes drop pins and allocation references, freeing every frame nobody
 * else maps. What is left (frames mapped by other domains, d's structures) goes with the last reference.
 *
 * A step returns 0 when done or -ERESTART to be called again; d->teardown_cursor is the step's own bookmark,
 * zeroed between steps. */

struct teardown_step {
    const char *name;
    int (*release)(struct domain *d);
};

static int release_vcpus(struct domain *d)
{
    for_each_vcpu (d, v) {
        vcpu_kill_timers(v); /* a dying domain gets no more timer events */
        pv_vcpu_release(v);
    }
    return 0;
}

static int release_l4(struct domain *d) { return pv_relinquish_memory(d, 4); }
static int release_l3(struct domain *d) { return pv_relinquish_memory(d, 3); }
static int release_l2(struct domain *d) { return pv_relinquish_memory(d, 2); }

static const struct teardown_step teardown_steps[] = {
    {"grant mappings", gnttab_release_mappings},
    {"event channels", evtchn_destroy},
    {"vCPU state", release_vcpus},
    {"physical IRQs", pirq_release_domain},
    {"L4 tables, pins and allocations", release_l4},
    {"L3 tables", release_l3},
    {"L2 tables", release_l2},
};

int domain_kill(struct domain *d)
{
    if (d == current_domain())
        return -EINVAL;
    switch (d->is_dying) {
    case DOMDYING_alive:
        domain_pause(d);
        /* Under d->lock, where allocations check it: no frame joins the list behind the teardown's back. */
        spin_lock(&d->lock);
        d->is_dying = DOMDYING_dying;
        spin_unlock(&d->lock);
        memory_set_claim(d, 0); /* a dying domain allocates nothing: its claim goes back */
        d->teardown_step = 0;
        d->teardown_cursor = 0;
        /* fall through */
    case DOMDYING_dying:
        while (d->teardown_step < ARRAY_SIZE(teardown_steps)) {
            int rc = teardown_steps[d->teardown_step].release(d);
            if (rc) {
                ASSERT(rc == -ERESTART);
                return rc;
            }
            d->teardown_step++;
            d->teardown_cursor = 0;
        }
        d->is_dying = DOMDYING_dead;
        pr_debug("Domain %u dead: %lu pages still mapped elsewhere", d->id, d->tot_pages);
        domain_put(d); /* the table's reference */
        send_global_virq(VIRQ_DOM_EXC);
        /* fall through */
    case DOMDYING_dead:
        break;
    }
    return 0;
}

/* ---- Debug key 'q': every domain and vCPU, and the frame table's own account of who owns what, checked against
 * the domains' counts (a leak or double count shows as a mismatch). */

static const char *const dying_names[] = {"alive", "dying", "dead"};

static void dump_domain(struct domain *d)
{
    printk("  d%u: %s%s%s, %lu pages (max %lu), claim %lu, pause %d (toolstack %d), weight %u, refs %d", d->id,
           dying_names[d->is_dying], d->is_shut_down ? ", shut down" : "", d->privileged ? ", control" : "",
           d->tot_pages, d->max_pages, d->outstanding_pages, d->pause_count, d->controller_pause_count,
           d->sched_weight, d->refcnt);
    for_each_vcpu (d, v)
        printk("    v%u: CPU%u, flags %#x, pauses %d, %s, runstate %d, %lu hypercalls", v->id, v->processor,
               v->pause_flags, v->pause_count, v->is_running ? "running" : v->on_runq ? "queued" : "off CPU",
               v->runstate, v->hypercalls);
}

static void key_domains(unsigned char k)
{
    (void)k;
    printk("Domains: %u", domain_count());
    for (struct domain *d = domain_get_next(0), *n; d; d = n) {
        dump_domain(d);
        n = d->id + 1U < DOMID_FIRST_RESERVED ? domain_get_next((domid_t)(d->id + 1)) : NULL;
        domain_put(d);
    }
    /* The frame table's view. Racy against running domains by nature; exact when they are idle. */
    uint64_t free = 0, reserved = 0, hv = 0, owned = 0, shared = 0;
    for (mfn_t m = 0; m < max_mfn; m++) {
        const struct frame *f = mfn_to_frame(m);
        uint64_t c = __atomic_load_n(&f->count_info, __ATOMIC_RELAXED);
        uint32_t o = __atomic_load_n(&f->owner, __ATOMIC_RELAXED);
        if (c & FRAME_C_FREE)
            free++;
        else if (c & FRAME_C_RESERVED)
            reserved++;
        else if (o < DOMID_FIRST_RESERVED && (c & FRAME_C_XEN))
            shared++;
        else if (o < DOMID_FIRST_RESERVED)
            owned++;
        else
            hv++;
    }
    printk("Frames: %lu: %lu free, %lu domains' (+ %lu hypervisor frames shared with them), %lu hypervisor's, "
           "%lu reserved", max_mfn, free, owned, shared, hv, reserved);
    for (struct domain *d = domain_get_next(0), *n; d; d = n) {
        uint64_t mine = 0;
        for (mfn_t m = 0; m < max_mfn; m++) {
            const struct frame *f = mfn_to_frame(m);
            mine += __atomic_load_n(&f->owner, __ATOMIC_RELAXED) == d->id &&
                    !(__atomic_load_n(&f->count_info, __ATOMIC_RELAXED) & (FRAME_C_FREE | FRAME_C_XEN));
        }
        printk("  d%u: %lu frames owned, tot_pages %lu: %s", d->id, mine, d->tot_pages,
               mine == d->tot_pages ? "agree" : "MISMATCH");
        n = d->id + 1U < DOMID_FIRST_RESERVED ? domain_get_next((domid_t)(d->id + 1)) : NULL;
        domain_put(d);
    }
}

/* Deferred: the references it takes may be the last ones, and destroying a domain is no work for an interrupt. */
void domain_debugkeys_init(void)
{
    register_debugkey_deferred('q', key_domains, "domains and vCPUs; frame ownership check");
}
