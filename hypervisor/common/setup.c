/* start_vesta(): the boot CPU's path from the loader's hand-off to an idle, fully owned machine.
 *
 * Order matters: the console first (so everything after can complain), then the boot CPU's own descriptor
 * tables (so a fault anywhere after is reported, not a silent triple fault), memory, interrupt controllers,
 * time, the other CPUs, and finally the dom0 hand-off. */
#include <vesta/acpi.h>
#include <vesta/apic.h>
#include <vesta/console.h>
#include <vesta/irq.h>
#include <vesta/mm.h>
#include <vesta/percpu.h>
#include <vesta/pv.h>
#include <vesta/setup.h>
#include <vesta/traps.h>
#include <vesta/x86.h>

#define MB1_BOOT_MAGIC 0x2badb002
#define MB2_BOOT_MAGIC 0x36d76289

struct boot_options boot_opts = {
    .com1 = {.baud = 115200, .data_bits = 8, .parity = 'n', .stop_bits = 1, .io_base = 0x3f8},
    .loglvl = {.level = LOG_INFO, .ratelimit = LOG_INFO},
    .guest_loglvl = {.level = LOG_INFO, .ratelimit = LOG_INFO},
};
struct boot_info boot_info;

static struct percpu bsp_percpu;
static uint64_t bsp_gdt[16] __aligned(64);
static struct tss64 bsp_tss __aligned(128);
extern char boot_stack[];

static void report_option(void *ctx, enum cmdline_problem p, const char *name, const char *value)
{
    int *errors = ctx;
    if (p == CMDLINE_UNKNOWN) {
        pr_warn("WARNING: unknown command-line option '%s'", name);
        return;
    }
    (*errors)++;
    if (p == CMDLINE_MISSING_VALUE)
        pr_err("ERROR: command line: option '%s' needs a value", name);
    else
        pr_err("ERROR: command line: bad value '%s' for option '%s'", value ? value : "", name);
}

void parse_boot_options(const char *cmdline)
{
    static const struct cmdline_param params[] = {
        CMDLINE_BOOL_PARAM("noreboot", &boot_opts.noreboot),
        CMDLINE_UINT_PARAM("maxcpus", &boot_opts.maxcpus, 1, MAX_CPUS),
        CMDLINE_UINT_PARAM("dom0_max_vcpus", &boot_opts.dom0_max_vcpus, 1, MAX_CPUS),
        CMDLINE_CUSTOM_PARAM("dom0_mem", parse_dom0_mem, &boot_opts.dom0_mem),
        CMDLINE_CUSTOM_PARAM("com1", parse_com_port, &boot_opts.com1),
        CMDLINE_STRING_PARAM("console", boot_opts.console),
        CMDLINE_BOOL_PARAM("console_to_ring", &boot_opts.console_to_ring),
        CMDLINE_CUSTOM_PARAM("loglvl", parse_loglvl, &boot_opts.loglvl),
        CMDLINE_CUSTOM_PARAM("guest_loglvl", parse_loglvl, &boot_opts.guest_loglvl),
        CMDLINE_STRING_PARAM("selftest", boot_opts.selftest),
    };
    int errors = 0;
    cmdline_parse(cmdline, params, ARRAY_SIZE(params), report_option, &errors);
}

static void console_setup(void)
{
    struct uart_config uc = {
        .io_base = boot_opts.com1.io_base ? boot_opts.com1.io_base : 0x3f8,
        .baud = boot_opts.com1.baud,
        .data_bits = boot_opts.com1.data_bits ? boot_opts.com1.data_bits : 8,
        .stop_bits = boot_opts.com1.stop_bits ? boot_opts.com1.stop_bits : 1,
        .parity = boot_opts.com1.parity ? boot_opts.com1.parity : 'n',
    };
    uart_init(&uc);
    console_set_level(boot_opts.loglvl.level);
}

/* Until memory_init() builds the real page tables, head.S maps the first 4 GiB at the direct-map address;
 * multiboot loaders put their information below 4 GiB. */
static const void *early_phys_map(uint64_t pa, size_t len, void *ctx)
{
    if (pa + len < pa || pa + len > (1UL << 32))
        return NULL;
    return maddr_to_virt(pa);
}

static void parse_multiboot(uint32_t magic, uint32_t info_pa)
{
    int rc;
    if (magic == MB1_BOOT_MAGIC)
        rc = multiboot1_parse(info_pa, early_phys_map, NULL, &boot_info);
    else if (magic == MB2_BOOT_MAGIC)
        rc = multiboot2_parse(info_pa, early_phys_map, NULL, &boot_info);
    else
        panic("not started by a multiboot loader (magic %#x)", magic);
    if (rc)
        panic("malformed multiboot%d information at %#x (error %d)", magic == MB1_BOOT_MAGIC ? 1 : 2, info_pa,
              rc);
}

static void show_modules(void)
{
    if (!boot_info.nr_mods) {
        printk("No dom0 kernel module given");
        return;
    }
    for (unsigned int i = 0; i < boot_info.nr_mods; i++) {
        const struct boot_module *m = &boot_info.mods[i];
        const char *what = i == 0 ? "dom0 kernel" : i == 1 ? "initrd" : "extra module";
        if (i == 0)
            printk("Module %u: [%#lx, %#lx) %s, args '%s'", i, m->start, m->end, what, boot_module_args(&boot_info, m));
        else
            printk("Module %u: [%#lx, %#lx) %s", i, m->start, m->end, what);
    }
}

static void selftest_fault(void)
{
    printk("selftest=fault: touching an unmapped address on purpose");
    volatile uint64_t *bad = (volatile uint64_t *)0xffff82dfff000000UL;
    *bad = 0xdead;
}

/* Recurse until the stack runs into its guard page: exercises the double-fault path on its IST stack. */
static unsigned long selftest_recurse(unsigned long depth)
{
    volatile char pad[512];
    pad[0] = (char)depth;
    if (depth > (1UL << 20)) /* never reached: the guard page stops us long before */
        return 0;
    return selftest_recurse(depth + 1) + pad[0];
}

__noreturn void idle_loop(void) { sched_run(); }

__noreturn void start_vesta(uint32_t magic, uint32_t info_pa)
{
    /* The boot CPU's per-CPU state is static: it is needed before there is an allocator. */
    bsp_percpu.stack = boot_stack;
    bsp_percpu.gdt = bsp_gdt;
    bsp_percpu.tss = &bsp_tss;
    bsp_percpu.timers.lock = (spinlock_t)SPINLOCK_INIT;
    percpu[0] = &bsp_percpu;
    struct cpu_info *ci = (struct cpu_info *)(boot_stack + STACK_SIZE - sizeof(struct cpu_info));
    ci->cpu = 0;
    ci->pc = &bsp_percpu;

    console_setup();
    traps_init();
    cpu_init_tables(0);

    parse_multiboot(magic, info_pa);
    printk("Vesta %s x86-64 hypervisor", VESTA_VERSION);
    const char *cmdline = boot_cmdline_args(&boot_info, boot_info.cmdline);
    printk("Command line: %s", cmdline);
    parse_boot_options(cmdline);
    console_setup();
    printk("Bootloader: multiboot%d (%s)", boot_info.protocol, boot_info.loader_name);
    if (boot_opts.console[0] && strncmp(boot_opts.console, "com1", 4))
        pr_warn("console=%s: only com1 is supported; using com1", boot_opts.console);
    show_modules();

    cpu_identify_boot();
    cpu_init_features();
    memory_init();
    guard_stack(boot_stack);
    cpu_gdt_window_init(0);
    cpu_init_tables(0);
    m2p_init();
    exception_fixup_selfcheck();

    acpi_init();
    acpi_power_init();
    bsp_percpu.apic_id = 0;
    apic_init_boot();
    bsp_percpu.apic_id = apic_id();
    apic_init_cpu();
    pic_disable();
    ioapic_init();
    irq_init();
    time_init();
    smp_init_ipis();
    debugkeys_init();
    pv_cpu_init(0);
    bsp_percpu.online = true;
    local_irq_enable();

    smp_boot_cpus();
    smp_selfcheck();
    console_start_input();
    /* The same point as Xen's "*** Building a PV Dom0 ***": everything before is the hypervisor's own boot;
     * reading (and unpacking) the dom0 kernel is part of building dom0 on both. */
    printk("Ready to build dom0");
    dom0_inspect();
    dom0_build();
    printk("CPUs idle, debug keys active");

    if (!strcmp(boot_opts.selftest, "fault"))
        selftest_fault();
    else if (!strcmp(boot_opts.selftest, "stack-overflow")) {
        printk("selftest=stack-overflow: recursing into the guard page on purpose");
        selftest_recurse(0);
    }
    else if (boot_opts.selftest[0])
        pr_warn("selftest=%s: unknown self-test", boot_opts.selftest);

    idle_loop();
}
