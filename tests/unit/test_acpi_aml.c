/* \_Sx package decoding from AML (hypervisor/common/acpi_aml.c). */
#include "testlib.h"
#include "vesta/acpi.h"

TEST(aml_s5_qemu_zero_package)
{
    /* QEMU's i440fx DSDT: Name (_S5, Package (0x04) { Zero, Zero, Zero, Zero }) inside other bytes. */
    static const uint8_t aml[] = {0x10, 0x20, 0x08, '_', 'S', '4', '_', 0x12, 0x06, 0x04, 0x0a, 0x01, 0x0a, 0x01,
                                  0x00, 0x00, 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00};
    uint8_t a = 9, b = 9;
    CHECK(acpi_aml_sleep_type(aml, sizeof(aml), "_S5_", &a, &b));
    CHECK_EQ(a, 0);
    CHECK_EQ(b, 0);
    CHECK(acpi_aml_sleep_type(aml, sizeof(aml), "_S4_", &a, &b));
    CHECK_EQ(a, 1);
    CHECK_EQ(b, 1);
}

TEST(aml_s5_root_prefix_and_byte_values)
{
    /* Name (\_S5, Package () { 0x07, One, Zero, Zero }) with a two-byte PkgLength. */
    static const uint8_t aml[] = {0x08, '\\', '_', 'S', '5', '_', 0x12, 0x40, 0x00, 0x04, 0x0a, 0x07, 0x01, 0x00, 0x00};
    uint8_t a = 0, b = 0;
    CHECK(acpi_aml_sleep_type(aml, sizeof(aml), "_S5_", &a, &b));
    CHECK_EQ(a, 7);
    CHECK_EQ(b, 1);
}

TEST(aml_s5_absent_or_not_a_package)
{
    static const uint8_t method[] = {0x14, 0x08, '_', 'S', '5', '_', 0x00, 0xa4, 0x00}; /* a Method, not a Name */
    static const uint8_t notpkg[] = {0x08, '_', 'S', '5', '_', 0x0a, 0x05};
    static const uint8_t truncated[] = {0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x0a};
    static const uint8_t ref[] = {0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x5c, 0x00, 0x00, 0x00};
    uint8_t a, b;
    CHECK(!acpi_aml_sleep_type(method, sizeof(method), "_S5_", &a, &b));
    CHECK(!acpi_aml_sleep_type(notpkg, sizeof(notpkg), "_S5_", &a, &b));
    CHECK(!acpi_aml_sleep_type(truncated, sizeof(truncated), "_S5_", &a, &b));
    CHECK(!acpi_aml_sleep_type(ref, sizeof(ref), "_S5_", &a, &b));
    CHECK(!acpi_aml_sleep_type(method, 3, "_S5_", &a, &b));
}
