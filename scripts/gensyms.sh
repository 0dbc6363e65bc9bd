#!/bin/sh
# Turns `nm -n` output of the first link pass into an assembly file holding the text symbols, sorted by
# address, for the hypervisor's stack traces: address table, size table, name offsets, then the names.
set -e
awk '
$2 ~ /^[tTwW]$/ && $3 !~ /^\./ && $3 !~ /^__/ {
    n++; addr[n] = $1; name[n] = $3
}
END {
    print "\t.section .symtab.data, \"a\", @progbits"
    print "\t.balign 8"
    print "\t.globl symtab_count, symtab_addrs, symtab_name_offsets, symtab_names"
    print "symtab_count:\n\t.quad " n
    print "symtab_addrs:"
    for (i = 1; i <= n; i++) print "\t.quad 0x" addr[i]
    print "symtab_name_offsets:"
    off = 0
    for (i = 1; i <= n; i++) { print "\t.long " off; off += length(name[i]) + 1 }
    print "symtab_names:"
    for (i = 1; i <= n; i++) print "\t.asciz \"" name[i] "\""
}'
