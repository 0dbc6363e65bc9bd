/*
 * time: vcpu_time_info / wallclock version protocol, system time
 * progress, set_timer_op + SCHEDOP_block wake-up through VIRQ_TIMER,
 * VCPUOP singleshot/periodic timers, SCHEDOP_yield, VCPUOP_is_up and
 * runstate information.
 */
#include "guest.h"

static evtchn_port_t timer_port;
static uint8_t new_vcpu_info_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static bool port_pending(evtchn_port_t p)
{
    return (shared->evtchn_pending[p / 64] >> (p % 64)) & 1;
}

static void port_clear(evtchn_port_t p)
{
    __atomic_fetch_and(&shared->evtchn_pending[p / 64], ~(1UL << (p % 64)), __ATOMIC_SEQ_CST);
}
static volatile unsigned int timer_events;

static void hook(evtchn_port_t port)
{
    if ( port == timer_port )
        timer_events++;
}

/* Block until a timer event arrives (at most a few spurious wake-ups). */
static bool block_for_timer(void)
{
    unsigned int before = timer_events;

    for ( int i = 0; i < 5 && timer_events == before; i++ )
    {
        if ( hyp_sched_op(SCHEDOP_block, NULL) )
            return false;
    }
    vcpu0()->evtchn_upcall_mask = 1;
    barrier();
    return timer_events != before;
}

void test_main(void)
{
    volatile struct vcpu_time_info *t = &vcpu0()->time;
    struct evtchn_bind_virq virq;
    struct vcpu_runstate_info rs;
    uint64_t t0, t1, deadline;
    uint32_t ver;
    long rc;

    event_hook = hook;

    ver = t->version;
    CHECK_EQ(ver & 1, 0, "vcpu_time_info version is even at rest");
    CHECK(t->system_time > 0, "system_time non-zero");
    CHECK(t->tsc_to_system_mul != 0, "tsc_to_system_mul non-zero");
    CHECK(t->tsc_timestamp != 0, "tsc_timestamp non-zero");
    CHECK_EQ(shared->wc_version & 1, 0, "wc_version even at rest");
    printf("  wallclock sec %u nsec %u, system_time %lu ns\n",
           shared->wc_sec, shared->wc_nsec, (unsigned long)t->system_time);
    CHECK(shared->wc_nsec < 1000000000u, "wc_nsec < 1e9");

    t0 = system_time_ns();
    for ( volatile int i = 0; i < 2000000; i++ )
        ;
    t1 = system_time_ns();
    CHECK(t1 > t0, "system time advances while spinning");
    CHECK(t1 - t0 < 10000000000UL, "...by a sane amount (< 10 s)");

    CHECK_EQ(hyp_sched_op(SCHEDOP_yield, NULL), 0, "SCHEDOP_yield -> 0");
    CHECK_EQ(hyp_vcpu_op(VCPUOP_is_up, 0, NULL), 1, "VCPUOP_is_up(0) == 1");
    CHECK_EQ(hyp_vcpu_op(VCPUOP_is_up, 1, NULL), -ENOENT, "VCPUOP_is_up(1) -> -ENOENT");
    CHECK_EQ(hyp_vcpu_op(VCPUOP_is_up, 5000, NULL), -ENOENT, "VCPUOP_is_up(5000) -> -ENOENT");
    CHECK_EQ(hyp_vcpu_op(77, 0, NULL), -ENOSYS, "unknown VCPUOP -> -ENOSYS");

    memset(&rs, 0, sizeof(rs));
    CHECK_EQ(hyp_vcpu_op(VCPUOP_get_runstate_info, 0, &rs), 0, "get_runstate_info");
    CHECK_EQ(rs.state, RUNSTATE_running, "runstate is running");
    CHECK(rs.time[RUNSTATE_running] > 0, "time running > 0");
    CHECK_EQ(hyp_vcpu_op(VCPUOP_get_runstate_info, 0, (void *)0x1), -EFAULT,
             "get_runstate_info bad pointer -> -EFAULT");

    memset(&virq, 0, sizeof(virq));
    virq.virq = VIRQ_TIMER;
    rc = hyp_event_channel_op(EVTCHNOP_bind_virq, &virq);
    CHECK_EQ(rc, 0, "bind VIRQ_TIMER");
    timer_port = virq.port;

    /* Stop the default periodic tick so that only our timers wake us. A tick that fired just before may still be
     * pending on the timer port (both share VIRQ_TIMER): let it be delivered now, or the first block below would
     * return at once and the wake-up would look early. */
    CHECK_EQ(hyp_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL), 0, "stop periodic timer");
    vcpu0()->evtchn_upcall_mask = 0;
    barrier();
    force_evtchn_callback();
    vcpu0()->evtchn_upcall_mask = 1;
    barrier();

    /* set_timer_op + block. */
    deadline = system_time_ns() + 5000000;       /* 5 ms */
    CHECK_EQ(hyp_set_timer_op(deadline), 0, "set_timer_op(now + 5ms)");
    CHECK(block_for_timer(), "SCHEDOP_block woken by the timer event");
    t1 = system_time_ns();
    check(t1 >= deadline, "woke no earlier than the deadline",
          "woke %ld ns early", (long)(deadline - t1));
    CHECK_EQ(vcpu0()->evtchn_upcall_mask, 1, "mask set again after wake-up");

    /* Timer in the past fires at once. */
    CHECK_EQ(hyp_set_timer_op(system_time_ns() - 1000), 0, "set_timer_op in the past");
    CHECK(block_for_timer(), "past timeout delivers the event");
    CHECK_EQ(hyp_set_timer_op(0), 0, "set_timer_op(0) cancels");

    /* VCPUOP singleshot timer. */
    {
        struct vcpu_set_singleshot_timer ss;

        memset(&ss, 0, sizeof(ss));
        deadline = system_time_ns() + 3000000;
        ss.timeout_abs_ns = deadline;
        CHECK_EQ(hyp_vcpu_op(VCPUOP_set_singleshot_timer, 0, &ss), 0,
                 "set_singleshot_timer(now + 3ms)");
        CHECK(block_for_timer(), "singleshot timer wakes SCHEDOP_block");
        CHECK(system_time_ns() >= deadline, "singleshot fired after its deadline");

        ss.timeout_abs_ns = system_time_ns() - 1000;
        ss.flags = VCPU_SSHOTTMR_future;
        CHECK_EQ(hyp_vcpu_op(VCPUOP_set_singleshot_timer, 0, &ss), 0,
                 "singleshot in the past with 'future' flag -> 0 (4.17 fires it)");
        CHECK(block_for_timer(), "past singleshot event delivered");

        ss.timeout_abs_ns = system_time_ns() + 1000000000UL;
        ss.flags = 0;
        CHECK_EQ(hyp_vcpu_op(VCPUOP_set_singleshot_timer, 0, &ss), 0, "arm a 1 s singleshot");
        CHECK_EQ(hyp_vcpu_op(VCPUOP_stop_singleshot_timer, 0, NULL), 0, "stop_singleshot_timer");
        CHECK_EQ(hyp_vcpu_op(VCPUOP_set_singleshot_timer, 1, &ss), -ENOENT,
                 "singleshot on missing vcpu -> -ENOENT");
        CHECK_EQ(hyp_vcpu_op(VCPUOP_set_singleshot_timer, 0, (void *)0x1), -EFAULT,
                 "singleshot bad pointer -> -EFAULT");
    }

    /* Periodic timer: ticks while running, but Xen stops a vCPU's
     * periodic timer when it is descheduled, so it never wakes a blocked
     * vCPU (a blocked guest needs a singleshot timer). */
    {
        struct vcpu_set_periodic_timer pt = { .period_ns = 100000 };
        struct vcpu_set_singleshot_timer ss;
        unsigned int ev0, wakes = 0;

        CHECK_EQ(hyp_vcpu_op(VCPUOP_set_periodic_timer, 0, &pt), -EINVAL,
                 "periodic period < 1ms -> -EINVAL");
        CHECK_EQ(hyp_vcpu_op(VCPUOP_set_periodic_timer, 0, (void *)0x1), -EFAULT,
                 "periodic bad pointer -> -EFAULT");
        pt.period_ns = 1000000;
        ev0 = timer_events;
        vcpu0()->evtchn_upcall_mask = 0;
        barrier();
        CHECK_EQ(hyp_vcpu_op(VCPUOP_set_periodic_timer, 0, &pt), 0, "periodic 1ms");
        t0 = system_time_ns();
        while ( system_time_ns() - t0 < 50000000 )
            ;
        check(timer_events - ev0 >= 3, "periodic ticks delivered while running",
              "%u ticks in 50 ms", timer_events - ev0);

        memset(&ss, 0, sizeof(ss));
        deadline = system_time_ns() + 30000000;
        ss.timeout_abs_ns = deadline;
        CHECK_EQ(hyp_vcpu_op(VCPUOP_set_singleshot_timer, 0, &ss), 0,
                 "singleshot 30ms with periodic 1ms running");
        while ( system_time_ns() < deadline && wakes < 100 )
        {
            hyp_sched_op(SCHEDOP_block, NULL);
            wakes++;
        }
        vcpu0()->evtchn_upcall_mask = 1;
        barrier();
        check(wakes <= 3, "periodic timer does not wake a blocked vCPU",
              "%u wake-ups during a 30 ms block", wakes);
        CHECK_EQ(hyp_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL), 0, "stop periodic");
    }

    /* A huge set_timer_op deadline (a wrapped jiffies value) fires after 100 ms. A periodic tick that fired
     * just before the stop above may still be pending: let it be delivered first, so it cannot pass for the
     * event awaited here. */
    vcpu0()->evtchn_upcall_mask = 0;
    barrier();
    force_evtchn_callback();
    vcpu0()->evtchn_upcall_mask = 1;
    barrier();
    CHECK_EQ(hyp_set_timer_op(1UL << 62), 0, "set_timer_op far in the future");
    t0 = system_time_ns();
    CHECK(block_for_timer(), "huge deadline still delivers an event");
    t1 = system_time_ns();
    check(t1 - t0 >= 90000000UL && t1 - t0 < 2000000000UL, "...after about 100 ms",
          "after %lu ns", (unsigned long)(t1 - t0));

    /* SCHEDOP_poll with events masked: woken by the timer's port, or by its own timeout. */
    {
        evtchn_port_t pp = timer_port;
        struct sched_poll poll = { .nr_ports = 1 };
        struct vcpu_set_singleshot_timer ss;

        xen_set_guest_handle(poll.ports, &pp);
        port_clear(timer_port);
        memset(&ss, 0, sizeof(ss));
        ss.timeout_abs_ns = system_time_ns() + 3000000;
        CHECK_EQ(hyp_vcpu_op(VCPUOP_set_singleshot_timer, 0, &ss), 0, "singleshot 3 ms for poll");
        t0 = system_time_ns();
        poll.timeout = t0 + 2000000000UL;
        CHECK_EQ(hyp_sched_op(SCHEDOP_poll, &poll), 0, "poll on the timer port");
        t1 = system_time_ns();
        CHECK(port_pending(timer_port), "poll returned with the timer port pending");
        check(t1 >= ss.timeout_abs_ns && t1 - t0 < 1000000000UL, "poll woken by the timer event",
              "after %lu ns", (unsigned long)(t1 - t0));
        port_clear(timer_port);
        deadline = system_time_ns() + 5000000;
        poll.timeout = deadline;
        CHECK_EQ(hyp_sched_op(SCHEDOP_poll, &poll), 0, "poll with a 5 ms timeout");
        check(system_time_ns() >= deadline, "poll returned at its timeout", "%ld ns early",
              (long)(deadline - system_time_ns()));
        CHECK(!port_pending(timer_port), "nothing pending after the timeout");
    }

    /* Runstate area, with the runstate_update_flag assist. */
    {
        static struct vcpu_runstate_info area;
        struct vcpu_register_runstate_memory_area ra;
        struct vcpu_set_singleshot_timer ss;

        CHECK_EQ(hyp_vm_assist(VMASST_CMD_enable, VMASST_TYPE_runstate_update_flag), 0,
                 "enable runstate_update_flag");
        ra.addr.p = 0xffff800000000000UL;
        CHECK_EQ(hyp_vcpu_op(VCPUOP_register_runstate_memory_area, 0, &ra), -EFAULT,
                 "runstate area in the hypervisor hole -> -EFAULT");
        memset(&area, 0xff, sizeof(area));
        xen_set_guest_handle(ra.addr, &area);
        CHECK_EQ(hyp_vcpu_op(VCPUOP_register_runstate_memory_area, 0, &ra), 0,
                 "register runstate area");
        CHECK_EQ(area.state, RUNSTATE_running, "area says running");
        CHECK(area.time[RUNSTATE_running] > 0, "area has running time");
        CHECK(!(area.state_entry_time & XEN_RUNSTATE_UPDATE), "update flag clear at rest");
        CHECK(area.state_entry_time <= system_time_ns(), "state_entry_time in the past");
        memset(&ss, 0, sizeof(ss));
        ss.timeout_abs_ns = system_time_ns() + 5000000;
        CHECK_EQ(hyp_vcpu_op(VCPUOP_set_singleshot_timer, 0, &ss), 0, "singleshot 5 ms");
        CHECK(block_for_timer(), "blocked until the timer");
        CHECK(area.time[RUNSTATE_blocked] > 0, "area shows time blocked");
        CHECK_EQ(area.state, RUNSTATE_running, "area says running again");
        CHECK(!(area.state_entry_time & XEN_RUNSTATE_UPDATE), "update flag clear again");
        ra.addr.p = 0;
        CHECK_EQ(hyp_vcpu_op(VCPUOP_register_runstate_memory_area, 0, &ra), 0,
                 "unregister runstate area");
    }

    /* A second copy of vcpu_time_info. */
    {
        static struct vcpu_time_info ti;
        struct vcpu_register_time_memory_area ta;

        ta.addr.p = 0xffff800000000000UL;
        CHECK_EQ(hyp_vcpu_op(VCPUOP_register_vcpu_time_memory_area, 0, &ta), -EFAULT,
                 "time area in the hypervisor hole -> -EFAULT");
        xen_set_guest_handle(ta.addr, &ti);
        CHECK_EQ(hyp_vcpu_op(VCPUOP_register_vcpu_time_memory_area, 0, &ta), 0,
                 "register time area");
        CHECK_EQ(ti.version & 1, 0, "time area version even");
        CHECK(ti.system_time > 0, "time area has system time");
        CHECK_EQ(ti.tsc_to_system_mul, t->tsc_to_system_mul, "time area scale matches");
        CHECK_EQ(ti.tsc_shift, t->tsc_shift, "time area shift matches");
    }

    /* vcpu_op error paths that a single-vCPU domain can reach. */
    {
        static struct vcpu_guest_context ctx;
        struct vcpu_get_physid pid;

        CHECK_EQ(hyp_vcpu_op(VCPUOP_initialise, 0, (void *)0x1), -EFAULT,
                 "initialise with a bad pointer -> -EFAULT");
        CHECK_EQ(hyp_vcpu_op(VCPUOP_initialise, 0, &ctx), -EEXIST, "initialise vcpu 0 again -> -EEXIST");
        CHECK_EQ(hyp_vcpu_op(VCPUOP_initialise, 1, &ctx), -ENOENT, "initialise missing vcpu -> -ENOENT");
        CHECK_EQ(hyp_vcpu_op(VCPUOP_up, 0, NULL), 0, "up on a running vcpu -> 0");
        CHECK_EQ(hyp_vcpu_op(VCPUOP_send_nmi, 0, &pid), -EINVAL, "send_nmi with an argument -> -EINVAL");
        CHECK_EQ(hyp_vcpu_op(VCPUOP_get_physid, 0, &pid), 0, "get_physid on a one-CPU dom0");
        CHECK_EQ(pid.phys_id, 0, "boot CPU: APIC id 0, ACPI id 0");
        CHECK_EQ(hyp_vcpu_op(VCPUOP_stop_singleshot_timer, 1, NULL), -ENOENT,
                 "stop_singleshot on a missing vcpu -> -ENOENT");
    }

    /* Time keeps a consistent version after all of this. */
    CHECK_EQ(t->version & 1, 0, "version even at the end");
    CHECK(t->version != ver || t->system_time > 0, "time info still valid");

    CHECK_EQ(hyp_sched_op(99, NULL), -ENOSYS, "unknown SCHEDOP -> -ENOSYS");
    CHECK_EQ(hyp_sched_op(SCHEDOP_shutdown, (void *)0x1), -EFAULT,
             "SCHEDOP_shutdown bad pointer -> -EFAULT");

    /* Last: move vcpu_info out of shared_info (the runtime keeps using the
     * old copy, so no event may be delivered after this; events stay masked). */
    {
        struct vcpu_register_vcpu_info ri;
        volatile struct vcpu_info *ni;
        uint64_t l4_mfn = va_to_mfn((void *)start_info->pt_base);

        vcpu0()->evtchn_upcall_mask = 1;
        barrier();
        memset(&ri, 0, sizeof(ri));
        ri.mfn = va_to_mfn(new_vcpu_info_page);
        ri.offset = 4095;
        CHECK_EQ(hyp_vcpu_op(VCPUOP_register_vcpu_info, 0, &ri), -ENXIO,
                 "vcpu_info crossing the page -> -ENXIO");
        ri.offset = 4;
        CHECK_EQ(hyp_vcpu_op(VCPUOP_register_vcpu_info, 0, &ri), -ENXIO,
                 "misaligned vcpu_info -> -ENXIO");
        ri.offset = 128;
        ri.mfn = l4_mfn;
        CHECK_EQ(hyp_vcpu_op(VCPUOP_register_vcpu_info, 0, &ri), -EINVAL,
                 "vcpu_info in a page table -> -EINVAL");
        ri.mfn = 1UL << 40;
        CHECK_EQ(hyp_vcpu_op(VCPUOP_register_vcpu_info, 0, &ri), -EINVAL,
                 "vcpu_info in a frame we do not own -> -EINVAL");
        ri.mfn = va_to_mfn(new_vcpu_info_page);
        CHECK_EQ(hyp_vcpu_op(VCPUOP_register_vcpu_info, 1, &ri), -ENOENT,
                 "vcpu_info for a missing vcpu -> -ENOENT");
        CHECK_EQ(hyp_vcpu_op(VCPUOP_register_vcpu_info, 0, &ri), 0, "register vcpu_info");
        ni = (volatile struct vcpu_info *)(new_vcpu_info_page + 128);
        CHECK_EQ(ni->evtchn_pending_sel, ~0UL, "every selector bit set after the move");
        CHECK_EQ(ni->evtchn_upcall_pending, 1, "upcall pending after the move");
        CHECK_EQ(ni->evtchn_upcall_mask, 1, "mask carried over");
        CHECK(ni->time.system_time > 0 && !(ni->time.version & 1), "time written into the new vcpu_info");
        CHECK_EQ(hyp_vcpu_op(VCPUOP_register_vcpu_info, 0, &ri), -EINVAL,
                 "register vcpu_info twice -> -EINVAL");
    }
}
