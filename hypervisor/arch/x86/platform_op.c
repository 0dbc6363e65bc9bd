/* platform_op (hypercall 7): dom0's firmware and platform control, following Xen 4.17's
 * arch/x86/platform_hypercall.c.
 *
 * What a Linux dom0 uses is implemented: the wallclock (settime), physical CPU information (pcpu driver, APIC ID
 * reads), firmware information (EDD, EFI, keyboard flags), ACPI sleep (power-off), memory-type reads and the quirks.
 * Vesta boots through multiboot without real-mode BIOS calls, so it has no EDD/MBR/EDID data, exactly like a Xen
 * whose boot found none; it is never started from EFI. Sub-ops that need machinery Vesta lacks (microcode loading,
 * CPU frequency and idle control, CPU and memory hotplug, core parking, MSR resource access, symbol lookup) give
 * the answer Xen gives when that machinery is absent, or -ENOSYS. */
#include <public/platform.h>
#include <vesta/acpi.h>
#include <vesta/apic.h>
#include <vesta/errno.h>
#include <vesta/guest_access.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/percpu.h>
#include <vesta/pv.h>
#include <vesta/setup.h>
#include <vesta/x86.h>

#define INVALID_ACPIID 0xffffffffu
#define MSR_MTRRcap 0xfe
#define MSR_MTRR_PHYSBASE(n) (0x200 + 2 * (n))
#define MSR_MTRR_PHYSMASK(n) (0x201 + 2 * (n))
#define BDA_KBD_SHIFT_FLAGS 0x417

/* Xen's do_settime (common/time.c): lives with the other wallclock state in common/guest_time.c. */
void guest_set_wallclock(uint64_t secs, uint32_t nsecs, uint64_t system_time_base);

static int last_present_cpu(void)
{
    int last = 0;
    for (unsigned int i = 0; i < MAX_CPUS; i++)
        if (percpu[i])
            last = (int)i;
    return last;
}

static uint32_t acpi_id_of(uint32_t apic_id)
{
    for (unsigned int i = 0; i < platform.nr_cpus; i++)
        if (platform.cpu_apic_ids[i] == apic_id)
            return platform.cpu_acpi_ids[i];
    return INVALID_ACPIID;
}

static void get_cpuinfo(struct xenpf_pcpuinfo *info)
{
    uint32_t cpu = info->xen_cpuid;
    if (cpu >= MAX_CPUS || !percpu[cpu]) {
        info->flags = XEN_PCPU_FLAGS_INVALID;
    } else {
        info->apic_id = percpu[cpu]->apic_id;
        info->acpi_id = acpi_id_of(info->apic_id);
        info->flags = percpu[cpu]->online ? XEN_PCPU_FLAGS_ONLINE : 0;
    }
    info->max_present = (uint32_t)last_present_cpu();
}

/* Family/model/stepping as Xen's cpuinfo_x86 holds them (extended family and model folded in). */
static void get_cpu_version(struct xenpf_pcpu_version *ver)
{
    uint32_t cpu = ver->xen_cpuid;
    if (cpu >= MAX_CPUS || !percpu[cpu] || !percpu[cpu]->online) {
        memset(ver->vendor_id, 0, sizeof(ver->vendor_id));
        ver->family = ver->model = ver->stepping = 0;
    } else {
        /* Vesta requires identical CPUs, so the boot CPU's identification stands for all. */
        uint32_t a, b, c, d;
        cpuid(0, &a, &b, &c, &d);
        memcpy(ver->vendor_id, &b, 4);
        memcpy(ver->vendor_id + 4, &d, 4);
        memcpy(ver->vendor_id + 8, &c, 4);
        cpuid(1, &a, &b, &c, &d);
        uint32_t family, model, stepping;
        cpuid_signature(a, &family, &model, &stepping);
        ver->family = family;
        ver->model = model;
        ver->stepping = stepping;
    }
    ver->max_present = (uint32_t)last_present_cpu();
}

/* Xen's mtrr_get for a variable range: base frame, size in frames and type (size 0 when the range is off). */
static long read_memtype(struct xenpf_read_memtype *rm)
{
    uint64_t cap;
    if (rdmsr_safe(MSR_MTRRcap, &cap))
        cap = 0;
    if (rm->reg >= (cap & 0xff))
        return -EINVAL;
    uint64_t base, mask;
    if (rdmsr_safe(MSR_MTRR_PHYSBASE(rm->reg), &base) || rdmsr_safe(MSR_MTRR_PHYSMASK(rm->reg), &mask))
        base = mask = 0;
    uint32_t a, b, c, d;
    cpuid(0x80000000, &a, &b, &c, &d);
    unsigned int phys_bits = 36;
    if (a >= 0x80000008) {
        cpuid(0x80000008, &a, &b, &c, &d);
        phys_bits = a & 0xff;
    }
    if (!(mask & (1UL << 11))) {
        rm->mfn = rm->nr_mfns = 0;
        rm->type = 0;
        return 0;
    }
    uint64_t frame_mask = ((1UL << phys_bits) - 1) >> PAGE_SHIFT;
    uint64_t m = (mask >> PAGE_SHIFT) & frame_mask;
    rm->mfn = (base >> PAGE_SHIFT) & frame_mask;
    rm->nr_mfns = (~m & frame_mask) + 1;
    rm->type = (uint32_t)(base & 0xff);
    return 0;
}

static long firmware_info(struct xenpf_firmware_info *fw, uint64_t arg)
{
    switch (fw->type) {
    case XEN_FW_DISK_INFO:
    case XEN_FW_DISK_MBR_SIGNATURE:
    case XEN_FW_VBEDDC_INFO:
        return -ESRCH; /* no BIOS data was collected at boot */
    case XEN_FW_EFI_INFO:
        return -ENOSYS; /* not booted from EFI */
    case XEN_FW_KBD_SHIFT_FLAGS: {
        if (fw->index != 0)
            return -ESRCH;
        const uint8_t *bda = map_firmware(BDA_KBD_SHIFT_FLAGS, 1);
        fw->u.kbd_shift_flags = *bda;
        return copy_to_guest(arg + offsetof(struct xen_platform_op, u.firmware_info.u.kbd_shift_flags),
                             &fw->u.kbd_shift_flags, 1)
                   ? -EFAULT
                   : 0;
    }
    default:
        return -EINVAL;
    }
}

#define FIELD_OUT(field) (copy_to_guest(arg + offsetof(struct xen_platform_op, field), &op.field, sizeof(op.field)) \
                              ? -EFAULT                                                                           \
                              : 0)

HC(do_platform_op)
{
    uint64_t arg = a1;
    struct vcpu *v = current_vcpu();
    /* Xen copies the whole structure first: a buffer too short for it is -EFAULT even if the header is fine. */
    struct xen_platform_op op;
    if (copy_from_guest_obj(&op, arg))
        return -EFAULT;
    if (op.interface_version != XENPF_INTERFACE_VERSION)
        return -EACCES;
    if (!v->domain->privileged)
        return -EPERM;

    switch (op.cmd) {
    case XENPF_settime32:
        guest_set_wallclock(op.u.settime32.secs, op.u.settime32.nsecs, op.u.settime32.system_time);
        return 0;
    case XENPF_settime64:
        if (op.u.settime64.mbz)
            return -EINVAL;
        guest_set_wallclock(op.u.settime64.secs, op.u.settime64.nsecs, op.u.settime64.system_time);
        return 0;
    case XENPF_read_memtype: {
        long rc = read_memtype(&op.u.read_memtype);
        return rc ? rc : FIELD_OUT(u.read_memtype);
    }
    case XENPF_microcode_update:
        return -EINVAL; /* Xen without microcode loading support */
    case XENPF_platform_quirk:
        switch (op.u.platform_quirk.quirk_id) {
        case QUIRK_NOIRQBALANCING:
            printk("Platform quirk -- Disabling IRQ balancing/affinity.");
            return 0; /* Vesta never moves interrupts on its own */
        case QUIRK_IOAPIC_BAD_REGSEL:
        case QUIRK_IOAPIC_GOOD_REGSEL:
            return 0;
        default:
            return -EINVAL;
        }
    case XENPF_firmware_info:
        return firmware_info(&op.u.firmware_info, arg);
    case XENPF_efi_runtime_call:
        return -ENOSYS; /* not booted from EFI */
    case XENPF_enter_acpi_sleep:
        return acpi_enter_sleep(&op.u.enter_acpi_sleep);
    case XENPF_change_freq:
    case XENPF_getidletime:
        return -ENOSYS; /* Xen: CPU frequency is not dom0's to control */
    case XENPF_get_cpuinfo:
        get_cpuinfo(&op.u.pcpu_info);
        return FIELD_OUT(u.pcpu_info);
    case XENPF_get_cpu_version:
        get_cpu_version(&op.u.pcpu_version);
        return FIELD_OUT(u.pcpu_version);
    case XENPF_cpu_online: {
        uint32_t cpu = op.u.pcpu_info.xen_cpuid; /* struct xenpf_cpu_ol: just the CPU number */
        if (cpu >= MAX_CPUS || !percpu[cpu])
            return -EINVAL;
        return percpu[cpu]->online ? 0 : -ENOSYS;
    }
    case XENPF_cpu_offline: {
        uint32_t cpu = op.u.pcpu_info.xen_cpuid;
        if (cpu == 0)
            return -EOPNOTSUPP;
        if (cpu >= MAX_CPUS || !percpu[cpu])
            return -EINVAL;
        return percpu[cpu]->online ? -ENOSYS : 0; /* taking a CPU down is not implemented */
    }
    default:
        /* set_processor_pminfo, hotplug, core parking, resource_op, get_symbol, add/del_memtype: not implemented. */
        return -ENOSYS;
    }
}
