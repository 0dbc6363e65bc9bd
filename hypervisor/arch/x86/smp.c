/* Bringing up the other CPUs, and talking to them.
 *
 * Each application processor gets its per-CPU state and stack block, then the classic INIT, STARTUP, STARTUP
 * sequence points it at the trampoline page. It comes up through real and protected mode into long mode on the
 * hypervisor's page tables and calls start_secondary(). One CPU is started at a time, so the trampoline's
 * parameter slots need no locking. */
#include <vesta/apic.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/percpu.h>
#include <vesta/pv.h>
#include <vesta/setup.h>
#include <vesta/timer.h>
#include <vesta/traps.h>
#include <vesta/x86.h>

struct percpu *percpu[MAX_CPUS];
unsigned int nr_cpus_online = 1;
unsigned int nr_cpus_possible = 1;

extern char trampoline_start[], trampoline_end[], tramp_pm_entry[], tramp_lm_entry[], tramp_gdt[];
extern char tramp_gdt_ptr[], tramp_pm_jump[], tramp_lm_jump[], tramp_cr3[], tramp_stack[], tramp_efer[],
    tramp_cpu[];

static void delay_us(uint64_t us)
{
    uint64_t end = rdtsc() + us * tsc_khz / 1000;
    while (rdtsc() < end)
        cpu_relax();
}

#define TRAMP_OFF(sym) ((unsigned long)(sym) - (unsigned long)trampoline_start)

static void tramp_set32(char *base, char *sym, uint32_t v) { memcpy(base + TRAMP_OFF(sym), &v, 4); }
static void tramp_set64(char *base, char *sym, uint64_t v) { memcpy(base + TRAMP_OFF(sym), &v, 8); }

struct percpu *percpu_alloc(unsigned int cpu, uint32_t apic_id, void *stack)
{
    struct percpu *pc = xzalloc(sizeof(*pc));
    if (!pc)
        return NULL;
    pc->cpu = cpu;
    pc->apic_id = apic_id;
    pc->stack = stack;
    pc->timers.lock = (spinlock_t)SPINLOCK_INIT;
    struct cpu_info *ci = (struct cpu_info *)((char *)stack + STACK_SIZE - sizeof(struct cpu_info));
    ci->cpu = cpu;
    ci->pc = pc;
    percpu[cpu] = pc;
    return pc;
}

static bool start_cpu(unsigned int cpu, uint32_t apic_id)
{
    void *stack = alloc_hv_pages(STACK_ORDER);
    if (!stack || !percpu_alloc(cpu, apic_id, stack)) {
        pr_err("SMP: no memory for CPU%u", cpu);
        return false;
    }
    guard_stack(stack);
    cpu_gdt_window_init(cpu);
    paddr_t tp = trampoline_page();
    char *t = maddr_to_virt(tp);
    memcpy(t, trampoline_start, (size_t)(trampoline_end - trampoline_start));
    tramp_set32(t, tramp_gdt_ptr + 2, (uint32_t)(tp + TRAMP_OFF(tramp_gdt)));
    tramp_set32(t, tramp_pm_jump, (uint32_t)(tp + TRAMP_OFF(tramp_pm_entry)));
    tramp_set32(t, tramp_lm_jump, (uint32_t)(tp + TRAMP_OFF(tramp_lm_entry)));
    tramp_set64(t, tramp_cr3, virt_to_maddr(idle_pg_table));
    tramp_set64(t, tramp_stack, (uint64_t)stack + STACK_SIZE - sizeof(struct cpu_info));
    tramp_set32(t, tramp_efer, (uint32_t)(EFER_LME | (cpu_has_nx ? EFER_NXE : 0)));
    tramp_set32(t, tramp_cpu, cpu);
    smp_mb();

    apic_send_ipi(apic_id, APIC_DM_INIT | APIC_ICR_LEVEL | APIC_ICR_ASSERT);
    delay_us(10000);
    apic_send_ipi(apic_id, APIC_DM_INIT | APIC_ICR_LEVEL);
    for (int i = 0; i < 2; i++) {
        apic_send_ipi(apic_id, APIC_DM_STARTUP | (uint32_t)(tp >> PAGE_SHIFT));
        delay_us(200);
    }
    uint64_t deadline = now_ns() + 2000000000ULL; /* 2 s: generous for emulators */
    while (!__atomic_load_n(&percpu[cpu]->online, __ATOMIC_ACQUIRE) && now_ns() < deadline)
        cpu_relax();
    if (!percpu[cpu]->online) {
        pr_err("SMP: CPU%u (APIC ID %u) did not start", cpu, apic_id);
        return false;
    }
    return true;
}

void smp_boot_cpus(void)
{
    unsigned int limit = boot_opts.maxcpus ? boot_opts.maxcpus : MAX_CPUS;
    uint32_t me = apic_id();
    unsigned int cpu = 1;
    for (unsigned int i = 0; i < platform.nr_cpus; i++) {
        uint32_t id = platform.cpu_apic_ids[i];
        if (id == me)
            continue;
        if (cpu >= limit || cpu >= MAX_CPUS) {
            pr_info("SMP: CPU with APIC ID %u left offline (maxcpus=%u)", id, limit);
            continue;
        }
        nr_cpus_possible++;
        if (start_cpu(cpu, id)) {
            __atomic_add_fetch(&nr_cpus_online, 1, __ATOMIC_RELEASE);
            cpu++;
        }
    }
    printk("SMP: %u CPUs online", nr_cpus_online);
}

/* ---- cross-CPU calls ----
 *
 * One call is in flight at a time (call.lock). Each target's percpu->call_pending says it still owes the current
 * call; the IPI makes it look, and so does any CPU waiting in here itself. That polling keeps two CPUs that call
 * each other with interrupts off (a frame allocation's TLB flush, say) from waiting on each other forever. */

static struct {
    spinlock_t lock;
    void (*fn)(void *);
    void *data;
    volatile unsigned int pending;
} call;

static void run_pending_call(void)
{
    struct percpu *pc = this_cpu();
    if (!__atomic_exchange_n(&pc->call_pending, false, __ATOMIC_ACQUIRE))
        return;
    pc->ipi_count++;
    call.fn(call.data);
    __atomic_sub_fetch(&call.pending, 1, __ATOMIC_RELEASE);
}

static void call_function_interrupt(struct cpu_regs *regs, void *unused)
{
    (void)regs;
    (void)unused;
    run_pending_call();
}

static void event_check_interrupt(struct cpu_regs *regs, void *unused)
{
    this_cpu()->ipi_count++;
    timers_reprogram();
}

/* Runs fn(data) on every online CPU in `mask` other than this one and waits until all have finished. */
void smp_call_function_mask(const struct cpumask *mask, void (*fn)(void *), void *data)
{
    unsigned int me = smp_processor_id(), targets = 0;
    struct cpumask todo;
    cpumask_copy(&todo, mask);
    for_each_cpu_in(cpu, &todo) {
        if (cpu == me || cpu >= MAX_CPUS || !percpu[cpu] || !percpu[cpu]->online)
            cpumask_clear(&todo, cpu);
        else
            targets++;
    }
    if (!targets)
        return;
    while (!spin_trylock(&call.lock)) {
        run_pending_call();
        cpu_relax();
    }
    call.fn = fn;
    call.data = data;
    call.pending = targets;
    for_each_cpu_in(cpu, &todo)
        __atomic_store_n(&percpu[cpu]->call_pending, true, __ATOMIC_RELEASE);
    smp_mb();
    for_each_cpu_in(cpu, &todo)
        apic_send_ipi(percpu[cpu]->apic_id, APIC_DM_FIXED | VECTOR_CALL_FUNCTION);
    while (__atomic_load_n(&call.pending, __ATOMIC_ACQUIRE))
        cpu_relax();
    spin_unlock(&call.lock);
}

void cpumask_online(struct cpumask *m)
{
    cpumask_clear_all(m);
    for (unsigned int cpu = 0; cpu < MAX_CPUS; cpu++)
        if (percpu[cpu] && percpu[cpu]->online)
            cpumask_set(m, cpu);
}

void smp_call_function(void (*fn)(void *), void *data)
{
    struct cpumask all;
    cpumask_online(&all);
    smp_call_function_mask(&all, fn, data);
}

void smp_send_event_check(unsigned int cpu)
{
    if (percpu[cpu] && percpu[cpu]->online)
        apic_send_ipi(percpu[cpu]->apic_id, APIC_DM_FIXED | VECTOR_EVENT_CHECK);
}

/* Used by the fatal path: an NMI gets through even to a CPU spinning with interrupts off. */
void smp_stop_others(void)
{
    if (nr_cpus_online > 1 && apic_ready()) {
        apic_send_ipi(0, APIC_DM_NMI | APIC_DEST_OTHERS);
        delay_us(10000);
    }
}

void smp_init_ipis(void)
{
    set_irq_handler(VECTOR_CALL_FUNCTION, call_function_interrupt, NULL, "call function");
    set_irq_handler(VECTOR_EVENT_CHECK, event_check_interrupt, NULL, "event check");
}

/* Boot self-check of the cross-CPU machinery: every other CPU must answer an IPI, and every CPU's one-shot timer
 * must fire a soft timer on that CPU. */
static volatile unsigned int ipi_answers, timers_fired;

static void count_ipi(void *unused) { __atomic_add_fetch(&ipi_answers, 1, __ATOMIC_RELAXED); }

static void count_timer(void *t)
{
    if (((struct timer *)t)->cpu == smp_processor_id())
        __atomic_add_fetch(&timers_fired, 1, __ATOMIC_RELAXED);
}

void smp_selfcheck(void)
{
    static struct timer checks[MAX_CPUS];
    smp_call_function(count_ipi, NULL);
    for (unsigned int c = 0; c < MAX_CPUS; c++) {
        if (!percpu[c] || !percpu[c]->online)
            continue;
        timer_init(&checks[c], count_timer, &checks[c], "boot self-check", c);
        timer_set(&checks[c], now_ns() + 1000000);
    }
    uint64_t deadline = now_ns() + 1000000000ULL;
    while (timers_fired < nr_cpus_online && now_ns() < deadline)
        cpu_relax();
    bool ok = ipi_answers == nr_cpus_online - 1 && timers_fired == nr_cpus_online;
    log_msg(ok ? LOG_INFO : LOG_ERROR, "SMP self-check: IPIs answered by %u/%u other CPUs, timers fired on %u/%u CPUs%s",
            ipi_answers, nr_cpus_online - 1, timers_fired, nr_cpus_online, ok ? "" : " -- FAILED");
}

__noreturn void start_secondary(unsigned int cpu)
{
    cpu_init_tables(cpu);
    cpu_init_features();
    apic_init_cpu();
    pv_cpu_init(cpu);
    __atomic_store_n(&percpu[cpu]->online, true, __ATOMIC_RELEASE);
    idle_loop();
}
