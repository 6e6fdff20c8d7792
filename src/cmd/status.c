/* status.c - "ferry status [--json] [JOB]": what a job log says. */
#include "cmd.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ferry/joblog.h"
#include "ferry/log.h"
#include "ferry/strutil.h"

static const char usage[] =
    "usage: ferry status [--json] [JOB]\n\n"
    "Without JOB, lists the jobs in the state directory.  JOB is a job id\n"
    "or the path of a job log.\n";

struct summary {
    const char *job;
    const char *dest;
    const char *state;
    int files, objects, failed, parts;
    double bytes_planned, bytes_done;
    const char *last_error;
    const char *when;  /* the job's start */
    const char *stage; /* the last stage reported */
    cJSON *imports;    /* job id -> last known state; owned */
    cJSON *per_file;   /* key -> {state, parts_done, parts}; owned */
};

static const char *str(cJSON *o, const char *k)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num(cJSON *o, const char *k)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* Records an import job's submission or a state observed for it. */
static void note_import(struct summary *s, cJSON *ev, bool submitted)
{
    const char *id = str(ev, "job_id");
    cJSON *x;

    if (!id)
        return;
    x = cJSON_GetObjectItemCaseSensitive(s->imports, id);
    if (!x) {
        x = cJSON_AddObjectToObject(s->imports, id);
        cJSON_AddStringToObject(x, "job_id", id);
        cJSON_AddStringToObject(x, "state", "submitted");
        cJSON_AddNumberToObject(x, "percent", 0);
    }
    if (submitted)
        return;
    cJSON_ReplaceItemInObject(
        x, "state",
        cJSON_CreateString(str(ev, "state") ? str(ev, "state") : "unknown"));
    cJSON_ReplaceItemInObject(x, "percent",
                              cJSON_CreateNumber(num(ev, "percent")));
    if (str(ev, "reason"))
        cJSON_AddStringToObject(x, "reason", str(ev, "reason"));
}

/* Files are counted once, also when a resume logs them again. */
static void note_file(struct summary *s, cJSON *ev)
{
    const char *key = str(ev, "key");
    cJSON *x;

    if (!key || cJSON_GetObjectItemCaseSensitive(s->per_file, key))
        return;
    s->files++;
    s->bytes_planned += num(ev, "size");
    x = cJSON_AddObjectToObject(s->per_file, key);
    cJSON_AddStringToObject(x, "state", "left");
    cJSON_AddNumberToObject(x, "parts_done", 0);
    cJSON_AddNumberToObject(x, "parts", num(ev, "parts"));
    cJSON_AddBoolToObject(x, "multipart",
                          cJSON_IsTrue(cJSON_GetObjectItem(ev, "multipart")));
}

static cJSON *file_entry(struct summary *s, cJSON *ev)
{
    const char *key = str(ev, "key");

    return key ? cJSON_GetObjectItemCaseSensitive(s->per_file, key) : NULL;
}

static void bump(struct summary *s, cJSON *ev, const char *field)
{
    cJSON *x = file_entry(s, ev);

    if (x)
        cJSON_ReplaceItemInObject(x, field,
                                  cJSON_CreateNumber(num(x, field) + 1));
}

static void set_state(struct summary *s, cJSON *ev, const char *state)
{
    cJSON *x = file_entry(s, ev);

    if (x && strcmp(str(x, "state"), "uploaded"))
        cJSON_ReplaceItemInObject(x, "state", cJSON_CreateString(state));
}

static void summarise(struct summary *s, cJSON *events)
{
    cJSON *ev;

    memset(s, 0, sizeof(*s));
    s->state = "planned";
    s->imports = cJSON_CreateObject();
    s->per_file = cJSON_CreateObject();
    cJSON_ArrayForEach (ev, events) {
        const char *type = str(ev, "event");

        if (!type) {
            s->job = str(ev, "job");
            s->when = str(ev, "time");
            continue;
        }
        if (!strcmp(type, "settings"))
            s->dest = str(ev, "dest");
        else if (!strcmp(type, "import_submitted"))
            note_import(s, ev, true);
        else if (!strcmp(type, "import_state"))
            note_import(s, ev, false);
        else if (!strcmp(type, "file"))
            note_file(s, ev);
        else if (!strcmp(type, "part")) {
            s->parts++;
            bump(s, ev, "parts_done");
        } else if (!strcmp(type, "object")) {
            s->objects++;
            s->bytes_done += num(ev, "size");
            set_state(s, ev, "uploaded");
        } else if (!strcmp(type, "mpu_aborted")) {
            set_state(s, ev, "aborted");
        } else if (!strcmp(type, "failed")) {
            s->failed++;
            s->last_error = str(ev, "reason");
        } else if (!strcmp(type, "stage") && str(ev, "state")) {
            s->stage = str(ev, "stage");
            s->state = str(ev, "state");
            if (!strcmp(s->state, "started"))
                s->state = "running or crashed";
        }
    }
}

static cJSON *summary_json(const struct summary *s, const char *path)
{
    cJSON *doc = cJSON_CreateObject(), *imports, *x;

    cJSON_AddStringToObject(doc, "job", s->job ? s->job : "");
    cJSON_AddStringToObject(doc, "job_log", path);
    cJSON_AddStringToObject(doc, "state", s->state);
    cJSON_AddStringToObject(doc, "dest", s->dest ? s->dest : "");
    cJSON_AddNumberToObject(doc, "files", s->files);
    cJSON_AddNumberToObject(doc, "objects_uploaded", s->objects);
    cJSON_AddNumberToObject(doc, "parts_uploaded", s->parts);
    cJSON_AddNumberToObject(doc, "failures", s->failed);
    cJSON_AddNumberToObject(doc, "bytes_planned", s->bytes_planned);
    cJSON_AddNumberToObject(doc, "bytes_uploaded", s->bytes_done);
    if (s->last_error)
        cJSON_AddStringToObject(doc, "last_error", s->last_error);
    if (s->when)
        cJSON_AddStringToObject(doc, "time", s->when);
    if (s->stage)
        cJSON_AddStringToObject(doc, "stage", s->stage);
    cJSON_AddItemToObject(doc, "per_file", cJSON_Duplicate(s->per_file, true));
    imports = cJSON_AddArrayToObject(doc, "imports");
    cJSON_ArrayForEach (x, s->imports)
        cJSON_AddItemToArray(imports, cJSON_Duplicate(x, true));
    return doc;
}

static void print_summary(const struct summary *s, const char *path)
{
    char done[32], planned[32];
    cJSON *x;

    ferry_format_size(done, sizeof(done), (uint64_t)s->bytes_done);
    ferry_format_size(planned, sizeof(planned), (uint64_t)s->bytes_planned);
    printf("job %s: %s\n  to %s\n  %d of %d files uploaded (%s of "
           "%s), %d parts, %d failures\n  log %s\n",
           s->job ? s->job : "?", s->state, s->dest ? s->dest : "?", s->objects,
           s->files, done, planned, s->parts, s->failed, path);
    cJSON_ArrayForEach (x, s->imports)
        printf("  import job %s: %s, %.0f%%%s%s\n", str(x, "job_id"),
               str(x, "state"), num(x, "percent"), str(x, "reason") ? ": " : "",
               str(x, "reason") ? str(x, "reason") : "");
    cJSON_ArrayForEach (x, s->per_file) {
        if (cJSON_IsTrue(cJSON_GetObjectItem(x, "multipart")) &&
            strcmp(str(x, "state"), "uploaded"))
            printf("  %-8s %s (%.0f of %.0f parts)\n", str(x, "state"),
                   x->string, num(x, "parts_done"), num(x, "parts"));
        else
            printf("  %-8s %s\n", str(x, "state"), x->string);
    }
    if (s->last_error)
        printf("  last error: %s\n", s->last_error);
}

/* The list of jobs: one line each. */
static void print_line(const struct summary *s)
{
    printf("%-24s %-20s %-7s %-20s %s\n", s->job ? s->job : "?",
           s->when ? s->when : "?", s->stage ? s->stage : "-", s->state,
           s->dest ? s->dest : "");
}

static void print_json(cJSON *doc)
{
    char *text = cJSON_Print(doc);

    printf("%s\n", text);
    free(text);
}

/*
 * Reads one job log and prints it, or with `into` adds its JSON to that
 * array instead.
 */
static int show_job(const char *job, int json, cJSON *into, bool oneline)
{
    struct ferry_buf path;
    struct ferry_error err;
    struct summary s;
    cJSON *events = NULL;
    int rc;

    ferry_buf_init(&path);
    ferry_error_clear(&err);
    rc = ferry_cmd_job_path(&path, job, &err);
    if (!rc)
        rc = ferry_joblog_read(&events, path.data, &err);
    if (rc) {
        ferry_buf_release(&path);
        return ferry_cmd_fail(FERRY_EXIT_FAILED, &err);
    }
    summarise(&s, events);
    if (into) {
        cJSON_AddItemToArray(into, summary_json(&s, path.data));
    } else if (json) {
        cJSON *doc = summary_json(&s, path.data);

        print_json(doc);
        cJSON_Delete(doc);
    } else if (oneline) {
        print_line(&s);
    } else {
        print_summary(&s, path.data);
    }
    cJSON_Delete(s.imports);
    cJSON_Delete(s.per_file);
    cJSON_Delete(events);
    ferry_buf_release(&path);
    return FERRY_EXIT_OK;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Job log names in the state directory, sorted (ids sort by time). */
static size_t job_names(char ***out, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    *out = NULL;
    while (d && (e = readdir(d)) != NULL) {
        if (!ferry_str_ends(e->d_name, ".jsonl"))
            continue;
        *out = ferry_xrealloc(*out, (n + 1) * sizeof(**out));
        (*out)[n++] = ferry_xstrdup(e->d_name);
    }
    if (d)
        closedir(d);
    if (n)
        qsort(*out, n, sizeof(**out), cmp_name);
    return n;
}

static int list_jobs(int json)
{
    cJSON *all = json ? cJSON_CreateArray() : NULL;
    struct ferry_buf dir;
    char **names;
    size_t n, i;
    int rc = FERRY_EXIT_OK;

    ferry_buf_init(&dir);
    ferry_joblog_default_dir(&dir);
    n = job_names(&names, dir.data);
    if (!n && !json)
        printf("no jobs in %s\n", dir.data);
    for (i = 0; i < n; i++) {
        struct ferry_buf p;

        ferry_buf_init(&p);
        ferry_buf_addf(&p, "%s/%s", dir.data, names[i]);
        if (show_job(p.data, json, all, true))
            rc = FERRY_EXIT_FAILED;
        ferry_buf_release(&p);
        free(names[i]);
    }
    free(names);
    if (all) {
        print_json(all);
        cJSON_Delete(all);
    }
    ferry_buf_release(&dir);
    return rc;
}

int ferry_cmd_status(int argc, char **argv)
{
    int json = 0, i;
    const char *job = NULL;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return FERRY_EXIT_OK;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (argv[i][0] == '-') {
            return ferry_cmd_usage_error("status", "unknown option \"%s\"",
                                         argv[i]);
        } else if (job) {
            return ferry_cmd_usage_error("status", "only one JOB");
        } else {
            job = argv[i];
        }
    }
    return job ? show_job(job, json, NULL, false) : list_jobs(json);
}
