/* The scheduler: every vCPU is pinned to the physical CPU it was placed on, and each CPU runs its runnable vCPUs
 * round robin with a 10 ms time slice, halting when none is runnable (vesta/sched.h has the model).
 *
 * Locking: a CPU's run-queue lock guards its queue, `curr`, and the on_runq / is_running / runstate fields of the
 * vCPUs placed on it. The inputs of vcpu_runnable() (pause flags and counts) change without it, atomically; every
 * such change is followed by vcpu_wake() or vcpu_sleep_*(), which re-evaluate under the lock, so a wake-up racing
 * with a vCPU blocking on its own CPU is never lost: whichever runs last sees the final flags. Rescheduling
 * happens on the way back to a guest (the SOFTIRQ_SCHEDULE softirq) or in the idle loop, never in the middle of
 * a hypercall.
 *
 * is_running is set when a vCPU is picked and cleared by the context switch only after its registers, segments
 * and FPU ownership are saved (context_switch_done()); vcpu_sleep_sync() waits on it. */
#include <public/vcpu.h>
#include <public/domctl.h>
#include <vesta/domain.h>
#include <vesta/domctl.h>
#include <vesta/errno.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/pv.h>
#include <vesta/sched.h>
#include <vesta/setup.h>
#include <vesta/softirq.h>
#include <vesta/sysctl.h>
#include <vesta/x86.h>

#define TIME_SLICE_NS 10000000ULL     /* at the default weight */
#define MIN_SLICE_NS 1000000ULL
#define MAX_SLICE_NS 1000000000ULL

static struct timer slice_timer[MAX_CPUS];
static unsigned int vcpus_placed[MAX_CPUS]; /* vCPUs pinned to each CPU, for placement */
static spinlock_t placement_lock = SPINLOCK_INIT;

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

/* ---- Placement. */

unsigned int sched_pick_cpu_in(const struct cpumask *allowed)
{
    unsigned long f = spin_lock_irqsave(&placement_lock);
    unsigned int best = MAX_CPUS;
    for (unsigned int c = 0; c < MAX_CPUS; c++)
        if (percpu[c] && percpu[c]->online && cpumask_test(allowed, c) &&
            (best == MAX_CPUS || vcpus_placed[c] < vcpus_placed[best]))
            best = c;
    spin_unlock_irqrestore(&placement_lock, f);
    ASSERT(best < MAX_CPUS);
    return best;
}

void sched_vcpu_placed(struct vcpu *v)
{
    ASSERT(v->processor < MAX_CPUS && percpu[v->processor]);
    __atomic_fetch_add(&vcpus_placed[v->processor], 1, __ATOMIC_RELAXED);
}

void sched_vcpu_removed(struct vcpu *v)
{
    ASSERT(!v->is_running && !v->on_runq);
    __atomic_fetch_sub(&vcpus_placed[v->processor], 1, __ATOMIC_RELAXED);
}

/* Moves a vCPU that is paused and off its CPU (vcpu_pause()) to another CPU: the state its old CPU holds lazily,
 * its timers and its place in the counts follow. */
void vcpu_move(struct vcpu *v, unsigned int cpu)
{
    ASSERT(!v->is_running && !v->on_runq && !vcpu_runnable(v) && percpu[cpu] && percpu[cpu]->online);
    if (cpu == v->processor)
        return;
    vcpu_sync_execstate(v);
    pv_vcpu_forget(v);
    sched_vcpu_removed(v);
    timer_migrate(&v->singleshot_timer, cpu);
    timer_migrate(&v->periodic_timer, cpu);
    timer_migrate(&v->poll_timer, cpu);
    v->processor = cpu;
    sched_vcpu_placed(v);
}

/* ---- Runnability. */

bool vcpu_runnable(const struct vcpu *v)
{
    return !__atomic_load_n(&v->pause_flags, __ATOMIC_ACQUIRE) && !__atomic_load_n(&v->pause_count, __ATOMIC_ACQUIRE) &&
           !__atomic_load_n(&v->domain->pause_count, __ATOMIC_ACQUIRE);
}

static void runq_append(struct percpu *pc, struct vcpu *v)
{
    ASSERT(spin_is_locked(&pc->runq_lock) && !v->on_runq);
    v->next_runnable = NULL;
    struct vcpu **pp = &pc->runq;
    while (*pp)
        pp = &(*pp)->next_runnable;
    *pp = v;
    v->on_runq = true;
}

static void runq_remove(struct percpu *pc, struct vcpu *v)
{
    ASSERT(spin_is_locked(&pc->runq_lock));
    for (struct vcpu **pp = &pc->runq; *pp; pp = &(*pp)->next_runnable)
        if (*pp == v) {
            *pp = v->next_runnable;
            break;
        }
    v->on_runq = false;
}

/* Runstate accounting (VCPUOP_get_runstate_info, getvcpuinfo's cpu_time). Run-queue lock held. */
static void runstate_change(struct vcpu *v, int new)
{
    uint64_t now = now_ns();
    v->runstate_time[v->runstate] += now - v->runstate_entry_time;
    v->runstate_entry_time = now;
    v->runstate = new;
}

static int idle_runstate(const struct vcpu *v)
{
    return __atomic_load_n(&v->pause_flags, __ATOMIC_ACQUIRE) == VPF_BLOCKED ? RUNSTATE_blocked
                                                                             : RUNSTATE_offline;
}

void vcpu_wake(struct vcpu *v)
{
    struct percpu *pc = percpu[v->processor];
    unsigned long f = spin_lock_irqsave(&pc->runq_lock);
    bool kick = false;
    if (vcpu_runnable(v)) {
        if (!v->is_running && !v->on_runq) {
            runstate_change(v, RUNSTATE_runnable);
            runq_append(pc, v);
            kick = true;
        }
    } else if (v->runstate == RUNSTATE_blocked && !v->is_running) {
        runstate_change(v, idle_runstate(v));
    }
    spin_unlock_irqrestore(&pc->runq_lock, f);
    if (kick)
        raise_softirq(v->processor, SOFTIRQ_SCHEDULE);
}

void vcpu_sleep_nosync(struct vcpu *v)
{
    struct percpu *pc = percpu[v->processor];
    unsigned long f = spin_lock_irqsave(&pc->runq_lock);
    bool resched = false;
    if (!vcpu_runnable(v)) {
        if (v->on_runq) {
            runq_remove(pc, v);
            runstate_change(v, idle_runstate(v));
        }
        resched = v->is_running;
    }
    spin_unlock_irqrestore(&pc->runq_lock, f);
    if (resched)
        raise_softirq(v->processor, SOFTIRQ_SCHEDULE);
}

void vcpu_sleep_sync(struct vcpu *v)
{
    ASSERT(v != current_vcpu());
    vcpu_sleep_nosync(v);
    while (!vcpu_runnable(v) && __atomic_load_n(&v->is_running, __ATOMIC_ACQUIRE))
        cpu_relax();
    vcpu_sync_execstate(v);
}

void vcpu_unblock(struct vcpu *v)
{
    if (__atomic_fetch_and(&v->pause_flags, ~VPF_BLOCKED, __ATOMIC_SEQ_CST) & VPF_BLOCKED)
        vcpu_wake(v);
}

void vcpu_block(struct vcpu *v)
{
    ASSERT(v == current_vcpu());
    __atomic_fetch_or(&v->pause_flags, VPF_BLOCKED, __ATOMIC_SEQ_CST);
    /* An event that arrived before the flag was set would not have woken us: check after it. */
    if (vcpu_event_pending(v))
        __atomic_fetch_and(&v->pause_flags, ~VPF_BLOCKED, __ATOMIC_SEQ_CST);
    else
        raise_softirq(v->processor, SOFTIRQ_SCHEDULE);
}

void vcpu_yield(void) { raise_softirq(smp_processor_id(), SOFTIRQ_SCHEDULE); }

/* ---- Pausing. */

void vcpu_pause_nosync(struct vcpu *v)
{
    __atomic_fetch_add(&v->pause_count, 1, __ATOMIC_SEQ_CST);
    vcpu_sleep_nosync(v);
}

void vcpu_pause(struct vcpu *v)
{
    __atomic_fetch_add(&v->pause_count, 1, __ATOMIC_SEQ_CST);
    vcpu_sleep_sync(v);
}

void vcpu_unpause(struct vcpu *v)
{
    int old = __atomic_fetch_sub(&v->pause_count, 1, __ATOMIC_SEQ_CST);
    ASSERT(old > 0);
    if (old == 1)
        vcpu_wake(v);
}

void domain_pause_nosync(struct domain *d)
{
    __atomic_fetch_add(&d->pause_count, 1, __ATOMIC_SEQ_CST);
    for_each_vcpu (d, v)
        vcpu_sleep_nosync(v);
}

void domain_pause(struct domain *d)
{
    ASSERT(d != current_domain());
    __atomic_fetch_add(&d->pause_count, 1, __ATOMIC_SEQ_CST);
    for_each_vcpu (d, v)
        vcpu_sleep_sync(v);
}

void domain_unpause(struct domain *d)
{
    int old = __atomic_fetch_sub(&d->pause_count, 1, __ATOMIC_SEQ_CST);
    ASSERT(old > 0);
    if (old == 1)
        for_each_vcpu (d, v)
            vcpu_wake(v);
}

/* ---- Weights. A vCPU's time slice is proportional to its domain's weight, so CPU-bound vCPUs sharing a CPU
 * round robin get CPU time in proportion to their weights (within the slice bounds: weights 26 to 25600). */

static uint64_t slice_ns(const struct vcpu *v)
{
    uint64_t ns = TIME_SLICE_NS * v->domain->sched_weight / SCHED_DEFAULT_WEIGHT;
    return ns < MIN_SLICE_NS ? MIN_SLICE_NS : ns > MAX_SLICE_NS ? MAX_SLICE_NS : ns;
}

/* XEN_DOMCTL_scheduler_op: the per-domain parameters of the scheduler the toolstack sees (sysctl.h's id, credit2's
 * structure). Weight is honoured as above; caps are not implemented (no budget accounting yet): a cap is
 * refused rather than recorded and ignored. */
long sched_domctl(struct xen_domctl *op, struct domain *d)
{
    struct xen_domctl_scheduler_op *s = &op->u.scheduler_op;
    if (s->sched_id != VESTA_SCHEDULER_ID ||
        (s->cmd != XEN_DOMCTL_SCHEDOP_putinfo && s->cmd != XEN_DOMCTL_SCHEDOP_getinfo))
        return -EINVAL;
    if (s->cmd == XEN_DOMCTL_SCHEDOP_getinfo) {
        s->u.credit2.weight = (uint16_t)d->sched_weight;
        s->u.credit2.cap = 0;
        return 0;
    }
    if (s->u.credit2.cap)
        return -EOPNOTSUPP;
    if (s->u.credit2.weight)
        __atomic_store_n(&d->sched_weight, s->u.credit2.weight, __ATOMIC_RELAXED);
    return 0;
}

/* ---- Switching. */

/* Picks what runs next on this CPU and switches to it (SOFTIRQ_SCHEDULE). Returns only if the current vCPU keeps
 * running. */
void schedule(void)
{
    struct percpu *pc = this_cpu();
    unsigned long f = spin_lock_irqsave(&pc->runq_lock);
    struct vcpu *prev = pc->curr, *next = NULL;
    bool prev_stays = prev && vcpu_runnable(prev);
    /* Entries whose vCPU was paused after being queued are dropped here (vcpu_sleep_nosync may not have run
     * yet); it requeues them when they become runnable again. */
    while (pc->runq && !next) {
        struct vcpu *c = pc->runq;
        runq_remove(pc, c);
        if (vcpu_runnable(c))
            next = c;
        else
            runstate_change(c, idle_runstate(c));
    }
    if (!next && prev_stays) {
        spin_unlock_irqrestore(&pc->runq_lock, f);
        return;
    }
    if (prev_stays) {
        runstate_change(prev, RUNSTATE_runnable);
        runq_append(pc, prev);
    } else if (prev) {
        runstate_change(prev, idle_runstate(prev));
    }
    if (next) {
        next->is_running = true;
        runstate_change(next, RUNSTATE_running);
    }
    pc->curr = next;
    if (pc->runq)
        timer_set(&slice_timer[pc->cpu], now_ns() + slice_ns(next ? next : pc->runq));
    else
        timer_stop(&slice_timer[pc->cpu]);
    spin_unlock_irqrestore(&pc->runq_lock, f);
    if (prev == next)
        return;
    context_switch(prev, next);
}

void context_switch_done(struct vcpu *prev)
{
    if (!prev || prev == this_cpu()->curr)
        return;
    __atomic_store_n(&prev->is_running, false, __ATOMIC_SEQ_CST);
    /* A wake-up that came while prev was leaving saw it still running and queued nothing (vcpu_wake()): look
     * again now that it has left. */
    if (vcpu_runnable(prev))
        vcpu_wake(prev);
}

__noreturn void sched_run(void)
{
    struct percpu *pc = this_cpu();
    for (;;) {
        local_irq_disable();
        if (pc->softirq_pending || pc->runq) {
            local_irq_enable();
            __atomic_or_fetch(&pc->softirq_pending, 1u << SOFTIRQ_SCHEDULE, __ATOMIC_SEQ_CST);
            do_softirq();
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
