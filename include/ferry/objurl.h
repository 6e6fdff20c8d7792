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

enum ferry_url_style { FERRY_URL_URI, FERRY_URL_HTTPS };

/*
 * Appends the URL an import API is given for bucket/key: with
 * FERRY_URL_URI "s3://b/k" or "gs://b/k"; with FERRY_URL_HTTPS the
 * virtual-hosted "https://b.s3.REGION.amazonaws.com/k" (region needed)
 * or "https://storage.googleapis.com/b/k", the key percent-encoded.
 */
void ferry_objurl_build(struct ferry_buf *out, enum ferry_objurl_store st,
                        const char *bucket, const char *key,
                        enum ferry_url_style style, const char *region);

/*
 * Reads the cluster id and cloud region of a Zilliz Cloud public
 * endpoint such as https://in03-3bf3c31f4248e22.api.gcp-us-west1.
 * zillizcloud.com (the first label is the cluster, the label starting
 * with a cloud's prefix the region).  Both outputs are owned by the
 * caller.
 */
int ferry_objurl_cluster(char **cluster_id, char **cloud_region,
                         const char *endpoint, struct ferry_error *err);

#endif
