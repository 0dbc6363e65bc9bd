/* Console output: every line carries the "(VESTA) " prefix and is filtered by log level (loglvl=). Output from
 * several CPUs is serialised line by line under one lock. */
#include <vesta/console.h>
#include <vesta/percpu.h>
#include <vesta/spinlock.h>

static spinlock_t console_lock = SPINLOCK_INIT;
static enum log_level console_level = LOG_INFO;
static bool at_line_start = true;

void console_set_level(enum log_level lvl) { console_level = lvl; }

void console_force_unlock(void) { console_lock = (spinlock_t)SPINLOCK_INIT; }

void console_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (at_line_start) {
            for (const char *p = "(VESTA) "; *p; p++)
                uart_putc(*p);
            at_line_start = false;
        }
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
    spin_unlock_irqrestore(&console_lock, flags);
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
