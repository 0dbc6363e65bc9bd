/* console_io: guests writing to (and dom0 reading from) the hypervisor console.
 *
 * Dom0's output goes to the serial line as it is, without the hypervisor's prefix, exactly as Xen prints it, so
 * a dom0 console looks the same on both. Other domains' lines are prefixed with their id. */
#include <public/xen.h>
#include <vesta/console.h>
#include <vesta/domain.h>
#include <vesta/errno.h>
#include <vesta/guest_access.h>
#include <vesta/lib.h>
#include <vesta/pv.h>

static spinlock_t guest_console_lock = SPINLOCK_INIT;

static void domu_write(struct domain *d, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c != '\n' && d->conlen < sizeof(d->conbuf) - 1) {
            d->conbuf[d->conlen++] = c;
            continue;
        }
        d->conbuf[d->conlen] = 0;
        printk("(d%u) %s", d->id, d->conbuf);
        d->conlen = 0;
        if (c != '\n')
            d->conbuf[d->conlen++] = c;
    }
}

HC(do_console_io)
{
    struct domain *d = current_domain();
    switch (a1) {
    case CONSOLEIO_write: {
        unsigned long count = a2, buf = a3;
        char chunk[128];
        while (count) {
            size_t n = MIN(count, sizeof(chunk));
            if (copy_from_guest(chunk, buf, n))
                return -EFAULT;
            if (d->id == 0) {
                console_write_guest(chunk, n);
            } else {
                unsigned long f = spin_lock_irqsave(&guest_console_lock);
                domu_write(d, chunk, n);
                spin_unlock_irqrestore(&guest_console_lock, f);
            }
            count -= n;
            buf += n;
        }
        return 0;
    }
    case CONSOLEIO_read:
        if (!d->privileged)
            return -EPERM;
        return console_read_input(a3, a2);
    default:
        return -ENOSYS;
    }
}
