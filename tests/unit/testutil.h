/*
 * testutil.h - small helpers shared by the unit tests: reading data
 * files from FERRY_TEST_DATA, loading JSON, removing a fixture's tree.
 */
#ifndef FERRY_TESTUTIL_H
#define FERRY_TESTUTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "ferry/buf.h"

/* Reads DATA/rel into a NUL-terminated heap string; NULL if missing. */
static inline char *test_read_data(const char *rel, size_t *len)
{
    const char *dir = getenv("FERRY_TEST_DATA");
    struct ferry_buf path, text;
    char chunk[4096];
    size_t n;
    FILE *f;

    ferry_buf_init(&path);
    ferry_buf_addf(&path, "%s/%s", dir ? dir : "tests/data", rel);
    f = fopen(path.data, "rb");
    ferry_buf_release(&path);
    if (!f)
        return NULL;
    ferry_buf_init(&text);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        ferry_buf_add(&text, chunk, n);
    fclose(f);
    if (len)
        *len = text.len;
    return ferry_buf_detach(&text);
}

static inline cJSON *test_load_json(const char *rel)
{
    char *text = test_read_data(rel, NULL);
    cJSON *j = text ? cJSON_Parse(text) : NULL;

    free(text);
    return j;
}

static inline int test_remove_entry(const char *path, const struct stat *st,
                                    int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes dir and everything below it (a fixture's temporary tree). */
static inline void test_remove_tree(const char *dir)
{
    nftw(dir, test_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
