/* common.c - what every command shares: errors and exit codes. */
#include "cmd.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ferry/joblog.h"
#include "ferry/log.h"
#include "ferry/strutil.h"

int ferry_cmd_fail(int exit_code, const struct ferry_error *err)
{
    ferry_error_log("%s", err->msg);
    return exit_code;
}

int ferry_cmd_usage_error(const char *command, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ferry_error_log("%s (see 'ferry %s --help')", msg, command);
    return FERRY_EXIT_USAGE;
}

int ferry_cmd_exit_for(int code)
{
    switch (code) {
    case FERRY_OK: return FERRY_EXIT_OK;
    case FERRY_EUSAGE:
    case FERRY_ECREDS:
    case FERRY_ETOOBIG: return FERRY_EXIT_USAGE;
    case FERRY_EINTR: return FERRY_EXIT_INTERRUPTED;
    case FERRY_ERULES: return FERRY_EXIT_RULES;
    default: return FERRY_EXIT_FAILED;
    }
}

void ferry_cmd_set_verbosity(int quiet, int verbose)
{
    if (quiet)
        ferry_log_set_level(FERRY_LOG_ERROR);
    else if (verbose)
        ferry_log_set_level(FERRY_LOG_DEBUG);
}

cJSON *ferry_cmd_argv_json(int argc, char **argv)
{
    cJSON *arr = cJSON_CreateArray();
    int i;

    for (i = 0; i < argc; i++) {
        /* how one run goes, not what the job is */
        if (!strcmp(argv[i], "--resume") && i + 1 < argc) {
            i++;
            continue;
        }
        if (!strcmp(argv[i], "--resubmit") || !strcmp(argv[i], "--json"))
            continue;
        cJSON_AddItemToArray(arr, cJSON_CreateString(argv[i]));
    }
    return arr;
}

int ferry_cmd_job_path(struct ferry_buf *out, const char *job,
                       struct ferry_error *err)
{
    if (strchr(job, '/') || ferry_str_ends(job, ".jsonl")) {
        ferry_buf_adds(out, job);
        return 0;
    }
    if (ferry_joblog_default_dir(out))
        return ferry_error_set(err, FERRY_EUSAGE,
                               "no state directory to find job \"%s\" in", job);
    ferry_buf_addf(out, "/%s.jsonl", job);
    return 0;
}

void ferry_cmd_log_event(struct ferry_joblog *jl, cJSON *ev, bool sync)
{
    struct ferry_error err;

    if (jl && ferry_joblog_append(jl, ev, sync, &err))
        ferry_warn("cannot write the job log: %s", err.msg);
    cJSON_Delete(ev);
}
