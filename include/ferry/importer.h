/*
 * importer.h - one interface to the bulk-import APIs: Zilliz Cloud's
 * legacy v1 controller API, Zilliz Cloud's v2 API, and self-hosted
 * Milvus's REST v2 import.  Each adapter builds its own requests and
 * reads its own answers into one normalised view of a job.
 *
 * The HTTP status and the envelope's `code` are checked separately: all
 * three answer HTTP 200 with an error code and message when they refuse
 * a request.  Connection errors, 429 and 5xx are retried with backoff;
 * a refusal never is.
 *
 * Use: fill struct ferry_import_config, create with ferry_importer_new,
 * then ferry_importer_submit once per request and ferry_importer_progress
 * until the job is terminal.  No secret (API key, bucket keys) appears
 * in any message or in ferry_importer_describe's output.
 */
#ifndef FERRY_IMPORTER_H
#define FERRY_IMPORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ferry/buf.h"
#include "ferry/error.h"

enum ferry_import_api { FERRY_API_V1, FERRY_API_V2, FERRY_API_MILVUS };

struct ferry_import_config {
    enum ferry_import_api api;
    const char *base_url;   /* controller, api.cloud or Milvus URL */
    const char *api_key;    /* bearer token; borrowed */
    const char *cluster_id; /* Zilliz only */
    const char *collection;
    const char *partition;  /* may be NULL */
    const char *db;         /* may be NULL */
    const char *access_key; /* bucket keys for Zilliz; borrowed */
    const char *secret_key;
    const char *session_token; /* v2 only; may be NULL */
    const char *ca_file;
    int max_attempts; /* 0: 8 */
};

/*
 * One request's worth of data: for Zilliz, object URLs (v1 takes
 * exactly one); for Milvus, object keys in Milvus's bucket, one inner
 * list per unit.
 */
struct ferry_import_unit {
    const char *const *items;
    size_t n;
};

enum ferry_import_state {
    FERRY_IMPORT_PENDING,
    FERRY_IMPORT_RUNNING,
    FERRY_IMPORT_COMPLETED,
    FERRY_IMPORT_FAILED,
};

/* One file of a job, as the server reports it. */
struct ferry_import_file {
    char *name;   /* display only: formats differ */
    int64_t size; /* -1 when unknown */
    enum ferry_import_state state;
    double percent;
    char *reason; /* NULL unless given */
};

/* A job's normalised state; owned (ferry_import_status_release). */
struct ferry_import_status {
    enum ferry_import_state state;
    double percent;      /* 0 to 100 */
    char state_name[32]; /* as the server says it */
    char reason[512];    /* empty unless failed */
    int64_t total_rows;  /* -1 when unknown */
    int64_t imported_rows;
    struct ferry_import_file *files;
    size_t nfiles;
};

void ferry_import_status_release(struct ferry_import_status *st);

/* A job as a list call reports it. */
struct ferry_import_listed {
    char job_id[96];
    char collection[128];
    enum ferry_import_state state;
    char state_name[32];
    double percent; /* -1 when the API does not say */
};

struct ferry_importer;

int ferry_importer_new(struct ferry_importer **out,
                       const struct ferry_import_config *cfg,
                       struct ferry_error *err);
void ferry_importer_free(struct ferry_importer *im);

/* Submits units[0..n); *job_id is the caller's to free. */
int ferry_importer_submit(char **job_id, struct ferry_importer *im,
                          const struct ferry_import_unit *units, size_t n,
                          struct ferry_error *err);

int ferry_importer_progress(struct ferry_import_status *out,
                            struct ferry_importer *im, const char *job_id,
                            struct ferry_error *err);

/*
 * The jobs the server lists (the first page of up to 100 for Zilliz;
 * Milvus has no pages).  *out is the caller's to free.
 */
int ferry_importer_list(struct ferry_import_listed **out, size_t *n,
                        struct ferry_importer *im, struct ferry_error *err);

/* Appends the submission request (method, URL, body), secrets masked. */
void ferry_importer_describe(struct ferry_buf *out, struct ferry_importer *im,
                             const struct ferry_import_unit *units, size_t n);

const char *ferry_import_state_name(enum ferry_import_state st);
bool ferry_import_terminal(enum ferry_import_state st);

#endif
