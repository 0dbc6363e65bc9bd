/* Decoding the APIC ID field widths from CPUID (vesta/topology.h). Pure: the CPUID results come from the
 * caller, so the host tests can play any CPU.
 *
 * The sources, in the order tried:
 *   leaf 0xB (x2APIC topology, Intel and recent AMD): each level gives the shift to the next level's ID;
 *   AMD leaf 0x80000008 ECX (cores per package and the width of their ID field), with leaf 0x8000001E EBX for
 *     threads per core when TOPOEXT is set;
 *   leaf 1 EBX[23:16] (logical processors per package, when HTT is set) with leaf 4 EAX[31:26] (cores).
 * With none of them the CPU is one thread of one core, and the whole APIC ID numbers the package. */
#include <vesta/topology.h>

/* Bits needed to number n items (0 for n <= 1). */
static unsigned int id_bits(uint32_t n)
{
    unsigned int b = 0;
    while (b < 32 && (1ULL << b) < n)
        b++;
    return b;
}

static bool leaf_b_shifts(topo_cpuid_fn fn, struct topo_shifts *s)
{
    uint32_t r[4];
    fn(0xb, 0, r);
    if (!r[1]) /* no logical processors at level 0: the leaf is not implemented */
        return false;
    s->smt_shift = s->pkg_shift = 0;
    for (uint32_t sub = 0; sub < 8; sub++) {
        fn(0xb, sub, r);
        unsigned int type = (r[2] >> 8) & 0xff, shift = r[0] & 0x1f;
        if (!type)
            break;
        if (type == 1) /* SMT level */
            s->smt_shift = shift;
        s->pkg_shift = shift; /* the last level's shift moves past the package's own bits */
    }
    return true;
}

static bool amd_shifts(topo_cpuid_fn fn, uint32_t max_extd, struct topo_shifts *s)
{
    uint32_t r[4];
    if (max_extd < 0x80000008)
        return false;
    fn(0x80000008, 0, r);
    unsigned int bits = (r[2] >> 12) & 0xf;
    if (!bits)
        bits = id_bits((r[2] & 0xff) + 1);
    s->pkg_shift = bits;
    s->smt_shift = 0;
    fn(0x80000001, 0, r);
    if ((r[2] & (1u << 22)) && max_extd >= 0x8000001e) { /* TOPOEXT */
        fn(0x8000001e, 0, r);
        unsigned int smt = id_bits(((r[1] >> 8) & 0xff) + 1);
        s->smt_shift = smt < bits ? smt : bits;
    }
    return true;
}

void topology_shifts(topo_cpuid_fn fn, struct topo_shifts *s)
{
    uint32_t r[4], max_basic, max_extd;
    fn(0, 0, r);
    max_basic = r[0];
    bool amd = r[1] == 0x68747541 && r[3] == 0x69746e65 && r[2] == 0x444d4163;
    fn(0x80000000, 0, r);
    max_extd = (r[0] & 0xffff0000) == 0x80000000 ? r[0] : 0;

    if (max_basic >= 0xb && leaf_b_shifts(fn, s))
        return;
    if (amd && amd_shifts(fn, max_extd, s))
        return;
    s->smt_shift = s->pkg_shift = 0;
    if (max_basic < 1)
        return;
    fn(1, 0, r);
    uint32_t logical = (r[1] >> 16) & 0xff;
    if (!(r[3] & (1u << 28)) || logical <= 1) /* no HTT: one logical processor per package */
        return;
    uint32_t cores = 1;
    if (max_basic >= 4) {
        fn(4, 0, r);
        cores = ((r[0] >> 26) & 0x3f) + 1;
    }
    s->pkg_shift = id_bits(logical);
    s->smt_shift = id_bits(logical / cores ? logical / cores : 1);
    if (s->smt_shift > s->pkg_shift)
        s->smt_shift = s->pkg_shift;
}
