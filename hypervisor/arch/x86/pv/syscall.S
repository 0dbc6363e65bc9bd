/* The SYSCALL entry for PV guests.
 *
 * SYSCALL leaves the stack pointer alone and GS belongs to the guest, so each CPU gets its own tiny entry stub
 * (LSTAR points at stub number cpu) that finds the CPU's stack from a table: it parks the guest's %rax, switches
 * to the stack top, and pushes the same frame an interrupt from ring 3 would have built, with RIP from %rcx and
 * RFLAGS from %r11. SFMASK clears IF, so the stub runs with interrupts off. The vector field says which kind of
 * SYSCALL it was: 0x100 from 64-bit code, 0x101 from 32-bit compatibility code (CSTAR). */

#include <vesta/asm-regs.h>
#include <vesta/layout.h>

#define MAX_CPUS 256
#define VEC_SYSCALL64 0x100
#define VEC_SYSCALL32 0x101

        .data
        .balign 16
/* Per CPU: [0] the stack top where the guest frame ends, [1] scratch for the guest's %rax. */
        .globl pv_syscall_slots
pv_syscall_slots:
        .fill MAX_CPUS * 2, 8, 0

        .text
.macro syscall_stub cpu, vec, cs
        mov     %rax, pv_syscall_slots + 16 * \cpu + 8(%rip)
        mov     pv_syscall_slots + 16 * \cpu(%rip), %rax
        xchg    %rax, %rsp
        pushq   $0xe02b
        push    %rax
        push    %r11
        pushq   $\cs
        push    %rcx
        pushq   $0
        pushq   $\vec
        mov     pv_syscall_slots + 16 * \cpu + 8(%rip), %rax
        jmp     common_entry_from_syscall
.endm

        .balign 64
        .globl pv_syscall64_stubs
pv_syscall64_stubs:
        .set cpu, 0
        .rept MAX_CPUS
        .balign 64
        syscall_stub cpu, VEC_SYSCALL64, 0xe033
        .set cpu, cpu + 1
        .endr

        .balign 64
        .globl pv_syscall32_stubs
pv_syscall32_stubs:
        .set cpu, 0
        .rept MAX_CPUS
        .balign 64
        syscall_stub cpu, VEC_SYSCALL32, 0xe023
        .set cpu, cpu + 1
        .endr

/* Same register save as the interrupt path; the C side dispatches on the vector. */
common_entry_from_syscall:
        SAVE_GPRS
        cld
        mov     %rsp, %rdi
        call    pv_syscall_entry
        jmp     return_to_guest
