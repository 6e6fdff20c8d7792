/*
 * test_npy.c - file kinds and the first-bytes checks: NumPy headers
 * read and judged, the first row of JSON and JSON Lines files, the
 * Parquet magic.  Every test writes its file by hand in a fresh
 * temporary directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ferry/npy.h"
#include "testutil.h"

struct fixture {
    char dir[64];
    char path[128]; /* a file in dir, named by the test */
    char want[768]; /* an expected error message */
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));

    if (!fx)
        return -1;
    strcpy(fx->dir, "/tmp/ferry-test-npy-XXXXXX");
    if (!mkdtemp(fx->dir))
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    test_remove_tree(fx->dir);
    free(fx);
    return 0;
}

/* Sets fx->path to dir/name and returns it. */
static const char *file_in(struct fixture *fx, const char *name)
{
    snprintf(fx->path, sizeof(fx->path), "%s/%s", fx->dir, name);
    return fx->path;
}

/* Sets fx->want to "\"<fx->path>\": " followed by what. */
static const char *want_msg(struct fixture *fx, const char *what)
{
    snprintf(fx->want, sizeof(fx->want), "\"%s\": %s", fx->path, what);
    return fx->want;
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void write_text(const char *path, const char *text)
{
    write_bytes(path, text, strlen(text));
}

/*
 * Writes a .npy file as numpy.save does: magic, version, the length of
 * the dict (2 bytes little-endian in 1.x, 4 after), the dict padded with
 * spaces and a final '\n' to a multiple of 64 bytes, then data_len
 * zero bytes.  Returns the header's length.
 */
static size_t write_npy(const char *path, int major, int minor,
                        const char *dict, size_t data_len)
{
    size_t fixed = major == 1 ? 10 : 12;
    size_t total = (fixed + strlen(dict) + 1 + 63) / 64 * 64;
    size_t dict_len = total - fixed;
    unsigned char *b = calloc(1, total + data_len);

    assert_non_null(b);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)major;
    b[7] = (unsigned char)minor;
    b[8] = (unsigned char)(dict_len & 0xff);
    b[9] = (unsigned char)(dict_len >> 8);
    memset(b + fixed, ' ', dict_len - 1);
    memcpy(b + fixed, dict, strlen(dict));
    b[total - 1] = '\n';
    write_bytes(path, b, total + data_len);
    free(b);
    return total;
}

static void assert_fields(char **fields, const char *const *want)
{
    size_t k;

    assert_non_null(fields);
    for (k = 0; want[k]; k++) {
        assert_non_null(fields[k]);
        assert_string_equal(fields[k], want[k]);
    }
    assert_null(fields[k]);
}

static void test_npy_v1_header_gives_dtype_shape_and_sizes(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "v1.npy");
    struct ferry_npy_info info;
    struct ferry_error err = { 0 };
    size_t hlen = write_npy(
        path, 1, 0,
        "{'descr': '<f4', 'fortran_order': False, 'shape': (5, 8), }", 160);

    assert_int_equal(ferry_npy_read(&info, path, &err), 0);
    assert_true(info.header_ok);
    assert_int_equal(info.major, 1);
    assert_int_equal(info.minor, 0);
    assert_string_equal(info.descr, "<f4");
    assert_int_equal(info.itemsize, 4);
    assert_int_equal(info.ndim, 2);
    assert_int_equal(info.shape[0], 5);
    assert_int_equal(info.shape[1], 8);
    assert_int_equal(info.rows, 5);
    assert_int_equal(hlen, 128);
    assert_int_equal(info.header_len, 128);
    assert_int_equal(info.data_size, 160);
    assert_int_equal(info.file_size, 288);
    assert_false(info.big_endian);
    assert_false(info.fortran_order);
}

static void test_npy_v2_header_has_four_byte_length(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "v2.npy");
    struct ferry_npy_info info;
    struct ferry_error err = { 0 };
    size_t hlen = write_npy(
        path, 2, 0, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }",
        24);

    assert_int_equal(ferry_npy_read(&info, path, &err), 0);
    assert_int_equal(info.major, 2);
    assert_int_equal(info.header_len, hlen);
    assert_int_equal(info.rows, 3);
    assert_int_equal(info.data_size, 24);
}

static void test_npy_v3_header_is_read(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "v3.npy");
    struct ferry_npy_info info;
    struct ferry_error err = { 0 };

    write_npy(path, 3, 0,
              "{'descr': '<u2', 'fortran_order': False, 'shape': (7,), }", 14);

    assert_int_equal(ferry_npy_read(&info, path, &err), 0);
    assert_int_equal(info.major, 3);
    assert_int_equal(info.rows, 7);
    assert_int_equal(info.itemsize, 2);
}

static void test_npy_keys_may_come_in_any_order(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "order.npy");
    struct ferry_npy_info info;
    struct ferry_error err = { 0 };

    write_npy(path, 1, 0,
              "{\"shape\": (4,), \"fortran_order\": False, \"descr\": \"<f8\"}",
              32);

    assert_int_equal(ferry_npy_read(&info, path, &err), 0);
    assert_string_equal(info.descr, "<f8");
    assert_int_equal(info.rows, 4);
}

static void test_npy_scalar_shape_is_one_row_of_one_item(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "scalar.npy");
    struct ferry_npy_info info;
    struct ferry_error err = { 0 };

    write_npy(path, 1, 0,
              "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 4);

    assert_int_equal(ferry_npy_read(&info, path, &err), 0);
    assert_int_equal(info.ndim, 0);
    assert_int_equal(info.rows, 1);
    assert_int_equal(info.data_size, 4);
}

static void test_npy_one_dimension_needs_its_comma(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "one.npy");
    struct ferry_npy_info info;
    struct ferry_error err = { 0 };

    write_npy(path, 1, 0,
              "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", 20);

    assert_int_equal(ferry_npy_read(&info, path, &err), 0);
    assert_int_equal(info.ndim, 1);
    assert_int_equal(info.rows, 5);
    assert_int_equal(info.data_size, 20);
}

static void test_npy_shape_may_end_in_a_comma(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "comma.npy");
    struct ferry_npy_info info;
    struct ferry_error err = { 0 };

    write_npy(path, 1, 0,
              "{'descr': '<f4', 'fortran_order': False, 'shape': (5,8,), }",
              160);

    assert_int_equal(ferry_npy_read(&info, path, &err), 0);
    assert_int_equal(info.ndim, 2);
    assert_int_equal(info.shape[1], 8);
    assert_int_equal(info.data_size, 160);
}

static void test_npy_shape_of_python2_longs_is_read(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "long.npy");
    struct ferry_npy_info info;
    struct ferry_error err = { 0 };

    write_npy(path, 1, 0,
              "{'descr': '<i4', 'fortran_order': False, 'shape': (2L, 3L), }",
              24);

    assert_int_equal(ferry_npy_read(&info, path, &err), 0);
    assert_int_equal(info.rows, 2);
    assert_int_equal(info.shape[1], 3);
}

static void test_npy_parenthesised_int_is_not_a_shape(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "paren.npy");
    struct ferry_npy_info info;
    struct ferry_error err = { 0 };

    write_npy(path, 1, 0,
              "{'descr': '<f4', 'fortran_order': False, 'shape': (5), }", 20);

    assert_int_equal(ferry_npy_read(&info, path, &err), FERRY_EPROTO);
    assert_string_equal(
        err.msg,
        want_msg(fx, "malformed NumPy header: 'shape' is not a tuple"));
    assert_false(info.header_ok);
}

static void test_npy_short_data_is_a_size_mismatch(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "short.npy");
    struct ferry_npy_info info;
    struct ferry_error err = { 0 };

    write_npy(path, 1, 0,
              "{'descr': '<f4', 'fortran_order': False, 'shape': (5, 8), }",
              100);

    assert_int_equal(ferry_npy_read(&info, path, &err), FERRY_EPROTO);
    assert_int_equal(err.code, FERRY_EPROTO);
    assert_string_equal(
        err.msg,
        want_msg(fx, "NumPy header says 160 bytes of data, file has 100"));
    assert_true(info.header_ok);
    assert_int_equal(info.rows, 5);
}

static void test_npy_extra_data_is_a_size_mismatch(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "long.npy");
    struct ferry_npy_info info;
    struct ferry_error err = { 0 };

    write_npy(path, 1, 0,
              "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", 21);

    assert_int_equal(ferry_npy_read(&info, path, &err), FERRY_EPROTO);
    assert_string_equal(
        err.msg,
        want_msg(fx, "NumPy header says 20 bytes of data, file has 21"));
    assert_true(info.header_ok);
    assert_int_equal(info.rows, 5);
}

static void test_npy_bad_magic_is_not_a_numpy_file(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "text.npy");
    struct ferry_npy_info info;
    struct ferry_error err = { 0 };

    write_text(path, "just some text, not an array\n");

    assert_int_equal(ferry_npy_read(&info, path, &err), FERRY_EPROTO);
    assert_string_equal(err.msg, want_msg(fx, "not a NumPy file (bad magic)"));
    assert_false(info.header_ok);
}

static void test_npy_header_longer_than_file_is_truncated(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "cut.npy");
    struct ferry_npy_info info;
    struct ferry_error err = { 0 };
    /* Says 118 bytes of dict follow; 14 do. */
    static const char bytes[] = "\x93NUMPY\x01\x00\x76\x00{'descr': '<f4";

    write_bytes(path, bytes, sizeof(bytes) - 1);

    assert_int_equal(ferry_npy_read(&info, path, &err), FERRY_EPROTO);
    assert_string_equal(err.msg, want_msg(fx, "truncated NumPy header"));
}

static void test_npy_file_ending_in_preamble_is_truncated(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "stub.npy");
    struct ferry_npy_info info;
    struct ferry_error err = { 0 };

    write_bytes(path, "\x93NUMPY\x01", 7);

    assert_int_equal(ferry_npy_read(&info, path, &err), FERRY_EPROTO);
    assert_string_equal(err.msg, want_msg(fx, "truncated NumPy header"));
}

static void test_npy_version_4_is_unsupported(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "v4.npy");
    struct ferry_npy_info info;
    struct ferry_error err = { 0 };

    write_npy(path, 4, 0,
              "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", 20);

    assert_int_equal(ferry_npy_read(&info, path, &err), FERRY_EPROTO);
    assert_string_equal(err.msg,
                        want_msg(fx, "unsupported NumPy format version 4.0"));
}

static void test_npy_big_endian_f4_is_flagged_not_refused(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "be.npy");
    struct ferry_npy_info info;
    struct ferry_error err = { 0 };

    write_npy(path, 1, 0,
              "{'descr': '>f4', 'fortran_order': False, 'shape': (5,), }", 20);

    assert_int_equal(ferry_npy_read(&info, path, &err), 0);
    assert_true(info.big_endian);
    assert_string_equal(info.descr, ">f4");
}

static void test_npy_single_byte_dtype_is_never_big_endian(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "bool.npy");
    struct ferry_npy_info info;
    struct ferry_error err = { 0 };

    write_npy(path, 1, 0,
              "{'descr': '>b1', 'fortran_order': False, 'shape': (5,), }", 5);

    assert_int_equal(ferry_npy_read(&info, path, &err), 0);
    assert_false(info.big_endian);
    assert_int_equal(info.itemsize, 1);
}

static void test_npy_fortran_order_is_flagged_not_refused(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "fortran.npy");
    struct ferry_npy_info info;
    struct ferry_error err = { 0 };

    write_npy(path, 1, 0,
              "{'descr': '<f4', 'fortran_order': True, 'shape': (5, 2), }", 40);

    assert_int_equal(ferry_npy_read(&info, path, &err), 0);
    assert_true(info.fortran_order);
    assert_int_equal(info.rows, 5);
}

static void test_npy_object_dtype_is_refused(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "obj.npy");
    struct ferry_npy_info info;
    struct ferry_error err = { 0 };

    write_npy(path, 1, 0,
              "{'descr': '|O', 'fortran_order': False, 'shape': (5,), }", 40);

    assert_int_equal(ferry_npy_read(&info, path, &err), FERRY_EPROTO);
    assert_string_equal(err.msg, want_msg(fx, "unsupported dtype \"|O\""));
    assert_false(info.header_ok);
}

static void test_npy_structured_dtype_is_refused(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "rec.npy");
    struct ferry_npy_info info;
    struct ferry_error err = { 0 };

    write_npy(path, 1, 0,
              "{'descr': [('a', '<i4'), ('b', '<f8')], "
              "'fortran_order': False, 'shape': (2,), }",
              24);

    assert_int_equal(ferry_npy_read(&info, path, &err), FERRY_EPROTO);
    assert_string_equal(err.msg,
                        want_msg(fx, "unsupported dtype \"[('a', '<i4'), "
                                     "('b', '<f8')]\" (structured)"));
}

static void test_npy_unicode_string_is_four_bytes_a_char(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "str.npy");
    struct ferry_npy_info info;
    struct ferry_error err = { 0 };

    write_npy(path, 1, 0,
              "{'descr': '<U10', 'fortran_order': False, 'shape': (3,), }",
              120);

    assert_int_equal(ferry_npy_read(&info, path, &err), 0);
    assert_int_equal(info.itemsize, 40);
    assert_int_equal(info.data_size, 120);
}

static void test_npy_unknown_key_is_malformed(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "key.npy");
    struct ferry_npy_info info;
    struct ferry_error err = { 0 };

    write_npy(path, 1, 0,
              "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), "
              "'extra': 1}",
              20);

    assert_int_equal(ferry_npy_read(&info, path, &err), FERRY_EPROTO);
    assert_string_equal(
        err.msg,
        want_msg(fx, "malformed NumPy header: unexpected key 'extra'"));
}

static void test_npy_missing_key_is_malformed(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "nokey.npy");
    struct ferry_npy_info info;
    struct ferry_error err = { 0 };

    write_npy(path, 1, 0, "{'descr': '<f4', 'fortran_order': False}", 20);

    assert_int_equal(ferry_npy_read(&info, path, &err), FERRY_EPROTO);
    assert_string_equal(err.msg,
                        want_msg(fx, "malformed NumPy header: no 'shape' key"));
}

static void test_npy_missing_file_is_eio(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "absent.npy");
    struct ferry_npy_info info;
    struct ferry_error err = { 0 };

    assert_int_equal(ferry_npy_read(&info, path, &err), FERRY_EIO);
    snprintf(fx->want, sizeof(fx->want),
             "cannot read \"%s\": No such file or directory", path);
    assert_string_equal(err.msg, fx->want);
}

static void test_json_rows_object_gives_first_row_fields(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "rows.json");
    const char *want[] = { "a", "b", NULL };
    struct ferry_error err = { 0 };
    char **fields;

    write_text(path, "{\"rows\":[{\"a\":1,\"b\":\"x\"}]}");

    assert_int_equal(ferry_sniff_json(&fields, path, &err), 0);
    assert_fields(fields, want);
    ferry_sniff_free_fields(fields);
}

static void test_json_white_space_between_opening_tokens(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "spaced.json");
    const char *want[] = { "id", "vec", NULL };
    struct ferry_error err = { 0 };
    char **fields;

    write_text(path, "  {\n \"rows\" : [ {\"id\": 1, \"vec\": [0.5]}\n]}\n");

    assert_int_equal(ferry_sniff_json(&fields, path, &err), 0);
    assert_fields(fields, want);
    ferry_sniff_free_fields(fields);
}

static void test_json_bare_array_gives_first_row_fields(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "array.json");
    const char *want[] = { "id", "v", NULL };
    struct ferry_error err = { 0 };
    char **fields;

    write_text(path, "[{\"id\":1,\"v\":[1,2]}]");

    assert_int_equal(ferry_sniff_json(&fields, path, &err), 0);
    assert_fields(fields, want);
    ferry_sniff_free_fields(fields);
}

static void test_json_empty_array_gives_no_fields(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "empty.json");
    const char *want[] = { NULL };
    struct ferry_error err = { 0 };
    char **fields;

    write_text(path, "[]");

    assert_int_equal(ferry_sniff_json(&fields, path, &err), 0);
    assert_fields(fields, want);
    ferry_sniff_free_fields(fields);
}

static void test_json_braces_and_quotes_in_strings_do_not_end_row(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "tricky.json");
    const char *want[] = { "s", "t", NULL };
    struct ferry_error err = { 0 };
    char **fields;

    write_text(path, "[{\"s\": \"a} \\\"b}\\\\\", \"t\": \"{\"}, {\"u\": 1}]");

    assert_int_equal(ferry_sniff_json(&fields, path, &err), 0);
    assert_fields(fields, want);
    ferry_sniff_free_fields(fields);
}

static void test_json_other_top_key_is_refused(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "data.json");
    struct ferry_error err = { 0 };
    char **fields;

    write_text(path, "{\"data\": []}");

    assert_int_equal(ferry_sniff_json(&fields, path, &err), FERRY_EPROTO);
    assert_string_equal(err.msg,
                        want_msg(fx, "does not start with {\"rows\": [ or ["));
    assert_null(fields);
}

static void test_json_first_row_not_an_object_is_refused(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "numbers.json");
    struct ferry_error err = { 0 };
    char **fields;

    write_text(path, "[1, 2, 3]");

    assert_int_equal(ferry_sniff_json(&fields, path, &err), FERRY_EPROTO);
    assert_string_equal(err.msg,
                        want_msg(fx, "first row is not a JSON object"));
}

static void test_json_first_row_of_5_mib_is_refused(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "huge.json");
    size_t n = (size_t)5 << 20;
    struct ferry_error err = { 0 };
    char **fields;
    char *text = malloc(n + 16);

    assert_non_null(text);
    memset(text, 'x', n + 16);
    memcpy(text, "[{\"a\": \"", 8);
    memcpy(text + n + 8, "\"}]", 3);
    write_bytes(path, text, n + 11);
    free(text);

    assert_int_equal(ferry_sniff_json(&fields, path, &err), FERRY_EPROTO);
    assert_string_equal(err.msg,
                        want_msg(fx, "first row is larger than 4 MiB"));
    assert_null(fields);
}

static void test_json_utf8_bom_is_accepted(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "bom.json");
    const char *want[] = { "k", NULL };
    struct ferry_error err = { 0 };
    char **fields;

    write_text(path, "\xef\xbb\xbf{\"rows\": [{\"k\": true}]}");

    assert_int_equal(ferry_sniff_json(&fields, path, &err), 0);
    assert_fields(fields, want);
    ferry_sniff_free_fields(fields);
}

static void test_json_file_ending_inside_first_row_is_refused(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "cut.json");
    struct ferry_error err = { 0 };
    char **fields;

    write_text(path, "[{\"a\": 1, \"b\": ");

    assert_int_equal(ferry_sniff_json(&fields, path, &err), FERRY_EPROTO);
    assert_string_equal(err.msg,
                        want_msg(fx, "file ends inside the first row"));
}

static void test_json_invalid_first_row_is_refused(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "bad.json");
    struct ferry_error err = { 0 };
    char **fields;

    write_text(path, "[{\"a\" 1}]");

    assert_int_equal(ferry_sniff_json(&fields, path, &err), FERRY_EPROTO);
    assert_string_equal(err.msg, want_msg(fx, "first row is not valid JSON"));
}

static void test_jsonl_gives_first_line_fields(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "rows.jsonl");
    const char *want[] = { "a", "b", NULL };
    struct ferry_error err = { 0 };
    char **fields;

    write_text(path, "{\"a\": 1, \"b\": [2]}\n{\"c\": 3}\n");

    assert_int_equal(ferry_sniff_jsonl(&fields, path, &err), 0);
    assert_fields(fields, want);
    ferry_sniff_free_fields(fields);
}

static void test_jsonl_skips_blank_lines(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "blank.jsonl");
    const char *want[] = { "x", NULL };
    struct ferry_error err = { 0 };
    char **fields;

    write_text(path, "\n  \r\n\n{\"x\": 1}\r\n");

    assert_int_equal(ferry_sniff_jsonl(&fields, path, &err), 0);
    assert_fields(fields, want);
    ferry_sniff_free_fields(fields);
}

static void test_jsonl_first_line_not_an_object_is_refused(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "array.jsonl");
    struct ferry_error err = { 0 };
    char **fields;

    write_text(path, "[1, 2]\n");

    assert_int_equal(ferry_sniff_jsonl(&fields, path, &err), FERRY_EPROTO);
    assert_string_equal(err.msg,
                        want_msg(fx, "first line is not a JSON object"));
}

static void test_jsonl_object_over_several_lines_is_refused(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "pretty.jsonl");
    struct ferry_error err = { 0 };
    char **fields;

    write_text(path, "{\n  \"a\": 1\n}\n");

    assert_int_equal(ferry_sniff_jsonl(&fields, path, &err), FERRY_EPROTO);
    assert_string_equal(err.msg,
                        want_msg(fx, "first line is not a JSON object"));
}

static void test_jsonl_two_values_on_first_line_are_refused(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "two.jsonl");
    struct ferry_error err = { 0 };
    char **fields;

    write_text(path, "{\"a\": 1} {\"a\": 2}\n");

    assert_int_equal(ferry_sniff_jsonl(&fields, path, &err), FERRY_EPROTO);
    assert_string_equal(err.msg,
                        want_msg(fx, "first line is not a JSON object"));
}

static void test_parquet_with_both_magics_passes(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "good.parquet");
    struct ferry_error err = { 0 };

    write_bytes(path, "PAR1\x15\x04\x15\x00\x00\x00\x00\x00PAR1", 16);

    assert_int_equal(ferry_sniff_parquet(path, &err), 0);
}

static void test_parquet_without_end_magic_is_refused(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "cut.parquet");
    struct ferry_error err = { 0 };

    write_bytes(path, "PAR1\x15\x04\x15\x00\x00\x00\x00\x00PAR", 15);

    assert_int_equal(ferry_sniff_parquet(path, &err), FERRY_EPROTO);
    assert_string_equal(
        err.msg, want_msg(fx, "not a Parquet file (no PAR1 at the end)"));
}

static void test_parquet_without_start_magic_is_refused(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "csv.parquet");
    struct ferry_error err = { 0 };

    write_text(path, "id,name\n1,x\nPAR1");

    assert_int_equal(ferry_sniff_parquet(path, &err), FERRY_EPROTO);
    assert_string_equal(
        err.msg, want_msg(fx, "not a Parquet file (no PAR1 at the start)"));
}

static void test_parquet_under_12_bytes_is_too_short(void **state)
{
    struct fixture *fx = *state;
    const char *path = file_in(fx, "tiny.parquet");
    struct ferry_error err = { 0 };

    write_text(path, "PAR1PAR1");

    assert_int_equal(ferry_sniff_parquet(path, &err), FERRY_EPROTO);
    assert_string_equal(err.msg,
                        want_msg(fx, "not a Parquet file (too short)"));
}

static void test_kind_of_maps_each_extension(void **state)
{
    assert_int_equal(ferry_kind_of("d/a.json"), FERRY_KIND_JSON);
    assert_int_equal(ferry_kind_of("d/a.jsonl"), FERRY_KIND_JSONL);
    assert_int_equal(ferry_kind_of("d/a.ndjson"), FERRY_KIND_JSONL);
    assert_int_equal(ferry_kind_of("d/a.parquet"), FERRY_KIND_PARQUET);
    assert_int_equal(ferry_kind_of("d/a.npy"), FERRY_KIND_NPY);
    assert_int_equal(ferry_kind_of("d/a.npz"), FERRY_KIND_OTHER);
    assert_int_equal(ferry_kind_of("d/README"), FERRY_KIND_OTHER);
}

static void test_kind_of_ignores_case(void **state)
{
    assert_int_equal(ferry_kind_of("A.JSON"), FERRY_KIND_JSON);
    assert_int_equal(ferry_kind_of("b.NdJson"), FERRY_KIND_JSONL);
    assert_int_equal(ferry_kind_of("c.Npy"), FERRY_KIND_NPY);
}

static void test_kind_of_looks_at_last_component_only(void **state)
{
    assert_int_equal(ferry_kind_of("x.npy/data"), FERRY_KIND_OTHER);
    assert_int_equal(ferry_kind_of("x.npy/data.json"), FERRY_KIND_JSON);
}

static void test_kind_names(void **state)
{
    assert_string_equal(ferry_kind_name(FERRY_KIND_JSON), "json");
    assert_string_equal(ferry_kind_name(FERRY_KIND_JSONL), "jsonl");
    assert_string_equal(ferry_kind_name(FERRY_KIND_PARQUET), "parquet");
    assert_string_equal(ferry_kind_name(FERRY_KIND_NPY), "numpy");
    assert_string_equal(ferry_kind_name(FERRY_KIND_OTHER), "other");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_npy_v1_header_gives_dtype_shape_and_sizes),
        T(test_npy_v2_header_has_four_byte_length),
        T(test_npy_v3_header_is_read),
        T(test_npy_keys_may_come_in_any_order),
        T(test_npy_scalar_shape_is_one_row_of_one_item),
        T(test_npy_one_dimension_needs_its_comma),
        T(test_npy_shape_may_end_in_a_comma),
        T(test_npy_shape_of_python2_longs_is_read),
        T(test_npy_parenthesised_int_is_not_a_shape),
        T(test_npy_short_data_is_a_size_mismatch),
        T(test_npy_extra_data_is_a_size_mismatch),
        T(test_npy_bad_magic_is_not_a_numpy_file),
        T(test_npy_header_longer_than_file_is_truncated),
        T(test_npy_file_ending_in_preamble_is_truncated),
        T(test_npy_version_4_is_unsupported),
        T(test_npy_big_endian_f4_is_flagged_not_refused),
        T(test_npy_single_byte_dtype_is_never_big_endian),
        T(test_npy_fortran_order_is_flagged_not_refused),
        T(test_npy_object_dtype_is_refused),
        T(test_npy_structured_dtype_is_refused),
        T(test_npy_unicode_string_is_four_bytes_a_char),
        T(test_npy_unknown_key_is_malformed),
        T(test_npy_missing_key_is_malformed),
        T(test_npy_missing_file_is_eio),
        T(test_json_rows_object_gives_first_row_fields),
        T(test_json_white_space_between_opening_tokens),
        T(test_json_bare_array_gives_first_row_fields),
        T(test_json_empty_array_gives_no_fields),
        T(test_json_braces_and_quotes_in_strings_do_not_end_row),
        T(test_json_other_top_key_is_refused),
        T(test_json_first_row_not_an_object_is_refused),
        T(test_json_first_row_of_5_mib_is_refused),
        T(test_json_utf8_bom_is_accepted),
        T(test_json_file_ending_inside_first_row_is_refused),
        T(test_json_invalid_first_row_is_refused),
        T(test_jsonl_gives_first_line_fields),
        T(test_jsonl_skips_blank_lines),
        T(test_jsonl_first_line_not_an_object_is_refused),
        T(test_jsonl_object_over_several_lines_is_refused),
        T(test_jsonl_two_values_on_first_line_are_refused),
        T(test_parquet_with_both_magics_passes),
        T(test_parquet_without_end_magic_is_refused),
        T(test_parquet_without_start_magic_is_refused),
        T(test_parquet_under_12_bytes_is_too_short),
        T(test_kind_of_maps_each_extension),
        T(test_kind_of_ignores_case),
        T(test_kind_of_looks_at_last_component_only),
        T(test_kind_names),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
