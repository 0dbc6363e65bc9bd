/* Hypervisor command line parsing, with Xen's spellings so existing boot entries keep working.
 *
 * Options are separated by spaces; each is `name=value` or a bare `name`. Booleans also accept `no-name` and the
 * values yes/on/true/1 and no/off/false/0 (`no-name=0` is therefore true, as in Xen). Numbers may be decimal,
 * 0x-hex or 0-octal. Sizes follow Xen's parse_size_and_unit: an optional suffix B, K, M, G or T (either case)
 * and, without a suffix, KILOBYTES. An option whose value is malformed leaves its variable untouched; parsing
 * then goes on with the next option. */
#ifndef VESTA_CMDLINE_H
#define VESTA_CMDLINE_H

#include "vesta/loglevel.h"
#include "vesta/types.h"

#define CMDLINE_MAX_OPT 256 /* longer options are reported and skipped */

enum cmdline_type {
    CMDLINE_BOOL, /* var: bool * */
    CMDLINE_UINT, /* var: unsigned integer of var_size 1, 2, 4 or 8 bytes; value must be in [min, max] */
    CMDLINE_SIZE, /* var: as UINT; value in bytes */
    CMDLINE_STRING, /* var: char buffer of var_size bytes; a value that does not fit is refused */
    CMDLINE_CUSTOM, /* fn(value, arg): bare `name` passes "", `no-name` passes "no" (Xen's convention) */
};

enum cmdline_problem {
    CMDLINE_UNKNOWN,
    CMDLINE_BAD_VALUE,
    CMDLINE_MISSING_VALUE,
};

struct cmdline_param {
    const char *name;
    enum cmdline_type type;
    void *var;
    size_t var_size;
    uint64_t min, max;
    int (*fn)(const char *value, void *arg);
    void *arg;
};

#define CMDLINE_BOOL_PARAM(n, p) {.name = (n), .type = CMDLINE_BOOL, .var = (p), .var_size = sizeof(*(p))}
#define CMDLINE_UINT_PARAM(n, p, lo, hi) \
    {.name = (n), .type = CMDLINE_UINT, .var = (p), .var_size = sizeof(*(p)), .min = (lo), .max = (hi)}
#define CMDLINE_SIZE_PARAM(n, p) \
    {.name = (n), .type = CMDLINE_SIZE, .var = (p), .var_size = sizeof(*(p)), .min = 0, .max = UINT64_MAX}
#define CMDLINE_STRING_PARAM(n, buf) {.name = (n), .type = CMDLINE_STRING, .var = (buf), .var_size = sizeof(buf)}
#define CMDLINE_CUSTOM_PARAM(n, f, a) {.name = (n), .type = CMDLINE_CUSTOM, .fn = (f), .arg = (a)}

/* name and value are NUL-terminated and valid only during the call; value is NULL for a bare option and for an
 * option too long to parse (whose name may then be cut short). */
typedef void (*cmdline_report_fn)(void *ctx, enum cmdline_problem p, const char *name, const char *value);

/* Returns the number of problems reported. report may be NULL. A NULL line counts as empty. */
int cmdline_parse(const char *line, const struct cmdline_param *table, size_t n, cmdline_report_fn report,
                  void *ctx);

/* 1 for yes/on/true/1, 0 for no/off/false/0, -EINVAL otherwise. */
int cmdline_parse_bool(const char *s);
/* Number with Xen's base rules; *end is set to the first unparsed character. -EINVAL if there are no digits,
 * -ERANGE on overflow. */
int cmdline_parse_u64(const char *s, const char **end, uint64_t *out);
/* Size with Xen's suffix rules (no suffix = KiB); '%' is left unconsumed in *end for callers that take percents.
 * -EINVAL / -ERANGE as above. */
int cmdline_parse_size(const char *s, const char **end, uint64_t *out);

/* dom0_mem=[min:<amt>,][max:<amt>,][<amt>] where <amt> is <size> | <frac>% | <size>+<frac>%, optionally preceded
 * by '-' meaning "all host memory minus this". Use with CMDLINE_CUSTOM_PARAM and arg = struct dom0_mem_opt *. */
struct dom0_mem_amount {
    bool set;
    bool minus;
    uint64_t bytes;
    unsigned percent; /* 0..99 of host memory */
};
struct dom0_mem_opt {
    struct dom0_mem_amount min, max, amount;
};
int parse_dom0_mem(const char *value, void *arg);

/* loglvl=<lvl>[/<rate-limited lvl>]: messages at or below `level` are always printed, those at or below
 * `ratelimit` are printed subject to rate limiting (never below `level`). arg = struct log_levels *. */
struct log_levels {
    enum log_level level, ratelimit;
};
int parse_loglvl(const char *value, void *arg);

/* com1=<baud>[/<base-baud>][,[DPS][,[<io-base>][,[<irq>]]]] with <baud> a number or `auto`, DPS like 8n1.
 * Empty positions keep the value already in the struct, so callers pre-fill defaults. arg = struct com_port_opt *.
 * PCI-related forms (pci, amt, msi, bdf positions) are not supported and are refused. */
#define COM_BAUD_AUTO 0u
struct com_port_opt {
    uint32_t baud; /* COM_BAUD_AUTO: keep what firmware programmed */
    uint32_t base_baud; /* 0: not specified */
    uint8_t data_bits;
    char parity; /* 'n', 'o', 'e', 'm' or 's' */
    uint8_t stop_bits;
    uint16_t io_base;
    uint32_t irq; /* 0: poll */
};
int parse_com_port(const char *value, void *arg);

#endif
