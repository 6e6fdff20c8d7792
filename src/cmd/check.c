/* check.c - "ferry check [options] PATH...": the import rules, locally. */
#include "cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ferry/log.h"
#include "ferry/rules.h"
#include "ferry/strutil.h"

static const char usage[] =
    "usage: ferry check [options] PATH...\n\n"
    "  --api v1|v2|milvus          whose rules (default v1)\n"
    "  --schema FILE               field names, or a collection description\n"
    "  --max-file-size SIZE        one file (or NumPy file set)\n"
    "  --max-subfolder-size SIZE   one NumPy chunk folder\n"
    "  --max-folder-size SIZE      a folder given as PATH\n"
    "  --max-total-size SIZE       everything of one request\n"
    "  --max-depth N               folder levels below a PATH\n"
    "  --max-files N, --max-units N  per request\n"
    "  --json                      one JSON report on stdout\n  -q, -v\n"
    "Exit status 0 when the rules hold, 3 when any is broken.\n";

enum {
    C_API = 256,
    C_SCHEMA,
    C_FILE,
    C_SUB,
    C_FOLDER,
    C_TOTAL,
    C_DEPTH,
    C_FILES,
    C_UNITS,
    C_JSON,
    C_HELP,
};

static const struct option long_opts[] = {
    { "api", required_argument, NULL, C_API },
    { "schema", required_argument, NULL, C_SCHEMA },
    { "max-file-size", required_argument, NULL, C_FILE },
    { "max-subfolder-size", required_argument, NULL, C_SUB },
    { "max-folder-size", required_argument, NULL, C_FOLDER },
    { "max-total-size", required_argument, NULL, C_TOTAL },
    { "max-depth", required_argument, NULL, C_DEPTH },
    { "max-files", required_argument, NULL, C_FILES },
    { "max-units", required_argument, NULL, C_UNITS },
    { "json", no_argument, NULL, C_JSON },
    { "quiet", no_argument, NULL, 'q' },
    { "verbose", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, C_HELP },
    { NULL, 0, NULL, 0 },
};

struct check_args {
    struct ferry_check_options opts;
    bool set[C_HELP]; /* which limits were given */
    uint64_t given[C_HELP];
    const char *schema;
    int json, quiet, verbose;
};

static int limit_opt(struct check_args *a, int c, const char *v)
{
    int bad = c == C_DEPTH || c == C_FILES || c == C_UNITS
                  ? ferry_parse_uint(&a->given[c], v, 0, UINT32_MAX)
                  : ferry_parse_size(&a->given[c], v);

    if (bad)
        return ferry_cmd_usage_error(
            "check", "\"%s\" is not a %s", v,
            c == C_DEPTH || c == C_FILES || c == C_UNITS ? "number"
                                                         : "size like 10GB");
    a->set[c] = true;
    return 0;
}

static int parse_one(struct check_args *a, int c, const char *v)
{
    switch (c) {
    case C_API:
        if (!strcmp(v, "v1"))
            a->opts.api = FERRY_API_V1;
        else if (!strcmp(v, "v2"))
            a->opts.api = FERRY_API_V2;
        else if (!strcmp(v, "milvus"))
            a->opts.api = FERRY_API_MILVUS;
        else
            return ferry_cmd_usage_error("check",
                                         "--api must be v1, v2 or milvus");
        return 0;
    case C_SCHEMA: a->schema = v; return 0;
    case C_JSON: a->json = 1; return 0;
    case 'q': a->quiet = 1; return 0;
    case 'v': a->verbose = 1; return 0;
    default: return limit_opt(a, c, v);
    }
}

/* The API's limits, then the ones given. */
static void apply_limits(struct check_args *a)
{
    struct ferry_rules_limits *l = &a->opts.limits;

    ferry_rules_defaults(l, a->opts.api);
    if (a->set[C_FILE])
        l->max_file_size = a->given[C_FILE];
    if (a->set[C_SUB])
        l->max_subfolder_size = a->given[C_SUB];
    if (a->set[C_FOLDER])
        l->max_folder_size = a->given[C_FOLDER];
    if (a->set[C_TOTAL])
        l->max_total_size = a->given[C_TOTAL];
    if (a->set[C_DEPTH])
        l->max_depth = a->given[C_DEPTH];
    if (a->set[C_FILES])
        l->max_files = a->given[C_FILES];
    if (a->set[C_UNITS])
        l->max_units = a->given[C_UNITS];
}

static const char *const api_names[] = { "v1", "v2", "milvus" };

static void print_text(const struct ferry_check *c, const char *api)
{
    size_t i;

    for (i = 0; i < c->nfindings; i++) {
        const struct ferry_finding *f = &c->findings[i];

        printf("%s: \"%s\": %s: %s",
               f->severity == FERRY_WARNING ? "warning" : "error", f->path,
               f->rule, f->message);
        if (f->measured)
            printf(" (%s; limit %s)", f->measured, f->limit);
        if (f->fix)
            printf("; %s", f->fix);
        printf("\n");
    }
    printf("%s rules: %zu unit%s, %zu file%s; %zu error%s, %zu warning%s\n",
           api, c->nunits, c->nunits == 1 ? "" : "s", c->files,
           c->files == 1 ? "" : "s", c->nerrors, c->nerrors == 1 ? "" : "s",
           c->nwarnings, c->nwarnings == 1 ? "" : "s");
}

static cJSON *unit_json(const struct ferry_unit *u)
{
    cJSON *x = cJSON_CreateObject(), *paths, *fields;
    size_t k;

    cJSON_AddStringToObject(x, "kind", ferry_kind_name(u->kind));
    if (u->folder)
        cJSON_AddStringToObject(x, "folder", u->folder);
    paths = cJSON_AddArrayToObject(x, "paths");
    for (k = 0; k < u->npaths; k++)
        cJSON_AddItemToArray(paths, cJSON_CreateString(u->paths[k]));
    cJSON_AddNumberToObject(x, "bytes", (double)u->bytes);
    if (u->rows >= 0)
        cJSON_AddNumberToObject(x, "rows", (double)u->rows);
    fields = cJSON_AddArrayToObject(x, "fields");
    for (k = 0; u->fields && u->fields[k]; k++)
        cJSON_AddItemToArray(fields, cJSON_CreateString(u->fields[k]));
    return x;
}

static void print_json(const struct ferry_check *c, const char *api)
{
    cJSON *doc = cJSON_CreateObject(), *arr;
    size_t i;
    char *text;

    cJSON_AddStringToObject(doc, "api", api);
    cJSON_AddBoolToObject(doc, "ok", c->nerrors == 0);
    cJSON_AddNumberToObject(doc, "errors", (double)c->nerrors);
    cJSON_AddNumberToObject(doc, "warnings", (double)c->nwarnings);
    cJSON_AddNumberToObject(doc, "files", (double)c->files);
    cJSON_AddNumberToObject(doc, "bytes", (double)c->bytes);
    arr = cJSON_AddArrayToObject(doc, "findings");
    for (i = 0; i < c->nfindings; i++) {
        const struct ferry_finding *f = &c->findings[i];
        cJSON *x = cJSON_CreateObject();

        cJSON_AddStringToObject(
            x, "severity", f->severity == FERRY_WARNING ? "warning" : "error");
        cJSON_AddStringToObject(x, "path", f->path);
        cJSON_AddStringToObject(x, "rule", f->rule);
        cJSON_AddStringToObject(x, "message", f->message);
        if (f->measured)
            cJSON_AddStringToObject(x, "measured", f->measured);
        if (f->limit)
            cJSON_AddStringToObject(x, "limit", f->limit);
        if (f->fix)
            cJSON_AddStringToObject(x, "fix", f->fix);
        cJSON_AddItemToArray(arr, x);
    }
    arr = cJSON_AddArrayToObject(doc, "units");
    for (i = 0; i < c->nunits; i++)
        cJSON_AddItemToArray(arr, unit_json(&c->units[i]));
    text = cJSON_Print(doc);
    printf("%s\n", text);
    free(text);
    cJSON_Delete(doc);
}

int ferry_cmd_check(int argc, char **argv)
{
    struct check_args a;
    struct ferry_check c;
    struct ferry_error err;
    char **schema = NULL;
    int ch, rc;

    memset(&a, 0, sizeof(a));
    ferry_error_clear(&err);
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "hqv", long_opts, NULL)) != -1) {
        if (ch == C_HELP || ch == 'h') {
            fputs(usage, stdout);
            return FERRY_EXIT_OK;
        }
        if (ch == '?')
            return ferry_cmd_usage_error("check", "unknown option \"%s\"",
                                         argv[optind - 1]);
        if ((rc = parse_one(&a, ch, optarg)) != 0)
            return rc;
    }
    if (optind >= argc)
        return ferry_cmd_usage_error("check", "no PATH to check");
    ferry_cmd_set_verbosity(a.quiet, a.verbose);
    apply_limits(&a);
    if (a.schema &&
        ferry_rules_read_schema(&schema, &a.opts.dynamic_field, a.schema, &err))
        return ferry_cmd_fail(FERRY_EXIT_USAGE, &err);
    a.opts.schema = (const char *const *)schema;
    ferry_check_paths(&c, (const char *const *)argv + optind,
                      (size_t)(argc - optind), &a.opts, &err);
    if (a.json)
        print_json(&c, api_names[a.opts.api]);
    else if (!a.quiet || c.nerrors)
        print_text(&c, api_names[a.opts.api]);
    rc = c.nerrors ? FERRY_EXIT_RULES : FERRY_EXIT_OK;
    ferry_check_release(&c);
    ferry_sniff_free_fields(schema);
    return rc;
}
