#!/usr/bin/env python3
"""Crash and resume tests: `ferry upload-and-import` killed at several
points, then `ferry resume`; `abort`; a failed import resubmitted; a
changed file; a torn job log.  Uses the strict S3 server (with faults)
and the strict fake import APIs, as import_test.py does.

Usage: resume_test.py --ferry BUILD/ferry [-k SUBSTRING]
Ends with "N passed, M failed".
"""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import import_test as it  # noqa: E402

MIB = 1 << 20


def s3_control(srv, method, path, body=None):
    req = urllib.request.Request(
        srv.s3_endpoint + path, method=method,
        data=json.dumps(body).encode() if body is not None else None)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def s3_faults(srv, rules):
    s3_control(srv, "DELETE", "/_ferry/faults")
    if rules:
        s3_control(srv, "POST", "/_ferry/faults", rules)


def big_file(path, size):
    """A Parquet-looking file (PAR1 at both ends) of size bytes."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(b"PAR1" + os.urandom(size - 8) + b"PAR1")
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def start_pipeline(ctx, path, prefix, *extra):
    base = ctx.srv.url
    cmd = [ctx.args.ferry, "upload-and-import", "--endpoint",
           ctx.srv.s3_endpoint, "--api", "v2", "--import-endpoint", base,
           "--poll-interval", "0.1", "--collection", "books",
           "--cluster-id", it.CLUSTER, "--part-size", "5MiB",
           "--concurrency", "2", path, "--to",
           "s3://%s/%s/" % (it.BUCKET, prefix)] + list(extra)
    return subprocess.Popen(cmd, env=ctx.env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def job_of(log_dir, before):
    new = sorted(set(os.listdir(log_dir)) - before)
    assert len(new) == 1, new
    return os.path.join(log_dir, new[0])


def log_dir(ctx):
    d = os.path.join(ctx.home, "state", "ferry", "jobs")
    os.makedirs(d, exist_ok=True)
    return d


def events(path):
    out = []
    for line in open(path):
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def resume(ctx, job, *extra):
    return subprocess.run([ctx.args.ferry, "resume", job] + list(extra),
                          env=ctx.env(), capture_output=True, text=True,
                          timeout=300)


def object_sha(ctx, key):
    body = ctx.srv.client.get_object(Bucket=it.BUCKET, Key=key)["Body"]
    return hashlib.sha256(body.read()).hexdigest()


def completed_imports(ctx):
    return [j for j in ctx.srv.control("GET", "/_fake/jobs")
            if j.get("state") == "Completed"]


def kill_when(ctx, prefix, sha_path, wait_event, extra=()):
    """Starts the pipeline, SIGKILLs it once the log shows wait_event."""
    d = log_dir(ctx)
    before = set(os.listdir(d))
    p = start_pipeline(ctx, sha_path, prefix, *extra)
    deadline = time.time() + 60
    log = None
    while time.time() < deadline:
        time.sleep(0.05)
        new = set(os.listdir(d)) - before
        if new and not log:
            log = os.path.join(d, sorted(new)[0])
        if log and any(wait_event(e) for e in events(log)):
            break
        if p.poll() is not None:
            break
    p.send_signal(signal.SIGKILL)
    p.wait(10)
    assert log, "no job log appeared"
    return log


def crash_and_resume(ctx, name, wait_event, faults, extra=()):
    path = os.path.join(ctx.work, name, "data.parquet")
    want = big_file(path, 23 * MIB)
    s3_faults(ctx.srv, faults)
    before_done = len(completed_imports(ctx))
    try:
        log = kill_when(ctx, name, path, wait_event, extra)
    finally:
        s3_faults(ctx.srv, [])
    sent_before = {e["part"] for e in events(log) if e.get("event") == "part"}
    s3_control(ctx.srv, "DELETE", "/_ferry/log")
    r = resume(ctx, log)
    assert r.returncode == 0, (name, r.returncode, r.stderr)
    key = "%s/data.parquet" % name
    assert object_sha(ctx, key) == want
    resent = [q for q in s3_control(ctx.srv, "GET", "/_ferry/log")
              if q["op"] == "part" and q["status"] == 200]
    # at most the parts that were in flight (concurrency 2) are sent again
    assert len(resent) <= 5 - len(sent_before) + 2, (len(resent),
                                                     sent_before)
    assert len(completed_imports(ctx)) == before_done + 1
    kinds = [e.get("event") for e in events(log)]
    assert kinds.count("import_submitted") == 1, kinds
    text = open(log).read()
    assert it.SK not in text and it.API_KEY not in text
    if "--no-file-sha256" not in extra:
        # kept parts are read again, so the file's SHA-256 is whole
        objs = [e for e in events(log) if e.get("event") == "object"]
        assert objs and objs[-1]["sha256"] == want, objs
    return log


def test_kill_after_create(ctx):
    crash_and_resume(ctx, "k-create",
                     lambda e: e.get("event") == "mpu_created",
                     [{"op": "part", "fault": "delay", "seconds": 2,
                       "times": -1}])


def test_kill_mid_parts(ctx):
    crash_and_resume(ctx, "k-mid",
                     lambda e: e.get("event") == "part" and e["part"] >= 2,
                     [{"op": "part", "fault": "delay", "seconds": 0.5,
                       "times": -1}])


def test_resume_keeps_no_file_sha256(ctx):
    log = crash_and_resume(ctx, "k-nohash",
                           lambda e: e.get("event") == "part",
                           [{"op": "part", "fault": "delay", "seconds": 0.5,
                             "times": -1}], ("--no-file-sha256",))
    objs = [e for e in events(log) if e.get("event") == "object"]
    assert len(objs) == 1 and "sha256" not in objs[0], objs
    parts = [e for e in events(log) if e.get("event") == "part"]
    assert parts and all(len(p["sha256"]) == 64 for p in parts)


def test_kill_before_complete(ctx):
    crash_and_resume(ctx, "k-complete",
                     lambda e: e.get("event") == "part" and e["part"] == 5,
                     [{"op": "complete", "fault": "delay", "seconds": 5}])


def test_kill_after_complete_before_import(ctx):
    ctx.srv.faults([{"fault": "503", "route": "create", "times": -1}])
    try:
        crash_and_resume_with_fake_cleared(ctx)
    finally:
        ctx.srv.faults([])


def crash_and_resume_with_fake_cleared(ctx):
    path = os.path.join(ctx.work, "k-import", "data.parquet")
    want = big_file(path, 7 * MIB)
    before_done = len(completed_imports(ctx))
    log = kill_when(ctx, "k-import", path,
                    lambda e: e.get("event") == "object")
    ctx.srv.faults([])
    r = resume(ctx, log)
    assert r.returncode == 0, r.stderr
    assert object_sha(ctx, "k-import/data.parquet") == want
    assert len(completed_imports(ctx)) == before_done + 1
    assert "all 1 files were uploaded already" in r.stderr


def test_kill_while_import_runs_polls_it_again(ctx):
    path = os.path.join(ctx.work, "k-poll", "data.parquet")
    big_file(path, 6 * MIB)
    before_done = len(completed_imports(ctx))
    log = kill_when(ctx, "k-poll", path,
                    lambda e: e.get("event") == "import_submitted",
                    extra=("--poll-interval", "5"))
    r = resume(ctx, log)
    assert r.returncode == 0, r.stderr
    kinds = [e.get("event") for e in events(log)]
    assert kinds.count("import_submitted") == 1
    assert len(completed_imports(ctx)) == before_done + 1


def test_failed_import_is_submitted_again(ctx):
    path = os.path.join(ctx.work, "fail-once", "rows.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write('{"rows": [{"id": 1}]}')
    ctx.srv.faults([{"fault": "fail-job", "reason": "first try fails"}])
    p = start_pipeline(ctx, path, "fail-once")
    out, err = p.communicate(timeout=60)
    ctx.srv.faults([])
    assert p.returncode == 1 and "first try fails" in err, err
    job = [l for l in err.splitlines() if "ferry resume" in l][0].split()[-1]
    r = resume(ctx, job)
    assert r.returncode == 0, r.stderr
    log = os.path.join(log_dir(ctx), job + ".jsonl")
    ids = [e["job_id"] for e in events(log)
           if e.get("event") == "import_submitted"]
    assert len(ids) == 2 and ids[0] != ids[1], ids
    r = resume(ctx, job)
    assert r.returncode == 0 and "nothing to resume" in r.stderr, r.stderr


def test_changed_file_is_uploaded_again_and_the_user_told(ctx):
    path = os.path.join(ctx.work, "changed", "data.parquet")
    big_file(path, 12 * MIB)
    s3_faults(ctx.srv, [{"op": "part", "fault": "delay", "seconds": 1,
                         "times": -1}])
    try:
        log = kill_when(ctx, "changed", path,
                        lambda e: e.get("event") == "part")
    finally:
        s3_faults(ctx.srv, [])
    want = big_file(path, 12 * MIB)
    r = resume(ctx, log)
    assert r.returncode == 0, r.stderr
    assert "changed since the job began" in r.stderr
    assert object_sha(ctx, "changed/data.parquet") == want
    assert any(e.get("event") == "mpu_aborted" for e in events(log))


def test_torn_last_line_still_resumes(ctx):
    path = os.path.join(ctx.work, "torn", "data.parquet")
    want = big_file(path, 11 * MIB)
    s3_faults(ctx.srv, [{"op": "part", "fault": "delay", "seconds": 1,
                         "times": -1}])
    try:
        log = kill_when(ctx, "torn", path,
                        lambda e: e.get("event") == "mpu_created")
    finally:
        s3_faults(ctx.srv, [])
    with open(log, "ab") as f:
        f.write(b'{"event":"part","key":"torn/da')
    r = resume(ctx, log)
    assert r.returncode == 0, r.stderr
    assert object_sha(ctx, "torn/data.parquet") == want


def slow_pipeline(ctx, name, size):
    """Starts a pipeline on a new file whose every part takes 2 s; returns
    it, the log directory and the logs that were there before it."""
    path = os.path.join(ctx.work, name, "data.parquet")
    big_file(path, size)
    s3_faults(ctx.srv, [{"op": "part", "fault": "delay", "seconds": 2,
                         "times": -1}])
    d = log_dir(ctx)
    before = set(os.listdir(d))
    return start_pipeline(ctx, path, name), d, before


def test_interrupt_then_abort_leaves_no_open_upload(ctx):
    p, d, before = slow_pipeline(ctx, "abort", 16 * MIB)
    time.sleep(1.5)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    s3_faults(ctx.srv, [])
    assert p.returncode == 130, (p.returncode, err)
    log = job_of(d, before)
    r = subprocess.run([ctx.args.ferry, "abort", log], env=ctx.env(),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "aborted" in r.stdout
    ups = ctx.srv.client.list_multipart_uploads(Bucket=it.BUCKET,
                                                Prefix="abort/")
    assert not ups.get("Uploads"), ups
    st = subprocess.run([ctx.args.ferry, "status", log], env=ctx.env(),
                        capture_output=True, text=True)
    assert "aborted" in st.stdout, st.stdout
    assert any(l.split()[:2] == ["aborted", "abort/data.parquet"]
               for l in st.stdout.splitlines()), st.stdout
    lst = subprocess.run([ctx.args.ferry, "status"], env=ctx.env(),
                         capture_output=True, text=True)
    job = os.path.basename(log)[:-len(".jsonl")]
    line = [l for l in lst.stdout.splitlines() if l.startswith(job)]
    assert len(line) == 1 and "aborted" in line[0], lst.stdout


def test_second_process_on_one_job_is_refused(ctx):
    p, d, before = slow_pipeline(ctx, "lock", 11 * MIB)
    time.sleep(1)
    log = job_of(d, before)
    r = resume(ctx, log)
    p.send_signal(signal.SIGKILL)
    p.wait(10)
    s3_faults(ctx.srv, [])
    assert r.returncode == 1, r.stderr
    assert "in use by another ferry process" in r.stderr


def test_crash_between_submit_and_job_id_asks_for_resubmit(ctx):
    path = os.path.join(ctx.work, "doubt", "rows.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write('{"rows": [{"id": 1}]}')
    p = start_pipeline(ctx, path, "doubt")
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    job = [l for l in err.splitlines() if "ferry resume" in l][0].split()[-1]
    log = os.path.join(log_dir(ctx), job + ".jsonl")
    lines = open(log).read().splitlines(True)
    cut = [i for i, l in enumerate(lines) if '"import_submitted"' in l][0]
    with open(log, "w") as f:      # as if killed right after the request
        f.writelines(lines[:cut])
    before = len(completed_imports(ctx))
    r = resume(ctx, job)
    assert r.returncode == 1, r.stderr
    assert "--resubmit" in r.stderr and "may be it" in r.stderr
    assert len(completed_imports(ctx)) == before
    r = resume(ctx, job, "--resubmit")
    assert r.returncode == 0, r.stderr
    assert len(completed_imports(ctx)) == before + 1


TESTS = [v for k, v in sorted(globals().items()) if k.startswith("test_")]


if __name__ == "__main__":
    sys.exit(it.run_suite("resume", TESTS))
