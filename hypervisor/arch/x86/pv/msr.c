/* RDMSR and WRMSR from a PV guest kernel, following Xen 4.17 (arch/x86/msr.c guest_rdmsr/guest_wrmsr, then
 * pv/emul-priv-op.c read_msr/write_msr, and the virtual machine-check MSRs of cpu/mcheck/vmce.c).
 *
 * The general rule is Xen's: an MSR Xen does not know faults (#GP), a few are read-as-zero or write-discard to
 * keep existing kernels happy, and nothing a guest writes reaches the hardware except where Xen forwards it.
 * What is not modelled: a cpufreq-controller or vCPU-pinned dom0 (Xen options that give dom0 real P-state and
 * northbridge MSRs) and vPMU (off by default in Xen, so the counters are read-as-zero / write-discard here too). */
#include <vesta/errno.h>
#include <vesta/guest_access.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/x86.h>

#include "emulate.h"

#define MSR_P5_MC_ADDR 0x00000000
#define MSR_P5_MC_TYPE 0x00000001
#define MSR_IA32_TSC 0x00000010
#define MSR_IA32_PLATFORM_ID 0x00000017
#define MSR_IA32_FEATURE_CONTROL 0x0000003a
#define MSR_SPEC_CTRL 0x00000048
#define MSR_PRED_CMD 0x00000049
#define MSR_IA32_UCODE_WRITE 0x00000079
#define MSR_IA32_UCODE_REV 0x0000008b
#define MSR_INTEL_PLATFORM_INFO 0x000000ce
#define MSR_IA32_MPERF 0x000000e7
#define MSR_IA32_APERF 0x000000e8
#define MSR_ARCH_CAPABILITIES 0x0000010a
#define MSR_FLUSH_CMD 0x0000010b
#define MSR_INTEL_MISC_FEATURES_ENABLES 0x00000140
#define MSR_IA32_MCG_CAP 0x00000179
#define MSR_IA32_MCG_STATUS 0x0000017a
#define MSR_IA32_MCG_CTL 0x0000017b
#define MSR_IA32_PERF_STATUS 0x00000198
#define MSR_IA32_PERF_CTL 0x00000199
#define MSR_IA32_THERM_CONTROL 0x0000019a
#define MSR_IA32_THERM_STATUS 0x0000019c
#define MSR_IA32_MISC_ENABLE 0x000001a0
#define MSR_IA32_ENERGY_PERF_BIAS 0x000001b0
#define MSR_IA32_MC0_CTL2 0x00000280
#define MSR_IA32_PERF_CAPABILITIES 0x00000345
#define MSR_IA32_MC0_CTL 0x00000400
#define MSR_IA32_MCG_EXT_CTL 0x000004d0
#define MSR_TSC_AUX 0xc0000103
#define MSR_K8_SYSCFG 0xc0010010
#define MSR_K8_HWCR 0xc0010015
#define MSR_AMD64_NB_CFG 0xc001001f
#define MSR_FAM10H_MMIO_CONF_BASE 0xc0010058
#define MSR_VIRT_SPEC_CTRL 0xc001011f
#define MSR_AMD64_DE_CFG 0xc0011029

#define XEN_MSR_PAT 0x0000050100070406UL /* WB, WT, UC-, UC, WC, WP, UC, UC */
#define XEN_HYPERCALL_MSR 0x40000000

#define EFER_LMA (1UL << 10)
#define EFER_SVME (1UL << 12)
#define EFER_FFXSE (1UL << 14)
#define EFER_KNOWN (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME | EFER_FFXSE)

#define MISC_ENABLE_PERF_AVAIL (1UL << 7)
#define MISC_ENABLE_BTS_UNAVAIL (1UL << 11)
#define MISC_ENABLE_PEBS_UNAVAIL (1UL << 12)
#define MISC_ENABLE_MONITOR (1UL << 18)
#define MISC_ENABLE_XTPR_DISABLE (1UL << 23)

#define GUEST_MC_BANKS 2
#define MCG_CMCI_P (1UL << 10)
#define MCG_TES_P (1UL << 11)
#define MCG_SER_P (1UL << 24)

static bool intel(void) { return pv_host_vendor() == PV_VENDOR_INTEL; }
static bool amd(void) { return pv_host_vendor() == PV_VENDOR_AMD; }

static bool canonical(uint64_t va) { return (uint64_t)((int64_t)(va << 16) >> 16) == va; }

static uint64_t guest_efer(void) { return rdmsr(MSR_EFER) & EFER_KNOWN & ~EFER_SVME; }

static uint64_t guest_misc_enable(uint64_t host)
{
    return (host & ~(MISC_ENABLE_PERF_AVAIL | MISC_ENABLE_MONITOR)) | MISC_ENABLE_BTS_UNAVAIL |
           MISC_ENABLE_PEBS_UNAVAIL | MISC_ENABLE_XTPR_DISABLE;
}

static uint64_t mcg_cap(void)
{
    return intel() ? MCG_SER_P | MCG_TES_P | MCG_CMCI_P | GUEST_MC_BANKS : GUEST_MC_BANKS;
}

static bool is_mc_msr(uint32_t msr)
{
    return msr == MSR_P5_MC_ADDR || msr == MSR_P5_MC_TYPE || (msr >= MSR_IA32_MCG_CAP && msr <= MSR_IA32_MCG_CTL) ||
           (msr >= MSR_IA32_MC0_CTL2 && msr < MSR_IA32_MC0_CTL2 + 32) ||
           (msr >= MSR_IA32_MC0_CTL && msr < MSR_IA32_MC0_CTL + 4 * 32) || msr == MSR_IA32_MCG_EXT_CTL;
}

/* The guest's machine-check banks never report anything: control registers read as all ones, status, address
 * and misc as zero. Xen's vMCE gives the guest two banks; other bank numbers read as zero and ignore writes. */
static int mc_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *val)
{
    *val = 0;
    switch (msr) {
    case MSR_IA32_MCG_CAP:
        *val = mcg_cap();
        return 0;
    case MSR_IA32_MCG_STATUS:
        *val = v->mcg_status;
        return 0;
    case MSR_IA32_MCG_CTL: /* MCG_CTL_P is not offered */
        return 0;
    case MSR_IA32_MCG_EXT_CTL: /* LMCE is not offered */
        return -1;
    }
    if (msr >= MSR_IA32_MC0_CTL && (msr - MSR_IA32_MC0_CTL) / 4 < GUEST_MC_BANKS && !(msr & 3))
        *val = ~0UL;
    return 0;
}

static int mc_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val)
{
    switch (msr) {
    case MSR_IA32_MCG_STATUS:
        v->mcg_status = val;
        return 0;
    case MSR_IA32_MCG_CAP:
    case MSR_IA32_MCG_CTL:
        return 0;
    case MSR_IA32_MCG_EXT_CTL:
        return -1;
    }
    /* Bank status, address and misc can only be cleared. */
    if (msr >= MSR_IA32_MC0_CTL && (msr - MSR_IA32_MC0_CTL) / 4 < GUEST_MC_BANKS && (msr & 3) && val)
        return -1;
    return 0;
}

static bool amd_pstate_msr(uint32_t msr)
{
    return msr == 0xc0010041 || msr == 0xc0010042 || (msr >= 0xc0010061 && msr <= 0xc001006b);
}

static bool amd_mem_msr(uint32_t msr)
{
    return msr == MSR_K8_SYSCFG || msr == 0xc001001a || msr == 0xc001001d || (msr >= 0xc0010016 && msr <= 0xc0010019) ||
           msr == 0xc0010112 || msr == 0xc0010113;
}

/* Performance counters: with vPMU off, Xen reads them as zero and discards writes. */
static bool pmu_msr(uint32_t msr)
{
    if (intel())
        return (msr >= 0xc1 && msr <= 0xc8) || (msr >= 0x186 && msr <= 0x189) || (msr >= 0x309 && msr <= 0x30b) ||
               (msr >= 0x38d && msr <= 0x390);
    if (amd())
        return (msr >= 0xc0010000 && msr <= 0xc0010007) || (msr >= 0xc0010200 && msr <= 0xc001020b);
    return false;
}

static bool fam10_mmio_conf(void) { return amd() && pv_host_family() >= 0x10 && pv_host_family() < 0x17; }

static int do_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *val)
{
    struct domain *d = v->domain;
    if (is_mc_msr(msr))
        return mc_rdmsr(v, msr, val);
    if (pmu_msr(msr)) {
        *val = 0;
        return 0;
    }
    if (amd_pstate_msr(msr) && amd()) {
        *val = 0;
        return 0;
    }
    if (amd_mem_msr(msr) && amd() && d->privileged) {
        if (rdmsr_safe(msr, val))
            return -1;
        if (msr == MSR_K8_SYSCFG) /* TOM2_FORCE_WB, MTRR_TOM2_EN, MTRR_VAR_DRAM_EN, MTRR_FIX_DRAM_EN */
            *val &= (1UL << 22) | (1UL << 21) | (1UL << 20) | (1UL << 18);
        return 0;
    }
    switch (msr) {
    case MSR_IA32_FEATURE_CONTROL:
        if (!intel())
            return -1;
        *val = 1; /* locked, nothing enabled */
        return 0;
    case MSR_IA32_PLATFORM_ID:
        return intel() ? rdmsr_safe(msr, val) ? -1 : 0 : -1;
    case MSR_IA32_UCODE_REV:
        if (!intel() && !amd())
            return -1;
        return rdmsr_safe(msr, val) ? -1 : 0;
    case MSR_SPEC_CTRL:
        if (!pv_policy_has(v->domain, PV_FS_7D0, 26) && !pv_policy_has(v->domain, PV_FS_E8B, 14))
            return -1;
        *val = 0; /* Vesta does not virtualise the guest's SPEC_CTRL: it stays at its reset value */
        return 0;
    case MSR_INTEL_PLATFORM_INFO:
        *val = pv_policy_msr(v->domain, msr); /* Vesta's policies offer no CPUID faulting: 0 */
        return 0;
    case MSR_ARCH_CAPABILITIES:
        if (!pv_policy_has(v->domain, PV_FS_7D0, 29))
            return -1;
        *val = pv_policy_msr(v->domain, msr); /* the host's bits the domain's policy keeps */
        return 0;
    case MSR_INTEL_MISC_FEATURES_ENABLES:
        *val = v->cpuid_faulting ? 1 : 0;
        return 0;
    case MSR_IA32_PERF_STATUS:
    case MSR_IA32_PERF_CTL:
    case MSR_IA32_THERM_STATUS:
        if (!intel())
            return -1;
        *val = 0;
        return 0;
    case XEN_HYPERCALL_MSR:
        *val = 0;
        return 0;
    case MSR_TSC_AUX:
        if (!pv_policy_has(v->domain, PV_FS_E1D, 27) && !pv_policy_has(v->domain, PV_FS_7C0, 22))
            return -1;
        *val = v->tsc_aux;
        return 0;
    case MSR_K8_HWCR:
        if (!amd())
            return -1;
        *val = 0;
        return 0;
    case MSR_AMD64_DE_CFG:
        if (!amd())
            return -1;
        *val = 2; /* LFENCE is dispatch-serialising */
        return 0;
    case MSR_VIRT_SPEC_CTRL:
        if (!pv_policy_has(v->domain, PV_FS_E8B, 25))
            return -1;
        *val = 0;
        return 0;
    case MSR_APIC_BASE:
        *val = 0xfee00000UL | (1UL << 11) | (v->id == 0 ? 1UL << 8 : 0); /* enabled; BSP on vCPU 0 */
        return 0;
    case MSR_FS_BASE:
        *val = rdmsr(MSR_FS_BASE);
        return 0;
    case MSR_GS_BASE:
        *val = rdmsr(MSR_GS_BASE); /* the hypervisor never swaps GS: this is the guest's active base */
        return 0;
    case MSR_KERNEL_GS_BASE:
        *val = v->pv.gs_base_user;
        return 0;
    case MSR_IA32_TSC:
        *val = rdtsc();
        return 0;
    case MSR_EFER:
        *val = guest_efer();
        return 0;
    case MSR_PAT:
        *val = XEN_MSR_PAT;
        return 0;
    case MSR_FAM10H_MMIO_CONF_BASE:
        if (!fam10_mmio_conf())
            return -1;
        *val = 0;
        return 0;
    case MSR_AMD64_NB_CFG:
        *val = 0;
        return 0;
    case MSR_IA32_MISC_ENABLE:
        if (rdmsr_safe(msr, val))
            return -1;
        *val = guest_misc_enable(*val);
        return 0;
    case MSR_IA32_PERF_CAPABILITIES:
        *val = 0;
        return 0;
    default:
        return -1;
    }
}

/* The hypercall page can be (re)written at any time through the MSR: (frame << 12) | page index 0. */
static int write_hypercall_msr(struct vcpu *v, uint64_t val)
{
    mfn_t mfn = val >> PAGE_SHIFT;
    if (val & (PAGE_SIZE - 1))
        return -1;
    if (!pv_get_page(v->domain, mfn))
        return -1;
    struct frame *f = mfn_to_frame(mfn);
    if (frame_get_type(f, FRAME_T_WRITABLE, NULL, NULL)) {
        pv_put_page(mfn);
        return -1;
    }
    pv_write_hypercall_page(mfn_to_virt(mfn));
    frame_put_type(f, NULL, NULL);
    pv_put_page(mfn);
    return 0;
}

static int do_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val)
{
    if (is_mc_msr(msr))
        return mc_wrmsr(v, msr, val);
    if (pmu_msr(msr))
        return 0;
    if (amd_pstate_msr(msr))
        return amd() ? 0 : -1;
    switch (msr) {
    case MSR_IA32_UCODE_REV:
        return intel() && val == 0 ? 0 : -1;
    case MSR_SPEC_CTRL:
        if (!pv_policy_has(v->domain, PV_FS_7D0, 26) && !pv_policy_has(v->domain, PV_FS_E8B, 14))
            return -1;
        return val & ~7UL ? -1 : 0; /* IBRS, STIBP, SSBD accepted and not applied */
    case MSR_PRED_CMD:
        if (!pv_policy_has(v->domain, PV_FS_7D0, 26) && !pv_policy_has(v->domain, PV_FS_E8B, 12))
            return -1;
        if (val & ~1UL)
            return -1;
        if (val)
            wrmsr(MSR_PRED_CMD, val); /* an IBPB now: harmless and what the guest asked for */
        return 0;
    case MSR_FLUSH_CMD:
        if (!pv_policy_has(v->domain, PV_FS_7D0, 28) || (val & ~1UL))
            return -1;
        if (val)
            wrmsr(MSR_FLUSH_CMD, val);
        return 0;
    case MSR_INTEL_MISC_FEATURES_ENABLES: {
        /* CPUID faulting may be switched on only if the policy's PLATFORM_INFO offers it. */
        bool faulting = pv_policy_msr(v->domain, MSR_INTEL_PLATFORM_INFO) & (1UL << 31);
        if (val & ~(faulting ? 1UL : 0))
            return -1;
        v->cpuid_faulting = val & 1;
        return 0;
    }
    case MSR_IA32_PERF_CTL:
        return intel() ? 0 : -1;
    case XEN_HYPERCALL_MSR:
        return write_hypercall_msr(v, val);
    case MSR_TSC_AUX:
        if ((!pv_policy_has(v->domain, PV_FS_E1D, 27) && !pv_policy_has(v->domain, PV_FS_7C0, 22)) || val != (uint32_t)val)
            return -1;
        v->tsc_aux = (uint32_t)val;
        wrmsr(MSR_TSC_AUX, val);
        return 0;
    case MSR_VIRT_SPEC_CTRL:
        return pv_policy_has(v->domain, PV_FS_E8B, 25) ? 0 : -1;
    case MSR_AMD64_DE_CFG:
        return amd() ? 0 : -1; /* OpenBSD writes it: dropped, as Xen does */
    case MSR_FS_BASE:
        if (!canonical(val))
            return -1;
        wrmsr(MSR_FS_BASE, val);
        v->pv.fs_base = val;
        return 0;
    case MSR_GS_BASE:
        if (!canonical(val))
            return -1;
        wrmsr(MSR_GS_BASE, val);
        v->pv.gs_base_kernel = val;
        return 0;
    case MSR_KERNEL_GS_BASE:
        if (!canonical(val))
            return -1;
        pv_write_gs_base_user(v, val);
        return 0;
    case MSR_EFER:
        return val == guest_efer() ? 0 : -1; /* Linux writes back what it read */
    case MSR_K8_HWCR:
        return amd() ? 0 : -1;
    case MSR_AMD64_NB_CFG:
        return 0;
    case MSR_FAM10H_MMIO_CONF_BASE:
        return fam10_mmio_conf() ? 0 : -1;
    case MSR_IA32_MISC_ENABLE: {
        uint64_t host;
        return rdmsr_safe(msr, &host) ? -1 : 0; /* any value: a change is ignored */
    }
    case MSR_IA32_MPERF:
    case MSR_IA32_APERF:
        return intel() || amd() ? 0 : -1;
    case MSR_IA32_THERM_CONTROL:
    case MSR_IA32_ENERGY_PERF_BIAS:
        return intel() ? 0 : -1;
    default:
        return -2; /* an MSR Vesta does not know (msr_relaxed may drop the write) */
    }
}

int pv_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *val)
{
    *val = 0;
    int rc = do_rdmsr(v, msr, val);
    if (!rc)
        return 0;
    /* Like Xen, give a kernel that has no #GP handler yet a zero instead of a fault it cannot survive, for an
     * MSR the hardware has (but never for the hypervisor range). */
    uint64_t tmp;
    /* A domain created with msr_relaxed (XEN_X86_MSR_RELAXED) reads zero from an MSR the hardware has. */
    if (v->domain->msr_relaxed && !rdmsr_safe(msr, &tmp)) {
        *val = 0;
        return 0;
    }
    if (!v->pv.traps[TRAP_GP].address && (msr >> 16) != 0x4000 && !rdmsr_safe(msr, &tmp)) {
        pr_warn("d%uv%u: faking RDMSR %#010x", v->domain->id, v->id, msr);
        *val = 0;
        return 0;
    }
    return -1;
}

int pv_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val)
{
    int rc = do_wrmsr(v, msr, val);
    uint64_t tmp;
    if (rc == -2 && v->domain->msr_relaxed && !rdmsr_safe(msr, &tmp))
        return 0; /* msr_relaxed: a write to an MSR the hardware has, but Vesta does not know, is dropped */
    if (rc)
        pr_debug("d%uv%u: WRMSR %#010x value %#018lx refused", v->domain->id, v->id, msr, val);
    return rc;
}
