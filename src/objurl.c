/* objurl.c - destination parsing; see include/ferry/objurl.h. */
#include "ferry/objurl.h"

#include <stdlib.h>
#include <string.h>

#include "ferry/strutil.h"

/* Bucket names as S3 and GCS allow them (lower case, digits, . - _). */
static bool valid_bucket(const char *b, size_t n)
{
    size_t i;

    if (n < 3 || n > 222)
        return false;
    for (i = 0; i < n; i++) {
        char c = b[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

static int fill(struct ferry_objurl *out, enum ferry_objurl_store st,
                const char *bucket, size_t blen, const char *key, bool encoded,
                const char *orig, struct ferry_error *err)
{
    struct ferry_buf k;

    if (!valid_bucket(bucket, blen))
        return ferry_error_set(err, FERRY_EUSAGE,
                               "\"%s\" has no valid bucket name", orig);
    ferry_buf_init(&k);
    if (encoded ? ferry_uri_decode(&k, key, strlen(key))
                : (ferry_buf_adds(&k, key), 0)) {
        ferry_buf_release(&k);
        return ferry_error_set(err, FERRY_EUSAGE,
                               "\"%s\" has a malformed %%-escape", orig);
    }
    out->store = st;
    out->bucket = ferry_xstrndup(bucket, blen);
    out->key = ferry_buf_detach(&k);
    return 0;
}

static int parse_scheme(struct ferry_objurl *out, const char *s,
                        enum ferry_objurl_store st, size_t skip,
                        struct ferry_error *err)
{
    const char *b = s + skip;
    const char *slash = strchr(b, '/');
    size_t blen = slash ? (size_t)(slash - b) : strlen(b);

    return fill(out, st, b, blen, slash ? slash + 1 : "", false, s, err);
}

/* https://BUCKET.s3.REGION.amazonaws.com/KEY, path style, or GCS. */
static int parse_https(struct ferry_objurl *out, const char *s,
                       struct ferry_error *err)
{
    const char *host = s + 8;
    const char *slash = strchr(host, '/');
    size_t hlen = slash ? (size_t)(slash - host) : strlen(host);
    const char *path = slash ? slash + 1 : "";
    const char *s3 = NULL, *p;

    if (hlen == 22 && !strncmp(host, "storage.googleapis.com", 22)) {
        p = strchr(path, '/');
        return fill(out, FERRY_STORE_GCS, path,
                    p ? (size_t)(p - path) : strlen(path), p ? p + 1 : "", true,
                    s, err);
    }
    if (hlen > 14 && !strncmp(host + hlen - 14, ".amazonaws.com", 14)) {
        for (p = host; p < host + hlen; p++) {
            if (!strncmp(p, "s3.", 3) && (p == host || p[-1] == '.')) {
                s3 = p;
                break;
            }
        }
    }
    if (!s3)
        return ferry_error_set(err, FERRY_EUSAGE,
                               "\"%s\" is not an S3 or GCS object URL", s);
    /* "s3.amazonaws.com" names no region: s3 + 2 is the suffix's dot. */
    if (s3 + 2 < host + hlen - 14)
        out->region =
            ferry_xstrndup(s3 + 3, (size_t)(host + hlen - 14 - s3 - 3));
    if (s3 == host) {
        p = strchr(path, '/');
        return fill(out, FERRY_STORE_S3, path,
                    p ? (size_t)(p - path) : strlen(path), p ? p + 1 : "", true,
                    s, err);
    }
    return fill(out, FERRY_STORE_S3, host, (size_t)(s3 - 1 - host), path, true,
                s, err);
}

int ferry_objurl_parse(struct ferry_objurl *out, const char *s,
                       struct ferry_error *err)
{
    int rc;

    memset(out, 0, sizeof(*out));
    if (ferry_str_starts(s, "s3://"))
        rc = parse_scheme(out, s, FERRY_STORE_S3, 5, err);
    else if (ferry_str_starts(s, "gs://"))
        rc = parse_scheme(out, s, FERRY_STORE_GCS, 5, err);
    else if (ferry_str_starts(s, "https://"))
        rc = parse_https(out, s, err);
    else
        rc = ferry_error_set(err, FERRY_EUSAGE,
                             "\"%s\" is not an "
                             "s3://, gs:// or https:// object URL",
                             s);
    if (rc)
        ferry_objurl_release(out);
    return rc;
}

void ferry_objurl_release(struct ferry_objurl *u)
{
    free(u->bucket);
    free(u->key);
    free(u->region);
    memset(u, 0, sizeof(*u));
}

bool ferry_objurl_is_folder(const struct ferry_objurl *u)
{
    return !u->key[0] || ferry_str_ends(u->key, "/");
}

void ferry_objurl_format(struct ferry_buf *out, enum ferry_objurl_store st,
                         const char *bucket, const char *key)
{
    ferry_buf_addf(out, "%s://%s/%s", st == FERRY_STORE_GCS ? "gs" : "s3",
                   bucket, key);
}

void ferry_objurl_build(struct ferry_buf *out, enum ferry_objurl_store st,
                        const char *bucket, const char *key,
                        enum ferry_url_style style, const char *region)
{
    if (style == FERRY_URL_URI) {
        ferry_objurl_format(out, st, bucket, key);
        return;
    }
    if (st == FERRY_STORE_GCS)
        ferry_buf_addf(out, "https://storage.googleapis.com/%s/", bucket);
    else
        ferry_buf_addf(out, "https://%s.s3.%s.amazonaws.com/", bucket,
                       region ? region : "us-east-1");
    ferry_uri_encode(out, key, strlen(key), true);
}

static bool cloud_label(const char *s, size_t n)
{
    static const char *const clouds[] = { "aws-", "gcp-", "az-", "ali-",
                                          "tc-" };
    size_t i;

    for (i = 0; i < sizeof(clouds) / sizeof(clouds[0]); i++) {
        size_t m = strlen(clouds[i]);

        if (n > m && !strncmp(s, clouds[i], m))
            return true;
    }
    return false;
}

int ferry_objurl_cluster(char **cluster_id, char **cloud_region,
                         const char *endpoint, struct ferry_error *err)
{
    const char *host = strstr(endpoint, "://");
    const char *end, *p, *dot;

    *cluster_id = *cloud_region = NULL;
    host = host ? host + 3 : endpoint;
    end = host + strcspn(host, ":/");
    dot = memchr(host, '.', (size_t)(end - host));
    if (!dot || dot == host)
        goto bad;
    for (p = dot + 1; p < end;) {
        const char *next = memchr(p, '.', (size_t)(end - p));
        size_t n = (size_t)((next ? next : end) - p);

        if (cloud_label(p, n)) {
            *cluster_id = ferry_xstrndup(host, (size_t)(dot - host));
            *cloud_region = ferry_xstrndup(p, n);
            return 0;
        }
        p = next ? next + 1 : end;
    }
bad:
    return ferry_error_set(err, FERRY_EUSAGE,
                           "cannot read a cluster id and "
                           "cloud region from \"%s\" (give --cluster-id "
                           "and --cloud-region)",
                           endpoint);
}
