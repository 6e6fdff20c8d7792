/* log.c - levels and redaction; see include/ferry/log.h. */
#include "ferry/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static enum ferry_log_level current = FERRY_LOG_INFO;
static void (*hook)(void);
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const prefix[] = {
    "ferry: error: ",
    "ferry: warning: ",
    "ferry: ",
    "ferry: debug: ",
};

void ferry_log_set_level(enum ferry_log_level level)
{
    current = level;
}

enum ferry_log_level ferry_log_get_level(void)
{
    return current;
}

bool ferry_log_enabled(enum ferry_log_level level)
{
    return level <= current;
}

void ferry_log_set_hook(void (*before_line)(void))
{
    hook = before_line;
}

void ferry_log(enum ferry_log_level level, const char *fmt, ...)
{
    char line[2048];
    va_list ap;

    if (!ferry_log_enabled(level))
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    ferry_log_redact(line);
    pthread_mutex_lock(&lock);
    if (hook)
        hook();
    fprintf(stderr, "%s%s\n", prefix[level], line);
    pthread_mutex_unlock(&lock);
}

static void mask_to_eol(char *p)
{
    while (*p && *p != '\r' && *p != '\n')
        *p++ = '*';
}

static void mask_after(char *s, const char *marker, const char *stop)
{
    char *p = s;

    while ((p = strcasestr(p, marker)) != NULL) {
        p += strlen(marker);
        while (*p && !strchr(stop, *p))
            *p++ = '*';
    }
}

void ferry_log_redact(char *s)
{
    static const char *const token_fields[] = {
        "x-amz-security-token:",
        "x-goog-security-token:",
        "Authorization: Bearer",
        "Authorization: Basic",
    };
    size_t i;

    mask_after(s, "Signature=", " ,\r\n&\"");
    mask_after(s, "Credential=", "/ ,\r\n");
    for (i = 0; i < sizeof(token_fields) / sizeof(token_fields[0]); i++) {
        char *p = s;

        while ((p = strcasestr(p, token_fields[i])) != NULL) {
            p += strlen(token_fields[i]);
            while (*p == ' ')
                p++;
            mask_to_eol(p);
        }
    }
}
