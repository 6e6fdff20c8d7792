#!/usr/bin/env python3
"""Integration tests of `ferry import` against the strict fake import APIs.

tests/servers/importfake.py speaks Zilliz Cloud's v1 and v2 import APIs
and Milvus's REST import, checks every request strictly (bearer token,
fields, object URLs, that the objects exist in the S3 test server and
that the bucket keys read them) and advances jobs one poll at a time.
The objects live in tests/servers/s3strict.py.

Usage: import_test.py --ferry BUILD/ferry [-k SUBSTRING]
Prints one line per test and ends with "N passed, M failed".
"""

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

import botocore.config
import botocore.session

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
SERVERS = os.path.join(HERE, "..", "servers")
AK = "FERRYIMPORTACCESSKEY1"
SK = "ferry/import+secret/Key0123456789abcdefg"
API_KEY = "zilliz-api-key-0123456789abcdef"
MILVUS_TOKEN = "root:Milvus-pass-42"
CLUSTER = "in03-3bf3c31f4248e22"
BUCKET = "import-bucket"


def start(cmd, portfile, log):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.time() + 20
    while not os.path.exists(portfile):
        if time.time() > deadline or proc.poll() is not None:
            raise RuntimeError("%s did not start" % cmd[1])
        time.sleep(0.05)
    return proc, int(open(portfile).read())


class Servers:
    def __init__(self, work):
        log = open(os.path.join(work, "servers.log"), "ab")
        self.s3, s3port = start(
            [sys.executable, os.path.join(SERVERS, "s3strict.py"), "--port",
             "0", "--port-file", os.path.join(work, "s3.port"),
             "--data-dir", os.path.join(work, "s3"), "--access-key", AK,
             "--secret-key", SK], os.path.join(work, "s3.port"), log)
        self.s3_endpoint = "http://127.0.0.1:%d" % s3port
        self.fake, port = start(
            [sys.executable, os.path.join(SERVERS, "importfake.py"),
             "--port", "0", "--port-file", os.path.join(work, "fake.port"),
             "--api-key", API_KEY, "--milvus-token", MILVUS_TOKEN,
             "--s3-endpoint", self.s3_endpoint, "--cluster-id", CLUSTER,
             "--cloud-region", "aws-us-east-1",
             "--collections", "medium_articles,books",
             "--milvus-bucket", BUCKET, "--milvus-s3-access-key", AK,
             "--milvus-s3-secret-key", SK, "--polls-to-finish", "3"],
            os.path.join(work, "fake.port"), log)
        self.url = "http://127.0.0.1:%d" % port
        sess = botocore.session.get_session()
        self.client = sess.create_client(
            "s3", endpoint_url=self.s3_endpoint, region_name="us-east-1",
            aws_access_key_id=AK, aws_secret_access_key=SK,
            config=botocore.config.Config(s3={"addressing_style": "path"}))
        self.client.create_bucket(Bucket=BUCKET)
        for key in ["medium_articles_2020.json", "folder/a.parquet",
                    "folder/b.parquet", "npy/1/id.npy", "npy/1/vec.npy"]:
            self.client.put_object(Bucket=BUCKET, Key=key, Body=b"x" * 300)

    def stop(self):
        for p in (self.fake, self.s3):
            p.terminate()
            p.wait(10)

    def control(self, method, path, body=None):
        req = urllib.request.Request(
            self.url + path, method=method,
            data=json.dumps(body).encode() if body is not None else None)
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"null")

    def faults(self, rules):
        self.control("DELETE", "/_fake/faults")
        if rules:
            self.control("POST", "/_fake/faults", rules)

    def requests_seen(self):
        return self.control("GET", "/_fake/requests")


class Ctx:
    def __init__(self, args, servers, work):
        self.args = args
        self.srv = servers
        self.work = work
        self.home = os.path.join(work, "home")
        os.makedirs(self.home, exist_ok=True)

    def env(self, **extra):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AWS_", "GS_", "ZILLIZ", "MILVUS",
                                    "FERRY_"))}
        env.update(HOME=self.home, AWS_ACCESS_KEY_ID=AK,
                   AWS_SECRET_ACCESS_KEY=SK, ZILLIZ_API_KEY=API_KEY,
                   MILVUS_TOKEN=MILVUS_TOKEN,
                   XDG_STATE_HOME=os.path.join(self.home, "state"))
        env.update(extra)
        return {k: v for k, v in env.items() if v is not None}

    def ferry(self, api, *argv, env=None, milvus=False):
        base = self.srv.url + ("/milvus" if api == "milvus" else "")
        cmd = [self.args.ferry, "import", "--api", api,
               "--import-endpoint", base, "--poll-interval", "0.1"]
        if api != "milvus":
            cmd += ["--cluster-id", CLUSTER, "--cloud-region",
                    "aws-us-east-1"]
        cmd += list(argv)
        return subprocess.run(cmd, env=env or self.env(),
                              capture_output=True, text=True, timeout=120)


def one_error_line(r):
    lines = [l for l in r.stderr.splitlines() if l.startswith("ferry: error:")]
    assert len(lines) == 1, r.stderr
    return lines[0]


def no_secrets(*texts):
    for t in texts:
        for s in (SK, API_KEY, MILVUS_TOKEN, "Milvus-pass-42"):
            assert s not in t, "secret %r leaked" % s[:6]


def events(path):
    with open(path) as f:
        return [json.loads(l) for l in f]


# --- each API from submission to Completed ------------------------------

def test_v1_import_runs_to_completed(ctx):
    r = ctx.ferry("v1", "--object-url",
                  "s3://%s/medium_articles_2020.json" % BUCKET,
                  "--collection", "medium_articles", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["state"] == "completed", doc
    imp = doc["imports"][0]
    assert imp["job_id"].startswith("job-") and imp["percent"] == 100
    ev = events(doc["job_log"])
    kinds = [e.get("event") for e in ev]
    assert "import_submitted" in kinds and "import_settings" in kinds
    assert ev[-2]["event"] == "import_state" and \
        ev[-2]["state"] == "completed"
    assert ev[-1]["event"] == "stage" and ev[-1]["stage"] == "import" and \
        ev[-1]["state"] == "done"
    seen = [q for q in ctx.srv.requests_seen() if q["route"] == "create"]
    body = seen[-1]["body"]
    assert body["objectUrl"] == "s3://%s/medium_articles_2020.json" % BUCKET
    assert body["clusterId"] == CLUSTER and body["accessKey"] == "***"
    no_secrets(r.stdout, r.stderr, open(doc["job_log"]).read())


def test_v2_import_sends_one_url_per_inner_list(ctx):
    ctx.srv.control("DELETE", "/_fake/requests")
    r = ctx.ferry("v2", "--object-url", "s3://%s/folder/" % BUCKET,
                  "--object-url", "s3://%s/medium_articles_2020.json" % BUCKET,
                  "--collection", "books")
    assert r.returncode == 0, r.stderr
    job_id = r.stdout.strip()
    assert job_id.startswith("job-"), r.stdout
    create = [q for q in ctx.srv.requests_seen() if q["route"] == "create"]
    assert len(create) == 1
    assert create[0]["body"]["objectUrls"] == [
        ["s3://%s/folder/" % BUCKET],
        ["s3://%s/medium_articles_2020.json" % BUCKET]]
    polls = [q for q in ctx.srv.requests_seen() if q["route"] == "progress"]
    assert len(polls) >= 3 and polls[0]["body"]["jobId"] == job_id


def test_v2_https_url_style(ctx):
    ctx.srv.control("DELETE", "/_fake/requests")
    r = ctx.ferry("v2", "--object-url", "s3://%s/folder/a.parquet" % BUCKET,
                  "--collection", "books", "--url-style", "https",
                  "--region", "us-east-1")
    assert r.returncode == 0, r.stderr
    create = [q for q in ctx.srv.requests_seen() if q["route"] == "create"]
    assert create[0]["body"]["objectUrls"] == [[
        "https://%s.s3.us-east-1.amazonaws.com/folder/a.parquet" % BUCKET]]


def test_milvus_import_sends_keys_and_bearer_user_password(ctx):
    ctx.srv.control("DELETE", "/_fake/requests")
    r = ctx.ferry("milvus", "--object-url",
                  "s3://%s/folder/a.parquet" % BUCKET, "--object-url",
                  "s3://%s/folder/b.parquet" % BUCKET, "--collection",
                  "books", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["state"] == "completed" and doc["imports"][0]["job_id"].isdigit()
    create = [q for q in ctx.srv.requests_seen() if q["route"] == "create"]
    assert create[0]["body"]["files"] == [["folder/a.parquet"],
                                          ["folder/b.parquet"]]
    assert "accessKey" not in create[0]["body"]
    no_secrets(r.stdout, r.stderr)


# --- failures and refusals ---------------------------------------------

def test_failed_job_exits_1_with_the_reason(ctx):
    ctx.srv.faults([{"fault": "fail-job", "reason": "schema mismatch: "
                     "field 'vector' missing"}])
    r = ctx.ferry("v2", "--object-url", "s3://%s/folder/" % BUCKET,
                  "--collection", "books")
    ctx.srv.faults([])
    assert r.returncode == 1, r.stderr
    line = one_error_line(r)
    assert "field 'vector' missing" in line and "failed" in line, line
    print("    " + line)


def test_missing_object_fails_the_job(ctx):
    r = ctx.ferry("v1", "--object-url", "s3://%s/nope.json" % BUCKET,
                  "--collection", "medium_articles")
    assert r.returncode == 1, r.stderr
    assert "NoSuchKey" in one_error_line(r)


def test_wrong_api_key_is_one_line(ctx):
    for api, code in (("v1", "80001"), ("v2", "21119")):
        r = ctx.ferry(api, "--object-url",
                      "s3://%s/medium_articles_2020.json" % BUCKET,
                      "--collection", "books",
                      env=ctx.env(ZILLIZ_API_KEY="wrong-key"))
        assert r.returncode == 1, r.stderr
        line = one_error_line(r)
        assert "code %s" % code in line, line
        assert "wrong-key" not in r.stderr
        print("    " + line)


def test_milvus_refusal_is_http_401_one_line(ctx):
    r = ctx.ferry("milvus", "--object-url",
                  "s3://%s/folder/a.parquet" % BUCKET, "--collection",
                  "books", env=ctx.env(MILVUS_TOKEN="root:wrong"))
    assert r.returncode == 1, r.stderr
    line = one_error_line(r)
    assert "1800" in line and "authenticated" in line, line


def test_unknown_cluster_and_collection_are_one_line(ctx):
    r = subprocess.run(
        [ctx.args.ferry, "import", "--import-endpoint", ctx.srv.url,
         "--cluster-id", "in03-unknown", "--cloud-region", "aws-us-east-1",
         "--object-url", "s3://%s/medium_articles_2020.json" % BUCKET,
         "--collection", "books"], env=ctx.env(), capture_output=True,
        text=True, timeout=60)
    assert r.returncode == 1 and "code 80020" in one_error_line(r), r.stderr
    r = ctx.ferry("v2", "--object-url", "s3://%s/folder/" % BUCKET,
                  "--collection", "no_such_collection")
    assert r.returncode == 1 and "code 100" in one_error_line(r), r.stderr


def test_missing_field_refusal_is_one_line(ctx):
    ctx.srv.faults([{"fault": "refuse", "route": "create", "code": 1802,
                     "message": "missing required parameters: files"}])
    r = ctx.ferry("milvus", "--object-url",
                  "s3://%s/folder/a.parquet" % BUCKET, "--collection",
                  "books")
    ctx.srv.faults([])
    assert r.returncode == 1, r.stderr
    assert "code 1802: missing required parameters" in one_error_line(r)
    creates = [q for q in ctx.srv.requests_seen()
               if q["route"] == "create" and q.get("fault")]
    assert len(creates) == 1, "a refusal must not be retried"


def test_verbose_output_shows_no_api_key(ctx):
    r = ctx.ferry("v2", "--object-url", "s3://%s/folder/" % BUCKET,
                  "--collection", "books", "-v")
    assert r.returncode == 0, r.stderr
    assert "Authorization: Bearer" in r.stderr
    no_secrets(r.stdout, r.stderr)
    r = ctx.ferry("milvus", "--object-url",
                  "s3://%s/folder/a.parquet" % BUCKET, "--collection",
                  "books", "-v")
    assert r.returncode == 0, r.stderr
    no_secrets(r.stdout, r.stderr)


def test_timeout_leaves_a_failed_event(ctx):
    r = subprocess.run(
        [ctx.args.ferry, "import", "--api", "v2", "--import-endpoint",
         ctx.srv.url, "--cluster-id", CLUSTER, "--poll-interval", "1",
         "--timeout", "0.5", "--object-url", "s3://%s/folder/" % BUCKET,
         "--collection", "books", "--json"], env=ctx.env(),
        capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, r.stderr
    assert "--timeout" in one_error_line(r)
    doc = json.loads(r.stdout)
    ev = events(doc["job_log"])
    assert any(e.get("event") == "failed" and e.get("stage") == "import"
               for e in ev), ev


def test_list_shows_the_jobs_of_each_api(ctx):
    r = ctx.ferry("v2", "--object-url", "s3://%s/folder/" % BUCKET,
                  "--collection", "books", "--no-wait")
    job = r.stdout.strip()
    for api, url in (("v1", "medium_articles_2020.json"),
                     ("milvus", "folder/a.parquet")):
        r = ctx.ferry(api, "--object-url", "s3://%s/%s" % (BUCKET, url),
                      "--collection", "books", "--no-wait")
        assert r.returncode == 0, r.stderr
    for api in ("v1", "v2", "milvus"):
        r = ctx.ferry(api, "--list", "--json")
        assert r.returncode == 0, (api, r.stderr)
        jobs = json.loads(r.stdout)
        assert isinstance(jobs, list) and jobs, (api, jobs)
        assert all(j["state"] in ("pending", "running", "completed",
                                  "failed") for j in jobs)
    r = ctx.ferry("v2", "--list")
    assert any(l.startswith(job + "\t") for l in r.stdout.splitlines())


def test_json_reports_per_file_details(ctx):
    r = ctx.ferry("v2", "--object-url", "s3://%s/folder/" % BUCKET,
                  "--collection", "books", "--json")
    assert r.returncode == 0, r.stderr
    files = json.loads(r.stdout)["imports"][0]["files"]
    assert files and all(f["state"] == "completed" for f in files), files


def test_wrong_bucket_keys_are_refused(ctx):
    r = ctx.ferry("v2", "--object-url", "s3://%s/folder/" % BUCKET,
                  "--collection", "books",
                  env=ctx.env(FERRY_IMPORT_ACCESS_KEY_ID=AK,
                              FERRY_IMPORT_SECRET_ACCESS_KEY="not-the-key"))
    assert r.returncode == 1, r.stderr
    assert "cannot read the bucket" in one_error_line(r)
    assert "not-the-key" not in r.stderr


# --- transient faults ---------------------------------------------------

def test_transient_faults_are_survived(ctx):
    ctx.srv.faults([{"fault": "503", "route": "create"},
                    {"fault": "429", "route": "progress"},
                    {"fault": "reset", "route": "progress"}])
    r = ctx.ferry("v2", "--object-url", "s3://%s/folder/" % BUCKET,
                  "--collection", "books")
    ctx.srv.faults([])
    assert r.returncode == 0, r.stderr
    assert "retrying" in r.stderr


def test_no_wait_returns_after_submission(ctx):
    ctx.srv.control("DELETE", "/_fake/requests")
    r = ctx.ferry("v2", "--object-url", "s3://%s/folder/" % BUCKET,
                  "--collection", "books", "--no-wait")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().startswith("job-")
    routes = [q["route"] for q in ctx.srv.requests_seen()]
    # the list before the create lets a resume tell this job apart
    assert routes == ["list", "create"], routes


def test_dry_run_sends_nothing_and_masks_keys(ctx):
    ctx.srv.control("DELETE", "/_fake/requests")
    r = ctx.ferry("v2", "--object-url", "s3://%s/folder/" % BUCKET,
                  "--collection", "books", "--dry-run")
    assert r.returncode == 0, r.stderr
    assert ctx.srv.requests_seen() == []
    lines = r.stdout.splitlines()
    assert lines[0] == "POST %s/v2/vectordb/jobs/import/create" % ctx.srv.url
    body = json.loads(lines[1])
    assert body["secretKey"] == "***" and body["collectionName"] == "books"
    no_secrets(r.stdout, r.stderr)


def test_bad_arguments_exit_2(ctx):
    cases = [["--object-url", "s3://b/k.json"],                # no collection
             ["--api", "milvus", "--collection", "c",
              "--object-url", "s3://bkt/k.json"],               # no endpoint
             ["--collection", "c", "--object-url", "s3://bkt/k.json"],
             ["--collection", "c", "--object-url", "ftp://x/y",
              "--cluster-id", "in03-x", "--cloud-region", "aws-us-east-1"],
             ["--api", "v3", "--collection", "c"]]
    for argv in cases:
        r = subprocess.run([ctx.args.ferry, "import"] + argv, env=ctx.env(),
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 2, (argv, r.returncode, r.stderr)
        one_error_line(r)
    r = ctx.ferry("v2", "--object-url", "s3://%s/folder/" % BUCKET,
                  "--collection", "books", env=ctx.env(ZILLIZ_API_KEY=None))
    assert r.returncode == 2 and "ZILLIZ_API_KEY" in one_error_line(r)


def test_import_of_an_upload_job_appends_to_its_log(ctx):
    d = os.path.join(ctx.work, "up")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "rows.json"), "w") as f:
        f.write('{"rows": [{"id": 1}]}')
    up = subprocess.run(
        [ctx.args.ferry, "upload", "--endpoint", ctx.srv.s3_endpoint, d,
         "--to", "s3://%s/jobs/" % BUCKET, "--json"], env=ctx.env(),
        capture_output=True, text=True, timeout=60)
    assert up.returncode == 0, up.stderr
    job = json.loads(up.stdout)["job"]
    ctx.srv.control("DELETE", "/_fake/requests")
    r = ctx.ferry("v1", "--job", job, "--collection", "medium_articles")
    assert r.returncode == 0, r.stderr
    create = [q for q in ctx.srv.requests_seen() if q["route"] == "create"]
    assert create[0]["body"]["objectUrl"] == \
        "s3://%s/jobs/up/rows.json" % BUCKET
    log = json.loads(up.stdout)["job_log"]
    st = subprocess.run([ctx.args.ferry, "status", "--json", log],
                        env=ctx.env(), capture_output=True, text=True)
    doc = json.loads(st.stdout)
    assert doc["objects_uploaded"] == 1 and \
        doc["imports"][0]["state"] == "completed", doc
    kinds = [e.get("event") for e in events(log)]
    assert kinds.index("object") < kinds.index("import_submitted")
    assert kinds[-2:] == ["import_state", "stage"]


def test_numpy_folder_of_a_job_is_one_unit_and_foreign_objects_refused(ctx):
    d = os.path.join(ctx.work, "npyjob", "chunk1")
    os.makedirs(d, exist_ok=True)
    for name in ("id.npy", "vector.npy"):
        with open(os.path.join(d, name), "wb") as f:
            f.write(b"\x93NUMPY" + b"\0" * 100)
    up = subprocess.run(
        [ctx.args.ferry, "upload", "--endpoint", ctx.srv.s3_endpoint,
         os.path.dirname(d), "--to", "s3://%s/n/" % BUCKET, "--json"],
        env=ctx.env(), capture_output=True, text=True, timeout=60)
    assert up.returncode == 0, up.stderr
    job = json.loads(up.stdout)["job"]
    ctx.srv.client.put_object(Bucket=BUCKET, Key="n/npyjob/chunk1/x.npy",
                              Body=b"foreign")
    ctx.srv.control("DELETE", "/_fake/requests")
    r = ctx.ferry("v2", "--job", job, "--collection", "books")
    assert r.returncode == 3, (r.returncode, r.stderr)
    line = one_error_line(r)
    assert '"n/npyjob/chunk1/x.npy"' in line and "did not upload" in line
    assert ctx.srv.requests_seen() == []
    r = ctx.ferry("v2", "--job", job, "--collection", "books",
                  "--allow-foreign-objects")
    assert r.returncode == 0, r.stderr
    create = [q for q in ctx.srv.requests_seen() if q["route"] == "create"]
    assert create[0]["body"]["objectUrls"] == [
        ["s3://%s/n/npyjob/chunk1/" % BUCKET]], create[0]["body"]
    r = ctx.ferry("milvus", "--job", job, "--collection", "books",
                  "--no-wait")
    assert r.returncode == 0, r.stderr
    create = [q for q in ctx.srv.requests_seen() if q["route"] == "create"]
    assert create[-1]["body"]["files"] == [
        ["n/npyjob/chunk1/id.npy", "n/npyjob/chunk1/vector.npy"]]


def upload_and_import(ctx, api, paths, *extra):
    base = ctx.srv.url + ("/milvus" if api == "milvus" else "")
    cmd = [ctx.args.ferry, "upload-and-import", "--endpoint",
           ctx.srv.s3_endpoint, "--api", api, "--import-endpoint", base,
           "--poll-interval", "0.1", "--collection", "books"] + list(extra)
    if api != "milvus":
        cmd += ["--cluster-id", CLUSTER, "--cloud-region", "aws-us-east-1"]
    return subprocess.run(cmd + paths, env=ctx.env(), capture_output=True,
                          text=True, timeout=120)


def test_upload_and_import_each_kind_through_each_api(ctx):
    d = os.path.join(ctx.work, "uai")
    os.makedirs(os.path.join(d, "vectors", "1"), exist_ok=True)
    with open(os.path.join(d, "rows.json"), "w") as f:
        f.write('{"rows": [{"id": 1}]}')
    with open(os.path.join(d, "t.parquet"), "wb") as f:
        f.write(b"PAR1" + b"\0" * 16 + b"PAR1")
    for name, shape in (("id", "(3,)"), ("vector", "(3, 2)")):
        hdr = ("{'descr': '<f4', 'fortran_order': False, 'shape': %s, }"
               % shape)
        hdr += " " * (63 - (10 + len(hdr)) % 64) + "\n"
        n = 3 if name == "id" else 6
        with open(os.path.join(d, "vectors", "1", name + ".npy"), "wb") as f:
            f.write(b"\x93NUMPY\x01\x00" + len(hdr).to_bytes(2, "little") +
                    hdr.encode() + b"\0" * (4 * n))
    for i, api in enumerate(("v1", "v2", "milvus")):
        for path in ("rows.json", "t.parquet", "vectors"):
            r = upload_and_import(ctx, api, [os.path.join(d, path)],
                                  "--to", "s3://%s/uai%d/" % (BUCKET, i),
                                  "--json")
            assert r.returncode == 0, (api, path, r.stderr)
            doc = json.loads(r.stdout)
            assert doc["state"] == "completed", (api, path, doc)
            assert "ferry resume" in r.stderr
            kinds = [e.get("event") for e in events(doc["job_log"])]
            assert kinds.index("object") < kinds.index("import_submitted")
            assert kinds[-1] == "stage"


def test_upload_and_import_checks_before_uploading(ctx):
    d = os.path.join(ctx.work, "uai-bad")
    os.makedirs(d, exist_ok=True)
    for n in "ab":
        with open(os.path.join(d, n + ".json"), "w") as f:
            f.write("[]")
    ctx.srv.control("DELETE", "/_fake/requests")
    r = upload_and_import(ctx, "v1", [d], "--to", "s3://%s/bad/" % BUCKET)
    assert r.returncode == 3, (r.returncode, r.stderr)
    assert ctx.srv.requests_seen() == []
    r = subprocess.run([ctx.args.ferry, "upload-and-import", d, "--to",
                        "s3://%s/bad/" % BUCKET, "--endpoint",
                        ctx.srv.s3_endpoint, "--api", "v2"], env=ctx.env(),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--collection" in one_error_line(r)


def test_numpy_files_beside_other_files_are_refused_for_zilliz(ctx):
    d = os.path.join(ctx.work, "loose")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "a.json"), "w") as f:
        f.write("[]")
    with open(os.path.join(d, "v.npy"), "wb") as f:
        f.write(b"\x93NUMPY" + b"\0" * 50)
    up = subprocess.run(
        [ctx.args.ferry, "upload", "--endpoint", ctx.srv.s3_endpoint,
         os.path.join(d, "a.json"), os.path.join(d, "v.npy"), "--to",
         "s3://%s/loose/" % BUCKET, "--json"], env=ctx.env(),
        capture_output=True, text=True, timeout=60)
    assert up.returncode == 0, up.stderr
    job = json.loads(up.stdout)["job"]
    r = ctx.ferry("v2", "--job", job, "--collection", "books")
    assert r.returncode == 3, (r.returncode, r.stderr)
    assert "share the folder" in one_error_line(r)


TESTS = [v for k, v in sorted(globals().items()) if k.startswith("test_")]


def run_suite(label, tests):
    """Runs tests against fresh servers; shared with resume_test.py."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--ferry", required=True)
    ap.add_argument("-k", default="")
    args = ap.parse_args()
    args.ferry = os.path.abspath(args.ferry)
    work = tempfile.mkdtemp(prefix="ferry-%s-" % label)
    servers = Servers(work)
    ctx = Ctx(args, servers, work)
    try:
        return harness.run_cases(
            label, [(t.__name__, functools.partial(t, ctx)) for t in tests],
            args.k)
    finally:
        servers.stop()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    sys.exit(run_suite("import", TESTS))
