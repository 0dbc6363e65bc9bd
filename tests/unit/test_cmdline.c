/* Command line parser and the dom0_mem / loglvl / comN value parsers. */
#include "testlib.h"
#include "vesta/cmdline.h"
#include "vesta/errno.h"

#include <stdio.h>

struct reports {
    int n;
    enum cmdline_problem last;
    char name[CMDLINE_MAX_OPT];
    char value[CMDLINE_MAX_OPT];
    bool value_null;
};

static void record(void *ctx, enum cmdline_problem p, const char *name, const char *value)
{
    struct reports *r = ctx;
    r->n++;
    r->last = p;
    snprintf(r->name, sizeof(r->name), "%s", name);
    r->value_null = value == NULL;
    snprintf(r->value, sizeof(r->value), "%s", value ? value : "");
}

struct opts {
    bool b1, b2, b3;
    uint8_t u8;
    uint32_t u32;
    uint64_t u64;
    uint64_t sz;
    uint32_t sz32;
    char str[8];
    int custom_calls;
    char custom_seen[32];
};

static int custom_cb(const char *value, void *arg)
{
    struct opts *o = arg;
    o->custom_calls++;
    snprintf(o->custom_seen, sizeof(o->custom_seen), "%s", value);
    return strcmp(value, "bad") ? 0 : -EINVAL;
}

static int parse(struct opts *o, struct reports *r, const char *line)
{
    const struct cmdline_param table[] = {
        CMDLINE_BOOL_PARAM("b1", &o->b1),
        CMDLINE_BOOL_PARAM("b2", &o->b2),
        CMDLINE_BOOL_PARAM("no-b3", &o->b3), /* a real name that starts with no- */
        CMDLINE_UINT_PARAM("u8", &o->u8, 0, 255),
        CMDLINE_UINT_PARAM("u32", &o->u32, 10, 1000),
        CMDLINE_UINT_PARAM("u64", &o->u64, 0, UINT64_MAX),
        CMDLINE_SIZE_PARAM("sz", &o->sz),
        CMDLINE_SIZE_PARAM("sz32", &o->sz32),
        CMDLINE_STRING_PARAM("str", o->str),
        CMDLINE_CUSTOM_PARAM("cust", custom_cb, o),
    };
    memset(r, 0, sizeof(*r));
    return cmdline_parse(line, table, ARRAY_SIZE(table), record, r);
}

TEST(cmdline_bools)
{
    struct opts o = {0};
    struct reports r;

    CHECK_EQ(parse(&o, &r, "b1 b2=yes"), 0);
    CHECK(o.b1 && o.b2);
    CHECK_EQ(parse(&o, &r, "  b1=off\tno-b2  "), 0);
    CHECK(!o.b1 && !o.b2);
    const char *yes[] = {"1", "on", "yes", "true"}, *no[] = {"0", "off", "no", "false"};
    for (int i = 0; i < 4; i++) {
        char line[32];
        snprintf(line, sizeof(line), "b1=%s", yes[i]);
        CHECK_EQ(parse(&o, &r, line), 0);
        CHECK(o.b1);
        snprintf(line, sizeof(line), "b1=%s", no[i]);
        CHECK_EQ(parse(&o, &r, line), 0);
        CHECK(!o.b1);
    }
    CHECK_EQ(parse(&o, &r, "no-b1=0"), 0); /* double negation, as in Xen */
    CHECK(o.b1);
    CHECK_EQ(parse(&o, &r, "b1="), 0);
    CHECK(o.b1);
    CHECK_EQ(parse(&o, &r, "b1=maybe"), 1);
    CHECK_EQ(r.last, CMDLINE_BAD_VALUE);
    CHECK_STR(r.name, "b1");
    CHECK_STR(r.value, "maybe");
    CHECK(o.b1); /* unchanged */
    CHECK_EQ(parse(&o, &r, "no-b3"), 0); /* exact name wins over the no- prefix */
    CHECK(o.b3);
    CHECK_EQ(parse(&o, &r, "no-no-b3"), 0);
    CHECK(!o.b3);
}

TEST(cmdline_uints)
{
    struct opts o = {.u32 = 77};
    struct reports r;

    CHECK_EQ(parse(&o, &r, "u8=255 u32=0x3e8 u64=18446744073709551615"), 0);
    CHECK_EQ(o.u8, 255);
    CHECK_EQ(o.u32, 1000);
    CHECK_EQ(o.u64, UINT64_MAX);
    CHECK_EQ(parse(&o, &r, "u32=012"), 0); /* octal, as strtoul base 0 */
    CHECK_EQ(o.u32, 10);

    CHECK_EQ(parse(&o, &r, "u8=256 u32=9 u32=1001 u64=18446744073709551616 u32=12x u32=-5"), 6);
    CHECK_EQ(o.u8, 255);
    CHECK_EQ(o.u32, 10);
    CHECK_EQ(o.u64, UINT64_MAX);
    CHECK_EQ(r.last, CMDLINE_BAD_VALUE);
    CHECK_STR(r.name, "u32");
    CHECK_STR(r.value, "-5");

    CHECK_EQ(parse(&o, &r, "u32"), 1);
    CHECK_EQ(r.last, CMDLINE_MISSING_VALUE);
    CHECK(r.value_null);
    CHECK_EQ(parse(&o, &r, "u32="), 1);
    CHECK_EQ(r.last, CMDLINE_MISSING_VALUE);
    CHECK_EQ(parse(&o, &r, "no-u32"), 1);
    CHECK_EQ(r.last, CMDLINE_BAD_VALUE);
    CHECK_EQ(o.u32, 10);
}

TEST(cmdline_sizes)
{
    struct opts o = {0};
    struct reports r;

    CHECK_EQ(parse(&o, &r, "sz=4"), 0);
    CHECK_EQ(o.sz, 4096); /* no suffix means KiB, as in Xen */
    CHECK_EQ(parse(&o, &r, "sz=512B"), 0);
    CHECK_EQ(o.sz, 512);
    CHECK_EQ(parse(&o, &r, "sz=3k"), 0);
    CHECK_EQ(o.sz, 3072);
    CHECK_EQ(parse(&o, &r, "sz=2M"), 0);
    CHECK_EQ(o.sz, 2ULL << 20);
    CHECK_EQ(parse(&o, &r, "sz=0x10G"), 0);
    CHECK_EQ(o.sz, 16ULL << 30);
    CHECK_EQ(parse(&o, &r, "sz=16383T"), 0);
    CHECK_EQ(o.sz, 16383ULL << 40);
    CHECK_EQ(parse(&o, &r, "sz=16777216T sz=1Q sz=1MB sz=M"), 4);
    CHECK_EQ(o.sz, 16383ULL << 40);
    CHECK_EQ(parse(&o, &r, "sz32=3G"), 0);
    CHECK_EQ(o.sz32, 3ULL << 30);
    CHECK_EQ(parse(&o, &r, "sz32=4G"), 1); /* does not fit the variable */
    CHECK_EQ(o.sz32, 3ULL << 30);
}

TEST(cmdline_strings)
{
    struct opts o = {.str = "init"};
    struct reports r;

    CHECK_EQ(parse(&o, &r, "str=1234567"), 0);
    CHECK_STR(o.str, "1234567");
    CHECK_EQ(parse(&o, &r, "str=12345678"), 1); /* needs 9 bytes, buffer has 8 */
    CHECK_EQ(r.last, CMDLINE_BAD_VALUE);
    CHECK_STR(o.str, "1234567");
    CHECK_EQ(parse(&o, &r, "str="), 0);
    CHECK_STR(o.str, "");
    CHECK_EQ(parse(&o, &r, "str"), 1);
    CHECK_EQ(r.last, CMDLINE_MISSING_VALUE);
    CHECK_EQ(parse(&o, &r, "str=a=b"), 0); /* only the first '=' separates */
    CHECK_STR(o.str, "a=b");
}

TEST(cmdline_custom_and_unknown)
{
    struct opts o = {0};
    struct reports r;

    CHECK_EQ(parse(&o, &r, "cust=abc"), 0);
    CHECK_STR(o.custom_seen, "abc");
    CHECK_EQ(parse(&o, &r, "cust"), 0);
    CHECK_STR(o.custom_seen, "");
    CHECK_EQ(parse(&o, &r, "no-cust"), 0);
    CHECK_STR(o.custom_seen, "no");
    CHECK_EQ(o.custom_calls, 3);
    CHECK_EQ(parse(&o, &r, "no-cust=1"), 1);
    CHECK_EQ(o.custom_calls, 3);
    CHECK_EQ(parse(&o, &r, "cust=bad"), 1);
    CHECK_EQ(r.last, CMDLINE_BAD_VALUE);

    CHECK_EQ(parse(&o, &r, "b1 bogus=1 b2 no-bogus2"), 2);
    CHECK_EQ(r.last, CMDLINE_UNKNOWN);
    CHECK_STR(r.name, "no-bogus2");
    CHECK(o.b1 && o.b2); /* parsing went on past the unknown option */

    CHECK_EQ(parse(&o, &r, ""), 0);
    CHECK_EQ(parse(&o, &r, "   "), 0);
    CHECK_EQ(cmdline_parse(NULL, NULL, 0, NULL, NULL), 0);
    CHECK_EQ(cmdline_parse("a b c", NULL, 0, NULL, NULL), 3); /* NULL report is fine */
}

TEST(cmdline_long_option)
{
    struct opts o = {0};
    struct reports r;
    char line[1200];
    size_t n = 0;

    n += (size_t)snprintf(line + n, sizeof(line) - n, "b1 str=");
    memset(line + n, 'x', 600);
    n += 600;
    snprintf(line + n, sizeof(line) - n, " b2");
    CHECK_EQ(parse(&o, &r, line), 1);
    CHECK_EQ(r.last, CMDLINE_BAD_VALUE);
    CHECK_STR(r.name, "str");
    CHECK(o.b1 && o.b2);

    /* A long name is cut in the report but still parsed safely. */
    memset(line, 'y', 1000);
    line[1000] = '\0';
    CHECK_EQ(parse(&o, &r, line), 1);
    CHECK_EQ(strlen(r.name), CMDLINE_MAX_OPT - 1);

    /* Exactly the maximum that fits. */
    memset(line, 'z', CMDLINE_MAX_OPT - 1);
    line[CMDLINE_MAX_OPT - 1] = '\0';
    CHECK_EQ(parse(&o, &r, line), 1);
    CHECK_EQ(r.last, CMDLINE_UNKNOWN);
}

TEST(cmdline_number_helpers)
{
    uint64_t v;
    const char *end;

    CHECK_EQ(cmdline_parse_u64("0", &end, &v), 0);
    CHECK_EQ(v, 0);
    CHECK_EQ(*end, '\0');
    CHECK_EQ(cmdline_parse_u64("0x", &end, &v), 0); /* "0" followed by junk 'x' */
    CHECK_EQ(*end, 'x');
    CHECK_EQ(cmdline_parse_u64("0xffffffffffffffff", &end, &v), 0);
    CHECK_EQ(v, UINT64_MAX);
    CHECK_EQ(cmdline_parse_u64("0x10000000000000000", &end, &v), -ERANGE);
    CHECK_EQ(cmdline_parse_u64("abc", &end, &v), -EINVAL);
    CHECK_EQ(cmdline_parse_size("10%", &end, &v), 0);
    CHECK_EQ(v, 10);
    CHECK_EQ(*end, '%');
    CHECK_EQ(cmdline_parse_bool("TRUE"), -EINVAL);
    CHECK_EQ(cmdline_parse_bool(""), -EINVAL);
}

TEST(cmdline_dom0_mem)
{
    struct dom0_mem_opt d = {0};

    CHECK_EQ(parse_dom0_mem("512M", &d), 0);
    CHECK(d.amount.set && !d.amount.minus);
    CHECK_EQ(d.amount.bytes, 512ULL << 20);
    CHECK(!d.min.set && !d.max.set);

    memset(&d, 0, sizeof(d));
    CHECK_EQ(parse_dom0_mem("min:1G,max:4G,2G", &d), 0);
    CHECK_EQ(d.min.bytes, 1ULL << 30);
    CHECK_EQ(d.max.bytes, 4ULL << 30);
    CHECK_EQ(d.amount.bytes, 2ULL << 30);

    memset(&d, 0, sizeof(d));
    CHECK_EQ(parse_dom0_mem("max:1G+10%,-256M,min:5%", &d), 0);
    CHECK_EQ(d.max.bytes, 1ULL << 30);
    CHECK_EQ(d.max.percent, 10);
    CHECK(d.amount.minus);
    CHECK_EQ(d.amount.bytes, 256ULL << 20);
    CHECK_EQ(d.min.percent, 5);
    CHECK_EQ(d.min.bytes, 0);

    CHECK_EQ(parse_dom0_mem("1024", &d), 0); /* KiB by default */
    CHECK_EQ(d.amount.bytes, 1ULL << 20);

    struct dom0_mem_opt before = d;
    const char *bad[] = {"", "min:", "max:1G,", "100%", "10%+1G", "1G+2G", "1G+10%+5%", "x", "1G,,2G",
                         "mid:1G", "1G;", "max:1G,junk", "-", "1G+"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        CHECK_EQ(parse_dom0_mem(bad[i], &d), -EINVAL);
        CHECK(!memcmp(&d, &before, sizeof(d)));
    }

    /* Through the table parser. */
    struct dom0_mem_opt d2 = {0};
    const struct cmdline_param t[] = {CMDLINE_CUSTOM_PARAM("dom0_mem", parse_dom0_mem, &d2)};
    CHECK_EQ(cmdline_parse("dom0_mem=min:128M,1G", t, 1, NULL, NULL), 0);
    CHECK_EQ(d2.min.bytes, 128ULL << 20);
    CHECK_EQ(d2.amount.bytes, 1ULL << 30);
    CHECK_EQ(cmdline_parse("dom0_mem", t, 1, NULL, NULL), 1);
}

TEST(cmdline_loglvl)
{
    struct log_levels lv = {LOG_INFO, LOG_INFO};

    CHECK_EQ(parse_loglvl("all", &lv), 0);
    CHECK_EQ(lv.level, LOG_ALL);
    CHECK_EQ(lv.ratelimit, LOG_ALL);
    CHECK_EQ(parse_loglvl("error/debug", &lv), 0);
    CHECK_EQ(lv.level, LOG_ERROR);
    CHECK_EQ(lv.ratelimit, LOG_DEBUG);
    CHECK_EQ(parse_loglvl("warning/none", &lv), 0); /* rate-limited level never below the main one */
    CHECK_EQ(lv.level, LOG_WARNING);
    CHECK_EQ(lv.ratelimit, LOG_WARNING);
    CHECK_EQ(parse_loglvl("none", &lv), 0);
    CHECK_EQ(lv.level, LOG_NONE);

    lv.level = LOG_INFO;
    lv.ratelimit = LOG_DEBUG;
    const char *bad[] = {"", "infos", "inf", "info/", "info/bogus", "/info", "debug/info/all", "INFO"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        CHECK_EQ(parse_loglvl(bad[i], &lv), -EINVAL);
        CHECK_EQ(lv.level, LOG_INFO);
        CHECK_EQ(lv.ratelimit, LOG_DEBUG);
    }
}

TEST(cmdline_com_port)
{
    const struct com_port_opt defaults = {.baud = 115200, .data_bits = 8, .parity = 'n', .stop_bits = 1,
                                          .io_base = 0x3f8, .irq = 4};
    struct com_port_opt c = defaults;

    CHECK_EQ(parse_com_port("9600", &c), 0);
    CHECK_EQ(c.baud, 9600);
    CHECK_EQ(c.io_base, 0x3f8); /* untouched positions keep their defaults */

    c = defaults;
    CHECK_EQ(parse_com_port("auto/115200,7e2,0x2f8,3", &c), 0);
    CHECK_EQ(c.baud, COM_BAUD_AUTO);
    CHECK_EQ(c.base_baud, 115200);
    CHECK_EQ(c.data_bits, 7);
    CHECK_EQ(c.parity, 'e');
    CHECK_EQ(c.stop_bits, 2);
    CHECK_EQ(c.io_base, 0x2f8);
    CHECK_EQ(c.irq, 3);

    c = defaults;
    CHECK_EQ(parse_com_port("57600,,0x3e8,0", &c), 0);
    CHECK_EQ(c.data_bits, 8);
    CHECK_EQ(c.io_base, 0x3e8);
    CHECK_EQ(c.irq, 0);

    c = defaults;
    CHECK_EQ(parse_com_port(",8o1", &c), 0);
    CHECK_EQ(c.baud, 115200);
    CHECK_EQ(c.parity, 'o');

    CHECK_EQ(parse_com_port("50", &c), 0);
    CHECK_EQ(parse_com_port("921600,5m1,0xffff,65535", &c), 0);
    CHECK_EQ(c.parity, 'm');

    c = defaults;
    const char *bad[] = {"", "49", "921601", "fast", "115200,9n1", "115200,4n1", "115200,8x1", "115200,8n3",
                         "115200,8n", "115200,8n1,0", "115200,8n1,0x10000", "115200,8n1,pci", "115200,8n1,,msi",
                         "115200,8n1,0x3f8,4,00:1f.3", "115200/", "115200/0", "auto5", "115200,8N1"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        CHECK_EQ(parse_com_port(bad[i], &c), -EINVAL);
        CHECK(!memcmp(&c, &defaults, sizeof(c)));
    }
}
