/*
 * strutil.h - percent-encoding, sizes, durations and hex.
 *
 * Percent-encoding follows the UriEncode rule of AWS Signature V4: the
 * unreserved bytes A-Z a-z 0-9 - . _ ~ stay, every other byte becomes %XX
 * with upper-case hex.  The same rule serves S3 and GCS (GCS accepts any
 * encoding of its reserved set, and this one encodes all of it).
 */
#ifndef FERRY_STRUTIL_H
#define FERRY_STRUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ferry/buf.h"

#define FERRY_KIB ((uint64_t)1024)
#define FERRY_MIB (FERRY_KIB * 1024)
#define FERRY_GIB (FERRY_MIB * 1024)
#define FERRY_TIB (FERRY_GIB * 1024)

/* Appends the UriEncode of s[0..len) to out; keeps '/' when keep_slash. */
void ferry_uri_encode(struct ferry_buf *out, const char *s, size_t len,
                      bool keep_slash);

/*
 * Appends the percent-decoding of s[0..len) to out.  Returns -1 (and
 * leaves out as far as it got) on a malformed escape.
 */
int ferry_uri_decode(struct ferry_buf *out, const char *s, size_t len);

/* Lower-case hex of n bytes into out, which must hold 2n + 1 chars. */
void ferry_hex(char *out, const unsigned char *bytes, size_t n);

/*
 * Parses "16MiB", "5GiB", "100MB", "1048576", "2k" into bytes.  Binary
 * suffixes (KiB MiB GiB TiB, and bare K M G T) are powers of 1024;
 * decimal ones (KB MB GB TB) powers of 1000.  Returns -1 on bad input.
 */
int ferry_parse_size(uint64_t *out, const char *s);

/* Formats bytes as "1.5 GiB" into out (at least 16 chars). */
void ferry_format_size(char *out, size_t outlen, uint64_t bytes);

/* Parses "90s", "15m", "2h", "1.5" (seconds) into seconds; -1 on error. */
int ferry_parse_duration(double *out, const char *s);

/* Parses a non-negative decimal integer in [min, max]; -1 on error. */
int ferry_parse_uint(uint64_t *out, const char *s, uint64_t min, uint64_t max);

bool ferry_str_starts(const char *s, const char *prefix);
bool ferry_str_ends(const char *s, const char *suffix);

#endif
