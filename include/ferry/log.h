/*
 * log.h - the one logging module: levels, one line per event, on stderr.
 *
 * Lines start with "ferry: " and name the object (and part) they are
 * about.  Secrets never reach a log line: callers pass no secret, and
 * ferry_log_redact() masks the values of Authorization, signature and
 * token fields in text that came from a request or a server.
 */
#ifndef FERRY_LOG_H
#define FERRY_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum ferry_log_level {
    FERRY_LOG_ERROR = 0,
    FERRY_LOG_WARN,
    FERRY_LOG_INFO,
    FERRY_LOG_DEBUG,
};

void ferry_log_set_level(enum ferry_log_level level);
enum ferry_log_level ferry_log_get_level(void);
bool ferry_log_enabled(enum ferry_log_level level);

/*
 * Called before each line is written, e.g. so a progress bar can clear
 * its line first; NULL for none.
 */
void ferry_log_set_hook(void (*before_line)(void));

void ferry_log(enum ferry_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define ferry_error_log(...) ferry_log(FERRY_LOG_ERROR, __VA_ARGS__)
#define ferry_warn(...) ferry_log(FERRY_LOG_WARN, __VA_ARGS__)
#define ferry_info(...) ferry_log(FERRY_LOG_INFO, __VA_ARGS__)
#define ferry_debug(...) ferry_log(FERRY_LOG_DEBUG, __VA_ARGS__)

/*
 * Masks secrets in s (NUL-terminated, changed in place): the credential
 * and signature of a SigV4 "Authorization:" value, the token of a
 * Bearer or Basic one, and the values of "x-amz-security-token:" and
 * "x-goog-security-token:" lines.
 */
void ferry_log_redact(char *s);

#endif
