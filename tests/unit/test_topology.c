/* APIC ID field widths from CPUID (arch/x86/topology_shifts.c), for the CPUs QEMU and real parts present. */
#include "testlib.h"
#include "vesta/topology.h"

/* A scripted CPU: a small table of (leaf, subleaf) -> registers; anything else reads as zeros. */
struct fake_leaf {
    uint32_t leaf, sub, r[4];
};
static const struct fake_leaf *fake;
static unsigned int nfake;

static void fake_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    r[0] = r[1] = r[2] = r[3] = 0;
    for (unsigned int i = 0; i < nfake; i++)
        if (fake[i].leaf == leaf && fake[i].sub == sub)
            memcpy(r, fake[i].r, sizeof(fake[i].r));
}

#define AMD 0x68747541, 0x444d4163, 0x69746e65 /* ebx, ecx, edx */
#define INTEL 0x756e6547, 0x6c65746e, 0x49656e69

static struct topo_shifts run(const struct fake_leaf *t, unsigned int n)
{
    struct topo_shifts s = {99, 99};
    fake = t;
    nfake = n;
    topology_shifts(fake_cpuid, &s);
    return s;
}

TEST(topology_intel_leaf_b)
{
    /* 2 threads per core (shift 1), 8 cores per package (shift 4). */
    static const struct fake_leaf t[] = {
        {0, 0, {0x16, INTEL}},
        {0xb, 0, {1, 2, 0x100, 0}},
        {0xb, 1, {4, 16, 0x201, 0}},
        {0xb, 2, {0, 0, 2, 0}},
    };
    struct topo_shifts s = run(t, 4);
    CHECK_EQ(s.smt_shift, 1);
    CHECK_EQ(s.pkg_shift, 4);
    struct cpu_topo c;
    topology_decode(0x13, &s, &c); /* package 1, core 1, thread 1 */
    CHECK_EQ(c.socket, 1);
    CHECK_EQ(c.core, 1);
    CHECK_EQ(c.thread, 1);
}

TEST(topology_leaf_b_absent_falls_back)
{
    /* Leaf 0xb exists by max leaf but reports nothing; HTT with 4 logical, 2 cores per package. */
    static const struct fake_leaf t[] = {
        {0, 0, {0xd, INTEL}},
        {1, 0, {0, 4 << 16, 0, 1u << 28}},
        {4, 0, {1u << 26, 0, 0, 0}},
    };
    struct topo_shifts s = run(t, 3);
    CHECK_EQ(s.pkg_shift, 2);
    CHECK_EQ(s.smt_shift, 1);
}

TEST(topology_amd_qemu_two_cores)
{
    /* QEMU TCG's family 15 CPU with -smp 2: 0x80000008 ECX says 2 cores, ID field of 1 bit (or derived). */
    static const struct fake_leaf t[] = {
        {0, 0, {0xd, AMD}},
        {1, 0, {0x60fb1, 2 << 16, 0, 1u << 28}},
        {0x80000000, 0, {0x8000000a, AMD}},
        {0x80000008, 0, {0x3028, 0, 0x1, 0}},
    };
    struct topo_shifts s = run(t, 4);
    CHECK_EQ(s.smt_shift, 0);
    CHECK_EQ(s.pkg_shift, 1);
    struct cpu_topo c;
    topology_decode(1, &s, &c);
    CHECK_EQ(c.socket, 0);
    CHECK_EQ(c.core, 1);
    CHECK_EQ(c.thread, 0);
}

TEST(topology_amd_topoext_threads)
{
    /* Zen-like: ApicIdCoreIdSize 4, TOPOEXT, 2 threads per core. */
    static const struct fake_leaf t[] = {
        {0, 0, {0x10, AMD}},
        {0x80000000, 0, {0x80000020, AMD}},
        {0x80000001, 0, {0, 0, 1u << 22, 0}},
        {0x80000008, 0, {0, 0, (4 << 12) | 15, 0}},
        {0x8000001e, 0, {0, 1 << 8, 0, 0}},
    };
    struct topo_shifts s = run(t, 5);
    CHECK_EQ(s.smt_shift, 1);
    CHECK_EQ(s.pkg_shift, 4);
}

TEST(topology_single_cpu)
{
    static const struct fake_leaf t[] = {{0, 0, {0x4, INTEL}}, {1, 0, {0, 1 << 16, 0, 0}}};
    struct topo_shifts s = run(t, 2);
    CHECK_EQ(s.smt_shift, 0);
    CHECK_EQ(s.pkg_shift, 0);
    struct cpu_topo c;
    topology_decode(5, &s, &c); /* every APIC ID is its own package */
    CHECK_EQ(c.socket, 5);
    CHECK_EQ(c.core, 0);
    CHECK_EQ(c.thread, 0);
}
