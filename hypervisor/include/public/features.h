/* SPDX-License-Identifier: MIT */
/*
 * Vesta public guest ABI: feature bits reported by XENVER_get_features.
 *
 * Bit n of submap 0 (the only submap) is set when the feature is active for
 * the calling domain.  The same names, without the XENFEAT_ prefix, appear
 * in a kernel's XEN_ELFNOTE_FEATURES string ("a|!b": b is required) and as
 * a bitmap in XEN_ELFNOTE_SUPPORTED_FEATURES.
 */
#ifndef VESTA_PUBLIC_FEATURES_H
#define VESTA_PUBLIC_FEATURES_H

#define XENFEAT_writable_page_tables        0  /* PT writes need no hypercall */
#define XENFEAT_writable_descriptor_tables  1  /* GDT/LDT writable directly   */
#define XENFEAT_auto_translated_physmap     2  /* hypervisor does p2m         */
#define XENFEAT_supervisor_mode_kernel      3  /* kernel runs in ring 0       */
#define XENFEAT_pae_pgdir_above_4gb         4  /* 32-bit PAE L3 above 4 GiB   */
#define XENFEAT_mmu_pt_update_preserve_ad   5  /* MMU_PT_UPDATE_PRESERVE_AD   */
#define XENFEAT_highmem_assist              6  /* MMUEXT_{CLEAR,COPY}_PAGE    */
#define XENFEAT_gnttab_map_avail_bits       7  /* GNTMAP_guest_avail bits     */
#define XENFEAT_hvm_callback_vector         8  /* HVM only                    */
#define XENFEAT_hvm_safe_pvclock            9  /* HVM only                    */
#define XENFEAT_hvm_pirqs                  10  /* HVM only                    */
#define XENFEAT_dom0                       11  /* may run as initial domain   */
/*      grant_map_identity                 12     deprecated; never defined/reported */
#define XENFEAT_memory_op_vnode_supported  13  /* XENMEMF_vnode accepted      */
#define XENFEAT_ARM_SMCCC_supported        14  /* Arm only                    */
#define XENFEAT_linux_rsdp_unrestricted    15  /* PVH: RSDP may be anywhere   */
#define XENFEAT_not_direct_mapped          16  /* gfn != mfn                  */
#define XENFEAT_direct_mapped              17  /* gfn == mfn                  */

#define XENFEAT_NR_SUBMAPS                  1

#endif /* VESTA_PUBLIC_FEATURES_H */
