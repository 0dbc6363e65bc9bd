/* Interrupt and exception entry.
 *
 * One 16-byte stub per vector makes every entry look alike: an error code (pushed by the CPU, or a zero here),
 * then the vector number, then the general registers, giving struct cpu_regs on the stack. The stubs all end in
 * common_entry, which calls do_trap() in C and returns with iretq. */

        .text
        .code64

        .align 16
        .globl vector_table
vector_table:
        .set vec, 0
        .rept 256
        .align 16
        .if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
        .else
        pushq   $0
        .endif
        pushq   $vec
        jmp     common_entry
        .set vec, vec + 1
        .endr

common_entry:
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
        cld
        mov     %rsp, %rdi
        call    do_trap
        testb   $3, 8*18(%rsp)          /* cs of the interrupted context: a guest (ring 3)? */
        jnz     return_to_guest
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
        iretq

/* The one way back into a guest. %rsp points at the guest's cpu_regs frame at the top of this CPU's stack
 * (frames on the IST stacks come here too; pv_exit_work leaves those alone). pv_exit_work runs softirqs and
 * delivers pending events with interrupts off at the end, so nothing new can be missed before the iretq. */
        .globl return_to_guest
return_to_guest:
        cli
        mov     %rsp, %rdi
        call    pv_exit_work
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
/* A fault here is on the guest's state (bad CS/SS from HYPERVISOR_iret, non-canonical RIP): pv/traps.c reflects
 * it into the guest (pv_hypervisor_fault). */
        .globl guest_iretq
guest_iretq:
        iretq

/* Start running on a fresh stack at `frame` (a cpu_regs already filled in) and leave for the guest. */
        .globl reset_stack_and_return_to_guest
reset_stack_and_return_to_guest:
        mov     %rdi, %rsp
        jmp     return_to_guest

/* Call fn on a fresh stack whose top is `top`; fn never returns. */
        .globl reset_stack_and_call
reset_stack_and_call:
        mov     %rdi, %rsp
        xor     %ebp, %ebp
        call    *%rsi
        ud2
