/* Building dom0: the first half. From the boot modules and dom0_mem= this computes dom0's size the way Xen 4.17
 * does and plans its initial address space with dom0_layout.c, printing the arrangement in Xen's format so the
 * two can be compared line by line. Loading the kernel and starting dom0 are the PV machine's part (next). */
#include <vesta/bzimage.h>
#include <vesta/timer.h>
#include <vesta/xz.h>
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

/* Xen's limit on dom0's reservation (d->max_pages, what XENMEM_maximum_reservation reports): the dom0_mem=max:
 * amount if one was given, else UINT_MAX pages, so that dom0 can balloon up to anything the host has. */
static uint64_t dom0_max_pages(void)
{
    const struct dom0_mem_opt *o = &boot_opts.dom0_mem;
    if (!o->max.set)
        return UINT32_MAX;
    uint64_t avail = free_page_count();
    for (unsigned int i = 0; i < boot_info.nr_mods; i++)
        avail += ALIGN_UP(boot_info.mods[i].end - boot_info.mods[i].start, PAGE_SIZE) >> PAGE_SHIFT;
    return MIN(amount_pages(&o->max, avail), (uint64_t)UINT32_MAX);
}

/* What dom0_inspect() found in module 0: the kernel ELF (the module itself, or the unpacked payload of a
 * bzImage) and its notes. */
static struct xen_elf_info dom0_elf;
static bool dom0_elf_ok;
static const void *dom0_image;
static size_t dom0_image_len;
static struct frame *unpacked_frames; /* the buffer holding an unpacked bzImage payload */
static uint64_t unpacked_pages;

/* Unpacks an xz payload into fresh frames. Only xz is supported: it is what Debian's and most distributions'
 * kernels use; other compressions are refused with a clear message. */
static bool unpack_bzimage(const struct bzimage_info *bz)
{
    if (bz->comp != BZIMAGE_COMP_XZ) {
        pr_err("Dom0 kernel: %s-compressed bzImage payloads are not supported (xz is)", bzimage_comp_name(bz->comp));
        return false;
    }
    uint64_t pages = ALIGN_UP((uint64_t)bz->decompressed_len + 64, PAGE_SIZE) >> PAGE_SHIFT;
    unsigned int order = 0;
    while ((1UL << order) < pages)
        order++;
    struct frame *f = alloc_pages(order);
    if (!f) {
        pr_err("Dom0 kernel: no memory to unpack %u bytes", bz->decompressed_len);
        return false;
    }
    for (uint64_t i = pages; i < (1UL << order); i++) /* give back the tail of the power-of-two block */
        free_pages(f + i, 0);
    void *out = mfn_to_virt(frame_to_mfn(f));
    size_t out_len = 0;
    const char *why = NULL;
    uint64_t t0 = now_ns();
    int rc = xz_decompress(bz->payload, bz->payload_length, out, pages << PAGE_SHIFT, &out_len, &why);
    if (rc) {
        pr_err("Dom0 kernel: unpacking the xz payload failed (%d): %s", rc, why ? why : "unknown error");
        for (uint64_t i = 0; i < pages; i++)
            free_pages(f + i, 0);
        return false;
    }
    printk("Dom0 kernel: unpacked %lu bytes in %lu ms", (unsigned long)out_len, (now_ns() - t0) / 1000000);
    unpacked_frames = f;
    unpacked_pages = pages;
    dom0_image = out;
    dom0_image_len = out_len;
    return true;
}

void dom0_inspect(void)
{
    if (!boot_info.nr_mods)
        return;
    const struct boot_module *m = &boot_info.mods[0];
    const void *image = maddr_to_virt(m->start);
    struct bzimage_info bz;
    const char *why = NULL;
    int rc = bzimage_parse(image, m->end - m->start, &bz, &why);
    dom0_image = image;
    dom0_image_len = m->end - m->start;
    if (rc > 0) {
        printk("Dom0 kernel: bzImage, boot protocol %u.%02u, %s payload of %u bytes (%u bytes unpacked)",
               bz.version >> 8, bz.version & 0xff, bzimage_comp_name(bz.comp), bz.payload_length,
               bz.decompressed_len);
        if (!unpack_bzimage(&bz))
            return;
    } else if (rc < 0) {
        pr_err("Dom0 kernel: malformed bzImage: %s", why ? why : "unknown error");
        return;
    }
    if (elf_parse_xen(dom0_image, dom0_image_len, &dom0_elf)) {
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
        printk("Dom0 builder: no loadable PV kernel; dom0 not built");
        return;
    }
    const struct xen_elf_info *elf = &dom0_elf;
    uint64_t initrd_len = boot_info.nr_mods > 1 ? boot_info.mods[1].end - boot_info.mods[1].start : 0;
    uint64_t nr_pages = dom0_nr_pages(elf, initrd_len);
    uint64_t max_pages = dom0_max_pages(); /* computed with the same `avail` as the size */
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
    if (dom0_construct(dom0_image, dom0_image_len, elf, &l, boot_module_args(&boot_info, m),
                       boot_info.nr_mods > 1 ? &boot_info.mods[1] : NULL, nr_vcpus)) {
        pr_err("Dom0 builder: dom0 not started");
        return;
    }
    /* The builder allocated exactly nr_pages under a limit of nr_pages; from now on dom0 may grow to Xen's
     * limit. (dom0 has not run yet.) */
    struct domain *d0 = hardware_domain;
    if (d0)
        d0->max_pages = MAX(max_pages, d0->tot_pages);
    /* The kernel is loaded: its module and any unpacked copy go back to the heap, as Xen frees them. */
    uint64_t freed = 0;
    for (uint64_t i = 0; unpacked_frames && i < unpacked_pages; i++, freed++)
        free_pages(unpacked_frames + i, 0);
    for (paddr_t pa = ALIGN_UP(m->start, PAGE_SIZE); pa + PAGE_SIZE <= m->end; pa += PAGE_SIZE, freed++)
        free_boot_frame(pa >> PAGE_SHIFT);
    printk("Dom0 builder: %lu KiB of kernel image memory freed", freed << 2);
    console_input_to_dom0(true);
}
