/*
 * hostile: an unprivileged domU that tries to reach past its own domain, and
 * checks that every attempt fails with the error Xen 4.17 gives (the same
 * kernel runs on Xen and on Vesta; Xen decides what is right).  xl starts it
 * from dom0 (tests/xl/run_xl.py, scenario "isolation").
 *
 * What it tries: the toolstack's hypercalls (domctl, sysctl: the version is
 * checked before the privilege), mapping, pinning, clearing and copying
 * dom0's frames (naming dom0 as foreign domain, or naming a dom0 frame as
 * its own), memory and grant-table operations on dom0, dom0's event
 * channels, console_io, physdev, platform_op, mca, remote shutdown, and raw
 * port I/O (refused with #GP; with set_iopl 3 the access is let through but
 * neutered, as in Xen: reads give all ones and writes are dropped).  Then it
 * crashes itself in a way the hypervisor must contain to this domain.
 *
 * Command line (run_xl.py finds the dom0 frames with vesta-hold in dom0):
 *   d0ram=0x..   a plain RAM frame of dom0
 *   d0pt=0x..    one of dom0's page-table frames (validated, type L1..L4)
 *   d0si=0x..    dom0's shared_info frame (a hypervisor page shared with dom0)
 *   crash=stack  end by faulting with the kernel stack pointer on an unmapped
 *                address (the exception frame cannot be written)
 *   crash=notrap end by faulting with no trap table at all
 *   quick        skip the checks, only crash
 * Without crash= it powers off after the checks.  Results go to the PV
 * console ring as "PASS name"/"FAIL name: detail" lines and the summary
 * "VESTA-GUEST-TEST hostile: N passed, N failed".
 */
#include "guest.h"
#include <domctl.h>
#include <platform.h>
#include <sysctl.h>

#define PAGE_ALIGNED __attribute__((aligned(PAGE_SIZE), section(".bss.page_aligned")))
#define NOT_A_DOMAIN 0x7000     /* below DOMID_FIRST_RESERVED, never allocated here */
#define PTE_RO (PTE_P | PTE_A)
#define PTE_WR (PTE_P | PTE_RW | PTE_A | PTE_D)

/* Pages whose mappings the checks try to point at dom0's frames. */
static uint8_t window[PAGE_SIZE] PAGE_ALIGNED;
static uint8_t scratch[PAGE_SIZE] PAGE_ALIGNED;

static domid_t self_id;
static uint64_t d0ram, d0pt, d0si;

static unsigned long cmdline_hex(const char *key)
{
    const char *p = strstr((const char *)start_info->cmd_line, key);
    unsigned long v = 0;

    if ( !p )
        return 0;
    p += strlen(key);
    if ( p[0] == '0' && p[1] == 'x' )
        p += 2;
    for ( ;; p++ )
    {
        unsigned int d;

        if ( *p >= '0' && *p <= '9' )
            d = (unsigned int)(*p - '0');
        else if ( *p >= 'a' && *p <= 'f' )
            d = (unsigned int)(*p - 'a' + 10);
        else
            break;
        v = v * 16 + d;
    }
    return v;
}

static bool cmdline_has(const char *word)
{
    return strstr((const char *)start_info->cmd_line, word) != NULL;
}

/* ---- identity ------------------------------------------------------------------------------------------- */

/* A PV domain has no hypercall that names its own id, but an unbound port whose remote is DOMID_SELF records
 * the caller's id, and EVTCHNOP_status reports it. */
static void find_self(void)
{
    struct evtchn_alloc_unbound au = { .dom = DOMID_SELF, .remote_dom = DOMID_SELF };
    struct evtchn_status st = { .dom = DOMID_SELF };
    struct evtchn_close cl;

    CHECK_EQ(hyp_event_channel_op(EVTCHNOP_alloc_unbound, &au), 0, "alloc_unbound(self, self)");
    st.port = au.port;
    CHECK_EQ(hyp_event_channel_op(EVTCHNOP_status, &st), 0, "status of that port");
    CHECK_EQ(st.status, EVTCHNSTAT_unbound, "it is unbound");
    self_id = st.u.unbound.dom;
    cl.port = au.port;
    hyp_event_channel_op(EVTCHNOP_close, &cl);
    CHECK(self_id != 0 && self_id < DOMID_FIRST_RESERVED, "own domain id is a domU's");
    printf("HOSTILE: domid %u, dom0 frames ram %#lx pt %#lx shared_info %#lx\n", self_id,
           (unsigned long)d0ram, (unsigned long)d0pt, (unsigned long)d0si);
}

/* ---- domctl and sysctl ---------------------------------------------------------------------------------- */

static struct xen_domctl dc;
static struct xen_sysctl sc;

static long domctl(uint32_t cmd, domid_t dom, uint32_t version)
{
    memset(&dc, 0, sizeof(dc));
    dc.cmd = cmd;
    dc.domain = dom;
    dc.interface_version = version;
    return hypercall1(__HYPERVISOR_domctl, &dc);
}

static long sysctl(uint32_t cmd, uint32_t version)
{
    memset(&sc, 0, sizeof(sc));
    sc.cmd = cmd;
    sc.interface_version = version;
    return hypercall1(__HYPERVISOR_sysctl, &sc);
}

static void test_domctl(void)
{
    const uint32_t v = XEN_DOMCTL_INTERFACE_VERSION;

    CHECK_EQ(hypercall1(__HYPERVISOR_domctl, NULL), -EFAULT, "domctl: null pointer -EFAULT");
    CHECK_EQ(domctl(XEN_DOMCTL_getdomaininfo, 0, v - 1), -EACCES, "domctl: old version -EACCES");
    CHECK_EQ(domctl(XEN_DOMCTL_destroydomain, 0, v + 1), -EACCES, "domctl: new version -EACCES before privilege");
    CHECK_EQ(domctl(9999, 0, 0), -EACCES, "domctl: version checked before the command");
    CHECK_EQ(domctl(XEN_DOMCTL_getdomaininfo, 0, v), -EPERM, "domctl getdomaininfo(dom0): -EPERM");
    CHECK_EQ(domctl(XEN_DOMCTL_getdomaininfo, self_id, v), -EPERM, "domctl getdomaininfo(self by id): -EPERM");
    CHECK_EQ(domctl(XEN_DOMCTL_getdomaininfo, DOMID_SELF, v), -EINVAL, "domctl getdomaininfo(DOMID_SELF): -EINVAL");
    CHECK_EQ(domctl(XEN_DOMCTL_getdomaininfo, NOT_A_DOMAIN, v), -ESRCH, "domctl getdomaininfo(none above): -ESRCH");
    CHECK_EQ(domctl(XEN_DOMCTL_pausedomain, 0, v), -EPERM, "domctl pausedomain(dom0): -EPERM");
    CHECK_EQ(domctl(XEN_DOMCTL_destroydomain, 0, v), -EPERM, "domctl destroydomain(dom0): -EPERM");
    CHECK_EQ(domctl(XEN_DOMCTL_destroydomain, self_id, v), -EPERM, "domctl destroydomain(self): -EPERM");
    CHECK_EQ(domctl(XEN_DOMCTL_unpausedomain, self_id, v), -EPERM, "domctl unpausedomain(self): -EPERM");
    CHECK_EQ(domctl(XEN_DOMCTL_pausedomain, NOT_A_DOMAIN, v), -ESRCH, "domctl pausedomain(no such domain): -ESRCH");
    CHECK_EQ(domctl(XEN_DOMCTL_createdomain, 0, v), -EPERM, "domctl createdomain: -EPERM");

    memset(&dc, 0, sizeof(dc));
    dc.cmd = XEN_DOMCTL_max_mem;
    dc.interface_version = v;
    dc.domain = self_id;
    dc.u.max_mem.max_memkb = 1UL << 30;
    CHECK_EQ(hypercall1(__HYPERVISOR_domctl, &dc), -EPERM, "domctl max_mem(self, 1 TiB): -EPERM");
    memset(&dc, 0, sizeof(dc));
    dc.cmd = XEN_DOMCTL_setvcpucontext;
    dc.interface_version = v;
    dc.domain = 0;
    CHECK_EQ(hypercall1(__HYPERVISOR_domctl, &dc), -EPERM, "domctl setvcpucontext(dom0 vCPU0, reset): -EPERM");
}

static void test_sysctl(void)
{
    const uint32_t v = XEN_SYSCTL_INTERFACE_VERSION;

    CHECK_EQ(hypercall1(__HYPERVISOR_sysctl, NULL), -EFAULT, "sysctl: null pointer -EFAULT");
    CHECK_EQ(sysctl(XEN_SYSCTL_physinfo, v - 1), -EACCES, "sysctl: old version -EACCES before privilege");
    CHECK_EQ(sysctl(12345, 0), -EACCES, "sysctl: version checked before the command");
    CHECK_EQ(sysctl(XEN_SYSCTL_physinfo, v), -EPERM, "sysctl physinfo: -EPERM");
    CHECK_EQ(sysctl(XEN_SYSCTL_readconsole, v), -EPERM, "sysctl readconsole: -EPERM");
    CHECK_EQ(sysctl(XEN_SYSCTL_getdomaininfolist, v), -EPERM, "sysctl getdomaininfolist: -EPERM");
    CHECK_EQ(sysctl(XEN_SYSCTL_sched_id, v), -EPERM, "sysctl sched_id: -EPERM");
    CHECK_EQ(sysctl(XEN_SYSCTL_debug_keys, v), -EPERM, "sysctl debug_keys: -EPERM");
    CHECK_EQ(sysctl(12345, v), -EPERM, "sysctl unknown command: -EPERM (privilege first)");
}

/* ---- page tables: dom0's frames ------------------------------------------------------------------------- */

static long mmu1(uint64_t ptr, uint64_t val, unsigned int foreigndom, unsigned int *done)
{
    struct mmu_update u = { .ptr = ptr, .val = val };

    *done = 0xdead;
    return hyp_mmu_update(&u, 1, done, foreigndom);
}

static long mmuext1(unsigned int cmd, uint64_t mfn, uint64_t mfn2, unsigned int foreigndom)
{
    struct mmuext_op op;

    memset(&op, 0, sizeof(op));
    op.cmd = cmd;
    op.arg1.mfn = mfn;
    op.arg2.src_mfn = mfn2;
    return hyp_mmuext_op(&op, 1, NULL, foreigndom);
}

static void window_unchanged(const char *what)
{
    uint64_t *pte;
    char name[96];

    snprintf(name, sizeof(name), "%s: window PTE still maps our own frame", what);
    check(pte_lookup((uint64_t)window, NULL, &pte) &&
          ((*pte & PTE_ADDR_MASK) >> PAGE_SHIFT) == va_to_mfn(window), name,
          "PTE %#lx", pte_lookup((uint64_t)window, NULL, &pte) ? (unsigned long)*pte : 0UL);
}

static void test_mappings(void)
{
    uint64_t pte_ma;
    unsigned int done;
    uint64_t cr3 = va_to_mfn((void *)start_info->pt_base);

    if ( !pte_lookup((uint64_t)window, &pte_ma, NULL) )
        test_abort("no PTE for the window page");
    window[0] = 0x5a;

    /* Naming dom0 as the foreign domain: refused on privilege before the frame is looked at. */
    CHECK_EQ(mmu1(pte_ma, (d0ram << PAGE_SHIFT) | PTE_RO, 0, &done), -EPERM,
             "mmu_update foreigndom=0, dom0 RAM read-only: -EPERM");
    CHECK_EQ(done, 0, "... done = 0");
    CHECK_EQ(mmu1(pte_ma, (va_to_mfn(scratch) << PAGE_SHIFT) | PTE_WR, 0, &done), -EPERM,
             "mmu_update foreigndom=0, own frame: -EPERM");
    CHECK_EQ(mmu1(pte_ma, (d0ram << PAGE_SHIFT) | PTE_RO, self_id, &done), -ESRCH,
             "mmu_update foreigndom=own id: -ESRCH");
    CHECK_EQ(mmu1(pte_ma, (d0ram << PAGE_SHIFT) | PTE_RO, NOT_A_DOMAIN, &done), -ESRCH,
             "mmu_update foreigndom=no such domain: -ESRCH");
    CHECK_EQ(mmu1(pte_ma, (d0ram << PAGE_SHIFT) | PTE_RO, DOMID_XEN, &done), -EPERM,
             "mmu_update foreigndom=DOMID_XEN: -EPERM");

    /* Naming a dom0 frame as our own. */
    CHECK_EQ(mmu1(pte_ma, (d0ram << PAGE_SHIFT) | PTE_RO, DOMID_SELF, &done), -EBUSY,
             "mmu_update DOMID_SELF, dom0 RAM read-only: -EBUSY");
    CHECK_EQ(done, 0, "... done = 0");
    CHECK_EQ(mmu1(pte_ma, (d0ram << PAGE_SHIFT) | PTE_WR, DOMID_SELF, &done), -EBUSY,
             "mmu_update DOMID_SELF, dom0 RAM writable: -EBUSY");
    CHECK_EQ(mmu1(pte_ma, (d0pt << PAGE_SHIFT) | PTE_RO, DOMID_SELF, &done), -EBUSY,
             "mmu_update DOMID_SELF, dom0 page table read-only: -EBUSY");
    CHECK_EQ(mmu1(pte_ma, (d0si << PAGE_SHIFT) | PTE_WR, DOMID_SELF, &done), -EBUSY,
             "mmu_update DOMID_SELF, dom0 shared_info writable: -EBUSY");
    /* dom0's page table as the table to write into. */
    CHECK_EQ(mmu1((d0pt << PAGE_SHIFT) | 8, 0, DOMID_SELF, &done), -EINVAL,
             "mmu_update of an entry in dom0's page table: -EINVAL");
    CHECK_EQ(hyp_update_va_mapping((uint64_t)window, (d0ram << PAGE_SHIFT) | PTE_WR, UVMF_INVLPG), -EBUSY,
             "update_va_mapping to dom0 RAM: -EBUSY");
    CHECK_EQ(hypercall4(__HYPERVISOR_update_va_mapping_otherdomain, window, (d0ram << PAGE_SHIFT) | PTE_RO,
                        UVMF_INVLPG, 0), -EPERM, "update_va_mapping_otherdomain(dom0): -EPERM");
    CHECK_EQ(hypercall4(__HYPERVISOR_update_va_mapping_otherdomain, window, (d0ram << PAGE_SHIFT) | PTE_RO,
                        UVMF_INVLPG, self_id), -ESRCH, "update_va_mapping_otherdomain(own id): -ESRCH");
    CHECK_EQ(hypercall4(__HYPERVISOR_update_va_mapping_otherdomain, window, (d0ram << PAGE_SHIFT) | PTE_RO,
                        UVMF_INVLPG, DOMID_SELF), -EBUSY,
             "update_va_mapping_otherdomain(DOMID_SELF) to dom0 RAM: -EBUSY");
    /* The machine-to-physical table entry of a dom0 frame. */
    {
        uint64_t m2p_before = M2P[d0ram];

        CHECK_EQ(mmu1((d0ram << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE, 0x1234, DOMID_SELF, &done), -EINVAL,
                 "M2P update of a dom0 frame: -EINVAL");
        CHECK_EQ(mmu1((d0ram << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE, 0x1234, 0, &done), -EPERM,
                 "M2P update, foreigndom=0: -EPERM");
        CHECK_EQ(M2P[d0ram], m2p_before, "... dom0 frame's M2P entry unchanged");
    }
    /* The hypervisor's own part of the address space. */
    CHECK_EQ(mmu1((cr3 << PAGE_SHIFT) + 261 * 8, 0, DOMID_SELF, &done), -EINVAL,
             "mmu_update of our L4 slot 261 (hypervisor area): -EINVAL");
    CHECK_EQ(hyp_update_va_mapping(HYPERVISOR_VIRT_START + 0x100000, (va_to_mfn(scratch) << PAGE_SHIFT) | PTE_RO,
                                   UVMF_INVLPG), -EINVAL, "update_va_mapping of a hypervisor address: -EINVAL");
    window_unchanged("after the mapping attempts");
    CHECK_EQ(window[0], 0x5a, "window still reads our own data");

    CHECK_EQ(mmuext1(MMUEXT_PIN_L1_TABLE, d0pt, 0, 0), -EPERM, "mmuext pin L1 foreigndom=0: -EPERM");
    CHECK_EQ(mmuext1(MMUEXT_PIN_L1_TABLE, d0pt, 0, DOMID_SELF), -EINVAL,
             "mmuext pin L1 of dom0's page table: -EINVAL");
    CHECK_EQ(mmuext1(MMUEXT_PIN_L4_TABLE, d0ram, 0, DOMID_SELF), -EINVAL, "mmuext pin L4 of dom0 RAM: -EINVAL");
    CHECK_EQ(mmuext1(MMUEXT_UNPIN_TABLE, d0pt, 0, DOMID_SELF), -EINVAL, "mmuext unpin of dom0's frame: -EINVAL");
    CHECK_EQ(mmuext1(MMUEXT_NEW_BASEPTR, d0pt, 0, DOMID_SELF), -EINVAL,
             "mmuext new_baseptr = dom0's page table: -EINVAL");
    CHECK_EQ(mmuext1(MMUEXT_CLEAR_PAGE, d0ram, 0, DOMID_SELF), -EINVAL, "mmuext clear_page of dom0 RAM: -EINVAL");
    CHECK_EQ(mmuext1(MMUEXT_COPY_PAGE, va_to_mfn(scratch), d0ram, DOMID_SELF), -EINVAL,
             "mmuext copy_page from dom0 RAM: -EINVAL");
    CHECK_EQ(mmuext1(MMUEXT_COPY_PAGE, d0ram, va_to_mfn(scratch), DOMID_SELF), -EINVAL,
             "mmuext copy_page onto dom0 RAM: -EINVAL");
    CHECK_EQ(va_to_mfn((void *)start_info->pt_base), cr3, "still on our own page tables");

    /* Segment descriptors and GDT frames must be our own too. */
    CHECK_EQ(hypercall2(__HYPERVISOR_update_descriptor, d0ram << PAGE_SHIFT, 0), -EINVAL,
             "update_descriptor in dom0 RAM: -EINVAL");
    {
        unsigned long frames[1] = { d0ram };

        CHECK_EQ(hypercall2(__HYPERVISOR_set_gdt, frames, 16), -EINVAL, "set_gdt on dom0 RAM: -EINVAL");
    }
    /* A breakpoint on hypervisor text. */
    CHECK_EQ(hypercall2(__HYPERVISOR_set_debugreg, 0, HYPERVISOR_VIRT_START + 0x100000), -EPERM,
             "set_debugreg DR0 = hypervisor address: -EPERM");
}

/* ---- memory_op ------------------------------------------------------------------------------------------ */

static void test_memory(void)
{
    xen_pfn_t ext[2];
    struct xen_memory_reservation r;
    struct xen_memory_domain md;
    struct xen_mem_acquire_resource ar;
    struct xen_memory_exchange ex;

    /* Reservation ops on another domain report 0 extents done (Xen returns the start extent on refusal). */
    memset(&r, 0, sizeof(r));
    ext[0] = 0x1234;
    xen_set_guest_handle(r.extent_start, ext);
    r.nr_extents = 1;
    r.domid = 0;
    CHECK_EQ(hyp_memory_op(XENMEM_populate_physmap, &r), 0, "populate_physmap for dom0: 0 extents");
    CHECK_EQ(ext[0], 0x1234, "... extent list untouched");
    CHECK_EQ(hyp_memory_op(XENMEM_increase_reservation, &r), 0, "increase_reservation for dom0: 0 extents");
    ext[0] = d0ram;
    CHECK_EQ(hyp_memory_op(XENMEM_decrease_reservation, &r), 0, "decrease_reservation of dom0 RAM in dom0: 0");
    r.domid = DOMID_SELF;
    CHECK_EQ(hyp_memory_op(XENMEM_decrease_reservation, &r), 0,
             "decrease_reservation of dom0 RAM as our own: 0 extents");
    r.domid = NOT_A_DOMAIN;
    CHECK_EQ(hyp_memory_op(XENMEM_populate_physmap, &r), 0, "populate_physmap for no such domain: 0 extents");

    md.domid = 0;
    CHECK_EQ(hyp_memory_op(XENMEM_current_reservation, &md), -EPERM, "current_reservation(dom0): -EPERM");
    CHECK_EQ(hyp_memory_op(XENMEM_maximum_reservation, &md), -EPERM, "maximum_reservation(dom0): -EPERM");
    CHECK_EQ(hyp_memory_op(XENMEM_maximum_gpfn, &md), -EPERM, "maximum_gpfn(dom0): -EPERM");
    md.domid = NOT_A_DOMAIN;
    CHECK_EQ(hyp_memory_op(XENMEM_current_reservation, &md), -ESRCH, "current_reservation(no such): -ESRCH");
    md.domid = self_id;
    CHECK_EQ(hyp_memory_op(XENMEM_current_reservation, &md), (long)start_info->nr_pages,
             "current_reservation(own id) = our pages");

    memset(&ar, 0, sizeof(ar));
    ar.type = XENMEM_resource_grant_table;
    ar.nr_frames = 1;
    xen_set_guest_handle(ar.frame_list, ext);
    ar.domid = 0;
    CHECK_EQ(hyp_memory_op(XENMEM_acquire_resource, &ar), -EPERM, "acquire_resource(dom0 grant table): -EPERM");
    ar.domid = self_id;
    CHECK_EQ(hyp_memory_op(XENMEM_acquire_resource, &ar), -EPERM, "acquire_resource(own id): -EPERM");
    ar.domid = DOMID_SELF;
    CHECK_EQ(hyp_memory_op(XENMEM_acquire_resource, &ar), -ESRCH, "acquire_resource(DOMID_SELF): -ESRCH");

    memset(&r, 0, sizeof(r));
    r.nr_extents = 1;
    r.domid = 0;
    CHECK_EQ(hyp_memory_op(XENMEM_claim_pages, &r), -EPERM, "claim_pages(dom0): -EPERM");
    r.domid = self_id;
    CHECK_EQ(hyp_memory_op(XENMEM_claim_pages, &r), -EPERM, "claim_pages(self): -EPERM");
    r.domid = DOMID_SELF;
    CHECK_EQ(hyp_memory_op(XENMEM_claim_pages, &r), -EINVAL, "claim_pages(DOMID_SELF): -EINVAL");

    memset(&ex, 0, sizeof(ex));
    ext[0] = d0ram;
    ext[1] = 0;
    xen_set_guest_handle(ex.in.extent_start, &ext[0]);
    xen_set_guest_handle(ex.out.extent_start, &ext[1]);
    ex.in.nr_extents = ex.out.nr_extents = 1;
    ex.in.domid = ex.out.domid = 0;
    CHECK_EQ(hyp_memory_op(XENMEM_exchange, &ex), -EPERM, "exchange in dom0: -EPERM");
}

/* ---- grant tables --------------------------------------------------------------------------------------- */

static void test_grants(void)
{
    struct gnttab_map_grant_ref m[8];
    struct gnttab_setup_table st;
    struct gnttab_query_size qs;
    struct gnttab_get_version gv;
    struct gnttab_get_status_frames gs;
    struct gnttab_copy cp;
    xen_pfn_t frames[2] = { 0x1111, 0x2222 };
    uint64_t sf[1] = { 0x3333 };
    unsigned int bad = 0;

    memset(m, 0, sizeof(m));
    for ( unsigned int i = 0; i < 8; i++ )
    {
        m[i].host_addr = (uint64_t)window;
        m[i].flags = GNTMAP_host_map;
        m[i].ref = i;
        m[i].dom = 0;
        m[i].status = 0x77;
    }
    CHECK_EQ(hyp_grant_table_op(GNTTABOP_map_grant_ref, m, 8), 0, "map_grant_ref of dom0 refs 0..7: rc 0");
    for ( unsigned int i = 0; i < 8; i++ )
        if ( m[i].status != GNTST_general_error )
        {
            bad++;
            printf("  dom0 ref %u: status %d\n", i, m[i].status);
        }
    CHECK_EQ(bad, 0, "... each refused with GNTST_general_error");
    window_unchanged("after map_grant_ref");

    m[0].ref = 0x7fffffff;
    m[0].status = 0x77;
    hyp_grant_table_op(GNTTABOP_map_grant_ref, m, 1);
    CHECK_EQ(m[0].status, GNTST_bad_gntref, "map_grant_ref of dom0 ref beyond its table: GNTST_bad_gntref");
    m[0].ref = 1;
    m[0].dom = NOT_A_DOMAIN;
    hyp_grant_table_op(GNTTABOP_map_grant_ref, m, 1);
    CHECK_EQ(m[0].status, GNTST_bad_domain, "map_grant_ref from no such domain: GNTST_bad_domain");

    memset(&st, 0, sizeof(st));
    st.dom = 0;
    st.nr_frames = 1;
    xen_set_guest_handle(st.frame_list, frames);
    CHECK_EQ(hyp_grant_table_op(GNTTABOP_setup_table, &st, 1), 0, "setup_table(dom0): rc 0");
    CHECK_EQ(st.status, GNTST_permission_denied, "... GNTST_permission_denied");
    CHECK_EQ(frames[0], 0x1111, "... no frame written");
    memset(&qs, 0, sizeof(qs));
    qs.dom = 0;
    CHECK_EQ(hyp_grant_table_op(GNTTABOP_query_size, &qs, 1), 0, "query_size(dom0): rc 0");
    CHECK_EQ(qs.status, GNTST_permission_denied, "... GNTST_permission_denied");
    memset(&gv, 0, sizeof(gv));
    gv.dom = 0;
    CHECK_EQ(hyp_grant_table_op(GNTTABOP_get_version, &gv, 1), -EPERM, "get_version(dom0): -EPERM");
    memset(&gs, 0, sizeof(gs));
    gs.dom = 0;
    gs.nr_frames = 1;
    xen_set_guest_handle(gs.frame_list, sf);
    CHECK_EQ(hyp_grant_table_op(GNTTABOP_get_status_frames, &gs, 1), 0, "get_status_frames(dom0): rc 0");
    CHECK_EQ(gs.status, GNTST_permission_denied, "... GNTST_permission_denied");

    /* Copies: from a dom0 ref we were not granted, and from/to a dom0 frame named directly. */
    memset(&cp, 0, sizeof(cp));
    cp.source.u.ref = 0;
    cp.source.domid = 0;
    cp.dest.u.gmfn = va_to_mfn(scratch);
    cp.dest.domid = DOMID_SELF;
    cp.len = 8;
    cp.flags = GNTCOPY_source_gref;
    cp.status = 0x77;
    CHECK_EQ(hyp_grant_table_op(GNTTABOP_copy, &cp, 1), 0, "copy from dom0 ref 0: rc 0");
    CHECK_EQ(cp.status, GNTST_general_error, "... GNTST_general_error");
    cp.source.u.gmfn = d0ram;
    cp.flags = 0;
    cp.status = 0x77;
    hyp_grant_table_op(GNTTABOP_copy, &cp, 1);
    CHECK_EQ(cp.status, GNTST_permission_denied, "copy from dom0 frame, domid 0: GNTST_permission_denied");
    cp.source.domid = DOMID_SELF;
    cp.status = 0x77;
    hyp_grant_table_op(GNTTABOP_copy, &cp, 1);
    CHECK_EQ(cp.status, GNTST_bad_page, "copy from dom0 frame named as our own: GNTST_bad_page");
    cp.source.u.gmfn = va_to_mfn(scratch);
    cp.dest.u.gmfn = d0ram;
    cp.status = 0x77;
    hyp_grant_table_op(GNTTABOP_copy, &cp, 1);
    CHECK_EQ(cp.status, GNTST_bad_page, "copy onto dom0 frame named as our own: GNTST_bad_page");
}

/* ---- event channels ------------------------------------------------------------------------------------- */

static long ev(unsigned int cmd, void *arg)
{
    return hyp_event_channel_op(cmd, arg);
}

static void test_events(void)
{
    struct evtchn_alloc_unbound au;
    struct evtchn_bind_interdomain bi;
    struct evtchn_status st;
    struct evtchn_send sd;
    struct evtchn_close cl;
    struct evtchn_reset rs;
    struct evtchn_bind_pirq bp;
    unsigned int bad = 0;

    au = (struct evtchn_alloc_unbound){ .dom = 0, .remote_dom = DOMID_SELF };
    CHECK_EQ(ev(EVTCHNOP_alloc_unbound, &au), -EPERM, "alloc_unbound in dom0: -EPERM");
    au = (struct evtchn_alloc_unbound){ .dom = NOT_A_DOMAIN, .remote_dom = DOMID_SELF };
    CHECK_EQ(ev(EVTCHNOP_alloc_unbound, &au), -ESRCH, "alloc_unbound in no such domain: -ESRCH");

    for ( evtchn_port_t p = 0; p < 8; p++ )
    {
        long rc;

        bi = (struct evtchn_bind_interdomain){ .remote_dom = 0, .remote_port = p };
        rc = ev(EVTCHNOP_bind_interdomain, &bi);
        if ( rc != -EINVAL )
        {
            bad++;
            printf("  bind_interdomain to dom0 port %u: %ld\n", p, rc);
        }
    }
    CHECK_EQ(bad, 0, "bind_interdomain to dom0 ports 0..7 not offered to us: -EINVAL");
    bi = (struct evtchn_bind_interdomain){ .remote_dom = NOT_A_DOMAIN, .remote_port = 1 };
    CHECK_EQ(ev(EVTCHNOP_bind_interdomain, &bi), -ESRCH, "bind_interdomain to no such domain: -ESRCH");

    st = (struct evtchn_status){ .dom = 0, .port = 1 };
    CHECK_EQ(ev(EVTCHNOP_status, &st), -EPERM, "status of dom0 port 1: -EPERM");
    st = (struct evtchn_status){ .dom = 0, .port = 0xffffff };
    CHECK_EQ(ev(EVTCHNOP_status, &st), -EINVAL, "status of a dom0 port beyond any limit: -EINVAL");
    st = (struct evtchn_status){ .dom = NOT_A_DOMAIN, .port = 1 };
    CHECK_EQ(ev(EVTCHNOP_status, &st), -ESRCH, "status in no such domain: -ESRCH");

    /* Ports are per domain: the numbers dom0 uses name nothing (or our own ports) here. */
    sd.port = 0;
    CHECK_EQ(ev(EVTCHNOP_send, &sd), -EINVAL, "send on port 0 (reserved): -EINVAL");
    sd.port = 60;
    CHECK_EQ(ev(EVTCHNOP_send, &sd), -EINVAL, "send on a free port: -EINVAL");
    sd.port = 0xffffff;
    CHECK_EQ(ev(EVTCHNOP_send, &sd), -EINVAL, "send on a port beyond any limit: -EINVAL");
    cl.port = 0;
    CHECK_EQ(ev(EVTCHNOP_close, &cl), -EINVAL, "close port 0: -EINVAL");
    cl.port = 60;
    CHECK_EQ(ev(EVTCHNOP_close, &cl), -EINVAL, "close a free port: -EINVAL");
    cl.port = 0xffffff;
    CHECK_EQ(ev(EVTCHNOP_close, &cl), -EINVAL, "close a port beyond any limit: -EINVAL");

    rs.dom = 0;
    CHECK_EQ(ev(EVTCHNOP_reset, &rs), -EPERM, "reset of dom0's event channels: -EPERM");
    bp = (struct evtchn_bind_pirq){ .pirq = 4 };
    CHECK_EQ(ev(EVTCHNOP_bind_pirq, &bp), -EPERM, "bind_pirq 4 (not ours): -EPERM");

    /* Our console port still works afterwards (printing goes through it). */
    st = (struct evtchn_status){ .dom = DOMID_SELF, .port = start_info->console.domU.evtchn };
    CHECK_EQ(ev(EVTCHNOP_status, &st), 0, "own console port status");
    CHECK_EQ(st.status, EVTCHNSTAT_interdomain, "... still bound to dom0");
    CHECK_EQ(st.u.interdomain.dom, 0, "... remote is dom0");
}

/* ---- privileged hypercalls and port I/O ----------------------------------------------------------------- */

static bool try_inb(uint16_t port, uint8_t *val)
{
    unsigned int before = trap_count;
    uint8_t v = 0x5a;

    asm volatile ("1: inb %w1, %b0\n2:\n" EXTABLE("1b", "2b") : "+a" (v) : "Nd" (port));
    *val = v;
    return trap_count == before;
}

static bool try_outb(uint16_t port, uint8_t v)
{
    unsigned int before = trap_count;

    asm volatile ("1: outb %b0, %w1\n2:\n" EXTABLE("1b", "2b") :: "a" (v), "Nd" (port));
    return trap_count == before;
}

static void test_privileged(void)
{
    struct physdev_map_pirq mp;
    struct physdev_unmap_pirq up;
    struct physdev_apic ap;
    struct physdev_irq iv;
    struct physdev_setup_gsi sg;
    struct physdev_set_iopl io;
    struct xen_platform_op pf;
    struct sched_remote_shutdown rsd;
    uint8_t val;
    const char *leak = "HOSTILE-IO-LEAK\r\n";
    bool all_ok = true;

    CHECK_EQ(hyp_console_write("x", 1), -EPERM, "console_io write: -EPERM");
    {
        char buf[16];

        CHECK_EQ(hypercall3(__HYPERVISOR_console_io, CONSOLEIO_read, sizeof(buf), buf), -EPERM,
                 "console_io read: -EPERM");
    }

    mp = (struct physdev_map_pirq){ .domid = DOMID_SELF, .type = MAP_PIRQ_TYPE_GSI, .index = 4, .pirq = -1 };
    CHECK_EQ(hyp_physdev_op(PHYSDEVOP_map_pirq, &mp), -EPERM, "physdev map_pirq GSI 4 for self: -EPERM");
    mp.domid = 0;
    CHECK_EQ(hyp_physdev_op(PHYSDEVOP_map_pirq, &mp), -EPERM, "physdev map_pirq for dom0: -EPERM");
    up = (struct physdev_unmap_pirq){ .domid = 0, .pirq = 4 };
    CHECK_EQ(hyp_physdev_op(PHYSDEVOP_unmap_pirq, &up), -EPERM, "physdev unmap_pirq of dom0's: -EPERM");
    ap = (struct physdev_apic){ .apic_physbase = 0xfec00000, .reg = 1 };
    CHECK_EQ(hyp_physdev_op(PHYSDEVOP_apic_read, &ap), -EPERM, "physdev apic_read: -EPERM");
    CHECK_EQ(hyp_physdev_op(PHYSDEVOP_apic_write, &ap), -EPERM, "physdev apic_write: -EPERM");
    iv = (struct physdev_irq){ .irq = 4 };
    CHECK_EQ(hyp_physdev_op(PHYSDEVOP_alloc_irq_vector, &iv), -EPERM, "physdev alloc_irq_vector: -EPERM");
    sg = (struct physdev_setup_gsi){ .gsi = 4 };
    CHECK_EQ(hyp_physdev_op(PHYSDEVOP_setup_gsi, &sg), -EPERM, "physdev setup_gsi: -EPERM");
    CHECK_EQ(hyp_physdev_op(PHYSDEVOP_pci_mmcfg_reserved, scratch), -EPERM, "physdev pci_mmcfg_reserved: -EPERM");
    CHECK_EQ(hyp_physdev_op(PHYSDEVOP_dbgp_op, scratch), -EPERM, "physdev dbgp_op: -EPERM");

    memset(&pf, 0, sizeof(pf));
    pf.cmd = XENPF_settime64;
    pf.interface_version = XENPF_INTERFACE_VERSION - 1;
    CHECK_EQ(hypercall1(__HYPERVISOR_platform_op, &pf), -EACCES, "platform_op old version: -EACCES");
    pf.interface_version = XENPF_INTERFACE_VERSION;
    CHECK_EQ(hypercall1(__HYPERVISOR_platform_op, &pf), -EPERM, "platform_op settime64: -EPERM");
    CHECK_EQ(hypercall1(__HYPERVISOR_mca, NULL), -EPERM, "mca: -EPERM before reading its argument");

    rsd = (struct sched_remote_shutdown){ .domain_id = 0, .reason = SHUTDOWN_poweroff };
    CHECK_EQ(hyp_sched_op(SCHEDOP_remote_shutdown, &rsd), -EPERM, "remote_shutdown of dom0: -EPERM");
    rsd.domain_id = NOT_A_DOMAIN;
    CHECK_EQ(hyp_sched_op(SCHEDOP_remote_shutdown, &rsd), -ESRCH, "remote_shutdown of no such domain: -ESRCH");
    CHECK_EQ(hyp_sched_op(SCHEDOP_pin_override, scratch), -EPERM, "pin_override: -EPERM");

    /* Port I/O: a PV kernel has no I/O privilege of its own. */
    trap_set_resumable(13, false);
    CHECK(!try_inb(0x64, &val), "inb 0x64 without I/O privilege traps");
    CHECK_EQ(last_trap.vector, 13, "... with #GP");
    io.iopl = 4;
    CHECK_EQ(hyp_physdev_op(PHYSDEVOP_set_iopl, &io), -EINVAL, "set_iopl 4: -EINVAL");
    io.iopl = 3;
    CHECK_EQ(hyp_physdev_op(PHYSDEVOP_set_iopl, &io), 0, "set_iopl 3 is allowed");
    /* With IOPL 3 the instruction completes, but on a port the domain was not given the hypervisor reads all
     * ones and drops writes: COM1's line status would read 0x60 or so, and these bytes must not reach the
     * serial line (run_xl.py looks for them in the whole log). */
    CHECK(try_inb(0x3fd, &val), "inb COM1 LSR with IOPL 3 completes");
    CHECK_EQ(val, 0xff, "... and reads 0xff");
    CHECK(try_inb(0x64, &val), "inb keyboard status with IOPL 3 completes");
    CHECK_EQ(val, 0xff, "... and reads 0xff");
    for ( const char *c = leak; *c; c++ )
        all_ok &= try_outb(0x3f8, (uint8_t)*c);
    CHECK(all_ok, "outb to COM1 with IOPL 3 completes (dropped)");
    io.iopl = 0;
    hyp_physdev_op(PHYSDEVOP_set_iopl, &io);
    CHECK(!try_inb(0x3fd, &val), "back at IOPL 0, inb traps again");

    CHECK_EQ(hypercall1(__HYPERVISOR_xsm_op, scratch), -ENOSYS, "xsm_op without XSM: -ENOSYS");

    /* A multicall carries the caller's privileges into every entry. */
    {
        static multicall_entry_t mc[2];

        memset(&dc, 0, sizeof(dc));
        dc.cmd = XEN_DOMCTL_pausedomain;
        dc.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
        dc.domain = 0;
        mc[0] = (multicall_entry_t){ .op = __HYPERVISOR_domctl, .args = { (uint64_t)&dc } };
        mc[1] = (multicall_entry_t){ .op = __HYPERVISOR_sched_op,
                                     .args = { SCHEDOP_remote_shutdown, (uint64_t)&rsd } };
        rsd.domain_id = 0;
        CHECK_EQ(hyp_multicall(mc, 2), 0, "multicall of domctl pause(dom0) + remote_shutdown(dom0): rc 0");
        CHECK_EQ((long)mc[0].result, -EPERM, "... domctl entry -EPERM");
        CHECK_EQ((long)mc[1].result, -EPERM, "... remote_shutdown entry -EPERM");
    }
}

/* ---- the end: a crash the hypervisor must contain ------------------------------------------------------- */

static void __attribute__((noreturn)) crash(const char *how)
{
    printf("HOSTILE: crashing now (%s)\n", how);
    console_drain(2000000000ULL);
    if ( !strcmp(how, "stack") )
    {
        /* The #UD frame would go below an unmapped kernel stack pointer: the hypervisor cannot deliver it. */
        asm volatile ("movabs $0xffffffff9fff0000, %%rsp\n\tud2" ::: "memory");
    }
    else
    {
        /* No trap table: the page fault has nowhere to go. */
        hyp_set_trap_table(NULL);
        asm volatile ("movq $1, 0x8" ::: "memory");
    }
    for ( ;; )
        hyp_sched_op(SCHEDOP_yield, NULL);
}

void test_main(void)
{
    const char *cl = (const char *)start_info->cmd_line;
    const char *how = strstr(cl, "crash=notrap") ? "notrap" : strstr(cl, "crash=stack") ? "stack" : NULL;

    d0ram = cmdline_hex("d0ram=");
    d0pt = cmdline_hex("d0pt=");
    d0si = cmdline_hex("d0si=");
    if ( !cmdline_has("quick") )
    {
        if ( !d0ram || !d0pt || !d0si )
            test_abort("the command line must name d0ram=, d0pt= and d0si=");
        find_self();
        test_domctl();
        test_sysctl();
        test_mappings();
        test_memory();
        test_grants();
        test_events();
        test_privileged();
    }
    if ( !how )
        return;                 /* test_finish() prints the summary and powers off */
    if ( !cmdline_has("quick") )
        test_summary();
    crash(how);
}
