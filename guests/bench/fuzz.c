/*
 * fuzz: every hypercall with random arguments and random pointers, for a fixed time.
 *
 * The command line "fuzz=SECONDS,seed=N" sets the duration (default 60 s) and the seed. Arguments are drawn from
 * a mix that finds bugs: small integers (sub-op numbers, counts), random 64-bit values, pointers to our own
 * buffers filled with random bytes (so structures are read and parsed), pointers to unmapped, read-only,
 * non-canonical and hypervisor addresses, and machine frame numbers of our own pages. Calls that would end or
 * freeze the domain by design (shutdown, block, poll, taking vCPU 0 down, replacing the trap table or
 * callbacks) are left out so the run lasts; anything else the guest does to itself is its own business, and
 * the hypervisor must answer with error codes or crash only this domain, with a console line saying why.
 *
 * Prints "FUZZ calls=<n> seconds=<s>" at the end, then powers off.
 *
 * It runs as dom0 (tests/guests/fuzz_run.py) or as a domU started by xl (tests/xl/run_xl.py, scenario fuzz-domu,
 * with "fuzz=SECONDS seed=N" on its command line). A domU prints on its PV console ring instead of console_io,
 * so there it also leaves alone the two event-channel calls that would cut that console off: EVTCHNOP_reset,
 * and EVTCHNOP_close of the console's port.
 */
#include "guest.h"

/* The fuzzer's own state lives in .data, which the link map puts before the buffers below: a batch written past
 * the end of a buffer runs upward, into the P2M and start_info after the image (and stops at the read-only page
 * tables), so what the loop depends on is read from there once, at the start. */
static uint64_t rng = 1;
static bool verbose = true;
static uint64_t nr_pages = 1;
static const uint64_t *p2m_copy = (const uint64_t *)1;

static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1DULL;
}

#define NBUF 4
static uint8_t bufs[NBUF][2 * PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
/* Pages whose mappings the fuzzer may rewrite (update_va_mapping targets): nothing else lives there. */
static uint8_t victim[8][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static const uint8_t ro_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE))) = {1};

static uint64_t own_mfn(void)
{
    uint64_t pfn = rnd() % nr_pages;
    return p2m_copy[pfn];
}

static uint64_t arg(void)
{
    switch (rnd() % 12) {
    case 0: return 0;
    case 1: return rnd() % 8;
    case 2: return rnd() % 64;
    case 3: return rnd();
    case 4: case 5: {
        uint8_t *b = bufs[rnd() % NBUF];
        for (unsigned int i = 0; i < 256; i++)
            b[rnd() % sizeof(bufs[0])] = (uint8_t)rnd();
        return (uint64_t)(b + (rnd() % 64) * 8);
    }
    case 6: return (uint64_t)ro_page;
    case 7: return 0x1000 + (rnd() % 0x100000) * 8;                 /* low, unmapped */
    case 8: return HYPERVISOR_VIRT_START + (rnd() % (1UL << 40));   /* hypervisor range */
    case 9: return 0x0000800000000000UL + (rnd() % (1UL << 32));  /* non-canonical */
    case 10: return own_mfn();
    default: return (own_mfn() << PAGE_SHIFT) | (rnd() % 512) * 8 | (rnd() % 4);
    }
}

extern char image_start[], image_end[];

/* Our whole image is mapped writable (one RWX segment, ro_page included). */
static bool in_image(uint64_t p) { return p >= (uint64_t)image_start && p < (uint64_t)image_end; }

/* As a domU our console is an event channel to dom0 (read from start_info once, like the rest of our state):
 * closing it, or resetting all our ports, would silence the rest of the run. */
static bool dom_u = true;                   /* initialised: kept in .data with the rest of our state */
static evtchn_port_t console_port = ~0U;

static bool silences_console(unsigned int cmd, uint64_t arg)
{
    if (!dom_u)
        return false;
    if (cmd == EVTCHNOP_reset)
        return true;
    return cmd == EVTCHNOP_close && in_image(arg) && *(const uint32_t *)arg == console_port;
}

/* Calls that stop the domain by design, which would end the run early without testing anything. */
static bool excluded(unsigned long nr, uint64_t a1, uint64_t a2)
{
    switch (nr) {
    case __HYPERVISOR_event_channel_op:
        return silences_console((unsigned int)a1, a2);
    case __HYPERVISOR_event_channel_op_compat: /* (struct evtchn_op *): cmd, then the op's own structure */
        return in_image(a1) && silences_console(*(const uint32_t *)a1, a1 + 4);
    case __HYPERVISOR_iret:
    case __HYPERVISOR_console_io: /* random bytes on the console only bury the log */
    case __HYPERVISOR_set_trap_table:
    case __HYPERVISOR_set_callbacks:
    case __HYPERVISOR_stack_switch:
        return true;
    case __HYPERVISOR_sched_op:
    case __HYPERVISOR_sched_op_compat:
        return a1 != SCHEDOP_yield;
    case __HYPERVISOR_vcpu_op:
        return a2 == 0 && (a1 == VCPUOP_down || a1 == VCPUOP_initialise || a1 == VCPUOP_register_vcpu_info ||
                           a1 == VCPUOP_send_nmi);
    case __HYPERVISOR_callback_op:
        return a1 == CALLBACKOP_register;
    case __HYPERVISOR_mmuext_op:
    case __HYPERVISOR_mmu_update:
    case __HYPERVISOR_update_va_mapping:
    case __HYPERVISOR_multicall:
        return false;
    default:
        return false;
    }
}

/* Batched calls write each element's result back into the array the guest passed. A huge count over our own
 * memory makes the hypervisor write results, legitimately, across the rest of it (our state, start_info, the
 * P2M), which ends the run after a few dozen calls without having tested anything (Xen then crashes the domain
 * just the same). Over our image the count stays small; aimed anywhere else (unmapped, hypervisor,
 * non-canonical) it stays as drawn, to test the hypervisor's own bounds. Breakpoints and general-detect in DR7
 * would trap in our own code: those bits are left clear. */
static void keep_batches_in_buffers(unsigned long nr, uint64_t *a1, uint64_t *a2, uint64_t *a3)
{
    switch (nr) {
    case __HYPERVISOR_grant_table_op: /* (cmd, array, count) */
        if (in_image(*a2))
            *a3 = rnd() % 8;
        break;
    case __HYPERVISOR_mmu_update: /* (array, count, done, dom) */
    case __HYPERVISOR_mmuext_op:
        if (in_image(*a1))
            *a2 = rnd() % 8;
        break;
    case __HYPERVISOR_set_debugreg: /* (reg, value) */
        if (*a1 == 7 || *a1 == 5) /* DR5 is DR7 while CR4.DE is clear */
            *a2 &= ~0x20ffUL;
        break;
    }
}

static unsigned long parse_num(const char *s, const char *key, unsigned long dflt)
{
    const char *p = strstr(s, key);
    if (!p)
        return dflt;
    p += strlen(key);
    unsigned long v = 0;
    while (*p >= '0' && *p <= '9')
        v = v * 10 + (unsigned long)(*p++ - '0');
    return v;
}

void test_main(void)
{
    const char *cl = (const char *)start_info->cmd_line;
    unsigned long seconds = parse_num(cl, "fuzz=", 60);
    verbose = strstr(cl, "fuzz-verbose") != NULL;
    nr_pages = start_info->nr_pages;
    p2m_copy = p2m();
    dom_u = !(start_info->flags & SIF_INITDOMAIN);
    console_port = dom_u ? start_info->console.domU.evtchn : 0;
    rng = parse_num(cl, "seed=", 1) * 0x9E3779B97F4A7C15ULL + 1;
    uint64_t start = system_time_ns(), end = start + seconds * 1000000000UL;
    unsigned long calls = 0;
    printf("FUZZ start: %lu s, seed %lu\n", seconds, parse_num(cl, "seed=", 1));
    while (system_time_ns() < end) {
        for (unsigned int i = 0; i < 64; i++) {
            unsigned long nr = rnd() % 56;
            uint64_t a1 = arg(), a2 = arg(), a3 = arg(), a4 = arg(), a5 = arg();
            if (rnd() % 2)
                a1 = rnd() % 40; /* sub-op numbers are small */
            if (excluded(nr, a1, a2))
                continue;
            if (nr == __HYPERVISOR_update_va_mapping || nr == __HYPERVISOR_update_va_mapping_otherdomain)
                a1 = (uint64_t)victim[rnd() % 8] + (rnd() % 2 ? 0 : rnd() % PAGE_SIZE);
            keep_batches_in_buffers(nr, &a1, &a2, &a3);
            if (nr == __HYPERVISOR_multicall) {
                /* A batch of calls drawn the same way: a random buffer would mostly fail to parse, and could
                 * smuggle in the calls excluded above. */
                static multicall_entry_t mc[4];
                unsigned int n = 0;
                while (n < 4) {
                    uint64_t op = rnd() % 56, b1 = rnd() % 40, b2 = arg(), b3 = arg();
                    if (op == __HYPERVISOR_multicall || excluded(op, b1, b2))
                        continue;
                    /* The same rules as single calls: otherwise a batched update_va_mapping of page 0 (b1 is
                     * small) maps one of our own frames there, and the next small pointer scribbles on it. */
                    if (op == __HYPERVISOR_update_va_mapping || op == __HYPERVISOR_update_va_mapping_otherdomain)
                        b1 = (uint64_t)victim[rnd() % 8];
                    keep_batches_in_buffers(op, &b1, &b2, &b3);
                    mc[n] = (multicall_entry_t){.op = op, .args = {b1, b2, b3, arg(), arg(), arg()}};
                    n++;
                }
                a1 = (uint64_t)mc;
                a2 = rnd() % 5;
            }
            if (verbose)
                printf("call %lu %lx %lx %lx\n", nr, (unsigned long)a1, (unsigned long)a2, (unsigned long)a3);
            (void)hypercall_dyn((unsigned int)nr, (long)a1, (long)a2, (long)a3, (long)a4, (long)a5);
            calls++;
        }
        if ((calls & 0xffff) < 64)
            printf("FUZZ progress: %lu calls\n", calls);
    }
    printf("FUZZ calls=%lu seconds=%lu\n", calls, seconds);
    CHECK(calls > 0, "fuzzer made calls");
}
