/*
 * error.h - the one error type of ferry.
 *
 * Every fallible function returns an int: 0 on success, otherwise one of
 * enum ferry_rc, and fills a caller-provided struct ferry_error.  The
 * message is lower case, says what failed first and names the file, key
 * or URL in quotes.  It never holds a secret.  Only the command layer
 * prints errors and chooses exit codes.
 */
#ifndef FERRY_ERROR_H
#define FERRY_ERROR_H

#include <stdbool.h>

enum ferry_rc {
    FERRY_OK = 0,
    FERRY_EUSAGE,   /* bad option, argument or destination */
    FERRY_EIO,      /* local file system */
    FERRY_ENET,     /* connection, TLS, timeout */
    FERRY_EHTTP,    /* server answered with an error */
    FERRY_EPROTO,   /* server answer we could not understand */
    FERRY_ECHANGED, /* a local file changed while being uploaded */
    FERRY_EINTR,    /* interrupted by a signal */
    FERRY_ELOCKED,  /* another process holds the job */
    FERRY_ECREDS,   /* no or unusable credentials */
    FERRY_ETOOBIG,  /* a file the store cannot hold */
    FERRY_EJOBLOG,  /* the job log is unreadable or inconsistent */
    FERRY_ERULES,   /* the input files break the import rules */
};

struct ferry_error {
    int code;             /* enum ferry_rc */
    long http_status;     /* 0 when no HTTP answer */
    bool retryable;       /* a later attempt may succeed */
    double retry_after;   /* seconds the server asked us to wait */
    char server_code[64]; /* e.g. "SlowDown", empty if none */
    char request_id[128]; /* server request id, empty if none */
    char msg[512];
};

/* Empties *err. */
void ferry_error_clear(struct ferry_error *err);

/* Sets code and a printf-style message; returns code for `return`. */
int ferry_error_set(struct ferry_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with "context: ". */
void ferry_error_prefix(struct ferry_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
