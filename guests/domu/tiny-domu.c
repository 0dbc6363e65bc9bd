/*
 * tiny-domu: the smallest domain the density and create/destroy tests start
 * with xl (a 64-bit PV ELF kernel with the same runtime as the test kernels).
 * It prints "VESTA-TINY: up" with what the domain builder handed over on its
 * console ring, then idles: the vCPU sleeps in SCHEDOP_poll and, with
 * "tick=N" on its command line, wakes every N seconds to print a counter (so
 * a paused domain can be told from a running one).  It runs until xl
 * destroys it; "exit" on the command line makes it power off at once.
 */
#include "guest.h"

static unsigned long cmdline_number(const char *cl, const char *key)
{
    const char *p = strstr(cl, key);
    unsigned long v = 0;

    if ( !p )
        return 0;
    for ( p += strlen(key); *p >= '0' && *p <= '9'; p++ )
        v = v * 10 + (unsigned long)(*p - '0');
    return v;
}

void test_main(void)
{
    const char *cl = (const char *)start_info->cmd_line;
    uint64_t tick_ns = cmdline_number(cl, "tick=") * 1000000000ULL;
    uint64_t next = system_time_ns() + tick_ns;
    evtchn_port_t port = start_info->console.domU.evtchn;
    unsigned long n = 0;

    printf("VESTA-TINY: up, %lu pages, cmdline '%s'\n",
           (unsigned long)start_info->nr_pages, cl);
    if ( strstr(cl, "exit") )
        return;                 /* test_finish() powers off */

    for ( ;; )
    {
        struct sched_poll poll = {
            .nr_ports = 1,
            .timeout = tick_ns ? next : 0,
        };

        /* xenconsoled signals the port as it drains the ring; events stay
         * masked, so clear the bit here or the poll would return at once. */
        __atomic_fetch_and(&shared->evtchn_pending[port / 64],
                           ~(1UL << (port % 64)), __ATOMIC_SEQ_CST);
        xen_set_guest_handle(poll.ports, &port);
        hyp_sched_op(SCHEDOP_poll, &poll);
        if ( tick_ns && system_time_ns() >= next )
        {
            printf("VESTA-TINY: tick %lu\n", n++);
            next += tick_ns;
        }
    }
}
