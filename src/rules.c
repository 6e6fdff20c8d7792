/* rules.c - import units and the rules of DESIGN 5; see ferry/rules.h. */
#include "ferry/rules.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ferry/buf.h"
#include "ferry/strutil.h"

#define GB ((uint64_t)1000 * 1000 * 1000)

void ferry_rules_defaults(struct ferry_rules_limits *out,
                          enum ferry_import_api api)
{
    memset(out, 0, sizeof(*out));
    switch (api) {
    case FERRY_API_V1:
        out->max_file_size = 10 * GB;
        out->max_subfolder_size = 10 * GB;
        out->max_folder_size = 100 * GB;
        out->max_depth = 2;
        break;
    case FERRY_API_V2:
        out->max_file_size = 10 * GB;
        out->max_total_size = 1000 * GB;
        out->max_files = 1000;
        out->max_depth = 2;
        break;
    case FERRY_API_MILVUS:
        out->max_file_size = 16 * GB;
        out->max_units = 1024;
        break;
    }
}

/* --- findings -------------------------------------------------------- */

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

static char *fmt(const char *f, ...)
{
    struct ferry_buf b;
    char tmp[512];
    va_list ap;

    va_start(ap, f);
    vsnprintf(tmp, sizeof(tmp), f, ap);
    va_end(ap);
    ferry_buf_init(&b);
    ferry_buf_adds(&b, tmp);
    return ferry_buf_detach(&b);
}

static char *size_text(uint64_t n)
{
    char b[32];

    ferry_format_size(b, sizeof(b), n);
    return fmt("%s (%llu bytes)", b, (unsigned long long)n);
}

static void add(struct ferry_check *c, enum ferry_severity sev,
                const char *path, const char *rule, char *measured, char *limit,
                const char *fix, char *message)
{
    struct ferry_finding *f;

    c->findings =
        ferry_xrealloc(c->findings, (c->nfindings + 1) * sizeof(*c->findings));
    f = &c->findings[c->nfindings++];
    f->severity = sev;
    f->path = ferry_xstrdup(path);
    f->rule = rule;
    f->measured = measured;
    f->limit = limit;
    f->fix = fix;
    f->message = message;
    if (sev == FERRY_ERROR_FINDING)
        c->nerrors++;
    else
        c->nwarnings++;
}

static void error(struct ferry_check *c, const char *path, const char *rule,
                  const char *fix, char *message)
{
    add(c, FERRY_ERROR_FINDING, path, rule, NULL, NULL, fix, message);
}

static void over(struct ferry_check *c, const char *path, const char *rule,
                 uint64_t measured, uint64_t limit, bool bytes, const char *fix,
                 const char *what)
{
    if (!limit || measured <= limit)
        return;
    add(c, FERRY_ERROR_FINDING, path, rule,
        bytes ? size_text(measured) : fmt("%llu", (unsigned long long)measured),
        bytes ? size_text(limit) : fmt("%llu", (unsigned long long)limit), fix,
        fmt("%s is over the limit", what));
}

/* --- units ----------------------------------------------------------- */

static struct ferry_unit *new_unit(struct ferry_check *c,
                                   enum ferry_file_kind kind,
                                   const char *folder)
{
    struct ferry_unit *u;

    c->units = ferry_xrealloc(c->units, (c->nunits + 1) * sizeof(*c->units));
    u = &c->units[c->nunits++];
    memset(u, 0, sizeof(*u));
    u->kind = kind;
    u->folder = folder ? ferry_xstrdup(folder) : NULL;
    u->rows = -1;
    return u;
}

static void unit_add(struct ferry_check *c, struct ferry_unit *u,
                     const struct ferry_scan_file *f)
{
    u->paths = ferry_xrealloc(u->paths, (u->npaths + 1) * sizeof(*u->paths));
    u->paths[u->npaths++] = ferry_xstrdup(f->path);
    u->bytes += f->size;
    c->bytes += f->size;
    c->files++;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');

    return s ? s + 1 : p;
}

/* Field names of a NumPy unit: its file names without ".npy". */
static char **npy_fields(const struct ferry_unit *u)
{
    char **f = ferry_xcalloc(u->npaths + 1, sizeof(*f));
    size_t i;

    for (i = 0; i < u->npaths; i++) {
        const char *b = base_name(u->paths[i]);

        f[i] = ferry_xstrndup(b, strlen(b) - 4);
    }
    return f;
}

static void check_npy_file(struct ferry_check *c, struct ferry_unit *u,
                           const char *path, int64_t *rows)
{
    struct ferry_npy_info info;
    struct ferry_error err;

    ferry_error_clear(&err);
    if (ferry_npy_read(&info, path, &err) && !info.file_size) {
        error(c, path, "npy-header", "write the file again with numpy.save",
              fmt("%s", err.msg));
        return;
    }
    if (err.code)
        error(c, path, "npy-size",
              "the file is truncated or has extra bytes; write it again",
              fmt("%s", err.msg));
    if (info.big_endian)
        error(c, path, "npy-byte-order",
              "save it little-endian, e.g. "
              "arr.astype(arr.dtype.newbyteorder('<'))",
              fmt("dtype \"%s\" is big-endian", info.descr));
    if (info.fortran_order)
        error(c, path, "npy-fortran-order",
              "save it in C order: numpy.save(f, numpy.ascontiguousarray(arr))",
              fmt("the array is in Fortran order"));
    if (*rows < 0)
        *rows = (int64_t)info.rows;
    else if ((int64_t)info.rows != *rows)
        add(c, FERRY_ERROR_FINDING, path, "npy-row-count",
            fmt("%llu rows", (unsigned long long)info.rows),
            fmt("%lld rows, as the unit's other files", (long long)*rows),
            "every .npy file of one unit must hold the same number of rows",
            fmt("the row count differs from the rest of its unit"));
}

static void check_content(struct ferry_check *c, struct ferry_unit *u)
{
    struct ferry_error err;
    size_t i;
    int rc = 0;

    ferry_error_clear(&err);
    if (u->kind == FERRY_KIND_NPY) {
        for (i = 0; i < u->npaths; i++)
            check_npy_file(c, u, u->paths[i], &u->rows);
        u->fields = npy_fields(u);
        return;
    }
    if (u->kind == FERRY_KIND_JSON)
        rc = ferry_sniff_json(&u->fields, u->paths[0], &err);
    else if (u->kind == FERRY_KIND_JSONL)
        rc = ferry_sniff_jsonl(&u->fields, u->paths[0], &err);
    else if (u->kind == FERRY_KIND_PARQUET)
        rc = ferry_sniff_parquet(u->paths[0], &err);
    if (rc)
        error(c, u->paths[0],
              u->kind == FERRY_KIND_PARQUET ? "parquet-magic" : "json-start",
              u->kind == FERRY_KIND_PARQUET
                  ? "the file is not Parquet or is truncated"
                  : "write the rows as {\"rows\": [...]} or as a JSON list",
              fmt("%s", err.msg));
}

/* --- folders --------------------------------------------------------- */

struct folder_stats {
    size_t kinds[FERRY_KIND_OTHER + 1];
    uint64_t max_depth;
    uint64_t bytes;
};

static const char *rel_of(const struct ferry_scan_file *f)
{
    const char *slash = strchr(f->key, '/');

    return slash ? slash + 1 : f->key;
}

static uint64_t depth_of(const char *rel)
{
    uint64_t d = 0;

    for (; *rel; rel++)
        d += *rel == '/';
    return d;
}

static void folder_stats(struct folder_stats *st, const struct ferry_scan *s)
{
    size_t i;

    memset(st, 0, sizeof(*st));
    for (i = 0; i < s->n; i++) {
        uint64_t d = depth_of(rel_of(&s->files[i]));

        st->kinds[ferry_kind_of(s->files[i].path)]++;
        if (d > st->max_depth)
            st->max_depth = d;
        st->bytes += s->files[i].size;
    }
}

static bool mixed(const struct folder_stats *st)
{
    int kinds = 0, k;

    for (k = 0; k < FERRY_KIND_OTHER; k++)
        kinds += st->kinds[k] > 0;
    return kinds > 1;
}

/* The directory part of a file's path, as a unit's folder name. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');

    return ferry_xstrndup(path, slash ? (size_t)(slash - path) : 0);
}

static void numpy_units(struct ferry_check *c, const struct ferry_scan *s,
                        const struct ferry_check_options *o)
{
    struct ferry_unit *u = NULL;
    size_t i, first = c->nunits;

    /* Files are sorted by key, so each folder's files are together. */
    for (i = 0; i < s->n; i++) {
        const struct ferry_scan_file *f = &s->files[i];
        char *dir;

        if (ferry_kind_of(f->path) != FERRY_KIND_NPY)
            continue;
        dir = dir_of(f->path);
        if (!u || strcmp(u->folder, dir))
            u = new_unit(c, FERRY_KIND_NPY, dir);
        free(dir);
        unit_add(c, u, f);
        if (o->api != FERRY_API_MILVUS)
            over(c, f->path, "file-size", f->size, o->limits.max_file_size,
                 true, "split the data into more chunks", "the file");
    }
    for (i = first; i < c->nunits; i++) {
        struct ferry_unit *x = &c->units[i];

        over(c, x->folder, "subfolder-size", x->bytes,
             o->limits.max_subfolder_size, true,
             "split the chunk folder into smaller ones",
             "the NumPy chunk folder");
        over(c, x->folder, "file-size", x->bytes,
             o->api == FERRY_API_MILVUS ? o->limits.max_file_size : 0, true,
             "split the chunk into smaller ones", "the NumPy file set");
        check_content(c, x);
    }
}

/* A JSON, JSON Lines or Parquet file: a unit of its own, checked. */
static void file_unit(struct ferry_check *c, enum ferry_file_kind k,
                      const struct ferry_scan_file *f,
                      const struct ferry_check_options *o)
{
    struct ferry_unit *u = new_unit(c, k, NULL);

    unit_add(c, u, f);
    over(c, f->path, "file-size", f->size, o->limits.max_file_size, true,
         "split the file into smaller ones", "the file");
    check_content(c, u);
}

static void file_units(struct ferry_check *c, const struct ferry_scan *s,
                       const struct ferry_check_options *o)
{
    size_t i;

    for (i = 0; i < s->n; i++) {
        const struct ferry_scan_file *f = &s->files[i];
        enum ferry_file_kind k = ferry_kind_of(f->path);

        if (k == FERRY_KIND_NPY || k == FERRY_KIND_OTHER)
            continue;
        file_unit(c, k, f, o);
    }
}

static void skipped_files(struct ferry_check *c, const struct ferry_scan *s)
{
    size_t i;

    for (i = 0; i < s->n; i++) {
        const char *p = s->files[i].path;

        if (ferry_kind_of(p) == FERRY_KIND_OTHER)
            add(c, FERRY_WARNING, p, "not-importable", NULL, NULL,
                "it is skipped and not uploaded",
                fmt("not a JSON, JSON Lines, Parquet or NumPy file"));
    }
    for (i = 0; i < s->nskipped; i++)
        add(c, FERRY_WARNING, s->skipped[i].path, "skipped", NULL, NULL,
            "it is not uploaded", fmt("%s", s->skipped[i].why));
}

static void folder_rules(struct ferry_check *c, const char *path,
                         const struct folder_stats *st,
                         const struct ferry_check_options *o)
{
    if (o->api != FERRY_API_MILVUS && mixed(st))
        error(c, path, "mixed-types",
              "put each type of file in a folder of its own",
              fmt("the folder mixes file types (%zu JSON, %zu JSON Lines, "
                  "%zu Parquet, %zu NumPy)",
                  st->kinds[FERRY_KIND_JSON], st->kinds[FERRY_KIND_JSONL],
                  st->kinds[FERRY_KIND_PARQUET], st->kinds[FERRY_KIND_NPY]));
    if (o->api == FERRY_API_V1 && st->kinds[FERRY_KIND_JSON] > 1)
        add(c, FERRY_ERROR_FINDING, path, "v1-one-json-file",
            fmt("%zu JSON files", st->kinds[FERRY_KIND_JSON]),
            fmt("1 JSON file per import"),
            "give each JSON file as its own PATH, or use --api v2",
            fmt("the v1 API imports one JSON file per request"));
    over(c, path, "depth", st->max_depth, o->limits.max_depth, false,
         "move the data files at most two folder levels below it",
         "the folder's nesting");
    over(c, path, "folder-size", st->bytes, o->limits.max_folder_size, true,
         "split the folder into several imports", "the folder");
}

static void check_folder(struct ferry_check *c, const char *path,
                         const struct ferry_scan *s,
                         const struct ferry_check_options *o)
{
    struct folder_stats st;

    skipped_files(c, s);
    folder_stats(&st, s);
    if (s->n == st.kinds[FERRY_KIND_OTHER]) {
        error(c, path, "empty-folder", "give a folder that holds data files",
              fmt("the folder holds no file to import"));
        return;
    }
    folder_rules(c, path, &st, o);
    numpy_units(c, s, o);
    file_units(c, s, o);
}

/* --- schema ---------------------------------------------------------- */

static bool has(char *const *list, const char *name)
{
    for (; list && *list; list++) {
        if (!strcmp(*list, name))
            return true;
    }
    return false;
}

static void schema_rules(struct ferry_check *c, const struct ferry_unit *u,
                         const struct ferry_check_options *o)
{
    const char *where = u->folder ? u->folder : u->paths[0];
    char *const *f;
    const char *const *want;

    if (!o->schema || !u->fields)
        return;
    for (want = o->schema; *want; want++) {
        if (!has(u->fields, *want))
            error(c, where, "schema-missing-field",
                  "add the field to the data, or check the collection",
                  fmt("field \"%s\" of the collection is missing", *want));
    }
    for (f = u->fields; *f; f++) {
        if (!has((char *const *)o->schema, *f) && !o->dynamic_field &&
            strcmp(*f, "$meta"))
            add(c, FERRY_WARNING, where, "schema-unexpected-field", NULL, NULL,
                "remove it, or enable the collection's dynamic field",
                fmt("field \"%s\" is not in the collection", *f));
    }
}

/* --- the whole check ------------------------------------------------- */

static void loose_file(struct ferry_check *c, struct ferry_unit **npy,
                       const struct ferry_scan_file *f,
                       const struct ferry_check_options *o)
{
    enum ferry_file_kind k = ferry_kind_of(f->path);

    if (k == FERRY_KIND_OTHER) {
        add(c, FERRY_WARNING, f->path, "not-importable", NULL, NULL,
            "it is skipped and not uploaded",
            fmt("not a JSON, JSON Lines, Parquet or NumPy file"));
        return;
    }
    if (k == FERRY_KIND_NPY) {
        if (!*npy)
            *npy = new_unit(c, k, NULL);
        unit_add(c, *npy, f);
        return;
    }
    file_unit(c, k, f, o);
}

static void one_path(struct ferry_check *c, struct ferry_unit **npy,
                     const char *path, const struct ferry_check_options *o)
{
    struct ferry_scan s;
    struct ferry_error err;

    ferry_error_clear(&err);
    if (ferry_scan_paths(&s, &path, 1, "", &err)) {
        error(c, path, "unreadable", "check the path and its permissions",
              fmt("%s", err.msg));
        return;
    }
    if (s.n == 1 && !strchr(s.files[0].key, '/') && !s.nskipped)
        loose_file(c, npy, &s.files[0], o);
    else
        check_folder(c, path, &s, o);
    ferry_scan_release(&s);
}

/* Limits on what one request carries. */
static void request_rules(struct ferry_check *c,
                          const struct ferry_check_options *o)
{
    const char *what = "all the paths";

    over(c, what, "too-many-files", c->files, o->limits.max_files, false,
         "import the files in several requests", "the number of files");
    over(c, what, "too-many-units", c->nunits, o->limits.max_units, false,
         "import the units in several requests", "the number of units");
    over(c, what, "total-size", c->bytes, o->limits.max_total_size, true,
         "import the data in several requests", "the total size");
}

int ferry_check_paths(struct ferry_check *out, const char *const *paths,
                      size_t n, const struct ferry_check_options *opts,
                      struct ferry_error *err)
{
    struct ferry_unit *npy = NULL;
    size_t i;

    memset(out, 0, sizeof(*out));
    for (i = 0; i < n; i++)
        one_path(out, &npy, paths[i], opts);
    /* .npy files given together are one unit */
    for (i = 0; i < out->nunits; i++) {
        struct ferry_unit *u = &out->units[i];

        if (u->kind == FERRY_KIND_NPY && !u->folder && !u->fields)
            check_content(out, u);
    }
    request_rules(out, opts);
    for (i = 0; i < out->nunits; i++)
        schema_rules(out, &out->units[i], opts);
    return 0;
}

void ferry_check_release(struct ferry_check *c)
{
    size_t i, k;

    for (i = 0; i < c->nfindings; i++) {
        free(c->findings[i].path);
        free(c->findings[i].measured);
        free(c->findings[i].limit);
        free(c->findings[i].message);
    }
    free(c->findings);
    for (i = 0; i < c->nunits; i++) {
        for (k = 0; k < c->units[i].npaths; k++)
            free(c->units[i].paths[k]);
        free(c->units[i].paths);
        free(c->units[i].folder);
        ferry_sniff_free_fields(c->units[i].fields);
    }
    free(c->units);
    memset(c, 0, sizeof(*c));
}

static char **names_of(cJSON *arr, bool objects)
{
    char **out =
        ferry_xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*out));
    size_t n = 0;
    cJSON *x;

    cJSON_ArrayForEach (x, arr) {
        cJSON *name = objects ? cJSON_GetObjectItem(x, "name") : x;
        cJSON *autoid = objects ? cJSON_GetObjectItem(x, "autoId") : NULL;

        /* an auto-generated primary key is not in the data */
        if (cJSON_IsString(name) && !cJSON_IsTrue(autoid))
            out[n++] = ferry_xstrdup(name->valuestring);
    }
    return out;
}

int ferry_rules_read_schema(char ***out, bool *dynamic, const char *file,
                            struct ferry_error *err)
{
    FILE *f = fopen(file, "r");
    struct ferry_buf text;
    char chunk[4096];
    cJSON *doc, *data, *fields;
    size_t n;

    *out = NULL;
    *dynamic = false;
    if (!f)
        return ferry_error_set(err, FERRY_EUSAGE, "cannot read schema \"%s\"",
                               file);
    ferry_buf_init(&text);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        ferry_buf_add(&text, chunk, n);
    fclose(f);
    doc = cJSON_Parse(text.data);
    ferry_buf_release(&text);
    data = cJSON_GetObjectItem(doc, "data");
    fields = cJSON_GetObjectItem(data ? data : doc, "fields");
    if (cJSON_IsArray(doc))
        *out = names_of(doc, false);
    else if (cJSON_IsArray(fields)) {
        *out = names_of(fields, true);
        *dynamic = cJSON_IsTrue(
            cJSON_GetObjectItem(data ? data : doc, "enableDynamicField"));
    }
    cJSON_Delete(doc);
    if (!*out)
        return ferry_error_set(err, FERRY_EUSAGE,
                               "schema \"%s\" is neither "
                               "a JSON list of field names nor a collection "
                               "description",
                               file);
    return 0;
}
