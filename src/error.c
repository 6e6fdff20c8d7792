/* error.c - the error struct; see include/ferry/error.h. */
#include "ferry/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ferry_error_clear(struct ferry_error *err)
{
    memset(err, 0, sizeof(*err));
}

int ferry_error_set(struct ferry_error *err, int code, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return code;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}

void ferry_error_prefix(struct ferry_error *err, const char *fmt, ...)
{
    char old[sizeof(err->msg)];
    size_t n;
    va_list ap;

    memcpy(old, err->msg, sizeof(old));
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    n = strlen(err->msg);
    if (n + 2 < sizeof(err->msg)) {
        memcpy(err->msg + n, ": ", 2);
        n += 2;
        memcpy(err->msg + n, old, sizeof(err->msg) - n - 1);
        err->msg[sizeof(err->msg) - 1] = '\0';
    }
}
