/* Private interface between the PV emulation files (emulate.c, msr.c, cpuid.c, ptwr.c). */
#ifndef VESTA_PV_EMULATE_H
#define VESTA_PV_EMULATE_H

#include <vesta/pv.h>

/* cpuid.c: facts about the host and the guest CPUID policy that the MSR and instruction rules depend on. */
enum pv_vendor { PV_VENDOR_OTHER, PV_VENDOR_INTEL, PV_VENDOR_AMD };
enum pv_vendor pv_host_vendor(void);
unsigned int pv_host_family(void);
bool pv_host_cpuid_faulting(void);     /* CPUID faulting in hardware (MSR_PLATFORM_INFO bit 31) */
/* A feature of the domain's CPUID policy, by Xen featureset word and bit; the value of one of its policy MSRs
 * (PLATFORM_INFO, ARCH_CAPABILITIES). */
bool pv_policy_has(const struct domain *d, unsigned int word, unsigned int bit);
uint64_t pv_policy_msr(const struct domain *d, uint32_t msr);
#define PV_FS_1D 0
#define PV_FS_E1D 2
#define PV_FS_7C0 6
#define PV_FS_E8B 8
#define PV_FS_7D0 9

/* msr.c: RDMSR/WRMSR as Xen 4.17 treats them for a PV vCPU. Return 0, or -1 for #GP(0). */
int pv_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *val);
int pv_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val);

#endif
