/* sigv4.c - Signature Version 4 signing; see include/ferry/sigv4.h. */
#include "ferry/sigv4.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ferry/strutil.h"

const struct ferry_sigv4_dialect ferry_sigv4_aws = {
    .algorithm = "AWS4-HMAC-SHA256",
    .key_prefix = "AWS4",
    .terminator = "aws4_request",
    .date_header = "x-amz-date",
    .sha_header = "x-amz-content-sha256",
    .token_header = "x-amz-security-token",
    .default_service = "s3",
};

const struct ferry_sigv4_dialect ferry_sigv4_goog = {
    .algorithm = "GOOG4-HMAC-SHA256",
    .key_prefix = "GOOG4",
    .terminator = "goog4_request",
    .date_header = "x-goog-date",
    .sha_header = "x-goog-content-sha256",
    .token_header = "x-goog-security-token",
    .default_service = "storage",
};

void ferry_sigv4_result_init(struct ferry_sigv4_result *r)
{
    ferry_buf_init(&r->canonical_request);
    ferry_buf_init(&r->string_to_sign);
    ferry_buf_init(&r->signed_headers);
    ferry_buf_init(&r->authorization);
    ferry_buf_init(&r->wire_path);
    r->signature[0] = '\0';
}

void ferry_sigv4_result_release(struct ferry_sigv4_result *r)
{
    ferry_buf_release(&r->canonical_request);
    ferry_buf_release(&r->string_to_sign);
    ferry_buf_release(&r->signed_headers);
    ferry_buf_release(&r->authorization);
    ferry_buf_release(&r->wire_path);
}

void ferry_sha256_hex(char out[65], const void *data, size_t len)
{
    unsigned char md[32];
    unsigned int mdlen = 0;

    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    ferry_hex(out, md, 32);
}

static void hmac(unsigned char out[32], const void *key, size_t keylen,
                 const void *data, size_t len)
{
    size_t outlen = 0;

    EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, keylen, data, len, out,
              32, &outlen);
}

/* RFC 3986 dot-segment removal plus "//" collapsing, for non-S3 rules. */
static void normalize(struct ferry_buf *out, const char *path)
{
    size_t *starts = ferry_xcalloc(strlen(path) + 1, sizeof(size_t));
    size_t depth = 0;
    const char *p = path;
    bool trailing = false;

    ferry_buf_addc(out, '/');
    while (*p) {
        const char *seg;
        size_t n;

        while (*p == '/')
            p++;
        seg = p;
        while (*p && *p != '/')
            p++;
        n = (size_t)(p - seg);
        trailing = (*p == '/' || n == 0 || (n == 1 && seg[0] == '.') ||
                    (n == 2 && seg[0] == '.' && seg[1] == '.'));
        if (n == 0 || (n == 1 && seg[0] == '.'))
            continue;
        if (n == 2 && seg[0] == '.' && seg[1] == '.') {
            if (depth)
                out->len = starts[--depth];
            out->data[out->len] = '\0';
            continue;
        }
        starts[depth++] = out->len;
        if (out->len > 1)
            ferry_buf_addc(out, '/');
        ferry_buf_add(out, seg, n);
    }
    if (trailing && out->len > 1)
        ferry_buf_addc(out, '/');
    free(starts);
}

void ferry_sigv4_canonical_uri(struct ferry_buf *out, const char *path,
                               bool normalize_path, bool double_encode)
{
    struct ferry_buf tmp, once;

    ferry_buf_init(&tmp);
    ferry_buf_init(&once);
    if (normalize_path)
        normalize(&tmp, path);
    else
        ferry_buf_adds(&tmp, *path ? path : "/");
    if (double_encode) {
        ferry_uri_encode(&once, tmp.data, tmp.len, true);
        ferry_uri_encode(out, once.data, once.len, true);
    } else {
        ferry_uri_encode(out, tmp.data, tmp.len, true);
    }
    ferry_buf_release(&once);
    ferry_buf_release(&tmp);
}

struct enc_pair {
    char *name;
    char *value;
};

static int cmp_enc_pair(const void *a, const void *b)
{
    const struct enc_pair *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c ? c : strcmp(x->value, y->value);
}

static char *encode_dup(const char *s)
{
    struct ferry_buf b;

    ferry_buf_init(&b);
    ferry_uri_encode(&b, s, strlen(s), false);
    return ferry_buf_detach(&b);
}

void ferry_sigv4_canonical_query(struct ferry_buf *out,
                                 const struct ferry_sigv4_pair *query, size_t n)
{
    struct enc_pair *pairs = ferry_xcalloc(n, sizeof(*pairs));
    size_t i;

    for (i = 0; i < n; i++) {
        pairs[i].name = encode_dup(query[i].name);
        pairs[i].value = encode_dup(query[i].value ? query[i].value : "");
    }
    qsort(pairs, n, sizeof(*pairs), cmp_enc_pair);
    for (i = 0; i < n; i++) {
        ferry_buf_addf(out, "%s%s=%s", i ? "&" : "", pairs[i].name,
                       pairs[i].value);
        free(pairs[i].name);
        free(pairs[i].value);
    }
    free(pairs);
}

struct canon_header {
    char *name; /* lower case */
    const char *value;
    size_t order;
};

static int cmp_header(const void *a, const void *b)
{
    const struct canon_header *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Trims the value and squeezes runs of white space (folded lines too). */
static void add_trimmed(struct ferry_buf *out, const char *v)
{
    bool pending = false;

    while (*v && isspace((unsigned char)*v))
        v++;
    for (; *v; v++) {
        if (isspace((unsigned char)*v)) {
            pending = true;
            continue;
        }
        if (pending)
            ferry_buf_addc(out, ' ');
        pending = false;
        ferry_buf_addc(out, *v);
    }
}

static int lower_name(char **out, const char *name)
{
    char *s = ferry_xstrdup(name);
    char *p;

    for (p = s; *p; p++) {
        if (isspace((unsigned char)*p) || *p == ':') {
            free(s);
            return -1;
        }
        *p = (char)tolower((unsigned char)*p);
    }
    *out = s;
    return 0;
}

/* Appends canonical header lines to cr and the name list to names. */
static int canonical_headers(struct ferry_buf *cr, struct ferry_buf *names,
                             const struct ferry_sigv4_pair *h, size_t n)
{
    struct canon_header *hs = ferry_xcalloc(n, sizeof(*hs));
    size_t i, done = 0;
    int rc = 0;

    for (i = 0; i < n; i++, done++) {
        if (lower_name(&hs[i].name, h[i].name)) {
            rc = -1;
            goto out;
        }
        hs[i].value = h[i].value ? h[i].value : "";
        hs[i].order = i;
    }
    qsort(hs, n, sizeof(*hs), cmp_header);
    for (i = 0; i < n; i++) {
        bool same = i && strcmp(hs[i].name, hs[i - 1].name) == 0;

        if (same) {
            ferry_buf_addc(cr, ',');
        } else {
            if (i)
                ferry_buf_addc(cr, '\n');
            ferry_buf_addf(cr, "%s:", hs[i].name);
            ferry_buf_addf(names, "%s%s", names->len ? ";" : "", hs[i].name);
        }
        add_trimmed(cr, hs[i].value);
    }
    if (n)
        ferry_buf_addc(cr, '\n');
out:
    for (i = 0; i < done; i++)
        free(hs[i].name);
    free(hs);
    return rc;
}

static bool valid_timestamp(const char *t)
{
    size_t i;

    if (!t || strlen(t) != 16 || t[8] != 'T' || t[15] != 'Z')
        return false;
    for (i = 0; i < 15; i++) {
        if (i != 8 && !isdigit((unsigned char)t[i]))
            return false;
    }
    return true;
}

static void signing_key(unsigned char out[32],
                        const struct ferry_sigv4_request *req,
                        const char *service)
{
    struct ferry_buf k;
    unsigned char a[32], b[32];

    ferry_buf_init(&k);
    ferry_buf_adds(&k, req->dialect->key_prefix);
    ferry_buf_adds(&k, req->secret_key);
    hmac(a, k.data, k.len, req->timestamp, 8);
    hmac(b, a, 32, req->region, strlen(req->region));
    hmac(a, b, 32, service, strlen(service));
    hmac(out, a, 32, req->dialect->terminator,
         strlen(req->dialect->terminator));
    OPENSSL_cleanse(a, sizeof(a));
    OPENSSL_cleanse(b, sizeof(b));
    ferry_buf_release_secret(&k);
}

static void build_wire_path(struct ferry_buf *out,
                            const struct ferry_sigv4_request *req,
                            const char *query)
{
    /* The wire path is encoded once, as S3 decodes it once. */
    ferry_sigv4_canonical_uri(out, req->path, req->normalize_path, false);
    if (*query)
        ferry_buf_addf(out, "?%s", query);
}

int ferry_sigv4_sign(struct ferry_sigv4_result *out,
                     const struct ferry_sigv4_request *req)
{
    const char *service =
        req->service ? req->service : req->dialect->default_service;
    struct ferry_buf query;
    char crhash[65], scope[128];
    unsigned char key[32], sig[32];
    int rc = -1;

    ferry_buf_init(&query);
    if (!req->path || req->path[0] != '/' || !valid_timestamp(req->timestamp))
        goto out;
    ferry_buf_reset(&out->canonical_request);
    ferry_buf_reset(&out->string_to_sign);
    ferry_buf_reset(&out->signed_headers);
    ferry_buf_reset(&out->authorization);
    ferry_buf_reset(&out->wire_path);

    ferry_sigv4_canonical_query(&query, req->query, req->nquery);
    ferry_buf_addf(&out->canonical_request, "%s\n", req->method);
    ferry_sigv4_canonical_uri(&out->canonical_request, req->path,
                              req->normalize_path, req->double_encode);
    ferry_buf_addf(&out->canonical_request, "\n%s\n", query.data);
    if (canonical_headers(&out->canonical_request, &out->signed_headers,
                          req->headers, req->nheaders))
        goto out;
    ferry_buf_addf(&out->canonical_request, "\n%s\n%s",
                   out->signed_headers.data, req->payload_hash);

    snprintf(scope, sizeof(scope), "%.8s/%s/%s/%s", req->timestamp, req->region,
             service, req->dialect->terminator);
    ferry_sha256_hex(crhash, out->canonical_request.data,
                     out->canonical_request.len);
    ferry_buf_addf(&out->string_to_sign, "%s\n%s\n%s\n%s",
                   req->dialect->algorithm, req->timestamp, scope, crhash);

    signing_key(key, req, service);
    hmac(sig, key, 32, out->string_to_sign.data, out->string_to_sign.len);
    OPENSSL_cleanse(key, sizeof(key));
    ferry_hex(out->signature, sig, 32);
    ferry_buf_addf(&out->authorization,
                   "%s Credential=%s/%s, SignedHeaders=%s, Signature=%s",
                   req->dialect->algorithm, req->access_key, scope,
                   out->signed_headers.data, out->signature);
    build_wire_path(&out->wire_path, req, query.data);
    rc = 0;
out:
    ferry_buf_release(&query);
    return rc;
}
