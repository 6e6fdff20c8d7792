/* http.c - libcurl multi wrapper and retry policy; see ferry/http.h. */
#include "ferry/http.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/rand.h>

#include "ferry/log.h"
#include "ferry/timeutil.h"

#define DEFAULT_MAX_RESPONSE (16u << 20)

struct ferry_http_xfer {
    struct ferry_http *owner;
    CURL *easy;
    struct curl_slist *headers;
    char *url;
    const char *body;
    size_t body_len;
    size_t body_pos;
    size_t max_response;
    curl_off_t ul_now;
    struct ferry_http_response resp;
    ferry_http_done_fn done;
    void *ud;
    struct ferry_http_xfer *next; /* in the idle list */
};

struct ferry_http {
    CURLM *multi;
    struct ferry_http_options opts;
    char *ca_file;
    int running;
    uint64_t done_bytes;           /* body bytes of finished transfers */
    struct ferry_http_xfer *idle;  /* easy handles kept for reuse */
    struct ferry_http_xfer **live; /* started, not done */
    size_t nlive, caplive;
};

int ferry_http_new(struct ferry_http **out,
                   const struct ferry_http_options *opts,
                   struct ferry_error *err)
{
    static int global_done;
    struct ferry_http *h;

    if (!global_done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT))
            return ferry_error_set(err, FERRY_ENET,
                                   "cannot initialise libcurl");
        global_done = 1;
    }
    h = ferry_xcalloc(1, sizeof(*h));
    h->multi = curl_multi_init();
    if (!h->multi) {
        free(h);
        return ferry_error_set(err, FERRY_ENET, "cannot create curl multi");
    }
    if (opts)
        h->opts = *opts;
    h->ca_file = h->opts.ca_file ? ferry_xstrdup(h->opts.ca_file) : NULL;
    if (h->opts.max_connections > 0)
        curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                          h->opts.max_connections);
    *out = h;
    return 0;
}

static void xfer_clear(struct ferry_http_xfer *x)
{
    curl_slist_free_all(x->headers);
    x->headers = NULL;
    free(x->url);
    x->url = NULL;
    ferry_buf_release(&x->resp.body);
}

void ferry_http_free(struct ferry_http *h)
{
    struct ferry_http_xfer *x, *next;
    size_t i;

    if (!h)
        return;
    for (i = 0; i < h->nlive; i++) {
        x = h->live[i];
        curl_multi_remove_handle(h->multi, x->easy);
        x->next = h->idle;
        h->idle = x;
    }
    for (x = h->idle; x; x = next) {
        next = x->next;
        xfer_clear(x);
        curl_easy_cleanup(x->easy);
        free(x);
    }
    free(h->live);
    curl_multi_cleanup(h->multi);
    free(h->ca_file);
    free(h);
}

static size_t on_body(char *ptr, size_t size, size_t n, void *ud)
{
    struct ferry_http_xfer *x = ud;
    size_t len = size * n;

    if (x->resp.body.len + len <= x->max_response)
        ferry_buf_add(&x->resp.body, ptr, len);
    return len;
}

static size_t on_read(char *ptr, size_t size, size_t n, void *ud)
{
    struct ferry_http_xfer *x = ud;
    size_t want = size * n, left = x->body_len - x->body_pos;

    if (want > left)
        want = left;
    memcpy(ptr, x->body + x->body_pos, want);
    x->body_pos += want;
    return want;
}

/* libcurl rewinds when it must resend (a redirect, an auth retry). */
static int on_seek(void *ud, curl_off_t offset, int origin)
{
    struct ferry_http_xfer *x = ud;

    if (origin != SEEK_SET || offset < 0 || (size_t)offset > x->body_len)
        return CURL_SEEKFUNC_FAIL;
    x->body_pos = (size_t)offset;
    return CURL_SEEKFUNC_OK;
}

static void copy_value(char *out, size_t outlen, const char *v, size_t n)
{
    while (n && isspace((unsigned char)v[n - 1]))
        n--;
    while (n && isspace((unsigned char)*v)) {
        v++;
        n--;
    }
    snprintf(out, outlen, "%.*s", (int)n, v);
}

static size_t on_header(char *ptr, size_t size, size_t n, void *ud)
{
    struct ferry_http_xfer *x = ud;
    size_t len = size * n;
    char *colon = memchr(ptr, ':', len);
    char num[32];
    size_t nlen;

    if (!colon)
        return len;
    nlen = (size_t)(colon - ptr);
    colon++;
#define IS(name) (nlen == strlen(name) && !strncasecmp(ptr, name, nlen))
    if (IS("etag"))
        copy_value(x->resp.etag, sizeof(x->resp.etag), colon, len - nlen - 1);
    else if (IS("x-amz-request-id") || IS("x-guploader-uploadid"))
        copy_value(x->resp.request_id, sizeof(x->resp.request_id), colon,
                   len - nlen - 1);
    else if (IS("date"))
        copy_value(x->resp.date, sizeof(x->resp.date), colon, len - nlen - 1);
    else if (IS("retry-after")) {
        copy_value(num, sizeof(num), colon, len - nlen - 1);
        x->resp.retry_after = atof(num);
    } else if (IS("content-length")) {
        copy_value(num, sizeof(num), colon, len - nlen - 1);
        x->resp.content_length = strtoll(num, NULL, 10);
    }
#undef IS
    return len;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    struct ferry_http_xfer *x = ud;

    x->ul_now = ulnow;
    return 0;
}

static int on_debug(CURL *easy, curl_infotype type, char *data, size_t n,
                    void *ud)
{
    char line[1024];

    if (type != CURLINFO_HEADER_OUT && type != CURLINFO_HEADER_IN)
        return 0;
    snprintf(line, sizeof(line), "%s %.*s",
             type == CURLINFO_HEADER_OUT ? ">" : "<", (int)(n > 900 ? 900 : n),
             data);
    ferry_debug("%s", line);
    return 0;
}

static struct ferry_http_xfer *take_xfer(struct ferry_http *h)
{
    struct ferry_http_xfer *x = h->idle;

    if (x) {
        h->idle = x->next;
        curl_easy_reset(x->easy);
    } else {
        x = ferry_xcalloc(1, sizeof(*x));
        x->easy = curl_easy_init();
        if (!x->easy) {
            free(x);
            return NULL;
        }
        ferry_buf_init(&x->resp.body);
    }
    x->owner = h;
    x->next = NULL;
    return x;
}

static void set_method(struct ferry_http_xfer *x, const char *method)
{
    CURL *e = x->easy;

    if (!strcmp(method, "HEAD")) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (!strcmp(method, "PUT")) {
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->body_len);
    } else if (!strcmp(method, "POST")) {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)x->body_len);
    } else if (strcmp(method, "GET")) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    }
    curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(e, CURLOPT_READDATA, x);
    curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(e, CURLOPT_SEEKDATA, x);
}

static void set_options(struct ferry_http *h, struct ferry_http_xfer *x)
{
    CURL *e = x->easy;
    long stall = h->opts.stall_timeout ? h->opts.stall_timeout : 60;

    curl_easy_setopt(e, CURLOPT_URL, x->url);
    curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "ferry/" FERRY_VERSION);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT,
                     h->opts.connect_timeout ? h->opts.connect_timeout : 10L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, stall);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (h->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, h->ca_file);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, x);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->resp.curl_error);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    if (h->opts.trace) {
        curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug);
        curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
    }
}

static void reset_response(struct ferry_http_response *r)
{
    r->status = 0;
    r->curl_code = 0;
    r->curl_error[0] = '\0';
    ferry_buf_reset(&r->body);
    r->etag[0] = r->request_id[0] = r->date[0] = '\0';
    r->retry_after = -1;
    r->content_length = -1;
}

int ferry_http_start(struct ferry_http *h, const struct ferry_http_request *req,
                     ferry_http_done_fn done, void *ud, struct ferry_error *err)
{
    struct ferry_http_xfer *x = take_xfer(h);
    size_t i;

    if (!x)
        return ferry_error_set(err, FERRY_ENET, "cannot create a transfer");
    x->url = ferry_xstrdup(req->url);
    for (i = 0; req->headers && req->headers[i]; i++)
        x->headers = curl_slist_append(x->headers, req->headers[i]);
    x->body = req->body ? req->body : "";
    x->body_len = req->body ? req->body_len : 0;
    x->body_pos = 0;
    x->ul_now = 0;
    x->max_response =
        req->max_response ? req->max_response : DEFAULT_MAX_RESPONSE;
    x->done = done;
    x->ud = ud;
    reset_response(&x->resp);
    set_options(h, x);
    set_method(x, req->method);
    if (curl_multi_add_handle(h->multi, x->easy)) {
        xfer_clear(x);
        x->next = h->idle;
        h->idle = x;
        return ferry_error_set(err, FERRY_ENET, "cannot start a transfer");
    }
    if (h->nlive == h->caplive) {
        h->caplive = h->caplive ? h->caplive * 2 : 16;
        h->live = ferry_xrealloc(h->live, h->caplive * sizeof(*h->live));
    }
    h->live[h->nlive++] = x;
    h->running++;
    return 0;
}

static void forget_live(struct ferry_http *h, struct ferry_http_xfer *x)
{
    size_t i;

    for (i = 0; i < h->nlive; i++) {
        if (h->live[i] == x) {
            h->live[i] = h->live[--h->nlive];
            return;
        }
    }
}

static void finish(struct ferry_http *h, CURLMsg *msg)
{
    struct ferry_http_xfer *x = NULL;

    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
    x->resp.curl_code = (int)msg->data.result;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->resp.status);
    if (msg->data.result != CURLE_OK) {
        x->resp.status = 0;
        if (!x->resp.curl_error[0])
            snprintf(x->resp.curl_error, sizeof(x->resp.curl_error), "%s",
                     curl_easy_strerror(msg->data.result));
    }
    curl_multi_remove_handle(h->multi, x->easy);
    forget_live(h, x);
    h->running--;
    h->done_bytes += (uint64_t)x->ul_now;
    x->ul_now = 0;
    x->done(x->ud, &x->resp);
    curl_slist_free_all(x->headers);
    x->headers = NULL;
    free(x->url);
    x->url = NULL;
    x->next = h->idle;
    h->idle = x;
}

int ferry_http_run(struct ferry_http *h, double max_wait)
{
    int still = 0, left = 0;
    CURLMsg *msg;

    curl_multi_perform(h->multi, &still);
    if (max_wait > 0)
        curl_multi_poll(h->multi, NULL, 0, (int)(max_wait * 1000), NULL);
    curl_multi_perform(h->multi, &still);
    while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
        if (msg->msg == CURLMSG_DONE)
            finish(h, msg);
    }
    return h->running;
}

int ferry_http_running(const struct ferry_http *h)
{
    return h->running;
}

void ferry_http_wakeup(struct ferry_http *h)
{
    curl_multi_wakeup(h->multi);
}

uint64_t ferry_http_bytes_sent(const struct ferry_http *h)
{
    uint64_t n = h->done_bytes;
    size_t i;

    for (i = 0; i < h->nlive; i++)
        n += (uint64_t)h->live[i]->ul_now;
    return n;
}

double ferry_http_backoff(int attempt, double retry_after)
{
    double cap = 0.25 * pow(2, attempt > 1 ? attempt - 1 : 0);
    unsigned int r = 0;
    double delay;

    if (cap > 20)
        cap = 20;
    if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
        r = (unsigned int)rand();
    delay = cap * ((double)r / (double)UINT32_MAX);
    if (retry_after > delay)
        delay = retry_after > 120 ? 120 : retry_after;
    return delay;
}

bool ferry_http_retryable(long status, const char *code, int curl_code)
{
    static const char *const codes[] = {
        "SlowDown",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
        "InternalError",
        "ServiceUnavailable",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "TooManyRequestsException",
        "RequestTimeTooSkewed",
    };
    size_t i;

    if (status == 0)
        return curl_code != CURLE_OK && curl_code != CURLE_URL_MALFORMAT &&
               curl_code != CURLE_UNSUPPORTED_PROTOCOL &&
               curl_code != CURLE_PEER_FAILED_VERIFICATION &&
               curl_code != CURLE_SSL_CACERT_BADFILE;
    if (status >= 500 || status == 429)
        return true;
    for (i = 0; code && i < sizeof(codes) / sizeof(codes[0]); i++) {
        if (!strcmp(code, codes[i]))
            return true;
    }
    return false;
}

void ferry_http_result_init(struct ferry_http_result *r)
{
    memset(r, 0, sizeof(*r));
    ferry_buf_init(&r->body);
    r->retry_after = -1;
}

void ferry_http_result_release(struct ferry_http_result *r)
{
    ferry_buf_release(&r->body);
}

struct exec_state {
    struct ferry_http_result *out;
    bool done;
};

static void exec_done(void *ud, const struct ferry_http_response *resp)
{
    struct exec_state *st = ud;
    struct ferry_http_result *out = st->out;

    out->status = resp->status;
    out->curl_code = resp->curl_code;
    snprintf(out->curl_error, sizeof(out->curl_error), "%s", resp->curl_error);
    ferry_buf_reset(&out->body);
    ferry_buf_add(&out->body, resp->body.data, resp->body.len);
    out->retry_after = resp->retry_after;
    st->done = true;
}

int ferry_http_exec(struct ferry_http *h, const struct ferry_http_request *req,
                    struct ferry_http_result *out, struct ferry_error *err)
{
    struct exec_state st = { out, false };
    int rc = ferry_http_start(h, req, exec_done, &st, err);

    if (rc)
        return rc;
    while (!st.done)
        ferry_http_run(h, 0.5);
    if (out->status == 0)
        return ferry_error_set(err, FERRY_ENET, "%s", out->curl_error);
    return 0;
}
