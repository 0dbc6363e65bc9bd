/* TLB shootdown, and knowing when none is needed.
 *
 * Dirty sets. A CPU's TLB can hold translations of one guest domain at a time: the one whose page tables it
 * last loaded (percpu->tlb_domain). Going idle keeps them (the idle page tables have no guest half, but guest
 * global entries would survive), so the CPU stays in that domain's dirty set. Switching to another domain
 * flushes everything, global entries included, and only then leaves the old domain's set. A flush for a domain
 * reaches exactly the CPUs in its dirty set.
 *
 * The TLB clock (Xen's design). Removing a guest's translation does not flush by itself: the guest flushes when
 * it needs to, as on real hardware and on Xen. A stale entry only matters to the hypervisor when the frame
 * behind it changes use: it is freed (and may go to another domain or the hypervisor), or a frame the guest
 * could write becomes a page table or descriptor page. Such events are stamped with the clock (tlb_stamp());
 * every full flush ticks the clock and records, per CPU, the tick at which it began. A CPU whose last full flush
 * began at or after a stamp cannot hold a translation removed before that stamp, so it is left alone
 * (tlb_filter()). */
#include <vesta/cpumask.h>
#include <vesta/domain.h>
#include <vesta/lib.h>
#include <vesta/percpu.h>
#include <vesta/pv.h>
#include <vesta/setup.h>
#include <vesta/x86.h>

static uint64_t tlb_clock = 1; /* stamps start at 1, so a CPU that never flushed (time 0) is before all */

uint64_t tlb_stamp(void) { return __atomic_load_n(&tlb_clock, __ATOMIC_SEQ_CST); }

void flush_tlb_local(void)
{
    unsigned long flags = local_irq_save();
    uint64_t t = __atomic_fetch_add(&tlb_clock, 1, __ATOMIC_SEQ_CST); /* before the flush: see tlb_filter() */
    hw_flush_tlb_all();
    struct percpu *pc = this_cpu();
    if (pc) {
        __atomic_store_n(&pc->tlb_flush_time, t, __ATOMIC_RELEASE);
        pc->tlb_flushes++;
    }
    local_irq_restore(flags);
}

/* A flush that took tick t began after a stamp s was read iff t >= s: the clock was at least s when the flush
 * took its tick, and stamps are read without ticking. */
void tlb_filter(struct cpumask *mask, uint64_t stamp)
{
    for_each_cpu_in(cpu, mask)
        if (!percpu[cpu] || __atomic_load_n(&percpu[cpu]->tlb_flush_time, __ATOMIC_ACQUIRE) >= stamp)
            cpumask_clear(mask, cpu);
}

static void flush_ipi(void *unused)
{
    (void)unused;
    flush_tlb_local();
}

void flush_tlb_mask(const struct cpumask *mask)
{
    unsigned int me = smp_processor_id();
    if (cpumask_test(mask, me))
        flush_tlb_local();
    if (!cpumask_subset_of_one(mask, me))
        smp_call_function_mask(mask, flush_ipi, NULL);
}

void flush_tlb_domain(struct domain *d) { flush_tlb_mask(&d->dirty_cpus); }

static void invlpg_ipi(void *va) { invlpg(va); }

void flush_tlb_one_mask(const struct cpumask *mask, uint64_t va)
{
    unsigned int me = smp_processor_id();
    if (cpumask_test(mask, me))
        invlpg((void *)va);
    if (!cpumask_subset_of_one(mask, me))
        smp_call_function_mask(mask, invlpg_ipi, (void *)va);
}

bool flush_dropped_writables(struct domain *d, bool may_ipi)
{
    struct cpumask cpus;
    cpumask_copy(&cpus, &d->dirty_cpus);
    tlb_filter(&cpus, __atomic_load_n(&d->tlb_writable_dropped, __ATOMIC_ACQUIRE));
    if (!may_ipi && !cpumask_subset_of_one(&cpus, smp_processor_id()))
        return false;
    if (!cpumask_empty(&cpus))
        flush_tlb_mask(&cpus);
    return true;
}

void flush_tlb_for_reuse(uint64_t stamp)
{
    if (!stamp)
        return;
    struct cpumask cpus;
    cpumask_online(&cpus);
    tlb_filter(&cpus, stamp);
    if (!cpumask_empty(&cpus))
        flush_tlb_mask(&cpus);
}

void tlb_note_writable_drop(struct domain *d)
{
    uint64_t now = tlb_stamp(), seen = __atomic_load_n(&d->tlb_writable_dropped, __ATOMIC_RELAXED);
    while (seen < now &&
           !__atomic_compare_exchange_n(&d->tlb_writable_dropped, &seen, now, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_RELAXED))
        ;
}

void tlb_enter_domain_begin(struct domain *d)
{
    struct percpu *pc = this_cpu();
    if (pc->tlb_domain != d)
        cpumask_set_atomic(&d->dirty_cpus, pc->cpu); /* before the first translation of d can be cached */
}

void tlb_enter_domain_end(struct domain *d)
{
    struct percpu *pc = this_cpu();
    struct domain *old = pc->tlb_domain;
    if (old == d)
        return;
    flush_tlb_local(); /* old's global entries too */
    if (old)
        cpumask_clear_atomic(&old->dirty_cpus, pc->cpu);
    pc->tlb_domain = d;
}

/* d is going away: no CPU may keep it as the domain its TLB holds (tlb_enter_domain_end() would write into it).
 * Each CPU that does flushes and forgets it; the CPU's next guest then finds no previous domain to leave. */
static void forget_domain_here(void *arg)
{
    struct domain *d = arg;
    struct percpu *pc = this_cpu();
    if (pc->tlb_domain != d)
        return;
    flush_tlb_local();
    cpumask_clear_atomic(&d->dirty_cpus, pc->cpu);
    pc->tlb_domain = NULL;
}

void tlb_forget_domain(struct domain *d)
{
    unsigned long f = local_irq_save();
    forget_domain_here(d);
    local_irq_restore(f);
    struct cpumask cpus;
    cpumask_copy(&cpus, &d->dirty_cpus);
    smp_call_function_mask(&cpus, forget_domain_here, d);
}
