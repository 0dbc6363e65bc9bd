/* CPU topology: the package (socket), core and thread each CPU is, read from its APIC ID.
 *
 * An APIC ID is split into fields by two shifts the boot CPU's CPUID reports: the bits below smt_shift number
 * the threads of a core, the bits from smt_shift to pkg_shift the cores of a package, and the bits above the
 * package. Every CPU of a machine reports the same shifts, so they are read once.
 *
 * topology_shifts() is pure (given a CPUID function) and host-tested; cpu_topology() (arch/x86/topology.c)
 * applies it to the running machine's CPUs. */
#ifndef VESTA_TOPOLOGY_H
#define VESTA_TOPOLOGY_H

#include <vesta/types.h>

struct topo_shifts {
    unsigned int smt_shift, pkg_shift;
};

struct cpu_topo {
    uint32_t socket, core, thread;
};

/* fn(leaf, subleaf, {eax, ebx, ecx, edx}) runs CPUID on the CPU whose layout is wanted. */
typedef void (*topo_cpuid_fn)(uint32_t leaf, uint32_t sub, uint32_t r[4]);
void topology_shifts(topo_cpuid_fn fn, struct topo_shifts *s);

static inline void topology_decode(uint32_t apic_id, const struct topo_shifts *s, struct cpu_topo *t)
{
    /* Shifts are at most 32 (leaf 0xB gives 5-bit ones): the masks are built in 64 bits. */
    t->thread = apic_id & (uint32_t)((1ULL << s->smt_shift) - 1);
    t->core = (uint32_t)(((uint64_t)apic_id >> s->smt_shift) & ((1ULL << (s->pkg_shift - s->smt_shift)) - 1));
    t->socket = (uint32_t)((uint64_t)apic_id >> s->pkg_shift);
}

/* Topology of logical CPU cpu (which must be online): false if it is not. */
bool cpu_topology(unsigned int cpu, struct cpu_topo *t);

#endif
