#!/usr/bin/env python3
"""s3strict: a strict, fault-injecting S3 server for testing ferry.

Why it exists: real S3 (and permissive emulators) accept many subtly wrong
requests, and never fail on cue.  This server implements the small part of
the S3 REST API that ferry uses, checks every request's AWS Signature V4
with an implementation written independently of ferry's, and lets a test
inject failures (503, 500, connection resets, delays, bogus ETags, clock
skew, "200 OK with an error inside") at run time.

It uses the Python 3 standard library only.

Usage:
    s3strict.py --data-dir DIR --access-key AK --secret-key SK
                [--port 0] [--port-file FILE] [--host 127.0.0.1]
                [--region us-east-1] [--session-token TOKEN]
                [--clock-offset SECONDS] [--min-part-size BYTES]
                [--idle-timeout SECONDS] [--flavour s3|gcs] [--verbose]

With --port 0 a free port is chosen; it is written to --port-file (atomic
rename) and "listening on PORT" is printed to stdout.

Addressing is path-style only: /BUCKET and /BUCKET/KEY.  The request path
is never normalised: "x//y", "./a/../b" are literal keys.

Supported operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
GetBucketLocation, ListObjects (v1 and v2), PutObject, GetObject (single
Range), HeadObject, DeleteObject, CreateMultipartUpload, UploadPart,
ListParts, CompleteMultipartUpload, AbortMultipartUpload,
ListMultipartUploads.

Control API (no signature needed, never logged, never faulted):
    POST   /_ferry/faults   body: JSON rule or list of rules (appended)
    GET    /_ferry/faults   current rules with remaining counts
    DELETE /_ferry/faults   remove all rules
    GET    /_ferry/log      JSON list of S3 requests seen so far
    DELETE /_ferry/log      forget them

A fault rule:
    {"op": "put" | "part" | "complete" | "create" | "list_parts" | "head"
           | "list" | "get" | "delete" | "abort" | "list_uploads"
           | "create_bucket" | "head_bucket" | "delete_bucket"
           | "list_buckets" | "any",            (default "any")
     "fault": "503-slowdown" | "500" | "reset" | "delay"
              | "complete-200-error" | "skew" | "corrupt-etag"
              | "drop-answer" (the request takes effect, the answer is
                replaced by a connection reset),
     "part_number": int,      only requests with this partNumber
     "key_contains": str,     only keys containing this text
     "times": int,            matching requests faulted (default 1,
                              -1 = forever)
     "skip": int,             matching requests let through first
                              (default 0)
     "seconds": number,       delay: sleep length (default 1);
                              skew: Date header offset (default 0)
     "retry_after": int}      503-slowdown: Retry-After header value

Rules are checked in order, only for requests that passed the signature
checks; the first matching rule applies.  Faulted requests change no state,
except "delay" (sleeps, then answers normally) and "corrupt-etag" (acts
normally, but every ETag in the answer is wrong).  "reset" reads half the
body then closes with a TCP RST.  "skew" answers 403 RequestTimeTooSkewed
with a Date header `seconds` ahead of the server clock.

A log entry:
    {"seq": 1, "time": 1700000000.5, "conn": 3, "client_port": 51234,
     "method": "PUT", "path": "/bucket/raw%20path", "query": "raw=query",
     "op": "put", "bucket": "bucket", "key": "raw path", "part_number": null,
     "status": 200, "error": null, "fault": null, "body_bytes": 5,
     "headers": {"lower-case-name": "value", ...}}
"status" is null when no answer was sent (reset, client gone); "error" is
the S3 error Code sent, if any; the Authorization header's signature is
shown as "Signature=***".

--flavour gcs: Google Cloud Storage's XML API with HMAC keys
    (default --flavour s3 behaves exactly as without the option.)
    Signatures: both V4 dialects GCS accepts with HMAC keys are checked by
    the same code, parametrised by dialect (see Dialect below):
      GOOG4-HMAC-SHA256  key "GOOG4"+secret, scope DATE/LOC/storage/
                         goog4_request, x-goog-date, x-goog-content-sha256
      AWS4-HMAC-SHA256   key "AWS4"+secret, scope DATE/LOC/ANY/aws4_request,
                         x-amz-date, x-amz-content-sha256
    LOC may be any value (GCS ignores it; clients send "auto").  Every
    x-goog-* and x-amz-* header sent must be signed, the content-sha256
    headers included (GCS itself lets those two go unsigned; ferry signs
    them, and s3strict is stricter here on purpose).  The content-sha256
    header of the request's dialect is required: what GCS assumes when
    it is missing is undocumented, so s3strict refuses to guess.
    Errors (see gcs_skew_error and S3Handler.check_sha256 for why):
      date more than 15 min off   400 ExpiredToken
      body != content-sha256      400 BadDigest
      bad signature               403 SignatureDoesNotMatch, with
                                  <StringToSign> and <CanonicalRequest>
      malformed auth, signed      400 MalformedSecurityHeader
      header missing or unsigned
    Error bodies: <?xml version='1.0' encoding='UTF-8'?><Error><Code/>
    <Message/><Details/>...</Error>, no RequestId.  Every answer carries
    x-guploader-uploadid instead of x-amz-request-id and x-amz-id-2.
    Objects: a single PUT gets an MD5 ETag and "x-goog-hash: md5=B64"
    (crc32c is neither computed nor checked; a request's x-goog-hash md5
    is checked).  An object assembled by CompleteMultipartUpload is a
    composite: its ETag is "<32 hex>-<parts>", deliberately not S3's
    MD5-of-MD5s, and it has no md5 at all (no x-goog-hash).  PUT and
    Complete answers carry x-goog-generation; HEAD and GET carry
    x-goog-generation, x-goog-metageneration, x-goog-stored-content-length
    and x-goog-hash (when there is an md5).  User metadata is x-goog-meta-*
    (x-amz-meta-* is stored under that name too).  Faults and the control
    API work as in s3 flavour; the errors they answer are in GCS's shape
    ("skew" answers 400 ExpiredToken, with the shifted Date header).
"""

import argparse
import base64
import datetime
import email.utils
import hashlib
import hmac
import itertools
import json
import os
import re
import secrets
import shutil
import socket
import struct
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax import saxutils

import servekit

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED = "UNSIGNED-PAYLOAD"
MAX_SKEW = 15 * 60
MIB = 1 << 20
CHUNK = MIB
MAX_OBJECT = 5 * 1024 ** 3
MAX_SMALL_BODY = 16 * MIB
MAX_KEY_BYTES = 1024
MAX_PART_NUMBER = 10000
MAX_LIST = 1000
MAX_LOG = 200000
S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>'
GCS_XML_DECL = "<?xml version='1.0' encoding='UTF-8'?>"
GCS_ERROR_TYPE = "application/xml; charset=UTF-8"
# Extra error elements GCS shows as such; other details go in <Details>.
GCS_ERROR_ELEMENTS = ("StringToSign", "CanonicalRequest")
GCS_BAD_SIGNATURE = ("The request signature we calculated does not match "
                     "the signature you provided. Check your Google secret "
                     "key and signing method.")
OWNER_ID = "5f3c0ffee5f3c0ffee5f3c0ffee5f3c0ffee5f3c0ffee5f3c0ffee5f3c0ffee"
HEX64 = re.compile(r"[0-9a-f]{64}")
BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")
AMZ_DATE = re.compile(r"(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z")
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
# Shared by all connections; see S3Handler.hash_and_write.
HASHER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="md5")
XML_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
HEADER_WS = re.compile(r"[ \t]+")

# Query parameters naming S3 features this server does not implement.
# Answering 501 beats silently treating e.g. ?acl as a plain GetObject.
UNSUPPORTED_SUBRESOURCES = frozenset("""
    accelerate acl analytics attributes cors delete encryption
    intelligent-tiering inventory legal-hold lifecycle logging metrics
    notification object-lock ownershipControls policy publicAccessBlock
    replication requestPayment restore retention select tagging torrent
    versionId versioning versions website""".split())

ERRORS = {
    "AccessDenied": (403, "Access Denied"),
    "AuthorizationHeaderMalformed":
        (400, "The authorization header is malformed."),
    "BadDigest":
        (400, "The Content-MD5 you specified did not match what we "
              "received."),
    "BucketAlreadyOwnedByYou":
        (409, "Your previous request to create the named bucket "
              "succeeded and you already own it."),
    "BucketNotEmpty":
        (409, "The bucket you tried to delete is not empty"),
    "ExpiredToken": (400, "Invalid argument."),  # gcs flavour only
    "EntityTooLarge":
        (400, "Your proposed upload exceeds the maximum allowed size"),
    "EntityTooSmall":
        (400, "Your proposed upload is smaller than the minimum "
              "allowed size"),
    "IllegalLocationConstraintException":
        (400, "The location constraint is incompatible with the region "
              "of this endpoint."),
    "InternalError":
        (500, "We encountered an internal error. Please try again."),
    "InvalidAccessKeyId":
        (403, "The AWS Access Key Id you provided does not exist in our "
              "records."),
    "InvalidArgument": (400, "Invalid Argument"),
    "InvalidBucketName": (400, "The specified bucket is not valid."),
    "InvalidDigest":
        (400, "The Content-MD5 you specified was invalid."),
    "InvalidPart":
        (400, "One or more of the specified parts could not be found. "
              "The part may not have been uploaded, or the specified "
              "entity tag may not match the part's entity tag."),
    "InvalidPartOrder":
        (400, "The list of parts was not in ascending order. Parts must "
              "be ordered by part number."),
    "InvalidRange": (416, "The requested range is not satisfiable"),
    "InvalidRequest": (400, "Invalid Request"),
    "InvalidToken":
        (403, "The provided token is malformed or otherwise invalid."),
    "InvalidURI": (400, "Couldn't parse the specified URI."),
    "KeyTooLongError": (400, "Your key is too long"),
    "MalformedXML":
        (400, "The XML you provided was not well-formed or did not "
              "validate against our published schema"),
    "MalformedSecurityHeader":  # gcs flavour only
        (400, "Your request has a malformed header."),
    "MaxMessageLengthExceeded": (400, "Your request was too big."),
    "MethodNotAllowed":
        (405, "The specified method is not allowed against this "
              "resource."),
    "MissingContentLength":
        (411, "You must provide the Content-Length HTTP header."),
    "NoSuchBucket": (404, "The specified bucket does not exist"),
    "NoSuchKey": (404, "The specified key does not exist."),
    "NoSuchUpload":
        (404, "The specified upload does not exist. The upload ID may be "
              "invalid, or the upload may have been aborted or "
              "completed."),
    "NotImplemented":
        (501, "A header or query you provided implies functionality "
              "that is not implemented"),
    "RequestTimeTooSkewed":
        (403, "The difference between the request time and the current "
              "time is too large."),
    "SignatureDoesNotMatch":
        (403, "The request signature we calculated does not match the "
              "signature you provided. Check your key and signing "
              "method."),
    "SlowDown": (503, "Please reduce your request rate."),
    "XAmzContentSHA256Mismatch":
        (400, "The provided 'x-amz-content-sha256' header does not match "
              "what was computed."),
}


class S3Error(Exception):
    """An S3 error answer: status, Code, Message and extra XML elements."""

    def __init__(self, code, message=None, extra=None, headers=(),
                 details=None):
        status, default = ERRORS[code]
        super().__init__(f"{code}: {message or default}")
        self.status = status
        self.code = code
        self.message = message or default
        self.extra = extra or {}
        self.headers = list(headers)
        self.date_shift = 0.0
        # GCS flavour's <Details>; None: made from `extra`.
        self.details = details


class ClientGone(ConnectionError):
    """The client closed the connection before sending the whole body."""


# ---------------------------------------------------------------- helpers

def iso8601(ts, millis=True):
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts))
    if not millis:
        return base + "Z"
    return "%s.%03dZ" % (base, int(ts * 1000) % 1000)


def http_date(ts):
    return email.utils.formatdate(ts, usegmt=True)


def parse_amz_date(value):
    """Seconds since the epoch for a strict YYYYMMDDTHHMMSSZ, else None."""
    match = AMZ_DATE.fullmatch(value or "")
    if not match:
        return None
    try:
        when = datetime.datetime(*map(int, match.groups()),
                                 tzinfo=datetime.timezone.utc)
    except ValueError:
        return None
    return when.timestamp()


def pct_decode(raw):
    """Percent-decode a wire string (latin-1 str) to bytes, strictly."""
    data = raw.encode("latin-1")
    if BAD_ESCAPE.search(data):
        raise S3Error("InvalidURI")
    return urllib.parse.unquote_to_bytes(data)


def decode_text(raw):
    try:
        return pct_decode(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise S3Error("InvalidURI") from None


def uri_encode(data, safe):
    """SigV4 UriEncode: all bytes but A-Za-z0-9-._~ and `safe`, upper hex."""
    return urllib.parse.quote(data, safe=safe)


def parse_query(raw_query):
    """Decoded (name, value) pairs; '+' stays '+' as in SigV4 decoding."""
    pairs = []
    for item in raw_query.split("&"):
        if item:
            name, _, value = item.partition("=")
            pairs.append((decode_text(name), decode_text(value)))
    return pairs


def xml_escape(value):
    text = saxutils.escape(str(value), {'"': "&quot;"})
    # XML 1.0 cannot carry most control characters even escaped; S3 emits
    # numeric references anyway, so do the same rather than crash.
    return XML_CTRL.sub(lambda m: "&#x%x;" % ord(m.group()), text)


def text_el(tag, value):
    return f"<{tag}>{xml_escape(value)}</{tag}>"


def node(tag, *children):
    return f"<{tag}>{''.join(children)}</{tag}>"


def document(root, *children):
    body = "".join(children)
    return (f'{XML_DECL}\n<{root} xmlns="{S3_NS}">{body}</{root}>'
            ).encode("utf-8")


def error_document(code, message, resource, request_id, extra=None):
    fields = [text_el("Code", code), text_el("Message", message)]
    fields += [text_el(k, v) for k, v in (extra or {}).items()]
    fields += [text_el("Resource", resource),
               text_el("RequestId", request_id)]
    return f"{XML_DECL}\n{node('Error', *fields)}".encode("utf-8")


def gcs_error_document(code, message, details, elements=()):
    """An error body as GCS's XML API writes it: no RequestId, no ns."""
    fields = [text_el("Code", code), text_el("Message", message),
              text_el("Details", details)]
    fields += [text_el(name, value) for name, value in elements]
    return f"{GCS_XML_DECL}{node('Error', *fields)}".encode("utf-8")


def rfc3339(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(ts))


def owner_xml(tag="Owner"):
    return node(tag, text_el("ID", OWNER_ID),
                text_el("DisplayName", "ferry"))


def quoted(etag):
    return f'"{etag}"'


def strip_ns(tag):
    return tag.rsplit("}", 1)[-1]


def discard(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def bounded_int(text, name, low, high, default):
    """Parse a numeric query parameter the way S3 validates it."""
    if text is None:
        return default
    if not re.fullmatch(r"-?\d+", text):
        raise S3Error("InvalidArgument", f"{name} must be an integer",
                      {"ArgumentName": name, "ArgumentValue": text})
    value = int(text)
    if value < low:
        raise S3Error("InvalidArgument", f"{name} must be >= {low}",
                      {"ArgumentName": name, "ArgumentValue": text})
    return min(value, high)


# ------------------------------------------------------------ Signature V4

class Dialect:
    """One spelling of the V4 signature: AWS's, or Google's for HMAC keys.

    GCS accepts both with HMAC keys; the algorithm is the same, only these
    names differ (GCS "Signatures" and "Simple migration" pages).
    """

    def __init__(self, algorithm, key_prefix, service, terminator,
                 date_header, sha_header):
        self.algorithm = algorithm
        self.key_prefix = key_prefix
        self.service = service
        self.terminator = terminator
        self.date_header = date_header
        self.sha_header = sha_header


AWS4 = Dialect(ALGORITHM, "AWS4", "s3", "aws4_request", "x-amz-date",
               "x-amz-content-sha256")
GOOG4 = Dialect("GOOG4-HMAC-SHA256", "GOOG4", "storage", "goog4_request",
                "x-goog-date", "x-goog-content-sha256")


class ParsedAuth:
    """The pieces of a V4 Authorization header (AWS4, or GOOG4 in gcs)."""

    def __init__(self, value, gcs=False):
        dialects = (GOOG4, AWS4) if gcs else (AWS4,)
        bad = gcs_malformed if gcs else malformed
        found = [d for d in dialects if value.startswith(d.algorithm + " ")]
        if not found:
            if gcs:
                raise S3Error("InvalidArgument", "s3strict supports only "
                              "GOOG4-HMAC-SHA256 and AWS4-HMAC-SHA256 "
                              "Authorization headers",
                              details="Unsupported Authorization type")
            if value.startswith("AWS "):
                raise S3Error("InvalidRequest",
                              "The authorization mechanism you have "
                              "provided is not supported. Please use "
                              "AWS4-HMAC-SHA256.")
            raise S3Error("InvalidArgument", "Unsupported Authorization "
                          "Type", {"ArgumentName": "Authorization"})
        self.dialect = dialect = found[0]
        self.bad = bad
        fields = {}
        for item in value[len(dialect.algorithm) + 1:].split(","):
            name, sep, val = item.strip().partition("=")
            if not sep or name in fields:
                raise bad(f"bad component {item.strip()!r}")
            fields[name] = val
        if set(fields) != {"Credential", "SignedHeaders", "Signature"}:
            raise bad("need Credential, SignedHeaders, Signature")
        self.credential = fields["Credential"].split("/")
        if len(self.credential) != 5:
            shape = ("ID/date/location/service/" + dialect.terminator
                     if gcs else "AK/date/region/s3/aws4_request")
            raise bad("Credential must be " + shape)
        self.signed_text = fields["SignedHeaders"]
        self.signed = self.signed_text.split(";")
        self.signature = fields["Signature"]
        self.access_key = self.credential[0]
        self.scope = "/".join(self.credential[1:])

    def check_signed_list(self):
        # A list that is not lower-case, sorted and unique would make the
        # client's canonical request differ from the one S3 builds.
        if self.signed != sorted(set(h.lower() for h in self.signed)):
            raise self.bad("SignedHeaders must be lower-case, sorted and "
                           "unique: " + self.signed_text)


def malformed(detail):
    return S3Error("AuthorizationHeaderMalformed",
                   f"The authorization header is malformed; {detail}")


def gcs_malformed(detail):
    return S3Error("MalformedSecurityHeader", details=detail)


def canonical_uri(raw_path):
    """The path as sent, decoded once and re-encoded canonically."""
    return uri_encode(pct_decode(raw_path), "/")


def canonical_query(raw_query):
    pairs = []
    for item in raw_query.split("&"):
        if item:
            name, _, value = item.partition("=")
            pairs.append((uri_encode(pct_decode(name), ""),
                          uri_encode(pct_decode(value), "")))
    pairs.sort()
    return "&".join(f"{name}={value}" for name, value in pairs)


def canonical_headers(headers, names):
    lines = []
    for name in names:
        # Only ASCII blanks: values are latin-1 decoded, and str.strip()
        # would also eat U+00A0, which is half of some UTF-8 characters.
        values = [HEADER_WS.sub(" ", v.strip(" \t"))
                  for v in headers.get_all(name) or []]
        lines.append(f"{name}:{','.join(values)}\n")
    return "".join(lines)


def signing_key(secret, date, region, service, dialect=AWS4):
    key = (dialect.key_prefix + secret).encode("utf-8")
    for part in (date, region, service, dialect.terminator):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def gcs_skew_error(stamp, when, now):
    """What gcs flavour answers to a date more than MAX_SKEW off.

    GCS documents no RequestTimeTooSkewed for the XML API.  The answer it
    is seen to give to a V4 signature used outside its validity window
    (signed URLs, whose window a header-signed request shares: 15 minutes
    either side of x-goog-date per the "Signatures" page) is HTTP 400,
    Code ExpiredToken, Message "Invalid argument.", Details "The provided
    token has expired. Request signature expired at: <RFC 3339>".  That
    is the closest GCS shape, so both directions of skew answer it.
    """
    if when < now:
        details = ("The provided token has expired. Request signature "
                   f"expired at: {rfc3339(when + MAX_SKEW)}")
    else:
        details = (f"The request is not yet valid: it is dated {stamp}, "
                   f"more than {MAX_SKEW // 60} minutes after the server "
                   f"time {rfc3339(now)}")
    return S3Error("ExpiredToken", details=details)


class Verifier:
    """Checks a request's Authorization header against one credential."""

    def __init__(self, cfg, clock):
        self.cfg = cfg
        self.clock = clock
        self.gcs = getattr(cfg, "flavour", "s3") == "gcs"

    def verify(self, req, headers):
        """Raise S3Error unless signed correctly; return payload hash."""
        value = headers.get("Authorization")
        if value is None:
            wanted = ("a GOOG4-HMAC-SHA256 or AWS4-HMAC-SHA256" if self.gcs
                      else "an AWS4-HMAC-SHA256")
            raise S3Error("AccessDenied", f"s3strict needs {wanted} "
                          "Authorization header")
        auth = ParsedAuth(value, self.gcs)
        dialect = req.dialect = auth.dialect
        if auth.access_key != self.cfg.access_key:
            if self.gcs:
                raise S3Error("InvalidAccessKeyId", "The Access Key Id you "
                              "provided does not exist in our records.",
                              details=f"Unknown access id "
                              f"{auth.access_key}")
            raise S3Error("InvalidAccessKeyId",
                          extra={"AWSAccessKeyId": auth.access_key})
        self.check_token(headers)
        stamp = headers.get(dialect.date_header)
        when = req.request_time = parse_amz_date(stamp)
        if when is None:
            if self.gcs:
                raise gcs_malformed(f"a valid {dialect.date_header} header "
                                    "(YYYYMMDDTHHMMSSZ) is required")
            raise S3Error("AccessDenied", "AWS authentication requires a "
                          "valid x-amz-date header (YYYYMMDDTHHMMSSZ)")
        self.check_scope(auth, stamp)
        payload = self.payload_hash(headers, dialect)
        auth.check_signed_list()
        self.check_signed_set(auth, headers)
        self.check_signature(req, headers, auth, stamp, payload)
        self.check_skew(stamp, when)
        return payload

    def check_token(self, headers):
        sent = headers.get_all("x-amz-security-token")
        want = self.cfg.session_token
        if want is None and sent is None:
            return
        if want is None or sent is None or len(sent) != 1 \
                or not hmac.compare_digest(sent[0], want):
            raise S3Error("InvalidToken")

    def check_scope(self, auth, stamp):
        date, region, service, term = auth.credential[1:]
        dialect = auth.dialect
        if date != stamp[:8]:
            raise auth.bad(f"Invalid credential date {date!r}; it must "
                           f"be the date of {dialect.date_header} "
                           f"{stamp!r}")
        if self.gcs:
            self.check_gcs_scope(auth)
            return
        if region != self.cfg.region:
            err = malformed(f"the region '{region}' is wrong; expecting "
                            f"'{self.cfg.region}'")
            err.extra["Region"] = self.cfg.region
            raise err
        if service != "s3" or term != "aws4_request":
            raise malformed("credential scope must end in "
                            "/s3/aws4_request")

    @staticmethod
    def check_gcs_scope(auth):
        # GCS: the location "can be any value"; with AWS4 any service
        # name works too ("you don't need to change credential scope").
        _, region, service, term = auth.credential[1:]
        dialect = auth.dialect
        if not region or not service:
            raise gcs_malformed("empty location or service in Credential")
        if dialect is GOOG4 and service != dialect.service:
            raise gcs_malformed("a GOOG4 credential scope must end in "
                                "/storage/goog4_request")
        if term != dialect.terminator:
            raise gcs_malformed(f"credential scope must end in "
                                f"/{dialect.terminator}")

    def payload_hash(self, headers, dialect=AWS4):
        name = dialect.sha_header
        values = headers.get_all(name)
        if not values:
            if self.gcs:
                raise S3Error("InvalidArgument", details=(
                    f"s3strict requires the {name} header (what GCS "
                    "assumes without it is undocumented)"))
            raise S3Error("InvalidRequest", "Missing required header for "
                          "this request: x-amz-content-sha256")
        value = values[0]
        if len(values) > 1 or not (value == UNSIGNED
                                   or HEX64.fullmatch(value)):
            if value.startswith("STREAMING-"):
                raise S3Error("NotImplemented", "aws-chunked payloads are "
                              "not supported by s3strict",
                              {"Header": name})
            raise S3Error("InvalidArgument", f"{name} must "
                          "be UNSIGNED-PAYLOAD or a lower-case SHA-256",
                          {"ArgumentName": name,
                           "ArgumentValue": value})
        return value

    def check_signed_set(self, auth, headers):
        if self.gcs:
            self.check_gcs_signed_set(auth, headers)
            return
        signed = set(auth.signed)
        if "host" not in signed:
            raise S3Error("AccessDenied", "The host header must be signed",
                          {"HeadersNotSigned": "host"})
        sent = {name.lower() for name in headers.keys()}
        unsigned = sorted(n for n in sent - signed
                          if n.startswith("x-amz-"))
        if unsigned:
            raise S3Error("AccessDenied", "There were headers present in "
                          "the request which were not signed",
                          {"HeadersNotSigned": ", ".join(unsigned)})
        missing = sorted(signed - sent)
        if missing:
            raise S3Error("SignatureDoesNotMatch", "Signed header(s) not "
                          "present in the request: " + ", ".join(missing))

    @staticmethod
    def check_gcs_signed_set(auth, headers):
        signed = set(auth.signed)
        if "host" not in signed:
            raise gcs_malformed("The host header must be signed.")
        sent = {name.lower() for name in headers.keys()}
        unsigned = sorted(n for n in sent - signed
                          if n.startswith(("x-goog-", "x-amz-")))
        if unsigned:
            raise gcs_malformed("Header was included in the request, but "
                                "not in signedheaders: " +
                                ", ".join(unsigned))
        missing = sorted(signed - sent)
        if missing:
            # GCS's own wording for this case.
            raise gcs_malformed("Header was included in signedheaders, but "
                                "not in the request: " + ", ".join(missing))

    def check_signature(self, req, headers, auth, stamp, payload):
        creq = "\n".join([
            req.method, canonical_uri(req.raw_path),
            canonical_query(req.raw_query),
            canonical_headers(headers, auth.signed), auth.signed_text,
            payload])
        creq_bytes = creq.encode("latin-1")
        dialect = auth.dialect
        to_sign = "\n".join([dialect.algorithm, stamp, auth.scope,
                             hashlib.sha256(creq_bytes).hexdigest()])
        date, region, service = auth.credential[1:4]
        key = signing_key(self.cfg.secret_key, date, region, service,
                          dialect)
        want = hmac.new(key, to_sign.encode("utf-8"),
                        hashlib.sha256).hexdigest()
        if hmac.compare_digest(want, auth.signature):
            return
        if self.gcs:
            raise S3Error("SignatureDoesNotMatch", "Access denied.", extra={
                "StringToSign": to_sign,
                "CanonicalRequest": creq_bytes.decode("latin-1")},
                details=GCS_BAD_SIGNATURE)
        raise S3Error("SignatureDoesNotMatch", extra={
            "AWSAccessKeyId": auth.access_key,
            "StringToSign": to_sign,
            "CanonicalRequest": creq_bytes.decode("latin-1")})

    def check_skew(self, stamp, when):
        now = self.clock()
        if abs(when - now) <= MAX_SKEW:
            return
        if self.gcs:
            raise gcs_skew_error(stamp, when, now)
        raise S3Error("RequestTimeTooSkewed", extra={
            "RequestTime": stamp,
            "ServerTime": iso8601(now, millis=False),
            "MaxAllowedSkewMilliseconds": str(MAX_SKEW * 1000)})


# ----------------------------------------------------------------- faults

FAULT_OPS = frozenset("""
    put part complete create list_parts head list get delete abort
    list_uploads create_bucket head_bucket delete_bucket list_buckets
    any""".split())
FAULT_KINDS = frozenset("""
    503-slowdown 500 reset delay complete-200-error skew
    corrupt-etag drop-answer""".split())
RULE_FIELDS = frozenset("""
    op fault part_number key_contains times skip seconds
    retry_after""".split())


def check_type(rule, name, kinds, test=lambda v: True):
    value = rule.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, kinds) \
            or not test(value):
        raise ValueError(f"bad value for {name!r}: {value!r}")


def validate_rule(rule):
    """Return a normalised copy of a fault rule, or raise ValueError."""
    if not isinstance(rule, dict):
        raise ValueError("a rule must be a JSON object")
    unknown = set(rule) - RULE_FIELDS
    if unknown:
        raise ValueError(f"unknown rule fields: {sorted(unknown)}")
    if rule.get("fault") not in FAULT_KINDS:
        raise ValueError(f"fault must be one of {sorted(FAULT_KINDS)}")
    if rule.get("op", "any") not in FAULT_OPS:
        raise ValueError(f"op must be one of {sorted(FAULT_OPS)}")
    check_type(rule, "part_number", int)
    check_type(rule, "key_contains", str)
    check_type(rule, "times", int, lambda v: v >= 1 or v == -1)
    check_type(rule, "skip", int, lambda v: v >= 0)
    check_type(rule, "seconds", (int, float), lambda v: v >= 0)
    check_type(rule, "retry_after", int, lambda v: v >= 0)
    default_seconds = 1 if rule["fault"] == "delay" else 0
    return dict({"op": "any", "times": 1, "skip": 0,
                 "seconds": default_seconds}, **rule)


def rule_matches(rule, req):
    if rule["op"] not in ("any", req.op):
        return False
    number = rule.get("part_number")
    if number is not None and number != req.part_number:
        return False
    text = rule.get("key_contains")
    return text is None or text in (req.key or "")


class Faults(servekit.RuleList):
    """The active fault rules; each match uses up one of its `times`."""

    def take(self, req):
        """The rule that faults this request, if any, counted as used."""
        return super().take(lambda rule: rule_matches(rule, req))


class RequestLog:
    """What the server saw, for tests to assert on via GET /_ferry/log."""

    def __init__(self):
        self.lock = threading.Lock()
        self.settled = threading.Condition(self.lock)
        self.entries = []
        self.seq = itertools.count(1)
        # Requests already answered but not yet added: a client can read
        # its answer before the handler gets to add() it.
        self.unlogged = 0

    def answered(self):
        with self.lock:
            self.unlogged += 1

    def add(self, entry, answered=False):
        with self.lock:
            entry["seq"] = next(self.seq)
            self.entries.append(entry)
            if len(self.entries) > MAX_LOG:
                del self.entries[:len(self.entries) - MAX_LOG]
            if answered:
                self.unlogged -= 1
                self.settled.notify_all()

    def _settle(self):
        """With the lock held: wait until every answer sent is logged."""
        self.settled.wait_for(lambda: self.unlogged == 0, timeout=5)

    def snapshot(self):
        with self.lock:
            self._settle()
            return list(self.entries)

    def clear(self):
        with self.lock:
            self._settle()
            self.entries = []


# ------------------------------------------------------------------ store

class Blob:
    """A body received to a file, with its size and MD5 (hex)."""

    def __init__(self, path, size, md5):
        self.path, self.size, self.md5 = path, size, md5


class Generations:
    """GCS-style object generations: microseconds, strictly increasing."""

    def __init__(self):
        self.lock = threading.Lock()
        self.last = 0

    def next(self):
        with self.lock:
            self.last = max(self.last + 1, int(time.time() * 1e6))
            return self.last


GENERATIONS = Generations()


class Obj:
    def __init__(self, blob, etag, mtime, content_type, meta):
        self.path, self.size = blob.path, blob.size
        self.etag, self.mtime = etag, mtime
        self.content_type, self.meta = content_type, meta
        # Hex MD5 of the body, None for a multipart (composite) object.
        self.md5 = blob.md5
        self.generation = GENERATIONS.next()


class Part:
    def __init__(self, number, blob, mtime):
        self.number, self.mtime = number, mtime
        self.path, self.size, self.etag = blob.path, blob.size, blob.md5


class Upload:
    def __init__(self, bucket, key, initiated, content_type, meta):
        self.upload_id = (secrets.token_urlsafe(30) + "." +
                          secrets.token_urlsafe(9))
        self.bucket, self.key = bucket, key
        self.initiated = initiated
        self.content_type, self.meta = content_type, meta
        self.parts = {}
        # Held by Complete for its whole run so parts cannot change under
        # it; lock order is always upload.lock, then Store.lock.
        self.lock = threading.Lock()


class Bucket:
    def __init__(self, name, created):
        self.name, self.created = name, created
        self.objects = {}


class Store:
    """Buckets, objects and uploads; bodies live in files under root.

    Metadata is in memory only.  Every body version gets its own file so
    that a reader holding an open file keeps a consistent view while a
    writer replaces the object.
    """

    def __init__(self, root, clock):
        self.blob_dir = os.path.join(root, "s3strict-blobs")
        # The directory is ours alone, so stale files from an earlier run
        # can go.
        shutil.rmtree(self.blob_dir, ignore_errors=True)
        os.makedirs(self.blob_dir)
        self.clock = clock
        self.lock = threading.Lock()
        self.buckets = {}
        self.uploads = {}
        self.completed = {}

    def new_blob_path(self):
        return os.path.join(self.blob_dir, uuid.uuid4().hex)

    def create_bucket(self, name):
        with self.lock:
            if name in self.buckets:
                return False
            self.buckets[name] = Bucket(name, self.clock())
            return True

    def delete_bucket(self, name):
        with self.lock:
            bucket = self.bucket_locked(name)
            busy = any(u.bucket == name for u in self.uploads.values())
            if bucket.objects or busy:
                raise S3Error("BucketNotEmpty", extra={"BucketName": name})
            del self.buckets[name]

    def bucket(self, name):
        with self.lock:
            return self.bucket_locked(name)

    def bucket_locked(self, name):
        bucket = self.buckets.get(name)
        if bucket is None:
            raise S3Error("NoSuchBucket", extra={"BucketName": name})
        return bucket

    def list_buckets(self):
        with self.lock:
            return sorted(self.buckets.values(), key=lambda b: b.name)

    def put_object(self, bucket_name, key, obj):
        with self.lock:
            try:
                bucket = self.bucket_locked(bucket_name)
            except S3Error:
                discard(obj.path)
                raise
            old = bucket.objects.get(key)
            bucket.objects[key] = obj
        if old is not None:
            discard(old.path)

    def open_object(self, bucket_name, key):
        """The object's metadata and an open file, consistent together."""
        with self.lock:
            bucket = self.bucket_locked(bucket_name)
            obj = bucket.objects.get(key)
            if obj is None:
                raise S3Error("NoSuchKey", extra={"Key": key})
            return obj, open(obj.path, "rb")

    def head_object(self, bucket_name, key):
        with self.lock:
            obj = self.bucket_locked(bucket_name).objects.get(key)
            if obj is None:
                raise S3Error("NoSuchKey", extra={"Key": key})
            return obj

    def delete_object(self, bucket_name, key):
        with self.lock:
            bucket = self.bucket_locked(bucket_name)
            old = bucket.objects.pop(key, None)
        if old is not None:
            discard(old.path)

    def sorted_objects(self, bucket_name):
        with self.lock:
            items = list(self.bucket_locked(bucket_name).objects.items())
        # S3 lists in UTF-8 byte order, not in code point order.
        items.sort(key=lambda item: item[0].encode("utf-8"))
        return items

    def create_upload(self, bucket_name, key, content_type, meta):
        with self.lock:
            self.bucket_locked(bucket_name)
            upload = Upload(bucket_name, key, self.clock(), content_type,
                            meta)
            self.uploads[upload.upload_id] = upload
            return upload

    def upload(self, bucket_name, key, upload_id):
        with self.lock:
            self.bucket_locked(bucket_name)
            upload = self.uploads.get(upload_id)
            if upload is None or upload.bucket != bucket_name \
                    or upload.key != key:
                raise S3Error("NoSuchUpload", extra={"UploadId": upload_id})
            return upload

    def put_part(self, upload, part):
        with upload.lock, self.lock:
            if self.uploads.get(upload.upload_id) is not upload:
                discard(part.path)
                raise S3Error("NoSuchUpload",
                              extra={"UploadId": upload.upload_id})
            old = upload.parts.get(part.number)
            upload.parts[part.number] = part
        if old is not None:
            discard(old.path)

    def sorted_parts(self, upload):
        with self.lock:
            return sorted(upload.parts.values(), key=lambda p: p.number)

    def still_open(self, upload):
        with self.lock:
            return self.uploads.get(upload.upload_id) is upload

    def finish_upload(self, upload, obj, wanted):
        """Publish the assembled object; the caller holds upload.lock."""
        with self.lock:
            del self.uploads[upload.upload_id]
            self.completed[upload.upload_id] = (upload.bucket, upload.key,
                                                obj.etag, wanted,
                                                obj.generation)
            # A bucket with open uploads cannot be deleted, so it exists.
            objects = self.buckets[upload.bucket].objects
            old = objects.get(upload.key)
            objects[upload.key] = obj
        for part in upload.parts.values():
            discard(part.path)
        if old is not None:
            discard(old.path)

    def repeated_complete(self, bucket, key, upload_id, wanted):
        """(ETag, generation) of an identical earlier Complete, or None."""
        with self.lock:
            done = self.completed.get(upload_id)
        if done and done[:2] == (bucket, key) and done[3] == wanted:
            return done[2], done[4]
        return None

    def abort(self, upload):
        with upload.lock, self.lock:
            if self.uploads.pop(upload.upload_id, None) is None:
                raise S3Error("NoSuchUpload",
                              extra={"UploadId": upload.upload_id})
        for part in upload.parts.values():
            discard(part.path)

    def uploads_in(self, bucket_name):
        with self.lock:
            self.bucket_locked(bucket_name)
            found = [u for u in self.uploads.values()
                     if u.bucket == bucket_name]
        found.sort(key=lambda u: (u.key.encode("utf-8"), u.initiated,
                                  u.upload_id))
        return found


def copy_file_into(src_path, out):
    """Append a file to `out`, in the kernel where possible (fast)."""
    with open(src_path, "rb", buffering=0) as src:
        size = os.fstat(src.fileno()).st_size
        done = 0
        try:
            while done < size:
                n = os.copy_file_range(src.fileno(), out.fileno(),
                                       size - done)
                if n == 0:
                    break
                done += n
        except OSError:
            # Filesystems without copy_file_range: copy in user space from
            # where the kernel copy stopped (file offsets were advanced).
            shutil.copyfileobj(src, out, CHUNK)


def parse_range(value, size):
    """(start, end) inclusive for a single byte range, or None for all.

    Like S3, unparsable or multi-range headers are ignored.
    """
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", (value or "").strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":
        length = int(last)
        if length == 0 or size == 0:
            raise range_error(size)
        return max(size - length, 0), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if start > (int(last) if last else start):
        return None
    if start >= size:
        raise range_error(size)
    return start, end


def range_error(size):
    return S3Error("InvalidRange", extra={"ActualObjectSize": str(size)},
                   headers=[("Content-Range", f"bytes */{size}")])


def list_entries(items, prefix, delimiter, marker, limit):
    """Walk sorted (key, obj) items as S3 ListObjects does.

    Returns (entries, truncated) where entries are ("key", key, obj) or
    ("prefix", common_prefix, None); `marker` is exclusive and may name a
    common prefix returned earlier.
    """
    out, last_prefix = [], None
    if limit == 0:
        return out, False  # as S3 does for max-keys=0
    for key, obj in items:
        if not key.startswith(prefix) or (marker and
                                          key.encode() <= marker.encode()):
            continue
        common = None
        if delimiter:
            cut = key.find(delimiter, len(prefix))
            if cut >= 0:
                common = key[:cut + len(delimiter)]
        if common is not None and common in (last_prefix, marker):
            continue
        if len(out) >= limit:
            return out, True
        if common is None:
            out.append(("key", key, obj))
        else:
            out.append(("prefix", common, None))
            last_prefix = common
    return out, False


def parse_complete_body(body):
    """[(part_number, etag_hex)] from a CompleteMultipartUpload body."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        raise S3Error("MalformedXML") from None
    if strip_ns(root.tag) != "CompleteMultipartUpload":
        raise S3Error("MalformedXML")
    wanted = []
    for part in root:
        if strip_ns(part.tag) != "Part":
            raise S3Error("MalformedXML")
        fields = {strip_ns(f.tag): (f.text or "").strip() for f in part}
        number, etag = fields.get("PartNumber"), fields.get("ETag")
        if number is None or etag is None or not number.isdigit():
            raise S3Error("MalformedXML")
        wanted.append((int(number), etag.strip('"').lower()))
    if not wanted:
        raise S3Error("MalformedXML", "You must specify at least one part")
    return wanted


def check_parts(upload, parts, wanted, min_size):
    """The Part objects named by `wanted`, validated as S3 does."""
    have = {p.number: p for p in parts}
    chosen, previous = [], 0
    for number, etag in wanted:
        if number <= previous:
            raise S3Error("InvalidPartOrder",
                          extra={"UploadId": upload.upload_id})
        previous = number
        part = have.get(number)
        if part is None or part.etag != etag:
            raise S3Error("InvalidPart", extra={
                "UploadId": upload.upload_id, "PartNumber": str(number),
                "ETag": etag})
        chosen.append(part)
    for part in chosen[:-1]:
        if part.size < min_size:
            raise S3Error("EntityTooSmall", extra={
                "ProposedSize": str(part.size),
                "MinSizeAllowed": str(min_size),
                "PartNumber": str(part.number),
                "ETag": quoted(part.etag)})
    return chosen


def multipart_etag(parts):
    digests = b"".join(bytes.fromhex(p.etag) for p in parts)
    return f"{hashlib.md5(digests).hexdigest()}-{len(parts)}"


def composite_etag(parts):
    """gcs flavour: the ETag of an object assembled from parts.

    GCS composite objects have no MD5, and GCS documents no rule for
    their ETag.  This one has S3's shape but another digest, so that a
    client cannot pass by recomputing S3's MD5-of-MD5s for GCS.
    """
    digests = b"".join(bytes.fromhex(p.etag) for p in parts)
    return f"{hashlib.sha256(digests).hexdigest()[:32]}-{len(parts)}"


def corrupt_etag(etag):
    """A well-formed but wrong ETag (same shape, different digest)."""
    digest, sep, count = etag.partition("-")
    wrong = hashlib.md5((digest + "corrupt").encode()).hexdigest()
    return wrong + sep + count


# ---------------------------------------------------------------- requests

# op name -> (handler method, whether the body is streamed to a file)
OPERATIONS = {
    "list_buckets": ("op_list_buckets", False),
    "create_bucket": ("op_create_bucket", False),
    "head_bucket": ("op_head_bucket", False),
    "delete_bucket": ("op_delete_bucket", False),
    "location": ("op_location", False),
    "list": ("op_list", False),
    "list_uploads": ("op_list_uploads", False),
    "put": ("op_put", True),
    "get": ("op_get", False),
    "head": ("op_head", False),
    "delete": ("op_delete", False),
    "create": ("op_create", False),
    "part": ("op_part", True),
    "list_parts": ("op_list_parts", False),
    "complete": ("op_complete", False),
    "abort": ("op_abort", False),
}


class Req:
    """Facts about one request, gathered while serving it and logged."""

    def __init__(self, method, target, gcs=False):
        self.method = method
        self.gcs = gcs
        self.raw_path, _, self.raw_query = target.partition("?")
        self.request_id = secrets.token_hex(8).upper()
        self.dialect = self.request_time = None  # set by Verifier
        self.bucket = self.key = self.op = self.part_number = None
        self.query = {}
        self.length = 0
        self.body_bytes = 0
        self.body_consumed = False
        self.continue_sent = False
        self.payload_hash = None
        self.status = self.error = self.fault = None
        self.delay = 0.0
        self.corrupt = False
        self.drop = False
        self.date_shift = 0.0
        self.responded = False

    def parse_target(self):
        if not self.raw_path.startswith("/"):
            raise S3Error("InvalidURI")
        bucket, slash, key = self.raw_path[1:].partition("/")
        self.bucket = decode_text(bucket)
        self.key = decode_text(key) if slash and key else None
        for name, value in parse_query(self.raw_query):
            self.query.setdefault(name, value)
        if self.key is not None and \
                len(self.key.encode("utf-8")) > MAX_KEY_BYTES:
            raise S3Error("KeyTooLongError")

    def classify(self, headers):
        unsupported = UNSUPPORTED_SUBRESOURCES.intersection(self.query)
        if unsupported:
            raise S3Error("NotImplemented", "s3strict does not implement "
                          "?" + ",".join(sorted(unsupported)))
        if not self.bucket:
            if self.raw_path != "/":
                raise S3Error("InvalidBucketName", "empty bucket name")
            op = {"GET": "list_buckets"}.get(self.method)
        elif self.key is None:
            op = self.bucket_op()
        else:
            op = self.object_op(headers)
        if op is None:
            raise S3Error("MethodNotAllowed",
                          extra={"Method": self.method})
        self.op = op

    def bucket_op(self):
        q, method = self.query, self.method
        if method == "GET":
            if "uploads" in q:
                return "list_uploads"
            return "location" if "location" in q else "list"
        return {"PUT": "create_bucket", "HEAD": "head_bucket",
                "DELETE": "delete_bucket"}.get(method)

    def object_op(self, headers):
        q, method = self.query, self.method
        if headers.get("x-amz-copy-source") is not None:
            raise S3Error("NotImplemented", "copy is not implemented",
                          {"Header": "x-amz-copy-source"})
        if self.gcs and headers.get("x-goog-copy-source") is not None:
            raise S3Error("NotImplemented", "copy is not implemented",
                          {"Header": "x-goog-copy-source"})
        if method == "PUT":
            if "partNumber" in q or "uploadId" in q:
                self.part_number = self.parse_part_number()
                return "part"
            return "put"
        if method == "POST":
            if "uploads" in q:
                return "create"
            return "complete" if "uploadId" in q else None
        with_upload = "uploadId" in q
        return {"GET": "list_parts" if with_upload else "get",
                "HEAD": None if with_upload else "head",
                "DELETE": "abort" if with_upload else "delete"
                }.get(method)

    def parse_part_number(self):
        text = self.query.get("partNumber")
        if "uploadId" not in self.query or text is None:
            raise S3Error("InvalidRequest", "UploadPart needs both "
                          "partNumber and uploadId")
        if not text.isdigit() or \
                not 1 <= int(text) <= MAX_PART_NUMBER:
            raise S3Error("InvalidArgument", "Part number must be an "
                          "integer between 1 and 10000, inclusive",
                          {"ArgumentName": "partNumber",
                           "ArgumentValue": text})
        return int(text)


def redact_headers(headers):
    out = {}
    for name, value in headers.items():
        name = name.lower()
        if name == "authorization":
            value = re.sub(r"Signature=[^,\s]*", "Signature=***", value)
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


class S3Handler(BaseHTTPRequestHandler):
    """One client connection; HTTP/1.1 keep-alive, one request at a time."""

    protocol_version = "HTTP/1.1"
    server_version = "AmazonS3"
    sys_version = ""

    # ------------------------------------------------------------ plumbing

    def setup(self):
        self.timeout = self.server.cfg.idle_timeout
        super().setup()
        # Headers and body go out in separate writes; without NODELAY the
        # second can wait for a delayed ACK (40 ms per small request).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY,
                                   1)
        self.conn_id = next(self.server.conn_ids)
        self.req = None

    def parse_request(self):
        self.expect_continue = False
        return super().parse_request()

    def handle_expect_100(self):
        # Defer "100 Continue" until the body is wanted, so a rejected
        # request is answered before the client sends its body, as S3 does.
        self.expect_continue = True
        return True

    def date_time_string(self, timestamp=None):
        if timestamp is None:
            shift = self.req.date_shift if self.req else 0.0
            timestamp = self.server.now() + shift
        return http_date(timestamp)

    def version_string(self):
        return "UploadServer" if self.server.gcs else self.server_version

    def log_request(self, code="-", size="-"):
        pass  # one line per request is written by record() instead

    def log_message(self, fmt, *args):
        if self.server.cfg.verbose:
            sys.stderr.write("s3strict: %s\n" % (fmt % args))

    def do_GET(self):
        self.dispatch()

    do_PUT = do_POST = do_HEAD = do_DELETE = do_GET

    def dispatch(self):
        self.req = req = Req(self.command, self.path, self.server.gcs)
        if req.raw_path.startswith("/_ferry/"):
            self.control()
            return
        try:
            try:
                self.serve()
            except S3Error as err:
                self.send_s3_error(err)
        except (ConnectionError, TimeoutError) as exc:
            # The client went away (or stalled): nothing left to answer.
            self.close_connection = True
            req.error = req.error or type(exc).__name__
        except Exception:  # a server bug: say so loudly, answer 500
            traceback.print_exc()
            self.close_connection = True
            if not req.responded:
                self.answer_internal_error()
        finally:
            self.record()

    def answer_internal_error(self):
        try:
            self.send_s3_error(S3Error("InternalError"))
        except OSError:
            pass

    def serve(self):
        req = self.req
        req.length = self.body_length()
        req.parse_target()
        req.classify(self.headers)
        req.payload_hash = self.server.verifier.verify(req, self.headers)
        if self.apply_fault():
            return
        method, streamed = OPERATIONS[req.op]
        if streamed:
            getattr(self, method)()
        else:
            getattr(self, method)(self.read_small_body())

    def body_length(self):
        if self.headers.get("Transfer-Encoding") is not None:
            # Unknown body framing: the connection cannot be reused.
            self.close_connection = True
            raise S3Error("NotImplemented", "Transfer-Encoding is not "
                          "supported; send Content-Length",
                          {"Header": "Transfer-Encoding"})
        values = self.headers.get_all("Content-Length")
        if not values:
            return None
        if len(set(values)) != 1 or not values[0].strip().isdigit():
            self.close_connection = True
            raise S3Error("InvalidArgument", "bad Content-Length",
                          {"ArgumentName": "Content-Length"})
        return int(values[0])

    def record(self):
        req = self.req
        entry = {
            "time": time.time(), "conn": self.conn_id,
            "client_port": self.client_address[1],
            "method": req.method, "path": req.raw_path,
            "query": req.raw_query, "op": req.op, "bucket": req.bucket,
            "key": req.key, "part_number": req.part_number,
            "status": req.status, "error": req.error, "fault": req.fault,
            "body_bytes": req.body_bytes,
            "headers": redact_headers(self.headers)}
        self.server.log.add(entry, answered=req.responded)
        if self.server.cfg.verbose:
            sys.stderr.write(
                f"s3strict: conn {self.conn_id} {req.method} "
                f"{self.path} -> {req.status} {req.error or ''} "
                f"op={req.op} fault={req.fault} "
                f"body={req.body_bytes}\n")

    # ----------------------------------------------------------- responses

    def send_head(self, status, headers=(), length=0, ctype=None):
        req = self.req
        if req.delay:
            time.sleep(req.delay)
            req.delay = 0.0
        self.send_response(status)
        if self.server.gcs:
            # GCS has no request id; this header is what support asks for.
            self.send_header("x-guploader-uploadid",
                             "ABg" + secrets.token_urlsafe(60))
        else:
            self.send_header("x-amz-request-id", req.request_id)
            self.send_header("x-amz-id-2", base64.b64encode(
                req.request_id.encode()).decode())
        for name, value in headers:
            self.send_header(name, value)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(length))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not req.responded and not req.raw_path.startswith("/_ferry/"):
            self.server.log.answered()
        req.status, req.responded = status, True

    def reply(self, status, body=b"", headers=(), ctype=None):
        if self.req is not None and getattr(self.req, "drop", False):
            self.req.error = "AnswerDropped"
            self.close_connection = True
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.rfile.close()
            return
        if body and ctype is None:
            ctype = "application/xml"
        self.send_head(status, headers, len(body), ctype)
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def reply_xml(self, root, *children, headers=()):
        self.reply(200, document(root, *children), headers)

    def send_s3_error(self, err):
        req = self.req
        req.error = err.code
        req.date_shift = err.date_shift
        self.settle_body()
        if self.server.gcs:
            self.reply(err.status, self.gcs_error_body(err), err.headers,
                       GCS_ERROR_TYPE)
            return
        body = error_document(err.code, err.message, req.raw_path,
                              req.request_id, err.extra)
        self.reply(err.status, body, err.headers)

    def gcs_error_body(self, err):
        req = self.req
        extra = dict(err.extra)
        elements = [(name, extra.pop(name)) for name in GCS_ERROR_ELEMENTS
                    if name in extra]
        details = err.details
        if details is None and err.code == "NoSuchKey":
            details = f"No such object: {req.bucket}/{req.key}"
        elif details is None:
            details = "; ".join(f"{name}: {value}"
                                for name, value in extra.items())
        return gcs_error_document(err.code, err.message,
                                  details or req.raw_path, elements)

    def settle_body(self):
        """Before an early answer: read the unread body or plan to close."""
        req = self.req
        if req.body_consumed or not req.length:
            return
        if self.expect_continue and not req.continue_sent:
            # The client is waiting for 100; it will not send the body.
            self.close_connection = True
            return
        for _ in self.body_chunks():
            pass

    def etag_out(self, etag):
        return quoted(corrupt_etag(etag) if self.req.corrupt else etag)

    # ---------------------------------------------------------------- body

    def send_continue(self):
        req = self.req
        if self.expect_continue and not req.continue_sent:
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            req.continue_sent = True

    def body_chunks(self, limit=None):
        """Yield the body (or its first `limit` bytes) in CHUNK views.

        Two buffers alternate: a view stays valid while the next one is
        being used (so it can be hashed in another thread), no longer.
        """
        req = self.req
        remaining = req.length or 0
        if limit is not None:
            remaining = min(remaining, limit)
        if remaining:
            self.send_continue()
        size = min(CHUNK, max(remaining, 1))
        bufs = [memoryview(bytearray(size)) for _ in range(2)]
        for turn in itertools.count():
            if not remaining:
                break
            buf = bufs[turn % 2]
            n = self.rfile.readinto(buf[:min(remaining, size)])
            if not n:
                raise ClientGone("body shorter than Content-Length")
            remaining -= n
            req.body_bytes += n
            yield buf[:n]
        if req.body_bytes == (req.length or 0):
            req.body_consumed = True

    def read_small_body(self):
        req = self.req
        if (req.length or 0) > MAX_SMALL_BODY:
            raise S3Error("MaxMessageLengthExceeded")
        body = b"".join(bytes(c) for c in self.body_chunks())
        if req.payload_hash != UNSIGNED:
            self.check_sha256(hashlib.sha256(body).hexdigest())
        return body

    def check_sha256(self, computed):
        if computed == self.req.payload_hash:
            return
        if self.server.gcs:
            # GCS documents no code for a body that does not match
            # x-goog-content-sha256.  BadDigest is its documented code for
            # a body that does not match a digest the client declared
            # (Content-MD5, x-goog-hash), so that is the closest shape.
            name = self.req.dialect.sha_header
            raise S3Error("BadDigest", f"The {name} you specified did not "
                          "match what we received.", details=(
                              f"{name} was {self.req.payload_hash}; the "
                              f"SHA-256 of the body is {computed}"))
        raise S3Error("XAmzContentSHA256Mismatch", extra={
            "ClientComputedContentSHA256": self.req.payload_hash,
            "S3ComputedContentSHA256": computed})

    def check_goog_hash(self, digest):
        """gcs flavour: the md5 of any x-goog-hash header must match."""
        for value in self.headers.get_all("x-goog-hash") or []:
            for item in value.split(","):
                name, sep, encoded = item.strip().partition("=")
                if not sep:
                    raise S3Error("InvalidDigest",
                                  details=f"bad x-goog-hash {value!r}")
                if name != "md5":
                    continue  # crc32c is not implemented here
                try:
                    sent = base64.b64decode(encoded, validate=True)
                except ValueError:
                    sent = b""
                if len(sent) != 16:
                    raise S3Error("InvalidDigest",
                                  details=f"bad x-goog-hash {value!r}")
                if sent != digest:
                    raise S3Error("BadDigest", details=(
                        f"x-goog-hash md5 was {encoded}; the body's is "
                        f"{base64.b64encode(digest).decode()}"))

    def check_content_md5(self, digest):
        value = self.headers.get("Content-MD5")
        if value is None:
            return
        try:
            sent = base64.b64decode(value.strip(), validate=True)
        except ValueError:
            sent = b""
        if len(sent) != 16:
            raise S3Error("InvalidDigest", extra={"Content-MD5": value})
        if sent != digest:
            raise S3Error("BadDigest", extra={
                "ExpectedDigest": value,
                "CalculatedDigest": base64.b64encode(digest).decode()})

    def receive_blob(self):
        """Stream the body to a new file, hashing as it goes; verify it."""
        req = self.req
        if req.length is None:
            raise S3Error("MissingContentLength")
        if req.length > MAX_OBJECT:
            raise S3Error("EntityTooLarge", extra={
                "ProposedSize": str(req.length),
                "MaxSizeAllowed": str(MAX_OBJECT)})
        path = self.server.store.new_blob_path()
        md5 = hashlib.md5()
        sha = None if req.payload_hash == UNSIGNED else hashlib.sha256()
        try:
            with open(path, "wb") as out:
                self.hash_and_write(md5, sha, out)
            if sha:
                self.check_sha256(sha.hexdigest())
            self.check_content_md5(md5.digest())
            if self.server.gcs:
                self.check_goog_hash(md5.digest())
        except BaseException:
            discard(path)
            raise
        return Blob(path, req.length, md5.hexdigest())

    def hash_and_write(self, md5, sha, out):
        # MD5 is the slowest step; on a big body it runs in a helper
        # thread (hashlib drops the GIL) overlapping SHA-256, the write
        # and the next read.  Small bodies are not worth the hand-off.
        helper = HASHER if (self.req.length or 0) > 4 * CHUNK else None
        pending = None
        for chunk in self.body_chunks():
            if pending is not None:
                pending.result()  # the other buffer is free again
            if helper:
                pending = helper.submit(md5.update, chunk)
            else:
                md5.update(chunk)
            if sha:
                sha.update(chunk)
            out.write(chunk)
        if pending is not None:
            pending.result()

    # -------------------------------------------------------------- faults

    def apply_fault(self):
        """Act on a matching fault rule; True if the request is answered."""
        req = self.req
        rule = self.server.faults.take(req)
        if rule is None:
            return False
        kind = req.fault = rule["fault"]
        if kind == "delay":
            req.delay = float(rule["seconds"])
            return False
        if kind == "corrupt-etag":
            req.corrupt = True
            return False
        if kind == "drop-answer":
            # The request takes effect; only its answer is lost.
            req.drop = True
            return False
        if kind == "reset":
            self.reset_connection()
            return True
        if kind == "complete-200-error":
            self.settle_body()
            self.reply(200, self.embedded_error())
            req.error = "InternalError"
            return True
        raise self.fault_error(rule)

    def fault_error(self, rule):
        kind = rule["fault"]
        if kind == "503-slowdown":
            after = rule.get("retry_after")
            headers = [] if after is None else [("Retry-After", str(after))]
            return S3Error("SlowDown", headers=headers)
        if kind == "500":
            return S3Error("InternalError")
        # "skew": what S3 says to a request signed with a skewed clock.
        shift = float(rule["seconds"])
        if self.server.gcs:
            req = self.req
            stamp = self.headers.get(req.dialect.date_header, "")
            err = gcs_skew_error(stamp, req.request_time,
                                 self.server.now() + shift)
            err.date_shift = shift
            return err
        err = S3Error("RequestTimeTooSkewed", extra={
            "RequestTime": self.headers.get("x-amz-date", ""),
            "ServerTime": iso8601(self.server.now() + shift, False),
            "MaxAllowedSkewMilliseconds": str(MAX_SKEW * 1000)})
        err.date_shift = shift
        return err

    def embedded_error(self):
        # S3 may fail a Complete after sending "200 OK" and keep-alive
        # whitespace; the error then arrives as the body.
        if self.server.gcs:
            doc = gcs_error_document("InternalError",
                                     ERRORS["InternalError"][1],
                                     self.req.raw_path).decode("utf-8")
            decl, body = doc[:len(GCS_XML_DECL)], doc[len(GCS_XML_DECL):]
            return f"{decl}\n\n   \n{body}".encode("utf-8")
        fields = node("Error", text_el("Code", "InternalError"),
                      text_el("Message", ERRORS["InternalError"][1]),
                      text_el("RequestId", self.req.request_id))
        return f"{XML_DECL}\n\n   \n{fields}".encode("utf-8")

    def reset_connection(self):
        """Read half the body, then drop the connection with a TCP RST."""
        req = self.req
        for _ in self.body_chunks(limit=(req.length or 0) // 2):
            pass
        req.error = "ConnectionReset"
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack("ii", 1, 0))
        # The socket only really closes (sending RST) once rfile's
        # reference to it is gone too.
        self.rfile.close()
        self.connection.close()

    # ------------------------------------------------------------ control

    def control(self):
        try:
            length = self.body_length() or 0
        except S3Error:
            self.reply_json(400, {"error": "bad body framing"})
            return
        self.req.length = length
        body = b"".join(bytes(c) for c in self.body_chunks())
        route = (self.command, self.req.raw_path)
        server = self.server
        if route == ("POST", "/_ferry/faults"):
            self.add_faults(body)
        elif route == ("GET", "/_ferry/faults"):
            self.reply_json(200, server.faults.snapshot())
        elif route == ("DELETE", "/_ferry/faults"):
            server.faults.clear()
            self.reply_json(200, {"cleared": True})
        elif route == ("GET", "/_ferry/log"):
            self.reply_json(200, server.log.snapshot())
        elif route == ("DELETE", "/_ferry/log"):
            server.log.clear()
            self.reply_json(200, {"cleared": True})
        else:
            self.reply_json(404, {"error": "no such control endpoint"})

    def add_faults(self, body):
        try:
            rules = json.loads(body.decode("utf-8"))
            if isinstance(rules, dict):
                rules = [rules]
            if not isinstance(rules, list):
                raise ValueError("expected a rule or a list of rules")
            rules = [validate_rule(rule) for rule in rules]
        except ValueError as exc:  # JSONDecodeError is a ValueError
            self.reply_json(400, {"error": str(exc)})
            return
        self.server.faults.add(rules)
        self.reply_json(200, {"added": len(rules)})

    def reply_json(self, status, value):
        body = json.dumps(value).encode("utf-8")
        self.reply(status, body, ctype="application/json")

    # ------------------------------------------------------ bucket ops

    def op_list_buckets(self, _body):
        buckets = [node("Bucket", text_el("Name", b.name),
                        text_el("CreationDate", iso8601(b.created)))
                   for b in self.server.store.list_buckets()]
        self.reply_xml("ListAllMyBucketsResult", owner_xml(),
                       node("Buckets", *buckets))

    def op_create_bucket(self, body):
        name, cfg = self.req.bucket, self.server.cfg
        if not BUCKET_NAME.fullmatch(name) or ".." in name or \
                re.fullmatch(r"[\d.]+", name):
            raise S3Error("InvalidBucketName", extra={"BucketName": name})
        self.check_location(body)
        if not self.server.store.create_bucket(name) and \
                cfg.region != "us-east-1":
            # us-east-1 answers 200 to a re-create by the owner.
            raise S3Error("BucketAlreadyOwnedByYou",
                          extra={"BucketName": name})
        self.reply(200, headers=[("Location", "/" + name)])

    def check_location(self, body):
        region = self.server.cfg.region
        wanted = "us-east-1"
        if body.strip():
            try:
                root = ET.fromstring(body)
            except ET.ParseError:
                raise S3Error("MalformedXML") from None
            texts = [el.text or "" for el in root.iter()
                     if strip_ns(el.tag) == "LocationConstraint"]
            wanted = (texts[0].strip() if texts else "") or "us-east-1"
        if wanted != region:
            raise S3Error("IllegalLocationConstraintException",
                          f"The {wanted} location constraint is "
                          f"incompatible for the region specific endpoint "
                          f"this request was sent to ({region}).")

    def op_head_bucket(self, _body):
        self.server.store.bucket(self.req.bucket)
        self.reply(200, headers=[("x-amz-bucket-region",
                                  self.server.cfg.region)])

    def op_delete_bucket(self, _body):
        self.server.store.delete_bucket(self.req.bucket)
        self.reply(204)

    def op_location(self, _body):
        self.server.store.bucket(self.req.bucket)
        region = self.server.cfg.region
        text = "" if region == "us-east-1" else xml_escape(region)
        self.reply(200, (f'{XML_DECL}\n<LocationConstraint xmlns="{S3_NS}">'
                         f'{text}</LocationConstraint>').encode())

    def op_list(self, _body):
        q = self.req.query
        items = self.server.store.sorted_objects(self.req.bucket)
        limit = bounded_int(q.get("max-keys"), "max-keys", 0, MAX_LIST,
                            MAX_LIST)
        encode = q.get("encoding-type")
        if encode not in (None, "url"):
            raise S3Error("InvalidArgument", "Invalid Encoding Method",
                          {"ArgumentName": "encoding-type"})
        if q.get("list-type") == "2":
            self.list_v2(items, limit, encode)
        elif "list-type" in q:
            raise S3Error("InvalidArgument", "list-type must be 2",
                          {"ArgumentName": "list-type"})
        else:
            self.list_v1(items, limit, encode)

    def list_v2(self, items, limit, encode):
        q = self.req.query
        prefix, delim = q.get("prefix", ""), q.get("delimiter", "")
        token = q.get("continuation-token")
        start_after = q.get("start-after", "")
        marker = start_after
        if token is not None:
            marker = decode_token(token)
        entries, truncated = list_entries(items, prefix, delim, marker,
                                          limit)
        fields = [text_el("Name", self.req.bucket),
                  text_el("Prefix", self.enc(prefix, encode)),
                  text_el("KeyCount", len(entries)),
                  text_el("MaxKeys", limit),
                  text_el("IsTruncated", str(truncated).lower())]
        if delim:
            fields.append(text_el("Delimiter", self.enc(delim, encode)))
        if encode:
            fields.append(text_el("EncodingType", encode))
        if token is not None:
            fields.append(text_el("ContinuationToken", token))
        if start_after:
            fields.append(text_el("StartAfter",
                                  self.enc(start_after, encode)))
        if truncated:
            fields.append(text_el("NextContinuationToken",
                                  encode_token(entries[-1][1])))
        fields += self.entry_xml(entries, encode)
        self.reply_xml("ListBucketResult", *fields)

    def list_v1(self, items, limit, encode):
        q = self.req.query
        prefix, delim = q.get("prefix", ""), q.get("delimiter", "")
        marker = q.get("marker", "")
        entries, truncated = list_entries(items, prefix, delim, marker,
                                          limit)
        fields = [text_el("Name", self.req.bucket),
                  text_el("Prefix", self.enc(prefix, encode)),
                  text_el("Marker", self.enc(marker, encode)),
                  text_el("MaxKeys", limit),
                  text_el("IsTruncated", str(truncated).lower())]
        if delim:
            fields.append(text_el("Delimiter", self.enc(delim, encode)))
        if encode:
            fields.append(text_el("EncodingType", encode))
        if truncated:
            fields.append(text_el("NextMarker",
                                  self.enc(entries[-1][1], encode)))
        fields += self.entry_xml(entries, encode)
        self.reply_xml("ListBucketResult", *fields)

    def entry_xml(self, entries, encode):
        out = []
        for kind, name, obj in entries:
            if kind == "prefix":
                out.append(node("CommonPrefixes",
                                text_el("Prefix", self.enc(name, encode))))
                continue
            out.append(node(
                "Contents", text_el("Key", self.enc(name, encode)),
                text_el("LastModified", iso8601(obj.mtime)),
                text_el("ETag", self.etag_out(obj.etag)),
                text_el("Size", obj.size),
                text_el("StorageClass", "STANDARD")))
        return out

    @staticmethod
    def enc(text, encode):
        # S3's "url" encoding is form encoding: space becomes '+'.
        return urllib.parse.quote_plus(text, safe="/") if encode else text

    def op_list_uploads(self, _body):
        q = self.req.query
        limit = bounded_int(q.get("max-uploads"), "max-uploads", 0,
                            MAX_LIST, MAX_LIST)
        prefix = q.get("prefix", "")
        key_marker = q.get("key-marker", "")
        id_marker = q.get("upload-id-marker", "")
        uploads = [u for u in self.server.store.uploads_in(self.req.bucket)
                   if u.key.startswith(prefix)
                   and after_marker(u, key_marker, id_marker)]
        shown, truncated = uploads[:limit], len(uploads) > limit
        fields = [text_el("Bucket", self.req.bucket),
                  text_el("KeyMarker", key_marker),
                  text_el("UploadIdMarker", id_marker),
                  text_el("Prefix", prefix),
                  text_el("MaxUploads", limit),
                  text_el("IsTruncated", str(truncated).lower())]
        if truncated and shown:
            fields += [text_el("NextKeyMarker", shown[-1].key),
                       text_el("NextUploadIdMarker", shown[-1].upload_id)]
        fields += [node("Upload", text_el("Key", u.key),
                        text_el("UploadId", u.upload_id),
                        owner_xml("Initiator"), owner_xml(),
                        text_el("StorageClass", "STANDARD"),
                        text_el("Initiated", iso8601(u.initiated)))
                   for u in shown]
        self.reply_xml("ListMultipartUploadsResult", *fields)

    # ------------------------------------------------------ object ops

    def user_meta(self):
        if self.server.gcs:
            return self.gcs_user_meta()
        # Blanks around a header value are not part of it (RFC 9110).
        return [(name.lower(), value.strip(" \t"))
                for name, value in self.headers.items()
                if name.lower().startswith("x-amz-meta-")]

    def gcs_user_meta(self):
        # GCS takes x-amz-meta-* as x-goog-meta-* (same metadata).
        meta = []
        for name, value in self.headers.items():
            name = name.lower()
            for prefix in ("x-goog-meta-", "x-amz-meta-"):
                if name.startswith(prefix):
                    meta.append(("x-goog-meta-" + name[len(prefix):],
                                 value.strip(" \t")))
        return meta

    def content_type(self):
        default = ("application/octet-stream" if self.server.gcs
                   else "binary/octet-stream")
        return self.headers.get("Content-Type", default)

    def op_put(self):
        req, store = self.req, self.server.store
        store.bucket(req.bucket)  # fail before reading a large body
        blob = self.receive_blob()
        obj = Obj(blob, blob.md5, self.server.now(), self.content_type(),
                  self.user_meta())
        store.put_object(req.bucket, req.key, obj)
        headers = [("ETag", self.etag_out(obj.etag))]
        if self.server.gcs:
            headers += self.gcs_hash_headers(obj)
            headers += [("x-goog-generation", str(obj.generation)),
                        ("x-goog-metageneration", "1")]
        self.reply(200, headers=headers)

    @staticmethod
    def gcs_hash_headers(obj):
        # A composite (multipart) object has no MD5 in GCS; s3strict
        # computes no crc32c, so such an object has no x-goog-hash.
        if obj.md5 is None:
            return []
        md5 = base64.b64encode(bytes.fromhex(obj.md5)).decode()
        return [("x-goog-hash", "md5=" + md5)]

    def object_headers(self, obj):
        headers = [("ETag", self.etag_out(obj.etag)),
                   ("Last-Modified", http_date(obj.mtime)),
                   ("Accept-Ranges", "bytes")]
        if self.server.gcs:
            headers += [("x-goog-generation", str(obj.generation)),
                        ("x-goog-metageneration", "1"),
                        ("x-goog-stored-content-length", str(obj.size)),
                        ("x-goog-stored-content-encoding", "identity"),
                        ("x-goog-storage-class", "STANDARD")]
            headers += self.gcs_hash_headers(obj)
        return headers + list(obj.meta)

    def op_head(self, _body):
        obj = self.server.store.head_object(self.req.bucket, self.req.key)
        self.send_head(200, self.object_headers(obj), obj.size,
                       obj.content_type)

    def op_get(self, _body):
        obj, src = self.server.store.open_object(self.req.bucket,
                                                 self.req.key)
        with src:
            span = parse_range(self.headers.get("Range"), obj.size)
            status, start, count = 200, 0, obj.size
            headers = self.object_headers(obj)
            if span is not None:
                status, start = 206, span[0]
                count = span[1] - span[0] + 1
                headers.append(("Content-Range", f"bytes {span[0]}-"
                                f"{span[1]}/{obj.size}"))
            self.send_head(status, headers, count, obj.content_type)
            if count:
                self.connection.sendfile(src, start, count)

    def op_delete(self, _body):
        self.server.store.delete_object(self.req.bucket, self.req.key)
        self.reply(204)

    def op_create(self, _body):
        req = self.req
        upload = self.server.store.create_upload(
            req.bucket, req.key, self.content_type(), self.user_meta())
        self.reply_xml("InitiateMultipartUploadResult",
                       text_el("Bucket", req.bucket),
                       text_el("Key", req.key),
                       text_el("UploadId", upload.upload_id))

    def find_upload(self):
        req = self.req
        return self.server.store.upload(req.bucket, req.key,
                                        req.query.get("uploadId", ""))

    def op_part(self):
        upload = self.find_upload()  # fail before reading a large body
        blob = self.receive_blob()
        part = Part(self.req.part_number, blob, self.server.now())
        self.server.store.put_part(upload, part)
        self.reply(200, headers=[("ETag", self.etag_out(part.etag))])

    def op_list_parts(self, _body):
        q, upload = self.req.query, self.find_upload()
        limit = bounded_int(q.get("max-parts"), "max-parts", 0, MAX_LIST,
                            MAX_LIST)
        marker = bounded_int(q.get("part-number-marker"),
                             "part-number-marker", 0, MAX_PART_NUMBER, 0)
        parts = [p for p in self.server.store.sorted_parts(upload)
                 if p.number > marker]
        shown, truncated = parts[:limit], len(parts) > limit
        fields = [text_el("Bucket", upload.bucket),
                  text_el("Key", upload.key),
                  text_el("UploadId", upload.upload_id),
                  owner_xml("Initiator"), owner_xml(),
                  text_el("StorageClass", "STANDARD"),
                  text_el("PartNumberMarker", marker),
                  text_el("NextPartNumberMarker",
                          shown[-1].number if shown else 0),
                  text_el("MaxParts", limit),
                  text_el("IsTruncated", str(truncated).lower())]
        fields += [node("Part", text_el("PartNumber", p.number),
                        text_el("LastModified", iso8601(p.mtime)),
                        text_el("ETag", self.etag_out(p.etag)),
                        text_el("Size", p.size))
                   for p in shown]
        self.reply_xml("ListPartsResult", *fields)

    def op_complete(self, body):
        req, store = self.req, self.server.store
        upload_id = req.query.get("uploadId", "")
        wanted = parse_complete_body(body)
        try:
            upload = self.find_upload()
        except S3Error as err:
            done = store.repeated_complete(req.bucket, req.key, upload_id,
                                           wanted)
            if err.code != "NoSuchUpload" or done is None:
                raise
            # Like S3, a retried identical Complete succeeds again.
            self.complete_result(*done)
            return
        with upload.lock:
            if not store.still_open(upload):
                raise S3Error("NoSuchUpload", extra={"UploadId": upload_id})
            obj = self.assemble(upload, wanted)
            store.finish_upload(upload, obj, wanted)
        self.complete_result(obj.etag, obj.generation)

    def assemble(self, upload, wanted):
        store = self.server.store
        parts = check_parts(upload, store.sorted_parts(upload), wanted,
                            self.server.cfg.min_part_size)
        path = store.new_blob_path()
        try:
            with open(path, "wb", buffering=0) as out:
                for part in parts:
                    copy_file_into(part.path, out)
        except BaseException:
            discard(path)
            raise
        size = sum(p.size for p in parts)
        blob = Blob(path, size, None)
        etag = (composite_etag if self.server.gcs else multipart_etag)(parts)
        return Obj(blob, etag, self.server.now(), upload.content_type,
                   upload.meta)

    def complete_result(self, etag, generation):
        req = self.req
        host = self.headers.get("Host", "localhost")
        location = f"http://{host}/{req.bucket}/" + urllib.parse.quote(
            req.key, safe="/")
        headers = []
        if self.server.gcs:
            headers = [("x-goog-generation", str(generation)),
                       ("x-goog-metageneration", "1")]
        self.reply_xml("CompleteMultipartUploadResult",
                       text_el("Location", location),
                       text_el("Bucket", req.bucket),
                       text_el("Key", req.key),
                       text_el("ETag", self.etag_out(etag)),
                       headers=headers)

    def op_abort(self, _body):
        self.server.store.abort(self.find_upload())
        self.reply(204)


def encode_token(marker):
    return base64.urlsafe_b64encode(marker.encode("utf-8")).decode()


def decode_token(token):
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode(
            "utf-8")
    except (ValueError, UnicodeError):
        raise S3Error("InvalidArgument", "The continuation token provided "
                      "is incorrect",
                      {"ArgumentName": "continuation-token"}) from None


def after_marker(upload, key_marker, id_marker):
    key = upload.key.encode("utf-8")
    if not key_marker:
        return True
    if id_marker and upload.key == key_marker:
        return upload.upload_id > id_marker
    return key > key_marker.encode("utf-8")


# ------------------------------------------------------------------- main

class S3Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, cfg):
        super().__init__((cfg.host, cfg.port), S3Handler)
        self.cfg = cfg
        self.store = Store(cfg.data_dir, self.now)
        self.gcs = cfg.flavour == "gcs"
        self.verifier = Verifier(cfg, self.now)
        self.faults = Faults()
        self.log = RequestLog()
        self.conn_ids = itertools.count(1)

    def now(self):
        return time.time() + self.cfg.clock_offset


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Strict, fault-injecting S3 test server for ferry.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0,
                        help="0 picks a free port (default)")
    parser.add_argument("--port-file",
                        help="write the chosen port here (atomically)")
    parser.add_argument("--data-dir", required=True,
                        help="where object and part bodies are stored")
    parser.add_argument("--access-key", required=True)
    parser.add_argument("--secret-key", required=True)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--session-token",
                        help="require this x-amz-security-token")
    parser.add_argument("--clock-offset", type=float, default=0.0,
                        help="seconds added to the server's clock")
    parser.add_argument("--min-part-size", type=int, default=5 * MIB,
                        help="minimum size of all parts but the last")
    parser.add_argument("--idle-timeout", type=float, default=120.0,
                        help="seconds before an idle connection is closed")
    parser.add_argument("--flavour", choices=("s3", "gcs"), default="s3",
                        help="s3 (default), or gcs: Google Cloud Storage's "
                        "XML API with HMAC keys")
    parser.add_argument("--verbose", action="store_true",
                        help="log one line per request to stderr")
    return parser.parse_args(argv)


def main(argv=None):
    cfg = parse_args(argv)
    os.makedirs(cfg.data_dir, exist_ok=True)
    server = S3Server(cfg)
    return servekit.serve(server, cfg.port_file)


if __name__ == "__main__":
    sys.exit(main())
