/* Softirqs (vesta/softirq.h): the per-CPU pending word, and one place that runs what is pending. Handlers run with
 * interrupts enabled; one may raise another (the scheduler runs last, as it may switch away for good). */
#include <vesta/console.h>
#include <vesta/percpu.h>
#include <vesta/sched.h>
#include <vesta/setup.h>
#include <vesta/softirq.h>

void raise_softirq(unsigned int cpu, unsigned int nr)
{
    __atomic_or_fetch(&percpu[cpu]->softirq_pending, 1u << nr, __ATOMIC_SEQ_CST);
    if (cpu != smp_processor_id())
        smp_send_event_check(cpu);
}

static bool take(unsigned int nr)
{
    return __atomic_fetch_and(&this_cpu()->softirq_pending, ~(1u << nr), __ATOMIC_SEQ_CST) & (1u << nr);
}

void do_softirq(void)
{
    if (take(SOFTIRQ_DEBUGKEY))
        debugkeys_run_deferred();
    if (take(SOFTIRQ_SCHEDULE))
        schedule();
}
