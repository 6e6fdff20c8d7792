/* upload.c - "ferry upload PATH... --to DEST". */
#include "cmd.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ferry/creds.h"
#include "ferry/joblog.h"
#include "ferry/log.h"
#include "ferry/objurl.h"
#include "ferry/progress.h"
#include "ferry/rules.h"
#include "ferry/scan.h"
#include "ferry/store.h"
#include "ferry/strutil.h"
#include "ferry/upload.h"

static const char usage[] =
    "usage: ferry upload [options] PATH... --to DEST\n\n"
    "  --to DEST              s3://BUCKET/PREFIX/ (or an https form)\n"
    "  --endpoint URL         S3-compatible endpoint (env\n"
    "                         AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL)\n"
    "  --region REGION        signing region (env AWS_REGION; us-east-1)\n"
    "  --profile NAME         profile of ~/.aws/credentials and ~/.aws/config\n"
    "  --path-style           address the bucket in the path\n"
    "  --sign-as aws|goog     GCS only: signing dialect (default goog)\n"
    "  --part-size SIZE       multipart part size (default 16MiB)\n"
    "  --multipart-threshold SIZE  smallest file sent in parts (default:\n"
    "                         the part size)\n"
    "  --concurrency N        transfers in flight (default 8)\n"
    "  --no-file-sha256       skip the whole-file SHA-256 of multipart\n"
    "                         files (parts are still hashed and checked)\n"
    "  --ca-file FILE         CA certificates for TLS\n"
    "  --job-log FILE         where the job log goes\n"
    "  --api v1|v2|milvus     check that API's import rules first and\n"
    "                         upload only what it can import\n"
    "  --no-check             skip those checks\n"
    "  --dry-run              print the requests, send nothing\n"
    "  --json                 one JSON document on stdout\n"
    "  -q, --quiet            errors only\n"
    "  -v, --verbose          debug output (secrets redacted)\n";

struct upload_args {
    const char *to;
    const char *endpoint;
    const char *region;
    const char *profile;
    const char *ca_file;
    const char *job_log;
    const char *sign_as;
    const char *api; /* import rules to check first */
    int no_check;
    int no_results; /* upload-and-import prints the import's */
    uint64_t part_size;
    uint64_t threshold;
    uint64_t concurrency;
    int no_file_sha256;
    int path_style;
    int dry_run;
    int json;
    int quiet;
    int verbose;
    char **paths;
    int npaths;
};

enum {
    OPT_TO = 256,
    OPT_ENDPOINT,
    OPT_REGION,
    OPT_PROFILE,
    OPT_PATH_STYLE,
    OPT_PART_SIZE,
    OPT_THRESHOLD,
    OPT_CONCURRENCY,
    OPT_CA_FILE,
    OPT_JOB_LOG,
    OPT_DRY_RUN,
    OPT_JSON,
    OPT_SIGN_AS,
    OPT_API,
    OPT_NO_CHECK,
    OPT_NO_FILE_SHA256,
    OPT_HELP,
};

static const struct option long_opts[] = {
    { "to", required_argument, NULL, OPT_TO },
    { "endpoint", required_argument, NULL, OPT_ENDPOINT },
    { "region", required_argument, NULL, OPT_REGION },
    { "profile", required_argument, NULL, OPT_PROFILE },
    { "path-style", no_argument, NULL, OPT_PATH_STYLE },
    { "part-size", required_argument, NULL, OPT_PART_SIZE },
    { "multipart-threshold", required_argument, NULL, OPT_THRESHOLD },
    { "concurrency", required_argument, NULL, OPT_CONCURRENCY },
    { "ca-file", required_argument, NULL, OPT_CA_FILE },
    { "job-log", required_argument, NULL, OPT_JOB_LOG },
    { "dry-run", no_argument, NULL, OPT_DRY_RUN },
    { "json", no_argument, NULL, OPT_JSON },
    { "sign-as", required_argument, NULL, OPT_SIGN_AS },
    { "api", required_argument, NULL, OPT_API },
    { "no-check", no_argument, NULL, OPT_NO_CHECK },
    { "no-file-sha256", no_argument, NULL, OPT_NO_FILE_SHA256 },
    { "quiet", no_argument, NULL, 'q' },
    { "verbose", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, OPT_HELP },
    { NULL, 0, NULL, 0 },
};

static int parse_size_opt(uint64_t *out, const char *name, const char *v)
{
    if (ferry_parse_size(out, v))
        return ferry_cmd_usage_error(
            "upload", "%s \"%s\" is not a size like 16MiB", name, v);
    return 0;
}

static int parse_one(struct upload_args *a, int c, const char *v)
{
    switch (c) {
    case OPT_TO: a->to = v; break;
    case OPT_ENDPOINT: a->endpoint = v; break;
    case OPT_REGION: a->region = v; break;
    case OPT_PROFILE: a->profile = v; break;
    case OPT_PATH_STYLE: a->path_style = 1; break;
    case OPT_CA_FILE: a->ca_file = v; break;
    case OPT_JOB_LOG: a->job_log = v; break;
    case OPT_DRY_RUN: a->dry_run = 1; break;
    case OPT_JSON: a->json = 1; break;
    case OPT_SIGN_AS: a->sign_as = v; break;
    case OPT_API: a->api = v; break;
    case OPT_NO_CHECK: a->no_check = 1; break;
    case OPT_NO_FILE_SHA256: a->no_file_sha256 = 1; break;
    case 'q': a->quiet = 1; break;
    case 'v': a->verbose = 1; break;
    case OPT_PART_SIZE:
        if (parse_size_opt(&a->part_size, "--part-size", v))
            return FERRY_EXIT_USAGE;
        if (a->part_size < FERRY_MIN_PART || a->part_size > FERRY_MAX_PART)
            return ferry_cmd_usage_error("upload",
                                         "--part-size \"%s\" is "
                                         "outside 5MiB to 5GiB",
                                         v);
        break;
    case OPT_THRESHOLD:
        return parse_size_opt(&a->threshold, "--multipart-threshold", v);
    case OPT_CONCURRENCY:
        if (ferry_parse_uint(&a->concurrency, v, 1, 256))
            return ferry_cmd_usage_error("upload",
                                         "--concurrency \"%s\" "
                                         "is not a number from 1 to 256",
                                         v);
        break;
    default: return ferry_cmd_usage_error("upload", "unknown option");
    }
    return 0;
}

/* Returns -1 after --help, an exit code on error, 0 to go on. */
static int parse_args(struct upload_args *a, int argc, char **argv)
{
    int c, rc;

    memset(a, 0, sizeof(*a));
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "hqv", long_opts, NULL)) != -1) {
        if (c == OPT_HELP || c == 'h') {
            fputs(usage, stdout);
            return -1;
        }
        if (c == '?')
            return ferry_cmd_usage_error("upload", "unknown option \"%s\"",
                                         argv[optind - 1]);
        if ((rc = parse_one(a, c, optarg)) != 0)
            return rc;
    }
    a->paths = argv + optind;
    a->npaths = argc - optind;
    /* Effective values, so the job log records what was used. */
    if (!a->part_size)
        a->part_size = FERRY_DEFAULT_PART;
    if (!a->threshold)
        a->threshold = a->part_size;
    if (!a->concurrency)
        a->concurrency = FERRY_DEFAULT_CONCURRENCY;
    if (!a->to)
        return ferry_cmd_usage_error("upload", "--to DEST is required");
    if (a->npaths == 0)
        return ferry_cmd_usage_error("upload", "no PATH to upload");
    if (a->api && strcmp(a->api, "v1") && strcmp(a->api, "v2") &&
        strcmp(a->api, "milvus"))
        return ferry_cmd_usage_error("upload", "--api must be v1, v2 or "
                                               "milvus");
    if (a->sign_as && strcmp(a->sign_as, "aws") && strcmp(a->sign_as, "goog"))
        return ferry_cmd_usage_error("upload", "--sign-as must be aws or goog");
    return 0;
}

static volatile sig_atomic_t interrupted;

/*
 * The first signal lets the transfers in flight finish and be recorded;
 * a second one ends at once (every finished part is already on disk).
 */
static void on_signal(int sig)
{
    static const char msg[] = "\nferry: stopped at once; the job log "
                              "holds every finished part\n";

    if (interrupted) {
        if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
            _exit(FERRY_EXIT_INTERRUPTED);
        _exit(FERRY_EXIT_INTERRUPTED);
    }
    interrupted = 1;
}

static void catch_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Everything resolved from options, environment and files. */
struct job {
    struct upload_args args;
    struct ferry_objurl dest;
    struct ferry_scan scan;
    struct ferry_creds creds;
    bool have_creds;
    char *config_region;
    const char *endpoint;
    const char *region;
    bool path_style;
    const struct ferry_sigv4_dialect *dialect;
    char id[32];
    struct ferry_buf log_path;
    struct ferry_joblog *log;
    struct ferry_store *store;
};

static const char *first_env(const char *a, const char *b)
{
    const char *v = getenv(a);

    if (v && *v)
        return v;
    v = b ? getenv(b) : NULL;
    return v && *v ? v : NULL;
}

/* IP literals and localhost cannot carry a bucket as a sub-domain. */
static bool needs_path_style(const char *endpoint, const char *bucket)
{
    char host[256];
    const char *p;
    unsigned char addr[16];
    size_t n;

    if (strchr(bucket, '.'))
        return true;
    if (!endpoint || !(p = strstr(endpoint, "://")))
        return false;
    p += 3;
    if (*p == '[')
        return true;
    n = strcspn(p, ":/");
    snprintf(host, sizeof(host), "%.*s", (int)n, p);
    return inet_pton(AF_INET, host, addr) == 1 || !strcmp(host, "localhost");
}

static int resolve(struct job *j, struct ferry_error *err)
{
    struct upload_args *a = &j->args;
    bool gcs;
    int rc;

    if ((rc = ferry_objurl_parse(&j->dest, a->to, err)) != 0)
        return rc;
    gcs = j->dest.store == FERRY_STORE_GCS;
    j->endpoint = a->endpoint ? a->endpoint
                  : gcs       ? "https://storage.googleapis.com"
                        : first_env("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL");
    if ((rc = ferry_config_region(&j->config_region, a->profile, err)) != 0)
        return rc;
    /* AWS's region settings do not apply to GCS, which wants "auto". */
    j->region = a->region        ? a->region
                : gcs            ? "auto"
                : j->dest.region ? j->dest.region
                : first_env("AWS_REGION", "AWS_DEFAULT_REGION")
                    ? first_env("AWS_REGION", "AWS_DEFAULT_REGION")
                : j->config_region ? j->config_region
                                   : "us-east-1";
    j->path_style =
        a->path_style || gcs || needs_path_style(j->endpoint, j->dest.bucket);
    j->dialect = gcs && !(a->sign_as && !strcmp(a->sign_as, "aws"))
                     ? &ferry_sigv4_goog
                     : &ferry_sigv4_aws;
    return 0;
}

static int check_sizes(struct job *j, struct ferry_error *err)
{
    size_t i;

    for (i = 0; i < j->scan.n; i++) {
        uint64_t part;
        int rc = ferry_upload_part_size(&part, j->scan.files[i].size,
                                        j->args.part_size, err);

        if (rc) {
            ferry_error_prefix(err, "\"%s\"", j->scan.files[i].path);
            return rc;
        }
    }
    return 0;
}

static int load_creds(struct job *j, struct ferry_error *err)
{
    int rc = j->dest.store == FERRY_STORE_GCS
                 ? ferry_creds_load_gcs(&j->creds, err)
                 : ferry_creds_load_aws(&j->creds, j->args.profile, err);

    j->have_creds = rc == 0;
    return rc;
}

static int open_store(struct job *j, struct ferry_error *err)
{
    struct ferry_store_config cfg = { 0 };

    cfg.dialect = j->dialect;
    cfg.endpoint = j->endpoint;
    cfg.region = j->region;
    cfg.bucket = j->dest.bucket;
    cfg.path_style = j->path_style;
    cfg.gcs = j->dest.store == FERRY_STORE_GCS;
    cfg.creds = &j->creds;
    cfg.http.ca_file = j->args.ca_file;
    cfg.http.trace = ferry_log_enabled(FERRY_LOG_DEBUG);
    return ferry_store_new(&j->store, &cfg, err);
}

static void add_settings(cJSON *ev, const struct job *j)
{
    const struct upload_args *a = &j->args;

    cJSON_AddStringToObject(ev, "event", "settings");
    cJSON_AddStringToObject(ev, "command", "upload");
    cJSON_AddStringToObject(ev, "dest", a->to);
    cJSON_AddStringToObject(ev, "store",
                            j->dest.store == FERRY_STORE_GCS ? "gcs" : "s3");
    cJSON_AddStringToObject(ev, "bucket", j->dest.bucket);
    if (j->endpoint)
        cJSON_AddStringToObject(ev, "endpoint", j->endpoint);
    else
        cJSON_AddNullToObject(ev, "endpoint");
    cJSON_AddStringToObject(ev, "region", j->region);
    cJSON_AddBoolToObject(ev, "path_style", j->path_style);
    cJSON_AddStringToObject(ev, "sign_as",
                            j->dialect == &ferry_sigv4_goog ? "goog" : "aws");
    cJSON_AddNumberToObject(ev, "part_size", (double)a->part_size);
    cJSON_AddNumberToObject(ev, "multipart_threshold", (double)a->threshold);
    cJSON_AddNumberToObject(ev, "concurrency", (double)a->concurrency);
    cJSON_AddBoolToObject(ev, "file_sha256", !a->no_file_sha256);
    if (a->profile)
        cJSON_AddStringToObject(ev, "profile", a->profile);
    if (a->ca_file)
        cJSON_AddStringToObject(ev, "ca_file", a->ca_file);
    cJSON_AddStringToObject(ev, "access_key_source", j->creds.source);
}

static int open_log(struct job *j, struct ferry_error *err)
{
    cJSON *ev;
    int rc;

    ferry_joblog_new_id(j->id);
    ferry_buf_init(&j->log_path);
    if (j->args.job_log) {
        ferry_buf_adds(&j->log_path, j->args.job_log);
    } else {
        if (ferry_joblog_default_dir(&j->log_path))
            return ferry_error_set(err, FERRY_EUSAGE,
                                   "no XDG_STATE_HOME "
                                   "or HOME for the job log; give "
                                   "--job-log FILE");
        ferry_buf_addf(&j->log_path, "/%s.jsonl", j->id);
    }
    rc = ferry_joblog_create(&j->log, j->log_path.data, j->id, err);
    if (rc)
        return rc;
    ev = cJSON_CreateObject();
    add_settings(ev, j);
    rc = ferry_joblog_append(j->log, ev, true, err);
    cJSON_Delete(ev);
    return rc;
}

static void print_request(struct job *j, struct ferry_store_op *op)
{
    struct ferry_buf line;

    ferry_buf_init(&line);
    ferry_store_describe(&line, j->store, op);
    printf("%s\n", line.data);
    ferry_buf_release(&line);
}

/* --dry-run: every request the upload would send, in order. */
static int dry_run(struct job *j)
{
    size_t i;

    for (i = 0; i < j->scan.n; i++) {
        const struct ferry_scan_file *f = &j->scan.files[i];
        struct ferry_store_op op;
        struct ferry_store_part *parts;
        uint64_t part;
        uint64_t threshold;
        uint32_t n, k;

        ferry_upload_part_size(&part, f->size, j->args.part_size, NULL);
        threshold = j->args.threshold ? j->args.threshold : part;
        ferry_store_op_init(&op, FERRY_OP_PUT, f->key);
        if (f->size < threshold && f->size <= FERRY_MAX_PART) {
            op.body_len = f->size;
            print_request(j, &op);
            continue;
        }
        n = ferry_upload_part_count(f->size, part);
        parts = ferry_xcalloc(n, sizeof(*parts));
        op.kind = FERRY_OP_CREATE_MPU;
        print_request(j, &op);
        op.kind = FERRY_OP_UPLOAD_PART;
        op.upload_id = "UPLOAD_ID";
        for (k = 1; k <= n; k++) {
            op.part_number = (int)k;
            op.body_len = k < n ? part : f->size - part * (k - 1);
            parts[k - 1].number = (int)k;
            snprintf(parts[k - 1].etag, sizeof(parts[k - 1].etag),
                     "\"ETAG-%u\"", k);
            print_request(j, &op);
        }
        op.kind = FERRY_OP_COMPLETE_MPU;
        op.parts = parts;
        op.nparts = n;
        print_request(j, &op);
        ferry_store_op_release(&op);
        free(parts);
    }
    return FERRY_EXIT_OK;
}

static void print_results(struct job *j, const struct ferry_upload_result *r,
                          int rc)
{
    cJSON *doc, *objs;
    size_t i;
    char *text;

    if (!j->args.json) {
        for (i = 0; i < r->n; i++) {
            struct ferry_buf url;

            if (r->files[i].state != FERRY_FILE_DONE)
                continue;
            ferry_buf_init(&url);
            ferry_objurl_format(&url, j->dest.store, j->dest.bucket,
                                j->scan.files[i].key);
            printf("%s\n", url.data);
            ferry_buf_release(&url);
        }
        return;
    }
    doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "job", j->id);
    cJSON_AddStringToObject(doc, "job_log", j->log_path.data);
    cJSON_AddStringToObject(doc, "state",
                            rc == 0             ? "done"
                            : rc == FERRY_EINTR ? "interrupted"
                                                : "failed");
    objs = cJSON_AddArrayToObject(doc, "objects");
    for (i = 0; i < r->n; i++) {
        const struct ferry_upload_outcome *o = &r->files[i];
        cJSON *x = cJSON_CreateObject();
        struct ferry_buf url;

        ferry_buf_init(&url);
        ferry_objurl_format(&url, j->dest.store, j->dest.bucket,
                            j->scan.files[i].key);
        cJSON_AddStringToObject(x, "path", j->scan.files[i].path);
        cJSON_AddStringToObject(x, "key", j->scan.files[i].key);
        cJSON_AddStringToObject(x, "url", url.data);
        cJSON_AddNumberToObject(x, "size", (double)j->scan.files[i].size);
        cJSON_AddStringToObject(x, "state",
                                o->state == FERRY_FILE_DONE     ? "uploaded"
                                : o->state == FERRY_FILE_FAILED ? "failed"
                                                                : "pending");
        if (o->state == FERRY_FILE_DONE && o->sha256[0])
            cJSON_AddStringToObject(x, "sha256", o->sha256);
        else if (o->state == FERRY_FILE_DONE)
            cJSON_AddNullToObject(x, "sha256");
        if (o->state == FERRY_FILE_FAILED)
            cJSON_AddStringToObject(x, "error", o->err.msg);
        cJSON_AddItemToArray(objs, x);
        ferry_buf_release(&url);
    }
    text = cJSON_Print(doc);
    printf("%s\n", text);
    free(text);
    cJSON_Delete(doc);
}

/* With --json, stdout always holds one document, also on early errors. */
static void print_early_error(const struct ferry_error *err)
{
    cJSON *doc = cJSON_CreateObject();
    char *text;

    cJSON_AddStringToObject(doc, "state", "failed");
    cJSON_AddStringToObject(doc, "error", err->msg);
    cJSON_AddArrayToObject(doc, "objects");
    text = cJSON_Print(doc);
    printf("%s\n", text);
    free(text);
    cJSON_Delete(doc);
}

static int run_upload(struct job *j)
{
    struct ferry_upload_options o = { 0 };
    struct ferry_upload_result r;
    struct ferry_progress prog;
    struct ferry_error err;
    size_t r_failed;
    int rc;

    o.part_size = j->args.part_size;
    o.threshold = j->args.threshold;
    o.concurrency = (int)j->args.concurrency;
    o.no_file_sha256 = j->args.no_file_sha256;
    o.log = j->log;
    o.interrupted = &interrupted;
    o.progress = ferry_progress_update;
    o.progress_ud = &prog;
    ferry_progress_init(&prog, j->args.quiet);
    catch_signals();
    ferry_info("job %s: %zu files, log \"%s\"", j->id, j->scan.n,
               j->log_path.data);
    rc = ferry_upload_run(&r, j->store, &j->scan, &o, &err);
    ferry_progress_finish(&prog);
    if (!j->args.no_results)
        print_results(j, &r, rc);
    r_failed = r.failed;
    ferry_upload_result_release(&r);
    ferry_joblog_close(j->log);
    j->log = NULL;
    if (rc == FERRY_EINTR) {
        ferry_error_log("%s; the job can be resumed: ferry resume %s", err.msg,
                        j->id);
        return FERRY_EXIT_INTERRUPTED;
    }
    if (rc) {
        if (r_failed > 1)
            ferry_error_prefix(&err, "%zu files failed, the first", r_failed);
        return ferry_cmd_fail(FERRY_EXIT_FAILED, &err);
    }
    ferry_info("job %s: %zu files uploaded", j->id, j->scan.n);
    return FERRY_EXIT_OK;
}

static void job_release(struct job *j)
{
    if (j->log)
        ferry_joblog_close(j->log);
    ferry_store_free(j->store);
    if (j->have_creds)
        ferry_creds_release(&j->creds);
    ferry_scan_release(&j->scan);
    ferry_objurl_release(&j->dest);
    free(j->config_region);
    ferry_buf_release(&j->log_path);
}

static bool in_units(const struct ferry_check *c, const char *path)
{
    size_t i, k;

    for (i = 0; i < c->nunits; i++) {
        for (k = 0; k < c->units[i].npaths; k++) {
            if (!strcmp(c->units[i].paths[k], path))
                return true;
        }
    }
    return false;
}

/* Drops the files the import would skip (a .txt in a NumPy folder). */
static void keep_importable(struct ferry_scan *scan,
                            const struct ferry_check *c)
{
    size_t i, n = 0;

    scan->total_bytes = 0;
    for (i = 0; i < scan->n; i++) {
        if (!in_units(c, scan->files[i].path)) {
            free(scan->files[i].path);
            free(scan->files[i].key);
            continue;
        }
        scan->total_bytes += scan->files[i].size;
        scan->files[n++] = scan->files[i];
    }
    scan->n = n;
}

/*
 * With --api, the import rules are checked before any byte is sent
 * (DESIGN section 5): errors stop the upload with exit status 3.
 */
static int check_rules(struct job *j, struct ferry_error *err)
{
    struct ferry_check_options o = { 0 };
    struct ferry_check c;
    size_t i;
    int rc = 0;

    if (!j->args.api)
        return 0;
    if (j->args.no_check) {
        ferry_warn("--no-check: the import rules of --api %s are NOT checked",
                   j->args.api);
        return 0;
    }
    o.api = !strcmp(j->args.api, "v2")       ? FERRY_API_V2
            : !strcmp(j->args.api, "milvus") ? FERRY_API_MILVUS
                                             : FERRY_API_V1;
    ferry_rules_defaults(&o.limits, o.api);
    ferry_check_paths(&c, (const char *const *)j->args.paths,
                      (size_t)j->args.npaths, &o, err);
    for (i = 0; i < c.nfindings; i++) {
        const struct ferry_finding *f = &c.findings[i];

        ferry_log(f->severity == FERRY_WARNING ? FERRY_LOG_WARN
                                               : FERRY_LOG_ERROR,
                  "\"%s\": %s: %s%s%s", f->path, f->rule, f->message,
                  f->fix ? "; " : "", f->fix ? f->fix : "");
    }
    if (c.nerrors)
        rc = ferry_error_set(err, FERRY_ERULES,
                             "the files break %zu import "
                             "rule%s of --api %s (see 'ferry check'); "
                             "nothing was uploaded",
                             c.nerrors, c.nerrors == 1 ? "" : "s", j->args.api);
    else
        keep_importable(&j->scan, &c);
    ferry_check_release(&c);
    return rc;
}

static int prepare(struct job *j, struct ferry_error *err)
{
    int rc = resolve(j, err);

    if (!rc && ferry_scan_paths(&j->scan, (const char *const *)j->args.paths,
                                (size_t)j->args.npaths, j->dest.key, err))
        rc = err->code = FERRY_EUSAGE;
    for (size_t i = 0; !rc && i < j->scan.nskipped; i++)
        ferry_warn("skipping \"%s\": %s", j->scan.skipped[i].path,
                   j->scan.skipped[i].why);
    if (!rc)
        rc = check_rules(j, err);
    if (!rc && j->scan.n == 0)
        rc = ferry_error_set(err, FERRY_EUSAGE,
                             "no files to upload in the given paths");
    if (!rc)
        rc = check_sizes(j, err);
    if (rc)
        return rc;
    if (j->args.dry_run && load_creds(j, err)) {
        j->creds.access_key = ferry_xstrdup("DRY-RUN");
        j->creds.secret_key = ferry_xstrdup("DRY-RUN");
        j->have_creds = true;
        return 0;
    }
    return j->have_creds ? 0 : load_creds(j, err);
}

int ferry_cmd_upload(int argc, char **argv)
{
    return ferry_cmd_upload_job(argc, argv, NULL, NULL);
}

int ferry_cmd_upload_job(int argc, char **argv, struct ferry_buf *job_log,
                         cJSON *extra_event)
{
    struct job j;
    struct ferry_error err;
    int rc;

    memset(&j, 0, sizeof(j));
    ferry_error_clear(&err);
    rc = parse_args(&j.args, argc, argv);
    if (rc)
        return rc < 0 ? FERRY_EXIT_OK : rc;
    j.args.no_results = job_log != NULL;
    ferry_cmd_set_verbosity(j.args.quiet, j.args.verbose);
    ferry_buf_init(&j.log_path);
    rc = prepare(&j, &err);
    if (!rc)
        rc = open_store(&j, &err);
    if (!rc && j.args.dry_run) {
        rc = dry_run(&j);
        job_release(&j);
        return rc;
    }
    if (!rc)
        rc = open_log(&j, &err);
    if (!rc && extra_event)
        rc = ferry_joblog_append(j.log, extra_event, true, &err);
    if (rc) {
        if (j.args.json)
            print_early_error(&err);
        rc = ferry_cmd_fail(ferry_cmd_exit_for(rc), &err);
        job_release(&j);
        return rc;
    }
    if (job_log) {
        ferry_buf_adds(job_log, j.log_path.data);
        /* Said at the start, so a lost terminal does not lose the job. */
        ferry_info("job %s: if anything fails, continue with: ferry resume "
                   "%s",
                   j.id, j.id);
    }
    rc = run_upload(&j);
    job_release(&j);
    return rc;
}
