#!/usr/bin/python3
"""Bucket set-up and upload checks for bench/run.sh (Debian botocore).

usage: s3check.py mkbucket ENDPOINT BUCKET
       s3check.py check ENDPOINT BUCKET PREFIX MANIFEST WORKLOAD

Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.

"check" lists everything under PREFIX/ and compares it with the
workload's entry in MANIFEST (written by gendata.py): the number of
objects, their total size, and for every object whose ETag is a plain
MD5 (a single PUT), that the MD5 is one of the files' MD5s.  Then it
deletes every object and aborts every unfinished multipart upload under
the prefix, so that repeated GiB uploads do not fill the test cluster.
It prints one line and exits 0 if the upload was complete, 1 if not.
"""
import collections
import json
import sys

import botocore.config
import botocore.exceptions
import botocore.session


def client(endpoint):
    cfg = botocore.config.Config(
        s3={"addressing_style": "path"},
        retries={"max_attempts": 5, "mode": "standard"})
    return botocore.session.get_session().create_client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", config=cfg)


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
    pages = c.get_paginator("list_multipart_uploads").paginate(
        Bucket=bucket, Prefix=prefix)
    for page in pages:
        for up in page.get("Uploads", []):
            c.abort_multipart_upload(Bucket=bucket, Key=up["Key"],
                                     UploadId=up["UploadId"])


def verify(objs, want):
    count = len(objs)
    size = sum(o["Size"] for o in objs)
    if count != want["count"]:
        return "%d objects, want %d" % (count, want["count"])
    if size != want["bytes"]:
        return "%d bytes in all, want %d" % (size, want["bytes"])
    left = collections.Counter(want["md5"])
    for o in objs:
        etag = o["ETag"].strip('"')
        if "-" in etag:
            continue  # multipart ETag: not an MD5 of the content
        if left[etag] <= 0:
            return "%s: ETag %s matches no input file" % (o["Key"], etag)
        left[etag] -= 1
    return None


def main():
    args = sys.argv[1:]
    if args[:1] == ["mkbucket"] and len(args) == 3:
        client(args[1]).create_bucket(Bucket=args[2])
        return 0
    if args[:1] != ["check"] or len(args) != 6:
        sys.exit(__doc__.split("\n\n")[1])
    endpoint, bucket, prefix, manifest, workload = args[1:]
    prefix = prefix.rstrip("/") + "/"
    with open(manifest) as f:
        want = json.load(f)[workload]
    c = client(endpoint)
    try:
        objs = list_all(c, bucket, prefix)
        problem = verify(objs, want)
        clean(c, bucket, prefix, objs)
    except botocore.exceptions.BotoCoreError as e:
        problem = "%s: %s" % (type(e).__name__, e)
    except botocore.exceptions.ClientError as e:
        problem = str(e)
    if problem:
        print("FAIL: " + problem)
        return 1
    print("ok: %d objects, %d bytes" % (len(objs), want["bytes"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
