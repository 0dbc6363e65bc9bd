/* Building dom0, the second half: from the plan (dom0_layout.c) to a runnable domain.
 *
 * Pseudo-physical frames are handed out in pfn order: the initrd's pfns get the module's own frames, every
 * other pfn the next frame from dom0's allocation (one large block first, as Xen does, then whatever sizes are
 * free). The bootstrap region [v_start, v_end) maps pfn p at v_start + p pages; its page tables come from the
 * planned pfns, in the order Xen allocates them. A P2M list placed at INIT_P2M gets page tables of its own from
 * the pfns after the first allocation. The page tables are then validated like any guest table, which takes
 * every reference the type rules need, and the L4 is pinned: dom0 starts under the same rules it lives by. */
#include <public/xen.h>
#include <vesta/dom0_layout.h>
#include <vesta/elf.h>
#include <vesta/errno.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/pv.h>
#include <vesta/setup.h>

#define L1_PROT (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY)
#define TABLE_PROT (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY)

struct builder {
    struct domain *d;
    const struct dom0_layout *l;
    uint64_t *p2m;           /* pfn -> mfn, hypervisor copy while building */
    uint64_t nr_pages;
    mfn_t l4;
    uint64_t next_table_pfn; /* INIT_P2M tables: allocated from here */
    uint64_t table_pfn_end;
};

static void *pfn_virt(struct builder *b, uint64_t pfn) { return mfn_to_virt(b->p2m[pfn]); }

static void *va_virt(struct builder *b, uint64_t va)
{
    return (char *)pfn_virt(b, (va - b->l->v_start) >> PAGE_SHIFT) + (va & (PAGE_SIZE - 1));
}

/* Copies len bytes to dom0 virtual address va inside the bootstrap region (src NULL: zero fill). */
static void copy_in(struct builder *b, uint64_t va, const void *src, uint64_t len)
{
    while (len) {
        uint64_t chunk = MIN(len, PAGE_SIZE - (va & (PAGE_SIZE - 1)));
        if (src) {
            memcpy(va_virt(b, va), src, chunk);
            src = (const char *)src + chunk;
        } else {
            memset(va_virt(b, va), 0, chunk);
        }
        va += chunk;
        len -= chunk;
    }
}

/* Gives dom0 its frames in pfn order. */
static int allocate_memory(struct builder *b, const struct boot_module *initrd)
{
    const struct dom0_layout *l = b->l;
    struct domain *d = b->d;
    uint64_t initrd_first = l->initrd_len ? l->initrd_pfn : UINT64_MAX;
    uint64_t initrd_end = l->initrd_len ? l->initrd_pfn + l->initrd_pages : 0;
    struct frame *pool = NULL;
    uint64_t pool_left = 0;
    unsigned int order = l->alloc_order;
    for (uint64_t pfn = 0; pfn < b->nr_pages; pfn++) {
        mfn_t mfn;
        if (pfn >= initrd_first && pfn < initrd_end) {
            mfn = (initrd->start >> PAGE_SHIFT) + (pfn - initrd_first);
            if (domain_assign_page(d, mfn_to_frame(mfn)))
                return -EBUSY;
        } else {
            if (!pool_left) {
                uint64_t want = b->nr_pages - pfn;
                while (order && (1UL << order) > want)
                    order--;
                while (!(pool = domain_alloc_pages(d, order)) && order)
                    order--;
                if (!pool)
                    return -ENOMEM;
                pool_left = 1UL << order;
            }
            mfn = frame_to_mfn(pool++);
            pool_left--;
        }
        b->p2m[pfn] = mfn;
        set_gpfn_from_mfn(mfn, pfn);
    }
    return 0;
}

#define MAX_BOOT_TABLES 64

struct pt_ctx {
    struct builder *b;
    unsigned int n;
    struct {
        unsigned int idx, level;
        uint64_t va;
    } t[MAX_BOOT_TABLES];
};

/* The planner lists the bootstrap tables in allocation order (an L1 before the L2 and L3 above it), so they are
 * recorded first and linked top-down afterwards. */
static void record_table(void *vctx, unsigned idx, unsigned level, uint64_t va)
{
    struct pt_ctx *c = vctx;
    if (c->n < MAX_BOOT_TABLES)
        c->t[c->n++] = (typeof(c->t[0])){idx, level, va};
}

static int link_tables(struct builder *b, struct pt_ctx *c)
{
    if (c->n != b->l->nr_pt_pages)
        return -ENOMEM;
    for (unsigned int i = 0; i < c->n; i++) {
        memset(pfn_virt(b, b->l->pt_pfn + c->t[i].idx), 0, PAGE_SIZE);
        if (c->t[i].level == 4)
            b->l4 = b->p2m[b->l->pt_pfn + c->t[i].idx];
    }
    for (unsigned int level = 3; level >= 1; level--) {
        for (unsigned int i = 0; i < c->n; i++) {
            if (c->t[i].level != level)
                continue;
            uint64_t va = c->t[i].va;
            uint64_t *t = mfn_to_virt(b->l4);
            for (unsigned int l = 4; l > level + 1; l--) {
                uint64_t e = t[(va >> (12 + 9 * (l - 1))) & 511];
                if (!(e & _PAGE_PRESENT))
                    return -ENOMEM;
                t = mfn_to_virt((e & PTE_ADDR_MASK) >> PAGE_SHIFT);
            }
            t[(va >> (12 + 9 * level)) & 511] = (b->p2m[b->l->pt_pfn + c->t[i].idx] << PAGE_SHIFT) | TABLE_PROT;
        }
    }
    return 0;
}

/* Maps va -> mfn in dom0's tables, creating missing tables from the INIT_P2M pfns. */
static int map_extra(struct builder *b, uint64_t va, mfn_t mfn, uint64_t flags)
{
    uint64_t *t = mfn_to_virt(b->l4);
    for (unsigned int level = 4; level > 1; level--) {
        uint64_t *e = &t[(va >> (12 + 9 * (level - 1))) & 511];
        if (!(*e & _PAGE_PRESENT)) {
            if (b->next_table_pfn >= b->table_pfn_end)
                return -ENOMEM;
            uint64_t pfn = b->next_table_pfn++;
            memset(pfn_virt(b, pfn), 0, PAGE_SIZE);
            *e = (b->p2m[pfn] << PAGE_SHIFT) | TABLE_PROT;
        }
        t = mfn_to_virt((*e & PTE_ADDR_MASK) >> PAGE_SHIFT);
    }
    t[(va >> 12) & 511] = (mfn << PAGE_SHIFT) | flags;
    return 0;
}

static int build_page_tables(struct builder *b)
{
    const struct dom0_layout *l = b->l;
    static struct pt_ctx c;
    c.b = b;
    c.n = 0;
    dom0_for_each_pt_page(l, record_table, &c);
    int lrc = link_tables(b, &c);
    if (lrc)
        return lrc;
    /* Every bootstrap page; the tables themselves read-only. */
    for (uint64_t pfn = 0; pfn < l->bootstrap_pages; pfn++) {
        uint64_t va = l->v_start + (pfn << PAGE_SHIFT);
        uint64_t flags = L1_PROT;
        if (pfn >= l->pt_pfn && pfn < l->pt_pfn + l->nr_pt_pages)
            flags &= ~_PAGE_RW;
        int rc = map_extra(b, va, b->p2m[pfn], flags);
        if (rc)
            return rc;
    }
    if (l->p2m_outside) {
        /* The P2M list lives in the pfns after the first allocation (and the initrd); its tables follow it. */
        uint64_t list_pages = ALIGN_UP(b->nr_pages * 8, PAGE_SIZE) >> PAGE_SHIFT;
        uint64_t list_pfn = l->first_p2m_pfn;
        b->next_table_pfn = list_pfn + list_pages;
        b->table_pfn_end = b->nr_pages;
        for (uint64_t i = 0; i < list_pages; i++) {
            int rc = map_extra(b, l->vphysmap_start + (i << PAGE_SHIFT), b->p2m[list_pfn + i], L1_PROT);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* The hypercall page: one 32-byte stub per hypercall, "push %rcx; push %r11; mov $n, %eax; syscall; pop %r11;
 * pop %rcx; ret" so the guest's RCX and R11 survive, and for iret "push %rcx; push %r11; push %rax; mov $23,
 * %eax; syscall" (the guest jumps there with its iret frame on the stack; it never returns). */
void pv_write_hypercall_page(uint8_t *p)
{
    memset(p, 0xcc, PAGE_SIZE);
    for (unsigned int i = 0; i < PAGE_SIZE / 32; i++) {
        uint8_t *s = p + i * 32;
        if (i == __HYPERVISOR_iret) {
            /* push %rcx; push %r11; push %rax: do_iret reads rax, r11, rcx, then the guest's frame */
            const uint8_t stub[] = {0x51, 0x41, 0x53, 0x50, 0xb8, i, 0, 0, 0, 0x0f, 0x05};
            memcpy(s, stub, sizeof(stub));
            continue;
        }
        const uint8_t stub[] = {0x51, 0x41, 0x53, 0xb8, (uint8_t)i, 0, 0, 0, 0x0f, 0x05, 0x41, 0x5b, 0x59, 0xc3};
        memcpy(s, stub, sizeof(stub));
    }
}

struct load_ctx {
    struct builder *b;
    int64_t shift; /* virt_base - paddr_offset */
};

static int load_segment(void *vctx, const struct elf_segment *seg)
{
    struct load_ctx *c = vctx;
    uint64_t va = seg->paddr + (uint64_t)c->shift;
    copy_in(c->b, va, seg->data, seg->filesz);
    copy_in(c->b, va + seg->filesz, NULL, seg->memsz - seg->filesz);
    return 0;
}

/* The boot display, as Xen hands it to dom0: a VGA text mode found in the BIOS data area (video mode 3 or 7,
 * left by the firmware) is described with its geometry and cursor. Nothing is reported for other modes. */
static bool fill_vga_info(struct dom0_vga_console_info *ci)
{
    const uint8_t *bda = map_firmware(0x400, 0x100);
    uint8_t mode = bda[0x49];
    if (mode != 3 && mode != 7)
        return false;
    uint16_t cols = *(const uint16_t *)&bda[0x4a];
    uint8_t rows = bda[0x84] ? (uint8_t)(bda[0x84] + 1) : 25;
    uint16_t font = *(const uint16_t *)&bda[0x85];
    if (!cols || cols > 255)
        return false;
    ci->video_type = XEN_VGATYPE_TEXT_MODE_3;
    ci->u.text_mode_3.columns = cols;
    ci->u.text_mode_3.rows = rows;
    ci->u.text_mode_3.font_height = font ? font : 16;
    ci->u.text_mode_3.cursor_x = bda[0x50];
    ci->u.text_mode_3.cursor_y = bda[0x51];
    return true;
}

static void fill_start_info(struct builder *b, const struct xen_elf_info *elf, const char *cmdline,
                            const struct boot_module *initrd)
{
    const struct dom0_layout *l = b->l;
    struct start_info *si = va_virt(b, l->vstartinfo_start);
    memset(si, 0, PAGE_SIZE);
    bool pae = !strcmp(elf->pae_mode, "yes") || !strcmp(elf->pae_mode, "bimodal") ||
               !strcmp(elf->pae_mode, "yes[extended-cr3]");
    snprintf(si->magic, sizeof(si->magic), "xen-3.0-x86_64%s", pae ? "p" : "");
    si->nr_pages = b->nr_pages;
    si->shared_info = b->d->shared_info_mfn << PAGE_SHIFT;
    si->flags = SIF_PRIVILEGED | SIF_INITDOMAIN | l->si_flags;
    si->pt_base = l->vpt_start;
    si->nr_pt_frames = l->nr_pt_pages;
    si->mfn_list = l->vphysmap_start;
    si->first_p2m_pfn = l->first_p2m_pfn;
    si->nr_p2m_frames = l->p2m_outside ? b->next_table_pfn - l->first_p2m_pfn : 0;
    if (initrd && l->initrd_len) {
        si->mod_start = l->si_mod_start;
        si->mod_len = initrd->end - initrd->start;
    }
    if (fill_vga_info((struct dom0_vga_console_info *)(si + 1))) {
        si->console.dom0.info_off = sizeof(*si);
        si->console.dom0.info_size = sizeof(struct dom0_vga_console_info);
    }
    if (cmdline) {
        size_t n = MIN(strlen(cmdline), sizeof(si->cmd_line) - 1);
        memcpy(si->cmd_line, cmdline, n);
    }
}

int dom0_construct(const void *image, size_t image_len, const struct xen_elf_info *elf,
                   const struct dom0_layout *l, const char *cmdline, const struct boot_module *initrd,
                   unsigned int nr_vcpus)
{
    struct domain_config cfg = {
        .id = 0,
        .privileged = true,
        .max_vcpus = nr_vcpus,
        .max_evtchn_port = EVTCHN_2L_NR_CHANNELS - 1,
        .max_grant_frames = 64,     /* Xen's gnttab_max_frames default */
        .max_maptrack_frames = 1024, /* Xen's gnttab_max_maptrack_frames default */
        .max_grant_version = 2,
    };
    int err;
    struct domain *d = domain_create(&cfg, &err);
    if (!d) {
        pr_err("Dom0 builder: cannot create domain 0 (%d)", err);
        return err;
    }
    d->max_pages = l->nr_pages;
    /* (memory area) Xen's ELF parser reads a PAE_MODE note of exactly "yes" as "extended CR3" and the dom0
     * builder then turns on that assist; XENVER_get_features reports it as pae_pgdir_above_4gb. */
    if (!strcmp(elf->pae_mode, "yes"))
        d->vm_assist |= 1UL << VMASST_TYPE_pae_extended_cr3;
    struct builder b = {.d = d, .l = l, .nr_pages = l->nr_pages};
    unsigned int p2m_order = 0;
    while ((PAGE_SIZE << p2m_order) < b.nr_pages * 8)
        p2m_order++;
    b.p2m = alloc_hv_pages(p2m_order);
    if (!b.p2m) {
        pr_err("Dom0 builder: no memory for the P2M");
        return -ENOMEM;
    }
    int rc = allocate_memory(&b, initrd);
    if (rc) {
        pr_err("Dom0 builder: cannot allocate %lu pages for dom0 (%d)", b.nr_pages, rc);
        return rc;
    }
    rc = build_page_tables(&b);
    if (rc) {
        pr_err("Dom0 builder: out of page-table frames (%d)", rc);
        return rc;
    }
    struct load_ctx lc = {.b = &b, .shift = (int64_t)(elf->virt_base - elf->paddr_offset)};
    rc = elf_for_each_load(image, image_len, load_segment, &lc);
    if (rc) {
        pr_err("Dom0 builder: loading the kernel failed (%d)", rc);
        return rc;
    }
    if (elf->hypercall_page != XEN_ELF_UNSET)
        pv_write_hypercall_page(va_virt(&b, elf->hypercall_page));
    /* The P2M list: in the bootstrap region, or at INIT_P2M. */
    uint64_t list_pfn = l->p2m_outside ? l->first_p2m_pfn : l->physmap_pfn;
    for (uint64_t pfn = 0; pfn < b.nr_pages; pfn++)
        ((uint64_t *)pfn_virt(&b, list_pfn + (pfn >> 9)))[pfn & 511] = b.p2m[pfn];
    fill_start_info(&b, elf, cmdline, initrd);
    if (l->initrd_len && !l->initrd_mapped && (initrd->start & (PAGE_SIZE - 1))) {
        pr_err("Dom0 builder: the initrd module is not page aligned");
        return -EINVAL;
    }

    /* Validate and pin the L4: this types every table and takes every reference the entries need. */
    rc = pv_get_page(d, b.l4) ? pv_get_page_type(d, b.l4, FRAME_T_L4) : -EINVAL;
    if (rc) {
        pr_err("Dom0 builder: the initial page tables do not validate (%d)", rc);
        return rc;
    }
    frame_test_and_set_pinned(mfn_to_frame(b.l4));
    rc = pv_get_page(d, b.l4) ? pv_get_page_type(d, b.l4, FRAME_T_L4) : -EINVAL; /* the vCPU's CR3 reference */
    if (rc)
        return rc;
    free_hv_pages(b.p2m, p2m_order);
    d->max_pfn = b.nr_pages;

    for (unsigned int i = 0; i < nr_vcpus; i++) {
        if (!vcpu_create(d, i)) {
            pr_err("Dom0 builder: cannot create vCPU %u", i);
            return -ENOMEM;
        }
    }
    struct vcpu *v = d->vcpus[0];
    v->pv.kernel_l4 = b.l4;
    v->regs.rip = l->entry;
    v->regs.rsp = l->vstack_end;
    v->regs.rsi = l->vstartinfo_start;
    v->regs.cs = FLAT_KERNEL_CS;
    v->regs.ss = FLAT_KERNEL_SS;
    v->regs.rflags = X86_EFLAGS_IF;
    v->is_initialised = true;
    printk("Dom0: %lu pages, %u vCPU%s, L4 at mfn %#lx, entry %#lx", b.nr_pages, nr_vcpus,
           nr_vcpus == 1 ? "" : "s", b.l4, l->entry);
    __atomic_fetch_and(&v->pause_flags, ~VPF_DOWN, __ATOMIC_SEQ_CST);
    vcpu_wake(v);
    domain_put(d); /* the builder's reference; the table keeps it */
    return 0;
}
