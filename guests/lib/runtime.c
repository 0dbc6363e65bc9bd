/*
 * Vesta guest test runtime: boot, console, printf, traps, events, checks.
 */
#include "guest.h"

start_info_t *start_info;
struct shared_info *shared;

/* A page of our image whose mapping is replaced by the shared_info frame. */
static uint8_t shared_info_window[PAGE_SIZE]
    __attribute__((aligned(PAGE_SIZE), section(".bss.page_aligned")));

volatile struct trap_record last_trap;
volatile unsigned int trap_count;
volatile unsigned int upcall_count;
void (*event_hook)(evtchn_port_t port);

static unsigned int checks_passed, checks_failed;
static uint64_t resumable_vectors = 1UL << 3;   /* #BP resumes by default */
static bool resumable_0x80 = true;

extern const uint64_t ex_table_start[], ex_table_end[];

/* ------------------------------------------------------------------ */
/* Small libc                                                          */
/* ------------------------------------------------------------------ */

void *memset(void *d, int c, size_t n)
{
    uint8_t *p = d;
    while ( n-- )
        *p++ = (uint8_t)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    uint8_t *dp = d;
    const uint8_t *sp = s;
    while ( n-- )
        *dp++ = *sp++;
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for ( ; n; n--, x++, y++ )
        if ( *x != *y )
            return *x < *y ? -1 : 1;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while ( s[n] )
        n++;
    return n;
}

size_t strnlen(const char *s, size_t max)
{
    size_t n = 0;
    while ( n < max && s[n] )
        n++;
    return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for ( ; n; n--, a++, b++ )
    {
        if ( *a != *b )
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        if ( !*a )
            return 0;
    }
    return 0;
}

int strcmp(const char *a, const char *b)
{
    return strncmp(a, b, (size_t)-1);
}

char *strstr(const char *h, const char *n)
{
    size_t ln = strlen(n);
    for ( ; *h; h++ )
        if ( !strncmp(h, n, ln) )
            return (char *)h;
    return ln ? NULL : (char *)h;
}

/* ------------------------------------------------------------------ */
/* Formatting                                                          */
/* ------------------------------------------------------------------ */

struct outbuf {
    char *buf;
    size_t size, len;
};

static void out_ch(struct outbuf *o, char c)
{
    if ( o->len + 1 < o->size )
        o->buf[o->len] = c;
    o->len++;
}

static void out_num(struct outbuf *o, unsigned long long v, unsigned int base,
                    bool neg, int width, bool zero, bool upper, bool alt)
{
    char tmp[24];
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int n = 0, pad;

    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while ( v );

    pad = width - n - (neg ? 1 : 0) - (alt ? 2 : 0);
    if ( !zero )
        for ( ; pad > 0; pad-- )
            out_ch(o, ' ');
    if ( neg )
        out_ch(o, '-');
    if ( alt )
    {
        out_ch(o, '0');
        out_ch(o, 'x');
    }
    if ( zero )
        for ( ; pad > 0; pad-- )
            out_ch(o, '0');
    while ( n )
        out_ch(o, tmp[--n]);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct outbuf o = { buf, size, 0 };

    for ( ; *fmt; fmt++ )
    {
        bool zero = false, alt = false, left = false;
        int width = 0, lng = 0, prec = -1;
        unsigned long long u;
        long long s;

        if ( *fmt != '%' )
        {
            out_ch(&o, *fmt);
            continue;
        }
        fmt++;
        for ( ;; fmt++ )
        {
            if ( *fmt == '0' )
                zero = true;
            else if ( *fmt == '#' )
                alt = true;
            else if ( *fmt == '-' )
                left = true;
            else
                break;
        }
        while ( *fmt >= '0' && *fmt <= '9' )
            width = width * 10 + (*fmt++ - '0');
        if ( *fmt == '.' )
        {
            prec = 0;
            fmt++;
            while ( *fmt >= '0' && *fmt <= '9' )
                prec = prec * 10 + (*fmt++ - '0');
        }
        while ( *fmt == 'l' || *fmt == 'z' )
        {
            lng++;
            fmt++;
        }

        switch ( *fmt )
        {
        case 'd':
        case 'i':
            s = lng ? va_arg(ap, long long) : va_arg(ap, int);
            u = s < 0 ? -(unsigned long long)s : (unsigned long long)s;
            out_num(&o, u, 10, s < 0, width, zero, false, false);
            break;
        case 'u':
        case 'x':
        case 'X':
            u = lng ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned int);
            out_num(&o, u, *fmt == 'u' ? 10 : 16, false, width, zero,
                    *fmt == 'X', alt);
            break;
        case 'p':
            u = (uintptr_t)va_arg(ap, void *);
            out_num(&o, u, 16, false, width, zero, false, true);
            break;
        case 'c':
            out_ch(&o, (char)va_arg(ap, int));
            break;
        case 's':
        {
            const char *str = va_arg(ap, const char *);
            int n;

            if ( !str )
                str = "(null)";
            n = (int)(prec >= 0 ? strnlen(str, (size_t)prec) : strlen(str));
            if ( !left )
                for ( ; width > n; width-- )
                    out_ch(&o, ' ');
            for ( int i = 0; i < n; i++ )
                out_ch(&o, str[i]);
            for ( ; width > n; width-- )
                out_ch(&o, ' ');
            break;
        }
        case '%':
            out_ch(&o, '%');
            break;
        default:
            out_ch(&o, '%');
            out_ch(&o, *fmt);
            if ( !*fmt )
                fmt--;
            break;
        }
    }
    if ( size )
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

/*
 * A domU's console is the ring page the domain builder handed over in
 * start_info (console.domU), read by dom0's xenconsoled; console_io writes
 * from an unprivileged domain are refused by a release Xen.  Layout of the
 * page: 1 KiB input ring, 2 KiB output ring, then the input consumer and
 * producer and the output consumer and producer indices (free-running
 * 32-bit counters, masked by the ring size).
 */
struct console_ring {
    char in[1024];
    char out[2048];
    uint32_t in_cons, in_prod;
    uint32_t out_cons, out_prod;
};

/* Set once the ring stayed full for CONSOLE_STALL_NS: nobody reads it any more (the domain closed its own
 * console port, say, as the fuzzer may), and output is dropped rather than waited for. */
#define CONSOLE_STALL_NS 2000000000ULL
static bool console_stalled;

static void ring_console_write(const char *s, size_t len)
{
    struct console_ring *ring = mfn_to_va(start_info->console.domU.mfn);
    struct evtchn_send send = { .port = start_info->console.domU.evtchn };
    uint64_t full_since = 0;

    while ( len && !console_stalled )
    {
        uint32_t cons = __atomic_load_n(&ring->out_cons, __ATOMIC_ACQUIRE);
        uint32_t prod = ring->out_prod;

        if ( prod - cons >= sizeof(ring->out) )
        {
            /* Full: let xenconsoled drain it (the clock needs shared_info, mapped early in boot). */
            if ( shared && !full_since )
                full_since = system_time_ns();
            else if ( shared && system_time_ns() - full_since > CONSOLE_STALL_NS )
                console_stalled = true;
            hyp_event_channel_op(EVTCHNOP_send, &send);
            hyp_sched_op(SCHEDOP_yield, NULL);
            continue;
        }
        full_since = 0;
        ring->out[prod % sizeof(ring->out)] = *s++;
        len--;
        __atomic_store_n(&ring->out_prod, prod + 1, __ATOMIC_RELEASE);
    }
    hyp_event_channel_op(EVTCHNOP_send, &send);
}

/* Waits (at most timeout_ns) until dom0's xenconsoled has read everything
 * written to the ring: a domain about to die leaves its last lines there. */
void console_drain(uint64_t timeout_ns)
{
    struct console_ring *ring;
    uint64_t end = system_time_ns() + timeout_ns;

    if ( !start_info || (start_info->flags & SIF_INITDOMAIN) ||
         !start_info->console.domU.mfn )
        return;
    ring = mfn_to_va(start_info->console.domU.mfn);
    while ( __atomic_load_n(&ring->out_cons, __ATOMIC_ACQUIRE) !=
            ring->out_prod && system_time_ns() < end )
        hyp_sched_op(SCHEDOP_yield, NULL);
}

void putstr(const char *s)
{
    if ( start_info && !(start_info->flags & SIF_INITDOMAIN) &&
         start_info->console.domU.mfn )
        ring_console_write(s, strlen(s));
    else
        hyp_console_write(s, (unsigned int)strlen(s));
}

int printf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    putstr(buf);
    return n;
}

/* Hypercall with the number chosen at run time (computed call target). */
long hypercall_dyn(unsigned int nr, long a1, long a2, long a3, long a4,
                   long a5)
{
    register long r1 asm("rdi") = a1;
    register long r2 asm("rsi") = a2;
    register long r3 asm("rdx") = a3;
    register long r4 asm("r10") = a4;
    register long r5 asm("r8") = a5;
    long res;
    void *target = hypercall_page + (nr & 127) * 32;

    asm volatile ("call *%[t]"
                  : "=a" (res), "+r" (r1), "+r" (r2), "+r" (r3), "+r" (r4),
                    "+r" (r5)
                  : [t] "r" (target)
                  : "rcx", "r11", "r9", "memory");
    return res;
}

/* ------------------------------------------------------------------ */
/* Test framework                                                      */
/* ------------------------------------------------------------------ */

bool check(bool ok, const char *name, const char *fmt, ...)
{
    if ( ok )
    {
        checks_passed++;
        printf("  PASS %s\n", name);
    }
    else
    {
        char buf[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        checks_failed++;
        printf("  FAIL %s: %s\n", name, buf);
    }
    return ok;
}

void test_summary(void)
{
    bool pass = checks_failed == 0 && checks_passed > 0;

    printf("VESTA-GUEST-TEST %s: %u passed, %u failed\n", guest_test_name,
           checks_passed, checks_failed);
    printf("RESULT: %s\n", pass ? "PASS" : "FAIL");
}

void test_finish(void)
{
    struct sched_shutdown sd = { .reason = SHUTDOWN_poweroff };

    test_summary();
    for ( ;; )
        hyp_sched_op(SCHEDOP_shutdown, &sd);
}

void test_abort(const char *why)
{
    checks_failed++;
    printf("  ABORT: %s\n", why);
    test_finish();
}

/* ------------------------------------------------------------------ */
/* Traps and events                                                    */
/* ------------------------------------------------------------------ */

void trap_set_resumable(unsigned int vector, bool on)
{
    if ( vector == 0x80 )
        resumable_0x80 = on;
    else if ( on )
        resumable_vectors |= 1UL << vector;
    else
        resumable_vectors &= ~(1UL << vector);
}

static void do_event_upcall(void)
{
    struct vcpu_info *vi = vcpu0();

    upcall_count++;
    while ( vi->evtchn_upcall_pending )
    {
        uint64_t sel;

        vi->evtchn_upcall_pending = 0;
        sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0,
                                  __ATOMIC_SEQ_CST);
        while ( sel )
        {
            unsigned int w = (unsigned int)__builtin_ctzll(sel);
            uint64_t bits;

            sel &= sel - 1;
            bits = shared->evtchn_pending[w] & ~shared->evtchn_mask[w];
            while ( bits )
            {
                unsigned int b = (unsigned int)__builtin_ctzll(bits);
                evtchn_port_t port = w * 64 + b;

                bits &= bits - 1;
                __atomic_fetch_and(&shared->evtchn_pending[w], ~(1UL << b),
                                   __ATOMIC_SEQ_CST);
                if ( event_hook )
                    event_hook(port);
            }
        }
    }
}

void guest_trap(struct guest_regs *r);
void guest_trap(struct guest_regs *r)
{
    const uint64_t *e;

    if ( r->vector == EVENT_VECTOR )
    {
        do_event_upcall();
        return;
    }
    if ( r->vector == FAILSAFE_VECTOR )
    {
        printf("  failsafe callback at rip %#lx\n", r->rip);
        test_abort("failsafe callback");
    }

    last_trap.vector = r->vector;
    last_trap.error_code = r->error_code;
    last_trap.rip = r->rip;
    last_trap.cs = r->cs;
    last_trap.rflags = r->rflags;
    last_trap.rsp = r->rsp;
    last_trap.upcall_mask = vcpu0()->evtchn_upcall_mask;
    last_trap.cr2 = r->vector == TRAP_page_fault ? vcpu0()->arch.cr2 : 0;
    trap_count++;

    for ( e = ex_table_start; e < ex_table_end; e += 2 )
        if ( e[0] == r->rip )
        {
            r->rip = e[1];
            return;
        }

    if ( (r->vector < 64 && (resumable_vectors & (1UL << r->vector))) ||
         (r->vector == 0x80 && resumable_0x80) )
        return;

    printf("  unexpected trap: vector %lu error %#lx rip %#lx cr2 %#lx\n",
           r->vector, r->error_code, r->rip, last_trap.cr2);
    test_abort("unexpected trap");
}

#define DECLARE_TRAP(v) extern char trap_entry_##v[]
DECLARE_TRAP(0); DECLARE_TRAP(1); DECLARE_TRAP(2); DECLARE_TRAP(3);
DECLARE_TRAP(4); DECLARE_TRAP(5); DECLARE_TRAP(6); DECLARE_TRAP(7);
DECLARE_TRAP(8); DECLARE_TRAP(9); DECLARE_TRAP(10); DECLARE_TRAP(11);
DECLARE_TRAP(12); DECLARE_TRAP(13); DECLARE_TRAP(14); DECLARE_TRAP(16);
DECLARE_TRAP(17); DECLARE_TRAP(18); DECLARE_TRAP(19); DECLARE_TRAP(0x80);
extern char event_entry[], failsafe_entry[];

/* Flags: bits 1:0 are the DPL allowed to use INT n; #BP and #OF and our
 * INT 0x80 are reachable from any ring, like on native hardware. */
#define TRAP_ENTRY(v, dpl) { (v), (dpl), FLAT_KERNEL_CS, 0, \
                             (uint64_t)trap_entry_##v }
static const struct trap_info trap_table[] = {
    TRAP_ENTRY(0, 0),  TRAP_ENTRY(1, 0),  TRAP_ENTRY(2, 0),
    TRAP_ENTRY(3, 3),  TRAP_ENTRY(4, 3),  TRAP_ENTRY(5, 0),
    TRAP_ENTRY(6, 0),  TRAP_ENTRY(7, 0),  TRAP_ENTRY(8, 0),
    TRAP_ENTRY(9, 0),  TRAP_ENTRY(10, 0), TRAP_ENTRY(11, 0),
    TRAP_ENTRY(12, 0), TRAP_ENTRY(13, 0), TRAP_ENTRY(14, 0),
    TRAP_ENTRY(16, 0), TRAP_ENTRY(17, 0), TRAP_ENTRY(18, 0),
    TRAP_ENTRY(19, 0), TRAP_ENTRY(0x80, 3),
    { 0, 0, 0, 0, 0 },
};

uint64_t system_time_ns(void)
{
    volatile struct vcpu_time_info *t = &vcpu0()->time;
    uint32_t ver, mul;
    uint64_t stime, tsc_ts, delta;
    int8_t shift;

    do {
        ver = t->version;
        barrier();
        tsc_ts = t->tsc_timestamp;
        stime = t->system_time;
        mul = t->tsc_to_system_mul;
        shift = t->tsc_shift;
        barrier();
    } while ( (ver & 1) || ver != t->version );

    delta = rdtsc() - tsc_ts;
    if ( shift < 0 )
        delta >>= -shift;
    else
        delta <<= shift;
    return stime + (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

/* ------------------------------------------------------------------ */
/* Page tables                                                         */
/* ------------------------------------------------------------------ */

static uint64_t read_cr3_mfn(void)
{
    return va_to_mfn((void *)start_info->pt_base);
}

bool pte_lookup(uint64_t va, uint64_t *maddr, uint64_t **entry)
{
    uint64_t mfn = read_cr3_mfn();
    int level;

    for ( level = 4; level >= 1; level-- )
    {
        uint64_t *table = mfn_to_va(mfn);
        unsigned int idx = (va >> (PAGE_SHIFT + 9 * (level - 1))) & 511;
        uint64_t e = table[idx];

        if ( level == 1 )
        {
            if ( maddr )
                *maddr = (mfn << PAGE_SHIFT) + idx * 8;
            if ( entry )
                *entry = &table[idx];
            return true;
        }
        if ( !(e & PTE_P) || (level < 4 && (e & PTE_PSE)) )
            return false;
        mfn = (e & PTE_ADDR_MASK) >> PAGE_SHIFT;
    }
    return false;
}

/* ------------------------------------------------------------------ */
/* Boot                                                                */
/* ------------------------------------------------------------------ */

void guest_start(start_info_t *si);
void guest_start(start_info_t *si)
{
    struct callback_register cb;
    long rc;

    start_info = si;

    rc = hyp_set_trap_table(trap_table);
    printf("VESTA-GUEST-TEST %s: start\n", guest_test_name);
    if ( rc )
    {
        printf("  set_trap_table failed: %ld\n", rc);
        test_abort("boot");
    }

    /* Put the shared_info frame where shared_info_window was. */
    rc = hyp_update_va_mapping((uint64_t)shared_info_window,
                               (si->shared_info & PTE_ADDR_MASK) |
                               PTE_P | PTE_RW | PTE_A | PTE_D, UVMF_INVLPG);
    if ( rc )
    {
        printf("  mapping shared_info failed: %ld\n", rc);
        test_abort("boot");
    }
    shared = (struct shared_info *)shared_info_window;

    memset(&cb, 0, sizeof(cb));
    cb.type = CALLBACKTYPE_event;
    cb.address = (uint64_t)event_entry;
    rc = hyp_callback_op(CALLBACKOP_register, &cb);
    cb.type = CALLBACKTYPE_failsafe;
    cb.flags = CALLBACKF_mask_events;
    cb.address = (uint64_t)failsafe_entry;
    rc |= hyp_callback_op(CALLBACKOP_register, &cb);
    if ( rc )
    {
        printf("  registering callbacks failed: %ld\n", rc);
        test_abort("boot");
    }

    test_main();
    test_finish();
}
