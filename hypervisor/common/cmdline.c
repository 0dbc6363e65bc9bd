/* Command line parser and the value parsers for options with their own syntax. See vesta/cmdline.h. */
#include "vesta/cmdline.h"
#include "vesta/errno.h"
#include "vesta/string.h"

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return 99;
}

static int parse_u64_base(const char *s, const char **end, unsigned base, uint64_t *out)
{
    uint64_t v = 0;
    const char *p = s;

    while (digit_value(*p) < (int)base) {
        unsigned d = (unsigned)digit_value(*p);
        if (v > (UINT64_MAX - d) / base)
            return -ERANGE;
        v = v * base + d;
        p++;
    }
    if (p == s)
        return -EINVAL;
    *end = p;
    *out = v;
    return 0;
}

int cmdline_parse_u64(const char *s, const char **end, uint64_t *out)
{
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && digit_value(s[2]) < 16)
        return parse_u64_base(s + 2, end, 16, out);
    if (s[0] == '0' && digit_value(s[1]) < 8)
        return parse_u64_base(s + 1, end, 8, out);
    return parse_u64_base(s, end, 10, out);
}

int cmdline_parse_size(const char *s, const char **end, uint64_t *out)
{
    uint64_t v;
    const char *p;
    unsigned shift;
    int rc = cmdline_parse_u64(s, &p, &v);

    if (rc)
        return rc;
    switch (*p) {
    case 'T': case 't': shift = 40; p++; break;
    case 'G': case 'g': shift = 30; p++; break;
    case 'M': case 'm': shift = 20; p++; break;
    case 'K': case 'k': shift = 10; p++; break;
    case 'B': case 'b': shift = 0; p++; break;
    case '%': shift = 0; break;
    default: shift = 10; break; /* Xen's default unit */
    }
    if (v > (UINT64_MAX >> shift))
        return -ERANGE;
    *out = v << shift;
    *end = p;
    return 0;
}

int cmdline_parse_bool(const char *s)
{
    static const char *const yes[] = {"1", "yes", "on", "true"};
    static const char *const no[] = {"0", "no", "off", "false"};

    for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
        if (!strcmp(s, yes[i]))
            return 1;
        if (!strcmp(s, no[i]))
            return 0;
    }
    return -EINVAL;
}

static int store_uint(const struct cmdline_param *p, uint64_t v)
{
    if (v < p->min || v > p->max)
        return -ERANGE;
    switch (p->var_size) {
    case 1:
        if (v > UINT8_MAX)
            return -ERANGE;
        *(uint8_t *)p->var = (uint8_t)v;
        return 0;
    case 2:
        if (v > UINT16_MAX)
            return -ERANGE;
        *(uint16_t *)p->var = (uint16_t)v;
        return 0;
    case 4:
        if (v > UINT32_MAX)
            return -ERANGE;
        *(uint32_t *)p->var = (uint32_t)v;
        return 0;
    case 8:
        *(uint64_t *)p->var = v;
        return 0;
    default:
        return -EINVAL;
    }
}

static const struct cmdline_param *lookup(const struct cmdline_param *table, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (table[i].name && !strcmp(table[i].name, name))
            return &table[i];
    }
    return NULL;
}

/* Returns the problem to report, or -1 if the option was applied. */
static int apply(const struct cmdline_param *p, bool negate, const char *value)
{
    uint64_t v;
    const char *end;
    int b;

    switch (p->type) {
    case CMDLINE_BOOL:
        /* `name=` counts as a bare `name`, as in Xen. */
        b = (value && *value) ? cmdline_parse_bool(value) : 1;
        if (b < 0)
            return CMDLINE_BAD_VALUE;
        *(bool *)p->var = negate ? !b : b;
        return -1;

    case CMDLINE_UINT:
    case CMDLINE_SIZE:
        if (negate)
            return CMDLINE_BAD_VALUE;
        if (!value || !*value)
            return CMDLINE_MISSING_VALUE;
        if (p->type == CMDLINE_UINT ? cmdline_parse_u64(value, &end, &v) : cmdline_parse_size(value, &end, &v))
            return CMDLINE_BAD_VALUE;
        if (*end || store_uint(p, v))
            return CMDLINE_BAD_VALUE;
        return -1;

    case CMDLINE_STRING:
        if (negate)
            return CMDLINE_BAD_VALUE;
        if (!value)
            return CMDLINE_MISSING_VALUE;
        if (strlen(value) >= p->var_size)
            return CMDLINE_BAD_VALUE;
        memcpy(p->var, value, strlen(value) + 1);
        return -1;

    case CMDLINE_CUSTOM:
        if (negate) {
            if (value)
                return CMDLINE_BAD_VALUE;
            value = "no";
        }
        if (!p->fn || p->fn(value ? value : "", p->arg) != 0)
            return CMDLINE_BAD_VALUE;
        return -1;
    }
    return CMDLINE_BAD_VALUE;
}

int cmdline_parse(const char *line, const struct cmdline_param *table, size_t n, cmdline_report_fn report,
                  void *ctx)
{
    char opt[CMDLINE_MAX_OPT];
    int problems = 0;
    const char *p = line ? line : "";

    for (;;) {
        while (is_space(*p))
            p++;
        if (!*p)
            break;

        const char *start = p;
        while (*p && !is_space(*p))
            p++;
        size_t len = (size_t)(p - start);

        if (len >= sizeof(opt)) {
            /* Report just the (possibly cut) name; the value is unusable anyway. */
            size_t nlen = 0;
            while (nlen < sizeof(opt) - 1 && start[nlen] != '=')
                nlen++;
            memcpy(opt, start, nlen);
            opt[nlen] = '\0';
            if (report)
                report(ctx, CMDLINE_BAD_VALUE, opt, NULL);
            problems++;
            continue;
        }
        memcpy(opt, start, len);
        opt[len] = '\0';

        char *value = strchr(opt, '=');
        if (value)
            *value++ = '\0';

        bool negate = false;
        const struct cmdline_param *param = lookup(table, n, opt);
        if (!param && !strncmp(opt, "no-", 3)) {
            param = lookup(table, n, opt + 3);
            negate = true;
        }

        int problem;
        if (!param)
            problem = CMDLINE_UNKNOWN;
        else
            problem = apply(param, negate, value);
        if (problem >= 0) {
            if (report)
                report(ctx, (enum cmdline_problem)problem, opt, value);
            problems++;
        }
    }
    return problems;
}

/* One <amt> of dom0_mem; *ps ends on the ',' or NUL that must follow it. */
static int parse_dom0_amount(const char *s, const char **ps, struct dom0_mem_amount *out)
{
    struct dom0_mem_amount a = {.set = true};
    bool have_size = false, have_pct = false;

    if (*s == '-') {
        a.minus = true;
        s++;
    }
    for (;;) {
        uint64_t v;
        const char *e;

        if (*s < '0' || *s > '9')
            return -EINVAL;
        if (cmdline_parse_size(s, &e, &v))
            return -EINVAL;
        if (*e == '%') {
            if (v >= 100 || have_pct)
                return -EINVAL;
            a.percent = (unsigned)v;
            have_pct = true;
            e++;
        } else {
            /* The size must come before the percentage. */
            if (have_size || have_pct)
                return -EINVAL;
            a.bytes = v;
            have_size = true;
        }
        s = e;
        if (*s != '+' || have_pct)
            break;
        s++;
    }
    if (*s && *s != ',')
        return -EINVAL;
    *ps = s;
    *out = a;
    return 0;
}

int parse_dom0_mem(const char *value, void *arg)
{
    struct dom0_mem_opt tmp = *(struct dom0_mem_opt *)arg;
    const char *s = value;

    if (!*s)
        return -EINVAL;
    for (;;) {
        struct dom0_mem_amount *target = &tmp.amount;

        if (!strncmp(s, "min:", 4)) {
            target = &tmp.min;
            s += 4;
        } else if (!strncmp(s, "max:", 4)) {
            target = &tmp.max;
            s += 4;
        }
        if (parse_dom0_amount(s, &s, target))
            return -EINVAL;
        if (!*s)
            break;
        s++; /* ',' */
        if (!*s)
            return -EINVAL;
    }
    *(struct dom0_mem_opt *)arg = tmp;
    return 0;
}

static int parse_level(const char *s, const char **end, enum log_level *out)
{
    static const struct {
        const char *name;
        enum log_level lvl;
    } names[] = {
        {"none", LOG_NONE}, {"error", LOG_ERROR}, {"warning", LOG_WARNING},
        {"info", LOG_INFO}, {"debug", LOG_DEBUG}, {"all", LOG_ALL},
    };

    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        size_t len = strlen(names[i].name);
        if (!strncmp(s, names[i].name, len) && (s[len] == '/' || s[len] == '\0')) {
            *end = s + len;
            *out = names[i].lvl;
            return 0;
        }
    }
    return -EINVAL;
}

int parse_loglvl(const char *value, void *arg)
{
    struct log_levels *lv = arg;
    enum log_level lo, hi;
    const char *s;

    if (parse_level(value, &s, &lo))
        return -EINVAL;
    hi = lo;
    if (*s == '/') {
        if (parse_level(s + 1, &s, &hi) || *s)
            return -EINVAL;
    }
    lv->level = lo;
    lv->ratelimit = hi < lo ? lo : hi;
    return 0;
}

/* Parses a whole number that must fill [s, e) exactly. */
static int number_in(const char *s, const char *e, uint64_t *v)
{
    const char *end;

    if (s == e || cmdline_parse_u64(s, &end, v) || end != e)
        return -EINVAL;
    return 0;
}

static int com_baud(const char *s, const char *e, struct com_port_opt *c)
{
    const char *slash = s;
    uint64_t v;

    while (slash < e && *slash != '/')
        slash++;
    if (slash - s == 4 && !strncmp(s, "auto", 4)) {
        c->baud = COM_BAUD_AUTO;
    } else if (slash != s) {
        /* Decimal only: a leading 0 here is never meant as octal. */
        const char *end;
        if (parse_u64_base(s, &end, 10, &v) || end != slash || v < 50 || v > 921600)
            return -EINVAL;
        c->baud = (uint32_t)v;
    }
    if (slash < e) {
        /* The UART clock is 16 x base baud and must still fit in 32 bits. */
        if (number_in(slash + 1, e, &v) || v == 0 || v > (UINT32_MAX >> 4))
            return -EINVAL;
        c->base_baud = (uint32_t)v;
    }
    return 0;
}

static int com_dps(const char *s, const char *e, struct com_port_opt *c)
{
    if (e - s != 3 || s[0] < '5' || s[0] > '8' || !strchr("noems", s[1]) || s[1] == '\0' ||
        (s[2] != '1' && s[2] != '2'))
        return -EINVAL;
    c->data_bits = (uint8_t)(s[0] - '0');
    c->parity = s[1];
    c->stop_bits = (uint8_t)(s[2] - '0');
    return 0;
}

int parse_com_port(const char *value, void *arg)
{
    struct com_port_opt tmp = *(struct com_port_opt *)arg;
    const char *s = value;
    uint64_t v;

    if (!*s)
        return -EINVAL;
    for (unsigned field = 0;; field++) {
        const char *e = s;
        while (*e && *e != ',')
            e++;

        if (e != s) {
            switch (field) {
            case 0:
                if (com_baud(s, e, &tmp))
                    return -EINVAL;
                break;
            case 1:
                if (com_dps(s, e, &tmp))
                    return -EINVAL;
                break;
            case 2:
                if (number_in(s, e, &v) || v == 0 || v > UINT16_MAX)
                    return -EINVAL;
                tmp.io_base = (uint16_t)v;
                break;
            case 3:
                if (number_in(s, e, &v) || v > UINT16_MAX)
                    return -EINVAL;
                tmp.irq = (uint32_t)v;
                break;
            default:
                return -EINVAL;
            }
        } else if (field > 3) {
            return -EINVAL;
        }
        if (!*e)
            break;
        s = e + 1;
    }
    *(struct com_port_opt *)arg = tmp;
    return 0;
}
