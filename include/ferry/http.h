/*
 * http.h - libcurl's multi interface, wrapped for ferry's requests.
 *
 * A struct ferry_http owns one curl multi handle, so every transfer
 * shares its connection cache: parts and small files reuse connections.
 * Transfers are started with ferry_http_start() and finish inside
 * ferry_http_run(), which calls each transfer's done function.  A done
 * function may start new transfers.  Everything runs on the calling
 * thread; ferry_http_wakeup() may be called from any thread to end a
 * ferry_http_run() wait early.
 *
 * Request bodies come from memory the caller keeps alive until the done
 * function has run.  Paths go on the wire exactly as given
 * (CURLOPT_PATH_AS_IS): S3 keys may hold "." and ".." segments, and the
 * signed path must be the sent path.
 *
 * Also here: the retry policy shared by every request (which failures a
 * retry may cure, and how long to wait before the next attempt).
 */
#ifndef FERRY_HTTP_H
#define FERRY_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ferry/buf.h"
#include "ferry/error.h"

struct ferry_http;

struct ferry_http_options {
    const char *ca_file;  /* NULL: the system's CAs */
    long connect_timeout; /* seconds; 0 for the default (10) */
    long stall_timeout;   /* seconds below 1 KiB/s; 0: 60 */
    long max_connections; /* 0: no limit beyond the transfers */
    bool trace;           /* debug-log each request and answer */
};

/* What came back; owned by the transfer that filled it. */
struct ferry_http_response {
    long status;   /* 0 when no answer arrived */
    int curl_code; /* CURLcode of the transfer */
    char curl_error[256];
    struct ferry_buf body;
    char etag[128];
    char request_id[128];
    char date[64];
    double retry_after;     /* seconds, -1 when absent */
    int64_t content_length; /* -1 when absent */
};

struct ferry_http_request {
    const char *method;         /* GET PUT POST DELETE HEAD */
    const char *url;            /* borrowed until done */
    const char *const *headers; /* "Name: value", NULL-terminated */
    const char *body;           /* borrowed until done; NULL for none */
    size_t body_len;
    size_t max_response; /* bytes of body kept; 0: 16 MiB */
};

struct ferry_http_xfer;

typedef void (*ferry_http_done_fn)(void *ud,
                                   const struct ferry_http_response *resp);

int ferry_http_new(struct ferry_http **out,
                   const struct ferry_http_options *opts,
                   struct ferry_error *err);
void ferry_http_free(struct ferry_http *h);

/*
 * Starts a transfer.  The request's strings are copied; the body is
 * borrowed.  done runs from ferry_http_run() with the response, which
 * is valid only during that call.
 */
int ferry_http_start(struct ferry_http *h, const struct ferry_http_request *req,
                     ferry_http_done_fn done, void *ud,
                     struct ferry_error *err);

/*
 * Drives transfers for at most max_wait seconds or until one finishes,
 * calling done functions.  Returns the number still running.
 */
int ferry_http_run(struct ferry_http *h, double max_wait);

/* A finished request's answer, owned by the caller (release it). */
struct ferry_http_result {
    long status; /* 0 when no answer arrived */
    int curl_code;
    char curl_error[256];
    struct ferry_buf body;
    double retry_after; /* seconds, -1 when absent */
};

void ferry_http_result_init(struct ferry_http_result *r);
void ferry_http_result_release(struct ferry_http_result *r);

/*
 * Runs one request to its end (other transfers progress meanwhile) and
 * fills out.  Returns 0 when an answer arrived, whatever its status;
 * FERRY_ENET when none did.
 */
int ferry_http_exec(struct ferry_http *h, const struct ferry_http_request *req,
                    struct ferry_http_result *out, struct ferry_error *err);

/* Number of transfers started and not yet done. */
int ferry_http_running(const struct ferry_http *h);

/* Ends a wait in ferry_http_run() early; safe from any thread. */
void ferry_http_wakeup(struct ferry_http *h);

/* Bytes sent by all transfers so far (for progress). */
uint64_t ferry_http_bytes_sent(const struct ferry_http *h);

/*
 * Retry policy: the delay before attempt number `attempt` (1 for the
 * first retry): exponential from 0.25 s, capped at 20 s, full jitter;
 * a server's Retry-After, when longer, wins.
 */
double ferry_http_backoff(int attempt, double retry_after);

/* True when a retry may cure this S3 error code or HTTP status. */
bool ferry_http_retryable(long status, const char *server_code, int curl_code);

#endif
