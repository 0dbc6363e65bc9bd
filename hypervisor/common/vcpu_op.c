/* vcpu_op and guest time. (In progress.) */
#include <vesta/errno.h>
#include <vesta/pv.h>


HC(do_vcpu_op) { return -ENOSYS; }
