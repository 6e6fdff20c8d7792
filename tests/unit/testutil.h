/*
 * testutil.h - small helpers shared by the unit tests: reading data
 * files from FERRY_TEST_DATA and loading JSON.
 */
#ifndef FERRY_TESTUTIL_H
#define FERRY_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#endif
