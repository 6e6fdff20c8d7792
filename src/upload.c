/* upload.c - the upload stage; see include/ferry/upload.h. */
#include "ferry/upload.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "ferry/log.h"
#include "ferry/strutil.h"

#define READERS 2

int ferry_upload_part_size(uint64_t *out, uint64_t size, uint64_t requested,
                           struct ferry_error *err)
{
    uint64_t part = requested ? requested : FERRY_DEFAULT_PART;
    uint64_t need;

    if (requested && (requested < FERRY_MIN_PART || requested > FERRY_MAX_PART))
        return ferry_error_set(err, FERRY_EUSAGE,
                               "part size %llu is outside 5 MiB to 5 GiB",
                               (unsigned long long)requested);
    if (size > FERRY_MAX_OBJECT)
        return ferry_error_set(err, FERRY_ETOOBIG,
                               "%llu bytes is more "
                               "than the 5 TiB an object may hold",
                               (unsigned long long)size);
    need = (size + FERRY_MAX_PARTS - 1) / FERRY_MAX_PARTS;
    if (need > part)
        part = (need + FERRY_MIB - 1) / FERRY_MIB * FERRY_MIB;
    *out = part;
    return 0;
}

uint32_t ferry_upload_part_count(uint64_t size, uint64_t part)
{
    if (size == 0)
        return 1;
    return (uint32_t)((size + part - 1) / part);
}

struct file_job {
    struct engine *eng;
    const struct ferry_scan_file *sf;
    struct ferry_upload_outcome *out;
    uint64_t part_size;
    uint32_t nparts;
    bool multipart;
    bool created;
    bool ctl_busy;
    uint32_t next_part; /* next to schedule, from 1 */
    uint32_t parts_done;
    uint32_t in_flight;
    struct ferry_store_part *parts;
    struct ferry_store_op ctl; /* Create, Complete, maybe Head */
    struct ferry_error complete_err;
    /* folding the whole-file hash in part order, across readers */
    pthread_mutex_t lock;
    pthread_cond_t turn;
    uint32_t next_hash; /* part number to fold next */
    EVP_MD_CTX *hash;   /* multipart with the file's SHA-256 on, else NULL */
};

struct slot {
    struct engine *eng;
    char *buf;
    size_t cap;
    size_t len;
    struct file_job *fj;
    uint32_t part;
    uint64_t offset;
    char sha256[65];
    struct ferry_error err;
    struct ferry_store_op op;
    struct slot *next;
};

struct engine {
    bool fatal; /* an error no other file can escape */
    struct ferry_store *store;
    const struct ferry_upload_options *opts;
    struct ferry_upload_result *res;
    struct file_job *jobs;
    size_t njobs, cursor;
    struct slot *slots;
    int nslots;
    struct slot *free_slots;
    int busy_slots;
    uint64_t total, done_bytes;
    struct ferry_error first_err;
    /* reader threads: read queue in, ready queue out */
    pthread_t readers[READERS];
    pthread_mutex_t qlock;
    pthread_cond_t qcond;
    struct slot *read_head, *read_tail;
    struct slot *ready;
    bool stop;
};

static void log_event(struct engine *e, cJSON *ev, bool sync)
{
    struct ferry_error err;

    if (e->opts->log && ferry_joblog_append(e->opts->log, ev, sync, &err))
        ferry_warn("cannot write the job log: %s", err.msg);
    cJSON_Delete(ev);
}

/* A finished part or object: on disk soon, batched (see joblog.h). */
static void log_done(struct engine *e, cJSON *ev)
{
    struct ferry_error err;

    if (e->opts->log && ferry_joblog_append_soon(e->opts->log, ev, &err))
        ferry_warn("cannot write the job log: %s", err.msg);
    cJSON_Delete(ev);
}

static cJSON *event(const char *type, const char *key)
{
    cJSON *ev = cJSON_CreateObject();

    cJSON_AddStringToObject(ev, "event", type);
    if (key)
        cJSON_AddStringToObject(ev, "key", key);
    return ev;
}

/*
 * Errors that every other request of the job would meet too: stop the
 * whole job instead of failing a thousand files one by one.
 */
static bool fatal_for_job(const struct ferry_error *err)
{
    static const char *const codes[] = {
        "NoSuchBucket",
        "AccessDenied",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
        "InvalidToken",
        "ExpiredToken",
        "AuthorizationHeaderMalformed",
        "AllAccessDisabled",
    };
    size_t i;

    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        if (!strcmp(err->server_code, codes[i]))
            return true;
    }
    return false;
}

static bool stopping(const struct engine *e)
{
    return e->fatal || (e->opts->interrupted && *e->opts->interrupted);
}

static void fail_file(struct engine *e, struct file_job *fj,
                      const struct ferry_error *err)
{
    cJSON *ev;

    if (fj->out->state == FERRY_FILE_FAILED)
        return;
    fj->out->state = FERRY_FILE_FAILED;
    fj->out->err = *err;
    e->res->failed++;
    if (!e->first_err.code)
        e->first_err = *err;
    if (fatal_for_job(err))
        e->fatal = true;
    ferry_debug("%s", err->msg);
    ev = event("failed", fj->sf->key);
    cJSON_AddStringToObject(ev, "reason", err->msg);
    if (err->server_code[0])
        cJSON_AddStringToObject(ev, "code", err->server_code);
    else
        cJSON_AddNullToObject(ev, "code");
    cJSON_AddNumberToObject(ev, "http_status", (double)err->http_status);
    log_event(e, ev, true);
}

/* --- reader threads ------------------------------------------------- */

static int read_part(struct slot *sl)
{
    const struct ferry_scan_file *sf = sl->fj->sf;
    struct stat st;
    size_t got = 0;
    int fd = open(sf->path, O_RDONLY | O_CLOEXEC);
    int rc = 0;

    if (fd < 0)
        return ferry_error_set(&sl->err, FERRY_EIO, "cannot open \"%s\": %s",
                               sf->path, strerror(errno));
    while (got < sl->len) {
        ssize_t n =
            pread(fd, sl->buf + got, sl->len - got, (off_t)(sl->offset + got));

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? ferry_error_set(&sl->err, FERRY_EIO,
                                         "cannot read \"%s\": %s", sf->path,
                                         strerror(errno))
                       : ferry_error_set(&sl->err, FERRY_ECHANGED,
                                         "\"%s\" shrank while it was uploaded",
                                         sf->path);
            break;
        }
        got += (size_t)n;
    }
    if (!rc && (fstat(fd, &st) || (uint64_t)st.st_size != sf->size ||
                (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec !=
                    sf->mtime_ns))
        rc = ferry_error_set(&sl->err, FERRY_ECHANGED,
                             "\"%s\" changed "
                             "while it was uploaded (size or mtime)",
                             sf->path);
    close(fd);
    return rc;
}

/* Parts of one file may be read by both readers; fold them in order. */
static void fold_hash(struct slot *sl, bool ok)
{
    struct file_job *fj = sl->fj;

    /* No whole-file hash: one part (its payload hash is the file's), or
     * --no-file-sha256. */
    if (!fj->hash)
        return;
    pthread_mutex_lock(&fj->lock);
    while (fj->next_hash != sl->part)
        pthread_cond_wait(&fj->turn, &fj->lock);
    if (ok)
        EVP_DigestUpdate(fj->hash, sl->buf, sl->len);
    fj->next_hash++;
    pthread_cond_broadcast(&fj->turn);
    pthread_mutex_unlock(&fj->lock);
}

static void *reader_main(void *arg)
{
    struct engine *e = arg;

    for (;;) {
        struct slot *sl;
        int rc;

        pthread_mutex_lock(&e->qlock);
        while (!e->read_head && !e->stop)
            pthread_cond_wait(&e->qcond, &e->qlock);
        sl = e->read_head;
        if (!sl) {
            pthread_mutex_unlock(&e->qlock);
            return NULL;
        }
        e->read_head = sl->next;
        if (!e->read_head)
            e->read_tail = NULL;
        pthread_mutex_unlock(&e->qlock);

        ferry_error_clear(&sl->err);
        rc = read_part(sl);
        if (!rc)
            ferry_sha256_hex(sl->sha256, sl->buf, sl->len);
        fold_hash(sl, rc == 0);

        pthread_mutex_lock(&e->qlock);
        sl->next = e->ready;
        e->ready = sl;
        pthread_mutex_unlock(&e->qlock);
        ferry_store_wakeup(e->store);
    }
}

static void queue_read(struct engine *e, struct slot *sl)
{
    pthread_mutex_lock(&e->qlock);
    sl->next = NULL;
    if (e->read_tail)
        e->read_tail->next = sl;
    else
        e->read_head = sl;
    e->read_tail = sl;
    pthread_cond_signal(&e->qcond);
    pthread_mutex_unlock(&e->qlock);
}

/* --- the event loop -------------------------------------------------- */

static void release_slot(struct engine *e, struct slot *sl)
{
    sl->fj->in_flight--;
    sl->fj = NULL;
    sl->next = e->free_slots;
    e->free_slots = sl;
    e->busy_slots--;
}

static void report(struct engine *e)
{
    if (e->opts->progress)
        e->opts->progress(e->opts->progress_ud, e->done_bytes, e->total,
                          e->res->done, e->res->n);
}

static void finish_object(struct engine *e, struct file_job *fj,
                          const char *etag)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    cJSON *ev;

    if (fj->hash) {
        EVP_DigestFinal_ex(fj->hash, md, &mdlen);
        ferry_hex(fj->out->sha256, md, 32);
    }
    snprintf(fj->out->etag, sizeof(fj->out->etag), "%s", etag);
    fj->out->state = FERRY_FILE_DONE;
    fj->out->parts = fj->multipart ? fj->nparts : 0;
    e->res->done++;
    ev = event("object", fj->sf->key);
    cJSON_AddNumberToObject(ev, "size", (double)fj->sf->size);
    cJSON_AddStringToObject(ev, "etag", etag);
    if (fj->out->sha256[0])
        cJSON_AddStringToObject(ev, "sha256", fj->out->sha256);
    if (fj->multipart) {
        cJSON_AddStringToObject(ev, "upload_id", fj->out->upload_id);
        cJSON_AddNumberToObject(ev, "parts", fj->nparts);
    }
    log_done(e, ev);
    ferry_debug("uploaded \"%s\" (%llu bytes, sha256 %s)", fj->sf->key,
                (unsigned long long)fj->sf->size,
                fj->out->sha256[0] ? fj->out->sha256 : "not computed");
    report(e);
}

static void start_complete(struct engine *e, struct file_job *fj);

static void on_part_done(struct ferry_store_op *op, void *ud)
{
    struct slot *sl = ud;
    struct engine *e = sl->eng;
    struct file_job *fj = sl->fj;
    struct ferry_store_part *p;
    cJSON *ev;

    if (op->err.code) {
        fail_file(e, fj, &op->err);
        goto out;
    }
    if (fj->out->state == FERRY_FILE_FAILED)
        goto out;
    if (!fj->multipart) {
        memcpy(fj->out->sha256, sl->sha256, sizeof(fj->out->sha256));
        release_slot(e, sl);
        e->done_bytes += fj->sf->size;
        finish_object(e, fj, op->etag);
        return;
    }
    p = &fj->parts[sl->part - 1];
    p->number = (int)sl->part;
    p->size = sl->len;
    snprintf(p->etag, sizeof(p->etag), "%s", op->etag);
    ev = event("part", fj->sf->key);
    cJSON_AddStringToObject(ev, "upload_id", fj->out->upload_id);
    cJSON_AddNumberToObject(ev, "part", sl->part);
    cJSON_AddNumberToObject(ev, "offset", (double)sl->offset);
    cJSON_AddNumberToObject(ev, "size", (double)sl->len);
    cJSON_AddStringToObject(ev, "etag", op->etag);
    cJSON_AddStringToObject(ev, "sha256", sl->sha256);
    log_done(e, ev);
    ferry_debug("\"%s\" part %u of %u done", fj->sf->key, sl->part, fj->nparts);
    fj->parts_done++;
    e->done_bytes += sl->len;
    report(e);
    if (fj->parts_done == fj->nparts)
        start_complete(e, fj);
out:
    release_slot(e, sl);
}

static void start_ctl(struct engine *e, struct file_job *fj,
                      enum ferry_store_kind kind);

/*
 * A Complete retried after a lost answer meets NoSuchUpload (or, on
 * RGW, an InternalError): the object is there if HEAD finds its size.
 */
static void check_completed(struct engine *e, struct file_job *fj,
                            struct ferry_store_op *head)
{
    if (head->err.code || head->size != fj->sf->size) {
        fail_file(e, fj, &fj->complete_err);
        return;
    }
    ferry_info("\"%s\": an earlier CompleteMultipartUpload succeeded",
               fj->sf->key);
    finish_object(e, fj, head->etag);
}

static void on_ctl_done(struct ferry_store_op *op, void *ud)
{
    struct file_job *fj = ud;
    struct engine *e = fj->eng;
    cJSON *ev;

    fj->ctl_busy = false;
    if (op->kind == FERRY_OP_HEAD) {
        check_completed(e, fj, op);
        return;
    }
    if (op->err.code && op->kind == FERRY_OP_COMPLETE_MPU && op->attempts > 1 &&
        op->err.code != FERRY_EINTR) {
        /* An earlier attempt may have completed the upload. */
        fj->complete_err = op->err;
        start_ctl(e, fj, FERRY_OP_HEAD);
        return;
    }
    if (op->err.code) {
        fail_file(e, fj, &op->err);
        return;
    }
    if (op->kind == FERRY_OP_COMPLETE_MPU) {
        /* Some servers (Ceph RGW) answer with an empty ETag. */
        finish_object(e, fj, op->etag[0] ? op->etag : "");
        return;
    }
    fj->out->upload_id = op->new_upload_id;
    op->new_upload_id = NULL;
    fj->created = true;
    ev = event("mpu_created", fj->sf->key);
    cJSON_AddStringToObject(ev, "upload_id", fj->out->upload_id);
    cJSON_AddNumberToObject(ev, "part_size", (double)fj->part_size);
    cJSON_AddNumberToObject(ev, "parts", fj->nparts);
    log_event(e, ev, true);
    ferry_debug("\"%s\": multipart upload %s, %u parts", fj->sf->key,
                fj->out->upload_id, fj->nparts);
}

static void start_ctl(struct engine *e, struct file_job *fj,
                      enum ferry_store_kind kind)
{
    ferry_store_op_release(&fj->ctl);
    ferry_store_op_init(&fj->ctl, kind, fj->sf->key);
    fj->ctl.upload_id = fj->out->upload_id;
    fj->ctl.parts = fj->parts;
    fj->ctl.nparts = fj->nparts;
    fj->ctl.done = on_ctl_done;
    fj->ctl.ud = fj;
    fj->ctl_busy = true;
    ferry_store_submit(e->store, &fj->ctl);
}

static void start_complete(struct engine *e, struct file_job *fj)
{
    if (stopping(e))
        return;
    start_ctl(e, fj, FERRY_OP_COMPLETE_MPU);
}

static void send_part(struct engine *e, struct slot *sl)
{
    struct file_job *fj = sl->fj;

    ferry_store_op_release(&sl->op);
    ferry_store_op_init(&sl->op,
                        fj->multipart ? FERRY_OP_UPLOAD_PART : FERRY_OP_PUT,
                        fj->sf->key);
    sl->op.upload_id = fj->out->upload_id;
    sl->op.part_number = (int)sl->part;
    sl->op.body = sl->buf;
    sl->op.body_len = sl->len;
    sl->op.body_sha256 = sl->sha256;
    sl->op.done = on_part_done;
    sl->op.ud = sl;
    ferry_store_submit(e->store, &sl->op);
}

/* A part the server already holds (resume): hashed, not sent. */
static void keep_part(struct engine *e, struct slot *sl)
{
    struct file_job *fj = sl->fj;

    ferry_debug("\"%s\" part %u kept from the earlier run", fj->sf->key,
                sl->part);
    fj->parts_done++;
    e->done_bytes += sl->len;
    release_slot(e, sl);
    report(e);
    if (fj->parts_done == fj->nparts)
        start_complete(e, fj);
}

/* Parts whose reading finished: send them, or drop them. */
static void drain_ready(struct engine *e)
{
    struct slot *sl, *next;
    bool stop = stopping(e);

    pthread_mutex_lock(&e->qlock);
    sl = e->ready;
    e->ready = NULL;
    pthread_mutex_unlock(&e->qlock);
    for (; sl; sl = next) {
        next = sl->next;
        if (sl->err.code)
            fail_file(e, sl->fj, &sl->err);
        if (sl->err.code || stop || sl->fj->out->state == FERRY_FILE_FAILED)
            release_slot(e, sl);
        else if (sl->fj->multipart && sl->fj->parts[sl->part - 1].etag[0])
            keep_part(e, sl);
        else
            send_part(e, sl);
    }
}

static void read_next_part(struct engine *e, struct file_job *fj)
{
    struct slot *sl = e->free_slots;
    uint64_t off = (uint64_t)(fj->next_part - 1) * fj->part_size;
    uint64_t left = fj->sf->size - off;

    e->free_slots = sl->next;
    e->busy_slots++;
    sl->fj = fj;
    sl->part = fj->next_part++;
    sl->offset = off;
    sl->len = (size_t)(left < fj->part_size ? left : fj->part_size);
    if (sl->cap < sl->len || !sl->buf) {
        ferry_bigbuf_free(sl->buf, sl->cap);
        sl->cap = sl->len ? sl->len : 1;
        sl->buf = ferry_bigbuf_alloc(sl->cap);
    }
    fj->in_flight++;
    fj->out->state = FERRY_FILE_ACTIVE;
    queue_read(e, sl);
}

static bool fully_scheduled(const struct file_job *fj)
{
    return fj->out->state == FERRY_FILE_FAILED ||
           fj->out->state == FERRY_FILE_DONE || fj->next_part > fj->nparts;
}

/* Fills free slots from the files in order, a few files ahead. */
static void schedule(struct engine *e)
{
    size_t i, window = (size_t)e->nslots * 2;

    if (stopping(e))
        return;
    while (e->cursor < e->njobs && fully_scheduled(&e->jobs[e->cursor]))
        e->cursor++;
    for (i = e->cursor; i < e->njobs && i < e->cursor + window; i++) {
        struct file_job *fj = &e->jobs[i];

        if (!e->free_slots)
            return;
        if (fully_scheduled(fj))
            continue;
        if (fj->multipart && !fj->created) {
            if (!fj->ctl_busy)
                start_ctl(e, fj, FERRY_OP_CREATE_MPU);
            continue;
        }
        while (e->free_slots && !fully_scheduled(fj))
            read_next_part(e, fj);
    }
}

static bool all_settled(struct engine *e, int active)
{
    if (e->busy_slots || active > 0)
        return false;
    if (stopping(e))
        return true;
    return e->res->done + e->res->failed == e->njobs;
}

static void log_file(struct engine *e, const struct file_job *fj)
{
    cJSON *ev = event("file", fj->sf->key);

    cJSON_AddStringToObject(ev, "path", fj->sf->path);
    cJSON_AddNumberToObject(ev, "size", (double)fj->sf->size);
    /* Two numbers: nanoseconds since 1970 exceed a double's 53 bits. */
    cJSON_AddNumberToObject(ev, "mtime_sec",
                            (double)(fj->sf->mtime_ns / 1000000000));
    cJSON_AddNumberToObject(ev, "mtime_nsec",
                            (double)(fj->sf->mtime_ns % 1000000000));
    cJSON_AddNumberToObject(ev, "part_size", (double)fj->part_size);
    cJSON_AddNumberToObject(ev, "parts", fj->nparts);
    cJSON_AddBoolToObject(ev, "multipart", fj->multipart);
    log_event(e, ev, false);
}

static uint64_t part_len(const struct file_job *fj, uint32_t n)
{
    uint64_t off = (uint64_t)(n - 1) * fj->part_size;

    return fj->sf->size - off < fj->part_size ? fj->sf->size - off
                                              : fj->part_size;
}

/* An open upload and its kept parts: those parts are not sent again. */
static void take_resume(struct file_job *fj,
                        const struct ferry_upload_resume *r)
{
    size_t i;

    fj->created = true;
    fj->out->upload_id = ferry_xstrdup(r->upload_id);
    for (i = 0; i < r->nparts; i++) {
        int n = r->parts[i].number;

        if (n >= 1 && (uint32_t)n <= fj->nparts &&
            r->parts[i].size == part_len(fj, (uint32_t)n))
            fj->parts[n - 1] = r->parts[i];
    }
}

static int plan(struct engine *e, const struct ferry_scan *scan,
                struct ferry_error *err)
{
    const struct ferry_upload_options *o = e->opts;
    size_t i;

    e->jobs = ferry_xcalloc(scan->n, sizeof(*e->jobs));
    e->njobs = scan->n;
    for (i = 0; i < scan->n; i++) {
        struct file_job *fj = &e->jobs[i];
        uint64_t threshold;

        fj->eng = e;
        fj->sf = &scan->files[i];
        fj->out = &e->res->files[i];
        if (ferry_upload_part_size(&fj->part_size, fj->sf->size, o->part_size,
                                   err)) {
            ferry_error_prefix(err, "\"%s\"", fj->sf->path);
            return err->code;
        }
        threshold = o->threshold ? o->threshold : fj->part_size;
        fj->multipart = fj->sf->size >= threshold;
        if (!fj->multipart && fj->sf->size > FERRY_MAX_PART)
            fj->multipart = true;
        fj->nparts = fj->multipart
                         ? ferry_upload_part_count(fj->sf->size, fj->part_size)
                         : 1;
        if (!fj->multipart)
            fj->part_size = fj->sf->size;
        fj->next_part = 1;
        fj->next_hash = 1;
        fj->parts = ferry_xcalloc(fj->nparts, sizeof(*fj->parts));
        if (o->resume && o->resume[i].upload_id && fj->multipart)
            take_resume(fj, &o->resume[i]);
        if (fj->multipart && !o->no_file_sha256) {
            fj->hash = EVP_MD_CTX_new();
            EVP_DigestInit_ex(fj->hash, EVP_sha256(), NULL);
        }
        pthread_mutex_init(&fj->lock, NULL);
        pthread_cond_init(&fj->turn, NULL);
        ferry_store_op_init(&fj->ctl, FERRY_OP_CREATE_MPU, fj->sf->key);
        e->total += fj->sf->size;
    }
    return 0;
}

static void start_readers(struct engine *e)
{
    int i;

    pthread_mutex_init(&e->qlock, NULL);
    pthread_cond_init(&e->qcond, NULL);
    for (i = 0; i < READERS; i++)
        pthread_create(&e->readers[i], NULL, reader_main, e);
}

static void stop_readers(struct engine *e)
{
    int i;

    pthread_mutex_lock(&e->qlock);
    e->stop = true;
    pthread_cond_broadcast(&e->qcond);
    pthread_mutex_unlock(&e->qlock);
    for (i = 0; i < READERS; i++)
        pthread_join(e->readers[i], NULL);
}

static void make_slots(struct engine *e, int n)
{
    int i;

    e->nslots = n;
    e->slots = ferry_xcalloc((size_t)n, sizeof(*e->slots));
    for (i = n - 1; i >= 0; i--) {
        e->slots[i].eng = e;
        ferry_store_op_init(&e->slots[i].op, FERRY_OP_PUT, NULL);
        e->slots[i].next = e->free_slots;
        e->free_slots = &e->slots[i];
    }
}

static void teardown(struct engine *e)
{
    size_t i;
    int k;

    for (k = 0; k < e->nslots; k++) {
        ferry_store_op_release(&e->slots[k].op);
        ferry_bigbuf_free(e->slots[k].buf, e->slots[k].cap);
    }
    free(e->slots);
    for (i = 0; i < e->njobs; i++) {
        struct file_job *fj = &e->jobs[i];

        ferry_store_op_release(&fj->ctl);
        free(fj->parts);
        EVP_MD_CTX_free(fj->hash);
        pthread_mutex_destroy(&fj->lock);
        pthread_cond_destroy(&fj->turn);
    }
    free(e->jobs);
}

static void log_stage(struct engine *e, const char *state)
{
    cJSON *ev = event("stage", NULL);

    cJSON_AddStringToObject(ev, "stage", "upload");
    cJSON_AddStringToObject(ev, "state", state);
    log_event(e, ev, true);
}

static void run_loop(struct engine *e)
{
    bool cancelled = false;
    int active = 0;

    for (;;) {
        if (!cancelled && stopping(e)) {
            /* Requests waiting to be retried are not started again. */
            ferry_store_cancel_waiting(e->store);
            cancelled = true;
        }
        drain_ready(e);
        schedule(e);
        if (all_settled(e, active))
            break;
        active = ferry_store_run(e->store, 0.25);
        report(e);
    }
}

int ferry_upload_run(struct ferry_upload_result *out, struct ferry_store *store,
                     const struct ferry_scan *scan,
                     const struct ferry_upload_options *opts,
                     struct ferry_error *err)
{
    struct engine e = { 0 };
    size_t i;
    int rc;

    memset(out, 0, sizeof(*out));
    out->files = ferry_xcalloc(scan->n ? scan->n : 1, sizeof(*out->files));
    out->n = scan->n;
    e.store = store;
    e.opts = opts;
    e.res = out;
    rc = plan(&e, scan, err);
    if (rc)
        goto out;
    for (i = 0; i < e.njobs && !opts->resumed; i++)
        log_file(&e, &e.jobs[i]);
    log_stage(&e, opts->resumed ? "resumed" : "started");
    make_slots(&e, opts->concurrency > 0 ? opts->concurrency
                                         : FERRY_DEFAULT_CONCURRENCY);
    start_readers(&e);
    run_loop(&e);
    stop_readers(&e);
    drain_ready(&e); /* parts the readers finished after the loop ended */
    pthread_mutex_destroy(&e.qlock);
    pthread_cond_destroy(&e.qcond);
    out->interrupted = opts->interrupted && *opts->interrupted &&
                       out->done + out->failed < out->n;
    if (out->interrupted) {
        log_stage(&e, "interrupted");
        rc = ferry_error_set(err, FERRY_EINTR,
                             "interrupted after %zu of %zu files", out->done,
                             out->n);
    } else if (out->failed) {
        log_stage(&e, "failed");
        *err = e.first_err;
        rc = err->code;
    } else {
        log_stage(&e, "done");
    }
out:
    teardown(&e);
    return rc;
}

void ferry_upload_result_release(struct ferry_upload_result *r)
{
    size_t i;

    for (i = 0; i < r->n; i++)
        free(r->files[i].upload_id);
    free(r->files);
    memset(r, 0, sizeof(*r));
}
