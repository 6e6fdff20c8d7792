#!/usr/bin/env python3
"""Integration tests of `ferry upload` against real S3 servers on loopback.

Servers:
  strict  the project's own tests/servers/s3strict.py: checks every
          signature and payload hash, and injects faults on demand;
  rgw     Ceph RGW from Debian (tests/servers/rgw.sh), a real S3 server
          that also checks every signature and payload hash.

Every object ferry reports as uploaded is read back with botocore (an
implementation independent of ferry) and compared by SHA-256.

Usage: upload_test.py --ferry BUILD/ferry --server strict|rgw [--big]
                      [-k SUBSTRING]
Prints one line per test and ends with "N passed, M failed".
"""

import argparse
import functools
import hashlib
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import botocore.config
import botocore.session

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
SERVERS = os.path.join(HERE, "..", "servers")
AK = "FERRYTESTACCESSKEY01"
SK = "ferry/test+secret/Key0123456789abcdefghij"
MIB = 1 << 20


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_file(path, size):
    """Writes size random bytes."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        left = size
        while left > 0:
            n = min(left, 4 * MIB)
            f.write(os.urandom(n))
            left -= n


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MIB), b""):
            h.update(chunk)
    return h.hexdigest()


class Server:
    def __init__(self, kind, work):
        self.kind = kind
        self.work = work
        self.proc = None
        self.port = None

    def start(self, clock_offset=0, session_token=None):
        self.session_token = session_token
        if self.kind in ("strict", "gcs"):
            self._start_strict(clock_offset)
        else:
            self._start_rgw()
        self.endpoint = "http://127.0.0.1:%d" % self.port
        self.client = s3_client(self.endpoint, SK)

    def _start_strict(self, clock_offset):
        data = tempfile.mkdtemp(dir=self.work, prefix="strict-")
        portfile = os.path.join(data, "port")
        log = open(os.path.join(self.work, "strict.log"), "ab")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(SERVERS, "s3strict.py"),
             "--port", "0", "--port-file", portfile, "--data-dir",
             os.path.join(data, "store"), "--access-key", AK,
             "--secret-key", SK, "--clock-offset", str(clock_offset),
             "--flavour", "gcs" if self.kind == "gcs" else "s3"] +
            (["--session-token", self.session_token]
             if self.session_token else []),
            stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.time() + 20
        while not os.path.exists(portfile):
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("s3strict did not start")
            time.sleep(0.05)
        self.port = int(open(portfile).read())

    def _start_rgw(self):
        self.rgw_dir = tempfile.mkdtemp(dir=self.work, prefix="rgw-")
        self.port = free_port()
        subprocess.run(["bash", os.path.join(SERVERS, "rgw.sh"), "start",
                        self.rgw_dir, str(self.port), AK, SK], check=True)

    def client_token(self):
        """Creates tok-bucket with a client that sends the token."""
        sess = botocore.session.get_session()
        c = sess.create_client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id=AK, aws_secret_access_key=SK,
            aws_session_token=self.session_token,
            config=botocore.config.Config(s3={"addressing_style": "path"}))
        c.create_bucket(Bucket="tok-bucket")

    def stop(self):
        if self.kind in ("strict", "gcs") and self.proc:
            self.proc.terminate()
            self.proc.wait(10)
        elif self.kind == "rgw":
            subprocess.run(["bash", os.path.join(SERVERS, "rgw.sh"), "stop",
                            self.rgw_dir])

    def control(self, method, path, body=None):
        req = urllib.request.Request(
            self.endpoint + path, method=method,
            data=json.dumps(body).encode() if body is not None else None)
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"null")

    def faults(self, rules):
        self.control("DELETE", "/_ferry/faults")
        if rules:
            self.control("POST", "/_ferry/faults", rules)

    def requests_seen(self):
        return self.control("GET", "/_ferry/log")


def s3_client(endpoint, secret):
    sess = botocore.session.get_session()
    return sess.create_client(
        "s3", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id=AK, aws_secret_access_key=secret,
        config=botocore.config.Config(s3={"addressing_style": "path"},
                                      retries={"max_attempts": 1}))


class Ctx:
    """What every test gets: the server, a bucket, a scratch dir."""

    def __init__(self, args, server, work):
        self.args = args
        self.server = server
        self.work = work
        self.scheme = "gs" if server.kind == "gcs" else "s3"
        self.home = os.path.join(work, "home")
        os.makedirs(self.home, exist_ok=True)
        self.n = 0

    def new_bucket(self):
        self.n += 1
        name = "ferry-test-%d-%d" % (os.getpid() % 10000, self.n)
        self.server.client.create_bucket(Bucket=name)
        return name

    def env(self, secret=SK):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AWS_", "GS_"))}
        env.update(HOME=self.home,
                   XDG_STATE_HOME=os.path.join(self.home, "state"))
        if self.server.kind == "gcs":
            env.update(GS_ACCESS_KEY_ID=AK, GS_SECRET_ACCESS_KEY=secret)
        else:
            env.update(AWS_ACCESS_KEY_ID=AK, AWS_SECRET_ACCESS_KEY=secret)
        return env

    def ferry(self, *argv, secret=SK, endpoint=None, timeout=600):
        cmd = [self.args.ferry, "upload", "--endpoint",
               endpoint or self.server.endpoint] + list(argv) + \
              list(self.args.extra)
        return subprocess.run(cmd, env=self.env(secret), capture_output=True,
                              text=True, timeout=timeout)

    def tree(self, name):
        path = os.path.join(self.work, name)
        os.makedirs(path, exist_ok=True)
        return path


def check_objects(ctx, bucket, result):
    """Every uploaded object reads back with the SHA-256 of its file."""
    doc = json.loads(result.stdout)
    assert doc["state"] == "done", doc
    for o in doc["objects"]:
        want = sha256_file(o["path"])
        assert o["sha256"] == want, (o["key"], o["sha256"], want)
        body = ctx.server.client.get_object(Bucket=bucket,
                                            Key=o["key"])["Body"]
        h = hashlib.sha256()
        for chunk in iter(lambda: body.read(MIB), b""):
            h.update(chunk)
        assert h.hexdigest() == want, ("read back differs", o["key"])
    return doc


def one_error_line(result):
    lines = [l for l in result.stderr.splitlines()
             if l.startswith("ferry: error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def joblog_events(doc):
    with open(doc["job_log"]) as f:
        return [json.loads(l) for l in f]


# --- tests on every server --------------------------------------------

def test_small_files_and_edges_land_intact(ctx):
    d = ctx.tree("edges")
    make_file(os.path.join(d, "zero"), 0)
    make_file(os.path.join(d, "one"), 1)
    make_file(os.path.join(d, "at-threshold"), 5 * MIB)
    make_file(os.path.join(d, "below-threshold"), 5 * MIB - 1)
    b = ctx.new_bucket()
    r = ctx.ferry(d, "--to", ctx.scheme + "://%s/run/" % b, "--part-size", "5MiB",
                  "--json")
    assert r.returncode == 0, r.stderr
    doc = check_objects(ctx, b, r)
    assert len(doc["objects"]) == 4
    ev = joblog_events(doc)
    multipart = {e["key"] for e in ev if e.get("event") == "mpu_created"}
    assert multipart == {"run/edges/at-threshold"}, multipart


def test_100mib_file_in_5mib_parts(ctx):
    d = ctx.tree("hundred")
    make_file(os.path.join(d, "big.npy"), 100 * MIB)
    b = ctx.new_bucket()
    r = ctx.ferry(os.path.join(d, "big.npy"), "--to", ctx.scheme + "://%s/x/" % b,
                  "--part-size", "5MiB", "--concurrency", "6", "--json")
    assert r.returncode == 0, r.stderr
    doc = check_objects(ctx, b, r)
    parts = [e for e in joblog_events(doc) if e.get("event") == "part"]
    assert sorted(p["part"] for p in parts) == list(range(1, 21))
    with open(os.path.join(d, "big.npy"), "rb") as f:
        for p in parts:
            f.seek(p["offset"])
            data = f.read(p["size"])
            assert hashlib.sha256(data).hexdigest() == p["sha256"]
            assert p["etag"].strip('"') == hashlib.md5(data).hexdigest()


def test_no_file_sha256_skips_only_the_whole_file_hash(ctx):
    d = ctx.tree("nohash")
    make_file(os.path.join(d, "small"), MIB + 3)
    make_file(os.path.join(d, "big"), 12 * MIB + 5)
    b = ctx.new_bucket()
    r = ctx.ferry(d, "--to", ctx.scheme + "://%s/n/" % b, "--part-size", "5MiB",
                  "--no-file-sha256", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    got = {o["key"]: o["sha256"] for o in doc["objects"]}
    # one PUT: the payload hash is the file's, so it is still there
    assert got["n/nohash/small"] == sha256_file(os.path.join(d, "small"))
    assert got["n/nohash/big"] is None, got
    ev = joblog_events(doc)
    settings = [e for e in ev if e.get("event") == "settings"]
    assert settings and settings[0]["file_sha256"] is False, settings
    objs = {e["key"]: e for e in ev if e.get("event") == "object"}
    assert "sha256" not in objs["n/nohash/big"], objs
    parts = [e for e in ev if e.get("event") == "part"]
    with open(os.path.join(d, "big"), "rb") as f:
        for p in parts:
            f.seek(p["offset"])
            assert hashlib.sha256(f.read(p["size"])).hexdigest() == \
                p["sha256"]
    assert len(parts) == 3
    body = ctx.server.client.get_object(Bucket=b, Key="n/nohash/big")["Body"]
    assert hashlib.sha256(body.read()).hexdigest() == \
        sha256_file(os.path.join(d, "big"))


AWKWARD = ["sp ace.json", "ümlaut-€.json", "plus+bang!.json",
           "quote'(paren)*.json", "dollar$amp&eq=.json",
           "dir with space/inner+(1).json", "日本語/データ.json"]


def test_awkward_names_keep_their_keys(ctx):
    d = ctx.tree("awkward")
    for i, name in enumerate(AWKWARD):
        make_file(os.path.join(d, name), 1000 + i)
    b = ctx.new_bucket()
    r = ctx.ferry(d, "--to", ctx.scheme + "://%s/p/" % b, "--json")
    assert r.returncode == 0, r.stderr
    check_objects(ctx, b, r)
    listed = ctx.server.client.list_objects_v2(Bucket=b)["Contents"]
    keys = sorted(o["Key"] for o in listed)
    assert keys == sorted("p/awkward/" + n for n in AWKWARD), keys


def test_single_file_to_exact_key(ctx):
    d = ctx.tree("exact")
    make_file(os.path.join(d, "f.parquet"), 777)
    b = ctx.new_bucket()
    r = ctx.ferry(os.path.join(d, "f.parquet"), "--to",
                  ctx.scheme + "://%s/data/renamed.parquet" % b)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == ctx.scheme + "://%s/data/renamed.parquet" % b
    head = ctx.server.client.head_object(Bucket=b, Key="data/renamed.parquet")
    assert head["ContentLength"] == 777


def test_wrong_secret_fails_at_once(ctx):
    d = ctx.tree("wrongsecret")
    make_file(os.path.join(d, "a"), 10)
    b = ctx.new_bucket()
    t = time.time()
    r = ctx.ferry(d, "--to", ctx.scheme + "://%s/" % b, secret=SK + "x")
    assert r.returncode == 1, (r.returncode, r.stderr)
    line = one_error_line(r)
    assert "SignatureDoesNotMatch" in line, line
    assert time.time() - t < 10
    assert SK not in r.stderr + r.stdout


def test_unknown_bucket_fails_at_once(ctx):
    d = ctx.tree("nobucket")
    make_file(os.path.join(d, "a"), 10)
    r = ctx.ferry(d, "--to", ctx.scheme + "://no-such-bucket-ferry/")
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "NoSuchBucket" in one_error_line(r)


def test_tampered_body_is_rejected(ctx):
    d = ctx.tree("tamper")
    make_file(os.path.join(d, "a"), 4096)
    b = ctx.new_bucket()
    proxy = TamperProxy(ctx.server.port)
    try:
        r = ctx.ferry(d, "--to", ctx.scheme + "://%s/" % b,
                      endpoint="http://127.0.0.1:%d" % proxy.port)
    finally:
        proxy.close()
    assert proxy.tampered >= 1
    assert r.returncode == 1, (r.returncode, r.stderr)
    line = one_error_line(r)
    assert ("XAmzContentSHA256Mismatch" in line or "BadDigest" in line), line


def test_job_log_is_private_and_holds_no_secret(ctx):
    d = ctx.tree("joblog")
    make_file(os.path.join(d, "big"), 12 * MIB)
    b = ctx.new_bucket()
    r = ctx.ferry(d, "--to", ctx.scheme + "://%s/" % b, "--part-size", "5MiB",
                  "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    mode = stat.S_IMODE(os.stat(doc["job_log"]).st_mode)
    assert mode == 0o600, oct(mode)
    dmode = stat.S_IMODE(os.stat(os.path.dirname(doc["job_log"])).st_mode)
    assert dmode == 0o700, oct(dmode)
    text = open(doc["job_log"]).read()
    assert SK not in text and "Signature=" not in text
    ev = joblog_events(doc)
    parts = [e for e in ev if e.get("event") == "part"]
    assert len(parts) == 3 and all(p["etag"] and len(p["sha256"]) == 64
                                   for p in parts)
    assert ev[-1]["event"] == "stage" and ev[-1]["state"] == "done"


def test_missing_path_is_a_usage_error_and_writes_nothing(ctx):
    b = ctx.new_bucket()
    state = os.path.join(ctx.home, "state", "ferry", "jobs")
    before = set(os.listdir(state)) if os.path.isdir(state) else set()
    r = ctx.ferry(os.path.join(ctx.work, "does-not-exist"), "--to",
                  ctx.scheme + "://%s/" % b)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "does-not-exist" in one_error_line(r)
    after = set(os.listdir(state)) if os.path.isdir(state) else set()
    assert before == after


def test_many_small_files_go_in_parallel(ctx):
    d = ctx.tree("many")
    for i in range(200):
        make_file(os.path.join(d, "f%03d.json" % i), 100 + i)
    b = ctx.new_bucket()
    r = ctx.ferry(d, "--to", ctx.scheme + "://%s/m/" % b, "--json",
                  "--concurrency", "16")
    assert r.returncode == 0, r.stderr
    doc = check_objects(ctx, b, r)
    assert len(doc["objects"]) == 200


def test_store_protocol_calls(ctx):
    """ListParts and ListObjectsV2 pagination, Abort, Head (C test)."""
    exe = os.path.join(os.path.dirname(ctx.args.ferry), "tests",
                       "store_test")
    env = ctx.env()
    env.update(FERRY_TEST_ENDPOINT=ctx.server.endpoint,
               FERRY_TEST_BUCKET=ctx.new_bucket())
    if ctx.server.kind == "gcs":
        env["FERRY_TEST_GCS"] = "1"
    r = subprocess.run([exe], env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


def test_session_token_and_profile_files_are_used(ctx):
    if ctx.server.kind != "strict":
        return
    d = ctx.tree("profile")
    make_file(os.path.join(d, "a"), 10)
    home = os.path.join(ctx.work, "profile-home")
    os.makedirs(os.path.join(home, ".aws"), exist_ok=True)
    with open(os.path.join(home, ".aws", "credentials"), "w") as f:
        f.write("[default]\naws_access_key_id = WRONG\n"
                "aws_secret_access_key = WRONG\n\n[ferrytest]\n"
                "aws_access_key_id = %s\naws_secret_access_key = %s\n"
                "aws_session_token = tok/123+=\n" % (AK, SK))
    tok = Server("strict", ctx.work)
    tok.start(session_token="tok/123+=")
    try:
        tok.client_token()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("AWS_")}
        env.update(HOME=home, XDG_STATE_HOME=os.path.join(home, "st"))
        r = subprocess.run(
            [ctx.args.ferry, "upload", "--endpoint", tok.endpoint,
             "--profile", "ferrytest", d, "--to", "s3://tok-bucket/", "-v"],
            env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert "Authorization: AWS4-HMAC-SHA256" in r.stderr
        assert SK not in r.stderr and "tok/123+=" not in r.stderr
        assert "Signature=****" in r.stderr
        seen = tok.requests_seen()
        assert any(q["method"] == "PUT" and q["status"] == 200
                   for q in seen), seen
    finally:
        tok.stop()


class TamperProxy:
    """Forwards TCP to the server, flipping one body byte of each PUT."""

    def __init__(self, target):
        self.target = target
        self.tampered = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.sock.close()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            s = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._up, args=(c, s),
                             daemon=True).start()
            threading.Thread(target=self._pipe, args=(s, c),
                             daemon=True).start()

    def _up(self, src, dst):
        buf = b""
        done = False
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                dst.close()
                return
            if not done:
                buf += data
                end = buf.find(b"\r\n\r\n")
                if end >= 0 and len(buf) > end + 4 and \
                        buf.startswith(b"PUT"):
                    i = end + 4
                    buf = buf[:i] + bytes([buf[i] ^ 0xFF]) + buf[i + 1:]
                    self.tampered += 1
                    done = True
                    data, buf = buf, b""
                elif end >= 0 and not buf.startswith(b"PUT"):
                    data, buf = buf, b""
                else:
                    continue
            dst.sendall(data)

    @staticmethod
    def _pipe(src, dst):
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            dst.sendall(data)


# --- faults: strict server only ---------------------------------------

def fault_upload(ctx, rules, size=12 * MIB, extra=()):
    d = ctx.tree("fault%d" % ctx.n)
    make_file(os.path.join(d, "obj"), size)
    b = ctx.new_bucket()
    ctx.server.faults(rules)
    try:
        r = ctx.ferry(os.path.join(d, "obj"), "--to", ctx.scheme + "://%s/" % b,
                      "--part-size", "5MiB", "--json", *extra)
    finally:
        ctx.server.faults([])
    assert r.returncode == 0, r.stderr
    check_objects(ctx, b, r)
    return r


def test_slowdown_on_a_part_is_survived(ctx):
    r = fault_upload(ctx, [{"op": "part", "part_number": 2,
                            "fault": "503-slowdown", "retry_after": 1,
                            "times": 2}])
    assert "SlowDown" in r.stderr


def test_500_on_a_put_is_survived(ctx):
    fault_upload(ctx, [{"op": "put", "fault": "500"}], size=1000)


def test_connection_reset_mid_part_is_survived(ctx):
    fault_upload(ctx, [{"op": "part", "part_number": 1, "fault": "reset"}])


def test_delayed_answer_is_survived(ctx):
    fault_upload(ctx, [{"op": "part", "fault": "delay", "seconds": 2}])


def test_complete_200_with_error_body_is_retried(ctx):
    r = fault_upload(ctx, [{"op": "complete",
                            "fault": "complete-200-error"}])
    assert "InternalError" in r.stderr


def test_create_and_list_faults_are_survived(ctx):
    fault_upload(ctx, [{"op": "create", "fault": "503-slowdown"},
                       {"op": "complete", "fault": "reset"}])


def test_api_rules_are_checked_before_any_byte(ctx):
    d = ctx.tree("rules")
    with open(os.path.join(d, "a.json"), "w") as f:
        f.write('{"rows": [{"id": 1}]}')
    with open(os.path.join(d, "b.json"), "w") as f:
        f.write('[{"id": 2}]')
    with open(os.path.join(d, "notes.txt"), "w") as f:
        f.write("not data")
    b = ctx.new_bucket()
    ctx.server.control("DELETE", "/_ferry/log")
    r = ctx.ferry(d, "--to", ctx.scheme + "://%s/r/" % b, "--api", "v1")
    assert r.returncode == 3, (r.returncode, r.stderr)
    assert "v1-one-json-file" in r.stderr and "nothing was uploaded" in \
        r.stderr
    seen = ctx.server.requests_seen()
    assert seen == [], seen
    r = ctx.ferry(d, "--to", ctx.scheme + "://%s/r/" % b, "--api", "v2",
                  "--json")
    assert r.returncode == 0, r.stderr
    keys = sorted(o["key"] for o in json.loads(r.stdout)["objects"])
    assert keys == ["r/rules/a.json", "r/rules/b.json"], keys
    assert "notes.txt" in r.stderr and "not-importable" in r.stderr
    r = ctx.ferry(d, "--to", ctx.scheme + "://%s/r2/" % b, "--api", "v1",
                  "--no-check")
    assert r.returncode == 0 and "NOT checked" in r.stderr, r.stderr


def test_lost_complete_answer_is_survived(ctx):
    # The upload completed but its answer was lost: the retried Complete
    # (or, where the server says NoSuchUpload, a HEAD) finds it done.
    ctx.server.control("DELETE", "/_ferry/log")
    fault_upload(ctx, [{"op": "complete", "fault": "drop-answer"}])
    seen = [q for q in ctx.server.requests_seen() if q["op"] == "complete"]
    assert seen[0]["error"] == "AnswerDropped", seen
    assert seen[-1]["status"] == 200, seen


def test_fatal_error_stops_the_whole_job(ctx):
    d = ctx.tree("fatal")
    for i in range(40):
        make_file(os.path.join(d, "f%02d" % i), 10)
    ctx.server.control("DELETE", "/_ferry/log")
    r = ctx.ferry(d, "--to", ctx.scheme + "://no-such-bucket-fatal/",
                  "--concurrency", "4")
    assert r.returncode == 1, r.stderr
    assert "NoSuchBucket" in one_error_line(r)
    assert len(ctx.server.requests_seen()) <= 8


def test_second_interrupt_while_retrying_stops_at_once(ctx):
    d = ctx.tree("int2")
    make_file(os.path.join(d, "obj"), 100)
    b = ctx.new_bucket()
    ctx.server.faults([{"op": "put", "fault": "503-slowdown",
                        "retry_after": 30, "times": -1}])
    p = subprocess.Popen(
        [ctx.args.ferry, "upload", "--endpoint", ctx.server.endpoint,
         os.path.join(d, "obj"), "--to", ctx.scheme + "://%s/" % b],
        env=ctx.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    time.sleep(1.5)
    t = time.time()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=20)
    ctx.server.faults([])
    assert p.returncode == 130, (p.returncode, err)
    assert time.time() - t < 5, "waited for the retry"


def test_clock_skew_is_corrected(ctx):
    skewed = Server(ctx.server.kind, ctx.work)
    skewed.start(clock_offset=3600)
    try:
        d = ctx.tree("skew")
        make_file(os.path.join(d, "a"), 100)
        r = subprocess.run(
            [ctx.args.ferry, "upload", "--endpoint", skewed.endpoint, d,
             "--to", ctx.scheme + "://skewed-bucket/"] + ctx.args.extra,
            env=ctx.env(), capture_output=True, text=True, timeout=120)
        # the bucket does not exist: reaching NoSuchBucket proves the
        # signature, made with the corrected clock, was accepted
        line = one_error_line(r)
        assert "NoSuchBucket" in line, r.stderr
        assert "clock is 3600 s off" in r.stderr, r.stderr
    finally:
        skewed.stop()


def test_dry_run_sends_nothing(ctx):
    d = ctx.tree("dry")
    make_file(os.path.join(d, "big"), 11 * MIB)
    make_file(os.path.join(d, "small"), 10)
    ctx.server.control("DELETE", "/_ferry/log")
    r = ctx.ferry(d, "--to", ctx.scheme + "://bucket-dry/", "--dry-run",
                  "--part-size", "5MiB")
    assert r.returncode == 0, r.stderr
    assert ctx.server.requests_seen() == []
    lines = r.stdout.splitlines()
    assert lines[0].startswith("POST ") and lines[0].endswith("?uploads=")
    assert sum(1 for l in lines if "partNumber=" in l) == 3
    assert any(l.startswith("PUT ") and "/dry/small" in l for l in lines)
    assert "<CompleteMultipartUpload>" in r.stdout
    assert SK not in r.stdout + r.stderr


def test_interrupt_leaves_a_resumable_job(ctx):
    d = ctx.tree("interrupt")
    make_file(os.path.join(d, "obj"), 30 * MIB)
    b = ctx.new_bucket()
    ctx.server.faults([{"op": "part", "fault": "delay", "seconds": 3,
                        "times": -1}])
    p = subprocess.Popen(
        [ctx.args.ferry, "upload", "--endpoint", ctx.server.endpoint,
         os.path.join(d, "obj"), "--to", ctx.scheme + "://%s/" % b, "--part-size",
         "5MiB", "--concurrency", "2", "--json"],
        env=ctx.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    time.sleep(1.5)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    ctx.server.faults([])
    assert p.returncode == 130, (p.returncode, err)
    assert "ferry resume" in err
    doc = json.loads(out)
    ev = joblog_events(doc)
    assert ev[-1]["event"] == "stage" and ev[-1]["state"] == "interrupted"
    assert any(e.get("event") == "mpu_created" for e in ev)
    assert not any(e.get("event") == "object" for e in ev)


def test_file_changed_during_upload_fails(ctx):
    d = ctx.tree("changing")
    path = os.path.join(d, "obj")
    make_file(path, 20 * MIB)
    b = ctx.new_bucket()
    ctx.server.faults([{"op": "part", "fault": "delay", "seconds": 2,
                        "times": -1}])
    p = subprocess.Popen(
        [ctx.args.ferry, "upload", "--endpoint", ctx.server.endpoint, path,
         "--to", ctx.scheme + "://%s/" % b, "--part-size", "5MiB", "--concurrency",
         "1"], env=ctx.env(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    time.sleep(1)
    with open(path, "r+b") as f:
        f.seek(15 * MIB)
        f.write(b"changed")
    out, err = p.communicate(timeout=120)
    ctx.server.faults([])
    assert p.returncode == 1, (p.returncode, err)
    assert "changed while it was uploaded" in err


def test_1000_small_files(ctx):
    d = ctx.tree("thousand")
    for i in range(1000):
        make_file(os.path.join(d, "s%02d" % (i % 10), "f%04d.json" % i),
                  i * 7 % 4096)
    b = ctx.new_bucket()
    t = time.time()
    r = ctx.ferry(d, "--to", ctx.scheme + "://%s/t/" % b, "--json", "--concurrency",
                  "16")
    took = time.time() - t
    assert r.returncode == 0, r.stderr
    doc = check_objects(ctx, b, r)
    assert len(doc["objects"]) == 1000
    print("    1000 files in %.1f s" % took)


def test_1gib_file(ctx):
    d = ctx.tree("gib")
    make_file(os.path.join(d, "g.bin"), 1024 * MIB)
    b = ctx.new_bucket()
    t = time.time()
    r = ctx.ferry(os.path.join(d, "g.bin"), "--to", ctx.scheme + "://%s/" % b,
                  "--json", "--part-size", "64MiB", "--concurrency", "4")
    took = time.time() - t
    assert r.returncode == 0, r.stderr
    check_objects(ctx, b, r)
    print("    1 GiB in %.1f s (%.0f MiB/s)" % (took, 1024 / took))
    os.unlink(os.path.join(d, "g.bin"))


COMMON = [test_small_files_and_edges_land_intact,
          test_no_file_sha256_skips_only_the_whole_file_hash,
          test_100mib_file_in_5mib_parts,
          test_awkward_names_keep_their_keys,
          test_single_file_to_exact_key,
          test_wrong_secret_fails_at_once,
          test_unknown_bucket_fails_at_once,
          test_tampered_body_is_rejected,
          test_job_log_is_private_and_holds_no_secret,
          test_missing_path_is_a_usage_error_and_writes_nothing,
          test_many_small_files_go_in_parallel,
          test_store_protocol_calls,
          test_session_token_and_profile_files_are_used]
STRICT_ONLY = [test_slowdown_on_a_part_is_survived,
               test_500_on_a_put_is_survived,
               test_connection_reset_mid_part_is_survived,
               test_delayed_answer_is_survived,
               test_complete_200_with_error_body_is_retried,
               test_create_and_list_faults_are_survived,
               test_clock_skew_is_corrected,
               test_lost_complete_answer_is_survived,
               test_api_rules_are_checked_before_any_byte,
               test_fatal_error_stops_the_whole_job,
               test_second_interrupt_while_retrying_stops_at_once,
               test_dry_run_sends_nothing,
               test_interrupt_leaves_a_resumable_job,
               test_file_changed_during_upload_fails]
BIG = [test_1000_small_files, test_1gib_file]


# --- Cloud Storage flavour only -----------------------------------------

def test_gcs_date_the_server_refuses_is_one_line(ctx):
    """A rejected date that the server's clock cannot explain fails."""
    d = ctx.tree("gdate")
    make_file(os.path.join(d, "a"), 10)
    b = ctx.new_bucket()
    ctx.server.faults([{"op": "put", "fault": "skew", "seconds": 0,
                        "times": -1}])
    t = time.time()
    try:
        r = ctx.ferry(d, "--to", "gs://%s/" % b)
    finally:
        ctx.server.faults([])
    assert r.returncode == 1, r.stderr
    assert "ExpiredToken" in one_error_line(r)
    assert time.time() - t < 10


def test_gcs_job_log_records_gs_objects(ctx):
    d = ctx.tree("glog")
    make_file(os.path.join(d, "big"), 11 * MIB)
    b = ctx.new_bucket()
    r = ctx.ferry(d, "--to", "gs://%s/p/" % b, "--part-size", "5MiB",
                  "--json")
    assert r.returncode == 0, r.stderr
    doc = check_objects(ctx, b, r)
    assert doc["objects"][0]["url"] == "gs://%s/p/glog/big" % b
    ev = joblog_events(doc)
    settings = ev[1]
    assert settings["store"] == "gcs" and settings["region"] == "auto"
    assert settings["sign_as"] == (ctx.args.sign_as or "goog")
    assert settings["access_key_source"].startswith("environment")
    parts = [e for e in ev if e.get("event") == "part"]
    assert len(parts) == 3 and all(len(p["sha256"]) == 64 for p in parts)
    obj = [e for e in ev if e.get("event") == "object"][0]
    # a composite object's ETag is no MD5 of the data
    assert obj["etag"].strip('"') != hashlib.md5(
        open(os.path.join(d, "big"), "rb").read()).hexdigest()


def test_gcs_requests_use_the_chosen_dialect(ctx):
    d = ctx.tree("gdialect")
    make_file(os.path.join(d, "a"), 10)
    b = ctx.new_bucket()
    ctx.server.control("DELETE", "/_ferry/log")
    r = ctx.ferry(d, "--to", "gs://%s/" % b)
    assert r.returncode == 0, r.stderr
    put = [q for q in ctx.server.requests_seen() if q["method"] == "PUT"][0]
    auth = put["headers"]["authorization"]
    if ctx.args.sign_as == "aws":
        assert auth.startswith("AWS4-HMAC-SHA256 ") and \
            "x-amz-date" in put["headers"], put
    else:
        assert auth.startswith("GOOG4-HMAC-SHA256 ") and \
            "/auto/storage/goog4_request" in auth and \
            "x-goog-content-sha256" in put["headers"], put


GCS_ONLY = [test_gcs_date_the_server_refuses_is_one_line,
            test_gcs_job_log_records_gs_objects,
            test_gcs_requests_use_the_chosen_dialect]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ferry", required=True)
    ap.add_argument("--server", choices=["strict", "rgw", "gcs"],
                    required=True)
    ap.add_argument("--sign-as", choices=["aws", "goog"],
                    help="gcs only: the dialect ferry signs with")
    ap.add_argument("--big", action="store_true")
    ap.add_argument("-k", default="")
    args = ap.parse_args()
    args.ferry = os.path.abspath(args.ferry)
    args.extra = ["--sign-as", args.sign_as] if args.sign_as else []
    label = args.server + ("-" + args.sign_as if args.sign_as else "")
    work = tempfile.mkdtemp(prefix="ferry-it-")
    server = Server(args.server, work)
    server.start()
    ctx = Ctx(args, server, work)
    tests = COMMON + (STRICT_ONLY if args.server != "rgw" else [])
    tests += GCS_ONLY if args.server == "gcs" else []
    tests += BIG if args.big else []
    try:
        return harness.run_cases(
            label, [(t.__name__, functools.partial(t, ctx)) for t in tests],
            args.k)
    finally:
        server.stop()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    sys.exit(main())
