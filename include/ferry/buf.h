/*
 * buf.h - growable byte buffers.
 *
 * A struct ferry_buf owns its data.  The data is always NUL-terminated
 * (data[len] == 0), so it can be used as a C string when it holds text.
 * Allocation failure aborts the program: ferry cannot do anything useful
 * without memory, and callers stay free of impossible error paths.
 *
 *     struct ferry_buf b;
 *     ferry_buf_init(&b);
 *     ferry_buf_addf(&b, "%d parts", n);
 *     ...
 *     ferry_buf_release(&b);
 */
#ifndef FERRY_BUF_H
#define FERRY_BUF_H

#include <stddef.h>

struct ferry_buf {
    char *data; /* never NULL after init */
    size_t len;
    size_t cap;
};

void ferry_buf_init(struct ferry_buf *b);
void ferry_buf_release(struct ferry_buf *b);

/* Wipes the bytes (for secrets) and then releases. */
void ferry_buf_release_secret(struct ferry_buf *b);

void ferry_buf_reset(struct ferry_buf *b);
void ferry_buf_grow(struct ferry_buf *b, size_t extra);
void ferry_buf_add(struct ferry_buf *b, const void *data, size_t len);
void ferry_buf_adds(struct ferry_buf *b, const char *s);
void ferry_buf_addc(struct ferry_buf *b, char c);
void ferry_buf_addf(struct ferry_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Gives the data to the caller, who frees it; b is left empty. */
char *ferry_buf_detach(struct ferry_buf *b);

/* Abort-on-failure allocators used across ferry. */
void *ferry_xmalloc(size_t n);
void *ferry_xcalloc(size_t n, size_t size);
void *ferry_xrealloc(void *p, size_t n);
char *ferry_xstrdup(const char *s);
char *ferry_xstrndup(const char *s, size_t n);

/*
 * A large data buffer (a part) of n bytes, mapped on its own and asked
 * to live on transparent huge pages where it spans whole 2 MiB pages:
 * copying a part into it and hashing it then take far fewer TLB misses
 * (in a VM, a third less CPU in the kernel for a 16 MiB part).  Only the
 * pages touched count as resident, so its cost in memory is still n.
 * Free it with ferry_bigbuf_free(p, n).
 */
void *ferry_bigbuf_alloc(size_t n);
void ferry_bigbuf_free(void *p, size_t n);

#endif
