/*
 * upload.h - the upload stage: part sizing, parallel scheduling,
 * integrity and the job-log records that resume needs.
 *
 * A file below the multipart threshold goes as one PutObject; a larger
 * one as a multipart upload whose parts go in parallel.  Many small
 * files go in parallel too: every request, PUT or part, is a transfer
 * on one libcurl multi handle with reused connections.
 *
 * Memory: each transfer in flight holds one buffer of at most the part
 * size, or of a whole file below the multipart threshold (the data is
 * read once, hashed, and sent from that buffer, also on retries), so
 * the data in memory is at most concurrency x max(part size, threshold),
 * which with the default threshold (the part size) is concurrency x
 * part size; plus a constant of well under 1 MiB per transfer and about
 * 3 KiB per file for requests, answers and bookkeeping.
 *
 * Reading and hashing run on two reader threads, so the event loop keeps
 * sending while the next parts are read.  Each part's SHA-256 is its
 * signed payload hash; the whole file's SHA-256 is folded in part order
 * (unless no_file_sha256); a one-part file's is its payload hash.
 * A file whose size or mtime changes between the scan and the read of
 * any of its parts fails with FERRY_ECHANGED.
 */
#ifndef FERRY_UPLOAD_H
#define FERRY_UPLOAD_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "ferry/error.h"
#include "ferry/joblog.h"
#include "ferry/scan.h"
#include "ferry/store.h"

#define FERRY_MIN_PART ((uint64_t)5 << 20)
#define FERRY_MAX_PART ((uint64_t)5 << 30)
#define FERRY_MAX_PARTS 10000
#define FERRY_MAX_OBJECT ((uint64_t)5 << 40)
#define FERRY_DEFAULT_PART ((uint64_t)16 << 20)
#define FERRY_DEFAULT_CONCURRENCY 8

/*
 * The part size for a file of `size` bytes: `requested` (0 for the
 * default), raised so the file needs at most 10,000 parts and rounded
 * up to a whole MiB when raised; between 5 MiB and 5 GiB.  A file over
 * 5 TiB is FERRY_ETOOBIG; a requested size outside the limits is
 * FERRY_EUSAGE.
 */
int ferry_upload_part_size(uint64_t *out, uint64_t size, uint64_t requested,
                           struct ferry_error *err);

/* Number of parts of a file of `size` bytes in parts of `part`. */
uint32_t ferry_upload_part_count(uint64_t size, uint64_t part);

struct ferry_upload_options {
    uint64_t part_size;       /* 0: default, see above */
    uint64_t threshold;       /* multipart at or above; 0: part size */
    int concurrency;          /* transfers in flight; 0: default */
    struct ferry_joblog *log; /* borrowed; may be NULL */
    volatile sig_atomic_t *interrupted; /* set by a signal handler */
    /* progress: bytes of finished parts and objects, of total */
    void (*progress)(void *ud, uint64_t done, uint64_t total, size_t files_done,
                     size_t files);
    void *progress_ud;
    /*
     * Resume: for each scanned file (same order as the scan), an open
     * multipart upload and the parts it already holds, or NULL.  Kept
     * parts are read and hashed (for the file's SHA-256) but not sent.
     */
    const struct ferry_upload_resume *resume;
    bool resumed; /* the log already holds the file events */
    /*
     * Skip the whole-file SHA-256 of multipart files (a second pass over
     * every byte; each part is still hashed and checked by the server).
     * A file sent in one PUT always has its SHA-256: the payload hash.
     */
    bool no_file_sha256;
};

struct ferry_upload_resume {
    const char *upload_id;                /* NULL: start afresh */
    const struct ferry_store_part *parts; /* kept, any order */
    size_t nparts;
};

enum ferry_upload_state {
    FERRY_FILE_PENDING,
    FERRY_FILE_ACTIVE,
    FERRY_FILE_DONE,
    FERRY_FILE_FAILED,
};

/* The outcome for one file; owned by struct ferry_upload_result. */
struct ferry_upload_outcome {
    enum ferry_upload_state state;
    char sha256[65]; /* "" when not computed (no_file_sha256) */
    char etag[128];
    char *upload_id; /* multipart only */
    uint32_t parts;
    struct ferry_error err;
};

struct ferry_upload_result {
    struct ferry_upload_outcome *files; /* one per scanned file */
    size_t n;
    size_t done, failed;
    bool interrupted;
};

/*
 * Uploads every file of scan.  Returns 0 when all landed; FERRY_EINTR
 * when interrupted (what finished is in the job log, multipart uploads
 * stay open); otherwise the first failure's code, with err naming it.
 * out is initialised by this call and always filled.
 */
int ferry_upload_run(struct ferry_upload_result *out, struct ferry_store *store,
                     const struct ferry_scan *scan,
                     const struct ferry_upload_options *opts,
                     struct ferry_error *err);
void ferry_upload_result_release(struct ferry_upload_result *r);

#endif
