/* Sets of physical CPUs, one bit per logical CPU number (percpu[] index).
 *
 * Used where a set must be read by one CPU while others change their own bit in it (a domain's dirty CPUs), so
 * single-bit changes are atomic; whole-set operations are plain and meant for private copies. */
#ifndef VESTA_CPUMASK_H
#define VESTA_CPUMASK_H

#include <vesta/types.h>

#define CPUMASK_BITS 256 /* MAX_CPUS (percpu.h); checked there */
#define CPUMASK_WORDS (CPUMASK_BITS / 64)

struct cpumask {
    uint64_t bits[CPUMASK_WORDS];
};

static inline void cpumask_clear_all(struct cpumask *m)
{
    for (unsigned int i = 0; i < CPUMASK_WORDS; i++)
        m->bits[i] = 0;
}

static inline bool cpumask_test(const struct cpumask *m, unsigned int cpu)
{
    return (__atomic_load_n(&m->bits[cpu / 64], __ATOMIC_RELAXED) >> (cpu % 64)) & 1;
}

static inline void cpumask_set(struct cpumask *m, unsigned int cpu) { m->bits[cpu / 64] |= 1UL << (cpu % 64); }
static inline void cpumask_clear(struct cpumask *m, unsigned int cpu) { m->bits[cpu / 64] &= ~(1UL << (cpu % 64)); }

/* Atomic single-bit changes, full barriers: a CPU announcing itself in a shared set before it loads state that
 * the set's readers must then cover. */
static inline void cpumask_set_atomic(struct cpumask *m, unsigned int cpu)
{
    __atomic_fetch_or(&m->bits[cpu / 64], 1UL << (cpu % 64), __ATOMIC_SEQ_CST);
}
static inline void cpumask_clear_atomic(struct cpumask *m, unsigned int cpu)
{
    __atomic_fetch_and(&m->bits[cpu / 64], ~(1UL << (cpu % 64)), __ATOMIC_SEQ_CST);
}

/* A snapshot of a shared set, word by word. */
static inline void cpumask_copy(struct cpumask *dst, const struct cpumask *src)
{
    for (unsigned int i = 0; i < CPUMASK_WORDS; i++)
        dst->bits[i] = __atomic_load_n(&src->bits[i], __ATOMIC_ACQUIRE);
}

static inline void cpumask_and(struct cpumask *dst, const struct cpumask *a, const struct cpumask *b)
{
    for (unsigned int i = 0; i < CPUMASK_WORDS; i++)
        dst->bits[i] = a->bits[i] & b->bits[i];
}

static inline bool cpumask_empty(const struct cpumask *m)
{
    uint64_t any = 0;
    for (unsigned int i = 0; i < CPUMASK_WORDS; i++)
        any |= m->bits[i];
    return !any;
}

/* Whether m holds no CPU other than `cpu` (which it may or may not hold): the common case of a flush that needs
 * no IPI. */
static inline bool cpumask_subset_of_one(const struct cpumask *m, unsigned int cpu)
{
    uint64_t others = 0;
    for (unsigned int i = 0; i < CPUMASK_WORDS; i++) {
        uint64_t w = __atomic_load_n(&m->bits[i], __ATOMIC_RELAXED);
        others |= i == cpu / 64 ? w & ~(1UL << (cpu % 64)) : w;
    }
    return !others;
}

static inline unsigned int cpumask_weight(const struct cpumask *m)
{
    unsigned int n = 0;
    for (unsigned int i = 0; i < CPUMASK_WORDS; i++)
        n += (unsigned int)__builtin_popcountll(m->bits[i]);
    return n;
}

/* The first CPU in m at or after `from`, or CPUMASK_BITS. */
static inline unsigned int cpumask_next(const struct cpumask *m, unsigned int from)
{
    for (unsigned int i = from / 64; i < CPUMASK_WORDS; i++) {
        uint64_t w = m->bits[i];
        if (i == from / 64)
            w &= ~0UL << (from % 64);
        if (w)
            return i * 64 + (unsigned int)__builtin_ctzll(w);
    }
    return CPUMASK_BITS;
}

#define for_each_cpu_in(cpu, m) \
    for (unsigned int cpu = cpumask_next((m), 0); cpu < CPUMASK_BITS; cpu = cpumask_next((m), cpu + 1))

#endif
