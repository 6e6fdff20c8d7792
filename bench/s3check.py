#!/usr/bin/python3
"""Read-back checks of the benchmark's uploads on RGW (Debian botocore).

Used as a module by bench/run; also a small command line:

  s3check.py mkbucket ENDPOINT BUCKET
  s3check.py check ENDPOINT BUCKET PREFIX MANIFEST WORKLOAD [--sha256]

Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.

check() lists everything under PREFIX/ and compares it with the
workload's entry of the manifest (bench/gendata.py): the object count,
every object's size, and for every object whose ETag is a plain MD5 (a
single PUT) that the MD5 is one of the input files' MD5s.  With sha256
it also GETs a single-object workload and compares the SHA-256 of what
comes back with the input file's.  Unless told to keep them, it then
deletes the objects and aborts unfinished multipart uploads under the
prefix.
"""
import collections
import hashlib
import json
import sys

import botocore.config
import botocore.exceptions
import botocore.session


def client(endpoint):
    cfg = botocore.config.Config(
        s3={"addressing_style": "path"},
        retries={"max_attempts": 5, "mode": "standard"},
        max_pool_connections=16)
    return botocore.session.get_session().create_client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", config=cfg)


def mkbucket(c, bucket):
    try:
        c.create_bucket(Bucket=bucket)
    except botocore.exceptions.ClientError as e:
        if e.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou",
                                               "BucketAlreadyExists"):
            raise


def list_all(c, bucket, prefix):
    objs = []
    for page in c.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix):
        objs.extend(page.get("Contents", []))
    return objs


def clean(c, bucket, prefix, objs):
    keys = [{"Key": o["Key"]} for o in objs]
    for i in range(0, len(keys), 1000):
        c.delete_objects(Bucket=bucket,
                         Delete={"Objects": keys[i:i + 1000],
                                 "Quiet": True})
    for page in c.get_paginator("list_multipart_uploads").paginate(
            Bucket=bucket, Prefix=prefix):
        for up in page.get("Uploads", []):
            c.abort_multipart_upload(Bucket=bucket, Key=up["Key"],
                                     UploadId=up["UploadId"])


def verify(objs, want):
    if len(objs) != want["count"]:
        return "%d objects, want %d" % (len(objs), want["count"])
    bad = [o for o in objs if o["Size"] != want["file_size"]]
    if bad:
        return "%s: %d bytes, want %d" % (bad[0]["Key"], bad[0]["Size"],
                                          want["file_size"])
    if not want.get("md5"):
        return None
    left = collections.Counter(want["md5"])
    for o in objs:
        etag = o["ETag"].strip('"')
        if "-" in etag:
            continue  # multipart ETag: not an MD5 of the content
        if left[etag] <= 0:
            return "%s: ETag %s matches no input file" % (o["Key"], etag)
        left[etag] -= 1
    return None


def get_sha256(c, bucket, key):
    h = hashlib.sha256()
    body = c.get_object(Bucket=bucket, Key=key)["Body"]
    for chunk in iter(lambda: body.read(8 << 20), b""):
        h.update(chunk)
    return h.hexdigest()


def check(c, bucket, prefix, want, sha256=False, delete=True):
    """Returns (problem or None, details dict)."""
    prefix = prefix.rstrip("/") + "/"
    info = {"objects": 0, "bytes": 0, "md5_checked": 0, "sha256": None}
    try:
        objs = list_all(c, bucket, prefix)
        info["objects"] = len(objs)
        info["bytes"] = sum(o["Size"] for o in objs)
        info["md5_checked"] = sum(1 for o in objs
                                  if "-" not in o["ETag"].strip('"'))
        problem = verify(objs, want)
        if not problem and sha256 and want["count"] == 1 and want["sha256"]:
            got = get_sha256(c, bucket, objs[0]["Key"])
            info["sha256"] = "match" if got == want["sha256"] else got
            if got != want["sha256"]:
                problem = "GET: SHA-256 %s, want %s" % (got, want["sha256"])
        if delete:
            clean(c, bucket, prefix, objs)
    except botocore.exceptions.BotoCoreError as e:
        problem = "%s: %s" % (type(e).__name__, e)
    except botocore.exceptions.ClientError as e:
        problem = str(e)
    return problem, info


def main():
    args = sys.argv[1:]
    if args[:1] == ["mkbucket"] and len(args) == 3:
        mkbucket(client(args[1]), args[2])
        return 0
    sha = "--sha256" in args
    args = [a for a in args if a != "--sha256"]
    if args[:1] != ["check"] or len(args) != 6:
        sys.exit(__doc__.split("\n\n")[2])
    endpoint, bucket, prefix, manifest, workload = args[1:]
    with open(manifest) as f:
        want = json.load(f)["workloads"][workload]
    problem, info = check(client(endpoint), bucket, prefix, want, sha)
    if problem:
        print("FAIL: " + problem)
        return 1
    print("ok: %d objects, %d bytes" % (info["objects"], info["bytes"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
