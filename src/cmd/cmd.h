/*
 * cmd.h - the command layer.  Only this layer prints results, prints
 * errors and chooses exit codes (DESIGN section 2).
 */
#ifndef FERRY_CMD_H
#define FERRY_CMD_H

#include <stdbool.h>

#include "ferry/error.h"

struct cJSON;
struct ferry_buf;

enum ferry_exit {
    FERRY_EXIT_OK = 0,
    FERRY_EXIT_FAILED = 1,
    FERRY_EXIT_USAGE = 2,
    FERRY_EXIT_RULES = 3,
    FERRY_EXIT_INTERRUPTED = 130,
};

int ferry_cmd_upload(int argc, char **argv);
int ferry_cmd_status(int argc, char **argv);
int ferry_cmd_import(int argc, char **argv);
int ferry_cmd_check(int argc, char **argv);
int ferry_cmd_upload_and_import(int argc, char **argv);

/* ferry upload, giving the job log's path to the caller when not NULL. */
int ferry_cmd_upload_job(int argc, char **argv, struct ferry_buf *job_log,
                         struct cJSON *extra_event);

/* argv[0..argc) as a JSON array of strings (for resume). */
struct cJSON *ferry_cmd_argv_json(int argc, char **argv);

int ferry_cmd_resume(int argc, char **argv);
int ferry_cmd_abort(int argc, char **argv);

/* Checks import options (and the API key) without doing anything. */
int ferry_cmd_import_validate(int argc, char **argv);

/* Prints "ferry: error: MSG" (one line) and returns the exit code. */
int ferry_cmd_fail(int exit_code, const struct ferry_error *err);

/* Prints a usage error with a hint to COMMAND --help; returns 2. */
int ferry_cmd_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The exit code for an error code of the lower layers. */
int ferry_cmd_exit_for(int code);

/*
 * The job log of JOB: JOB itself when it holds a '/' or ends in ".jsonl",
 * else ID.jsonl in the state directory.  Appends to out.
 */
int ferry_cmd_job_path(struct ferry_buf *out, const char *job,
                       struct ferry_error *err);

/*
 * Appends ev to jl (NULL: no log) and frees ev; a failure to write is a
 * warning, the job goes on (see ferry-joblog(5)).
 */
struct ferry_joblog;
void ferry_cmd_log_event(struct ferry_joblog *jl, struct cJSON *ev, bool sync);

/* Applies -q / -v. */
void ferry_cmd_set_verbosity(int quiet, int verbose);

#endif
