/* PCI configuration space through I/O ports 0xcf8/0xcfc (mechanism 1), for the hypervisor's own use: finding a
 * device's MSI/MSI-X capability and BARs when dom0 asks for an MSI to be set up.
 *
 * An access is an address write followed by a data access; nobody else may touch 0xcf8 in between. dom0 also
 * drives these ports (its accesses are emulated), so the emulation must hold pci_conf_lock() over each of its
 * address+data pairs, as Xen holds pci_config_lock. Only segment 0 exists for now (no MMCONFIG). */
#include <vesta/irq.h>
#include <vesta/spinlock.h>
#include <vesta/x86.h>

#define PCI_CONF_ADDR 0xcf8
#define PCI_CONF_DATA 0xcfc

#define PCI_VENDOR_ID 0x00
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_HEADER_TYPE 0x0e
#define PCI_BASE_ADDRESS_0 0x10
#define PCI_CAPABILITY_LIST 0x34
#define PCI_CB_CAPABILITY_LIST 0x14

static spinlock_t pci_lock = SPINLOCK_INIT;

unsigned long pci_conf_lock(void) { return spin_lock_irqsave(&pci_lock); }
void pci_conf_unlock(unsigned long flags) { spin_unlock_irqrestore(&pci_lock, flags); }

static uint32_t conf_addr(unsigned int bus, unsigned int devfn, unsigned int reg)
{
    return 0x80000000u | ((bus & 0xff) << 16) | ((devfn & 0xff) << 8) | (reg & 0xfc);
}

uint32_t pci_conf_read(unsigned int bus, unsigned int devfn, unsigned int reg, unsigned int size)
{
    unsigned long f = pci_conf_lock();
    outl(PCI_CONF_ADDR, conf_addr(bus, devfn, reg));
    uint32_t v;
    switch (size) {
    case 1:
        v = inb(PCI_CONF_DATA + (reg & 3));
        break;
    case 2:
        v = inw(PCI_CONF_DATA + (reg & 2));
        break;
    default:
        v = inl(PCI_CONF_DATA);
        break;
    }
    pci_conf_unlock(f);
    return v;
}

void pci_conf_write(unsigned int bus, unsigned int devfn, unsigned int reg, unsigned int size, uint32_t val)
{
    unsigned long f = pci_conf_lock();
    outl(PCI_CONF_ADDR, conf_addr(bus, devfn, reg));
    switch (size) {
    case 1:
        outb(PCI_CONF_DATA + (reg & 3), (uint8_t)val);
        break;
    case 2:
        outw(PCI_CONF_DATA + (reg & 2), (uint16_t)val);
        break;
    default:
        outl(PCI_CONF_DATA, val);
        break;
    }
    pci_conf_unlock(f);
}

bool pci_device_present(unsigned int bus, unsigned int devfn)
{
    uint32_t id = pci_conf_read(bus, devfn, PCI_VENDOR_ID, 4);
    return (id & 0xffff) != 0xffff && (id & 0xffff) != 0;
}

/* Walks the capability list (at most 48 entries, as a loop guard against a corrupt list). 0 = not found. */
unsigned int pci_find_cap(unsigned int bus, unsigned int devfn, unsigned int cap_id)
{
    if (!(pci_conf_read(bus, devfn, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
        return 0;
    unsigned int hdr = pci_conf_read(bus, devfn, PCI_HEADER_TYPE, 1) & 0x7f;
    unsigned int pos = pci_conf_read(bus, devfn, hdr == 2 ? PCI_CB_CAPABILITY_LIST : PCI_CAPABILITY_LIST, 1);
    for (unsigned int ttl = 48; ttl && pos >= 0x40; ttl--) {
        pos &= ~3u;
        uint32_t v = pci_conf_read(bus, devfn, pos, 2);
        if ((v & 0xff) == 0xff)
            break;
        if ((v & 0xff) == cap_id)
            return pos;
        pos = (v >> 8) & 0xff;
    }
    return 0;
}

/* The address a memory BAR decodes (0 for an I/O BAR, an unset BAR or no such BAR). */
uint64_t pci_read_mem_bar(unsigned int bus, unsigned int devfn, unsigned int bir)
{
    unsigned int hdr = pci_conf_read(bus, devfn, PCI_HEADER_TYPE, 1) & 0x7f;
    unsigned int nbars = hdr == 0 ? 6 : hdr == 1 ? 2 : 0;
    if (bir >= nbars)
        return 0;
    unsigned int reg = PCI_BASE_ADDRESS_0 + 4 * bir;
    uint32_t lo = pci_conf_read(bus, devfn, reg, 4);
    if (lo & 1)
        return 0; /* I/O space */
    uint64_t addr = lo & ~0xfUL;
    if (((lo >> 1) & 3) == 2) { /* 64-bit: the next BAR holds the high half */
        if (bir + 1 >= nbars)
            return 0;
        addr |= (uint64_t)pci_conf_read(bus, devfn, reg + 4, 4) << 32;
    }
    return addr;
}
