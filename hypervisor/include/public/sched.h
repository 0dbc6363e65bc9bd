/* SPDX-License-Identifier: MIT */
/*
 * Vesta public guest ABI: scheduler operations.
 *
 * HYPERVISOR_sched_op(unsigned cmd, void *arg)
 *   Returns 0 (or a command-specific value) or a negative errno.  The
 *   legacy hypercall 6 (sched_op_compat) takes (cmd, unsigned long arg)
 *   with arg being the shutdown reason itself; only yield, block and
 *   shutdown exist there.
 */
#ifndef VESTA_PUBLIC_SCHED_H
#define VESTA_PUBLIC_SCHED_H

#include "event_channel.h"

/* Give up the rest of this time slice.  arg unused. */
#define SCHEDOP_yield            0
/*
 * Sleep until an event is pending for this vCPU.  The call clears
 * evtchn_upcall_mask first and re-checks for pending events, so a guest
 * may block with events masked without losing a wakeup.  arg unused.
 */
#define SCHEDOP_block            1
/*
 * Stop the whole domain with reason arg->reason (struct sched_shutdown).
 * For SHUTDOWN_suspend a PV guest also passes the MFN of its start_info in
 * %rdx (third argument); the call then returns 1 if the suspend was
 * cancelled (guest continues in the same domain) or 0 in a new domain.
 * Other reasons do not return.
 */
#define SCHEDOP_shutdown         2
/* Block until one of arg->ports is pending, or arg->timeout (absolute
 * system time in ns, 0 = none) passes.  Returns 0 either way; -EINVAL for
 * bad ports or nr_ports > 128, -EFAULT for an unreadable list. */
#define SCHEDOP_poll             3
/* Privileged: shut down another domain (struct sched_remote_shutdown). */
#define SCHEDOP_remote_shutdown  4
/* Record arg->reason to report at a later shutdown, without stopping. */
#define SCHEDOP_shutdown_code    5
/*
 * Domain watchdog (struct sched_watchdog):
 *   id == 0: create a watchdog firing after timeout seconds; returns its id
 *   id != 0, timeout != 0: re-arm;   id != 0, timeout == 0: destroy
 */
#define SCHEDOP_watchdog         6
/* Hardware domain only: pin the calling vCPU to pcpu (negative undoes). */
#define SCHEDOP_pin_override     7

/* Reasons; the hypervisor mostly just forwards them to the toolstack. */
#define SHUTDOWN_poweroff    0   /* halted: clean up and destroy        */
#define SHUTDOWN_reboot      1   /* destroy, then restart               */
#define SHUTDOWN_suspend     2   /* save state for later resume         */
#define SHUTDOWN_crash       3   /* guest crashed                       */
#define SHUTDOWN_watchdog    4   /* watchdog expired                    */
#define SHUTDOWN_soft_reset  5   /* reset hypervisor-side state, keep memory */
#define SHUTDOWN_MAX         5

struct sched_shutdown {
    uint32_t reason;                 /* SHUTDOWN_* */
};

struct sched_poll {
    xen_guest_handle_t ports;        /* -> evtchn_port_t[nr_ports] */
    uint32_t nr_ports;
    uint32_t _pad0;
    uint64_t timeout;                /* absolute system time (ns), 0 = none */
};

struct sched_remote_shutdown {
    domid_t  domain_id;
    uint16_t _pad0;
    uint32_t reason;                 /* SHUTDOWN_* */
};

struct sched_watchdog {
    uint32_t id;
    uint32_t timeout;                /* seconds */
};

struct sched_pin_override {
    int32_t pcpu;
};

typedef struct sched_shutdown        sched_shutdown_t;
typedef struct sched_poll            sched_poll_t;
typedef struct sched_remote_shutdown sched_remote_shutdown_t;
typedef struct sched_watchdog        sched_watchdog_t;
typedef struct sched_pin_override    sched_pin_override_t;

_Static_assert(sizeof(struct sched_shutdown) == 4, "sched_shutdown");
_Static_assert(sizeof(struct sched_poll) == 24, "sched_poll");
_Static_assert(offsetof(struct sched_poll, nr_ports) == 8, "poll.nr_ports");
_Static_assert(offsetof(struct sched_poll, timeout) == 16, "poll.timeout");
_Static_assert(sizeof(struct sched_remote_shutdown) == 8, "remote_shutdown");
_Static_assert(offsetof(struct sched_remote_shutdown, reason) == 4, "rs.reason");
_Static_assert(sizeof(struct sched_watchdog) == 8, "sched_watchdog");
_Static_assert(sizeof(struct sched_pin_override) == 4, "pin_override");

#endif /* VESTA_PUBLIC_SCHED_H */
