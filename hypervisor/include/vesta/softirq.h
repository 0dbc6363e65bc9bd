/* Softirqs: work a CPU owes, done on its way back to a guest or in its idle loop, with interrupts enabled and no
 * lock held (common/softirq.c). Interrupt handlers and other CPUs raise them. */
#ifndef VESTA_SOFTIRQ_H
#define VESTA_SOFTIRQ_H

#define SOFTIRQ_SCHEDULE 1 /* pick what runs next (sched.c) */
#define SOFTIRQ_DEBUGKEY 2 /* run the debug keys that must not run in an interrupt (debugkeys.c) */

void raise_softirq(unsigned int cpu, unsigned int nr); /* another CPU is poked with an IPI */
void do_softirq(void);                                  /* runs every pending one of this CPU */

#endif
