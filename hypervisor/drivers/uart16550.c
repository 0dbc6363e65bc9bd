/* 16550-compatible UART: the console every PC server and QEMU has. Output busy-waits on the transmitter
 * (console output must work from any context, including the fault path); input is read by interrupt or poll. */
#include <vesta/console.h>
#include <vesta/x86.h>

#define UART_RBR 0 /* receive buffer (read) */
#define UART_THR 0 /* transmit holding (write) */
#define UART_IER 1
#define UART_IIR 2
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_SCR 7
#define UART_DLL 0
#define UART_DLM 1

#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LCR_DLAB 0x80
#define UART_CLOCK_HZ 1843200

static uint16_t uart_base = 0x3f8;
static bool uart_ok;

void uart_init(const struct uart_config *cfg)
{
    uart_base = cfg->io_base;
    /* The scratch register tells whether anything answers at this port at all. */
    outb(uart_base + UART_SCR, 0x5a);
    if (inb(uart_base + UART_SCR) != 0x5a) {
        uart_ok = false;
        return;
    }
    uart_ok = true;
    outb(uart_base + UART_IER, 0);
    uint8_t lcr = (uint8_t)((cfg->data_bits - 5) & 3);
    if (cfg->stop_bits == 2)
        lcr |= 0x04;
    switch (cfg->parity) {
    case 'o': lcr |= 0x08; break;
    case 'e': lcr |= 0x18; break;
    case 'm': lcr |= 0x28; break;
    case 's': lcr |= 0x38; break;
    default: break;
    }
    if (cfg->baud) {
        unsigned int div = UART_CLOCK_HZ / 16 / cfg->baud;
        if (!div)
            div = 1;
        outb(uart_base + UART_LCR, LCR_DLAB);
        outb(uart_base + UART_DLL, div & 0xff);
        outb(uart_base + UART_DLM, (div >> 8) & 0xff);
    }
    outb(uart_base + UART_LCR, lcr);
    outb(uart_base + UART_FCR, 0x07); /* enable and clear the FIFOs */
    outb(uart_base + UART_MCR, 0x0b); /* DTR, RTS, OUT2 (OUT2 gates the interrupt line on PCs) */
}

bool uart_present(void) { return uart_ok; }

void uart_putc(char c)
{
    if (!uart_ok)
        return;
    /* Bounded wait: a wedged UART must not hang the fault path. */
    for (unsigned int i = 0; i < 1000000 && !(inb(uart_base + UART_LSR) & LSR_THRE); i++)
        cpu_relax();
    outb(uart_base + UART_THR, (uint8_t)c);
}

int uart_getc(void)
{
    if (!uart_ok || !(inb(uart_base + UART_LSR) & LSR_DR))
        return -1;
    return inb(uart_base + UART_RBR);
}

void uart_enable_rx_irq(void)
{
    if (uart_ok)
        outb(uart_base + UART_IER, 0x01);
}
