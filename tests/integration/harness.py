"""harness.py - the runner the integration suites share.

Each suite builds its servers and context, then hands its cases here:
one "ok" or "FAIL" line per case (with the traceback of a failure), the
counts at the end, and the exit status for sys.exit.
"""
import sys
import time
import traceback


def run_cases(label, cases, k=""):
    """Runs each (name, fn) whose name contains k; returns 1 if any failed."""
    passed = failed = 0
    for name, fn in cases:
        if k not in name:
            continue
        t0 = time.time()
        try:
            fn()
            passed += 1
            print("ok   %s/%s (%.1f s)" % (label, name, time.time() - t0))
        except Exception:
            failed += 1
            print("FAIL %s/%s" % (label, name))
            traceback.print_exc(file=sys.stdout)
        sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0
