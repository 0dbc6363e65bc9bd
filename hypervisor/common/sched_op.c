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

static bool any_port_pending(struct domain *d, const uint32_t *ports, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++) {
        uint32_t p = ports[i];
        if (__atomic_load_n(&d->shared_info->evtchn_pending[p / 64], __ATOMIC_ACQUIRE) & (1UL << (p % 64)))
            return true;
    }
    return false;
}

static long sched_poll(struct vcpu *v, unsigned long arg)
{
    struct domain *d = v->domain;
    struct sched_poll sp;
    if (copy_from_guest_obj(&sp, arg))
        return -EFAULT;
    if (sp.nr_ports > ARRAY_SIZE(v->poll_ports))
        return -EINVAL;
    if (v->vcpu_info && !v->vcpu_info->evtchn_upcall_mask)
        return -EINVAL; /* only with event delivery disabled, as in Xen */
    uint32_t ports[ARRAY_SIZE(v->poll_ports)];
    for (unsigned int i = 0; i < sp.nr_ports; i++) {
        if (copy_from_guest(&ports[i], sp.ports.p + i * 4, 4))
            return -EFAULT;
        if (ports[i] >= EVTCHN_2L_NR_CHANNELS)
            return -EINVAL;
    }
    memcpy(v->poll_ports, ports, sizeof(ports));
    v->nr_poll_ports = sp.nr_ports;
    v->polling = true;
    vcpu_block(v);
    if (any_port_pending(d, ports, sp.nr_ports)) {
        v->polling = false;
        vcpu_wake(v);
        return 0;
    }
    if (sp.timeout)
        timer_set(&v->poll_timer, sp.timeout);
    return 0;
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
        if (!d->privileged)
            return -EPERM;
        struct domain *t = domain_lookup(rs.domain_id);
        if (!t)
            return -ESRCH;
        if (rs.reason > SHUTDOWN_MAX)
            return -EINVAL;
        domain_shutdown(t, rs.reason);
        return 0;
    }
    case SCHEDOP_watchdog:
    case SCHEDOP_pin_override:
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

/* Absolute system time in ns; 0 cancels. A deadline in the past fires at once. */
HC(do_set_timer_op)
{
    struct vcpu *v = current_vcpu();
    if (!a1)
        timer_stop(&v->singleshot_timer);
    else
        timer_set(&v->singleshot_timer, a1);
    return 0;
}
