/* memory_op. (In progress.) */
#include <vesta/errno.h>
#include <vesta/pv.h>


HC(do_memory_op) { return -ENOSYS; }
