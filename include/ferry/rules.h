/*
 * rules.h - the import rules of DESIGN section 5, checked locally before
 * any byte is uploaded.
 *
 * The files of each PATH (as ferry_scan_paths finds them) are grouped
 * into import units: each JSON, JSON Lines or Parquet file is a unit; a
 * folder's NumPy files are one unit per folder that holds them (so a
 * folder of chunk sub-folders gives one unit per chunk), and .npy files
 * given together on the command line are one unit.  Then every rule of
 * the chosen API is checked against the units, the folders and the
 * files, with limits the caller may override.
 *
 * Each finding names the file or folder, the rule, the measured value,
 * the limit and how to fix it.  Files that cannot be imported (a .txt in
 * a NumPy folder) are warnings and are left out of the units; broken
 * rules are errors.
 */
#ifndef FERRY_RULES_H
#define FERRY_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ferry/error.h"
#include "ferry/importer.h"
#include "ferry/npy.h"
#include "ferry/scan.h"

/* Every limit; 0 means "no limit". */
struct ferry_rules_limits {
    uint64_t max_file_size;      /* one file (or one NumPy unit) */
    uint64_t max_subfolder_size; /* one NumPy chunk folder (v1) */
    uint64_t max_folder_size;    /* a whole folder given as PATH */
    uint64_t max_total_size;     /* everything of one request */
    uint64_t max_depth;          /* sub-folder levels below a PATH */
    uint64_t max_files;          /* files of one request */
    uint64_t max_units;          /* units of one request */
};

/* The limits an API sets (DESIGN section 5). */
void ferry_rules_defaults(struct ferry_rules_limits *out,
                          enum ferry_import_api api);

enum ferry_severity { FERRY_WARNING, FERRY_ERROR_FINDING };

struct ferry_finding {
    enum ferry_severity severity;
    char *path;       /* the file or folder; owned */
    const char *rule; /* stable id, e.g. "npy-row-count" */
    char *measured;   /* owned; may be NULL */
    char *limit;      /* owned; may be NULL */
    char *message;    /* owned: what is wrong */
    const char *fix;  /* how to fix it; may be NULL */
};

struct ferry_unit {
    enum ferry_file_kind kind;
    char *folder; /* the folder of a NumPy unit, else NULL; owned */
    char **paths; /* owned; local files of the unit */
    size_t npaths;
    uint64_t bytes;
    int64_t rows;  /* NumPy: the common row count, else -1 */
    char **fields; /* first JSON row's or the .npy names; may be NULL */
};

struct ferry_check {
    struct ferry_finding *findings;
    size_t nfindings, nerrors, nwarnings;
    struct ferry_unit *units;
    size_t nunits;
    uint64_t bytes;
    size_t files;
};

struct ferry_check_options {
    enum ferry_import_api api;
    struct ferry_rules_limits limits;
    const char *const *schema; /* field names; NULL for none */
    bool dynamic_field;        /* unexpected fields are fine */
};

/*
 * Checks paths[0..n).  Fills out (released with ferry_check_release)
 * and returns 0 whatever it found; an error only when it could not run.
 */
int ferry_check_paths(struct ferry_check *out, const char *const *paths,
                      size_t n, const struct ferry_check_options *opts,
                      struct ferry_error *err);
void ferry_check_release(struct ferry_check *c);

/*
 * Reads --schema FILE: a JSON list of field names, or the collection
 * description Zilliz's describe call returns ({"data": {"fields": [{
 * "name": ...}]}}, with "enableDynamicField").  *out is NULL-terminated,
 * freed with ferry_sniff_free_fields.
 */
int ferry_rules_read_schema(char ***out, bool *dynamic, const char *file,
                            struct ferry_error *err);

#endif
