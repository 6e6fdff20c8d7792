/* store.c - the S3 protocol over ferry_http; see include/ferry/store.h. */
#include "ferry/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ferry/log.h"
#include "ferry/strutil.h"
#include "ferry/timeutil.h"
#include "ferry/xml.h"

struct ferry_store {
    struct ferry_store_config cfg;
    char *scheme;    /* "http" or "https" */
    char *authority; /* host[:port] of the endpoint */
    char *bucket;
    struct ferry_http *http;
    struct ferry_store_op *waiting; /* ops to (re)start */
    int active;                     /* submitted, not done */
};

static int split_endpoint(struct ferry_store *s, const char *ep,
                          struct ferry_error *err)
{
    const char *p = strstr(ep, "://");
    const char *end;

    if (!p || (strncmp(ep, "http", 4) != 0))
        return ferry_error_set(err, FERRY_EUSAGE,
                               "endpoint \"%s\" is not an http(s) URL", ep);
    s->scheme = ferry_xstrndup(ep, (size_t)(p - ep));
    if (strcmp(s->scheme, "http") && strcmp(s->scheme, "https"))
        return ferry_error_set(err, FERRY_EUSAGE,
                               "endpoint \"%s\" is not an http(s) URL", ep);
    p += 3;
    end = p + strcspn(p, "/?#");
    if (end == p || (*end && strcmp(end, "/") != 0))
        return ferry_error_set(err, FERRY_EUSAGE,
                               "endpoint \"%s\" must be scheme://host[:port]",
                               ep);
    s->authority = ferry_xstrndup(p, (size_t)(end - p));
    return 0;
}

int ferry_store_new(struct ferry_store **out,
                    const struct ferry_store_config *cfg,
                    struct ferry_error *err)
{
    struct ferry_store *s = ferry_xcalloc(1, sizeof(*s));
    struct ferry_buf aws;
    int rc;

    s->cfg = *cfg;
    s->bucket = ferry_xstrdup(cfg->bucket);
    ferry_buf_init(&aws);
    if (!cfg->endpoint)
        ferry_buf_addf(&aws, "https://s3.%s.amazonaws.com", cfg->region);
    rc = split_endpoint(s, cfg->endpoint ? cfg->endpoint : aws.data, err);
    ferry_buf_release(&aws);
    if (!rc)
        rc = ferry_http_new(&s->http, &cfg->http, err);
    if (rc) {
        ferry_store_free(s);
        return rc;
    }
    if (!s->cfg.max_attempts)
        s->cfg.max_attempts = 10;
    if (s->cfg.max_retry_time <= 0)
        s->cfg.max_retry_time = 600;
    *out = s;
    return 0;
}

void ferry_store_free(struct ferry_store *s)
{
    if (!s)
        return;
    ferry_http_free(s->http);
    free(s->scheme);
    free(s->authority);
    free(s->bucket);
    free(s);
}

void ferry_store_op_init(struct ferry_store_op *op, enum ferry_store_kind k,
                         const char *key)
{
    memset(op, 0, sizeof(*op));
    op->kind = k;
    op->key = key;
    ferry_buf_init(&op->req_body);
}

void ferry_store_op_release(struct ferry_store_op *op)
{
    size_t i;

    ferry_buf_release(&op->req_body);
    free(op->new_upload_id);
    free(op->listed_parts);
    for (i = 0; i < op->nobjects; i++)
        free(op->objects[i].key);
    free(op->objects);
    free(op->marker);
    op->new_upload_id = NULL;
    op->listed_parts = NULL;
    op->objects = NULL;
    op->marker = NULL;
    op->nlisted_parts = op->nobjects = 0;
}

static const char *op_method(enum ferry_store_kind k)
{
    switch (k) {
    case FERRY_OP_PUT:
    case FERRY_OP_UPLOAD_PART: return "PUT";
    case FERRY_OP_CREATE_MPU:
    case FERRY_OP_COMPLETE_MPU: return "POST";
    case FERRY_OP_ABORT_MPU: return "DELETE";
    case FERRY_OP_HEAD: return "HEAD";
    default: return "GET";
    }
}

static const char *op_name(enum ferry_store_kind k)
{
    static const char *const names[] = {
        "PutObject",
        "CreateMultipartUpload",
        "UploadPart",
        "CompleteMultipartUpload",
        "AbortMultipartUpload",
        "ListParts",
        "HeadObject",
        "ListObjectsV2",
    };

    return names[k];
}

/* Query pairs of an op; numbers are written into scratch. */
static size_t op_query(struct ferry_sigv4_pair *q, char scratch[32],
                       const struct ferry_store_op *op)
{
    size_t n = 0;

    if (op->max_keys > 0 &&
        (op->kind == FERRY_OP_LIST_PARTS || op->kind == FERRY_OP_LIST)) {
        snprintf(scratch + 16, 16, "%d", op->max_keys);
        q[n++] = (struct ferry_sigv4_pair){
            op->kind == FERRY_OP_LIST ? "max-keys" : "max-parts", scratch + 16
        };
    }

    switch (op->kind) {
    case FERRY_OP_CREATE_MPU:
        q[n++] = (struct ferry_sigv4_pair){ "uploads", "" };
        break;
    case FERRY_OP_UPLOAD_PART:
        snprintf(scratch, 16, "%d", op->part_number);
        q[n++] = (struct ferry_sigv4_pair){ "partNumber", scratch };
        q[n++] = (struct ferry_sigv4_pair){ "uploadId", op->upload_id };
        break;
    case FERRY_OP_COMPLETE_MPU:
    case FERRY_OP_ABORT_MPU:
        q[n++] = (struct ferry_sigv4_pair){ "uploadId", op->upload_id };
        break;
    case FERRY_OP_LIST_PARTS:
        q[n++] = (struct ferry_sigv4_pair){ "uploadId", op->upload_id };
        if (op->marker)
            q[n++] =
                (struct ferry_sigv4_pair){ "part-number-marker", op->marker };
        break;
    case FERRY_OP_LIST:
        q[n++] = (struct ferry_sigv4_pair){ "list-type", "2" };
        q[n++] =
            (struct ferry_sigv4_pair){ "prefix", op->prefix ? op->prefix : "" };
        if (op->marker)
            q[n++] =
                (struct ferry_sigv4_pair){ "continuation-token", op->marker };
        break;
    default: break;
    }
    return n;
}

static void build_complete_body(struct ferry_store_op *op)
{
    size_t i;

    ferry_buf_reset(&op->req_body);
    ferry_buf_adds(&op->req_body, "<CompleteMultipartUpload>");
    for (i = 0; i < op->nparts; i++) {
        ferry_buf_addf(&op->req_body, "<Part><PartNumber>%d</PartNumber><ETag>",
                       op->parts[i].number);
        ferry_xml_escape(&op->req_body, op->parts[i].etag);
        ferry_buf_adds(&op->req_body, "</ETag></Part>");
    }
    ferry_buf_adds(&op->req_body, "</CompleteMultipartUpload>");
}

/* The body an op sends: the caller's data or one we built. */
static void op_body(const struct ferry_store_op *op, const char **body,
                    size_t *len)
{
    if (op->kind == FERRY_OP_PUT || op->kind == FERRY_OP_UPLOAD_PART) {
        *body = op->body;
        *len = op->body_len;
    } else {
        *body = op->req_body.data;
        *len = op->req_body.len;
    }
}

static void raw_path(struct ferry_buf *out, const struct ferry_store *s,
                     const char *key)
{
    ferry_buf_addc(out, '/');
    if (s->cfg.path_style) {
        ferry_buf_adds(out, s->bucket);
        if (key)
            ferry_buf_addc(out, '/');
    }
    if (key)
        ferry_buf_adds(out, key);
}

static void host_of(struct ferry_buf *out, const struct ferry_store *s)
{
    if (!s->cfg.path_style)
        ferry_buf_addf(out, "%s.", s->bucket);
    ferry_buf_adds(out, s->authority);
}

struct signed_req {
    struct ferry_sigv4_result sig;
    struct ferry_buf url;
    struct ferry_buf lines[8];
    const char *headers[9];
};

static void signed_req_release(struct signed_req *r)
{
    size_t i;

    ferry_sigv4_result_release(&r->sig);
    ferry_buf_release(&r->url);
    for (i = 0; i < 8; i++)
        ferry_buf_release(&r->lines[i]);
}

static int sign_op(struct signed_req *r, struct ferry_store *s,
                   struct ferry_store_op *op, const char *hash)
{
    const struct ferry_sigv4_dialect *d = s->cfg.dialect;
    const struct ferry_creds *c = s->cfg.creds;
    struct ferry_sigv4_pair q[5], h[6];
    struct ferry_sigv4_request req = { 0 };
    struct ferry_buf host, path;
    char scratch[32], stamp[17];
    size_t nh = 0, i;
    int rc;

    memset(r, 0, sizeof(*r));
    ferry_sigv4_result_init(&r->sig);
    ferry_buf_init(&r->url);
    for (i = 0; i < 8; i++)
        ferry_buf_init(&r->lines[i]);
    ferry_buf_init(&host);
    ferry_buf_init(&path);
    host_of(&host, s);
    raw_path(&path, s, op->kind == FERRY_OP_LIST ? NULL : op->key);
    ferry_time_amz(stamp, ferry_now());
    h[nh++] = (struct ferry_sigv4_pair){ "Host", host.data };
    h[nh++] = (struct ferry_sigv4_pair){ d->date_header, stamp };
    h[nh++] = (struct ferry_sigv4_pair){ d->sha_header, hash };
    if (c->session_token)
        h[nh++] =
            (struct ferry_sigv4_pair){ d->token_header, c->session_token };
    if (op->content_type &&
        (op->kind == FERRY_OP_PUT || op->kind == FERRY_OP_CREATE_MPU))
        h[nh++] = (struct ferry_sigv4_pair){ "Content-Type", op->content_type };
    req.dialect = d;
    req.method = op_method(op->kind);
    req.path = path.data;
    req.query = q;
    req.nquery = op_query(q, scratch, op);
    req.headers = h;
    req.nheaders = nh;
    req.payload_hash = hash;
    req.access_key = c->access_key;
    req.secret_key = c->secret_key;
    req.region = s->cfg.region;
    req.timestamp = stamp;
    rc = ferry_sigv4_sign(&r->sig, &req);
    for (i = 0; i < nh; i++) {
        ferry_buf_addf(&r->lines[i], "%s: %s", h[i].name, h[i].value);
        r->headers[i] = r->lines[i].data;
    }
    ferry_buf_addf(&r->lines[nh], "Authorization: %s",
                   r->sig.authorization.data);
    r->headers[nh] = r->lines[nh].data;
    /* POST bodies are not forms; keep libcurl from saying so. */
    ferry_buf_adds(&r->lines[nh + 1], "Content-Type:");
    r->headers[nh + 1] = op->content_type ? NULL : r->lines[nh + 1].data;
    ferry_buf_addf(&r->url, "%s://%s%s", s->scheme, host.data,
                   r->sig.wire_path.data);
    ferry_buf_release(&host);
    ferry_buf_release(&path);
    return rc;
}

static void on_http_done(void *ud, const struct ferry_http_response *resp);

static void start_op(struct ferry_store *s, struct ferry_store_op *op)
{
    struct ferry_http_request hr = { 0 };
    struct signed_req r;
    const char *body;
    char hash[65];
    size_t len;

    op->attempts++;
    op_body(op, &body, &len);
    if ((op->kind == FERRY_OP_PUT || op->kind == FERRY_OP_UPLOAD_PART) &&
        op->body_sha256)
        snprintf(hash, sizeof(hash), "%s", op->body_sha256);
    else
        ferry_sha256_hex(hash, body, len);
    if (sign_op(&r, s, op, hash)) {
        ferry_error_set(&op->err, FERRY_EUSAGE, "cannot sign %s of \"%s\"",
                        op_name(op->kind), op->key ? op->key : "");
        goto fail;
    }
    hr.method = op_method(op->kind);
    hr.url = r.url.data;
    hr.headers = r.headers;
    hr.body = len || !strcmp(hr.method, "PUT") || !strcmp(hr.method, "POST")
                  ? body
                  : NULL;
    hr.body_len = len;
    ferry_debug("%s \"%s\" attempt %d", op_name(op->kind),
                op->key ? op->key : "", op->attempts);
    if (ferry_http_start(s->http, &hr, on_http_done, op, &op->err))
        goto fail;
    signed_req_release(&r);
    return;
fail:
    signed_req_release(&r);
    s->active--;
    if (op->done)
        op->done(op, op->ud);
}

void ferry_store_submit(struct ferry_store *s, struct ferry_store_op *op)
{
    op->store = s;
    ferry_error_clear(&op->err);
    op->attempts = 0;
    op->first_try = ferry_monotonic();
    op->not_before = 0;
    if (op->kind == FERRY_OP_COMPLETE_MPU)
        build_complete_body(op);
    s->active++;
    start_op(s, op);
}

static void wait_then_start(struct ferry_store *s, struct ferry_store_op *op,
                            double delay)
{
    op->not_before = ferry_monotonic() + delay;
    op->next_wait = s->waiting;
    s->waiting = op;
}

struct error_fields {
    struct ferry_error *err;
    char message[300];
    char details[200]; /* Cloud Storage explains here */
};

static int on_error_field(void *ud, const char *path, const char *text)
{
    struct error_fields *f = ud;

    if (!strcmp(path, "Error/Code"))
        snprintf(f->err->server_code, sizeof(f->err->server_code), "%s", text);
    else if (!strcmp(path, "Error/Message"))
        snprintf(f->message, sizeof(f->message), "%s", text);
    else if (!strcmp(path, "Error/Details"))
        snprintf(f->details, sizeof(f->details), "%s", text);
    else if (!strcmp(path, "Error/RequestId"))
        snprintf(f->err->request_id, sizeof(f->err->request_id), "%s", text);
    return 0;
}

void ferry_store_parse_error(struct ferry_error *err, const char *body,
                             size_t len)
{
    struct error_fields f = { err, "", "" };

    if (!len || ferry_xml_parse(body, len, on_error_field, &f) || !f.message[0])
        return;
    if (f.details[0])
        snprintf(err->msg, sizeof(err->msg), "%s (%s)", f.message, f.details);
    else
        snprintf(err->msg, sizeof(err->msg), "%s", f.message);
}

struct list_state {
    struct ferry_store_op *op;
    bool truncated;
    char next[1024];
    struct ferry_store_part part;
    struct ferry_store_object obj;
};

static void add_listed_part(struct ferry_store_op *op,
                            const struct ferry_store_part *p)
{
    op->listed_parts = ferry_xrealloc(
        op->listed_parts, (op->nlisted_parts + 1) * sizeof(*op->listed_parts));
    op->listed_parts[op->nlisted_parts++] = *p;
}

static void add_object(struct ferry_store_op *op, struct ferry_store_object *o)
{
    op->objects =
        ferry_xrealloc(op->objects, (op->nobjects + 1) * sizeof(*op->objects));
    op->objects[op->nobjects++] = *o;
    memset(o, 0, sizeof(*o));
}

static int on_list_field(void *ud, const char *path, const char *text)
{
    struct list_state *st = ud;

    if (!strcmp(path, "ListPartsResult/Part/PartNumber"))
        st->part.number = atoi(text);
    else if (!strcmp(path, "ListPartsResult/Part/Size"))
        st->part.size = strtoull(text, NULL, 10);
    else if (!strcmp(path, "ListPartsResult/Part/ETag"))
        snprintf(st->part.etag, sizeof(st->part.etag), "%s", text);
    else if (!strcmp(path, "ListPartsResult/Part")) {
        add_listed_part(st->op, &st->part);
        memset(&st->part, 0, sizeof(st->part));
    } else if (!strcmp(path, "ListPartsResult/NextPartNumberMarker") ||
               !strcmp(path, "ListBucketResult/NextContinuationToken"))
        snprintf(st->next, sizeof(st->next), "%s", text);
    else if (!strcmp(path, "ListPartsResult/IsTruncated") ||
             !strcmp(path, "ListBucketResult/IsTruncated"))
        st->truncated = !strcmp(text, "true");
    else if (!strcmp(path, "ListBucketResult/Contents/Key"))
        st->obj.key = ferry_xstrdup(text);
    else if (!strcmp(path, "ListBucketResult/Contents/Size"))
        st->obj.size = strtoull(text, NULL, 10);
    else if (!strcmp(path, "ListBucketResult/Contents/ETag"))
        snprintf(st->obj.etag, sizeof(st->obj.etag), "%s", text);
    else if (!strcmp(path, "ListBucketResult/Contents") && st->obj.key)
        add_object(st->op, &st->obj);
    return 0;
}

static int on_upload_id(void *ud, const char *path, const char *text)
{
    struct ferry_store_op *op = ud;

    if (!strcmp(path, "InitiateMultipartUploadResult/UploadId") && *text) {
        free(op->new_upload_id);
        op->new_upload_id = ferry_xstrdup(text);
    }
    return 0;
}

static int on_complete_etag(void *ud, const char *path, const char *text)
{
    struct ferry_store_op *op = ud;

    if (!strcmp(path, "CompleteMultipartUploadResult/ETag") && *text)
        snprintf(op->etag, sizeof(op->etag), "%s", text);
    return 0;
}

/* Reads a 2xx body; returns 1 when another page must be fetched. */
static int read_success(struct ferry_store_op *op,
                        const struct ferry_http_response *resp)
{
    const char *b = resp->body.data;
    size_t n = resp->body.len;
    struct list_state st = { .op = op };

    if (op->kind == FERRY_OP_CREATE_MPU) {
        if (ferry_xml_parse(b, n, on_upload_id, op) || !op->new_upload_id)
            ferry_error_set(&op->err, FERRY_EPROTO,
                            "no UploadId in the answer to "
                            "CreateMultipartUpload of \"%s\"",
                            op->key);
        return 0;
    }
    if (op->kind == FERRY_OP_COMPLETE_MPU) {
        ferry_xml_parse(b, n, on_complete_etag, op);
        return 0;
    }
    if (op->kind == FERRY_OP_HEAD)
        op->size =
            resp->content_length < 0 ? 0 : (uint64_t)resp->content_length;
    if (op->kind != FERRY_OP_LIST_PARTS && op->kind != FERRY_OP_LIST)
        return 0;
    if (ferry_xml_parse(b, n, on_list_field, &st)) {
        free(st.obj.key);
        ferry_error_set(&op->err, FERRY_EPROTO,
                        "malformed %s answer for \"%s\"", op_name(op->kind),
                        op->key ? op->key : "");
        return 0;
    }
    free(st.obj.key);
    if (!st.truncated)
        return 0;
    if (!st.next[0]) {
        ferry_error_set(&op->err, FERRY_EPROTO,
                        "%s answer is truncated without a marker",
                        op_name(op->kind));
        return 0;
    }
    free(op->marker);
    op->marker = ferry_xstrdup(st.next);
    return 1;
}

static const char *status_code_name(long status)
{
    switch (status) {
    case 403: return "AccessDenied";
    case 404: return "NotFound";
    case 400: return "BadRequest";
    default: return "";
    }
}

/* Fills op->err from an answer that failed; 0 if it did not. */
static int classify(struct ferry_store_op *op,
                    const struct ferry_http_response *resp)
{
    struct ferry_error *err = &op->err;
    char root[64];

    if (resp->status == 0) {
        ferry_error_set(err, FERRY_ENET, "%s", resp->curl_error);
    } else if (resp->status >= 300) {
        ferry_error_set(err, FERRY_EHTTP, "HTTP %ld", resp->status);
        snprintf(err->server_code, sizeof(err->server_code), "%s",
                 status_code_name(resp->status));
        ferry_store_parse_error(err, resp->body.data, resp->body.len);
    } else {
        /* S3 may answer Complete with 200 and an error in the body. */
        ferry_xml_root(root, sizeof(root), resp->body.data, resp->body.len);
        if (strcmp(root, "Error"))
            return 0;
        ferry_error_set(err, FERRY_EHTTP, "error inside a 200 answer");
        ferry_store_parse_error(err, resp->body.data, resp->body.len);
    }
    err->http_status = resp->status;
    if (resp->request_id[0] && !err->request_id[0])
        snprintf(err->request_id, sizeof(err->request_id), "%s",
                 resp->request_id);
    err->retryable =
        ferry_http_retryable(resp->status, err->server_code, resp->curl_code) ||
        (resp->status == 200 && op->kind == FERRY_OP_COMPLETE_MPU &&
         err->server_code[0] && ferry_http_retryable(500, NULL, 0));
    err->retry_after = resp->retry_after;
    return 1;
}

/*
 * S3 says RequestTimeTooSkewed; Cloud Storage says ExpiredToken for a
 * signature date outside its window.
 */
static bool is_skew(const struct ferry_store *s, const char *code)
{
    return !strcmp(code, "RequestTimeTooSkewed") ||
           (s->cfg.gcs && !strcmp(code, "ExpiredToken"));
}

/*
 * A skewed clock is corrected from the server's Date.  Returns true when
 * that changed the offset, so a retry can succeed where this failed.
 */
static bool learn_clock(const struct ferry_http_response *resp)
{
    time_t server = resp->date[0] ? ferry_time_parse_http(resp->date) : -1;
    long offset, old = ferry_clock_offset();

    if (server < 0)
        return false;
    offset = (long)(server - time(NULL));
    if (labs(offset - old) < 5)
        return false;
    ferry_clock_set_offset(offset);
    ferry_warn("the local clock is %ld s off the server's; signing with "
               "the server's time",
               offset);
    return true;
}

static void describe_failure(struct ferry_store_op *op)
{
    struct ferry_error *err = &op->err;
    char what[sizeof(err->msg)];

    snprintf(what, sizeof(what), "%s", err->msg);
    if (err->server_code[0])
        ferry_error_set(err, err->code, "%s of \"%s\" failed: %s: %s",
                        op_name(op->kind), op->key ? op->key : "",
                        err->server_code, what);
    else
        ferry_error_set(err, err->code, "%s of \"%s\" failed: %s",
                        op_name(op->kind), op->key ? op->key : "", what);
}

static void finish_op(struct ferry_store *s, struct ferry_store_op *op)
{
    s->active--;
    if (op->err.code)
        describe_failure(op);
    if (op->done)
        op->done(op, op->ud);
}

static bool may_retry(struct ferry_store *s, struct ferry_store_op *op)
{
    double elapsed = ferry_monotonic() - op->first_try;

    return op->err.retryable && op->attempts < s->cfg.max_attempts &&
           elapsed < s->cfg.max_retry_time;
}

static void on_http_done(void *ud, const struct ferry_http_response *resp)
{
    struct ferry_store_op *op = ud;
    struct ferry_store *s = op->store;

    ferry_error_clear(&op->err);
    op->status = resp->status;
    snprintf(op->etag, sizeof(op->etag), "%s", resp->etag);
    snprintf(op->request_id, sizeof(op->request_id), "%s", resp->request_id);
    if (!classify(op, resp)) {
        if (read_success(op, resp) == 1) {
            op->attempts = 0;
            wait_then_start(s, op, 0);
            return;
        }
        finish_op(s, op);
        return;
    }
    if (is_skew(s, op->err.server_code))
        op->err.retryable =
            learn_clock(resp) || labs(ferry_clock_offset()) >= 5;
    if (may_retry(s, op)) {
        double delay = ferry_http_backoff(op->attempts, op->err.retry_after);

        char part[32] = "";

        if (op->kind == FERRY_OP_UPLOAD_PART)
            snprintf(part, sizeof(part), " part %d", op->part_number);
        ferry_info("%s of \"%s\"%s: %s%s%s, retrying in %.1f s",
                   op_name(op->kind), op->key ? op->key : "", part,
                   op->err.server_code, op->err.server_code[0] ? ": " : "",
                   op->err.msg, delay);
        wait_then_start(s, op, delay);
        return;
    }
    finish_op(s, op);
}

/* Starts waiting ops whose time has come; returns seconds to the next. */
static double start_due(struct ferry_store *s)
{
    struct ferry_store_op **pp = &s->waiting, *op;
    double now = ferry_monotonic(), next = 1e9;

    while ((op = *pp) != NULL) {
        if (op->not_before <= now) {
            *pp = op->next_wait;
            start_op(s, op);
            continue;
        }
        if (op->not_before - now < next)
            next = op->not_before - now;
        pp = &op->next_wait;
    }
    return next;
}

int ferry_store_run(struct ferry_store *s, double max_wait)
{
    double next = start_due(s);

    if (next < max_wait)
        max_wait = next;
    ferry_http_run(s->http, max_wait);
    start_due(s);
    return s->active;
}

static void exec_done(struct ferry_store_op *op, void *ud)
{
    *(bool *)ud = true;
}

int ferry_store_exec(struct ferry_store *s, struct ferry_store_op *op)
{
    void (*done)(struct ferry_store_op *, void *) = op->done;
    void *ud = op->ud;
    bool finished = false;

    op->done = exec_done;
    op->ud = &finished;
    ferry_store_submit(s, op);
    while (!finished)
        ferry_store_run(s, 0.5);
    op->done = done;
    op->ud = ud;
    return op->err.code;
}

void ferry_store_cancel_waiting(struct ferry_store *s)
{
    struct ferry_store_op *op;

    while ((op = s->waiting) != NULL) {
        char last[sizeof(op->err.msg)];

        s->waiting = op->next_wait;
        snprintf(last, sizeof(last), "%s", op->err.msg);
        ferry_error_set(&op->err, FERRY_EINTR,
                        "interrupted while waiting to retry (%s)", last);
        finish_op(s, op);
    }
}

void ferry_store_wakeup(struct ferry_store *s)
{
    ferry_http_wakeup(s->http);
}

uint64_t ferry_store_bytes_sent(const struct ferry_store *s)
{
    return ferry_http_bytes_sent(s->http);
}

void ferry_store_url(struct ferry_buf *out, const struct ferry_store *s,
                     const char *key)
{
    ferry_buf_addf(out, "%s://%s/%s",
                   s->cfg.dialect == &ferry_sigv4_goog ? "gs" : "s3", s->bucket,
                   key ? key : "");
}

void ferry_store_describe(struct ferry_buf *out, struct ferry_store *s,
                          struct ferry_store_op *op)
{
    struct signed_req r;
    const char *body;
    size_t len;

    if (op->kind == FERRY_OP_COMPLETE_MPU)
        build_complete_body(op);
    op_body(op, &body, &len);
    sign_op(&r, s, op, op->body_sha256 ? op->body_sha256 : FERRY_SHA256_EMPTY);
    ferry_buf_addf(out, "%s %s", op_method(op->kind), r.url.data);
    if (op->kind == FERRY_OP_COMPLETE_MPU)
        ferry_buf_addf(out, "\n%s", body);
    else if (len)
        ferry_buf_addf(out, " (%zu bytes)", len);
    signed_req_release(&r);
}
