/*
 * scan.h - turns the PATH arguments into the list of files to upload.
 *
 * A file PATH goes to PREFIX + its base name; a directory PATH goes to
 * PREFIX + its name + "/" + each file's path below it (DESIGN section
 * 2).  A single file with a destination key not ending in '/' is stored
 * at exactly that key.  Symbolic links to files are followed; links to
 * directories are not descended (they could loop), nor are links that
 * lead out of the directory given; they, broken links and special files
 * are skipped and listed in `skipped` for the caller to report.  The
 * list is sorted by key, and two paths that would land on the same key
 * are an error.
 */
#ifndef FERRY_SCAN_H
#define FERRY_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/error.h"

struct ferry_scan_file {
    char *path; /* absolute local path, owned */
    char *key;  /* object key, owned */
    uint64_t size;
    int64_t mtime_ns;
};

struct ferry_scan_skip {
    char *path;      /* owned */
    const char *why; /* static text */
};

struct ferry_scan {
    struct ferry_scan_file *files;
    size_t n;
    uint64_t total_bytes;
    struct ferry_scan_skip *skipped;
    size_t nskipped;
};

/*
 * Scans paths[0..npaths) for destination key dest_key ("" or a prefix
 * ending in '/', or an exact key).  out is initialised by this call.
 */
int ferry_scan_paths(struct ferry_scan *out, const char *const *paths,
                     size_t npaths, const char *dest_key,
                     struct ferry_error *err);
void ferry_scan_release(struct ferry_scan *s);

#endif
