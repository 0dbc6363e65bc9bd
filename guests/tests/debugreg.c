/*
 * debugreg: a PV guest's debug registers are live while it runs.  A data
 * breakpoint set with set_debugreg fires for the guest's own store (#DB,
 * with B0 in the DR6 view that get_debugreg returns); the hypervisor's own
 * write to the same guest memory (a hypercall result) must not bring the
 * hypervisor down -- Xen 4.17 notes that #DB and drops it, so the guest sees
 * no trap and an unchanged DR6.
 */
#include "guest.h"

#define DR6_DEFAULT 0xffff0ff0UL
#define DR7_DEFAULT 0x00000400UL
#define DR7_L0      0x00000001UL
#define DR7_W0_LEN8 0x000d0000UL      /* RW0 = 01 (writes), LEN0 = 10 (8 bytes) */

static volatile uint64_t watched[4] __attribute__((aligned(64)));

static long set_dr(int reg, uint64_t val)
{
    return hypercall_dyn(__HYPERVISOR_set_debugreg, reg, (long)val, 0, 0, 0);
}

static uint64_t get_dr(int reg)
{
    return (uint64_t)hypercall_dyn(__HYPERVISOR_get_debugreg, reg, 0, 0, 0, 0);
}

void test_main(void)
{
    unsigned int before;
    char buf[16];

    trap_set_resumable(1, true);          /* #DB is a trap: resume after the store */
    CHECK_EQ(get_dr(6), DR6_DEFAULT, "DR6 starts at its default");
    CHECK_EQ(get_dr(7), DR7_DEFAULT, "DR7 starts at its default");

    CHECK_EQ(set_dr(0, (uint64_t)&watched[0]), 0, "DR0 = a guest data address");
    CHECK_EQ(set_dr(0, 0xffff800000001000UL), -EPERM, "DR0 in the hypervisor hole -> -EPERM");
    CHECK_EQ(get_dr(0), (uint64_t)&watched[0], "DR0 kept its valid value");
    CHECK_EQ(set_dr(7, DR7_W0_LEN8 | DR7_L0), 0, "DR7 enables a write breakpoint on it");
    CHECK_EQ(get_dr(7), DR7_W0_LEN8 | DR7_L0 | DR7_DEFAULT, "DR7 reads back with its reserved bit");

    /* The guest's own store. */
    before = trap_count;
    watched[0] = 1;
    CHECK_EQ(trap_count, before + 1, "the guest's store raises #DB");
    CHECK_EQ(last_trap.vector, 1, "vector 1");
    CHECK((get_dr(6) & 0xf) == 1, "DR6 view shows B0");
    watched[1] = 2;                       /* outside the watched 8 bytes */
    CHECK_EQ(trap_count, before + 1, "a store next to it does not trap");
    CHECK_EQ(set_dr(6, 0), 0, "reset DR6");
    CHECK_EQ(get_dr(6), DR6_DEFAULT, "DR6 back at its default");

    /* The hypervisor's store into the watched bytes: the extraversion string. */
    before = trap_count;
    CHECK_EQ(hyp_xen_version(XENVER_extraversion, (void *)watched), 0, "hypercall writes the watched bytes");
    memcpy(buf, (const void *)watched, sizeof(buf));
    CHECK(buf[0] != 0 || buf[1] == 0, "extraversion string written");
    CHECK_EQ(trap_count, before, "no #DB reaches the guest for the hypervisor's store");
    CHECK_EQ(get_dr(6), DR6_DEFAULT, "and its DR6 view is unchanged");

    /* Still armed for the guest afterwards. */
    watched[0] = 3;
    CHECK_EQ(trap_count, before + 1, "the breakpoint still fires for the guest");

    /* Disabled: no more traps. */
    CHECK_EQ(set_dr(7, 0), 0, "DR7 = 0");
    before = trap_count;
    watched[0] = 4;
    CHECK_EQ(trap_count, before, "no #DB once DR7 is clear");
    CHECK_EQ(get_dr(7), DR7_DEFAULT, "DR7 reads its default");
}
