/* The hypervisor console: a 16550 UART (COM1 by default) with line-prefixed, level-filtered output and
 * character input that drives the debug keys. */
#ifndef VESTA_CONSOLE_H
#define VESTA_CONSOLE_H

#include <vesta/lib.h>

struct uart_config {
    uint16_t io_base;
    unsigned int baud; /* 0: keep what the firmware programmed */
    unsigned int data_bits, stop_bits;
    char parity;
    int irq;           /* ISA IRQ, or -1 for polling */
};

void uart_init(const struct uart_config *cfg);
void uart_putc(char c);
int uart_getc(void); /* -1 when nothing is waiting */
void uart_enable_rx_irq(void);
bool uart_present(void);

void console_init_early(void);
void console_set_level(enum log_level lvl);
void console_write(const char *s, size_t n);
void console_write_guest(const char *s, size_t n); /* dom0's output: raw, like Xen */
/* The fatal path takes the console regardless of who held it. */
void console_force_unlock(void);
void console_start_input(void); /* route the UART's interrupt, or poll from a timer */
void console_poll_input(void);
void console_input_to_dom0(bool on);
long console_read_input(uint64_t guest_buf, uint64_t count); /* bytes copied, or -EFAULT */
struct xen_sysctl_readconsole;
long console_read_ring(struct xen_sysctl_readconsole *op);   /* sysctl readconsole: 0 or -EFAULT */

/* Debug keys: single characters typed on the console, each bound to a handler like Xen's. Most run at once, in
 * the console's interrupt, so that they answer even when the CPUs are stuck; a deferred one (it takes locks or
 * references whose release may do real work) runs soon after from SOFTIRQ_DEBUGKEY, as Xen's tasklet keys do. */
typedef void (*debugkey_fn)(unsigned char key);
void register_debugkey(unsigned char key, debugkey_fn fn, const char *desc);
void register_debugkey_deferred(unsigned char key, debugkey_fn fn, const char *desc);
void handle_debugkey(unsigned char key);
void debugkeys_run_deferred(void);
void debugkeys_init(void);

#endif
