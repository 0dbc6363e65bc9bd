/* Host-wide facts the sysctl interface reports that have no other home yet. */
#ifndef VESTA_SYSCTL_H
#define VESTA_SYSCTL_H

#include <public/domctl.h>

/* The scheduler id reported for cpupool 0 (sysctl sched_id, cpupool INFO). The toolstack accepts only Xen's
 * ids 5..9 and then talks to that scheduler's parameters; credit2 is Xen 4.17's default. This constant stands
 * until the scheduler reports its own id. */
#define VESTA_SCHEDULER_ID XEN_SCHEDULER_CREDIT2

#endif
