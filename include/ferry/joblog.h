/*
 * joblog.h - the append-only job log that joins upload, import and resume.
 *
 * A job log is a file of JSON Lines (one JSON object per line, format
 * described in ferry-joblog(5)).  The first line names the format and
 * its version; every later line is an event.  Lines are only ever
 * appended, each with a single write(2), so a crash can at worst leave
 * the last line torn; readers ignore such a line and ferry_joblog_open()
 * cuts it off before appending.
 *
 * One process at a time holds a job: create and open take an exclusive
 * flock(2) on the file for as long as the handle lives.
 *
 *     struct ferry_joblog *jl;
 *     if (ferry_joblog_create(&jl, path, id, &err))
 *         return err.code;
 *     ferry_joblog_append(jl, event, true, &err);
 *     ...
 *     ferry_joblog_close(jl);
 *
 * Resuming reads first, then opens for appending:
 *
 *     ferry_joblog_read(&events, path, &err);     (replay into state)
 *     ferry_joblog_open(&jl, path, &err);
 *
 * The handle is heap-allocated and owned by the caller until
 * ferry_joblog_close().  ferry_joblog_append() may be called from many
 * threads at once; create, open and close may not race with it.
 */
#ifndef FERRY_JOBLOG_H
#define FERRY_JOBLOG_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "ferry/buf.h"
#include "ferry/error.h"

/* The format version this ferry writes and reads. */
#define FERRY_JOBLOG_VERSION 1

struct ferry_joblog;

/*
 * Creates a new job log at path, mode 0600, making missing parent
 * directories with mode 0700; takes the lock and writes the version
 * line {"format":"ferry-joblog","version":1,"job":JOB_ID,"time":...,
 * "ferry":VERSION}, then syncs file and directory.  An existing file is
 * refused (FERRY_EIO), never overwritten.  Borrows path and job_id.
 */
int ferry_joblog_create(struct ferry_joblog **out, const char *path,
                        const char *job_id, struct ferry_error *err);

/*
 * Opens an existing job log for appending and takes the lock
 * (FERRY_ELOCKED when another ferry holds it).  The version line must be
 * of a known version (else FERRY_EJOBLOG).  A torn last line is cut off;
 * a last line that is a complete object missing only its newline gets
 * the newline, so what ferry_joblog_read() returned stays in the file.
 */
int ferry_joblog_open(struct ferry_joblog **out, const char *path,
                      struct ferry_error *err);

/*
 * Appends event (borrowed; must be an object) as one line.  Adds a
 * "time" member (ISO 8601 UTC) to event when it has none.  With sync,
 * the line is on disk (fdatasync) before this returns; use it at stage
 * changes and finished parts.
 *
 * As a last defence against leaking a secret, an event with a string
 * member whose name contains "secret", "password", "token",
 * "authorization" or "api_key" (any case, at any depth) is refused with
 * FERRY_EJOBLOG and nothing is written.
 */
int ferry_joblog_append(struct ferry_joblog *jl, cJSON *event, bool sync,
                        struct ferry_error *err);

/*
 * Appends like ferry_joblog_append() and has the line reach the disk
 * soon, not before this returns: a background thread, started at the
 * first such call, runs one fdatasync for every batch of lines written
 * since its last one (group commit), so a caller finishing many parts or
 * small objects never waits for the disk.  For events that resume can
 * recover from the server when a crash of the whole machine loses the
 * last of them (finished parts: ListParts; finished objects: sent again,
 * or found by HeadObject).  A process that dies loses nothing written:
 * the line is in the kernel already.  A background sync failure is
 * returned by the next append.  Any later sync append, and close, sync
 * all lines before them.
 */
int ferry_joblog_append_soon(struct ferry_joblog *jl, cJSON *event,
                             struct ferry_error *err);

/* Waits for the background syncer, syncs, unlocks and frees jl.  NULL is
 * allowed. */
void ferry_joblog_close(struct ferry_joblog *jl);

/* The path the log was created or opened with; owned by jl. */
const char *ferry_joblog_path(const struct ferry_joblog *jl);

/*
 * Reads a whole job log, without taking the lock, into *out: an array
 * of objects, the version line first.  The caller frees *out with
 * cJSON_Delete().  A torn last line is skipped silently; any other line
 * that is not a JSON object is FERRY_EJOBLOG naming its number.  A file
 * that cannot be opened is FERRY_EIO.
 */
int ferry_joblog_read(cJSON **out, const char *path, struct ferry_error *err);

/*
 * Appends the directory for job logs to out:
 * ${XDG_STATE_HOME:-$HOME/.local/state}/ferry/jobs.  Returns -1 when
 * neither XDG_STATE_HOME nor a home directory is known.
 */
int ferry_joblog_default_dir(struct ferry_buf *out);

/*
 * A new job id: UTC time and six random hex digits, such as
 * "20261203-204400-a1b2c3".  Safe to use in a file name.
 */
void ferry_joblog_new_id(char out[32]);

#endif
