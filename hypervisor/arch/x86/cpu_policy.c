/* CPUID/MSR policy manipulation (see vesta/cpu_policy.h): pure functions on policies and featuresets, shared by
 * the hypervisor and the host unit tests. No locking: callers own the policies they pass.
 *
 * The rules are Xen 4.17's (xen/lib/x86/cpuid.c, msr.c, policy.c and the guest recalculation in
 * arch/x86/cpu-policy.c): the serialised order and limits its toolstack relies on, what a toolstack update may
 * change, and how a guest policy is brought back within what the hypervisor offers. */
#include <vesta/cpu_policy.h>
#include <vesta/errno.h>
#include <vesta/string.h>

/* Features Xen knows at all (INIT_KNOWN_FEATURES); anything else is reserved and cleared. */
static const uint32_t known_mask[FS_NR] = {
    0xbfebfbff, 0xfffef3ff, 0xee500800, 0x2469bfff, 0x0000000f, 0xffbfffff, 0x3a405fdf,
    0x00000780, 0x779fd205, 0xfc91ef1c, 0x00001c30, 0xf8000164, 0x00000001, 0x00000037,
    0x00000000, 0x00040000, 0x1fbeffff, 0x40000000, 0x00000006,
};

/* Features other features depend on, and what disappears with them (Xen's deep dependency table). */
static const struct {
    uint16_t feat;
    uint32_t deps[FS_NR];
} deep_deps[] = {
    {FEAT(0, 0), {[0] = 0x00800000, [2] = 0xc0400000, [8] = 0x00000004}},                         /* FPU */
    {FEAT(0, 3), {[0] = 0x00020000}},                                                               /* PSE */
    {FEAT(0, 4), {[1] = 0x01000000, [2] = 0x08000000, [5] = 0x00000002, [7] = 0x00000100}},         /* TSC */
    {FEAT(0, 6), {[1] = 0x00022000, [2] = 0x24100000, [3] = 0x00000001, [5] = 0x00100000, [6] = 0x00000008,
                  [8] = 0x00100000}},                                                               /* PAE */
    {FEAT(0, 9), {[1] = 0x01200000, [3] = 0x00000008}},                                             /* APIC */
    {FEAT(0, 23), {[2] = 0xc0400000}},                                                              /* MMX */
    {FEAT(0, 24), {[0] = 0x06000000, [1] = 0x021a2203, [2] = 0x26000000, [3] = 0x000000c1, [5] = 0x20000000,
                   [6] = 0x00000708, [8] = 0x00100000}},                                            /* FXSR */
    {FEAT(0, 25), {[0] = 0x04000000, [1] = 0x021a2203, [2] = 0x24000000, [3] = 0x000000c1, [5] = 0x20000000,
                   [6] = 0x00000708, [8] = 0x00100000}},                                            /* SSE */
    {FEAT(0, 26), {[1] = 0x021a2203, [2] = 0x24000000, [3] = 0x00000041, [5] = 0x20000000, [6] = 0x00000708,
                   [8] = 0x00100000}},                                                              /* SSE2 */
    {FEAT(1, 0), {[1] = 0x00180200, [3] = 0x00000040}},                                             /* SSE3 */
    {FEAT(1, 1), {[6] = 0x00000400}},                                                               /* PCLMULQDQ */
    {FEAT(1, 9), {[1] = 0x00180000}},                                                               /* SSSE3 */
    {FEAT(1, 19), {[1] = 0x00100000}},                                                              /* SSE4_1 */
    {FEAT(1, 25), {[6] = 0x00000200}},                                                              /* AESNI */
    {FEAT(1, 26), {[1] = 0x30001000, [3] = 0x00018800, [4] = 0x0000000f, [5] = 0xdc234020, [6] = 0x00005e4a,
                   [9] = 0x0080010c, [10] = 0x00000030}},                                           /* XSAVE */
    {FEAT(1, 28), {[1] = 0x20001000, [3] = 0x00010800, [5] = 0xdc230020, [6] = 0x00005e42, [9] = 0x0080010c,
                   [10] = 0x00000030}},                                                             /* AVX */
    {FEAT(2, 20), {[5] = 0x00100000}},                                                              /* NX */
    {FEAT(2, 29), {[1] = 0x00022000, [2] = 0x04000000, [3] = 0x00000001, [6] = 0x00000008,
                   [8] = 0x00100000}},                                                              /* LM */
    {FEAT(2, 31), {[2] = 0x40000000}},                                                              /* 3DNOW */
    {FEAT(5, 5), {[5] = 0xdc230000, [6] = 0x00005e42, [9] = 0x0080010c, [10] = 0x00000030}},        /* AVX2 */
    {FEAT(5, 11), {[9] = 0x00010000}},                                                              /* RTM */
    {FEAT(5, 16), {[5] = 0xdc220000, [6] = 0x00005842, [9] = 0x0080010c, [10] = 0x00000020}},       /* AVX512F */
    {FEAT(5, 30), {[6] = 0x00001042, [9] = 0x00800000, [10] = 0x00000020}},                         /* AVX512BW */
    {FEAT(8, 12), {[8] = 0x40000000, [11] = 0x18000000}},                                           /* IBPB */
    {FEAT(8, 14), {[8] = 0x110f8000}},                                                              /* IBRS */
    {FEAT(8, 15), {[8] = 0x00020000}},                                                              /* AMD_STIBP */
    {FEAT(9, 26), {[9] = 0x88000000, [13] = 0x00000017, [16] = 0x00080002}},                        /* IBRSB */
    {FEAT(9, 29), {[16] = 0xffffffff, [17] = 0xffffffff}},                                          /* ARCH_CAPS */
    {FEAT(16, 1), {[16] = 0x00080000}},                                                             /* EIBRS */
};


enum cpu_vendor cpuid_vendor(uint32_t ebx, uint32_t ecx, uint32_t edx)
{
    if (ebx == 0x756e6547 && edx == 0x49656e69 && ecx == 0x6c65746e) /* "GenuineIntel" */
        return CPU_VENDOR_INTEL;
    if (ebx == 0x68747541 && edx == 0x69746e65 && ecx == 0x444d4163) /* "AuthenticAMD" */
        return CPU_VENDOR_AMD;
    return CPU_VENDOR_OTHER;
}

void cpu_policy_get_featureset(const struct cpu_policy *p, uint32_t fs[FS_NR])
{
    fs[FS_1D] = p->basic[1].d;
    fs[FS_1C] = p->basic[1].c;
    fs[FS_E1D] = p->extd[1].d;
    fs[FS_E1C] = p->extd[1].c;
    fs[FS_DA1] = p->xstate[1].a;
    fs[FS_7B0] = p->feat[0].b;
    fs[FS_7C0] = p->feat[0].c;
    fs[FS_E7D] = p->extd[7].d;
    fs[FS_E8B] = p->extd[8].b;
    fs[FS_7D0] = p->feat[0].d;
    fs[FS_7A1] = p->feat[1].a;
    fs[FS_E21A] = p->extd[0x21].a;
    fs[FS_7B1] = p->feat[1].b;
    fs[FS_7D2] = p->feat[2].d;
    fs[FS_7C1] = p->feat[1].c;
    fs[FS_7D1] = p->feat[1].d;
    fs[FS_M10AL] = (uint32_t)p->arch_caps;
    fs[FS_M10AH] = (uint32_t)(p->arch_caps >> 32);
    fs[FS_E21C] = p->extd[0x21].c;
}

void cpu_policy_set_featureset(struct cpu_policy *p, const uint32_t fs[FS_NR])
{
    p->basic[1].d = fs[FS_1D];
    p->basic[1].c = fs[FS_1C];
    p->extd[1].d = fs[FS_E1D];
    p->extd[1].c = fs[FS_E1C];
    p->xstate[1].a = fs[FS_DA1];
    p->feat[0].b = fs[FS_7B0];
    p->feat[0].c = fs[FS_7C0];
    p->extd[7].d = fs[FS_E7D];
    p->extd[8].b = fs[FS_E8B];
    p->feat[0].d = fs[FS_7D0];
    p->feat[1].a = fs[FS_7A1];
    p->extd[0x21].a = fs[FS_E21A];
    p->feat[1].b = fs[FS_7B1];
    p->feat[2].d = fs[FS_7D2];
    p->feat[1].c = fs[FS_7C1];
    p->feat[1].d = fs[FS_7D1];
    p->arch_caps = fs[FS_M10AL] | ((uint64_t)fs[FS_M10AH] << 32);
    p->extd[0x21].c = fs[FS_E21C];
}

void featureset_clamp_known(uint32_t fs[FS_NR])
{
    for (unsigned int i = 0; i < FS_NR; i++)
        fs[i] &= known_mask[i];
}

void featureset_sanitise(uint32_t fs[FS_NR])
{
    uint32_t disabled[FS_NR];
    for (unsigned int i = 0; i < FS_NR; i++) {
        fs[i] &= known_mask[i];
        disabled[i] = ~fs[i];
    }
    /* Each entry lists all of a feature's dependants, direct or not, so one pass over the table suffices. */
    for (unsigned int i = 0; i < ARRAY_SIZE(deep_deps); i++) {
        if (!fs_test(disabled, deep_deps[i].feat))
            continue;
        for (unsigned int w = 0; w < FS_NR; w++) {
            fs[w] &= ~deep_deps[i].deps[w];
            disabled[w] |= deep_deps[i].deps[w];
        }
    }
}

/* ---- Serialisation ---- */

static uint64_t policy_xstates(const struct cpu_policy *p)
{
    /* XCR0 bits from leaf 0xd.0 EAX/EDX, XSS bits from 0xd.1 ECX/EDX. */
    return p->xstate[0].a | ((uint64_t)p->xstate[0].d << 32) | p->xstate[1].c | ((uint64_t)p->xstate[1].d << 32);
}

static int emit(cpuid_leaf_fn fn, void *ctx, uint32_t leaf, uint32_t subleaf, const struct cpuid_leaf *l)
{
    const xen_cpuid_leaf_t e = {leaf, subleaf, l->a, l->b, l->c, l->d};
    return fn(ctx, &e);
}

#define EMIT(leaf, sub, l)                                                                                   \
    do {                                                                                                     \
        int rc_ = emit(fn, ctx, (leaf), (sub), (l));                                                         \
        if (rc_)                                                                                             \
            return rc_;                                                                                      \
    } while (0)

int cpu_policy_for_each_leaf(const struct cpu_policy *p, cpuid_leaf_fn fn, void *ctx)
{
    uint32_t max_basic = MIN(p->basic[0].a, CPUID_NR_BASIC - 1);
    for (uint32_t leaf = 0; leaf <= max_basic; leaf++) {
        switch (leaf) {
        case 0x4:
            /* Up to and including the first subleaf of type 0 (the list terminator). */
            for (uint32_t sub = 0; sub < CPUID_NR_CACHE; sub++) {
                EMIT(leaf, sub, &p->cache[sub]);
                if (!(p->cache[sub].a & 0x1f))
                    break;
            }
            break;
        case 0x7:
            for (uint32_t sub = 0; sub <= MIN(p->feat[0].a, CPUID_NR_FEAT - 1); sub++)
                EMIT(leaf, sub, &p->feat[sub]);
            break;
        case 0xb:
            /* Levels until one of type 0 (ECX[15:8]), which is included. */
            for (uint32_t sub = 0; sub < CPUID_NR_TOPO; sub++) {
                EMIT(leaf, sub, &p->topo[sub]);
                if (!((p->topo[sub].c >> 8) & 0xff))
                    break;
            }
            break;
        case 0xd: {
            /* Subleaves 0 and 1 always; then one per state component up to the highest one enabled. */
            EMIT(leaf, 0, &p->xstate[0]);
            EMIT(leaf, 1, &p->xstate[1]);
            uint64_t xstates = policy_xstates(p) >> 2;
            for (uint32_t sub = 2; xstates && sub < CPUID_NR_XSTATE; sub++, xstates >>= 1)
                EMIT(leaf, sub, &p->xstate[sub]);
            break;
        }
        default:
            EMIT(leaf, XEN_CPUID_NO_SUBLEAF, &p->basic[leaf]);
            break;
        }
    }
    EMIT(0x40000000, XEN_CPUID_NO_SUBLEAF, &((struct cpuid_leaf){p->hv_limit, 0, 0, 0}));
    EMIT(0x40000100, XEN_CPUID_NO_SUBLEAF, &((struct cpuid_leaf){p->hv2_limit, 0, 0, 0}));
    uint32_t max_extd = MIN(p->extd[0].a & 0xffff, CPUID_NR_EXTD - 1);
    for (uint32_t i = 0; i <= max_extd; i++)
        EMIT(0x80000000 | i, XEN_CPUID_NO_SUBLEAF, &p->extd[i]);
    return 0;
}

int cpu_policy_for_each_msr(const struct cpu_policy *p, msr_entry_fn fn, void *ctx)
{
    const xen_msr_entry_t msrs[] = {
        {.idx = MSR_INTEL_PLATFORM_INFO, .val = p->platform_info},
        {.idx = MSR_ARCH_CAPABILITIES, .val = p->arch_caps},
    };
    _Static_assert(ARRAY_SIZE(msrs) == MSR_MAX_SERIALISED_ENTRIES, "every serialised MSR is listed");
    for (unsigned int i = 0; i < ARRAY_SIZE(msrs); i++) {
        int rc = fn(ctx, &msrs[i]);
        if (rc)
            return rc;
    }
    return 0;
}

int cpu_policy_set_leaf(struct cpu_policy *p, const xen_cpuid_leaf_t *l)
{
    const struct cpuid_leaf v = {l->a, l->b, l->c, l->d};
    struct cpuid_leaf *slot;
    uint32_t leaf = l->leaf, sub = l->subleaf;

    if (leaf < CPUID_NR_BASIC) {
        switch (leaf) {
        case 0x4:
            if (sub >= CPUID_NR_CACHE)
                return -ERANGE;
            slot = &p->cache[sub];
            break;
        case 0x7:
            if (sub >= CPUID_NR_FEAT)
                return -ERANGE;
            slot = &p->feat[sub];
            break;
        case 0xb:
            if (sub >= CPUID_NR_TOPO)
                return -ERANGE;
            slot = &p->topo[sub];
            break;
        case 0xd:
            if (sub >= CPUID_NR_XSTATE)
                return -ERANGE;
            slot = &p->xstate[sub];
            break;
        default:
            if (sub != XEN_CPUID_NO_SUBLEAF)
                return -ERANGE;
            slot = &p->basic[leaf];
            break;
        }
        *slot = v;
        return 0;
    }
    if (sub != XEN_CPUID_NO_SUBLEAF)
        return -ERANGE;
    if (leaf == 0x40000000) {
        p->hv_limit = (uint8_t)v.a; /* Xen keeps only the low byte too */
        return 0;
    }
    if (leaf == 0x40000100) {
        p->hv2_limit = (uint8_t)v.a;
        return 0;
    }
    if (leaf >= 0x80000000 && leaf < 0x80000000 + CPUID_NR_EXTD) {
        p->extd[leaf & 0xffff] = v;
        return 0;
    }
    return -ERANGE;
}

int cpu_policy_set_msr(struct cpu_policy *p, const xen_msr_entry_t *m)
{
    if (m->flags)
        return -EINVAL; /* reserved, must be zero */
    switch (m->idx) {
    case MSR_INTEL_PLATFORM_INFO:
        p->platform_info = m->val;
        return 0;
    case MSR_ARCH_CAPABILITIES:
        p->arch_caps = m->val;
        return 0;
    default:
        return -ERANGE;
    }
}

/* ---- Auditing and recalculation ---- */

static void zero_leaves(struct cpuid_leaf *l, unsigned int first, unsigned int last)
{
    if (first <= last)
        memset(&l[first], 0, sizeof(*l) * (last - first + 1));
}

/* Index of the first subleaf whose type field (shift/mask) is 0, or n. */
static unsigned int first_untyped(const struct cpuid_leaf *l, unsigned int n, bool topo)
{
    unsigned int i = 0;
    while (i < n && (topo ? (l[i].c >> 8) & 0xff : l[i].a & 0x1f))
        i++;
    return i;
}

void cpu_policy_clear_out_of_range(struct cpu_policy *p)
{
    uint32_t max_basic = p->basic[0].a;
    if (max_basic < CPUID_NR_BASIC - 1)
        zero_leaves(p->basic, max_basic + 1, CPUID_NR_BASIC - 1);
    if (max_basic < 4)
        memset(p->cache, 0, sizeof(p->cache));
    else
        zero_leaves(p->cache, first_untyped(p->cache, CPUID_NR_CACHE, false), CPUID_NR_CACHE - 1);
    if (max_basic < 7)
        memset(p->feat, 0, sizeof(p->feat));
    else if (p->feat[0].a < CPUID_NR_FEAT - 1)
        zero_leaves(p->feat, p->feat[0].a + 1, CPUID_NR_FEAT - 1);
    if (max_basic < 0xb)
        memset(p->topo, 0, sizeof(p->topo));
    else
        zero_leaves(p->topo, first_untyped(p->topo, CPUID_NR_TOPO, true), CPUID_NR_TOPO - 1);
    uint64_t xstates = policy_xstates(p);
    if (max_basic < 0xd || !xstates) {
        memset(p->xstate, 0, sizeof(p->xstate));
    } else {
        /* Subleaves 0 and 1 always hold; the others up to the highest enabled component. */
        unsigned int keep = 64 - (unsigned int)__builtin_clzll(xstates);
        zero_leaves(p->xstate, keep > 2 ? keep : 2, CPUID_NR_XSTATE - 1);
    }
    uint32_t max_extd = p->extd[0].a & 0xffff;
    if (max_extd < CPUID_NR_EXTD - 1)
        zero_leaves(p->extd, max_extd + 1, CPUID_NR_EXTD - 1);
}

int cpu_policy_check_fits(const struct cpu_policy *max, const struct cpu_policy *p, struct cpu_policy_errors *err)
{
    struct cpu_policy_errors e = CPU_POLICY_NO_ERRORS;
    int rc = -EINVAL;
    if (p->basic[0].a > max->basic[0].a)
        e.leaf = 0, e.subleaf = XEN_CPUID_NO_SUBLEAF;
    else if (p->feat[0].a > max->feat[0].a)
        e.leaf = 7, e.subleaf = 0;
    else if (p->extd[0].a > max->extd[0].a)
        e.leaf = 0x80000000, e.subleaf = XEN_CPUID_NO_SUBLEAF;
    else if (p->platform_info & ~max->platform_info)
        e.msr = MSR_INTEL_PLATFORM_INFO;
    else
        rc = 0;
    if (err)
        *err = e;
    return rc;
}

void cpu_policy_clean_leaves(struct cpu_policy *p)
{
    p->basic[1].a &= 0x0fff0fff;  /* processor type (Intel) cleared */
    p->basic[1].b &= 0x00ffffff;  /* initial APIC ID: dynamic */
    p->basic[5] = p->basic[6] = p->basic[8] = p->basic[0xc] = (struct cpuid_leaf){0}; /* MONITOR, power */
    memset(p->topo, 0, sizeof(p->topo)); /* the topology is not the host's business to show */
    p->extd[1].d &= ~CPUID_COMMON_1D;
    p->extd[7].a = p->extd[7].b = p->extd[7].c = 0; /* power and RAS */
    p->extd[8].d = 0;

    switch (cpu_policy_vendor(p)) {
    case CPU_VENDOR_INTEL:
        p->basic[2].a = (p->basic[2].a & ~0xffu) | 1; /* one leaf-2 query */
        p->basic[3] = p->basic[9] = (struct cpuid_leaf){0}; /* serial number, DCA */
        p->extd[0].b = p->extd[0].c = p->extd[0].d = 0;
        p->extd[1].a = p->extd[1].b = 0;
        p->extd[5] = (struct cpuid_leaf){0};
        p->extd[6].a = p->extd[6].b = p->extd[6].d = 0;
        p->extd[8].a &= 0xffff;
        p->extd[8].c = 0;
        break;
    case CPU_VENDOR_AMD:
        zero_leaves(p->basic, 0x2, 0x3);
        memset(p->cache, 0, sizeof(p->cache));
        zero_leaves(p->basic, 0x9, 0xa);
        p->extd[0].b = p->basic[0].b; /* vendor string repeated */
        p->extd[0].c = p->basic[0].c;
        p->extd[0].d = p->basic[0].d;
        p->extd[1].a = p->basic[1].a;
        p->extd[1].b &= 0xff00ffff;
        p->extd[1].d |= p->basic[1].d & CPUID_COMMON_1D;
        p->extd[8].a &= 0xffff;      /* guest max physical address width hidden */
        p->extd[8].c &= 0x0003f0ff;
        p->extd[9] = (struct cpuid_leaf){0};
        zero_leaves(p->extd, 0xb, 0x18);
        zero_leaves(p->extd, 0x1b, 0x20); /* IBS, LWP, TopoExt, SEV, QoS; 0x19/0x1a pass through */
        p->extd[0x21].b = p->extd[0x21].d = 0;
        break;
    default:
        break;
    }
}

void cpu_policy_recalc_guest(struct cpu_policy *p, const struct cpu_policy *max, const struct cpu_policy *host)
{
    uint32_t fs[FS_NR], max_fs[FS_NR];
    bool amd = cpu_policy_vendor(p) == CPU_VENDOR_AMD;

    p->basic[0].a = MIN(p->basic[0].a, max->basic[0].a);
    p->feat[0].a = MIN(p->feat[0].a, max->feat[0].a);
    p->extd[0].a = 0x80000000 | MIN(p->extd[0].a & 0xffff, (amd ? CPUID_NR_EXTD_AMD : CPUID_NR_EXTD_INTEL) - 1u);

    cpu_policy_get_featureset(p, fs);
    cpu_policy_get_featureset(max, max_fs);
    for (unsigned int i = 0; i < FS_NR; i++)
        fs[i] &= max_fs[i];
    if (p->basic[0].a < 0xd)
        fs_clear(fs, X86_FEAT_XSAVE);
    featureset_sanitise(fs);
    /* Two FPU behaviours are facts of the host, not choices. */
    uint32_t fpu_quirks = (1u << (X86_FEAT_FDP_EXCP_ONLY % 32)) | (1u << (X86_FEAT_NO_FPU_SEL % 32));
    fs[FS_7B0] = (fs[FS_7B0] & ~fpu_quirks) | (host->feat[0].b & fpu_quirks);
    cpu_policy_set_featureset(p, fs);

    /* CLFLUSH line size (leaf 1 EBX[15:8]) passes through. */
    p->basic[1].b = (p->basic[1].b & ~0xff00u) | (max->basic[1].b & 0xff00u);
    /* Physical address width: no more than max's or the host's, no less than paging needs. */
    uint32_t phys = MIN(p->extd[8].a & 0xff, max->extd[8].a & 0xff);
    phys = MIN(phys, host->extd[8].a & 0xff);
    phys = MAX(phys, fs_test(fs, X86_FEAT_PAE) || fs_test(fs, X86_FEAT_PSE36) ? 36u : 32u);
    uint32_t lin = fs_test(fs, X86_FEAT_LM) ? 48 : 32;
    p->extd[8].a = (p->extd[8].a & ~0xffffu) | (lin << 8) | phys;

    /* XSAVE state: without XSAVE, leaf 0xd is empty. Vesta's max policies never offer XSAVE (guest FPU state is
     * FXSAVE only), so a policy with XSAVE cannot get here and leaf 0xd is left as the caller gave it. */
    if (!fs_test(fs, X86_FEAT_XSAVE))
        memset(p->xstate, 0, sizeof(p->xstate));

    cpu_policy_clean_leaves(p);

    for (unsigned int i = 0; i < CPUID_NR_CACHE; i++) {
        unsigned int type = p->cache[i].a & 0x1f;
        if (type < 1 || type > 3) {
            zero_leaves(p->cache, i, CPUID_NR_CACHE - 1);
            break;
        }
        p->cache[i].a &= 0xffffc3ffu; /* reserved bits */
        p->cache[i].d &= 0x7u;
    }
    p->basic[0xa] = (struct cpuid_leaf){0}; /* no virtual PMU */
    if (!fs_test(fs, X86_FEAT_SVM))
        p->extd[0xa] = (struct cpuid_leaf){0};
    if (!fs_test(fs, X86_FEAT_PAGE1GB))
        p->extd[0x19] = (struct cpuid_leaf){0};
}
