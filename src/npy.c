/* npy.c - file kinds and first-bytes checks; see include/ferry/npy.h. */
#include "ferry/npy.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ferry/buf.h"

/* Enough for the 64- or 128-byte headers NumPy writes for plain arrays. */
#define NPY_FIRST_READ 512
/* Far above any header of a supported dtype; NumPy's own cap is 10000. */
#define NPY_MAX_DICT 65536
/* NumPy keeps an itemsize in a C int. */
#define NPY_MAX_ITEMSIZE ((uint64_t)INT32_MAX)

#define JSON_FIRST_READ 4096
#define JSON_MAX_CHUNK ((size_t)1 << 20)

enum ferry_file_kind ferry_kind_of(const char *path)
{
    const char *base = strrchr(path, '/');
    const char *dot;

    dot = strrchr(base ? base + 1 : path, '.');
    if (!dot)
        return FERRY_KIND_OTHER;
    if (!strcasecmp(dot, ".json"))
        return FERRY_KIND_JSON;
    if (!strcasecmp(dot, ".jsonl") || !strcasecmp(dot, ".ndjson"))
        return FERRY_KIND_JSONL;
    if (!strcasecmp(dot, ".parquet"))
        return FERRY_KIND_PARQUET;
    if (!strcasecmp(dot, ".npy"))
        return FERRY_KIND_NPY;
    return FERRY_KIND_OTHER;
}

const char *ferry_kind_name(enum ferry_file_kind k)
{
    switch (k) {
    case FERRY_KIND_JSON: return "json";
    case FERRY_KIND_JSONL: return "jsonl";
    case FERRY_KIND_PARQUET: return "parquet";
    case FERRY_KIND_NPY: return "numpy";
    case FERRY_KIND_OTHER: break;
    }
    return "other";
}

static int io_error(const char *path, struct ferry_error *err)
{
    return ferry_error_set(err, FERRY_EIO, "cannot read \"%s\": %s", path,
                           strerror(errno));
}

/* A FERRY_EPROTO error about the file at path. */
static int file_error(const char *path, struct ferry_error *err,
                      const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int file_error(const char *path, struct ferry_error *err,
                      const char *fmt, ...)
{
    char what[sizeof(err->msg)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return ferry_error_set(err, FERRY_EPROTO, "\"%s\": %s", path, what);
}

static int open_file(int *fd, struct stat *st, const char *path,
                     struct ferry_error *err)
{
    int rc;

    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0)
        return io_error(path, err);
    if (fstat(*fd, st) == 0)
        return 0;
    rc = io_error(path, err);
    close(*fd);
    *fd = -1;
    return rc;
}

/* Reads n bytes at off, fewer only where the file ends; -1 on error. */
static ssize_t read_at(int fd, void *buf, size_t n, uint64_t off)
{
    size_t got = 0;
    ssize_t r;

    while (got < n) {
        r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/*
 * The NumPy header dict, in Python literal syntax, as parsed: p walks
 * from the '{' to end.  A failing step writes the message in why.
 */
struct hdr {
    const char *p;
    const char *end;
    struct ferry_npy_info *out;
    char why[256];
};

static int hfail(struct hdr *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int hfail(struct hdr *h, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(h->why, sizeof(h->why), fmt, ap);
    va_end(ap);
    return -1;
}

static int malformed(struct hdr *h, const char *what)
{
    return hfail(h, "malformed NumPy header: %s", what);
}

static void skip_pyws(struct hdr *h)
{
    while (h->p < h->end && *h->p && strchr(" \t\n\r\f\v", *h->p))
        h->p++;
}

static bool eat(struct hdr *h, char c)
{
    if (h->p >= h->end || *h->p != c)
        return false;
    h->p++;
    return true;
}

/* Takes word when it stands alone, as Python's True or False. */
static bool eat_word(struct hdr *h, const char *word)
{
    size_t n = strlen(word);
    const char *after = h->p + n;

    if ((size_t)(h->end - h->p) < n || memcmp(h->p, word, n))
        return false;
    if (after < h->end && (*after == '_' || isalnum((unsigned char)*after)))
        return false;
    h->p = after;
    return true;
}

/*
 * A quoted Python string ('...' or "...", optionally u-prefixed) into
 * buf.  Returns 0, 1 when it was cut to fit buf, -1 when there is none.
 */
static int parse_pystr(struct hdr *h, char *buf, size_t size)
{
    size_t n = 0;
    bool cut = false;
    char q;

    if (h->end - h->p > 1 && (*h->p == 'u' || *h->p == 'U'))
        h->p++;
    if (h->p >= h->end || (*h->p != '\'' && *h->p != '"'))
        return -1;
    q = *h->p++;
    while (h->p < h->end && *h->p != q && *h->p != '\n') {
        if (*h->p == '\\' && h->end - h->p > 1)
            h->p++;
        if (n + 1 < size)
            buf[n++] = *h->p;
        else
            cut = true;
        h->p++;
    }
    buf[n] = '\0';
    if (!eat(h, q))
        return -1;
    return cut ? 1 : 0;
}

/* A non-negative Python int, with the "L" Python 2 wrote after longs. */
static int parse_pyint(struct hdr *h, uint64_t *v)
{
    const char *start = h->p;

    *v = 0;
    while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
        if (__builtin_mul_overflow(*v, 10, v) ||
            __builtin_add_overflow(*v, (uint64_t)(*h->p - '0'), v))
            return hfail(h, "malformed NumPy header: 'shape' value is "
                            "over 64 bits");
        h->p++;
    }
    if (h->p == start)
        return malformed(h, "'shape' is not a tuple of non-negative "
                            "integers");
    if (h->p < h->end && (*h->p == 'L' || *h->p == 'l'))
        h->p++;
    return 0;
}

static bool host_big_endian(void)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return true;
#else
    return false;
#endif
}

/* A decimal count, digits only; -1 when absent, stray or over max. */
static int parse_count(const char *s, uint64_t max, uint64_t *n)
{
    *n = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        *n = *n * 10 + (uint64_t)(*s - '0');
        if (*n > max)
            return -1;
    }
    return 0;
}

/* Sets itemsize and big_endian from descr; -1 when not supported. */
static int parse_dtype(struct ferry_npy_info *o)
{
    const char *s = o->descr;
    char order = '=';
    uint64_t n;
    size_t unit;

    if (*s && strchr("<>|=", *s))
        order = *s++;
    if (!*s || parse_count(s + 1, NPY_MAX_ITEMSIZE / 4, &n))
        return -1;
    switch (*s) {
    case 'b': unit = n == 1 ? 1 : 0; break;
    case 'i':
    case 'u': unit = n == 1 || n == 2 || n == 4 || n == 8 ? n : 0; break;
    case 'f': unit = n == 2 || n == 4 || n == 8 ? n : 0; break;
    case 'U': unit = n ? 4 : 0; break;
    case 'S': unit = n ? 1 : 0; break;
    default: return -1;
    }
    if (!unit)
        return -1;
    o->itemsize = (size_t)(*s == 'U' ? 4 * n : n);
    /* '|' (not applicable) and '=' mean the writer's, taken as ours. */
    o->big_endian =
        unit > 1 && (order == '>' || (order != '<' && host_big_endian()));
    return 0;
}

/* A structured dtype is a Python list; names it and refuses it. */
static int refuse_structured(struct hdr *h)
{
    const char *s = h->p;
    int depth = 0;
    char q = 0;

    for (; s < h->end; s++) {
        if (q && *s == '\\' && h->end - s > 1)
            s++;
        else if (q && *s == q)
            q = 0;
        else if (!q && (*s == '\'' || *s == '"'))
            q = *s;
        else if (!q && (*s == '[' || *s == '('))
            depth++;
        else if (!q && (*s == ']' || *s == ')') && --depth == 0)
            break;
    }
    if (s - h->p < 40 && s < h->end)
        return hfail(h, "unsupported dtype \"%.*s\" (structured)",
                     (int)(s + 1 - h->p), h->p);
    return hfail(h, "unsupported dtype \"%.36s...\" (structured)", h->p);
}

static int parse_descr(struct hdr *h)
{
    struct ferry_npy_info *o = h->out;
    int rc;

    if (h->p < h->end && *h->p == '[')
        return refuse_structured(h);
    rc = parse_pystr(h, o->descr, sizeof(o->descr));
    if (rc < 0)
        return malformed(h, "'descr' is not a string");
    if (rc > 0)
        return hfail(h, "unsupported dtype \"%s...\"", o->descr);
    if (parse_dtype(o))
        return hfail(h, "unsupported dtype \"%s\"", o->descr);
    return 0;
}

static int parse_fortran(struct hdr *h)
{
    if (eat_word(h, "True"))
        h->out->fortran_order = true;
    else if (eat_word(h, "False"))
        h->out->fortran_order = false;
    else
        return malformed(h, "'fortran_order' is not True or False");
    return 0;
}

/* A tuple: () or (5,) or (5, 8) or (5, 8,); (5) is an int in Python. */
static int parse_shape(struct hdr *h)
{
    struct ferry_npy_info *o = h->out;
    bool comma = false;

    if (!eat(h, '('))
        return malformed(h, "'shape' is not a tuple");
    for (;;) {
        skip_pyws(h);
        if (eat(h, ')'))
            break;
        if (o->ndim == FERRY_NPY_MAX_DIMS)
            return hfail(h, "NumPy shape has more than %d dimensions",
                         FERRY_NPY_MAX_DIMS);
        if (parse_pyint(h, &o->shape[o->ndim]))
            return -1;
        o->ndim++;
        skip_pyws(h);
        comma = eat(h, ',');
        if (!comma && !eat(h, ')'))
            return malformed(h, "'shape' lacks a ',' or ')'");
        if (!comma)
            break;
    }
    if (o->ndim == 1 && !comma)
        return malformed(h, "'shape' is not a tuple");
    return 0;
}

static const char *const npy_keys[] = { "descr", "fortran_order", "shape" };

/* The index of key in npy_keys, or 3 when it is none of them. */
static unsigned key_index(const char *key)
{
    unsigned k;

    for (k = 0; k < 3; k++)
        if (!strcmp(key, npy_keys[k]))
            break;
    return k;
}

static int parse_entry(struct hdr *h, unsigned *seen)
{
    char key[32];
    unsigned k;
    int rc;

    rc = parse_pystr(h, key, sizeof(key));
    if (rc < 0)
        return malformed(h, "a key is not a quoted string");
    k = rc ? 3 : key_index(key);
    if (k == 3)
        return hfail(h, "malformed NumPy header: unexpected key '%s%s'", key,
                     rc ? "..." : "");
    if (*seen & (1u << k))
        return hfail(h, "malformed NumPy header: duplicate key '%s'", key);
    *seen |= 1u << k;
    skip_pyws(h);
    if (!eat(h, ':'))
        return hfail(h, "malformed NumPy header: no ':' after '%s'", key);
    skip_pyws(h);
    if (k == 0)
        return parse_descr(h);
    return k == 1 ? parse_fortran(h) : parse_shape(h);
}

static int parse_entries(struct hdr *h)
{
    unsigned seen = 0;
    unsigned k;

    skip_pyws(h);
    if (!eat(h, '{'))
        return malformed(h, "it does not start with '{'");
    for (;;) {
        skip_pyws(h);
        if (eat(h, '}'))
            break;
        if (parse_entry(h, &seen))
            return -1;
        skip_pyws(h);
        if (eat(h, '}'))
            break;
        if (!eat(h, ','))
            return malformed(h, "a value is not followed by ',' or '}'");
    }
    skip_pyws(h);
    if (h->p != h->end)
        return malformed(h, "text after the closing '}'");
    for (k = 0; k < 3; k++)
        if (!(seen & (1u << k)))
            return hfail(h, "malformed NumPy header: no '%s' key", npy_keys[k]);
    return 0;
}

static int count_data(struct hdr *h)
{
    struct ferry_npy_info *o = h->out;
    uint64_t size = o->itemsize;
    int i;

    o->rows = o->ndim ? o->shape[0] : 1;
    for (i = 0; i < o->ndim; i++)
        if (__builtin_mul_overflow(size, o->shape[i], &size))
            return malformed(h, "the data size is over 64 bits");
    o->data_size = size;
    return 0;
}

static int parse_dict(struct ferry_npy_info *out, const struct ferry_buf *dict,
                      const char *path, struct ferry_error *err)
{
    struct hdr h = { dict->data, dict->data + dict->len, out, "" };

    if (parse_entries(&h) || count_data(&h))
        return file_error(path, err, "%s", h.why);
    return 0;
}

/*
 * The fixed part: magic, version, and the dict's length (two bytes
 * little-endian in 1.0, four in 2.0 and 3.0).  Sets *fixed to its size.
 */
static int check_preamble(struct ferry_npy_info *out, size_t *fixed,
                          uint64_t *dict_len, const unsigned char *p, size_t n,
                          const char *path, struct ferry_error *err)
{
    if (!n || memcmp(p, "\x93NUMPY", n < 6 ? n : 6))
        return file_error(path, err, "not a NumPy file (bad magic)");
    if (n < 8)
        return file_error(path, err, "truncated NumPy header");
    out->major = p[6];
    out->minor = p[7];
    if (out->major < 1 || out->major > 3 || out->minor != 0)
        return file_error(path, err, "unsupported NumPy format version %d.%d",
                          out->major, out->minor);
    *fixed = out->major == 1 ? 10 : 12;
    if (n < *fixed)
        return file_error(path, err, "truncated NumPy header");
    *dict_len = (uint64_t)p[8] | (uint64_t)p[9] << 8;
    if (out->major > 1)
        *dict_len |= (uint64_t)p[10] << 16 | (uint64_t)p[11] << 24;
    if (*dict_len > NPY_MAX_DICT)
        return file_error(path, err,
                          "malformed NumPy header: it says it is %" PRIu64
                          " bytes long, over %d",
                          *dict_len, NPY_MAX_DICT);
    return 0;
}

/* Reads the header dict's text into dict; sets out's version and sizes. */
static int read_header(struct ferry_npy_info *out, struct ferry_buf *dict,
                       int fd, const char *path, struct ferry_error *err)
{
    unsigned char first[NPY_FIRST_READ];
    uint64_t dict_len = 0;
    size_t fixed = 0, want, have;
    ssize_t n;
    int rc;

    want = sizeof(first);
    if (out->file_size < want)
        want = (size_t)out->file_size;
    n = read_at(fd, first, want, 0);
    if (n < 0)
        return io_error(path, err);
    rc = check_preamble(out, &fixed, &dict_len, first, (size_t)n, path, err);
    if (rc)
        return rc;
    out->header_len = fixed + dict_len;
    if (out->header_len > out->file_size)
        return file_error(path, err, "truncated NumPy header");
    have = (size_t)n - fixed < dict_len ? (size_t)n - fixed : dict_len;
    ferry_buf_add(dict, first + fixed, have);
    if (have == dict_len)
        return 0;
    ferry_buf_grow(dict, dict_len - have);
    n = read_at(fd, dict->data + have, dict_len - have, fixed + have);
    if (n < 0)
        return io_error(path, err);
    if ((size_t)n < dict_len - have)
        return file_error(path, err, "truncated NumPy header");
    dict->len = dict_len;
    dict->data[dict->len] = '\0';
    return 0;
}

static int check_size(struct ferry_npy_info *out, const char *path,
                      struct ferry_error *err)
{
    uint64_t have = out->file_size - out->header_len;

    out->header_ok = true;
    if (out->data_size == have)
        return 0;
    return file_error(path, err,
                      "NumPy header says %" PRIu64 " bytes of data, file has "
                      "%" PRIu64,
                      out->data_size, have);
}

int ferry_npy_read(struct ferry_npy_info *out, const char *path,
                   struct ferry_error *err)
{
    struct ferry_buf dict;
    struct stat st;
    int fd, rc;

    memset(out, 0, sizeof(*out));
    rc = open_file(&fd, &st, path, err);
    if (rc)
        return rc;
    out->file_size = (uint64_t)st.st_size;
    ferry_buf_init(&dict);
    rc = read_header(out, &dict, fd, path, err);
    if (!rc)
        rc = parse_dict(out, &dict, path, err);
    close(fd);
    ferry_buf_release(&dict);
    if (!rc)
        rc = check_size(out, path, err);
    if (rc && !out->header_ok)
        memset(out, 0, sizeof(*out));
    return rc;
}

/*
 * The opening of a JSON file, read in growing chunks as the scan asks
 * for bytes.  Nothing at or past limit is read.
 */
struct jreader {
    int fd;
    const char *path;
    struct ferry_error *err;
    struct ferry_buf buf; /* the file's bytes [0, buf.len) */
    uint64_t size;        /* as fstat saw it; reads stop there */
    size_t limit;
    size_t chunk; /* size of the next read */
    bool eof;     /* the file ends at buf.len */
    bool over;    /* a byte at or past limit was asked for */
    int rc;       /* FERRY_EIO once a read failed */
};

static int jr_open(struct jreader *r, const char *path, struct ferry_error *err)
{
    struct stat st;
    int rc;

    memset(r, 0, sizeof(*r));
    r->path = path;
    r->err = err;
    r->limit = FERRY_SNIFF_MAX_LEAD;
    r->chunk = JSON_FIRST_READ;
    ferry_buf_init(&r->buf);
    rc = open_file(&r->fd, &st, path, err);
    if (!rc)
        r->size = (uint64_t)st.st_size;
    return rc;
}

static void jr_close(struct jreader *r)
{
    close(r->fd);
    ferry_buf_release(&r->buf);
}

static int jr_fill(struct jreader *r)
{
    size_t n = r->chunk;
    ssize_t got;

    if (n > r->limit - r->buf.len)
        n = r->limit - r->buf.len;
    if (n > r->size - r->buf.len)
        n = (size_t)(r->size - r->buf.len);
    if (!n) {
        r->eof = true;
        return 0;
    }
    ferry_buf_grow(&r->buf, n);
    got = read_at(r->fd, r->buf.data + r->buf.len, n, r->buf.len);
    if (got < 0) {
        r->rc = io_error(r->path, r->err);
        return -1;
    }
    r->buf.len += (size_t)got;
    r->buf.data[r->buf.len] = '\0';
    r->eof = (size_t)got < n || r->buf.len == r->size;
    if (r->chunk < JSON_MAX_CHUNK)
        r->chunk *= 2;
    return 0;
}

/* The byte at offset i; -1 at the end, past the limit or on error. */
static int peek(struct jreader *r, size_t i)
{
    while (i >= r->buf.len) {
        if (r->eof || r->rc)
            return -1;
        if (i >= r->limit) {
            r->over = true;
            return -1;
        }
        if (jr_fill(r))
            return -1;
    }
    return (unsigned char)r->buf.data[i];
}

static int sniff_error(struct jreader *r, const char *what)
{
    return file_error(r->path, r->err, "%s", what);
}

/* The error for a peek that gave -1: the read's, the limit's or at_end. */
static int jr_fail(struct jreader *r, const char *over, const char *at_end)
{
    if (r->rc)
        return r->rc;
    return sniff_error(r, r->over ? over : at_end);
}

static int lead_fail(struct jreader *r, const char *at_end)
{
    return jr_fail(r, "no row within the first 64 KiB", at_end);
}

static size_t skip_ws(struct jreader *r, size_t i)
{
    int c;

    while ((c = peek(r, i)) == ' ' || c == '\t' || c == '\n' || c == '\r')
        i++;
    return i;
}

static size_t skip_bom(struct jreader *r)
{
    if (peek(r, 0) == 0xef && peek(r, 1) == 0xbb && peek(r, 2) == 0xbf)
        return 3;
    return 0;
}

/* After the '{' at *i: "rows" : [ with white space; *i ends at the '['. */
static bool eat_rows_key(struct jreader *r, size_t *i)
{
    const char *key = "\"rows\"";
    size_t k;

    *i = skip_ws(r, *i + 1);
    for (k = 0; key[k]; k++)
        if (peek(r, *i + k) != key[k])
            return false;
    *i = skip_ws(r, *i + k);
    if (peek(r, *i) != ':')
        return false;
    *i = skip_ws(r, *i + 1);
    return peek(r, *i) == '[';
}

/* Sets *start to the first row's '{', or SIZE_MAX when rows are []. */
static int find_first_row(struct jreader *r, size_t *start)
{
    const char *bad_start = "does not start with {\"rows\": [ or [";
    size_t i = skip_ws(r, skip_bom(r));
    int c = peek(r, i);

    if (c == '{' && !eat_rows_key(r, &i))
        return lead_fail(r, bad_start);
    if (c != '{' && c != '[')
        return lead_fail(r, bad_start);
    i = skip_ws(r, i + 1);
    c = peek(r, i);
    if (c == ']' || c == '{') {
        *start = c == ']' ? SIZE_MAX : i;
        return 0;
    }
    if (c < 0)
        return lead_fail(r, "file ends before the first row");
    return sniff_error(r, "first row is not a JSON object");
}

/*
 * Sets *end just past the '}' that closes the '{' at start, counting
 * brackets outside strings; in a line, a new line ends the row early.
 */
static int row_end(struct jreader *r, size_t start, bool line, size_t *end)
{
    bool in_str = false, esc = false;
    long depth = 0;
    size_t i;
    int c;

    for (i = start; (c = peek(r, i)) >= 0; i++) {
        if (line && c == '\n')
            return sniff_error(r, "first line is not a JSON object");
        if (in_str && esc) {
            esc = false;
        } else if (in_str) {
            esc = c == '\\';
            in_str = c != '"';
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if ((c == '}' || c == ']') && --depth == 0) {
            *end = i + 1;
            return 0;
        }
    }
    return jr_fail(r, "first row is larger than 4 MiB",
                   "file ends inside the first row");
}

static char **empty_fields(void)
{
    return ferry_xcalloc(1, sizeof(char *));
}

static int row_fields(char ***out, struct jreader *r, size_t start, size_t end)
{
    const char *text = r->buf.data + start;
    const char *stop = NULL;
    cJSON *row, *f;
    size_t k = 0;

    row = cJSON_ParseWithLengthOpts(text, end - start, &stop, 0);
    if (!row || !cJSON_IsObject(row) || stop != text + (end - start)) {
        cJSON_Delete(row);
        return sniff_error(r, "first row is not valid JSON");
    }
    *out = ferry_xcalloc((size_t)cJSON_GetArraySize(row) + 1, sizeof(char *));
    cJSON_ArrayForEach (f, row) {
        (*out)[k++] = ferry_xstrdup(f->string);
    }
    cJSON_Delete(row);
    return 0;
}

/* A line of JSON Lines may end in white space, then '\n' or the file. */
static int check_line_rest(struct jreader *r, size_t i)
{
    int c;

    while ((c = peek(r, i)) == ' ' || c == '\t' || c == '\r')
        i++;
    if (c == '\n' || (c < 0 && !r->rc))
        return 0;
    if (r->rc)
        return r->rc;
    return sniff_error(r, "first line is not a JSON object");
}

static int read_row(char ***out, struct jreader *r, size_t start, bool line)
{
    size_t end = start;
    int rc;

    r->limit = start + FERRY_SNIFF_MAX_ROW;
    rc = row_end(r, start, line, &end);
    if (!rc && line)
        rc = check_line_rest(r, end);
    if (!rc)
        rc = row_fields(out, r, start, end);
    return rc;
}

int ferry_sniff_json(char ***out, const char *path, struct ferry_error *err)
{
    struct jreader r;
    size_t start = SIZE_MAX;
    int rc;

    *out = NULL;
    rc = jr_open(&r, path, err);
    if (rc)
        return rc;
    rc = find_first_row(&r, &start);
    if (!rc && start == SIZE_MAX)
        *out = empty_fields();
    else if (!rc)
        rc = read_row(out, &r, start, false);
    jr_close(&r);
    return rc;
}

int ferry_sniff_jsonl(char ***out, const char *path, struct ferry_error *err)
{
    struct jreader r;
    size_t i;
    int rc, c;

    *out = NULL;
    rc = jr_open(&r, path, err);
    if (rc)
        return rc;
    i = skip_ws(&r, skip_bom(&r));
    c = peek(&r, i);
    if (c == '{')
        rc = read_row(out, &r, i, true);
    else if (c >= 0)
        rc = sniff_error(&r, "first line is not a JSON object");
    else if (r.rc || r.over)
        rc = lead_fail(&r, "");
    else
        *out = empty_fields();
    jr_close(&r);
    return rc;
}

void ferry_sniff_free_fields(char **fields)
{
    size_t k;

    if (!fields)
        return;
    for (k = 0; fields[k]; k++)
        free(fields[k]);
    free(fields);
}

static int check_parquet(int fd, uint64_t size, const char *path,
                         struct ferry_error *err)
{
    unsigned char head[4], tail[4];
    ssize_t a, b;

    if (size < 12)
        return file_error(path, err, "not a Parquet file (too short)");
    a = read_at(fd, head, sizeof(head), 0);
    b = a < 0 ? -1 : read_at(fd, tail, sizeof(tail), size - 4);
    if (a < 0 || b < 0)
        return io_error(path, err);
    if (a < 4 || b < 4)
        return file_error(path, err, "not a Parquet file (too short)");
    if (memcmp(head, "PAR1", 4))
        return file_error(path, err,
                          "not a Parquet file (no PAR1 at the "
                          "start)");
    if (memcmp(tail, "PAR1", 4))
        return file_error(path, err,
                          "not a Parquet file (no PAR1 at the "
                          "end)");
    return 0;
}

int ferry_sniff_parquet(const char *path, struct ferry_error *err)
{
    struct stat st;
    int fd, rc;

    rc = open_file(&fd, &st, path, err);
    if (rc)
        return rc;
    rc = check_parquet(fd, (uint64_t)st.st_size, path, err);
    close(fd);
    return rc;
}
