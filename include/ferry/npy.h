/*
 * npy.h - what kind of import file a path is, and a look at its first
 * bytes: the header of a NumPy .npy file, the field names of the first
 * row of a JSON or JSON Lines file, the magic of a Parquet file.
 *
 * These checks run before any byte is uploaded (DESIGN section 5), on
 * every file of a tree, so each reads only what it needs: a .npy header
 * (never the data), the opening of a JSON file as far as the end of
 * its first row (4 KiB first, more only for a long row), eight bytes of
 * a Parquet file.  Nothing here keeps a file
 * open after it returns.
 *
 *     struct ferry_npy_info info;
 *     int rc = ferry_npy_read(&info, path, &err);
 *     if (rc && !info.header_ok)
 *         ... the header is bad or unreadable: err.msg says why ...
 *     else if (rc)
 *         ... info is good, the data's size is not: err.msg ...
 *
 * The caller owns every struct it passes; the field arrays of the JSON
 * sniffers are the caller's to free with ferry_sniff_free_fields.
 */
#ifndef FERRY_NPY_H
#define FERRY_NPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ferry/error.h"

enum ferry_file_kind {
    FERRY_KIND_JSON,
    FERRY_KIND_JSONL,
    FERRY_KIND_PARQUET,
    FERRY_KIND_NPY,
    FERRY_KIND_OTHER,
};

/*
 * The kind of path by its extension, compared without regard to case:
 * .json; .jsonl and .ndjson; .parquet; .npy.  Only the last component
 * counts: "a.npy/b" is other.
 */
enum ferry_file_kind ferry_kind_of(const char *path);

/* "json", "jsonl", "parquet", "numpy" or "other"; a static string. */
const char *ferry_kind_name(enum ferry_file_kind k);

#define FERRY_NPY_MAX_DIMS 8

struct ferry_npy_info {
    bool header_ok;     /* every field below is set */
    int major, minor;   /* format version 1.0, 2.0 or 3.0 */
    char descr[32];     /* as written, e.g. "<f4", "|b1", "<U10" */
    bool fortran_order; /* data is column-major */
    bool big_endian;    /* big-endian data (never for 1-byte items, S) */
    size_t itemsize;    /* bytes per element: "<U10" is 40 */
    int ndim;           /* 0 for a scalar */
    uint64_t shape[FERRY_NPY_MAX_DIMS];
    uint64_t rows;       /* shape[0], or 1 for a 0-d array */
    uint64_t header_len; /* bytes before the data */
    uint64_t data_size;  /* itemsize x product(shape) */
    uint64_t file_size;
};

/*
 * Reads the header of the .npy file at path into *out (NumPy's format
 * versions 1.0, 2.0 and 3.0) and checks that header_len + data_size is
 * the size of the file.  The header dict may hold its three keys in any
 * order, with Python 2 "5L" integers, spaces, a trailing comma and any
 * padding.  Supported dtypes: b1 i1 i2 i4 i8 u1 u2 u4 u8 f2 f4 f8 and
 * U<n>, S<n>, with or without a '<', '>', '|' or '=' prefix; object,
 * structured and other dtypes are refused.  Big-endian data and Fortran
 * order are not errors here: they are reported in *out for the caller
 * to judge.
 *
 * Returns 0, FERRY_EIO when the file cannot be read, or FERRY_EPROTO
 * with one of these messages (path in quotes):
 *     "P": not a NumPy file (bad magic)
 *     "P": unsupported NumPy format version M.N
 *     "P": truncated NumPy header
 *     "P": malformed NumPy header: <what is wrong>
 *     "P": unsupported dtype "X"   (with " (structured)" for a list)
 *     "P": NumPy shape has more than 8 dimensions
 *     "P": NumPy header says N bytes of data, file has M
 * Only in the last case is out->header_ok true and *out filled, so the
 * caller can still compare rows; otherwise *out is zeroed.
 */
int ferry_npy_read(struct ferry_npy_info *out, const char *path,
                   struct ferry_error *err);

/* The most of a first row that the JSON sniffers read. */
#define FERRY_SNIFF_MAX_ROW ((size_t)4 << 20)
/* The most white space (and blank lines) they skip to reach it. */
#define FERRY_SNIFF_MAX_LEAD ((size_t)64 << 10)

/*
 * Checks that the JSON file at path starts, after white space and an
 * optional UTF-8 byte order mark, with {"rows": [ (white space allowed
 * between the tokens, the key exactly "rows") or with [, and returns the
 * field names of the first row in *out: a NULL-terminated array in the
 * file's order, which the caller frees with ferry_sniff_free_fields.  An
 * empty list of rows gives an empty array.  Nothing after the first row
 * is checked.  On error *out is NULL and the message is one of:
 *     "P": does not start with {"rows": [ or [
 *     "P": first row is not a JSON object
 *     "P": first row is not valid JSON
 *     "P": first row is larger than 4 MiB
 *     "P": file ends before the first row
 *     "P": file ends inside the first row
 *     "P": no row within the first 64 KiB
 * (FERRY_EPROTO), or an I/O error (FERRY_EIO).
 */
int ferry_sniff_json(char ***out, const char *path, struct ferry_error *err);

/*
 * The same for JSON Lines: blank lines are skipped, and the first other
 * line must hold exactly one JSON object ("first line is not a JSON
 * object" otherwise).  A file of blank lines gives an empty array.
 */
int ferry_sniff_jsonl(char ***out, const char *path, struct ferry_error *err);

/* Frees an array from ferry_sniff_json or _jsonl; NULL is fine. */
void ferry_sniff_free_fields(char **fields);

/*
 * Checks that the file at path is at least 12 bytes long and starts and
 * ends with "PAR1", the magic of the Parquet format.  FERRY_EPROTO with
 * "P": not a Parquet file (...), or FERRY_EIO.
 */
int ferry_sniff_parquet(const char *path, struct ferry_error *err);

#endif
