/* The IDT, exception dispatch and the fatal-fault report.
 *
 * A fault in the hypervisor itself is fatal unless the faulting instruction has an exception-table fixup. The
 * report names the CPU and the exception, dumps the registers and a symbolized stack trace, then reboots (or
 * halts with `noreboot`). The other CPUs are stopped first so the report is not interleaved with their output. */
#include <vesta/apic.h>
#include <vesta/console.h>
#include <vesta/layout.h>
#include <vesta/percpu.h>
#include <vesta/pv.h>
#include <vesta/setup.h>
#include <vesta/traps.h>
#include <vesta/x86.h>

struct __packed idt_entry {
    uint16_t off_lo;
    uint16_t sel;
    uint8_t ist;
    uint8_t type;
    uint16_t off_mid;
    uint32_t off_hi;
    uint32_t zero;
};

static struct idt_entry idt[256] __aligned(4096);
extern const char vector_table[];

struct irq_desc {
    irq_handler_t fn;
    void *data;
    const char *name;
    uint64_t count;
};
static struct irq_desc irq_descs[256];
static spinlock_t vector_lock = SPINLOCK_INIT;

static const char *const trap_names[32] = {
    "divide error", "debug", "NMI", "breakpoint", "overflow", "bound range", "invalid opcode",
    "device not available", "double fault", "coprocessor overrun", "invalid TSS", "segment not present",
    "stack fault", "general protection", "page fault", "reserved", "x87 FP error", "alignment check",
    "machine check", "SIMD FP error", "virtualization", "control protection",
};

static void set_gate(unsigned int vec, unsigned int ist, unsigned int dpl)
{
    unsigned long addr = (unsigned long)vector_table + vec * 16;
    idt[vec] = (struct idt_entry){
        .off_lo = addr & 0xffff,
        .sel = HYPERVISOR_CS,
        .ist = (uint8_t)ist,
        .type = (uint8_t)(0x8e | (dpl << 5)), /* present, 64-bit interrupt gate */
        .off_mid = (addr >> 16) & 0xffff,
        .off_hi = (uint32_t)(addr >> 32),
    };
}

void traps_init(void)
{
    for (unsigned int v = 0; v < 256; v++)
        set_gate(v, 0, 0);
    /* The IST stacks make these usable even when the current stack is what went wrong. */
    set_gate(TRAP_DF, 1, 0);
    /* int3 and into are usable from ring 3, as on bare metal: a PV guest (kernel or user) gets them directly. */
    set_gate(TRAP_BP, 0, 3);
    set_gate(TRAP_OF, 0, 3);
    set_gate(TRAP_NMI, 2, 0);
    set_gate(TRAP_MC, 3, 0);
}

void traps_load(void)
{
    struct desc_ptr p = {sizeof(idt) - 1, (uint64_t)idt};
    __asm__ volatile("lidt %0" ::"m"(p));
}

void set_irq_handler(unsigned int vector, irq_handler_t fn, void *data, const char *name)
{
    irq_descs[vector].data = data;
    irq_descs[vector].name = name;
    __atomic_store_n(&irq_descs[vector].fn, fn, __ATOMIC_RELEASE);
}

int alloc_irq_vector(void)
{
    int found = -1;
    spin_lock(&vector_lock);
    for (int v = FIRST_DYNAMIC_VECTOR; v <= LAST_DYNAMIC_VECTOR; v++) {
        if (!irq_descs[v].fn && !irq_descs[v].name) {
            irq_descs[v].name = "reserved";
            found = v;
            break;
        }
    }
    spin_unlock(&vector_lock);
    return found;
}

void irq_vectors_dump(void)
{
    printk("Interrupt vectors in use:");
    for (unsigned int v = 32; v < 256; v++)
        if (irq_descs[v].fn)
            printk("  vector 0x%02x: %-16s %lu interrupts", v, irq_descs[v].name, irq_descs[v].count);
}

bool search_exception_table(struct cpu_regs *regs)
{
    extern const struct ex_entry __start_ex_table[], __stop_ex_table[];
    for (const struct ex_entry *e = __start_ex_table; e < __stop_ex_table; e++) {
        unsigned long insn = (unsigned long)&e->insn + e->insn;
        if (insn == regs->rip) {
            regs->rip = (unsigned long)&e->fixup + e->fixup;
            return true;
        }
    }
    return false;
}

/* Assembly for "if the instruction at label 1 faults, set `reg` to -1 and resume at label 2": a fixup stub
 * out of line and an exception-table entry pointing at it. */
#define FAULT_SETS_MINUS_ONE(reg)                                                                                  \
    ".pushsection .fixup, \"ax\"\n"                                                                             \
    "3: movl $-1, " reg "\n"                                                                                      \
    "   jmp 2b\n"                                                                                                 \
    ".popsection\n"                                                                                               \
    ".pushsection __ex_table, \"a\"\n"                                                                          \
    ".balign 4\n"                                                                                                 \
    ".long 1b - ., 3b - .\n"                                                                                      \
    ".popsection"

int rdmsr_safe(uint32_t msr, uint64_t *val)
{
    uint32_t lo = 0, hi = 0;
    int err = 0;
    __asm__ volatile("1: rdmsr\n2:\n" FAULT_SETS_MINUS_ONE("%2") : "=a"(lo), "=d"(hi), "+r"(err) : "c"(msr));
    *val = ((uint64_t)hi << 32) | lo;
    return err;
}

int wrmsr_safe(uint32_t msr, uint64_t val)
{
    int err = 0;
    __asm__ volatile("1: wrmsr\n2:\n" FAULT_SETS_MINUS_ONE("%0")
                     : "+r"(err)
                     : "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32)));
    return err;
}

int read_u64_safe(const void *p, uint64_t *val)
{
    uint64_t v = 0;
    int err = 0;
    __asm__ volatile("1: movq (%2), %0\n2:\n" FAULT_SETS_MINUS_ONE("%1") : "+r"(v), "+r"(err) : "r"(p));
    *val = v;
    return err;
}

/* Boot check of the mechanism every checked guest access will rely on: reading this CPU's unmapped stack
 * guard page must come back as an error, not a fault. */
void exception_fixup_selfcheck(void)
{
    uint64_t v;
    unsigned long sp;
    __asm__("mov %%rsp, %0" : "=r"(sp));
    const void *guard = (const void *)((sp & ~(STACK_SIZE - 1)) + STACK_GUARD_PAGE * PAGE_SIZE);
    if (read_u64_safe(guard, &v) == 0)
        pr_err("Exception fixups: reading the stack guard page succeeded -- the guard page is missing");
    else
        printk("Exception fixups: a faulting read was recovered through the exception table");
}

const char *symbol_lookup(unsigned long addr, unsigned long *offset, unsigned long *size)
{
    extern const uint64_t symtab_count, symtab_addrs[];
    extern const uint32_t symtab_name_offsets[];
    extern const char symtab_names[], _etext[];
    uint64_t n = symtab_count;
    if (!n || addr < symtab_addrs[0] || addr >= (unsigned long)_etext)
        return NULL;
    uint64_t lo = 0, hi = n; /* find the last symbol at or below addr */
    while (hi - lo > 1) {
        uint64_t mid = (lo + hi) / 2;
        if (symtab_addrs[mid] <= addr)
            lo = mid;
        else
            hi = mid;
    }
    *offset = addr - symtab_addrs[lo];
    *size = (lo + 1 < n ? symtab_addrs[lo + 1] : (unsigned long)_etext) - symtab_addrs[lo];
    return symtab_names + symtab_name_offsets[lo];
}

static void print_frame(unsigned long addr)
{
    unsigned long off, size;
    const char *name = symbol_lookup(addr, &off, &size);
    if (name)
        printk("  [<%016lx>] %s+0x%lx/0x%lx", addr, name, off, size);
    else
        printk("  [<%016lx>] ?", addr);
}

/* Frame-pointer walk, trusting nothing: every frame must lie inside this CPU's stack block and above the last. */
void show_stack_trace(unsigned long rbp, unsigned long rip)
{
    unsigned long sp;
    __asm__("mov %%rsp, %0" : "=r"(sp));
    unsigned long lo = sp & ~(STACK_SIZE - 1), hi = lo + STACK_SIZE;
    printk("Call trace:");
    print_frame(rip);
    for (int depth = 0; depth < 32; depth++) {
        if (rbp < lo || rbp + 16 > hi || (rbp & 7))
            break;
        unsigned long ret = ((unsigned long *)rbp)[1];
        unsigned long next = ((unsigned long *)rbp)[0];
        if (!ret)
            break;
        print_frame(ret);
        if (next <= rbp)
            break;
        rbp = next;
    }
}

static void dump_regs(const struct cpu_regs *r)
{
    printk("RIP: %04lx:[<%016lx>]  RFLAGS: %016lx", r->cs, r->rip, r->rflags);
    printk("RSP: %04lx:%016lx  error code: %04lx", r->ss, r->rsp, r->error_code);
    printk("RAX: %016lx  RBX: %016lx  RCX: %016lx", r->rax, r->rbx, r->rcx);
    printk("RDX: %016lx  RSI: %016lx  RDI: %016lx", r->rdx, r->rsi, r->rdi);
    printk("RBP: %016lx  R8:  %016lx  R9:  %016lx", r->rbp, r->r8, r->r9);
    printk("R10: %016lx  R11: %016lx  R12: %016lx", r->r10, r->r11, r->r12);
    printk("R13: %016lx  R14: %016lx  R15: %016lx", r->r13, r->r14, r->r15);
    printk("CR0: %016lx  CR2: %016lx  CR3: %016lx  CR4: %016lx", read_cr0(), read_cr2(), read_cr3(),
           read_cr4());
}

__noreturn void machine_halt(void)
{
    local_irq_disable();
    for (;;)
        halt();
}

__noreturn void machine_restart(void)
{
    local_irq_disable();
    /* PCI reset control register, then the keyboard controller, then a triple fault as the last resort. */
    outb(0xcf9, 0x02);
    outb(0xcf9, 0x06);
    for (int i = 0; i < 100000; i++)
        cpu_relax();
    for (int i = 0; i < 100000 && (inb(0x64) & 0x02); i++)
        cpu_relax();
    outb(0x64, 0xfe);
    for (int i = 0; i < 1000000; i++)
        cpu_relax();
    struct desc_ptr none = {0, 0};
    __asm__ volatile("lidt %0; int3" ::"m"(none));
    machine_halt();
}

static volatile int fatal_cpu = -1;

__noreturn void fatal_trap(struct cpu_regs *regs, const char *why)
{
    unsigned int cpu = smp_processor_id();
    /* One CPU reports; a second fault (or a second CPU) just stops. */
    int expected = -1;
    if (!__atomic_compare_exchange_n(&fatal_cpu, &expected, (int)cpu, false, __ATOMIC_SEQ_CST,
                                     __ATOMIC_SEQ_CST))
        machine_halt();
    smp_stop_others();
    console_force_unlock();
    console_set_level(LOG_ALL);
    pr_err("*** HYPERVISOR FAULT on CPU%u: %s", cpu, why);
    if (regs) {
        dump_regs(regs);
        show_stack_trace(regs->rbp, regs->rip);
    } else {
        /* Start from our caller (panic), so the trace does not list this function. */
        unsigned long caller_rbp = *(unsigned long *)__builtin_frame_address(0);
        show_stack_trace(caller_rbp, (unsigned long)__builtin_return_address(0));
    }
    if (boot_opts.noreboot) {
        pr_err("System halted (noreboot)");
        machine_halt();
    }
    pr_err("Rebooting");
    machine_restart();
}

void do_trap(struct cpu_regs *regs)
{
    unsigned int vec = (unsigned int)regs->vector;
    if (vec >= 32) {
        struct irq_desc *d = &irq_descs[vec];
        irq_handler_t fn = __atomic_load_n(&d->fn, __ATOMIC_ACQUIRE);
        d->count++;
        this_cpu()->irq_count++;
        if (fn)
            fn(regs, d->data);
        if (vec != VECTOR_SPURIOUS)
            apic_eoi();
        return;
    }
    if (vec == TRAP_NMI) {
        /* An NMI during a fatal report is the stop signal from the reporting CPU. */
        if (fatal_cpu >= 0 && fatal_cpu != (int)smp_processor_id())
            machine_halt();
        pr_warn("NMI received on CPU%u (ignored)", smp_processor_id());
        return;
    }
    /* Faults the PV layer resolves for the guest: lazily mapped LDT pages, the IRETQ into the guest (pv/traps.c). */
    if (!(regs->cs & 3) && this_cpu()->curr && pv_hypervisor_fault(regs))
        return;
    if ((regs->cs & 3) == 3 && vec != TRAP_DF && vec != TRAP_MC && this_cpu()->curr) {
        pv_handle_exception(regs);
        return;
    }
    /* grant area: a guest data breakpoint hit by the hypervisor's own access to guest memory (pv/context.c). */
    if (vec == TRAP_DB && pv_debug_trap_hypervisor(regs))
        return;
    if ((vec == TRAP_PF || vec == TRAP_GP) && search_exception_table(regs))
        return;

    char why[96];
    if (vec == TRAP_PF)
        snprintf(why, sizeof(why), "page fault at %016lx (%s, %s, %s)", read_cr2(),
                 regs->error_code & 1 ? "protection" : "not present", regs->error_code & 2 ? "write" : "read",
                 regs->error_code & 16 ? "instruction fetch" : regs->error_code & 4 ? "user" : "supervisor");
    else
        snprintf(why, sizeof(why), "%s (vector %u)", trap_names[vec] ? trap_names[vec] : "reserved", vec);
    fatal_trap(regs, why);
}

__noreturn void panic(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    char why[300];
    snprintf(why, sizeof(why), "panic: %s", buf);
    fatal_trap(NULL, why);
}
