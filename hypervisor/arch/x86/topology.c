/* The running machine's CPU topology (vesta/topology.h): the field widths are read once from the boot CPU (all
 * CPUs of a machine report the same), each CPU's place follows from its APIC ID. No locking: the shifts are
 * computed on first use and never change; a racing first use computes the same values. */
#include <vesta/percpu.h>
#include <vesta/topology.h>
#include <vesta/x86.h>

static void native_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) { cpuid_count(leaf, sub, &r[0], &r[1], &r[2], &r[3]); }

static struct topo_shifts shifts;
static bool shifts_ready;

bool cpu_topology(unsigned int cpu, struct cpu_topo *t)
{
    if (cpu >= MAX_CPUS || !percpu[cpu] || !percpu[cpu]->online)
        return false;
    if (!__atomic_load_n(&shifts_ready, __ATOMIC_ACQUIRE)) {
        struct topo_shifts s;
        topology_shifts(native_cpuid, &s);
        shifts = s;
        __atomic_store_n(&shifts_ready, true, __ATOMIC_RELEASE);
    }
    topology_decode(percpu[cpu]->apic_id, &shifts, t);
    return true;
}
