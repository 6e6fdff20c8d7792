/* importer.c - the three import APIs; see include/ferry/importer.h. */
#include "ferry/importer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "ferry/http.h"
#include "ferry/log.h"
#include "ferry/strutil.h"
#include "ferry/timeutil.h"

#define MASK "***"

struct ferry_importer {
    struct ferry_import_config cfg;
    struct ferry_http *http;
    char *base; /* base URL without a trailing '/' */
};

int ferry_importer_new(struct ferry_importer **out,
                       const struct ferry_import_config *cfg,
                       struct ferry_error *err)
{
    struct ferry_importer *im = ferry_xcalloc(1, sizeof(*im));
    struct ferry_http_options ho = { 0 };
    size_t n = strlen(cfg->base_url);
    int rc;

    if (!ferry_str_starts(cfg->base_url, "http://") &&
        !ferry_str_starts(cfg->base_url, "https://")) {
        free(im);
        return ferry_error_set(err, FERRY_EUSAGE,
                               "import endpoint \"%s\" "
                               "is not an http(s) URL",
                               cfg->base_url);
    }
    im->cfg = *cfg;
    if (!im->cfg.max_attempts)
        im->cfg.max_attempts = 8;
    while (n && cfg->base_url[n - 1] == '/')
        n--;
    im->base = ferry_xstrndup(cfg->base_url, n);
    ho.ca_file = cfg->ca_file;
    ho.trace = ferry_log_enabled(FERRY_LOG_DEBUG);
    rc = ferry_http_new(&im->http, &ho, err);
    if (rc) {
        free(im->base);
        free(im);
        return rc;
    }
    *out = im;
    return 0;
}

void ferry_importer_free(struct ferry_importer *im)
{
    if (!im)
        return;
    ferry_http_free(im->http);
    free(im->base);
    free(im);
}

const char *ferry_import_state_name(enum ferry_import_state st)
{
    static const char *const names[] = { "pending", "running", "completed",
                                         "failed" };

    return names[st];
}

bool ferry_import_terminal(enum ferry_import_state st)
{
    return st == FERRY_IMPORT_COMPLETED || st == FERRY_IMPORT_FAILED;
}

/* --- requests ------------------------------------------------------- */

static void add_opt(cJSON *o, const char *name, const char *v)
{
    if (v && *v)
        cJSON_AddStringToObject(o, name, v);
}

/* Bucket keys go in the body; `masked` replaces them for printing. */
static void add_keys(cJSON *o, const struct ferry_import_config *c, bool masked)
{
    cJSON_AddStringToObject(o, "accessKey",
                            masked          ? MASK
                            : c->access_key ? c->access_key
                                            : "");
    cJSON_AddStringToObject(o, "secretKey",
                            masked          ? MASK
                            : c->secret_key ? c->secret_key
                                            : "");
    if (c->api == FERRY_API_V2 && c->session_token)
        cJSON_AddStringToObject(o, "token", masked ? MASK : c->session_token);
}

static cJSON *string_lists(const struct ferry_import_unit *u, size_t n)
{
    cJSON *outer = cJSON_CreateArray();
    size_t i, k;

    for (i = 0; i < n; i++) {
        cJSON *inner = cJSON_CreateArray();

        for (k = 0; k < u[i].n; k++)
            cJSON_AddItemToArray(inner, cJSON_CreateString(u[i].items[k]));
        cJSON_AddItemToArray(outer, inner);
    }
    return outer;
}

static cJSON *submit_body(const struct ferry_importer *im,
                          const struct ferry_import_unit *u, size_t n,
                          bool masked)
{
    const struct ferry_import_config *c = &im->cfg;
    cJSON *o = cJSON_CreateObject();

    if (c->api != FERRY_API_MILVUS)
        cJSON_AddStringToObject(o, "clusterId", c->cluster_id);
    cJSON_AddStringToObject(o, "collectionName", c->collection);
    add_opt(o, "partitionName", c->partition);
    if (c->api != FERRY_API_V1)
        add_opt(o, "dbName", c->db);
    if (c->api == FERRY_API_V1) {
        cJSON_AddStringToObject(o, "objectUrl", u[0].items[0]);
        add_keys(o, c, masked);
    } else if (c->api == FERRY_API_V2) {
        cJSON_AddItemToObject(o, "objectUrls", string_lists(u, n));
        add_keys(o, c, masked);
    } else {
        cJSON_AddItemToObject(o, "files", string_lists(u, n));
        cJSON_AddItemToObject(o, "options", cJSON_CreateObject());
    }
    return o;
}

static void submit_url(struct ferry_buf *out, const struct ferry_importer *im)
{
    ferry_buf_adds(out, im->base);
    ferry_buf_adds(out, im->cfg.api == FERRY_API_V1
                            ? "/v1/vector/collections/import"
                            : "/v2/vectordb/jobs/import/create");
}

void ferry_importer_describe(struct ferry_buf *out, struct ferry_importer *im,
                             const struct ferry_import_unit *units, size_t n)
{
    cJSON *body = submit_body(im, units, n, true);
    char *text = cJSON_PrintUnformatted(body);

    ferry_buf_adds(out, "POST ");
    submit_url(out, im);
    ferry_buf_addf(out, "\n%s", text);
    free(text);
    cJSON_Delete(body);
}

/* --- transport ------------------------------------------------------ */

/*
 * What a retry may cure.  A submission is retried only where the server
 * cannot have acted on it (no connection, 429, 503): a lost answer to an
 * accepted one would otherwise start the same import twice.
 */
static bool transient(const struct ferry_http_result *r, int rc,
                      bool submission)
{
    if (rc == FERRY_ENET && submission)
        return r->curl_code == 7 /* CURLE_COULDNT_CONNECT */;
    if (rc == FERRY_ENET)
        return ferry_http_retryable(0, NULL, r->curl_code);
    if (submission)
        return r->status == 429 || r->status == 503;
    return r->status == 429 || r->status >= 500;
}

static void headers_for(struct ferry_buf lines[3], const char *hv[5],
                        const struct ferry_importer *im)
{
    size_t n = 0;

    ferry_buf_addf(&lines[0], "Authorization: Bearer %s", im->cfg.api_key);
    hv[n++] = lines[0].data;
    hv[n++] = "Content-Type: application/json";
    hv[n++] = "Accept: application/json";
    if (im->cfg.api == FERRY_API_MILVUS && im->cfg.db && *im->cfg.db) {
        ferry_buf_addf(&lines[1], "DB-Name: %s", im->cfg.db);
        hv[n++] = lines[1].data;
    }
    hv[n] = NULL;
}

/* One request, retried while the failure is transient. */
static int send_retrying(struct ferry_http_result *res,
                         struct ferry_importer *im, const char *method,
                         const char *url, const char *body, bool submission,
                         struct ferry_error *err)
{
    struct ferry_http_request req = { 0 };
    struct ferry_buf lines[3];
    const char *hv[5];
    int attempt, rc = 0, i;

    for (i = 0; i < 3; i++)
        ferry_buf_init(&lines[i]);
    headers_for(lines, hv, im);
    req.method = method;
    req.url = url;
    req.headers = hv;
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    for (attempt = 1; attempt <= im->cfg.max_attempts; attempt++) {
        double delay;

        ferry_error_clear(err);
        rc = ferry_http_exec(im->http, &req, res, err);
        if (!transient(res, rc, submission) || attempt == im->cfg.max_attempts)
            break;
        delay = ferry_http_backoff(attempt, res->retry_after);
        ferry_info("%s %s: %s, retrying in %.1f s", method, url,
                   rc                   ? err->msg
                   : res->status == 429 ? "HTTP 429"
                                        : "server error",
                   delay);
        ferry_sleep(delay);
    }
    for (i = 0; i < 3; i++)
        ferry_buf_release_secret(&lines[i]);
    if (!rc && res->status >= 300)
        rc = ferry_error_set(err, FERRY_EHTTP, "HTTP %ld", res->status);
    return rc;
}

static int envelope_error(struct ferry_error *err, cJSON *doc, long status,
                          int success)
{
    cJSON *code = cJSON_GetObjectItemCaseSensitive(doc, "code");
    cJSON *msg = cJSON_GetObjectItemCaseSensitive(doc, "message");
    const char *text = cJSON_IsString(msg) ? msg->valuestring : "";

    if (!cJSON_IsNumber(code))
        return ferry_error_set(err, FERRY_EPROTO,
                               "the answer (HTTP %ld) has no \"code\"", status);
    if (code->valueint == success && status < 300)
        return 0;
    snprintf(err->server_code, sizeof(err->server_code), "%d", code->valueint);
    err->http_status = status;
    return ferry_error_set(err, FERRY_EHTTP, "code %d: %s", code->valueint,
                           *text ? text : "(no message)");
}

/*
 * Sends body (or none) and returns the envelope's "data" object in *out
 * (caller deletes), after checking the HTTP status and the code.
 */
static int call(cJSON **out, struct ferry_importer *im, const char *method,
                const char *url, cJSON *body, bool submission,
                struct ferry_error *err)
{
    int success = im->cfg.api == FERRY_API_V1 ? 200 : 0;
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    struct ferry_http_result res;
    cJSON *doc = NULL;
    int rc;

    *out = NULL;
    ferry_http_result_init(&res);
    rc = send_retrying(&res, im, method, url, text, submission, err);
    if (rc == FERRY_ENET)
        goto done;
    doc = cJSON_ParseWithLength(res.body.data, res.body.len);
    if (!doc) {
        if (!rc)
            rc = ferry_error_set(err, FERRY_EPROTO,
                                 "the answer (HTTP %ld) is not JSON",
                                 res.status);
        goto done;
    }
    rc = envelope_error(err, doc, res.status, success);
    if (!rc)
        *out = cJSON_DetachItemFromObjectCaseSensitive(doc, "data");
    if (!rc && !*out)
        rc = ferry_error_set(err, FERRY_EPROTO, "the answer has no \"data\"");
done:
    if (rc)
        ferry_error_prefix(err, "%s %s", method, url);
    if (text) {
        /* the body held the bucket keys */
        OPENSSL_cleanse(text, strlen(text));
        free(text);
    }
    cJSON_Delete(doc);
    ferry_http_result_release(&res);
    return rc;
}

/* --- submit and progress -------------------------------------------- */

static const char *jstr(cJSON *o, const char *name)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int ferry_importer_submit(char **job_id, struct ferry_importer *im,
                          const struct ferry_import_unit *units, size_t n,
                          struct ferry_error *err)
{
    struct ferry_buf url;
    cJSON *body, *data = NULL;
    const char *id;
    int rc;

    *job_id = NULL;
    if (!n || (im->cfg.api == FERRY_API_V1 && (n != 1 || units[0].n != 1)))
        return ferry_error_set(err, FERRY_EUSAGE,
                               "the v1 API imports "
                               "exactly one object URL per request");
    ferry_buf_init(&url);
    submit_url(&url, im);
    body = submit_body(im, units, n, false);
    rc = call(&data, im, "POST", url.data, body, true, err);
    cJSON_Delete(body);
    if (!rc) {
        /* Some servers send the id as a number; keep it as text. */
        cJSON *v = cJSON_GetObjectItemCaseSensitive(data, "jobId");

        id = jstr(data, "jobId");
        if (id)
            *job_id = ferry_xstrdup(id);
        else if (cJSON_IsNumber(v)) {
            ferry_buf_reset(&url);
            ferry_buf_addf(&url, "%.0f", v->valuedouble);
            *job_id = ferry_xstrdup(url.data);
        } else
            rc = ferry_error_set(err, FERRY_EPROTO,
                                 "the import was "
                                 "accepted but the answer has no jobId");
    }
    cJSON_Delete(data);
    ferry_buf_release(&url);
    return rc;
}

static double jnum(cJSON *o, const char *name, double dflt)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static void read_v1(struct ferry_import_status *st, cJSON *data)
{
    const char *error = jstr(data, "errorMessage");
    double ready = jnum(data, "readyPercentage", 0);

    st->percent = ready * 100;
    if (error && *error) {
        st->state = FERRY_IMPORT_FAILED;
        snprintf(st->reason, sizeof(st->reason), "%s", error);
        snprintf(st->state_name, sizeof(st->state_name), "ImportFailed");
    } else if (ready >= 1) {
        st->state = FERRY_IMPORT_COMPLETED;
        snprintf(st->state_name, sizeof(st->state_name), "ImportCompleted");
    } else {
        st->state = FERRY_IMPORT_RUNNING;
        snprintf(st->state_name, sizeof(st->state_name), "ImportRunning");
    }
}

/*
 * Server states into the normalised four: v2 and Milvus say Completed
 * and Failed (terminal), Pending, and many running states; v1 lists say
 * ImportRunning, ImportCompleted, ImportFailed.
 */
static enum ferry_import_state state_of(const char *name)
{
    if (!name || !*name || !strcmp(name, "Pending") || !strcmp(name, "None"))
        return FERRY_IMPORT_PENDING;
    if (!strcmp(name, "Completed") || !strcmp(name, "ImportCompleted"))
        return FERRY_IMPORT_COMPLETED;
    if (!strcmp(name, "Failed") || !strcmp(name, "ImportFailed"))
        return FERRY_IMPORT_FAILED;
    return FERRY_IMPORT_RUNNING;
}

static void read_v2(struct ferry_import_status *st, cJSON *data)
{
    const char *state = jstr(data, "state");
    const char *reason = jstr(data, "reason");

    snprintf(st->state_name, sizeof(st->state_name), "%s", state ? state : "");
    st->percent = jnum(data, "progress", 0);
    st->total_rows = (int64_t)jnum(data, "totalRows", -1);
    st->imported_rows = (int64_t)jnum(data, "importedRows", -1);
    if (reason)
        snprintf(st->reason, sizeof(st->reason), "%s", reason);
    st->state = state_of(state);
}

/* Per-file details: v1 has readyPercentage and errorMessage. */
static void read_details(struct ferry_import_status *st, cJSON *data, bool v1)
{
    cJSON *details = cJSON_GetObjectItemCaseSensitive(data, "details");
    cJSON *d;

    if (!cJSON_IsArray(details))
        return;
    st->files = ferry_xcalloc((size_t)cJSON_GetArraySize(details) + 1,
                              sizeof(*st->files));
    cJSON_ArrayForEach (d, details) {
        struct ferry_import_file *f = &st->files[st->nfiles++];
        const char *name = jstr(d, "fileName");
        const char *why = jstr(d, v1 ? "errorMessage" : "reason");

        f->name = ferry_xstrdup(name ? name : "");
        f->size = (int64_t)jnum(d, "fileSize", -1);
        f->percent =
            v1 ? jnum(d, "readyPercentage", 0) * 100 : jnum(d, "progress", 0);
        f->reason = why && *why ? ferry_xstrdup(why) : NULL;
        f->state = v1 ? (f->reason           ? FERRY_IMPORT_FAILED
                         : f->percent >= 100 ? FERRY_IMPORT_COMPLETED
                                             : FERRY_IMPORT_RUNNING)
                      : state_of(jstr(d, "state"));
    }
}

void ferry_import_status_release(struct ferry_import_status *st)
{
    size_t i;

    for (i = 0; i < st->nfiles; i++) {
        free(st->files[i].name);
        free(st->files[i].reason);
    }
    free(st->files);
    st->files = NULL;
    st->nfiles = 0;
}

static int progress_v1(cJSON **data, struct ferry_importer *im,
                       const char *job_id, struct ferry_error *err)
{
    struct ferry_buf url;
    int rc;

    ferry_buf_init(&url);
    ferry_buf_addf(&url,
                   "%s/v1/vector/collections/import/get?jobId=", im->base);
    ferry_uri_encode(&url, job_id, strlen(job_id), false);
    ferry_buf_adds(&url, "&clusterId=");
    ferry_uri_encode(&url, im->cfg.cluster_id, strlen(im->cfg.cluster_id),
                     false);
    rc = call(data, im, "GET", url.data, NULL, false, err);
    ferry_buf_release(&url);
    return rc;
}

static int progress_v2(cJSON **data, struct ferry_importer *im,
                       const char *job_id, struct ferry_error *err)
{
    struct ferry_buf url;
    cJSON *body = cJSON_CreateObject();
    int rc;

    ferry_buf_init(&url);
    if (im->cfg.api == FERRY_API_V2) {
        ferry_buf_addf(&url, "%s/v2/vectordb/jobs/import/getProgress",
                       im->base);
        cJSON_AddStringToObject(body, "clusterId", im->cfg.cluster_id);
    } else {
        ferry_buf_addf(&url, "%s/v2/vectordb/jobs/import/get_progress",
                       im->base);
        add_opt(body, "dbName", im->cfg.db);
    }
    cJSON_AddStringToObject(body, "jobId", job_id);
    rc = call(data, im, "POST", url.data, body, false, err);
    cJSON_Delete(body);
    ferry_buf_release(&url);
    return rc;
}

int ferry_importer_progress(struct ferry_import_status *out,
                            struct ferry_importer *im, const char *job_id,
                            struct ferry_error *err)
{
    cJSON *data = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    out->total_rows = out->imported_rows = -1;
    rc = im->cfg.api == FERRY_API_V1 ? progress_v1(&data, im, job_id, err)
                                     : progress_v2(&data, im, job_id, err);
    if (rc)
        return rc;
    if (im->cfg.api == FERRY_API_V1)
        read_v1(out, data);
    else
        read_v2(out, data);
    read_details(out, data, im->cfg.api == FERRY_API_V1);
    if (out->percent > 100)
        out->percent = 100;
    cJSON_Delete(data);
    return 0;
}

/* --- list ------------------------------------------------------------ */

static int list_call(cJSON **data, struct ferry_importer *im,
                     struct ferry_error *err)
{
    struct ferry_buf url;
    cJSON *body = NULL;
    int rc;

    ferry_buf_init(&url);
    if (im->cfg.api == FERRY_API_V1) {
        ferry_buf_addf(&url,
                       "%s/v1/vector/collections/import/list"
                       "?clusterId=",
                       im->base);
        ferry_uri_encode(&url, im->cfg.cluster_id, strlen(im->cfg.cluster_id),
                         false);
        ferry_buf_adds(&url, "&pageSize=100&currentPage=1");
    } else {
        ferry_buf_addf(&url, "%s/v2/vectordb/jobs/import/list", im->base);
        body = cJSON_CreateObject();
        if (im->cfg.api == FERRY_API_V2) {
            cJSON_AddStringToObject(body, "clusterId", im->cfg.cluster_id);
            cJSON_AddNumberToObject(body, "pageSize", 100);
            cJSON_AddNumberToObject(body, "currentPage", 1);
        } else {
            add_opt(body, "collectionName", im->cfg.collection);
        }
        add_opt(body, "dbName", im->cfg.db);
    }
    rc = call(data, im, body ? "POST" : "GET", url.data, body, false, err);
    cJSON_Delete(body);
    ferry_buf_release(&url);
    return rc;
}

int ferry_importer_list(struct ferry_import_listed **out, size_t *n,
                        struct ferry_importer *im, struct ferry_error *err)
{
    cJSON *data = NULL, *records, *r;
    int rc = list_call(&data, im, err);

    *out = NULL;
    *n = 0;
    if (rc)
        return rc;
    /* v1's documentation shows both "tasks" and "records". */
    records = cJSON_GetObjectItemCaseSensitive(data, "records");
    if (!cJSON_IsArray(records))
        records = cJSON_GetObjectItemCaseSensitive(data, "tasks");
    if (!cJSON_IsArray(records)) {
        cJSON_Delete(data);
        return ferry_error_set(err, FERRY_EPROTO,
                               "the job list has no "
                               "\"records\"");
    }
    *out =
        ferry_xcalloc((size_t)cJSON_GetArraySize(records) + 1, sizeof(**out));
    cJSON_ArrayForEach (r, records) {
        struct ferry_import_listed *l = &(*out)[(*n)++];
        const char *id = jstr(r, "jobId"), *coll = jstr(r, "collectionName");
        const char *state = jstr(r, "state");

        snprintf(l->job_id, sizeof(l->job_id), "%s", id ? id : "");
        snprintf(l->collection, sizeof(l->collection), "%s", coll ? coll : "");
        snprintf(l->state_name, sizeof(l->state_name), "%s",
                 state ? state : "");
        l->state = state_of(state);
        l->percent = jnum(r, "progress", -1);
    }
    cJSON_Delete(data);
    return 0;
}
