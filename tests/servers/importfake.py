#!/usr/bin/python3
"""importfake: a strict fake of the bulk-import APIs that ferry drives.

Why it exists: ferry submits imports to Zilliz Cloud (legacy v1 controller
API and the v2 API) and to self-hosted Milvus (REST v2).  None of them can
run in a test, and the real ones are lenient about some mistakes and
cannot fail on cue.  This server speaks all three on one port, checks
every request strictly (auth, Content-Type, field names and types, object
URLs, that the objects exist in the S3 test server s3strict.py), moves
jobs through their states one progress poll at a time, and lets a test
inject faults.  Python 3 standard library only.

Usage:
    importfake.py --api-key KEY --s3-endpoint http://127.0.0.1:PORT
        [--port 0] [--port-file FILE] [--host 127.0.0.1]
        [--milvus-token USER:PASSWORD] [--s3-region us-east-1]
        [--cluster-id in03-3bf3c31f4248e22] [--cloud-region gcp-us-west1]
        [--collections c1,c2] [--partitions _default] [--databases default]
        [--milvus-bucket BUCKET] [--milvus-s3-access-key AK]
        [--milvus-s3-secret-key SK] [--polls-to-finish 3] [--verbose]

With --port 0 a free port is chosen; it is written to --port-file (temp
file + rename) and "listening on PORT" is printed on stdout.  HTTP/1.1
with keep-alive; every answer is JSON with a Content-Length (except the
"503" fault, which answers text/plain like a load balancer would).
Request bodies must have a Content-Length (chunked: 411), at most 16 MiB.

Routes (point ferry's base URL at http://127.0.0.1:PORT, and for Milvus
--import-endpoint at http://127.0.0.1:PORT/milvus):
  v1      POST /v1/vector/collections/import
          GET  /v1/vector/collections/import/get?jobId=&clusterId=
          GET  /v1/vector/collections/import/list?clusterId=
                                              [&pageSize=&currentPage=]
  v2      POST /v2/vectordb/jobs/import/create
          POST /v2/vectordb/jobs/import/getProgress (also /get_progress,
               /describe)
          POST /v2/vectordb/jobs/import/list
  milvus  POST /milvus/v2/vectordb/jobs/import/create
          POST /milvus/v2/vectordb/jobs/import/get_progress (also
               /describe; there is no getProgress in Milvus)
          POST /milvus/v2/vectordb/jobs/import/list
An unknown path answers HTTP 404, a known path with another method 405.

Bodies (every other field is refused: this fake is stricter than the real
servers on purpose, so that a typo in ferry cannot pass unnoticed):
  v1 create     clusterId, collectionName, objectUrl (one string);
                optional accessKey, secretKey, partitionName
  v1 get/list   query jobId + clusterId / clusterId [pageSize currentPage]
  v2 create     clusterId, collectionName, objectUrls (list of lists of
                exactly one URL, at most 1000); optional dbName,
                partitionName, accessKey, secretKey, token, options (object)
  v2 progress   clusterId, jobId (a string; a JSON number is refused)
  v2 list       clusterId; optional pageSize, currentPage (integers), dbName
  milvus create collectionName, files (list of lists of object keys in
                --milvus-bucket, at most 1024); optional dbName,
                partitionName, options (object of string values only)
  milvus progr. jobId (a string)
  milvus list   optional dbName, collectionName
An empty string counts as absent; null too.  Types are checked exactly
(true is not an integer).  JSON with duplicate keys, NaN or Infinity,
invalid UTF-8 or a top level other than an object is refused.  POSTs
need "Content-Type: application/json" (parameters such as charset are
allowed).  accessKey and secretKey come together or not at all.

Success: HTTP 200 with {"code": 200, "data": ...} (v1) or {"code": 0,
"data": ...} (v2, milvus).  Errors are HTTP 200 with {"code", "message"},
except Milvus authentication (HTTP 401).  The codes chosen (checked in
this order: auth, body, fields, cluster, database, collection, partition,
object URLs, bucket access):

  kind                        v1      v2      milvus
  bad/missing bearer token    80001   21119   1800 (HTTP 401)
  body not JSON, wrong type,  80000   1801    1801
    unknown field, no JSON
    Content-Type
  required field missing      80000   1802    1802
  bad URL, bad list shape,    80000   1100    1100
    too many units, keys
    cannot read the bucket
  unknown clusterId           80020   96014   -
  unknown dbName              -       800     800
  unknown collection          90001   100     100
  unknown partition           80000   200     200
  unknown jobId               80000   2100    2100
  pageSize out of range       80003   96008   -
  currentPage < 1             80004   96009   -
  milvus file type            -       -       2100

Messages: v1 "Incorrect parameter: <what>", "The token is illegal",
"Invalid clusterId or you do not have permission to access that Cluster:
ID", "The collection NAME does not exist"; v2 "The apikey is illegal.",
"You don't have permission for this cluster. Cluster org and Apikey org
does not match. (clusterId=ID)"; v2 and milvus "incorrect parameter
format: <what>", "missing required parameters: FIELD", "invalid
parameter: <what>", "collection not found[collection=NAME]", "partition
not found[partition=NAME]", "database not found[database=NAME]",
"importing data failed: job not found[jobId=ID]"; milvus "user hasn't
authenticated", "import request is empty", "The max number of import
files should not exceed 1024, but got N", "importing data failed:
unexpected file type, files=[...]".  v1 pageSize must be 5..100 (as the
v1 error table says), v2 pageSize 1..100; defaults 10 and page 1.

Object URLs (v1, v2): s3://BUCKET/KEY, https://BUCKET.s3.REGION.amazonaws
.com/KEY, https://s3.REGION.amazonaws.com/BUCKET/KEY, gs://BUCKET/KEY,
https://storage.googleapis.com/BUCKET/KEY.  KEY must not be empty; a KEY
ending in "/" is a folder.  No URL may hold control characters.  s3://
and gs:// keys are taken literally (blanks and UTF-8 allowed); https
keys are percent-decoded, and the URL must be ASCII without blanks, with
no query, fragment or port.  REGION must equal --s3-region.  Under v1
the bucket's cloud (aws for the S3 forms, gcp for the GCS forms) must be
the cloud of --cloud-region (its "aws-"/"gcp-"/"az-" prefix), as the v1
guide demands; v2 accepts either.  Every bucket, S3 or GCS, is looked up
on the one S3 server --s3-endpoint (path-style, SigV4 for --s3-region,
signed with the request's accessKey/secretKey and, for v2, its token as
x-amz-security-token; without keys the request is sent unsigned).  A
file is checked with HEAD (after a 404, a one-key ListObjectsV2 tells
NoSuchKey from NoSuchBucket), a folder with ListObjectsV2 (all objects
below the prefix are its files).  If S3 answers 403 the create is refused
("... accessKey/secretKey cannot read the bucket 'B' ...").  Any other
problem (404 NoSuchKey, NoSuchBucket, an empty folder, a 5xx, S3 down)
does not refuse the create: like real Zilliz, create only validates the
request, and the job fails on its first progress poll with a reason
naming the problem, e.g. "failed to read 'k': NoSuchKey: The specified
key does not exist.".  The fake never retries S3.

Milvus files are keys in --milvus-bucket (one leading "/" is dropped),
HEADed with --milvus-s3-access-key/--milvus-s3-secret-key; any failure
(including 403: that is Milvus's own misconfiguration) fails the job on
its first poll with "failed to get file size of 'KEY', error: NoSuchKey"
(or the S3 error code).  Without --milvus-bucket nothing is checked and
sizes are 0.  A file's type comes from its extension (.json .jsonl
.parquet .csv .npy); an inner list of several files must be all .npy.
Milvus auth is checked only with --milvus-token: "Bearer USER:PASSWORD"
or HTTP Basic with the same pair.  Zilliz auth: "Bearer --api-key".

Jobs: ids are "job-" + 22 hex digits (v1, v2) or an 18-digit decimal
string (milvus; larger than 2**53 on purpose).  Each API keeps its own
jobs, and v1/v2 jobs belong to their clusterId.  A job is Pending until
polled; every progress request for it advances it one step and answers
the new state: with N = --polls-to-finish, poll 1 is Pending (0 %), polls
2..N-1 are Importing with progress 100*(k-1)/(N-1) (milvus says
PreImporting at poll 2 when N >= 4), poll N is Completed (100 %).  A job
with a pending failure is Failed on its next poll.  List requests do not
advance jobs; lists are in creation order.  v1 states are ImportRunning,
ImportCompleted, ImportFailed and readyPercentage is a fraction 0..1;
completeTime/errorMessage are null until set.  v2/milvus completeTime is
"" until set.  Rows are synthetic: one per 100 bytes of file, minimum 1.
Details: v1/v2 one per file (each object of a folder); milvus one per
inner list, named "[key, key]" like Milvus 2.5 does; milvus omits the
"reason" keys while they are empty, v2 always sends them.

Control API (no auth, never logged, never faulted):
    POST   /_fake/faults    a rule or a list of rules (appended, checked
                            first: a bad rule adds nothing, HTTP 400)
    GET    /_fake/faults    the rules with their remaining counts
    DELETE /_fake/faults    remove all rules
    GET    /_fake/requests  the API requests seen, oldest first
    DELETE /_fake/requests  forget them
    GET    /_fake/jobs      every job: api, jobId, clusterId, dbName,
                            collectionName, partitionName, source (the
                            objectUrl(s) or files as sent), options,
                            state, progress, polls, reason, details
    DELETE /_fake/jobs      forget all jobs

A request log entry: {"seq", "time", "method", "path", "query", "api",
"route", "headers" (lower-case names; authorization is "***"), "body"
(the parsed JSON with every accessKey, secretKey and token value
replaced by "***"; null if it was not JSON), "body_bytes", "status"
(null when the connection was reset), "code" (the envelope code or
null), "fault"}.

A fault rule:
    {"fault": "429" | "503" | "reset" | "refuse" | "fail-job",
     "route": "create" | "progress" | "list" | "any",   (default "any")
     "api": "v1" | "v2" | "milvus" | "any",             (default "any")
     "times": int,      requests (jobs, for fail-job) affected; default 1,
                        -1 = forever
     "code": int, "message": str,   refuse: required; answered as HTTP 200
                                    {"code": code, "message": message}
     "reason": str,     fail-job: the failure reason (default "injected
                        failure")
     "job_id": str}     fail-job: fail this existing, unfinished job on its
                        next poll (applied at once, not kept as a rule)
Rules are tried in order; the first that matches applies.  Request
faults act before auth and change nothing: "429" answers HTTP 429 with
Retry-After: 1 and {"code": 429, "message": "Too Many Requests"}; "503"
answers HTTP 503 text/plain; "reset" reads the request, then closes the
socket with SO_LINGER 0 (a TCP RST) without answering; "refuse" answers
the given envelope.  "fail-job" (route ignored) marks the next job(s)
created by a matching API: it is created normally and ends Failed with
the reason on its first poll (the rule's reason wins over a missing
object's).
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import itertools
import json
import os
import re
import secrets
import socket
import struct
import sys
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import servekit

EMPTY_SHA = hashlib.sha256(b"").hexdigest()
MAX_BODY = 16 << 20
MAX_MILVUS_UNITS = 1024
MAX_V2_UNITS = 1000
MAX_LIST_PAGES = 100
MASK = "***"
SECRET_FIELDS = frozenset(("accessKey", "secretKey", "token"))
TERMINAL = frozenset(("Completed", "Failed"))
MILVUS_TYPES = (".json", ".jsonl", ".parquet", ".csv", ".npy")

V2 = "/v2/vectordb/jobs/import/"
MV = "/milvus" + V2
ROUTES = {
    ("POST", "/v1/vector/collections/import"): ("v1", "create"),
    ("GET", "/v1/vector/collections/import/get"): ("v1", "progress"),
    ("GET", "/v1/vector/collections/import/list"): ("v1", "list"),
    ("POST", V2 + "create"): ("v2", "create"),
    ("POST", V2 + "getProgress"): ("v2", "progress"),
    ("POST", V2 + "get_progress"): ("v2", "progress"),
    ("POST", V2 + "describe"): ("v2", "progress"),
    ("POST", V2 + "list"): ("v2", "list"),
    ("POST", MV + "create"): ("milvus", "create"),
    ("POST", MV + "get_progress"): ("milvus", "progress"),
    ("POST", MV + "describe"): ("milvus", "progress"),
    ("POST", MV + "list"): ("milvus", "list"),
}
KNOWN_PATHS = frozenset(path for _, path in ROUTES)
OK_CODE = {"v1": 200, "v2": 0, "milvus": 0}

# ------------------------------------------------------------- errors


class Fail(Exception):
    """An error answer: envelope code and message, HTTP status."""

    def __init__(self, code, message, status=200):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


V2_ERRORS = {
    "auth": (21119, "The apikey is illegal."),
    "format": (1801, "incorrect parameter format: {}"),
    "missing": (1802, "missing required parameters: {}"),
    "param": (1100, "invalid parameter: {}"),
    "cluster": (96014, "You don't have permission for this cluster. "
                "Cluster org and Apikey org does not match. "
                "(clusterId={})"),
    "database": (800, "database not found[database={}]"),
    "collection": (100, "collection not found[collection={}]"),
    "partition": (200, "partition not found[partition={}]"),
    "job": (2100, "importing data failed: job not found[jobId={}]"),
    "page_size": (96008, "The parameter value for pageSize should be "
                  "between 1 and 100."),
    "current_page": (96009, "The parameter currentPage should have a "
                     "value between 1 and the maximum value of Int."),
}
ERRORS = {
    "v1": {
        "auth": (80001, "The token is illegal"),
        "format": (80000, "Incorrect parameter: {}"),
        "missing": (80000, "Incorrect parameter: {}"),
        "param": (80000, "Incorrect parameter: {}"),
        "cluster": (80020, "Invalid clusterId or you do not have "
                    "permission to access that Cluster: {}"),
        "collection": (90001, "The collection {} does not exist"),
        "partition": (80000, "Incorrect parameter: partition {} does "
                      "not exist"),
        "job": (80000, "Incorrect parameter: jobId {} does not exist"),
        "page_size": (80003, "The parameter value for 'pageSize' should "
                      "be between 5 and 100."),
        "current_page": (80004, "The parameter 'currentPage' should have "
                         "a value between 1 and the maximum value of "
                         "Int."),
    },
    "v2": V2_ERRORS,
    "milvus": dict(V2_ERRORS, auth=(1800, "user hasn't authenticated")),
}
PAGE_LIMITS = {"v1": (5, 100), "v2": (1, 100)}


def fail(api, kind, detail=""):
    code, text = ERRORS[api][kind]
    return Fail(code, text.format(detail))


# ------------------------------------------------------ request bodies

STR, INT, LIST, OBJ = "string", "integer", "array", "object"
SCHEMAS = {
    ("v1", "create"): {
        "clusterId": (STR, True), "collectionName": (STR, True),
        "objectUrl": (STR, True), "accessKey": (STR, False),
        "secretKey": (STR, False), "partitionName": (STR, False)},
    ("v1", "progress"): {"jobId": (STR, True), "clusterId": (STR, True)},
    ("v1", "list"): {
        "clusterId": (STR, True), "pageSize": (STR, False),
        "currentPage": (STR, False)},
    ("v2", "create"): {
        "clusterId": (STR, True), "collectionName": (STR, True),
        "objectUrls": (LIST, True), "dbName": (STR, False),
        "partitionName": (STR, False), "accessKey": (STR, False),
        "secretKey": (STR, False), "token": (STR, False),
        "options": (OBJ, False)},
    ("v2", "progress"): {"clusterId": (STR, True), "jobId": (STR, True)},
    ("v2", "list"): {
        "clusterId": (STR, True), "pageSize": (INT, False),
        "currentPage": (INT, False), "dbName": (STR, False)},
    ("milvus", "create"): {
        "collectionName": (STR, True), "files": (LIST, True),
        "dbName": (STR, False), "partitionName": (STR, False),
        "options": (OBJ, False)},
    ("milvus", "progress"): {"jobId": (STR, True)},
    ("milvus", "list"): {
        "dbName": (STR, False), "collectionName": (STR, False)},
}
PY_TYPES = {STR: str, LIST: list, OBJ: dict}


def json_kind(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {str: STR, list: LIST, dict: OBJ}[type(value)]


def type_ok(value, kind):
    if kind == INT:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, PY_TYPES[kind])


def check_fields(api, schema, data):
    """Refuse unknown fields, missing required ones and wrong types."""
    for name in data:
        if name not in schema:
            raise fail(api, "format", f"unknown field '{name}'")
    for name, (kind, required) in schema.items():
        value = data.get(name)
        if value is None or value == "":
            data.pop(name, None)
            if required:
                raise fail(api, "missing", name)
            continue
        if not type_ok(value, kind):
            raise fail(api, "format", f"{name} must be a {kind}, got "
                       f"{json_kind(value)}")


def no_duplicates(pairs):
    out = {}
    for name, value in pairs:
        if name in out:
            raise ValueError(f"duplicate key '{name}'")
        out[name] = value
    return out


def reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def parse_json(api, raw):
    try:
        value = json.loads(raw.decode("utf-8"),
                           object_pairs_hook=no_duplicates,
                           parse_constant=reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise fail(api, "format", f"body is not valid JSON ({exc})") \
            from None
    if not isinstance(value, dict):
        raise fail(api, "format", "body must be a JSON object")
    return value


def parse_query(api, query):
    out = {}
    try:
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True,
                                       strict_parsing=bool(query),
                                       errors="strict")
    except (ValueError, UnicodeDecodeError):
        raise fail(api, "format", "malformed query string") from None
    for name, value in pairs:
        if name in out:
            raise fail(api, "format", f"duplicate parameter '{name}'")
        out[name] = value
    return out


def check_content_type(api, headers):
    media = (headers.get("Content-Type") or "").split(";")[0]
    if media.strip().lower() != "application/json":
        raise fail(api, "format", "Content-Type must be application/json")


def mask(value):
    """A copy of a JSON value with every secret field's value masked."""
    if isinstance(value, dict):
        return {k: MASK if k in SECRET_FIELDS else mask(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value


# ---------------------------------------------------------- object URLs

BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]\Z")
GCS_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9._\-]{1,61}[a-z0-9]\Z")
S3_VHOST = re.compile(r"([a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])"
                      r"\.s3\.([a-z0-9\-]+)\.amazonaws\.com")
S3_PHOST = re.compile(r"s3\.([a-z0-9\-]+)\.amazonaws\.com")
GCS_HOST = "storage.googleapis.com"
BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
URL_CHARS = re.compile(r"[!-~]*\Z")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ObjectRef:
    """One object or folder named by an import URL."""

    def __init__(self, url, cloud, bucket, key):
        self.url = url
        self.cloud = cloud
        self.bucket = bucket
        self.key = key
        self.folder = key.endswith("/")


def parse_object_url(url, region):
    """An ObjectRef for a DESIGN section 6 URL; ValueError if invalid."""
    if CONTROL.search(url):
        raise ValueError("contains control characters")
    scheme, sep, rest = url.partition("://")
    if scheme in ("s3", "gs") and sep:
        bucket, _, key = rest.partition("/")
        cloud = "aws" if scheme == "s3" else "gcp"
    elif scheme == "https" and sep:
        cloud, bucket, key = parse_https(rest, region)
    else:
        raise ValueError("must start with s3://, gs:// or https://")
    pattern = BUCKET_RE if cloud == "aws" else GCS_BUCKET_RE
    if not pattern.match(bucket):
        raise ValueError(f"'{bucket}' is not a valid bucket name")
    if not key:
        raise ValueError("names no object or folder inside the bucket")
    return ObjectRef(url, cloud, bucket, key)


def parse_https(rest, region):
    if not URL_CHARS.match(rest):
        raise ValueError("contains blanks or non-ASCII characters (an "
                         "https URL must percent-encode them)")
    if "?" in rest or "#" in rest:
        raise ValueError("must not carry a query or a fragment")
    if BAD_ESCAPE.search(rest):
        raise ValueError("has a bad percent-escape")
    host, _, path = rest.partition("/")
    try:
        path = urllib.parse.unquote(path, errors="strict")
    except UnicodeDecodeError:
        raise ValueError("percent-escapes are not UTF-8") from None
    vhost, phost = S3_VHOST.fullmatch(host), S3_PHOST.fullmatch(host)
    if host == GCS_HOST:
        bucket, _, key = path.partition("/")
        return "gcp", bucket, key
    if vhost:
        bucket, url_region, key = vhost[1], vhost[2], path
    elif phost:
        url_region = phost[1]
        bucket, _, key = path.partition("/")
    else:
        raise ValueError(f"host '{host}' is not an S3 or GCS endpoint")
    if url_region != region:
        raise ValueError(f"region '{url_region}' is not the bucket's "
                         f"region '{region}'")
    return "aws", bucket, key


# ------------------------------------------------------------ S3 probe

def sigv4_headers(method, host, path, query, creds, region, now):
    """Headers for an empty-bodied S3 request, signed if creds are set."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    headers = {"host": host, "x-amz-content-sha256": EMPTY_SHA,
               "x-amz-date": stamp}
    access_key, secret_key, token = creds
    if not access_key:
        return headers
    if token:
        headers["x-amz-security-token"] = token
    names = sorted(headers)
    canonical = "\n".join(
        [method, path, query] + [f"{n}:{headers[n].strip()}" for n in names]
        + ["", ";".join(names), EMPTY_SHA])
    scope = f"{stamp[:8]}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret_key).encode()
    for part in (stamp[:8], region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}")
    return headers


def canonical_query(params):
    """A query string already in SigV4 canonical form (sorted, encoded)."""
    pairs = sorted((urllib.parse.quote(k, safe=""),
                    urllib.parse.quote(v, safe="")) for k, v in params)
    return "&".join(f"{k}={v}" for k, v in pairs)


def local_name(tag):
    return tag.rsplit("}", 1)[-1]


def xml_field(root, name):
    for el in root.iter():
        if local_name(el.tag) == name:
            return el.text or ""
    return None


class Denied(Exception):
    """S3 answered 403: the keys cannot read the bucket."""


class S3Probe:
    """HEAD and ListObjectsV2 against the S3 test server, one connection."""

    def __init__(self, endpoint, region, creds):
        parts = urllib.parse.urlsplit(endpoint)
        self.netloc = parts.netloc
        self.host, self.port = parts.hostname, parts.port or 80
        self.region = region
        self.creds = creds
        self.conn = None

    def request(self, method, bucket, key="", params=()):
        path = "/" + urllib.parse.quote(bucket, safe="")
        if key or method == "HEAD":
            path += "/" + urllib.parse.quote(key, safe="/")
        query = canonical_query(params)
        headers = sigv4_headers(method, self.netloc, path, query,
                                self.creds, self.region, time.time())
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port,
                                                   timeout=10)
        target = path + ("?" + query if query else "")
        try:
            self.conn.request(method, target, headers=headers)
            resp = self.conn.getresponse()
            body = resp.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        return resp, body

    def head(self, bucket, key):
        """(status, size, error code) of one object."""
        resp, _ = self.request("HEAD", bucket, key)
        if resp.status == 200:
            return 200, int(resp.getheader("Content-Length", "0")), None
        if resp.status == 403:
            return 403, 0, "AccessDenied"
        if resp.status == 404:
            return 404, 0, self.missing_code(bucket, key)
        return resp.status, 0, None

    def missing_code(self, bucket, key):
        """A HEAD 404 has no body: NoSuchKey, or NoSuchBucket?"""
        params = [("list-type", "2"), ("max-keys", "1"), ("prefix", key)]
        resp, body = self.request("GET", bucket, params=params)
        if resp.status == 404:
            return xml_field(parse_xml(body), "Code") or "NoSuchBucket"
        return "NoSuchKey"

    def list_prefix(self, bucket, prefix):
        """(status, [(key, size)...], error code) below a prefix."""
        found, token = [], None
        for _ in range(MAX_LIST_PAGES):
            params = [("list-type", "2"), ("prefix", prefix)]
            if token:
                params.append(("continuation-token", token))
            resp, body = self.request("GET", bucket, params=params)
            root = parse_xml(body)
            if resp.status != 200:
                return resp.status, found, xml_field(root, "Code")
            found += list_entries(root)
            token = xml_field(root, "NextContinuationToken")
            if xml_field(root, "IsTruncated") != "true" or not token:
                break
        return 200, found, None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def parse_xml(body):
    try:
        return ET.fromstring(body) if body else ET.Element("empty")
    except ET.ParseError:
        return ET.Element("unparsable")


def list_entries(root):
    out = []
    for el in root:
        if local_name(el.tag) == "Contents":
            out.append((xml_field(el, "Key"), int(xml_field(el, "Size"))))
    return out


class Detail:
    """One file of a job (a file set, for milvus): name, size, error."""

    def __init__(self, name, size, error=None):
        self.name = name
        self.size = size
        self.error = error


def s3_problem(key, status, code):
    if status == 404 and code in (None, "NoSuchKey"):
        return (f"failed to read '{key}': NoSuchKey: The specified key "
                "does not exist.")
    return f"failed to read '{key}': storage answered HTTP {status} " \
        f"{code or ''}".rstrip()


def probe_file(probe, ref):
    status, size, code = probe.head(ref.bucket, ref.key)
    if status == 403:
        raise Denied(ref.bucket)
    if status != 200:
        return [Detail(ref.key, 0, s3_problem(ref.key, status, code))]
    return [Detail(ref.key, size)]


def probe_folder(probe, ref):
    status, found, code = probe.list_prefix(ref.bucket, ref.key)
    if status == 403:
        raise Denied(ref.bucket)
    if status != 200:
        return [Detail(ref.key, 0, s3_problem(ref.key, status, code))]
    if not found:
        return [Detail(ref.key, 0, f"NoSuchKey: no object found under "
                       f"prefix '{ref.key}' in bucket '{ref.bucket}'")]
    return [Detail(key, size) for key, size in found]


def probe_ref(probe, ref):
    """The Details of one URL; raises Denied on a 403."""
    try:
        if ref.folder:
            return probe_folder(probe, ref)
        return probe_file(probe, ref)
    except (OSError, http.client.HTTPException) as exc:
        return [Detail(ref.key, 0, f"failed to read '{ref.key}': storage "
                       f"unreachable: {exc}")]


def probe_milvus_key(probe, key):
    """(size, error) of one key in Milvus's bucket."""
    try:
        status, size, code = probe.head(probe.bucket, key)
    except (OSError, http.client.HTTPException) as exc:
        return 0, f"failed to get file size of '{key}', error: {exc}"
    if status != 200:
        what = code or f"HTTP {status}"
        return 0, f"failed to get file size of '{key}', error: {what}"
    return size, None


# ----------------------------------------------------------------- jobs

def iso_now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def rows_of(size):
    return max(1, size // 100)


class Job:
    """An import job and its progression, one step per progress poll."""

    def __init__(self, api, job_id, data, details, source):
        self.api = api
        self.job_id = job_id
        self.cluster_id = data.get("clusterId")
        self.db = data.get("dbName", "default")
        self.collection = data["collectionName"]
        self.partition = data.get("partitionName")
        self.options = data.get("options")
        self.source = source
        self.details = details
        self.polls = 0
        self.state = "Pending"
        self.progress = 0
        self.complete_time = ""
        self.reason = ""
        self.pending_failure = next(
            (d.error for d in details if d.error), None)

    def advance(self, finish_at):
        if self.state in TERMINAL:
            return
        self.polls += 1
        if self.pending_failure is not None:
            self.finish("Failed", self.pending_failure)
        elif self.polls >= finish_at:
            self.progress = 100
            self.finish("Completed", "")
        elif self.polls > 1:
            self.progress = 100 * (self.polls - 1) // (finish_at - 1)
            self.state = "Importing"
            if self.api == "milvus" and self.polls == 2 and finish_at >= 4:
                self.state = "PreImporting"

    def finish(self, state, reason):
        self.state = state
        self.reason = reason
        self.complete_time = iso_now()

    def detail_state(self):
        if self.state in TERMINAL or self.state == "Pending":
            return self.state
        return "InProgress" if self.api == "milvus" else "Importing"

    def detail_reason(self, detail):
        if self.state != "Failed":
            return ""
        return detail.error or self.reason

    def total_size(self):
        return sum(d.size for d in self.details)

    def total_rows(self):
        return sum(rows_of(d.size) for d in self.details)

    def snapshot(self):
        return {
            "api": self.api, "jobId": self.job_id,
            "clusterId": self.cluster_id, "dbName": self.db,
            "collectionName": self.collection,
            "partitionName": self.partition, "source": self.source,
            "options": self.options, "state": self.state,
            "progress": self.progress, "polls": self.polls,
            "reason": self.reason,
            "details": [{"fileName": d.name, "fileSize": d.size,
                         "error": d.error} for d in self.details]}


V1_STATES = {"Completed": "ImportCompleted", "Failed": "ImportFailed"}


def v1_fraction(progress):
    return progress // 100 if progress in (0, 100) else progress / 100


def render_v1(job):
    done = job.complete_time or None
    details = [{"fileName": d.name, "fileSize": d.size,
                "readyPercentage": v1_fraction(job.progress),
                "completeTime": done,
                "errorMessage": job.detail_reason(d) or None}
               for d in job.details]
    return {"collectionName": job.collection,
            "fileName": job.source["objectUrl"],
            "fileSize": job.total_size(),
            "readyPercentage": v1_fraction(job.progress),
            "completeTime": done, "errorMessage": job.reason or None,
            "jobId": job.job_id, "details": details}


def render_v2(job):
    details = [{"fileName": d.name, "fileSize": d.size,
                "state": job.detail_state(), "progress": job.progress,
                "completeTime": job.complete_time,
                "reason": job.detail_reason(d),
                "totalRows": rows_of(d.size)} for d in job.details]
    names = [d.name for d in job.details]
    return {"jobId": job.job_id, "collectionName": job.collection,
            "fileName": ",".join(names), "fileSize": job.total_size(),
            "state": job.state, "progress": job.progress,
            "completeTime": job.complete_time, "reason": job.reason,
            "totalRows": job.total_rows(), "details": details}


def milvus_detail(job, detail):
    rows = rows_of(detail.size)
    out = {"fileName": detail.name, "fileSize": detail.size,
           "progress": job.progress, "completeTime": job.complete_time,
           "state": job.detail_state(), "importedRows":
           rows * job.progress // 100, "totalRows": rows}
    reason = job.detail_reason(detail)
    if reason:
        out["reason"] = reason
    return out


def render_milvus(job):
    total = job.total_rows()
    out = {"jobId": job.job_id, "collectionName": job.collection,
           "completeTime": job.complete_time, "state": job.state,
           "progress": job.progress,
           "importedRows": total * job.progress // 100,
           "totalRows": total, "fileSize": job.total_size(),
           "details": [milvus_detail(job, d) for d in job.details]}
    if job.reason:
        out["reason"] = job.reason
    return out


def list_record(job):
    if job.api == "v1":
        state = V1_STATES.get(job.state, "ImportRunning")
        return {"collectionName": job.collection, "jobId": job.job_id,
                "state": state}
    if job.api == "v2":
        return {"collectionName": job.collection, "jobId": job.job_id,
                "state": job.state}
    out = {"jobId": job.job_id, "collectionName": job.collection,
           "state": job.state, "progress": job.progress}
    if job.reason:
        out["reason"] = job.reason
    return out


RENDER = {"v1": render_v1, "v2": render_v2, "milvus": render_milvus}

# --------------------------------------------------------------- faults

ROUTE_NAMES = frozenset(("create", "progress", "list", "any"))
API_NAMES = frozenset(("v1", "v2", "milvus", "any"))
FAULT_KINDS = frozenset(("429", "503", "reset", "refuse", "fail-job"))
REQUEST_FAULTS = FAULT_KINDS - {"fail-job"}
RULE_FIELDS = frozenset(("fault", "route", "api", "times", "code",
                         "message", "reason", "job_id"))


def rule_type(rule, name, kind, default=None):
    value = rule.get(name, default)
    ok = isinstance(value, kind) and not isinstance(value, bool)
    if not ok:
        raise ValueError(f"rule field '{name}' must be a {kind.__name__}")
    return value


def validate_rule(rule):
    if not isinstance(rule, dict):
        raise ValueError("a rule must be a JSON object")
    unknown = sorted(set(rule) - RULE_FIELDS)
    if unknown:
        raise ValueError(f"unknown rule field(s): {', '.join(unknown)}")
    out = {"fault": rule_type(rule, "fault", str),
           "route": rule_type(rule, "route", str, "any"),
           "api": rule_type(rule, "api", str, "any"),
           "times": rule_type(rule, "times", int, 1)}
    checks = ((out["fault"], FAULT_KINDS, "fault"),
              (out["route"], ROUTE_NAMES, "route"),
              (out["api"], API_NAMES, "api"))
    for value, allowed, name in checks:
        if value not in allowed:
            raise ValueError(f"bad {name} {value!r}; one of "
                             f"{', '.join(sorted(allowed))}")
    if out["times"] < 1 and out["times"] != -1:
        raise ValueError("times must be >= 1, or -1 for forever")
    return validate_kind(rule, out)


def validate_kind(rule, out):
    kind = out["fault"]
    if kind == "refuse":
        out["code"] = rule_type(rule, "code", int)
        out["message"] = rule_type(rule, "message", str)
    elif kind == "fail-job":
        out["reason"] = rule_type(rule, "reason", str, "injected failure")
        if "job_id" in rule:
            out["job_id"] = rule_type(rule, "job_id", str)
    extra = {"code", "message", "reason", "job_id"} & set(rule) - set(out)
    if extra:
        raise ValueError(f"field(s) {', '.join(sorted(extra))} do not "
                         f"apply to fault {kind}")
    return out


class Faults(servekit.RuleList):
    """The rule list; take() consumes one use of the first match."""

    def take(self, api, route, kinds):
        return super().take(
            lambda rule: self.matches(rule, api, route, kinds))

    @staticmethod
    def matches(rule, api, route, kinds):
        if rule["fault"] not in kinds or rule["api"] not in (api, "any"):
            return False
        return rule["fault"] == "fail-job" or \
            rule["route"] in (route, "any")

class RequestLog:
    """Every API request seen, secrets masked."""

    def __init__(self):
        self.lock = threading.Lock()
        self.entries = []
        self.seq = itertools.count(1)

    def add(self, entry):
        with self.lock:
            entry["seq"] = next(self.seq)
            self.entries.append(entry)

    def snapshot(self):
        with self.lock:
            return list(self.entries)

    def clear(self):
        with self.lock:
            self.entries.clear()


def log_entry(method, url, headers, body):
    heads = {}
    for name, value in headers.items():
        name = name.lower()
        value = MASK if name == "authorization" else value
        heads[name] = heads[name] + ", " + value if name in heads else value
    try:
        parsed = mask(json.loads(body.decode("utf-8"))) if body else None
    except (UnicodeDecodeError, ValueError):
        parsed = None
    return {"seq": None, "time": time.time(), "method": method,
            "path": url.path, "query": url.query, "api": None,
            "route": None, "headers": heads, "body": parsed,
            "body_bytes": len(body), "status": None, "code": None,
            "fault": None}


# ---------------------------------------------------------- the service

class Fake:
    """The three APIs' state and logic, independent of HTTP framing."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.lock = threading.Lock()
        self.jobs = {}
        self.faults = Faults()
        self.log = RequestLog()
        self.milvus_ids = itertools.count(int(time.time() * 1000) << 18)

    def handle(self, route, headers, query, body):
        """(HTTP status, envelope) for one API request."""
        api, op = route
        try:
            self.check_auth(api, headers)
            data = self.request_data(api, op, headers, query, body)
            check_fields(api, SCHEMAS[route], data)
            result = getattr(self, f"{op}_{api}")(data)
        except Fail as exc:
            return exc.status, {"code": exc.code, "message": exc.message}
        return 200, {"code": OK_CODE[api], "data": result}

    # ---- auth and input

    def check_auth(self, api, headers):
        values = headers.get_all("Authorization") or []
        scheme, _, token = (values[0] if len(values) == 1 else "") \
            .partition(" ")
        scheme, token = scheme.lower(), token.strip()
        if api != "milvus":
            want = self.cfg.api_key
            if scheme != "bearer" or not secret_eq(token, want):
                raise fail(api, "auth")
            return
        want = self.cfg.milvus_token
        if want is None or (scheme == "bearer" and secret_eq(token, want)):
            return
        if scheme == "basic" and secret_eq(unbasic(token), want):
            return
        code, text = ERRORS["milvus"]["auth"]
        raise Fail(code, text, 401)

    @staticmethod
    def request_data(api, op, headers, query, body):
        if api == "v1" and op != "create":
            return parse_query(api, query)
        check_content_type(api, headers)
        return parse_json(api, body)

    def check_cluster(self, api, data):
        if data["clusterId"] != self.cfg.cluster_id:
            raise fail(api, "cluster", data["clusterId"])

    def check_target(self, api, data):
        """Database, collection and partition must exist."""
        db = data.get("dbName")
        if db is not None and db not in self.cfg.databases:
            raise fail(api, "database", db)
        name = data.get("collectionName")
        if name is not None and name not in self.cfg.collections:
            raise fail(api, "collection", name)
        part = data.get("partitionName")
        if part is not None and part not in self.cfg.partitions:
            raise fail(api, "partition", part)

    def parse_ref(self, api, field, url):
        try:
            return parse_object_url(url, self.cfg.s3_region)
        except ValueError as exc:
            raise fail(api, "param", f"{field} '{url}' {exc}") from None

    def check_cloud(self, ref):
        cloud = self.cfg.cloud_region.split("-", 1)[0]
        if ref.cloud != cloud:
            raise fail("v1", "param", f"objectUrl: the bucket is on "
                       f"{ref.cloud} but the cluster is in "
                       f"{self.cfg.cloud_region}; v1 imports only from "
                       "the cluster's cloud")

    # ---- create

    def create_v1(self, data):
        self.check_cluster("v1", data)
        self.check_target("v1", data)
        ref = self.parse_ref("v1", "objectUrl", data["objectUrl"])
        self.check_cloud(ref)
        details = self.probe("v1", [ref], data)
        source = {"objectUrl": data["objectUrl"]}
        return {"jobId": self.add_job("v1", data, details, source)}

    def create_v2(self, data):
        self.check_cluster("v2", data)
        self.check_target("v2", data)
        urls = v2_urls(data["objectUrls"])
        refs = [self.parse_ref("v2", f"objectUrls[{i}]", url)
                for i, url in enumerate(urls)]
        details = self.probe("v2", refs, data)
        source = {"objectUrls": data["objectUrls"]}
        return {"jobId": self.add_job("v2", data, details, source)}

    def create_milvus(self, data):
        self.check_target("milvus", data)
        units = milvus_units(data["files"])
        check_options(data.get("options", {}))
        details = self.probe_milvus(units)
        source = {"files": data["files"]}
        return {"jobId": self.add_job("milvus", data, details, source)}

    def probe(self, api, refs, data):
        """Details of every URL, checked on S3 with the request's keys."""
        keys = [data.get(k) for k in ("accessKey", "secretKey")]
        if keys[0] and not keys[1] or keys[1] and not keys[0]:
            raise fail(api, "missing",
                       "secretKey" if keys[0] else "accessKey")
        creds = (keys[0], keys[1], data.get("token"))
        probe = S3Probe(self.cfg.s3_endpoint, self.cfg.s3_region, creds)
        details = []
        try:
            for ref in refs:
                details += probe_ref(probe, ref)
        except Denied as exc:
            raise fail(api, "param", "accessKey/secretKey cannot read "
                       f"the bucket '{exc}' (storage answered 403)") \
                from None
        finally:
            probe.close()
        return details

    def probe_milvus(self, units):
        cfg = self.cfg
        if not cfg.milvus_bucket:
            return [Detail(unit_name(u), 0) for u in units]
        creds = (cfg.milvus_s3_access_key, cfg.milvus_s3_secret_key, None)
        probe = S3Probe(cfg.s3_endpoint, cfg.s3_region, creds)
        probe.bucket = cfg.milvus_bucket
        details = []
        try:
            for unit in units:
                found = [probe_milvus_key(probe, milvus_key(k))
                         for k in unit]
                error = next((e for _, e in found if e), None)
                details.append(Detail(unit_name(unit),
                                      sum(s for s, _ in found), error))
        finally:
            probe.close()
        return details

    def new_id(self, api):
        if api == "milvus":
            return str(next(self.milvus_ids))
        return "job-" + secrets.token_hex(11)

    def add_job(self, api, data, details, source):
        rule = self.faults.take(api, "create", {"fail-job"})
        with self.lock:
            job = Job(api, self.new_id(api), data, details, source)
            if rule:
                job.pending_failure = rule["reason"]
            self.jobs[(api, job.job_id)] = job
        return job.job_id

    # ---- progress

    def find_job(self, api, job_id, cluster_id=None):
        job = self.jobs.get((api, job_id))
        if job is None or job.cluster_id != cluster_id:
            raise fail(api, "job", job_id)
        return job

    def poll(self, api, data):
        with self.lock:
            job = self.find_job(api, data["jobId"], data.get("clusterId"))
            job.advance(self.cfg.polls_to_finish)
            return RENDER[api](job)

    def progress_v1(self, data):
        self.check_cluster("v1", data)
        return self.poll("v1", data)

    def progress_v2(self, data):
        self.check_cluster("v2", data)
        return self.poll("v2", data)

    def progress_milvus(self, data):
        return self.poll("milvus", data)

    # ---- list

    def jobs_of(self, api, match):
        with self.lock:
            return [list_record(j) for j in self.jobs.values()
                    if j.api == api and match(j)]

    def list_v1(self, data):
        self.check_cluster("v1", data)
        size = page_number("v1", data, "pageSize", 10, "page_size")
        page = page_number("v1", data, "currentPage", 1, "current_page")
        records = self.jobs_of("v1", lambda j: True)
        chunk = records[(page - 1) * size:page * size]
        return {"tasks": chunk, "records": chunk, "count": len(records),
                "currentPage": page, "pageSize": size}

    def list_v2(self, data):
        self.check_cluster("v2", data)
        self.check_target("v2", data)
        size = page_number("v2", data, "pageSize", 10, "page_size")
        page = page_number("v2", data, "currentPage", 1, "current_page")
        db = data.get("dbName")
        records = self.jobs_of("v2", lambda j: db in (None, j.db))
        return {"count": len(records), "currentPage": page,
                "pageSize": size,
                "records": records[(page - 1) * size:page * size]}

    def list_milvus(self, data):
        self.check_target("milvus", data)
        db = data.get("dbName", "default")
        name = data.get("collectionName")
        return {"records": self.jobs_of("milvus", lambda j: j.db == db and
                                        name in (None, j.collection))}

    # ---- control

    def add_faults(self, body):
        try:
            rules = json.loads(body.decode("utf-8"))
            rules = rules if isinstance(rules, list) else [rules]
            rules = [validate_rule(r) for r in rules]
            with self.lock:
                self.check_job_rules(rules)
                self.apply_job_rules(rules)
        except (UnicodeDecodeError, ValueError) as exc:
            return 400, {"error": str(exc)}
        kept = [r for r in rules if "job_id" not in r]
        self.faults.add(kept)
        return 200, {"added": len(rules)}

    def check_job_rules(self, rules):
        for rule in rules:
            if "job_id" not in rule:
                continue
            jobs = [j for j in self.jobs.values()
                    if j.job_id == rule["job_id"]]
            if not jobs:
                raise ValueError(f"no job {rule['job_id']}")
            if jobs[0].state in TERMINAL:
                raise ValueError(f"job {rule['job_id']} is finished")

    def apply_job_rules(self, rules):
        for rule in rules:
            for job in self.jobs.values():
                if job.job_id == rule.get("job_id"):
                    job.pending_failure = rule["reason"]

    def jobs_snapshot(self):
        with self.lock:
            return [j.snapshot() for j in self.jobs.values()]

    def clear(self):
        """Forget every job (DELETE /_fake/jobs)."""
        with self.lock:
            self.jobs.clear()


def secret_eq(given, want):
    return hmac.compare_digest(given.encode(), want.encode())


def unbasic(token):
    try:
        return base64.b64decode(token, validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return ""


def page_number(api, data, name, default, kind):
    value = data.get(name, default)
    if isinstance(value, str):
        if not value.isdigit():
            raise fail(api, "format", f"{name} must be a number")
        value = int(value)
    low, high = PAGE_LIMITS[api] if kind == "page_size" else (1, 2 ** 31)
    if not low <= value <= high:
        raise fail(api, kind)
    return value


def v2_urls(lists):
    """The URLs of v2 objectUrls: a list of one-URL lists."""
    if not lists:
        raise fail("v2", "param", "objectUrls must not be empty")
    if len(lists) > MAX_V2_UNITS:
        raise fail("v2", "param", f"objectUrls holds {len(lists)} "
                   f"entries, at most {MAX_V2_UNITS} are allowed")
    urls = []
    for i, inner in enumerate(lists):
        if not isinstance(inner, list) or \
                not all(isinstance(u, str) for u in inner):
            raise fail("v2", "format", f"objectUrls[{i}] must be a list "
                       "of strings")
        if len(inner) != 1:
            raise fail("v2", "param", f"objectUrls[{i}] must hold exactly "
                       f"one URL, got {len(inner)}")
        urls.append(inner[0])
    return urls


def milvus_units(lists):
    """Milvus files: validated lists of object keys."""
    if not lists:
        raise Fail(1100, "import request is empty")
    if len(lists) > MAX_MILVUS_UNITS:
        raise Fail(1100, "The max number of import files should not "
                   f"exceed {MAX_MILVUS_UNITS}, but got {len(lists)}")
    for i, unit in enumerate(lists):
        if not isinstance(unit, list) or not unit or \
                not all(isinstance(k, str) and k for k in unit):
            raise fail("milvus", "format", f"files[{i}] must be a "
                       "non-empty list of non-empty strings")
        check_file_types(unit)
    return lists


def check_file_types(unit):
    types = [next((t for t in MILVUS_TYPES if k.lower().endswith(t)),
                  None) for k in unit]
    ok = None not in types and (len(unit) == 1 or
                                set(types) == {".npy"})
    if not ok:
        raise Fail(2100, "importing data failed: unexpected file type, "
                   f"files={unit_name(unit)}")


def check_options(options):
    for name, value in options.items():
        if not isinstance(value, str):
            raise fail("milvus", "format", f"options.{name} must be a "
                       f"string, got {json_kind(value)}")


def milvus_key(key):
    return key[1:] if key.startswith("/") else key


def unit_name(unit):
    return "[" + ", ".join(unit) + "]"


# ------------------------------------------------------------------ HTTP

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "importfake/1"
    timeout = 120

    def do_GET(self):
        self.serve()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def log_message(self, fmt, *args):
        if self.server.cfg.verbose:
            sys.stderr.write("importfake: " + fmt % args + "\n")

    def serve(self):
        url = urllib.parse.urlsplit(self.path)
        body = self.read_body()
        if body is None:
            return
        if url.path.startswith("/_fake/"):
            self.control(url.path, body)
        else:
            self.api_request(url, body)

    def read_body(self):
        if "Transfer-Encoding" in self.headers:
            self.close_connection = True
            self.send_json(411, {"error": "send a Content-Length"})
            return None
        text = self.headers.get("Content-Length", "0")
        if not text.isdigit() or int(text) > MAX_BODY:
            self.close_connection = True
            self.send_json(413 if text.isdigit() else 400,
                           {"error": "bad or too large Content-Length"})
            return None
        return self.rfile.read(int(text))

    def api_request(self, url, body):
        fake = self.server.fake
        entry = log_entry(self.command, url, self.headers, body)
        route = ROUTES.get((self.command, url.path))
        try:
            if route is None:
                self.not_routed(url.path, entry)
                return
            entry["api"], entry["route"] = route
            rule = fake.faults.take(*route, REQUEST_FAULTS)
            if rule:
                self.apply_fault(rule, entry)
                return
            status, value = fake.handle(route, self.headers, url.query,
                                        body)
            self.send_json(status, value)
            entry["status"], entry["code"] = status, value["code"]
        finally:
            fake.log.add(entry)

    def not_routed(self, path, entry):
        status = 405 if path in KNOWN_PATHS else 404
        what = "method not allowed" if status == 405 else "no such route"
        self.send_json(status, {"code": status, "message":
                                f"{what}: {self.command} {path}"})
        entry["status"], entry["code"] = status, status

    def apply_fault(self, rule, entry):
        kind = entry["fault"] = rule["fault"]
        if kind == "reset":
            self.reset_connection()
            return
        if kind == "503":
            self.send_text(503, "503 Service Unavailable\n")
            entry["status"] = 503
            return
        if kind == "429":
            status, value = 429, {"code": 429,
                                  "message": "Too Many Requests"}
            self.send_json(status, value, [("Retry-After", "1")])
        else:
            status = 200
            value = {"code": rule["code"], "message": rule["message"]}
            self.send_json(status, value)
        entry["status"], entry["code"] = status, value["code"]

    def reset_connection(self):
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack("ii", 1, 0))
        self.rfile.close()
        self.connection.close()

    def control(self, path, body):
        fake = self.server.fake
        actions = {
            ("POST", "/_fake/faults"): lambda: fake.add_faults(body),
            ("GET", "/_fake/faults"): lambda: (200, fake.faults.snapshot()),
            ("DELETE", "/_fake/faults"): lambda: cleared(fake.faults),
            ("GET", "/_fake/requests"): lambda: (200, fake.log.snapshot()),
            ("DELETE", "/_fake/requests"): lambda: cleared(fake.log),
            ("GET", "/_fake/jobs"): lambda: (200, fake.jobs_snapshot()),
            ("DELETE", "/_fake/jobs"): lambda: cleared(fake),
        }
        action = actions.get((self.command, path))
        if action is None:
            self.send_json(404, {"error": "no such control endpoint"})
            return
        self.send_json(*action())

    def send_json(self, status, value, headers=()):
        self.send_bytes(status, json.dumps(value).encode("utf-8"),
                        "application/json", headers)

    def send_text(self, status, text):
        self.send_bytes(status, text.encode("utf-8"), "text/plain")

    def send_bytes(self, status, body, ctype, headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)


def cleared(thing):
    thing.clear()
    return 200, {"cleared": True}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, cfg):
        super().__init__((cfg.host, cfg.port), Handler)
        self.cfg = cfg
        self.fake = Fake(cfg)


# ------------------------------------------------------------------ main

def names(text):
    return frozenset(n for n in text.split(",") if n)


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Strict fake of the Zilliz v1/v2 and Milvus bulk "
        "import APIs, for testing ferry.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--api-key", required=True)
    p.add_argument("--milvus-token", help="USER:PASSWORD; else no auth")
    p.add_argument("--s3-endpoint", required=True)
    p.add_argument("--s3-region", default="us-east-1")
    p.add_argument("--cluster-id", default="in03-3bf3c31f4248e22")
    p.add_argument("--cloud-region", default="gcp-us-west1")
    p.add_argument("--collections", type=names, default=names("c1,c2"))
    p.add_argument("--partitions", type=names, default=names("_default"))
    p.add_argument("--databases", type=names, default=names("default"))
    p.add_argument("--milvus-bucket")
    p.add_argument("--milvus-s3-access-key")
    p.add_argument("--milvus-s3-secret-key")
    p.add_argument("--polls-to-finish", type=int, default=3)
    p.add_argument("--verbose", action="store_true")
    cfg = p.parse_args(argv)
    if cfg.polls_to_finish < 1:
        p.error("--polls-to-finish must be >= 1")
    if cfg.milvus_bucket and not (cfg.milvus_s3_access_key and
                                  cfg.milvus_s3_secret_key):
        p.error("--milvus-bucket needs --milvus-s3-access-key and "
                "--milvus-s3-secret-key")
    return cfg


def main(argv=None):
    cfg = parse_args(argv)
    server = Server(cfg)
    return servekit.serve(server, cfg.port_file)


if __name__ == "__main__":
    sys.exit(main())
