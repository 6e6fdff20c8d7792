#!/usr/bin/python3
"""Smoke test of an S3 endpoint with botocore (Debian's python3-botocore).

Usage: rgw_smoke.py ENDPOINT ACCESS_KEY SECRET_KEY

Creates a bucket, puts and gets an object, does a two-part multipart
upload (5 MiB + 1 byte), checks that requests signed with a wrong secret
(and with an unknown access key) are refused with 403, then removes what
it made. Exits 0 when everything checks out, 1 on the first failure.
"""

import hashlib
import os
import sys
import uuid

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

MIB = 1024 * 1024


class SmokeFailure(Exception):
    pass


def client(endpoint, access, secret):
    config = Config(
        region_name="us-east-1",
        s3={"addressing_style": "path"},
        signature_version="s3v4",
        # Fail fast: a retried request would hide the first error.
        retries={"total_max_attempts": 1},
        connect_timeout=10,
        read_timeout=60,
    )
    session = botocore.session.get_session()
    return session.create_client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access,
        aws_secret_access_key=secret,
        config=config,
    )


def check(cond, what):
    if not cond:
        raise SmokeFailure(what)
    print("ok:", what)


def get_body(s3, bucket, key):
    resp = s3.get_object(Bucket=bucket, Key=key)
    return resp["Body"].read()


def expect_refused(s3, bucket, code, what):
    try:
        s3.put_object(Bucket=bucket, Key="refused", Body=b"x")
    except ClientError as err:
        status = err.response["ResponseMetadata"]["HTTPStatusCode"]
        got = err.response["Error"].get("Code")
        check(status == 403 and got == code,
              "%s refused: %s %s (want 403 %s)" % (what, status, got, code))
        return
    raise SmokeFailure("%s was accepted" % what)


def run(endpoint, access, secret):
    s3 = client(endpoint, access, secret)
    bucket = "ferry-smoke-" + uuid.uuid4().hex[:12]

    s3.create_bucket(Bucket=bucket)
    check(True, "create bucket " + bucket)
    try:
        small = os.urandom(1000) + "ünïcode ✓".encode()
        s3.put_object(Bucket=bucket, Key="small.bin", Body=small)
        check(get_body(s3, bucket, "small.bin") == small,
              "put + get small object")

        key = "multi/part.bin"
        parts_data = [os.urandom(5 * MIB), b"!"]
        upload = s3.create_multipart_upload(Bucket=bucket, Key=key)
        upload_id = upload["UploadId"]
        parts = []
        for number, data in enumerate(parts_data, start=1):
            resp = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id,
                                  PartNumber=number, Body=data)
            parts.append({"PartNumber": number, "ETag": resp["ETag"]})
        # RGW answers Complete with an empty ETag; HEAD has the real one.
        s3.complete_multipart_upload(Bucket=bucket, Key=key,
                                     UploadId=upload_id,
                                     MultipartUpload={"Parts": parts})
        whole = b"".join(parts_data)
        check(get_body(s3, bucket, key) == whole,
              "multipart upload (5 MiB + 1 byte) read back intact")
        want_etag = '"%s-2"' % hashlib.md5(b"".join(
            hashlib.md5(d).digest() for d in parts_data)).hexdigest()
        head = s3.head_object(Bucket=bucket, Key=key)
        check(head["ETag"] == want_etag and
              head["ContentLength"] == len(whole),
              "multipart HEAD: ETag %s, %d bytes" %
              (head["ETag"], head["ContentLength"]))

        expect_refused(client(endpoint, access, secret + "x"), bucket,
                       "SignatureDoesNotMatch", "wrong secret")
        expect_refused(client(endpoint, "NOSUCH" + access, secret), bucket,
                       "InvalidAccessKeyId", "unknown access key")
    finally:
        # Leave the server as we found it, even after a failure.
        try:
            for key in ("small.bin", "multi/part.bin"):
                s3.delete_object(Bucket=bucket, Key=key)
            s3.delete_bucket(Bucket=bucket)
        except (ClientError, BotoCoreError) as err:
            print("warning: cleanup failed:", err, file=sys.stderr)


def main(argv):
    if len(argv) != 4:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        run(*argv[1:])
    except SmokeFailure as err:
        print("FAIL:", err, file=sys.stderr)
        return 1
    except (ClientError, BotoCoreError) as err:
        print("FAIL: %s: %s" % (type(err).__name__, err), file=sys.stderr)
        return 1
    print("rgw_smoke: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
