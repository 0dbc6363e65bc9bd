/* ACPI, just enough to find the CPUs and interrupt controllers: RSDP -> RSDT/XSDT -> MADT.
 * Every table is checksummed and length-checked before use; a machine without a usable MADT is treated as one
 * CPU with the standard IO-APIC address. */
#include <vesta/acpi.h>
#include <vesta/apic.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/setup.h>

struct platform_info platform;

struct __packed acpi_header {
    char sig[4];
    uint32_t length;
    uint8_t revision, checksum;
    char oem_id[6], oem_table_id[8];
    uint32_t oem_rev, creator_id, creator_rev;
};

struct __packed rsdp {
    char sig[8];
    uint8_t checksum;
    char oem_id[6];
    uint8_t revision;
    uint32_t rsdt;
    uint32_t length;
    uint64_t xsdt;
    uint8_t ext_checksum, reserved[3];
};

static bool checksum_ok(const void *p, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum += ((const uint8_t *)p)[i];
    return sum == 0;
}

static const struct rsdp *scan_rsdp(paddr_t start, size_t len)
{
    const char *p = map_firmware(start, len);
    for (size_t off = 0; off + 20 <= len; off += 16)
        if (!memcmp(p + off, "RSD PTR ", 8) && checksum_ok(p + off, 20)) {
            platform.rsdp_addr = start + off;
            return (const struct rsdp *)(p + off);
        }
    return NULL;
}

static const struct rsdp *find_rsdp(void)
{
    if (boot_info.has_rsdp && checksum_ok(boot_info.rsdp, 20))
        return (const struct rsdp *)boot_info.rsdp;
    const uint16_t *ebda_seg = map_firmware(0x40e, 2);
    const struct rsdp *r = NULL;
    if (*ebda_seg)
        r = scan_rsdp((paddr_t)*ebda_seg << 4, 1024);
    return r ? r : scan_rsdp(0xe0000, 0x20000);
}

static const struct acpi_header *map_table(paddr_t pa)
{
    const struct acpi_header *h = map_firmware(pa, sizeof(*h));
    if (h->length < sizeof(*h) || h->length > (1u << 20))
        return NULL;
    h = map_firmware(pa, h->length);
    return checksum_ok(h, h->length) ? h : NULL;
}

static const struct acpi_header *find_table(const struct rsdp *r, const char sig[4])
{
    bool x = r->revision >= 2 && r->xsdt;
    const struct acpi_header *root = map_table(x ? r->xsdt : r->rsdt);
    if (!root)
        return NULL;
    size_t esz = x ? 8 : 4, n = (root->length - sizeof(*root)) / esz;
    const uint8_t *ents = (const uint8_t *)(root + 1);
    for (size_t i = 0; i < n; i++) {
        uint64_t pa = 0;
        memcpy(&pa, ents + i * esz, esz);
        const struct acpi_header *t = pa ? map_table(pa) : NULL;
        if (t && !memcmp(t->sig, sig, 4))
            return t;
    }
    return NULL;
}

static void add_cpu(uint32_t apic_id, uint32_t acpi_id)
{
    for (unsigned int i = 0; i < platform.nr_cpus; i++)
        if (platform.cpu_apic_ids[i] == apic_id)
            return;
    if (platform.nr_cpus < ARRAY_SIZE(platform.cpu_apic_ids)) {
        platform.cpu_acpi_ids[platform.nr_cpus] = acpi_id;
        platform.cpu_apic_ids[platform.nr_cpus++] = apic_id;
    }
}

static void parse_madt(const struct acpi_header *madt)
{
    const uint8_t *p = (const uint8_t *)madt + sizeof(*madt);
    const uint8_t *end = (const uint8_t *)madt + madt->length;
    if (p + 8 > end)
        return;
    platform.lapic_addr = *(const uint32_t *)p;
    for (p += 8; p + 2 <= end && p[1] >= 2 && p + p[1] <= end; p += p[1]) {
        switch (p[0]) {
        case 0: /* processor local APIC: flags bit 0 enabled */
            if (p[1] >= 8 && (*(const uint32_t *)(p + 4) & 1))
                add_cpu(p[3], p[2]);
            break;
        case 1: /* IO-APIC */
            if (p[1] >= 12 && platform.nr_ioapics < MAX_IOAPICS)
                platform.ioapics[platform.nr_ioapics++] = (struct ioapic_info){
                    .id = p[2], .addr = *(const uint32_t *)(p + 4), .gsi_base = *(const uint32_t *)(p + 8)};
            break;
        case 2: /* interrupt source override */
            if (p[1] >= 10 && p[2] == 0 && platform.nr_overrides < MAX_ISA_OVERRIDES)
                platform.overrides[platform.nr_overrides++] = (struct isa_override){
                    .isa_irq = p[3], .gsi = *(const uint32_t *)(p + 4), .flags = *(const uint16_t *)(p + 8)};
            break;
        case 5: /* 64-bit local APIC address */
            if (p[1] >= 12)
                platform.lapic_addr = *(const uint64_t *)(p + 4);
            break;
        case 9: /* processor local x2APIC */
            if (p[1] >= 16 && (*(const uint32_t *)(p + 8) & 1))
                add_cpu(*(const uint32_t *)(p + 4), *(const uint32_t *)(p + 12));
            break;
        default:
            break;
        }
    }
    platform.have_madt = true;
}

void acpi_init(void)
{
    platform.lapic_addr = 0xfee00000;
    const struct rsdp *r = find_rsdp();
    const struct acpi_header *madt = r ? find_table(r, "APIC") : NULL;
    if (r)
        memcpy(platform.oem, r->oem_id, 6);
    if (madt)
        parse_madt(madt);
    if (!platform.have_madt) {
        pr_warn("ACPI: no usable MADT%s; assuming one CPU and an IO-APIC at 0xfec00000",
                r ? "" : " (no RSDP found)");
        platform.nr_ioapics = 1;
        platform.ioapics[0] = (struct ioapic_info){.id = 0, .addr = 0xfec00000, .gsi_base = 0};
        return;
    }
    printk("ACPI: RSDP rev %u OEM '%s', MADT: %u CPUs, %u IO-APICs, %u ISA overrides, LAPIC at %#lx",
           r->revision, platform.oem, platform.nr_cpus, platform.nr_ioapics, platform.nr_overrides,
           platform.lapic_addr);
}

/* ---- Other tables, for arch/x86/acpi_power.c (FADT, DSDT): checksummed and length-checked like the MADT. */

const void *acpi_find_table(const char sig[4])
{
    const struct rsdp *r = find_rsdp();
    return r ? find_table(r, sig) : NULL;
}

const void *acpi_map_table(uint64_t pa)
{
    return pa ? map_table(pa) : NULL;
}
