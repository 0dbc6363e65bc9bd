/*
 * hello: start_info as handed over by the domain builder, plus console
 * output through HYPERVISOR_console_io.
 */
#include "guest.h"

void test_main(void)
{
    const start_info_t *si = start_info;
    size_t cl;
    long rc;

    printf("  start_info at %p: magic '%.32s' nr_pages %lu flags %#x\n",
           (void *)si, si->magic, si->nr_pages, si->flags);

    /* The builder appends "p" because our PAE_MODE note says "yes". */
    CHECK(!strncmp(si->magic, "xen-3.0-x86_64", 14), "magic starts xen-3.0-x86_64");
    CHECK(!strcmp(si->magic, "xen-3.0-x86_64p"), "magic is exactly xen-3.0-x86_64p");
    CHECK(si->nr_pages > 0, "nr_pages non-zero");
    CHECK(si->shared_info != 0 && !(si->shared_info & 0xfff),
          "shared_info is a non-zero page-aligned machine address");
    CHECK(si->pt_base != 0 && !(si->pt_base & 0xfff), "pt_base page aligned");
    CHECK(si->pt_base >= (uint64_t)image_end, "pt_base lies above the image");
    CHECK(si->nr_pt_frames >= 4, "at least 4 bootstrap page-table frames");
    CHECK(si->mfn_list != 0 && !(si->mfn_list & 7), "mfn_list aligned");
    CHECK(si->mfn_list >= (uint64_t)image_end && si->mfn_list < (uint64_t)si,
          "mfn_list between image and start_info");
    CHECK_EQ(si->flags & (SIF_PRIVILEGED | SIF_INITDOMAIN),
             SIF_PRIVILEGED | SIF_INITDOMAIN, "dom0 flags PRIVILEGED|INITDOMAIN");
    CHECK_EQ(si->console.dom0.info_off, sizeof(start_info_t),
             "console.dom0.info_off follows start_info");
    CHECK_EQ(si->console.dom0.info_size, sizeof(struct dom0_vga_console_info),
             "console.dom0.info_size");

    /* p2m / m2p consistency for our own first frame and start_info. */
    CHECK_EQ(M2P[va_to_mfn(image_start)], va_to_pfn(image_start),
             "m2p(p2m(pfn of image)) == pfn");
    CHECK_EQ(M2P[va_to_mfn(si)], va_to_pfn(si), "m2p(p2m(pfn of start_info)) == pfn");
    CHECK_EQ(va_to_mfn((void *)si->pt_base) << 12,
             ({ uint64_t v; asm volatile ("mov %%cr3, %0" : "=r" (v)); v; }),
             "emulated cr3 == p2m(pt_base)");

    cl = strnlen((const char *)si->cmd_line, MAX_GUEST_CMDLINE);
    CHECK(cl < MAX_GUEST_CMDLINE, "cmd_line NUL terminated");
    printf("  cmd_line: '%s'\n", (const char *)si->cmd_line);
    CHECK(strstr((const char *)si->cmd_line, "vesta-guest=hello") != NULL,
          "cmd_line carries the module argument");

    /* Events start masked on every vCPU. */
    CHECK_EQ(vcpu0()->evtchn_upcall_mask, 1, "vcpu0 upcall mask starts set");

    rc = hyp_console_write("  console_io write ok\n", 22);
    CHECK_EQ(rc, 0, "console_io write returns 0");
    rc = hyp_console_write("", 0);
    CHECK_EQ(rc, 0, "console_io zero-length write");
    rc = hypercall3(__HYPERVISOR_console_io, CONSOLEIO_write, 8, 0x1);
    CHECK_EQ(rc, -EFAULT, "console_io write from bad pointer -> -EFAULT");
    rc = hypercall3(__HYPERVISOR_console_io, 99, 0, 0);
    CHECK_EQ(rc, -ENOSYS, "console_io unknown cmd -> -ENOSYS");
}
