/* MSI and MSI-X sources set up on a domain's behalf (PHYSDEVOP_map_pirq with MAP_PIRQ_TYPE_MSI), following Xen
 * 4.17's arch/x86/msi.c as the guest sees it.
 *
 * The "split brain" model: the hypervisor owns the message (address/data, written here with its own vector and
 * the target CPU) and the per-vector mask, the domain owns the enable bits in the capability's control word (it
 * sets them through config space after the mapping succeeded). A new source starts masked; binding its pirq to
 * an event channel unmasks it. Some devices only accept MSI-X table writes while MSI-X is enabled, so a table
 * access with MSI-X disabled enables it with the function mask set, and restores the control word afterwards. */
#include <vesta/errno.h>
#include <vesta/irq.h>
#include <vesta/lib.h>
#include <vesta/mm.h>

#define PCI_COMMAND 0x04
#define PCI_COMMAND_MEMORY 0x2
#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_MSIX 0x11

#define PCI_MSI_FLAGS 2
#define PCI_MSI_FLAGS_ENABLE 0x0001
#define PCI_MSI_FLAGS_QSIZE 0x0070
#define PCI_MSI_FLAGS_64BIT 0x0080
#define PCI_MSI_FLAGS_MASKBIT 0x0100
#define PCI_MSI_ADDRESS_LO 4
#define PCI_MSI_ADDRESS_HI 8

#define PCI_MSIX_FLAGS 2
#define PCI_MSIX_FLAGS_QSIZE 0x07ff
#define PCI_MSIX_FLAGS_MASKALL 0x4000
#define PCI_MSIX_FLAGS_ENABLE 0x8000
#define PCI_MSIX_TABLE 4
#define PCI_MSIX_BIRMASK 7u
#define PCI_MSIX_ENTRY_SIZE 16
#define PCI_MSIX_ENTRY_ADDR_LO 0
#define PCI_MSIX_ENTRY_ADDR_HI 4
#define PCI_MSIX_ENTRY_DATA 8
#define PCI_MSIX_ENTRY_VECTOR_CTRL 12

#define MSI_ADDR_BASE 0xfee00000u
#define MSI_DATA_LEVEL_ASSERT (1u << 14)

struct msi_desc {
    bool is_msix;
    bool is_64, maskbit;       /* MSI: 64-bit address, per-vector masking */
    uint8_t bus, devfn;
    unsigned int pos;          /* capability offset */
    unsigned int entry_nr;
    volatile uint32_t *entry;  /* MSI-X: the mapped table entry */
};

static bool memory_decoded(const struct msi_desc *m)
{
    return pci_conf_read(m->bus, m->devfn, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY;
}

/* MSI-X table accesses need MSI-X enabled on some devices: enable it (all vectors masked) for the access. */
static uint16_t msix_open(const struct msi_desc *m)
{
    uint16_t control = (uint16_t)pci_conf_read(m->bus, m->devfn, m->pos + PCI_MSIX_FLAGS, 2);
    if (!(control & PCI_MSIX_FLAGS_ENABLE))
        pci_conf_write(m->bus, m->devfn, m->pos + PCI_MSIX_FLAGS, 2,
                       control | PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    return control;
}

static void msix_close(const struct msi_desc *m, uint16_t control)
{
    pci_conf_write(m->bus, m->devfn, m->pos + PCI_MSIX_FLAGS, 2, control);
}

static void compose(unsigned int vector, unsigned int dest_apic, uint32_t *addr, uint32_t *data)
{
    *addr = MSI_ADDR_BASE | ((dest_apic & 0xff) << 12); /* physical destination, no redirection */
    *data = MSI_DATA_LEVEL_ASSERT | (vector & 0xff);   /* fixed delivery, edge */
}

static unsigned int msi_data_reg(const struct msi_desc *m) { return m->pos + (m->is_64 ? 12 : 8); }
static unsigned int msi_mask_reg(const struct msi_desc *m) { return m->pos + (m->is_64 ? 16 : 12); }

void msi_set_target(struct msi_desc *m, unsigned int vector, unsigned int dest_apic)
{
    uint32_t addr, data;
    compose(vector, dest_apic, &addr, &data);
    if (m->is_msix) {
        uint16_t control = msix_open(m);
        if (memory_decoded(m)) {
            m->entry[PCI_MSIX_ENTRY_ADDR_LO / 4] = addr;
            m->entry[PCI_MSIX_ENTRY_ADDR_HI / 4] = 0;
            m->entry[PCI_MSIX_ENTRY_DATA / 4] = data;
        }
        msix_close(m, control);
        return;
    }
    pci_conf_write(m->bus, m->devfn, m->pos + PCI_MSI_ADDRESS_LO, 4, addr);
    if (m->is_64)
        pci_conf_write(m->bus, m->devfn, m->pos + PCI_MSI_ADDRESS_HI, 4, 0);
    pci_conf_write(m->bus, m->devfn, msi_data_reg(m), 2, data);
}

bool msi_maskable(const struct msi_desc *m) { return m->is_msix || m->maskbit; }

void msi_set_mask(struct msi_desc *m, bool masked)
{
    if (m->is_msix) {
        uint16_t control = msix_open(m);
        if (memory_decoded(m))
            m->entry[PCI_MSIX_ENTRY_VECTOR_CTRL / 4] = masked ? 1 : 0;
        msix_close(m, control);
    } else if (m->maskbit) {
        uint32_t bits = pci_conf_read(m->bus, m->devfn, msi_mask_reg(m), 4);
        bits = masked ? bits | (1u << m->entry_nr) : bits & ~(1u << m->entry_nr);
        pci_conf_write(m->bus, m->devfn, msi_mask_reg(m), 4, bits);
    }
}

static int msix_init(struct msi_info *info, unsigned int pos, struct msi_desc *m)
{
    uint16_t control = (uint16_t)pci_conf_read(info->bus, info->devfn, pos + PCI_MSIX_FLAGS, 2);
    unsigned int nr_entries = (control & PCI_MSIX_FLAGS_QSIZE) + 1;
    if (info->entry_nr >= nr_entries)
        return -EINVAL;
    m->is_msix = true;
    m->pos = pos;
    m->entry_nr = info->entry_nr;
    uint16_t saved = msix_open(m);
    if (!memory_decoded(m)) {
        msix_close(m, (uint16_t)(saved & ~PCI_MSIX_FLAGS_ENABLE));
        return -ENXIO;
    }
    uint32_t table = pci_conf_read(info->bus, info->devfn, pos + PCI_MSIX_TABLE, 4);
    uint64_t base = pci_read_mem_bar(info->bus, info->devfn, table & PCI_MSIX_BIRMASK);
    if (!base) {
        if (!info->table_base) {
            msix_close(m, (uint16_t)(saved & ~PCI_MSIX_FLAGS_ENABLE));
            return -ENXIO;
        }
        base = info->table_base;
    }
    uint64_t entry_pa = base + (table & ~PCI_MSIX_BIRMASK) + (uint64_t)info->entry_nr * PCI_MSIX_ENTRY_SIZE;
    m->entry = ioremap(entry_pa, PCI_MSIX_ENTRY_SIZE);
    if (!m->entry) {
        msix_close(m, saved);
        return -ENOMEM;
    }
    m->entry[PCI_MSIX_ENTRY_VECTOR_CTRL / 4] = 1; /* masked until its pirq is bound */
    /* Back to the domain's control word; the function mask is the domain's, and it set none yet. */
    msix_close(m, (uint16_t)(saved & ~PCI_MSIX_FLAGS_MASKALL));
    return 0;
}

static int msi_init(struct msi_info *info, unsigned int pos, struct msi_desc *m)
{
    uint16_t control = (uint16_t)pci_conf_read(info->bus, info->devfn, pos + PCI_MSI_FLAGS, 2);
    m->is_msix = false;
    m->pos = pos;
    m->entry_nr = 0;
    m->is_64 = control & PCI_MSI_FLAGS_64BIT;
    m->maskbit = control & PCI_MSI_FLAGS_MASKBIT;
    /* Disabled while it is set up, single message; the domain enables it. */
    pci_conf_write(info->bus, info->devfn, pos + PCI_MSI_FLAGS, 2,
                   control & ~(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE));
    if (m->maskbit)
        msi_set_mask(m, true);
    return 0;
}

/* Xen's pci_enable_msi: MSI-X when the domain named a table, plain MSI otherwise. The source is programmed with
 * `vector` on `dest_apic` and left masked. */
int pci_enable_msi(struct msi_info *info, unsigned int vector, unsigned int dest_apic, struct msi_desc **out)
{
    if (info->seg != 0 || !pci_device_present(info->bus, info->devfn))
        return -ENODEV;
    unsigned int pos = pci_find_cap(info->bus, info->devfn, info->table_base ? PCI_CAP_ID_MSIX : PCI_CAP_ID_MSI);
    if (!pos)
        return -ENODEV;
    struct msi_desc *m = xzalloc(sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->bus = info->bus;
    m->devfn = info->devfn;
    int rc = info->table_base ? msix_init(info, pos, m) : msi_init(info, pos, m);
    if (rc) {
        xfree(m);
        return rc;
    }
    msi_set_target(m, vector, dest_apic);
    *out = m;
    return 0;
}

/* Unmapping: the source is masked (MSI disabled) and forgotten; the table entry's mapping stays (ioremap has no
 * unmap), which is harmless. */
void pci_disable_msi(struct msi_desc *m)
{
    if (m->is_msix) {
        msi_set_mask(m, true);
    } else {
        uint16_t control = (uint16_t)pci_conf_read(m->bus, m->devfn, m->pos + PCI_MSI_FLAGS, 2);
        pci_conf_write(m->bus, m->devfn, m->pos + PCI_MSI_FLAGS, 2, control & ~PCI_MSI_FLAGS_ENABLE);
    }
    xfree(m);
}
