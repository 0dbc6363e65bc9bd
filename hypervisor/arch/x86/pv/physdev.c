/* physdev_op, platform_op, nmi_op and the debug-register hypercalls.
 *
 * These follow Xen 4.17 (arch/x86/physdev.c, platform_hypercall.c, pv/callback.c, pv/misc-hypercalls.c). What
 * Vesta has no machinery for yet (physical IRQ routing, PCI management, firmware and time control) answers as Xen
 * does for a sub-op it does not know: -ENOSYS, after the argument checks Xen makes before it dispatches. */
#include <public/physdev.h>
#include <public/platform.h>
#include <vesta/errno.h>
#include <vesta/guest_access.h>
#include <vesta/layout.h>
#include <vesta/pv.h>
#include <vesta/x86.h>

/* ---- physdev_op */

#define IOBMP_BYTES 8192 /* a full I/O bitmap: 65536 ports */

static long physdev_set_iopl(struct vcpu *v, uint64_t arg)
{
    struct physdev_set_iopl op;
    if (copy_from_guest_obj(&op, arg))
        return -EFAULT;
    if (op.iopl > 3)
        return -EINVAL;
    v->pv.iopl = op.iopl;
    return 0;
}

/* The bitmap stays in guest memory: the port-access emulation reads it (through the guest's own mappings) when
 * the guest touches a port, as Xen does. Like Xen, only the start address is checked. */
static long physdev_set_iobitmap(struct vcpu *v, uint64_t arg)
{
    struct physdev_set_iobitmap op;
    if (copy_from_guest_obj(&op, arg))
        return -EFAULT;
    if (!xen_addr_ok(op.bitmap.p) || op.nr_ports > 65536)
        return -EINVAL;
    v->pv.iobmp_va = op.bitmap.p;
    v->pv.iobmp_limit = op.nr_ports;
    return 0;
}

HC(do_physdev_op)
{
    int cmd = (int)a1;
    uint64_t arg = a2;
    struct vcpu *v = current_vcpu();

    switch (cmd) {
    case PHYSDEVOP_set_iopl:
        return physdev_set_iopl(v, arg);
    case PHYSDEVOP_set_iobitmap:
        return physdev_set_iobitmap(v, arg);
    case PHYSDEVOP_alloc_irq_vector: {
        /* A placeholder in Xen too: the vector is the IRQ, chosen for real when the IO-APIC entry is written. */
        struct physdev_irq op;
        if (copy_from_guest_obj(&op, arg))
            return -EFAULT;
        if (!v->domain->privileged)
            return -EPERM;
        op.vector = op.irq;
        return copy_to_guest_obj(arg, &op) ? -EFAULT : 0;
    }
    default:
        /* Physical interrupts (eoi, irq_status_query, map_pirq, pirq_eoi_gmfn, IO-APIC access) and PCI device
         * management need interrupt routing that Vesta does not have yet. */
        return -ENOSYS;
    }
}

/* ---- platform_op: privileged firmware and platform control. */

HC(do_platform_op)
{
    struct vcpu *v = current_vcpu();
    struct {
        uint32_t cmd;
        uint32_t interface_version;
    } hdr;
    /* Xen copies the whole structure first: a buffer too short for it is -EFAULT even if the header is fine. */
    struct xen_platform_op op;
    if (copy_from_guest_obj(&op, a1))
        return -EFAULT;
    hdr.cmd = op.cmd;
    hdr.interface_version = op.interface_version;
    if (hdr.interface_version != XENPF_INTERFACE_VERSION)
        return -EACCES;
    if (!v->domain->privileged)
        return -EPERM;
    /* No platform operation is implemented yet (time, memory types, microcode, firmware tables, CPU and memory
     * hotplug, power management): Xen's answer for a command it does not handle. */
    return -ENOSYS;
}

/* ---- nmi_op (Xen: pv/callback.c). The ABI structure lives here because nothing else uses it. */

#define XENNMI_register_callback 0
#define XENNMI_unregister_callback 1
struct xennmi_callback {
    uint64_t handler_address;
    uint64_t pad;
};

static bool is_canonical(uint64_t va) { return ((int64_t)va >> 47) == 0 || ((int64_t)va >> 47) == -1; }

HC(do_nmi_op)
{
    unsigned int cmd = (unsigned int)a1;
    struct vcpu *v = current_vcpu();
    switch (cmd) {
    case XENNMI_register_callback: {
        struct xennmi_callback cb;
        if (copy_from_guest_obj(&cb, a2))
            return -EFAULT;
        if (!is_canonical(cb.handler_address))
            return -EINVAL;
        v->pv.nmi_callback = cb.handler_address;
        return 0;
    }
    case XENNMI_unregister_callback:
        v->pv.nmi_callback = 0;
        return 0;
    default:
        return -ENOSYS;
    }
}

/* ---- Debug registers (Xen: pv/misc-hypercalls.c set_debugreg, x86_emulate.c x86emul_read_dr).
 *
 * The values live in v->pv.dr[]. The guest's virtual CR4.DE is never set under Vesta (the CR4 emulation does not
 * offer it), so DR4/DR5 alias DR6/DR7 and I/O breakpoints are refused. A vCPU that never wrote DR6/DR7 reads
 * their architectural reset values; a written value always has its reserved-one bits set, so 0 means "never
 * written".
 *
 * A value written for the running vCPU goes into the CPU at once, as in Xen; otherwise the context switch loads
 * them (context.c). A guest data breakpoint on a guest address also fires inside the hypervisor's own copies to
 * and from guest memory; that #DB in ring 0 is noted and ignored (context.c pv_debug_trap_hypervisor). */

#define DR6_RESERVED_ZERO (~0xffffefffUL)
#define DR6_RESERVED_ONE 0xffff0ff0UL
#define DR7_RESERVED_ZERO (~0xffff27ffUL)
#define DR7_RESERVED_ONE 0x00000400UL
#define DR7_GENERAL_DETECT 0x00002000UL
#define DR7_ACTIVE_MASK 0xffUL
#define DR7_TYPE_IO 2

/* Xen's breakpoint_addr_ok: the guest half of the address space or above the hypervisor hole. */
static bool breakpoint_addr_ok(uint64_t a) { return a < (1UL << 47) || a >= HYPERVISOR_VIRT_END; }

/* -ENODEV: no such register (#UD for the emulator); -EINVAL: reserved bits; -EPERM: a value the guest may not
 * use. */
static long set_debugreg(struct vcpu *v, unsigned int reg, uint64_t value)
{
    switch (reg) {
    case 0: case 1: case 2: case 3:
        if (!breakpoint_addr_ok(value))
            return -EPERM;
        v->pv.dr[reg] = value;
        break;
    case 4:
    case 6:
        if (value != (uint32_t)value)
            return -EINVAL;
        value = (value & ~DR6_RESERVED_ZERO) | DR6_RESERVED_ONE;
        v->pv.dr[6] = value;
        break;
    case 5:
    case 7:
        if (value != (uint32_t)value)
            return -EINVAL;
        value = (value & ~DR7_RESERVED_ZERO) | DR7_RESERVED_ONE;
        if (value & DR7_GENERAL_DETECT)
            return -EPERM;
        if (value & DR7_ACTIVE_MASK)
            for (unsigned int i = 16; i < 32; i += 4)
                if (((value >> i) & 3) == DR7_TYPE_IO)
                    return -EPERM; /* I/O breakpoints need CR4.DE */
        v->pv.dr[7] = value;
        break;
    default:
        return -ENODEV;
    }
    return 0;
}

HC(do_set_debugreg)
{
    struct vcpu *v = current_vcpu();
    unsigned int reg = (unsigned int)(int)a1;
    bool dr7_was_active = (v->pv.dr[7] & DR7_ACTIVE_MASK) != 0;
    long rc = set_debugreg(v, reg, a2);
    if (!rc)
        pv_debugreg_written(v, reg == 4 ? 6 : reg == 5 ? 7 : reg, dr7_was_active);
    return rc;
}

HC(do_get_debugreg)
{
    struct vcpu *v = current_vcpu();
    int reg = (int)a1;
    switch (reg) {
    case 0: case 1: case 2: case 3:
        return (long)v->pv.dr[reg];
    case 4:
    case 6:
        return (long)(v->pv.dr[6] ? v->pv.dr[6] : DR6_RESERVED_ONE);
    case 5:
    case 7:
        return (long)(v->pv.dr[7] ? v->pv.dr[7] : DR7_RESERVED_ONE);
    default:
        return -ENODEV;
    }
}
