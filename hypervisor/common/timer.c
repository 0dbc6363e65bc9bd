/* Per-CPU soft timers. Each CPU keeps its pending timers in a list sorted by deadline and arms its local APIC
 * one-shot for the head; the timer interrupt runs every expired callback (interrupts off, on the timer's CPU)
 * and re-arms. Timers for another CPU are queued there and that CPU is poked with an IPI to re-arm. */
#include <vesta/apic.h>
#include <vesta/lib.h>
#include <vesta/percpu.h>
#include <vesta/setup.h>
#include <vesta/timer.h>

void timer_init(struct timer *t, void (*fn)(void *), void *data, const char *name, unsigned int cpu)
{
    memset(t, 0, sizeof(*t));
    t->fn = fn;
    t->data = data;
    t->name = name;
    t->cpu = cpu;
}

static void dequeue(struct timer_queue *q, struct timer *t)
{
    for (struct timer **pp = &q->head; *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    t->active = false;
}

/* t's queue, locked: t->cpu changes only under the old queue's lock (timer_migrate()), so it is read again
 * once a lock is held. */
static struct timer_queue *lock_timer_queue(struct timer *t, unsigned long *flags)
{
    for (;;) {
        struct timer_queue *q = &percpu[__atomic_load_n(&t->cpu, __ATOMIC_ACQUIRE)]->timers;
        *flags = spin_lock_irqsave(&q->lock);
        if (q == &percpu[t->cpu]->timers)
            return q;
        spin_unlock_irqrestore(&q->lock, *flags);
    }
}

void timer_set(struct timer *t, uint64_t expires)
{
    unsigned long f;
    struct timer_queue *q = lock_timer_queue(t, &f);
    if (t->killed) {
        spin_unlock_irqrestore(&q->lock, f);
        return;
    }
    if (t->active)
        dequeue(q, t);
    t->expires = expires;
    struct timer **pp = &q->head;
    while (*pp && (*pp)->expires <= expires)
        pp = &(*pp)->next;
    t->next = *pp;
    *pp = t;
    t->active = true;
    bool new_head = q->head == t;
    spin_unlock_irqrestore(&q->lock, f);
    if (new_head) {
        if (t->cpu == smp_processor_id())
            timers_reprogram();
        else
            smp_send_event_check(t->cpu);
    }
}

void timer_stop(struct timer *t)
{
    unsigned long f;
    struct timer_queue *q = lock_timer_queue(t, &f);
    if (t->active)
        dequeue(q, t);
    spin_unlock_irqrestore(&q->lock, f);
}

/* Moves t to another CPU's queue, still armed if it was; waits for a callback running on the old CPU. */
void timer_migrate(struct timer *t, unsigned int cpu)
{
    unsigned long f;
    struct timer_queue *q = lock_timer_queue(t, &f);
    bool armed = t->active;
    if (armed)
        dequeue(q, t);
    __atomic_store_n(&t->cpu, cpu, __ATOMIC_RELEASE);
    spin_unlock_irqrestore(&q->lock, f);
    while (__atomic_load_n(&q->running, __ATOMIC_ACQUIRE) == t)
        cpu_relax();
    if (armed)
        timer_set(t, t->expires);
}

/* Stops t and waits until its callback is not running on its CPU either: afterwards t's memory may go. */
void timer_kill(struct timer *t)
{
    __atomic_store_n(&t->killed, true, __ATOMIC_SEQ_CST); /* a callback running now cannot re-arm it */
    timer_stop(t);
    struct timer_queue *q = &percpu[t->cpu]->timers;
    while (__atomic_load_n(&q->running, __ATOMIC_ACQUIRE) == t)
        cpu_relax();
    timer_stop(t);
}

void timers_reprogram(void)
{
    struct timer_queue *q = &this_cpu()->timers;
    unsigned long f = spin_lock_irqsave(&q->lock);
    if (q->head) {
        uint64_t now = now_ns();
        apic_timer_oneshot(q->head->expires > now ? q->head->expires - now : 0);
    }
    spin_unlock_irqrestore(&q->lock, f);
}

void timers_run(void)
{
    struct timer_queue *q = &this_cpu()->timers;
    unsigned long f = spin_lock_irqsave(&q->lock);
    while (q->head && q->head->expires <= now_ns()) {
        struct timer *t = q->head;
        q->head = t->next;
        t->active = false;
        q->fired++;
        /* The callback may re-arm its own timer, so it runs without the queue lock; timer_kill() waits on
         * `running` for it to finish. */
        __atomic_store_n(&q->running, t, __ATOMIC_RELEASE);
        spin_unlock(&q->lock);
        t->fn(t->data);
        spin_lock(&q->lock);
        __atomic_store_n(&q->running, NULL, __ATOMIC_RELEASE);
    }
    spin_unlock_irqrestore(&q->lock, f);
    timers_reprogram();
}

void timers_dump(void)
{
    uint64_t now = now_ns();
    printk("Timers (now %lu.%06lu s since boot):", now / 1000000000, (now / 1000) % 1000000);
    for (unsigned int c = 0; c < MAX_CPUS; c++) {
        struct percpu *pc = percpu[c];
        if (!pc || !pc->online)
            continue;
        unsigned long f = spin_lock_irqsave(&pc->timers.lock);
        printk("  CPU%u: %lu fired", c, pc->timers.fired);
        for (struct timer *t = pc->timers.head; t; t = t->next) {
            long long d = (long long)(t->expires - now);
            printk("    %-20s in %lld us", t->name, d / 1000);
        }
        spin_unlock_irqrestore(&pc->timers.lock, f);
    }
}
