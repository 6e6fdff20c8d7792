/* buf.c - growable byte buffers; see include/ferry/buf.h. */
#include "ferry/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/crypto.h>

static char empty_data[1];

static void die_nomem(void)
{
    fputs("ferry: out of memory\n", stderr);
    abort();
}

void *ferry_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p)
        die_nomem();
    return p;
}

void *ferry_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (!p)
        die_nomem();
    return p;
}

void *ferry_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (!q)
        die_nomem();
    return q;
}

char *ferry_xstrdup(const char *s)
{
    return ferry_xstrndup(s, strlen(s));
}

char *ferry_xstrndup(const char *s, size_t n)
{
    char *p = ferry_xmalloc(n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void ferry_buf_init(struct ferry_buf *b)
{
    b->data = empty_data;
    b->len = 0;
    b->cap = 0;
}

void ferry_buf_release(struct ferry_buf *b)
{
    if (b->cap)
        free(b->data);
    ferry_buf_init(b);
}

void ferry_buf_release_secret(struct ferry_buf *b)
{
    if (b->cap)
        OPENSSL_cleanse(b->data, b->cap);
    ferry_buf_release(b);
}

void ferry_buf_reset(struct ferry_buf *b)
{
    b->len = 0;
    if (b->cap)
        b->data[0] = '\0';
}

void ferry_buf_grow(struct ferry_buf *b, size_t extra)
{
    size_t want = b->len + extra + 1;
    size_t cap;

    if (want <= b->cap)
        return;
    cap = b->cap ? b->cap : 64;
    while (cap < want)
        cap *= 2;
    if (b->cap) {
        b->data = ferry_xrealloc(b->data, cap);
    } else {
        b->data = ferry_xmalloc(cap);
        b->data[0] = '\0';
    }
    b->cap = cap;
}

void ferry_buf_add(struct ferry_buf *b, const void *data, size_t len)
{
    ferry_buf_grow(b, len);
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void ferry_buf_adds(struct ferry_buf *b, const char *s)
{
    ferry_buf_add(b, s, strlen(s));
}

void ferry_buf_addc(struct ferry_buf *b, char c)
{
    ferry_buf_add(b, &c, 1);
}

void ferry_buf_addf(struct ferry_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    ferry_buf_grow(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *ferry_buf_detach(struct ferry_buf *b)
{
    char *p = b->cap ? b->data : ferry_xstrdup("");

    ferry_buf_init(b);
    return p;
}

#define HUGE_PAGE ((size_t)2 << 20)

static size_t round_page(size_t n)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);

    return (n + pg - 1) / pg * pg;
}

void *ferry_bigbuf_alloc(size_t n)
{
    size_t len, head, tail;
    char *map, *p;

    if (n < HUGE_PAGE)
        return ferry_xmalloc(n ? n : 1);
    /* Over-map by one huge page, keep a 2 MiB-aligned range of n bytes. */
    len = n + HUGE_PAGE;
    map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
               -1, 0);
    if (map == MAP_FAILED)
        die_nomem();
    p = (char *)(((uintptr_t)map + HUGE_PAGE - 1) &
                 ~(uintptr_t)(HUGE_PAGE - 1));
    head = (size_t)(p - map);
    tail = len - head - round_page(n);
    if (head)
        munmap(map, head);
    if (tail)
        munmap(p + round_page(n), tail);
    /* Advice only: without transparent huge pages it changes nothing. */
    (void)madvise(p, n, MADV_HUGEPAGE);
    return p;
}

void ferry_bigbuf_free(void *p, size_t n)
{
    if (!p)
        return;
    if (n < HUGE_PAGE)
        free(p);
    else
        munmap(p, round_page(n));
}
