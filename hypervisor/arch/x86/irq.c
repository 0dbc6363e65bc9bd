/* Machine interrupts delivered to guests as event channels (Xen 4.17: arch/x86/irq.c, the pirq parts of
 * physdev.c and mpparse.c's mp_register_gsi).
 *
 * IRQ numbers: 0 .. nr_irqs_gsi-1 are GSIs (IO-APIC pins), nr_irqs_gsi .. nr_irqs-1 are MSIs created on demand.
 * Each IRQ in use has one of Vesta's dynamic vectors, routed to one CPU (the one vCPU 0 of the bound domain runs
 * on, or the one its event channel was moved to).
 *
 * A domain maps IRQs to pirqs (PHYSDEVOP_map_pirq) and binds pirqs to event channels (EVTCHNOP_bind_pirq, which
 * lands in pirq_guest_bind here). When the interrupt fires, every bound domain gets its event. How the source is
 * acknowledged is Xen's "ack type", which the domain sees in its pirq EOI bitmap:
 *  - ACK_NONE (edge IO-APIC pins, maskable MSIs): acknowledged at once; no EOI needed.
 *  - ACK_UNMASK (level IO-APIC pins): the pin is masked and acknowledged, and unmasked once every bound domain
 *    has sent PHYSDEVOP_eoi (Xen's "old" IO-APIC ack method; the guest sees exactly what the new one shows it).
 *  - ACK_EOI (MSI without per-vector masking): the domain must EOI; the local APIC is acknowledged at once.
 * As in Xen, a domain that does not EOI within 1 ms is EOIed by force, so a stuck guest cannot hold a shared line.
 *
 * Locking: a descriptor's lock (interrupts off) guards its binding; the event-channel lock of a domain may be
 * held when a descriptor lock is taken, never the other way round, so events are raised after the descriptor
 * lock is dropped. */
#include <public/physdev.h>
#include <vesta/apic.h>
#include <vesta/domain.h>
#include <vesta/errno.h>
#include <vesta/irq.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/percpu.h>
#include <vesta/pv.h>
#include <vesta/setup.h>
#include <vesta/timer.h>
#include <vesta/traps.h>

#define IRQ_T_NONE 0
#define IRQ_T_EDGE 1   /* IO-APIC, edge */
#define IRQ_T_LEVEL 2  /* IO-APIC, level */
#define IRQ_T_MSI 3

#define ACK_NONE 0
#define ACK_UNMASK 1
#define ACK_EOI 2

#define IRQ_MAX_GUESTS 32         /* Xen's default irq-max-guests */
#define EOI_TIMEOUT_NS 1000000    /* 1 ms, as Xen */
#define NR_DYNAMIC_VECTORS_XEN 208 /* Xen's 0x20-0xef: sizes the pirq space the way Xen does */
#define EXTRA_DOMU_IRQS 32
#define RTE_MASKED (1u << 16)
#define RTE_LEVEL (1u << 15)
#define RTE_ACTIVE_LOW (1u << 13)

struct irq_guest {
    uint8_t ack_type;
    bool shareable;
    unsigned int in_flight;
    unsigned int nr;
    struct {
        struct domain *d;
        unsigned int pirq;
    } g[IRQ_MAX_GUESTS];
};

struct irq_desc_m {
    spinlock_t lock;
    unsigned int irq;
    uint8_t type;             /* IRQ_T_* */
    uint8_t vector;           /* 0 = none yet */
    bool used;                /* MSI number allocated (Xen: create_irq) */
    bool programmed;          /* GSI: pin set up by setup_gsi (Xen: pin_programmed) */
    bool enabled;             /* started by a binding */
    unsigned int cpu;         /* destination */
    struct domain *msi_owner; /* MSI: the domain it was created for (access permission) */
    struct irq_guest *guest;
    struct msi_desc *msi;
    struct timer eoi_timer;   /* forced EOI; here rather than in the binding, which is freed on unbind */
};

unsigned int nr_irqs_gsi, nr_irqs;
static struct irq_desc_m *irq_descs;
static spinlock_t create_lock = SPINLOCK_INIT;

static void eoi_timeout(void *data);

static struct irq_desc_m *irq_to_desc(int irq)
{
    return irq > 0 && (unsigned int)irq < nr_irqs && irq_descs ? &irq_descs[irq] : NULL;
}

void irq_init(void)
{
    nr_irqs_gsi = ioapic_nr_gsis();
    if (nr_irqs_gsi < 16)
        nr_irqs_gsi = 16;
    unsigned int cpus = platform.nr_cpus ? platform.nr_cpus : 1; /* Xen: num_present_cpus() */
    nr_irqs = cpus * NR_DYNAMIC_VECTORS_XEN;
    if (nr_irqs < 8 * nr_irqs_gsi)
        nr_irqs = 8 * nr_irqs_gsi;
    irq_descs = xzalloc(sizeof(*irq_descs) * nr_irqs);
    if (!irq_descs) {
        pr_err("IRQ: no memory for %u descriptors; guests get no physical interrupts", nr_irqs);
        nr_irqs = nr_irqs_gsi = 0;
        return;
    }
    for (unsigned int i = 0; i < nr_irqs; i++) {
        irq_descs[i].lock = (spinlock_t)SPINLOCK_INIT;
        irq_descs[i].irq = i;
        timer_init(&irq_descs[i].eoi_timer, eoi_timeout, &irq_descs[i], "pirq EOI", 0);
    }
    printk("IRQ limits: %u GSI, %u MSI/MSI-X", nr_irqs_gsi, nr_irqs - nr_irqs_gsi);
}

/* ---- Per-domain pirq space (Xen: d->nr_pirqs, sized by arch_hwdom_irqs for dom0). */

unsigned int domain_nr_pirqs(const struct domain *d)
{
    if (!d->privileged)
        return nr_irqs_gsi + EXTRA_DOMU_IRQS;
    unsigned int n = (unsigned int)(64 - __builtin_clzl(platform.nr_cpus ? platform.nr_cpus : 1)); /* fls() */
    if (n > d->max_vcpus)
        n = d->max_vcpus;
    unsigned int max = nr_irqs < PAGE_SIZE * 8 ? nr_irqs : PAGE_SIZE * 8;
    n = nr_irqs_gsi + n * NR_DYNAMIC_VECTORS_XEN;
    return n < max ? n : max;
}

struct pirq *domain_pirqs(struct domain *d)
{
    struct pirq *p = __atomic_load_n(&d->pirqs, __ATOMIC_ACQUIRE);
    if (p)
        return p;
    unsigned int n = domain_nr_pirqs(d);
    p = xzalloc(sizeof(struct pirq) * (n ? n : 1));
    if (!p)
        return NULL;
    struct pirq *expected = NULL;
    if (!__atomic_compare_exchange_n(&d->pirqs, &expected, p, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        xfree(p);
        return expected;
    }
    return p;
}

int domain_pirq_to_irq(struct domain *d, unsigned int pirq)
{
    struct pirq *p = d->pirqs;
    if (!p || pirq >= domain_nr_pirqs(d))
        return 0;
    return __atomic_load_n(&p[pirq].irq, __ATOMIC_ACQUIRE);
}

/* The pirq an IRQ is mapped to in d: > 0 mapped, < 0 (-pirq) unmapped but still bound, 0 none. */
static int domain_irq_to_pirq(struct domain *d, int irq)
{
    struct pirq *p = d->pirqs;
    if (!p)
        return 0;
    unsigned int n = domain_nr_pirqs(d);
    for (unsigned int i = 1; i < n; i++) {
        if (p[i].irq == irq)
            return (int)i;
        if (p[i].forced && p[i].irq == -irq)
            return -(int)i;
    }
    return 0;
}

/* Xen's irq_access_permitted: dom0 holds GSIs 1 and up, and the MSIs created for it. */
static bool irq_access_permitted(struct domain *d, int irq)
{
    if (irq <= 0 || (unsigned int)irq >= nr_irqs)
        return false;
    if ((unsigned int)irq < nr_irqs_gsi)
        return d->privileged;
    struct irq_desc_m *desc = &irq_descs[irq];
    return desc->used && desc->msi_owner == d;
}

bool pirq_access_permitted(struct domain *d, unsigned int pirq)
{
    int irq = domain_pirq_to_irq(d, pirq);
    return irq > 0 && irq_access_permitted(d, irq);
}

bool pirq_auto_unmask(const struct domain *d) { return d->pirq_auto_unmask; }

/* ---- The EOI bitmap a PV guest registers (PHYSDEVOP_pirq_eoi_gmfn_v1/v2): bit n set = pirq n needs an EOI. */

int pirq_eoi_map_register(struct domain *d, uint64_t gmfn, bool auto_unmask)
{
    mfn_t mfn = gmfn; /* a PV guest names machine frames */
    if (gmfn >= (1UL << 52) || !pv_get_page(d, mfn))
        return -EINVAL;
    if (pv_get_page_type(d, mfn, FRAME_T_WRITABLE)) {
        pv_put_page(mfn);
        return -EINVAL;
    }
    mfn_t expected = 0;
    if (!__atomic_compare_exchange_n(&d->pirq_eoi_map_mfn, &expected, mfn, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        pv_put_page_type(mfn);
        pv_put_page(mfn);
        return -EBUSY;
    }
    __atomic_store_n(&d->pirq_eoi_map, (uint64_t *)mfn_to_virt(mfn), __ATOMIC_RELEASE);
    if (auto_unmask)
        d->pirq_auto_unmask = true;
    return 0;
}

/* Teardown (common/domain.c): the EOI map's page goes back, and every pirq still mapped is unmapped (their
 * event channels are closed by now, so nothing is bound). */
int pirq_release_domain(struct domain *d)
{
    mfn_t mfn = __atomic_exchange_n(&d->pirq_eoi_map_mfn, 0, __ATOMIC_ACQ_REL);
    if (mfn) {
        __atomic_store_n(&d->pirq_eoi_map, NULL, __ATOMIC_RELEASE);
        pv_put_page_type(mfn);
        pv_put_page(mfn);
    }
    if (d->pirqs)
        for (unsigned int pirq = 1; pirq < domain_nr_pirqs(d); pirq++)
            if (d->pirqs[pirq].irq > 0)
                unmap_domain_pirq(d, (int)pirq);
    return 0;
}

static void set_pirq_eoi(struct domain *d, unsigned int pirq, bool needed)
{
    uint64_t *map = __atomic_load_n(&d->pirq_eoi_map, __ATOMIC_ACQUIRE);
    if (!map || pirq >= PAGE_SIZE * 8)
        return;
    uint64_t bit = 1UL << (pirq % 64);
    if (needed)
        __atomic_fetch_or(&map[pirq / 64], bit, __ATOMIC_SEQ_CST);
    else
        __atomic_fetch_and(&map[pirq / 64], ~bit, __ATOMIC_SEQ_CST);
}

/* ---- Vectors and routing. */

static void guest_irq_interrupt(struct cpu_regs *regs, void *data);

static int assign_vector(struct irq_desc_m *desc)
{
    if (desc->vector)
        return desc->vector;
    int vec = alloc_irq_vector();
    if (vec < 0)
        return -ENOSPC;
    desc->vector = (uint8_t)vec;
    set_irq_handler((unsigned int)vec, guest_irq_interrupt, desc, "guest IRQ");
    return vec;
}

static uint32_t cpu_apic(unsigned int cpu)
{
    return cpu < MAX_CPUS && percpu[cpu] ? percpu[cpu]->apic_id : percpu[0]->apic_id;
}

/* Writes the pin with its vector and destination, masked unless `unmasked`. Descriptor lock held. */
static void gsi_program(struct irq_desc_m *desc, bool level, bool active_low, bool unmasked)
{
    uint32_t lo = desc->vector | (level ? RTE_LEVEL : 0) | (active_low ? RTE_ACTIVE_LOW : 0);
    if (!unmasked)
        lo |= RTE_MASKED;
    desc->type = level ? IRQ_T_LEVEL : IRQ_T_EDGE;
    ioapic_set_rte(desc->irq, lo, cpu_apic(desc->cpu));
}

/* Starts an IRQ for its first binding: a GSI never set up by setup_gsi gets the firmware's trigger mode. */
static int irq_startup(struct irq_desc_m *desc)
{
    if (desc->type == IRQ_T_MSI) {
        msi_set_target(desc->msi, desc->vector, cpu_apic(desc->cpu));
        msi_set_mask(desc->msi, false);
    } else {
        if (assign_vector(desc) < 0)
            return -ENOSPC;
        if (desc->type == IRQ_T_NONE) {
            bool level, low;
            ioapic_gsi_default_mode(desc->irq, &level, &low);
            gsi_program(desc, level, low, true);
        } else {
            uint32_t lo = ioapic_get_rte_lo(desc->irq);
            gsi_program(desc, lo & RTE_LEVEL, lo & RTE_ACTIVE_LOW, true);
        }
    }
    desc->enabled = true;
    return 0;
}

static void irq_shutdown(struct irq_desc_m *desc)
{
    if (desc->type == IRQ_T_MSI)
        msi_set_mask(desc->msi, true);
    else if (desc->type != IRQ_T_NONE)
        ioapic_mask_gsi(desc->irq, true);
    desc->enabled = false;
}

static void irq_set_cpu(struct irq_desc_m *desc, unsigned int cpu)
{
    if (cpu >= MAX_CPUS || !percpu[cpu] || desc->cpu == cpu)
        return;
    desc->cpu = cpu;
    if (desc->type == IRQ_T_MSI)
        msi_set_target(desc->msi, desc->vector, cpu_apic(cpu));
    else if (desc->type != IRQ_T_NONE && desc->vector) {
        uint32_t lo = ioapic_get_rte_lo(desc->irq);
        ioapic_set_rte(desc->irq, lo, cpu_apic(cpu));
    }
}

static uint8_t irq_acktype(const struct irq_desc_m *desc)
{
    switch (desc->type) {
    case IRQ_T_LEVEL:
        return ACK_UNMASK;
    case IRQ_T_MSI:
        return msi_maskable(desc->msi) ? ACK_NONE : ACK_EOI;
    default:
        return ACK_NONE;
    }
}

/* ---- Delivery. */

static void guest_irq_interrupt(struct cpu_regs *regs, void *data)
{
    struct irq_desc_m *desc = data;
    struct {
        struct domain *d;
        unsigned int pirq;
    } targets[IRQ_MAX_GUESTS];
    unsigned int n = 0;

    spin_lock(&desc->lock);
    struct irq_guest *g = desc->guest;
    if (!g || !g->nr) {
        /* Nobody listens (a race with unbinding): keep a level source quiet. */
        if (desc->type == IRQ_T_LEVEL)
            ioapic_mask_gsi(desc->irq, true);
        spin_unlock(&desc->lock);
        return;
    }
    if (g->ack_type == ACK_UNMASK)
        ioapic_mask_gsi(desc->irq, true); /* the local APIC EOI follows in do_trap */
    for (unsigned int i = 0; i < g->nr; i++) {
        struct pirq *p = &g->g[i].d->pirqs[g->g[i].pirq];
        if (g->ack_type != ACK_NONE && !__atomic_exchange_n(&p->masked, 1, __ATOMIC_SEQ_CST))
            g->in_flight++;
        targets[n].d = g->g[i].d;
        targets[n].pirq = g->g[i].pirq;
        n++;
    }
    if (g->ack_type != ACK_NONE)
        timer_set(&desc->eoi_timer, now_ns() + EOI_TIMEOUT_NS);
    spin_unlock(&desc->lock);

    for (unsigned int i = 0; i < n; i++)
        send_guest_pirq(targets[i].d, targets[i].pirq);
}

/* A domain that does not acknowledge in time: acknowledge for it so the source can fire again. */
static void eoi_timeout(void *data)
{
    struct irq_desc_m *desc = data;
    unsigned long f = spin_lock_irqsave(&desc->lock);
    struct irq_guest *g = desc->guest;
    if (g && g->in_flight) {
        for (unsigned int i = 0; i < g->nr; i++)
            if (__atomic_exchange_n(&g->g[i].d->pirqs[g->g[i].pirq].masked, 0, __ATOMIC_SEQ_CST))
                g->in_flight--;
        if (g->ack_type == ACK_UNMASK && desc->enabled)
            ioapic_mask_gsi(desc->irq, false);
    }
    spin_unlock_irqrestore(&desc->lock, f);
}

/* Descriptor lock held: the domain's acknowledgement of one delivery. */
static void desc_guest_eoi(struct irq_desc_m *desc, struct pirq *p)
{
    struct irq_guest *g = desc->guest;
    if (!g || !__atomic_exchange_n(&p->masked, 0, __ATOMIC_SEQ_CST) || --g->in_flight != 0)
        return;
    timer_stop(&desc->eoi_timer);
    if (g->ack_type == ACK_UNMASK && desc->enabled)
        ioapic_mask_gsi(desc->irq, false);
}

void pirq_guest_eoi(struct domain *d, unsigned int pirq)
{
    struct irq_desc_m *desc = irq_to_desc(domain_pirq_to_irq(d, pirq));
    if (!desc)
        return;
    unsigned long f = spin_lock_irqsave(&desc->lock);
    desc_guest_eoi(desc, &d->pirqs[pirq]);
    spin_unlock_irqrestore(&desc->lock, f);
}

/* PHYSDEVOP_IRQ_UNMASK_NOTIFY: EOI every delivered pirq whose event channel the domain has unmasked again. */
int pirq_guest_unmask(struct domain *d)
{
    struct pirq *p = d->pirqs;
    if (!p)
        return 0;
    unsigned int n = domain_nr_pirqs(d);
    for (unsigned int i = 0; i < n; i++) {
        unsigned int port = p[i].evtchn;
        if (p[i].masked && port &&
            !((__atomic_load_n(&d->shared_info->evtchn_mask[port / 64], __ATOMIC_ACQUIRE) >> (port % 64)) & 1))
            pirq_guest_eoi(d, i);
    }
    return 0;
}

/* ---- Binding (EVTCHNOP_bind_pirq / close). Called with d's event-channel lock held. */

static bool guest_listed(const struct irq_guest *g, const struct domain *d, unsigned int *idx)
{
    for (unsigned int i = 0; i < g->nr; i++)
        if (g->g[i].d == d) {
            *idx = i;
            return true;
        }
    return false;
}

int pirq_guest_bind(struct vcpu *v, unsigned int pirq, bool will_share)
{
    struct domain *d = v->domain;
    struct irq_desc_m *desc = irq_to_desc(domain_pirq_to_irq(d, pirq));
    if (!desc)
        return -EINVAL;
    struct irq_guest *fresh = NULL;
    int rc = 0;
    unsigned long f = spin_lock_irqsave(&desc->lock);
    struct irq_guest *g = desc->guest;
    if (!g) {
        if (desc->irq < nr_irqs_gsi && ioapic_gsi_hv_owned(desc->irq)) {
            printk("Cannot bind IRQ%u to dom%u. In use by the hypervisor.", pirq, d->id);
            rc = -EBUSY;
            goto out;
        }
        spin_unlock_irqrestore(&desc->lock, f);
        fresh = xzalloc(sizeof(*fresh));
        if (!fresh) {
            printk("Cannot bind IRQ%u to dom%u. Out of memory.", pirq, d->id);
            return -ENOMEM;
        }
        f = spin_lock_irqsave(&desc->lock);
        if (desc->guest) {
            g = desc->guest; /* somebody else bound it meanwhile: share as below */
        } else {
            g = fresh;
            fresh = NULL;
            g->shareable = will_share;
            g->ack_type = irq_acktype(desc);
            timer_stop(&desc->eoi_timer);
            desc->eoi_timer.cpu = v->processor;
            desc->cpu = v->processor;
            if (desc->type == IRQ_T_MSI && desc->msi)
                msi_set_target(desc->msi, desc->vector, cpu_apic(desc->cpu));
            else if (desc->vector && desc->type != IRQ_T_NONE)
                ioapic_set_rte(desc->irq, ioapic_get_rte_lo(desc->irq), cpu_apic(desc->cpu));
            desc->guest = g;
            rc = irq_startup(desc);
            if (rc) {
                desc->guest = NULL;
                xfree(g);
                goto out;
            }
            goto add;
        }
    }
    if (!will_share || !g->shareable) {
        printk("Cannot bind IRQ%u to dom%u. %s.", pirq, d->id,
               will_share ? "Others do not share" : "Will not share with others");
        rc = -EBUSY;
        goto out;
    }
add:
    if (g->nr >= IRQ_MAX_GUESTS) {
        printk("Cannot bind IRQ%u to dom%u: already at max share %u", pirq, d->id, IRQ_MAX_GUESTS);
        rc = -EBUSY;
        goto out;
    }
    g->g[g->nr].d = d;
    g->g[g->nr].pirq = pirq;
    g->nr++;
    set_pirq_eoi(d, pirq, g->ack_type != ACK_NONE);
out:
    spin_unlock_irqrestore(&desc->lock, f);
    if (fresh)
        xfree(fresh);
    return rc;
}

/* Descriptor lock held. Returns the binding block to free when the last domain left. */
static struct irq_guest *unbind_locked(struct irq_desc_m *desc, struct domain *d, unsigned int pirq)
{
    struct irq_guest *g = desc->guest;
    unsigned int i;
    if (!g || !guest_listed(g, d, &i))
        return NULL;
    memmove(&g->g[i], &g->g[i + 1], (g->nr - i - 1) * sizeof(g->g[0]));
    g->nr--;
    if (__atomic_exchange_n(&d->pirqs[pirq].masked, 0, __ATOMIC_SEQ_CST) && --g->in_flight == 0 &&
        g->ack_type == ACK_UNMASK && g->nr && desc->enabled)
        ioapic_mask_gsi(desc->irq, false);
    if (g->nr)
        return NULL;
    timer_stop(&desc->eoi_timer);
    irq_shutdown(desc);
    desc->guest = NULL;
    return g;
}

void pirq_guest_unbind(struct domain *d, unsigned int pirq)
{
    struct pirq *p = &d->pirqs[pirq];
    int irq = p->irq;
    if (p->forced) {
        p->forced = 0; /* unmapped while bound: the mapping is gone with the binding */
        __atomic_store_n(&p->irq, 0, __ATOMIC_RELEASE);
        return;
    }
    struct irq_desc_m *desc = irq_to_desc(irq);
    if (!desc)
        return;
    unsigned long f = spin_lock_irqsave(&desc->lock);
    struct irq_guest *old = unbind_locked(desc, d, pirq);
    spin_unlock_irqrestore(&desc->lock, f);
    if (old)
        xfree(old);
}

void pirq_set_affinity(struct domain *d, unsigned int pirq, unsigned int cpu)
{
    struct irq_desc_m *desc = irq_to_desc(domain_pirq_to_irq(d, pirq));
    if (!desc)
        return;
    unsigned long f = spin_lock_irqsave(&desc->lock);
    if (cpu < MAX_CPUS && percpu[cpu] && desc->cpu != cpu) {
        /* Timers run on the CPU they were set up for: move the EOI timer with the interrupt. */
        timer_stop(&desc->eoi_timer);
        desc->eoi_timer.cpu = cpu;
    }
    irq_set_cpu(desc, cpu);
    spin_unlock_irqrestore(&desc->lock, f);
}

bool pirq_shared(struct domain *d, unsigned int pirq)
{
    struct irq_desc_m *desc = irq_to_desc(domain_pirq_to_irq(d, pirq));
    if (!desc)
        return false;
    unsigned long f = spin_lock_irqsave(&desc->lock);
    bool shared = desc->guest && desc->guest->nr > 1;
    spin_unlock_irqrestore(&desc->lock, f);
    return shared;
}

void arch_evtchn_bind_pirq(struct domain *d, unsigned int pirq)
{
    struct irq_desc_m *desc = irq_to_desc(domain_pirq_to_irq(d, pirq));
    if (!desc || desc->type != IRQ_T_MSI)
        return;
    unsigned long f = spin_lock_irqsave(&desc->lock);
    if (desc->msi && desc->enabled)
        msi_set_mask(desc->msi, false);
    spin_unlock_irqrestore(&desc->lock, f);
}

/* ---- Mapping (PHYSDEVOP_map_pirq / unmap_pirq / get_free_pirq). Callers hold d's event-channel lock. */

static bool is_free_pirq(const struct pirq *p) { return p->irq == 0; }

int get_free_pirq(struct domain *d, int type)
{
    struct pirq *p = domain_pirqs(d);
    if (!p)
        return -ENOMEM;
    unsigned int n = domain_nr_pirqs(d);
    if (type == MAP_PIRQ_TYPE_GSI)
        for (unsigned int i = 16; i < nr_irqs_gsi && i < n; i++)
            if (is_free_pirq(&p[i]))
                return (int)i;
    for (unsigned int i = n; i-- > nr_irqs_gsi;)
        if (is_free_pirq(&p[i]))
            return (int)i;
    return -ENOSPC;
}

/* Xen's allocate_pirq: the pirq the caller asked for, the one the IRQ already has, or a free one. */
static int allocate_pirq(struct domain *d, int pirq, int irq, int type)
{
    int current_pirq = domain_irq_to_pirq(d, irq);
    if (pirq < 0) {
        if (current_pirq) {
            if (current_pirq < 0)
                return -EBUSY;
            return current_pirq;
        }
        return get_free_pirq(d, type);
    }
    if (current_pirq && pirq != current_pirq)
        return -EEXIST;
    return pirq;
}

/* Xen's map_domain_pirq: a mapping that contradicts an existing one is silently left alone (returns 0). */
static int map_domain_pirq(struct domain *d, int pirq, int irq)
{
    struct domain *cur = current_domain();
    if (!irq_access_permitted(cur, irq))
        return -EPERM;
    if (pirq < 0 || (unsigned int)pirq >= domain_nr_pirqs(d) || irq <= 0 || (unsigned int)irq >= nr_irqs)
        return -EINVAL;
    struct pirq *p = domain_pirqs(d);
    if (!p)
        return -ENOMEM;
    int old_irq = p[pirq].irq, old_pirq = domain_irq_to_pirq(d, irq);
    if ((old_irq > 0 && old_irq != irq) || (old_pirq && old_pirq != pirq))
        return 0;
    __atomic_store_n(&p[pirq].irq, irq, __ATOMIC_RELEASE);
    return 0;
}

int allocate_and_map_gsi_pirq(struct domain *d, int index, int *pirq_p)
{
    if (index < 0 || (unsigned int)index >= nr_irqs_gsi)
        return -EINVAL;
    struct domain *cur = current_domain();
    int irq = domain_pirq_to_irq(cur, (unsigned int)index);
    if (irq <= 0) {
        if (!cur->privileged)
            return -EINVAL;
        irq = index;
    }
    if (!domain_pirqs(d))
        return -ENOMEM;
    unsigned long f = spin_lock_irqsave(&d->evtchn_lock);
    int pirq = allocate_pirq(d, *pirq_p, irq, MAP_PIRQ_TYPE_GSI);
    int rc = pirq < 0 ? pirq : map_domain_pirq(d, pirq, irq);
    if (!rc)
        *pirq_p = pirq;
    spin_unlock_irqrestore(&d->evtchn_lock, f);
    return rc;
}

/* Xen's create_irq: the lowest free MSI number, with a vector. */
static int create_irq(struct domain *owner)
{
    unsigned long f = spin_lock_irqsave(&create_lock);
    int irq = -ENOSPC;
    for (unsigned int i = nr_irqs_gsi; i < nr_irqs; i++) {
        struct irq_desc_m *desc = &irq_descs[i];
        if (desc->used)
            continue;
        if (assign_vector(desc) < 0)
            break;
        desc->used = true;
        desc->msi_owner = owner;
        desc->type = IRQ_T_NONE;
        desc->cpu = 0;
        irq = (int)i;
        break;
    }
    spin_unlock_irqrestore(&create_lock, f);
    return irq;
}

static void destroy_irq(int irq)
{
    struct irq_desc_m *desc = irq_to_desc(irq);
    if (!desc || (unsigned int)irq < nr_irqs_gsi)
        return;
    unsigned long f = spin_lock_irqsave(&create_lock);
    desc->used = false; /* the vector stays with the descriptor for its next use */
    desc->msi_owner = NULL;
    desc->type = IRQ_T_NONE;
    spin_unlock_irqrestore(&create_lock, f);
}

int allocate_and_map_msi_pirq(struct domain *d, int index, int *pirq_p, int type, struct msi_info *msi)
{
    int irq;
    bool created = false;
    struct domain *cur = current_domain();
    switch (type) {
    case MAP_PIRQ_TYPE_MSI:
        if (!msi->table_base)
            msi->entry_nr = 1;
        irq = index;
        if (irq == -1) {
            irq = create_irq(cur);
            created = irq >= 0;
        }
        break;
    case MAP_PIRQ_TYPE_MULTI_MSI:
        irq = create_irq(cur);
        created = irq >= 0;
        break;
    default:
        return -EINVAL;
    }
    if (irq < (int)nr_irqs_gsi || (unsigned int)irq >= nr_irqs) {
        if (created)
            destroy_irq(irq);
        return -EINVAL;
    }
    msi->irq = irq;
    if (!domain_pirqs(d)) {
        if (created)
            destroy_irq(irq);
        return -ENOMEM;
    }

    unsigned long f = spin_lock_irqsave(&d->evtchn_lock);
    int pirq, rc;
    if (type == MAP_PIRQ_TYPE_MULTI_MSI && *pirq_p < 0) {
        /* Several vectors need interrupt remapping, which Vesta (like Xen without an IOMMU) does not have. */
        if (msi->entry_nr == 0 || msi->entry_nr > 32) {
            rc = -EDOM;
            goto out;
        }
        if (msi->entry_nr != 1) {
            rc = -EOPNOTSUPP;
            goto out;
        }
    }
    pirq = allocate_pirq(d, *pirq_p, irq, type);
    if (pirq < 0) {
        rc = pirq;
        goto out;
    }
    rc = map_domain_pirq(d, pirq, irq);
    if (rc)
        goto out;
    if (d->pirqs[pirq].irq != irq) {
        rc = 0; /* an existing, different mapping was kept (Xen's silent success) */
        goto out;
    }
    struct irq_desc_m *desc = &irq_descs[irq];
    if (!d->privileged) {
        rc = -ENODEV; /* every device belongs to dom0: no other domain owns one to take MSIs from */
    } else {
        unsigned long df = spin_lock_irqsave(&desc->lock);
        if (desc->type != IRQ_T_NONE) {
            rc = -EBUSY;
        } else {
            struct msi_desc *m;
            rc = pci_enable_msi(msi, desc->vector, cpu_apic(desc->cpu), &m);
            if (!rc) {
                desc->msi = m;
                desc->type = IRQ_T_MSI;
            }
        }
        spin_unlock_irqrestore(&desc->lock, df);
    }
    if (rc)
        __atomic_store_n(&d->pirqs[pirq].irq, 0, __ATOMIC_RELEASE);
    else
        *pirq_p = pirq;
out:
    spin_unlock_irqrestore(&d->evtchn_lock, f);
    if (rc && created)
        destroy_irq(irq);
    return rc;
}

/* Xen's unmap_domain_pirq. A pirq still bound to an event channel is unbound by force and stays reserved (as
 * -irq) until that channel closes. */
int unmap_domain_pirq(struct domain *d, int pirq)
{
    if (pirq < 0 || (unsigned int)pirq >= domain_nr_pirqs(d))
        return -EINVAL;
    struct pirq *p = d->pirqs;
    unsigned long f = spin_lock_irqsave(&d->evtchn_lock);
    int irq = p ? p[pirq].irq : 0;
    if (irq <= 0) {
        spin_unlock_irqrestore(&d->evtchn_lock, f);
        return -EINVAL;
    }
    struct irq_desc_m *desc = &irq_descs[irq];
    unsigned long df = spin_lock_irqsave(&desc->lock);
    unsigned int idx;
    bool forced = desc->guest && guest_listed(desc->guest, d, &idx);
    struct irq_guest *old = forced ? unbind_locked(desc, d, (unsigned int)pirq) : NULL;
    struct msi_desc *m = NULL;
    if (desc->type == IRQ_T_MSI) {
        m = desc->msi;
        desc->msi = NULL;
        desc->type = IRQ_T_NONE;
        desc->enabled = false;
    }
    spin_unlock_irqrestore(&desc->lock, df);
    p[pirq].forced = forced;
    __atomic_store_n(&p[pirq].irq, forced ? -irq : 0, __ATOMIC_RELEASE);
    spin_unlock_irqrestore(&d->evtchn_lock, f);
    if (old)
        xfree(old);
    if (m) {
        pci_disable_msi(m);
        destroy_irq(irq);
    }
    return 0;
}

/* ---- IO-APIC pins on dom0's behalf. */

/* Xen's mp_register_gsi (PHYSDEVOP_setup_gsi): programs a pin once, masked, with the domain's trigger mode. */
int setup_gsi(int gsi, int triggering, int polarity)
{
    if (!ioapic_gsi_valid((unsigned int)gsi)) {
        printk("No IOAPIC for GSI %d", gsi);
        return -EINVAL;
    }
    struct irq_desc_m *desc = &irq_descs[gsi];
    unsigned long f = spin_lock_irqsave(&desc->lock);
    int rc = 0;
    if (desc->enabled || ioapic_gsi_hv_owned((unsigned int)gsi) || desc->programmed) {
        rc = -EEXIST;
    } else if (assign_vector(desc) < 0) {
        rc = -ENOSPC;
    } else {
        desc->programmed = true;
        gsi_program(desc, triggering, polarity, false);
    }
    spin_unlock_irqrestore(&desc->lock, f);
    return rc;
}

/* Xen's ioapic_guest_write (PHYSDEVOP_apic_write): dom0 writes the low half of a redirection entry, naming its
 * pirq in the vector field; the hypervisor maps that pirq and programs the pin with its own vector. */
int ioapic_guest_write(uint64_t physbase, unsigned int reg, uint32_t val)
{
    int apic = ioapic_physbase_to_index(physbase);
    if (apic < 0)
        return apic;
    if (reg < 0x10 || (reg & 1))
        return 0;
    unsigned int pin = (reg - 0x10) >> 1;
    unsigned int delivery = (val >> 8) & 7;
    if (delivery > 1) {
        printk("ERROR: Attempt to write weird IOAPIC destination mode!");
        return -EINVAL;
    }
    int irq = ioapic_pin_to_gsi(apic, pin);
    if (irq < 0)
        return irq;
    struct domain *hwdom = hardware_domain;
    if (!hwdom)
        return -EINVAL;
    int pirq = -1;
    if (!(val & RTE_MASKED)) {
        pirq = irq >= 256 ? irq : (int)(val & 0xff);
        if ((unsigned int)pirq >= domain_nr_pirqs(hwdom))
            return -EINVAL;
    }
    struct irq_desc_m *desc = irq_to_desc(irq);
    if (!desc)
        return -EINVAL;
    unsigned long f = spin_lock_irqsave(&desc->lock);
    bool in_use = desc->guest || ioapic_gsi_hv_owned((unsigned int)irq);
    int vec = in_use ? 0 : assign_vector(desc);
    spin_unlock_irqrestore(&desc->lock, f);
    if (in_use)
        return 0; /* Xen: attempt to modify an in-use pin, ignored */
    if (vec < 0)
        return vec;
    if (pirq >= 0) {
        if (!domain_pirqs(hwdom))
            return -ENOMEM;
        unsigned long ef = spin_lock_irqsave(&hwdom->evtchn_lock);
        int rc = map_domain_pirq(hwdom, pirq, irq);
        spin_unlock_irqrestore(&hwdom->evtchn_lock, ef);
        if (rc < 0)
            return rc;
    }
    f = spin_lock_irqsave(&desc->lock);
    /* As Xen: level pins start masked (their binding unmasks them), edge pins unmasked whatever was written. */
    gsi_program(desc, val & RTE_LEVEL, val & RTE_ACTIVE_LOW, !(val & RTE_LEVEL));
    spin_unlock_irqrestore(&desc->lock, f);
    return 0;
}
