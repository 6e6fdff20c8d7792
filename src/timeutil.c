/* timeutil.c - clocks and time formats; see include/ferry/timeutil.h. */
#include "ferry/timeutil.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static atomic_long clock_offset;

time_t ferry_now(void)
{
    return time(NULL) + atomic_load(&clock_offset);
}

void ferry_clock_set_offset(long seconds)
{
    atomic_store(&clock_offset, seconds);
}

long ferry_clock_offset(void)
{
    return atomic_load(&clock_offset);
}

double ferry_monotonic(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void ferry_time_amz(char out[17], time_t t)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

void ferry_time_iso(char out[21], time_t t)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

time_t ferry_time_parse_http(const char *s)
{
    struct tm tm;
    const char *end;

    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end)
        return -1;
    return timegm(&tm);
}

void ferry_sleep(double seconds)
{
    struct timespec ts;

    if (seconds <= 0)
        return;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    nanosleep(&ts, NULL);
}
