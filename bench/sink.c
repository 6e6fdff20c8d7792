/*
 * bench/sink.c - a discard sink shaped like S3, for ferry's benchmark.
 *
 * It answers every S3 call that ferry and the peer clients make when they
 * upload, reads every request body and throws it away.  It checks no
 * signature, keeps no data and is NOT a correctness server: it exists to
 * measure a client's own ceiling when the server costs (almost) nothing.
 *
 *   cc -O2 -pthread -o sink bench/sink.c -lcrypto
 *   sink [-p PORT] [-a ADDR]       (default 127.0.0.1, port 0 = any free)
 *
 * Once it listens it prints the port on stdout (one line) and flushes.
 * One thread per connection, HTTP/1.1 with keep-alive, Content-Length and
 * chunked bodies, "Expect: 100-continue".  Bodies are dropped with
 * recv(MSG_TRUNC), which on TCP discards the bytes without copying them.
 *
 * What it answers (path style: /BUCKET/KEY):
 *   PUT object                     200, ETag
 *   PUT ?partNumber&uploadId       200, ETag
 *   POST ?uploads                  InitiateMultipartUploadResult
 *   POST ?uploadId                 CompleteMultipartUploadResult
 *   DELETE ?uploadId               204
 *   GET ?uploadId                  ListPartsResult (empty)
 *   HEAD object                    size and ETag of what was uploaded
 *   DELETE object                  204
 *   PUT / HEAD / DELETE bucket     200 / 200 / 204
 *   GET bucket (?list-type=2 ...)  an empty ListBucketResult
 *   GET ?location, ?uploads        LocationConstraint, empty listing
 *   POST ?delete                   an empty DeleteResult
 *   GET /_sink/stats               JSON counters (requests, bytes, ...)
 *
 * ETags: when the request has Content-MD5 the ETag is that MD5 (so
 * clients that check it, like rclone, are satisfied); otherwise it is a
 * made-up value ending in "-1", which clients (s3cmd, rclone) take for a
 * multipart ETag and do not compare with their MD5.  Complete computes
 * the real multipart ETag, MD5(part MD5s)-N, from the part ETags it is
 * sent.  HEAD returns the size the upload had: clients compare it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#define MAX_HEAD (64 * 1024)       /* request line + headers */
#define MAX_KEPT (64 * 1024 * 1024) /* a POST body we parse */
#define DROP_CHUNK (4 * 1024 * 1024)
#define NBUCKETS 65536

/* --- counters -------------------------------------------------------- */

static struct {
    pthread_mutex_t lock;
    uint64_t requests, body_bytes, objects, object_bytes, connections;
} stats = { PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0, 0 };

static uint64_t next_id(void)
{
    static uint64_t id;
    return __atomic_add_fetch(&id, 1, __ATOMIC_RELAXED);
}

/* --- what was uploaded: objects and open multipart uploads ---------- */

struct part {
    int number;
    uint64_t size;
};

struct entry {
    struct entry *next;
    char *name; /* object: "bucket/key"; upload: upload id */
    /* object */
    uint64_t size;
    char etag[64];
    time_t mtime;
    /* upload */
    char *key;
    struct part *parts;
    size_t nparts, cap;
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *objects[NBUCKETS], *uploads[NBUCKETS];

static unsigned hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (unsigned)(h % NBUCKETS);
}

/* Finds NAME; with unlink, removes it and the caller owns it. */
static struct entry *lookup(struct entry **tab, const char *name, bool unlink)
{
    struct entry **pp = &tab[hash(name)];

    for (; *pp; pp = &(*pp)->next) {
        struct entry *e = *pp;

        if (!strcmp(e->name, name)) {
            if (unlink)
                *pp = e->next;
            return e;
        }
    }
    return NULL;
}

static void free_entry(struct entry *e)
{
    if (!e)
        return;
    free(e->name);
    free(e->key);
    free(e->parts);
    free(e);
}

static void put_object(const char *name, uint64_t size, const char *etag)
{
    struct entry *e;

    pthread_mutex_lock(&table_lock);
    e = lookup(objects, name, false);
    if (!e) {
        unsigned h = hash(name);

        e = calloc(1, sizeof(*e));
        e->name = strdup(name);
        e->next = objects[h];
        objects[h] = e;
    }
    e->size = size;
    snprintf(e->etag, sizeof(e->etag), "%s", etag);
    e->mtime = time(NULL);
    pthread_mutex_unlock(&table_lock);
    pthread_mutex_lock(&stats.lock);
    stats.objects++;
    stats.object_bytes += size;
    pthread_mutex_unlock(&stats.lock);
}

/* --- small helpers --------------------------------------------------- */

static void fake_etag(char out[64], const char *suffix)
{
    uint64_t a = next_id() * 0x9e3779b97f4a7c15ULL;
    uint64_t b = (a ^ (a >> 29)) * 0xbf58476d1ce4e5b9ULL;

    snprintf(out, 64, "%016" PRIx64 "%016" PRIx64 "%s", a, b, suffix);
}

static int unhex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Percent-decoding in place. */
static void url_decode(char *s)
{
    char *w = s;

    for (; *s; s++) {
        if (*s == '%' && unhex(s[1]) >= 0 && unhex(s[2]) >= 0) {
            *w++ = (char)(unhex(s[1]) * 16 + unhex(s[2]));
            s += 2;
        } else {
            *w++ = *s;
        }
    }
    *w = '\0';
}

/* Base64 of a 16-byte MD5 (Content-MD5) to 32 hex digits. */
static bool md5_b64_to_hex(const char *b64, char out[33])
{
    unsigned char bin[64];
    size_t n = strlen(b64);
    int len;

    while (n && isspace((unsigned char)b64[n - 1]))
        n--;
    if (n != 24)
        return false;
    len = EVP_DecodeBlock(bin, (const unsigned char *)b64, (int)n);
    if (len != 18) /* 24 base64 chars decode to 18 bytes, 2 of padding */
        return false;
    for (int i = 0; i < 16; i++)
        sprintf(out + 2 * i, "%02x", bin[i]);
    return true;
}

static void xml_escape(char *out, size_t cap, const char *s)
{
    size_t n = 0;

    for (; *s && n + 7 < cap; s++) {
        const char *r = NULL;

        switch (*s) {
        case '&': r = "&amp;"; break;
        case '<': r = "&lt;"; break;
        case '>': r = "&gt;"; break;
        case '"': r = "&quot;"; break;
        case '\'': r = "&apos;"; break;
        }
        if (r) {
            size_t l = strlen(r);
            memcpy(out + n, r, l);
            n += l;
        } else {
            out[n++] = *s;
        }
    }
    out[n] = '\0';
}

/* --- one connection -------------------------------------------------- */

struct conn {
    int fd;
    char *buf; /* bytes read but not used yet: buf[off..len) */
    size_t off, len, cap;
    char *scratch;
};

struct req {
    char method[16];
    char *target; /* into the head buffer */
    char path[8192];
    char query[8192];
    bool http10, close, expect, chunked;
    int64_t content_length; /* -1: none */
    char content_md5[64];
    char host[256];
    char head[MAX_HEAD + 1];
};

/* Reads more bytes into the buffer; 0 on EOF or error. */
static size_t fill(struct conn *c)
{
    ssize_t n;

    if (c->off && c->off == c->len)
        c->off = c->len = 0;
    if (c->len == c->cap) {
        if (c->off) {
            memmove(c->buf, c->buf + c->off, c->len - c->off);
            c->len -= c->off;
            c->off = 0;
        } else {
            return 0;
        }
    }
    do
        n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return 0;
    c->len += (size_t)n;
    return (size_t)n;
}

static bool send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Drops N body bytes: what is buffered, then straight from the socket. */
static bool drop(struct conn *c, uint64_t n)
{
    size_t have = c->len - c->off;
    uint64_t total = n;

    if (have > n)
        have = (size_t)n;
    c->off += have;
    n -= have;
    while (n) {
        size_t want = n > DROP_CHUNK ? DROP_CHUNK : (size_t)n;
        ssize_t r = recv(c->fd, c->scratch, want, MSG_TRUNC);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        n -= (uint64_t)r;
    }
    pthread_mutex_lock(&stats.lock);
    stats.body_bytes += total;
    pthread_mutex_unlock(&stats.lock);
    return true;
}

/* Copies N body bytes into out (n < MAX_KEPT). */
static bool keep(struct conn *c, char *out, size_t n)
{
    size_t got = 0;

    while (got < n) {
        size_t have = c->len - c->off;

        if (!have) {
            if (!fill(c))
                return false;
            continue;
        }
        if (have > n - got)
            have = n - got;
        memcpy(out + got, c->buf + c->off, have);
        c->off += have;
        got += have;
    }
    return true;
}

/* One CRLF-terminated line of a chunked body, without the CRLF. */
static bool read_line(struct conn *c, char *line, size_t cap)
{
    for (;;) {
        char *p = memchr(c->buf + c->off, '\n', c->len - c->off);

        if (p) {
            size_t n = (size_t)(p - (c->buf + c->off));

            if (n && p[-1] == '\r')
                n--;
            if (n >= cap)
                return false;
            memcpy(line, c->buf + c->off, n);
            line[n] = '\0';
            c->off = (size_t)(p - c->buf) + 1;
            return true;
        }
        if (c->len - c->off > 4096 || !fill(c))
            return false;
    }
}

/*
 * Reads the whole body.  If out is given, up to *outlen bytes are kept
 * there (and *outlen is set to the body's size); otherwise it is dropped.
 */
static bool read_body(struct conn *c, struct req *r, char *out,
                      size_t *outlen, uint64_t *size)
{
    *size = 0;
    if (r->chunked) {
        char line[256];
        size_t kept = 0;

        for (;;) {
            uint64_t n;
            char *end;

            if (!read_line(c, line, sizeof(line)))
                return false;
            n = strtoull(line, &end, 16);
            if (end == line)
                return false;
            if (!n)
                break;
            if (out && kept + n <= *outlen) {
                if (!keep(c, out + kept, (size_t)n))
                    return false;
                kept += (size_t)n;
            } else if (!drop(c, n)) {
                return false;
            }
            *size += n;
            if (!read_line(c, line, sizeof(line)) || line[0])
                return false;
        }
        do /* trailers, up to the empty line */
            if (!read_line(c, line, sizeof(line)))
                return false;
        while (line[0]);
        if (out)
            *outlen = kept;
        return true;
    }
    if (r->content_length <= 0) {
        if (out)
            *outlen = 0;
        return true;
    }
    *size = (uint64_t)r->content_length;
    if (out && *size <= *outlen) {
        *outlen = (size_t)*size;
        return keep(c, out, (size_t)*size);
    }
    if (out)
        *outlen = 0;
    return drop(c, *size);
}

static bool has_token(const char *v, const char *tok)
{
    size_t n = strlen(tok);

    for (; *v; v++) {
        if (!strncasecmp(v, tok, n) && (v[n] == '\0' || v[n] == ',' ||
                                        v[n] == ' ' || v[n] == ';'))
            return true;
    }
    return false;
}

/* Reads and parses the request head; false at EOF or on garbage. */
static bool read_head(struct conn *c, struct req *r, bool *bad)
{
    char *end, *line, *next, *sp, *q;
    size_t n;

    *bad = false;
    for (;;) {
        end = memmem(c->buf + c->off, c->len - c->off, "\r\n\r\n", 4);
        if (end)
            break;
        if (c->len - c->off >= MAX_HEAD) {
            *bad = true;
            return false;
        }
        if (!fill(c))
            return false;
    }
    n = (size_t)(end - (c->buf + c->off)) + 4;
    memcpy(r->head, c->buf + c->off, n);
    r->head[n] = '\0';
    c->off += n;

    r->http10 = r->close = r->expect = r->chunked = false;
    r->content_length = -1;
    r->content_md5[0] = r->host[0] = '\0';

    line = r->head;
    next = strstr(line, "\r\n");
    *next = '\0';
    next += 2;
    sp = strchr(line, ' ');
    if (!sp || (size_t)(sp - line) >= sizeof(r->method)) {
        *bad = true;
        return false;
    }
    memcpy(r->method, line, (size_t)(sp - line));
    r->method[sp - line] = '\0';
    r->target = sp + 1;
    sp = strchr(r->target, ' ');
    if (!sp) {
        *bad = true;
        return false;
    }
    *sp = '\0';
    r->http10 = !strcmp(sp + 1, "HTTP/1.0");
    r->close = r->http10;

    q = strchr(r->target, '?');
    if (q) {
        snprintf(r->query, sizeof(r->query), "%s", q + 1);
        *q = '\0';
    } else {
        r->query[0] = '\0';
    }
    if (!strncmp(r->target, "http://", 7)) { /* absolute form */
        char *slash = strchr(r->target + 7, '/');
        r->target = slash ? slash : (char *)"/";
    }
    snprintf(r->path, sizeof(r->path), "%s", r->target);
    url_decode(r->path);

    for (line = next; *line; line = next) {
        char *colon, *v;

        next = strstr(line, "\r\n");
        if (!next)
            break;
        *next = '\0';
        next += 2;
        colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
            ;
        if (!strcasecmp(line, "content-length"))
            r->content_length = strtoll(v, NULL, 10);
        else if (!strcasecmp(line, "transfer-encoding"))
            r->chunked = has_token(v, "chunked");
        else if (!strcasecmp(line, "expect"))
            r->expect = !strncasecmp(v, "100-continue", 12);
        else if (!strcasecmp(line, "connection")) {
            if (has_token(v, "close"))
                r->close = true;
            else if (has_token(v, "keep-alive"))
                r->close = false;
        } else if (!strcasecmp(line, "content-md5"))
            snprintf(r->content_md5, sizeof(r->content_md5), "%s", v);
        else if (!strcasecmp(line, "host"))
            snprintf(r->host, sizeof(r->host), "%s", v);
    }
    return true;
}

/* The value of query parameter NAME (decoded) in out; false if absent. */
static bool qparam(const struct req *r, const char *name, char *out,
                   size_t cap)
{
    size_t n = strlen(name);
    const char *p = r->query;

    while (*p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);

        if (len >= n && !strncmp(p, name, n) && (len == n || p[n] == '=')) {
            if (out) {
                size_t vl = len > n ? len - n - 1 : 0;

                if (vl >= cap)
                    vl = cap - 1;
                memcpy(out, p + n + (len > n), vl);
                out[vl] = '\0';
                url_decode(out);
            }
            return true;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    return false;
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 501: return "Not Implemented";
    default: return "Unknown";
    }
}

/*
 * Sends a response.  extra: more header lines (each ending in \r\n) or
 * NULL.  For HEAD, length is the Content-Length announced, and no body.
 */
static bool respond(struct conn *c, const struct req *r, int status,
                    const char *extra, const char *body, int64_t head_length)
{
    char hdr[2048], date[64];
    struct tm tm;
    time_t now = time(NULL);
    size_t blen = body ? strlen(body) : 0;
    int n;
    bool is_head = !strcmp(r->method, "HEAD");

    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    n = snprintf(hdr, sizeof(hdr),
                 "HTTP/1.1 %d %s\r\n"
                 "Date: %s\r\n"
                 "Server: ferry-bench-sink\r\n"
                 "x-amz-request-id: %016" PRIx64 "\r\n"
                 "%s"
                 "%s"
                 "Content-Length: %" PRId64 "\r\n"
                 "Connection: %s\r\n\r\n",
                 status, reason(status), date, next_id(), extra ? extra : "",
                 blen ? "Content-Type: application/xml\r\n" : "",
                 is_head ? head_length : (int64_t)blen,
                 r->close ? "close" : "keep-alive");
    if (n < 0 || (size_t)n >= sizeof(hdr))
        return false;
    if (!send_all(c->fd, hdr, (size_t)n))
        return false;
    return is_head || !blen || send_all(c->fd, body, blen);
}

static bool error_xml(struct conn *c, const struct req *r, int status,
                      const char *code, const char *msg)
{
    char body[1024];

    snprintf(body, sizeof(body),
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<Error><Code>%s</Code><Message>%s</Message></Error>",
             code, msg);
    return respond(c, r, status, NULL, body, 0);
}

#define XMLNS "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""
#define XMLDECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

static bool stats_json(struct conn *c, const struct req *r)
{
    char body[512];

    pthread_mutex_lock(&stats.lock);
    snprintf(body, sizeof(body),
             "{\"requests\": %" PRIu64 ", \"body_bytes\": %" PRIu64
             ", \"objects\": %" PRIu64 ", \"object_bytes\": %" PRIu64
             ", \"connections\": %" PRIu64 "}\n",
             stats.requests, stats.body_bytes, stats.objects,
             stats.object_bytes, stats.connections);
    pthread_mutex_unlock(&stats.lock);
    return respond(c, r, 200, "Content-Type: application/json\r\n", body,
                   0);
}

/*
 * CompleteMultipartUpload: the size is the sum of the listed parts that
 * were uploaded; the ETag is MD5 of the parts' binary MD5s, "-N".
 */
static bool complete(struct conn *c, const struct req *r, const char *bucket,
                     const char *key, const char *upload_id, char *xml)
{
    struct entry *up;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char digest[16];
    unsigned dlen = 0;
    bool all_md5 = true;
    int count = 0;
    uint64_t size = 0;
    char etag[64], name[8192], ekey[4096], ebucket[512], body[20480];
    char *p = xml;

    pthread_mutex_lock(&table_lock);
    up = lookup(uploads, upload_id, true);
    pthread_mutex_unlock(&table_lock);
    if (!up) {
        EVP_MD_CTX_free(md);
        return error_xml(c, r, 404, "NoSuchUpload",
                         "The specified upload does not exist.");
    }
    EVP_DigestInit_ex(md, EVP_md5(), NULL);
    while ((p = strstr(p, "<Part>")) != NULL) {
        char *end = strstr(p, "</Part>"), *num, *tag;
        int number = -1;

        if (!end)
            break;
        *end = '\0';
        num = strstr(p, "<PartNumber>");
        if (num)
            number = atoi(num + 12);
        tag = strstr(p, "<ETag>");
        if (tag) {
            char hex[64];
            size_t n = 0;

            tag += 6;
            /* skip quotes, plain or as entities */
            while (*tag && *tag != '<' && n < sizeof(hex) - 1) {
                if (*tag == '"') {
                    tag++;
                } else if (!strncmp(tag, "&quot;", 6)) {
                    tag += 6;
                } else if (!strncmp(tag, "&#34;", 5)) {
                    tag += 5;
                } else {
                    hex[n++] = *tag++;
                }
            }
            hex[n] = '\0';
            if (n == 32) {
                unsigned char bin[16];

                for (int i = 0; i < 16; i++) {
                    int hi = unhex(hex[2 * i]), lo = unhex(hex[2 * i + 1]);
                    if (hi < 0 || lo < 0)
                        all_md5 = false;
                    bin[i] = (unsigned char)(hi * 16 + lo);
                }
                EVP_DigestUpdate(md, bin, 16);
            } else {
                all_md5 = false;
            }
        }
        for (size_t i = 0; i < up->nparts; i++) {
            if (up->parts[i].number == number) {
                size += up->parts[i].size;
                break;
            }
        }
        count++;
        p = end + 1;
    }
    EVP_DigestFinal_ex(md, digest, &dlen);
    EVP_MD_CTX_free(md);
    if (all_md5 && count) {
        for (int i = 0; i < 16; i++)
            sprintf(etag + 2 * i, "%02x", digest[i]);
        snprintf(etag + 32, sizeof(etag) - 32, "-%d", count);
    } else {
        char suffix[16];

        snprintf(suffix, sizeof(suffix), "-%d", count);
        fake_etag(etag, suffix);
    }
    snprintf(name, sizeof(name), "%s/%s", bucket, key);
    put_object(name, size, etag);
    free_entry(up);
    xml_escape(ekey, sizeof(ekey), key);
    xml_escape(ebucket, sizeof(ebucket), bucket);
    snprintf(body, sizeof(body),
             XMLDECL "<CompleteMultipartUploadResult " XMLNS ">"
                     "<Location>http://%s/%s/%s</Location>"
                     "<Bucket>%s</Bucket><Key>%s</Key>"
                     "<ETag>&quot;%s&quot;</ETag>"
                     "</CompleteMultipartUploadResult>",
             r->host, ebucket, ekey, ebucket, ekey, etag);
    return respond(c, r, 200, NULL, body, 0);
}

/* Handles one request whose head is parsed; false: close the connection. */
static bool handle(struct conn *c, struct req *r)
{
    char bucket[512] = "", key[8192] = "", upload_id[256], pnum[32];
    char etag[64], hdr[256], name[8192], ekey[4096], ebucket[512];
    char body[16384];
    const char *p = r->path[0] == '/' ? r->path + 1 : r->path;
    const char *slash = strchr(p, '/');
    const char *m = r->method;
    bool has_body = r->chunked || r->content_length > 0;
    uint64_t size = 0;

    pthread_mutex_lock(&stats.lock);
    stats.requests++;
    pthread_mutex_unlock(&stats.lock);

    if (slash) {
        snprintf(bucket, sizeof(bucket), "%.*s", (int)(slash - p), p);
        snprintf(key, sizeof(key), "%s", slash + 1);
    } else {
        snprintf(bucket, sizeof(bucket), "%.*s", (int)sizeof(bucket) - 1, p);
    }

    if (r->expect && has_body) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        if (!send_all(c->fd, cont, sizeof(cont) - 1))
            return false;
    }

    /* POST bodies are small XML documents: keep them; drop the rest. */
    if (!strcmp(m, "POST")) {
        size_t cap = MAX_KEPT;
        char *xml = malloc(cap + 1);
        bool ok;

        if (!read_body(c, r, xml, &cap, &size)) {
            free(xml);
            return false;
        }
        xml[cap] = '\0';
        if (key[0] && qparam(r, "uploads", NULL, 0)) {
            snprintf(upload_id, sizeof(upload_id), "sink-%016" PRIx64 "-%x",
                     next_id(), (unsigned)rand());
            struct entry *e = calloc(1, sizeof(*e));
            e->name = strdup(upload_id);
            e->key = strdup(key);
            pthread_mutex_lock(&table_lock);
            {
                unsigned h = hash(upload_id);
                e->next = uploads[h];
                uploads[h] = e;
            }
            pthread_mutex_unlock(&table_lock);
            xml_escape(ekey, sizeof(ekey), key);
            xml_escape(ebucket, sizeof(ebucket), bucket);
            snprintf(body, sizeof(body),
                     XMLDECL "<InitiateMultipartUploadResult " XMLNS ">"
                             "<Bucket>%s</Bucket><Key>%s</Key>"
                             "<UploadId>%s</UploadId>"
                             "</InitiateMultipartUploadResult>",
                     ebucket, ekey, upload_id);
            ok = respond(c, r, 200, NULL, body, 0);
        } else if (key[0] &&
                   qparam(r, "uploadId", upload_id, sizeof(upload_id))) {
            ok = complete(c, r, bucket, key, upload_id, xml);
        } else if (bucket[0] && qparam(r, "delete", NULL, 0)) {
            ok = respond(c, r, 200, NULL,
                         XMLDECL "<DeleteResult " XMLNS "></DeleteResult>", 0);
        } else {
            ok = error_xml(c, r, 501, "NotImplemented",
                           "The sink does not know this POST.");
        }
        free(xml);
        return ok && !r->close;
    }

    if (has_body && !read_body(c, r, NULL, NULL, &size))
        return false;

    if (!strcmp(r->path, "/_sink/stats"))
        return stats_json(c, r) && !r->close;

    if (!strcmp(m, "PUT")) {
        if (!key[0]) /* CreateBucket, or a bucket sub-resource */
            return respond(c, r, 200, NULL, NULL, 0) && !r->close;
        if (r->content_md5[0] && md5_b64_to_hex(r->content_md5, etag))
            ;
        else
            fake_etag(etag, "-1");
        if (qparam(r, "uploadId", upload_id, sizeof(upload_id)) &&
            qparam(r, "partNumber", pnum, sizeof(pnum))) {
            struct entry *up;
            int number = atoi(pnum);

            pthread_mutex_lock(&table_lock);
            up = lookup(uploads, upload_id, false);
            if (up) {
                size_t i;

                for (i = 0; i < up->nparts; i++)
                    if (up->parts[i].number == number)
                        break;
                if (i == up->nparts) {
                    if (up->nparts == up->cap) {
                        up->cap = up->cap ? up->cap * 2 : 16;
                        up->parts =
                            realloc(up->parts, up->cap * sizeof(*up->parts));
                    }
                    up->parts[up->nparts++].number = number;
                }
                up->parts[i].size = size;
            }
            pthread_mutex_unlock(&table_lock);
            if (!up)
                return error_xml(c, r, 404, "NoSuchUpload",
                                 "The specified upload does not exist.") &&
                       !r->close;
        } else {
            snprintf(name, sizeof(name), "%s/%s", bucket, key);
            put_object(name, size, etag);
        }
        snprintf(hdr, sizeof(hdr), "ETag: \"%s\"\r\n", etag);
        return respond(c, r, 200, hdr, NULL, 0) && !r->close;
    }

    if (!strcmp(m, "DELETE")) {
        if (key[0] && qparam(r, "uploadId", upload_id, sizeof(upload_id))) {
            pthread_mutex_lock(&table_lock);
            free_entry(lookup(uploads, upload_id, true));
            pthread_mutex_unlock(&table_lock);
        } else if (key[0]) {
            snprintf(name, sizeof(name), "%s/%s", bucket, key);
            pthread_mutex_lock(&table_lock);
            free_entry(lookup(objects, name, true));
            pthread_mutex_unlock(&table_lock);
        }
        return respond(c, r, 204, NULL, NULL, 0) && !r->close;
    }

    if (!strcmp(m, "HEAD")) {
        struct entry *e;
        char lm[64];
        struct tm tm;
        uint64_t osize = 0;

        if (!key[0])
            return respond(c, r, 200, "x-amz-bucket-region: us-east-1\r\n",
                           NULL, 0) && !r->close;
        snprintf(name, sizeof(name), "%s/%s", bucket, key);
        pthread_mutex_lock(&table_lock);
        e = lookup(objects, name, false);
        if (e) {
            osize = e->size;
            gmtime_r(&e->mtime, &tm);
            strftime(lm, sizeof(lm), "%a, %d %b %Y %H:%M:%S GMT", &tm);
            snprintf(hdr, sizeof(hdr),
                     "ETag: \"%s\"\r\nLast-Modified: %s\r\n"
                     "Content-Type: binary/octet-stream\r\n",
                     e->etag, lm);
        }
        pthread_mutex_unlock(&table_lock);
        if (!e)
            return respond(c, r, 404, NULL, NULL, 0) && !r->close;
        return respond(c, r, 200, hdr, NULL, (int64_t)osize) && !r->close;
    }

    if (!strcmp(m, "GET")) {
        if (!bucket[0])
            return respond(c, r, 200, NULL,
                           XMLDECL "<ListAllMyBucketsResult " XMLNS ">"
                                   "<Owner><ID>sink</ID></Owner><Buckets>"
                                   "</Buckets></ListAllMyBucketsResult>",
                           0) && !r->close;
        xml_escape(ebucket, sizeof(ebucket), bucket);
        if (key[0] && qparam(r, "uploadId", upload_id, sizeof(upload_id))) {
            xml_escape(ekey, sizeof(ekey), key);
            snprintf(body, sizeof(body),
                     XMLDECL "<ListPartsResult " XMLNS ">"
                             "<Bucket>%s</Bucket><Key>%s</Key>"
                             "<UploadId>%s</UploadId>"
                             "<PartNumberMarker>0</PartNumberMarker>"
                             "<NextPartNumberMarker>0</NextPartNumberMarker>"
                             "<MaxParts>1000</MaxParts>"
                             "<IsTruncated>false</IsTruncated>"
                             "</ListPartsResult>",
                     ebucket, ekey, upload_id);
            return respond(c, r, 200, NULL, body, 0) && !r->close;
        }
        if (key[0])
            return error_xml(c, r, 404, "NoSuchKey",
                             "The sink keeps no data.") && !r->close;
        if (qparam(r, "location", NULL, 0))
            return respond(c, r, 200, NULL,
                           XMLDECL "<LocationConstraint " XMLNS
                                   "></LocationConstraint>",
                           0) && !r->close;
        if (qparam(r, "uploads", NULL, 0)) {
            snprintf(body, sizeof(body),
                     XMLDECL "<ListMultipartUploadsResult " XMLNS ">"
                             "<Bucket>%s</Bucket><KeyMarker></KeyMarker>"
                             "<UploadIdMarker></UploadIdMarker>"
                             "<MaxUploads>1000</MaxUploads>"
                             "<IsTruncated>false</IsTruncated>"
                             "</ListMultipartUploadsResult>",
                     ebucket);
            return respond(c, r, 200, NULL, body, 0) && !r->close;
        }
        {
            char prefix[2048] = "", eprefix[4096];

            qparam(r, "prefix", prefix, sizeof(prefix));
            xml_escape(eprefix, sizeof(eprefix), prefix);
            snprintf(body, sizeof(body),
                     XMLDECL "<ListBucketResult " XMLNS ">"
                             "<Name>%s</Name><Prefix>%s</Prefix>"
                             "<Marker></Marker><KeyCount>0</KeyCount>"
                             "<MaxKeys>1000</MaxKeys>"
                             "<IsTruncated>false</IsTruncated>"
                             "</ListBucketResult>",
                     ebucket, eprefix);
        }
        return respond(c, r, 200, NULL, body, 0) && !r->close;
    }

    return error_xml(c, r, 405, "MethodNotAllowed",
                     "The sink does not know this method.") &&
           !r->close;
}

static void *conn_main(void *arg)
{
    struct conn c = { .fd = (int)(intptr_t)arg };
    struct req *r = malloc(sizeof(*r));
    bool bad;

    c.cap = 256 * 1024;
    c.buf = malloc(c.cap);
    c.scratch = malloc(DROP_CHUNK);
    pthread_mutex_lock(&stats.lock);
    stats.connections++;
    pthread_mutex_unlock(&stats.lock);
    while (read_head(&c, r, &bad)) {
        if (!handle(&c, r))
            break;
    }
    if (bad) {
        static const char msg[] = "HTTP/1.1 400 Bad Request\r\n"
                                  "Content-Length: 0\r\n"
                                  "Connection: close\r\n\r\n";
        send_all(c.fd, msg, sizeof(msg) - 1);
    }
    close(c.fd);
    free(c.buf);
    free(c.scratch);
    free(r);
    return NULL;
}

static void usage(void)
{
    fprintf(stderr, "usage: sink [-p PORT] [-a ADDR]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t len = sizeof(sa);
    const char *addr = "127.0.0.1";
    int port = 0, fd, one = 1, opt;
    pthread_attr_t attr;

    while ((opt = getopt(argc, argv, "p:a:h")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'a': addr = optarg; break;
        default: usage();
        }
    }
    if (optind != argc)
        usage();
    signal(SIGPIPE, SIG_IGN);
    srand((unsigned)time(NULL) ^ (unsigned)getpid());

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("sink: socket");
        return 1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        fprintf(stderr, "sink: bad address %s\n", addr);
        return 2;
    }
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 512)) {
        perror("sink: bind/listen");
        return 1;
    }
    getsockname(fd, (struct sockaddr *)&sa, &len);
    printf("%d\n", ntohs(sa.sin_port));
    fflush(stdout);

    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (;;) {
        pthread_t t;
        int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

        if (cfd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE ||
                errno == ENFILE)
                continue;
            perror("sink: accept");
            return 1;
        }
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (pthread_create(&t, &attr, conn_main, (void *)(intptr_t)cfd))
            close(cfd);
    }
}
