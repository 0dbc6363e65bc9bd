/*
 * vcpu: bringing a secondary vCPU up with VCPUOP_initialise + VCPUOP_up
 * and letting it take itself down.  Needs a domain with two vCPUs (boot
 * with -smp 2); with one vCPU only the "no vCPU 1" answers are checked.
 */
#include "guest.h"

static uint8_t vcpu1_stack[2 * PAGE_SIZE] __attribute__((aligned(16)));
static volatile unsigned int vcpu1_ran;
static struct vcpu_guest_context ctx;

static void __attribute__((used, noreturn)) vcpu1_main(void)
{
    vcpu1_ran = 1;
    hyp_vcpu_op(VCPUOP_down, 1, NULL);
    vcpu1_ran = 2;              /* only if brought up again */
    for ( ;; )
        hyp_sched_op(SCHEDOP_block, NULL);
}

void test_main(void)
{
    long up = hyp_vcpu_op(VCPUOP_is_up, 1, NULL);
    uint64_t t0;

    if ( up == -ENOENT )
    {
        CHECK_EQ(hyp_vcpu_op(VCPUOP_up, 1, NULL), -ENOENT, "up of a missing vcpu -> -ENOENT");
        printf("  (one vCPU: boot with -smp 2 for the bring-up checks)\n");
        return;
    }
    CHECK_EQ(up, 0, "vcpu 1 starts down");
    CHECK_EQ(hyp_vcpu_op(VCPUOP_up, 1, NULL), -EINVAL, "up before initialise -> -EINVAL");

    memset(&ctx, 0, sizeof(ctx));
    ctx.flags = VGCF_in_kernel;
    ctx.user_regs.rip = (uint64_t)vcpu1_main;
    ctx.user_regs.rsp = (uint64_t)(vcpu1_stack + sizeof(vcpu1_stack) - 8);
    ctx.user_regs.cs = FLAT_KERNEL_CS;
    ctx.user_regs.ss = FLAT_KERNEL_SS;
    ctx.user_regs.rflags = 0x200;
    ctx.kernel_ss = FLAT_KERNEL_SS;
    ctx.kernel_sp = ctx.user_regs.rsp;
    ctx.ctrlreg[3] = va_to_mfn((void *)start_info->pt_base) << PAGE_SHIFT;

    ctx.user_regs.rip = 1UL << 63;
    CHECK_EQ(hyp_vcpu_op(VCPUOP_initialise, 1, &ctx), -EINVAL, "non-canonical rip -> -EINVAL");
    ctx.user_regs.rip = (uint64_t)vcpu1_main;
    ctx.ldt_ents = 8193;
    CHECK_EQ(hyp_vcpu_op(VCPUOP_initialise, 1, &ctx), -EINVAL, "too many LDT entries -> -EINVAL");
    ctx.ldt_ents = 0;
    ctx.ctrlreg[3] = va_to_mfn(vcpu1_stack) << PAGE_SHIFT;
    CHECK_EQ(hyp_vcpu_op(VCPUOP_initialise, 1, &ctx), -EINVAL, "cr3 not an L4 -> -EINVAL");
    ctx.ctrlreg[3] = va_to_mfn((void *)start_info->pt_base) << PAGE_SHIFT;

    CHECK_EQ(hyp_vcpu_op(VCPUOP_initialise, 1, &ctx), 0, "initialise vcpu 1");
    CHECK_EQ(hyp_vcpu_op(VCPUOP_initialise, 1, &ctx), -EEXIST, "initialise twice -> -EEXIST");
    CHECK_EQ(hyp_vcpu_op(VCPUOP_is_up, 1, NULL), 0, "still down after initialise");
    CHECK_EQ(hyp_vcpu_op(VCPUOP_up, 1, NULL), 0, "up vcpu 1");

    t0 = system_time_ns();
    while ( vcpu1_ran == 0 && system_time_ns() - t0 < 2000000000UL )
        hyp_sched_op(SCHEDOP_yield, NULL);
    CHECK_EQ(vcpu1_ran, 1, "vcpu 1 ran its entry point");
    t0 = system_time_ns();
    while ( hyp_vcpu_op(VCPUOP_is_up, 1, NULL) == 1 && system_time_ns() - t0 < 2000000000UL )
        hyp_sched_op(SCHEDOP_yield, NULL);
    CHECK_EQ(hyp_vcpu_op(VCPUOP_is_up, 1, NULL), 0, "vcpu 1 took itself down");
}
