/* Ticket spinlocks: FIFO fair, so no CPU starves under contention. */
#ifndef VESTA_SPINLOCK_H
#define VESTA_SPINLOCK_H

#include <vesta/x86.h>

typedef struct {
    volatile uint16_t next;
    volatile uint16_t owner;
} spinlock_t;

#define SPINLOCK_INIT {0, 0}

static inline void spin_lock(spinlock_t *l)
{
    uint16_t me = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
    while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me)
        cpu_relax();
}
static inline bool spin_trylock(spinlock_t *l)
{
    uint16_t owner = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
    uint16_t expect = owner;
    return __atomic_compare_exchange_n(&l->next, &expect, (uint16_t)(owner + 1), false, __ATOMIC_ACQUIRE,
                                       __ATOMIC_RELAXED);
}
static inline void spin_unlock(spinlock_t *l)
{
    __atomic_store_n(&l->owner, (uint16_t)(l->owner + 1), __ATOMIC_RELEASE);
}
static inline bool spin_is_locked(spinlock_t *l) { return l->next != l->owner; }
static inline unsigned long spin_lock_irqsave(spinlock_t *l)
{
    unsigned long f = local_irq_save();
    spin_lock(l);
    return f;
}
static inline void spin_unlock_irqrestore(spinlock_t *l, unsigned long f)
{
    spin_unlock(l);
    local_irq_restore(f);
}

#endif
