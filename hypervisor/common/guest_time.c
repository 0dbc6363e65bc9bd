/* Guest time and what happens to a vCPU as it is scheduled in and out.
 *
 * - vcpu_time_info (in vcpu_info, and optionally a second copy the guest registered): a (TSC, system time) stamp
 *   and the TSC-to-ns scale. Each CPU keeps one stamp, renewed every second ("calibration", as Xen does); a
 *   vCPU's copy is rewritten when it is scheduled in and the stamp changed, and on each renewal while it runs.
 *   The scale is exactly the one now_ns() uses, so the guest's clock and the hypervisor's timers agree to the ns.
 * - The wallclock in shared_info: the epoch time at system time 0, from the CMOS RTC read once at boot.
 * - vCPU timers: singleshot (set_timer_op, VCPUOP_set_singleshot_timer), periodic (default 10 ms for a PV vCPU;
 *   it only runs while the vCPU runs, so it never wakes a blocked vCPU), and the SCHEDOP_poll timeout.
 * - The runstate area a guest registered, rewritten on every schedule in and out.
 *
 * Writes to guest memory are made while the vCPU's own page tables are loaded; a vCPU interrupted in guest user
 * mode has its kernel page tables loaded just for the copy (its areas are kernel addresses). */
#include <public/vcpu.h>
#include <vesta/domain.h>
#include <vesta/guest_access.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/percpu.h>
#include <vesta/pv.h>
#include <vesta/setup.h>
#include <vesta/timer.h>
#include <vesta/x86.h>

#define NS_PER_SEC 1000000000ULL
#define PERIODIC_DEFAULT_NS 10000000ULL /* Xen gives every PV vCPU a 10 ms tick until it stops it */
#define CALIBRATION_NS NS_PER_SEC

/* ---- Per-CPU time stamps. */

struct time_stamp {
    uint64_t tsc, ns;
};

static struct time_stamp cpu_stamp[MAX_CPUS];
static struct timer calibration_timer[MAX_CPUS];
static bool calibration_running[MAX_CPUS];

static void take_stamp(struct time_stamp *s)
{
    uint64_t tsc = rdtsc();
    s->ns = tsc_to_ns(tsc);
    s->tsc = tsc;
}

/* Xen's (mul_frac, shift) form of now_ns()'s 32.32 scale: ns = ((delta << shift) * mul) >> 32. Exact while the
 * TSC runs at 1 GHz or faster (shift 0); slower TSCs lose low scale bits, which the 1 s renewal bounds. */
static void tsc_scale(uint32_t *mul, int8_t *shift)
{
    uint64_t m = tsc_ns_scale();
    int8_t s = 0;
    while (m >> 32) {
        m >>= 1;
        s++;
    }
    *mul = (uint32_t)m;
    *shift = s;
}

static uint32_t version_begin(uint32_t v) { return (v + 1) | 1; }
static uint32_t version_end(uint32_t v) { return v + 1; }

/* ---- Writing into a vCPU's guest address space. */

/* Guest areas are registered with kernel addresses. With own_tables, v's page tables are the loaded ones and v
 * may be in user mode; otherwise the loaded ones are those of a vCPU of the same domain in a hypercall (kernel
 * mode). */
static int copy_to_vcpu_kernel(struct vcpu *v, bool own_tables, uint64_t va, const void *src, size_t len)
{
    if (!own_tables || v->pv.kernel_mode || !v->pv.kernel_l4)
        return copy_to_guest(va, src, len);
    uint64_t saved = read_cr3();
    write_cr3(v->pv.kernel_l4 << PAGE_SHIFT);
    int rc = copy_to_guest(va, src, len);
    write_cr3(saved);
    return rc;
}

/* ---- vcpu_time_info. */

static void fill_time_info(struct vcpu_time_info *u, const struct time_stamp *s)
{
    memset(u, 0, sizeof(*u));
    u->tsc_timestamp = s->tsc;
    u->system_time = s->ns;
    tsc_scale(&u->tsc_to_system_mul, &u->tsc_shift);
    if (cpu_has_invariant_tsc)
        u->flags |= XEN_PVCLOCK_TSC_STABLE_BIT;
}

/* The copy in vcpu_info. Interrupts stay off so the calibration timer cannot interleave two writers. Returns
 * false if nothing changed and nothing was written. */
static bool write_primary_time(struct vcpu *v, bool force, struct vcpu_time_info *out)
{
    struct vcpu_info *vi = v->vcpu_info;
    if (!vi)
        return false;
    unsigned long f = local_irq_save();
    struct time_stamp *s = &cpu_stamp[smp_processor_id()];
    if (!s->tsc)
        take_stamp(s);
    struct vcpu_time_info u;
    fill_time_info(&u, s);
    volatile struct vcpu_time_info *t = &vi->time;
    u.version = t->version;
    if (!force && !memcmp((const void *)t, &u, sizeof(u))) {
        local_irq_restore(f);
        return false;
    }
    u.version = version_begin(t->version);
    t->version = u.version;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    t->tsc_timestamp = u.tsc_timestamp;
    t->system_time = u.system_time;
    t->tsc_to_system_mul = u.tsc_to_system_mul;
    t->tsc_shift = u.tsc_shift;
    t->flags = u.flags;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    t->version = version_end(u.version);
    local_irq_restore(f);
    *out = u; /* still with the odd version: the secondary copy goes through the same steps */
    return true;
}

/* The registered secondary copy (see copy_to_vcpu_kernel for own). */
static void write_secondary_time(struct vcpu *v, bool own, struct vcpu_time_info *u)
{
    uint64_t va = v->time_info_guest_va;
    if (!va)
        return;
    if (copy_to_vcpu_kernel(v, own, va, &u->version, sizeof(u->version)))
        return;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    copy_to_vcpu_kernel(v, own, va, u, sizeof(*u));
    __atomic_thread_fence(__ATOMIC_RELEASE);
    u->version = version_end(u->version);
    copy_to_vcpu_kernel(v, own, va, &u->version, sizeof(u->version));
}

/* Callers other than the schedule-in path run in v's context (a hypercall of v) or, for a vCPU that is not
 * running, write only the primary copy unless the caller's page tables are the domain's own. */
void update_vcpu_system_time(struct vcpu *v, bool force)
{
    struct vcpu_time_info u;
    if (!write_primary_time(v, force, &u))
        return;
    struct vcpu *cur = current_vcpu();
    if (cur && cur->domain == v->domain)
        write_secondary_time(v, cur == v, &u);
}

static void calibrate(void *data)
{
    (void)data;
    unsigned int cpu = smp_processor_id();
    take_stamp(&cpu_stamp[cpu]);
    struct vcpu *v = percpu[cpu]->curr;
    struct vcpu_time_info u;
    if (v)
        write_primary_time(v, false, &u); /* interrupt context: the guest's own memory waits for schedule-in */
    timer_set(&calibration_timer[cpu], now_ns() + CALIBRATION_NS);
}

static void calibration_start(void)
{
    unsigned int cpu = smp_processor_id();
    if (calibration_running[cpu])
        return;
    calibration_running[cpu] = true;
    take_stamp(&cpu_stamp[cpu]);
    timer_init(&calibration_timer[cpu], calibrate, NULL, "time calibration", cpu);
    timer_set(&calibration_timer[cpu], now_ns() + CALIBRATION_NS);
}

/* ---- Wallclock. */

static spinlock_t wc_lock = SPINLOCK_INIT;
static bool wc_read;
static uint64_t wc_sec;
static uint32_t wc_nsec;

static uint8_t cmos_read(uint8_t reg)
{
    outb(0x70, reg);
    return inb(0x71);
}

static unsigned int bcd(uint8_t v) { return (v & 0xf) + (v >> 4) * 10; }

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned int m, unsigned int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned int yoe = (unsigned int)(y - era * 400);
    unsigned int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* Seconds since the epoch from the RTC, with the system time they belong to. Waits out an update in progress
 * and reads until two passes agree. */
static uint64_t rtc_read(uint64_t *at_ns)
{
    uint8_t r[6], again[6];
    for (unsigned int tries = 0; tries < 10; tries++) {
        for (unsigned long spin = 0; (cmos_read(0x0a) & 0x80) && spin < 10000000UL; spin++)
            cpu_relax();
        static const uint8_t regs[6] = {0x00, 0x02, 0x04, 0x07, 0x08, 0x09};
        for (unsigned int i = 0; i < 6; i++)
            r[i] = cmos_read(regs[i]);
        *at_ns = now_ns();
        for (unsigned int i = 0; i < 6; i++)
            again[i] = cmos_read(regs[i]);
        if (!memcmp(r, again, sizeof(r)))
            break;
    }
    uint8_t ctl = cmos_read(0x0b);
    bool pm = !(ctl & 0x02) && (r[2] & 0x80);
    r[2] &= 0x7f;
    unsigned int v[6];
    for (unsigned int i = 0; i < 6; i++)
        v[i] = (ctl & 0x04) ? r[i] : bcd(r[i]);
    if (!(ctl & 0x02)) /* 12-hour mode */
        v[2] = v[2] % 12 + (pm ? 12 : 0);
    unsigned int year = v[5] + 1900;
    if (year < 1970)
        year += 100;
    if (v[4] < 1 || v[4] > 12 || v[3] < 1 || v[3] > 31 || v[2] > 23 || v[1] > 59 || v[0] > 59)
        return 0; /* no sensible RTC: the wallclock stays at the epoch */
    return (uint64_t)(days_from_civil(year, v[4], v[3]) * 86400 + v[2] * 3600 + v[1] * 60 + v[0]);
}

static void wallclock_init(void)
{
    uint64_t at;
    uint64_t secs = rtc_read(&at);
    uint64_t base = secs * NS_PER_SEC - (secs ? at : 0); /* the epoch time at system time 0 */
    wc_sec = base / NS_PER_SEC;
    wc_nsec = (uint32_t)(base % NS_PER_SEC);
    printk("Wallclock: %lu s since the epoch at boot (RTC)", wc_sec);
}

void update_domain_wallclock(struct domain *d)
{
    unsigned long f = spin_lock_irqsave(&wc_lock);
    if (!wc_read) {
        wc_read = true;
        wallclock_init();
    }
    volatile struct shared_info *s = d->shared_info;
    uint32_t ver = version_begin(s->wc_version);
    s->wc_version = ver;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    s->wc_sec = (uint32_t)wc_sec;
    s->wc_nsec = wc_nsec;
    s->wc_sec_hi = (uint32_t)(wc_sec >> 32);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    s->wc_version = version_end(ver);
    spin_unlock_irqrestore(&wc_lock, f);
}

/* ---- Runstate. */

void vcpu_runstate_get(const struct vcpu *v, struct vcpu_runstate_info *r)
{
    memset(r, 0, sizeof(*r));
    r->state = v->runstate;
    r->state_entry_time = v->runstate_entry_time;
    memcpy(r->time, v->runstate_time, sizeof(r->time));
    uint64_t now = now_ns();
    if (now > r->state_entry_time && r->state >= 0 && r->state < 4)
        r->time[r->state] += now - r->state_entry_time;
}

/* The raw accounting (without the time spent in the current state so far), as Xen writes it. With the
 * runstate_update_flag assist, XEN_RUNSTATE_UPDATE is set in the area (its top byte) while it is rewritten. */
void update_runstate_area(struct vcpu *v)
{
    uint64_t va = v->runstate_guest_va;
    if (!va)
        return;
    struct vcpu_runstate_info r;
    memset(&r, 0, sizeof(r));
    r.state = v->runstate;
    r.state_entry_time = v->runstate_entry_time;
    memcpy(r.time, v->runstate_time, sizeof(r.time));
    bool flag = v->domain->vm_assist & (1UL << VMASST_TYPE_runstate_update_flag);
    uint64_t top = va + offsetof(struct vcpu_runstate_info, state_entry_time) + 7;
    if (flag) {
        r.state_entry_time |= XEN_RUNSTATE_UPDATE;
        copy_to_vcpu_kernel(v, true, top, (const uint8_t *)&r.state_entry_time + 7, 1);
        __atomic_thread_fence(__ATOMIC_RELEASE);
    }
    copy_to_vcpu_kernel(v, true, va, &r, sizeof(r));
    if (flag) {
        r.state_entry_time &= ~XEN_RUNSTATE_UPDATE;
        __atomic_thread_fence(__ATOMIC_RELEASE);
        copy_to_vcpu_kernel(v, true, top, (const uint8_t *)&r.state_entry_time + 7, 1);
    }
}

/* ---- vCPU timers. */

void send_timer_event(struct vcpu *v) { send_guest_virq(v, VIRQ_TIMER); }

static void periodic_work_locked(struct vcpu *v)
{
    uint64_t now = now_ns(), next = v->periodic_last_event + v->periodic_period;
    if (now >= next) {
        send_timer_event(v);
        v->periodic_last_event = now;
        next = now + v->periodic_period;
    }
    timer_set(&v->periodic_timer, next);
}

static void periodic_work(struct vcpu *v)
{
    if (!__atomic_load_n(&v->periodic_period, __ATOMIC_RELAXED))
        return;
    unsigned long f = spin_lock_irqsave(&v->periodic_lock);
    if (v->periodic_period)
        periodic_work_locked(v);
    spin_unlock_irqrestore(&v->periodic_lock, f);
}

void vcpu_set_periodic_timer(struct vcpu *v, uint64_t period_ns)
{
    unsigned long f = spin_lock_irqsave(&v->periodic_lock);
    timer_stop(&v->periodic_timer);
    v->periodic_period = period_ns;
    if (period_ns)
        periodic_work_locked(v);
    spin_unlock_irqrestore(&v->periodic_lock, f);
}

static void singleshot_fn(void *data) { send_timer_event(data); }
static void periodic_fn(void *data) { periodic_work(data); }

static void poll_timeout_fn(void *data)
{
    struct vcpu *v = data;
    struct domain *d = v->domain;
    uint64_t m = 1UL << (v->id % 64);
    if (__atomic_fetch_and(&d->poll_mask[v->id / 64], ~m, __ATOMIC_SEQ_CST) & m)
        vcpu_unblock(v);
}

void vcpu_guest_init(struct vcpu *v)
{
    v->periodic_lock = (spinlock_t)SPINLOCK_INIT;
    timer_init(&v->singleshot_timer, singleshot_fn, v, "vcpu singleshot", v->processor);
    timer_init(&v->periodic_timer, periodic_fn, v, "vcpu periodic", v->processor);
    timer_init(&v->poll_timer, poll_timeout_fn, v, "vcpu poll", v->processor);
    v->periodic_period = PERIODIC_DEFAULT_NS;
    v->periodic_last_event = 0;
    if (v->id == 0)
        update_domain_wallclock(v->domain);
}

/* ---- Scheduling hooks (context_switch). */

void vcpu_sched_out(struct vcpu *v)
{
    timer_stop(&v->periodic_timer);
    update_runstate_area(v);
}

void vcpu_sched_in(struct vcpu *v)
{
    calibration_start();
    update_runstate_area(v);
    periodic_work(v);
    struct vcpu_time_info u;
    if (write_primary_time(v, false, &u))
        write_secondary_time(v, true, &u);
}

/* ---- Physical IRQs / platform area: XENPF_settime32/64 from dom0 (arch/x86/platform_op.c), Xen's do_settime.
 * The wallclock becomes secs:nsecs at system time system_time_base, and every domain's shared_info follows. */
void guest_set_wallclock(uint64_t secs, uint32_t nsecs, uint64_t system_time_base);
void guest_set_wallclock(uint64_t secs, uint32_t nsecs, uint64_t system_time_base)
{
    uint64_t x = secs * NS_PER_SEC + nsecs - system_time_base;
    unsigned long f = spin_lock_irqsave(&wc_lock);
    wc_read = true;
    wc_sec = x / NS_PER_SEC;
    wc_nsec = (uint32_t)(x % NS_PER_SEC);
    spin_unlock_irqrestore(&wc_lock, f);
    for (struct domain *d = domain_get_next(0), *n; d; d = n) {
        update_domain_wallclock(d);
        n = domain_get_next((domid_t)(d->id + 1));
        domain_put(d);
    }
}
