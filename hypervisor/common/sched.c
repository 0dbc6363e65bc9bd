/* The scheduler: every vCPU is pinned to one physical CPU, and each CPU runs its runnable vCPUs round robin with
 * a 10 ms time slice, halting when none is runnable.
 *
 * A vCPU's state changes only under its CPU's run-queue lock, and a CPU's `curr` changes only under the same
 * lock, so a wake-up racing with a vCPU that is blocking on its own CPU is never lost: vcpu_wake() of a vCPU
 * that is still curr just turns it back to RUNNING. Rescheduling happens on the way back to a guest (the
 * SOFTIRQ_SCHEDULE softirq) or in the idle loop, never in the middle of a hypercall. */
#include <vesta/domain.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/pv.h>
#include <vesta/setup.h>
#include <vesta/x86.h>

#define TIME_SLICE_NS 10000000ULL

static struct timer slice_timer[MAX_CPUS];

void raise_softirq(unsigned int cpu, unsigned int nr)
{
    __atomic_or_fetch(&percpu[cpu]->softirq_pending, 1u << nr, __ATOMIC_SEQ_CST);
    if (cpu != smp_processor_id())
        smp_send_event_check(cpu);
}

static void slice_expired(void *data)
{
    (void)data;
    raise_softirq(smp_processor_id(), SOFTIRQ_SCHEDULE);
}

void sched_init_cpu(unsigned int cpu)
{
    percpu[cpu]->runq_lock = (spinlock_t)SPINLOCK_INIT;
    timer_init(&slice_timer[cpu], slice_expired, NULL, "time slice", cpu);
}

static void runq_append(struct percpu *pc, struct vcpu *v)
{
    v->next_runnable = NULL;
    struct vcpu **pp = &pc->runq;
    while (*pp)
        pp = &(*pp)->next_runnable;
    *pp = v;
}

static void runstate_change(struct vcpu *v, int new)
{
    uint64_t now = now_ns();
    v->runstate_time[v->runstate] += now - v->runstate_entry_time;
    v->runstate_entry_time = now;
    v->runstate = new;
}

void vcpu_wake(struct vcpu *v)
{
    struct percpu *pc = percpu[v->processor];
    unsigned long f = spin_lock_irqsave(&pc->runq_lock);
    if (v->state == VCPU_BLOCKED) {
        if (pc->curr == v) {
            v->state = VCPU_RUNNING; /* it had not left the CPU yet: just keep running */
        } else {
            v->state = VCPU_RUNNABLE;
            runstate_change(v, 1 /* RUNSTATE_runnable */);
            runq_append(pc, v);
            spin_unlock_irqrestore(&pc->runq_lock, f);
            raise_softirq(v->processor, SOFTIRQ_SCHEDULE);
            return;
        }
    }
    spin_unlock_irqrestore(&pc->runq_lock, f);
}

void vcpu_block(struct vcpu *v)
{
    struct percpu *pc = percpu[v->processor];
    unsigned long f = spin_lock_irqsave(&pc->runq_lock);
    v->state = VCPU_BLOCKED;
    spin_unlock_irqrestore(&pc->runq_lock, f);
    /* An event that arrived before the state change would not have woken us: check after it. */
    if (vcpu_event_pending(v))
        vcpu_wake(v);
    else
        raise_softirq(v->processor, SOFTIRQ_SCHEDULE);
}

void vcpu_yield(void) { raise_softirq(smp_processor_id(), SOFTIRQ_SCHEDULE); }

/* Takes v out of scheduling (VCPU_DOWN): off the run queue, and off its CPU at that CPU's next reschedule. */
void vcpu_take_down(struct vcpu *v)
{
    struct percpu *pc = percpu[v->processor];
    unsigned long f = spin_lock_irqsave(&pc->runq_lock);
    struct vcpu **pp = &pc->runq;
    while (*pp && *pp != v)
        pp = &(*pp)->next_runnable;
    if (*pp)
        *pp = v->next_runnable;
    v->state = VCPU_DOWN;
    spin_unlock_irqrestore(&pc->runq_lock, f);
    raise_softirq(v->processor, SOFTIRQ_SCHEDULE);
}

void vcpu_pause_all(struct domain *d)
{
    for (unsigned int i = 0; i < d->max_vcpus; i++)
        if (d->vcpus[i])
            vcpu_take_down(d->vcpus[i]);
}

/* Picks what runs next on this CPU and switches to it. Returns only if the current vCPU keeps running. */
static void schedule(void)
{
    struct percpu *pc = this_cpu();
    unsigned long f = spin_lock_irqsave(&pc->runq_lock);
    struct vcpu *prev = pc->curr, *next = pc->runq;
    bool prev_stays = prev && prev->state == VCPU_RUNNING;
    if (next)
        pc->runq = next->next_runnable;
    else if (prev_stays) {
        spin_unlock_irqrestore(&pc->runq_lock, f);
        return;
    }
    if (prev_stays) {
        prev->state = VCPU_RUNNABLE;
        runstate_change(prev, 1);
        runq_append(pc, prev);
    } else if (prev) {
        runstate_change(prev, prev->state == VCPU_BLOCKED ? 2 /* blocked */ : 3 /* offline */);
    }
    if (next) {
        next->state = VCPU_RUNNING;
        runstate_change(next, 0 /* running */);
    }
    pc->curr = next;
    if (pc->runq)
        timer_set(&slice_timer[pc->cpu], now_ns() + TIME_SLICE_NS);
    else
        timer_stop(&slice_timer[pc->cpu]);
    spin_unlock_irqrestore(&pc->runq_lock, f);
    if (prev == next)
        return;
    context_switch(prev, next);
}

void sched_softirq(void)
{
    struct percpu *pc = this_cpu();
    if (__atomic_fetch_and(&pc->softirq_pending, ~(1u << SOFTIRQ_SCHEDULE), __ATOMIC_SEQ_CST) &
        (1u << SOFTIRQ_SCHEDULE))
        schedule();
}

__noreturn void sched_run(void)
{
    struct percpu *pc = this_cpu();
    for (;;) {
        local_irq_disable();
        if (pc->softirq_pending || pc->runq) {
            local_irq_enable();
            __atomic_or_fetch(&pc->softirq_pending, 1u << SOFTIRQ_SCHEDULE, __ATOMIC_SEQ_CST);
            sched_softirq();
            continue;
        }
        /* Nothing to run: scrub a batch of free memory, then look again; halt once all of it is known zero. */
        local_irq_enable();
        if (scrub_free_pages())
            continue;
        local_irq_disable();
        if (pc->softirq_pending || pc->runq)
            continue;
        pc->idle_halts++;
        safe_halt();
    }
}
