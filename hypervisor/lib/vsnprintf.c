/* A small vsnprintf: %d %i %u %x %X %p %s %c %%, with flags '-', '0', '#', width, precision (strings), and the
 * length modifiers l, ll, z, h, hh. Always NUL-terminates; returns the length the full output would have. */
#include <vesta/lib.h>

struct out {
    char *buf;
    size_t size, len;
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void put_num(struct out *o, unsigned long long v, unsigned base, bool upper, bool neg, int width,
                    bool zero, bool left)
{
    char tmp[24];
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int n = 0;
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    int len = n + neg;
    if (neg && zero)
        put(o, '-');
    if (!left)
        for (; width > len; width--)
            put(o, zero ? '0' : ' ');
    if (neg && !zero)
        put(o, '-');
    while (n)
        put(o, tmp[--n]);
    if (left)
        for (; width > len; width--)
            put(o, ' ');
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = {buf, size, 0};
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        bool zero = false, left = false, alt = false;
        int width = 0, prec = -1, lng = 0;
        for (;; fmt++) {
            if (fmt[1] == '0')
                zero = true;
            else if (fmt[1] == '-')
                left = true;
            else if (fmt[1] == '#')
                alt = true;
            else
                break;
        }
        fmt++;
        if (*fmt == '*') {
            width = va_arg(ap, int);
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        if (*fmt == '.') {
            fmt++;
            prec = 0;
            if (*fmt == '*') {
                prec = va_arg(ap, int);
                fmt++;
            }
            while (*fmt >= '0' && *fmt <= '9')
                prec = prec * 10 + (*fmt++ - '0');
        }
        for (;; fmt++) {
            if (*fmt == 'l' || *fmt == 'z')
                lng++;
            else if (*fmt == 'h')
                lng = 0;
            else
                break;
        }
        unsigned long long u;
        long long s;
        switch (*fmt) {
        case 'd':
        case 'i':
            s = lng ? va_arg(ap, long long) : va_arg(ap, int);
            put_num(&o, s < 0 ? -(unsigned long long)s : (unsigned long long)s, 10, false, s < 0, width, zero,
                    left);
            break;
        case 'u':
        case 'x':
        case 'X':
            u = lng ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned int);
            if (alt && u && *fmt != 'u') {
                put(&o, '0');
                put(&o, *fmt == 'X' ? 'X' : 'x');
                width -= 2;
            }
            put_num(&o, u, *fmt == 'u' ? 10 : 16, *fmt == 'X', false, width, zero, left);
            break;
        case 'p':
            put_num(&o, (unsigned long)va_arg(ap, void *), 16, false, false, 16, true, false);
            break;
        case 'c':
            put(&o, (char)va_arg(ap, int));
            break;
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (!str)
                str = "(null)";
            int len = (int)strnlen(str, prec >= 0 ? (size_t)prec : (size_t)-1);
            if (!left)
                for (; width > len; width--)
                    put(&o, ' ');
            for (int i = 0; i < len; i++)
                put(&o, str[i]);
            for (; width > len; width--)
                put(&o, ' ');
            break;
        }
        case '%':
            put(&o, '%');
            break;
        case '\0':
            fmt--;
            break;
        default:
            put(&o, '%');
            put(&o, *fmt);
            break;
        }
    }
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

unsigned long simple_strtoul(const char *s, const char **end, unsigned base)
{
    unsigned long v = 0;
    if (!base) {
        base = 10;
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
            base = 16;
            s += 2;
        }
    }
    for (;; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = *s - '0';
        else if (*s >= 'a' && *s <= 'f')
            d = *s - 'a' + 10;
        else if (*s >= 'A' && *s <= 'F')
            d = *s - 'A' + 10;
        else
            break;
        if (d >= base)
            break;
        v = v * base + d;
    }
    if (end)
        *end = s;
    return v;
}
