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
    CHECK_EQ(ev_close(ipi_port), 0, "close ipi port");
}
