/*
 * store_test.c - the store module's calls against a live S3 server.
 *
 * Run by upload_test.py with FERRY_TEST_ENDPOINT, FERRY_TEST_BUCKET (an
 * empty bucket), AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set; with
 * FERRY_TEST_GCS set, GS_ACCESS_KEY_ID and GS_SECRET_ACCESS_KEY instead,
 * signing in the GOOG4 dialect.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/creds.h"
#include "ferry/store.h"

#define MIB (1u << 20)

static struct ferry_creds creds;
static struct ferry_store *store;
static char *part_data;

static int setup(void **state)
{
    struct ferry_store_config cfg = { 0 };
    struct ferry_error err;

    bool gcs = getenv("FERRY_TEST_GCS") != NULL;

    if (gcs ? ferry_creds_load_gcs(&creds, &err)
            : ferry_creds_load_aws(&creds, NULL, &err))
        return -1;
    cfg.dialect = gcs ? &ferry_sigv4_goog : &ferry_sigv4_aws;
    cfg.gcs = gcs;
    cfg.endpoint = getenv("FERRY_TEST_ENDPOINT");
    cfg.region = gcs ? "auto" : "us-east-1";
    cfg.bucket = getenv("FERRY_TEST_BUCKET");
    cfg.path_style = true;
    cfg.creds = &creds;
    cfg.max_attempts = 2;
    part_data = malloc(5 * MIB);
    memset(part_data, 'p', 5 * MIB);
    return ferry_store_new(&store, &cfg, &err);
}

static int teardown(void **state)
{
    ferry_store_free(store);
    ferry_creds_release(&creds);
    free(part_data);
    return 0;
}

static void put(const char *key, const char *body)
{
    struct ferry_store_op op;

    ferry_store_op_init(&op, FERRY_OP_PUT, key);
    op.body = body;
    op.body_len = strlen(body);
    assert_int_equal(ferry_store_exec(store, &op), 0);
    assert_true(op.etag[0] == '"');
    ferry_store_op_release(&op);
}

static char *create(const char *key)
{
    struct ferry_store_op op;
    char *id;

    ferry_store_op_init(&op, FERRY_OP_CREATE_MPU, key);
    assert_int_equal(ferry_store_exec(store, &op), 0);
    id = op.new_upload_id;
    op.new_upload_id = NULL;
    ferry_store_op_release(&op);
    return id;
}

static void upload_part(struct ferry_store_part *out, const char *key,
                        const char *id, int n, size_t len)
{
    struct ferry_store_op op;

    ferry_store_op_init(&op, FERRY_OP_UPLOAD_PART, key);
    op.upload_id = id;
    op.part_number = n;
    op.body = part_data;
    op.body_len = len;
    assert_int_equal(ferry_store_exec(store, &op), 0);
    out->number = n;
    out->size = len;
    snprintf(out->etag, sizeof(out->etag), "%s", op.etag);
    ferry_store_op_release(&op);
}

static void test_list_parts_pages_through_every_part(void **state)
{
    const char *key = "mpu/three parts+ü";
    struct ferry_store_part parts[3];
    struct ferry_store_op op;
    char *id = create(key);
    int i;

    upload_part(&parts[0], key, id, 1, 5 * MIB);
    upload_part(&parts[1], key, id, 2, 5 * MIB);
    upload_part(&parts[2], key, id, 3, 1);
    ferry_store_op_init(&op, FERRY_OP_LIST_PARTS, key);
    op.upload_id = id;
    op.max_keys = 1;
    assert_int_equal(ferry_store_exec(store, &op), 0);
    assert_int_equal(op.nlisted_parts, 3);
    for (i = 0; i < 3; i++) {
        assert_int_equal(op.listed_parts[i].number, i + 1);
        assert_true(op.listed_parts[i].size == parts[i].size);
        assert_string_equal(op.listed_parts[i].etag, parts[i].etag);
    }
    ferry_store_op_release(&op);

    ferry_store_op_init(&op, FERRY_OP_COMPLETE_MPU, key);
    op.upload_id = id;
    op.parts = parts;
    op.nparts = 3;
    assert_int_equal(ferry_store_exec(store, &op), 0);
    ferry_store_op_release(&op);

    ferry_store_op_init(&op, FERRY_OP_HEAD, key);
    assert_int_equal(ferry_store_exec(store, &op), 0);
    assert_true(op.size == 10 * MIB + 1);
    ferry_store_op_release(&op);
    free(id);
}

static void test_list_objects_pages_through_a_prefix(void **state)
{
    struct ferry_store_op op;

    put("list/a", "1");
    put("list/b c", "22");
    put("list/d/e", "333");
    put("list/f", "4444");
    put("other", "5");
    ferry_store_op_init(&op, FERRY_OP_LIST, NULL);
    op.prefix = "list/";
    op.max_keys = 2;
    assert_int_equal(ferry_store_exec(store, &op), 0);
    assert_int_equal(op.nobjects, 4);
    assert_string_equal(op.objects[1].key, "list/b c");
    assert_true(op.objects[3].size == 4);
    ferry_store_op_release(&op);
}

static void test_aborted_upload_is_gone(void **state)
{
    struct ferry_store_op op;
    char *id = create("aborted");

    ferry_store_op_init(&op, FERRY_OP_ABORT_MPU, "aborted");
    op.upload_id = id;
    assert_int_equal(ferry_store_exec(store, &op), 0);
    ferry_store_op_release(&op);
    ferry_store_op_init(&op, FERRY_OP_LIST_PARTS, "aborted");
    op.upload_id = id;
    assert_int_equal(ferry_store_exec(store, &op), FERRY_EHTTP);
    /* AWS says NoSuchUpload; Ceph RGW 16 says NoSuchKey. */
    assert_true(!strcmp(op.err.server_code, "NoSuchUpload") ||
                !strcmp(op.err.server_code, "NoSuchKey"));
    assert_int_equal(op.err.http_status, 404);
    assert_false(op.err.retryable);
    ferry_store_op_release(&op);
    free(id);
}

static void test_head_of_missing_key_is_404(void **state)
{
    struct ferry_store_op op;

    ferry_store_op_init(&op, FERRY_OP_HEAD, "no/such/key");
    assert_int_equal(ferry_store_exec(store, &op), FERRY_EHTTP);
    assert_int_equal(op.err.http_status, 404);
    assert_non_null(strstr(op.err.msg, "\"no/such/key\""));
    ferry_store_op_release(&op);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_parts_pages_through_every_part),
        cmocka_unit_test(test_list_objects_pages_through_a_prefix),
        cmocka_unit_test(test_aborted_upload_is_gone),
        cmocka_unit_test(test_head_of_missing_key_is_404),
    };

    if (!getenv("FERRY_TEST_ENDPOINT") || !getenv("FERRY_TEST_BUCKET")) {
        fprintf(stderr, "store_test: FERRY_TEST_ENDPOINT and "
                        "FERRY_TEST_BUCKET must be set\n");
        return 2;
    }
    return cmocka_run_group_tests(tests, setup, teardown);
}
