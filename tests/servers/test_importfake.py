#!/usr/bin/python3
"""Self-test for importfake.py, the strict fake of the bulk-import APIs.

Why: ferry's import tests trust importfake to answer like Zilliz Cloud
(v1 and v2) and Milvus, to refuse what they refuse and to fail on cue.
This starts s3strict.py (the strict S3 server) and importfake.py, puts
objects into s3strict with Debian's botocore (python3-botocore), and
drives every route with urllib: jobs from create to Completed, each
auth, field and object check, every fault kind, and the request log's
masking of secrets.

Run:  /usr/bin/python3 tests/servers/test_importfake.py [-v] [NAME...]
The last line printed is "N passed, M failed"; the exit status is 0 only
if nothing failed.
"""

import base64
import hashlib
import http.client
import json
import os
import shutil
import sys
import tempfile
import traceback
import urllib.error
import urllib.parse
import urllib.request

import botocore.session
from botocore.config import Config

import servekit

HERE = os.path.dirname(os.path.abspath(__file__))
S3STRICT = os.path.join(HERE, "s3strict.py")
FAKE = os.path.join(HERE, "importfake.py")
AK = "AKIDIMPORTFAKETEST"
SK = "s3/sec+ret=for-import"
API_KEY = "zilliz-api-key-0123456789"
MTOKEN = "root:Milvus-pw"
CLUSTER = "in03-3bf3c31f4248e22"
REGION = "us-east-1"
BUCKET = "ferry-data"
MBUCKET = "milvus-bucket"
EMPTY_SHA = hashlib.sha256(b"").hexdigest()
V1 = "/v1/vector/collections/import"
V2 = "/v2/vectordb/jobs/import/"
MV = "/milvus" + V2
OBJECTS = {
    (BUCKET, "in/rows.json"): b'{"rows": [' + b'{"id": 1},' * 60 + b']}',
    (BUCKET, "in/a b.json"): b'[{"id": 2}]',
    (BUCKET, "npy/a.npy"): b"\x93NUMPY" + b"a" * 250,
    (BUCKET, "npy/b.npy"): b"\x93NUMPY" + b"b" * 120,
    (BUCKET, "npy/sub/c.npy"): b"\x93NUMPY" + b"c" * 10,
    (MBUCKET, "m/1.parquet"): b"PAR1" + b"p" * 496,
    (MBUCKET, "m/a.npy"): b"\x93NUMPY" + b"x" * 44,
    (MBUCKET, "m/b.npy"): b"\x93NUMPY" + b"y" * 54,
}
VERBOSE = False


# ------------------------------------------------------------ processes

class Proc(servekit.ServerProcess):
    """A server script on a free port (--port 0 --port-file)."""

    def __init__(self, script, *args):
        super().__init__(script, *args, prefix="importfake-test-")


def start_s3():
    tmp = tempfile.mkdtemp(prefix="importfake-s3-")
    s3 = Proc(S3STRICT, "--data-dir", os.path.join(tmp, "data"),
              "--access-key", AK, "--secret-key", SK, "--region", REGION)
    s3.data_tmp = tmp
    client = botocore.session.get_session().create_client(
        "s3", region_name=REGION, endpoint_url=s3.url,
        aws_access_key_id=AK, aws_secret_access_key=SK,
        config=Config(s3={"addressing_style": "path"},
                      retries={"total_max_attempts": 1}))
    for bucket in (BUCKET, MBUCKET):
        client.create_bucket(Bucket=bucket)
    for (bucket, key), body in OBJECTS.items():
        client.put_object(Bucket=bucket, Key=key, Body=body)
    return s3


def start_fake(s3, *extra):
    args = ["--api-key", API_KEY, "--milvus-token", MTOKEN,
            "--s3-endpoint", s3.url, "--s3-region", REGION,
            "--cluster-id", CLUSTER, "--cloud-region", "aws-us-east-1",
            "--collections", "c1,c2", "--partitions", "_default,p1",
            "--milvus-bucket", MBUCKET, "--milvus-s3-access-key", AK,
            "--milvus-s3-secret-key", SK, "--polls-to-finish", "3"]
    if VERBOSE:
        args.append("--verbose")
    return Proc(FAKE, *args, *extra)


# ---------------------------------------------------------------- HTTP

class Resp:
    """status, headers, parsed JSON (or text) of one answer."""

    def __init__(self, status, headers, raw):
        self.status, self.headers, self.raw = status, headers, raw
        try:
            self.json = json.loads(raw)
        except ValueError:
            self.json = None

    def ok(self, code):
        assert self.status == 200, (self.status, self.raw)
        assert self.json["code"] == code, self.json
        assert set(self.json) == {"code", "data"}, self.json
        return self.json["data"]

    def err(self, code, contains="", status=200):
        assert self.status == status, (self.status, self.raw)
        assert self.json["code"] == code, self.json
        assert contains in self.json["message"], self.json
        return self.json["message"]


class Client:
    """urllib calls to one importfake."""

    def __init__(self, fake):
        self.base = fake.url

    def call(self, path, body=None, token=API_KEY, method=None,
             raw=None, ctype="application/json", headers=()):
        data = raw if raw is not None else \
            None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.base + path, data=data,
            method=method or ("GET" if data is None else "POST"))
        if ctype and data is not None:
            req.add_header("Content-Type", ctype)
        if token is not None:
            req.add_header("Authorization", "Bearer " + token)
        for name, value in headers:
            req.add_header(name, value)
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                return Resp(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return Resp(e.code, e.headers, e.read())

    def control(self, method, path, value=None):
        body = None if value is None else json.dumps(value).encode()
        req = urllib.request.Request(self.base + path, data=body,
                                     method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def fault(self, **rule):
        status, value = self.control("POST", "/_fake/faults", rule)
        assert status == 200, value

    def requests(self):
        return self.control("GET", "/_fake/requests")[1]

    def jobs(self):
        return self.control("GET", "/_fake/jobs")[1]

    # ---- the three APIs

    def v1_create(self, url, collection="c1", **extra):
        body = {"clusterId": CLUSTER, "collectionName": collection,
                "objectUrl": url, "accessKey": AK, "secretKey": SK}
        return self.call(V1, dict(body, **extra))

    def v1_get(self, job, cluster=CLUSTER, **kw):
        query = urllib.parse.urlencode({"jobId": job, "clusterId": cluster})
        return self.call(V1 + "/get?" + query, **kw)

    def v1_list(self, **params):
        query = urllib.parse.urlencode(dict({"clusterId": CLUSTER},
                                            **params))
        return self.call(V1 + "/list?" + query)

    def v2_create(self, urls, collection="c1", **extra):
        body = {"clusterId": CLUSTER, "collectionName": collection,
                "objectUrls": [[u] for u in urls], "accessKey": AK,
                "secretKey": SK}
        return self.call(V2 + "create", dict(body, **extra))

    def v2_progress(self, job, route="getProgress", **kw):
        return self.call(V2 + route, {"clusterId": CLUSTER, "jobId": job},
                         **kw)

    def mv_create(self, files, collection="c1", token=MTOKEN, **extra):
        body = dict({"collectionName": collection, "files": files},
                    **extra)
        return self.call(MV + "create", body, token=token)

    def mv_progress(self, job, route="get_progress", token=MTOKEN):
        return self.call(MV + route, {"jobId": job}, token=token)


def s3_url(key, bucket=BUCKET):
    return f"s3://{bucket}/{key}"


def v1_job(c, url):
    return c.v1_create(url).ok(200)["jobId"]


def v2_job(c, urls):
    return c.v2_create(urls).ok(0)["jobId"]


def job_named(c, job_id):
    return next(j for j in c.jobs() if j["jobId"] == job_id)


# --------------------------------------------------------------- tests

TESTS = []


def test(func):
    TESTS.append(func)
    return func


@test
def v1_create_to_completed(c, s3):
    data = c.v1_create(s3_url("in/rows.json")).ok(200)
    job = data["jobId"]
    assert job.startswith("job-") and len(job) == 26, job
    assert all(ch in "0123456789abcdef" for ch in job[4:]), job
    size = len(OBJECTS[BUCKET, "in/rows.json"])
    seen = []
    for _ in range(3):
        d = c.v1_get(job).ok(200)
        seen.append((d["readyPercentage"], d["completeTime"],
                     d["errorMessage"]))
        assert d["jobId"] == job and d["collectionName"] == "c1", d
        assert d["fileSize"] == size, d
    assert seen[0] == (0, None, None) and seen[1] == (0.5, None, None), \
        seen
    assert seen[2][0] == 1 and seen[2][2] is None, seen
    assert seen[2][1].endswith("Z") and len(seen[2][1]) == 20, seen
    assert d["details"] == [{
        "fileName": "in/rows.json", "fileSize": size, "readyPercentage": 1,
        "completeTime": seen[2][1], "errorMessage": None}], d
    again = c.v1_get(job).ok(200)
    assert again["readyPercentage"] == 1, again
    listed = c.v1_list().ok(200)
    assert listed["tasks"] == listed["records"], listed
    record = next(t for t in listed["tasks"] if t["jobId"] == job)
    assert record == {"collectionName": "c1", "jobId": job,
                      "state": "ImportCompleted"}, record


@test
def v1_list_states_and_paging(c, s3):
    c.control("DELETE", "/_fake/jobs")
    jobs = [v1_job(c, s3_url("in/rows.json")) for _ in range(6)]
    c.v1_get(jobs[0])
    listed = c.v1_list(pageSize="5").ok(200)
    assert listed["count"] == 6 and listed["pageSize"] == 5, listed
    assert [t["jobId"] for t in listed["tasks"]] == jobs[:5], listed
    assert {t["state"] for t in listed["tasks"]} == {"ImportRunning"}
    page2 = c.v1_list(pageSize="5", currentPage="2").ok(200)
    assert [t["jobId"] for t in page2["records"]] == jobs[5:], page2
    assert page2["currentPage"] == 2, page2
    c.v1_list(pageSize="4").err(80003, "between 5 and 100")
    c.v1_list(pageSize="101").err(80003)
    c.v1_list(currentPage="0").err(80004)
    c.v1_list(pageSize="ten").err(80000, "pageSize")
    c.v1_list(clusterId="in01-nope").err(80020)
    c.v1_list(colour="red").err(80000, "unknown field 'colour'")


@test
def v2_create_to_completed(c, s3):
    urls = ["https://ferry-data.s3.us-east-1.amazonaws.com/in/rows.json",
            "https://s3.us-east-1.amazonaws.com/ferry-data/in/a%20b.json"]
    data = c.v2_create(urls, options={}, dbName="default",
                       partitionName="p1").ok(0)
    job = data["jobId"]
    assert job.startswith("job-") and len(job) == 26, job
    states = []
    for route in ("getProgress", "get_progress", "describe"):
        d = c.v2_progress(job, route).ok(0)
        states.append((d["state"], d["progress"], d["reason"]))
    assert states == [("Pending", 0, ""), ("Importing", 50, ""),
                      ("Completed", 100, "")], states
    sizes = [len(OBJECTS[BUCKET, k]) for k in ("in/rows.json",
                                               "in/a b.json")]
    assert d["fileSize"] == sum(sizes) and d["totalRows"] == 6 + 1, d
    assert d["completeTime"].endswith("Z"), d
    assert [(x["fileName"], x["fileSize"], x["state"], x["progress"],
             x["reason"]) for x in d["details"]] == [
        ("in/rows.json", sizes[0], "Completed", 100, ""),
        ("in/a b.json", sizes[1], "Completed", 100, "")], d
    listed = c.call(V2 + "list", {"clusterId": CLUSTER}).ok(0)
    assert listed["pageSize"] == 10 and listed["currentPage"] == 1
    record = next(r for r in listed["records"] if r["jobId"] == job)
    assert record == {"collectionName": "c1", "jobId": job,
                      "state": "Completed"}, record


@test
def v2_list_paging_and_checks(c, s3):
    c.control("DELETE", "/_fake/jobs")
    jobs = [v2_job(c, [s3_url("in/rows.json")]) for _ in range(3)]
    body = {"clusterId": CLUSTER, "pageSize": 2, "currentPage": 2}
    listed = c.call(V2 + "list", body).ok(0)
    assert listed["count"] == 3, listed
    assert [r["jobId"] for r in listed["records"]] == jobs[2:], listed
    assert {r["state"] for r in listed["records"]} == {"Pending"}
    c.call(V2 + "list", dict(body, pageSize=0)).err(96008)
    c.call(V2 + "list", dict(body, currentPage=0)).err(96009)
    c.call(V2 + "list", dict(body, pageSize="2")).err(
        1801, "pageSize must be a integer, got string")
    c.call(V2 + "list", dict(body, dbName="other")).err(800)
    c.call(V2 + "list", {"pageSize": 2}).err(1802, "clusterId")


@test
def milvus_create_to_completed(c, s3):
    files = [["m/1.parquet"], ["/m/a.npy", "m/b.npy"]]
    data = c.mv_create(files, options={"timeout": "300s"},
                       dbName="default").ok(0)
    job = data["jobId"]
    assert job.isdigit() and len(job) == 18 and int(job) > 2 ** 53, job
    seen = []
    for route in ("get_progress", "describe", "get_progress"):
        d = c.mv_progress(job, route).ok(0)
        seen.append((d["state"], d["progress"], "reason" in d))
    assert seen == [("Pending", 0, False), ("Importing", 50, False),
                    ("Completed", 100, False)], seen
    sizes = [len(OBJECTS[MBUCKET, "m/1.parquet"]),
             len(OBJECTS[MBUCKET, "m/a.npy"]) +
             len(OBJECTS[MBUCKET, "m/b.npy"])]
    assert d["fileSize"] == sum(sizes), d
    assert d["importedRows"] == d["totalRows"] == 5 + 1, d
    assert "fileName" not in d, d
    assert [(x["fileName"], x["fileSize"], x["state"], "reason" in x)
            for x in d["details"]] == [
        ("[m/1.parquet]", sizes[0], "Completed", False),
        ("[/m/a.npy, m/b.npy]", sizes[1], "Completed", False)], d
    listed = c.call(MV + "list", {"collectionName": "c1"},
                    token=MTOKEN).ok(0)
    assert set(listed) == {"records"}, listed
    record = next(r for r in listed["records"] if r["jobId"] == job)
    assert record == {"jobId": job, "collectionName": "c1",
                      "state": "Completed", "progress": 100}, record
    assert job_named(c, job)["options"] == {"timeout": "300s"}
    c.call(MV + "list", {"collectionName": "nope"}, token=MTOKEN).err(100)
    c.call(MV + "list", {"dbName": "x"}, token=MTOKEN).err(800)


@test
def milvus_preimporting_and_no_bucket(c, s3):
    fake = start_fake(s3, "--polls-to-finish", "4", "--milvus-bucket", "")
    try:
        c4 = Client(fake)
        job = c4.mv_create([["not/checked.json"]]).ok(0)["jobId"]
        states = [c4.mv_progress(job).ok(0) for _ in range(4)]
        assert [(s["state"], s["progress"]) for s in states] == [
            ("Pending", 0), ("PreImporting", 33), ("Importing", 66),
            ("Completed", 100)], states
        assert states[1]["details"][0]["state"] == "InProgress"
        assert states[3]["fileSize"] == 0, states[3]
    finally:
        fake.stop()


@test
def wrong_bearer_token_each_api(c, s3):
    url = s3_url("in/rows.json")
    for token in ("wrong", None, ""):
        body = {"clusterId": CLUSTER, "collectionName": "c1",
                "objectUrl": url}
        c.call(V1, body, token=token).err(80001, "The token is illegal")
        c.v1_get("job-x", token=token).err(80001)
        c.call(V2 + "create", {"clusterId": CLUSTER},
               token=token).err(21119, "The apikey is illegal.")
        c.v2_progress("job-x", token=token).err(21119)
        c.call(MV + "list", {}, token=token).err(
            1800, "user hasn't authenticated", status=401)
    basic = "Basic " + base64.b64encode(b"x:y").decode()
    c.call(V1 + "/list?clusterId=" + CLUSTER, token=None,
           headers=[("Authorization", basic)]).err(80001)
    # Milvus also accepts HTTP Basic with user:password.
    good = "Basic " + base64.b64encode(MTOKEN.encode()).decode()
    c.call(MV + "list", {}, token=None,
           headers=[("Authorization", good)]).ok(0)


@test
def milvus_401(c, s3):
    r = c.mv_create([["m/1.parquet"]], token="root:wrong")
    r.err(1800, status=401)
    assert r.json == {"code": 1800,
                      "message": "user hasn't authenticated"}, r.json
    c.mv_progress("1", token=API_KEY).err(1800, status=401)
    c.mv_create([["m/1.parquet"]], token=None).err(1800, status=401)


@test
def unknown_cluster(c, s3):
    url = s3_url("in/rows.json")
    c.v1_create(url, clusterId="in01-0000000000000000").err(
        80020, "Invalid clusterId")
    job = v1_job(c, url)
    c.v1_get(job, cluster="in01-0000000000000000").err(80020)
    c.v2_create([url], clusterId="in01-0000000000000000").err(
        96014, "You don't have permission for this cluster")
    body = {"clusterId": "in01-x", "jobId": "job-1"}
    c.call(V2 + "describe", body).err(96014)


@test
def unknown_collection_partition_database(c, s3):
    url = s3_url("in/rows.json")
    c.v1_create(url, collection="nope").err(
        90001, "The collection nope does not exist")
    c.v1_create(url, partitionName="px").err(80000, "partition px")
    c.v2_create([url], collection="nope").err(
        100, "collection not found[collection=nope]")
    c.v2_create([url], partitionName="px").err(
        200, "partition not found[partition=px]")
    c.v2_create([url], dbName="other").err(
        800, "database not found[database=other]")
    c.mv_create([["m/1.parquet"]], collection="nope").err(100)
    c.mv_create([["m/1.parquet"]], partitionName="px").err(200)


@test
def missing_required_fields(c, s3):
    url = s3_url("in/rows.json")
    for name in ("clusterId", "collectionName", "objectUrl"):
        body = {"clusterId": CLUSTER, "collectionName": "c1",
                "objectUrl": url}
        del body[name]
        c.call(V1, body).err(80000, f"Incorrect parameter: {name}")
    c.call(V1, {"clusterId": CLUSTER, "collectionName": "",
                "objectUrl": url}).err(80000, "collectionName")
    c.call(V1 + "/get?clusterId=" + CLUSTER).err(80000, "jobId")
    c.v1_create(url, secretKey="").err(80000, "secretKey")
    for name in ("clusterId", "collectionName", "objectUrls"):
        body = {"clusterId": CLUSTER, "collectionName": "c1",
                "objectUrls": [[url]]}
        del body[name]
        c.call(V2 + "create", body).err(
            1802, f"missing required parameters: {name}")
    c.call(V2 + "getProgress", {"clusterId": CLUSTER}).err(1802, "jobId")
    c.call(MV + "create", {"files": [["m/1.parquet"]]},
           token=MTOKEN).err(1802, "collectionName")
    c.call(MV + "create", {"collectionName": "c1"},
           token=MTOKEN).err(1802, "files")
    c.call(MV + "describe", {}, token=MTOKEN).err(1802, "jobId")


@test
def unknown_and_ill_typed_fields(c, s3):
    url = s3_url("in/rows.json")
    c.v1_create(url, dbName="default").err(80000, "unknown field 'dbName'")
    c.v1_create(url, objectUrls=[[url]]).err(80000, "objectUrls")
    c.v1_create(["x"]).err(80000, "objectUrl must be a string")
    c.v2_create([url], objectUrl=url).err(1801, "unknown field")
    c.v2_create([url], volumeName="v").err(1801, "volumeName")
    c.call(V2 + "create", {"clusterId": CLUSTER, "collectionName": "c1",
                           "objectUrls": url}).err(
        1801, "objectUrls must be a array, got string")
    c.call(V2 + "create", {"clusterId": CLUSTER, "collectionName": "c1",
                           "objectUrls": [url]}).err(1801, "objectUrls[0]")
    c.call(V2 + "create", {"clusterId": CLUSTER, "collectionName": "c1",
                           "objectUrls": [[url, url]]}).err(
        1100, "exactly one URL, got 2")
    c.call(V2 + "create", {"clusterId": CLUSTER, "collectionName": "c1",
                           "objectUrls": []}).err(1100, "empty")
    c.v2_create([url], options=[]).err(1801, "options must be a object")
    c.v2_create([url], accessKey=None).err(1802, "accessKey")
    c.mv_create([["m/1.parquet"]], clusterId=CLUSTER).err(
        1801, "unknown field 'clusterId'")
    c.call(MV + "list", {"pageSize": 10}, token=MTOKEN).err(1801)


@test
def job_id_as_number_rejected(c, s3):
    job = v2_job(c, [s3_url("in/rows.json")])
    c.call(V2 + "getProgress", {"clusterId": CLUSTER, "jobId": 12}).err(
        1801, "jobId must be a string, got number")
    mjob = c.mv_create([["m/1.parquet"]]).ok(0)["jobId"]
    c.call(MV + "get_progress", {"jobId": int(mjob)}, token=MTOKEN).err(
        1801, "jobId must be a string, got number")
    assert job_named(c, mjob)["polls"] == 0
    assert job_named(c, job)["polls"] == 0
    c.mv_progress(mjob).ok(0)


@test
def bad_json_and_content_type(c, s3):
    cases = [b"{not json", b'{"a": 1, "a": 2}', b"[1, 2]", b'{"x": NaN}',
             b"\xff\xfe", b""]
    for raw in cases:
        c.call(V1, raw=raw).err(80000, "Incorrect parameter")
        c.call(V2 + "create", raw=raw).err(1801)
        c.call(MV + "create", raw=raw, token=MTOKEN).err(1801)
    body = json.dumps({"clusterId": CLUSTER}).encode()
    for ctype in (None, "text/plain", "application/jsonx"):
        c.call(V2 + "list", raw=body, ctype=ctype).err(
            1801, "Content-Type must be application/json")
    c.call(V1, raw=body, ctype=None).err(80000, "Content-Type")
    c.call(MV + "list", raw=b"{}", ctype="text/json",
           token=MTOKEN).err(1801)
    c.call(V2 + "list", raw=body,
           ctype="application/json; charset=utf-8").ok(0)


@test
def wrong_bucket_keys_refused(c, s3):
    before = len(c.jobs())
    url = s3_url("in/rows.json")
    c.v1_create(url, secretKey="wrong-secret").err(
        80000, "accessKey/secretKey cannot read the bucket 'ferry-data'")
    c.v1_create(url, accessKey="AKIDUNKNOWN").err(80000, "cannot read")
    c.v2_create([url], secretKey="wrong").err(
        1100, "invalid parameter: accessKey/secretKey cannot read")
    c.v2_create([s3_url("npy/")], secretKey="wrong").err(1100, "403")
    body = {"clusterId": CLUSTER, "collectionName": "c1",
            "objectUrls": [[url]]}
    c.call(V2 + "create", body).err(1100, "cannot read")
    # The token goes to S3, which has none configured: InvalidToken.
    c.v2_create([url], token="session-token").err(1100, "cannot read")
    assert len(c.jobs()) == before


@test
def missing_object_fails_on_first_poll(c, s3):
    job = v1_job(c, s3_url("in/missing.json"))
    d = c.v1_get(job).ok(200)
    assert "NoSuchKey" in d["errorMessage"], d
    assert d["details"][0]["errorMessage"] == d["errorMessage"], d
    listed = c.v1_list().ok(200)["tasks"]
    assert {"collectionName": "c1", "jobId": job,
            "state": "ImportFailed"} in listed, listed
    job = v2_job(c, [s3_url("in/rows.json"), s3_url("in/gone.json")])
    d = c.v2_progress(job).ok(0)
    assert d["state"] == "Failed" and "NoSuchKey" in d["reason"], d
    assert "'in/gone.json'" in d["reason"], d
    assert [x["state"] for x in d["details"]] == ["Failed", "Failed"], d
    job = v2_job(c, [s3_url("in/rows.json", "no-such-bucket")])
    d = c.v2_progress(job).ok(0)
    assert d["state"] == "Failed" and "404 NoSuchBucket" in d["reason"], d
    job = c.mv_create([["m/missing.parquet"]]).ok(0)["jobId"]
    d = c.mv_progress(job).ok(0)
    assert d["state"] == "Failed", d
    assert d["reason"] == ("failed to get file size of "
                           "'m/missing.parquet', error: NoSuchKey"), d
    assert d["details"][0]["reason"] == d["reason"], d
    assert c.mv_progress(job).ok(0)["state"] == "Failed"


@test
def folder_url_lists_objects(c, s3):
    job = v2_job(c, ["gs://ferry-data/npy/"])
    for _ in range(3):
        d = c.v2_progress(job).ok(0)
    assert d["state"] == "Completed", d
    want = [(k, len(OBJECTS[BUCKET, k])) for k in
            ("npy/a.npy", "npy/b.npy", "npy/sub/c.npy")]
    assert [(x["fileName"], x["fileSize"]) for x in d["details"]] == \
        want, d
    job = v1_job(c, s3_url("npy/sub/"))
    d = c.v1_get(job).ok(200)
    assert d["details"][0]["fileName"] == "npy/sub/c.npy", d
    job = v1_job(c, s3_url("empty/"))
    d = c.v1_get(job).ok(200)
    assert "no object found under prefix 'empty/'" in d["errorMessage"]
    lists = [e for e in s3_log(s3) if e["op"] == "list"]
    assert lists and lists[-1]["status"] == 200, lists


@test
def bad_object_urls_refused(c, s3):
    bad = ["http://ferry-data/in/rows.json", "s3:/ferry-data/x",
           "S3://ferry-data/x", "s3://Bad_Bucket/x", "s3://ferry-data/",
           "s3://ferry-data", "s3://ferry-data/a\tb.json",
           "https://ferry-data.s3.us-east-1.amazonaws.com/in/a b.json",
           "https://storage.googleapis.com/ferry-data/in/r\u00e9.json",
           "https://ferry-data.s3.eu-west-1.amazonaws.com/in/rows.json",
           "https://ferry-data.s3.us-east-1.amazonaws.com/in/x?y=1",
           "https://ferry-data.s3.amazonaws.com/in/rows.json",
           "https://storage.googleapis.com:443/ferry-data/in/rows.json",
           "https://storage.googleapis.com/ferry-data/in/%zz",
           "https://example.com/ferry-data/in/rows.json"]
    for url in bad:
        c.v2_create([url]).err(1100, "objectUrls[0]")
    c.v1_create("s3://ferry-data/").err(80000, "objectUrl")
    # URIs take keys literally: blanks and UTF-8 are fine there.
    v1_job(c, "s3://ferry-data/in/a b.json")
    job = v1_job(c, "s3://ferry-data/in/r\u00e9.json")
    assert "NoSuchKey" in c.v1_get(job).ok(200)["errorMessage"]


@test
def v1_bucket_must_be_on_cluster_cloud(c, s3):
    url = "gs://ferry-data/in/rows.json"
    c.v1_create(url).err(80000, "the bucket is on gcp")
    c.v1_create("https://storage.googleapis.com/ferry-data/in/rows.json") \
        .err(80000, "cloud")
    job = v2_job(c, [url])
    assert c.v2_progress(job).ok(0)["state"] == "Pending"


@test
def unknown_jobs_and_routes(c, s3):
    c.v1_get("job-00000000000000000000aa").err(80000, "jobId")
    c.v2_progress("job-00000000000000000000aa").err(
        2100, "job not found[jobId=job-00000000000000000000aa]")
    c.mv_progress("123").err(2100, "job not found")
    v1 = v1_job(c, s3_url("in/rows.json"))
    c.v2_progress(v1).err(2100)
    r = c.call(V2 + "create", method="GET")
    assert r.status == 405, (r.status, r.raw)
    r = c.call("/v2/vectordb/jobs/import/nope", {})
    assert r.status == 404 and r.json["code"] == 404, (r.status, r.raw)
    r = c.call(MV + "getProgress", {"jobId": "1"}, token=MTOKEN)
    assert r.status == 404, (r.status, r.raw)


@test
def fault_429(c, s3):
    c.fault(fault="429", route="create", api="v2")
    r = c.v2_create([s3_url("in/rows.json")])
    assert r.status == 429 and r.headers["Retry-After"] == "1", r.raw
    assert r.json == {"code": 429, "message": "Too Many Requests"}
    v1_job(c, s3_url("in/rows.json"))
    v2_job(c, [s3_url("in/rows.json")])
    entry = [e for e in c.requests() if e["fault"] == "429"][-1]
    assert entry["status"] == 429 and entry["code"] == 429, entry


@test
def fault_503(c, s3):
    job = v1_job(c, s3_url("in/rows.json"))
    c.fault(fault="503", route="progress", times=2)
    for _ in range(2):
        r = c.v1_get(job)
        assert r.status == 503, r.status
        assert r.headers["Content-Type"] == "text/plain", r.headers
    assert job_named(c, job)["polls"] == 0
    assert c.v1_get(job).ok(200)["readyPercentage"] == 0


@test
def fault_reset(c, s3):
    before = len(c.jobs())
    c.fault(fault="reset", api="milvus")
    try:
        c.mv_create([["m/1.parquet"]])
    except (OSError, http.client.HTTPException):
        pass
    else:
        raise AssertionError("the connection was not reset")
    assert len(c.jobs()) == before
    entry = c.requests()[-1]
    assert entry["fault"] == "reset" and entry["status"] is None, entry
    c.mv_create([["m/1.parquet"]]).ok(0)


@test
def fault_refuse(c, s3):
    c.fault(fault="refuse", route="list", code=80002,
            message="The token is invalid")
    c.v1_list().err(80002, "The token is invalid")
    c.v1_list().ok(200)
    c.fault(fault="refuse", route="create", api="v2", code=96016,
            message="check your Apikey scope")
    c.v1_create(s3_url("in/rows.json")).ok(200)
    c.v2_create([s3_url("in/rows.json")]).err(96016, "scope")


@test
def fault_fail_job(c, s3):
    c.fault(fault="fail-job", reason="schema mismatch: field 'v'")
    job = v2_job(c, [s3_url("in/rows.json")])
    other = v2_job(c, [s3_url("in/rows.json")])
    d = c.v2_progress(job).ok(0)
    assert (d["state"], d["reason"]) == ("Failed",
                                         "schema mismatch: field 'v'"), d
    assert d["details"][0]["reason"] == d["reason"], d
    assert c.v2_progress(other).ok(0)["state"] == "Pending"
    job = v1_job(c, s3_url("in/rows.json"))
    c.v1_get(job).ok(200)
    c.fault(fault="fail-job", job_id=job, reason="disk quota exceeded")
    assert c.control("GET", "/_fake/faults")[1] == []
    d = c.v1_get(job).ok(200)
    assert d["errorMessage"] == "disk quota exceeded", d
    status, value = c.control("POST", "/_fake/faults", {
        "fault": "fail-job", "job_id": job})
    assert status == 400 and "finished" in value["error"], value
    status, value = c.control("POST", "/_fake/faults", {
        "fault": "fail-job", "job_id": "job-nope"})
    assert status == 400 and "no job" in value["error"], value
    c.fault(fault="fail-job", api="milvus", reason="milvus says no")
    v1_job(c, s3_url("in/rows.json"))
    mjob = c.mv_create([["m/1.parquet"]]).ok(0)["jobId"]
    assert c.mv_progress(mjob).ok(0)["reason"] == "milvus says no"


@test
def fault_times_and_filters(c, s3):
    c.fault(fault="503", route="list", times=-1)
    for _ in range(3):
        assert c.v1_list().status == 503
    v1_job(c, s3_url("in/rows.json"))
    rules = c.control("GET", "/_fake/faults")[1]
    assert rules[0]["times"] == -1, rules
    c.control("DELETE", "/_fake/faults")
    c.v1_list().ok(200)
    c.fault(fault="429", api="v1", times=2)
    c.call(V2 + "list", {"clusterId": CLUSTER}).ok(0)
    assert [c.v1_list().status for _ in range(3)] == [429, 429, 200]


@test
def fault_rules_validated(c, s3):
    bad = [{"fault": "boom"}, {"fault": "429", "route": "upload"},
           {"fault": "429", "colour": 1}, {"fault": "refuse"},
           {"fault": "refuse", "code": "1", "message": "m"},
           {"fault": "429", "times": 0}, {"fault": "503", "reason": "r"},
           {"route": "list"}, [1], {"fault": "429", "times": True}]
    for rule in bad:
        status, value = c.control("POST", "/_fake/faults",
                                  [{"fault": "429"}, rule])
        assert status == 400 and value["error"], (rule, value)
    assert c.control("GET", "/_fake/faults")[1] == []
    status, _ = c.control("POST", "/_fake/nothing", {})
    assert status == 404


@test
def milvus_too_many_files(c, s3):
    files = [["m/1.parquet"]] * 1025
    r = c.mv_create(files)
    assert r.json == {"code": 1100, "message": "The max number of import "
                      "files should not exceed 1024, but got 1025"}, r.json
    job = c.mv_create(files[:1024]).ok(0)["jobId"]
    assert len(job_named(c, job)["details"]) == 1024


@test
def milvus_options_and_file_types(c, s3):
    c.mv_create([["m/1.parquet"]], options={"timeout": 300}).err(
        1801, "options.timeout must be a string, got number")
    c.mv_create([["m/1.parquet"]], options={"backup": True}).err(1801)
    c.mv_create([]).err(1100, "import request is empty")
    c.mv_create([["m/data.txt"]]).err(2100, "unexpected file type")
    c.mv_create([["m/folder/"]]).err(2100, "files=[m/folder/]")
    c.mv_create([["m/a.json", "m/b.json"]]).err(2100)
    c.mv_create([[]]).err(1801, "files[0]")
    c.mv_create([["m/1.parquet", 5]]).err(1801)
    c.mv_create(["m/1.parquet"]).err(1801)
    c.mv_create([["m/1.parquet"]], options={"sep": ","}).ok(0)


@test
def request_log_masks_secrets(c, s3):
    c.control("DELETE", "/_fake/requests")
    url = s3_url("in/rows.json")
    c.v2_create([url], token="session-token-secret")
    c.v1_create(url)
    c.mv_create([["m/1.parquet"]])
    c.call(V1, raw=b"{broken " + SK.encode())
    log = c.requests()
    assert len(log) == 4, log
    first = log[0]
    assert first["body"]["accessKey"] == first["body"]["secretKey"] == \
        first["body"]["token"] == "***", first
    assert first["body"]["objectUrls"] == [[url]], first
    assert first["headers"]["authorization"] == "***", first
    assert (first["method"], first["path"], first["api"],
            first["route"], first["status"], first["code"]) == (
        "POST", V2 + "create", "v2", "create", 200, 1100), first
    assert log[1]["code"] == 200 and log[2]["code"] == 0, log
    assert log[3]["body"] is None and log[3]["body_bytes"] > 0, log[3]
    assert [e["seq"] for e in log] == sorted(e["seq"] for e in log)
    text = json.dumps(log) + json.dumps(c.jobs())
    for secret in (AK, SK, API_KEY, MTOKEN, "session-token-secret"):
        assert secret not in text, secret
    c.control("DELETE", "/_fake/requests")
    assert c.requests() == []


@test
def s3_requests_are_signed(c, s3):
    c.v1_create(s3_url("in/a b.json")).ok(200)
    heads = [e for e in s3_log(s3) if e["op"] == "head"]
    last = heads[-1]
    assert (last["key"], last["status"]) == ("in/a b.json", 200), last
    assert last["headers"]["x-amz-content-sha256"] == EMPTY_SHA, last
    assert "AWS4-HMAC-SHA256 Credential=" + AK in \
        last["headers"]["authorization"], last


@test
def keep_alive_and_content_length(c, s3):
    conn = http.client.HTTPConnection("127.0.0.1", c.port, timeout=10)
    body = json.dumps({"clusterId": CLUSTER})
    headers = {"Authorization": "Bearer " + API_KEY,
               "Content-Type": "application/json"}
    socks = []
    for _ in range(3):
        conn.request("POST", V2 + "list", body, headers)
        resp = conn.getresponse()
        raw = resp.read()
        assert resp.status == 200 and resp.version == 11, resp.status
        assert int(resp.getheader("Content-Length")) == len(raw)
        assert resp.getheader("Content-Type") == "application/json"
        socks.append(conn.sock)
    assert socks[0] is socks[1] is socks[2] and socks[0] is not None
    conn.request("POST", V2 + "list", body,
                 dict(headers, **{"Transfer-Encoding": "chunked"}))
    resp = conn.getresponse()
    assert resp.status == 411, resp.status
    resp.read()
    conn.close()


@test
def jobs_endpoint(c, s3):
    job = v1_job(c, s3_url("in/rows.json"))
    snap = job_named(c, job)
    assert snap["api"] == "v1" and snap["clusterId"] == CLUSTER, snap
    assert snap["source"] == {"objectUrl": s3_url("in/rows.json")}, snap
    assert snap["state"] == "Pending" and snap["polls"] == 0, snap
    assert snap["details"][0]["fileName"] == "in/rows.json", snap
    status, _ = c.control("DELETE", "/_fake/jobs")
    assert status == 200 and c.jobs() == []
    c.v1_get(job).err(80000, "does not exist")


def s3_log(s3):
    with urllib.request.urlopen(s3.url + "/_ferry/log", timeout=10) as r:
        return json.loads(r.read())


# -------------------------------------------------------------- runner

def run(selected):
    s3 = start_s3()
    fake = None
    passed = failed = 0
    try:
        fake = start_fake(s3)
        client = Client(fake)
        client.port = fake.port
        for func in TESTS:
            if selected and func.__name__ not in selected:
                continue
            try:
                func(client, s3)
            except Exception:  # report any failure, then go on
                failed += 1
                print(f"FAIL {func.__name__}")
                traceback.print_exc(file=sys.stdout)
            else:
                passed += 1
                print(f"ok   {func.__name__}")
            finally:
                client.control("DELETE", "/_fake/faults")
            sys.stdout.flush()
    finally:
        failed += stop_all(s3, fake)
        shutil.rmtree(s3.data_tmp, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def stop_all(*procs):
    """Stop the servers; a traceback in their stderr is a failure."""
    failures = 0
    for proc in procs:
        if proc is None:
            continue
        text = proc.errors()
        proc.stop()
        if "Traceback" in text:
            failures += 1
            print(f"FAIL {proc.proc.args[1]} stderr shows a traceback:\n"
                  + text)
    return failures


def main(argv):
    global VERBOSE
    VERBOSE = "-v" in argv
    return run([a for a in argv if a != "-v"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
