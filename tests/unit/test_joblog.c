/*
 * test_joblog.c - the job log's promises: private files, one holder at
 * a time, whole lines only, torn last lines survived, no secrets.
 * Every test works in a fresh temporary directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ferry/joblog.h"
#include "ferry/timeutil.h"
#include "testutil.h"

#define JOB_ID "20261203-204400-a1b2c3"
#define HEADER_V1                                                              \
    "{\"format\":\"ferry-joblog\",\"version\":1,\"job\":\"" JOB_ID "\","       \
    "\"time\":\"2026-12-03T20:44:00Z\",\"ferry\":\"0.1.0\"}\n"

struct fixture {
    char dir[64];
    char log[128]; /* <dir>/job.jsonl, not created */
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));

    if (!fx)
        return -1;
    strcpy(fx->dir, "/tmp/ferry-test-joblog-XXXXXX");
    if (!mkdtemp(fx->dir))
        return -1;
    snprintf(fx->log, sizeof(fx->log), "%s/job.jsonl", fx->dir);
    setenv("HOME", fx->dir, 1);
    unsetenv("XDG_STATE_HOME");
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

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The whole file as a string; the caller frees it. */
static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    char *text = calloc(1, 1 << 20);
    size_t n;

    assert_non_null(f);
    assert_non_null(text);
    n = fread(text, 1, (1 << 20) - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static int append_json(struct ferry_joblog *jl, const char *json,
                       struct ferry_error *err)
{
    cJSON *ev = cJSON_Parse(json);
    int rc;

    assert_non_null(ev);
    rc = ferry_joblog_append(jl, ev, false, err);
    cJSON_Delete(ev);
    return rc;
}

static void test_create_makes_0600_file_in_0700_dirs(void **state)
{
    struct fixture *fx = *state;
    struct ferry_joblog *jl;
    struct ferry_error err = { 0 };
    char path[256], dir[256];
    struct stat st;

    snprintf(path, sizeof(path), "%s/state/ferry/jobs/j.jsonl", fx->dir);

    assert_int_equal(ferry_joblog_create(&jl, path, JOB_ID, &err), 0);
    ferry_joblog_close(jl);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    snprintf(dir, sizeof(dir), "%s/state", fx->dir);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    snprintf(dir, sizeof(dir), "%s/state/ferry/jobs", fx->dir);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
}

static void test_create_refuses_existing_file(void **state)
{
    struct fixture *fx = *state;
    struct ferry_joblog *jl;
    struct ferry_error err = { 0 };
    char want[512];
    char *text;

    write_text(fx->log, "precious\n");
    snprintf(want, sizeof(want),
             "job log \"%s\" already exists; refusing to overwrite it",
             fx->log);

    assert_int_equal(ferry_joblog_create(&jl, fx->log, JOB_ID, &err),
                     FERRY_EIO);
    assert_null(jl);
    assert_string_equal(err.msg, want);
    text = read_text(fx->log);
    assert_string_equal(text, "precious\n");
    free(text);
}

static void test_header_line_holds_format_version_job_and_ferry(void **s)
{
    struct fixture *fx = *s;
    struct ferry_joblog *jl;
    struct ferry_error err = { 0 };
    const char *head = "{\"format\":\"ferry-joblog\",\"version\":1,"
                       "\"job\":\"" JOB_ID "\",\"time\":\"";
    const char *tail = "\",\"ferry\":\"" FERRY_VERSION "\"}\n";
    char *text;

    assert_int_equal(ferry_joblog_create(&jl, fx->log, JOB_ID, &err), 0);
    ferry_joblog_close(jl);

    text = read_text(fx->log);
    assert_int_equal(strlen(text), strlen(head) + 20 + strlen(tail));
    assert_memory_equal(text, head, strlen(head));
    assert_string_equal(text + strlen(head) + 20, tail);
    assert_int_equal(text[strlen(head) + 10], 'T');
    assert_int_equal(text[strlen(head) + 19], 'Z');
    free(text);
}

static void test_second_process_gets_elocked(void **state)
{
    struct fixture *fx = *state;
    struct ferry_joblog *jl;
    struct ferry_error err = { 0 };
    int status;
    pid_t pid;

    assert_int_equal(ferry_joblog_create(&jl, fx->log, JOB_ID, &err), 0);

    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct ferry_joblog *other;
        char want[512];
        int rc = ferry_joblog_open(&other, fx->log, &err);

        snprintf(want, sizeof(want),
                 "job log \"%s\" is in use by another ferry process", fx->log);
        _exit(rc == FERRY_ELOCKED && !other && !strcmp(err.msg, want) ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    ferry_joblog_close(jl);
}

static void test_second_open_in_same_process_gets_elocked(void **state)
{
    struct fixture *fx = *state;
    struct ferry_joblog *jl, *other;
    struct ferry_error err = { 0 };

    assert_int_equal(ferry_joblog_create(&jl, fx->log, JOB_ID, &err), 0);

    /* flock(2) locks belong to the open file description, not the pid. */
    assert_int_equal(ferry_joblog_open(&other, fx->log, &err), FERRY_ELOCKED);
    assert_null(other);
    ferry_joblog_close(jl);
}

static void test_close_releases_the_lock(void **state)
{
    struct fixture *fx = *state;
    struct ferry_joblog *jl;
    struct ferry_error err = { 0 };

    assert_int_equal(ferry_joblog_create(&jl, fx->log, JOB_ID, &err), 0);
    ferry_joblog_close(jl);

    assert_int_equal(ferry_joblog_open(&jl, fx->log, &err), 0);
    assert_string_equal(ferry_joblog_path(jl), fx->log);
    ferry_joblog_close(jl);
}

static void test_append_adds_time_and_one_line(void **state)
{
    struct fixture *fx = *state;
    struct ferry_joblog *jl;
    struct ferry_error err = { 0 };
    const char *want = "{\"event\":\"stage\",\"stage\":\"upload\","
                       "\"state\":\"started\",\"time\":\"";
    char *text, *line;

    write_text(fx->log, HEADER_V1);
    assert_int_equal(ferry_joblog_open(&jl, fx->log, &err), 0);

    assert_int_equal(append_json(jl,
                                 "{\"event\":\"stage\",\"stage\":"
                                 "\"upload\",\"state\":\"started\"}",
                                 &err),
                     0);
    ferry_joblog_close(jl);
    text = read_text(fx->log);
    line = text + strlen(HEADER_V1);
    assert_memory_equal(line, want, strlen(want));
    assert_string_equal(line + strlen(want) + 20, "\"}\n");
    free(text);
}

static void test_append_keeps_time_given_by_caller(void **state)
{
    struct fixture *fx = *state;
    struct ferry_joblog *jl;
    struct ferry_error err = { 0 };
    char *text;

    write_text(fx->log, HEADER_V1);
    assert_int_equal(ferry_joblog_open(&jl, fx->log, &err), 0);

    assert_int_equal(append_json(jl,
                                 "{\"event\":\"x\",\"time\":"
                                 "\"2026-01-01T00:00:00Z\"}",
                                 &err),
                     0);
    ferry_joblog_close(jl);
    text = read_text(fx->log);
    assert_string_equal(text, HEADER_V1
                        "{\"event\":\"x\",\"time\":\"2026-01-01T00:00:00Z\"}"
                        "\n");
    free(text);
}

static void test_append_refuses_secret_named_member(void **state)
{
    struct fixture *fx = *state;
    struct ferry_joblog *jl;
    struct ferry_error err = { 0 };
    char want[512];
    char *text;

    write_text(fx->log, HEADER_V1);
    assert_int_equal(ferry_joblog_open(&jl, fx->log, &err), 0);
    snprintf(want, sizeof(want),
             "refusing to write member \"Secret_Access_Key\" to job log "
             "\"%s\": it may hold a secret",
             fx->log);

    assert_int_equal(append_json(jl,
                                 "{\"event\":\"settings\",\"keys\":"
                                 "[{\"Secret_Access_Key\":\"abc\"}]}",
                                 &err),
                     FERRY_EJOBLOG);
    assert_string_equal(err.msg, want);
    ferry_joblog_close(jl);
    text = read_text(fx->log);
    assert_string_equal(text, HEADER_V1);
    free(text);
}

static void test_append_refuses_each_secret_word(void **state)
{
    static const char *const events[] = {
        "{\"secret\":\"x\"}",         "{\"db_password\":\"x\"}",
        "{\"SessionToken\":\"x\"}",   "{\"Authorization\":\"x\"}",
        "{\"zilliz_API_KEY\":\"x\"}",
    };
    struct fixture *fx = *state;
    struct ferry_joblog *jl;
    struct ferry_error err = { 0 };
    size_t i;

    write_text(fx->log, HEADER_V1);
    assert_int_equal(ferry_joblog_open(&jl, fx->log, &err), 0);

    for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
        assert_int_equal(append_json(jl, events[i], &err), FERRY_EJOBLOG);
    ferry_joblog_close(jl);
}

static void test_append_allows_key_source_and_non_string_token(void **s)
{
    struct fixture *fx = *s;
    struct ferry_joblog *jl;
    struct ferry_error err = { 0 };

    write_text(fx->log, HEADER_V1);
    assert_int_equal(ferry_joblog_open(&jl, fx->log, &err), 0);

    assert_int_equal(append_json(jl,
                                 "{\"event\":\"settings\","
                                 "\"access_key_source\":\"environment "
                                 "(AWS_ACCESS_KEY_ID)\",\"token_count\":3}",
                                 &err),
                     0);
    ferry_joblog_close(jl);
}

static void test_read_returns_header_then_events(void **state)
{
    struct fixture *fx = *state;
    struct ferry_joblog *jl;
    struct ferry_error err = { 0 };
    cJSON *events, *first;

    assert_int_equal(ferry_joblog_create(&jl, fx->log, JOB_ID, &err), 0);
    assert_int_equal(append_json(jl, "{\"event\":\"a\"}", &err), 0);
    assert_int_equal(append_json(jl, "{\"event\":\"b\"}", &err), 0);
    ferry_joblog_close(jl);

    assert_int_equal(ferry_joblog_read(&events, fx->log, &err), 0);
    assert_int_equal(cJSON_GetArraySize(events), 3);
    first = cJSON_GetArrayItem(events, 0);
    assert_string_equal(cJSON_GetObjectItem(first, "format")->valuestring,
                        "ferry-joblog");
    assert_int_equal(cJSON_GetObjectItem(first, "version")->valueint, 1);
    assert_string_equal(cJSON_GetObjectItem(first, "job")->valuestring, JOB_ID);
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetArrayItem(events, 2), "event")
            ->valuestring,
        "b");
    cJSON_Delete(events);
}

static void test_read_ignores_torn_last_line(void **state)
{
    struct fixture *fx = *state;
    struct ferry_error err = { 0 };
    cJSON *events;

    write_text(fx->log, HEADER_V1 "{\"event\":\"a\"}\n{\"event\":\"par");

    assert_int_equal(ferry_joblog_read(&events, fx->log, &err), 0);
    assert_int_equal(cJSON_GetArraySize(events), 2);
    cJSON_Delete(events);
}

static void test_read_keeps_last_line_missing_only_newline(void **state)
{
    struct fixture *fx = *state;
    struct ferry_error err = { 0 };
    cJSON *events;

    write_text(fx->log, HEADER_V1 "{\"event\":\"a\"}\n{\"event\":\"b\"}");

    assert_int_equal(ferry_joblog_read(&events, fx->log, &err), 0);
    assert_int_equal(cJSON_GetArraySize(events), 3);
    cJSON_Delete(events);
}

static void test_read_rejects_corrupt_middle_line_with_number(void **s)
{
    struct fixture *fx = *s;
    struct ferry_error err = { 0 };
    cJSON *events = (cJSON *)1;
    char want[512];

    write_text(fx->log, HEADER_V1
               "{\"event\":\"a\"}\n{\"event\":\"par\n{\"event\":\"b\"}\n");
    snprintf(want, sizeof(want),
             "job log \"%s\" is corrupt: line 3 is not a JSON object", fx->log);

    assert_int_equal(ferry_joblog_read(&events, fx->log, &err), FERRY_EJOBLOG);
    assert_null(events);
    assert_string_equal(err.msg, want);
}

static void test_read_of_missing_file_is_eio(void **state)
{
    struct fixture *fx = *state;
    struct ferry_error err = { 0 };
    cJSON *events;
    char want[512];

    snprintf(want, sizeof(want),
             "cannot open job log \"%s\": No such file or directory", fx->log);

    assert_int_equal(ferry_joblog_read(&events, fx->log, &err), FERRY_EIO);
    assert_string_equal(err.msg, want);
}

static void test_read_rejects_unknown_version(void **state)
{
    struct fixture *fx = *state;
    struct ferry_error err = { 0 };
    cJSON *events;
    char want[512];

    write_text(fx->log, "{\"format\":\"ferry-joblog\",\"version\":2}\n");
    snprintf(want, sizeof(want),
             "job log \"%s\" has version 2; this ferry reads version 1",
             fx->log);

    assert_int_equal(ferry_joblog_read(&events, fx->log, &err), FERRY_EJOBLOG);
    assert_string_equal(err.msg, want);
}

static void test_open_rejects_unknown_version(void **state)
{
    struct fixture *fx = *state;
    struct ferry_joblog *jl;
    struct ferry_error err = { 0 };
    char want[512];

    write_text(fx->log, "{\"format\":\"ferry-joblog\",\"version\":2}\n");
    snprintf(want, sizeof(want),
             "job log \"%s\" has version 2; this ferry reads version 1",
             fx->log);

    assert_int_equal(ferry_joblog_open(&jl, fx->log, &err), FERRY_EJOBLOG);
    assert_null(jl);
    assert_string_equal(err.msg, want);
}

static void test_open_rejects_a_file_that_is_not_a_job_log(void **state)
{
    struct fixture *fx = *state;
    struct ferry_joblog *jl;
    struct ferry_error err = { 0 };
    char want[512];

    write_text(fx->log, "{\"rows\":[]}\n");
    snprintf(want, sizeof(want), "\"%s\" is not a ferry job log", fx->log);

    assert_int_equal(ferry_joblog_open(&jl, fx->log, &err), FERRY_EJOBLOG);
    assert_string_equal(err.msg, want);
}

static void test_open_of_missing_file_is_eio(void **state)
{
    struct fixture *fx = *state;
    struct ferry_joblog *jl;
    struct ferry_error err = { 0 };

    assert_int_equal(ferry_joblog_open(&jl, fx->log, &err), FERRY_EIO);
    assert_null(jl);
}

static void test_open_cuts_torn_last_line_before_appending(void **state)
{
    struct fixture *fx = *state;
    struct ferry_joblog *jl;
    struct ferry_error err = { 0 };
    char *text;

    write_text(fx->log, HEADER_V1 "{\"event\":\"a\",\"time\":\"T\"}\n"
                                  "{\"event\":\"par");

    assert_int_equal(ferry_joblog_open(&jl, fx->log, &err), 0);
    assert_int_equal(append_json(jl, "{\"event\":\"b\",\"time\":\"T\"}", &err),
                     0);
    ferry_joblog_close(jl);
    text = read_text(fx->log);
    assert_string_equal(text, HEADER_V1 "{\"event\":\"a\",\"time\":\"T\"}\n"
                                        "{\"event\":\"b\",\"time\":\"T\"}\n");
    free(text);
}

static void test_open_ends_untorn_last_line_with_newline(void **state)
{
    struct fixture *fx = *state;
    struct ferry_joblog *jl;
    struct ferry_error err = { 0 };
    char *text;

    write_text(fx->log, HEADER_V1 "{\"event\":\"a\",\"time\":\"T\"}");

    assert_int_equal(ferry_joblog_open(&jl, fx->log, &err), 0);
    assert_int_equal(append_json(jl, "{\"event\":\"b\",\"time\":\"T\"}", &err),
                     0);
    ferry_joblog_close(jl);
    text = read_text(fx->log);
    assert_string_equal(text, HEADER_V1 "{\"event\":\"a\",\"time\":\"T\"}\n"
                                        "{\"event\":\"b\",\"time\":\"T\"}\n");
    free(text);
}

#define THREADS 8
#define EVENTS_PER_THREAD 200

static void *append_many(void *arg)
{
    struct ferry_joblog *jl = arg;
    struct ferry_error err = { 0 };
    int i;

    for (i = 0; i < EVENTS_PER_THREAD; i++) {
        cJSON *ev = cJSON_CreateObject();

        cJSON_AddStringToObject(ev, "event", "part");
        cJSON_AddNumberToObject(ev, "part", i + 1);
        cJSON_AddStringToObject(ev, "etag", "\"0123456789abcdef\"");
        if (ferry_joblog_append(jl, ev, false, &err))
            return arg;
        cJSON_Delete(ev);
    }
    return NULL;
}

/* Runs fn(jl) on THREADS threads at once, closes jl, reads the log. */
static cJSON *append_from_threads(struct ferry_joblog *jl, const char *path,
                                  void *(*fn)(void *))
{
    struct ferry_error err = { 0 };
    pthread_t t[THREADS];
    cJSON *events = NULL;
    void *failed;
    int i;

    for (i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, fn, jl), 0);
    for (i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(t[i], &failed), 0);
        assert_null(failed);
    }
    ferry_joblog_close(jl);
    assert_int_equal(ferry_joblog_read(&events, path, &err), 0);
    return events;
}

static void test_threads_appending_at_once_keep_lines_whole(void **state)
{
    struct fixture *fx = *state;
    struct ferry_joblog *jl;
    struct ferry_error err = { 0 };
    cJSON *events;

    assert_int_equal(ferry_joblog_create(&jl, fx->log, JOB_ID, &err), 0);

    events = append_from_threads(jl, fx->log, append_many);
    assert_int_equal(cJSON_GetArraySize(events),
                     1 + THREADS * EVENTS_PER_THREAD);
    cJSON_Delete(events);
}

static void *append_many_soon(void *arg)
{
    struct ferry_joblog *jl = arg;
    struct ferry_error err = { 0 };
    int i;

    for (i = 0; i < EVENTS_PER_THREAD; i++) {
        cJSON *ev = cJSON_CreateObject();
        int rc;

        cJSON_AddStringToObject(ev, "event", "object");
        cJSON_AddNumberToObject(ev, "n", i);
        /* every tenth one synced at once, among the batched ones */
        rc = i % 10 ? ferry_joblog_append_soon(jl, ev, &err)
                    : ferry_joblog_append(jl, ev, true, &err);
        cJSON_Delete(ev);
        if (rc)
            return arg;
    }
    return NULL;
}

static void test_soon_lines_are_written_at_once_and_all_kept(void **state)
{
    struct fixture *fx = *state;
    struct ferry_joblog *jl;
    struct ferry_error err = { 0 };
    cJSON *events, *ev;
    char *text;
    int i, seen[THREADS] = { 0 };

    assert_int_equal(ferry_joblog_create(&jl, fx->log, JOB_ID, &err), 0);
    ev = cJSON_Parse("{\"event\":\"part\",\"part\":1}");
    assert_int_equal(ferry_joblog_append_soon(jl, ev, &err), 0);
    cJSON_Delete(ev);
    /* in the file (the kernel) before any sync: a crash loses nothing */
    text = read_text(fx->log);
    assert_non_null(strstr(text, "{\"event\":\"part\",\"part\":1,"));
    free(text);

    events = append_from_threads(jl, fx->log, append_many_soon);
    assert_int_equal(cJSON_GetArraySize(events),
                     2 + THREADS * EVENTS_PER_THREAD);
    /* each thread's lines in its order: n counts up per thread */
    cJSON_ArrayForEach (ev, events) {
        cJSON *n = cJSON_GetObjectItem(ev, "n");

        if (!n)
            continue;
        for (i = 0; i < THREADS && seen[i] != n->valueint; i++)
            ;
        assert_true(i < THREADS);
        seen[i]++;
    }
    for (i = 0; i < THREADS; i++)
        assert_int_equal(seen[i], EVENTS_PER_THREAD);
    cJSON_Delete(events);
}

static void test_default_dir_uses_xdg_state_home(void **state)
{
    struct ferry_buf b;

    ferry_buf_init(&b);
    setenv("XDG_STATE_HOME", "/srv/state/", 1);

    assert_int_equal(ferry_joblog_default_dir(&b), 0);
    assert_string_equal(b.data, "/srv/state/ferry/jobs");
    ferry_buf_release(&b);
}

static void test_default_dir_falls_back_to_home(void **state)
{
    struct ferry_buf b;

    ferry_buf_init(&b);
    setenv("HOME", "/home/ann", 1);

    assert_int_equal(ferry_joblog_default_dir(&b), 0);
    assert_string_equal(b.data, "/home/ann/.local/state/ferry/jobs");
    ferry_buf_release(&b);
}

static void test_default_dir_ignores_relative_xdg_state_home(void **state)
{
    struct ferry_buf b;

    ferry_buf_init(&b);
    setenv("HOME", "/home/ann", 1);
    setenv("XDG_STATE_HOME", "state", 1);

    assert_int_equal(ferry_joblog_default_dir(&b), 0);
    assert_string_equal(b.data, "/home/ann/.local/state/ferry/jobs");
    ferry_buf_release(&b);
}

static void test_new_id_is_utc_time_and_six_hex_digits(void **state)
{
    char id[32], before[32], after[32];
    time_t t0, t1;
    struct tm tm;
    int i;

    t0 = ferry_now();
    ferry_joblog_new_id(id);
    t1 = ferry_now();

    assert_int_equal(strlen(id), 22);
    strftime(before, sizeof(before), "%Y%m%d-%H%M%S-", gmtime_r(&t0, &tm));
    strftime(after, sizeof(after), "%Y%m%d-%H%M%S-", gmtime_r(&t1, &tm));
    assert_true(strncmp(id, before, 16) == 0 || strncmp(id, after, 16) == 0);
    for (i = 16; i < 22; i++)
        assert_true(isxdigit((unsigned char)id[i]) &&
                    !isupper((unsigned char)id[i]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_create_makes_0600_file_in_0700_dirs),
        T(test_create_refuses_existing_file),
        T(test_header_line_holds_format_version_job_and_ferry),
        T(test_second_process_gets_elocked),
        T(test_second_open_in_same_process_gets_elocked),
        T(test_close_releases_the_lock),
        T(test_append_adds_time_and_one_line),
        T(test_append_keeps_time_given_by_caller),
        T(test_append_refuses_secret_named_member),
        T(test_append_refuses_each_secret_word),
        T(test_append_allows_key_source_and_non_string_token),
        T(test_read_returns_header_then_events),
        T(test_read_ignores_torn_last_line),
        T(test_read_keeps_last_line_missing_only_newline),
        T(test_read_rejects_corrupt_middle_line_with_number),
        T(test_read_of_missing_file_is_eio),
        T(test_read_rejects_unknown_version),
        T(test_open_rejects_unknown_version),
        T(test_open_rejects_a_file_that_is_not_a_job_log),
        T(test_open_of_missing_file_is_eio),
        T(test_open_cuts_torn_last_line_before_appending),
        T(test_open_ends_untorn_last_line_with_newline),
        T(test_threads_appending_at_once_keep_lines_whole),
        T(test_soon_lines_are_written_at_once_and_all_kept),
        T(test_default_dir_uses_xdg_state_home),
        T(test_default_dir_falls_back_to_home),
        T(test_default_dir_ignores_relative_xdg_state_home),
        T(test_new_id_is_utc_time_and_six_hex_digits),
#undef T
    };

    /* Fixed, so the 0600/0700 modes the tests expect are the ones made. */
    umask(022);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
