/* Console output: every line carries the "(VESTA) " prefix and is filtered by log level (loglvl=). Output from
 * several CPUs is serialised line by line under one lock.
 *
 * Everything the hypervisor prints also goes into the console ring (vesta/conring.h) that the toolstack reads with
 * sysctl readconsole (`xl dmesg`), as on Xen: the prefixed lines, with "\n" line ends (the UART's "\r" is not
 * recorded). Dom0's own console output goes to the ring only with the console_to_ring boot option, Xen's rule
 * too. The ring is written under console_lock; readers snapshot prod/cons under it and copy without it. */
#include <public/sysctl.h>
#include <vesta/conring.h>
#include <vesta/console.h>
#include <vesta/errno.h>
#include <vesta/guest_access.h>
#include <vesta/percpu.h>
#include <vesta/setup.h>
#include <vesta/spinlock.h>

static spinlock_t console_lock = SPINLOCK_INIT;
static enum log_level console_level = LOG_INFO;
static bool at_line_start = true;

/* 64 KiB: four times Xen's default, enough to hold a whole Vesta boot with loglvl=all. Static, so the very
 * first message is kept. */
#define CONRING_SIZE (64 * 1024)
static char conring_buf[CONRING_SIZE];
static struct conring conring = {.buf = conring_buf, .size = CONRING_SIZE};
_Static_assert((CONRING_SIZE & (CONRING_SIZE - 1)) == 0, "the ring size is a power of two");

void console_set_level(enum log_level lvl) { console_level = lvl; }

void console_force_unlock(void) { console_lock = (spinlock_t)SPINLOCK_INIT; }

/* The caller holds console_lock (or has taken the console over on the fatal path). */
void console_write(const char *s, size_t n)
{
    static const char prefix[] = "(VESTA) ";
    for (size_t i = 0; i < n; i++) {
        if (at_line_start) {
            for (const char *p = prefix; *p; p++)
                uart_putc(*p);
            conring_put(&conring, prefix, sizeof(prefix) - 1);
            at_line_start = false;
        }
        conring_put(&conring, &s[i], 1);
        if (s[i] == '\n') {
            uart_putc('\r');
            at_line_start = true;
        }
        uart_putc(s[i]);
    }
}

/* Guest output, as the guest wrote it: no prefix is inserted. */
void console_write_guest(const char *s, size_t n)
{
    unsigned long flags = spin_lock_irqsave(&console_lock);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            uart_putc('\r');
        uart_putc(s[i]);
        at_line_start = s[i] == '\n';
    }
    if (boot_opts.console_to_ring)
        conring_put(&conring, s, n);
    spin_unlock_irqrestore(&console_lock, flags);
}

static int ring_copy_to_guest(void *ctx, uint32_t offset, const char *src, uint32_t len)
{
    uint64_t buf = *(const uint64_t *)ctx;
    return copy_to_guest(buf + offset, src, len) ? -EFAULT : 0;
}

/* sysctl readconsole: on success op->count is the number of bytes copied and op->index the ring position after
 * them; on -EFAULT neither is meaningful (the dispatcher copies nothing back). A clearing read discards what it
 * read, and anything older. */
long console_read_ring(struct xen_sysctl_readconsole *op)
{
    unsigned long f = spin_lock_irqsave(&console_lock);
    uint32_t cons = conring.cons, prod = conring.prod;
    spin_unlock_irqrestore(&console_lock, f);

    uint32_t pos = conring_read_start(cons, prod, op->incremental, op->index), done;
    int rc = conring_read(&conring, &pos, prod, op->count, &done, ring_copy_to_guest, &op->buffer.p);
    if (rc)
        return rc;
    if (op->clear) {
        f = spin_lock_irqsave(&console_lock);
        conring.cons = conring_clear_to(conring.cons, pos, conring.prod, conring.size);
        spin_unlock_irqrestore(&console_lock, f);
    }
    op->count = done;
    op->index = pos;
    return 0;
}

void vlog(enum log_level lvl, const char *fmt, va_list ap)
{
    char buf[512];
    if (lvl > console_level)
        return;
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    if (n >= (int)sizeof(buf))
        n = sizeof(buf) - 1;
    unsigned long flags = spin_lock_irqsave(&console_lock);
    console_write(buf, (size_t)n);
    if (n == 0 || buf[n - 1] != '\n')
        console_write("\n", 1);
    spin_unlock_irqrestore(&console_lock, flags);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(lvl, fmt, ap);
    va_end(ap);
}

/* ---- input: characters typed on the console are debug keys ---- */

#include <vesta/apic.h>
#include <vesta/domain.h>
#include <vesta/errno.h>
#include <vesta/guest_access.h>
#include <vesta/setup.h>
#include <vesta/timer.h>
#include <vesta/traps.h>

static struct timer poll_timer;

/* Input goes to dom0 once it runs (its console reads it with console_io and is told by VIRQ_CONSOLE), or to
 * the debug keys; three Ctrl-A in a row switch between the two, as on Xen. */
#define INPUT_RING 1024
static char input_ring[INPUT_RING];
static unsigned int input_head, input_tail; /* head: next write; tail: next read */
static spinlock_t input_lock = SPINLOCK_INIT;
static bool input_to_dom0;
static unsigned int ctrl_a_run;

void console_input_to_dom0(bool on)
{
    input_to_dom0 = on;
    printk("*** Serial input to %s (type 'CTRL-a' three times to switch input)", on ? "DOM0" : "VESTA");
}

long console_read_input(uint64_t guest_buf, uint64_t count)
{
    long done = 0;
    while ((uint64_t)done < count) {
        unsigned long f = spin_lock_irqsave(&input_lock);
        if (input_tail == input_head) {
            spin_unlock_irqrestore(&input_lock, f);
            break;
        }
        char c = input_ring[input_tail % INPUT_RING];
        input_tail++;
        spin_unlock_irqrestore(&input_lock, f);
        if (copy_to_guest(guest_buf + (uint64_t)done, &c, 1))
            return done ? done : -EFAULT;
        done++;
    }
    return done;
}

void console_poll_input(void)
{
    int c;
    bool for_dom0 = false;
    while ((c = uart_getc()) >= 0) {
        if (c == 0x01) {
            if (++ctrl_a_run == 3) {
                ctrl_a_run = 0;
                console_input_to_dom0(!input_to_dom0);
            }
            continue;
        }
        for (; ctrl_a_run; ctrl_a_run--) /* fewer than three: they were meant for the reader */
            if (input_to_dom0 && input_head - input_tail < INPUT_RING)
                input_ring[input_head++ % INPUT_RING] = 0x01;
        if (!input_to_dom0) {
            handle_debugkey((unsigned char)c);
            continue;
        }
        unsigned long f = spin_lock_irqsave(&input_lock);
        if (input_head - input_tail < INPUT_RING)
            input_ring[input_head++ % INPUT_RING] = (char)c;
        spin_unlock_irqrestore(&input_lock, f);
        for_dom0 = true;
    }
    if (for_dom0) {
        send_guest_global_virq(hardware_domain, VIRQ_CONSOLE);
    }
}

static void uart_interrupt(struct cpu_regs *regs, void *data) { console_poll_input(); }

static void poll_timer_fn(void *data)
{
    console_poll_input();
    timer_set(&poll_timer, now_ns() + 20000000); /* 20 ms */
}

/* The console owns the UART's interrupt line: route it to the boot CPU. Without an IO-APIC (or with com1=...
 * asking for polling) a 20 ms timer polls instead. */
void console_start_input(void)
{
    if (!uart_present())
        return;
    int irq = boot_opts.com1.irq ? (int)boot_opts.com1.irq : 4;
    int vec = alloc_irq_vector();
    int gsi = -1;
    if (vec >= 0) {
        set_irq_handler((unsigned int)vec, uart_interrupt, NULL, "com1");
        gsi = ioapic_route_isa_irq((unsigned int)irq, (unsigned int)vec, apic_id());
    }
    if (gsi >= 0) {
        uart_enable_rx_irq();
        printk("Console: COM1 input on IRQ %d (GSI %d, vector 0x%02x); press 'h' for debug keys", irq, gsi,
               vec);
    } else {
        timer_init(&poll_timer, poll_timer_fn, NULL, "console poll", smp_processor_id());
        timer_set(&poll_timer, now_ns() + 20000000);
        printk("Console: COM1 input polled; press 'h' for debug keys");
    }
    console_poll_input();
}
