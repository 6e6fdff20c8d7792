/*
 * test_creds.c - where credentials come from, and what ferry says when
 * they are missing.  Every test runs with HOME set to a fresh temporary
 * directory and every credential variable unset, so the real ~/.aws is
 * never read.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ferry/creds.h"
#include "ferry/log.h"
#include "testutil.h"

struct fixture {
    char dir[64];
};

static const char *const cleared_vars[] = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
    "GS_ACCESS_KEY_ID",
    "GS_SECRET_ACCESS_KEY",
    "BOTO_CONFIG",
    "BOTO_PATH",
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    size_t i;

    if (!fx)
        return -1;
    strcpy(fx->dir, "/tmp/ferry-test-creds-XXXXXX");
    if (!mkdtemp(fx->dir))
        return -1;
    for (i = 0; i < sizeof(cleared_vars) / sizeof(cleared_vars[0]); i++)
        unsetenv(cleared_vars[i]);
    setenv("HOME", fx->dir, 1);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    test_remove_tree(fx->dir);
    free(fx);
    return 0;
}

/* "<tmp>/rel" into out. */
static void path_in(char *out, size_t n, const struct fixture *fx,
                    const char *rel)
{
    snprintf(out, n, "%s/%s", fx->dir, rel);
}

/* Writes text to <tmp>/rel, making the directory rel names first. */
static void write_file(const struct fixture *fx, const char *rel,
                       const char *text)
{
    char path[256];
    char *slash;
    FILE *f;

    path_in(path, sizeof(path), fx, rel);
    slash = strrchr(path, '/');
    *slash = '\0';
    assert_true(mkdir(path, 0700) == 0 || errno == EEXIST);
    *slash = '/';
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const char default_file_creds[] = "[default]\n"
                                         "aws_access_key_id = FILEKEY\n"
                                         "aws_secret_access_key = FILESECRET\n";

static const char prod_file_creds[] = "[prod]\n"
                                      "aws_access_key_id = PRODKEY\n"
                                      "aws_secret_access_key = PRODSECRET\n";

static void test_env_keys_win_over_default_profile(void **state)
{
    struct ferry_creds c;
    struct ferry_error err = { 0 };

    write_file(*state, ".aws/credentials", default_file_creds);
    setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET", 1);

    assert_int_equal(ferry_creds_load_aws(&c, NULL, &err), 0);
    assert_string_equal(c.access_key, "ENVKEY");
    assert_string_equal(c.secret_key, "ENVSECRET");
    assert_null(c.session_token);
    assert_string_equal(c.source, "environment (AWS_ACCESS_KEY_ID)");
    ferry_creds_release(&c);
}

static void test_env_keys_win_over_aws_profile(void **state)
{
    struct ferry_creds c;
    struct ferry_error err = { 0 };

    write_file(*state, ".aws/credentials", prod_file_creds);
    setenv("AWS_PROFILE", "prod", 1);
    setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET", 1);

    assert_int_equal(ferry_creds_load_aws(&c, NULL, &err), 0);
    assert_string_equal(c.access_key, "ENVKEY");
    ferry_creds_release(&c);
}

static void test_env_session_token_is_loaded(void **state)
{
    struct ferry_creds c;
    struct ferry_error err = { 0 };

    setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET", 1);
    setenv("AWS_SESSION_TOKEN", "ENVTOKEN", 1);

    assert_int_equal(ferry_creds_load_aws(&c, NULL, &err), 0);
    assert_string_equal(c.session_token, "ENVTOKEN");
    ferry_creds_release(&c);
}

static void test_only_one_env_key_falls_back_to_files(void **state)
{
    struct ferry_creds c;
    struct ferry_error err = { 0 };

    write_file(*state, ".aws/credentials", default_file_creds);
    setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);

    assert_int_equal(ferry_creds_load_aws(&c, NULL, &err), 0);
    assert_string_equal(c.access_key, "FILEKEY");
    ferry_creds_release(&c);
}

static void test_explicit_profile_ignores_env(void **state)
{
    struct ferry_creds c;
    struct ferry_error err = { 0 };
    char want[256];

    write_file(*state, ".aws/credentials", prod_file_creds);
    setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET", 1);
    setenv("AWS_SESSION_TOKEN", "ENVTOKEN", 1);

    assert_int_equal(ferry_creds_load_aws(&c, "prod", &err), 0);
    assert_string_equal(c.access_key, "PRODKEY");
    assert_string_equal(c.secret_key, "PRODSECRET");
    assert_null(c.session_token);
    path_in(want, sizeof(want), *state, ".aws/credentials [prod]");
    assert_string_equal(c.source, want);
    ferry_creds_release(&c);
}

static void test_aws_profile_env_selects_profile(void **state)
{
    struct ferry_creds c;
    struct ferry_error err = { 0 };

    write_file(*state, ".aws/credentials", prod_file_creds);
    setenv("AWS_PROFILE", "prod", 1);

    assert_int_equal(ferry_creds_load_aws(&c, NULL, &err), 0);
    assert_string_equal(c.access_key, "PRODKEY");
    ferry_creds_release(&c);
}

static void test_ini_allows_comments_spaces_and_any_key_case(void **state)
{
    struct ferry_creds c;
    struct ferry_error err = { 0 };

    write_file(*state, ".aws/credentials",
               "# a comment\n"
               "; another comment\n"
               "[default]\n"
               "aws_access_key_id = NOTTHIS\n"
               "aws_secret_access_key = NOTTHIS\n"
               "\n"
               "[ prod ]\r\n"
               "\tAWS_Access_Key_ID=PRODKEY\r\n"
               "# aws_secret_access_key = COMMENTED\n"
               "aws_secret_access_key   =   PRODSECRET  \n"
               "[other]\n"
               "aws_access_key_id = NOTTHIS\n");

    assert_int_equal(ferry_creds_load_aws(&c, "prod", &err), 0);
    assert_string_equal(c.access_key, "PRODKEY");
    assert_string_equal(c.secret_key, "PRODSECRET");
    ferry_creds_release(&c);
}

static void test_config_profile_section_form_is_read(void **state)
{
    struct ferry_creds c;
    struct ferry_error err = { 0 };
    char want[256];

    write_file(*state, ".aws/config",
               "[prod]\n"
               "aws_access_key_id = WRONGFORM\n"
               "aws_secret_access_key = WRONGFORM\n"
               "[profile prod]\n"
               "region = eu-west-1\n"
               "aws_access_key_id = CONFKEY\n"
               "aws_secret_access_key = CONFSECRET\n");

    assert_int_equal(ferry_creds_load_aws(&c, "prod", &err), 0);
    assert_string_equal(c.access_key, "CONFKEY");
    assert_string_equal(c.secret_key, "CONFSECRET");
    path_in(want, sizeof(want), *state, ".aws/config [profile prod]");
    assert_string_equal(c.source, want);
    ferry_creds_release(&c);
}

static void test_config_default_section_is_read(void **state)
{
    struct ferry_creds c;
    struct ferry_error err = { 0 };
    char want[256];

    write_file(*state, ".aws/config",
               "[default]\n"
               "aws_access_key_id = CONFKEY\n"
               "aws_secret_access_key = CONFSECRET\n");

    assert_int_equal(ferry_creds_load_aws(&c, NULL, &err), 0);
    assert_string_equal(c.access_key, "CONFKEY");
    path_in(want, sizeof(want), *state, ".aws/config [default]");
    assert_string_equal(c.source, want);
    ferry_creds_release(&c);
}

static void test_config_nested_settings_are_not_keys(void **state)
{
    struct ferry_creds c;
    struct ferry_error err = { 0 };

    write_file(*state, ".aws/config",
               "[profile dev]\n"
               "s3 =\n"
               "    aws_access_key_id = NESTED\n"
               "aws_access_key_id = DEVKEY\n"
               "aws_secret_access_key = DEVSECRET\n");

    assert_int_equal(ferry_creds_load_aws(&c, "dev", &err), 0);
    assert_string_equal(c.access_key, "DEVKEY");
    ferry_creds_release(&c);
}

static void test_credentials_file_wins_over_config(void **state)
{
    struct ferry_creds c;
    struct ferry_error err = { 0 };

    write_file(*state, ".aws/credentials", prod_file_creds);
    write_file(*state, ".aws/config",
               "[profile prod]\n"
               "aws_access_key_id = CONFKEY\n"
               "aws_secret_access_key = CONFSECRET\n");

    assert_int_equal(ferry_creds_load_aws(&c, "prod", &err), 0);
    assert_string_equal(c.access_key, "PRODKEY");
    ferry_creds_release(&c);
}

static void test_session_token_from_file(void **state)
{
    struct ferry_creds c;
    struct ferry_error err = { 0 };

    write_file(*state, ".aws/credentials",
               "[default]\n"
               "aws_access_key_id = FILEKEY\n"
               "aws_secret_access_key = FILESECRET\n"
               "aws_session_token = FILETOKEN\n");

    assert_int_equal(ferry_creds_load_aws(&c, NULL, &err), 0);
    assert_string_equal(c.session_token, "FILETOKEN");
    ferry_creds_release(&c);
}

static void test_file_env_vars_override_paths(void **state)
{
    struct ferry_creds c;
    struct ferry_error err = { 0 };
    char path[256];

    write_file(*state, ".aws/credentials", default_file_creds);
    write_file(*state, "elsewhere/creds",
               "[default]\n"
               "aws_access_key_id = OTHERKEY\n"
               "aws_secret_access_key = OTHERSECRET\n");
    path_in(path, sizeof(path), *state, "elsewhere/creds");
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);

    assert_int_equal(ferry_creds_load_aws(&c, NULL, &err), 0);
    assert_string_equal(c.access_key, "OTHERKEY");
    ferry_creds_release(&c);
}

static void test_tilde_in_file_env_var_is_home(void **state)
{
    struct ferry_creds c;
    struct ferry_error err = { 0 };

    write_file(*state, "elsewhere/creds", default_file_creds);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "~/elsewhere/creds", 1);

    assert_int_equal(ferry_creds_load_aws(&c, NULL, &err), 0);
    assert_string_equal(c.access_key, "FILEKEY");
    ferry_creds_release(&c);
}

static void test_missing_explicit_profile_names_files(void **state)
{
    struct ferry_creds c;
    struct ferry_error err = { 0 };
    char want[512];
    const char *d = ((struct fixture *)*state)->dir;

    write_file(*state, ".aws/credentials", default_file_creds);
    snprintf(want, sizeof(want),
             "profile \"nope\" (from --profile) not found in "
             "\"%s/.aws/credentials\" or \"%s/.aws/config\"",
             d, d);

    assert_int_equal(ferry_creds_load_aws(&c, "nope", &err), FERRY_ECREDS);
    assert_int_equal(err.code, FERRY_ECREDS);
    assert_string_equal(err.msg, want);
}

static void test_missing_aws_profile_names_the_variable(void **state)
{
    struct ferry_creds c;
    struct ferry_error err = { 0 };
    char want[512];
    const char *d = ((struct fixture *)*state)->dir;

    setenv("AWS_PROFILE", "ghost", 1);
    snprintf(want, sizeof(want),
             "profile \"ghost\" (from AWS_PROFILE) not found in "
             "\"%s/.aws/credentials\" or \"%s/.aws/config\"",
             d, d);

    assert_int_equal(ferry_creds_load_aws(&c, NULL, &err), FERRY_ECREDS);
    assert_string_equal(err.msg, want);
}

static void test_half_filled_profile_is_an_error(void **state)
{
    struct ferry_creds c;
    struct ferry_error err = { 0 };
    char want[512];

    write_file(*state, ".aws/credentials",
               "[prod]\n"
               "aws_access_key_id = PRODKEY\n");
    snprintf(want, sizeof(want),
             "\"%s/.aws/credentials\" [prod] has aws_access_key_id but no "
             "aws_secret_access_key",
             ((struct fixture *)*state)->dir);

    assert_int_equal(ferry_creds_load_aws(&c, "prod", &err), FERRY_ECREDS);
    assert_string_equal(err.msg, want);
    assert_null(c.access_key);
}

static void test_profile_without_keys_is_an_error(void **state)
{
    struct ferry_creds c;
    struct ferry_error err = { 0 };
    char want[512];
    const char *d = ((struct fixture *)*state)->dir;

    write_file(*state, ".aws/config", "[profile prod]\nregion = eu-west-1\n");
    snprintf(want, sizeof(want),
             "profile \"prod\" (from --profile) has no aws_access_key_id and "
             "aws_secret_access_key in \"%s/.aws/credentials\" or "
             "\"%s/.aws/config\"",
             d, d);

    assert_int_equal(ferry_creds_load_aws(&c, "prod", &err), FERRY_ECREDS);
    assert_string_equal(err.msg, want);
}

static void test_nothing_found_lists_every_place(void **state)
{
    struct ferry_creds c;
    struct ferry_error err = { 0 };
    char want[512];
    const char *d = ((struct fixture *)*state)->dir;

    snprintf(want, sizeof(want),
             "no AWS credentials found (looked in "
             "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
             "%s/.aws/credentials [default], %s/.aws/config [default])",
             d, d);

    assert_int_equal(ferry_creds_load_aws(&c, NULL, &err), FERRY_ECREDS);
    assert_string_equal(err.msg, want);
}

static void test_gcs_env_keys_come_first(void **state)
{
    struct ferry_creds c;
    struct ferry_error err = { 0 };

    write_file(*state, ".boto",
               "[Credentials]\n"
               "gs_access_key_id = BOTOKEY\n"
               "gs_secret_access_key = BOTOSECRET\n");
    setenv("GS_ACCESS_KEY_ID", "GOOGKEY", 1);
    setenv("GS_SECRET_ACCESS_KEY", "GOOGSECRET", 1);

    assert_int_equal(ferry_creds_load_gcs(&c, &err), 0);
    assert_string_equal(c.access_key, "GOOGKEY");
    assert_string_equal(c.secret_key, "GOOGSECRET");
    assert_string_equal(c.source, "environment (GS_ACCESS_KEY_ID)");
    ferry_creds_release(&c);
}

static void test_gcs_boto_credentials_section_is_read(void **state)
{
    struct ferry_creds c;
    struct ferry_error err = { 0 };
    char want[256];

    write_file(*state, ".boto",
               "[Boto]\n"
               "gs_access_key_id = NOTTHIS\n"
               "[Credentials]\n"
               "gs_access_key_id = BOTOKEY\n"
               "gs_secret_access_key = BOTOSECRET\n");
    setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET", 1);

    assert_int_equal(ferry_creds_load_gcs(&c, &err), 0);
    assert_string_equal(c.access_key, "BOTOKEY");
    assert_string_equal(c.secret_key, "BOTOSECRET");
    path_in(want, sizeof(want), *state, ".boto [Credentials]");
    assert_string_equal(c.source, want);
    ferry_creds_release(&c);
}

static void test_gcs_boto_config_env_overrides_path(void **state)
{
    struct ferry_creds c;
    struct ferry_error err = { 0 };
    char path[256];

    write_file(*state, "conf/boto.cfg",
               "[Credentials]\n"
               "gs_access_key_id = CFGKEY\n"
               "gs_secret_access_key = CFGSECRET\n");
    path_in(path, sizeof(path), *state, "conf/boto.cfg");
    setenv("BOTO_CONFIG", path, 1);

    assert_int_equal(ferry_creds_load_gcs(&c, &err), 0);
    assert_string_equal(c.access_key, "CFGKEY");
    ferry_creds_release(&c);
}

static void test_gcs_falls_back_to_aws_credentials(void **state)
{
    struct ferry_creds c;
    struct ferry_error err = { 0 };

    write_file(*state, ".aws/credentials", default_file_creds);

    assert_int_equal(ferry_creds_load_gcs(&c, &err), 0);
    assert_string_equal(c.access_key, "FILEKEY");
    ferry_creds_release(&c);
}

static void test_gcs_half_filled_boto_is_an_error(void **state)
{
    struct ferry_creds c;
    struct ferry_error err = { 0 };
    char want[512];

    write_file(*state, ".boto",
               "[Credentials]\ngs_secret_access_key = BOTOSECRET\n");
    snprintf(want, sizeof(want),
             "\"%s/.boto\" [Credentials] has gs_secret_access_key but no "
             "gs_access_key_id",
             ((struct fixture *)*state)->dir);

    assert_int_equal(ferry_creds_load_gcs(&c, &err), FERRY_ECREDS);
    assert_string_equal(err.msg, want);
}

static void test_gcs_nothing_found_lists_every_place(void **state)
{
    struct ferry_creds c;
    struct ferry_error err = { 0 };
    char want[512];
    const char *d = ((struct fixture *)*state)->dir;

    snprintf(want, sizeof(want),
             "no GCS credentials found (looked in "
             "GS_ACCESS_KEY_ID/GS_SECRET_ACCESS_KEY, %s/.boto [Credentials], "
             "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
             "%s/.aws/credentials [default], %s/.aws/config [default])",
             d, d, d);

    assert_int_equal(ferry_creds_load_gcs(&c, &err), FERRY_ECREDS);
    assert_string_equal(err.msg, want);
}

static void test_config_region_of_explicit_profile(void **state)
{
    struct ferry_error err = { 0 };
    char *region = NULL;

    write_file(*state, ".aws/config",
               "[default]\nregion = us-east-2\n"
               "[profile prod]\nregion = eu-west-1\n");
    setenv("AWS_PROFILE", "default", 1);

    assert_int_equal(ferry_config_region(&region, "prod", &err), 0);
    assert_string_equal(region, "eu-west-1");
    free(region);
}

static void test_config_region_follows_aws_profile(void **state)
{
    struct ferry_error err = { 0 };
    char *region = NULL;

    write_file(*state, ".aws/config",
               "[default]\nregion = us-east-2\n"
               "[profile prod]\nregion = eu-west-1\n");
    setenv("AWS_PROFILE", "prod", 1);

    assert_int_equal(ferry_config_region(&region, NULL, &err), 0);
    assert_string_equal(region, "eu-west-1");
    free(region);
}

static void test_config_region_of_default_profile(void **state)
{
    struct ferry_error err = { 0 };
    char *region = NULL;

    write_file(*state, ".aws/config",
               "[default]\nregion = us-east-2\n"
               "[profile prod]\nregion = eu-west-1\n");

    assert_int_equal(ferry_config_region(&region, NULL, &err), 0);
    assert_string_equal(region, "us-east-2");
    free(region);
}

static void test_config_region_absent_is_null(void **state)
{
    struct ferry_error err = { 0 };
    char *region = (char *)"unset";

    assert_int_equal(ferry_config_region(&region, NULL, &err), 0);
    assert_null(region);
}

static void test_release_empties_the_struct(void **state)
{
    struct ferry_creds c;
    struct ferry_error err = { 0 };

    setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET", 1);
    setenv("AWS_SESSION_TOKEN", "ENVTOKEN", 1);
    assert_int_equal(ferry_creds_load_aws(&c, NULL, &err), 0);

    ferry_creds_release(&c);
    assert_null(c.access_key);
    assert_null(c.secret_key);
    assert_null(c.session_token);
    assert_string_equal(c.source, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_env_keys_win_over_default_profile),
        T(test_env_keys_win_over_aws_profile),
        T(test_env_session_token_is_loaded),
        T(test_only_one_env_key_falls_back_to_files),
        T(test_explicit_profile_ignores_env),
        T(test_aws_profile_env_selects_profile),
        T(test_ini_allows_comments_spaces_and_any_key_case),
        T(test_config_profile_section_form_is_read),
        T(test_config_default_section_is_read),
        T(test_config_nested_settings_are_not_keys),
        T(test_credentials_file_wins_over_config),
        T(test_session_token_from_file),
        T(test_file_env_vars_override_paths),
        T(test_tilde_in_file_env_var_is_home),
        T(test_missing_explicit_profile_names_files),
        T(test_missing_aws_profile_names_the_variable),
        T(test_half_filled_profile_is_an_error),
        T(test_profile_without_keys_is_an_error),
        T(test_nothing_found_lists_every_place),
        T(test_gcs_env_keys_come_first),
        T(test_gcs_boto_credentials_section_is_read),
        T(test_gcs_boto_config_env_overrides_path),
        T(test_gcs_falls_back_to_aws_credentials),
        T(test_gcs_half_filled_boto_is_an_error),
        T(test_gcs_nothing_found_lists_every_place),
        T(test_config_region_of_explicit_profile),
        T(test_config_region_follows_aws_profile),
        T(test_config_region_of_default_profile),
        T(test_config_region_absent_is_null),
        T(test_release_empties_the_struct),
#undef T
    };

    /* A half-set pair of variables draws a warning; keep output clean. */
    ferry_log_set_level(FERRY_LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
