/* physdev_op, nmi_op and the debug-register hypercalls (platform_op is in arch/x86/platform_op.c).
 *
 * These follow Xen 4.17 (arch/x86/physdev.c, drivers/pci/physdev.c, pv/callback.c, pv/misc-hypercalls.c). Physical
 * interrupts (pirq mapping, EOI, IO-APIC access) are carried out by arch/x86/irq.c. PCI devices are all dom0's and
 * are found through config space when dom0 names one, so the PCI management calls (device add/remove, MSI
 * restore) have no per-device state to keep; MMCONFIG is not used. */
#include <public/physdev.h>
#include <vesta/errno.h>
#include <vesta/guest_access.h>
#include <vesta/irq.h>
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

static long physdev_eoi(struct domain *d, uint64_t arg)
{
    struct physdev_eoi eoi;
    if (copy_from_guest_obj(&eoi, arg))
        return -EFAULT;
    if (eoi.irq >= domain_nr_pirqs(d))
        return -EINVAL;
    struct pirq *p = d->pirqs;
    /* Xen keeps no record of a pirq never mapped nor bound: that is -EINVAL. */
    if (!p || (!p[eoi.irq].irq && !p[eoi.irq].evtchn))
        return -EINVAL;
    if (pirq_auto_unmask(d) && p[eoi.irq].evtchn)
        evtchn_unmask_port(d, p[eoi.irq].evtchn);
    pirq_guest_eoi(d, eoi.irq);
    return 0;
}

static long physdev_irq_status_query(struct domain *d, uint64_t arg)
{
    struct physdev_irq_status_query q;
    if (copy_from_guest_obj(&q, arg))
        return -EFAULT;
    if ((int32_t)q.irq < 0 || q.irq >= domain_nr_pirqs(d))
        return -EINVAL;
    /* Xen always asks for an EOI here; a guest with an EOI map learns the real need from it. */
    q.flags = XENIRQSTAT_needs_eoi;
    if (pirq_shared(d, q.irq))
        q.flags |= XENIRQSTAT_shared;
    return copy_to_guest_obj(arg, &q) ? -EFAULT : 0;
}

static long physdev_map_pirq(uint64_t arg)
{
    struct physdev_map_pirq map;
    struct msi_info msi = {0};
    if (copy_from_guest_obj(&map, arg))
        return -EFAULT;
    switch (map.type) {
    case MAP_PIRQ_TYPE_MSI_SEG:
        map.type = MAP_PIRQ_TYPE_MSI;
        msi.seg = (uint16_t)((uint32_t)map.bus >> 16);
        break;
    case MAP_PIRQ_TYPE_MULTI_MSI:
        if (map.table_base)
            return -EINVAL;
        msi.seg = (uint16_t)((uint32_t)map.bus >> 16);
        break;
    default:
        break;
    }
    msi.bus = (uint8_t)map.bus;
    msi.devfn = (uint8_t)map.devfn;
    msi.entry_nr = (unsigned int)map.entry_nr;
    msi.table_base = map.table_base;

    long rc;
    struct domain *cur = current_domain();
    struct domain *d = domain_get_by_any_id(map.domid);
    if (!d) {
        rc = -ESRCH;
    } else if (!cur->privileged) {
        rc = -EPERM; /* XSM's default: only the control domain (no device models exist) */
    } else {
        switch (map.type) {
        case MAP_PIRQ_TYPE_GSI:
            rc = allocate_and_map_gsi_pirq(d, map.index, &map.pirq);
            break;
        case MAP_PIRQ_TYPE_MSI:
        case MAP_PIRQ_TYPE_MULTI_MSI:
            rc = allocate_and_map_msi_pirq(d, map.index, &map.pirq, map.type, &msi);
            break;
        default:
            rc = -EINVAL;
            break;
        }
        if (map.type == MAP_PIRQ_TYPE_MULTI_MSI)
            map.entry_nr = (int32_t)msi.entry_nr;
    }
    if (d)
        domain_put(d);
    /* Xen writes the structure back whatever the outcome (with MSI_SEG turned into MSI). */
    if (copy_to_guest_obj(arg, &map))
        rc = -EFAULT;
    return rc;
}

static long physdev_unmap_pirq(uint64_t arg)
{
    struct physdev_unmap_pirq unmap;
    if (copy_from_guest_obj(&unmap, arg))
        return -EFAULT;
    struct domain *d = domain_get_by_any_id(unmap.domid);
    if (!d)
        return -ESRCH;
    long rc = current_domain()->privileged ? unmap_domain_pirq(d, unmap.pirq) : -EPERM;
    domain_put(d);
    return rc;
}

static long physdev_apic(int cmd, uint64_t arg)
{
    struct physdev_apic apic;
    if (copy_from_guest_obj(&apic, arg))
        return -EFAULT;
    if (!current_domain()->privileged)
        return -EPERM;
    if (cmd == PHYSDEVOP_apic_write)
        return ioapic_guest_write(apic.apic_physbase, apic.reg, apic.value);
    long rc = ioapic_guest_read(apic.apic_physbase, apic.reg, &apic.value);
    if (copy_to_guest_obj(arg, &apic))
        rc = -EFAULT;
    return rc;
}

static long physdev_setup_gsi(uint64_t arg)
{
    struct physdev_setup_gsi op;
    if (copy_from_guest_obj(&op, arg))
        return -EFAULT;
    if (op.gsi < 0 || (unsigned int)op.gsi >= nr_irqs_gsi)
        return -EINVAL;
    if (!current_domain()->privileged)
        return -EPERM;
    return setup_gsi(op.gsi, op.triggering, op.polarity);
}

static long physdev_get_free_pirq(struct domain *d, uint64_t arg)
{
    struct physdev_get_free_pirq out;
    if (copy_from_guest_obj(&out, arg))
        return -EFAULT;
    unsigned long f = spin_lock_irqsave(&d->evtchn_lock);
    int rc = get_free_pirq(d, out.type);
    if (rc >= 0)
        d->pirqs[rc].irq = PIRQ_ALLOCATED;
    spin_unlock_irqrestore(&d->evtchn_lock, f);
    if (rc < 0)
        return rc;
    out.pirq = (uint32_t)rc;
    return copy_to_guest_obj(arg, &out) ? -EFAULT : 0;
}

/* Xen's pci_add_device for a device its boot scan already knows: nothing to do beyond the permission check.
 * Vesta keeps no device list; a device dom0 names is looked up in config space when it is used. */
static long pci_add(uint64_t arg, size_t size)
{
    uint8_t buf[sizeof(struct physdev_pci_device_add)];
    if (copy_from_guest(buf, arg, size))
        return -EFAULT;
    return current_domain()->privileged ? 0 : -EPERM;
}

/* Xen's pci_remove_device: -ENODEV for a device it does not know. */
static long pci_remove(unsigned int seg, unsigned int bus, unsigned int devfn)
{
    if (!current_domain()->privileged)
        return -EPERM;
    return seg == 0 && pci_device_present(bus, devfn) ? 0 : -ENODEV;
}

static long physdev_manage_pci_add_ext(uint64_t arg)
{
    struct physdev_manage_pci_ext op;
    if (copy_from_guest_obj(&op, arg))
        return -EFAULT;
    if (op.is_extfn > 1 || op.is_virtfn > 1)
        return -EINVAL;
    if (!current_domain()->privileged)
        return -EPERM;
    return 0;
}

/* PHYSDEVOP_restore_msi(_ext): the messages Vesta wrote are still in the device unless it was reset; rewriting
 * them needs the device's MSI state by device, which is not kept. No device named: -ENODEV, as Xen. */
static long physdev_restore_msi(int cmd, uint64_t arg)
{
    unsigned int seg = 0, bus, devfn;
    if (cmd == PHYSDEVOP_restore_msi) {
        struct physdev_restore_msi r;
        if (copy_from_guest_obj(&r, arg))
            return -EFAULT;
        bus = r.bus;
        devfn = r.devfn;
    } else {
        struct physdev_pci_device dev;
        if (copy_from_guest_obj(&dev, arg))
            return -EFAULT;
        seg = dev.seg;
        bus = dev.bus;
        devfn = dev.devfn;
    }
    if (seg != 0 || !pci_device_present(bus, devfn))
        return -ENODEV;
    return 0;
}

HC(do_physdev_op)
{
    int cmd = (int)a1;
    uint64_t arg = a2;
    struct vcpu *v = current_vcpu();
    struct domain *d = v->domain;

    switch (cmd) {
    case PHYSDEVOP_eoi:
        return physdev_eoi(d, arg);
    case PHYSDEVOP_pirq_eoi_gmfn_v1:
    case PHYSDEVOP_pirq_eoi_gmfn_v2: {
        struct physdev_pirq_eoi_gmfn info;
        if (copy_from_guest_obj(&info, arg))
            return -EFAULT;
        return pirq_eoi_map_register(d, info.gmfn, cmd == PHYSDEVOP_pirq_eoi_gmfn_v1);
    }
    case PHYSDEVOP_IRQ_UNMASK_NOTIFY:
        return pirq_guest_unmask(d);
    case PHYSDEVOP_irq_status_query:
        return physdev_irq_status_query(d, arg);
    case PHYSDEVOP_map_pirq:
        return physdev_map_pirq(arg);
    case PHYSDEVOP_unmap_pirq:
        return physdev_unmap_pirq(arg);
    case PHYSDEVOP_apic_read:
    case PHYSDEVOP_apic_write:
        return physdev_apic(cmd, arg);
    case PHYSDEVOP_set_iopl:
        return physdev_set_iopl(v, arg);
    case PHYSDEVOP_set_iobitmap:
        return physdev_set_iobitmap(v, arg);
    case PHYSDEVOP_alloc_irq_vector: {
        /* A placeholder in Xen too: the vector is the IRQ, chosen for real when the IO-APIC entry is written. */
        struct physdev_irq op;
        if (copy_from_guest_obj(&op, arg))
            return -EFAULT;
        if (!d->privileged)
            return -EPERM;
        op.vector = op.irq;
        return copy_to_guest_obj(arg, &op) ? -EFAULT : 0;
    }
    case PHYSDEVOP_manage_pci_add:
        return pci_add(arg, sizeof(struct physdev_manage_pci));
    case PHYSDEVOP_manage_pci_remove: {
        struct physdev_manage_pci op;
        if (copy_from_guest_obj(&op, arg))
            return -EFAULT;
        return pci_remove(0, op.bus, op.devfn);
    }
    case PHYSDEVOP_manage_pci_add_ext:
        return physdev_manage_pci_add_ext(arg);
    case PHYSDEVOP_prepare_msix:
    case PHYSDEVOP_release_msix: {
        struct physdev_pci_device dev;
        if (copy_from_guest_obj(&dev, arg))
            return -EFAULT;
        if (!d->privileged)
            return -EPERM;
        return dev.seg == 0 && pci_device_present(dev.bus, dev.devfn) ? 0 : -ENODEV;
    }
    case PHYSDEVOP_pci_mmcfg_reserved: {
        struct physdev_pci_mmcfg_reserved info;
        if (!d->privileged)
            return -EPERM;
        if (copy_from_guest_obj(&info, arg))
            return -EFAULT;
        return 0; /* Vesta uses mechanism 1 only; a reserved MMCONFIG area needs nothing from it */
    }
    case PHYSDEVOP_restore_msi:
    case PHYSDEVOP_restore_msi_ext:
        return physdev_restore_msi(cmd, arg);
    case PHYSDEVOP_setup_gsi:
        return physdev_setup_gsi(arg);
    case PHYSDEVOP_get_free_pirq:
        return physdev_get_free_pirq(d, arg);
    case PHYSDEVOP_dbgp_op: {
        struct physdev_dbgp_op op;
        if (!d->privileged)
            return -EPERM;
        if (copy_from_guest_obj(&op, arg))
            return -EFAULT;
        return 0; /* no EHCI debug port in use: Xen has nothing to prepare */
    }
    case PHYSDEVOP_pci_device_add:
        return pci_add(arg, sizeof(struct physdev_pci_device_add));
    case PHYSDEVOP_pci_device_remove: {
        struct physdev_pci_device dev;
        if (copy_from_guest_obj(&dev, arg))
            return -EFAULT;
        return pci_remove(dev.seg, dev.bus, dev.devfn);
    }
    default:
        return -ENOSYS;
    }
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
