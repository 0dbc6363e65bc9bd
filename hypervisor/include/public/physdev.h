/* SPDX-License-Identifier: MIT */
/*
 * Vesta public guest ABI: physical device operations.
 *
 * HYPERVISOR_physdev_op(unsigned cmd, void *arg)
 *   Returns 0 or a negative errno (-EFAULT, -EINVAL, -EPERM for callers
 *   lacking the needed I/O or IRQ permission, -ENOSYS for unknown cmd).
 *   Hypercall 19 (physdev_op_compat) takes a struct physdev_op instead.
 */
#ifndef VESTA_PUBLIC_PHYSDEV_H
#define VESTA_PUBLIC_PHYSDEV_H

#include "xen.h"

/* Obsolete since interface 0x00030202; not supported. */
#define PHYSDEVOP_IRQ_UNMASK_NOTIFY    4

/* irq_status_query: does <irq> need PHYSDEVOP_eoi after servicing? */
#define PHYSDEVOP_irq_status_query     5
struct physdev_irq_status_query {
    uint32_t irq;            /* IN  */
    uint32_t flags;          /* OUT: XENIRQSTAT_* */
};
#define _XENIRQSTAT_needs_eoi  0
#define XENIRQSTAT_needs_eoi   (1U << _XENIRQSTAT_needs_eoi)
#define _XENIRQSTAT_shared     1
#define XENIRQSTAT_shared      (1U << _XENIRQSTAT_shared)

/* set_iopl: virtual IOPL (0..3) of the calling vCPU; port I/O at guest
 * privilege <= IOPL is allowed (and emulated for ring-3 kernels). */
#define PHYSDEVOP_set_iopl             6
struct physdev_set_iopl {
    uint32_t iopl;           /* IN */
};

/* set_iobitmap: per-vCPU I/O permission bitmap covering ports
 * [0, nr_ports); a clear bit permits access (TSS semantics). */
#define PHYSDEVOP_set_iobitmap         7
struct physdev_set_iobitmap {
    xen_guest_handle_t bitmap;   /* IN: -> uint8_t[] */
    uint32_t nr_ports;           /* IN */
    uint32_t _pad0;
};

/* apic_read / apic_write: IO-APIC register access for dom0. */
#define PHYSDEVOP_apic_read            8
#define PHYSDEVOP_apic_write           9
struct physdev_apic {
    uint64_t apic_physbase;      /* IN: IO-APIC MMIO base       */
    uint32_t reg;                /* IN: register index          */
    uint32_t value;              /* IN (write) / OUT (read)     */
};

/* alloc_irq_vector / free_irq_vector: legacy vector assignment. */
#define PHYSDEVOP_alloc_irq_vector    10
#define PHYSDEVOP_free_irq_vector     11
struct physdev_irq {
    uint32_t irq;                /* IN  */
    uint32_t vector;             /* IN/OUT */
};

/* eoi: signal end-of-interrupt for PIRQ <irq>. */
#define PHYSDEVOP_eoi                 12
struct physdev_eoi {
    uint32_t irq;                /* IN */
};

/* map_pirq / unmap_pirq: create or remove a PIRQ for a GSI or MSI. */
#define MAP_PIRQ_TYPE_MSI             0x0
#define MAP_PIRQ_TYPE_GSI             0x1
#define MAP_PIRQ_TYPE_UNKNOWN         0x2
#define MAP_PIRQ_TYPE_MSI_SEG         0x3
#define MAP_PIRQ_TYPE_MULTI_MSI       0x4

#define PHYSDEVOP_map_pirq            13
struct physdev_map_pirq {
    domid_t  domid;              /* IN  */
    uint16_t _pad0;
    int32_t  type;               /* IN: MAP_PIRQ_TYPE_* */
    int32_t  index;              /* IN: GSI number (ignored for MULTI_MSI) */
    int32_t  pirq;               /* IN (-1 = any) / OUT */
    int32_t  bus;                /* IN: [31:16] = PCI segment for *_SEG,
                                    MULTI_MSI */
    int32_t  devfn;              /* IN  */
    int32_t  entry_nr;           /* IN (MULTI_MSI: also OUT) */
    uint32_t _pad1;
    uint64_t table_base;         /* IN: MSI-X table base */
};

#define PHYSDEVOP_unmap_pirq          14
struct physdev_unmap_pirq {
    domid_t  domid;              /* IN */
    uint16_t _pad0;
    int32_t  pirq;               /* IN */
};

/* manage_pci_add / _remove: legacy (segment 0) PCI device reporting. */
#define PHYSDEVOP_manage_pci_add      15
#define PHYSDEVOP_manage_pci_remove   16
struct physdev_manage_pci {
    uint8_t bus;
    uint8_t devfn;
};

/* pirq_eoi_gmfn_v1: register a bitmap page (indexed by PIRQ) telling the
 * guest which PIRQs need an EOI; also makes PHYSDEVOP_eoi unmask the
 * event channel.  v2 registers the same page without that side effect. */
#define PHYSDEVOP_pirq_eoi_gmfn_v1    17
#define PHYSDEVOP_pirq_eoi_gmfn_v2    28
#define PHYSDEVOP_pirq_eoi_gmfn       PHYSDEVOP_pirq_eoi_gmfn_v2
struct physdev_pirq_eoi_gmfn {
    xen_pfn_t gmfn;              /* IN */
};

/* restore_msi: re-program MSI state of a device after resume. */
#define PHYSDEVOP_restore_msi         19
struct physdev_restore_msi {
    uint8_t bus;
    uint8_t devfn;
};

#define PHYSDEVOP_manage_pci_add_ext  20
struct physdev_manage_pci_ext {
    uint8_t  bus;
    uint8_t  devfn;
    uint16_t _pad0;
    uint32_t is_extfn;
    uint32_t is_virtfn;
    struct {
        uint8_t bus;
        uint8_t devfn;
    } physfn;
    uint16_t _pad1;
};

/* setup_gsi: program trigger mode / polarity of a GSI (dom0). */
#define PHYSDEVOP_setup_gsi           21
struct physdev_setup_gsi {
    int32_t gsi;                 /* IN */
    uint8_t triggering;          /* IN: 0 edge, 1 level */
    uint8_t polarity;            /* IN: 0 high, 1 low   */
    uint8_t _pad0[2];
};
/* 22 is intentionally unused. */

/* get_free_pirq: allocate an unused PIRQ number (type GSI or MSI). */
#define PHYSDEVOP_get_free_pirq       23
struct physdev_get_free_pirq {
    int32_t  type;               /* IN: MAP_PIRQ_TYPE_* */
    uint32_t pirq;               /* OUT */
};

#define XEN_PCI_MMCFG_RESERVED        0x1
#define PHYSDEVOP_pci_mmcfg_reserved  24
struct physdev_pci_mmcfg_reserved {
    uint64_t address;
    uint16_t segment;
    uint8_t  start_bus;
    uint8_t  end_bus;
    uint32_t flags;              /* XEN_PCI_MMCFG_* */
};

#define XEN_PCI_DEV_EXTFN             0x1
#define XEN_PCI_DEV_VIRTFN            0x2
#define XEN_PCI_DEV_PXM               0x4
#define PHYSDEVOP_pci_device_add      25
struct physdev_pci_device_add {
    uint16_t seg;
    uint8_t  bus;
    uint8_t  devfn;
    uint32_t flags;              /* XEN_PCI_DEV_* */
    struct {
        uint8_t bus;
        uint8_t devfn;
    } physfn;
    uint16_t _pad0;
    uint32_t optarr[XEN_FLEX_ARRAY_DIM];  /* [0] = PXM if XEN_PCI_DEV_PXM */
};

/* These take struct physdev_pci_device. */
#define PHYSDEVOP_pci_device_remove   26
#define PHYSDEVOP_restore_msi_ext     27
#define PHYSDEVOP_prepare_msix        30
#define PHYSDEVOP_release_msix        31
struct physdev_pci_device {
    uint16_t seg;
    uint8_t  bus;
    uint8_t  devfn;
};

/* dbgp_op: USB debug port reset handshake with dom0. */
#define PHYSDEVOP_DBGP_RESET_PREPARE  1
#define PHYSDEVOP_DBGP_RESET_DONE     2
#define PHYSDEVOP_DBGP_BUS_UNKNOWN    0
#define PHYSDEVOP_DBGP_BUS_PCI        1
#define PHYSDEVOP_dbgp_op             29
struct physdev_dbgp_op {
    uint8_t op;                  /* PHYSDEVOP_DBGP_RESET_* */
    uint8_t bus;                 /* PHYSDEVOP_DBGP_BUS_*   */
    union {
        struct physdev_pci_device pci;
    } u;
};

/* Argument of legacy hypercall 19. */
struct physdev_op {
    uint32_t cmd;
    uint32_t _pad0;
    union {
        struct physdev_irq_status_query irq_status_query;
        struct physdev_set_iopl         set_iopl;
        struct physdev_set_iobitmap     set_iobitmap;
        struct physdev_apic             apic_op;
        struct physdev_irq              irq_op;
    } u;
};

typedef struct physdev_irq_status_query   physdev_irq_status_query_t;
typedef struct physdev_set_iopl           physdev_set_iopl_t;
typedef struct physdev_set_iobitmap       physdev_set_iobitmap_t;
typedef struct physdev_apic               physdev_apic_t;
typedef struct physdev_irq                physdev_irq_t;
typedef struct physdev_eoi                physdev_eoi_t;
typedef struct physdev_map_pirq           physdev_map_pirq_t;
typedef struct physdev_unmap_pirq         physdev_unmap_pirq_t;
typedef struct physdev_manage_pci         physdev_manage_pci_t;
typedef struct physdev_pirq_eoi_gmfn      physdev_pirq_eoi_gmfn_t;
typedef struct physdev_restore_msi        physdev_restore_msi_t;
typedef struct physdev_manage_pci_ext     physdev_manage_pci_ext_t;
typedef struct physdev_setup_gsi          physdev_setup_gsi_t;
typedef struct physdev_get_free_pirq      physdev_get_free_pirq_t;
typedef struct physdev_pci_mmcfg_reserved physdev_pci_mmcfg_reserved_t;
typedef struct physdev_pci_device_add     physdev_pci_device_add_t;
typedef struct physdev_pci_device         physdev_pci_device_t;
typedef struct physdev_dbgp_op            physdev_dbgp_op_t;
typedef struct physdev_op                 physdev_op_t;

_Static_assert(sizeof(struct physdev_irq_status_query) == 8, "isq");
_Static_assert(sizeof(struct physdev_set_iopl) == 4, "set_iopl");
_Static_assert(sizeof(struct physdev_set_iobitmap) == 16, "set_iobitmap");
_Static_assert(offsetof(struct physdev_set_iobitmap, nr_ports) == 8, "iob.nr");
_Static_assert(sizeof(struct physdev_apic) == 16, "apic");
_Static_assert(offsetof(struct physdev_apic, reg) == 8, "apic.reg");
_Static_assert(sizeof(struct physdev_irq) == 8, "irq");
_Static_assert(sizeof(struct physdev_eoi) == 4, "eoi");
_Static_assert(sizeof(struct physdev_map_pirq) == 40, "map_pirq");
_Static_assert(offsetof(struct physdev_map_pirq, type) == 4, "mp.type");
_Static_assert(offsetof(struct physdev_map_pirq, pirq) == 12, "mp.pirq");
_Static_assert(offsetof(struct physdev_map_pirq, entry_nr) == 24, "mp.entry_nr");
_Static_assert(offsetof(struct physdev_map_pirq, table_base) == 32, "mp.tb");
_Static_assert(sizeof(struct physdev_unmap_pirq) == 8, "unmap_pirq");
_Static_assert(sizeof(struct physdev_manage_pci) == 2, "manage_pci");
_Static_assert(sizeof(struct physdev_pirq_eoi_gmfn) == 8, "eoi_gmfn");
_Static_assert(sizeof(struct physdev_restore_msi) == 2, "restore_msi");
_Static_assert(sizeof(struct physdev_manage_pci_ext) == 16, "manage_pci_ext");
_Static_assert(offsetof(struct physdev_manage_pci_ext, physfn) == 12, "mpe.pf");
_Static_assert(sizeof(struct physdev_setup_gsi) == 8, "setup_gsi");
_Static_assert(sizeof(struct physdev_get_free_pirq) == 8, "get_free_pirq");
_Static_assert(sizeof(struct physdev_pci_mmcfg_reserved) == 16, "mmcfg");
_Static_assert(sizeof(struct physdev_pci_device_add) == 12, "pci_device_add");
_Static_assert(offsetof(struct physdev_pci_device_add, optarr) == 12, "pda.opt");
_Static_assert(sizeof(struct physdev_pci_device) == 4, "pci_device");
_Static_assert(sizeof(struct physdev_dbgp_op) == 6, "dbgp_op");
_Static_assert(offsetof(struct physdev_dbgp_op, u) == 2, "dbgp.u");
_Static_assert(sizeof(struct physdev_op) == 24, "physdev_op");
_Static_assert(offsetof(struct physdev_op, u) == 8, "physdev_op.u");

#endif /* VESTA_PUBLIC_PHYSDEV_H */
