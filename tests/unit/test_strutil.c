/* test_strutil.c - encoding and parsing helpers, and the XML reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ferry/buf.h"
#include "ferry/log.h"
#include "ferry/strutil.h"
#include "ferry/xml.h"

static void test_uri_encode_keeps_unreserved_and_uppercases_hex(void **s)
{
    struct ferry_buf b;

    ferry_buf_init(&b);
    ferry_uri_encode(&b, "a-Z_0.~ /+ü", strlen("a-Z_0.~ /+ü"), false);
    assert_string_equal(b.data, "a-Z_0.~%20%2F%2B%C3%BC");
    ferry_buf_release(&b);
}

static void test_uri_encode_can_keep_slashes(void **s)
{
    struct ferry_buf b;

    ferry_buf_init(&b);
    ferry_uri_encode(&b, "d/e f", 5, true);
    assert_string_equal(b.data, "d/e%20f");
    ferry_buf_release(&b);
}

static void test_uri_decode_rejects_truncated_escape(void **s)
{
    struct ferry_buf b;

    ferry_buf_init(&b);
    assert_int_equal(ferry_uri_decode(&b, "a%2", 3), -1);
    ferry_buf_reset(&b);
    assert_int_equal(ferry_uri_decode(&b, "a%2Fb%c3%bc", 11), 0);
    assert_string_equal(b.data, "a/bü");
    ferry_buf_release(&b);
}

static void test_sizes_parse_binary_and_decimal_units(void **s)
{
    uint64_t v;

    assert_int_equal(ferry_parse_size(&v, "16MiB"), 0);
    assert_true(v == 16u << 20);
    assert_int_equal(ferry_parse_size(&v, "5G"), 0);
    assert_true(v == (uint64_t)5 << 30);
    assert_int_equal(ferry_parse_size(&v, "100MB"), 0);
    assert_true(v == 100000000u);
    assert_int_equal(ferry_parse_size(&v, "1048576"), 0);
    assert_true(v == 1048576u);
    assert_int_equal(ferry_parse_size(&v, "12 parsecs"), -1);
    assert_int_equal(ferry_parse_size(&v, "-5MiB"), -1);
}

static void test_durations_parse_units_and_fractions(void **s)
{
    double d;

    assert_int_equal(ferry_parse_duration(&d, "90s"), 0);
    assert_true(d == 90);
    assert_int_equal(ferry_parse_duration(&d, "15m"), 0);
    assert_true(d == 900);
    assert_int_equal(ferry_parse_duration(&d, "0.5"), 0);
    assert_true(d == 0.5);
    assert_int_equal(ferry_parse_duration(&d, "2 days"), -1);
}

static void test_uint_parse_checks_range(void **s)
{
    uint64_t v;

    assert_int_equal(ferry_parse_uint(&v, "8", 1, 256), 0);
    assert_int_equal(ferry_parse_uint(&v, "0", 1, 256), -1);
    assert_int_equal(ferry_parse_uint(&v, "257", 1, 256), -1);
    assert_int_equal(ferry_parse_uint(&v, "8x", 1, 256), -1);
}

struct seen {
    char buf[512];
};

static int collect(void *ud, const char *path, const char *text)
{
    struct seen *s = ud;
    size_t n = strlen(s->buf);

    snprintf(s->buf + n, sizeof(s->buf) - n, "%s=%s;", path, text);
    return 0;
}

/*
 * Resident KiB of the mapping that holds p, from /proc/self/smaps; *alone
 * tells whether that mapping is exactly [p, p + len) (not merged with a
 * neighbour).
 */
static long mapping_rss_kib(const void *p, size_t len, bool *alone)
{
    char line[256];
    unsigned long lo, hi, at = (unsigned long)(uintptr_t)p;
    long kib = -1;
    bool in = false;
    FILE *f = fopen("/proc/self/smaps", "r");

    while (f && fgets(line, sizeof(line), f)) {
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
            in = lo <= at && at < hi;
            if (in)
                *alone = lo == at && hi == at + len;
        } else if (in && !strncmp(line, "Rss:", 4)) {
            kib = atol(line + 4);
        }
    }
    if (f)
        fclose(f);
    return kib;
}

static void test_bigbuf_is_aligned_writable_and_costs_what_is_touched(void **s)
{
    size_t n = ((size_t)5 << 20) + 123;
    unsigned char *small = ferry_bigbuf_alloc(100);
    unsigned char *big = ferry_bigbuf_alloc(n);
    size_t want;
    long rss;
    bool alone = false;

    (void)s;
    memset(small, 1, 100);
    assert_int_equal((uintptr_t)big % ((uintptr_t)2 << 20), 0);
    memset(big, 0xab, n);
    assert_int_equal(big[n - 1], 0xab);
    /* resident: n rounded up to a 4 KiB page, not to a huge page */
    want = (n + 4095) / 4096 * 4096;
    rss = mapping_rss_kib(big, want, &alone);
    if (alone)
        assert_int_equal(rss, (long)(want / 1024));
    else
        assert_true(rss >= (long)(want / 1024));
    ferry_bigbuf_free(big, n);
    ferry_bigbuf_free(small, 100);
    ferry_bigbuf_free(NULL, 0);
}

static void test_xml_reports_paths_and_text_without_namespace(void **s)
{
    const char *doc =
        "<?xml version=\"1.0\"?><ListPartsResult xmlns=\"http://s3.amazonaws"
        ".com/doc/2006-03-01/\"><Part><PartNumber>1</PartNumber><ETag>"
        "&quot;abc&quot;</ETag></Part></ListPartsResult>";
    struct seen seen = { "" };

    assert_int_equal(ferry_xml_parse(doc, strlen(doc), collect, &seen), 0);
    assert_string_equal(
        seen.buf, "ListPartsResult/Part/PartNumber=1;"
                  "ListPartsResult/Part/ETag=\"abc\";ListPartsResult/Part=;"
                  "ListPartsResult=;");
}

static void test_xml_refuses_doctype(void **s)
{
    const char *doc = "<!DOCTYPE x [<!ENTITY e \"boom\">]><x>&e;</x>";
    struct seen seen = { "" };

    assert_int_equal(ferry_xml_parse(doc, strlen(doc), collect, &seen), -1);
}

static void test_xml_root_names_the_first_element(void **s)
{
    char root[32];
    const char *doc = "\n\n  <?xml version=\"1.0\"?>\n<Error><Code>x</Code>"
                      "</Error>";

    ferry_xml_root(root, sizeof(root), doc, strlen(doc));
    assert_string_equal(root, "Error");
    ferry_xml_root(root, sizeof(root), "not xml", 7);
    assert_string_equal(root, "");
}

static void test_redact_masks_signatures_tokens_and_bearer_keys(void **s)
{
    char line[] = "> Authorization: AWS4-HMAC-SHA256 Credential=AKID/2026"
                  "1203/us-east-1/s3/aws4_request, SignedHeaders=host, "
                  "Signature=abcdef\r\nx-amz-security-token: tok/123\r\n"
                  "Authorization: Bearer root:pass\r\nHost: h\r\n";

    ferry_log_redact(line);
    assert_null(strstr(line, "AKID"));
    assert_null(strstr(line, "abcdef"));
    assert_null(strstr(line, "tok/123"));
    assert_null(strstr(line, "root:pass"));
    assert_non_null(strstr(line, "SignedHeaders=host"));
    assert_non_null(strstr(line, "Host: h"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uri_encode_keeps_unreserved_and_uppercases_hex),
        cmocka_unit_test(
            test_bigbuf_is_aligned_writable_and_costs_what_is_touched),
        cmocka_unit_test(test_uri_encode_can_keep_slashes),
        cmocka_unit_test(test_uri_decode_rejects_truncated_escape),
        cmocka_unit_test(test_sizes_parse_binary_and_decimal_units),
        cmocka_unit_test(test_durations_parse_units_and_fractions),
        cmocka_unit_test(test_uint_parse_checks_range),
        cmocka_unit_test(test_xml_reports_paths_and_text_without_namespace),
        cmocka_unit_test(test_xml_refuses_doctype),
        cmocka_unit_test(test_xml_root_names_the_first_element),
        cmocka_unit_test(test_redact_masks_signatures_tokens_and_bearer_keys),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
