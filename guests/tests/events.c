/*
 * events: 2-level event channels -- allocation, binding (IPI, VIRQ,
 * loopback interdomain), status, send, delivery through the registered
 * event callback, the upcall_pending/upcall_mask protocol, per-port
 * masking and EVTCHNOP_unmask, close, and the error paths.
 */
#include "guest.h"

static evtchn_port_t seen[16];
static volatile unsigned int nseen;

static void hook(evtchn_port_t port)
{
    if ( nseen < 16 )
        seen[nseen] = port;
    nseen++;
}

static bool saw(evtchn_port_t p)
{
    for ( unsigned int i = 0; i < nseen && i < 16; i++ )
        if ( seen[i] == p )
            return true;
    return false;
}

static bool pending(evtchn_port_t p)
{
    return (shared->evtchn_pending[p / 64] >> (p % 64)) & 1;
}

static long ev_status(evtchn_port_t port, struct evtchn_status *st)
{
    memset(st, 0, sizeof(*st));
    st->dom = DOMID_SELF;
    st->port = port;
    return hyp_event_channel_op(EVTCHNOP_status, st);
}

static long ev_send(evtchn_port_t port)
{
    struct evtchn_send s = { .port = port };
    return hyp_event_channel_op(EVTCHNOP_send, &s);
}

static long ev_close(evtchn_port_t port)
{
    struct evtchn_close c = { .port = port };
    return hyp_event_channel_op(EVTCHNOP_close, &c);
}

static long ev_unmask(evtchn_port_t port)
{
    struct evtchn_unmask u = { .port = port };
    return hyp_event_channel_op(EVTCHNOP_unmask, &u);
}

void test_main(void)
{
    struct evtchn_status st;
    struct evtchn_bind_ipi ipi = { .vcpu = 0 };
    struct evtchn_bind_virq virq;
    struct evtchn_alloc_unbound au;
    struct evtchn_bind_interdomain bi;
    evtchn_port_t ipi_port, p1, p2, timer_port;
    unsigned int uc;
    long rc;

    event_hook = hook;

    CHECK_EQ(ev_status(0, &st), 0, "status of reserved port 0");
    CHECK_EQ(st.status, EVTCHNSTAT_closed, "port 0 reads as closed");

    /* IPI to ourselves. */
    rc = hyp_event_channel_op(EVTCHNOP_bind_ipi, &ipi);
    CHECK_EQ(rc, 0, "bind_ipi vcpu 0");
    ipi_port = ipi.port;
    CHECK(ipi_port > 0 && ipi_port < 4096, "bind_ipi port in 2-level range");
    CHECK_EQ(ev_status(ipi_port, &st), 0, "status of ipi port");
    CHECK_EQ(st.status, EVTCHNSTAT_ipi, "status says ipi");
    CHECK_EQ(st.vcpu, 0, "ipi notifies vcpu 0");

    /* Masked upcalls: event becomes pending but no callback is made. */
    CHECK_EQ(vcpu0()->evtchn_upcall_mask, 1, "upcalls masked at start");
    uc = upcall_count;
    CHECK_EQ(ev_send(ipi_port), 0, "send on ipi port");
    CHECK(pending(ipi_port), "port pending in shared_info");
    CHECK_EQ(vcpu0()->evtchn_upcall_pending, 1, "evtchn_upcall_pending set");
    CHECK((vcpu0()->evtchn_pending_sel >> (ipi_port / 64)) & 1, "pending_sel bit set");
    force_evtchn_callback();
    CHECK_EQ(upcall_count, uc, "no upcall while masked");

    /* Unmask and poke: the callback runs on the way out of a hypercall. */
    nseen = 0;
    vcpu0()->evtchn_upcall_mask = 0;
    barrier();
    force_evtchn_callback();
    CHECK_EQ(upcall_count, uc + 1, "one upcall after unmasking");
    CHECK(saw(ipi_port), "upcall handler saw the ipi port");
    CHECK(!pending(ipi_port), "pending bit consumed");
    CHECK_EQ(vcpu0()->evtchn_upcall_mask, 0, "mask restored to 0 by iret");

    /* Sending again with upcalls enabled delivers immediately. */
    nseen = 0;
    uc = upcall_count;
    CHECK_EQ(ev_send(ipi_port), 0, "send with upcalls enabled");
    CHECK_EQ(upcall_count, uc + 1, "upcall on return from send");
    CHECK(saw(ipi_port), "saw ipi port again");

    /* Per-port mask: pending but not signalled until EVTCHNOP_unmask. */
    __atomic_fetch_or(&shared->evtchn_mask[ipi_port / 64], 1UL << (ipi_port % 64),
                      __ATOMIC_SEQ_CST);
    nseen = 0;
    uc = upcall_count;
    CHECK_EQ(ev_send(ipi_port), 0, "send on masked port");
    CHECK(pending(ipi_port), "masked port still goes pending");
    CHECK_EQ(vcpu0()->evtchn_upcall_pending, 0, "no upcall_pending for masked port");
    CHECK_EQ(upcall_count, uc, "no upcall for masked port");
    CHECK_EQ(ev_unmask(ipi_port), 0, "EVTCHNOP_unmask");
    CHECK(!((shared->evtchn_mask[ipi_port / 64] >> (ipi_port % 64)) & 1),
          "unmask cleared the mask bit");
    CHECK_EQ(upcall_count, uc + 1, "unmask of pending port raises upcall");
    CHECK(saw(ipi_port), "saw ipi port after unmask");

    vcpu0()->evtchn_upcall_mask = 1;
    barrier();

    /* Loopback interdomain channel. */
    memset(&au, 0, sizeof(au));
    au.dom = DOMID_SELF;
    au.remote_dom = DOMID_SELF;
    CHECK_EQ(hyp_event_channel_op(EVTCHNOP_alloc_unbound, &au), 0, "alloc_unbound");
    p1 = au.port;
    CHECK(p1 > 0 && p1 != ipi_port, "alloc_unbound gives a new port");
    CHECK_EQ(ev_status(p1, &st), 0, "status of unbound port");
    CHECK_EQ(st.status, EVTCHNSTAT_unbound, "status says unbound");
    CHECK_EQ(ev_send(p1), 0, "send on unbound port is silently dropped");
    CHECK(!pending(p1), "unbound send did not set pending");

    memset(&bi, 0, sizeof(bi));
    bi.remote_dom = DOMID_SELF;
    bi.remote_port = p1;
    CHECK_EQ(hyp_event_channel_op(EVTCHNOP_bind_interdomain, &bi), 0,
             "bind_interdomain to own unbound port");
    p2 = bi.local_port;
    /* Xen conservatively raises the new local port on bind, in case
     * notifications to the unbound remote end were lost. */
    CHECK(pending(p2), "bind_interdomain leaves the new local port pending");
    __atomic_fetch_and(&shared->evtchn_pending[p2 / 64], ~(1UL << (p2 % 64)),
                       __ATOMIC_SEQ_CST);
    CHECK_EQ(ev_status(p1, &st), 0, "status of p1");
    CHECK_EQ(st.status, EVTCHNSTAT_interdomain, "p1 now interdomain");
    CHECK_EQ(ev_send(p2), 0, "send on p2");
    CHECK(pending(p1) && !pending(p2), "send on p2 raises p1 only");
    nseen = 0;
    vcpu0()->evtchn_upcall_mask = 0;
    barrier();
    force_evtchn_callback();
    CHECK(saw(p1), "upcall delivers p1");
    vcpu0()->evtchn_upcall_mask = 1;
    barrier();
    CHECK_EQ(ev_close(p2), 0, "close p2");
    CHECK_EQ(ev_status(p1, &st), 0, "status p1 after peer close");
    CHECK_EQ(st.status, EVTCHNSTAT_unbound, "p1 back to unbound");
    CHECK_EQ(ev_close(p1), 0, "close p1");
    CHECK_EQ(ev_close(p1), -EINVAL, "close p1 twice -> -EINVAL");
    CHECK_EQ(ev_status(p1, &st), 0, "status of closed port");
    CHECK_EQ(st.status, EVTCHNSTAT_closed, "closed port reads closed");
    CHECK_EQ(ev_send(p1), -EINVAL, "send on closed port -> -EINVAL");

    /* VIRQ binding. */
    memset(&virq, 0, sizeof(virq));
    virq.virq = VIRQ_TIMER;
    CHECK_EQ(hyp_event_channel_op(EVTCHNOP_bind_virq, &virq), 0, "bind_virq TIMER");
    timer_port = virq.port;
    CHECK_EQ(ev_status(timer_port, &st), 0, "status of virq port");
    CHECK_EQ(st.status, EVTCHNSTAT_virq, "status says virq");
    virq.port = 0;
    CHECK_EQ(hyp_event_channel_op(EVTCHNOP_bind_virq, &virq), -EEXIST,
             "bind_virq TIMER twice -> -EEXIST");
    virq.virq = NR_VIRQS;
    CHECK_EQ(hyp_event_channel_op(EVTCHNOP_bind_virq, &virq), -EINVAL,
             "bind_virq NR_VIRQS -> -EINVAL");
    virq.virq = VIRQ_DEBUG;
    virq.vcpu = 3;
    CHECK_EQ(hyp_event_channel_op(EVTCHNOP_bind_virq, &virq), -ENOENT,
             "bind_virq on missing vcpu -> -ENOENT");
    virq.virq = VIRQ_DOM_EXC;
    virq.vcpu = 1;
    CHECK_EQ(hyp_event_channel_op(EVTCHNOP_bind_virq, &virq), -EINVAL,
             "global virq on vcpu 1 -> -EINVAL");
    CHECK_EQ(ev_send(timer_port), -EINVAL, "send on a virq port -> -EINVAL");
    CHECK_EQ(ev_close(timer_port), 0, "close virq port");

    /* Error paths. */
    ipi.vcpu = 9;
    CHECK_EQ(hyp_event_channel_op(EVTCHNOP_bind_ipi, &ipi), -ENOENT,
             "bind_ipi missing vcpu -> -ENOENT");
    CHECK_EQ(ev_status(100000, &st), -EINVAL, "status of out-of-range port -> -EINVAL");
    CHECK_EQ(ev_send(100000), -EINVAL, "send out-of-range port -> -EINVAL");
    CHECK_EQ(ev_close(100000), -EINVAL, "close out-of-range port -> -EINVAL");
    CHECK_EQ(ev_close(0), -EINVAL, "close reserved port 0 -> -EINVAL");
    CHECK_EQ(ev_unmask(100000), -EINVAL, "unmask out-of-range port -> -EINVAL");
    CHECK_EQ(hyp_event_channel_op(99, &st), -ENOSYS, "unknown evtchn op -> -ENOSYS");
    CHECK_EQ(hyp_event_channel_op(EVTCHNOP_status, (void *)0x1), -EFAULT,
             "status with bad pointer -> -EFAULT");

    /* Ports are valid in buckets of 64: only ports 0 (reserved) and the
     * ipi port are in use, so 63 reads closed and 64 does not exist. */
    CHECK_EQ(ev_status(63, &st), 0, "status of an unused port in the first bucket");
    CHECK_EQ(st.status, EVTCHNSTAT_closed, "unused port reads closed");
    CHECK_EQ(ev_status(64, &st), -EINVAL, "status of a port beyond the first bucket -> -EINVAL");
    CHECK_EQ(ev_unmask(63), 0, "unmask of an unused valid port -> 0");

    /* Domains that do not exist, ports in the wrong state. */
    memset(&au, 0, sizeof(au));
    au.dom = 1000;
    au.remote_dom = DOMID_SELF;
    CHECK_EQ(hyp_event_channel_op(EVTCHNOP_alloc_unbound, &au), -ESRCH,
             "alloc_unbound in a missing domain -> -ESRCH");
    memset(&st, 0, sizeof(st));
    st.dom = 1000;
    st.port = 1;
    CHECK_EQ(hyp_event_channel_op(EVTCHNOP_status, &st), -ESRCH,
             "status in a missing domain -> -ESRCH");
    memset(&bi, 0, sizeof(bi));
    bi.remote_dom = 1000;
    bi.remote_port = 1;
    CHECK_EQ(hyp_event_channel_op(EVTCHNOP_bind_interdomain, &bi), -ESRCH,
             "bind_interdomain to a missing domain -> -ESRCH");
    bi.remote_dom = DOMID_SELF;
    bi.remote_port = ipi_port;
    CHECK_EQ(hyp_event_channel_op(EVTCHNOP_bind_interdomain, &bi), -EINVAL,
             "bind_interdomain to a port that is not unbound -> -EINVAL");
    bi.remote_port = 5000;
    CHECK_EQ(hyp_event_channel_op(EVTCHNOP_bind_interdomain, &bi), -EINVAL,
             "bind_interdomain to an out-of-range port -> -EINVAL");
    memset(&au, 0, sizeof(au));
    au.dom = DOMID_SELF;
    au.remote_dom = 7;
    CHECK_EQ(hyp_event_channel_op(EVTCHNOP_alloc_unbound, &au), 0,
             "alloc_unbound for another domain");
    p1 = au.port;
    CHECK_EQ(ev_status(p1, &st), 0, "status of it");
    CHECK_EQ(st.u.unbound.dom, 7, "status names the remote domain");
    bi.remote_port = p1;
    CHECK_EQ(hyp_event_channel_op(EVTCHNOP_bind_interdomain, &bi), -EINVAL,
             "bind_interdomain to a port meant for another domain -> -EINVAL");

    /* bind_vcpu. */
    {
        struct evtchn_bind_vcpu bv = { .port = p1, .vcpu = 0 };

        CHECK_EQ(hyp_event_channel_op(EVTCHNOP_bind_vcpu, &bv), 0, "bind_vcpu unbound port -> 0");
        bv.vcpu = 5;
        CHECK_EQ(hyp_event_channel_op(EVTCHNOP_bind_vcpu, &bv), -ENOENT,
                 "bind_vcpu to a missing vcpu -> -ENOENT");
        bv.port = ipi_port;
        bv.vcpu = 0;
        CHECK_EQ(hyp_event_channel_op(EVTCHNOP_bind_vcpu, &bv), -EINVAL,
                 "bind_vcpu of an ipi port -> -EINVAL");
        bv.port = 5000;
        CHECK_EQ(hyp_event_channel_op(EVTCHNOP_bind_vcpu, &bv), -EINVAL,
                 "bind_vcpu of an out-of-range port -> -EINVAL");
        memset(&virq, 0, sizeof(virq));
        virq.virq = VIRQ_TIMER;
        CHECK_EQ(hyp_event_channel_op(EVTCHNOP_bind_virq, &virq), 0, "bind VIRQ_TIMER again");
        bv.port = virq.port;
        CHECK_EQ(hyp_event_channel_op(EVTCHNOP_bind_vcpu, &bv), -EINVAL,
                 "bind_vcpu of a per-vcpu virq -> -EINVAL");
        CHECK_EQ(ev_close(virq.port), 0, "close it");
        memset(&virq, 0, sizeof(virq));
        virq.virq = VIRQ_CON_RING;
        CHECK_EQ(hyp_event_channel_op(EVTCHNOP_bind_virq, &virq), 0, "bind a global virq");
        bv.port = virq.port;
        CHECK_EQ(hyp_event_channel_op(EVTCHNOP_bind_vcpu, &bv), 0,
                 "bind_vcpu of a global virq -> 0");
        CHECK_EQ(ev_close(virq.port), 0, "close it");
    }

    /* The FIFO ABI's operations, without switching to it. */
    {
        struct evtchn_init_control ic;
        struct evtchn_expand_array ea = { .array_gfn = 0 };
        struct evtchn_set_priority sp = { .port = ipi_port, .priority = 3 };

        memset(&ic, 0, sizeof(ic));
        ic.control_gfn = (uint64_t)-2;
        CHECK_EQ(hyp_event_channel_op(EVTCHNOP_init_control, &ic), -EINVAL,
                 "init_control with a bad frame -> -EINVAL");
        ic.vcpu = 5;
        CHECK_EQ(hyp_event_channel_op(EVTCHNOP_init_control, &ic), -ENOENT,
                 "init_control on a missing vcpu -> -ENOENT");
        ic.vcpu = 0;
        ic.offset = 4;
        CHECK_EQ(hyp_event_channel_op(EVTCHNOP_init_control, &ic), -EINVAL,
                 "init_control with a misaligned offset -> -EINVAL");
        ic.offset = 4095;
        CHECK_EQ(hyp_event_channel_op(EVTCHNOP_init_control, &ic), -EINVAL,
                 "init_control crossing the page -> -EINVAL");
        CHECK_EQ(hyp_event_channel_op(EVTCHNOP_expand_array, &ea), -EOPNOTSUPP,
                 "expand_array without FIFO -> -EOPNOTSUPP");
        CHECK_EQ(hyp_event_channel_op(EVTCHNOP_set_priority, &sp), -ENOSYS,
                 "set_priority under the 2-level ABI -> -ENOSYS");
        sp.port = 5000;
        CHECK_EQ(hyp_event_channel_op(EVTCHNOP_set_priority, &sp), -EINVAL,
                 "set_priority of an out-of-range port -> -EINVAL");
    }

    /* bind_pirq without any physical IRQ set up. */
    {
        struct evtchn_bind_pirq bp = { .pirq = 100000 };

        CHECK_EQ(hyp_event_channel_op(EVTCHNOP_bind_pirq, &bp), -EINVAL,
                 "bind_pirq beyond nr_pirqs -> -EINVAL");
    }

    /* The legacy hypercall 16 with struct evtchn_op. */
    {
        struct evtchn_op op;

        memset(&op, 0, sizeof(op));
        op.cmd = EVTCHNOP_bind_ipi;
        CHECK_EQ(hypercall_dyn(__HYPERVISOR_event_channel_op_compat, (long)&op, 0, 0, 0, 0), 0,
                 "compat bind_ipi");
        p2 = op.u.bind_ipi.port;
        CHECK(p2 > 0 && p2 < 64, "compat bind_ipi wrote the port back");
        memset(&op, 0, sizeof(op));
        op.cmd = EVTCHNOP_status;
        op.u.status.dom = DOMID_SELF;
        op.u.status.port = p2;
        CHECK_EQ(hypercall_dyn(__HYPERVISOR_event_channel_op_compat, (long)&op, 0, 0, 0, 0), 0,
                 "compat status");
        CHECK_EQ(op.u.status.status, EVTCHNSTAT_ipi, "compat status says ipi");
        op.cmd = EVTCHNOP_init_control;
        CHECK_EQ(hypercall_dyn(__HYPERVISOR_event_channel_op_compat, (long)&op, 0, 0, 0, 0), -ENOSYS,
                 "compat init_control -> -ENOSYS");
        CHECK_EQ(hypercall_dyn(__HYPERVISOR_event_channel_op_compat, 1, 0, 0, 0, 0), -EFAULT,
                 "compat with a bad pointer -> -EFAULT");
    }

    /* SCHEDOP_poll. */
    {
        evtchn_port_t pp = ipi_port;
        struct sched_poll poll = { .nr_ports = 1, .timeout = 0 };

        xen_set_guest_handle(poll.ports, &pp);
        CHECK_EQ(ev_send(ipi_port), 0, "raise the ipi port (events masked)");
        CHECK_EQ(hyp_sched_op(SCHEDOP_poll, &poll), 0, "poll on a pending port returns at once");
        pp = 5000;
        CHECK_EQ(hyp_sched_op(SCHEDOP_poll, &poll), -EINVAL, "poll on an out-of-range port -> -EINVAL");
        poll.nr_ports = 129;
        CHECK_EQ(hyp_sched_op(SCHEDOP_poll, &poll), -EINVAL, "poll on 129 ports -> -EINVAL");
        poll.nr_ports = 1;
        xen_set_guest_handle(poll.ports, (void *)0x8000000000000000UL);
        CHECK_EQ(hyp_sched_op(SCHEDOP_poll, &poll), -EFAULT, "poll with a bad port list -> -EFAULT");
    }

    /* Filling the 2-level space: -ENOSPC at 4096 ports. */
    {
        unsigned int n = 0;
        evtchn_port_t last = 0;

        for ( ;; )
        {
            memset(&au, 0, sizeof(au));
            au.dom = DOMID_SELF;
            au.remote_dom = DOMID_SELF;
            rc = hyp_event_channel_op(EVTCHNOP_alloc_unbound, &au);
            if ( rc )
                break;
            last = au.port;
            if ( ++n > 5000 )
                break;
        }
        CHECK_EQ(rc, -ENOSPC, "alloc_unbound until full -> -ENOSPC");
        CHECK_EQ(last, 4095, "the last port given is 4095");
    }

    /* reset closes everything (and there is never a reset to continue). */
    {
        struct evtchn_reset r = { .dom = DOMID_SELF };

        CHECK_EQ(hyp_event_channel_op(14 /* EVTCHNOP_reset_cont */, &r), -EBUSY,
                 "reset_cont with no reset in progress -> -EBUSY");
        r.dom = 1000;
        CHECK_EQ(hyp_event_channel_op(EVTCHNOP_reset, &r), -ESRCH, "reset of a missing domain -> -ESRCH");
        r.dom = DOMID_SELF;
        CHECK_EQ(hyp_event_channel_op(EVTCHNOP_reset, &r), 0, "reset own ports");
        CHECK_EQ(ev_status(ipi_port, &st), 0, "status after reset");
        CHECK_EQ(st.status, EVTCHNSTAT_closed, "ipi port closed by reset");
        CHECK_EQ(ev_status(4095, &st), 0, "port 4095 still valid after reset");
        CHECK_EQ(st.status, EVTCHNSTAT_closed, "and closed");
        CHECK(!pending(ipi_port), "reset cleared the pending bit");
    }
}
