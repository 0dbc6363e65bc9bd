/* TLB shootdown and the TLB clock (arch/x86/flushtlb.c explains both). */
#ifndef VESTA_FLUSHTLB_H
#define VESTA_FLUSHTLB_H

#include <vesta/cpumask.h>
#include <vesta/types.h>

struct domain;

void flush_tlb_domain(struct domain *d);        /* every CPU that may hold d's translations */
void flush_tlb_mask(const struct cpumask *mask); /* these CPUs, this one included if in mask */
void flush_tlb_one_mask(const struct cpumask *mask, uint64_t va); /* one page (canonical va) on these CPUs */
uint64_t tlb_stamp(void);                        /* the clock now: stamp an event */
void tlb_filter(struct cpumask *mask, uint64_t stamp); /* drops CPUs that fully flushed since stamp */
/* Before a frame of d becomes a page table or descriptor page: the CPUs of d's dirty set that have not flushed
 * since d last lost a writable translation. With !may_ipi (interrupts off), returns false instead when another
 * CPU would need an IPI; true once done. */
bool flush_dropped_writables(struct domain *d, bool may_ipi);
void flush_tlb_for_reuse(uint64_t stamp); /* a frame freed at stamp is reused: every CPU not flushed since */
void tlb_note_writable_drop(struct domain *d); /* d lost a writable L1 translation: stamps d */
/* Around loading a vCPU's page tables: join d's dirty set first; after, flush if the CPU held another domain. */
void tlb_enter_domain_begin(struct domain *d);
void tlb_enter_domain_end(struct domain *d);
void tlb_forget_domain(struct domain *d); /* d is destroyed: no CPU keeps it as its TLB's domain */

#endif
