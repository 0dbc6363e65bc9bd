/* xen_version: what a guest learns about the hypervisor it runs on.
 *
 * Guests probe the version to pick code paths, so every sub-op answers as Xen 4.17 does for a 64-bit PV domain:
 * fixed-size buffers are written whole (zero padded, so nothing of our stack leaks, cf. XSA-122), errors come
 * in Xen's order (a bad buffer is -EFAULT, an unknown sub-op -ENOSYS), and the feature bits are computed from
 * the domain the same way. Vesta has no XSM, so nothing is ever denied. */
#include <public/features.h>
#include <public/version.h>
#include <vesta/bootinfo.h>
#include <vesta/errno.h>
#include <vesta/guest_access.h>
#include <vesta/lib.h>
#include <vesta/pv.h>
#include <vesta/setup.h>

/* Guests print major.minor + extraversion ("4.17.7-vesta"); Linux only checks that it starts with a dot. */
#define VESTA_EXTRAVERSION ".7-vesta"
#define VESTA_CHANGESET "vesta " VESTA_VERSION

/* What XENVER_capabilities lists: only 64-bit PV guests (no 32-bit PV, no HVM). Xen ends every entry with a
 * space, the last one included. */
#define VESTA_CAPABILITIES "xen-3.0-x86_64 "

/* Copies a string into a zeroed buffer of exactly size bytes, always NUL terminated. */
static void fill_string(char *buf, size_t size, const char *s)
{
    memset(buf, 0, size);
    size_t n = strlen(s);
    if (n >= size)
        n = size - 1;
    memcpy(buf, s, n);
}

static long copy_string_out(uint64_t arg, size_t size, const char *s)
{
    char buf[1024];
    fill_string(buf, size, s);
    return copy_to_guest(arg, buf, size) ? -EFAULT : 0;
}

/* Submap 0 of XENVER_get_features for a PV domain (Xen: common/kernel.c). PV guests are never translated and
 * always direct mapped (gfn == mfn), never have writable page tables as a feature. */
static uint32_t pv_features_submap0(const struct domain *d)
{
    uint32_t m = 1U << XENFEAT_memory_op_vnode_supported;
    if (d->vm_assist & (1UL << VMASST_TYPE_pae_extended_cr3))
        m |= 1U << XENFEAT_pae_pgdir_above_4gb;
    if (d->privileged)
        m |= 1U << XENFEAT_dom0;
    m |= (1U << XENFEAT_mmu_pt_update_preserve_ad) | (1U << XENFEAT_highmem_assist) |
         (1U << XENFEAT_gnttab_map_avail_bits);
    m |= 1U << XENFEAT_direct_mapped;
    return m;
}

/* XENVER_build_id. Vesta is linked without a GNU build id, so after Xen's argument checks the answer is
 * -ENODATA, as Xen gives when it has none. */
static long build_id(uint64_t arg)
{
    if (arg) {
        struct xen_build_id hdr;
        if (copy_from_guest(&hdr, arg, sizeof(hdr)))
            return -EFAULT;
        if (hdr.len == 0)
            return -EINVAL;
    }
    return -ENODATA;
}

HC(do_xen_version)
{
    int cmd = (int)a1; /* Xen's parameter is an int: the upper half of the register is ignored */
    uint64_t arg = a2;
    struct domain *d = current_domain();

    switch (cmd) {
    case XENVER_version:
        return (VESTA_XEN_MAJOR << 16) | VESTA_XEN_MINOR;
    case XENVER_extraversion:
        return copy_string_out(arg, sizeof(xen_extraversion_t), VESTA_EXTRAVERSION);
    case XENVER_compile_info: {
        struct xen_compile_info ci;
        fill_string(ci.compiler, sizeof(ci.compiler), "gcc " __VERSION__);
        fill_string(ci.compile_by, sizeof(ci.compile_by), "vesta");
        fill_string(ci.compile_domain, sizeof(ci.compile_domain), "vesta.invalid");
        fill_string(ci.compile_date, sizeof(ci.compile_date), __DATE__ " " __TIME__);
        return copy_to_guest(arg, &ci, sizeof(ci)) ? -EFAULT : 0;
    }
    case XENVER_capabilities:
        return copy_string_out(arg, sizeof(xen_capabilities_info_t), VESTA_CAPABILITIES);
    case XENVER_platform_parameters: {
        struct xen_platform_parameters pp = {.virt_start = HYPERVISOR_VIRT_START};
        return copy_to_guest(arg, &pp, sizeof(pp)) ? -EFAULT : 0;
    }
    case XENVER_changeset:
        return copy_string_out(arg, sizeof(xen_changeset_info_t), VESTA_CHANGESET);
    case XENVER_get_features: {
        struct xen_feature_info fi;
        if (copy_from_guest(&fi, arg, sizeof(fi)))
            return -EFAULT;
        if (fi.submap_idx != 0)
            return -EINVAL;
        fi.submap = pv_features_submap0(d);
        return copy_to_guest(arg, &fi, sizeof(fi)) ? -EFAULT : 0;
    }
    case XENVER_pagesize:
        return arg ? -EINVAL : (long)PAGE_SIZE;
    case XENVER_guest_handle: {
        uint8_t handle[16];
        memset(handle, 0, sizeof(handle)); /* domains created by the hypervisor itself have a null handle */
        return copy_to_guest(arg, handle, sizeof(handle)) ? -EFAULT : 0;
    }
    case XENVER_commandline:
        return copy_string_out(arg, sizeof(xen_commandline_t), boot_cmdline_args(&boot_info, boot_info.cmdline));
    case XENVER_build_id:
        return build_id(arg);
    default:
        return -ENOSYS;
    }
}
