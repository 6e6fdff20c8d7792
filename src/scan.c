/* scan.c - walking input paths; see include/ferry/scan.h. */
#include "ferry/scan.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ferry/buf.h"
#include "ferry/log.h"
#include "ferry/strutil.h"

static void add_file(struct ferry_scan *s, const char *path, const char *key,
                     const struct stat *st)
{
    struct ferry_scan_file *f;

    s->files = ferry_xrealloc(s->files, (s->n + 1) * sizeof(*s->files));
    f = &s->files[s->n++];
    f->path = ferry_xstrdup(path);
    f->key = ferry_xstrdup(key);
    f->size = (uint64_t)st->st_size;
    f->mtime_ns =
        (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    s->total_bytes += f->size;
}

static int walk(struct ferry_scan *s, const char *dir, const char *keybase,
                const char *root, struct ferry_error *err);

static void skip(struct ferry_scan *s, const char *path, const char *why)
{
    s->skipped =
        ferry_xrealloc(s->skipped, (s->nskipped + 1) * sizeof(*s->skipped));
    s->skipped[s->nskipped].path = ferry_xstrdup(path);
    s->skipped[s->nskipped++].why = why;
}

/* Does the link at path lead to a place inside root? */
static bool inside(const char *path, const char *root)
{
    char target[PATH_MAX];
    size_t n = strlen(root);

    if (!realpath(path, target))
        return false;
    return !strncmp(target, root, n) && (target[n] == '/' || !target[n]);
}

static int visit(struct ferry_scan *s, const char *path, const char *key,
                 const char *root, struct ferry_error *err)
{
    bool top = root == NULL;
    struct stat lst, st;

    if (lstat(path, &lst))
        return ferry_error_set(err, FERRY_EIO, "cannot read \"%s\": %s", path,
                               strerror(errno));
    if (stat(path, &st)) {
        if (!top && S_ISLNK(lst.st_mode)) {
            skip(s, path, "broken symbolic link");
            return 0;
        }
        return ferry_error_set(err, FERRY_EIO, "cannot read \"%s\": %s", path,
                               strerror(errno));
    }
    if (!top && S_ISLNK(lst.st_mode) && S_ISDIR(st.st_mode)) {
        skip(s, path, "symbolic link to a directory (not followed)");
        return 0;
    }
    if (!top && S_ISLNK(lst.st_mode) && !inside(path, root)) {
        skip(s, path, "symbolic link out of the tree");
        return 0;
    }
    if (S_ISREG(st.st_mode)) {
        add_file(s, path, key, &st);
        return 0;
    }
    if (S_ISDIR(st.st_mode)) {
        struct ferry_buf kb;
        int rc;

        ferry_buf_init(&kb);
        ferry_buf_addf(&kb, "%s/", key);
        rc = walk(s, path, kb.data, top ? path : root, err);
        ferry_buf_release(&kb);
        return rc;
    }
    skip(s, path, "not a regular file");
    return 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(struct ferry_scan *s, const char *dir, const char *keybase,
                const char *root, struct ferry_error *err)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t n = 0, i;
    struct dirent *e;
    int rc = 0;

    if (!d)
        return ferry_error_set(err, FERRY_EIO, "cannot read \"%s\": %s", dir,
                               strerror(errno));
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        names = ferry_xrealloc(names, (n + 1) * sizeof(*names));
        names[n++] = ferry_xstrdup(e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), cmp_name);
    for (i = 0; i < n && !rc; i++) {
        struct ferry_buf p, k;

        ferry_buf_init(&p);
        ferry_buf_init(&k);
        ferry_buf_addf(&p, "%s/%s", dir, names[i]);
        ferry_buf_addf(&k, "%s%s", keybase, names[i]);
        rc = visit(s, p.data, k.data, root, err);
        ferry_buf_release(&p);
        ferry_buf_release(&k);
    }
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

static int cmp_key(const void *a, const void *b)
{
    const struct ferry_scan_file *x = a, *y = b;

    return strcmp(x->key, y->key);
}

static int one_path(struct ferry_scan *s, const char *arg, const char *dest_key,
                    bool exact, struct ferry_error *err)
{
    char abs[PATH_MAX], base[PATH_MAX];
    struct ferry_buf key;
    size_t n;
    int rc;

    if (!realpath(arg, abs))
        return ferry_error_set(err, FERRY_EIO, "cannot read \"%s\": %s", arg,
                               strerror(errno));
    /* The key takes the name as given (a link's own name), not the
     * target's; "data/" and "data" both mean the directory "data". */
    snprintf(base, sizeof(base), "%s", arg);
    n = strlen(base);
    while (n > 1 && base[n - 1] == '/')
        base[--n] = '\0';
    if (!strcmp(base, ".") || !strcmp(base, "..") ||
        ferry_str_ends(base, "/.") || ferry_str_ends(base, "/.."))
        snprintf(base, sizeof(base), "%s", abs);
    ferry_buf_init(&key);
    if (exact)
        ferry_buf_adds(&key, dest_key);
    else
        ferry_buf_addf(&key, "%s%s", dest_key, basename(base));
    rc = visit(s, abs, key.data, NULL, err);
    ferry_buf_release(&key);
    return rc;
}

int ferry_scan_paths(struct ferry_scan *out, const char *const *paths,
                     size_t npaths, const char *dest_key,
                     struct ferry_error *err)
{
    bool folder = !*dest_key || ferry_str_ends(dest_key, "/");
    struct stat st;
    size_t i;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (!folder && (npaths != 1 || stat(paths[0], &st) || !S_ISREG(st.st_mode)))
        return ferry_error_set(err, FERRY_EUSAGE,
                               "destination key \"%s\" "
                               "must end in '/' for a directory or "
                               "several paths",
                               dest_key);
    for (i = 0; i < npaths && !rc; i++)
        rc = one_path(out, paths[i], dest_key, !folder, err);
    if (!rc) {
        if (out->n)
            qsort(out->files, out->n, sizeof(*out->files), cmp_key);
        for (i = 1; i < out->n && !rc; i++) {
            if (!strcmp(out->files[i].key, out->files[i - 1].key))
                rc = ferry_error_set(err, FERRY_EUSAGE,
                                     "\"%s\" and \"%s\" "
                                     "would both be stored as \"%s\"",
                                     out->files[i - 1].path, out->files[i].path,
                                     out->files[i].key);
        }
    }
    if (rc)
        ferry_scan_release(out);
    return rc;
}

void ferry_scan_release(struct ferry_scan *s)
{
    size_t i;

    for (i = 0; i < s->n; i++) {
        free(s->files[i].path);
        free(s->files[i].key);
    }
    free(s->files);
    for (i = 0; i < s->nskipped; i++)
        free(s->skipped[i].path);
    free(s->skipped);
    memset(s, 0, sizeof(*s));
}
