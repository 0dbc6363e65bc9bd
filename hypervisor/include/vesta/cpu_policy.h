/* CPUID and MSR policies: what a domain's CPUID instruction reports and which of the feature MSRs it sees.
 *
 * A policy holds the leaves Xen 4.17's toolstack ABI can carry (basic leaves 0..0xd with the subleaf arrays of
 * leaves 4, 7, 0xb and 0xd, extended leaves 0x80000000..0x80000021, the hypervisor-leaf limits) and the two MSRs
 * Xen serialises (PLATFORM_INFO and ARCH_CAPABILITIES). The same structure describes the host (raw and as Vesta
 * uses it), the most a PV guest may be given (PV max), what a PV guest gets by default (PV default) and each
 * domain's own policy.
 *
 * A featureset is the policy's feature bits gathered into 32-bit words numbered as in Xen's public
 * cpufeatureset.h; feature dependencies and masks work on featuresets.
 *
 * Everything declared here is pure data manipulation (arch/x86/cpu_policy.c, host-tested). Building the system
 * policies from the hardware and the per-domain plumbing live in arch/x86/pv/cpuid.c (vesta/pv.h). */
#ifndef VESTA_CPU_POLICY_H
#define VESTA_CPU_POLICY_H

#include <public/domctl.h>
#include <vesta/types.h>

/* Featureset words. */
enum {
    FS_1D, FS_1C, FS_E1D, FS_E1C, FS_DA1, FS_7B0, FS_7C0, FS_E7D, FS_E8B, FS_7D0, FS_7A1, FS_E21A, FS_7B1,
    FS_7D2, FS_7C1, FS_7D1, FS_M10AL, FS_M10AH, FS_E21C, FS_NR
};
#define FEAT(word, bit) ((word) * 32 + (bit))

static inline bool fs_test(const uint32_t *fs, unsigned int f) { return fs[f / 32] & (1u << (f % 32)); }
static inline void fs_set(uint32_t *fs, unsigned int f) { fs[f / 32] |= 1u << (f % 32); }
static inline void fs_clear(uint32_t *fs, unsigned int f) { fs[f / 32] &= ~(1u << (f % 32)); }

/* Feature bits the policy code itself looks at. */
#define X86_FEAT_PSE36            FEAT(FS_1D, 17)
#define X86_FEAT_PAE              FEAT(FS_1D, 6)
#define X86_FEAT_MTRR             FEAT(FS_1D, 12)
#define X86_FEAT_HTT              FEAT(FS_1D, 28)
#define X86_FEAT_XSAVE            FEAT(FS_1C, 26)
#define X86_FEAT_OSXSAVE          FEAT(FS_1C, 27)
#define X86_FEAT_HYPERVISOR       FEAT(FS_1C, 31)
#define X86_FEAT_CMP_LEGACY       FEAT(FS_E1C, 1)
#define X86_FEAT_SVM              FEAT(FS_E1C, 2)
#define X86_FEAT_PAGE1GB          FEAT(FS_E1D, 26)
#define X86_FEAT_RDTSCP           FEAT(FS_E1D, 27)
#define X86_FEAT_LM               FEAT(FS_E1D, 29)
#define X86_FEAT_FDP_EXCP_ONLY    FEAT(FS_7B0, 6)
#define X86_FEAT_NO_FPU_SEL       FEAT(FS_7B0, 13)
#define X86_FEAT_ITSC             FEAT(FS_E7D, 8)
#define X86_FEAT_IBPB             FEAT(FS_E8B, 12)
#define X86_FEAT_IBRS             FEAT(FS_E8B, 14)
#define X86_FEAT_AMD_STIBP        FEAT(FS_E8B, 15)
#define X86_FEAT_IBRSB            FEAT(FS_7D0, 26)
#define X86_FEAT_STIBP            FEAT(FS_7D0, 27)
#define X86_FEAT_ARCH_CAPS        FEAT(FS_7D0, 29)
#define X86_FEAT_LFENCE_DISPATCH  FEAT(FS_E21A, 2)

/* Leaf 1 EDX features AMD repeats in 0x80000001 EDX. */
#define CPUID_COMMON_1D 0x0183f3ffu

/* Array sizes: the leaves and subleaves a policy can hold (Xen 4.17's limits, which its toolstack checks). */
#define CPUID_NR_BASIC      (0xd + 1)
#define CPUID_NR_CACHE      6         /* leaf 4 */
#define CPUID_NR_FEAT       3         /* leaf 7 */
#define CPUID_NR_TOPO       2         /* leaf 0xb */
#define CPUID_NR_XSTATE     63        /* leaf 0xd */
#define CPUID_NR_EXTD_INTEL (0x8 + 1)
#define CPUID_NR_EXTD_AMD   (0x21 + 1)
#define CPUID_NR_EXTD       CPUID_NR_EXTD_AMD

/* The most leaves one policy serialises to: every slot, less the basic slots the subleaf arrays replace, plus
 * the two hypervisor-leaf limits. 120, as Xen 4.17 reports. */
#define CPUID_MAX_SERIALISED_LEAVES                                                                          \
    (CPUID_NR_BASIC + CPUID_NR_FEAT - 1 + CPUID_NR_CACHE - 1 + CPUID_NR_TOPO - 1 + CPUID_NR_XSTATE - 1 +     \
     CPUID_NR_EXTD + 2)
#define MSR_MAX_SERIALISED_ENTRIES 2

#define MSR_INTEL_PLATFORM_INFO    0x000000ce
#define MSR_ARCH_CAPABILITIES      0x0000010a
#define PLATFORM_INFO_CPUID_FAULTING (1UL << 31)

struct cpuid_leaf {
    uint32_t a, b, c, d;
};

struct cpu_policy {
    struct cpuid_leaf basic[CPUID_NR_BASIC];   /* basic[0].a: highest basic leaf; slots 4, 7, 0xb, 0xd unused */
    struct cpuid_leaf cache[CPUID_NR_CACHE];   /* leaf 4, ends at the first subleaf of type 0 */
    struct cpuid_leaf feat[CPUID_NR_FEAT];     /* leaf 7; feat[0].a: highest subleaf */
    struct cpuid_leaf topo[CPUID_NR_TOPO];     /* leaf 0xb */
    struct cpuid_leaf xstate[CPUID_NR_XSTATE]; /* leaf 0xd */
    struct cpuid_leaf extd[CPUID_NR_EXTD];     /* 0x80000000 + i; extd[0].a: highest extended leaf */
    uint8_t hv_limit, hv2_limit;               /* toolstack limits on the 0x40000000 / 0x40000100 ranges; 0 = default */
    uint64_t platform_info;                    /* MSR_INTEL_PLATFORM_INFO as the domain reads it */
    uint64_t arch_caps;                        /* MSR_ARCH_CAPABILITIES as the domain reads it */
};

/* Which leaf or MSR an audit refused; ~0 where not applicable. */
struct cpu_policy_errors {
    uint32_t leaf, subleaf, msr;
};
#define CPU_POLICY_NO_ERRORS ((struct cpu_policy_errors){~0u, ~0u, ~0u})

enum cpu_vendor { CPU_VENDOR_OTHER, CPU_VENDOR_INTEL, CPU_VENDOR_AMD };
enum cpu_vendor cpuid_vendor(uint32_t ebx, uint32_t ecx, uint32_t edx);
static inline enum cpu_vendor cpu_policy_vendor(const struct cpu_policy *p)
{
    return cpuid_vendor(p->basic[0].b, p->basic[0].c, p->basic[0].d);
}

void cpu_policy_get_featureset(const struct cpu_policy *p, uint32_t fs[FS_NR]);
void cpu_policy_set_featureset(struct cpu_policy *p, const uint32_t fs[FS_NR]);
/* Drops the bits Xen does not know (in 0x80000001 EDX that includes the copies of leaf 1 features AMD puts
 * there); featureset_sanitise also drops every feature whose prerequisite is missing (Xen's deep dependencies). */
void featureset_clamp_known(uint32_t fs[FS_NR]);
void featureset_sanitise(uint32_t fs[FS_NR]);

/* The serialised form, in Xen's order. fn returns 0 to go on or an error, which stops the walk and is returned. */
typedef int (*cpuid_leaf_fn)(void *ctx, const xen_cpuid_leaf_t *leaf);
typedef int (*msr_entry_fn)(void *ctx, const xen_msr_entry_t *msr);
int cpu_policy_for_each_leaf(const struct cpu_policy *p, cpuid_leaf_fn fn, void *ctx);
int cpu_policy_for_each_msr(const struct cpu_policy *p, msr_entry_fn fn, void *ctx);

/* One toolstack entry into a policy: 0, -ERANGE for a leaf/subleaf or MSR a policy cannot hold, -EINVAL for an
 * MSR entry with flags set. */
int cpu_policy_set_leaf(struct cpu_policy *p, const xen_cpuid_leaf_t *l);
int cpu_policy_set_msr(struct cpu_policy *p, const xen_msr_entry_t *m);

/* After a toolstack update: zero the leaves beyond the (possibly lowered) limits. */
void cpu_policy_clear_out_of_range(struct cpu_policy *p);
/* Whether p stays within max where Xen 4.17 audits it (highest leaves and subleaf, PLATFORM_INFO): 0, or
 * -EINVAL with *err naming the offending leaf or MSR. */
int cpu_policy_check_fits(const struct cpu_policy *max, const struct cpu_policy *p, struct cpu_policy_errors *err);
/* Bring a guest policy back to what can be offered: limits and features clamped to max, dependencies resolved,
 * derived and reserved fields recomputed. host supplies the facts passed through (FPU quirks, address width). */
void cpu_policy_recalc_guest(struct cpu_policy *p, const struct cpu_policy *max, const struct cpu_policy *host);
/* The leaf clean-up every non-raw policy gets: reserved and dynamic fields cleared, leaves hidden from guests
 * emptied, vendor-specific duplicates filled in (Xen's recalculate_misc). */
void cpu_policy_clean_leaves(struct cpu_policy *p);

/* ---- The hypervisor's policies (arch/x86/pv/cpuid.c) ----
 *
 * System policies for the toolstack. Indices are the sysctls' own (XEN_SYSCTL_cpu_featureset_* and
 * XEN_SYSCTL_cpu_policy_*, which number the sets differently); the HVM ones do not exist here: -EOPNOTSUPP. The
 * serialising calls write through the guest handles in op and return 0 with the count written, -ENOBUFS when the
 * caller's count is too small, -EFAULT; a null handle asks for the maximum count. */
struct domain;
struct xen_sysctl_cpu_policy;
void cpu_policy_host_featureset(uint32_t fs[FS_NR]);              /* what physinfo's hw_cap shows */
int cpu_policy_system_featureset(uint32_t index, uint32_t fs[FS_NR]); /* 0, -EINVAL, -EOPNOTSUPP */
bool cpu_policy_system_exists(uint32_t index);
int cpu_policy_system_leaves(const struct xen_sysctl_cpu_policy *op, uint32_t *nr_leaves);
int cpu_policy_system_msrs(const struct xen_sysctl_cpu_policy *op, uint32_t *nr_msrs);

/* A domain's policy. A new domU gets its own copy of the PV default policy, recalculated for a guest
 * (cpu_policy_domain_init, -ENOMEM), freed again with the domain. A domain without one (dom0) reads the initial
 * domain's policy.
 *
 * cpu_policy_get: domctl get_cpu_policy; fills op->leaves/msrs, updates op->nr_leaves/nr_msrs.
 * cpu_policy_set: domctl set_cpu_policy: the leaves and MSRs in op replace the domain's; the result is audited
 *   against PV max and recalculated. Errors: -E2BIG (more entries than a policy holds), -EFAULT, -ERANGE (a leaf
 *   or MSR no policy holds), -EINVAL (MSR flags set, or limits beyond PV max), -ENOMEM; op->err_leaf/subleaf/
 *   err_msr then name the entry (~0 where none), and the caller copies them back. The caller must hold the domain
 *   paused and not yet running (Xen: -EINVAL for the calling domain, -EEXIST once creation finished). */
int cpu_policy_domain_init(struct domain *d);
void cpu_policy_domain_destroy(struct domain *d);
int cpu_policy_get(const struct domain *d, struct xen_domctl_cpu_policy *op);
int cpu_policy_set(struct domain *d, struct xen_domctl_cpu_policy *op);

#endif
