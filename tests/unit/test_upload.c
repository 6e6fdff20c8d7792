/* test_upload.c - part sizing: the limits S3 and GCS put on parts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ferry/strutil.h"
#include "ferry/upload.h"

static void test_default_part_size_for_ordinary_files(void **s)
{
    struct ferry_error err;
    uint64_t part;

    assert_int_equal(ferry_upload_part_size(&part, FERRY_GIB, 0, &err), 0);
    assert_true(part == 16 * FERRY_MIB);
}

static void test_part_size_rises_to_keep_10000_parts(void **s)
{
    struct ferry_error err;
    uint64_t part, size = 1000 * FERRY_GIB;

    assert_int_equal(ferry_upload_part_size(&part, size, 5 * FERRY_MIB, &err),
                     0);
    assert_true(ferry_upload_part_count(size, part) <= 10000);
    assert_true(part % FERRY_MIB == 0);
    assert_true(part == 103 * FERRY_MIB);
}

static void test_largest_object_fits_in_10000_parts(void **s)
{
    struct ferry_error err;
    uint64_t part;

    assert_int_equal(ferry_upload_part_size(&part, FERRY_MAX_OBJECT, 0, &err),
                     0);
    assert_true(ferry_upload_part_count(FERRY_MAX_OBJECT, part) <= 10000);
    assert_true(part <= FERRY_MAX_PART);
}

static void test_file_over_5tib_is_refused(void **s)
{
    struct ferry_error err;
    uint64_t part;

    assert_int_equal(
        ferry_upload_part_size(&part, FERRY_MAX_OBJECT + 1, 0, &err),
        FERRY_ETOOBIG);
}

static void test_requested_part_size_outside_limits_is_refused(void **s)
{
    struct ferry_error err;
    uint64_t part;

    assert_int_equal(ferry_upload_part_size(&part, 10, 4 * FERRY_MIB, &err),
                     FERRY_EUSAGE);
    assert_int_equal(ferry_upload_part_size(&part, 10, 6 * FERRY_GIB, &err),
                     FERRY_EUSAGE);
}

static void test_part_count_rounds_up_and_empty_file_is_one_part(void **s)
{
    assert_int_equal(ferry_upload_part_count(100 * FERRY_MIB, 5 * FERRY_MIB),
                     20);
    assert_int_equal(
        ferry_upload_part_count(100 * FERRY_MIB + 1, 5 * FERRY_MIB), 21);
    assert_int_equal(ferry_upload_part_count(0, 5 * FERRY_MIB), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_part_size_for_ordinary_files),
        cmocka_unit_test(test_part_size_rises_to_keep_10000_parts),
        cmocka_unit_test(test_largest_object_fits_in_10000_parts),
        cmocka_unit_test(test_file_over_5tib_is_refused),
        cmocka_unit_test(test_requested_part_size_outside_limits_is_refused),
        cmocka_unit_test(test_part_count_rounds_up_and_empty_file_is_one_part),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
