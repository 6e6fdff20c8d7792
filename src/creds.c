/* creds.c - credentials from env and files; see include/ferry/creds.h. */
#include "ferry/creds.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ferry/buf.h"
#include "ferry/log.h"
#include "ferry/strutil.h"

/* A lookup step found nothing; not an error, the next step is tried. */
#define NOT_FOUND (-1)

/* A credentials file larger than this is not a credentials file. */
#define MAX_FILE_SIZE (1024 * 1024)

enum { KEY_ID, KEY_SECRET, KEY_TOKEN, KEY_MAX };

static const char *const aws_keys[KEY_MAX] = {
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
};
static const char *const boto_keys[KEY_MAX] = {
    "gs_access_key_id",
    "gs_secret_access_key",
    NULL,
};
static const char *const region_keys[KEY_MAX] = { "region", NULL, NULL };

/* Which section of which INI file, and the key names to pick up. */
struct ini_query {
    const char *path;
    const char *section;     /* profile name, or "Credentials" */
    bool config_form;        /* "[profile NAME]" as in ~/.aws/config */
    const char *const *keys; /* KEY_MAX names; NULL slots unused */
};

/* What one lookup found. */
struct ini_hit {
    bool section_found;
    char *value[KEY_MAX]; /* owned, NULL when absent; may be secret */
};

struct ini_state {
    const struct ini_query *q;
    struct ini_hit *hit;
    bool in_section;
    int key_indent; /* indent of the last key line, -1 none */
};

static void wipe_free(char *s)
{
    if (!s)
        return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}

static char *trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

static bool section_matches(const struct ini_query *q, char *name)
{
    if (!q->config_form)
        return strcmp(name, q->section) == 0;

    /* The config file names the default profile without "profile". */
    if (strcmp(name, "default") == 0)
        return strcmp(q->section, "default") == 0;
    if (strncmp(name, "profile", 7) != 0 || !isspace((unsigned char)name[7]))
        return false;
    return strcmp(trim(name + 7), q->section) == 0;
}

static void ini_header(struct ini_state *st, char *line)
{
    char *close = strrchr(line, ']');

    st->key_indent = -1;
    st->in_section = false;
    if (!close)
        return;
    *close = '\0';
    st->in_section = section_matches(st->q, trim(line + 1));
    if (st->in_section)
        st->hit->section_found = true;
}

static void ini_pair(struct ini_state *st, char *line, int indent)
{
    char *eq, *name, *value;
    size_t i;

    /*
     * An indented line under a key continues that key's value, as in
     * Python's configparser; the AWS config uses this for nested
     * settings ("s3 =" followed by indented sub-keys), which are not
     * ours to read.
     */
    if (st->key_indent >= 0 && indent > st->key_indent)
        return;
    eq = strchr(line, '=');
    if (!eq)
        return;
    st->key_indent = indent;
    if (!st->in_section)
        return;

    *eq = '\0';
    name = trim(line);
    value = trim(eq + 1);
    for (i = 0; i < KEY_MAX; i++) {
        if (!st->q->keys[i] || strcasecmp(name, st->q->keys[i]) != 0)
            continue;
        wipe_free(st->hit->value[i]);
        st->hit->value[i] = *value ? ferry_xstrdup(value) : NULL;
    }
}

static void ini_line(struct ini_state *st, char *line)
{
    int indent = 0;

    while (*line == ' ' || *line == '\t') {
        line++;
        indent++;
    }
    if (*line == '\0' || *line == '\r' || *line == '#' || *line == ';')
        return;
    if (*line == '[')
        ini_header(st, line);
    else
        ini_pair(st, line, indent);
}

/* Reads fd to its end or until out is full; -1 with errno on error. */
static int read_into(struct ferry_buf *out, int fd)
{
    while (out->len < out->cap - 1) {
        ssize_t n = read(fd, out->data + out->len, out->cap - 1 - out->len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        out->len += (size_t)n;
    }
    out->data[out->len] = '\0';
    return 0;
}

/*
 * Reads a whole file into out.  The buffer is sized once from fstat so
 * that no realloc leaves copies of a secret behind in freed memory.
 */
static int read_file(struct ferry_buf *out, const char *path,
                     struct ferry_error *err)
{
    struct stat st;
    int fd, rc = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return NOT_FOUND;
        return ferry_error_set(err, FERRY_ECREDS, "cannot read \"%s\": %s",
                               path, strerror(errno));
    }
    if (fstat(fd, &st) < 0) {
        rc = ferry_error_set(err, FERRY_ECREDS, "cannot read \"%s\": %s", path,
                             strerror(errno));
        goto done;
    }
    if (st.st_size > MAX_FILE_SIZE) {
        rc = ferry_error_set(err, FERRY_ECREDS,
                             "cannot read \"%s\": larger than 1 MiB", path);
        goto done;
    }
    ferry_buf_grow(out, (size_t)st.st_size);
    if (read_into(out, fd) < 0)
        rc = ferry_error_set(err, FERRY_ECREDS, "cannot read \"%s\": %s", path,
                             strerror(errno));
done:
    close(fd);
    return rc;
}

/*
 * Fills out with the values of q's keys in q's section.  Returns 0 when
 * the file was read (out->section_found says whether the section is
 * there), NOT_FOUND when the file does not exist, or an error.  The
 * caller releases out with ini_hit_release() in every case.
 */
static int ini_lookup(struct ini_hit *out, const struct ini_query *q,
                      struct ferry_error *err)
{
    struct ini_state st = { q, out, false, -1 };
    struct ferry_buf text;
    char *line;
    int rc;

    memset(out, 0, sizeof(*out));
    ferry_buf_init(&text);
    rc = read_file(&text, q->path, err);
    if (rc)
        goto done;

    line = text.data;
    if (strncmp(line, "\xef\xbb\xbf", 3) == 0)
        line += 3;
    while (line) {
        char *nl = strchr(line, '\n');

        if (nl)
            *nl = '\0';
        ini_line(&st, line);
        line = nl ? nl + 1 : NULL;
    }
done:
    ferry_buf_release_secret(&text);
    return rc;
}

static void ini_hit_release(struct ini_hit *hit)
{
    size_t i;

    for (i = 0; i < KEY_MAX; i++)
        wipe_free(hit->value[i]);
    memset(hit, 0, sizeof(*hit));
}

static void section_label(char *out, size_t n, const struct ini_query *q)
{
    if (q->config_form && strcmp(q->section, "default") != 0)
        snprintf(out, n, "[profile %s]", q->section);
    else
        snprintf(out, n, "[%s]", q->section);
}

static int home_dir(struct ferry_buf *out, struct ferry_error *err)
{
    const char *home = getenv("HOME");
    size_t len;

    if (!home || !*home) {
        struct passwd *pw = getpwuid(getuid());

        home = pw ? pw->pw_dir : NULL;
    }
    if (!home || !*home)
        return ferry_error_set(err, FERRY_ECREDS,
                               "cannot find the home directory "
                               "(HOME is not set)");
    len = strlen(home);
    while (len > 1 && home[len - 1] == '/')
        len--;
    ferry_buf_add(out, home, len);
    return 0;
}

/* The file env names (a leading "~/" is the home directory), else ~rel. */
static int file_path(struct ferry_buf *out, const char *env, const char *rel,
                     struct ferry_error *err)
{
    const char *v = getenv(env);
    int rc;

    if (v && *v && !ferry_str_starts(v, "~/")) {
        ferry_buf_adds(out, v);
        return 0;
    }
    rc = home_dir(out, err);
    if (rc)
        return rc;
    ferry_buf_adds(out, v && *v ? v + 1 : rel);
    return 0;
}

static void add_place(struct ferry_buf *looked, const char *what,
                      const char *label)
{
    if (looked->len)
        ferry_buf_adds(looked, ", ");
    ferry_buf_adds(looked, what);
    if (label)
        ferry_buf_addf(looked, " %s", label);
}

static void creds_fill(struct ferry_creds *out, const char *id,
                       const char *secret, const char *token, const char *fmt,
                       ...) __attribute__((format(printf, 5, 6)));

static void creds_fill(struct ferry_creds *out, const char *id,
                       const char *secret, const char *token, const char *fmt,
                       ...)
{
    va_list ap;

    out->access_key = ferry_xstrdup(id);
    out->secret_key = ferry_xstrdup(secret);
    out->session_token = token && *token ? ferry_xstrdup(token) : NULL;
    va_start(ap, fmt);
    vsnprintf(out->source, sizeof(out->source), fmt, ap);
    va_end(ap);
}

static int from_env(struct ferry_creds *out, const char *id_var,
                    const char *secret_var, const char *token_var,
                    struct ferry_buf *looked)
{
    const char *id = getenv(id_var);
    const char *secret = getenv(secret_var);
    bool has_id = id && *id, has_secret = secret && *secret;
    char place[128];

    snprintf(place, sizeof(place), "%s/%s", id_var, secret_var);
    add_place(looked, place, NULL);
    if (has_id && has_secret) {
        creds_fill(out, id, secret, token_var ? getenv(token_var) : NULL,
                   "environment (%s)", id_var);
        return 0;
    }
    if (has_id || has_secret)
        ferry_warn("ignoring %s: %s is not set", has_id ? id_var : secret_var,
                   has_id ? secret_var : id_var);
    return NOT_FOUND;
}

/*
 * Takes the two keys (and a token) from q's section.  *seen is set when
 * the section exists, so a named profile can be told apart from a
 * missing one.
 */
static int from_section(struct ferry_creds *out, const struct ini_query *q,
                        bool *seen, struct ferry_buf *looked,
                        struct ferry_error *err)
{
    struct ini_hit hit;
    char label[96];
    char *id, *secret;
    int rc;

    section_label(label, sizeof(label), q);
    add_place(looked, q->path, label);
    rc = ini_lookup(&hit, q, err);
    if (rc)
        goto done;

    *seen = *seen || hit.section_found;
    id = hit.value[KEY_ID];
    secret = hit.value[KEY_SECRET];
    if (!id && !secret)
        rc = NOT_FOUND;
    else if (!id || !secret)
        rc = ferry_error_set(err, FERRY_ECREDS, "\"%s\" %s has %s but no %s",
                             q->path, label, q->keys[id ? 0 : 1],
                             q->keys[id ? 1 : 0]);
    else
        creds_fill(out, id, secret, hit.value[KEY_TOKEN], "%s %s", q->path,
                   label);
done:
    ini_hit_release(&hit);
    return rc;
}

/*
 * The shared files for one profile.  named_by is "--profile" or
 * "AWS_PROFILE" when the user chose the profile, which makes its absence
 * an error, or NULL for the implicit default.
 */
static int from_profile(struct ferry_creds *out, const char *profile,
                        const char *named_by, struct ferry_buf *looked,
                        struct ferry_error *err)
{
    struct ferry_buf cred_path, conf_path;
    struct ini_query q = { NULL, profile, false, aws_keys };
    bool seen = false;
    int rc;

    ferry_buf_init(&cred_path);
    ferry_buf_init(&conf_path);
    rc = file_path(&cred_path, "AWS_SHARED_CREDENTIALS_FILE",
                   "/.aws/credentials", err);
    if (!rc)
        rc = file_path(&conf_path, "AWS_CONFIG_FILE", "/.aws/config", err);
    if (rc)
        goto done;

    q.path = cred_path.data;
    rc = from_section(out, &q, &seen, looked, err);
    if (rc != NOT_FOUND)
        goto done;
    q.path = conf_path.data;
    q.config_form = true;
    rc = from_section(out, &q, &seen, looked, err);
    if (rc != NOT_FOUND || !named_by)
        goto done;

    rc = ferry_error_set(err, FERRY_ECREDS,
                         seen ? "profile \"%s\" (from %s) has no "
                                "aws_access_key_id and aws_secret_access_key"
                                " in \"%s\" or \"%s\""
                              : "profile \"%s\" (from %s) not found in "
                                "\"%s\" or \"%s\"",
                         profile, named_by, cred_path.data, conf_path.data);
done:
    ferry_buf_release(&cred_path);
    ferry_buf_release(&conf_path);
    return rc;
}

static int load_aws(struct ferry_creds *out, const char *profile,
                    struct ferry_buf *looked, struct ferry_error *err)
{
    const char *env_profile = getenv("AWS_PROFILE");
    int rc;

    if (profile)
        return from_profile(out, profile, "--profile", looked, err);
    rc = from_env(out, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                  "AWS_SESSION_TOKEN", looked);
    if (rc != NOT_FOUND)
        return rc;
    if (env_profile && *env_profile)
        return from_profile(out, env_profile, "AWS_PROFILE", looked, err);
    return from_profile(out, "default", NULL, looked, err);
}

int ferry_creds_load_aws(struct ferry_creds *out, const char *profile,
                         struct ferry_error *err)
{
    struct ferry_buf looked;
    int rc;

    memset(out, 0, sizeof(*out));
    ferry_buf_init(&looked);
    rc = load_aws(out, profile, &looked, err);
    if (rc == NOT_FOUND)
        rc = ferry_error_set(err, FERRY_ECREDS,
                             "no AWS credentials found (looked in %s)",
                             looked.data);
    if (rc)
        ferry_creds_release(out);
    ferry_buf_release(&looked);
    return rc;
}

static int from_boto(struct ferry_creds *out, struct ferry_buf *looked,
                     struct ferry_error *err)
{
    struct ferry_buf path;
    struct ini_query q = { NULL, "Credentials", false, boto_keys };
    bool seen = false;
    int rc;

    ferry_buf_init(&path);
    rc = file_path(&path, "BOTO_CONFIG", "/.boto", err);
    if (rc)
        goto done;
    q.path = path.data;
    rc = from_section(out, &q, &seen, looked, err);
done:
    ferry_buf_release(&path);
    return rc;
}

int ferry_creds_load_gcs(struct ferry_creds *out, struct ferry_error *err)
{
    struct ferry_buf looked;
    int rc;

    memset(out, 0, sizeof(*out));
    ferry_buf_init(&looked);
    rc = from_env(out, "GS_ACCESS_KEY_ID", "GS_SECRET_ACCESS_KEY", NULL,
                  &looked);
    if (rc == NOT_FOUND)
        rc = from_boto(out, &looked, err);
    if (rc == NOT_FOUND)
        rc = load_aws(out, NULL, &looked, err);
    if (rc == NOT_FOUND)
        rc = ferry_error_set(err, FERRY_ECREDS,
                             "no GCS credentials found (looked in %s)",
                             looked.data);
    if (rc)
        ferry_creds_release(out);
    ferry_buf_release(&looked);
    return rc;
}

int ferry_config_region(char **out, const char *profile,
                        struct ferry_error *err)
{
    const char *env_profile = getenv("AWS_PROFILE");
    struct ini_query q = { NULL, "default", true, region_keys };
    struct ini_hit hit = { 0 };
    struct ferry_buf path;
    int rc = 0;

    *out = NULL;
    ferry_buf_init(&path);
    if (profile)
        q.section = profile;
    else if (env_profile && *env_profile)
        q.section = env_profile;

    /* Without a home directory there is no config file to read. */
    if (file_path(&path, "AWS_CONFIG_FILE", "/.aws/config", NULL))
        goto done;
    q.path = path.data;
    rc = ini_lookup(&hit, &q, err);
    if (rc == NOT_FOUND)
        rc = 0;
    if (!rc) {
        *out = hit.value[0];
        hit.value[0] = NULL;
    }
done:
    ini_hit_release(&hit);
    ferry_buf_release(&path);
    return rc;
}

void ferry_creds_release(struct ferry_creds *c)
{
    wipe_free(c->access_key);
    wipe_free(c->secret_key);
    wipe_free(c->session_token);
    OPENSSL_cleanse(c, sizeof(*c));
    memset(c, 0, sizeof(*c));
}

static int key_from_file(char **out, const char *file, struct ferry_error *err)
{
    struct ferry_buf text;
    size_t n;
    int rc;

    ferry_buf_init(&text);
    rc = read_file(&text, file, err);
    if (rc == NOT_FOUND)
        rc = ferry_error_set(err, FERRY_ECREDS,
                             "API key file \"%s\" does not exist", file);
    if (rc) {
        ferry_buf_release_secret(&text);
        return rc;
    }
    n = strcspn(text.data, "\r\n");
    while (n && (text.data[n - 1] == ' ' || text.data[n - 1] == '\t'))
        n--;
    if (n == 0) {
        ferry_buf_release_secret(&text);
        return ferry_error_set(err, FERRY_ECREDS,
                               "API key file \"%s\" is empty", file);
    }
    *out = ferry_xstrndup(text.data, n);
    ferry_buf_release_secret(&text);
    return 0;
}

int ferry_creds_api_key(char **out, const char *file, const char *env_var,
                        struct ferry_error *err)
{
    const char *v;

    *out = NULL;
    if (file)
        return key_from_file(out, file, err);
    v = getenv(env_var);
    if (v && *v) {
        *out = ferry_xstrdup(v);
        return 0;
    }
    return ferry_error_set(err, FERRY_ECREDS,
                           "no API key (set %s or give "
                           "--api-key-file FILE)",
                           env_var);
}
