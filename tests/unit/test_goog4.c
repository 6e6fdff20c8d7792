/*
 * test_goog4.c - the signer's GOOG4 dialect.
 *
 * Data (tests/data/sigv4, see its README for sources and licences):
 *  - gcs-conformance/v4_signatures.json: Google's signed-URL conformance
 *    cases.  They are signed with an RSA key, so only their canonical
 *    requests can be reproduced; each case is its own test, named
 *    "conformance/<description>";
 *  - goog4-hmac.json: HMAC-key cases in the Authorization header form,
 *    computed by gen_goog4_cases.py; each case is its own test;
 *  - s3-doc-examples.json: one S3 manual example, signed once with
 *    AWS4 strings and once with GOOG4 strings in hand-made dialects.
 *
 * One conformance case has a wrong expectedCanonicalRequest; it is
 * checked against its expectedStringToSign instead (see
 * `bad_canonical_request` below).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <stdbool.h>
#include <strings.h>

#include "ferry/sigv4.h"
#include "ferry/strutil.h"
#include "testutil.h"

#define MAXH 16

#define CONFORMANCE "sigv4/gcs-conformance/v4_signatures.json"
#define CONFORMANCE_CASES 29

/*
 * The conformance suite signs as this service account (its key file is
 * not part of the data; the address shows in every X-Goog-Credential).
 */
#define CONFORMANCE_SIGNER                                                     \
    "test-iam-credentials@dummy-project-id.iam.gserviceaccount.com"

/*
 * Cases whose expectedCanonicalRequest contradicts the rest of the case:
 * its SHA-256 is not the one in expectedStringToSign, while the canonical
 * request of the URL in expectedUrl hashes to exactly that value.  Their
 * test compares ferry's whole string to sign with expectedStringToSign.
 */
struct data_error {
    const char *description;
    const char *reason;
};

static const struct data_error bad_canonical_request[] = {
    { "Universe domain with virtual hosted style",
      "expectedCanonicalRequest signs the path /test-bucket/test-object, "
      "but expectedUrl sends /test-object to test-bucket.storage.domain.com "
      "and expectedStringToSign hashes the canonical request with "
      "/test-object; checking the string to sign instead" },
};

/* GOOG4 with the algorithm name of the conformance data's RSA key. */
static const struct ferry_sigv4_dialect goog4_rsa = {
    .algorithm = "GOOG4-RSA-SHA256",
    .key_prefix = "GOOG4",
    .terminator = "goog4_request",
    .date_header = "x-goog-date",
    .sha_header = "x-goog-content-sha256",
    .token_header = "x-goog-security-token",
    .default_service = "storage",
};

static const char *json_str(cJSON *o, const char *name)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static cJSON *find_case(cJSON *arr, const char *field, const char *value)
{
    cJSON *c;

    cJSON_ArrayForEach (c, arr) {
        const char *s = json_str(c, field);

        if (s && strcmp(s, value) == 0)
            return c;
    }
    return NULL;
}

/* ---- conformance cases ------------------------------------------------ */

static const char *data_error(const char *description)
{
    size_t i;
    size_t n = sizeof(bad_canonical_request) / sizeof(bad_canonical_request[0]);

    for (i = 0; i < n; i++) {
        if (strcmp(bad_canonical_request[i].description, description) == 0)
            return bad_canonical_request[i].reason;
    }
    return NULL;
}

/* Appends s without a leading "scheme://" and without a ":port". */
static void add_host_name(struct ferry_buf *out, const char *s)
{
    const char *p = strstr(s, "://");
    size_t n;

    if (p)
        s = p + 3;
    n = strcspn(s, ":/");
    ferry_buf_add(out, s, n);
}

/*
 * The host a case's URL is for, by the data's rules: a bucket-bound
 * host name as given; otherwise hostname, else clientEndpoint, else
 * emulatorHostname, else "storage." + universeDomain, else
 * storage.googleapis.com, with "bucket." in front for virtual-hosted
 * style.  The expected canonical requests sign the name without the
 * port ("localhost:8080" signs as "host:localhost").
 */
static void conformance_host(struct ferry_buf *out, cJSON *c)
{
    const char *style = json_str(c, "urlStyle");
    const char *bound = json_str(c, "bucketBoundHostname");
    const char *base = json_str(c, "hostname");

    if (style && strcmp(style, "BUCKET_BOUND_HOSTNAME") == 0) {
        assert_non_null(bound);
        add_host_name(out, bound);
        return;
    }
    if (style && strcmp(style, "VIRTUAL_HOSTED_STYLE") == 0)
        ferry_buf_addf(out, "%s.", json_str(c, "bucket"));
    if (!base)
        base = json_str(c, "clientEndpoint");
    if (!base)
        base = json_str(c, "emulatorHostname");
    if (base) {
        add_host_name(out, base);
    } else if (json_str(c, "universeDomain")) {
        ferry_buf_addf(out, "storage.%s", json_str(c, "universeDomain"));
    } else {
        ferry_buf_adds(out, "storage.googleapis.com");
    }
}

/*
 * The raw path: "/bucket" (path style) and then "/object" when there is
 * one.  Object names are taken literally: the data gives them unencoded,
 * and a leading '/' in one makes "//".
 */
static void conformance_path(struct ferry_buf *out, cJSON *c)
{
    const char *style = json_str(c, "urlStyle");
    const char *object = json_str(c, "object");
    bool bucket_in_host = false;

    if (style) {
        bucket_in_host = strcmp(style, "VIRTUAL_HOSTED_STYLE") == 0 ||
                         strcmp(style, "BUCKET_BOUND_HOSTNAME") == 0;
        assert_true(bucket_in_host || strcmp(style, "PATH_STYLE") == 0);
    }
    if (!bucket_in_host)
        ferry_buf_addf(out, "/%s", json_str(c, "bucket"));
    if (object)
        ferry_buf_addf(out, "/%s", object);
    if (out->len == 0)
        ferry_buf_addc(out, '/');
}

/* "2019-02-01T09:00:00Z" -> "20190201T090000Z" */
static void conformance_timestamp(char out[17], const char *iso)
{
    size_t n = 0;

    for (; *iso && n < 16; iso++) {
        if (*iso != '-' && *iso != ':')
            out[n++] = *iso;
    }
    out[n] = '\0';
    assert_int_equal(n, 16);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* X-Goog-SignedHeaders: the sorted lower-case names, ';'-joined. */
static void signed_header_names(struct ferry_buf *out,
                                const struct ferry_sigv4_pair *h, size_t n)
{
    char *names[MAXH];
    size_t i;

    for (i = 0; i < n; i++) {
        char *p;

        names[i] = ferry_xstrdup(h[i].name);
        for (p = names[i]; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    }
    qsort(names, n, sizeof(names[0]), cmp_str);
    for (i = 0; i < n; i++) {
        ferry_buf_addf(out, "%s%s", i ? ";" : "", names[i]);
        free(names[i]);
    }
}

static void test_conformance_case(void **state)
{
    cJSON *c = *state, *item;
    const char *reason = data_error(json_str(c, "description"));
    const char *payload = "UNSIGNED-PAYLOAD";
    struct ferry_sigv4_pair headers[MAXH], query[MAXH];
    size_t nh = 0, nq = 0;
    struct ferry_buf host, path, credential, signed_names;
    struct ferry_sigv4_request req = { 0 };
    struct ferry_sigv4_result res;
    char timestamp[17], expires[32];
    cJSON *exp = cJSON_GetObjectItem(c, "expiration");

    ferry_buf_init(&host);
    ferry_buf_init(&path);
    ferry_buf_init(&credential);
    ferry_buf_init(&signed_names);
    conformance_host(&host, c);
    conformance_path(&path, c);
    conformance_timestamp(timestamp, json_str(c, "timestamp"));
    if (cJSON_IsNumber(exp))
        snprintf(expires, sizeof(expires), "%d", exp->valueint);
    else
        snprintf(expires, sizeof(expires), "%s", json_str(c, "expiration"));

    headers[nh++] = (struct ferry_sigv4_pair){ "host", host.data };
    cJSON_ArrayForEach (item, cJSON_GetObjectItem(c, "headers")) {
        assert_true(cJSON_IsString(item) && nh < MAXH);
        headers[nh++] =
            (struct ferry_sigv4_pair){ item->string, item->valuestring };
        /* A signed URL hashes the payload only when this header says. */
        if (strcasecmp(item->string, "x-goog-content-sha256") == 0)
            payload = item->valuestring;
    }
    signed_header_names(&signed_names, headers, nh);
    ferry_buf_addf(&credential, "%s/%.8s/auto/storage/goog4_request",
                   CONFORMANCE_SIGNER, timestamp);
    query[nq++] =
        (struct ferry_sigv4_pair){ "X-Goog-Algorithm", "GOOG4-RSA-SHA256" };
    query[nq++] =
        (struct ferry_sigv4_pair){ "X-Goog-Credential", credential.data };
    query[nq++] = (struct ferry_sigv4_pair){ "X-Goog-Date", timestamp };
    query[nq++] = (struct ferry_sigv4_pair){ "X-Goog-Expires", expires };
    query[nq++] =
        (struct ferry_sigv4_pair){ "X-Goog-SignedHeaders", signed_names.data };
    cJSON_ArrayForEach (item, cJSON_GetObjectItem(c, "queryParameters")) {
        assert_true(cJSON_IsString(item) && nq < MAXH);
        query[nq++] =
            (struct ferry_sigv4_pair){ item->string, item->valuestring };
    }

    req.dialect = reason ? &goog4_rsa : &ferry_sigv4_goog;
    req.method = json_str(c, "method");
    req.path = path.data;
    req.query = query;
    req.nquery = nq;
    req.headers = headers;
    req.nheaders = nh;
    req.payload_hash = payload;
    /* Unused by the canonical request; the real key is an RSA key. */
    req.access_key = CONFORMANCE_SIGNER;
    req.secret_key = "not-used";
    req.region = "auto";
    req.timestamp = timestamp;

    ferry_sigv4_result_init(&res);
    assert_int_equal(ferry_sigv4_sign(&res, &req), 0);
    if (reason) {
        print_message("data error: %s\n", reason);
        assert_string_equal(res.string_to_sign.data,
                            json_str(c, "expectedStringToSign"));
    } else {
        assert_string_equal(res.canonical_request.data,
                            json_str(c, "expectedCanonicalRequest"));
    }
    ferry_sigv4_result_release(&res);
    ferry_buf_release(&signed_names);
    ferry_buf_release(&credential);
    ferry_buf_release(&path);
    ferry_buf_release(&host);
}

/* ---- HMAC cases from gen_goog4_cases.py ------------------------------- */

static void pairs_from(struct ferry_sigv4_pair *out, size_t *n, cJSON *arr)
{
    cJSON *item;

    cJSON_ArrayForEach (item, arr) {
        assert_true(*n < MAXH);
        out[*n].name = cJSON_GetArrayItem(item, 0)->valuestring;
        out[*n].value = cJSON_GetArrayItem(item, 1)->valuestring;
        (*n)++;
    }
}

static void test_hmac_case(void **state)
{
    cJSON *c = *state, *exp = cJSON_GetObjectItem(c, "expected");
    struct ferry_sigv4_pair headers[MAXH], query[MAXH];
    size_t nh = 0, nq = 0;
    struct ferry_sigv4_request req = { 0 };
    struct ferry_sigv4_result res;
    struct ferry_buf want_wire;

    headers[nh++] = (struct ferry_sigv4_pair){ "Host", json_str(c, "host") };
    headers[nh++] =
        (struct ferry_sigv4_pair){ "X-Goog-Date", json_str(c, "goog_date") };
    headers[nh++] = (struct ferry_sigv4_pair){ "X-Goog-Content-SHA256",
                                               json_str(c, "payload_sha256") };
    pairs_from(headers, &nh, cJSON_GetObjectItem(c, "headers"));
    pairs_from(query, &nq, cJSON_GetObjectItem(c, "query"));
    req.dialect = &ferry_sigv4_goog;
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
    req.timestamp = json_str(c, "goog_date");

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

/* ---- the dialect is the only difference ------------------------------- */

/* Hand-made copies of the two dialects, string for string. */
static const struct ferry_sigv4_dialect hand_aws4 = {
    .algorithm = "AWS4-HMAC-SHA256",
    .key_prefix = "AWS4",
    .terminator = "aws4_request",
    .date_header = "x-amz-date",
    .sha_header = "x-amz-content-sha256",
    .token_header = "x-amz-security-token",
    .default_service = "s3",
};

static const struct ferry_sigv4_dialect hand_goog4 = {
    .algorithm = "GOOG4-HMAC-SHA256",
    .key_prefix = "GOOG4",
    .terminator = "goog4_request",
    .date_header = "x-goog-date",
    .sha_header = "x-goog-content-sha256",
    .token_header = "x-goog-security-token",
    .default_service = "storage",
};

/*
 * The S3 manual's "GET Object" example (get-object-range), with the date
 * and payload headers named by the dialect and the service left to it.
 */
static void sign_manual_get_object(struct ferry_sigv4_result *res,
                                   const struct ferry_sigv4_dialect *d)
{
    struct ferry_sigv4_pair h[] = {
        { "host", "examplebucket.s3.amazonaws.com" },
        { "range", "bytes=0-9" },
        { d->sha_header, FERRY_SHA256_EMPTY },
        { d->date_header, "20130524T000000Z" },
    };
    struct ferry_sigv4_request req = {
        .dialect = d,
        .method = "GET",
        .path = "/test.txt",
        .headers = h,
        .nheaders = sizeof(h) / sizeof(h[0]),
        .payload_hash = FERRY_SHA256_EMPTY,
        .access_key = "AKIAIOSFODNN7EXAMPLE",
        .secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        .region = "us-east-1",
        .timestamp = "20130524T000000Z",
    };

    assert_int_equal(ferry_sigv4_sign(res, &req), 0);
}

static void assert_dialects_equal(const struct ferry_sigv4_dialect *a,
                                  const struct ferry_sigv4_dialect *b)
{
    assert_string_equal(a->algorithm, b->algorithm);
    assert_string_equal(a->key_prefix, b->key_prefix);
    assert_string_equal(a->terminator, b->terminator);
    assert_string_equal(a->date_header, b->date_header);
    assert_string_equal(a->sha_header, b->sha_header);
    assert_string_equal(a->token_header, b->token_header);
    assert_string_equal(a->default_service, b->default_service);
}

static void test_hand_made_dialects_equal_ferrys(void **state)
{
    assert_dialects_equal(&hand_aws4, &ferry_sigv4_aws);
    assert_dialects_equal(&hand_goog4, &ferry_sigv4_goog);
}

static void test_aws4_strings_give_the_s3_manual_signature(void **state)
{
    cJSON *doc = test_load_json("sigv4/s3-doc-examples.json");
    cJSON *c = find_case(doc, "name", "get-object-range");
    struct ferry_sigv4_result res;

    assert_non_null(c);
    ferry_sigv4_result_init(&res);
    sign_manual_get_object(&res, &hand_aws4);
    assert_string_equal(res.signature, json_str(c, "signature"));
    ferry_sigv4_result_release(&res);
    cJSON_Delete(doc);
}

static void test_goog4_strings_give_the_generated_signature(void **state)
{
    cJSON *cases = test_load_json("sigv4/goog4-hmac.json");
    cJSON *c = find_case(cases, "name", "s3-doc-get-object-as-goog4");
    cJSON *exp = cJSON_GetObjectItem(c, "expected");
    struct ferry_sigv4_result res;

    assert_non_null(c);
    ferry_sigv4_result_init(&res);
    sign_manual_get_object(&res, &hand_goog4);
    assert_string_equal(res.signature, json_str(exp, "signature"));
    ferry_sigv4_result_release(&res);
    cJSON_Delete(cases);
}

/* ---- main ------------------------------------------------------------- */

static void add_cases(struct CMUnitTest *t, size_t *n, cJSON *arr,
                      const char *prefix, const char *field,
                      CMUnitTestFunction fn)
{
    cJSON *c;

    cJSON_ArrayForEach (c, arr) {
        char *name;

        if (asprintf(&name, "%s/%s", prefix, json_str(c, field)) < 0)
            abort();
        t[*n] = (struct CMUnitTest){ name, fn, NULL, NULL, c };
        (*n)++;
    }
}

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_hand_made_dialects_equal_ferrys),
        cmocka_unit_test(test_aws4_strings_give_the_s3_manual_signature),
        cmocka_unit_test(test_goog4_strings_give_the_generated_signature),
    };
    const size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
    cJSON *conf = test_load_json(CONFORMANCE);
    cJSON *hmac = test_load_json("sigv4/goog4-hmac.json");
    cJSON *signing = cJSON_GetObjectItem(conf, "signingV4Tests");
    struct CMUnitTest *t;
    size_t n = 0, i;
    int failed;

    if (cJSON_GetArraySize(signing) != CONFORMANCE_CASES ||
        cJSON_GetArraySize(hmac) == 0) {
        fprintf(stderr,
                "test data missing: %d conformance cases (want "
                "%d), %d HMAC cases\n",
                cJSON_GetArraySize(signing), CONFORMANCE_CASES,
                cJSON_GetArraySize(hmac));
        cJSON_Delete(conf);
        cJSON_Delete(hmac);
        return 1;
    }
    t = calloc(nfixed + CONFORMANCE_CASES + (size_t)cJSON_GetArraySize(hmac),
               sizeof(*t));
    if (!t)
        abort();
    for (i = 0; i < nfixed; i++)
        t[n++] = fixed[i];
    add_cases(t, &n, signing, "conformance", "description",
              test_conformance_case);
    add_cases(t, &n, hmac, "hmac", "name", test_hmac_case);
    failed = _cmocka_run_group_tests("goog4", t, n, NULL, NULL);
    for (i = nfixed; i < n; i++)
        free((char *)t[i].name);
    free(t);
    cJSON_Delete(conf);
    cJSON_Delete(hmac);
    return failed;
}
