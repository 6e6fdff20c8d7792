/* main.c - ferry's entry point: dispatches to one command. */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"

static const char usage[] =
    "usage: ferry upload [options] PATH... --to DEST\n"
    "       ferry import [options] (--object-url URL... | --job JOB)\n"
    "       ferry upload-and-import [options] PATH... --to DEST\n"
    "       ferry check [options] PATH...\n"
    "       ferry resume [--concurrency N] [--resubmit] [--json] [-v] JOB\n"
    "       ferry abort JOB\n"
    "       ferry status [--json] [JOB]\n"
    "       ferry --help | --version | COMMAND --help\n\n"
    "Uploads local data files to S3, S3-compatible stores or Google Cloud\n"
    "Storage, and imports them into Zilliz Cloud or Milvus, with a job\n"
    "log that records every step.  See ferry(1).\n";

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return FERRY_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage, stdout);
        return FERRY_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("ferry %s\n", FERRY_VERSION);
        return FERRY_EXIT_OK;
    }
    if (!strcmp(argv[1], "upload"))
        return ferry_cmd_upload(argc - 1, argv + 1);
    if (!strcmp(argv[1], "resume"))
        return ferry_cmd_resume(argc - 1, argv + 1);
    if (!strcmp(argv[1], "abort"))
        return ferry_cmd_abort(argc - 1, argv + 1);
    if (!strcmp(argv[1], "upload-and-import"))
        return ferry_cmd_upload_and_import(argc - 1, argv + 1);
    if (!strcmp(argv[1], "check"))
        return ferry_cmd_check(argc - 1, argv + 1);
    if (!strcmp(argv[1], "import"))
        return ferry_cmd_import(argc - 1, argv + 1);
    if (!strcmp(argv[1], "status"))
        return ferry_cmd_status(argc - 1, argv + 1);
    fprintf(stderr, "ferry: error: unknown command \"%s\"\n%s", argv[1], usage);
    return FERRY_EXIT_USAGE;
}
