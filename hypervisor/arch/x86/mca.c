/* __HYPERVISOR_mca (31): machine-check telemetry for dom0, after Xen 4.17's arch/x86/cpu/mcheck/mce.c do_mca.
 *
 * Vesta does not handle machine checks yet, so no telemetry is ever queued: a fetch always reports
 * XEN_MC_NODATA, and injection finds no MCA banks (-ENODEV), as Xen answers on a machine without them. What a
 * dom0 needs at boot is the physical CPU description (XEN_MC_physcpuinfo), which Linux's mcelog driver reads
 * before it registers /dev/mcelog. The topology is given as one core with one thread per package. */
#include <public/xen-mca.h>
#include <vesta/apic.h>
#include <vesta/errno.h>
#include <vesta/guest_access.h>
#include <vesta/lib.h>
#include <vesta/percpu.h>
#include <vesta/pv.h>
#include <vesta/setup.h>
#include <vesta/x86.h>

#define MSR_IA32_MCG_CAP 0x179
#define X86_VENDOR_INTEL (1u << 0)
#define X86_VENDOR_AMD (1u << 1)
#define X86_VENDOR_CENTAUR (1u << 2)
#define X86_VENDOR_SHANGHAI (1u << 3)
#define X86_VENDOR_HYGON (1u << 4)

static uint32_t vendor_of(uint32_t ebx)
{
    switch (ebx) {
    case 0x756e6547: /* GenuineIntel */
        return X86_VENDOR_INTEL;
    case 0x68747541: /* AuthenticAMD */
        return X86_VENDOR_AMD;
    case 0x746e6543: /* CentaurHauls */
        return X86_VENDOR_CENTAUR;
    case 0x68532020: /* "  Shanghai  " */
        return X86_VENDOR_SHANGHAI;
    case 0x6f677948: /* HygonGenuine */
        return X86_VENDOR_HYGON;
    default:
        return 0;
    }
}

static void describe_cpu(unsigned int cpu, struct mcinfo_logical_cpu *x)
{
    uint32_t a, b, c, d, max_ext;
    memset(x, 0, sizeof(*x));
    x->mc_cpunr = cpu;
    x->mc_apicid = percpu[cpu]->apic_id;
    x->mc_chipid = x->mc_apicid;
    x->mc_ncores = x->mc_ncores_active = x->mc_nthreads = 1;
    cpuid(0, &a, &b, &c, &d);
    x->mc_cpuid_level = (int32_t)a;
    x->mc_vendor = vendor_of(b);
    memcpy(x->mc_vendorid, &b, 4);
    memcpy(x->mc_vendorid + 4, &d, 4);
    memcpy(x->mc_vendorid + 8, &c, 4);
    cpuid(1, &a, &b, &c, &d);
    uint32_t family, model, stepping;
    cpuid_signature(a, &family, &model, &stepping);
    x->mc_family = family;
    x->mc_model = model;
    x->mc_step = stepping;
    x->mc_clusterid = x->mc_apicid & 0xff;
    x->mc_cache_alignment = ((b >> 8) & 0xff) * 8;
    x->mc_cpu_caps[0] = d; /* Xen's feature words: 1.edx, 1.ecx, e1.edx, e1.ecx, Da1, 7b0, 7c0 */
    x->mc_cpu_caps[1] = c;
    cpuid(0x80000000, &max_ext, &b, &c, &d);
    if (max_ext >= 0x80000001) {
        cpuid(0x80000001, &a, &b, &c, &d);
        x->mc_cpu_caps[2] = d;
        x->mc_cpu_caps[3] = c;
    }
    if (max_ext >= 0x80000006) {
        cpuid(0x80000006, &a, &b, &c, &d);
        x->mc_cache_size = c >> 16; /* KiB of L2, as Xen's x86_cache_size */
    }
    if (x->mc_cpuid_level >= 0xd) {
        cpuid_count(0xd, 1, &a, &b, &c, &d);
        x->mc_cpu_caps[4] = a;
    }
    if (x->mc_cpuid_level >= 7) {
        cpuid_count(7, 0, &a, &b, &c, &d);
        x->mc_cpu_caps[5] = b;
        x->mc_cpu_caps[6] = c;
    }
    size_t blen = strlen(cpu_brand);
    memcpy(x->mc_brandid, cpu_brand, blen < sizeof(x->mc_brandid) ? blen : sizeof(x->mc_brandid) - 1);
    uint64_t cap;
    if (rdmsr_safe(MSR_IA32_MCG_CAP, &cap))
        cap = 0;
    x->mc_nmsrvals = 1;
    x->mc_msrvalues[0].reg = MSR_IA32_MCG_CAP;
    x->mc_msrvalues[0].value = cap;
}

static long physcpuinfo(struct xen_mc *op, uint64_t arg)
{
    struct xen_mc_physcpuinfo *pi = &op->u.mc_physcpuinfo;
    unsigned int online = nr_cpus_online;
    if (pi->info.p) {
        if ((int32_t)pi->ncpus <= 0)
            return -EINVAL;
        unsigned int n = pi->ncpus < online ? pi->ncpus : online;
        unsigned int idx = 0;
        for (unsigned int cpu = 0; cpu < MAX_CPUS && idx < n; cpu++) {
            if (!percpu[cpu] || !percpu[cpu]->online)
                continue;
            struct mcinfo_logical_cpu x;
            describe_cpu(cpu, &x);
            if (copy_to_guest(pi->info.p + idx * sizeof(x), &x, sizeof(x)))
                return -EFAULT;
            idx++;
        }
        online = n;
    }
    pi->ncpus = online;
    return copy_to_guest_obj(arg, op) ? -EFAULT : 0;
}

HC(do_mca)
{
    uint64_t arg = a1;
    struct xen_mc op;
    if (!current_domain()->privileged)
        return -EPERM;
    if (copy_from_guest_obj(&op, arg))
        return -EFAULT;
    if (op.interface_version != XEN_MCA_INTERFACE_VERSION)
        return -EACCES;
    switch (op.cmd) {
    case XEN_MC_fetch: {
        uint32_t flags = op.u.mc_fetch.flags;
        uint32_t which = flags & (XEN_MC_NONURGENT | XEN_MC_URGENT);
        if (which != XEN_MC_NONURGENT && which != XEN_MC_URGENT)
            return -EINVAL;
        if (flags & XEN_MC_ACK)
            return 0; /* nothing was handed out, so nothing to acknowledge */
        if (!op.u.mc_fetch.data.p)
            return -EINVAL;
        op.u.mc_fetch.flags = XEN_MC_OK | XEN_MC_NODATA;
        op.u.mc_fetch.fetch_id = 0;
        return copy_to_guest_obj(arg, &op) ? -EFAULT : 0;
    }
    case XEN_MC_notifydomain:
        return -EINVAL;
    case XEN_MC_physcpuinfo:
        return physcpuinfo(&op, arg);
    case XEN_MC_msrinject:
    case XEN_MC_mceinject:
    case XEN_MC_inject_v2:
        return -ENODEV; /* no MCA banks are handled */
    default:
        return -EINVAL;
    }
}
