/*
 * test_store.c - the S3 protocol without a network: what requests look
 * like on the wire, how error answers are read, and the retry policy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ferry/http.h"
#include "ferry/store.h"

static struct ferry_creds creds = { "AKIDEXAMPLE", "secret", NULL, "test" };

static struct ferry_store *new_store(const char *endpoint, bool path_style)
{
    struct ferry_store_config cfg = { 0 };
    struct ferry_store *s = NULL;
    struct ferry_error err;

    cfg.dialect = &ferry_sigv4_aws;
    cfg.endpoint = endpoint;
    cfg.region = "us-east-1";
    cfg.bucket = "my-bucket";
    cfg.path_style = path_style;
    cfg.creds = &creds;
    assert_int_equal(ferry_store_new(&s, &cfg, &err), 0);
    return s;
}

static void describe(char *out, size_t n, struct ferry_store *s,
                     struct ferry_store_op *op)
{
    struct ferry_buf b;

    ferry_buf_init(&b);
    ferry_store_describe(&b, s, op);
    snprintf(out, n, "%s", b.data);
    ferry_buf_release(&b);
}

static void test_put_path_style_encodes_key_once(void **state)
{
    struct ferry_store *s = new_store("http://127.0.0.1:7480", true);
    struct ferry_store_op op;
    char line[512];

    ferry_store_op_init(&op, FERRY_OP_PUT, "d/a b+ü/./x");
    op.body_len = 3;
    describe(line, sizeof(line), s, &op);
    assert_string_equal(line, "PUT http://127.0.0.1:7480/my-bucket/"
                              "d/a%20b%2B%C3%BC/./x (3 bytes)");
    ferry_store_op_release(&op);
    ferry_store_free(s);
}

static void test_default_endpoint_is_virtual_hosted_aws(void **state)
{
    struct ferry_store *s = new_store(NULL, false);
    struct ferry_store_op op;
    char line[512];

    ferry_store_op_init(&op, FERRY_OP_UPLOAD_PART, "k");
    op.part_number = 7;
    op.upload_id = "u+1";
    describe(line, sizeof(line), s, &op);
    assert_string_equal(line, "PUT https://my-bucket.s3.us-east-1."
                              "amazonaws.com/k?partNumber=7&uploadId=u%2B1");
    ferry_store_op_release(&op);
    ferry_store_free(s);
}

static void test_complete_body_lists_parts_in_order_escaped(void **state)
{
    struct ferry_store *s = new_store("http://h:1", true);
    struct ferry_store_part parts[2] = { { 1, 5, "\"e1\"" },
                                         { 2, 1, "\"e&2\"" } };
    struct ferry_store_op op;
    char line[1024];

    ferry_store_op_init(&op, FERRY_OP_COMPLETE_MPU, "k");
    op.upload_id = "U";
    op.parts = parts;
    op.nparts = 2;
    describe(line, sizeof(line), s, &op);
    assert_string_equal(
        line,
        "POST http://h:1/my-bucket/k?uploadId=U\n"
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>"
        "<ETag>&quot;e1&quot;</ETag></Part><Part><PartNumber>2</PartNumber>"
        "<ETag>&quot;e&amp;2&quot;</ETag></Part></CompleteMultipartUpload>");
    ferry_store_op_release(&op);
    ferry_store_free(s);
}

static void test_create_uses_valueless_uploads_query(void **state)
{
    struct ferry_store *s = new_store("https://s3.example.com", false);
    struct ferry_store_op op;
    char line[512];

    ferry_store_op_init(&op, FERRY_OP_CREATE_MPU, "big.npy");
    describe(line, sizeof(line), s, &op);
    assert_string_equal(line, "POST https://my-bucket.s3.example.com/"
                              "big.npy?uploads=");
    ferry_store_op_release(&op);
    ferry_store_free(s);
}

static void test_endpoint_with_a_path_is_refused(void **state)
{
    struct ferry_store_config cfg = { 0 };
    struct ferry_store *s = NULL;
    struct ferry_error err;

    cfg.dialect = &ferry_sigv4_aws;
    cfg.endpoint = "http://h:1/base";
    cfg.region = "us-east-1";
    cfg.bucket = "b";
    cfg.creds = &creds;
    assert_int_equal(ferry_store_new(&s, &cfg, &err), FERRY_EUSAGE);
    assert_non_null(strstr(err.msg, "http://h:1/base"));
}

static void test_error_body_gives_code_message_and_request_id(void **state)
{
    const char *body =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown"
        "</Code><Message>Please reduce your request rate.</Message>"
        "<RequestId>4442587FB7D0A2F9</RequestId></Error>";
    struct ferry_error err;

    ferry_error_clear(&err);
    ferry_store_parse_error(&err, body, strlen(body));
    assert_string_equal(err.server_code, "SlowDown");
    assert_string_equal(err.msg, "Please reduce your request rate.");
    assert_string_equal(err.request_id, "4442587FB7D0A2F9");
}

static void test_gcs_error_details_join_the_message(void **state)
{
    const char *body =
        "<?xml version='1.0' encoding='UTF-8'?><Error><Code>"
        "SignatureDoesNotMatch</Code><Message>Access denied.</Message>"
        "<Details>The request signature we calculated does not match"
        "</Details><StringToSign>GOOG4-HMAC-SHA256...</StringToSign>"
        "</Error>";
    struct ferry_error err;

    ferry_error_clear(&err);
    ferry_store_parse_error(&err, body, strlen(body));
    assert_string_equal(err.server_code, "SignatureDoesNotMatch");
    assert_string_equal(err.msg, "Access denied. (The request signature "
                                 "we calculated does not match)");
    assert_string_equal(err.request_id, "");
}

static void test_retry_policy_separates_transient_from_permanent(void **st)
{
    assert_true(ferry_http_retryable(503, "SlowDown", 0));
    assert_true(ferry_http_retryable(500, "InternalError", 0));
    assert_true(ferry_http_retryable(400, "RequestTimeout", 0));
    assert_true(ferry_http_retryable(403, "RequestTimeTooSkewed", 0));
    assert_true(ferry_http_retryable(0, NULL, 56 /* recv error */));
    assert_false(ferry_http_retryable(403, "SignatureDoesNotMatch", 0));
    assert_false(ferry_http_retryable(404, "NoSuchBucket", 0));
    assert_false(ferry_http_retryable(400, "XAmzContentSHA256Mismatch", 0));
    assert_false(ferry_http_retryable(400, "EntityTooSmall", 0));
}

static void test_backoff_is_capped_and_honours_retry_after(void **state)
{
    int i;

    for (i = 0; i < 100; i++) {
        double d1 = ferry_http_backoff(1, -1), d20 = ferry_http_backoff(20, -1);

        assert_true(d1 >= 0 && d1 <= 0.25);
        assert_true(d20 >= 0 && d20 <= 20);
    }
    assert_true(ferry_http_backoff(1, 3) == 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_path_style_encodes_key_once),
        cmocka_unit_test(test_default_endpoint_is_virtual_hosted_aws),
        cmocka_unit_test(test_complete_body_lists_parts_in_order_escaped),
        cmocka_unit_test(test_create_uses_valueless_uploads_query),
        cmocka_unit_test(test_endpoint_with_a_path_is_refused),
        cmocka_unit_test(test_error_body_gives_code_message_and_request_id),
        cmocka_unit_test(test_gcs_error_details_join_the_message),
        cmocka_unit_test(test_retry_policy_separates_transient_from_permanent),
        cmocka_unit_test(test_backoff_is_capped_and_honours_retry_after),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
