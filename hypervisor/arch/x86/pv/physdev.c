/* physdev_op, platform_op, nmi_op and debug registers. (In progress.) */
#include <vesta/errno.h>
#include <vesta/pv.h>


HC(do_physdev_op) { return -ENOSYS; }
HC(do_platform_op) { return -ENOSYS; }
HC(do_nmi_op) { return -ENOSYS; }
HC(do_set_debugreg) { return -ENOSYS; }
HC(do_get_debugreg) { return -ENOSYS; }
