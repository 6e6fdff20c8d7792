/*
 * test_sigv4.c - the signer against published and generated vectors.
 *
 * Data (tests/data/sigv4, see its README for sources and licences):
 *  - aws-sig-v4-test-suite/: AWS's generic suite, 38 cases, non-S3 rules;
 *  - s3-doc-examples.json: the four worked examples of the S3 manual;
 *  - botocore-s3.json: S3 cases whose expectations botocore produced.
 * Each case is its own cmocka test, named after the case.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <dirent.h>
#include <stdbool.h>

#include "ferry/sigv4.h"
#include "ferry/strutil.h"
#include "testutil.h"

#define MAXH 32

/* A parsed request.txt of the generic suite. */
struct raw_request {
    char method[16];
    struct ferry_buf path;
    struct ferry_sigv4_pair query[MAXH];
    size_t nquery;
    struct ferry_sigv4_pair headers[MAXH];
    size_t nheaders;
    const char *body;
    char *text;
};

static char *decode_dup(const char *s, size_t n)
{
    struct ferry_buf b;

    ferry_buf_init(&b);
    assert_int_equal(ferry_uri_decode(&b, s, n), 0);
    return ferry_buf_detach(&b);
}

static void parse_query(struct raw_request *r, char *q)
{
    while (q && *q) {
        char *amp = strchr(q, '&');
        char *eq;
        size_t n = amp ? (size_t)(amp - q) : strlen(q);

        eq = memchr(q, '=', n);
        r->query[r->nquery].name = decode_dup(q, eq ? (size_t)(eq - q) : n);
        r->query[r->nquery].value =
            eq ? decode_dup(eq + 1, n - (size_t)(eq + 1 - q)) : strdup("");
        r->nquery++;
        q = amp ? amp + 1 : NULL;
    }
}

/* Folded lines join their header with a space. */
static void parse_headers(struct raw_request *r, char *p)
{
    while (*p && *p != '\n') {
        char *eol = strchr(p, '\n');
        char *colon;

        if (eol)
            *eol = '\0';
        if (isspace((unsigned char)*p) && r->nheaders) {
            struct ferry_sigv4_pair *h = &r->headers[r->nheaders - 1];
            char *joined;

            assert_true(asprintf(&joined, "%s %s", h->value, p) > 0);
            free((char *)h->value);
            h->value = joined;
        } else {
            colon = strchr(p, ':');
            assert_non_null(colon);
            r->headers[r->nheaders].name = strndup(p, (size_t)(colon - p));
            r->headers[r->nheaders].value = strdup(colon + 1);
            r->nheaders++;
        }
        if (!eol)
            return;
        p = eol + 1;
    }
    r->body = *p == '\n' ? p + 1 : "";
}

static void parse_request(struct raw_request *r, const char *dir)
{
    char rel[256], *sp1, *sp2, *q, *nl;

    memset(r, 0, sizeof(*r));
    snprintf(rel, sizeof(rel), "sigv4/aws-sig-v4-test-suite/%s/request.txt",
             dir);
    r->text = test_read_data(rel, NULL);
    assert_non_null(r->text);
    nl = strchr(r->text, '\n');
    *nl = '\0';
    sp1 = strchr(r->text, ' ');
    sp2 = strrchr(r->text, ' ');
    snprintf(r->method, sizeof(r->method), "%.*s", (int)(sp1 - r->text),
             r->text);
    *sp2 = '\0';
    q = strchr(sp1 + 1, '?');
    if (q)
        *q++ = '\0';
    ferry_buf_init(&r->path);
    ferry_buf_adds(&r->path, sp1 + 1);
    parse_query(r, q);
    parse_headers(r, nl + 1);
}

static void free_request(struct raw_request *r)
{
    size_t i;

    for (i = 0; i < r->nquery; i++) {
        free((char *)r->query[i].name);
        free((char *)r->query[i].value);
    }
    for (i = 0; i < r->nheaders; i++) {
        free((char *)r->headers[i].name);
        free((char *)r->headers[i].value);
    }
    ferry_buf_release(&r->path);
    free(r->text);
}

static char *suite_file(const char *dir, const char *file)
{
    char rel[256];

    snprintf(rel, sizeof(rel), "sigv4/aws-sig-v4-test-suite/%s/%s", dir, file);
    return test_read_data(rel, NULL);
}

static const char *json_str(cJSON *o, const char *name)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* One case of the generic suite, header form. */
static void test_suite_case(void **state)
{
    const char *dir = *state;
    struct raw_request r;
    struct ferry_sigv4_result res;
    struct ferry_sigv4_request req = { 0 };
    char rel[256], body_hash[65];
    char *want_cr, *want_sts, *want_sig;
    cJSON *ctx, *creds;
    const char *token;

    parse_request(&r, dir);
    snprintf(rel, sizeof(rel), "sigv4/aws-sig-v4-test-suite/%s/context.json",
             dir);
    ctx = test_load_json(rel);
    assert_non_null(ctx);
    creds = cJSON_GetObjectItem(ctx, "credentials");
    token = json_str(creds, "token");

    ferry_sha256_hex(body_hash, r.body, strlen(r.body));
    r.headers[r.nheaders++] =
        (struct ferry_sigv4_pair){ strdup("X-Amz-Date"),
                                   strdup("20150830T123600Z") };
    if (token && !cJSON_IsTrue(cJSON_GetObjectItem(ctx, "omit_session_token")))
        r.headers[r.nheaders++] =
            (struct ferry_sigv4_pair){ strdup("X-Amz-Security-Token"),
                                       strdup(token) };
    if (cJSON_IsTrue(cJSON_GetObjectItem(ctx, "sign_body")))
        r.headers[r.nheaders++] =
            (struct ferry_sigv4_pair){ strdup("X-Amz-Content-Sha256"),
                                       strdup(body_hash) };

    req.dialect = &ferry_sigv4_aws;
    req.method = r.method;
    req.path = r.path.data;
    req.query = r.query;
    req.nquery = r.nquery;
    req.headers = r.headers;
    req.nheaders = r.nheaders;
    req.payload_hash = body_hash;
    req.access_key = json_str(creds, "access_key_id");
    req.secret_key = json_str(creds, "secret_access_key");
    req.region = json_str(ctx, "region");
    req.service = json_str(ctx, "service");
    req.timestamp = "20150830T123600Z";
    req.normalize_path = cJSON_IsTrue(cJSON_GetObjectItem(ctx, "normalize"));

    ferry_sigv4_result_init(&res);
    assert_int_equal(ferry_sigv4_sign(&res, &req), 0);
    want_cr = suite_file(dir, "header-canonical-request.txt");
    want_sts = suite_file(dir, "header-string-to-sign.txt");
    want_sig = suite_file(dir, "header-signature.txt");
    assert_string_equal(res.canonical_request.data, want_cr);
    assert_string_equal(res.string_to_sign.data, want_sts);
    assert_string_equal(res.signature, want_sig);

    free(want_cr);
    free(want_sts);
    free(want_sig);
    ferry_sigv4_result_release(&res);
    cJSON_Delete(ctx);
    free_request(&r);
}

/* Signs a case of the JSON files (S3 doc examples, botocore cases). */
struct json_case {
    cJSON *c;
};

static void pairs_from(struct ferry_sigv4_pair *out, size_t *n, cJSON *arr)
{
    cJSON *item;

    cJSON_ArrayForEach (item, arr) {
        out[*n].name = cJSON_GetArrayItem(item, 0)->valuestring;
        out[*n].value = cJSON_GetArrayItem(item, 1)->valuestring;
        (*n)++;
    }
}

static void test_s3_doc_example(void **state)
{
    cJSON *c = *state, *h;
    struct ferry_sigv4_pair headers[MAXH];
    size_t nh = 0;
    struct ferry_sigv4_request req = { 0 };
    struct ferry_sigv4_result res;
    const char *want_auth = json_str(c, "authorization");
    struct ferry_buf auth_nospace;
    char *raw_path;
    size_t i;

    cJSON_ArrayForEach (h, cJSON_GetObjectItem(c, "headers")) {
        headers[nh].name = h->string;
        headers[nh++].value = h->valuestring;
    }
    req.dialect = &ferry_sigv4_aws;
    req.method = json_str(c, "method");
    /* The examples give the encoded path; the signer takes the key. */
    raw_path = decode_dup(json_str(c, "canonical_uri"),
                          strlen(json_str(c, "canonical_uri")));
    req.path = raw_path;
    req.headers = headers;
    req.nheaders = nh;
    req.payload_hash = json_str(c, "payload_sha256");
    req.access_key = "AKIAIOSFODNN7EXAMPLE";
    req.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    req.region = "us-east-1";
    req.service = "s3";
    req.timestamp = "20130524T000000Z";
    /* The examples give the query already canonical; split it back. */
    struct ferry_sigv4_pair q[4];
    char *qs = strdup(json_str(c, "canonical_query")), *save = NULL, *t;

    for (t = strtok_r(qs, "&", &save); t; t = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(t, '=');

        *eq = '\0';
        q[req.nquery].name = t;
        q[req.nquery++].value = eq + 1;
    }
    req.query = q;

    ferry_sigv4_result_init(&res);
    assert_int_equal(ferry_sigv4_sign(&res, &req), 0);
    assert_string_equal(res.canonical_request.data,
                        json_str(c, "canonical_request"));
    assert_string_equal(res.string_to_sign.data, json_str(c, "string_to_sign"));
    assert_string_equal(res.signature, json_str(c, "signature"));
    /* The manual prints the header without the spaces SDKs send. */
    ferry_buf_init(&auth_nospace);
    for (i = 0; i < res.authorization.len; i++) {
        const char *p = res.authorization.data + i;

        if (p[0] == ' ' && i && p[-1] == ',')
            continue;
        ferry_buf_addc(&auth_nospace, *p);
    }
    assert_string_equal(auth_nospace.data, want_auth);
    ferry_buf_release(&auth_nospace);
    ferry_sigv4_result_release(&res);
    free(raw_path);
    free(qs);
}

static void test_botocore_case(void **state)
{
    cJSON *c = *state, *exp = cJSON_GetObjectItem(c, "expected");
    struct ferry_sigv4_pair headers[MAXH], query[MAXH];
    size_t nh = 0, nq = 0;
    struct ferry_sigv4_request req = { 0 };
    struct ferry_sigv4_result res;
    const char *token = json_str(c, "session_token");
    struct ferry_buf want_wire;

    headers[nh++] = (struct ferry_sigv4_pair){ "Host", json_str(c, "host") };
    headers[nh++] =
        (struct ferry_sigv4_pair){ "X-Amz-Date", json_str(c, "amz_date") };
    headers[nh++] = (struct ferry_sigv4_pair){ "X-Amz-Content-SHA256",
                                               json_str(c, "payload_sha256") };
    if (token)
        headers[nh++] =
            (struct ferry_sigv4_pair){ "X-Amz-Security-Token", token };
    pairs_from(headers, &nh, cJSON_GetObjectItem(c, "headers"));
    pairs_from(query, &nq, cJSON_GetObjectItem(c, "query"));
    req.dialect = &ferry_sigv4_aws;
    req.method = json_str(c, "method");
    req.path = json_str(c, "key");
    req.query = query;
    req.nquery = nq;
    req.headers = headers;
    req.nheaders = nh;
    req.payload_hash = json_str(c, "payload_sha256");
    req.access_key = json_str(c, "access_key");
    req.secret_key = json_str(c, "secret_key");
    req.region = json_str(c, "region");
    req.service = json_str(c, "service");
    req.timestamp = json_str(c, "amz_date");

    ferry_sigv4_result_init(&res);
    assert_int_equal(ferry_sigv4_sign(&res, &req), 0);
    assert_string_equal(res.canonical_request.data,
                        json_str(exp, "canonical_request"));
    assert_string_equal(res.signed_headers.data,
                        json_str(exp, "signed_headers"));
    assert_string_equal(res.string_to_sign.data,
                        json_str(exp, "string_to_sign"));
    assert_string_equal(res.signature, json_str(exp, "signature"));
    assert_string_equal(res.authorization.data, json_str(exp, "authorization"));
    /* What goes on the wire is what was signed. */
    ferry_buf_init(&want_wire);
    ferry_buf_adds(&want_wire, json_str(exp, "canonical_uri"));
    if (*json_str(exp, "canonical_query"))
        ferry_buf_addf(&want_wire, "?%s", json_str(exp, "canonical_query"));
    assert_string_equal(res.wire_path.data, want_wire.data);
    ferry_buf_release(&want_wire);
    ferry_sigv4_result_release(&res);
}

static void test_s3_path_is_not_normalised(void **state)
{
    struct ferry_buf b;

    ferry_buf_init(&b);
    ferry_sigv4_canonical_uri(&b, "/a//b/./c/../d e+ü", false, false);
    assert_string_equal(b.data, "/a//b/./c/../d%20e%2B%C3%BC");
    ferry_buf_release(&b);
}

static void test_double_encoding_encodes_percent_again(void **state)
{
    struct ferry_buf b;

    ferry_buf_init(&b);
    ferry_sigv4_canonical_uri(&b, "/a b", false, true);
    assert_string_equal(b.data, "/a%2520b");
    ferry_buf_release(&b);
}

static void test_normalisation_removes_dot_segments(void **state)
{
    struct ferry_buf b;

    ferry_buf_init(&b);
    ferry_sigv4_canonical_uri(&b, "/x/./y/../../z//w/", true, false);
    assert_string_equal(b.data, "/z/w/");
    ferry_buf_release(&b);
}

static void test_valueless_query_key_gets_equals(void **state)
{
    struct ferry_sigv4_pair q[] = { { "uploads", "" } };
    struct ferry_buf b;

    ferry_buf_init(&b);
    ferry_sigv4_canonical_query(&b, q, 1);
    assert_string_equal(b.data, "uploads=");
    ferry_buf_release(&b);
}

static void test_goog_dialect_uses_goog_strings(void **state)
{
    struct ferry_sigv4_pair h[] = {
        { "host", "storage.googleapis.com" },
        { "x-goog-date", "20261203T000000Z" },
        { "x-goog-content-sha256", FERRY_SHA256_EMPTY },
    };
    struct ferry_sigv4_request req = {
        .dialect = &ferry_sigv4_goog,
        .method = "GET",
        .path = "/b/o",
        .headers = h,
        .nheaders = 3,
        .payload_hash = FERRY_SHA256_EMPTY,
        .access_key = "GOOG1EXAMPLE",
        .secret_key = "secret",
        .region = "auto",
        .timestamp = "20261203T000000Z",
    };
    struct ferry_sigv4_result res;

    ferry_sigv4_result_init(&res);
    assert_int_equal(ferry_sigv4_sign(&res, &req), 0);
    assert_true(ferry_str_starts(res.string_to_sign.data,
                                 "GOOG4-HMAC-SHA256\n20261203T000000Z\n"
                                 "20261203/auto/storage/goog4_request\n"));
    assert_true(ferry_str_starts(
        res.authorization.data,
        "GOOG4-HMAC-SHA256 Credential=GOOG1EXAMPLE/20261203/auto/storage/"
        "goog4_request, SignedHeaders=host;x-goog-content-sha256;"
        "x-goog-date, Signature="));
    ferry_sigv4_result_release(&res);
}

static void test_bad_timestamp_is_refused(void **state)
{
    struct ferry_sigv4_request req = {
        .dialect = &ferry_sigv4_aws,
        .method = "GET",
        .path = "/",
        .payload_hash = FERRY_SHA256_EMPTY,
        .access_key = "a",
        .secret_key = "b",
        .region = "us-east-1",
        .timestamp = "2026-12-03T00:00:00Z",
    };
    struct ferry_sigv4_result res;

    ferry_sigv4_result_init(&res);
    assert_int_equal(ferry_sigv4_sign(&res, &req), -1);
    ferry_sigv4_result_release(&res);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t list_suite(char ***out)
{
    const char *data = getenv("FERRY_TEST_DATA");
    char path[1024];
    struct dirent *e;
    size_t n = 0;
    DIR *d;

    snprintf(path, sizeof(path), "%s/sigv4/aws-sig-v4-test-suite",
             data ? data : "tests/data");
    d = opendir(path);
    *out = calloc(64, sizeof(char *));
    while (d && (e = readdir(d)) != NULL && n < 64) {
        if (e->d_name[0] != '.' && !strchr(e->d_name, '.'))
            (*out)[n++] = strdup(e->d_name);
    }
    if (d)
        closedir(d);
    qsort(*out, n, sizeof(char *), cmp_name);
    return n;
}

static void add_json_cases(struct CMUnitTest *t, size_t *n, cJSON *arr,
                           const char *prefix, CMUnitTestFunction fn)
{
    cJSON *c;

    cJSON_ArrayForEach (c, arr) {
        char *name;

        assert_true(asprintf(&name, "%s/%s", prefix, json_str(c, "name")) > 0);
        t[*n] = (struct CMUnitTest){ name, fn, NULL, NULL, c };
        (*n)++;
    }
}

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_s3_path_is_not_normalised),
        cmocka_unit_test(test_double_encoding_encodes_percent_again),
        cmocka_unit_test(test_normalisation_removes_dot_segments),
        cmocka_unit_test(test_valueless_query_key_gets_equals),
        cmocka_unit_test(test_goog_dialect_uses_goog_strings),
        cmocka_unit_test(test_bad_timestamp_is_refused),
    };
    cJSON *doc = test_load_json("sigv4/s3-doc-examples.json");
    cJSON *boto = test_load_json("sigv4/botocore-s3.json");
    struct CMUnitTest *t;
    char **suite;
    size_t nsuite = list_suite(&suite), n = 0, i;
    int failed;

    if (nsuite != 38 || !doc || !boto) {
        fprintf(stderr,
                "test data missing: %zu suite cases, doc %s, "
                "botocore %s\n",
                nsuite, doc ? "ok" : "missing", boto ? "ok" : "missing");
        return 1;
    }
    t = calloc(nsuite + (size_t)cJSON_GetArraySize(doc) +
                   (size_t)cJSON_GetArraySize(boto) + 16,
               sizeof(*t));
    for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        t[n++] = fixed[i];
    for (i = 0; i < nsuite; i++)
        t[n++] = (struct CMUnitTest){ suite[i], test_suite_case, NULL, NULL,
                                      suite[i] };
    add_json_cases(t, &n, doc, "s3-doc", test_s3_doc_example);
    add_json_cases(t, &n, boto, "botocore", test_botocore_case);
    failed = _cmocka_run_group_tests("sigv4", t, n, NULL, NULL);
    for (i = sizeof(fixed) / sizeof(fixed[0]) + nsuite; i < n; i++)
        free((char *)t[i].name);
    for (i = 0; i < nsuite; i++)
        free(suite[i]);
    free(suite);
    free(t);
    cJSON_Delete(doc);
    cJSON_Delete(boto);
    return failed;
}
