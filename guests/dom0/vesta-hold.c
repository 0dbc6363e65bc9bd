/*
 * vesta-hold: a small dom0 tool for the xl harness (tests/xl/run_xl.py), built statically and carried in dom0's
 * initramfs as /usr/bin/vesta-hold.  It talks to the hypervisor through Linux's /dev/xen/privcmd, as libxc
 * does: raw hypercalls (IOCTL_PRIVCMD_HYPERCALL) and foreign mappings (IOCTL_PRIVCMD_MMAPBATCH_V2, which the
 * kernel turns into mmu_update with the domain as foreign domain).
 *
 *   vesta-hold frames        dom0 frames for the hostile domU to attack: one plain RAM frame, one page-table
 *                            frame (getpageframeinfo3 over every machine frame) and dom0's shared_info frame.
 *                            Prints "VX frames ram=0x.. pt=0x.. si=0x..".
 *   vesta-hold info DOMID    getdomaininfo of exactly DOMID: "VX dominfo domid=N found=0|1 dying=0|1
 *                            shutdown=0|1 tot_pages=N flags=0x..".
 *   vesta-hold hold DOMID    maps every plain RAM frame DOMID owns (not its page tables nor its shared_info)
 *                            into this process, reads each once, prints "VX held domid=N frames=N mapped=N",
 *                            then keeps the mappings until SIGUSR1 or SIGTERM, unmaps them and prints
 *                            "VX released domid=N".
 *
 * Single-threaded; the hypercall buffers are static and locked in memory (mlockall), since the hypervisor reads
 * them through this process's page tables and cannot fault them in.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <public/domctl.h>
#include <public/memory.h>

/* Linux's privcmd interface (include/uapi/xen/privcmd.h): the same numbers and layouts, our own names. */
struct pc_hypercall {
    uint64_t op;
    uint64_t arg[5];
};

struct pc_mmapbatch_v2 {
    uint32_t num;
    uint16_t dom;
    uint16_t pad;
    uint64_t addr;
    const uint64_t *arr;
    int *err;
};

#define PC_IOCTL_HYPERCALL     _IOC(_IOC_NONE, 'P', 0, sizeof(struct pc_hypercall))
#define PC_IOCTL_MMAPBATCH_V2  _IOC(_IOC_NONE, 'P', 4, sizeof(struct pc_mmapbatch_v2))

#define PAGE 4096UL
#define BATCH 1024              /* getpageframeinfo3's limit */

static int privcmd = -1;
static struct xen_domctl dc;
static uint64_t pfinfo[BATCH];
static volatile sig_atomic_t released;

static long hypercall(unsigned int op, uint64_t a1, uint64_t a2)
{
    struct pc_hypercall h = { .op = op, .arg = { a1, a2 } };
    long rc = ioctl(privcmd, PC_IOCTL_HYPERCALL, &h);

    return rc < 0 ? -errno : rc;
}

static long domctl(uint32_t cmd, uint16_t dom)
{
    dc.cmd = cmd;
    dc.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    dc.domain = dom;
    return hypercall(__HYPERVISOR_domctl, (uint64_t)&dc, 0);
}

/* getdomaininfo names the first domain at or after the id asked for: found only if it is that one. */
static int dominfo(uint16_t dom, struct xen_domctl_getdomaininfo *out)
{
    memset(&dc, 0, sizeof(dc));
    if ( domctl(XEN_DOMCTL_getdomaininfo, dom) < 0 || dc.u.getdomaininfo.domain != dom )
        return 0;
    *out = dc.u.getdomaininfo;
    return 1;
}

/* Calls fn(mfn, type) for every machine frame below max_page as getpageframeinfo3 types it for dom. */
static int scan_frames(uint16_t dom, void (*fn)(uint64_t mfn, uint64_t type))
{
    long max_page = hypercall(__HYPERVISOR_memory_op, XENMEM_maximum_ram_page, 0);

    if ( max_page <= 0 )
    {
        fprintf(stderr, "vesta-hold: maximum_ram_page: %ld\n", max_page);
        return -1;
    }
    for ( uint64_t base = 0; base < (uint64_t)max_page; base += BATCH )
    {
        uint64_t n = (uint64_t)max_page - base < BATCH ? (uint64_t)max_page - base : BATCH;
        long rc;

        for ( uint64_t i = 0; i < n; i++ )
            pfinfo[i] = base + i;
        memset(&dc, 0, sizeof(dc));
        dc.u.getpageframeinfo3.num = n;
        xen_set_guest_handle(dc.u.getpageframeinfo3.array, pfinfo);
        rc = domctl(XEN_DOMCTL_getpageframeinfo3, dom);
        if ( rc < 0 )
        {
            fprintf(stderr, "vesta-hold: getpageframeinfo3 d%u at %#lx: %ld\n", dom, (unsigned long)base, rc);
            return -1;
        }
        for ( uint64_t i = 0; i < n; i++ )
            fn(base + i, pfinfo[i]);
    }
    return 0;
}

static uint64_t *frames;
static uint64_t nframes, frames_cap;
static uint64_t first_pt, skip_mfn;

static void collect(uint64_t mfn, uint64_t type)
{
    uint64_t t = type & XEN_DOMCTL_PFINFO_LTAB_MASK;

    if ( t == XEN_DOMCTL_PFINFO_XTAB || t == XEN_DOMCTL_PFINFO_XALLOC || t == XEN_DOMCTL_PFINFO_BROKEN )
        return;
    if ( t != XEN_DOMCTL_PFINFO_NOTAB )
    {
        if ( !first_pt )
            first_pt = mfn;
        return;
    }
    if ( mfn == skip_mfn )
        return;
    if ( nframes == frames_cap )
    {
        frames_cap = frames_cap ? frames_cap * 2 : 4096;
        frames = realloc(frames, frames_cap * sizeof(*frames));
        if ( !frames )
        {
            perror("vesta-hold: realloc");
            exit(1);
        }
    }
    frames[nframes++] = mfn;
}

static int cmd_frames(void)
{
    struct xen_domctl_getdomaininfo di;

    if ( !dominfo(0, &di) )
    {
        fprintf(stderr, "vesta-hold: getdomaininfo(0) failed\n");
        return 1;
    }
    skip_mfn = di.shared_info_frame;
    if ( scan_frames(0, collect) || !nframes || !first_pt )
        return 1;
    /* One from the middle of dom0's memory: the hypervisor's pages shared with dom0 (grant table frames, which
     * Xen reports as plain frames too) sit at the edges of what the scan finds. */
    printf("VX frames ram=%#lx pt=%#lx si=%#lx count=%lu\n", (unsigned long)frames[nframes / 2],
           (unsigned long)first_pt, (unsigned long)di.shared_info_frame, (unsigned long)nframes);
    return 0;
}

static int cmd_info(uint16_t dom)
{
    struct xen_domctl_getdomaininfo di;

    if ( !dominfo(dom, &di) )
    {
        printf("VX dominfo domid=%u found=0\n", dom);
        return 0;
    }
    printf("VX dominfo domid=%u found=1 dying=%u shutdown=%u tot_pages=%lu flags=%#x\n", dom,
           !!(di.flags & XEN_DOMINF_dying), !!(di.flags & XEN_DOMINF_shutdown), (unsigned long)di.tot_pages,
           di.flags);
    return 0;
}

static void on_signal(int sig)
{
    (void)sig;
    released = 1;
}

static int cmd_hold(uint16_t dom)
{
    struct xen_domctl_getdomaininfo di;
    struct pc_mmapbatch_v2 mb;
    int *err;
    uint8_t *area;
    unsigned long mapped = 0, sum = 0;

    if ( !dominfo(dom, &di) )
    {
        fprintf(stderr, "vesta-hold: no domain %u\n", dom);
        return 1;
    }
    skip_mfn = di.shared_info_frame;
    if ( scan_frames(dom, collect) || !nframes )
        return 1;
    err = calloc(nframes, sizeof(*err));
    area = mmap(NULL, nframes * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, privcmd, 0);
    if ( !err || area == MAP_FAILED )
    {
        perror("vesta-hold: mmap");
        return 1;
    }
    memset(&mb, 0, sizeof(mb));
    mb.num = (uint32_t)nframes;
    mb.dom = dom;
    mb.addr = (uint64_t)area;
    mb.arr = frames;
    mb.err = err;
    if ( ioctl(privcmd, PC_IOCTL_MMAPBATCH_V2, &mb) < 0 )
    {
        perror("vesta-hold: MMAPBATCH_V2");
        return 1;
    }
    for ( uint64_t i = 0; i < nframes; i++ )
        if ( !err[i] )
        {
            mapped++;
            sum += area[i * PAGE];
        }
    signal(SIGUSR1, on_signal);
    signal(SIGTERM, on_signal);
    printf("VX held domid=%u frames=%lu mapped=%lu\n", dom, (unsigned long)nframes, mapped);
    fflush(stdout);
    while ( !released )
        pause();
    munmap(area, nframes * PAGE);
    printf("VX released domid=%u\n", dom);
    fflush(stdout);
    (void)sum;
    return 0;
}

int main(int argc, char **argv)
{
    if ( argc < 2 )
        goto usage;
    privcmd = open("/dev/xen/privcmd", O_RDWR | O_CLOEXEC);
    if ( privcmd < 0 )
    {
        perror("vesta-hold: /dev/xen/privcmd");
        return 1;
    }
    if ( mlockall(MCL_CURRENT) )
        perror("vesta-hold: mlockall");
    if ( !strcmp(argv[1], "frames") )
        return cmd_frames();
    if ( argc == 3 && !strcmp(argv[1], "info") )
        return cmd_info((uint16_t)atoi(argv[2]));
    if ( argc == 3 && !strcmp(argv[1], "hold") )
        return cmd_hold((uint16_t)atoi(argv[2]));
 usage:
    fprintf(stderr, "usage: vesta-hold frames | info DOMID | hold DOMID\n");
    return 2;
}
