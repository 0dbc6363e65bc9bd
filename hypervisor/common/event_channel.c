/* Event channels, 2-level ABI (Xen 4.17 semantics).
 *
 * Every domain has up to 4096 ports. A port's state lives in d->evtchn[port]; its pending and mask bits live in
 * the guest's shared_info, where the guest reads and clears them itself. Like Xen, a domain's "valid" ports grow
 * in buckets of 64 as they are allocated (port 0 is reserved), so asking about a port beyond the last bucket is
 * -EINVAL while a never-used port inside it reads as closed.
 *
 * Locking: d->evtchn_lock (taken with interrupts off, because timers and the console raise VIRQs from interrupt
 * context) guards the state of d's ports. Operations that join or split two domains' ports take both locks,
 * lower address first. Raising a port only touches shared_info bits atomically and wakes or kicks vCPUs.
 *
 * The FIFO ABI is not implemented: EVTCHNOP_init_control checks its arguments exactly as Xen does (so bad ones
 * get Xen's -ENOENT/-EINVAL) and then answers -ENOSYS, what a hypervisor without the FIFO ABI answers; Linux then
 * stays with the 2-level ABI. expand_array gives -EOPNOTSUPP and set_priority -ENOSYS, exactly what Xen 4.17
 * gives a domain that uses the 2-level ABI. */
#include <public/event_channel.h>
#include <vesta/domain.h>
#include <vesta/errno.h>
#include <vesta/guest_access.h>
#include <vesta/irq.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/pv.h>
#include <vesta/setup.h>

#define ECS_FREE 0
#define ECS_RESERVED 1
#define ECS_UNBOUND 2
#define ECS_INTERDOMAIN 3
#define ECS_PIRQ 4
#define ECS_VIRQ 5
#define ECS_IPI 6

#define EVTCHNS_PER_BUCKET 64     /* Xen: a page of 64-byte struct evtchn */
#define EVTCHNOP_reset_cont 14    /* Xen's continuation of EVTCHNOP_reset */

struct evtchn {
    uint8_t state;                /* ECS_* */
    uint16_t notify_vcpu;         /* vCPU told when the port goes pending */
    union {
        domid_t unbound_remote;   /* ECS_UNBOUND: the domain allowed to bind */
        struct {
            struct domain *dom;
            evtchn_port_t port;
        } remote;                 /* ECS_INTERDOMAIN */
        unsigned int virq;        /* ECS_VIRQ */
        unsigned int pirq;        /* ECS_PIRQ */
    } u;
};

int evtchn_init_domain(struct domain *d, unsigned int max_port)
{
    d->evtchn_lock = (spinlock_t)SPINLOCK_INIT;
    d->max_evtchns = max_port + 1;
    /* Whole buckets: the valid range grows a bucket at a time, and every valid port has its entry. */
    d->evtchn = xzalloc(sizeof(struct evtchn) * ALIGN_UP(d->max_evtchns, EVTCHNS_PER_BUCKET));
    if (!d->evtchn)
        return -ENOMEM;
    d->evtchn_valid = EVTCHNS_PER_BUCKET;
    d->evtchn[0].state = ECS_RESERVED;
    return 0;
}

void evtchn_free_domain(struct domain *d)
{
    xfree(d->evtchn);
    d->evtchn = NULL;
}

static bool port_is_valid(const struct domain *d, evtchn_port_t port)
{
    return port < __atomic_load_n(&d->evtchn_valid, __ATOMIC_ACQUIRE);
}

static struct vcpu *domain_vcpu(const struct domain *d, unsigned long id)
{
    return id < d->max_vcpus ? __atomic_load_n(&d->vcpus[id], __ATOMIC_ACQUIRE) : NULL;
}

/* Only the global VIRQs may be bound on a vCPU other than 0 or moved with bind_vcpu. */
static bool virq_is_global(unsigned int virq)
{
    switch (virq) {
    case VIRQ_TIMER:
    case VIRQ_DEBUG:
    case VIRQ_XENOPROF:
    case VIRQ_XENPMU:
        return false;
    default:
        return true;
    }
}


static unsigned long lock_domain(struct domain *d) { return spin_lock_irqsave(&d->evtchn_lock); }
static void unlock_domain(struct domain *d, unsigned long f) { spin_unlock_irqrestore(&d->evtchn_lock, f); }

static unsigned long lock_two(struct domain *a, struct domain *b)
{
    unsigned long f = local_irq_save();
    if (a == b) {
        spin_lock(&a->evtchn_lock);
    } else if (a < b) {
        spin_lock(&a->evtchn_lock);
        spin_lock(&b->evtchn_lock);
    } else {
        spin_lock(&b->evtchn_lock);
        spin_lock(&a->evtchn_lock);
    }
    return f;
}

static void unlock_two(struct domain *a, struct domain *b, unsigned long f)
{
    spin_unlock(&a->evtchn_lock);
    if (a != b)
        spin_unlock(&b->evtchn_lock);
    local_irq_restore(f);
}

/* The lowest free port, growing the valid range by a bucket when every valid port is taken. Lock held. */
static int get_free_port(struct domain *d)
{
    if (d->is_dying != DOMDYING_alive)
        return -EINVAL;
    for (unsigned int port = 0; port < d->max_evtchns; port++) {
        if (port >= d->evtchn_valid) {
            __atomic_store_n(&d->evtchn_valid, d->evtchn_valid + EVTCHNS_PER_BUCKET, __ATOMIC_RELEASE);
            return (int)port;
        }
        if (d->evtchn[port].state == ECS_FREE)
            return (int)port;
    }
    return -ENOSPC;
}

/* ---- Raising a port (2-level ABI). */

/* Wake vCPUs polling this port (or polling several ports, which wake on any). */
static void evtchn_check_pollers(struct domain *d, unsigned int port)
{
    for (unsigned int w = 0; w < ARRAY_SIZE(d->poll_mask); w++) {
        uint64_t bits = __atomic_load_n(&d->poll_mask[w], __ATOMIC_ACQUIRE);
        while (bits) {
            unsigned int id = w * 64 + (unsigned int)__builtin_ctzll(bits);
            bits &= bits - 1;
            struct vcpu *v = domain_vcpu(d, id);
            if (!v)
                continue;
            int pe = __atomic_load_n(&v->poll_evtchn, __ATOMIC_RELAXED);
            if ((pe <= 0 || pe == (int)port) &&
                (__atomic_fetch_and(&d->poll_mask[w], ~(1UL << (id % 64)), __ATOMIC_SEQ_CST) &
                 (1UL << (id % 64)))) {
                __atomic_store_n(&v->poll_evtchn, 0, __ATOMIC_RELAXED);
                vcpu_unblock(v);
            }
        }
    }
}

void vcpu_kick(struct vcpu *v)
{
    bool running = __atomic_load_n(&v->is_running, __ATOMIC_ACQUIRE);
    vcpu_unblock(v);
    if (running && v->processor != smp_processor_id())
        smp_send_event_check(v->processor); /* its exit path delivers the upcall */
}

void vcpu_mark_events_pending(struct vcpu *v)
{
    if (!v->vcpu_info)
        return;
    if (!__atomic_exchange_n(&v->vcpu_info->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST))
        vcpu_kick(v);
}

static bool test_and_set(volatile uint64_t *words, unsigned int bit)
{
    uint64_t m = 1UL << (bit % 64);
    return __atomic_fetch_or(&words[bit / 64], m, __ATOMIC_SEQ_CST) & m;
}

static bool test_and_clear(volatile uint64_t *words, unsigned int bit)
{
    uint64_t m = 1UL << (bit % 64);
    return __atomic_fetch_and(&words[bit / 64], ~m, __ATOMIC_SEQ_CST) & m;
}

static bool test_bit64(const volatile uint64_t *words, unsigned int bit)
{
    return (__atomic_load_n(&words[bit / 64], __ATOMIC_SEQ_CST) >> (bit % 64)) & 1;
}

void evtchn_set_pending(struct vcpu *v, unsigned int port)
{
    struct domain *d = v->domain;
    struct shared_info *s = d->shared_info;
    if (port >= EVTCHN_2L_NR_CHANNELS || test_and_set(s->evtchn_pending, port))
        return;
    if (v->vcpu_info && !test_bit64(s->evtchn_mask, port) &&
        !test_and_set(&v->vcpu_info->evtchn_pending_sel, port / 64))
        vcpu_mark_events_pending(v);
    evtchn_check_pollers(d, port);
}

static void port_set_pending(struct domain *d, const struct evtchn *chn, unsigned int port)
{
    struct vcpu *v = domain_vcpu(d, chn->notify_vcpu);
    if (v)
        evtchn_set_pending(v, port);
}

static void port_unmask(struct domain *d, const struct evtchn *chn, unsigned int port)
{
    struct shared_info *s = d->shared_info;
    struct vcpu *v = domain_vcpu(d, chn->notify_vcpu);
    if (!v || !v->vcpu_info)
        return;
    if (test_and_clear(s->evtchn_mask, port) && test_bit64(s->evtchn_pending, port) &&
        !test_and_set(&v->vcpu_info->evtchn_pending_sel, port / 64))
        vcpu_mark_events_pending(v);
}

/* ---- VIRQs. Per-vCPU VIRQs are bound in that vCPU's table, global ones in vCPU 0's. */

static void send_virq_locked(struct domain *d, struct vcpu *table, unsigned int virq, bool to_table_vcpu)
{
    unsigned int port = table->virq_to_port[virq];
    if (!port)
        return;
    struct evtchn *chn = &d->evtchn[port];
    if (to_table_vcpu)
        evtchn_set_pending(table, port);
    else
        port_set_pending(d, chn, port);
}

void send_guest_global_virq(struct domain *d, unsigned int virq)
{
    if (!d || virq >= NR_VIRQS || !d->evtchn)
        return;
    struct vcpu *v0 = domain_vcpu(d, 0);
    if (!v0)
        return;
    unsigned long f = lock_domain(d);
    send_virq_locked(d, v0, virq, false);
    unlock_domain(d, f);
}

/* Global VIRQs that are not any particular domain's (VIRQ_DOM_EXC, VIRQ_CON_RING...) go to the control domain,
 * Xen's default handler of them. */
void send_global_virq(unsigned int virq) { send_guest_global_virq(hardware_domain, virq); }

void send_guest_virq(struct vcpu *v, unsigned int virq)
{
    if (virq >= NR_VIRQS)
        return;
    if (virq_is_global(virq)) {
        send_guest_global_virq(v->domain, virq);
        return;
    }
    struct domain *d = v->domain;
    unsigned long f = lock_domain(d);
    send_virq_locked(d, v, virq, true);
    unlock_domain(d, f);
}

bool vcpu_event_pending(const struct vcpu *v)
{
    /* Xen's local_events_need_delivery(): an upcall is pending and the vCPU accepts it. */
    return v->vcpu_info && v->vcpu_info->evtchn_upcall_pending && !v->vcpu_info->evtchn_upcall_mask;
}

/* ---- The operations. */

static void evtchn_free(struct domain *d, struct evtchn *chn, unsigned int port)
{
    test_and_clear(d->shared_info->evtchn_pending, port); /* a re-bound port starts clean */
    chn->state = ECS_FREE;
    chn->notify_vcpu = 0;
}

static long evtchn_alloc_unbound(struct evtchn_alloc_unbound *a)
{
    struct domain *cur = current_domain();
    struct domain *d = domain_get_by_any_id(a->dom);
    if (!d)
        return -ESRCH;
    unsigned long f = lock_domain(d);
    int port = get_free_port(d);
    long rc = 0;
    if (port < 0) {
        rc = port;
    } else if (!may_target(cur, d)) {
        rc = -EPERM;
    } else {
        struct evtchn *chn = &d->evtchn[port];
        chn->state = ECS_UNBOUND;
        chn->u.unbound_remote = a->remote_dom == DOMID_SELF ? cur->id : a->remote_dom;
        a->port = (evtchn_port_t)port;
    }
    unlock_domain(d, f);
    domain_put(d);
    return rc;
}

static long evtchn_bind_interdomain(struct evtchn_bind_interdomain *b)
{
    struct domain *ld = current_domain();
    struct domain *rd = domain_get_by_any_id(b->remote_dom);
    if (!rd)
        return -ESRCH;
    unsigned long f = lock_two(ld, rd);
    long rc = 0;
    int lport = get_free_port(ld);
    if (lport < 0) {
        rc = lport;
        goto out;
    }
    evtchn_port_t rport = b->remote_port;
    if (!port_is_valid(rd, rport)) {
        rc = -EINVAL;
        goto out;
    }
    struct evtchn *rchn = &rd->evtchn[rport], *lchn = &ld->evtchn[lport];
    if (rchn->state != ECS_UNBOUND || rchn->u.unbound_remote != ld->id) {
        rc = -EINVAL;
        goto out;
    }
    lchn->u.remote.dom = rd;
    lchn->u.remote.port = rport;
    lchn->state = ECS_INTERDOMAIN;
    rchn->u.remote.dom = ld;
    rchn->u.remote.port = (evtchn_port_t)lport;
    rchn->state = ECS_INTERDOMAIN;
    /* Notifications sent to the unbound remote end were dropped: raise the new local end once, as Xen does. */
    port_set_pending(ld, lchn, (unsigned int)lport);
    b->local_port = (evtchn_port_t)lport;
out:
    unlock_two(ld, rd, f);
    domain_put(rd);
    return rc;
}

static long evtchn_bind_virq(struct evtchn_bind_virq *b)
{
    struct domain *d = current_domain();
    uint32_t virq = b->virq;
    if (virq >= NR_VIRQS)
        return -EINVAL;
    if (virq_is_global(virq) && b->vcpu != 0)
        return -EINVAL;
    struct vcpu *v = domain_vcpu(d, b->vcpu);
    if (!v)
        return -ENOENT;
    unsigned long f = lock_domain(d);
    long rc = 0;
    if (v->virq_to_port[virq]) {
        rc = -EEXIST;
    } else {
        int port = get_free_port(d);
        if (port < 0) {
            rc = port;
        } else {
            struct evtchn *chn = &d->evtchn[port];
            chn->state = ECS_VIRQ;
            chn->notify_vcpu = (uint16_t)b->vcpu;
            chn->u.virq = virq;
            v->virq_to_port[virq] = (unsigned int)port;
            b->port = (evtchn_port_t)port;
        }
    }
    unlock_domain(d, f);
    return rc;
}

static long evtchn_bind_ipi(struct evtchn_bind_ipi *b)
{
    struct domain *d = current_domain();
    if (!domain_vcpu(d, b->vcpu))
        return -ENOENT;
    unsigned long f = lock_domain(d);
    int port = get_free_port(d);
    if (port >= 0) {
        struct evtchn *chn = &d->evtchn[port];
        chn->state = ECS_IPI;
        chn->notify_vcpu = (uint16_t)b->vcpu;
        b->port = (evtchn_port_t)port;
    }
    unlock_domain(d, f);
    return port < 0 ? port : 0;
}

/* Physical IRQs: the pirq must be mapped (PHYSDEVOP_map_pirq) and the domain allowed its IRQ. The port is
 * notified on vCPU 0, and the interrupt is routed to the CPU that vCPU runs on (arch/x86/irq.c). */
static long evtchn_bind_pirq(struct evtchn_bind_pirq *b)
{
    struct domain *d = current_domain();
    struct vcpu *v0 = domain_vcpu(d, 0);
    uint32_t pirq = b->pirq;
    if (pirq >= domain_nr_pirqs(d))
        return -EINVAL;
    if (!pirq_access_permitted(d, pirq))
        return -EPERM;
    struct pirq *table = domain_pirqs(d);
    if (!table || !v0)
        return -ENOMEM;
    unsigned long f = lock_domain(d);
    long rc = 0;
    int port;
    if (table[pirq].evtchn) {
        rc = -EEXIST;
        goto out;
    }
    port = get_free_port(d);
    if (port < 0) {
        rc = port;
        goto out;
    }
    table[pirq].evtchn = (uint16_t)port;
    rc = pirq_guest_bind(v0, pirq, b->flags & BIND_PIRQ__WILL_SHARE);
    if (rc) {
        table[pirq].evtchn = 0;
        goto out;
    }
    struct evtchn *chn = &d->evtchn[port];
    chn->state = ECS_PIRQ;
    chn->notify_vcpu = 0;
    chn->u.pirq = pirq;
    b->port = (evtchn_port_t)port;
    arch_evtchn_bind_pirq(d, pirq);
out:
    unlock_domain(d, f);
    return rc;
}

/* An interrupt for a bound pirq (arch/x86/irq.c, interrupt context). */
void send_guest_pirq(struct domain *d, unsigned int pirq)
{
    if (!d->evtchn || !d->pirqs || pirq >= domain_nr_pirqs(d))
        return;
    unsigned long f = lock_domain(d);
    unsigned int port = d->pirqs[pirq].evtchn;
    if (port && port_is_valid(d, port) && d->evtchn[port].state == ECS_PIRQ)
        port_set_pending(d, &d->evtchn[port], port);
    unlock_domain(d, f);
}

/* PHYSDEVOP_eoi for a domain that registered its EOI map with the v1 call. */
void evtchn_unmask_port(struct domain *d, unsigned int port)
{
    if (!port_is_valid(d, port))
        return;
    unsigned long f = lock_domain(d);
    port_unmask(d, &d->evtchn[port], port);
    unlock_domain(d, f);
}

static long evtchn_close(struct domain *d1, evtchn_port_t port1)
{
    if (!port_is_valid(d1, port1))
        return -EINVAL;
    for (;;) {
        unsigned long f = lock_domain(d1);
        struct evtchn *chn1 = &d1->evtchn[port1];
        switch (chn1->state) {
        case ECS_FREE:
        case ECS_RESERVED:
            unlock_domain(d1, f);
            return -EINVAL;
        case ECS_UNBOUND:
        case ECS_IPI:
            break;
        case ECS_PIRQ:
            pirq_guest_unbind(d1, chn1->u.pirq);
            d1->pirqs[chn1->u.pirq].evtchn = 0;
            break;
        case ECS_VIRQ: {
            struct vcpu *v = domain_vcpu(d1, virq_is_global(chn1->u.virq) ? 0 : chn1->notify_vcpu);
            if (v)
                v->virq_to_port[chn1->u.virq] = 0;
            break;
        }
        case ECS_INTERDOMAIN: {
            struct domain *d2 = chn1->u.remote.dom;
            if (d2 != d1) {
                /* Both locks, in order: let go and start again holding both. */
                unlock_domain(d1, f);
                f = lock_two(d1, d2);
                if (chn1->state != ECS_INTERDOMAIN || chn1->u.remote.dom != d2) {
                    unlock_two(d1, d2, f);
                    continue; /* changed meanwhile: look again */
                }
            }
            struct evtchn *chn2 = &d2->evtchn[chn1->u.remote.port];
            evtchn_free(d1, chn1, port1);
            chn2->state = ECS_UNBOUND;
            chn2->u.unbound_remote = d1->id;
            if (d2 != d1)
                unlock_two(d1, d2, f);
            else
                unlock_domain(d1, f);
            return 0;
        }
        default:
            break;
        }
        evtchn_free(d1, chn1, port1);
        unlock_domain(d1, f);
        return 0;
    }
}

static long evtchn_send(struct domain *ld, evtchn_port_t lport)
{
    if (!port_is_valid(ld, lport))
        return -EINVAL;
    unsigned long f = lock_domain(ld);
    struct evtchn *lchn = &ld->evtchn[lport];
    long rc = 0;
    switch (lchn->state) {
    case ECS_INTERDOMAIN: {
        /* The binding cannot change while ld's lock is held: closing either end takes both locks. */
        struct domain *rd = lchn->u.remote.dom;
        evtchn_port_t rport = lchn->u.remote.port;
        port_set_pending(rd, &rd->evtchn[rport], rport);
        break;
    }
    case ECS_IPI:
        port_set_pending(ld, lchn, lport);
        break;
    case ECS_UNBOUND:
        break; /* nobody listens yet: dropped */
    default:
        rc = -EINVAL;
        break;
    }
    unlock_domain(ld, f);
    return rc;
}

static long evtchn_status_of(struct domain *d, struct evtchn_status *st);

static long evtchn_status(struct evtchn_status *st)
{
    struct domain *d = domain_get_by_any_id(st->dom);
    if (!d)
        return -ESRCH;
    long rc = evtchn_status_of(d, st);
    domain_put(d);
    return rc;
}

static long evtchn_status_of(struct domain *d, struct evtchn_status *st)
{
    if (!port_is_valid(d, st->port))
        return -EINVAL;
    if (!may_target(current_domain(), d))
        return -EPERM;
    unsigned long f = lock_domain(d);
    const struct evtchn *chn = &d->evtchn[st->port];
    switch (chn->state) {
    case ECS_FREE:
    case ECS_RESERVED:
        st->status = EVTCHNSTAT_closed;
        break;
    case ECS_UNBOUND:
        st->status = EVTCHNSTAT_unbound;
        st->u.unbound.dom = chn->u.unbound_remote;
        break;
    case ECS_INTERDOMAIN:
        st->status = EVTCHNSTAT_interdomain;
        st->u.interdomain.dom = chn->u.remote.dom->id;
        st->u.interdomain.port = chn->u.remote.port;
        break;
    case ECS_PIRQ:
        st->status = EVTCHNSTAT_pirq;
        st->u.pirq = chn->u.pirq;
        break;
    case ECS_VIRQ:
        st->status = EVTCHNSTAT_virq;
        st->u.virq = chn->u.virq;
        break;
    case ECS_IPI:
        st->status = EVTCHNSTAT_ipi;
        break;
    }
    st->vcpu = chn->notify_vcpu;
    unlock_domain(d, f);
    return 0;
}

static long evtchn_bind_vcpu(evtchn_port_t port, uint32_t vcpu_id)
{
    struct domain *d = current_domain();
    if (!domain_vcpu(d, vcpu_id))
        return -ENOENT;
    if (!port_is_valid(d, port))
        return -EINVAL;
    unsigned long f = lock_domain(d);
    struct evtchn *chn = &d->evtchn[port];
    long rc = 0;
    switch (chn->state) {
    case ECS_VIRQ:
        if (virq_is_global(chn->u.virq))
            chn->notify_vcpu = (uint16_t)vcpu_id;
        else
            rc = -EINVAL;
        break;
    case ECS_UNBOUND:
    case ECS_INTERDOMAIN:
        chn->notify_vcpu = (uint16_t)vcpu_id;
        break;
    case ECS_PIRQ:
        if (chn->notify_vcpu != vcpu_id) {
            chn->notify_vcpu = (uint16_t)vcpu_id;
            pirq_set_affinity(d, chn->u.pirq, domain_vcpu(d, vcpu_id)->processor);
        }
        break;
    default:
        rc = -EINVAL;
        break;
    }
    unlock_domain(d, f);
    return rc;
}

static long evtchn_unmask(evtchn_port_t port)
{
    struct domain *d = current_domain();
    if (!port_is_valid(d, port))
        return -EINVAL;
    unsigned long f = lock_domain(d);
    port_unmask(d, &d->evtchn[port], port);
    unlock_domain(d, f);
    return 0;
}

/* Close every port of d. Only the domain itself may (Xen also lets a controller that paused d; Vesta has no
 * controller pause yet). There is no preemption, so a continuation never exists and reset_cont finds nothing to
 * continue: -EBUSY, as in Xen when no reset is in progress. */
static long evtchn_reset(struct domain *d, bool resuming)
{
    if (d != current_domain())
        return -EINVAL;
    if (resuming)
        return -EBUSY;
    for (evtchn_port_t p = 1; port_is_valid(d, p); p++) {
        uint8_t st = __atomic_load_n(&d->evtchn[p].state, __ATOMIC_RELAXED);
        if (st != ECS_FREE && st != ECS_RESERVED)
            evtchn_close(d, p);
    }
    return 0;
}

/* Teardown (common/domain.c): every port of the dying d is closed, from the top, which turns the other end of an
 * interdomain channel back into an unbound port naming d, as Xen does. Nothing can open a port of d any more
 * (get_free_port() refuses a dying domain, and a dying domain cannot be looked up to bind to). */
int evtchn_destroy(struct domain *d)
{
    ASSERT(d->is_dying == DOMDYING_dying);
    evtchn_port_t p = d->teardown_cursor ? (evtchn_port_t)d->teardown_cursor
                                         : __atomic_load_n(&d->evtchn_valid, __ATOMIC_ACQUIRE);
    while (--p) {
        uint8_t st = __atomic_load_n(&d->evtchn[p].state, __ATOMIC_RELAXED);
        if (st != ECS_FREE && st != ECS_RESERVED)
            evtchn_close(d, p);
        if (!(p % EVTCHNS_PER_BUCKET) && hypercall_preempt_check()) {
            d->teardown_cursor = p;
            return -ERESTART;
        }
    }
    return 0;
}

/* Xen's checks of a FIFO control block request, in Xen's order. The frame must be one d may map writable. */
static long evtchn_init_control(struct evtchn_init_control *ic)
{
    struct domain *d = current_domain();
    ic->link_bits = EVTCHN_FIFO_LINK_BITS;
    if (!domain_vcpu(d, ic->vcpu))
        return -ENOENT;
    if (ic->offset > PAGE_SIZE - sizeof(struct evtchn_fifo_control_block) || (ic->offset & 7))
        return -EINVAL;
    mfn_t mfn = ic->control_gfn; /* a PV guest names machine frames */
    if (ic->control_gfn >= (1UL << 52) || !pv_get_page(d, mfn))
        return -EINVAL;
    long rc = pv_get_page_type(d, mfn, FRAME_T_WRITABLE);
    if (rc) {
        pv_put_page(mfn);
        return -EINVAL;
    }
    pv_put_page_type(mfn);
    pv_put_page(mfn);
    return -ENOSYS; /* no FIFO ABI: the guest keeps the 2-level one */
}

static long evtchn_set_priority(const struct evtchn_set_priority *sp)
{
    if (!port_is_valid(current_domain(), sp->port))
        return -EINVAL;
    return -ENOSYS; /* the 2-level ABI has no priorities */
}

#define OP_IN(type, var)                                                                                           \
    type var;                                                                                                      \
    if (copy_from_guest_obj(&var, arg))                                                                            \
        return -EFAULT
#define OP_OUT(var) (rc == 0 && copy_to_guest_obj(arg, &var) ? -EFAULT : rc)

long do_event_channel_op(unsigned long cmd, unsigned long arg)
{
    struct domain *cur = current_domain();
    long rc;
    switch (cmd) {
    case EVTCHNOP_alloc_unbound: {
        OP_IN(struct evtchn_alloc_unbound, a);
        rc = evtchn_alloc_unbound(&a);
        return OP_OUT(a);
    }
    case EVTCHNOP_bind_interdomain: {
        OP_IN(struct evtchn_bind_interdomain, b);
        rc = evtchn_bind_interdomain(&b);
        return OP_OUT(b);
    }
    case EVTCHNOP_bind_virq: {
        OP_IN(struct evtchn_bind_virq, b);
        rc = evtchn_bind_virq(&b);
        return OP_OUT(b);
    }
    case EVTCHNOP_bind_ipi: {
        OP_IN(struct evtchn_bind_ipi, b);
        rc = evtchn_bind_ipi(&b);
        return OP_OUT(b);
    }
    case EVTCHNOP_bind_pirq: {
        OP_IN(struct evtchn_bind_pirq, b);
        rc = evtchn_bind_pirq(&b);
        return OP_OUT(b);
    }
    case EVTCHNOP_close: {
        OP_IN(struct evtchn_close, c);
        return evtchn_close(cur, c.port);
    }
    case EVTCHNOP_send: {
        OP_IN(struct evtchn_send, s);
        return evtchn_send(cur, s.port);
    }
    case EVTCHNOP_status: {
        OP_IN(struct evtchn_status, st);
        rc = evtchn_status(&st);
        return OP_OUT(st);
    }
    case EVTCHNOP_bind_vcpu: {
        OP_IN(struct evtchn_bind_vcpu, b);
        return evtchn_bind_vcpu(b.port, b.vcpu);
    }
    case EVTCHNOP_unmask: {
        OP_IN(struct evtchn_unmask, u);
        return evtchn_unmask(u.port);
    }
    case EVTCHNOP_reset:
    case EVTCHNOP_reset_cont: {
        OP_IN(struct evtchn_reset, r);
        struct domain *d = domain_get_by_any_id(r.dom);
        if (!d)
            return -ESRCH;
        rc = may_target(cur, d) ? evtchn_reset(d, cmd == EVTCHNOP_reset_cont) : -EPERM;
        domain_put(d);
        return rc;
    }
    case EVTCHNOP_init_control: {
        OP_IN(struct evtchn_init_control, ic);
        rc = evtchn_init_control(&ic);
        return OP_OUT(ic);
    }
    case EVTCHNOP_expand_array: {
        OP_IN(struct evtchn_expand_array, ea);
        (void)ea;
        return -EOPNOTSUPP; /* Xen, for a domain not using the FIFO ABI */
    }
    case EVTCHNOP_set_priority: {
        OP_IN(struct evtchn_set_priority, sp);
        return evtchn_set_priority(&sp);
    }
    default:
        return -ENOSYS;
    }
}

HC(do_event_channel_op_hc) { return do_event_channel_op(a1, a2); }

/* Hypercall 16, the pre-3.2 form: struct evtchn_op holds the command and its argument; results are written back
 * into the argument part. Only the original ten commands exist there. */
HC(do_event_channel_op_compat)
{
    struct evtchn_op op;
    if (copy_from_guest_obj(&op, a1))
        return -EFAULT;
    switch (op.cmd) {
    case EVTCHNOP_bind_interdomain:
    case EVTCHNOP_bind_virq:
    case EVTCHNOP_bind_pirq:
    case EVTCHNOP_close:
    case EVTCHNOP_send:
    case EVTCHNOP_status:
    case EVTCHNOP_alloc_unbound:
    case EVTCHNOP_bind_ipi:
    case EVTCHNOP_bind_vcpu:
    case EVTCHNOP_unmask:
        return do_event_channel_op(op.cmd, a1 + offsetof(struct evtchn_op, u));
    default:
        return -ENOSYS;
    }
}
