/* strutil.c - encoding and parsing helpers; see include/ferry/strutil.h. */
#include "ferry/strutil.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

void ferry_uri_encode(struct ferry_buf *out, const char *s, size_t len,
                      bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i;

    ferry_buf_grow(out, len * 3);
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (is_unreserved(c) || (keep_slash && c == '/')) {
            out->data[out->len++] = (char)c;
            continue;
        }
        out->data[out->len++] = '%';
        out->data[out->len++] = hex[c >> 4];
        out->data[out->len++] = hex[c & 15];
    }
    out->data[out->len] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int ferry_uri_decode(struct ferry_buf *out, const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        int hi, lo;

        if (s[i] != '%') {
            ferry_buf_addc(out, s[i]);
            continue;
        }
        if (i + 2 >= len)
            return -1;
        hi = hexval(s[i + 1]);
        lo = hexval(s[i + 2]);
        if (hi < 0 || lo < 0)
            return -1;
        ferry_buf_addc(out, (char)(hi * 16 + lo));
        i += 2;
    }
    return 0;
}

void ferry_hex(char *out, const unsigned char *bytes, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = hex[bytes[i] >> 4];
        out[2 * i + 1] = hex[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

static const struct {
    const char *suffix;
    uint64_t mult;
} size_units[] = {
    { "", 1 },
    { "b", 1 },
    { "k", FERRY_KIB },
    { "kib", FERRY_KIB },
    { "kb", 1000 },
    { "m", FERRY_MIB },
    { "mib", FERRY_MIB },
    { "mb", 1000 * 1000 },
    { "g", FERRY_GIB },
    { "gib", FERRY_GIB },
    { "gb", 1000 * 1000 * 1000 },
    { "t", FERRY_TIB },
    { "tib", FERRY_TIB },
    { "tb", (uint64_t)1000 * 1000 * 1000 * 1000 },
};

int ferry_parse_size(uint64_t *out, const char *s)
{
    char *end;
    double v;
    size_t i;

    if (!s || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtod(s, &end);
    if (errno || v < 0)
        return -1;
    while (*end == ' ')
        end++;
    for (i = 0; i < sizeof(size_units) / sizeof(size_units[0]); i++) {
        if (strcasecmp(end, size_units[i].suffix) == 0) {
            double bytes = v * (double)size_units[i].mult;

            if (bytes > 1.8e19)
                return -1;
            *out = (uint64_t)llround(bytes);
            return 0;
        }
    }
    return -1;
}

void ferry_format_size(char *out, size_t outlen, uint64_t bytes)
{
    static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double v = (double)bytes;
    int u = 0;

    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(out, outlen, "%llu B", (unsigned long long)bytes);
    else
        snprintf(out, outlen, "%.1f %s", v, units[u]);
}

int ferry_parse_duration(double *out, const char *s)
{
    char *end;
    double v;

    if (!s || !(isdigit((unsigned char)*s) || *s == '.'))
        return -1;
    errno = 0;
    v = strtod(s, &end);
    if (errno || v < 0 || end == s)
        return -1;
    if (*end == '\0' || strcmp(end, "s") == 0)
        *out = v;
    else if (strcmp(end, "ms") == 0)
        *out = v / 1000;
    else if (strcmp(end, "m") == 0)
        *out = v * 60;
    else if (strcmp(end, "h") == 0)
        *out = v * 3600;
    else
        return -1;
    return 0;
}

int ferry_parse_uint(uint64_t *out, const char *s, uint64_t min, uint64_t max)
{
    unsigned long long v;
    char *end;

    if (!s || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

bool ferry_str_starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool ferry_str_ends(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}
