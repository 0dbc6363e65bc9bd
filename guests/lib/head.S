/*
 * Vesta guest runtime: ELF notes, entry point, exception and event stubs.
 *
 * Register frame built by the stubs (lowest address first), see struct
 * guest_regs in guest.h:
 *   r15 r14 r13 r12 r11 r10 r9 r8 rbp rdi rsi rdx rcx rbx rax
 *   vector error_code rip cs rflags rsp ss
 */
#include <elfnote.h>

#define HC_IRET_OFFSET   (23 * 32)
#define EVENT_VECTOR     0x100
#define FAILSAFE_VECTOR  0x101

/* One "Xen" ELF note: type, then the descriptor data directive. */
.macro xen_note type:req, data:vararg
    .pushsection .note.Xen, "a", @note
    .balign 4
    .long 4                      /* namesz: "Xen\0" */
    .long 9f - 8f                /* descsz */
    .long \type
    .asciz "Xen"
    .balign 4
8:  \data
9:  .balign 4
    .popsection
.endm

    xen_note XEN_ELFNOTE_GUEST_OS,       .asciz "Vesta-guest-test"
    xen_note XEN_ELFNOTE_GUEST_VERSION,  .asciz "1"
    xen_note XEN_ELFNOTE_XEN_VERSION,    .asciz "xen-3.0"
    xen_note XEN_ELFNOTE_LOADER,         .asciz "generic"
    xen_note XEN_ELFNOTE_VIRT_BASE,      .quad 0xffffffff80000000
    xen_note XEN_ELFNOTE_PADDR_OFFSET,   .quad 0
    xen_note XEN_ELFNOTE_ENTRY,          .quad guest_entry
    xen_note XEN_ELFNOTE_HYPERCALL_PAGE, .quad hypercall_page
    xen_note XEN_ELFNOTE_FEATURES,       .asciz "!writable_page_tables|pae_pgdir_above_4gb"
    xen_note XEN_ELFNOTE_PAE_MODE,       .asciz "yes"

    .section .text.entry, "ax", @progbits
    .code64

    .globl guest_entry
guest_entry:
    /* %rsi = start_info VA; leave the builder's stack for our own. */
    leaq boot_stack_top(%rip), %rsp
    xorl %ebp, %ebp
    movq %rsi, %rdi
    call guest_start
1:  ud2
    jmp 1b

    .text

/* Exception stubs.  Xen leaves rcx and r11 on top of the native-style
 * frame; pop them back so the saved frame holds the interrupted values. */
.macro trap_noec vec:req
    .globl trap_entry_\vec
trap_entry_\vec:
    popq %rcx
    popq %r11
    pushq $0
    pushq $\vec
    jmp trap_common
.endm

.macro trap_ec vec:req
    .globl trap_entry_\vec
trap_entry_\vec:
    popq %rcx
    popq %r11
    pushq $\vec
    jmp trap_common
.endm

    trap_noec 0
    trap_noec 1
    trap_noec 2
    trap_noec 3
    trap_noec 4
    trap_noec 5
    trap_noec 6
    trap_noec 7
    trap_ec   8
    trap_noec 9
    trap_ec   10
    trap_ec   11
    trap_ec   12
    trap_ec   13
    trap_ec   14
    trap_noec 16
    trap_ec   17
    trap_noec 18
    trap_noec 19
    trap_noec 0x80

    .globl event_entry
event_entry:
    popq %rcx
    popq %r11
    pushq $0
    pushq $EVENT_VECTOR
    jmp trap_common

/* Failsafe frame: rcx r11 ds es fs gs, then rip cs rflags rsp ss. */
    .globl failsafe_entry
failsafe_entry:
    popq %rcx
    popq %r11
    addq $32, %rsp
    pushq $0
    pushq $FAILSAFE_VECTOR
    jmp trap_common

trap_common:
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, %rdi
    call guest_trap
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    addq $16, %rsp              /* vector, error code */
    pushq $0                    /* iret flags: not from a syscall */
    jmp hypercall_page + HC_IRET_OFFSET

    .section .bss.page_aligned, "aw", @nobits
    .balign 4096
boot_stack:
    .skip 4 * 4096
boot_stack_top:

    .section .note.GNU-stack, "", @progbits
