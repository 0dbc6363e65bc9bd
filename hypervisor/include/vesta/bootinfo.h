/* Boot information handed over by a Multiboot 1 or Multiboot 2 loader, in one loader-neutral form.
 *
 * The parsers treat the loader's data as untrusted: every pointer, length and count is checked, physical memory is
 * only reached through the caller's phys_map_fn, and all strings are copied (and clamped) into boot_info's own
 * buffer so nothing refers back into loader memory after parsing. */
#ifndef VESTA_BOOTINFO_H
#define VESTA_BOOTINFO_H

#include "vesta/types.h"

/* E820 region types; any other value the firmware reports is kept as-is and treated as not-RAM. */
#define BOOT_MEM_RAM 1
#define BOOT_MEM_RESERVED 2
#define BOOT_MEM_ACPI 3
#define BOOT_MEM_NVS 4
#define BOOT_MEM_BAD 5

#define BOOT_MAX_MEM 128
#define BOOT_MAX_MODS 16
#define BOOT_STRBUF_SIZE 8192
#define BOOT_STRING_MAX 2048 /* per string, so one huge command line cannot starve the module names */

/* boot_info.warnings: the data was usable but something had to be dropped or shortened. */
#define BOOT_WARN_STRING_TRUNCATED (1u << 0)
#define BOOT_WARN_MEM_DROPPED (1u << 1)
#define BOOT_WARN_MODS_DROPPED (1u << 2)
#define BOOT_WARN_MEM_CLAMPED (1u << 3) /* a region wrapped past 2^64 and was cut short */

struct boot_mem_region {
    uint64_t base, len;
    uint32_t type;
};

struct boot_module {
    uint64_t start, end; /* physical [start, end) */
    char *cmdline; /* never NULL after a successful parse */
};

struct boot_info {
    int protocol; /* 1 or 2 */
    char *loader_name; /* never NULL after a successful parse ("" if not given) */
    char *cmdline; /* likewise */
    unsigned nr_mem;
    struct boot_mem_region mem[BOOT_MAX_MEM];
    unsigned nr_mods;
    struct boot_module mods[BOOT_MAX_MODS];
    bool has_rsdp;
    uint8_t rsdp[36]; /* ACPI RSDP copied from the mb2 tag; a v1 RSDP fills the first 20 bytes, the rest are 0 */
    char strbuf[BOOT_STRBUF_SIZE];
    size_t strused;
    uint32_t warnings; /* BOOT_WARN_* */
};

/* Returns a pointer to len accessible bytes at physical address pa, or NULL if they are not all accessible. */
typedef const void *(*phys_map_fn)(uint64_t pa, size_t len, void *ctx);

/* Both return 0 with *out filled in (memory map sanitized), or a negative errno with *out in an unspecified but
 * safe state: -EINVAL for malformed data, -EFAULT for data the accessor refused, -ENODATA if the loader gave no
 * memory information at all. multiboot2_parse also wants info_pa 8-byte aligned, as the specification promises. */
int multiboot1_parse(uint32_t info_pa, phys_map_fn map, void *ctx, struct boot_info *out);
int multiboot2_parse(uint32_t info_pa, phys_map_fn map, void *ctx, struct boot_info *out);

/* Sorts the map, resolves overlaps in favour of the more restrictive type (RAM loses to everything, bad memory
 * beats everything) and merges touching regions of the same type. Zero-length regions are dropped. */
void boot_memmap_sanitize(struct boot_info *bi);

/* The options in a loader-given command line (the hypervisor's or a module's): the text after the image path
 * that most loaders put first. GRUB 2 passes no path, so its text is taken whole, as Xen does. */
const char *boot_cmdline_args(const struct boot_info *bi, const char *cmdline);
const char *boot_module_args(const struct boot_info *bi, const struct boot_module *mod);

#endif
