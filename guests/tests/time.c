/*
 * time: vcpu_time_info / wallclock version protocol, system time
 * progress, set_timer_op + SCHEDOP_block wake-up through VIRQ_TIMER,
 * VCPUOP singleshot/periodic timers, SCHEDOP_yield, VCPUOP_is_up and
 * runstate information.
 */
#include "guest.h"

static evtchn_port_t timer_port;
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

    /* Stop the default periodic tick so that only our timers wake us. */
    CHECK_EQ(hyp_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL), 0, "stop periodic timer");

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
        while ( system_time_ns() - t0 < 20000000 )
            ;
        check(timer_events - ev0 >= 3, "periodic ticks delivered while running",
              "%u ticks in 20 ms", timer_events - ev0);

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

    /* Time keeps a consistent version after all of this. */
    CHECK_EQ(t->version & 1, 0, "version even at the end");
    CHECK(t->version != ver || t->system_time > 0, "time info still valid");

    CHECK_EQ(hyp_sched_op(99, NULL), -ENOSYS, "unknown SCHEDOP -> -ENOSYS");
    CHECK_EQ(hyp_sched_op(SCHEDOP_shutdown, (void *)0x1), -EFAULT,
             "SCHEDOP_shutdown bad pointer -> -EFAULT");
}
