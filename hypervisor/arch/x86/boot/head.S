/* The hypervisor's first instructions.
 *
 * A multiboot1 loader (QEMU -kernel) or a multiboot2 loader (GRUB) enters start32 in 32-bit protected mode with
 * paging off. Both headers carry explicit load addresses, so either loader copies the image as a flat file to
 * VESTA_PHYS_BASE without interpreting the ELF (QEMU refuses 64-bit ELF images otherwise). We then build
 * throw-away page tables that map the first 4 GiB three times (identity, at the image's link address and at the
 * direct map), enter long mode, and call start_vesta() in C on the boot CPU's stack. */
#include <vesta/layout.h>

#define PHYS(x) ((x) - VESTA_VIRT_START)

#define MB1_MAGIC 0x1badb002
#define MB1_FLAGS ((1 << 0) | (1 << 1) | (1 << 16)) /* page-align modules, want memory map, load addresses */
#define MB2_MAGIC 0xe85250d6

        .section .text.head, "ax", @progbits
        .code32

        .align 4
mb1_header:
        .long MB1_MAGIC
        .long MB1_FLAGS
        .long -(MB1_MAGIC + MB1_FLAGS)
        .long PHYS(mb1_header)
        .long PHYS(_image_start)
        .long PHYS(_edata)
        .long PHYS(_end)
        .long PHYS(start32)

        .align 8
mb2_header:
        .long MB2_MAGIC
        .long 0                                  /* architecture: i386 protected mode */
        .long mb2_header_end - mb2_header
        .long 0x100000000 - (MB2_MAGIC + (mb2_header_end - mb2_header))
        .align 8                                 /* address tag */
        .short 2, 0
        .long 24
        .long PHYS(mb2_header)
        .long PHYS(_image_start)
        .long PHYS(_edata)
        .long PHYS(_end)
        .align 8                                 /* entry address tag */
        .short 3, 0
        .long 12
        .long PHYS(start32)
        .align 8                                 /* end tag */
        .short 0, 0
        .long 8
mb2_header_end:

        .globl start32
start32:
        cli
        cld
        mov     %eax, PHYS(boot_magic)
        mov     %ebx, PHYS(boot_info_pa)
        mov     $PHYS(boot_stack) + STACK_SIZE - 32, %esp

        /* Vesta is 64-bit only: say so on COM1 rather than dying silently on an old CPU. */
        mov     $0x80000000, %eax
        cpuid
        cmp     $0x80000001, %eax
        jb      no_long_mode
        mov     $0x80000001, %eax
        cpuid
        bt      $29, %edx
        jnc     no_long_mode
        shr     $20, %edx                        /* NX support decides whether EFER.NXE may be set */
        and     $1, %edx
        mov     %edx, PHYS(boot_cpu_has_nx)

        /* 2048 2 MiB entries: the first 4 GiB. */
        mov     $PHYS(boot_l2), %edx
        xor     %ecx, %ecx
1:      mov     %ecx, %eax
        shl     $21, %eax
        or      $0x83, %eax                      /* present, writable, 2 MiB page */
        mov     %eax, (%edx, %ecx, 8)
        movl    $0, 4(%edx, %ecx, 8)
        inc     %ecx
        cmp     $2048, %ecx
        jb      1b

        mov     $PHYS(boot_l3_low), %edx         /* l3_low[0..3] -> the four l2 pages */
        mov     $PHYS(boot_l2) + 3, %eax
        xor     %ecx, %ecx
2:      mov     %eax, (%edx, %ecx, 8)
        add     $4096, %eax
        inc     %ecx
        cmp     $4, %ecx
        jb      2b

        /* The image's link address: L4 slot 261, L3 slot 322 covers phys 0..1 GiB. */
        movl    $PHYS(boot_l2) + 3, PHYS(boot_l3_high) + 322 * 8

        mov     $PHYS(boot_l4), %edx
        movl    $PHYS(boot_l3_low) + 3, 0 * 8(%edx)
        movl    $PHYS(boot_l3_high) + 3, 261 * 8(%edx)
        movl    $PHYS(boot_l3_low) + 3, 262 * 8(%edx)

        mov     %cr4, %eax
        or      $(1 << 5), %eax                  /* PAE */
        mov     %eax, %cr4
        mov     %edx, %cr3

        mov     $0xc0000080, %ecx                /* EFER */
        rdmsr
        or      $(1 << 8), %eax                  /* LME */
        testl   $1, PHYS(boot_cpu_has_nx)
        jz      3f
        or      $(1 << 11), %eax                 /* NXE */
3:      wrmsr

        mov     $0x80010023, %eax                /* PG | WP | NE | MP | PE */
        mov     %eax, %cr0

        lgdt    PHYS(boot_gdt_ptr32)
        ljmp    $0x08, $PHYS(start64_low)

no_long_mode:
        mov     $PHYS(no_lm_msg), %esi
4:      lodsb
        test    %al, %al
        jz      6f
        mov     %al, %cl
        mov     $0x3fd, %dx                      /* wait for the transmitter */
5:      in      %dx, %al
        test    $0x20, %al
        jz      5b
        mov     $0x3f8, %dx
        mov     %cl, %al
        out     %al, %dx
        jmp     4b
6:      hlt
        jmp     6b

        .code64
start64_low:
        movabs  $start64_high, %rax
        jmp     *%rax

start64_high:
        lgdt    boot_gdt_ptr64(%rip)
        mov     $0x10, %eax
        mov     %eax, %ds
        mov     %eax, %es
        mov     %eax, %ss
        xor     %eax, %eax
        mov     %eax, %fs
        mov     %eax, %gs
        lea     boot_stack + STACK_SIZE - 32(%rip), %rsp   /* struct cpu_info (zeroed bss) sits above */
        pushq   $0x08
        lea     7f(%rip), %rax
        push    %rax
        lretq
7:      mov     boot_magic(%rip), %edi
        mov     boot_info_pa(%rip), %esi
        xor     %ebp, %ebp                       /* ends the stack trace */
        call    start_vesta
8:      hlt
        jmp     8b

        .section .rodata, "a", @progbits
no_lm_msg:
        .asciz  "Vesta: this CPU has no 64-bit long mode; Vesta runs on x86-64 only. Halted.\r\n"

        .section .data, "aw", @progbits
        .align 16
        .globl boot_gdt
boot_gdt:
        .quad   0
        .quad   0x00af9a000000ffff               /* 0x08: 64-bit code */
        .quad   0x00cf92000000ffff               /* 0x10: flat data */
        .quad   0x00cf9a000000ffff               /* 0x18: 32-bit code (AP trampoline) */
boot_gdt_end:
        .word   0
boot_gdt_ptr32:
        .word   boot_gdt_end - boot_gdt - 1
        .long   PHYS(boot_gdt)
        .word   0
        .globl boot_gdt_ptr64
boot_gdt_ptr64:
        .word   boot_gdt_end - boot_gdt - 1
        .quad   boot_gdt

        .globl boot_magic, boot_info_pa, boot_cpu_has_nx
boot_magic:     .long 0
boot_info_pa:   .long 0
boot_cpu_has_nx: .long 0

        .section .bss.page_aligned, "aw", @nobits
        .align 4096
boot_l4:        .space 4096
boot_l3_low:    .space 4096
boot_l3_high:   .space 4096
boot_l2:        .space 4096 * 4

        .section .bss.stack, "aw", @nobits
        .align STACK_SIZE
        .globl boot_stack
boot_stack:     .space STACK_SIZE
