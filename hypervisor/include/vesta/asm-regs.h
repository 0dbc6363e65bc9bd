/* Saving and restoring the general registers in struct cpu_regs order (vesta/traps.h), for the entry paths. */
#ifndef VESTA_ASM_REGS_H
#define VESTA_ASM_REGS_H

#ifdef __ASSEMBLER__
/* Pushes the general registers below the vector/error-code words, leaving %rsp at a struct cpu_regs. */
.macro SAVE_GPRS
        push    %rdi
        push    %rsi
        push    %rdx
        push    %rcx
        push    %rax
        push    %r8
        push    %r9
        push    %r10
        push    %r11
        push    %rbx
        push    %rbp
        push    %r12
        push    %r13
        push    %r14
        push    %r15
.endm

/* The reverse, then drops the vector and error code: %rsp is left at the IRETQ frame. */
.macro RESTORE_GPRS_TO_IRET_FRAME
        pop     %r15
        pop     %r14
        pop     %r13
        pop     %r12
        pop     %rbp
        pop     %rbx
        pop     %r11
        pop     %r10
        pop     %r9
        pop     %r8
        pop     %rax
        pop     %rcx
        pop     %rdx
        pop     %rsi
        pop     %rdi
        add     $16, %rsp
.endm
#endif

#endif
