/* Scheduling: which vCPUs may run, and the per-CPU run queues that run them (common/sched.c).
 *
 * Whether a vCPU may run is decided in one place, vcpu_runnable(), on Xen's model: the vCPU itself may say it
 * does not want to (pause_flags: blocked waiting for an event, or down), and the hypervisor or the toolstack may
 * pause it or its whole domain (pause counts, which nest). Anything that changes one of these inputs then asks
 * the scheduler to look again: vcpu_wake() after removing a reason not to run, vcpu_sleep_nosync() or
 * vcpu_sleep_sync() after adding one. The sync form returns only once the vCPU's state has left its CPU, so the
 * caller may read or change it (the toolstack's pause, getvcpucontext, teardown).
 *
 * Placement: every vCPU is pinned to the physical CPU chosen when it was created (sched_pick_cpu_in(): the CPU of
 * its hard affinity with the fewest vCPUs; it moves only when its hard affinity no longer includes that CPU), and each CPU runs its runnable vCPUs round robin with a 10 ms time slice, halting when none
 * is runnable. */
#ifndef VESTA_SCHED_H
#define VESTA_SCHED_H

#include <vesta/softirq.h>
#include <vesta/types.h>

struct vcpu;
struct domain;

/* vcpu->pause_flags: the vCPU's own reasons not to run. */
#define VPF_BLOCKED (1u << 0) /* SCHEDOP_block / poll: until an event arrives */
#define VPF_DOWN (1u << 1)    /* VCPUOP_down, or never brought up */

#define SCHED_DEFAULT_WEIGHT 256 /* credit2's default domain weight */

bool vcpu_runnable(const struct vcpu *v);
void vcpu_wake(struct vcpu *v);          /* put it on its run queue if it may run now */
void vcpu_sleep_nosync(struct vcpu *v);  /* take it off its CPU soon if it may not run now */
void vcpu_sleep_sync(struct vcpu *v);    /* ... and wait until its state has left the CPU (not for oneself) */
void vcpu_unblock(struct vcpu *v);       /* clear VPF_BLOCKED and wake */
void vcpu_block(struct vcpu *v);         /* current vCPU only: blocks unless an event is pending */
void vcpu_yield(void);

/* Pauses nest. The sync forms wait until the vCPUs are off their CPUs; pausing one's own domain that way would
 * wait forever and is refused by callers (Xen's -EINVAL). */
void vcpu_pause(struct vcpu *v);
void vcpu_pause_nosync(struct vcpu *v);
void vcpu_unpause(struct vcpu *v);
void domain_pause(struct domain *d);
void domain_pause_nosync(struct domain *d);
void domain_unpause(struct domain *d);

/* vCPU placement and the per-CPU side. */
struct cpumask;
unsigned int sched_pick_cpu_in(const struct cpumask *allowed); /* the allowed online CPU with the fewest vCPUs */
void sched_vcpu_placed(struct vcpu *v);  /* v->processor chosen: count it */
void sched_vcpu_removed(struct vcpu *v); /* v destroyed: uncount it */
void vcpu_move(struct vcpu *v, unsigned int cpu); /* v paused: pin it to another CPU */
void sched_init_cpu(unsigned int cpu);
__noreturn void sched_run(void);         /* the idle loop: runs vCPUs when there are any */
void schedule(void);                     /* SOFTIRQ_SCHEDULE (vesta/softirq.h) */
void context_switch_done(struct vcpu *prev); /* arch: prev's state is saved, it may run elsewhere or be read */
void vcpu_sync_execstate(struct vcpu *v);    /* arch: state its CPU holds lazily (FPU) back into v */

#endif
