/* joblog.c - the append-only job log; see include/ferry/joblog.h. */
#include "ferry/joblog.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "ferry/log.h"
#include "ferry/strutil.h"
#include "ferry/timeutil.h"

/* The version line is short; anything longer is not a job log. */
#define MAX_HEADER_LEN 4096

struct ferry_joblog {
    int fd;
    char *path;
    bool broken;          /* a failed write left a line we could not cut */
    pthread_mutex_t lock; /* one line at a time, and all fields below */
    /* group commit of ferry_joblog_append_soon() lines */
    uint64_t written, synced; /* lines written, lines known on disk */
    int sync_errno;           /* a background fdatasync failed */
    bool syncer_on, stopping;
    pthread_t syncer;
    pthread_cond_t wake;
};

enum sync_mode { SYNC_NONE, SYNC_NOW, SYNC_SOON };

static const char *const secret_words[] = {
    "secret", "password", "token", "authorization", "api_key",
};

static struct ferry_joblog *handle_new(int fd, const char *path)
{
    struct ferry_joblog *jl = ferry_xcalloc(1, sizeof(*jl));

    jl->fd = fd;
    jl->path = ferry_xstrdup(path);
    pthread_mutex_init(&jl->lock, NULL);
    pthread_cond_init(&jl->wake, NULL);
    return jl;
}

/*
 * The syncer: whenever lines were written since the last sync, one
 * fdatasync covers them all, so a burst of finished parts and objects
 * costs a few syncs, and the caller's thread never waits for the disk.
 */
static void *syncer_main(void *arg)
{
    struct ferry_joblog *jl = arg;

    pthread_mutex_lock(&jl->lock);
    for (;;) {
        uint64_t target;
        int rc;

        while (!jl->stopping && jl->synced == jl->written)
            pthread_cond_wait(&jl->wake, &jl->lock);
        if (jl->synced == jl->written)
            break;
        target = jl->written;
        pthread_mutex_unlock(&jl->lock);
        rc = fdatasync(jl->fd) < 0 ? errno : 0;
        pthread_mutex_lock(&jl->lock);
        if (rc && !jl->sync_errno)
            jl->sync_errno = rc;
        if (target > jl->synced)
            jl->synced = target;
    }
    pthread_mutex_unlock(&jl->lock);
    return NULL;
}

/* The directory part of path: "." for a bare name, "/" for "/name". */
static void dir_of(struct ferry_buf *out, const char *path)
{
    const char *slash = strrchr(path, '/');

    if (!slash)
        ferry_buf_adds(out, ".");
    else if (slash == path)
        ferry_buf_adds(out, "/");
    else
        ferry_buf_add(out, path, (size_t)(slash - path));
}

static int make_parents(const char *path, struct ferry_error *err)
{
    struct ferry_buf dir;
    char *p;
    int rc = 0;

    ferry_buf_init(&dir);
    dir_of(&dir, path);
    for (p = dir.data + 1;; p++) {
        char c = *p;

        if (c != '/' && c != '\0')
            continue;
        *p = '\0';
        if (mkdir(dir.data, 0700) < 0 && errno != EEXIST) {
            rc = ferry_error_set(err, FERRY_EIO,
                                 "cannot create directory \"%s\": %s", dir.data,
                                 strerror(errno));
            goto done;
        }
        *p = c;
        if (!c)
            break;
    }
done:
    ferry_buf_release(&dir);
    return rc;
}

/* A new file's name is durable only once its directory is synced. */
static int sync_dir(const char *path, struct ferry_error *err)
{
    struct ferry_buf dir;
    int fd, rc = 0;

    ferry_buf_init(&dir);
    dir_of(&dir, path);
    fd = open(dir.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || (fsync(fd) < 0 && errno != EINVAL))
        rc = ferry_error_set(err, FERRY_EIO, "cannot sync directory \"%s\": %s",
                             dir.data, strerror(errno));
    if (fd >= 0)
        close(fd);
    ferry_buf_release(&dir);
    return rc;
}

/* Returns 0 or an errno value. */
static int write_all(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t n = write(fd, data, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static int take_lock(int fd, const char *path, struct ferry_error *err)
{
    while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EINTR)
            continue;
        if (errno == EWOULDBLOCK)
            return ferry_error_set(err, FERRY_ELOCKED,
                                   "job log \"%s\" is in use by another "
                                   "ferry process",
                                   path);
        return ferry_error_set(err, FERRY_EIO, "cannot lock job log \"%s\": %s",
                               path, strerror(errno));
    }
    return 0;
}

/* Called with jl->lock held, or before jl is shared. */
static int write_locked(struct ferry_joblog *jl, const char *data, size_t len,
                        enum sync_mode sync, struct ferry_error *err)
{
    off_t start;
    int e;

    if (jl->broken)
        return ferry_error_set(err, FERRY_EJOBLOG,
                               "job log \"%s\" ends in a torn line from an "
                               "earlier failed write",
                               jl->path);
    if (jl->sync_errno) {
        e = jl->sync_errno;
        jl->sync_errno = 0;
        return ferry_error_set(err, FERRY_EIO, "cannot sync job log \"%s\": %s",
                               jl->path, strerror(e));
    }
    start = lseek(jl->fd, 0, SEEK_END);
    e = write_all(jl->fd, data, len);
    if (e) {
        /* Cut the partial line, or the next event would be glued to it. */
        if (start < 0 || ftruncate(jl->fd, start) < 0)
            jl->broken = true;
        return ferry_error_set(err, FERRY_EIO,
                               "cannot write job log \"%s\": %s", jl->path,
                               strerror(e));
    }
    jl->written++;
    if (sync == SYNC_NOW) {
        if (fdatasync(jl->fd) < 0)
            return ferry_error_set(err, FERRY_EIO,
                                   "cannot sync job log \"%s\": %s", jl->path,
                                   strerror(errno));
        jl->synced = jl->written;
    } else if (sync == SYNC_SOON) {
        if (!jl->syncer_on)
            jl->syncer_on =
                pthread_create(&jl->syncer, NULL, syncer_main, jl) == 0;
        if (!jl->syncer_on && fdatasync(jl->fd) < 0)
            return ferry_error_set(err, FERRY_EIO,
                                   "cannot sync job log \"%s\": %s", jl->path,
                                   strerror(errno));
        pthread_cond_signal(&jl->wake);
    }
    return 0;
}

static int write_event(struct ferry_joblog *jl, const cJSON *event,
                       enum sync_mode sync, struct ferry_error *err)
{
    struct ferry_buf line;
    char *json;
    int rc;

    json = cJSON_PrintUnformatted(event);
    if (!json)
        return ferry_error_set(err, FERRY_EJOBLOG,
                               "cannot encode an event for job log \"%s\"",
                               jl->path);
    ferry_buf_init(&line);
    ferry_buf_adds(&line, json);
    ferry_buf_addc(&line, '\n');
    cJSON_free(json);

    pthread_mutex_lock(&jl->lock);
    rc = write_locked(jl, line.data, line.len, sync, err);
    pthread_mutex_unlock(&jl->lock);
    ferry_buf_release(&line);
    return rc;
}

static cJSON *header_new(const char *job_id)
{
    cJSON *h = cJSON_CreateObject();
    char now[21];

    ferry_time_iso(now, ferry_now());
    cJSON_AddStringToObject(h, "format", "ferry-joblog");
    cJSON_AddNumberToObject(h, "version", FERRY_JOBLOG_VERSION);
    cJSON_AddStringToObject(h, "job", job_id);
    cJSON_AddStringToObject(h, "time", now);
    cJSON_AddStringToObject(h, "ferry", FERRY_VERSION);
    return h;
}

static int create_file(int *out, const char *path, struct ferry_error *err)
{
    int fd =
        open(path, O_CREAT | O_EXCL | O_WRONLY | O_APPEND | O_CLOEXEC, 0600);

    if (fd < 0 && errno == EEXIST)
        return ferry_error_set(err, FERRY_EIO,
                               "job log \"%s\" already exists; refusing to "
                               "overwrite it",
                               path);
    if (fd < 0)
        return ferry_error_set(err, FERRY_EIO,
                               "cannot create job log \"%s\": %s", path,
                               strerror(errno));

    /* Exactly 0600 whatever the umask: the log names buckets and keys. */
    if (fchmod(fd, 0600) < 0) {
        int e = errno;

        close(fd);
        unlink(path);
        return ferry_error_set(err, FERRY_EIO,
                               "cannot set the mode of job log \"%s\": %s",
                               path, strerror(e));
    }
    *out = fd;
    return 0;
}

int ferry_joblog_create(struct ferry_joblog **out, const char *path,
                        const char *job_id, struct ferry_error *err)
{
    struct ferry_joblog *jl = NULL;
    cJSON *header = NULL;
    int fd = -1, rc;

    *out = NULL;
    rc = make_parents(path, err);
    if (!rc)
        rc = create_file(&fd, path, err);
    if (rc)
        goto done;

    jl = handle_new(fd, path);
    header = header_new(job_id);
    rc = take_lock(fd, path, err);
    if (!rc)
        rc = write_event(jl, header, SYNC_NOW, err);
    if (!rc)
        rc = sync_dir(path, err);
    if (rc) {
        /* A log without its version line is of no use to anyone. */
        unlink(path);
        ferry_joblog_close(jl);
        jl = NULL;
    }
done:
    cJSON_Delete(header);
    *out = jl;
    return rc;
}

/* Parses s[0..len) as exactly one JSON object, or returns NULL. */
static cJSON *parse_object(const char *s, size_t len)
{
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(s, len, &end, false);

    if (!v)
        return NULL;
    while (end && end < s + len &&
           (*end == ' ' || *end == '\t' || *end == '\r'))
        end++;
    if (!cJSON_IsObject(v) || end != s + len) {
        cJSON_Delete(v);
        return NULL;
    }
    return v;
}

static int check_header(const cJSON *h, const char *path,
                        struct ferry_error *err)
{
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(h, "format");
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(h, "version");

    if (!cJSON_IsString(format) ||
        strcmp(format->valuestring, "ferry-joblog") != 0)
        return ferry_error_set(err, FERRY_EJOBLOG,
                               "\"%s\" is not a ferry job log", path);
    if (!cJSON_IsNumber(version))
        return ferry_error_set(err, FERRY_EJOBLOG,
                               "job log \"%s\" has no version", path);
    if (version->valuedouble != FERRY_JOBLOG_VERSION)
        return ferry_error_set(err, FERRY_EJOBLOG,
                               "job log \"%s\" has version %g; this ferry "
                               "reads version %d",
                               path, version->valuedouble,
                               FERRY_JOBLOG_VERSION);
    return 0;
}

/* Reads and checks the version line of an open log. */
static int check_first_line(int fd, const char *path, struct ferry_error *err)
{
    char buf[MAX_HEADER_LEN];
    const char *nl;
    cJSON *h;
    ssize_t n;
    int rc;

    do
        n = pread(fd, buf, sizeof(buf), 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return ferry_error_set(err, FERRY_EIO, "cannot read job log \"%s\": %s",
                               path, strerror(errno));
    nl = memchr(buf, '\n', (size_t)n);
    h = nl ? parse_object(buf, (size_t)(nl - buf)) : NULL;
    if (!h)
        return ferry_error_set(err, FERRY_EJOBLOG,
                               "\"%s\" is not a ferry job log (no version "
                               "line)",
                               path);
    rc = check_header(h, path, err);
    cJSON_Delete(h);
    return rc;
}

/* Sets *out to the offset just past the last '\n' before end, or 0. */
static int last_line_start(off_t *out, int fd, off_t end)
{
    char chunk[4096];
    off_t pos = end;

    while (pos > 0) {
        size_t n = pos > (off_t)sizeof(chunk) ? sizeof(chunk) : (size_t)pos;
        ssize_t got = pread(fd, chunk, n, pos - (off_t)n);

        if (got < 0 && errno == EINTR)
            continue;
        if (got != (ssize_t)n) {
            errno = got < 0 ? errno : EIO;
            return -1;
        }
        pos -= (off_t)n;
        while (n > 0 && chunk[n - 1] != '\n')
            n--;
        if (n > 0) {
            *out = pos + (off_t)n;
            return 0;
        }
    }
    *out = 0;
    return 0;
}

/* Reads fd from start to end into out. */
static int read_range(struct ferry_buf *out, int fd, off_t start, off_t end)
{
    size_t len = (size_t)(end - start);
    size_t done = 0;

    ferry_buf_grow(out, len);
    while (done < len) {
        ssize_t n =
            pread(fd, out->data + done, len - done, start + (off_t)done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            errno = n < 0 ? errno : EIO;
            return -1;
        }
        done += (size_t)n;
    }
    out->len = len;
    out->data[len] = '\0';
    return 0;
}

/*
 * Makes the file end in a newline before anything is appended.  A last
 * line that parses lost only its newline and keeps its event, as
 * ferry_joblog_read() would have returned it; any other tail is what a
 * crash left of a write and is cut off.
 */
static int repair_tail(struct ferry_joblog *jl, struct ferry_error *err)
{
    struct ferry_buf tail;
    off_t end, start;
    cJSON *ev = NULL;
    int rc = 0;

    ferry_buf_init(&tail);
    end = lseek(jl->fd, 0, SEEK_END);
    if (end < 0 || last_line_start(&start, jl->fd, end) < 0 ||
        read_range(&tail, jl->fd, start, end) < 0) {
        rc = ferry_error_set(err, FERRY_EIO, "cannot read job log \"%s\": %s",
                             jl->path, strerror(errno));
        goto done;
    }
    if (start == end)
        goto done;

    ev = parse_object(tail.data, tail.len);
    if (ev)
        rc = write_locked(jl, "\n", 1, SYNC_NOW, err);
    else if (ftruncate(jl->fd, start) < 0 || fsync(jl->fd) < 0)
        rc = ferry_error_set(err, FERRY_EIO,
                             "cannot cut the torn last line of job log "
                             "\"%s\": %s",
                             jl->path, strerror(errno));
done:
    cJSON_Delete(ev);
    ferry_buf_release(&tail);
    return rc;
}

int ferry_joblog_open(struct ferry_joblog **out, const char *path,
                      struct ferry_error *err)
{
    struct ferry_joblog *jl = NULL;
    int fd, rc = 0;

    *out = NULL;
    fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
    if (fd < 0) {
        rc = ferry_error_set(err, FERRY_EIO, "cannot open job log \"%s\": %s",
                             path, strerror(errno));
        goto done;
    }

    jl = handle_new(fd, path);
    rc = take_lock(fd, path, err);
    if (!rc)
        rc = check_first_line(fd, path, err);
    if (!rc)
        rc = repair_tail(jl, err);
    if (rc) {
        ferry_joblog_close(jl);
        jl = NULL;
    }
done:
    *out = jl;
    return rc;
}

static bool looks_secret(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(secret_words) / sizeof(secret_words[0]); i++) {
        if (strcasestr(name, secret_words[i]))
            return true;
    }
    return false;
}

/* The name of the first string member, at any depth, that looks secret. */
static const char *secret_member(const cJSON *item)
{
    const cJSON *child;

    cJSON_ArrayForEach (child, item) {
        const char *found;

        if (child->string && cJSON_IsString(child) &&
            looks_secret(child->string))
            return child->string;
        found = secret_member(child);
        if (found)
            return found;
    }
    return NULL;
}

static int append(struct ferry_joblog *jl, cJSON *event, enum sync_mode sync,
                  struct ferry_error *err)
{
    const char *name;
    char now[21];

    if (!cJSON_IsObject(event))
        return ferry_error_set(err, FERRY_EJOBLOG,
                               "refusing to write a non-object event to job "
                               "log \"%s\"",
                               jl->path);
    name = secret_member(event);
    if (name)
        return ferry_error_set(err, FERRY_EJOBLOG,
                               "refusing to write member \"%s\" to job log "
                               "\"%s\": it may hold a secret",
                               name, jl->path);
    if (!cJSON_HasObjectItem(event, "time")) {
        ferry_time_iso(now, ferry_now());
        cJSON_AddStringToObject(event, "time", now);
    }
    return write_event(jl, event, sync, err);
}

int ferry_joblog_append(struct ferry_joblog *jl, cJSON *event, bool sync,
                        struct ferry_error *err)
{
    return append(jl, event, sync ? SYNC_NOW : SYNC_NONE, err);
}

int ferry_joblog_append_soon(struct ferry_joblog *jl, cJSON *event,
                             struct ferry_error *err)
{
    return append(jl, event, SYNC_SOON, err);
}

void ferry_joblog_close(struct ferry_joblog *jl)
{
    if (!jl)
        return;
    if (jl->syncer_on) {
        pthread_mutex_lock(&jl->lock);
        jl->stopping = true;
        pthread_cond_signal(&jl->wake);
        pthread_mutex_unlock(&jl->lock);
        pthread_join(jl->syncer, NULL);
    }
    if (fsync(jl->fd) < 0 || jl->sync_errno)
        ferry_warn("cannot sync job log \"%s\": %s", jl->path,
                   strerror(jl->sync_errno ? jl->sync_errno : errno));
    flock(jl->fd, LOCK_UN);
    close(jl->fd);
    pthread_mutex_destroy(&jl->lock);
    pthread_cond_destroy(&jl->wake);
    free(jl->path);
    free(jl);
}

const char *ferry_joblog_path(const struct ferry_joblog *jl)
{
    return jl->path;
}

/*
 * Adds one line (len bytes, with its '\n' unless it is the last line)
 * to events.  Only a line without '\n' can be torn: every event is
 * written with its newline in the same write.
 */
static int read_line(cJSON *events, const char *line, size_t len, long lineno,
                     const char *path, struct ferry_error *err)
{
    bool complete = line[len - 1] == '\n';
    cJSON *ev = parse_object(line, complete ? len - 1 : len);

    if (ev) {
        cJSON_AddItemToArray(events, ev);
        return 0;
    }
    if (!complete)
        return 0;
    return ferry_error_set(err, FERRY_EJOBLOG,
                           "job log \"%s\" is corrupt: line %ld is not a "
                           "JSON object",
                           path, lineno);
}

int ferry_joblog_read(cJSON **out, const char *path, struct ferry_error *err)
{
    FILE *f;
    cJSON *events = NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    int rc = 0;

    *out = NULL;
    f = fopen(path, "re");
    if (!f)
        return ferry_error_set(err, FERRY_EIO, "cannot open job log \"%s\": %s",
                               path, strerror(errno));

    events = cJSON_CreateArray();
    while (!rc && (n = getline(&line, &cap, f)) > 0)
        rc = read_line(events, line, (size_t)n, ++lineno, path, err);
    if (!rc && ferror(f))
        rc =
            ferry_error_set(err, FERRY_EIO, "cannot read job log \"%s\"", path);
    else if (!rc && cJSON_GetArraySize(events) == 0)
        rc = ferry_error_set(err, FERRY_EJOBLOG,
                             "\"%s\" is not a ferry job log (no version line)",
                             path);
    else if (!rc)
        rc = check_header(cJSON_GetArrayItem(events, 0), path, err);

    free(line);
    fclose(f);
    if (rc)
        cJSON_Delete(events);
    else
        *out = events;
    return rc;
}

int ferry_joblog_default_dir(struct ferry_buf *out)
{
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    size_t len;

    /* The XDG spec says relative paths there are invalid: ignore them. */
    if (xdg && xdg[0] == '/') {
        len = strlen(xdg);
        while (len > 1 && xdg[len - 1] == '/')
            len--;
        ferry_buf_add(out, xdg, len);
        ferry_buf_adds(out, "/ferry/jobs");
        return 0;
    }
    if (!home || !*home) {
        struct passwd *pw = getpwuid(getuid());

        home = pw ? pw->pw_dir : NULL;
    }
    if (!home || !*home)
        return -1;
    len = strlen(home);
    while (len > 1 && home[len - 1] == '/')
        len--;
    ferry_buf_add(out, home, len);
    ferry_buf_adds(out, "/.local/state/ferry/jobs");
    return 0;
}

void ferry_joblog_new_id(char out[32])
{
    unsigned char rnd[3];
    char hex[7];
    struct tm tm;
    time_t now = ferry_now();

    if (RAND_bytes(rnd, sizeof(rnd)) != 1 &&
        getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
        /* Both failing is unheard of; still keep two ids apart. */
        unsigned long mix = (unsigned long)getpid() * 2654435761UL ^
                            (unsigned long)(ferry_monotonic() * 1e6);

        rnd[0] = (unsigned char)mix;
        rnd[1] = (unsigned char)(mix >> 8);
        rnd[2] = (unsigned char)(mix >> 16);
    }
    ferry_hex(hex, rnd, sizeof(rnd));
    gmtime_r(&now, &tm);
    strftime(out, 32, "%Y%m%d-%H%M%S-", &tm);
    memcpy(out + strlen(out), hex, sizeof(hex));
}
