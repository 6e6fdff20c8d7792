/*
 * sigv4.h - Signature Version 4 signing, header form, without any I/O.
 *
 * One algorithm, two dialects: AWS4-HMAC-SHA256 (S3 and S3-compatible
 * stores) and GOOG4-HMAC-SHA256 (Google Cloud Storage's XML API with HMAC
 * keys).  They differ only in prefix strings, which struct
 * ferry_sigv4_dialect carries.
 *
 * The caller describes the request with decoded (raw) parts: the path as
 * the object key reads, the query as name/value pairs, every header that
 * shall be signed (host, the date header, the payload header and, with
 * temporary keys, the token header; the store module adds those).  The
 * signer builds the canonical request, signs it and returns both the
 * Authorization value and the encoded path and query to put on the wire.
 * Sending exactly `out->wire_path` keeps what is signed and what is sent
 * the same.
 *
 * S3 rules by default: the path is encoded once and not normalised
 * ("do not normalize URI paths for requests to Amazon S3").  Other AWS
 * services encode twice and remove dot segments; the flags below select
 * that, for the generic AWS test suite.
 */
#ifndef FERRY_SIGV4_H
#define FERRY_SIGV4_H

#include <stdbool.h>
#include <stddef.h>

#include "ferry/buf.h"

struct ferry_sigv4_dialect {
    const char *algorithm;       /* "AWS4-HMAC-SHA256" */
    const char *key_prefix;      /* "AWS4", prepended to the secret */
    const char *terminator;      /* "aws4_request" */
    const char *date_header;     /* "x-amz-date" */
    const char *sha_header;      /* "x-amz-content-sha256" */
    const char *token_header;    /* "x-amz-security-token" */
    const char *default_service; /* "s3" */
};

extern const struct ferry_sigv4_dialect ferry_sigv4_aws;
extern const struct ferry_sigv4_dialect ferry_sigv4_goog;

/* Borrowed name/value pair, raw (not percent-encoded). */
struct ferry_sigv4_pair {
    const char *name;
    const char *value;
};

struct ferry_sigv4_request {
    const struct ferry_sigv4_dialect *dialect;
    const char *method;
    const char *path;                     /* raw, starts with '/' */
    const struct ferry_sigv4_pair *query; /* raw, any order */
    size_t nquery;
    const struct ferry_sigv4_pair *headers; /* all to be signed */
    size_t nheaders;
    const char *payload_hash; /* hex SHA-256 or "UNSIGNED-PAYLOAD" */
    const char *access_key;
    const char *secret_key;
    const char *region;
    const char *service;
    const char *timestamp; /* "YYYYMMDDTHHMMSSZ", equal to the date
                                   header's value */
    bool normalize_path;   /* non-S3: remove dot segments, "//" */
    bool double_encode;    /* non-S3: encode the encoded path again */
};

/* Everything the signer produced; owned by the struct. */
struct ferry_sigv4_result {
    struct ferry_buf canonical_request;
    struct ferry_buf string_to_sign;
    struct ferry_buf signed_headers;
    struct ferry_buf authorization; /* the Authorization value */
    struct ferry_buf wire_path;     /* encoded path, '?', query */
    char signature[65];
};

void ferry_sigv4_result_init(struct ferry_sigv4_result *r);
void ferry_sigv4_result_release(struct ferry_sigv4_result *r);

/*
 * Signs req into out (initialised by the caller; reused results are
 * reset).  Returns 0, or -1 when the request is malformed (no path, a
 * timestamp of the wrong shape, a header name with a space).
 */
int ferry_sigv4_sign(struct ferry_sigv4_result *out,
                     const struct ferry_sigv4_request *req);

/* Appends the canonical URI of a raw path under the request's rules. */
void ferry_sigv4_canonical_uri(struct ferry_buf *out, const char *path,
                               bool normalize, bool double_encode);

/* Appends the canonical query string of raw pairs. */
void ferry_sigv4_canonical_query(struct ferry_buf *out,
                                 const struct ferry_sigv4_pair *query,
                                 size_t n);

/* Lower-case hex SHA-256 of data into out[65]. */
void ferry_sha256_hex(char out[65], const void *data, size_t len);

/* The hash of an empty body. */
#define FERRY_SHA256_EMPTY                                                     \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

#endif
