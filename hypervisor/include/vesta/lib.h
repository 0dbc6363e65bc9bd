/* Formatting, logging and fatal-error helpers. */
#ifndef VESTA_LIB_H
#define VESTA_LIB_H

#include <stdarg.h>
#include <vesta/loglevel.h>
#include <vesta/string.h>
#include <vesta/types.h>


int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* printk-style: every line goes out with the "(VESTA) " prefix. */
void vlog(enum log_level lvl, const char *fmt, va_list ap);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define pr_err(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define pr_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define pr_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define printk(...) log_msg(LOG_INFO, __VA_ARGS__)

__noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define BUG_ON(c)                                                                                                  \
    do {                                                                                                           \
        if (unlikely(c))                                                                                           \
            panic("BUG at %s:%d: %s", __FILE__, __LINE__, #c);                                                    \
    } while (0)
#define BUILD_BUG_ON(c) _Static_assert(!(c), #c)
/* An invariant: what must hold here. Checked unless built with -DNDEBUG; a failure is a hypervisor bug. */
#ifdef NDEBUG
#define ASSERT(c) ((void)sizeof(!(c)))
#else
#define ASSERT(c) BUG_ON(!(c))
#endif

unsigned long simple_strtoul(const char *s, const char **end, unsigned base);

#endif
