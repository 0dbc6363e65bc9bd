/* Domain and vCPU life cycle: creation, memory ownership, shutdown and crash. */
#include <public/sched.h>
#include <vesta/acpi.h>
#include <vesta/domain.h>
#include <vesta/errno.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/pv.h>
#include <vesta/setup.h>

struct domain *domain_table[MAX_DOMAINS];
static spinlock_t domain_table_lock = SPINLOCK_INIT;

struct domain *domain_lookup(domid_t id)
{
    if (id >= MAX_DOMAINS)
        return NULL;
    return __atomic_load_n(&domain_table[id], __ATOMIC_ACQUIRE);
}

struct vcpu *current_vcpu(void) { return this_cpu()->curr; }

struct domain *domain_create(domid_t id, unsigned int max_vcpus, bool privileged)
{
    if (id >= MAX_DOMAINS || !max_vcpus || max_vcpus > MAX_VIRT_CPUS)
        return NULL;
    struct domain *d = xzalloc(sizeof(*d));
    if (!d)
        return NULL;
    d->id = id;
    d->privileged = privileged;
    d->io_all = privileged;
    d->lock = (spinlock_t)SPINLOCK_INIT;
    frame_list_init(&d->pages);
    d->max_vcpus = max_vcpus;
    d->vcpus = xzalloc(max_vcpus * sizeof(*d->vcpus));
    void *si = alloc_hv_pages(0);
    if (!d->vcpus || !si)
        goto fail;
    d->shared_info = si;
    d->shared_info_mfn = virt_to_mfn(si);
    /* The shared-info page belongs to the hypervisor but the domain may map it writable: Xen shares it the same
     * way (owner = the domain, never freed while the domain lives). */
    struct frame *sf = mfn_to_frame(d->shared_info_mfn);
    sf->owner = id;
    sf->count_info = FRAME_C_ALLOCATED | FRAME_C_XEN | 1; /* FRAME_C_XEN: never freed by a guest's last put */
    set_gpfn_from_mfn(d->shared_info_mfn, M2P_INVALID);
    evtchn_init_domain(d);
    if (!d->evtchn)
        goto fail;
    spin_lock(&domain_table_lock);
    if (domain_table[id]) {
        spin_unlock(&domain_table_lock);
        goto fail;
    }
    __atomic_store_n(&domain_table[id], d, __ATOMIC_RELEASE);
    spin_unlock(&domain_table_lock);
    return d;
fail:
    if (si)
        free_hv_pages(si, 0);
    xfree(d->vcpus);
    xfree(d->evtchn);
    xfree(d);
    return NULL;
}

static void vcpu_timer_fn(void *data)
{
    struct vcpu *v = data;
    send_guest_virq(v, 0 /* VIRQ_TIMER */);
}

static void vcpu_periodic_fn(void *data)
{
    struct vcpu *v = data;
    send_guest_virq(v, 0 /* VIRQ_TIMER */);
    if (v->periodic_period)
        timer_set(&v->periodic_timer, v->periodic_timer.expires + v->periodic_period);
}

static void vcpu_poll_timeout(void *data)
{
    struct vcpu *v = data;
    if (v->polling) {
        v->polling = false;
        vcpu_wake(v);
    }
}

struct vcpu *vcpu_create(struct domain *d, unsigned int id, unsigned int processor)
{
    if (id >= d->max_vcpus || d->vcpus[id])
        return NULL;
    struct vcpu *v = xzalloc(sizeof(*v));
    if (!v)
        return NULL;
    v->id = id;
    v->domain = d;
    v->processor = processor;
    v->state = VCPU_DOWN;
    v->runstate = 3; /* offline */
    v->runstate_entry_time = now_ns();
    if (id < XEN_LEGACY_MAX_VCPUS)
        v->vcpu_info = &d->shared_info->vcpu_info[id];
    if (v->vcpu_info)
        v->vcpu_info->evtchn_upcall_mask = 1;
    v->pv.kernel_mode = true;
    v->pv.event_mask_on_callback = true;
    timer_init(&v->singleshot_timer, vcpu_timer_fn, v, "vcpu singleshot", processor);
    timer_init(&v->periodic_timer, vcpu_periodic_fn, v, "vcpu periodic", processor);
    timer_init(&v->poll_timer, vcpu_poll_timeout, v, "vcpu poll", processor);
    vcpu_init_fpu(v);
    vcpu_guest_init(v); /* events/time: vCPU timers, the default periodic tick, the wallclock (vCPU 0) */
    __atomic_store_n(&d->vcpus[id], v, __ATOMIC_RELEASE);
    return v;
}

static void domain_add_frame(struct domain *d, struct frame *f)
{
    spin_lock(&d->lock);
    frame_list_add_tail(frame_table, &d->pages, (uint32_t)frame_to_mfn(f));
    d->tot_pages++;
    spin_unlock(&d->lock);
}

struct frame *domain_alloc_pages(struct domain *d, unsigned int order)
{
    if (d->tot_pages + (1UL << order) > d->max_pages)
        return NULL;
    struct frame *f = alloc_pages(order);
    if (!f)
        return NULL;
    for (unsigned long i = 0; i < (1UL << order); i++) {
        struct frame *p = f + i;
        p->owner = d->id;
        p->type_info = 0;
        p->count_info = FRAME_C_ALLOCATED | 1;
        domain_add_frame(d, p);
    }
    return f;
}

int domain_assign_page(struct domain *d, struct frame *f)
{
    if (frame_ref_count(f))
        return -EBUSY;
    f->owner = d->id;
    f->type_info = 0;
    f->count_info = FRAME_C_ALLOCATED | 1;
    domain_add_frame(d, f);
    return 0;
}

void domain_free_page(struct frame *f)
{
    struct domain *d = domain_lookup((domid_t)f->owner);
    if (d) {
        spin_lock(&d->lock);
        frame_list_remove(frame_table, &d->pages, (uint32_t)frame_to_mfn(f));
        d->tot_pages--;
        spin_unlock(&d->lock);
    }
    f->owner = FRAME_OWNER_NONE;
    f->count_info = 0;
    f->type_info = 0;
    set_gpfn_from_mfn(frame_to_mfn(f), M2P_INVALID);
    free_pages(f, 0);
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
    d->tot_pages--;
    spin_unlock(&d->lock);
    f->type_info = 0;
    __atomic_store_n(&f->owner, FRAME_OWNER_NONE, __ATOMIC_RELEASE);
    return 0;
}

static const char *const shutdown_reasons[] = {"poweroff", "reboot", "suspend", "crash", "watchdog", "soft_reset"};

/* The whole machine follows dom0: when it shuts down there is nothing left to run. */
static void dom0_gone(struct domain *d)
{
    if (d->id != 0)
        return;
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

void domain_shutdown(struct domain *d, unsigned int reason)
{
    if (d->is_shutting_down)
        return;
    d->is_shutting_down = true;
    d->shutdown_code = reason;
    printk("Domain %u shut down: reason %s (%u)", d->id,
           reason < ARRAY_SIZE(shutdown_reasons) ? shutdown_reasons[reason] : "unknown", reason);
    vcpu_pause_all(d);
    d->is_shut_down = true;
    dom0_gone(d);
}

void domain_crash(struct domain *d, const char *fmt, ...)
{
    char buf[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    struct vcpu *v = current_vcpu();
    if (v && v->domain == d)
        pr_err("Domain %u (vcpu %u) crashed: %s", d->id, v->id, buf);
    else
        pr_err("Domain %u crashed: %s", d->id, buf);
    if (v && v->domain == d) {
        struct cpu_regs *r = guest_frame();
        pr_err("  guest RIP %04lx:%016lx RSP %016lx RFLAGS %08lx %s mode", r->cs, r->rip, r->rsp, r->rflags,
               v->pv.kernel_mode ? "kernel" : "user");
    }
    domain_shutdown(d, SHUTDOWN_crash);
}
