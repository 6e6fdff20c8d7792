/*
 * objurl.h - destinations and object URLs (DESIGN section 6).
 *
 * Accepted: s3://BUCKET/KEY, https://BUCKET.s3.REGION.amazonaws.com/KEY,
 * https://s3.REGION.amazonaws.com/BUCKET/KEY, gs://BUCKET/OBJECT and
 * https://storage.googleapis.com/BUCKET/OBJECT.  A key ending in '/' is
 * a folder (prefix).
 */
#ifndef FERRY_OBJURL_H
#define FERRY_OBJURL_H

#include <stdbool.h>

#include "ferry/buf.h"
#include "ferry/error.h"

enum ferry_objurl_store { FERRY_STORE_S3, FERRY_STORE_GCS };

struct ferry_objurl {
    enum ferry_objurl_store store;
    char *bucket; /* owned */
    char *key;    /* owned, raw (decoded); "" for the bucket root */
    char *region; /* owned, from an AWS https form; else NULL */
};

/* Parses s into out; on error out is left empty and err says why. */
int ferry_objurl_parse(struct ferry_objurl *out, const char *s,
                       struct ferry_error *err);
void ferry_objurl_release(struct ferry_objurl *u);

/* True when the key is empty or ends in '/'. */
bool ferry_objurl_is_folder(const struct ferry_objurl *u);

/* Appends "s3://bucket/key" or "gs://bucket/key". */
void ferry_objurl_format(struct ferry_buf *out, enum ferry_objurl_store st,
                         const char *bucket, const char *key);

#endif
