/* Building dom0: the first half. From the boot modules and dom0_mem= this computes dom0's size the way Xen 4.17
 * does and plans its initial address space with dom0_layout.c, printing the arrangement in Xen's format so the
 * two can be compared line by line. Loading the kernel and starting dom0 are the PV machine's part (next). */
#include <vesta/bzimage.h>
#include <vesta/dom0_layout.h>
#include <vesta/elf.h>
#include <vesta/mm.h>
#include <vesta/percpu.h>
#include <vesta/pv.h>
#include <vesta/setup.h>

/* One dom0_mem amount in pages: <size>, <frac>% of avail, or both added; '-' means avail minus that. */
static uint64_t amount_pages(const struct dom0_mem_amount *a, uint64_t avail)
{
    uint64_t n = (a->bytes >> PAGE_SHIFT) + avail * a->percent / 100;
    if (a->minus)
        return n < avail ? avail - n : 0;
    return n;
}

/* Xen's dom0_compute_nr_pages() for a 64-bit PV dom0 without IOMMU or shadow paging: `avail` is the free heap
 * plus the boot modules (freed once dom0 is built); without an amount, dom0 gets avail minus 1/16 of it, at most
 * 128 MiB held back; then the min:/max: clamps and avail bound it. */
static uint64_t dom0_nr_pages(const struct xen_elf_info *elf, uint64_t initrd_len)
{
    const struct dom0_mem_opt *o = &boot_opts.dom0_mem;
    uint64_t avail = free_page_count();
    for (unsigned int i = 0; i < boot_info.nr_mods; i++)
        avail += ALIGN_UP(boot_info.mods[i].end - boot_info.mods[i].start, PAGE_SIZE) >> PAGE_SHIFT;

    uint64_t nr = o->amount.set ? amount_pages(&o->amount, avail) : 0;
    if (!nr)
        nr = avail - MIN(avail / 16, 128UL << (20 - PAGE_SHIFT));
    if (o->min.set)
        nr = MAX(nr, amount_pages(&o->min, avail));
    if (o->max.set)
        nr = MIN(nr, amount_pages(&o->max, avail));
    nr = MIN(nr, avail);
    if (elf->init_p2m == XEN_ELF_UNSET && !o->amount.set) {
        uint64_t capped = dom0_legacy_nr_pages_cap(elf, initrd_len, nr);
        if (capped < nr)
            printk("Dom0 memory clipped to %lu pages", capped);
        nr = capped;
    }
    return nr;
}

/* What dom0_inspect() found in module 0. */
static struct xen_elf_info dom0_elf;
static bool dom0_elf_ok;

void dom0_inspect(void)
{
    if (!boot_info.nr_mods)
        return;
    const struct boot_module *m = &boot_info.mods[0];
    const void *image = maddr_to_virt(m->start);
    struct bzimage_info bz;
    const char *why = NULL;
    int rc = bzimage_parse(image, m->end - m->start, &bz, &why);
    if (rc > 0) {
        printk("Dom0 kernel: bzImage, boot protocol %u.%02u, %s payload of %u bytes (%u bytes unpacked)",
               bz.version >> 8, bz.version & 0xff, bzimage_comp_name(bz.comp), bz.payload_length,
               bz.decompressed_len);
        return;
    }
    if (rc < 0) {
        pr_err("Dom0 kernel: malformed bzImage: %s", why ? why : "unknown error");
        return;
    }
    if (elf_parse_xen(image, m->end - m->start, &dom0_elf)) {
        pr_err("Dom0 kernel: not a usable PV image: %s", dom0_elf.error ? dom0_elf.error : "unknown error");
        return;
    }
    dom0_elf_ok = true;
    printk("Dom0 kernel: ELF64 x86-64, entry %#lx, virt base %#lx, hypercall page %#lx, loader '%s'%s",
           dom0_elf.entry, dom0_elf.virt_base, dom0_elf.hypercall_page, dom0_elf.loader,
           dom0_elf.has_xen_notes ? "" : " (no Xen notes)");
}

void dom0_build(void)
{
    if (!boot_info.nr_mods)
        return;
    if (!dom0_elf_ok) {
        printk("Dom0 builder: no loadable ELF kernel (compressed bzImage kernels are not unpacked yet); "
               "dom0 not planned");
        return;
    }
    const struct xen_elf_info *elf = &dom0_elf;
    uint64_t initrd_len = boot_info.nr_mods > 1 ? boot_info.mods[1].end - boot_info.mods[1].start : 0;
    uint64_t nr_pages = dom0_nr_pages(elf, initrd_len);
    struct dom0_layout l;
    const char *why = NULL;
    if (dom0_plan_layout(elf, initrd_len, nr_pages, &l, &why)) {
        pr_err("Dom0 builder: %s", why ? why : "no layout fits");
        return;
    }
    struct dom0_layout_line lines[DOM0_LAYOUT_MAX_LINES];
    unsigned int n = dom0_layout_lines(&l, lines);
    printk("Dom0: %lu pages (%lu MiB)", nr_pages, nr_pages >> (20 - PAGE_SHIFT));
    printk("VIRTUAL MEMORY ARRANGEMENT:");
    for (unsigned int i = 0; i < n; i++) {
        char buf[96];
        dom0_layout_format_line(&lines[i], buf, sizeof(buf));
        printk("%s", buf);
    }
    const struct boot_module *m = &boot_info.mods[0];
    unsigned int nr_vcpus = boot_opts.dom0_max_vcpus ? boot_opts.dom0_max_vcpus : nr_cpus_online;
    nr_vcpus = MIN(nr_vcpus, MAX_VIRT_CPUS);
    if (dom0_construct(maddr_to_virt(m->start), m->end - m->start, elf, &l, boot_module_args(&boot_info, m),
                       boot_info.nr_mods > 1 ? &boot_info.mods[1] : NULL, nr_vcpus))
        pr_err("Dom0 builder: dom0 not started");
}
