/* pipeline.c - "ferry upload-and-import": both stages, one job log. */
#include "cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ferry/buf.h"
#include "ferry/log.h"

/*
 * Options of the import stage.  The value says whether one follows;
 * shared ones go to both stages.
 */
static const struct {
    const char *name;
    bool value;
    bool shared;
} import_opts[] = {
    { "--api", true, true },
    { "--collection", true, false },
    { "--partition", true, false },
    { "--db", true, false },
    { "--cluster-endpoint", true, false },
    { "--cluster-id", true, false },
    { "--cloud-region", true, false },
    { "--import-endpoint", true, false },
    { "--url-style", true, false },
    { "--api-key-file", true, false },
    { "--no-wait", false, false },
    { "--poll-interval", true, false },
    { "--timeout", true, false },
    { "--allow-foreign-objects", false, false },
    { "--json", false, false },
    { "--ca-file", true, true },
    { "--region", true, true },
    { "--dry-run", false, true },
    { "-q", false, true },
    { "--quiet", false, true },
    { "-v", false, true },
    { "--verbose", false, true },
};

struct argv_buf {
    char **v;
    int n;
};

static void push(struct argv_buf *a, char *s)
{
    a->v = ferry_xrealloc(a->v, (size_t)(a->n + 2) * sizeof(*a->v));
    a->v[a->n++] = s;
    a->v[a->n] = NULL;
}

static int find_opt(const char *arg)
{
    size_t i, n = strcspn(arg, "=");

    for (i = 0; i < sizeof(import_opts) / sizeof(import_opts[0]); i++) {
        if (strlen(import_opts[i].name) == n &&
            !strncmp(arg, import_opts[i].name, n))
            return (int)i;
    }
    return -1;
}

/* Splits argv into the upload's and the import's arguments. */
static void split(struct argv_buf *up, struct argv_buf *im, int argc,
                  char **argv)
{
    int i;

    push(up, "upload");
    push(im, "import");
    for (i = 1; i < argc; i++) {
        int k = find_opt(argv[i]);
        bool takes = k >= 0 && import_opts[k].value && !strchr(argv[i], '=');

        if (k < 0) {
            push(up, argv[i]);
            continue;
        }
        push(im, argv[i]);
        if (import_opts[k].shared)
            push(up, argv[i]);
        if (takes && i + 1 < argc) {
            i++;
            push(im, argv[i]);
            if (import_opts[k].shared)
                push(up, argv[i]);
        }
    }
}

static const char usage[] =
    "usage: ferry upload-and-import [upload and import options] PATH...\n"
    "           --to DEST --collection NAME (--cluster-endpoint URL | ...)\n"
    "\n"
    "Checks the import rules of --api (default v1), uploads PATH... as\n"
    "'ferry upload' does, then imports the uploaded objects as 'ferry\n"
    "import --job' does, all in one job log.  See ferry(1).\n";

int ferry_cmd_upload_and_import(int argc, char **argv)
{
    struct argv_buf up = { 0 }, im = { 0 };
    struct ferry_buf log;
    bool has_api = false;
    int i, rc;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return FERRY_EXIT_OK;
        }
        has_api |= !strncmp(argv[i], "--api", 5) && argv[i][5] != '-';
    }
    split(&up, &im, argc, argv);
    if (!has_api) {
        /* the import rules are checked for the default API, v1 */
        push(&up, "--api");
        push(&up, "v1");
    }
    ferry_buf_init(&log);
    push(&im, "--job");
    push(&im, "PLACEHOLDER");
    /* Bad import options fail before any byte is uploaded. */
    rc = ferry_cmd_import_validate(im.n, im.v);
    if (!rc) {
        /* what resume needs to run the import after a crash mid-upload */
        cJSON *ev = cJSON_CreateObject();

        cJSON_AddStringToObject(ev, "event", "import_args");
        cJSON_AddItemToObject(ev, "argv", ferry_cmd_argv_json(im.n - 2, im.v));
        rc = ferry_cmd_upload_job(up.n, up.v, &log, ev);
        cJSON_Delete(ev);
    }
    if (!rc && log.len) {
        im.v[im.n - 1] = log.data;
        rc = ferry_cmd_import(im.n, im.v);
    }
    ferry_buf_release(&log);
    free(up.v);
    free(im.v);
    return rc;
}
