/* test_objurl.c - destinations in every accepted form, and scanning. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ferry/objurl.h"
#include "ferry/scan.h"

static void expect(const char *url, enum ferry_objurl_store st,
                   const char *bucket, const char *key, const char *region)
{
    struct ferry_objurl u;
    struct ferry_error err;

    assert_int_equal(ferry_objurl_parse(&u, url, &err), 0);
    assert_int_equal(u.store, st);
    assert_string_equal(u.bucket, bucket);
    assert_string_equal(u.key, key);
    if (region)
        assert_string_equal(u.region, region);
    else
        assert_null(u.region);
    ferry_objurl_release(&u);
}

static void test_s3_uri_splits_bucket_and_prefix(void **s)
{
    expect("s3://my-bucket/datasets/run1/", FERRY_STORE_S3, "my-bucket",
           "datasets/run1/", NULL);
    expect("s3://my-bucket", FERRY_STORE_S3, "my-bucket", "", NULL);
}

static void test_virtual_hosted_https_gives_region_and_key(void **s)
{
    expect("https://bk1.s3.eu-west-1.amazonaws.com/a%20b/c.npy", FERRY_STORE_S3,
           "bk1", "a b/c.npy", "eu-west-1");
}

static void test_path_style_https(void **s)
{
    expect("https://s3.us-west-2.amazonaws.com/bk2/k/", FERRY_STORE_S3, "bk2",
           "k/", "us-west-2");
}

static void test_global_s3_host_has_no_region(void **s)
{
    expect("https://s3.amazonaws.com/bk3/k", FERRY_STORE_S3, "bk3", "k", NULL);
    expect("https://bk4.s3.amazonaws.com/k", FERRY_STORE_S3, "bk4", "k", NULL);
}

static void test_gcs_forms(void **s)
{
    expect("gs://g-bucket/o/p", FERRY_STORE_GCS, "g-bucket", "o/p", NULL);
    expect("https://storage.googleapis.com/g-bucket/o/p", FERRY_STORE_GCS,
           "g-bucket", "o/p", NULL);
}

static void test_bad_destinations_name_the_input(void **s)
{
    struct ferry_objurl u;
    struct ferry_error err;

    assert_int_equal(ferry_objurl_parse(&u, "ftp://x/y", &err), FERRY_EUSAGE);
    assert_non_null(strstr(err.msg, "\"ftp://x/y\""));
    assert_int_equal(ferry_objurl_parse(&u, "s3://Bad_Bucket!/", &err),
                     FERRY_EUSAGE);
    assert_int_equal(ferry_objurl_parse(&u, "https://example.com/b/k", &err),
                     FERRY_EUSAGE);
}

static void test_build_gives_each_url_style(void **s)
{
    struct ferry_buf b;

    ferry_buf_init(&b);
    ferry_objurl_build(&b, FERRY_STORE_S3, "bk1", "d/a b.json", FERRY_URL_URI,
                       NULL);
    assert_string_equal(b.data, "s3://bk1/d/a b.json");
    ferry_buf_reset(&b);
    ferry_objurl_build(&b, FERRY_STORE_S3, "bk1", "d/a b.json", FERRY_URL_HTTPS,
                       "eu-west-1");
    assert_string_equal(b.data,
                        "https://bk1.s3.eu-west-1.amazonaws.com/d/a%20b.json");
    ferry_buf_reset(&b);
    ferry_objurl_build(&b, FERRY_STORE_GCS, "g1x", "f/", FERRY_URL_HTTPS, NULL);
    assert_string_equal(b.data, "https://storage.googleapis.com/g1x/f/");
    ferry_buf_release(&b);
}

static void test_cluster_endpoint_gives_id_and_region(void **s)
{
    struct ferry_error err;
    char *id, *region;

    assert_int_equal(
        ferry_objurl_cluster(&id, &region,
                             "https://in03-3bf3c31f4248e22.api.gcp-us-west1."
                             "zillizcloud.com",
                             &err),
        0);
    assert_string_equal(id, "in03-3bf3c31f4248e22");
    assert_string_equal(region, "gcp-us-west1");
    free(id);
    free(region);
    assert_int_equal(
        ferry_objurl_cluster(&id, &region, "https://example.com", &err),
        FERRY_EUSAGE);
    assert_null(id);
}

static void touch(const char *dir, const char *name, size_t size)
{
    char path[1024];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    while (size--)
        fputc('x', f);
    fclose(f);
}

static void test_scan_maps_directory_and_file_paths_to_keys(void **s)
{
    char tmpl[] = "/tmp/ferry-scan-XXXXXX";
    char *dir = mkdtemp(tmpl), sub[256], file[512];
    const char *paths[2];
    struct ferry_scan sc;
    struct ferry_error err;

    snprintf(sub, sizeof(sub), "%s/data", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    touch(sub, "a.json", 3);
    touch(dir, "big.npy", 5);
    snprintf(file, sizeof(file), "%s/big.npy", dir);
    paths[0] = sub;
    paths[1] = file;
    assert_int_equal(ferry_scan_paths(&sc, paths, 2, "run1/", &err), 0);
    assert_int_equal(sc.n, 2);
    assert_string_equal(sc.files[0].key, "run1/big.npy");
    assert_string_equal(sc.files[1].key, "run1/data/a.json");
    assert_true(sc.total_bytes == 8);
    ferry_scan_release(&sc);

    assert_int_equal(ferry_scan_paths(&sc, paths + 1, 1, "x/exact.npy", &err),
                     0);
    assert_string_equal(sc.files[0].key, "x/exact.npy");
    ferry_scan_release(&sc);

    assert_int_equal(ferry_scan_paths(&sc, paths, 1, "x/exact", &err),
                     FERRY_EUSAGE);
    unlink(file);
    snprintf(file, sizeof(file), "%s/a.json", sub);
    unlink(file);
    rmdir(sub);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_s3_uri_splits_bucket_and_prefix),
        cmocka_unit_test(test_virtual_hosted_https_gives_region_and_key),
        cmocka_unit_test(test_path_style_https),
        cmocka_unit_test(test_global_s3_host_has_no_region),
        cmocka_unit_test(test_gcs_forms),
        cmocka_unit_test(test_build_gives_each_url_style),
        cmocka_unit_test(test_cluster_endpoint_gives_id_and_region),
        cmocka_unit_test(test_bad_destinations_name_the_input),
        cmocka_unit_test(test_scan_maps_directory_and_file_paths_to_keys),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
