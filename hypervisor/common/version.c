/* xen_version. (In progress.) */
#include <vesta/errno.h>
#include <vesta/pv.h>


HC(do_xen_version) { if (a1 == 0) return (4 << 16) | 17; return -ENOSYS; }
