/* Linker script: one flat image loaded at VESTA_PHYS_BASE and linked at VESTA_VIRT_START + VESTA_PHYS_BASE.
 * The ELF and program headers are part of the loaded segment so that file offset 0 corresponds to the load
 * address, which is what the multiboot "load address" headers promise the loaders. Section boundaries are
 * page aligned so the hypervisor can map text read-execute, rodata read-only and data non-executable. */
#include <vesta/layout.h>

OUTPUT_FORMAT("elf64-x86-64")
OUTPUT_ARCH(i386:x86-64)
ENTRY(start32_phys)

PHDRS
{
    image PT_LOAD FILEHDR PHDRS FLAGS(7);
}

start32_phys = start32 - VESTA_VIRT_START;

SECTIONS
{
    . = VESTA_VIRT_START + VESTA_PHYS_BASE;
    _image_start = .;
    . += SIZEOF_HEADERS;

    .text : AT(ADDR(.text) - VESTA_VIRT_START) {
        _stext = .;
        *(.text.head)
        *(.text .text.*)
        *(.fixup)
        . = ALIGN(4096);
        _etext = .;
    } :image

    .rodata : AT(ADDR(.rodata) - VESTA_VIRT_START) {
        _srodata = .;
        *(.rodata .rodata.*)
        . = ALIGN(8);
        __start_ex_table = .;
        *(__ex_table)
        __stop_ex_table = .;
        . = ALIGN(8);
        /* Last in rodata so that filling it in the second link pass moves no code. */
        *(.symtab.data)
        . = ALIGN(4096);
        _erodata = .;
    } :image

    .data : AT(ADDR(.data) - VESTA_VIRT_START) {
        _sdata = .;
        *(.data .data.*)
        . = ALIGN(4096);
        _edata = .;
    } :image

    .bss : AT(ADDR(.bss) - VESTA_VIRT_START) {
        __bss_start = .;
        *(.bss.stack)
        *(.bss.page_aligned)
        *(.bss .bss.* COMMON)
        . = ALIGN(4096);
        __bss_end = .;
    } :image
    _end = .;

    /DISCARD/ : {
        *(.note.GNU-stack) *(.comment) *(.eh_frame) *(.note.gnu.property)
    }
}
