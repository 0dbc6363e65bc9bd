/* The one piece of AML Vesta reads: a \_Sx sleep-state package, e.g. Name (_S5, Package () { 5, 5, 0, 0 }), whose
 * first two elements are the SLP_TYP values for the PM1a and PM1b control registers. The DSDT is not interpreted:
 * the NameOp with that name is searched for and its package decoded, which is what firmware writes in practice
 * (a name defined by a method would not be found, and then there is no S5). Pure code, unit-tested. */
#include "vesta/acpi.h"

#define AML_NAME_OP 0x08
#define AML_PACKAGE_OP 0x12
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_ROOT_CHAR '\\'
#define AML_PARENT_CHAR '^'

/* One integer element; false for anything else (a reference, a string, Ones). */
static bool aml_integer(const uint8_t *p, const uint8_t *end, uint32_t *val, const uint8_t **next)
{
    if (p >= end)
        return false;
    switch (*p) {
    case AML_ZERO_OP:
    case AML_ONE_OP:
        *val = *p;
        *next = p + 1;
        return true;
    case AML_BYTE_PREFIX:
        if (end - p < 2)
            return false;
        *val = p[1];
        *next = p + 2;
        return true;
    case AML_WORD_PREFIX:
        if (end - p < 3)
            return false;
        *val = (uint32_t)p[1] | (uint32_t)p[2] << 8;
        *next = p + 3;
        return true;
    case AML_DWORD_PREFIX:
        if (end - p < 5)
            return false;
        *val = (uint32_t)p[1] | (uint32_t)p[2] << 8 | (uint32_t)p[3] << 16 | (uint32_t)p[4] << 24;
        *next = p + 5;
        return true;
    default:
        return false;
    }
}

bool acpi_aml_sleep_type(const uint8_t *aml, size_t len, const char name[4], uint8_t *typ_a, uint8_t *typ_b)
{
    const uint8_t *end = aml + len;
    for (const uint8_t *p = aml; p + 4 <= end; p++) {
        if (p[0] != (uint8_t)name[0] || p[1] != (uint8_t)name[1] || p[2] != (uint8_t)name[2] ||
            p[3] != (uint8_t)name[3])
            continue;
        /* NameOp, then the name, optionally after a root or parent prefix. */
        const uint8_t *q = p;
        while (q > aml && (q[-1] == AML_ROOT_CHAR || q[-1] == AML_PARENT_CHAR))
            q--;
        if (q == aml || q[-1] != AML_NAME_OP)
            continue;
        const uint8_t *r = p + 4;
        if (r >= end || *r != AML_PACKAGE_OP)
            continue;
        r++;
        if (r >= end)
            return false;
        /* PkgLength: bits 7:6 of the lead byte count the bytes that follow it. */
        unsigned int follow = *r >> 6;
        if ((size_t)(end - r) < 1 + follow + 1)
            return false;
        r += 1 + follow;
        unsigned int count = *r++;
        if (count < 2)
            return false;
        uint32_t a, b;
        if (!aml_integer(r, end, &a, &r) || !aml_integer(r, end, &b, &r))
            return false;
        *typ_a = (uint8_t)(a & 7);
        *typ_b = (uint8_t)(b & 7);
        return true;
    }
    return false;
}
