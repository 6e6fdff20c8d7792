/*
 * store.h - the S3 protocol, as S3, S3-compatible stores and GCS's XML
 * API speak it: PutObject, the multipart calls, HeadObject and
 * ListObjectsV2.  S3 and GCS differ only in host, signing dialect and
 * defaults, which struct ferry_store_config carries.
 *
 * Every request is signed with the real SHA-256 of its body in the
 * payload header, so the server rejects any byte changed on the way.
 * Each attempt is signed afresh (a signature is only valid for 15
 * minutes, and the clock may have been corrected in between).
 *
 * Use: fill a struct ferry_store_op (ferry_store_op_init(), then one of
 * the ferry_store_op_* setters), then either ferry_store_exec() to run
 * it to its end, or ferry_store_submit() and ferry_store_run() to run
 * many at once; op->done is called when the op succeeded or failed for
 * good (after its retries).  Results are in the op.
 */
#ifndef FERRY_STORE_H
#define FERRY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ferry/buf.h"
#include "ferry/creds.h"
#include "ferry/error.h"
#include "ferry/http.h"
#include "ferry/sigv4.h"

struct ferry_store_config {
    const struct ferry_sigv4_dialect *dialect;
    const char *endpoint; /* "https://host[:port]"; NULL: AWS */
    const char *region;
    const char *bucket;
    bool path_style;                 /* /bucket/key instead of bucket.host */
    bool gcs;                        /* Cloud Storage: its error codes */
    const struct ferry_creds *creds; /* borrowed */
    struct ferry_http_options http;
    int max_attempts;      /* 0: 10 */
    double max_retry_time; /* seconds per op; 0: 600 */
};

struct ferry_store;

int ferry_store_new(struct ferry_store **out,
                    const struct ferry_store_config *cfg,
                    struct ferry_error *err);
void ferry_store_free(struct ferry_store *s);

enum ferry_store_kind {
    FERRY_OP_PUT,
    FERRY_OP_CREATE_MPU,
    FERRY_OP_UPLOAD_PART,
    FERRY_OP_COMPLETE_MPU,
    FERRY_OP_ABORT_MPU,
    FERRY_OP_LIST_PARTS,
    FERRY_OP_HEAD,
    FERRY_OP_LIST,
};

struct ferry_store_part {
    int number;
    uint64_t size;
    char etag[128];
};

struct ferry_store_object {
    char *key;
    uint64_t size;
    char etag[128];
};

struct ferry_store_op {
    /* input; strings borrowed until done */
    enum ferry_store_kind kind;
    const char *key;
    const char *upload_id;
    int part_number;
    const char *body; /* PUT and parts; borrowed */
    size_t body_len;
    const char *body_sha256;              /* hex of body; computed if NULL */
    const struct ferry_store_part *parts; /* for Complete */
    size_t nparts;
    const char *prefix;       /* for List */
    int max_keys;             /* List, ListParts page size; 0: server's */
    const char *content_type; /* for PUT and Create; may be NULL */

    /* output, owned by the op (ferry_store_op_release) */
    struct ferry_error err; /* err.code == 0 on success */
    long status;
    char etag[128];
    char request_id[128];
    char *new_upload_id;                   /* Create */
    uint64_t size;                         /* Head: Content-Length */
    struct ferry_store_part *listed_parts; /* ListParts, all pages */
    size_t nlisted_parts;
    struct ferry_store_object *objects; /* List, all pages */
    size_t nobjects;
    int attempts;

    void (*done)(struct ferry_store_op *op, void *ud);
    void *ud;

    /* private to store.c */
    struct ferry_store *store;
    struct ferry_buf req_body;
    char *marker;
    double first_try;
    double not_before;
    struct ferry_store_op *next_wait;
};

void ferry_store_op_init(struct ferry_store_op *op, enum ferry_store_kind k,
                         const char *key);
void ferry_store_op_release(struct ferry_store_op *op);

/* Queues op; its done function runs from ferry_store_run(). */
void ferry_store_submit(struct ferry_store *s, struct ferry_store_op *op);

/*
 * Drives all ops for at most max_wait seconds or until one makes
 * progress.  Returns the number of ops not yet done.
 */
int ferry_store_run(struct ferry_store *s, double max_wait);

/* Submits op and runs until it is done; returns op->err.code. */
int ferry_store_exec(struct ferry_store *s, struct ferry_store_op *op);

/*
 * Ops waiting for a retry fail with FERRY_EINTR at once (their done
 * functions run from here); ops on the wire go on.
 */
void ferry_store_cancel_waiting(struct ferry_store *s);

/* Ends a ferry_store_run() wait early; safe from any thread. */
void ferry_store_wakeup(struct ferry_store *s);

/* Body bytes sent so far by all ops (retries included). */
uint64_t ferry_store_bytes_sent(const struct ferry_store *s);

/*
 * The URL of key (borrowed bucket from the config) as the store sees it,
 * and the printable form "s3://bucket/key" or "gs://bucket/key".
 */
void ferry_store_url(struct ferry_buf *out, const struct ferry_store *s,
                     const char *key);

/*
 * Describes op as it would be sent, for --dry-run: method, URL and, for
 * a Complete, the body; nothing secret.
 */
void ferry_store_describe(struct ferry_buf *out, struct ferry_store *s,
                          struct ferry_store_op *op);

/* Parses an S3 <Error> body into err (code, message, request id). */
void ferry_store_parse_error(struct ferry_error *err, const char *body,
                             size_t len);

#endif
