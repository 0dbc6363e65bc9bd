/*
 * pathlen: guest-side cost of the core PV paths, in TSC ticks.
 *
 * Run under QEMU with -icount shift=0, the TSC counts instructions at a fixed rate, so the figures are path
 * lengths that do not depend on the host. Each operation runs ROUNDS times; the median of the per-round deltas
 * is printed as "BENCH <name> <ticks>", and the same binary runs on Vesta and on Xen.
 */
#include "guest.h"

#define ROUNDS 257

static uint64_t samples[ROUNDS];

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Insertion sort: small arrays, no libc. */
static void sort(uint64_t *v, unsigned int n)
{
    for (unsigned int i = 1; i < n; i++) {
        uint64_t x = v[i];
        unsigned int j = i;
        while (j > 0 && cmp_u64(&v[j - 1], &x) > 0) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

static uint64_t tsc_overhead;

static void report(const char *name)
{
    sort(samples, ROUNDS);
    uint64_t med = samples[ROUNDS / 2];
    printf("BENCH %s %lu\n", name, med > tsc_overhead ? med - tsc_overhead : 0);
}

#define MEASURE(name, setup, op)                                                                                   \
    do {                                                                                                           \
        for (unsigned int r_ = 0; r_ < ROUNDS; r_++) {                                                             \
            setup;                                                                                                 \
            uint64_t t0_ = rdtsc();                                                                                \
            op;                                                                                                    \
            uint64_t t1_ = rdtsc();                                                                                \
            samples[r_] = t1_ - t0_;                                                                               \
        }                                                                                                          \
        report(name);                                                                                              \
    } while (0)

static volatile unsigned int events_seen;
static void count_event(evtchn_port_t port)
{
    (void)port;
    events_seen++;
}

/* A page of our own image, mapped through an L1 we can update. */
static char scratch[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

void test_main(void)
{
    MEASURE("tsc-overhead", (void)0, (void)0);
    sort(samples, ROUNDS);
    tsc_overhead = samples[ROUNDS / 2];

    MEASURE("null-hypercall", (void)0, (void)hyp_xen_version(XENVER_version, NULL));

    uint64_t *pte;
    uint64_t maddr;
    if (!pte_lookup((uint64_t)scratch, &maddr, &pte))
        test_abort("scratch page has no L1 entry");
    uint64_t pte_maddr = (va_to_mfn(pte) << PAGE_SHIFT) | ((uint64_t)pte & (PAGE_SIZE - 1));
    uint64_t orig = *pte;
    struct mmu_update u = {.ptr = pte_maddr | MMU_NORMAL_PT_UPDATE};
    MEASURE("mmu_update", u.val = (r_ & 1) ? orig : (orig & ~PTE_A), (void)hyp_mmu_update(&u, 1, NULL, DOMID_SELF));
    CHECK_EQ(hyp_update_va_mapping((uint64_t)scratch, orig, UVMF_INVLPG), 0, "restore scratch mapping");

    MEASURE("update_va_mapping", (void)0,
            (void)hyp_update_va_mapping((uint64_t)scratch, (r_ & 1) ? orig : (orig & ~PTE_A), UVMF_INVLPG));
    CHECK_EQ(hyp_update_va_mapping((uint64_t)scratch, orig, UVMF_INVLPG), 0, "restore scratch mapping");

    struct evtchn_bind_ipi ipi = {.vcpu = 0};
    long rc = hyp_event_channel_op(EVTCHNOP_bind_ipi, &ipi);
    CHECK_EQ(rc, 0, "bind_ipi");
    if (!rc) {
        event_hook = count_event;
        vcpu0()->evtchn_upcall_mask = 0;
        struct evtchn_send s = {.port = ipi.port};
        MEASURE("evtchn-send-self-upcall", (void)0, {
            unsigned int before = events_seen;
            (void)hyp_event_channel_op(EVTCHNOP_send, &s);
            while (events_seen == before)
                barrier();
        });
        vcpu0()->evtchn_upcall_mask = 1;
    }

    /* A port read the kernel may do (dom0): #GP, decoded and performed by the hypervisor. Port 0x61 is the
     * PC's system control port, which Linux reads while calibrating the TSC against the PIT. Like Linux's dom0,
     * the kernel first asks for I/O privilege (virtual IOPL 1). */
    struct physdev_set_iopl iopl = {.iopl = 1};
    CHECK_EQ(hyp_physdev_op(PHYSDEVOP_set_iopl, &iopl), 0, "set_iopl");
    MEASURE("port-io-inb", (void)0, {
        uint8_t val;
        asm volatile("inb $0x61, %0" : "=a"(val)::"memory");
        (void)val;
    });

    /* A read of an unmapped address, bounced to our #PF handler and resumed at the fixup. */
    trap_set_resumable(14, false);
    MEASURE("pagefault-bounce", (void)0, {
        asm volatile("1: movq 0x1000, %%rax\n2:\n" EXTABLE("1b", "2b") ::: "rax", "memory");
    });
}
