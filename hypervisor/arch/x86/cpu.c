/* Per-CPU descriptor tables and CPU feature set-up.
 *
 * The GDT's low 7168 entries will belong to PV guests (their selectors are below 0xe000); the hypervisor's
 * descriptors start at entry 7168, selector 0xe000. Until the PV machine maps guest descriptor pages there,
 * each CPU's GDT base is placed so that its reserved entries land at selector 0xe000 and nothing below is used. */
#include <vesta/layout.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/percpu.h>
#include <vesta/setup.h>
#include <vesta/traps.h>
#include <vesta/x86.h>

#define RESERVED_GDT_ENTRIES 16

char cpu_brand[49];
bool cpu_has_smep, cpu_has_smap, cpu_has_nx, cpu_has_x2apic, cpu_has_pdpe1gb, cpu_has_invariant_tsc;

void cpu_identify_boot(void)
{
    uint32_t a, b, c, d, max_ext;
    cpuid(0x80000000, &max_ext, &b, &c, &d);
    if (max_ext >= 0x80000004) {
        uint32_t *w = (uint32_t *)cpu_brand;
        for (uint32_t leaf = 0x80000002; leaf <= 0x80000004; leaf++, w += 4)
            cpuid(leaf, &w[0], &w[1], &w[2], &w[3]);
    } else {
        uint32_t *w = (uint32_t *)cpu_brand;
        cpuid(0, &a, &w[0], &w[2], &w[1]);
    }
    const char *p = cpu_brand;
    while (*p == ' ')
        p++;
    memmove(cpu_brand, p, strlen(p) + 1);

    cpuid_count(7, 0, &a, &b, &c, &d);
    cpu_has_smep = b & (1u << 7);
    cpu_has_smap = b & (1u << 20);
    cpu_has_x2apic = cpuid_ecx(1) & (1u << 21);
    if (max_ext >= 0x80000001) {
        d = cpuid_edx(0x80000001);
        cpu_has_nx = d & (1u << 20);
        cpu_has_pdpe1gb = d & (1u << 26);
    }
    if (max_ext >= 0x80000007)
        cpu_has_invariant_tsc = cpuid_edx(0x80000007) & (1u << 8);
    printk("CPU: %s", cpu_brand);
    printk("CPU features: NX %s, SMEP %s, SMAP %s, 1G pages %s, x2APIC %s, invariant TSC %s",
           cpu_has_nx ? "yes" : "no", cpu_has_smep ? "yes" : "no", cpu_has_smap ? "yes" : "no",
           cpu_has_pdpe1gb ? "yes" : "no", cpu_has_x2apic ? "yes" : "no", cpu_has_invariant_tsc ? "yes" : "no");
    if (!cpu_has_nx)
        pr_warn("CPU has no NX: hypervisor data is executable");
}

/* Supervisor-mode execution and access prevention keep the hypervisor from running or touching guest memory by
 * accident; write-protect makes read-only mappings binding in ring 0 too. */
void cpu_init_features(void)
{
    unsigned long cr4 = read_cr4() | X86_CR4_PGE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
    if (cpu_has_smep)
        cr4 |= X86_CR4_SMEP;
    if (cpu_has_smap)
        cr4 |= X86_CR4_SMAP;
    write_cr4(cr4);
    write_cr0(read_cr0() | X86_CR0_WP | X86_CR0_NE | X86_CR0_MP);
    uint64_t efer = rdmsr(MSR_EFER) | EFER_SCE;
    if (cpu_has_nx)
        efer |= EFER_NXE;
    wrmsr(MSR_EFER, efer);
}

static uint64_t seg_desc(uint32_t base, uint32_t limit, uint32_t access, uint32_t flags)
{
    return (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) | ((uint64_t)access << 40) |
           ((uint64_t)((limit >> 16) & 0xf) << 48) | ((uint64_t)flags << 52) | ((uint64_t)(base >> 24) << 56);
}

/* Each CPU's GDT lives in a window of the per-domain area: 14 pages of guest descriptors (the frames a vCPU
 * registered with set_gdt, or a shared zero page meaning "no descriptor"), then the page holding the hypervisor's
 * entries at selector 0xe000, then the LDT window. A selector below 0xe000 therefore only ever reaches guest
 * descriptor pages, which the hypervisor validated, or zeroes. */
static uint64_t *zero_page;

unsigned long gdt_window(unsigned int cpu) { return PERDOMAIN_VIRT_START + cpu * GDT_LDT_WINDOW_SIZE; }

void cpu_gdt_window_init(unsigned int cpu)
{
    struct percpu *pc = percpu[cpu];
    if (!zero_page && !(zero_page = alloc_hv_pages(0)))
        panic("no memory for the zero page");
    uint64_t *page = alloc_hv_pages(0);
    if (!page)
        panic("CPU%u: no memory for the GDT", cpu);
    unsigned long w = gdt_window(cpu);
    for (unsigned int i = 0; i < GDT_LDT_WINDOW_PAGES; i++)
        map_pages(w + i * PAGE_SIZE, virt_to_maddr(i == GUEST_GDT_PAGES ? page : zero_page), 1,
                  i == GUEST_GDT_PAGES ? PAGE_HV_RW : PAGE_HV_RO);
    if (pc->gdt)
        memcpy(page, pc->gdt, RESERVED_GDT_ENTRIES * 8);
    pc->gdt = (uint64_t *)(w + GUEST_GDT_PAGES * PAGE_SIZE);
    pc->gdt_in_window = true;
}

paddr_t zero_page_maddr(void) { return virt_to_maddr(zero_page); }

void cpu_init_tables(unsigned int cpu)
{
    struct percpu *pc = percpu[cpu];
    if (!pc->gdt)
        pc->gdt = xzalloc(RESERVED_GDT_ENTRIES * 8);
    if (!pc->tss)
        pc->tss = xzalloc(sizeof(struct tss64));
    if (!pc->gdt || !pc->tss)
        panic("CPU%u: no memory for descriptor tables", cpu);
    uint64_t *g = pc->gdt;
    g[(HYPERVISOR_CS >> 3) - FIRST_RESERVED_GDT_ENTRY] = seg_desc(0, 0xfffff, 0x9b, 0xa); /* 64-bit code */
    g[(HYPERVISOR_DS >> 3) - FIRST_RESERVED_GDT_ENTRY] = seg_desc(0, 0xfffff, 0x93, 0xc);
    g[(GUEST_CS32 >> 3) - FIRST_RESERVED_GDT_ENTRY] = seg_desc(0, 0xfffff, 0xfb, 0xc);    /* DPL 3 */
    g[(GUEST_DS32 >> 3) - FIRST_RESERVED_GDT_ENTRY] = seg_desc(0, 0xfffff, 0xf3, 0xc);
    g[(GUEST_CS64 >> 3) - FIRST_RESERVED_GDT_ENTRY] = seg_desc(0, 0xfffff, 0xfb, 0xa);

    struct tss64 *t = pc->tss;
    unsigned long stack = (unsigned long)pc->stack;
    t->rsp[0] = stack + STACK_SIZE - sizeof(struct cpu_info);
    t->ist[0] = stack + (IST_DF_PAGE + 1) * PAGE_SIZE;
    t->ist[1] = stack + (IST_NMI_PAGE + 1) * PAGE_SIZE;
    t->ist[2] = stack + (IST_MCE_PAGE + 1) * PAGE_SIZE;
    t->iomap_base = sizeof(*t); /* no I/O bitmap: ring 3 gets no port access by default */
    unsigned long tb = (unsigned long)t;
    unsigned int ti = (TSS_SELECTOR >> 3) - FIRST_RESERVED_GDT_ENTRY;
    g[ti] = seg_desc((uint32_t)tb, sizeof(*t) - 1, 0x89, 0);
    g[ti + 1] = tb >> 32;

    struct desc_ptr gp = {
        .limit = (uint16_t)((FIRST_RESERVED_GDT_ENTRY + RESERVED_GDT_ENTRIES) * 8 - 1),
        .base = (uint64_t)g - FIRST_RESERVED_GDT_ENTRY * 8, /* the window's start once there is one */
    };
    __asm__ volatile("lgdt %0\n\t"
                     "mov %w1, %%ds\n\t"
                     "mov %w1, %%es\n\t"
                     "mov %w1, %%ss\n\t"
                     "pushq %2\n\t"
                     "lea 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "ltr %w3" ::"m"(gp),
                     "r"((uint64_t)HYPERVISOR_DS), "i"(HYPERVISOR_CS), "r"(TSS_SELECTOR)
                     : "rax", "memory");
    __asm__ volatile("xor %%eax, %%eax; mov %%eax, %%fs; mov %%eax, %%gs; lldt %%ax" ::: "rax");
    traps_load();
}
