/*
 * progress.h - progress on stderr: a bar redrawn in place when stderr
 * is a terminal, otherwise one line every `interval` seconds (default
 * 10) so logs of batch runs stay readable.  Quiet mode shows nothing.
 */
#ifndef FERRY_PROGRESS_H
#define FERRY_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ferry_progress {
    bool tty;
    bool quiet;
    double interval;
    double started;
    double last;
    bool drawn;
    bool percent_only; /* imports: no sizes or rates; "jobs" */
    /* the last figures reported, drawn once more at the end */
    uint64_t done, total;
    size_t files_done, files;
};

void ferry_progress_init(struct ferry_progress *p, bool quiet);

/* Matches the upload module's progress callback. */
void ferry_progress_update(void *ud, uint64_t done, uint64_t total,
                           size_t files_done, size_t files);

/* Draws the final figures on a terminal and ends the bar's line. */
void ferry_progress_finish(struct ferry_progress *p);

#endif
