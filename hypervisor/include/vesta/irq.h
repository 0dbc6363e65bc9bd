/* Physical interrupts for guests: machine IRQs (IO-APIC GSIs and MSIs), the per-domain pirq numbers that name
 * them, and the event channels they are delivered through (Xen 4.17's model: arch/x86/irq.c, physdev.c).
 *
 * Numbering follows Xen: machine IRQs 0 .. nr_irqs_gsi-1 are the GSIs, MSIs get the numbers above, up to nr_irqs.
 * A domain names an IRQ by a pirq (dom0 maps GSI n to pirq n); binding a pirq to an event channel (EVTCHNOP_bind_pirq)
 * unmasks the source and sends every interrupt as an event on that channel. Level-triggered sources stay masked
 * until every bound domain has acknowledged with PHYSDEVOP_eoi. */
#ifndef VESTA_IRQ_H
#define VESTA_IRQ_H

#include <vesta/types.h>

struct domain;
struct vcpu;

/* A domain's view of one pirq (Xen: struct pirq). irq > 0: mapped to that machine IRQ; 0: free; PIRQ_ALLOCATED:
 * reserved by PHYSDEVOP_get_free_pirq; with `forced`: -irq, unmapped while still bound (the binding is torn down
 * when its event channel closes). */
#define PIRQ_ALLOCATED (-1)
struct pirq {
    int irq;
    uint16_t evtchn;      /* bound event channel, 0 = none */
    uint8_t masked;       /* delivered, waiting for the domain's EOI */
    uint8_t forced;       /* unmapped while bound */
};

extern unsigned int nr_irqs_gsi, nr_irqs;

void irq_init(void);                                   /* after ioapic_init: sizes and vectors */
unsigned int domain_nr_pirqs(const struct domain *d);  /* Xen's d->nr_pirqs */
struct pirq *domain_pirqs(struct domain *d);           /* the table (allocated on first use), NULL if no memory */
int domain_pirq_to_irq(struct domain *d, unsigned int pirq);
bool pirq_access_permitted(struct domain *d, unsigned int pirq);

/* Event-channel side (common/event_channel.c calls these with d->evtchn_lock held). */
int pirq_guest_bind(struct vcpu *v, unsigned int pirq, bool will_share);
void pirq_guest_unbind(struct domain *d, unsigned int pirq);
void pirq_set_affinity(struct domain *d, unsigned int pirq, unsigned int cpu);
bool pirq_shared(struct domain *d, unsigned int pirq);
void pirq_guest_eoi(struct domain *d, unsigned int pirq);
int pirq_guest_unmask(struct domain *d);
void arch_evtchn_bind_pirq(struct domain *d, unsigned int pirq); /* unmask an MSI source once bound */

/* physdev_op's mapping operations. */
struct msi_info {
    uint16_t seg;
    uint8_t bus, devfn;
    int irq;
    unsigned int entry_nr;
    uint64_t table_base;
};
int allocate_and_map_gsi_pirq(struct domain *d, int index, int *pirq_p);
int allocate_and_map_msi_pirq(struct domain *d, int index, int *pirq_p, int type, struct msi_info *msi);
int unmap_domain_pirq(struct domain *d, int pirq);
int get_free_pirq(struct domain *d, int type);
int setup_gsi(int gsi, int triggering, int polarity);   /* Xen: mp_register_gsi */
int ioapic_guest_write(uint64_t physbase, unsigned int reg, uint32_t val);
int pirq_eoi_map_register(struct domain *d, uint64_t gmfn, bool auto_unmask);
bool pirq_auto_unmask(const struct domain *d);
int pirq_release_domain(struct domain *d);              /* teardown: the EOI map, any mapped pirq */

/* Event channels (common/event_channel.c). */
void send_guest_pirq(struct domain *d, unsigned int pirq);
void evtchn_unmask_port(struct domain *d, unsigned int port);

/* MSI and MSI-X programming (arch/x86/msi.c). */
struct msi_desc;
int pci_enable_msi(struct msi_info *msi, unsigned int vector, unsigned int dest_apic, struct msi_desc **out);
void pci_disable_msi(struct msi_desc *m);
void msi_set_mask(struct msi_desc *m, bool masked);
void msi_set_target(struct msi_desc *m, unsigned int vector, unsigned int dest_apic);
bool msi_maskable(const struct msi_desc *m);

/* PCI configuration space, mechanism 1 (arch/x86/pci.c). The lock also serialises against a guest's emulated
 * 0xcf8/0xcfc accesses, which must take it too (pci_conf_lock/unlock around their address+data pair). */
uint32_t pci_conf_read(unsigned int bus, unsigned int devfn, unsigned int reg, unsigned int size);
void pci_conf_write(unsigned int bus, unsigned int devfn, unsigned int reg, unsigned int size, uint32_t val);
unsigned long pci_conf_lock(void);
void pci_conf_unlock(unsigned long flags);
bool pci_device_present(unsigned int bus, unsigned int devfn);
unsigned int pci_find_cap(unsigned int bus, unsigned int devfn, unsigned int cap_id);
uint64_t pci_read_mem_bar(unsigned int bus, unsigned int devfn, unsigned int bir);

/* IO-APIC access for guest interrupts (arch/x86/ioapic.c). */
unsigned int ioapic_nr_gsis(void);
bool ioapic_gsi_valid(unsigned int gsi);
bool ioapic_gsi_hv_owned(unsigned int gsi);            /* routed for the hypervisor's own use (console) */
void ioapic_set_rte(unsigned int gsi, uint32_t lo, uint32_t dest_apic_id);
uint32_t ioapic_get_rte_lo(unsigned int gsi);
void ioapic_mask_gsi(unsigned int gsi, bool mask);
void ioapic_gsi_default_mode(unsigned int gsi, bool *level, bool *active_low);
int ioapic_physbase_to_index(uint64_t physbase);
int ioapic_pin_to_gsi(int index, unsigned int pin);
int ioapic_guest_read(uint64_t physbase, unsigned int reg, uint32_t *val);

#endif
