#!/usr/bin/env bash
# test.sh - the whole test suite, as CI runs it:
#   1. unit tests (cmocka) of the normal build;
#   2. the same unit tests and the strict-server integration tests
#      under AddressSanitizer and UndefinedBehaviorSanitizer, then the
#      unit, upload and resume tests under ThreadSanitizer;
#   3. integration tests against the strict, fault-injecting S3 server
#      (tests/servers/s3strict.py), including a 1 GiB file and 1,000
#      small files;
#   4. the same against the strict server speaking Cloud Storage's XML
#      API (GOOG4 and AWS4 dialects);
#   5. import tests against the strict fakes of the three import APIs
#      (tests/servers/importfake.py);
#   6. integration tests against a real Ceph RGW started here;
#   7. the benchmark in its quick mode (bench/run --quick): small sizes,
#      one run per tool, so it cannot rot; its figures are not checked,
#      only that every ferry upload in it arrived intact.
# Installs missing packages and builds first (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3

bash scripts/setup.sh

echo "== style"
bash scripts/check-style.sh

echo "== unit tests"
meson test -C build --print-errorlogs --suite unit

echo "== sanitizer build (address, undefined)"
if [[ ! -d build-asan ]]; then
    meson setup build-asan -Dwerror=true -Db_sanitize=address,undefined \
        -Dbuildtype=debug >/dev/null
fi
ninja -C build-asan >/dev/null
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
meson test -C build-asan --print-errorlogs --suite unit
$PY tests/integration/upload_test.py --ferry build-asan/ferry \
    --server strict
$PY tests/integration/import_test.py --ferry build-asan/ferry
$PY tests/integration/check_test.py --ferry build-asan/ferry
$PY tests/integration/resume_test.py --ferry build-asan/ferry

echo "== thread sanitizer build (readers, job-log syncer, event loop)"
if [[ ! -d build-tsan ]]; then
    meson setup build-tsan -Dwerror=true -Db_sanitize=thread \
        -Dbuildtype=debug >/dev/null
fi
ninja -C build-tsan >/dev/null
# A kernel whose address layout TSan cannot use makes every program
# abort at start; that is the machine, not ferry: say so and go on.
if build-tsan/ferry --version >/dev/null 2>&1; then
    export TSAN_OPTIONS=halt_on_error=1
    meson test -C build-tsan --print-errorlogs --suite unit
    $PY tests/integration/upload_test.py --ferry build-tsan/ferry \
        --server strict
    $PY tests/integration/resume_test.py --ferry build-tsan/ferry
    unset TSAN_OPTIONS
else
    echo "test.sh: ThreadSanitizer cannot run on this kernel; skipped"
fi

echo "== integration: strict S3 server"
$PY tests/servers/test_s3strict.py
$PY tests/integration/upload_test.py --ferry build/ferry --server strict \
    --big

echo "== integration: strict server in Cloud Storage's dialect"
$PY tests/integration/upload_test.py --ferry build/ferry --server gcs
$PY tests/integration/upload_test.py --ferry build/ferry --server gcs \
    --sign-as aws

echo "== ferry check: the rule table, for each API"
$PY tests/integration/check_test.py --ferry build/ferry

echo "== integration: import APIs (strict fakes of Zilliz v1, v2, Milvus)"
$PY tests/servers/test_importfake.py
$PY tests/integration/import_test.py --ferry build/ferry

echo "== crash, resume and abort"
$PY tests/integration/resume_test.py --ferry build/ferry

echo "== integration: Ceph RGW"
$PY tests/integration/upload_test.py --ferry build/ferry --server rgw --big

echo "== benchmark, quick mode (runs, not judged on speed)"
bench/run --quick

echo "test.sh: all suites passed"
