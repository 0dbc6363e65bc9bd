/* CPUID for 64-bit PV guests, and the policies behind it, as Xen 4.17 builds them.
 *
 * Four system policies are built once from the boot CPU's CPUID (vesta/cpu_policy.h describes the structure):
 *   raw        what the hardware reports;
 *   host       raw with the limits Xen's ABI can carry, Vesta's own adjustments to the host featureset, and the
 *              leaves cleaned as for any non-raw policy;
 *   PV max     the most a PV guest may be given: host features masked with Xen's PV max featureset (its 'A' and
 *              'a' annotations) plus Xen's adjustments for guests;
 *   PV default PV max masked further with Xen's PV default featureset ('A' only).
 * A domain's policy starts as PV default recalculated for a guest (cpu_policy_recalc_guest); the toolstack may
 * replace it while the domain is being built (cpu_policy_set, audited against PV max). Dom0, which never
 * migrates, also gets the invariant TSC when the host has one. A domain without a policy of its own sees the
 * initial domain's. Guests see their policy through the forced-emulation prefix (ud2; .ascii "xen"; cpuid) and,
 * where CPUID faulting would be on, a plain CPUID; a few bits are computed per call (OSXSAVE follows the guest's
 * CR4; the hardware domain's kernel sees MTRR, as on Xen).
 *
 * One deliberate difference from Xen: Vesta saves guest FPU state with FXSAVE only, so XSAVE and everything
 * built on it (AVX, AVX2, AVX-512, FMA, F16C, XSAVEOPT/C/S, ...) is absent from PV max, and leaf 0xD of every
 * guest policy is empty. Vesta does not offer virtual CPUID faulting either (PLATFORM_INFO reads 0).
 *
 * Locking: the system policies are built under build_lock on first use and never change afterwards. A domain's
 * policy pointer is replaced only while the domain is paused during its construction (cpu_policy_set), so
 * readers take no lock. */
#include <public/sysctl.h>
#include <vesta/cpu_policy.h>
#include <vesta/errno.h>
#include <vesta/guest_access.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/pv.h>
#include <vesta/timer.h>
#include <vesta/x86.h>

#include "emulate.h"

/* Xen 4.17's PV featuresets (INIT_PV_MAX_FEATURES and INIT_PV_DEF_FEATURES from its cpufeatureset.h). */
static const uint32_t pv_max_mask[FS_NR] = {
    0x1fc9cbf5, 0xf6d83203, 0xea500800, 0x042109e3, 0x00000007, 0xfdaf0b39, 0x1a405f43,
    0x00000100, 0x64001005, 0xac01451c, 0x00001c30, 0x78000064, 0x00000000, 0x00000021,
    0x00000000, 0x00000000, 0x1d12e173, 0x40000000, 0x00000006,
};
static const uint32_t pv_def_mask[FS_NR] = {
    0x1fc9cbf5, 0xf6d83203, 0xea500800, 0x042109e3, 0x00000007, 0xfdaf0b29, 0x02405f43,
    0x00000000, 0x64001005, 0xac00441c, 0x00001c30, 0x78000064, 0x00000000, 0x00000021,
    0x00000000, 0x00000000, 0x1d12e173, 0x40000000, 0x00000006,
};

/* Features the guest adjustments below name. */
#define F_1D_SEP FEAT(FS_1D, 11)
#define F_1D_PBE FEAT(FS_1D, 31)
#define F_1C_X2APIC FEAT(FS_1C, 21)
#define F_7B0_RTM FEAT(FS_7B0, 11)
#define F_7D0_MD_CLEAR FEAT(FS_7D0, 10)
#define F_7D0_RTM_ALWAYS_ABORT FEAT(FS_7D0, 11)
#define F_E21A_VERW_CLEAR FEAT(FS_E21A, 5)
#define F_E21A_SRSO_US_NO FEAT(FS_E21A, 30)
#define F_M10_RSBA FEAT(FS_M10AL, 2)
#define F_M10_FB_CLEAR FEAT(FS_M10AL, 17)
#define F_M10_RRSBA FEAT(FS_M10AL, 19)
#define F_M10_RFDS_CLEAR FEAT(FS_M10AL, 28)

static struct cpu_policy raw_policy, host_policy, pv_max_policy, pv_def_policy;
static struct cpu_policy init_domain_policy; /* dom0's, and any domain's without its own */
static bool policies_ready;
static spinlock_t build_lock = SPINLOCK_INIT;
static uint32_t host_fs[FS_NR];
static unsigned int host_family;

static void host_leaf(uint32_t leaf, uint32_t sub, struct cpuid_leaf *l) { cpuid_count(leaf, sub, &l->a, &l->b, &l->c, &l->d); }

/* Xen makes LFENCE dispatch-serialising on AMD parts and advertises that to guests: it always is on families 0xf
 * and 0x11 and where the CPU says so itself; elsewhere DE_CFG bit 1 makes it so if the MSR takes the write. */
static bool amd_lfence_dispatch(const struct cpu_policy *raw, unsigned int family)
{
    const uint32_t de_cfg = 0xc0011029;
    uint64_t v;
    if (family == 0xf || family == 0x11)
        return true;
    if ((raw->extd[0].a & 0xffff) >= 0x21 && (raw->extd[0x21].a & (1u << (X86_FEAT_LFENCE_DISPATCH % 32))))
        return true;
    if (rdmsr_safe(de_cfg, &v))
        return false;
    if (v & 2)
        return true;
    return !wrmsr_safe(de_cfg, v | 2) && !rdmsr_safe(de_cfg, &v) && (v & 2);
}

/* Hardware CPUID faulting (PLATFORM_INFO bit 31 with MISC_FEATURES_ENABLES present): only probed. */
static bool probe_cpuid_faulting(void)
{
    uint64_t pi, mfe;
    return !rdmsr_safe(MSR_INTEL_PLATFORM_INFO, &pi) && (pi & PLATFORM_INFO_CPUID_FAULTING) &&
           !rdmsr_safe(0x140, &mfe);
}

static void read_raw_policy(struct cpu_policy *p)
{
    host_leaf(0, 0, &p->basic[0]);
    uint32_t max_basic = MIN(p->basic[0].a, CPUID_NR_BASIC - 1);
    for (uint32_t i = 1; i <= max_basic; i++)
        if (i != 4 && i != 7 && i != 0xb && i != 0xd)
            host_leaf(i, 0, &p->basic[i]);
    if (max_basic >= 4)
        for (uint32_t i = 0; i < CPUID_NR_CACHE; i++) {
            host_leaf(4, i, &p->cache[i]);
            if (!(p->cache[i].a & 0x1f))
                break;
        }
    if (max_basic >= 7) {
        host_leaf(7, 0, &p->feat[0]);
        for (uint32_t i = 1; i <= MIN(p->feat[0].a, CPUID_NR_FEAT - 1); i++)
            host_leaf(7, i, &p->feat[i]);
    }
    if (max_basic >= 0xb)
        for (uint32_t i = 0; i < CPUID_NR_TOPO; i++) {
            host_leaf(0xb, i, &p->topo[i]);
            if (!((p->topo[i].c >> 8) & 0xff))
                break;
        }
    if (max_basic >= 0xd) {
        host_leaf(0xd, 0, &p->xstate[0]);
        host_leaf(0xd, 1, &p->xstate[1]);
        uint64_t xstates = p->xstate[0].a | ((uint64_t)p->xstate[0].d << 32) | p->xstate[1].c |
                           ((uint64_t)p->xstate[1].d << 32);
        for (uint32_t i = 2; i < CPUID_NR_XSTATE; i++)
            if (xstates & (1UL << i))
                host_leaf(0xd, i, &p->xstate[i]);
    }
    host_leaf(0x80000000, 0, &p->extd[0]);
    if ((p->extd[0].a & 0xffff0000) != 0x80000000)
        p->extd[0] = (struct cpuid_leaf){0}; /* no extended leaves at all */
    for (uint32_t i = 1; i <= MIN(p->extd[0].a & 0xffff, CPUID_NR_EXTD - 1); i++)
        host_leaf(0x80000000 | i, 0, &p->extd[i]);

    if (probe_cpuid_faulting())
        p->platform_info = PLATFORM_INFO_CPUID_FAULTING;
    uint32_t fs[FS_NR];
    cpu_policy_get_featureset(p, fs);
    uint64_t caps;
    if (fs_test(fs, X86_FEAT_ARCH_CAPS) && !rdmsr_safe(MSR_ARCH_CAPABILITIES, &caps))
        p->arch_caps = caps;
}

static void build_host_policy(void)
{
    struct cpu_policy *p = &host_policy;
    *p = raw_policy;
    bool amd = cpu_policy_vendor(p) == CPU_VENDOR_AMD;
    p->basic[0].a = MIN(p->basic[0].a, CPUID_NR_BASIC - 1);
    p->feat[0].a = MIN(p->feat[0].a, CPUID_NR_FEAT - 1);
    uint32_t fms = p->basic[1].a, fam = (fms >> 8) & 0xf;
    host_family = fam == 0xf ? fam + ((fms >> 20) & 0xff) : fam;
    uint32_t max_extd = p->extd[0].a;
    bool lfence = amd && amd_lfence_dispatch(&raw_policy, host_family);
    if (lfence && max_extd < 0x80000021)
        max_extd = 0x80000021; /* Xen extends the range to report LFENCE_DISPATCH */
    p->extd[0].a = max_extd ? 0x80000000 | MIN(max_extd & 0xffff, CPUID_NR_EXTD - 1) : 0;

    /* The host featureset (Xen's boot_cpu_data.x86_capability): the features Xen knows that the CPU offers, with
     * Vesta's own adjustments. */
    uint32_t *fs = host_fs;
    cpu_policy_get_featureset(p, fs);
    featureset_clamp_known(fs);
    /* SEP stays: the CPU has SYSENTER (usable outside long mode), and physinfo's hw_cap must say what the machine
     * has. Xen clears it on AMD, which leaves libvirt no CPU model to name a TCG host with (every model needs VME
     * or SEP). Guests never see it: the PV policies drop it below. */
    if (amd) {
        fs_clear(fs, F_1D_PBE); /* aliases 3DNow! on AMD */
        if (lfence)
            fs_set(fs, X86_FEAT_LFENCE_DISPATCH);
        else
            fs_clear(fs, X86_FEAT_LFENCE_DISPATCH);
    }
    fs_clear(fs, X86_FEAT_OSXSAVE); /* dynamic: reflects the guest's CR4 */
    cpu_policy_set_featureset(p, fs);
    cpu_policy_clean_leaves(p);
    p->basic[0xa] = (struct cpuid_leaf){0}; /* no virtual PMU */
}

/* Adjustments every guest policy gets (Xen's guest_common_feature_adjustments). */
static void guest_feature_adjustments(uint32_t *fs)
{
    fs_set(fs, X86_FEAT_HYPERVISOR);
    /* STIBP comes with IBRS: a no-op without SMT, and it keeps mixed pools simple. */
    if (fs_test(fs, X86_FEAT_IBRSB))
        fs_set(fs, X86_FEAT_STIBP);
    if (fs_test(fs, X86_FEAT_IBRS))
        fs_set(fs, X86_FEAT_AMD_STIBP);
    /* With IBRS/IBPB hardware, IBPB may be offered on its own through the AMD bit. */
    if (fs_test(host_fs, X86_FEAT_IBRSB))
        fs_set(fs, X86_FEAT_IBPB);
}

static void build_pv_max_policy(void)
{
    struct cpu_policy *p = &pv_max_policy;
    uint32_t fs[FS_NR];
    *p = host_policy;
    p->feat[0].a = CPUID_NR_FEAT - 1; /* guests that saw more leaf-7 subleaves may still come in */
    cpu_policy_get_featureset(p, fs);
    for (unsigned int i = 0; i < FS_NR; i++)
        fs[i] &= pv_max_mask[i];
    /* Xen used to leak x2APIC to PV guests; a guest that saw it may migrate in. */
    fs_set(fs, F_1C_X2APIC);
    /* SRSO_US_NO means nothing across the PV64 user/kernel boundary unless BP_SPEC_REDUCE is active, which
     * Vesta never turns on. */
    fs_clear(fs, F_E21A_SRSO_US_NO);
    /* Bits saying "you may migrate where this matters" (Xen's guest_common_max_feature_adjustments). */
    switch (cpu_policy_vendor(p)) {
    case CPU_VENDOR_INTEL:
        fs_set(fs, X86_FEAT_ARCH_CAPS);
        fs_set(fs, F_M10_RSBA);
        fs_set(fs, F_M10_RRSBA);
        fs_set(fs, F_7D0_MD_CLEAR);
        fs_set(fs, F_M10_FB_CLEAR);
        fs_set(fs, F_M10_RFDS_CLEAR);
        if (fs_test(fs, F_7B0_RTM))
            fs_set(fs, F_7D0_RTM_ALWAYS_ABORT);
        break;
    case CPU_VENDOR_AMD:
        fs_set(fs, F_E21A_VERW_CLEAR);
        break;
    default:
        break;
    }
    /* The topology a guest sees is the toolstack's choice. */
    fs_set(fs, X86_FEAT_HTT);
    fs_set(fs, X86_FEAT_CMP_LEGACY);
    guest_feature_adjustments(fs);
    fs_clear(fs, X86_FEAT_XSAVE); /* Vesta: FXSAVE-only FPU context (see the top of this file) */
    fs_clear(fs, F_1D_SEP);       /* Vesta has no SYSENTER entry path for guests */
    featureset_sanitise(fs);
    cpu_policy_set_featureset(p, fs);
    memset(p->xstate, 0, sizeof(p->xstate));
    p->extd[0xa] = (struct cpuid_leaf){0}; /* no SVM for PV */
    p->platform_info = 0;                  /* no virtual CPUID faulting */
}

static void build_pv_def_policy(void)
{
    struct cpu_policy *p = &pv_def_policy;
    uint32_t fs[FS_NR];
    *p = pv_max_policy;
    p->feat[0].a = host_policy.feat[0].a;
    cpu_policy_get_featureset(p, fs);
    for (unsigned int i = 0; i < FS_NR; i++)
        fs[i] &= pv_def_mask[i];
    guest_feature_adjustments(fs);
    /* Back to the host's values for bits max sets only for migration (guest_common_default_...). */
    switch (cpu_policy_vendor(p)) {
    case CPU_VENDOR_INTEL:
        if (!fs_test(host_fs, F_7D0_MD_CLEAR))
            fs_clear(fs, F_7D0_MD_CLEAR);
        if (!fs_test(host_fs, F_M10_FB_CLEAR))
            fs_clear(fs, F_M10_FB_CLEAR);
        if (!fs_test(host_fs, F_M10_RFDS_CLEAR))
            fs_clear(fs, F_M10_RFDS_CLEAR);
        break;
    case CPU_VENDOR_AMD:
        if (!fs_test(host_fs, F_E21A_VERW_CLEAR))
            fs_clear(fs, F_E21A_VERW_CLEAR);
        break;
    default:
        break;
    }
    if (!fs_test(host_fs, X86_FEAT_HTT))
        fs_clear(fs, X86_FEAT_HTT);
    if (!fs_test(host_fs, X86_FEAT_CMP_LEGACY))
        fs_clear(fs, X86_FEAT_CMP_LEGACY);
    featureset_sanitise(fs);
    cpu_policy_set_featureset(p, fs);
    memset(p->xstate, 0, sizeof(p->xstate));
}

static void build_policies(void)
{
    read_raw_policy(&raw_policy);
    build_host_policy();
    build_pv_max_policy();
    build_pv_def_policy();
    struct cpu_policy *d0 = &init_domain_policy;
    *d0 = pv_def_policy;
    cpu_policy_recalc_guest(d0, &pv_max_policy, &host_policy);
    /* It never migrates, so it may rely on an invariant TSC. */
    if (fs_test(host_fs, X86_FEAT_ITSC))
        d0->extd[7].d |= 1u << (X86_FEAT_ITSC % 32);
    __atomic_store_n(&policies_ready, true, __ATOMIC_RELEASE);
}

static void ensure_policies(void)
{
    if (__atomic_load_n(&policies_ready, __ATOMIC_ACQUIRE))
        return;
    spin_lock(&build_lock);
    if (!policies_ready)
        build_policies();
    spin_unlock(&build_lock);
}

static const struct cpu_policy *domain_policy(const struct domain *d)
{
    ensure_policies();
    return d->cpu_policy ? d->cpu_policy : &init_domain_policy;
}

/* ---- Facts for the emulation code (emulate.h) ---- */

enum pv_vendor pv_host_vendor(void)
{
    ensure_policies();
    switch (cpu_policy_vendor(&host_policy)) {
    case CPU_VENDOR_INTEL:
        return PV_VENDOR_INTEL;
    case CPU_VENDOR_AMD:
        return PV_VENDOR_AMD;
    default:
        return PV_VENDOR_OTHER;
    }
}

unsigned int pv_host_family(void)
{
    ensure_policies();
    return host_family;
}

/* Xen turns hardware CPUID faulting on for every PV vCPU when the CPU has it, so that a plain CPUID also sees
 * the policy. Vesta does not (yet) switch it on, so it must not offer the guest a virtual CPUID faulting that a
 * native user-mode CPUID would ignore: the guest is told faulting is unavailable. */
bool pv_host_cpuid_faulting(void)
{
    ensure_policies();
    return false;
}

bool pv_policy_has(const struct domain *d, unsigned int word, unsigned int bit)
{
    uint32_t fs[FS_NR];
    if (word >= FS_NR || bit >= 32)
        return false;
    cpu_policy_get_featureset(domain_policy(d), fs);
    return fs[word] & (1u << bit);
}

uint64_t pv_policy_msr(const struct domain *d, uint32_t msr)
{
    const struct cpu_policy *p = domain_policy(d);
    return msr == MSR_ARCH_CAPABILITIES ? p->arch_caps : msr == MSR_INTEL_PLATFORM_INFO ? p->platform_info : 0;
}

/* ---- What the guest's CPUID returns ---- */

static void hypervisor_leaf(const struct cpu_policy *p, uint32_t idx, uint32_t sub, struct cpuid_leaf *r)
{
    const uint32_t base = 0x40000000, max_leaves = 5;
    /* The toolstack may lower the number of leaves (to no fewer than 2); 0 keeps them all. */
    uint32_t limit = p->hv_limit ? MIN(MAX(p->hv_limit, 2u), max_leaves) : max_leaves;
    *r = (struct cpuid_leaf){0};
    if (idx > limit)
        return;
    switch (idx) {
    case 0:
        *r = (struct cpuid_leaf){base + limit, 0x566e6558, 0x65584d4d, 0x4d4d566e}; /* "XenVMMXenVMM" */
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
            r->a = fs_test(host_fs, X86_FEAT_RDTSCP) ? 4 : 0;
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
}

void pv_cpuid(struct vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t *a, uint32_t *b, uint32_t *c,
              uint32_t *d)
{
    struct cpuid_leaf r = {0};
    struct domain *dom = v->domain;
    const struct cpu_policy *p = domain_policy(dom);
    if (leaf < 0x40000000) {
        if (leaf > MIN(p->basic[0].a, CPUID_NR_BASIC - 1))
            goto out;
        switch (leaf) {
        case 4:
            r = subleaf < CPUID_NR_CACHE ? p->cache[subleaf] : r;
            break;
        case 7:
            r = subleaf <= MIN(p->feat[0].a, CPUID_NR_FEAT - 1) ? p->feat[subleaf] : r;
            break;
        case 0xb:
            r = subleaf < CPUID_NR_TOPO ? p->topo[subleaf] : r;
            break;
        case 0xd:
            r = subleaf < CPUID_NR_XSTATE ? p->xstate[subleaf] : r;
            break;
        default:
            r = p->basic[leaf];
            break;
        }
    } else if (leaf < 0x40000200) {
        /* Xen's leaves sit at 0x40000000 (0x40000100 only for Viridian guests, which PV ones are not). */
        if (leaf < 0x40000100)
            hypervisor_leaf(p, leaf - 0x40000000, subleaf, &r);
        goto out;
    } else if (leaf >= 0x80000000 && leaf < 0x80000000 + CPUID_NR_EXTD) {
        if (leaf > (0x80000000 | MIN(p->extd[0].a & 0xffff, CPUID_NR_EXTD - 1)) ||
            (p->extd[0].a & 0xffff0000) != 0x80000000)
            goto out;
        r = p->extd[leaf & 0xffff];
    } else {
        goto out;
    }

    /* Per-call adjustments. */
    bool hwdom_kernel = dom->privileged && v->pv.kernel_mode;
    switch (leaf) {
    case 1:
        if (v->emul_cr4 & X86_CR4_OSXSAVE)
            r.c |= 1u << (X86_FEAT_OSXSAVE % 32);
        /* Xen leaks MTRR to the hardware domain's kernel: Xenolinux dom0s take it to mean the memtype
         * platform ops exist. */
        if (hwdom_kernel && fs_test(host_fs, X86_FEAT_MTRR))
            r.d |= 1u << (X86_FEAT_MTRR % 32);
        break;
    case 0x80000001:
        if (hwdom_kernel && fs_test(host_fs, X86_FEAT_MTRR))
            r.d |= 1u << (X86_FEAT_MTRR % 32);
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

/* ---- The toolstack's view: sysctl get_cpu_featureset / get_cpu_policy ---- */

void cpu_policy_host_featureset(uint32_t fs[FS_NR])
{
    ensure_policies();
    memcpy(fs, host_fs, sizeof(host_fs));
}

/* Index -> system policy, in the sysctl's numbering; NULL where Vesta has none (no HVM). */
static const struct cpu_policy *system_policy(uint32_t index)
{
    ensure_policies();
    switch (index) {
    case XEN_SYSCTL_cpu_policy_raw:
        return &raw_policy;
    case XEN_SYSCTL_cpu_policy_host:
        return &host_policy;
    case XEN_SYSCTL_cpu_policy_pv_max:
        return &pv_max_policy;
    case XEN_SYSCTL_cpu_policy_pv_default:
        return &pv_def_policy;
    default:
        return NULL;
    }
}

int cpu_policy_system_featureset(uint32_t index, uint32_t fs[FS_NR])
{
    /* get_cpu_featureset numbers its sets differently from get_cpu_policy. */
    static const int8_t policy_of[] = {
        [XEN_SYSCTL_cpu_featureset_raw] = XEN_SYSCTL_cpu_policy_raw,
        [XEN_SYSCTL_cpu_featureset_host] = XEN_SYSCTL_cpu_policy_host,
        [XEN_SYSCTL_cpu_featureset_pv] = XEN_SYSCTL_cpu_policy_pv_default,
        [XEN_SYSCTL_cpu_featureset_hvm] = XEN_SYSCTL_cpu_policy_hvm_default,
        [XEN_SYSCTL_cpu_featureset_pv_max] = XEN_SYSCTL_cpu_policy_pv_max,
        [XEN_SYSCTL_cpu_featureset_hvm_max] = XEN_SYSCTL_cpu_policy_hvm_max,
    };
    if (index >= ARRAY_SIZE(policy_of))
        return -EINVAL;
    const struct cpu_policy *p = system_policy((uint32_t)policy_of[index]);
    if (!p)
        return -EOPNOTSUPP;
    /* Of the host policy, not the host featureset: the policy's 0x80000001 EDX has AMD's copies of leaf 1
     * features back, as Xen's has. */
    cpu_policy_get_featureset(p, fs);
    return 0;
}

/* Copies a policy out to guest arrays, Xen's way: entries one by one until the caller's count is reached
 * (-ENOBUFS if the policy has more). */
struct out_ctx {
    uint64_t base;
    uint32_t n, cap;
};

static int leaf_out(void *ctx, const xen_cpuid_leaf_t *l)
{
    struct out_ctx *o = ctx;
    if (o->n == o->cap)
        return -ENOBUFS;
    if (copy_to_guest(o->base + (uint64_t)o->n * sizeof(*l), l, sizeof(*l)))
        return -EFAULT;
    o->n++;
    return 0;
}

static int msr_out(void *ctx, const xen_msr_entry_t *m)
{
    struct out_ctx *o = ctx;
    if (o->n == o->cap)
        return -ENOBUFS;
    if (copy_to_guest(o->base + (uint64_t)o->n * sizeof(*m), m, sizeof(*m)))
        return -EFAULT;
    o->n++;
    return 0;
}

/* Serialises p's leaves into the guest array (nr_leaves in/out); a null handle asks for the maximum. */
static int leaves_to_guest(const struct cpu_policy *p, xen_guest_handle_t h, uint32_t *nr)
{
    if (xen_guest_handle_is_null(h)) {
        *nr = CPUID_MAX_SERIALISED_LEAVES;
        return 0;
    }
    struct out_ctx o = {h.p, 0, *nr};
    int rc = cpu_policy_for_each_leaf(p, leaf_out, &o);
    if (!rc)
        *nr = o.n;
    return rc;
}

static int msrs_to_guest(const struct cpu_policy *p, xen_guest_handle_t h, uint32_t *nr)
{
    if (xen_guest_handle_is_null(h)) {
        *nr = MSR_MAX_SERIALISED_ENTRIES;
        return 0;
    }
    struct out_ctx o = {h.p, 0, *nr};
    int rc = cpu_policy_for_each_msr(p, msr_out, &o);
    if (!rc)
        *nr = o.n;
    return rc;
}

int cpu_policy_system_leaves(const struct xen_sysctl_cpu_policy *op, uint32_t *nr_leaves)
{
    const struct cpu_policy *p = system_policy(op->index);
    return p ? leaves_to_guest(p, op->leaves, nr_leaves) : -EOPNOTSUPP;
}

int cpu_policy_system_msrs(const struct xen_sysctl_cpu_policy *op, uint32_t *nr_msrs)
{
    const struct cpu_policy *p = system_policy(op->index);
    return p ? msrs_to_guest(p, op->msrs, nr_msrs) : -EOPNOTSUPP;
}

bool cpu_policy_system_exists(uint32_t index) { return system_policy(index) != NULL; }

/* ---- A domain's own policy (domctl get_cpu_policy / set_cpu_policy) ---- */

int cpu_policy_domain_init(struct domain *d)
{
    ensure_policies();
    struct cpu_policy *p = xmalloc(sizeof(*p));
    if (!p)
        return -ENOMEM;
    *p = pv_def_policy;
    cpu_policy_recalc_guest(p, &pv_max_policy, &host_policy);
    d->cpu_policy = p;
    return 0;
}

void cpu_policy_domain_destroy(struct domain *d)
{
    xfree(d->cpu_policy);
    d->cpu_policy = NULL;
}

int cpu_policy_get(const struct domain *d, struct xen_domctl_cpu_policy *op)
{
    const struct cpu_policy *p = domain_policy(d);
    int rc = leaves_to_guest(p, op->leaves, &op->nr_leaves);
    return rc ? rc : msrs_to_guest(p, op->msrs, &op->nr_msrs);
}

/* The toolstack's entries merged into a copy of the domain's policy, then audited as Xen audits them. */
static int merge_and_audit(struct cpu_policy *new, const struct xen_domctl_cpu_policy *op,
                           struct cpu_policy_errors *err)
{
    if (op->nr_leaves > CPUID_MAX_SERIALISED_LEAVES)
        return -E2BIG;
    for (uint32_t i = 0; i < op->nr_leaves; i++) {
        xen_cpuid_leaf_t l;
        if (copy_from_guest(&l, op->leaves.p + (uint64_t)i * sizeof(l), sizeof(l)))
            return -EFAULT;
        if (cpu_policy_set_leaf(new, &l)) {
            err->leaf = l.leaf;
            err->subleaf = l.subleaf;
            return -ERANGE;
        }
    }
    if (op->nr_msrs > MSR_MAX_SERIALISED_ENTRIES)
        return -E2BIG;
    for (uint32_t i = 0; i < op->nr_msrs; i++) {
        xen_msr_entry_t m;
        if (copy_from_guest(&m, op->msrs.p + (uint64_t)i * sizeof(m), sizeof(m)))
            return -EFAULT;
        int rc = cpu_policy_set_msr(new, &m);
        if (rc) {
            err->msr = m.idx;
            return rc;
        }
    }
    cpu_policy_clear_out_of_range(new);
    return cpu_policy_check_fits(&pv_max_policy, new, err);
}

int cpu_policy_set(struct domain *d, struct xen_domctl_cpu_policy *op)
{
    struct cpu_policy_errors err = CPU_POLICY_NO_ERRORS;
    struct cpu_policy *new = xmalloc(sizeof(*new));
    int rc = -ENOMEM;
    if (new) {
        *new = *domain_policy(d);
        rc = merge_and_audit(new, op, &err);
    }
    if (rc) {
        xfree(new);
        op->err_leaf = err.leaf;
        op->err_subleaf = err.subleaf;
        op->err_msr = err.msr;
        return rc;
    }
    /* The audit only bounds the limits; clamp the rest (features, derived fields) to what can be offered. */
    cpu_policy_recalc_guest(new, &pv_max_policy, &host_policy);
    struct cpu_policy *old = d->cpu_policy;
    d->cpu_policy = new;
    xfree(old);
    return 0;
}
