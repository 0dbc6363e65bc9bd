/* The CPUID view of a 64-bit PV guest, as Xen 4.17's default PV policy builds it.
 *
 * The policy is computed once from the host's CPUID: every feature word is masked with Xen's PV default
 * featureset (the features its public cpufeatureset.h marks 'A'), a few bits are adjusted the way Xen adjusts its
 * guest policies, features whose prerequisites are gone are removed with Xen's dependency table, and the
 * remaining leaves are cleaned up leaf by leaf (topology, power management and cache details hidden, vendor
 * specific fields cleared). Guests see it through the forced-emulation prefix (ud2; .ascii "xen"; cpuid) and,
 * where the hardware offers CPUID faulting, on a plain CPUID.
 *
 * One deliberate difference from Xen: Vesta saves guest FPU state with FXSAVE only, so XSAVE and everything
 * built on it (AVX, AVX2, AVX-512, FMA, F16C, XSAVEOPT/C/S, ...) is hidden; leaf 0xD is then empty. */
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/pv.h>
#include <vesta/timer.h>
#include <vesta/x86.h>

#include "emulate.h"

/* Featureset words (Xen's numbering, public/arch-x86/cpufeatureset.h). */
enum {
    FS_1D, FS_1C, FS_E1D, FS_E1C, FS_DA1, FS_7B0, FS_7C0, FS_E7D, FS_E8B, FS_7D0, FS_7A1, FS_E21A, FS_7B1,
    FS_7D2, FS_7C1, FS_7D1, FS_M10AL, FS_M10AH, FS_E21C, FS_NR
};
#define FEAT(word, bit) ((word) * 32 + (bit))

/* Xen 4.17's default PV featureset (INIT_PV_DEF_FEATURES, generated from the 'A' annotations). */
static const uint32_t pv_def_mask[FS_NR] = {
    0x1fc9cbf5, 0xf6d83203, 0xea500800, 0x042109e3, 0x00000007, 0xfdaf0b29, 0x02405f43,
    0x00000000, 0x64001005, 0xac00441c, 0x00001c30, 0x78000064, 0x00000000, 0x00000021,
    0x00000000, 0x00000000, 0x1d12e173, 0x40000000, 0x00000006,
};
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

#define F_1D_SEP FEAT(FS_1D, 11)
#define F_1D_MTRR FEAT(FS_1D, 12)
#define F_1D_HTT FEAT(FS_1D, 28)
#define F_1D_PBE FEAT(FS_1D, 31)
#define F_1C_XSAVE FEAT(FS_1C, 26)
#define F_1C_OSXSAVE FEAT(FS_1C, 27)
#define F_1C_HYPERVISOR FEAT(FS_1C, 31)
#define F_E1C_CMP_LEGACY FEAT(FS_E1C, 1)
#define F_E1D_PAGE1GB FEAT(FS_E1D, 26)
#define F_E7D_ITSC FEAT(FS_E7D, 8)
#define F_E8B_IBPB FEAT(FS_E8B, 12)
#define F_E8B_IBRS FEAT(FS_E8B, 14)
#define F_E8B_AMD_STIBP FEAT(FS_E8B, 15)
#define F_E21A_LFENCE_DISPATCH FEAT(FS_E21A, 2)
#define F_E21C_VERW_CLEAR FEAT(FS_E21C, 5) /* AMD's "VERW clears CPU buffers" (bit 5 of 0x80000021.ecx) */
#define F_7D0_IBRSB FEAT(FS_7D0, 26)
#define F_7D0_STIBP FEAT(FS_7D0, 27)
#define F_7D0_MD_CLEAR FEAT(FS_7D0, 10)

/* Leaf 1 EDX features that AMD mirrors into 0x80000001 EDX (CPUID_COMMON_1D_FEATURES). */
#define COMMON_1D 0x0183f3ffu

static bool test_f(const uint32_t *fs, unsigned int f) { return fs[f / 32] & (1u << (f % 32)); }
static void set_f(uint32_t *fs, unsigned int f) { fs[f / 32] |= 1u << (f % 32); }
static void clear_f(uint32_t *fs, unsigned int f) { fs[f / 32] &= ~(1u << (f % 32)); }

struct leaf {
    uint32_t a, b, c, d;
};

#define NR_BASIC 0xe      /* leaves 0 .. 0xd */
#define NR_FEAT 3         /* leaf 7 subleaves 0 .. 2 */
#define NR_CACHE 6        /* leaf 4 subleaves */
#define NR_EXTD_AMD 0x22  /* 0x80000000 .. 0x80000021 */
#define NR_EXTD_INTEL 0x9 /* 0x80000000 .. 0x80000008 */

static struct {
    bool ready;
    bool amd, intel;
    uint32_t max_basic, max_extd, max_subleaf7;
    struct leaf basic[NR_BASIC], feat[NR_FEAT], cache[NR_CACHE], extd[NR_EXTD_AMD];
    uint32_t fs[FS_NR];      /* the default PV featureset */
    bool host_mtrr, host_itsc, host_rdtscp, host_faulting;
    unsigned int family;
} pol;
static spinlock_t pol_lock = SPINLOCK_INIT;

static void host_leaf(uint32_t leaf, uint32_t sub, struct leaf *l) { cpuid_count(leaf, sub, &l->a, &l->b, &l->c, &l->d); }

/* Xen makes LFENCE dispatch-serialising on AMD parts (DE_CFG bit 1) and advertises that to guests. */
static bool amd_lfence_dispatch(void)
{
    const uint32_t de_cfg = 0xc0011029;
    uint64_t v;
    if (rdmsr_safe(de_cfg, &v))
        return false;
    if (v & 2)
        return true;
    return !wrmsr_safe(de_cfg, v | 2) && !rdmsr_safe(de_cfg, &v) && (v & 2);
}

static void sanitise(uint32_t *fs)
{
    uint32_t disabled[FS_NR];
    for (unsigned int i = 0; i < FS_NR; i++) {
        fs[i] &= known_mask[i];
        disabled[i] = ~fs[i];
    }
    /* The table is ordered so that a parent precedes features whose own dependants it removes. */
    for (unsigned int i = 0; i < ARRAY_SIZE(deep_deps); i++) {
        if (!test_f(disabled, deep_deps[i].feat))
            continue;
        for (unsigned int w = 0; w < FS_NR; w++) {
            fs[w] &= ~deep_deps[i].deps[w];
            disabled[w] |= deep_deps[i].deps[w];
        }
    }
}

static void build_policy(void)
{
    struct leaf l;
    host_leaf(0, 0, &l);
    pol.intel = l.b == 0x756e6547 && l.d == 0x49656e69 && l.c == 0x6c65746e;
    pol.amd = l.b == 0x68747541 && l.d == 0x69746e65 && l.c == 0x444d4163;
    pol.max_basic = MIN(l.a, NR_BASIC - 1);
    uint64_t pi, mfe;
    /* Hardware CPUID faulting: only probed, not switched on (see pv_host_cpuid_faulting). */
    pol.host_faulting = !rdmsr_safe(0xce, &pi) && (pi & (1UL << 31)) && !rdmsr_safe(0x140, &mfe);
    for (uint32_t i = 0; i <= pol.max_basic; i++)
        host_leaf(i, 0, &pol.basic[i]);
    {
        uint32_t fms = pol.basic[1].a, fam = (fms >> 8) & 0xf;
        pol.family = fam == 0xf ? fam + ((fms >> 20) & 0xff) : fam;
    }
    if (pol.max_basic >= 7) {
        pol.max_subleaf7 = MIN(pol.basic[7].a, NR_FEAT - 1);
        for (uint32_t i = 0; i <= pol.max_subleaf7; i++)
            host_leaf(7, i, &pol.feat[i]);
    }
    if (pol.max_basic >= 4)
        for (uint32_t i = 0; i < NR_CACHE; i++)
            host_leaf(4, i, &pol.cache[i]);
    host_leaf(0x80000000, 0, &l);
    uint32_t host_max_extd = (l.a & 0xffff0000) == 0x80000000 ? l.a : 0x80000000;
    bool lfence = false;
    if (pol.amd) {
        lfence = amd_lfence_dispatch();
        if (lfence && host_max_extd < 0x80000021)
            host_max_extd = 0x80000021; /* Xen extends the range to report it */
    }
    uint32_t limit = pol.amd ? NR_EXTD_AMD : NR_EXTD_INTEL;
    pol.max_extd = 0x80000000 | MIN(host_max_extd & 0xffff, limit - 1);
    for (uint32_t i = 0; i <= (pol.max_extd & 0xffff); i++)
        host_leaf(0x80000000 | i, 0, &pol.extd[i]);

    /* The host featureset, as Xen's boot CPU sees it. */
    uint32_t *fs = pol.fs;
    fs[FS_1D] = pol.basic[1].d;
    fs[FS_1C] = pol.basic[1].c;
    fs[FS_E1D] = pol.extd[1].d;
    fs[FS_E1C] = pol.extd[1].c;
    fs[FS_7B0] = pol.feat[0].b;
    fs[FS_7C0] = pol.feat[0].c;
    fs[FS_7D0] = pol.feat[0].d;
    fs[FS_7A1] = pol.feat[1].a;
    fs[FS_7B1] = pol.feat[1].b;
    fs[FS_7C1] = pol.feat[1].c;
    fs[FS_7D1] = pol.feat[1].d;
    fs[FS_7D2] = pol.feat[2].d;
    fs[FS_E7D] = pol.extd[7].d;
    fs[FS_E8B] = pol.extd[8].b;
    fs[FS_E21A] = pol.extd[0x21].a;
    fs[FS_E21C] = pol.extd[0x21].c;
    if (pol.max_basic >= 0xd) {
        host_leaf(0xd, 1, &l);
        fs[FS_DA1] = l.a;
    }
    pol.host_mtrr = test_f(fs, F_1D_MTRR);
    pol.host_itsc = test_f(fs, F_E7D_ITSC);
    pol.host_rdtscp = fs[FS_E1D] & (1u << 27);
    bool host_htt = test_f(fs, F_1D_HTT), host_cmp_legacy = test_f(fs, F_E1C_CMP_LEGACY);
    bool host_ibrsb = test_f(fs, F_7D0_IBRSB);
    clear_f(fs, F_1D_SEP); /* SYSENTER is not usable from 64-bit PV */
    if (pol.amd) {
        clear_f(fs, F_1D_PBE); /* aliases 3DNow! on AMD */
        if (lfence)
            set_f(fs, F_E21A_LFENCE_DISPATCH);
        else
            clear_f(fs, F_E21A_LFENCE_DISPATCH);
    }
    clear_f(fs, F_1C_OSXSAVE); /* dynamic: reflects the guest's CR4 */

    /* The default PV policy. */
    for (unsigned int i = 0; i < FS_NR; i++)
        fs[i] &= pv_def_mask[i];
    set_f(fs, F_1C_HYPERVISOR);
    if (test_f(fs, F_7D0_IBRSB))
        set_f(fs, F_7D0_STIBP);
    if (test_f(fs, F_E8B_IBRS))
        set_f(fs, F_E8B_AMD_STIBP);
    if (host_ibrsb)
        set_f(fs, F_E8B_IBPB);
    if (!host_htt)
        clear_f(fs, F_1D_HTT);
    if (!host_cmp_legacy)
        clear_f(fs, F_E1C_CMP_LEGACY);
    clear_f(fs, F_1C_XSAVE); /* Vesta: FXSAVE-only FPU context (see the top of this file) */
    sanitise(fs);

    /* Leaf-by-leaf clean-up. */
    pol.basic[0].a = pol.max_basic;
    pol.basic[1].a &= 0x0fff0fff;
    pol.basic[1].b &= 0x00ffffff; /* APIC ID: dynamic, and 0 for PV */
    pol.basic[1].c = fs[FS_1C];
    pol.basic[1].d = fs[FS_1D];
    pol.basic[5] = pol.basic[6] = pol.basic[8] = pol.basic[0xc] = (struct leaf){0};
    pol.basic[0xb] = pol.basic[0xd] = (struct leaf){0}; /* topology hidden; no XSAVE */
    pol.basic[0xa] = (struct leaf){0};                   /* no vPMU */
    if (pol.max_basic >= 7) {
        pol.feat[0].a = pol.max_subleaf7;
        pol.feat[0].b = fs[FS_7B0];
        pol.feat[0].c = fs[FS_7C0];
        pol.feat[0].d = fs[FS_7D0];
        pol.feat[1] = (struct leaf){fs[FS_7A1], fs[FS_7B1], fs[FS_7C1], fs[FS_7D1]};
        pol.feat[2] = (struct leaf){0, 0, 0, fs[FS_7D2]};
    }
    if (pol.amd) {
        pol.basic[2] = pol.basic[3] = pol.basic[9] = (struct leaf){0};
        memset(pol.cache, 0, sizeof(pol.cache));
    } else {
        pol.basic[2].a = (pol.basic[2].a & ~0xffu) | 1; /* one query */
        pol.basic[3] = pol.basic[9] = (struct leaf){0};
        for (unsigned int i = 0; i < NR_CACHE; i++) {
            unsigned int type = pol.cache[i].a & 0x1f;
            if (type < 1 || type > 3) {
                memset(&pol.cache[i], 0, sizeof(pol.cache[0]) * (NR_CACHE - i));
                break;
            }
            pol.cache[i].a &= 0xffffc3ff;
            pol.cache[i].d &= 7;
        }
    }

    pol.extd[0].a = pol.max_extd;
    pol.extd[1].c = fs[FS_E1C];
    pol.extd[1].d = fs[FS_E1D] & ~COMMON_1D;
    pol.extd[7] = (struct leaf){0, 0, 0, fs[FS_E7D]};
    pol.extd[8].b = fs[FS_E8B];
    pol.extd[8].d = 0;
    /* Physical address width passes through; linear is 48 bits (4-level paging). */
    pol.extd[8].a = (pol.extd[8].a & 0xff) | (48 << 8);
    if (pol.amd) {
        pol.extd[0].b = pol.basic[0].b;
        pol.extd[0].c = pol.basic[0].c;
        pol.extd[0].d = pol.basic[0].d;
        pol.extd[1].a = pol.basic[1].a;
        pol.extd[1].b &= 0xff00ffff;
        pol.extd[1].d |= pol.basic[1].d & COMMON_1D;
        pol.extd[8].c &= 0x0003f0ff;
        pol.extd[9] = pol.extd[0xa] = (struct leaf){0}; /* no SVM for PV */
        for (unsigned int i = 0xb; i <= 0x20 && i < NR_EXTD_AMD; i++)
            if (i != 0x19 && i != 0x1a)
                pol.extd[i] = (struct leaf){0};
        if (!test_f(fs, F_E1D_PAGE1GB))
            pol.extd[0x19] = (struct leaf){0};
        pol.extd[0x21] = (struct leaf){fs[FS_E21A], 0, fs[FS_E21C], 0};
    } else {
        pol.extd[0].b = pol.extd[0].c = pol.extd[0].d = 0;
        pol.extd[1].a = pol.extd[1].b = 0;
        pol.extd[5] = (struct leaf){0};
        pol.extd[6].a = pol.extd[6].b = pol.extd[6].d = 0;
        pol.extd[8].c = 0;
    }
    __atomic_store_n(&pol.ready, true, __ATOMIC_RELEASE);
}

static void hypervisor_leaf(struct vcpu *v, uint32_t idx, uint32_t sub, struct leaf *r)
{
    const uint32_t base = 0x40000000, limit = 5;
    *r = (struct leaf){0};
    if (idx > limit)
        return;
    switch (idx) {
    case 0:
        *r = (struct leaf){base + limit, 0x566e6558, 0x65584d4d, 0x4d4d566e}; /* "XenVMMXenVMM" */
        break;
    case 1:
        r->a = (4u << 16) | 17; /* Xen 4.17 */
        break;
    case 2:
        r->a = 1;           /* hypercall pages */
        r->b = 0x40000000;  /* the hypercall-page MSR */
        r->c = 1;           /* XEN_CPUID_FEAT1_MMU_PT_UPDATE_PRESERVE_AD */
        break;
    case 3:
        /* Time. Vesta runs guests in TSC mode 0 with the native TSC: no virtual TSC, no offset, no scaling, and
         * (as for Xen's dom0) no guest TSC frequency; subleaf 2 reports the host's. The stable bit stays clear:
         * Vesta does not claim a TSC that is reliable across CPUs. */
        if (sub == 0)
            r->a = pol.host_rdtscp ? 4 : 0;
        else if (sub == 2)
            r->a = (uint32_t)tsc_khz;
        break;
    case 5:
        if (sub == 0) /* machine address width: enough bits for the highest frame */
            r->b = (max_mfn > 1 ? 64 - (uint32_t)__builtin_clzl(max_mfn - 1) : 1) + PAGE_SHIFT;
        break;
    default:
        break; /* 4: HVM only */
    }
    (void)v;
}

static void ensure_policy(void)
{
    if (__atomic_load_n(&pol.ready, __ATOMIC_ACQUIRE))
        return;
    spin_lock(&pol_lock);
    if (!pol.ready)
        build_policy();
    spin_unlock(&pol_lock);
}

enum pv_vendor pv_host_vendor(void)
{
    ensure_policy();
    return pol.intel ? PV_VENDOR_INTEL : pol.amd ? PV_VENDOR_AMD : PV_VENDOR_OTHER;
}

unsigned int pv_host_family(void)
{
    ensure_policy();
    return pol.family;
}

/* Xen turns hardware CPUID faulting on for every PV vCPU when the CPU has it, so that a plain CPUID also sees
 * the policy. Vesta does not (yet) switch it on, so it must not offer the guest a virtual CPUID faulting that a
 * native user-mode CPUID would ignore: the guest is told faulting is unavailable. */
bool pv_host_cpuid_faulting(void)
{
    ensure_policy();
    return false;
}

bool pv_policy_has(unsigned int word, unsigned int bit)
{
    ensure_policy();
    return word < FS_NR && bit < 32 && (pol.fs[word] & (1u << bit));
}

void pv_cpuid(struct vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t *a, uint32_t *b, uint32_t *c,
              uint32_t *d)
{
    struct leaf r = {0};
    ensure_policy();
    struct domain *dom = v->domain;
    if (leaf < 0x40000000) {
        if (leaf > pol.max_basic)
            goto out;
        if (leaf == 4)
            r = subleaf < NR_CACHE ? pol.cache[subleaf] : r;
        else if (leaf == 7)
            r = subleaf <= pol.max_subleaf7 ? pol.feat[subleaf] : r;
        else
            r = pol.basic[leaf];
    } else if (leaf < 0x40000200) {
        hypervisor_leaf(v, leaf - 0x40000000, subleaf, &r);
        goto out;
    } else if (leaf >= 0x80000000 && leaf < 0x80000000 + NR_EXTD_AMD) {
        if (leaf > pol.max_extd)
            goto out;
        r = pol.extd[leaf & 0xffff];
    } else {
        goto out;
    }

    /* Dynamic adjustments. */
    bool hwdom_kernel = dom->privileged && v->pv.kernel_mode;
    switch (leaf) {
    case 1:
        if (v->emul_cr4 & X86_CR4_OSXSAVE)
            r.c |= 1u << 27;
        /* Xen leaks MTRR to the hardware domain's kernel: Xenolinux dom0s take it to mean the memtype
         * platform ops exist. */
        if (hwdom_kernel && pol.host_mtrr)
            r.d |= 1u << 12;
        break;
    case 0x80000001:
        if (hwdom_kernel && pol.host_mtrr)
            r.d |= 1u << 12;
        break;
    case 0x80000007:
        /* Dom0 does not migrate, so Xen gives it the invariant TSC bit when the host has one. */
        if (dom->privileged && pol.host_itsc)
            r.d |= 1u << 8;
        break;
    default:
        break;
    }
out:
    *a = r.a;
    *b = r.b;
    *c = r.c;
    *d = r.d;
}
