/* progress.c - TTY bar or periodic lines; see ferry/progress.h. */
#include "ferry/progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ferry/log.h"
#include "ferry/strutil.h"
#include "ferry/timeutil.h"

static struct ferry_progress *active;

static void clear_line(void)
{
    if (active && active->drawn) {
        fputs("\r\033[K", stderr);
        active->drawn = false;
    }
}

void ferry_progress_init(struct ferry_progress *p, bool quiet)
{
    const char *iv = getenv("FERRY_PROGRESS_INTERVAL");

    p->tty = isatty(STDERR_FILENO);
    p->quiet = quiet;
    p->interval = p->tty ? 0.2 : 10;
    if (iv && !p->tty)
        p->interval = atof(iv);
    p->started = ferry_monotonic();
    p->last = p->tty ? 0 : p->started;
    p->drawn = false;
    active = p;
    ferry_log_set_hook(clear_line);
}

static void draw_percent(struct ferry_progress *p, double frac, size_t done,
                         size_t total, char bar[31], int fill)
{
    int i;

    if (p->tty) {
        for (i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r\033[K[%s] %3.0f%%  %zu/%zu import jobs done", bar,
                frac * 100, done, total);
        p->drawn = true;
    } else {
        fprintf(stderr,
                "ferry: progress: import %.0f%%, %zu of %zu jobs "
                "done\n",
                frac * 100, done, total);
    }
}

static void draw(struct ferry_progress *p, uint64_t done, uint64_t total,
                 size_t files_done, size_t files, double now)
{
    double frac = total ? (double)done / (double)total : 1;
    double secs = now - p->started;
    char d[32], t[32], r[32];
    char bar[31];
    int i, fill = (int)(frac * 30);

    ferry_format_size(d, sizeof(d), done);
    ferry_format_size(t, sizeof(t), total);
    ferry_format_size(r, sizeof(r),
                      secs > 0 ? (uint64_t)((double)done / secs) : 0);
    if (p->percent_only) {
        draw_percent(p, frac, files_done, files, bar, fill);
        return;
    }
    if (p->tty) {
        for (i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r\033[K[%s] %3.0f%% %s / %s  %s/s  %zu/%zu files",
                bar, frac * 100, d, t, r, files_done, files);
        p->drawn = true;
    } else {
        fprintf(stderr,
                "ferry: progress: %.0f%% %s of %s, %s/s, %zu of %zu files\n",
                frac * 100, d, t, r, files_done, files);
    }
}

void ferry_progress_update(void *ud, uint64_t done, uint64_t total,
                           size_t files_done, size_t files)
{
    struct ferry_progress *p = ud;
    double now = ferry_monotonic();

    p->done = done;
    p->total = total;
    p->files_done = files_done;
    p->files = files;
    if (p->quiet || now - p->last < p->interval)
        return;
    p->last = now;
    draw(p, done, total, files_done, files, now);
}

void ferry_progress_finish(struct ferry_progress *p)
{
    if (p->drawn)
        draw(p, p->done, p->total, p->files_done, p->files, ferry_monotonic());
    if (p->drawn) {
        fputs("\n", stderr);
        p->drawn = false;
    }
    ferry_log_set_hook(NULL);
    active = NULL;
}
