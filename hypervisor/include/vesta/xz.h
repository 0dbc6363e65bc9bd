/* Single-call .xz decompression, for the dom0 kernel's compressed payload.
 *
 * Decodes a whole .xz file held in memory into a caller-supplied buffer. The output buffer doubles as the LZMA
 * dictionary, so nothing is allocated: the only other state is static, about 38 KiB (the LZMA probability model
 * and CRC tables).
 *
 * Supported: one or more streams (with stream padding between them), any number of blocks per stream, filter
 * chains [LZMA2] and [x86 BCJ, LZMA2] (with or without a BCJ start offset), every LZMA2 chunk kind (uncompressed
 * chunks, dictionary and state resets, new properties), and the check types none, CRC32 and CRC64. The index is
 * validated against the blocks actually decoded (count, sizes and a digest of its records).
 * This covers what the Linux build produces: xz --check=crc32 --x86 --lzma2=dict=32MiB.
 *
 * After the first stream, zero stream padding is skipped and further streams are decoded while one begins at
 * the next byte; anything else that follows is ignored. That lets a bzImage payload be passed whole: the kernel
 * build appends the decompressed size (4 bytes) after the stream.
 *
 * The input is untrusted: every read and write is bounds-checked and decoding ends (one way or the other) after
 * a number of steps bounded by the input and output sizes.
 *
 * Not reentrant: calls must not overlap (a second, concurrent call fails with -EBUSY). */
#ifndef VESTA_XZ_H
#define VESTA_XZ_H

#include "vesta/errno.h"
#include "vesta/types.h"

/* Decompresses in[0, in_len) into out[0, out_cap).
 *   0            success: *out_len is the decompressed size
 *   -EINVAL      not an xz file, or malformed, corrupt or truncated data (including a bad header or index CRC)
 *   -ENOSPC      the decompressed data does not fit in out_cap bytes
 *   -EOPNOTSUPP  a feature this decoder lacks: a filter other than x86 BCJ and LZMA2, a check other than
 *                none/CRC32/CRC64 (e.g. SHA-256), or header flags reserved for future versions
 *   -EILSEQ      the data decoded, but its CRC32/CRC64 check does not match
 *   -EBUSY       another call is in progress
 * in and out must not overlap. out may be NULL when out_cap is 0. out_len may be NULL; on failure it gets how
 * many bytes had been produced (their contents are not to be trusted). Bytes of out past the decompressed size
 * may be overwritten.
 * *why (if why is non-NULL) gets a static sentence on failure and NULL on success. */
int xz_decompress(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len, const char **why);

#endif
