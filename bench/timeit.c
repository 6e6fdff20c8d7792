/*
 * bench/timeit.c - run a command, report its wall time, CPU and peak RSS.
 *
 *   cc -O2 -o timeit bench/timeit.c
 *   timeit OUTFILE COMMAND [ARG...]
 *
 * Writes one line to OUTFILE: "wall_s user_s sys_s maxrss_kib status",
 * where the figures come from wait4() on the command (they include the
 * descendants it waited for, like GNU time) and status is the exit code,
 * or 128 + the signal that killed it.  Exits with that status.
 *
 * Why not time it from bench/run directly: a child forked from the
 * Python driver starts with the driver's 70-odd MiB resident, and Linux
 * keeps that in the child's peak RSS across exec.  Forked from this small
 * program, the command's peak RSS is its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    struct rusage ru;
    double t0, wall;
    int status, code;
    pid_t pid;
    FILE *out;

    if (argc < 3) {
        fprintf(stderr, "usage: timeit OUTFILE COMMAND [ARG...]\n");
        return 2;
    }
    t0 = now();
    pid = fork();
    if (pid < 0) {
        perror("timeit: fork");
        return 2;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        fprintf(stderr, "timeit: %s: %s\n", argv[2], strerror(errno));
        _exit(127);
    }
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            perror("timeit: wait4");
            return 2;
        }
    }
    wall = now() - t0;
    code = WIFEXITED(status) ? WEXITSTATUS(status)
                             : 128 + (WIFSIGNALED(status) ? WTERMSIG(status)
                                                          : 0);
    out = fopen(argv[1], "w");
    if (!out) {
        perror("timeit: output file");
        return 2;
    }
    fprintf(out, "%.6f %.6f %.6f %ld %d\n", wall,
            (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
            (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6,
            ru.ru_maxrss, code);
    fclose(out);
    return code;
}
