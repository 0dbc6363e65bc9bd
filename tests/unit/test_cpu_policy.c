/* CPUID policy serialisation, toolstack updates and guest recalculation (arch/x86/cpu_policy.c).
 *
 * The limits checked here are the ones Xen 4.17's libxenguest applies when it deserialises a policy the
 * hypervisor handed out (basic leaves <= 0xd, leaf 4 subleaves < 6, leaf 7 < 3, leaf 0xb < 2, leaf 0xd < 63,
 * extended leaves <= 0x80000021, at most 120 leaves): a policy outside them makes `xl create` fail. */
#include "testlib.h"
#include "vesta/cpu_policy.h"
#include "vesta/errno.h"

#define NA XEN_CPUID_NO_SUBLEAF

struct collect {
    xen_cpuid_leaf_t l[200];
    unsigned int n, stop_at;
};

static int collect_leaf(void *ctx, const xen_cpuid_leaf_t *l)
{
    struct collect *c = ctx;
    if (c->n == c->stop_at)
        return -ENOBUFS;
    c->l[c->n++] = *l;
    return 0;
}

static unsigned int serialise(const struct cpu_policy *p, struct collect *c)
{
    memset(c, 0, sizeof(*c));
    c->stop_at = ~0u;
    CHECK_EQ(cpu_policy_for_each_leaf(p, collect_leaf, c), 0);
    return c->n;
}

/* An AMD-looking policy with every slot in use. */
static void full_policy(struct cpu_policy *p)
{
    memset(p, 0, sizeof(*p));
    p->basic[0] = (struct cpuid_leaf){0xd, 0x68747541, 0x444d4163, 0x69746e65};
    for (unsigned int i = 1; i < CPUID_NR_BASIC; i++)
        p->basic[i] = (struct cpuid_leaf){i, i + 1, i + 2, i + 3};
    for (unsigned int i = 0; i < CPUID_NR_CACHE; i++)
        p->cache[i].a = 1 + (i % 3); /* data, instruction, unified: never the terminator */
    p->feat[0].a = 2;
    p->topo[0].c = 1 << 8;
    p->topo[1].c = 2 << 8;
    p->xstate[0].a = 0xffffffff; /* components 0..31 */
    p->xstate[0].d = 0x7fffffff; /* 32..62 */
    p->extd[0].a = 0x80000021;
    p->hv_limit = 3;
}

static bool within_4_17_limits(const xen_cpuid_leaf_t *l)
{
    switch (l->leaf) {
    case 0x4:
        return l->subleaf < 6;
    case 0x7:
        return l->subleaf < 3;
    case 0xb:
        return l->subleaf < 2;
    case 0xd:
        return l->subleaf < 63;
    default:
        if (l->subleaf != NA)
            return false;
        return l->leaf <= 0xd || l->leaf == 0x40000000 || l->leaf == 0x40000100 ||
               (l->leaf >= 0x80000000 && l->leaf <= 0x80000021);
    }
}

TEST(cpu_policy_max_serialised_is_120)
{
    CHECK_EQ(CPUID_MAX_SERIALISED_LEAVES, 120);
    CHECK_EQ(MSR_MAX_SERIALISED_ENTRIES, 2);
}

TEST(cpu_policy_full_policy_serialises_to_the_maximum_in_order)
{
    struct cpu_policy p;
    struct collect c;
    full_policy(&p);
    CHECK_EQ(serialise(&p, &c), CPUID_MAX_SERIALISED_LEAVES);
    for (unsigned int i = 0; i < c.n; i++) {
        CHECK(within_4_17_limits(&c.l[i]));
        if (i) { /* ascending (leaf, subleaf), NO_SUBLEAF sorting last being irrelevant: one per leaf */
            bool up = c.l[i].leaf > c.l[i - 1].leaf ||
                      (c.l[i].leaf == c.l[i - 1].leaf && c.l[i].subleaf > c.l[i - 1].subleaf);
            CHECK(up);
        }
    }
    CHECK_EQ(c.l[0].leaf, 0);
    CHECK_EQ(c.l[4].leaf, 4);   /* 0,1,2,3 then leaf 4's subleaves */
    CHECK_EQ(c.l[4].subleaf, 0);
    CHECK_EQ(c.l[9].subleaf, 5);
    /* the hypervisor-leaf limits come between the basic and the extended leaves */
    unsigned int hv = 0;
    while (hv < c.n && c.l[hv].leaf != 0x40000000)
        hv++;
    CHECK(hv < c.n);
    CHECK_EQ(c.l[hv].a, 3);
    CHECK_EQ(c.l[hv + 1].leaf, 0x40000100);
    CHECK_EQ(c.l[hv + 2].leaf, 0x80000000);
    CHECK_EQ(c.l[c.n - 1].leaf, 0x80000021);
}

TEST(cpu_policy_serialisation_respects_limits_and_terminators)
{
    struct cpu_policy p;
    struct collect c;
    full_policy(&p);
    p.basic[0].a = 0x1f;       /* a host with more basic leaves than the ABI carries */
    p.feat[0].a = 5;
    p.extd[0].a = 0x80000028;
    p.cache[2].a = 0;          /* leaf 4 ends at subleaf 2, which is included */
    p.topo[0].c = 0;           /* leaf 0xb: only subleaf 0 */
    p.xstate[0].a = 0x7;       /* x87, SSE, AVX: leaf 0xd subleaves 0, 1, 2 */
    p.xstate[0].d = 0;
    unsigned int n = serialise(&p, &c);
    unsigned int cache = 0, feat = 0, topo = 0, xs = 0, maxb = 0, maxe = 0;
    for (unsigned int i = 0; i < n; i++) {
        CHECK(within_4_17_limits(&c.l[i]));
        cache += c.l[i].leaf == 4;
        feat += c.l[i].leaf == 7;
        topo += c.l[i].leaf == 0xb;
        xs += c.l[i].leaf == 0xd;
        if (c.l[i].leaf < 0x40000000 && c.l[i].leaf > maxb)
            maxb = c.l[i].leaf;
        if (c.l[i].leaf >= 0x80000000 && c.l[i].leaf > maxe)
            maxe = c.l[i].leaf;
    }
    CHECK_EQ(cache, 3);
    CHECK_EQ(feat, 3);
    CHECK_EQ(topo, 1);
    CHECK_EQ(xs, 3);
    CHECK_EQ(maxb, 0xd);
    CHECK_EQ(maxe, 0x80000021);
}

TEST(cpu_policy_serialisation_stops_on_callback_error)
{
    struct cpu_policy p;
    struct collect c;
    full_policy(&p);
    memset(&c, 0, sizeof(c));
    c.stop_at = 7;
    CHECK_EQ(cpu_policy_for_each_leaf(&p, collect_leaf, &c), -ENOBUFS);
    CHECK_EQ(c.n, 7);
}

TEST(cpu_policy_round_trip)
{
    struct cpu_policy p, q;
    struct collect c;
    full_policy(&p);
    unsigned int n = serialise(&p, &c);
    memset(&q, 0, sizeof(q));
    for (unsigned int i = 0; i < n; i++)
        CHECK_EQ(cpu_policy_set_leaf(&q, &c.l[i]), 0);
    /* basic slots 4, 7, 0xb, 0xd are not serialised: they stay as in the zeroed copy */
    p.basic[4] = p.basic[7] = p.basic[0xb] = p.basic[0xd] = (struct cpuid_leaf){0};
    CHECK(!memcmp(&p, &q, sizeof(p)));
}

TEST(cpu_policy_set_leaf_rejects_what_a_policy_cannot_hold)
{
    struct cpu_policy p;
    memset(&p, 0, sizeof(p));
    static const struct { uint32_t leaf, sub; int rc; } cases[] = {
        {0, NA, 0},           {1, NA, 0},           {1, 0, -ERANGE},      {0xd, 62, 0},
        {0xd, 63, -ERANGE},   {4, 5, 0},            {4, 6, -ERANGE},      {4, NA, -ERANGE},
        {7, 2, 0},            {7, 3, -ERANGE},      {0xb, 1, 0},          {0xb, 2, -ERANGE},
        {0xe, NA, -ERANGE},   {0x40000000, NA, 0},  {0x40000000, 0, -ERANGE}, {0x40000001, NA, -ERANGE},
        {0x40000100, NA, 0},  {0x80000021, NA, 0},  {0x80000022, NA, -ERANGE}, {0x80000001, 1, -ERANGE},
        {0xc0000000, NA, -ERANGE},
    };
    for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
        xen_cpuid_leaf_t l = {cases[i].leaf, cases[i].sub, 0x1ff, 2, 3, 4};
        CHECK_EQ(cpu_policy_set_leaf(&p, &l), cases[i].rc);
    }
    CHECK_EQ(p.hv_limit, 0xff); /* only the low byte is kept */
    CHECK_EQ(p.extd[0x21].b, 2);
    CHECK_EQ(p.xstate[62].c, 3);
}

TEST(cpu_policy_msrs)
{
    struct cpu_policy p;
    memset(&p, 0, sizeof(p));
    p.platform_info = 1UL << 31;
    p.arch_caps = 0x123456789UL;
    xen_msr_entry_t m = {MSR_ARCH_CAPABILITIES, 0, 0xabc};
    CHECK_EQ(cpu_policy_set_msr(&p, &m), 0);
    CHECK_EQ(p.arch_caps, 0xabc);
    m.flags = 1;
    CHECK_EQ(cpu_policy_set_msr(&p, &m), -EINVAL);
    m = (xen_msr_entry_t){0x10b, 0, 0};
    CHECK_EQ(cpu_policy_set_msr(&p, &m), -ERANGE);
    m = (xen_msr_entry_t){MSR_INTEL_PLATFORM_INFO, 0, 0};
    CHECK_EQ(cpu_policy_set_msr(&p, &m), 0);
    CHECK_EQ(p.platform_info, 0);
}

TEST(cpu_policy_clear_out_of_range)
{
    struct cpu_policy p;
    full_policy(&p);
    p.basic[0].a = 6;
    p.extd[0].a = 0x80000008;
    p.cache[3].a = 0;
    cpu_policy_clear_out_of_range(&p);
    CHECK_EQ(p.basic[6].a, 6);
    CHECK_EQ(p.basic[7].a + p.basic[0xc].d, 0);
    CHECK_EQ(p.cache[2].a, 3);           /* max basic 6 >= 4: leaf 4 kept up to its terminator */
    CHECK_EQ(p.cache[4].a, 0);
    CHECK_EQ(p.feat[0].a, 0);            /* max basic < 7: leaf 7 gone */
    CHECK_EQ(p.topo[0].c, 0);
    CHECK_EQ(p.xstate[0].a, 0);
    CHECK_EQ(p.extd[8].a, 0);            /* still in range... */
    full_policy(&p);
    p.extd[0].a = 0x80000008;
    p.extd[8].a = 0x3030;
    p.extd[9].a = 9;
    p.feat[0].a = 0;
    p.feat[1].a = 1;
    p.xstate[0].a = 0x7;
    p.xstate[0].d = 0;
    p.xstate[2].a = 0x22;
    p.xstate[5].a = 5;
    cpu_policy_clear_out_of_range(&p);
    CHECK_EQ(p.extd[8].a, 0x3030);
    CHECK_EQ(p.extd[9].a, 0);
    CHECK_EQ(p.feat[1].a, 0);
    CHECK_EQ(p.xstate[2].a, 0x22); /* component 2 is enabled: kept */
    CHECK_EQ(p.xstate[5].a, 0);
}

TEST(cpu_policy_check_fits_names_the_offender)
{
    struct cpu_policy max, p;
    struct cpu_policy_errors e;
    full_policy(&max);
    max.feat[0].a = 1;
    max.platform_info = 1UL << 31;
    p = max;
    CHECK_EQ(cpu_policy_check_fits(&max, &p, &e), 0);
    CHECK_EQ(e.leaf, ~0u);
    CHECK_EQ(e.msr, ~0u);
    p.basic[0].a = 0xe;
    CHECK_EQ(cpu_policy_check_fits(&max, &p, &e), -EINVAL);
    CHECK_EQ(e.leaf, 0);
    CHECK_EQ(e.subleaf, NA);
    p = max;
    p.feat[0].a = 2;
    CHECK_EQ(cpu_policy_check_fits(&max, &p, &e), -EINVAL);
    CHECK_EQ(e.leaf, 7);
    CHECK_EQ(e.subleaf, 0);
    p = max;
    p.extd[0].a = 0x80000022;
    CHECK_EQ(cpu_policy_check_fits(&max, &p, &e), -EINVAL);
    CHECK_EQ(e.leaf, 0x80000000);
    p = max;
    p.platform_info = 1;
    CHECK_EQ(cpu_policy_check_fits(&max, &p, &e), -EINVAL);
    CHECK_EQ(e.msr, MSR_INTEL_PLATFORM_INFO);
    CHECK_EQ(e.leaf, ~0u);
    /* lower limits are always fine */
    p = max;
    p.basic[0].a = 1;
    p.extd[0].a = 0x80000001;
    p.platform_info = 0;
    CHECK_EQ(cpu_policy_check_fits(&max, &p, NULL), 0);
}

TEST(cpu_policy_featureset_round_trip)
{
    struct cpu_policy p;
    uint32_t fs[FS_NR], back[FS_NR];
    memset(&p, 0, sizeof(p));
    for (unsigned int i = 0; i < FS_NR; i++)
        fs[i] = 0x01010101u * (i + 1);
    cpu_policy_set_featureset(&p, fs);
    cpu_policy_get_featureset(&p, back);
    CHECK(!memcmp(fs, back, sizeof(fs)));
    CHECK_EQ(p.basic[1].d, fs[FS_1D]);
    CHECK_EQ(p.extd[0x21].c, fs[FS_E21C]);
    CHECK_EQ(p.arch_caps >> 32, fs[FS_M10AH]);
    CHECK_EQ(p.xstate[1].a, fs[FS_DA1]);
}

TEST(cpu_policy_sanitise_drops_dependants)
{
    uint32_t fs[FS_NR];
    memset(fs, 0xff, sizeof(fs));
    fs_clear(fs, FEAT(FS_1D, 26)); /* no SSE2 */
    featureset_sanitise(fs);
    CHECK(!fs_test(fs, FEAT(FS_1C, 0)));   /* SSE3 */
    CHECK(!fs_test(fs, FEAT(FS_1C, 9)));   /* SSSE3 */
    CHECK(fs_test(fs, FEAT(FS_1D, 25)));   /* SSE itself stays */
    memset(fs, 0xff, sizeof(fs));
    fs_clear(fs, X86_FEAT_XSAVE);
    featureset_sanitise(fs);
    CHECK_EQ(fs[FS_DA1], 0);               /* XSAVEOPT & co */
    CHECK(!fs_test(fs, FEAT(FS_7B0, 5)));  /* AVX2 */
    CHECK(fs_test(fs, FEAT(FS_1C, 0)));
    /* unknown bits go too */
    memset(fs, 0, sizeof(fs));
    fs[FS_7C1] = 0xffffffff;
    featureset_sanitise(fs);
    CHECK_EQ(fs[FS_7C1], 0);
}

/* A plausible AMD host for the recalculation tests. */
static void amd_host(struct cpu_policy *h)
{
    memset(h, 0, sizeof(*h));
    h->basic[0] = (struct cpuid_leaf){0xd, 0x68747541, 0x444d4163, 0x69746e65};
    h->basic[1] = (struct cpuid_leaf){0x00060fb1, 0x01020800, 0x80002001 | (1u << 26) | (1u << 28),
                                      0x078bfbff};
    h->feat[0] = (struct cpuid_leaf){0, 0x40 | 0x20, 0, 0};
    h->xstate[0] = (struct cpuid_leaf){7, 0x340, 0x340, 0};
    h->extd[0].a = 0x80000021;
    h->extd[1] = (struct cpuid_leaf){0x00060fb1, 0x12345678, 0x1, 0x2fd3fbff | (1u << 26) | (1u << 29)};
    h->extd[8].a = 0x3028;  /* 40-bit physical, 48-bit linear */
    h->extd[0x19].a = 0x19;
    h->extd[0xa].a = 0xa;
}

TEST(cpu_policy_recalc_clamps_to_max)
{
    struct cpu_policy host, max, p;
    amd_host(&host);
    max = host;
    /* max: no XSAVE (as Vesta's), leaf 7 up to subleaf 2 */
    uint32_t fs[FS_NR];
    cpu_policy_get_featureset(&max, fs);
    fs_clear(fs, X86_FEAT_XSAVE);
    featureset_sanitise(fs);
    cpu_policy_set_featureset(&max, fs);
    memset(max.xstate, 0, sizeof(max.xstate));
    max.feat[0].a = 2;
    max.extd[8].a = 0x3028;

    p = host;                       /* the toolstack asks for everything the host has, and more */
    p.basic[1].c |= 1u << 21;       /* x2APIC, which max lacks */
    p.extd[8].a = 0x3034;           /* 52-bit physical */
    p.feat[0].a = 2;
    cpu_policy_recalc_guest(&p, &max, &host);
    uint32_t got[FS_NR];
    cpu_policy_get_featureset(&p, got);
    CHECK(!fs_test(got, X86_FEAT_XSAVE));
    CHECK(!fs_test(got, FEAT(FS_1C, 28)));   /* AVX went with XSAVE */
    CHECK(!fs_test(got, FEAT(FS_1C, 21)));   /* not in max */
    CHECK_EQ(p.xstate[0].a, 0);              /* no XSAVE: leaf 0xd empty */
    CHECK_EQ(p.extd[8].a & 0xff, 40);        /* physical width clamped to max/host */
    CHECK_EQ((p.extd[8].a >> 8) & 0xff, 48); /* long mode: 48-bit linear */
    CHECK_EQ(p.feat[0].a, 2);
    CHECK_EQ(p.basic[1].b >> 24, 0);         /* APIC ID is dynamic */
    CHECK_EQ(p.extd[0].b, host.basic[0].b);  /* AMD repeats the vendor string */
    CHECK_EQ(p.extd[0xa].a, 0);              /* no SVM in the featureset */
    CHECK_EQ(p.extd[0x19].a, 0x19);          /* 1 GiB pages: TLB leaf kept */
    CHECK_EQ(got[FS_7B0] & 0x40, 0x40);      /* FDP_EXCP_ONLY follows the host */

    /* Lowering max basic below 0xd drops XSAVE; limits above max are clamped. */
    p = host;
    p.basic[0].a = 0xc;
    p.extd[0].a = 0x80000030;
    cpu_policy_recalc_guest(&p, &host, &host);
    cpu_policy_get_featureset(&p, got);
    CHECK(!fs_test(got, X86_FEAT_XSAVE));
    CHECK_EQ(p.extd[0].a, 0x80000021);
    /* Without 1 GiB pages the TLB leaf for them goes. */
    p = host;
    p.extd[1].d &= ~(1u << 26);
    cpu_policy_recalc_guest(&p, &host, &host);
    CHECK_EQ(p.extd[0x19].a, 0);
}

TEST(cpu_policy_recalc_intel_extended_limit)
{
    struct cpu_policy h, p;
    memset(&h, 0, sizeof(h));
    h.basic[0] = (struct cpuid_leaf){0xd, 0x756e6547, 0x6c65746e, 0x49656e69};
    h.basic[2].a = 0x00feff05;
    h.cache[0].a = 0x121 | 0x3c00; /* level 1 data cache, with reserved bits 13:10 set */
    h.cache[0].d = 0xff;
    h.extd[0].a = 0x80000021;
    h.extd[8].a = 0x3027;
    p = h;
    cpu_policy_recalc_guest(&p, &h, &h);
    CHECK_EQ(p.extd[0].a, 0x80000008); /* Intel: nothing beyond 0x80000008 */
    CHECK_EQ(p.basic[2].a & 0xff, 1);  /* one leaf-2 query */
    CHECK_EQ(p.cache[0].a, 0x121);
    CHECK_EQ(p.cache[0].d, 0x7);
    CHECK_EQ(p.extd[8].a & 0xff, 39);
    CHECK_EQ((p.extd[8].a >> 8) & 0xff, 32); /* no long mode bit in this policy */
}

/* What `xl create` does with a PV domain's policy: take the default policy as serialised, hand every leaf back
 * with set_cpu_policy. Merged into the domain's copy, audited against max and recalculated, it must give the
 * policy the domain had. */
TEST(cpu_policy_toolstack_round_trip_is_stable)
{
    struct cpu_policy host, max, def, dom, merged;
    struct collect c;
    struct cpu_policy_errors e;
    amd_host(&host);
    max = host;
    max.feat[0].a = 2;
    def = max;
    def.feat[0].a = 0;
    dom = def;
    cpu_policy_recalc_guest(&dom, &max, &host);

    unsigned int n = serialise(&def, &c);
    CHECK(n <= CPUID_MAX_SERIALISED_LEAVES);
    merged = dom;
    for (unsigned int i = 0; i < n; i++)
        CHECK_EQ(cpu_policy_set_leaf(&merged, &c.l[i]), 0);
    cpu_policy_clear_out_of_range(&merged);
    CHECK_EQ(cpu_policy_check_fits(&max, &merged, &e), 0);
    cpu_policy_recalc_guest(&merged, &max, &host);
    CHECK(!memcmp(&merged, &dom, sizeof(dom)));

    /* Asking for more leaf-7 subleaves than max has is refused, naming leaf 7. */
    merged = dom;
    xen_cpuid_leaf_t l7 = {7, 0, 5, 0, 0, 0};
    CHECK_EQ(cpu_policy_set_leaf(&merged, &l7), 0);
    cpu_policy_clear_out_of_range(&merged);
    CHECK_EQ(cpu_policy_check_fits(&max, &merged, &e), -EINVAL);
    CHECK_EQ(e.leaf, 7);
    CHECK_EQ(e.subleaf, 0);
}
