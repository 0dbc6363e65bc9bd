/* SPDX-License-Identifier: MIT */
/*
 * Vesta public guest ABI: platform operations (subset used by dom0).
 *
 * HYPERVISOR_platform_op(struct xen_platform_op *op)
 *   Initial-domain only (-EPERM otherwise).  op->interface_version must be
 *   XENPF_INTERFACE_VERSION (-EACCES otherwise).  Results are written back
 *   into op->u.  Unimplemented commands return -ENOSYS.
 */
#ifndef VESTA_PUBLIC_PLATFORM_H
#define VESTA_PUBLIC_PLATFORM_H

#include "xen.h"

#define XENPF_INTERFACE_VERSION   0x03000001

/* Command numbers (all of Xen 4.17's, structures only for our subset). */
#define XENPF_settime32            17
#define XENPF_add_memtype          31
#define XENPF_del_memtype          32
#define XENPF_read_memtype         33
#define XENPF_microcode_update     35
#define XENPF_platform_quirk       39
#define XENPF_get_cpu_version      48
#define XENPF_efi_runtime_call     49
#define XENPF_firmware_info        50
#define XENPF_enter_acpi_sleep     51
#define XENPF_change_freq          52
#define XENPF_getidletime          53
#define XENPF_set_processor_pminfo 54
#define XENPF_get_cpuinfo          55
#define XENPF_cpu_online           56
#define XENPF_cpu_offline          57
#define XENPF_cpu_hotadd           58
#define XENPF_mem_hotadd           59
#define XENPF_core_parking         60
#define XENPF_resource_op          61
#define XENPF_settime64            62
#define XENPF_get_symbol           63
#define XENPF_settime              XENPF_settime64

/*
 * settime64: set wall-clock so that it reads secs.nsecs (Unix epoch) at
 * system time system_time.  Updates shared_info.wc_* of all domains.
 */
struct xenpf_settime64 {
    uint64_t secs;
    uint32_t nsecs;
    uint32_t mbz;              /* must be zero (-EINVAL) */
    uint64_t system_time;
};

struct xenpf_settime32 {
    uint32_t secs;
    uint32_t nsecs;
    uint64_t system_time;
};

/* add_memtype / del_memtype / read_memtype: MTRR management. */
struct xenpf_add_memtype {
    xen_pfn_t mfn;             /* IN  */
    uint64_t  nr_mfns;         /* IN  */
    uint32_t  type;            /* IN: MTRR type */
    uint32_t  handle;          /* OUT */
    uint32_t  reg;             /* OUT */
    uint32_t  _pad0;
};

struct xenpf_del_memtype {
    uint32_t handle;
    uint32_t reg;
};

struct xenpf_read_memtype {
    uint32_t  reg;             /* IN: MTRR index */
    uint32_t  _pad0;
    xen_pfn_t mfn;             /* OUT */
    uint64_t  nr_mfns;         /* OUT */
    uint32_t  type;            /* OUT */
    uint32_t  _pad1;
};

/* platform_quirk: dom0 tells the hypervisor about IO-APIC quirks. */
#define QUIRK_NOIRQBALANCING       1
#define QUIRK_IOAPIC_BAD_REGSEL    2
#define QUIRK_IOAPIC_GOOD_REGSEL   3
struct xenpf_platform_quirk {
    uint32_t quirk_id;         /* QUIRK_* */
};

/* firmware_info: boot-time BIOS/EFI data collected by the hypervisor.
 * -ESRCH when index is past the last item of that type. */
#define XEN_FW_DISK_INFO            1
#define XEN_FW_DISK_MBR_SIGNATURE   2
#define XEN_FW_VBEDDC_INFO          3
#define XEN_FW_EFI_INFO             4
#define  XEN_FW_EFI_VERSION          0
#define  XEN_FW_EFI_CONFIG_TABLE     1
#define  XEN_FW_EFI_VENDOR           2
#define  XEN_FW_EFI_MEM_INFO         3
#define  XEN_FW_EFI_RT_VERSION       4
#define  XEN_FW_EFI_PCI_ROM          5
#define  XEN_FW_EFI_APPLE_PROPERTIES 6
#define XEN_FW_KBD_SHIFT_FLAGS      5

union xenpf_efi_info {
    uint32_t version;
    struct {
        uint64_t addr;
        uint32_t nent;
    } cfg;
    struct {
        uint32_t revision;
        uint32_t bufsz;
        xen_guest_handle_t name;     /* -> UCS-2 buffer */
    } vendor;
    struct {
        uint64_t addr;
        uint64_t size;
        uint64_t attr;
        uint32_t type;
    } mem;
    struct {
        uint16_t segment;
        uint8_t  bus;
        uint8_t  devfn;
        uint16_t vendor;
        uint16_t devid;
        uint64_t address;
        xen_ulong_t size;
    } pci_rom;
    struct {
        uint64_t address;
        xen_ulong_t size;
    } apple_properties;
};

struct xenpf_firmware_info {
    uint32_t type;             /* IN: XEN_FW_* */
    uint32_t index;            /* IN  */
    union {
        struct {
            uint8_t  device;
            uint8_t  version;
            uint16_t interface_support;
            uint16_t legacy_max_cylinder;
            uint8_t  legacy_max_head;
            uint8_t  legacy_sectors_per_track;
            xen_guest_handle_t edd_params;   /* first u16 = buffer size */
        } disk_info;
        struct {
            uint8_t  device;
            uint32_t mbr_signature;
        } disk_mbr_signature;
        struct {
            uint8_t capabilities;
            uint8_t edid_transfer_time;
            xen_guest_handle_t edid;         /* -> uint8_t[128] */
        } vbeddc_info;
        union xenpf_efi_info efi_info;
        uint8_t kbd_shift_flags;
    } u;                       /* OUT */
};

/* enter_acpi_sleep: put the host into ACPI S<sleep_state>. */
#define XENPF_ACPI_SLEEP_EXTENDED  0x00000001
struct xenpf_enter_acpi_sleep {
    uint16_t val_a;            /* PM1a control / sleep type A */
    uint16_t val_b;            /* PM1b control / sleep type B */
    uint32_t sleep_state;
    uint32_t flags;            /* XENPF_ACPI_SLEEP_* */
};

/* set_processor_pminfo: dom0 uploads ACPI power data (type XEN_PM_*).
 * The structure is large and not modelled here; we only need the numbers. */
#define XEN_PROCESSOR_PM_CX   1
#define XEN_PROCESSOR_PM_PX   2
#define XEN_PROCESSOR_PM_TX   4
#define XEN_PM_CX    0
#define XEN_PM_PX    1
#define XEN_PM_TX    2
#define XEN_PM_PDC   3

/* get_cpuinfo: physical CPU <xen_cpuid>. */
#define XEN_PCPU_FLAGS_ONLINE    1
#define XEN_PCPU_FLAGS_INVALID   2
struct xenpf_pcpuinfo {
    uint32_t xen_cpuid;        /* IN  */
    uint32_t max_present;      /* OUT: highest present CPU id */
    uint32_t flags;            /* OUT: XEN_PCPU_FLAGS_* */
    uint32_t apic_id;          /* OUT */
    uint32_t acpi_id;          /* OUT */
};

/* get_cpu_version: CPUID identity of physical CPU <xen_cpuid>. */
struct xenpf_pcpu_version {
    uint32_t xen_cpuid;        /* IN  */
    uint32_t max_present;      /* OUT */
    char     vendor_id[12];    /* OUT */
    uint32_t family;           /* OUT */
    uint32_t model;            /* OUT */
    uint32_t stepping;         /* OUT */
};

/* The hypercall argument.  The union is always 128 bytes. */
struct xen_platform_op {
    uint32_t cmd;                  /* XENPF_* */
    uint32_t interface_version;    /* XENPF_INTERFACE_VERSION */
    union {
        struct xenpf_settime64        settime64;
        struct xenpf_settime32        settime32;
        struct xenpf_add_memtype      add_memtype;
        struct xenpf_del_memtype      del_memtype;
        struct xenpf_read_memtype     read_memtype;
        struct xenpf_platform_quirk   platform_quirk;
        struct xenpf_firmware_info    firmware_info;
        struct xenpf_enter_acpi_sleep enter_acpi_sleep;
        struct xenpf_pcpuinfo         pcpu_info;
        struct xenpf_pcpu_version     pcpu_version;
        uint8_t                       pad[128];
    } u;
};

typedef struct xenpf_settime64        xenpf_settime64_t;
typedef struct xenpf_settime32        xenpf_settime32_t;
typedef struct xenpf_add_memtype      xenpf_add_memtype_t;
typedef struct xenpf_del_memtype      xenpf_del_memtype_t;
typedef struct xenpf_read_memtype     xenpf_read_memtype_t;
typedef struct xenpf_platform_quirk   xenpf_platform_quirk_t;
typedef struct xenpf_firmware_info    xenpf_firmware_info_t;
typedef struct xenpf_enter_acpi_sleep xenpf_enter_acpi_sleep_t;
typedef struct xenpf_pcpuinfo         xenpf_pcpuinfo_t;
typedef struct xenpf_pcpu_version     xenpf_pcpu_version_t;
typedef struct xen_platform_op        xen_platform_op_t;

_Static_assert(sizeof(struct xenpf_settime64) == 24, "settime64");
_Static_assert(offsetof(struct xenpf_settime64, system_time) == 16, "st64.sys");
_Static_assert(sizeof(struct xenpf_settime32) == 16, "settime32");
_Static_assert(sizeof(struct xenpf_add_memtype) == 32, "add_memtype");
_Static_assert(sizeof(struct xenpf_del_memtype) == 8, "del_memtype");
_Static_assert(sizeof(struct xenpf_read_memtype) == 32, "read_memtype");
_Static_assert(offsetof(struct xenpf_read_memtype, mfn) == 8, "rm.mfn");
_Static_assert(offsetof(struct xenpf_read_memtype, type) == 24, "rm.type");
_Static_assert(sizeof(struct xenpf_platform_quirk) == 4, "platform_quirk");
_Static_assert(sizeof(union xenpf_efi_info) == 32, "efi_info");
_Static_assert(sizeof(struct xenpf_firmware_info) == 40, "firmware_info");
_Static_assert(offsetof(struct xenpf_firmware_info, u) == 8, "fw.u");
_Static_assert(offsetof(struct xenpf_firmware_info, u.disk_info.edd_params) == 16,
               "fw.edd");
_Static_assert(offsetof(struct xenpf_firmware_info, u.disk_mbr_signature.mbr_signature)
               == 12, "fw.mbr");
_Static_assert(sizeof(struct xenpf_enter_acpi_sleep) == 12, "acpi_sleep");
_Static_assert(sizeof(struct xenpf_pcpuinfo) == 20, "pcpuinfo");
_Static_assert(sizeof(struct xenpf_pcpu_version) == 32, "pcpu_version");
_Static_assert(offsetof(struct xenpf_pcpu_version, family) == 20, "pv.family");
_Static_assert(sizeof(struct xen_platform_op) == 136, "xen_platform_op");
_Static_assert(offsetof(struct xen_platform_op, u) == 8, "platform_op.u");

#endif /* VESTA_PUBLIC_PLATFORM_H */
