/* ACPI beyond the MADT: table lookup (arch/x86/acpi.c) and sleep states / power-off (arch/x86/acpi_power.c). */
#ifndef VESTA_ACPI_H
#define VESTA_ACPI_H

#include <vesta/types.h>

/* A table by signature, mapped read-only, or NULL (absent, bad checksum or length). */
const void *acpi_find_table(const char sig[4]);
const void *acpi_map_table(uint64_t pa);

void acpi_power_init(void);          /* boot: FADT sleep registers and the DSDT's \_S5 */
/* Powers the machine off through ACPI S5 (PM1 control registers with \_S5's sleep types). Returns only if the
 * platform has no usable S5 or ignored the request. */
void acpi_power_off(void);

struct xenpf_enter_acpi_sleep;
long acpi_enter_sleep(const struct xenpf_enter_acpi_sleep *sleep); /* XENPF_enter_acpi_sleep */

/* AML helper (pure, unit-tested): the two sleep-type values of the \_Sx package named `name` ("_S5_") in an AML
 * byte stream, or false if there is no such package. */
bool acpi_aml_sleep_type(const uint8_t *aml, size_t len, const char name[4], uint8_t *typ_a, uint8_t *typ_b);

#endif
