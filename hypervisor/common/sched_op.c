/* sched_op and set_timer_op: a vCPU yielding, blocking, polling, and a domain shutting itself down. */
#include <public/sched.h>
#include <vesta/domain.h>
#include <vesta/errno.h>
#include <vesta/guest_access.h>
#include <vesta/lib.h>
#include <vesta/pv.h>

static long sched_block(struct vcpu *v)
{
    /* Blocking re-enables event delivery (the guest blocks with events masked to avoid a race). */
    if (v->vcpu_info)
        v->vcpu_info->evtchn_upcall_mask = 0;
    vcpu_block(v);
    return 0;
}

/* Is port p of d pending? -EINVAL for a port outside the domain's valid range, as Xen's evtchn_port_poll(). */
static int port_poll(struct domain *d, uint32_t p)
{
    if (p >= __atomic_load_n(&d->evtchn_valid, __ATOMIC_ACQUIRE) || p >= EVTCHN_2L_NR_CHANNELS)
        return -EINVAL;
    return (__atomic_load_n(&d->shared_info->evtchn_pending[p / 64], __ATOMIC_ACQUIRE) >> (p % 64)) & 1;
}

static bool poll_mask_test_and_clear(struct domain *d, unsigned int id)
{
    uint64_t m = 1UL << (id % 64);
    return __atomic_fetch_and(&d->poll_mask[id / 64], ~m, __ATOMIC_SEQ_CST) & m;
}

/* Block until one of the ports is pending (or the timeout passes). The vCPU is marked blocked and polling before
 * the ports are looked at, so a port raised meanwhile (evtchn_check_pollers) wakes it. */
static long sched_poll(struct vcpu *v, unsigned long arg)
{
    struct domain *d = v->domain;
    struct sched_poll sp;
    if (copy_from_guest_obj(&sp, arg))
        return -EFAULT;
    if (sp.nr_ports > 128) /* Xen's limit */
        return -EINVAL;
    if (!guest_range_ok(sp.ports.p, (size_t)sp.nr_ports * sizeof(uint32_t)))
        return -EFAULT;

    vcpu_block(v); /* wakes straight back up if an upcall is deliverable, as Xen returns 0 then */
    if (!(__atomic_load_n(&v->pause_flags, __ATOMIC_ACQUIRE) & VPF_BLOCKED))
        return 0;
    __atomic_store_n(&v->poll_evtchn, -1, __ATOMIC_RELAXED);
    __atomic_fetch_or(&d->poll_mask[v->id / 64], 1UL << (v->id % 64), __ATOMIC_SEQ_CST);

    long rc = 0;
    uint32_t port = 0;
    for (unsigned int i = 0; i < sp.nr_ports; i++) {
        if (copy_from_guest(&port, sp.ports.p + i * sizeof(port), sizeof(port))) {
            rc = -EFAULT;
            goto out;
        }
        int r = port_poll(d, port);
        if (r) {
            rc = r > 0 ? 0 : r;
            goto out;
        }
    }
    if (sp.nr_ports == 1)
        __atomic_store_n(&v->poll_evtchn, (int)port, __ATOMIC_RELAXED);
    if (sp.timeout)
        timer_set(&v->poll_timer, sp.timeout);
    return 0;

out:
    __atomic_store_n(&v->poll_evtchn, 0, __ATOMIC_RELAXED);
    poll_mask_test_and_clear(d, v->id);
    vcpu_unblock(v);
    return rc;
}

HC(do_sched_op)
{
    struct vcpu *v = current_vcpu();
    struct domain *d = v->domain;
    switch (a1) {
    case SCHEDOP_yield:
        vcpu_yield();
        return 0;
    case SCHEDOP_block:
        return sched_block(v);
    case SCHEDOP_shutdown: {
        struct sched_shutdown s;
        if (copy_from_guest_obj(&s, a2))
            return -EFAULT;
        if (s.reason > SHUTDOWN_MAX)
            return -EINVAL;
        domain_shutdown(d, s.reason);
        return 0;
    }
    case SCHEDOP_shutdown_code: {
        struct sched_shutdown s;
        if (copy_from_guest_obj(&s, a2))
            return -EFAULT;
        if (s.reason > SHUTDOWN_MAX)
            return -EINVAL;
        d->shutdown_code = s.reason;
        return 0;
    }
    case SCHEDOP_poll:
        return sched_poll(v, a2);
    case SCHEDOP_remote_shutdown: {
        struct sched_remote_shutdown rs;
        if (copy_from_guest_obj(&rs, a2))
            return -EFAULT;
        /* As Xen: the target is looked up before the privilege check (-ESRCH, then -EPERM). */
        struct domain *t = domain_get(rs.domain_id);
        if (!t)
            return -ESRCH;
        long rc = 0;
        if (!d->privileged)
            rc = -EPERM;
        else if (rs.reason > SHUTDOWN_MAX)
            rc = -EINVAL;
        else
            domain_shutdown(t, rs.reason);
        domain_put(t);
        return rc;
    }
    case SCHEDOP_pin_override:
        /* Xen lets only the hardware domain pin its vCPUs, and checks that first; Vesta does not implement the
         * pin itself. */
        return d == hardware_domain ? -ENOSYS : -EPERM;
    case SCHEDOP_watchdog:
    default:
        return -ENOSYS;
    }
}

/* The pre-3.0.2 form: the argument is the value itself. */
HC(do_sched_op_compat)
{
    struct vcpu *v = current_vcpu();
    switch (a1) {
    case SCHEDOP_yield:
        vcpu_yield();
        return 0;
    case SCHEDOP_block:
        return sched_block(v);
    case SCHEDOP_shutdown:
        domain_shutdown(v->domain, (unsigned int)a2);
        return 0;
    default:
        return -ENOSYS;
    }
}

/* Absolute system time in ns; 0 cancels. A deadline in the past fires at once. Like Xen, a deadline that wrapped
 * negative or lies more than 2^50 ns (about 13 days) ahead is taken as a guest's jiffies wrap and turned into
 * one 100 ms from now. */
HC(do_set_timer_op)
{
    struct vcpu *v = current_vcpu();
    int64_t timeout = (int64_t)a1, offset = timeout - (int64_t)now_ns();
    if (!timeout)
        timer_stop(&v->singleshot_timer);
    else if (timeout < 0 || (offset > 0 && (uint32_t)(offset >> 50) != 0))
        timer_set(&v->singleshot_timer, now_ns() + 100000000ULL);
    else
        timer_set(&v->singleshot_timer, (uint64_t)timeout);
    return 0;
}
