/* Debug keys: one character on the console shows a piece of the hypervisor's state, as Xen's do. */
#include <vesta/apic.h>
#include <vesta/console.h>
#include <vesta/domain.h>
#include <vesta/mm.h>
#include <vesta/percpu.h>
#include <vesta/pv.h>
#include <vesta/setup.h>
#include <vesta/softirq.h>
#include <vesta/timer.h>
#include <vesta/traps.h>

static struct {
    debugkey_fn fn;
    const char *desc;
    bool deferred;
} keys[256];

/* Deferred keys pressed and not yet run; the console's interrupt adds, SOFTIRQ_DEBUGKEY takes. */
#define PENDING 16
static unsigned char pending[PENDING];
static unsigned int pending_head, pending_tail;
static spinlock_t pending_lock = SPINLOCK_INIT;

void register_debugkey(unsigned char key, debugkey_fn fn, const char *desc)
{
    keys[key].fn = fn;
    keys[key].desc = desc;
    keys[key].deferred = false;
}

void register_debugkey_deferred(unsigned char key, debugkey_fn fn, const char *desc)
{
    register_debugkey(key, fn, desc);
    keys[key].deferred = true;
}

void handle_debugkey(unsigned char key)
{
    if (!keys[key].fn) {
        if (key >= ' ' && key < 0x7f)
            printk("'%c' pressed: no such debug key ('h' lists them)", key);
        return;
    }
    if (!keys[key].deferred) {
        keys[key].fn(key);
        return;
    }
    unsigned long f = spin_lock_irqsave(&pending_lock);
    if (pending_head - pending_tail < PENDING)
        pending[pending_head++ % PENDING] = key;
    spin_unlock_irqrestore(&pending_lock, f);
    raise_softirq(smp_processor_id(), SOFTIRQ_DEBUGKEY);
}

void debugkeys_run_deferred(void)
{
    for (;;) {
        unsigned long f = spin_lock_irqsave(&pending_lock);
        if (pending_tail == pending_head) {
            spin_unlock_irqrestore(&pending_lock, f);
            return;
        }
        unsigned char key = pending[pending_tail++ % PENDING];
        spin_unlock_irqrestore(&pending_lock, f);
        keys[key].fn(key);
    }
}

static void key_help(unsigned char k)
{
    printk("Debug keys:");
    for (unsigned int c = 0; c < 256; c++)
        if (keys[c].fn)
            printk("  %c: %s", c, keys[c].desc);
}

static void key_memory(unsigned char k) { memory_dump(); }

static void key_cpus(unsigned char k)
{
    printk("CPUs: %u online of %u possible (%s)", nr_cpus_online, nr_cpus_possible, cpu_brand);
    for (unsigned int c = 0; c < MAX_CPUS; c++) {
        struct percpu *pc = percpu[c];
        if (pc)
            printk("  CPU%u: APIC ID %u, %s, %lu interrupts, %lu IPIs, %lu idle halts, %lu full TLB flushes", c,
                   pc->apic_id, pc->online ? "online" : "offline", pc->irq_count, pc->ipi_count, pc->idle_halts,
                   pc->tlb_flushes);
    }
}

static void key_timers(unsigned char k) { timers_dump(); }

static void key_hypercalls(unsigned char k) { hypercall_stats_dump(k == 'P'); }

static void key_interrupts(unsigned char k)
{
    irq_vectors_dump();
    ioapic_dump();
}

static void key_reboot(unsigned char k)
{
    printk("Reboot requested from the console");
    machine_restart();
}

static void key_crash(unsigned char k)
{
    printk("Crash requested from the console ('C')");
    panic("debug key 'C'");
}

void debugkeys_init(void)
{
    register_debugkey('h', key_help, "show this list of debug keys");
    register_debugkey('m', key_memory, "memory: free pages per order, heap");
    register_debugkey('c', key_cpus, "CPUs: state, interrupt, IPI and TLB flush counts");
    register_debugkey('t', key_timers, "pending soft timers on each CPU");
    register_debugkey('p', key_hypercalls, "hypercalls: calls and time per hypercall (HYPERCALL_STATS=1 builds)");
    register_debugkey('P', key_hypercalls, "hypercalls: as 'p', then reset the counts");
    register_debugkey('i', key_interrupts, "interrupt vectors and IO-APIC routing");
    register_debugkey('R', key_reboot, "reboot the machine");
    register_debugkey('C', key_crash, "crash the hypervisor on purpose (tests the fault report)");
    domain_debugkeys_init();
}
