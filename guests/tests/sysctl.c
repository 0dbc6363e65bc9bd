/*
 * sysctl: the toolstack's host-wide hypercall as dom0 sees it: the
 * preamble (bad pointer, interface version, unknown command), physinfo,
 * sched_id, cpupool INFO/FREEINFO, numainfo, cputopoinfo, pcitopoinfo,
 * readconsole (plain, incremental, clearing, bad buffer),
 * get_cpu_featureset and get_cpu_policy, plus the memory-sharing
 * counters of memory_op.  Everything checked must hold on Xen 4.17 too.
 *
 * run_guests.py boots this test with -smp 2 and console_to_ring, and
 * passes the CPU count as vesta-smp=N on the command line.
 */
#include "guest.h"
#include <sysctl.h>

#define NONCANON ((void *)0x8000000000000000UL)
#define NA XEN_CPUID_NO_SUBLEAF
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
/* Leaf 1 EDX features AMD repeats in 0x80000001 EDX; Xen's featuresets leave them out of that word. */
#define COMMON_1D 0x0183f3ffu

static long hyp_sysctl(void *op)
{ return hypercall1(__HYPERVISOR_sysctl, op); }

static void fcpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    uint32_t a = leaf, b, c = sub, d;
    asm volatile ("ud2; .ascii \"xen\"; cpuid"
                  : "+a" (a), "=b" (b), "+c" (c), "=d" (d));
    r[0] = a; r[1] = b; r[2] = c; r[3] = d;
}

static struct xen_sysctl sc;

static void prep(uint32_t cmd)
{
    memset(&sc, 0, sizeof(sc));
    sc.cmd = cmd;
    sc.interface_version = XEN_SYSCTL_INTERFACE_VERSION;
}

static unsigned int expected_cpus(void)
{
    const char *s = strstr((const char *)start_info->cmd_line, "vesta-smp=");
    return s ? (unsigned int)(s[10] - '0') : 1;
}

static unsigned int popcount8(uint8_t b)
{
    unsigned int n = 0;
    for (; b; b &= b - 1)
        n++;
    return n;
}

/* ---- preamble ---------------------------------------------------------- */

static void test_preamble(void)
{
    CHECK_EQ(hyp_sysctl(NONCANON), -EFAULT, "unreadable argument: -EFAULT");
    CHECK_EQ(hyp_sysctl(NULL), -EFAULT, "null argument: -EFAULT");

    prep(XEN_SYSCTL_physinfo);
    sc.interface_version = 0x14;
    CHECK_EQ(hyp_sysctl(&sc), -EACCES, "older interface version: -EACCES");
    sc.interface_version = 0x16;
    CHECK_EQ(hyp_sysctl(&sc), -EACCES, "newer interface version: -EACCES");
    prep(12345);
    sc.interface_version = 0;
    CHECK_EQ(hyp_sysctl(&sc), -EACCES, "version checked before the command");
    prep(12345);
    CHECK_EQ(hyp_sysctl(&sc), -ENOSYS, "unknown command: -ENOSYS");
    prep(XEN_SYSCTL_debug_keys);
    CHECK_EQ(hyp_sysctl(&sc), 0, "debug_keys with no keys");
}

/* ---- physinfo, sched_id, cpupools, topology ----------------------------- */

static struct xen_sysctl_physinfo pi;

static void test_physinfo(void)
{
    uint32_t r[4];
    prep(XEN_SYSCTL_physinfo);
    memset(&sc.u, 0xa5, sizeof(sc.u));
    CHECK_EQ(hyp_sysctl(&sc), 0, "physinfo");
    pi = sc.u.physinfo;
    printf("  physinfo: %u CPUs (max id %u), %u thread(s)/core, %u core(s)/socket, %u node(s) (max id %u), "
           "%u kHz, caps %#x\n", pi.nr_cpus, pi.max_cpu_id, pi.threads_per_core, pi.cores_per_socket,
           pi.nr_nodes, pi.max_node_id, pi.cpu_khz, pi.capabilities);
    printf("  physinfo: pages total %lu free %lu scrub %lu outstanding %lu, max_mfn %#lx\n",
           (unsigned long)pi.total_pages, (unsigned long)pi.free_pages, (unsigned long)pi.scrub_pages,
           (unsigned long)pi.outstanding_pages, (unsigned long)pi.max_mfn);
    CHECK_EQ(pi.nr_cpus, expected_cpus(), "nr_cpus is QEMU's -smp");
    CHECK(pi.max_cpu_id + 1 >= pi.nr_cpus, "max_cpu_id covers the online CPUs");
    CHECK(pi.threads_per_core >= 1 && pi.cores_per_socket >= 1, "at least one thread and core");
    CHECK(pi.threads_per_core * pi.cores_per_socket <= pi.nr_cpus, "CPU 0's package fits the CPUs");
    CHECK_EQ(pi.nr_nodes, 1, "one NUMA node");
    CHECK(pi.max_node_id + 1 >= pi.nr_nodes, "max_node_id covers the nodes");
    fcpuid(0x40000003, 2, r);
    CHECK(pi.cpu_khz > 100000 && pi.cpu_khz / 50 > (pi.cpu_khz > r[0] ? pi.cpu_khz - r[0] : r[0] - pi.cpu_khz),
          "cpu_khz within 2% of the TSC frequency in CPUID 0x40000003.2");
    CHECK((pi.total_pages << 12) > (400UL << 20) && (pi.total_pages << 12) <= (512UL << 20),
          "total_pages is QEMU's 512 MiB less firmware holes");
    CHECK(pi.free_pages > 0 && pi.free_pages < pi.total_pages, "free_pages below total");
    CHECK(pi.scrub_pages <= pi.free_pages, "scrub_pages no more than free");
    CHECK_EQ(pi.outstanding_pages, 0, "no claims outstanding");
    CHECK(pi.max_mfn + 1 >= pi.total_pages && pi.max_mfn < (1UL << 40), "max_mfn covers RAM");
    CHECK(pi.capabilities & XEN_SYSCTL_PHYSCAP_pv, "PV capability");
    CHECK(pi.capabilities & XEN_SYSCTL_PHYSCAP_gnttab_v1, "grant table v1 capability");
    CHECK(pi.capabilities & XEN_SYSCTL_PHYSCAP_gnttab_v2, "grant table v2 capability");
    CHECK_EQ(pi.arch_capabilities, 0, "no x86 arch capabilities");
    CHECK_EQ(pi.pad, 0, "pad cleared");

    /* What this dom0 sees through CPUID comes from the host's features. */
    fcpuid(1, 0, r);
    CHECK_EQ(r[3] & ~pi.hw_cap[0], 0, "CPUID 1.EDX within hw_cap[0]");
    fcpuid(0x80000001, 0, r);
    CHECK_EQ(r[3] & ~COMMON_1D & ~pi.hw_cap[2], 0, "CPUID 0x80000001.EDX within hw_cap[2]");
    printf("  hw_cap:");
    for (unsigned int i = 0; i < 8; i++)
        printf(" %08x", pi.hw_cap[i]);
    printf("\n");
    fcpuid(7, 0, r);
    CHECK_EQ(r[1] & ~pi.hw_cap[5], 0, "CPUID 7.0.EBX within hw_cap[5]");
}

static void test_sched_and_pools(void)
{
    uint8_t map[32];
    prep(XEN_SYSCTL_sched_id);
    CHECK_EQ(hyp_sysctl(&sc), 0, "sched_id");
    uint32_t sched = sc.u.sched_id.sched_id;
    printf("  scheduler id %u\n", sched);
    CHECK(sched >= XEN_SCHEDULER_CREDIT && sched <= XEN_SCHEDULER_NULL, "scheduler id one the toolstack knows");

    prep(XEN_SYSCTL_cpupool_op);
    sc.u.cpupool_op.op = XEN_SYSCTL_CPUPOOL_OP_INFO;
    memset(map, 0xff, sizeof(map));
    xen_set_guest_handle(sc.u.cpupool_op.cpumap.bitmap, map);
    sc.u.cpupool_op.cpumap.nr_bits = 8 * sizeof(map);
    CHECK_EQ(hyp_sysctl(&sc), 0, "cpupool INFO from 0");
    CHECK_EQ(sc.u.cpupool_op.cpupool_id, 0, "first pool is 0");
    CHECK_EQ(sc.u.cpupool_op.sched_id, sched, "pool 0 runs the scheduler sched_id names");
    CHECK(sc.u.cpupool_op.n_dom >= 1, "pool 0 holds dom0");
    unsigned int set = 0, beyond = 0;
    for (unsigned int i = 0; i < sizeof(map); i++) {
        set += popcount8(map[i]);
        if (i * 8 >= pi.max_cpu_id + 1)
            beyond |= map[i];
    }
    CHECK_EQ(set, pi.nr_cpus, "pool 0 has every online CPU");
    CHECK_EQ(map[0] & 1, 1, "CPU 0 in pool 0");
    CHECK_EQ(beyond, 0, "cpumap zero-filled beyond the host's CPUs");

    prep(XEN_SYSCTL_cpupool_op);
    sc.u.cpupool_op.op = XEN_SYSCTL_CPUPOOL_OP_INFO;
    sc.u.cpupool_op.cpupool_id = 1;
    CHECK_EQ(hyp_sysctl(&sc), -ENOENT, "cpupool INFO past the last pool: -ENOENT");

    prep(XEN_SYSCTL_cpupool_op);
    sc.u.cpupool_op.op = XEN_SYSCTL_CPUPOOL_OP_FREEINFO;
    memset(map, 0xff, sizeof(map));
    xen_set_guest_handle(sc.u.cpupool_op.cpumap.bitmap, map);
    sc.u.cpupool_op.cpumap.nr_bits = 8 * sizeof(map);
    CHECK_EQ(hyp_sysctl(&sc), 0, "cpupool FREEINFO");
    set = 0;
    for (unsigned int i = 0; i < sizeof(map); i++)
        set += popcount8(map[i]);
    CHECK_EQ(set, 0, "no CPU outside a pool");

    prep(XEN_SYSCTL_cpupool_op);
    sc.u.cpupool_op.op = 99;
    CHECK_EQ(hyp_sysctl(&sc), -ENOSYS, "unknown cpupool op: -ENOSYS");
}

static void test_topology(void)
{
    struct xen_sysctl_cputopo topo[16];
    struct xen_sysctl_meminfo mi[4];
    uint32_t dist[16];

    prep(XEN_SYSCTL_cputopoinfo);
    CHECK_EQ(hyp_sysctl(&sc), 0, "cputopoinfo size query");
    uint32_t n = sc.u.cputopoinfo.num_cpus;
    CHECK_EQ(n, pi.max_cpu_id + 1, "cputopoinfo covers CPUs 0..max_cpu_id");

    prep(XEN_SYSCTL_cputopoinfo);
    memset(topo, 0xa5, sizeof(topo));
    sc.u.cputopoinfo.num_cpus = 16;
    xen_set_guest_handle(sc.u.cputopoinfo.cputopo, topo);
    CHECK_EQ(hyp_sysctl(&sc), 0, "cputopoinfo");
    CHECK_EQ(sc.u.cputopoinfo.num_cpus, n, "cputopoinfo wrote one entry per CPU");
    unsigned int in_pkg0 = 0, valid = 0;
    for (unsigned int i = 0; i < n && i < 16; i++) {
        printf("  CPU%u: socket %u core %u node %u\n", i, topo[i].socket, topo[i].core, topo[i].node);
        if (topo[i].core == XEN_INVALID_CORE_ID)
            continue;
        valid++;
        in_pkg0 += topo[i].socket == topo[0].socket;
        CHECK_EQ(topo[i].node, 0, "every CPU on node 0");
    }
    CHECK_EQ(valid, pi.nr_cpus, "an entry for every online CPU");
    CHECK_EQ(in_pkg0, pi.threads_per_core * pi.cores_per_socket, "CPU 0's package matches physinfo");
    if (n < 16)
        CHECK_EQ(topo[n].core, 0xa5a5a5a5, "nothing written past num_cpus");

    prep(XEN_SYSCTL_cputopoinfo);
    xen_set_guest_handle(sc.u.cputopoinfo.cputopo, topo);
    CHECK_EQ(hyp_sysctl(&sc), 0, "cputopoinfo into an empty array");
    CHECK_EQ(sc.u.cputopoinfo.num_cpus, 0, "no entry fits: num_cpus 0");

    prep(XEN_SYSCTL_numainfo);
    CHECK_EQ(hyp_sysctl(&sc), 0, "numainfo size query");
    CHECK_EQ(sc.u.numainfo.num_nodes, 1, "numainfo: one node");

    prep(XEN_SYSCTL_numainfo);
    memset(mi, 0xa5, sizeof(mi));
    memset(dist, 0xa5, sizeof(dist));
    sc.u.numainfo.num_nodes = 4;
    xen_set_guest_handle(sc.u.numainfo.meminfo, mi);
    xen_set_guest_handle(sc.u.numainfo.distance, dist);
    CHECK_EQ(hyp_sysctl(&sc), 0, "numainfo");
    CHECK_EQ(sc.u.numainfo.num_nodes, 1, "numainfo describes one node");
    printf("  node 0: %lu MiB, %lu MiB free, distance %u\n", (unsigned long)(mi[0].memsize >> 20),
           (unsigned long)(mi[0].memfree >> 20), dist[0]);
    CHECK(mi[0].memsize >= (pi.total_pages << 12), "node 0 spans all RAM");
    CHECK(mi[0].memfree > 0 && mi[0].memfree <= mi[0].memsize, "node 0 free memory");
    CHECK_EQ(dist[0], 10, "local distance 10");
    CHECK_EQ(dist[1], 0xa5a5a5a5, "distance matrix is 1x1");
    CHECK_EQ(mi[1].memsize, 0xa5a5a5a5a5a5a5a5UL, "one meminfo entry");

    prep(XEN_SYSCTL_numainfo);
    sc.u.numainfo.num_nodes = 1;
    xen_set_guest_handle(sc.u.numainfo.distance, NONCANON);
    CHECK_EQ(hyp_sysctl(&sc), -EFAULT, "numainfo into a bad array: -EFAULT");

    struct physdev_pci_device devs[2] = {{0x1234, 0, 0}, {0, 0, 0}};
    uint32_t nodes[2] = {0, 0};
    prep(XEN_SYSCTL_pcitopoinfo);
    sc.u.pcitopoinfo.num_devs = 1;
    xen_set_guest_handle(sc.u.pcitopoinfo.devs, devs);
    CHECK_EQ(hyp_sysctl(&sc), -EINVAL, "pcitopoinfo without a nodes array: -EINVAL");
    xen_set_guest_handle(sc.u.pcitopoinfo.nodes, nodes);
    CHECK_EQ(hyp_sysctl(&sc), 0, "pcitopoinfo");
    CHECK_EQ(sc.u.pcitopoinfo.num_devs, 1, "pcitopoinfo processed the device");
    CHECK_EQ(nodes[0], XEN_INVALID_DEV, "a device in a missing segment is unknown");
}

/* ---- readconsole --------------------------------------------------------- */

static char ring[65536 + 1];
static char more[4096 + 1];

static long readcons(char *buf, uint32_t max, bool incremental, bool clear, uint32_t *index, uint32_t *count)
{
    prep(XEN_SYSCTL_readconsole);
    sc.u.readconsole.incremental = incremental;
    sc.u.readconsole.clear = clear;
    sc.u.readconsole.index = *index;
    sc.u.readconsole.count = max;
    xen_set_guest_handle(sc.u.readconsole.buffer, buf);
    long rc = hyp_sysctl(&sc);
    if (!rc) {
        *index = sc.u.readconsole.index;
        *count = sc.u.readconsole.count;
        if (buf && *count <= max)
            buf[*count] = 0;
    }
    return rc;
}

static void test_readconsole(void)
{
    static xen_commandline_t cmdline;
    uint32_t idx = 0, n = 0, idx2, n2;
    char line[1100];

    CHECK_EQ(hyp_xen_version(XENVER_commandline, cmdline), 0, "XENVER_commandline");
    CHECK_EQ(readcons(ring, sizeof(ring) - 1, false, false, &idx, &n), 0, "readconsole everything");
    printf("  console ring: %u bytes, index %u\n", n, idx);
    CHECK(n > 200, "the ring holds the boot messages");
    snprintf(line, sizeof(line), "Command line: %s\n", cmdline);
    CHECK(strstr(ring, line) != NULL, "ring has the hypervisor's command line line");
    CHECK(strstr(ring, "\r") == NULL, "no carriage returns in the ring");
    CHECK(strstr(ring, "console_to_ring") != NULL, "this boot asked for console_to_ring");

    /* dom0's own output reaches the ring (console_to_ring), and an incremental read returns only what came
     * after the index. */
    const char *marker = "sysctl-test marker one\n";
    hyp_console_write(marker, strlen(marker));
    idx2 = idx;
    CHECK_EQ(readcons(more, sizeof(more) - 1, true, false, &idx2, &n2), 0, "incremental readconsole");
    CHECK(strstr(more, marker) != NULL, "incremental read has the new dom0 output");
    CHECK(strstr(more, "Command line: ") == NULL, "incremental read skips what was read before");
    CHECK_EQ(idx2 - idx, n2, "index advances by the bytes read");

    /* count limits the read, and the index follows. */
    uint32_t idx3 = idx, n3;
    char five[6];
    CHECK_EQ(readcons(five, 5, true, false, &idx3, &n3), 0, "readconsole 5 bytes");
    CHECK_EQ(n3, 5, "count limits the read");
    CHECK_EQ(idx3, idx + 5, "index after 5 bytes");
    CHECK(!memcmp(five, more, 5), "the same 5 bytes as the longer read");
    CHECK_EQ(readcons(five, 0, true, false, &idx3, &n3), 0, "readconsole 0 bytes");
    CHECK_EQ(n3, 0, "count 0 reads nothing");
    CHECK_EQ(idx3, idx + 5, "count 0 leaves the index");

    /* An index outside the ring restarts at the oldest byte. */
    uint32_t far = idx2 + 100000, nf;
    CHECK_EQ(readcons(five, 5, true, false, &far, &nf), 0, "readconsole from an index beyond the end");
    CHECK(!memcmp(five, ring, 5), "an index beyond the end restarts at the oldest byte");

    prep(XEN_SYSCTL_readconsole);
    sc.u.readconsole.count = 100;
    xen_set_guest_handle(sc.u.readconsole.buffer, NONCANON);
    CHECK_EQ(hyp_sysctl(&sc), -EFAULT, "readconsole into a bad buffer: -EFAULT");

    /* A clearing read empties the ring of what it read (xl dmesg -c). */
    uint32_t ci = 0, cn;
    CHECK_EQ(readcons(ring, sizeof(ring) - 1, false, true, &ci, &cn), 0, "readconsole with clear");
    CHECK(strstr(ring, marker) != NULL, "the clearing read still returns the text");
    const char *marker2 = "sysctl-test marker two\n";
    hyp_console_write(marker2, strlen(marker2));
    ci = 0;
    CHECK_EQ(readcons(ring, sizeof(ring) - 1, false, false, &ci, &cn), 0, "readconsole after clear");
    CHECK(strstr(ring, marker2) != NULL, "new output after the clear is there");
    CHECK(strstr(ring, marker) == NULL, "output before the clear is gone");
    CHECK(strstr(ring, "Command line: ") == NULL, "boot messages are gone");
}

/* ---- CPU featuresets and policies ---------------------------------------- */

static uint32_t fs_host[32], fs_pv[32], fs_pvmax[32];
static xen_cpuid_leaf_t leaves[200];
static xen_msr_entry_t msrs[8];

static long featureset(uint32_t index, uint32_t *fs, uint32_t *nr)
{
    prep(XEN_SYSCTL_get_cpu_featureset);
    sc.u.cpu_featureset.index = index;
    sc.u.cpu_featureset.nr_features = *nr;
    xen_set_guest_handle(sc.u.cpu_featureset.features, fs);
    long rc = hyp_sysctl(&sc);
    *nr = sc.u.cpu_featureset.nr_features;
    return rc;
}

static long policy(uint32_t index, uint32_t *nr_leaves, uint32_t *nr_msrs)
{
    prep(XEN_SYSCTL_get_cpu_policy);
    sc.u.cpu_policy.index = index;
    sc.u.cpu_policy.nr_leaves = *nr_leaves;
    sc.u.cpu_policy.nr_msrs = *nr_msrs;
    xen_set_guest_handle(sc.u.cpu_policy.leaves, leaves);
    xen_set_guest_handle(sc.u.cpu_policy.msrs, msrs);
    long rc = hyp_sysctl(&sc);
    *nr_leaves = sc.u.cpu_policy.nr_leaves;
    *nr_msrs = sc.u.cpu_policy.nr_msrs;
    return rc;
}

static bool leaf_within_4_17_limits(const xen_cpuid_leaf_t *l)
{
    switch (l->leaf) {
    case 0x4: return l->subleaf < 6;
    case 0x7: return l->subleaf < 3;
    case 0xb: return l->subleaf < 2;
    case 0xd: return l->subleaf < 63;
    default:
        return l->subleaf == NA && (l->leaf <= 0xd || l->leaf == 0x40000000 || l->leaf == 0x40000100 ||
                                    (l->leaf >= 0x80000000 && l->leaf <= 0x80000021));
    }
}

static void test_featuresets(void)
{
    uint32_t nr = 0;
    prep(XEN_SYSCTL_get_cpu_featureset);
    CHECK_EQ(hyp_sysctl(&sc), 0, "featureset size query");
    nr = sc.u.cpu_featureset.nr_features;
    printf("  featuresets have %u words\n", nr);
    CHECK_EQ(nr, 19, "19 featureset words (Xen 4.17)");

    nr = 32;
    CHECK_EQ(featureset(XEN_SYSCTL_cpu_featureset_host, fs_host, &nr), 0, "host featureset");
    CHECK_EQ(nr, 19, "host featureset: 19 words written");
    /* hw_cap is the host featureset proper; the host policy puts AMD's leaf-1 copies back into word 2. */
    for (unsigned int i = 0; i < 8; i++)
        CHECK_EQ(i == 2 ? fs_host[i] & ~COMMON_1D : fs_host[i], pi.hw_cap[i], "hw_cap is the host featureset");
    nr = 32;
    CHECK_EQ(featureset(XEN_SYSCTL_cpu_featureset_pv, fs_pv, &nr), 0, "PV default featureset");
    nr = 32;
    CHECK_EQ(featureset(XEN_SYSCTL_cpu_featureset_pv_max, fs_pvmax, &nr), 0, "PV max featureset");
    unsigned int outside = 0;
    for (unsigned int i = 0; i < 19; i++)
        outside |= fs_pv[i] & ~fs_pvmax[i];
    CHECK_EQ(outside, 0, "PV default within PV max");
    nr = 32;
    CHECK_EQ(featureset(XEN_SYSCTL_cpu_featureset_raw, fs_host + 19, &nr), 0, "raw featureset");

    uint32_t small[4] = {0, 0, 0, 0};
    nr = 4;
    CHECK_EQ(featureset(XEN_SYSCTL_cpu_featureset_pv, small, &nr), -ENOBUFS, "4-word buffer: -ENOBUFS");
    CHECK_EQ(nr, 4, "nr_features says 4 were written");
    CHECK(!memcmp(small, fs_pv, sizeof(small)), "the first 4 words were written");
    nr = 4;
    CHECK_EQ(featureset(6, small, &nr), -EINVAL, "featureset index 6: -EINVAL");
}

static void test_policies(void)
{
    uint32_t nl = 0, nm = 0, r[4];

    prep(XEN_SYSCTL_get_cpu_policy);
    CHECK_EQ(hyp_sysctl(&sc), 0, "policy size query");
    CHECK_EQ(sc.u.cpu_policy.nr_leaves, 120, "at most 120 leaves");
    CHECK_EQ(sc.u.cpu_policy.nr_msrs, 2, "at most 2 MSRs");

    prep(XEN_SYSCTL_get_cpu_policy);
    sc.u.cpu_policy._rsvd = 1;
    CHECK_EQ(hyp_sysctl(&sc), -EINVAL, "reserved field set: -EINVAL");
    nl = nm = 0;
    CHECK_EQ(policy(6, &nl, &nm), -EINVAL, "policy index 6: -EINVAL");

    static const uint32_t idx[] = {XEN_SYSCTL_cpu_policy_raw, XEN_SYSCTL_cpu_policy_host,
                                   XEN_SYSCTL_cpu_policy_pv_max, XEN_SYSCTL_cpu_policy_pv_default};
    for (unsigned int k = 0; k < ARRAY_LEN(idx); k++) {
        nl = ARRAY_LEN(leaves);
        nm = ARRAY_LEN(msrs);
        CHECK_EQ(policy(idx[k], &nl, &nm), 0, "get policy");
        CHECK(nl > 10 && nl <= 120, "leaf count within 120");
        CHECK_EQ(nm, 2, "two MSRs");
        bool limits = true, order = true;
        for (unsigned int i = 0; i < nl; i++) {
            limits &= idx[k] == XEN_SYSCTL_cpu_policy_raw || leaf_within_4_17_limits(&leaves[i]);
            if (i)
                order &= leaves[i].leaf > leaves[i - 1].leaf ||
                         (leaves[i].leaf == leaves[i - 1].leaf && leaves[i].subleaf > leaves[i - 1].subleaf);
        }
        CHECK(limits, "every leaf within libxenguest's 4.17 limits");
        CHECK(order, "leaves in ascending order");
        CHECK_EQ(msrs[0].idx, 0xce, "first MSR is PLATFORM_INFO");
        CHECK_EQ(msrs[1].idx, 0x10a, "second MSR is ARCH_CAPABILITIES");
        CHECK_EQ(msrs[0].flags | msrs[1].flags, 0, "MSR flags zero");
        printf("  policy %u: %u leaves, max basic %#x, max extended %#x\n", idx[k], nl, leaves[0].a,
               leaves[nl - 1].leaf);
    }

    /* The PV default policy is what a PV guest sees, less what Xen adds for dom0 or per call (MTRR for the
     * hardware domain's kernel, the invariant TSC for a domain that never migrates, OSXSAVE from CR4, the XSAVE
     * area size) and what it recomputes for every domain (the linear address width, the leaf-7 FPU quirk bits,
     * AMD's copies of leaf 1 features in 0x80000001). */
    nl = ARRAY_LEN(leaves);
    nm = ARRAY_LEN(msrs);
    CHECK_EQ(policy(XEN_SYSCTL_cpu_policy_pv_default, &nl, &nm), 0, "PV default policy");
    unsigned int compared = 0, differ = 0;
    for (unsigned int i = 0; i < nl; i++) {
        const xen_cpuid_leaf_t *l = &leaves[i];
        if (l->leaf >= 0x40000000 && l->leaf < 0x80000000)
            continue;
        fcpuid(l->leaf, l->subleaf == NA ? 0 : l->subleaf, r);
        uint32_t want[4] = {l->a, l->b, l->c, l->d};
        if (l->leaf == 1) {
            r[2] &= ~(1u << 27);
            r[3] &= ~(1u << 12);
            want[3] &= ~(1u << 12);
        }
        if (l->leaf == 7 && l->subleaf == 0) {
            r[1] &= ~0x2040u;
            want[1] &= ~0x2040u;
        }
        if (l->leaf == 0x80000001) {
            r[3] &= ~(1u << 12) & ~COMMON_1D;    /* the policy has them only once recalculated for a domain */
            want[3] &= ~(1u << 12) & ~COMMON_1D;
        }
        if (l->leaf == 0xd && l->subleaf == 0)
            r[1] = want[1];                      /* the XSAVE size for the current XCR0: per call */
        if (l->leaf == 0x80000007)
            r[3] &= ~(1u << 8);
        if (l->leaf == 0x80000008) {
            r[0] &= ~0xff00u;
            want[0] &= ~0xff00u;
        }
        compared++;
        if (memcmp(r, want, sizeof(want))) {
            differ++;
            printf("  leaf %#x.%#x: policy %08x %08x %08x %08x, CPUID %08x %08x %08x %08x\n", l->leaf, l->subleaf,
                   want[0], want[1], want[2], want[3], r[0], r[1], r[2], r[3]);
        }
    }
    printf("  %u leaves compared with CPUID\n", compared);
    CHECK(compared > 20, "compared the basic and extended leaves");
    CHECK_EQ(differ, 0, "the PV default policy is what this PV domain's CPUID shows");

    /* A short buffer: -ENOBUFS, and the counts are not written back. */
    nl = 3;
    nm = 2;
    prep(XEN_SYSCTL_get_cpu_policy);
    sc.u.cpu_policy.index = XEN_SYSCTL_cpu_policy_pv_default;
    sc.u.cpu_policy.nr_leaves = 3;
    sc.u.cpu_policy.nr_msrs = 2;
    xen_set_guest_handle(sc.u.cpu_policy.leaves, leaves);
    xen_set_guest_handle(sc.u.cpu_policy.msrs, msrs);
    CHECK_EQ(hyp_sysctl(&sc), -ENOBUFS, "3-leaf buffer: -ENOBUFS");
    CHECK_EQ(sc.u.cpu_policy.nr_leaves, 3, "nr_leaves not written on -ENOBUFS");
    sc.u.cpu_policy.nr_leaves = 120;
    sc.u.cpu_policy.nr_msrs = 1;
    CHECK_EQ(hyp_sysctl(&sc), -ENOBUFS, "1-MSR buffer: -ENOBUFS");
    CHECK(sc.u.cpu_policy.nr_leaves < 120, "nr_leaves written before the MSRs failed");
    CHECK_EQ(sc.u.cpu_policy.nr_msrs, 1, "nr_msrs not written on -ENOBUFS");
    sc.u.cpu_policy.nr_msrs = 2;
    xen_set_guest_handle(sc.u.cpu_policy.leaves, NONCANON);
    CHECK_EQ(hyp_sysctl(&sc), -EFAULT, "leaves into a bad array: -EFAULT");
}

static void test_sharing_counters(void)
{
    CHECK_EQ(hyp_memory_op(XENMEM_get_sharing_freed_pages, NULL), 0, "memory_op 18: no pages freed by sharing");
    CHECK_EQ(hyp_memory_op(XENMEM_get_sharing_shared_pages, NULL), 0, "memory_op 19: no pages shared");
    CHECK_EQ(hyp_memory_op(XENMEM_get_sharing_freed_pages | (1 << 6), NULL), -ENOSYS,
             "memory_op 18 with continuation bits: -ENOSYS");
}

void test_main(void)
{
    test_preamble();
    test_physinfo();
    test_sched_and_pools();
    test_topology();
    test_readconsole();
    test_featuresets();
    test_policies();
    test_sharing_counters();
}
