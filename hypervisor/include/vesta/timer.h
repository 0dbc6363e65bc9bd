/* Per-CPU soft timers: a callback runs on its CPU, from softirq context, once its deadline (system time, ns)
 * has passed. Each CPU keeps its timers in a list sorted by deadline and programs its local APIC timer for the
 * earliest one. */
#ifndef VESTA_TIMER_H
#define VESTA_TIMER_H

#include <vesta/spinlock.h>
#include <vesta/types.h>

struct timer {
    uint64_t expires;
    void (*fn)(void *data);
    void *data;
    const char *name;
    unsigned int cpu;
    bool active;
    bool killed;                /* timer_kill(): never armed again */
    struct timer *next;
};

struct timer_queue {
    spinlock_t lock;
    struct timer *head;
    struct timer *running;      /* whose callback runs now */
    uint64_t fired;
};

void timer_init(struct timer *t, void (*fn)(void *), void *data, const char *name, unsigned int cpu);
void timer_set(struct timer *t, uint64_t expires_ns);
void timer_stop(struct timer *t);
void timer_kill(struct timer *t); /* stop, and wait for a running callback: before freeing t */
void timer_migrate(struct timer *t, unsigned int cpu);
void timers_run(void);          /* softirq: run the expired timers of this CPU */
void timers_reprogram(void);    /* program this CPU's one-shot for its earliest timer */
void timers_dump(void);

/* System time: nanoseconds since boot, from the TSC. */
uint64_t now_ns(void);
uint64_t tsc_to_ns(uint64_t tsc);  /* system time at a given TSC value */
uint64_t tsc_ns_scale(void);       /* ns per TSC tick, 32.32 fixed point */
extern uint64_t tsc_khz;
extern uint64_t apic_timer_khz;

#endif
