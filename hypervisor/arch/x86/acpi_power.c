/* ACPI sleep states: dom0's XENPF_enter_acpi_sleep (Xen 4.17: arch/x86/acpi/power.c, acpi/boot.c's
 * acpi_fadt_parse_sleep_info) and Vesta's own power-off when dom0 shuts down with SHUTDOWN_poweroff.
 *
 * The registers come from the FADT as Xen takes them: the 64-bit X_ blocks when the FADT is revision 3 or later and
 * long enough, else the legacy I/O port blocks; revision 5 adds the hardware-reduced sleep control/status
 * registers. dom0 runs the AML and hands over finished PM1 control values; Vesta's own power-off takes the sleep
 * types from the DSDT's \_S5 package. S3 needs a resume path Vesta does not have, so it is refused as Xen refuses
 * it on a machine that cannot resume (-EOPNOTSUPP). */
#include <public/platform.h>
#include <vesta/acpi.h>
#include <vesta/errno.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/setup.h>
#include <vesta/timer.h>
#include <vesta/traps.h>
#include <vesta/x86.h>

#define ACPI_SPACE_MEMORY 0
#define ACPI_SPACE_IO 1

#define FADT_FACS 36
#define FADT_DSDT 40
#define FADT_PM1A_EVT 56
#define FADT_PM1B_EVT 60
#define FADT_PM1A_CNT 64
#define FADT_PM1B_CNT 68
#define FADT_PM1_EVT_LEN 88
#define FADT_PM1_CNT_LEN 89
#define FADT_FLAGS 112
#define FADT_X_DSDT 140
#define FADT_X_PM1A_EVT 148
#define FADT_X_PM1B_EVT 160
#define FADT_X_PM1A_CNT 172
#define FADT_X_PM1B_CNT 184
#define FADT_SLEEP_CONTROL 244
#define FADT_SLEEP_STATUS 256
#define FADT_V5_SIZE 268
#define FADT_HW_REDUCED (1u << 20)

#define SLP_TYP_SHIFT 10
#define SLP_TYP_MASK (7u << SLP_TYP_SHIFT)
#define SLP_EN 0x2000u
#define WAK_STS 0x8000u
#define X_SLEEP_TYPE_SHIFT 2
#define X_SLEEP_TYPE_MASK 0x1cu
#define X_SLEEP_ENABLE 0x20u
#define X_WAKE_STATUS 0x80u
#define SLEEP_TYPE_MAX 7
#define SLEEP_TYPE_INVALID 0xff
#define ACPI_STATE_S0 0
#define ACPI_STATE_S3 3
#define ACPI_STATE_S5 5

struct gas {
    uint8_t space, bit_width, bit_offset, access_width;
    uint64_t address;
    volatile void *mmio; /* memory space: mapped at boot */
};

static struct {
    bool fadt;
    struct gas pm1a_cnt, pm1b_cnt, pm1a_evt, pm1b_evt, sleep_control, sleep_status;
    bool have_s5;
    uint8_t s5_a, s5_b;
} pm;

static uint32_t rd32(const uint8_t *t, size_t off)
{
    uint32_t v;
    memcpy(&v, t + off, 4);
    return v;
}

static void gas_from_table(struct gas *g, const uint8_t *t, size_t off)
{
    g->space = t[off];
    g->bit_width = t[off + 1];
    g->bit_offset = t[off + 2];
    g->access_width = t[off + 3];
    memcpy(&g->address, t + off + 4, 8);
}

static void gas_map(struct gas *g)
{
    if (g->address && g->space == ACPI_SPACE_MEMORY)
        g->mmio = ioremap(g->address, 4);
}

/* Xen's acpi_fadt_copy_address: the X_ block if the FADT has one, else the legacy port block of `len` bytes. */
static void pick_block(struct gas *g, const uint8_t *fadt, uint32_t length, size_t x_off, size_t legacy_off,
                       size_t len_off)
{
    if (fadt[8] >= 3 && length >= x_off + 12)
        gas_from_table(g, fadt, x_off);
    if (!g->address) {
        g->address = rd32(fadt, legacy_off);
        g->space = ACPI_SPACE_IO;
        g->bit_width = (uint8_t)(fadt[len_off] << 3);
        g->bit_offset = 0;
        g->access_width = fadt[len_off];
    }
    gas_map(g);
}

static unsigned int gas_width(const struct gas *g)
{
    return g->bit_width == 8 ? 8 : g->bit_width == 32 ? 32 : 16;
}

static uint32_t gas_read(const struct gas *g)
{
    unsigned int w = gas_width(g);
    if (g->space == ACPI_SPACE_IO) {
        uint16_t port = (uint16_t)g->address;
        return w == 8 ? inb(port) : w == 32 ? inl(port) : inw(port);
    }
    if (!g->mmio)
        return 0;
    return w == 8 ? *(volatile uint8_t *)g->mmio : w == 32 ? *(volatile uint32_t *)g->mmio
                                                          : *(volatile uint16_t *)g->mmio;
}

static void gas_write(const struct gas *g, uint32_t v)
{
    unsigned int w = gas_width(g);
    if (g->space == ACPI_SPACE_IO) {
        uint16_t port = (uint16_t)g->address;
        if (w == 8)
            outb(port, (uint8_t)v);
        else if (w == 32)
            outl(port, v);
        else
            outw(port, (uint16_t)v);
    } else if (g->mmio) {
        if (w == 8)
            *(volatile uint8_t *)g->mmio = (uint8_t)v;
        else if (w == 32)
            *(volatile uint32_t *)g->mmio = v;
        else
            *(volatile uint16_t *)g->mmio = (uint16_t)v;
    }
}

void acpi_power_init(void)
{
    const uint8_t *fadt = acpi_find_table("FACP");
    if (!fadt)
        return;
    uint32_t length = rd32(fadt, 4);
    if (length < FADT_FLAGS + 4)
        return;
    pm.fadt = true;
    if (fadt[8] >= 5 && length >= FADT_V5_SIZE) {
        gas_from_table(&pm.sleep_control, fadt, FADT_SLEEP_CONTROL);
        gas_from_table(&pm.sleep_status, fadt, FADT_SLEEP_STATUS);
        gas_map(&pm.sleep_control);
        gas_map(&pm.sleep_status);
    }
    if (!(rd32(fadt, FADT_FLAGS) & FADT_HW_REDUCED)) {
        pick_block(&pm.pm1a_cnt, fadt, length, FADT_X_PM1A_CNT, FADT_PM1A_CNT, FADT_PM1_CNT_LEN);
        pick_block(&pm.pm1b_cnt, fadt, length, FADT_X_PM1B_CNT, FADT_PM1B_CNT, FADT_PM1_CNT_LEN);
        pick_block(&pm.pm1a_evt, fadt, length, FADT_X_PM1A_EVT, FADT_PM1A_EVT, FADT_PM1_EVT_LEN);
        pick_block(&pm.pm1b_evt, fadt, length, FADT_X_PM1B_EVT, FADT_PM1B_EVT, FADT_PM1_EVT_LEN);
    }

    uint64_t dsdt_pa = rd32(fadt, FADT_DSDT);
    if (length >= FADT_X_DSDT + 8) {
        uint64_t x;
        memcpy(&x, fadt + FADT_X_DSDT, 8);
        if (x)
            dsdt_pa = x;
    }
    const uint8_t *dsdt = acpi_map_table(dsdt_pa);
    if (dsdt && !memcmp(dsdt, "DSDT", 4))
        pm.have_s5 = acpi_aml_sleep_type(dsdt + 36, rd32(dsdt, 4) - 36, "_S5_", &pm.s5_a, &pm.s5_b);
    printk("ACPI: SLEEP INFO: pm1x_cnt[%u:%lx,%u:%lx], pm1x_evt[%u:%lx,%u:%lx]; \\_S5 %s", pm.pm1a_cnt.space,
           pm.pm1a_cnt.address, pm.pm1b_cnt.space, pm.pm1b_cnt.address, pm.pm1a_evt.space, pm.pm1a_evt.address,
           pm.pm1b_evt.space, pm.pm1b_evt.address, pm.have_s5 ? "found" : "not found");
}

static bool wake_status(bool extended)
{
    if (extended)
        return pm.sleep_status.address && (gas_read(&pm.sleep_status) & X_WAKE_STATUS);
    return pm.pm1a_evt.address && (gas_read(&pm.pm1a_evt) & WAK_STS);
}

/* Writes the sleep registers, then waits for the machine to go (or wake, which a powered-off machine never
 * does). Gives up after a second so a platform that ignores the request is reported instead of hanging. */
static void enter_sleep_registers(bool extended, uint32_t val_a, uint32_t val_b)
{
    local_irq_disable();
    if (extended) {
        gas_write(&pm.sleep_control, ((val_a << X_SLEEP_TYPE_SHIFT) & X_SLEEP_TYPE_MASK) | X_SLEEP_ENABLE);
    } else {
        gas_write(&pm.pm1a_cnt, val_a);
        if (pm.pm1b_cnt.address)
            gas_write(&pm.pm1b_cnt, val_b);
    }
    uint64_t until = now_ns() + 1000000000UL;
    while (!wake_status(extended) && now_ns() < until)
        cpu_relax();
    local_irq_enable();
}

void acpi_power_off(void)
{
    if (!pm.fadt || !pm.have_s5) {
        pr_warn("ACPI: no S5 sleep state known; cannot power off");
        return;
    }
    printk("Entering ACPI S5 state.");
    if (pm.sleep_control.address && !pm.pm1a_cnt.address) {
        enter_sleep_registers(true, pm.s5_a, 0);
    } else if (pm.pm1a_cnt.address) {
        /* As ACPICA does: SLP_TYP first, then SLP_EN in a second write. */
        uint32_t a = (gas_read(&pm.pm1a_cnt) & ~(SLP_TYP_MASK | SLP_EN)) | ((uint32_t)pm.s5_a << SLP_TYP_SHIFT);
        uint32_t b = pm.pm1b_cnt.address
                         ? (gas_read(&pm.pm1b_cnt) & ~(SLP_TYP_MASK | SLP_EN)) | ((uint32_t)pm.s5_b << SLP_TYP_SHIFT)
                         : 0;
        gas_write(&pm.pm1a_cnt, a);
        if (pm.pm1b_cnt.address)
            gas_write(&pm.pm1b_cnt, b);
        enter_sleep_registers(false, a | SLP_EN, b | SLP_EN);
    }
    pr_err("ACPI: the machine is still running after the S5 request");
}

/* XENPF_enter_acpi_sleep: Xen's argument checks in Xen's order, then the state itself. */
long acpi_enter_sleep(const struct xenpf_enter_acpi_sleep *sleep)
{
    bool extended = sleep->flags & XENPF_ACPI_SLEEP_EXTENDED;
    if (sleep->sleep_state == ACPI_STATE_S3)
        return -EOPNOTSUPP; /* no resume path */
    if (extended) {
        if (!pm.sleep_control.address || !pm.sleep_status.address)
            return -EPERM;
        if (sleep->flags & ~XENPF_ACPI_SLEEP_EXTENDED)
            return -EINVAL;
        if (sleep->val_a > SLEEP_TYPE_MAX || (sleep->val_b != SLEEP_TYPE_INVALID && sleep->val_b > SLEEP_TYPE_MAX))
            return -ERANGE;
    } else if (!pm.pm1a_cnt.address) {
        return -EPERM;
    } else if (sleep->val_b && ((sleep->val_a ^ sleep->val_b) & SLP_EN)) {
        return -EINVAL;
    } else if (sleep->flags) {
        return -EINVAL;
    }
    if (sleep->sleep_state <= ACPI_STATE_S0 || sleep->sleep_state > ACPI_STATE_S5)
        return -EINVAL;
    if (sleep->sleep_state != ACPI_STATE_S5)
        return -EINVAL; /* S1, S2, S4: Xen's enter_state knows only S3 and S5 */
    printk("Entering ACPI S5 state.");
    enter_sleep_registers(extended, sleep->val_a, sleep->val_b);
    pr_err("ACPI: the machine is still running after dom0's S5 request");
    return 0;
}
