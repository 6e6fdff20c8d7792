/*
 * timeutil.h - clocks and the time formats of the protocols.
 *
 * ferry_now() is the wall clock corrected by the offset learned from a
 * server that answered RequestTimeTooSkewed, so every later request is
 * signed with the server's idea of the time.
 */
#ifndef FERRY_TIMEUTIL_H
#define FERRY_TIMEUTIL_H

#include <time.h>

/* Wall-clock seconds since the epoch, plus the learned offset. */
time_t ferry_now(void);

/* Sets the offset (server time minus local time) in seconds. */
void ferry_clock_set_offset(long seconds);
long ferry_clock_offset(void);

/* Monotonic seconds, for timeouts and backoff. */
double ferry_monotonic(void);

/* "20130524T000000Z" into out[17]. */
void ferry_time_amz(char out[17], time_t t);

/* "2013-05-24T00:00:00Z" into out[21]. */
void ferry_time_iso(char out[21], time_t t);

/* Parses an RFC 7231 date ("Fri, 24 May 2013 00:00:00 GMT"); -1 on error. */
time_t ferry_time_parse_http(const char *s);

/* Sleeps for seconds (fractions allowed); returns early on a signal. */
void ferry_sleep(double seconds);

#endif
