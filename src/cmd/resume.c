/*
 * resume.c - "ferry resume JOB" and "ferry abort JOB": replay a job log.
 *
 * resume finishes what the log says is unfinished (DESIGN section 4):
 * files without an object event are uploaded, keeping the parts that an
 * open multipart upload still holds with the recorded size and ETag; a
 * file that changed on disk since is uploaded again from scratch; then
 * the import stage is resumed.  abort aborts every open multipart upload
 * of the job.  Keys are read from the environment again: the log never
 * holds them.
 */
#include "cmd.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "ferry/creds.h"
#include "ferry/joblog.h"
#include "ferry/log.h"
#include "ferry/objurl.h"
#include "ferry/progress.h"
#include "ferry/scan.h"
#include "ferry/store.h"
#include "ferry/strutil.h"
#include "ferry/upload.h"

/* What the log says of one planned file. */
struct logged_file {
    cJSON *file; /* the file event; borrowed */
    const char *key;
    bool done;
    const char *upload_id;          /* the last multipart upload, if open */
    struct ferry_store_part *parts; /* recorded parts of it */
    size_t nparts;
};

struct replay {
    struct ferry_buf path;
    struct ferry_joblog *log;
    cJSON *events;
    cJSON *settings; /* upload settings; borrowed */
    cJSON *import_settings;
    struct logged_file *files;
    size_t nfiles;
    struct ferry_creds creds;
    bool have_creds;
    struct ferry_store *store;
};

static const char *s_of(cJSON *o, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static double n_of(cJSON *o, const char *k)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static struct logged_file *file_of(struct replay *r, const char *key)
{
    size_t i;

    for (i = 0; key && i < r->nfiles; i++) {
        if (!strcmp(r->files[i].key, key))
            return &r->files[i];
    }
    return NULL;
}

static void add_part(struct logged_file *f, cJSON *ev)
{
    struct ferry_store_part *p;

    f->parts = ferry_xrealloc(f->parts, (f->nparts + 1) * sizeof(*f->parts));
    p = &f->parts[f->nparts++];
    memset(p, 0, sizeof(*p));
    p->number = (int)n_of(ev, "part");
    p->size = (uint64_t)n_of(ev, "size");
    snprintf(p->etag, sizeof(p->etag), "%s",
             s_of(ev, "etag") ? s_of(ev, "etag") : "");
}

static void take_event(struct replay *r, cJSON *ev)
{
    const char *type = s_of(ev, "event"), *key = s_of(ev, "key");
    struct logged_file *f = file_of(r, key);

    if (!type)
        return;
    if (!strcmp(type, "settings") && !r->settings)
        r->settings = ev;
    else if (!strcmp(type, "import_settings"))
        r->import_settings = ev;
    else if (!strcmp(type, "file") && key && !f) {
        r->files =
            ferry_xrealloc(r->files, (r->nfiles + 1) * sizeof(*r->files));
        f = &r->files[r->nfiles++];
        memset(f, 0, sizeof(*f));
        f->file = ev;
        f->key = key;
    } else if (f && !strcmp(type, "object"))
        f->done = true;
    else if (f && !strcmp(type, "mpu_created")) {
        f->upload_id = s_of(ev, "upload_id");
        f->nparts = 0;
    } else if (f && !strcmp(type, "mpu_aborted"))
        f->upload_id = NULL;
    else if (f && !strcmp(type, "part") && f->upload_id &&
             s_of(ev, "upload_id") &&
             !strcmp(s_of(ev, "upload_id"), f->upload_id))
        add_part(f, ev);
}

static int open_replay(struct replay *r, const char *job,
                       struct ferry_error *err)
{
    cJSON *ev;
    int rc;

    memset(r, 0, sizeof(*r));
    ferry_buf_init(&r->path);
    rc = ferry_cmd_job_path(&r->path, job, err);
    /* open first: it takes the lock and cuts a torn last line */
    if (!rc)
        rc = ferry_joblog_open(&r->log, r->path.data, err);
    if (!rc)
        rc = ferry_joblog_read(&r->events, r->path.data, err);
    if (rc)
        return rc;
    cJSON_ArrayForEach (ev, r->events)
        take_event(r, ev);
    return 0;
}

static void close_replay(struct replay *r)
{
    size_t i;

    for (i = 0; i < r->nfiles; i++)
        free(r->files[i].parts);
    free(r->files);
    ferry_store_free(r->store);
    if (r->have_creds)
        ferry_creds_release(&r->creds);
    if (r->log)
        ferry_joblog_close(r->log);
    cJSON_Delete(r->events);
    ferry_buf_release(&r->path);
}

/* The upload's store, with keys read again from the environment. */
static int open_store(struct replay *r, struct ferry_error *err)
{
    struct ferry_store_config cfg = { 0 };
    const char *store = s_of(r->settings, "store");
    const char *sign = s_of(r->settings, "sign_as");
    bool gcs = store && !strcmp(store, "gcs");
    int rc = gcs ? ferry_creds_load_gcs(&r->creds, err)
                 : ferry_creds_load_aws(&r->creds, s_of(r->settings, "profile"),
                                        err);

    if (rc)
        return rc;
    r->have_creds = true;
    cfg.dialect =
        sign && !strcmp(sign, "goog") ? &ferry_sigv4_goog : &ferry_sigv4_aws;
    cfg.endpoint = s_of(r->settings, "endpoint");
    cfg.region = s_of(r->settings, "region");
    cfg.bucket = s_of(r->settings, "bucket");
    cfg.path_style =
        cJSON_IsTrue(cJSON_GetObjectItem(r->settings, "path_style"));
    cfg.gcs = gcs;
    cfg.creds = &r->creds;
    cfg.http.ca_file = s_of(r->settings, "ca_file");
    if (!cfg.region || !cfg.bucket)
        return ferry_error_set(err, FERRY_EJOBLOG,
                               "job log \"%s\" has no "
                               "bucket or region in its settings",
                               r->path.data);
    return ferry_store_new(&r->store, &cfg, err);
}

static void log_aborted(struct replay *r, const char *key, const char *id)
{
    cJSON *ev = cJSON_CreateObject();

    cJSON_AddStringToObject(ev, "event", "mpu_aborted");
    cJSON_AddStringToObject(ev, "key", key);
    cJSON_AddStringToObject(ev, "upload_id", id);
    ferry_cmd_log_event(r->log, ev, true);
}

static int abort_upload(struct replay *r, struct logged_file *f,
                        struct ferry_error *err)
{
    struct ferry_store_op op;
    int rc;

    ferry_store_op_init(&op, FERRY_OP_ABORT_MPU, f->key);
    op.upload_id = f->upload_id;
    rc = ferry_store_exec(r->store, &op);
    /* an upload the server forgot is as good as aborted */
    if (rc && op.err.http_status == 404)
        rc = 0;
    if (rc)
        *err = op.err;
    else
        log_aborted(r, f->key, f->upload_id);
    ferry_store_op_release(&op);
    if (!rc)
        f->upload_id = NULL;
    return rc;
}

static void log_stage(struct replay *r, const char *stage, const char *state)
{
    cJSON *ev = cJSON_CreateObject();

    cJSON_AddStringToObject(ev, "event", "stage");
    cJSON_AddStringToObject(ev, "stage", stage);
    cJSON_AddStringToObject(ev, "state", state);
    ferry_cmd_log_event(r->log, ev, true);
}

int ferry_cmd_abort(int argc, char **argv)
{
    struct replay r;
    struct ferry_error err;
    size_t i, n = 0;
    int rc;

    if (argc != 2 || argv[1][0] == '-')
        return argc == 2 && !strcmp(argv[1], "--help")
                   ? (puts("usage: ferry abort JOB"), FERRY_EXIT_OK)
                   : ferry_cmd_usage_error("abort", "give one JOB");
    ferry_error_clear(&err);
    rc = open_replay(&r, argv[1], &err);
    for (i = 0; !rc && i < r.nfiles; i++) {
        struct logged_file *f = &r.files[i];

        if (f->done || !f->upload_id)
            continue;
        const char *id = f->upload_id;

        if (!r.store && (rc = open_store(&r, &err)) != 0)
            break;
        rc = abort_upload(&r, f, &err);
        if (!rc) {
            printf("aborted \"%s\" (upload %s)\n", f->key, id);
            n++;
        }
    }
    if (!rc && n == 0) {
        ferry_info("job \"%s\": no open multipart upload; nothing to abort",
                   argv[1]);
    } else if (!rc) {
        log_stage(&r, "upload", "aborted");
        ferry_info("job \"%s\": %zu open multipart upload%s aborted", argv[1],
                   n, n == 1 ? "" : "s");
    }
    close_replay(&r);
    return rc ? ferry_cmd_fail(ferry_cmd_exit_for(rc), &err) : FERRY_EXIT_OK;
}

/* --- resume the upload stage ----------------------------------------- */

static bool unchanged(const struct logged_file *f, struct stat *st)
{
    const char *path = s_of(f->file, "path");
    int64_t sec = (int64_t)n_of(f->file, "mtime_sec");
    int64_t nsec = (int64_t)n_of(f->file, "mtime_nsec");

    if (!path || stat(path, st))
        return false;
    return (uint64_t)st->st_size == (uint64_t)n_of(f->file, "size") &&
           st->st_mtim.tv_sec == sec && st->st_mtim.tv_nsec == nsec;
}

/*
 * Parts the server still lists with the size and ETag the log recorded
 * are kept; the rest are sent again.
 */
static int kept_parts(struct ferry_upload_resume *out, struct replay *r,
                      struct logged_file *f, struct ferry_error *err)
{
    struct ferry_store_op op;
    struct ferry_store_part *kept;
    size_t i, k, n = 0;
    int rc;

    ferry_store_op_init(&op, FERRY_OP_LIST_PARTS, f->key);
    op.upload_id = f->upload_id;
    rc = ferry_store_exec(r->store, &op);
    if (rc) {
        *err = op.err;
        ferry_store_op_release(&op);
        return rc;
    }
    kept = ferry_xcalloc(f->nparts + 1, sizeof(*kept));
    for (i = 0; i < f->nparts; i++) {
        for (k = 0; k < op.nlisted_parts; k++) {
            const struct ferry_store_part *s = &op.listed_parts[k];

            if (s->number == f->parts[i].number &&
                s->size == f->parts[i].size &&
                !strcmp(s->etag, f->parts[i].etag))
                kept[n++] = f->parts[i];
        }
    }
    ferry_info("\"%s\": %zu of its parts are on the server already", f->key, n);
    out->upload_id = f->upload_id;
    out->parts = kept;
    out->nparts = n;
    ferry_store_op_release(&op);
    return 0;
}

static void add_scan_file(struct ferry_scan *s, const struct logged_file *f,
                          const struct stat *st)
{
    struct ferry_scan_file *x;

    s->files = ferry_xrealloc(s->files, (s->n + 1) * sizeof(*s->files));
    x = &s->files[s->n++];
    x->path = ferry_xstrdup(s_of(f->file, "path"));
    x->key = ferry_xstrdup(f->key);
    x->size = (uint64_t)st->st_size;
    x->mtime_ns =
        (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    s->total_bytes += x->size;
}

/* Logs written before the setting existed always hashed the file. */
static bool file_sha256(const struct replay *r)
{
    return !cJSON_IsFalse(cJSON_GetObjectItem(r->settings, "file_sha256"));
}

static bool sha256_file(char out[65], const char *path)
{
    unsigned char buf[1 << 16], md[32];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    FILE *fp = fopen(path, "rb");
    size_t n;

    if (!fp || !ctx) {
        if (fp)
            fclose(fp);
        EVP_MD_CTX_free(ctx);
        return false;
    }
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
        EVP_DigestUpdate(ctx, buf, n);
    fclose(fp);
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    ferry_hex(out, md, 32);
    return true;
}

/*
 * A multipart upload the server no longer knows may have been completed
 * by the run that crashed: an object of the file's size means it was.
 */
static bool completed_before(struct replay *r, struct logged_file *f,
                             const struct stat *st)
{
    struct ferry_store_op op;
    char sha[65];
    bool done;
    cJSON *ev;

    ferry_store_op_init(&op, FERRY_OP_HEAD, f->key);
    sha[0] = '\0';
    done = ferry_store_exec(r->store, &op) == 0 &&
           op.size == (uint64_t)st->st_size &&
           (!file_sha256(r) || sha256_file(sha, s_of(f->file, "path")));
    if (done) {
        ev = cJSON_CreateObject();
        cJSON_AddStringToObject(ev, "event", "object");
        cJSON_AddStringToObject(ev, "key", f->key);
        cJSON_AddNumberToObject(ev, "size", (double)st->st_size);
        cJSON_AddStringToObject(ev, "etag", op.etag);
        if (sha[0])
            cJSON_AddStringToObject(ev, "sha256", sha);
        cJSON_AddStringToObject(ev, "upload_id", f->upload_id);
        ferry_cmd_log_event(r->log, ev, true);
        ferry_info("\"%s\": the earlier run completed it already", f->key);
        f->done = true;
    }
    ferry_store_op_release(&op);
    return done;
}

/* One unfinished file: kept parts, or a fresh start if it changed. */
static int plan_file(struct replay *r, struct logged_file *f,
                     struct ferry_scan *scan, struct ferry_upload_resume *res,
                     struct ferry_error *err)
{
    struct stat st;
    int rc = 0;

    memset(res, 0, sizeof(*res));
    if (!unchanged(f, &st)) {
        if (stat(s_of(f->file, "path"), &st))
            return ferry_error_set(err, FERRY_EIO,
                                   "\"%s\" is gone since the job began",
                                   s_of(f->file, "path"));
        ferry_warn("\"%s\" changed since the job began: uploading it again "
                   "from the start",
                   s_of(f->file, "path"));
        if (f->upload_id)
            rc = abort_upload(r, f, err);
    } else if (f->upload_id) {
        rc = kept_parts(res, r, f, err);
        if (rc && err->http_status == 404) {
            /* Completed before the crash, or gone: HEAD tells. */
            memset(res, 0, sizeof(*res));
            rc = 0;
            if (completed_before(r, f, &st))
                return 0;
        }
    }
    if (!rc)
        add_scan_file(scan, f, &st);
    return rc;
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    if (interrupted)
        _exit(FERRY_EXIT_INTERRUPTED);
    interrupted = 1;
}

static void free_resume(struct ferry_upload_resume *res, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free((void *)res[i].parts);
    free(res);
}

static int run_uploads(struct replay *r, struct ferry_scan *scan,
                       struct ferry_upload_resume *res, int concurrency,
                       struct ferry_error *err)
{
    struct ferry_upload_options o = { 0 };
    struct ferry_upload_result out;
    struct ferry_progress prog;
    struct sigaction sa;
    int rc;

    o.part_size = (uint64_t)n_of(r->settings, "part_size");
    o.threshold = (uint64_t)n_of(r->settings, "multipart_threshold");
    o.concurrency =
        concurrency ? concurrency : (int)n_of(r->settings, "concurrency");
    o.no_file_sha256 = !file_sha256(r);
    o.log = r->log;
    o.interrupted = &interrupted;
    o.progress = ferry_progress_update;
    o.progress_ud = &prog;
    o.resume = res;
    o.resumed = true;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    ferry_progress_init(&prog, false);
    rc = ferry_upload_run(&out, r->store, scan, &o, err);
    ferry_progress_finish(&prog);
    ferry_upload_result_release(&out);
    return rc;
}

/* Uploads what the log does not show as uploaded. */
static int resume_uploads(struct replay *r, int concurrency,
                          struct ferry_error *err)
{
    struct ferry_upload_resume *res;
    struct ferry_scan scan;
    size_t i, left = 0;
    int rc = 0;

    for (i = 0; i < r->nfiles; i++)
        left += !r->files[i].done;
    if (!r->settings || !left) {
        if (r->settings)
            ferry_info("upload stage: all %zu files were uploaded already",
                       r->nfiles);
        return 0;
    }
    ferry_info("upload stage: %zu of %zu files left", left, r->nfiles);
    rc = open_store(r, err);
    memset(&scan, 0, sizeof(scan));
    res = ferry_xcalloc(left, sizeof(*res));
    for (i = 0; !rc && i < r->nfiles; i++) {
        if (!r->files[i].done)
            rc = plan_file(r, &r->files[i], &scan, &res[scan.n], err);
    }
    if (!rc)
        rc = run_uploads(r, &scan, res, concurrency, err);
    free_resume(res, left);
    ferry_scan_release(&scan);
    return rc;
}

/* --- resume the import stage ----------------------------------------- */

/* The import's own arguments: its settings', or those upload-and-import
 * recorded before the upload began. */
static cJSON *import_argv(struct replay *r)
{
    cJSON *argv = NULL, *ev;

    cJSON_ArrayForEach (ev, r->events) {
        const char *t = s_of(ev, "event");

        if (t && (!strcmp(t, "import_settings") || !strcmp(t, "import_args")) &&
            cJSON_IsArray(cJSON_GetObjectItem(ev, "argv")))
            argv = cJSON_GetObjectItem(ev, "argv");
    }
    return argv;
}

static bool import_done(struct replay *r)
{
    const char *state = NULL;
    cJSON *ev;

    cJSON_ArrayForEach (ev, r->events) {
        const char *t = s_of(ev, "event"), *st = s_of(ev, "stage");

        if (t && !strcmp(t, "stage") && st && !strcmp(st, "import"))
            state = s_of(ev, "state");
    }
    return state && !strcmp(state, "done");
}

static int resume_imports(struct replay *r, const char *path, int json,
                          int resubmit)
{
    cJSON *args = import_argv(r), *a;
    char **argv;
    int n = 0, rc;

    if (!args)
        return FERRY_EXIT_OK;
    if (import_done(r)) {
        ferry_info("import stage: done already; nothing to resume");
        return FERRY_EXIT_OK;
    }
    argv = ferry_xcalloc((size_t)cJSON_GetArraySize(args) + 5, sizeof(*argv));
    cJSON_ArrayForEach (a, args)
        argv[n++] = a->valuestring;
    if (json)
        argv[n++] = "--json";
    if (resubmit)
        argv[n++] = "--resubmit";
    argv[n++] = "--resume";
    argv[n++] = (char *)path;
    rc = ferry_cmd_import(n, argv);
    free(argv);
    return rc;
}

int ferry_cmd_resume(int argc, char **argv)
{
    struct replay r;
    struct ferry_error err;
    struct ferry_buf path;
    uint64_t conc = 0;
    int i, json = 0, resubmit = 0, rc;
    const char *job = NULL;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            puts("usage: ferry resume [--concurrency N] [--resubmit] [--json] "
                 "[-v] JOB");
            return FERRY_EXIT_OK;
        } else if (!strcmp(argv[i], "--concurrency") && i + 1 < argc) {
            if (ferry_parse_uint(&conc, argv[++i], 1, 256))
                return ferry_cmd_usage_error("resume", "--concurrency needs "
                                                       "1 to 256");
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "--resubmit")) {
            resubmit = 1;
        } else if (!strcmp(argv[i], "-v")) {
            ferry_cmd_set_verbosity(0, 1);
        } else if (argv[i][0] == '-' || job) {
            return ferry_cmd_usage_error("resume", "unexpected \"%s\"",
                                         argv[i]);
        } else {
            job = argv[i];
        }
    }
    if (!job)
        return ferry_cmd_usage_error("resume", "give the JOB to resume");
    ferry_error_clear(&err);
    rc = open_replay(&r, job, &err);
    if (!rc)
        rc = resume_uploads(&r, (int)conc, &err);
    ferry_buf_init(&path);
    ferry_buf_adds(&path, r.path.data);
    if (rc == FERRY_EINTR) {
        close_replay(&r);
        ferry_buf_release(&path);
        ferry_error_log("%s; resume again with: ferry resume %s", err.msg, job);
        return FERRY_EXIT_INTERRUPTED;
    }
    if (rc) {
        close_replay(&r);
        ferry_buf_release(&path);
        return ferry_cmd_fail(ferry_cmd_exit_for(rc), &err);
    }
    /* the import stage opens the log itself */
    ferry_joblog_close(r.log);
    r.log = NULL;
    rc = resume_imports(&r, path.data, json, resubmit);
    close_replay(&r);
    ferry_buf_release(&path);
    return rc;
}
