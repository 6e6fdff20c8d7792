#!/usr/bin/python3
"""Self-test for s3strict.py, the strict fault-injecting S3 test server.

Why: ferry's integration tests trust s3strict to accept exactly what S3
accepts and to fail exactly when told.  This checks both, using Debian's
botocore (python3-botocore) as an independent S3 client and signer, so a
bug in s3strict's SigV4 code cannot hide behind a matching bug in ferry.
The gcs_* tests run a second server with --flavour gcs and sign with
botocore (AWS4 dialect) and with goog4_sign below (GOOG4 dialect), a
signer written for this file alone.

Run:  /usr/bin/python3 tests/servers/test_s3strict.py [-v] [NAME...]
The last line printed is "N passed, M failed"; the exit status is 0 only
if nothing failed.
"""

import base64
import datetime
import email.utils
import hashlib
import hmac
import http.client
import io
import json
import os
import re
import socket
import sys
import tempfile
import threading
import time
import traceback
import types
import urllib.parse
import xml.etree.ElementTree as ET
from unittest import mock

import botocore.auth
import botocore.exceptions
import botocore.session
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

import servekit

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "s3strict.py")
AK = "AKIDFERRYTEST"
SK = "s3cr3t/with+special=chars"
REGION = "us-east-1"
MIB = 1 << 20
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
GAK = "GOOG1EFERRYTESTHMACACCESSID"  # GCS HMAC access ids start GOOG
GSK = "gcs/s3cr3t+with=chars"
GCS_DECL = b"<?xml version='1.0' encoding='UTF-8'?>"
VERBOSE = False


# ------------------------------------------------------------ the server

class Server(servekit.ServerProcess):
    """An s3strict subprocess on a free port, with a private data dir."""

    def __init__(self, *extra, access_key=AK, secret_key=SK):
        self.access_key, self.secret_key = access_key, secret_key
        tmp = tempfile.mkdtemp(prefix="s3strict-test-")
        super().__init__(
            SERVER, "--data-dir", os.path.join(tmp, "data"),
            "--access-key", access_key, "--secret-key", secret_key,
            "--region", REGION, *extra, tmp=tmp)
        self.endpoint = self.url

    def control(self, method, path, value=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        body = None if value is None else json.dumps(value)
        conn.request(method, path, body)
        resp = conn.getresponse()
        data = json.loads(resp.read() or b"null")
        conn.close()
        return resp.status, data

    def fault(self, **rule):
        status, data = self.control("POST", "/_ferry/faults", rule)
        assert status == 200, data

    def log(self):
        return self.control("GET", "/_ferry/log")[1]

    def client(self, secret=None, token=None, **config):
        session = botocore.session.get_session()
        cfg = Config(s3={"addressing_style": "path"},
                     retries={"total_max_attempts": 1},
                     connect_timeout=10, read_timeout=30, **config)
        return session.create_client(
            "s3", region_name=REGION, endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=secret or self.secret_key,
            aws_session_token=token, config=cfg)


# ------------------------------------------------------ raw, signed HTTP

class FixedPayloadAuth(botocore.auth.S3SigV4Auth):
    """botocore's S3 signer, but signing a chosen x-amz-content-sha256."""

    def __init__(self, credentials, payload_hash):
        super().__init__(credentials, "s3", REGION)
        self.payload_hash = payload_hash

    def payload(self, request):
        return self.payload_hash


def shifted_datetime(seconds):
    """A stand-in for botocore.auth's `datetime` module, clock shifted."""
    real = datetime.datetime

    class Shifted(real):
        @classmethod
        def utcnow(cls):
            return real.utcnow() + datetime.timedelta(seconds=seconds)

    return types.SimpleNamespace(datetime=Shifted)


def sign(method, target, port, body=b"", headers=None, secret=SK,
         token=None, payload_hash=None, shift=0, auth_class=None,
         access=AK):
    """Headers for `target` (raw path + query) signed by botocore."""
    url = f"http://127.0.0.1:{port}{target}"
    request = AWSRequest(method=method, url=url, data=body,
                         headers=dict(headers or {}))
    creds = Credentials(access, secret, token)
    if auth_class is not None:
        auth = auth_class(creds, "s3", REGION)
    elif payload_hash is not None:
        auth = FixedPayloadAuth(creds, payload_hash)
    else:
        auth = botocore.auth.S3SigV4Auth(creds, "s3", REGION)
    with mock.patch.object(botocore.auth, "datetime",
                           shifted_datetime(shift)):
        auth.add_auth(request)
    out = dict(request.headers.items())
    out["Host"] = f"127.0.0.1:{port}"
    return out


def raw(server, method, target, body=b"", conn=None, after_sign=None,
        **sign_args):
    """Send a hand-signed request exactly as given; (status, hdrs, body)."""
    headers = sign(method, target, server.port, body, **sign_args)
    headers.update(after_sign or {})
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", server.port,
                                          timeout=30)
    conn.request(method, target, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    if own:
        conn.close()
    hdrs = {k.lower(): v for k, v in resp.getheaders()}
    return resp.status, hdrs, data


def object_target(bucket, key, query=""):
    target = f"/{bucket}/" + urllib.parse.quote(key, safe="/~")
    return target + ("?" + query if query else "")


def error_code(body):
    return ET.fromstring(body).findtext("Code")


def code_of(exc):
    return exc.response["Error"]["Code"]


def expect_client_error(code, func, *args, **kwargs):
    try:
        func(*args, **kwargs)
    except botocore.exceptions.ClientError as exc:
        assert code_of(exc) == code, (code_of(exc), code)
        return exc
    raise AssertionError(f"expected {code}, call succeeded")


def md5_hex(data):
    return hashlib.md5(data).hexdigest()


# ----------------------------------------------------------------- tests

TESTS = []


def test(func):
    TESTS.append(func)
    return func


def gcs_test(func):
    """A test run against the --flavour gcs server."""
    func.gcs = True
    return test(func)


class Ctx:
    """What each test gets: the server, a client, and its own bucket."""

    def __init__(self, server, name):
        self.server = server
        self.s3 = server.client()
        self.bucket = "t-" + name.replace("_", "-")[:50]
        self.s3.create_bucket(Bucket=self.bucket)


AWKWARD_KEYS = ["dir/a b+!'()*$&=ü.txt", "x//y", "./a/../b"]


@test
def botocore_awkward_keys(ctx):
    s3, bucket = ctx.s3, ctx.bucket
    for key in AWKWARD_KEYS:
        body = ("body of " + key).encode()
        put = s3.put_object(Bucket=bucket, Key=key, Body=body)
        assert put["ETag"] == f'"{md5_hex(body)}"', put["ETag"]
        got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert got == body, (key, got)
    listed = [o["Key"] for o in
              s3.list_objects_v2(Bucket=bucket)["Contents"]]
    want = sorted(AWKWARD_KEYS, key=lambda k: k.encode())
    assert listed == want, listed


@test
def raw_dot_segments_are_literal(ctx):
    server, bucket = ctx.server, ctx.bucket
    keys = ["./a/../b", "../up", "x/./y/..", "/lead//", "a%2Fb"]
    for key in keys:
        target = object_target(bucket, key)
        body = key.encode() * 3
        status, hdrs, data = raw(server, "PUT", target, body)
        assert status == 200, (key, status, data)
        assert hdrs["etag"] == f'"{md5_hex(body)}"'
        status, _, data = raw(server, "GET", target)
        assert (status, data) == (200, body), (key, status, data)
    seen = [e["path"] for e in server.log() if e["op"] == "put"
            and e["bucket"] == bucket]
    assert seen == [object_target(bucket, k) for k in keys], seen
    listed = {o["Key"] for o in
              ctx.s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert listed == set(keys), listed


@test
def lowercase_escapes_decode_once(ctx):
    # "%c3%bc" and "%C3%BC" name the same key; "%2525" is "%25", not "%".
    server, bucket = ctx.server, ctx.bucket
    canonical = f"/{bucket}/%C3%BC%2525"
    status, _, _ = raw(server, "PUT", canonical, b"u")
    assert status == 200
    got = ctx.s3.get_object(Bucket=bucket, Key="ü%25")["Body"].read()
    assert got == b"u"


@test
def multipart_two_parts(ctx):
    s3, bucket, key = ctx.s3, ctx.bucket, "big/obj ü"
    part1, part2 = os.urandom(5 * MIB), os.urandom(123457)
    upload_id = s3.create_multipart_upload(
        Bucket=bucket, Key=key)["UploadId"]
    etags = []
    for number, data in ((1, part1), (2, part2)):
        resp = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id,
                              PartNumber=number, Body=data)
        assert resp["ETag"] == f'"{md5_hex(data)}"'
        etags.append(resp["ETag"])
    uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [u["UploadId"] for u in uploads] == [upload_id]
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id,
        MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": etags[0]},
            {"PartNumber": 2, "ETag": etags[1].strip('"')}]})
    digests = bytes.fromhex(md5_hex(part1)) + bytes.fromhex(md5_hex(part2))
    want = f'"{md5_hex(digests)}-2"'
    assert done["ETag"] == want, done["ETag"]
    got = s3.get_object(Bucket=bucket, Key=key)
    assert got["Body"].read() == part1 + part2
    assert got["ETag"] == want
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
    expect_client_error("NoSuchUpload", s3.list_parts, Bucket=bucket,
                        Key=key, UploadId=upload_id)


def start_upload(s3, bucket, key, sizes):
    upload_id = s3.create_multipart_upload(
        Bucket=bucket, Key=key)["UploadId"]
    parts = []
    for number, size in enumerate(sizes, 1):
        resp = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id,
                              PartNumber=number, Body=b"p" * size)
        parts.append({"PartNumber": number, "ETag": resp["ETag"]})
    return upload_id, parts


@test
def list_parts_pagination(ctx):
    s3, bucket = ctx.s3, ctx.bucket
    upload_id, _ = start_upload(s3, bucket, "k", [10, 20, 30])
    seen, marker, pages = [], 0, 0
    while True:
        page = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id,
                             MaxParts=1, PartNumberMarker=marker)
        pages += 1
        seen += [(p["PartNumber"], p["Size"]) for p in page["Parts"]]
        if not page["IsTruncated"]:
            break
        marker = page["NextPartNumberMarker"]
        assert marker == seen[-1][0]
    assert seen == [(1, 10), (2, 20), (3, 30)], seen
    assert pages == 3, pages
    s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id)
    expect_client_error("NoSuchUpload", s3.list_parts, Bucket=bucket,
                        Key="k", UploadId=upload_id)


@test
def complete_checks_parts(ctx):
    s3, bucket = ctx.s3, ctx.bucket
    upload_id, parts = start_upload(s3, bucket, "k", [100, 100])

    def complete(part_list):
        s3.complete_multipart_upload(
            Bucket=bucket, Key="k", UploadId=upload_id,
            MultipartUpload={"Parts": part_list})

    expect_client_error("EntityTooSmall", complete, parts)
    expect_client_error("InvalidPartOrder", complete, parts[::-1])
    wrong = [dict(parts[0], ETag='"%s"' % ("0" * 32))]
    expect_client_error("InvalidPart", complete, wrong)
    missing = [{"PartNumber": 7, "ETag": parts[0]["ETag"]}]
    expect_client_error("InvalidPart", complete, missing)
    complete(parts[1:])  # a single (last) part may be small
    got = s3.get_object(Bucket=bucket, Key="k")["Body"].read()
    assert got == b"p" * 100


@test
def wrong_secret_is_rejected(ctx):
    bad = ctx.server.client(secret=SK + "x")
    exc = expect_client_error("SignatureDoesNotMatch", bad.put_object,
                              Bucket=ctx.bucket, Key="k", Body=b"x")
    assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    expect_client_error("404", ctx.s3.head_object, Bucket=ctx.bucket,
                        Key="k")


@test
def wrong_access_key_is_rejected(ctx):
    headers = sign("GET", f"/{ctx.bucket}", ctx.server.port)
    headers["Authorization"] = headers["Authorization"].replace(
        AK, "AKIDOTHER")
    conn = http.client.HTTPConnection("127.0.0.1", ctx.server.port)
    conn.request("GET", f"/{ctx.bucket}", headers=headers)
    resp = conn.getresponse()
    assert resp.status == 403
    assert error_code(resp.read()) == "InvalidAccessKeyId"
    assert resp.getheader("x-amz-request-id")
    conn.close()


@test
def tampered_body_is_rejected(ctx):
    server, target = ctx.server, object_target(ctx.bucket, "tampered")
    claimed = hashlib.sha256(b"the body that was signed").hexdigest()
    status, _, body = raw(server, "PUT", target, b"another body",
                          payload_hash=claimed)
    assert status == 400, status
    assert error_code(body) == "XAmzContentSHA256Mismatch", body
    assert ET.fromstring(body).findtext("RequestId")
    expect_client_error("404", ctx.s3.head_object, Bucket=ctx.bucket,
                        Key="tampered")
    status, _, _ = raw(server, "PUT", target, b"x",
                       payload_hash="UNSIGNED-PAYLOAD")
    assert status == 200


@test
def header_rules(ctx):
    server, target = ctx.server, object_target(ctx.bucket, "h")
    # No x-amz-content-sha256 at all (generic SigV4 signer).
    status, _, body = raw(server, "PUT", target, b"x",
                          auth_class=botocore.auth.SigV4Auth)
    assert (status, error_code(body)) == (400, "InvalidRequest"), body
    # An x-amz-* header added after signing.
    status, _, body = raw(server, "PUT", target, b"x",
                          after_sign={"x-amz-meta-late": "1"})
    assert (status, error_code(body)) == (403, "AccessDenied"), body
    # A signed header changed after signing.
    status, _, body = raw(server, "PUT", target, b"x",
                          headers={"x-amz-meta-a": "1"},
                          after_sign={"x-amz-meta-a": "2"})
    assert (status, error_code(body)) == (403, "SignatureDoesNotMatch")
    # Signed, with squeezable spaces: still fine.
    status, hdrs, _ = raw(server, "PUT", target, b"x",
                          headers={"x-amz-meta-a": "  a   b  "})
    assert status == 200, status
    head = ctx.s3.head_object(Bucket=ctx.bucket, Key="h")
    assert head["Metadata"] == {"a": "a   b"}, head["Metadata"]


@test
def head_get_range_and_missing(ctx):
    s3, bucket = ctx.s3, ctx.bucket
    data = bytes(range(256)) * 4
    s3.put_object(Bucket=bucket, Key="r", Body=data)
    head = s3.head_object(Bucket=bucket, Key="r")
    assert head["ContentLength"] == len(data)
    assert head["ETag"] == f'"{md5_hex(data)}"'
    assert head["LastModified"].year >= 2024
    got = s3.get_object(Bucket=bucket, Key="r", Range="bytes=10-19")
    assert got["Body"].read() == data[10:20]
    assert got["ContentRange"] == f"bytes 10-19/{len(data)}"
    got = s3.get_object(Bucket=bucket, Key="r", Range="bytes=-5")
    assert got["Body"].read() == data[-5:]
    expect_client_error("InvalidRange", s3.get_object, Bucket=bucket,
                        Key="r", Range="bytes=5000-")
    expect_client_error("NoSuchKey", s3.get_object, Bucket=bucket,
                        Key="nope")
    expect_client_error("NoSuchBucket", s3.get_object,
                        Bucket="no-such-bucket", Key="r")
    expect_client_error("NoSuchUpload", s3.upload_part, Bucket=bucket,
                        Key="r", UploadId="nope", PartNumber=1, Body=b"")
    s3.delete_object(Bucket=bucket, Key="r")
    expect_client_error("404", s3.head_object, Bucket=bucket, Key="r")


@test
def list_objects_v2_pagination(ctx):
    s3, bucket = ctx.s3, ctx.bucket
    keys = ["p/%d" % i for i in range(7)] + ["q/1", "p/sub/x", "p/sub/y"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix="p/", PaginationConfig={"PageSize": 3})
    seen, counts = [], []
    for page in pages:
        counts.append(page["KeyCount"])
        seen += [o["Key"] for o in page.get("Contents", [])]
        for obj in page.get("Contents", []):
            assert obj["Size"] == len(obj["Key"])
            assert obj["ETag"] == f'"{md5_hex(obj["Key"].encode())}"'
    assert seen == sorted(k for k in keys if k.startswith("p/")), seen
    assert counts == [3, 3, 3], counts
    page = s3.list_objects_v2(Bucket=bucket, Prefix="p/", Delimiter="/",
                              StartAfter="p/5")
    assert [o["Key"] for o in page["Contents"]] == ["p/6"]
    assert page["CommonPrefixes"] == [{"Prefix": "p/sub/"}]


@test
def expect_100_continue(ctx):
    port, target = ctx.server.port, object_target(ctx.bucket, "e")
    body = b"z" * 3000
    for secret, want in ((SK + "x", b"403"), (SK, b"100")):
        headers = sign("PUT", target, port, body, secret=secret)
        head = f"PUT {target} HTTP/1.1\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()) + \
            f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n"
        with socket.create_connection(("127.0.0.1", port), 10) as sock:
            sock.sendall(head.encode())
            first = sock.recv(65536)
            assert first.split(b" ")[1] == want, first
            if want == b"100":
                sock.sendall(body)
                reply = b""
                while b"\r\n\r\n" not in reply:
                    reply += sock.recv(65536)
                assert reply.split(b" ")[1] == b"200", reply
            else:
                assert b"Connection: close" in first, first


@test
def keepalive_concurrency(ctx):
    server, bucket = ctx.server, ctx.bucket
    errors = []

    def worker(n):
        conn = http.client.HTTPConnection("127.0.0.1", server.port,
                                          timeout=30)
        try:
            for i in range(8):
                target = object_target(bucket, f"c/{n}/{i}")
                status, _, _ = raw(server, "PUT", target, b"x" * i,
                                   conn=conn)
                if status != 200:
                    errors.append(status)
        except Exception as exc:  # report, do not kill the thread
            errors.append(repr(exc))
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(n,))
               for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    conns = {}
    for entry in server.log():
        if entry["op"] == "put" and entry["bucket"] == bucket:
            conns[entry["conn"]] = conns.get(entry["conn"], 0) + 1
    assert sorted(conns.values()) == [8] * 16, conns


@test
def request_log(ctx):
    server = ctx.server
    server.control("DELETE", "/_ferry/log")
    ctx.s3.put_object(Bucket=ctx.bucket, Key="l o g", Body=b"12345")
    (entry,) = server.log()
    assert entry["method"] == "PUT", entry
    assert entry["path"] == f"/{ctx.bucket}/l%20o%20g", entry
    assert (entry["status"], entry["body_bytes"]) == (200, 5), entry
    assert (entry["op"], entry["key"], entry["query"]) == \
        ("put", "l o g", ""), entry
    auth = entry["headers"]["authorization"]
    assert auth.endswith("Signature=***") and AK in auth, auth
    assert entry["headers"]["x-amz-content-sha256"]


@test
def fault_rules_are_validated(ctx):
    server = ctx.server
    for bad in ({"fault": "nope"}, {"fault": "500", "op": "x"},
                {"fault": "500", "times": 0}, {"fault": "500", "oops": 1}):
        status, _ = server.control("POST", "/_ferry/faults", bad)
        assert status == 400, bad
    server.fault(fault="500", op="get", times=-1)
    server.fault(fault="delay", op="put", seconds=0.1)
    status, rules = server.control("GET", "/_ferry/faults")
    assert [r["fault"] for r in rules] == ["500", "delay"], rules
    server.control("DELETE", "/_ferry/faults")
    assert server.control("GET", "/_ferry/faults")[1] == []


def last_entry(server, op):
    return [e for e in server.log() if e["op"] == op][-1]


@test
def fault_503_slowdown(ctx):
    s3, server = ctx.s3, ctx.server
    server.fault(op="put", fault="503-slowdown", retry_after=2)
    exc = expect_client_error("SlowDown", s3.put_object,
                              Bucket=ctx.bucket, Key="k", Body=b"1")
    meta = exc.response["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == 503
    assert meta["HTTPHeaders"]["retry-after"] == "2"
    expect_client_error("404", s3.head_object, Bucket=ctx.bucket, Key="k")
    s3.put_object(Bucket=ctx.bucket, Key="k", Body=b"1")
    assert last_entry(server, "put")["fault"] is None


@test
def fault_500(ctx):
    s3, server = ctx.s3, ctx.server
    s3.put_object(Bucket=ctx.bucket, Key="k", Body=b"1")
    server.fault(op="head", fault="500")
    expect_client_error("500", s3.head_object, Bucket=ctx.bucket, Key="k")
    assert last_entry(server, "head")["fault"] == "500"
    s3.head_object(Bucket=ctx.bucket, Key="k")


@test
def fault_reset(ctx):
    s3, server = ctx.s3, ctx.server
    body = os.urandom(MIB)
    server.fault(op="put", fault="reset", key_contains="reset-me")
    try:
        s3.put_object(Bucket=ctx.bucket, Key="reset-me", Body=body)
    except botocore.exceptions.BotoCoreError:
        pass
    else:
        raise AssertionError("reset fault did not break the request")
    entry = last_entry(server, "put")
    assert entry["fault"] == "reset" and entry["status"] is None, entry
    assert 0 < entry["body_bytes"] < len(body), entry
    expect_client_error("404", s3.head_object, Bucket=ctx.bucket,
                        Key="reset-me")
    s3.put_object(Bucket=ctx.bucket, Key="reset-me", Body=body)
    # On a raw socket the client must see a reset, not a clean close.
    server.fault(op="put", fault="reset")
    target = object_target(ctx.bucket, "raw")
    headers = sign("PUT", target, server.port, b"q" * 1000)
    head = f"PUT {target} HTTP/1.1\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in headers.items()) + \
        "Content-Length: 1000\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), 10) as sock:
        sock.sendall(head.encode() + b"q" * 1000)
        try:
            data = sock.recv(100)
        except ConnectionResetError:
            data = None
        assert data is None, data


@test
def fault_delay(ctx):
    s3, server = ctx.s3, ctx.server
    s3.put_object(Bucket=ctx.bucket, Key="k", Body=b"slow")
    server.fault(op="get", fault="delay", seconds=0.6)
    start = time.monotonic()
    got = s3.get_object(Bucket=ctx.bucket, Key="k")["Body"].read()
    elapsed = time.monotonic() - start
    assert got == b"slow" and elapsed >= 0.6, elapsed
    start = time.monotonic()
    s3.get_object(Bucket=ctx.bucket, Key="k")["Body"].read()
    assert time.monotonic() - start < 0.5


def complete_xml(parts):
    items = "".join(
        f"<Part><PartNumber>{p['PartNumber']}</PartNumber>"
        f"<ETag>{p['ETag']}</ETag></Part>" for p in parts)
    return (f"<CompleteMultipartUpload>{items}"
            "</CompleteMultipartUpload>").encode()


@test
def fault_complete_200_error(ctx):
    s3, server, bucket = ctx.s3, ctx.server, ctx.bucket
    upload_id, parts = start_upload(s3, bucket, "k", [5 * MIB, 10])
    # On the wire: "200 OK" whose body is an <Error> document.
    server.fault(op="complete", fault="complete-200-error")
    xml = complete_xml(parts)
    status, _, body = raw(server, "POST", object_target(
        bucket, "k", "uploadId=" + urllib.parse.quote(upload_id)), xml)
    assert (status, error_code(body)) == (200, "InternalError"), body
    # botocore 1.29 turns it into an error (its code parses as "Unknown").
    server.fault(op="complete", fault="complete-200-error")
    args = dict(Bucket=bucket, Key="k", UploadId=upload_id,
                MultipartUpload={"Parts": parts})
    try:
        s3.complete_multipart_upload(**args)
        raise AssertionError("200-with-error taken for success")
    except botocore.exceptions.ClientError:
        pass
    entry = last_entry(server, "complete")
    assert (entry["status"], entry["fault"]) == \
        (200, "complete-200-error"), entry
    listed = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)
    assert len(listed["Parts"]) == 2
    expect_client_error("404", s3.head_object, Bucket=bucket, Key="k")
    done = s3.complete_multipart_upload(**args)
    assert done["ETag"].endswith('-2"'), done
    again = s3.complete_multipart_upload(**args)  # retry of a success
    assert again["ETag"] == done["ETag"]


@test
def fault_skew(ctx):
    s3, server = ctx.s3, ctx.server
    server.fault(op="list", fault="skew", seconds=300)
    exc = expect_client_error("RequestTimeTooSkewed", s3.list_objects_v2,
                              Bucket=ctx.bucket)
    meta = exc.response["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == 403
    date = email.utils.parsedate_to_datetime(meta["HTTPHeaders"]["date"])
    ahead = date.timestamp() - time.time()
    assert 290 < ahead < 310, ahead
    s3.list_objects_v2(Bucket=ctx.bucket)


@test
def fault_corrupt_etag(ctx):
    s3, server, bucket = ctx.s3, ctx.server, ctx.bucket
    server.fault(op="put", fault="corrupt-etag")
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    good = f'"{md5_hex(b"data")}"'
    assert put["ETag"] != good and len(put["ETag"]) == len(good), put
    assert s3.head_object(Bucket=bucket, Key="k")["ETag"] == good
    upload_id = s3.create_multipart_upload(Bucket=bucket,
                                           Key="m")["UploadId"]
    server.fault(op="part", fault="corrupt-etag", part_number=2)
    etags = [s3.upload_part(Bucket=bucket, Key="m", UploadId=upload_id,
                            PartNumber=n, Body=b"x")["ETag"]
             for n in (1, 2, 3)]
    want = f'"{md5_hex(b"x")}"'
    assert etags[0] == etags[2] == want and etags[1] != want, etags
    parts = s3.list_parts(Bucket=bucket, Key="m", UploadId=upload_id)
    assert {p["ETag"] for p in parts["Parts"]} == {want}


@test
def fault_selectors(ctx):
    s3, server, bucket = ctx.s3, ctx.server, ctx.bucket
    server.fault(op="any", fault="500", key_contains="bad", skip=1,
                 times=2)
    s3.put_object(Bucket=bucket, Key="bad1", Body=b"")  # skipped
    expect_client_error("InternalError", s3.put_object, Bucket=bucket,
                        Key="bad2", Body=b"")
    s3.put_object(Bucket=bucket, Key="good", Body=b"")  # no match
    expect_client_error("InternalError", s3.get_object, Bucket=bucket,
                        Key="bad1")
    s3.get_object(Bucket=bucket, Key="bad1")  # rule used up
    assert server.control("GET", "/_ferry/faults")[1] == []


@test
def faults_on_create_and_list_parts(ctx):
    s3, server, bucket = ctx.s3, ctx.server, ctx.bucket
    server.fault(op="create", fault="503-slowdown")
    expect_client_error("SlowDown", s3.create_multipart_upload,
                        Bucket=bucket, Key="k")
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
    upload_id = s3.create_multipart_upload(Bucket=bucket,
                                           Key="k")["UploadId"]
    server.fault(op="part", fault="reset", part_number=1)
    try:
        s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id,
                       PartNumber=1, Body=b"y" * 100000)
        raise AssertionError("reset fault did not break UploadPart")
    except botocore.exceptions.BotoCoreError:
        pass
    server.fault(op="list_parts", fault="500")
    expect_client_error("InternalError", s3.list_parts, Bucket=bucket,
                        Key="k", UploadId=upload_id)
    parts = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)
    assert "Parts" not in parts, parts  # the reset part was not stored


def clock_and_token_checks(server):
    s3 = server.client(token="TOK")
    exc = expect_client_error("RequestTimeTooSkewed", s3.list_buckets)
    date = email.utils.parsedate_to_datetime(
        exc.response["ResponseMetadata"]["HTTPHeaders"]["date"])
    ahead = date.timestamp() - time.time()
    assert 3590 < ahead < 3610, ahead
    ok = dict(shift=3600, token="TOK")
    status, hdrs, body = raw(server, "PUT", "/tok", **ok)
    assert status == 200, body
    ahead = email.utils.parsedate_to_datetime(hdrs["date"]).timestamp() \
        - time.time()
    assert 3590 < ahead < 3610, ahead
    for token in (None, "WRONG"):
        status, _, body = raw(server, "GET", "/tok", shift=3600,
                              token=token)
        assert (status, error_code(body)) == (403, "InvalidToken"), body
    status, _, _ = raw(server, "GET", "/tok", **ok)
    assert status == 200


@test
def clock_offset_and_session_token(ctx):
    server = Server("--clock-offset", "3600", "--session-token", "TOK")
    try:
        clock_and_token_checks(server)
    finally:
        server.stop()


@test
def large_put_streams(ctx):
    # 64 MiB through botocore; checks hashing and storage of big bodies.
    data = os.urandom(MIB) * 64
    put = ctx.s3.put_object(Bucket=ctx.bucket, Key="big", Body=data)
    assert put["ETag"] == f'"{md5_hex(data)}"'
    head = ctx.s3.head_object(Bucket=ctx.bucket, Key="big")
    assert head["ContentLength"] == len(data)


def published_case(target, extra, signed, signature):
    """Verify one example from the AWS S3 SigV4 documentation."""
    sys.dont_write_bytecode = True  # keep the source tree clean
    sys.path.insert(0, HERE)
    import s3strict
    date = "20130524T000000Z"
    text = (
        "Host: examplebucket.s3.amazonaws.com\r\n" + extra +
        f"x-amz-content-sha256: {hashlib.sha256(b'').hexdigest()}\r\n"
        f"x-amz-date: {date}\r\nAuthorization: AWS4-HMAC-SHA256 "
        "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
        f"aws4_request,SignedHeaders={signed},Signature={signature}"
        "\r\n\r\n")
    headers = http.client.parse_headers(io.BytesIO(text.encode()))
    cfg = types.SimpleNamespace(
        access_key="AKIAIOSFODNN7EXAMPLE", region="us-east-1",
        secret_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        session_token=None)
    when = s3strict.parse_amz_date(date)
    verifier = s3strict.Verifier(cfg, lambda: when + 60)
    verifier.verify(s3strict.Req("GET", target), headers)
    bad = s3strict.Verifier(cfg, lambda: when + 16 * 60)
    try:
        bad.verify(s3strict.Req("GET", target), headers)
    except s3strict.S3Error as exc:
        assert exc.code == "RequestTimeTooSkewed", exc.code
    else:
        raise AssertionError("a 16 minute skew was accepted")


@test
def aws_documented_signatures(_ctx):
    # Independent of botocore: the worked examples in the S3 API docs.
    published_case(
        "/test.txt", "Range: bytes=0-9\r\n",
        "host;range;x-amz-content-sha256;x-amz-date",
        "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    published_case(
        "/?max-keys=2&prefix=J", "",
        "host;x-amz-content-sha256;x-amz-date",
        "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")


# ------------------------------------------------------ gcs flavour

def goog4_sign(method, target, port, body=b"", headers=None, secret=GSK,
               access=GAK, payload_hash=None, send_sha=True, shift=0,
               location="auto", service="storage"):
    """GOOG4-HMAC-SHA256 signing as GCS documents it, for raw requests.

    Written from GCS's "Signatures" and "Canonical requests" pages, not
    from s3strict.  Returns .headers to send, and the .creq and .to_sign
    it built.  payload_hash defaults to the body's SHA-256; with
    send_sha=False no x-goog-content-sha256 is sent or signed.
    """
    when = datetime.datetime.now(datetime.timezone.utc) + \
        datetime.timedelta(seconds=shift)
    stamp = when.strftime("%Y%m%dT%H%M%SZ")
    if payload_hash is None:
        payload_hash = hashlib.sha256(body).hexdigest()
    out = {"Host": f"127.0.0.1:{port}", "x-goog-date": stamp}
    if send_sha:
        out["x-goog-content-sha256"] = payload_hash
    out.update(headers or {})
    path, _, query = target.partition("?")
    # Each path and query part decoded once, then percent-encoded with
    # only A-Z a-z 0-9 - . _ ~ left alone ('/' too in the path).
    pairs = sorted(
        tuple(urllib.parse.quote(urllib.parse.unquote_to_bytes(x), safe="")
              for x in (item.partition("=")[0], item.partition("=")[2]))
        for item in query.split("&") if item)
    names = sorted(name.lower() for name in out)
    values = {name.lower(): " ".join(value.split())
              for name, value in out.items()}
    signed = ";".join(names)
    creq = "\n".join([
        method,
        urllib.parse.quote(urllib.parse.unquote_to_bytes(path), safe="/"),
        "&".join(f"{n}={v}" for n, v in pairs),
        "".join(f"{n}:{values[n]}\n" for n in names),
        signed,
        payload_hash if send_sha else "UNSIGNED-PAYLOAD"])
    scope = f"{stamp[:8]}/{location}/{service}/goog4_request"
    to_sign = "\n".join(["GOOG4-HMAC-SHA256", stamp, scope,
                         hashlib.sha256(creq.encode()).hexdigest()])
    key = ("GOOG4" + secret).encode()
    for part in (stamp[:8], location, service, "goog4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    out["Authorization"] = (f"GOOG4-HMAC-SHA256 Credential={access}/{scope}"
                            f", SignedHeaders={signed}, "
                            f"Signature={signature}")
    return types.SimpleNamespace(headers=out, creq=creq, to_sign=to_sign)


def send(server, method, target, body, headers):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(method, target, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
    finally:
        conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data


def graw(server, method, target, body=b"", after_sign=None, drop=(),
         **sign_args):
    """A GOOG4-signed request, edited after signing if asked."""
    headers = goog4_sign(method, target, server.port, body,
                         **sign_args).headers
    headers.update(after_sign or {})
    for name in drop:
        del headers[name]
    return send(server, method, target, body, headers)


def araw(server, method, target, body=b"", **sign_args):
    """An AWS4-signed (botocore) request with the gcs server's key."""
    return raw(server, method, target, body, access=GAK,
               secret=sign_args.pop("secret", GSK), **sign_args)


def gcs_error(status, body, want_status, want_code):
    """Check a GCS-shaped error; return its root element."""
    assert status == want_status, (status, body)
    assert body.startswith(GCS_DECL + b"<Error>"), body
    root = ET.fromstring(body)
    assert root.tag == "Error", root.tag  # no namespace
    assert root.findtext("Code") == want_code, body
    assert root.findtext("Message") and root.findtext("Details"), body
    assert root.find("RequestId") is None, body
    return root


def gcs_headers_ok(hdrs):
    assert hdrs.get("x-guploader-uploadid"), hdrs
    assert "x-amz-request-id" not in hdrs and "x-amz-id-2" not in hdrs
    assert hdrs["server"] == "UploadServer", hdrs


def b64_md5(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()


@gcs_test
def gcs_goog4_awkward_keys(ctx):
    server, bucket = ctx.server, ctx.bucket
    for key in AWKWARD_KEYS + ["a%2Fb", "~tilde"]:
        target, body = object_target(bucket, key), ("is " + key).encode()
        status, hdrs, data = graw(server, "PUT", target, body)
        assert status == 200, (key, status, data)
        gcs_headers_ok(hdrs)
        assert hdrs["etag"] == f'"{md5_hex(body)}"', hdrs
        assert hdrs["x-goog-hash"] == "md5=" + b64_md5(body), hdrs
        assert hdrs["x-goog-generation"].isdigit(), hdrs
        status, hdrs, data = graw(server, "GET", target)
        assert (status, data) == (200, body), (key, status, data)
        status, hdrs, _ = graw(server, "HEAD", target)
        assert status == 200, status
        assert hdrs["x-goog-stored-content-length"] == str(len(body))
        assert hdrs["x-goog-hash"] == "md5=" + b64_md5(body), hdrs
        assert hdrs["etag"] == f'"{md5_hex(body)}"', hdrs
    listed = {o["Key"] for o in
              ctx.s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert listed == set(AWKWARD_KEYS + ["a%2Fb", "~tilde"]), listed


class AutoStorageAuth(botocore.auth.S3SigV4Auth):
    """botocore's signer with the scope GCS samples use: auto/storage."""

    def __init__(self, credentials, _service, _region):
        super().__init__(credentials, "storage", "auto")


@gcs_test
def gcs_aws4_dialect_with_botocore(ctx):
    s3, bucket = ctx.s3, ctx.bucket
    for key in AWKWARD_KEYS:
        body = ("aws4 " + key).encode()
        put = s3.put_object(Bucket=bucket, Key=key, Body=body,
                            Metadata={"who": "boto"})
        assert put["ETag"] == f'"{md5_hex(body)}"', put["ETag"]
        hdrs = put["ResponseMetadata"]["HTTPHeaders"]
        gcs_headers_ok(hdrs)
        assert hdrs["x-goog-generation"].isdigit(), hdrs
        got = s3.get_object(Bucket=bucket, Key=key)
        assert got["Body"].read() == body
        hdrs = got["ResponseMetadata"]["HTTPHeaders"]
        assert hdrs["x-goog-meta-who"] == "boto", hdrs
    # GCS takes any location in the scope, and any AWS4 service name.
    target = object_target(bucket, "auto")
    status, _, data = raw(ctx.server, "PUT", target, b"a", access=GAK,
                          secret=GSK, auth_class=AutoStorageAuth)
    assert status == 200, data


@gcs_test
def gcs_multipart_composite_has_no_md5(ctx):
    server, bucket, key = ctx.server, ctx.bucket, "big/composite ü"
    status, _, data = graw(server, "POST", object_target(bucket, key,
                                                         "uploads"))
    assert status == 200, data
    upload_id = ET.fromstring(data).findtext(NS + "UploadId")
    quoted_id = urllib.parse.quote(upload_id, safe="")
    parts = [os.urandom(5 * MIB), b"!"]
    xml = ""
    for number, part in enumerate(parts, 1):
        target = object_target(bucket, key, f"partNumber={number}&"
                               f"uploadId={quoted_id}")
        status, hdrs, data = graw(server, "PUT", target, part)
        assert status == 200, data
        assert hdrs["etag"] == f'"{md5_hex(part)}"', hdrs
        xml += (f"<Part><PartNumber>{number}</PartNumber>"
                f"<ETag>{hdrs['etag']}</ETag></Part>")
    xml = f"<CompleteMultipartUpload>{xml}</CompleteMultipartUpload>"
    status, hdrs, data = graw(server, "POST", object_target(
        bucket, key, "uploadId=" + quoted_id), xml.encode())
    assert status == 200, data
    gcs_headers_ok(hdrs)
    assert hdrs["x-goog-generation"].isdigit(), hdrs
    etag = ET.fromstring(data).findtext(NS + "ETag")
    whole = b"".join(parts)
    s3_style = md5_hex(bytes.fromhex(md5_hex(parts[0])) +
                       bytes.fromhex(md5_hex(parts[1])))
    assert re.fullmatch(r'"[0-9a-f]{32}-2"', etag), etag
    assert etag.strip('"').split("-")[0] not in (md5_hex(whole), s3_style)
    status, hdrs, _ = graw(server, "HEAD", object_target(bucket, key))
    assert status == 200, status
    assert hdrs["etag"] == etag, (hdrs, etag)
    assert "md5=" not in hdrs.get("x-goog-hash", ""), hdrs
    assert "content-md5" not in hdrs, hdrs
    assert hdrs["x-goog-stored-content-length"] == str(len(whole)), hdrs
    status, _, data = graw(server, "GET", object_target(bucket, key))
    assert (status, data == whole) == (200, True), status


@gcs_test
def gcs_wrong_secret_is_signature_mismatch(ctx):
    server, target = ctx.server, object_target(ctx.bucket, "secret")
    signed = goog4_sign("PUT", target, server.port, b"x", secret=GSK + "x")
    status, hdrs, body = send(server, "PUT", target, b"x", signed.headers)
    root = gcs_error(status, body, 403, "SignatureDoesNotMatch")
    gcs_headers_ok(hdrs)
    assert hdrs["content-type"].startswith("application/xml"), hdrs
    # The server built the same canonical request, and says so.
    assert root.findtext("StringToSign") == signed.to_sign, body
    assert root.findtext("CanonicalRequest") == signed.creq, body
    # The AWS4 dialect fails the same way, in the same shape.
    status, _, body = araw(server, "PUT", target, b"x", secret=GSK + "x")
    root = gcs_error(status, body, 403, "SignatureDoesNotMatch")
    assert root.findtext("StringToSign").startswith("AWS4-HMAC-SHA256\n")
    status, _, _ = graw(server, "HEAD", target)
    assert status == 404, status


@gcs_test
def gcs_skewed_date_is_expired_token(ctx):
    server, target = ctx.server, object_target(ctx.bucket, "when")
    for shift in (-20 * 60, 20 * 60):
        status, _, body = graw(server, "PUT", target, b"x", shift=shift)
        root = gcs_error(status, body, 400, "ExpiredToken")
        if shift < 0:
            assert "expired at" in root.findtext("Details"), body
    status, _, body = araw(server, "PUT", target, b"x", shift=-20 * 60)
    gcs_error(status, body, 400, "ExpiredToken")
    status, _, _ = graw(server, "HEAD", target)
    assert status == 404, status
    status, _, body = graw(server, "PUT", target, b"x", shift=-10 * 60)
    assert status == 200, body


@gcs_test
def gcs_tampered_body_is_bad_digest(ctx):
    server, target = ctx.server, object_target(ctx.bucket, "tampered")
    claimed = hashlib.sha256(b"the body that was signed").hexdigest()
    status, _, body = graw(server, "PUT", target, b"another body",
                           payload_hash=claimed)
    root = gcs_error(status, body, 400, "BadDigest")
    assert claimed in root.findtext("Details"), body
    status, _, body = araw(server, "PUT", target, b"another body",
                           payload_hash=claimed)
    gcs_error(status, body, 400, "BadDigest")
    wrong_md5 = {"x-goog-hash": "md5=" + b64_md5(b"not it")}
    status, _, body = graw(server, "PUT", target, b"x", headers=wrong_md5)
    gcs_error(status, body, 400, "BadDigest")
    status, _, _ = graw(server, "HEAD", target)
    assert status == 404, status
    status, _, body = graw(server, "PUT", target, b"y",
                           payload_hash="UNSIGNED-PAYLOAD")
    assert status == 200, body


@gcs_test
def gcs_header_rules(ctx):
    server, target = ctx.server, object_target(ctx.bucket, "h")
    # An x-goog-* header added after signing.
    status, _, body = graw(server, "PUT", target, b"x",
                           after_sign={"x-goog-meta-late": "1"})
    gcs_error(status, body, 400, "MalformedSecurityHeader")
    # A signed x-goog-* header missing from the request.
    status, _, body = graw(server, "PUT", target, b"x",
                           headers={"x-goog-meta-a": "1"},
                           drop=["x-goog-meta-a"])
    root = gcs_error(status, body, 400, "MalformedSecurityHeader")
    assert "x-goog-meta-a" in root.findtext("Details"), body
    # A signed x-goog-* header changed after signing.
    status, _, body = graw(server, "PUT", target, b"x",
                           headers={"x-goog-meta-a": "1"},
                           after_sign={"x-goog-meta-a": "2"})
    gcs_error(status, body, 403, "SignatureDoesNotMatch")
    # No x-goog-content-sha256 at all, or one left unsigned.
    status, _, body = graw(server, "PUT", target, b"x", send_sha=False)
    gcs_error(status, body, 400, "InvalidArgument")
    status, _, body = graw(server, "PUT", target, b"x", send_sha=False,
                           after_sign={"x-goog-content-sha256":
                                       hashlib.sha256(b"x").hexdigest()})
    gcs_error(status, body, 400, "MalformedSecurityHeader")
    # A GOOG4 scope must name the storage service.
    status, _, body = graw(server, "PUT", target, b"x", service="s3")
    gcs_error(status, body, 400, "MalformedSecurityHeader")
    status, _, _ = graw(server, "HEAD", target)
    assert status == 404, status
    # Signed metadata with squeezable blanks is fine, and comes back.
    status, _, body = graw(server, "PUT", target, b"x",
                           headers={"x-goog-meta-a": "  a   b "})
    assert status == 200, body
    status, hdrs, _ = graw(server, "HEAD", target)
    assert hdrs["x-goog-meta-a"] == "a   b", hdrs


@gcs_test
def gcs_faults_and_control_api(ctx):
    server, bucket = ctx.server, ctx.bucket
    target = object_target(bucket, "f")
    server.control("DELETE", "/_ferry/log")
    server.fault(op="put", fault="503-slowdown", retry_after=3)
    status, hdrs, body = graw(server, "PUT", target, b"1")
    gcs_error(status, body, 503, "SlowDown")
    gcs_headers_ok(hdrs)
    assert hdrs["retry-after"] == "3", hdrs
    status, _, _ = graw(server, "PUT", target, b"1")
    assert status == 200
    server.fault(op="head", fault="skew", seconds=300)
    status, hdrs, body = graw(server, "HEAD", target)
    assert status == 400 and body == b"", (status, body)  # HEAD: no body
    server.fault(op="get", fault="skew", seconds=300)
    status, hdrs, body = graw(server, "GET", target)
    gcs_error(status, body, 400, "ExpiredToken")
    ahead = email.utils.parsedate_to_datetime(hdrs["date"]).timestamp() \
        - time.time()
    assert 290 < ahead < 310, ahead
    server.fault(op="get", fault="500")
    status, _, body = graw(server, "GET", target)
    gcs_error(status, body, 500, "InternalError")
    upload_id, parts = start_upload(ctx.s3, bucket, "m", [10])
    server.fault(op="complete", fault="complete-200-error")
    status, _, body = graw(server, "POST", object_target(
        bucket, "m", "uploadId=" + urllib.parse.quote(upload_id)),
        complete_xml(parts))
    assert status == 200 and body.startswith(GCS_DECL), body
    assert b"<Code>InternalError</Code>" in body and \
        b"RequestId" not in body, body
    entries = [e for e in server.log() if e["key"] == "f"]
    assert [(e["op"], e["status"], e["fault"]) for e in entries] == [
        ("put", 503, "503-slowdown"), ("put", 200, None),
        ("head", 400, "skew"), ("get", 400, "skew"),
        ("get", 500, "500")], entries
    assert entries[0]["headers"]["x-goog-date"], entries[0]


# ---------------------------------------------------------------- runner

def start_server(flavour):
    extra = ["--verbose"] if VERBOSE else []
    if flavour == "gcs":
        return Server("--flavour", "gcs", *extra, access_key=GAK,
                      secret_key=GSK)
    return Server(*extra)


def run(selected):
    servers = {}
    passed = failed = 0
    try:
        for func in TESTS:
            if selected and func.__name__ not in selected:
                continue
            flavour = "gcs" if getattr(func, "gcs", False) else "s3"
            if flavour not in servers:
                servers[flavour] = start_server(flavour)
            server = servers[flavour]
            try:
                func(Ctx(server, func.__name__))
            except Exception:  # any failure is reported, then we go on
                failed += 1
                print(f"FAIL {func.__name__}")
                traceback.print_exc(file=sys.stdout)
            else:
                passed += 1
                print(f"ok   {func.__name__}")
            finally:
                server.control("DELETE", "/_ferry/faults")
            sys.stdout.flush()
    finally:
        errors = {}
        for flavour, server in servers.items():
            errors[flavour] = server.errors()
            server.stop()
    for flavour, text in errors.items():
        if "Traceback" in text:
            failed += 1
            print(f"FAIL {flavour} server stderr shows a traceback:\n"
                  + text)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def main(argv):
    global VERBOSE
    VERBOSE = "-v" in argv
    selected = [a for a in argv if a != "-v"]
    return run(selected)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
