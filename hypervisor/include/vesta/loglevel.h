/* Console log levels, Xen's names: loglvl=none|error|warning|info|debug|all selects the most verbose level that
 * is printed. */
#ifndef VESTA_LOGLEVEL_H
#define VESTA_LOGLEVEL_H

enum log_level {
    LOG_NONE = 0,
    LOG_ERROR = 1,
    LOG_WARNING = 2,
    LOG_INFO = 3,
    LOG_DEBUG = 4,
    LOG_ALL = 5,
};

#endif
