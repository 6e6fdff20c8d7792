/*
 * creds.h - storage credentials from the environment and shared files.
 *
 * Credentials never come from the command line, where other users of the
 * machine could read them.  This module finds them where the AWS CLI and
 * gsutil would, in the same order, so a user's existing setup just works:
 *
 *     struct ferry_creds c;
 *     if (ferry_creds_load_aws(&c, opt_profile, &err))
 *         return err.code;
 *     ferry_info("using keys from %s", c.source);
 *     ...
 *     ferry_creds_release(&c);
 *
 * Only static keys are read (access key, secret key, session token);
 * profiles that name an SSO login, a role or a credential_process are
 * not followed.
 *
 * Ownership: a struct ferry_creds is caller storage.  A successful load
 * fills it with strings the struct owns; ferry_creds_release() wipes
 * them with OPENSSL_cleanse and frees them.  After a failed load the
 * struct holds nothing and needs no release (releasing it is harmless).
 *
 * Errors are FERRY_ECREDS with a one-line message that names the files,
 * profiles and variables involved but never a key.
 */
#ifndef FERRY_CREDS_H
#define FERRY_CREDS_H

#include "ferry/error.h"

struct ferry_creds {
    char *access_key;
    char *secret_key;
    char *session_token; /* NULL if none */

    /*
     * Where the keys were found, for messages and the job log, e.g.
     * "environment (AWS_ACCESS_KEY_ID)" or "/root/.aws/credentials [prod]".
     * Never holds a key.
     */
    char source[160];
};

/*
 * Loads S3 credentials.  profile is the --profile option, NULL when it
 * was not given.  Order, as the AWS CLI:
 *
 *  1. profile given: only the shared files, for that profile;
 *  2. else AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with
 *     AWS_SESSION_TOKEN if set) when both are set and not empty;
 *  3. else the profile AWS_PROFILE names (or "default"): section "[name]"
 *     of AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials), then
 *     section "[profile name]" ("[default]" for default) of
 *     AWS_CONFIG_FILE (default ~/.aws/config).
 *
 * Keys read: aws_access_key_id, aws_secret_access_key, aws_session_token.
 * A profile that is named (by --profile or AWS_PROFILE) but exists in
 * neither file, or a section holding only one of the two keys, is an
 * error.  When nothing is found the message lists every place tried.
 */
int ferry_creds_load_aws(struct ferry_creds *out, const char *profile,
                         struct ferry_error *err);

/*
 * Loads GCS HMAC credentials: GS_ACCESS_KEY_ID and GS_SECRET_ACCESS_KEY,
 * then gs_access_key_id and gs_secret_access_key in section
 * "[Credentials]" of BOTO_CONFIG (default ~/.boto), then whatever
 * ferry_creds_load_aws(out, NULL, err) finds.  When nothing is found the
 * message lists every place tried.
 */
int ferry_creds_load_gcs(struct ferry_creds *out, struct ferry_error *err);

/*
 * Sets *out to the "region" of a profile in the config file (profile
 * resolved as above: the argument, else AWS_PROFILE, else "default"), or
 * to NULL when there is none.  The caller frees *out.  Fails only when
 * the config file exists but cannot be read.
 */
int ferry_config_region(char **out, const char *profile,
                        struct ferry_error *err);

/*
 * The import API's bearer token into *out (caller wipes and frees it):
 * the first line of `file` when given, else the environment variable
 * `env_var` (ZILLIZ_API_KEY or MILVUS_TOKEN).  Missing or empty is
 * FERRY_ECREDS, naming both places.
 */
int ferry_creds_api_key(char **out, const char *file, const char *env_var,
                        struct ferry_error *err);

/* Wipes and frees what c holds; c is left empty and may be reused. */
void ferry_creds_release(struct ferry_creds *c);

#endif
