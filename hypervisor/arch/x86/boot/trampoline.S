/* Application-processor start-up code.
 *
 * Copied by the boot CPU to a page below 1 MiB and entered by a STARTUP IPI in real mode at CS = page >> 4.
 * The boot CPU patches the slots at the end (linear addresses, CR3, stack) before each start-up, because the
 * code cannot know where it was copied. It goes real -> protected -> long mode and jumps into the image's
 * ap_start64 with the stack the boot CPU gave it. CR3 must point below 4 GiB and map this page 1:1. */
#include <vesta/layout.h>

#define T(x) ((x) - trampoline_start)

        .section .rodata.trampoline, "a", @progbits
        .code16
        .globl trampoline_start, trampoline_end
        .globl tramp_gdt_ptr, tramp_pm_jump, tramp_lm_jump, tramp_cr3, tramp_stack, tramp_efer, tramp_cpu
        .globl tramp_gdt
trampoline_start:
        cli
        cld
        mov     %cs, %ax
        mov     %ax, %ds
        xor     %ebx, %ebx
        mov     %cs, %bx
        shl     $4, %ebx                         /* ebx = linear base, kept in every mode below */
        lgdtl   T(tramp_gdt_ptr)
        mov     %cr0, %eax
        or      $1, %eax
        mov     %eax, %cr0
        ljmpl   *T(tramp_pm_jump)

        .code32
        .globl tramp_pm_entry
tramp_pm_entry:
        mov     $0x10, %eax
        mov     %eax, %ds
        mov     %eax, %es
        mov     %eax, %ss
        mov     %cr4, %eax
        or      $(1 << 5), %eax                  /* PAE */
        mov     %eax, %cr4
        mov     T(tramp_cr3)(%ebx), %eax
        mov     %eax, %cr3
        mov     $0xc0000080, %ecx
        rdmsr
        or      T(tramp_efer)(%ebx), %eax
        wrmsr
        mov     $0x80010023, %eax                /* PG | WP | NE | MP | PE */
        mov     %eax, %cr0
        ljmpl   *T(tramp_lm_jump)(%ebx)

        .code64
        .globl tramp_lm_entry
tramp_lm_entry:
        mov     %ebx, %ebx                       /* upper halves are undefined after the mode switch */
        mov     T(tramp_stack)(%rbx), %rsp
        mov     T(tramp_cpu)(%rbx), %edi
        movabs  $ap_start64, %rax
        jmp     *%rax

        .align 16
tramp_gdt:
        .quad   0
        .quad   0x00af9a000000ffff               /* 0x08: 64-bit code */
        .quad   0x00cf92000000ffff               /* 0x10: flat data */
        .quad   0x00cf9a000000ffff               /* 0x18: 32-bit code */
tramp_gdt_ptr:
        .word   4 * 8 - 1
        .long   0                                /* patched: linear address of tramp_gdt */
        .align 4
tramp_pm_jump:
        .long   0                                /* patched: linear address of tramp_pm_entry */
        .word   0x18
        .align 4
tramp_lm_jump:
        .long   0                                /* patched: linear address of tramp_lm_entry */
        .word   0x08
        .align 8
tramp_cr3:      .quad 0
tramp_stack:    .quad 0
tramp_efer:     .long 0
tramp_cpu:      .long 0
trampoline_end:

        .text
        .code64
        .globl ap_start64
ap_start64:
        lgdt    boot_gdt_ptr64(%rip)
        mov     $0x10, %eax
        mov     %eax, %ds
        mov     %eax, %es
        mov     %eax, %ss
        pushq   $0x08
        lea     1f(%rip), %rax
        push    %rax
        lretq
1:      xor     %ebp, %ebp
        call    start_secondary
2:      hlt
        jmp     2b
