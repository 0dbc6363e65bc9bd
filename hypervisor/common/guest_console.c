/* console_io: guests writing to (and dom0 reading from) the hypervisor console.
 *
 * Dom0's output goes to the serial line as it is, without the hypervisor's prefix, exactly as Xen prints it, so
 * a dom0 console looks the same on both. Like a release build of Xen (XSM's default policy), only the control
 * domain may use the hypervisor console at all: other domains get -EPERM, so none can flood the serial line;
 * their consoles are the PV console rings that xenconsoled serves. */
#include <public/xen.h>
#include <vesta/console.h>
#include <vesta/domain.h>
#include <vesta/errno.h>
#include <vesta/guest_access.h>
#include <vesta/lib.h>
#include <vesta/pv.h>

HC(do_console_io)
{
    struct domain *d = current_domain();
    if (!d->privileged)
        return -EPERM;
    switch (a1) {
    case CONSOLEIO_write: {
        unsigned long count = a2, buf = a3;
        char chunk[128];
        while (count) {
            size_t n = MIN(count, sizeof(chunk));
            if (copy_from_guest(chunk, buf, n))
                return -EFAULT;
            console_write_guest(chunk, n);
            count -= n;
            buf += n;
        }
        return 0;
    }
    case CONSOLEIO_read:
        return console_read_input(a3, a2);
    default:
        return -ENOSYS;
    }
}
