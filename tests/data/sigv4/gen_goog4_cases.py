#!/usr/bin/python3
"""Generate GOOG4-HMAC-SHA256 header-signing test vectors for ferry.

What it generates
    ``goog4-hmac.json`` (next to this script): a JSON array of Google Cloud
    Storage XML API request cases signed with an HMAC key in the
    ``Authorization`` header form. Each case has the request inputs
    (method, host, raw unencoded key, raw query pairs in caller order,
    extra headers, payload hash, credentials, region, service, goog_date)
    and the expected canonical URI, canonical query string, canonical
    request, signed headers, string to sign, signature and the exact
    ``Authorization`` value. README.md in this directory describes the
    format.

Where the rules come from
    Google's Cloud Storage documentation: "Canonical requests"
    (https://cloud.google.com/storage/docs/authentication/canonical-requests)
    and "Signatures"
    (https://cloud.google.com/storage/docs/authentication/signatures),
    HMAC-key variant:
    * canonical request = METHOD, path, canonical query, canonical
      headers, an empty line, signed headers, payload hash, joined by
      newlines;
    * the path and every query name and value are percent-encoded with
      upper-case hex, leaving only A-Z a-z 0-9 - . _ ~ (and '/' in the
      path); the path is not normalised;
    * query parameters are sorted by name (then value); a parameter
      without a value is written ``name=``;
    * header names are lower-cased and sorted; values lose leading and
      trailing white space, and folded lines (CR/LF) and runs of spaces
      or tabs become one space;
    * string to sign = ``GOOG4-HMAC-SHA256``, the timestamp, the scope
      ``DATE/REGION/storage/goog4_request`` and the hex SHA-256 of the
      canonical request;
    * signing key = HMAC chain over DATE, REGION, ``storage``,
      ``goog4_request`` starting from the key ``"GOOG4" + secret``;
    * ``Authorization: GOOG4-HMAC-SHA256 Credential=ACCESS_ID/SCOPE,
      SignedHeaders=..., Signature=...``.

How each case is produced
    The signer below uses only hashlib and hmac. It is parameterised by
    the dialect strings (algorithm, key prefix, terminator, date and
    payload header names), and before writing anything the script signs
    the S3 manual's "GET Object" example with the AWS4 strings and checks
    that it gives AWS's published signature. That checks the signer
    itself against an external value; the GOOG4 cases then differ from
    it only in those strings. The signed headers are always host,
    x-goog-content-sha256, x-goog-date and the case's own headers; a
    case naming one of the three itself stops the script.

How to rerun
    /usr/bin/python3 tests/data/sigv4/gen_goog4_cases.py
        rewrites tests/data/sigv4/goog4-hmac.json
    /usr/bin/python3 tests/data/sigv4/gen_goog4_cases.py --check
        regenerates in memory and exits 1 if the committed file differs
    The output is deterministic and needs no network. The HMAC access id
    and secret are made up for these tests; they are not real keys.
"""

import argparse
import hashlib
import hmac
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_PATH = os.path.join(HERE, 'goog4-hmac.json')

# Made-up HMAC key, shaped like a GCS one (the secret is base64-ish).
ACCESS_ID = 'GOOG1EFERRYEXAMPLEHMACACCESSID0000000000000000000000000'
SECRET = 'ferryExample/Secret+Key=0123456789abcdefXYZ'
DATE = '20261203T101530Z'
REGION = 'auto'
SERVICE = 'storage'
UNSIGNED = 'UNSIGNED-PAYLOAD'

HOST = 'storage.googleapis.com'
BUCKET = 'ferry-bucket'
VHOST = BUCKET + '.' + HOST
UPLOAD_ID = 'ABPnzm5-fake_upload.id~0123456789'

GOOG4 = {
    'algorithm': 'GOOG4-HMAC-SHA256', 'key_prefix': 'GOOG4',
    'terminator': 'goog4_request', 'date_header': 'x-goog-date',
    'sha_header': 'x-goog-content-sha256',
}
AWS4 = {
    'algorithm': 'AWS4-HMAC-SHA256', 'key_prefix': 'AWS4',
    'terminator': 'aws4_request', 'date_header': 'x-amz-date',
    'sha_header': 'x-amz-content-sha256',
}

# The S3 manual's "GET Object" worked example (see s3-doc-examples.json).
S3_DOC = {
    'access_id': 'AKIAIOSFODNN7EXAMPLE',
    'secret': 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    'host': 'examplebucket.s3.amazonaws.com', 'key': '/test.txt',
    'headers': [('Range', 'bytes=0-9')], 'date': '20130524T000000Z',
    'region': 'us-east-1',
    'signature':
        'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
}

COMPLETE_BODY = (
    '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>'
    '<ETag>"7778aef83f66abc1fa1e8477f296d394"</ETag></Part>'
    '</CompleteMultipartUpload>'
).encode('utf-8')


def _case(name, method, key, host=HOST, query=(), headers=(), body=b'',
          unsigned=False, date=DATE, region=REGION, access_id=ACCESS_ID,
          secret=SECRET):
    return {
        'name': name, 'method': method, 'host': host, 'key': key,
        'query': [list(p) for p in query],
        'headers': [list(h) for h in headers], 'body': body,
        'unsigned': unsigned, 'date': date, 'region': region,
        'access_id': access_id, 'secret': secret,
    }


def build_cases():
    b = '/' + BUCKET
    return [
        _case('get-simple', 'GET', b + '/photos/cat.jpg'),
        _case('put-body-hash', 'PUT', b + '/notes/hello.txt',
              headers=[('Content-Type', 'text/plain')],
              body=b'Hello, Cloud Storage!\n'),
        _case('put-unsigned-payload', 'PUT', b + '/stream/u.bin',
              headers=[('Content-Type', 'application/octet-stream')],
              body=b'not hashed by the signer', unsigned=True),
        _case('get-key-with-spaces', 'GET', b + '/my dir/my  file .txt'),
        _case('get-key-utf8', 'GET',
              b + '/gr\u00fc\u00dfe/\u20ac100/\u6771\u4eac/\U0001F600.txt'),
        _case('get-key-reserved-chars', 'GET',
              b + "/x+!'()*$&=y/+!'()*$&="),
        _case('post-initiate-multipart-uploads', 'POST',
              b + '/big/video file.mp4', query=[('uploads', '')],
              headers=[('Content-Type', 'video/mp4')]),
        _case('put-upload-part-unsorted-query', 'PUT',
              b + '/big/video file.mp4',
              query=[('uploadId', UPLOAD_ID), ('partNumber', '3')],
              body=b'part-three-bytes' * 64),
        _case('post-complete-multipart', 'POST', b + '/big/video file.mp4',
              query=[('uploadId', UPLOAD_ID)],
              headers=[('Content-Type', 'application/xml')],
              body=COMPLETE_BODY),
        _case('list-region-auto-virtual-hosted', 'GET', '/', host=VHOST,
              query=[('prefix', 'photos/2026/'), ('delimiter', '/')],
              date='20270101T000000Z'),
        _case('put-x-goog-meta', 'PUT', b + '/meta.txt',
              headers=[('X-Goog-Meta-Owner-Team', 'storage'),
                       ('x-goog-meta-owner', 'ferry'),
                       ('Content-Type', 'text/plain')],
              body=b'meta\n'),
        _case('put-header-whitespace-folding', 'PUT', b + '/ws.txt',
              headers=[('x-goog-meta-note',
                        '  hello \t  big\r\n   folded\n\tworld  '),
                       ('Content-Type', ' text/plain ;  charset=utf-8\t')],
              body=b'ws\n'),
        # The S3 manual's GET Object request, signed with GOOG4 strings.
        _case('s3-doc-get-object-as-goog4', 'GET', S3_DOC['key'],
              host=S3_DOC['host'], headers=S3_DOC['headers'],
              date=S3_DOC['date'], region=S3_DOC['region'],
              access_id=S3_DOC['access_id'], secret=S3_DOC['secret']),
    ]


# --------------------------------------------------------------------------
# Signer (hashlib/hmac only).
# --------------------------------------------------------------------------
_UNRESERVED = frozenset(
    b'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~')


def uri_encode(text, keep_slash):
    out = []
    for byte in text.encode('utf-8'):
        if byte in _UNRESERVED or (keep_slash and byte == 0x2F):
            out.append(chr(byte))
        else:
            out.append('%%%02X' % byte)
    return ''.join(out)


def canonical_value(value):
    # Folded lines and runs of blanks become one space; then trim.
    return re.sub(r'[ \t\r\n]+', ' ', value).strip(' ')


class GenError(Exception):
    pass


def sign(case, payload_hash, dialect, service=SERVICE):
    date = case['date'][:8]
    scope = '/'.join([date, case['region'], service, dialect['terminator']])
    hdrs = {'host': case['host'], dialect['date_header']: case['date'],
            dialect['sha_header']: payload_hash}
    for name, value in case['headers']:
        lname = name.lower()
        if lname in hdrs:
            raise GenError('case %r: header %s given twice'
                           % (case['name'], lname))
        hdrs[lname] = value
    names = sorted(hdrs)
    canon_headers = ''.join('%s:%s\n' % (n, canonical_value(hdrs[n]))
                            for n in names)
    signed = ';'.join(names)
    pairs = sorted((uri_encode(k, False), uri_encode(v, False))
                   for k, v in case['query'])
    canon_query = '&'.join('%s=%s' % p for p in pairs)
    if not case['key'].startswith('/'):
        raise GenError('case %r: key must start with /' % case['name'])
    canon_uri = uri_encode(case['key'], keep_slash=True)
    creq = '\n'.join([case['method'], canon_uri, canon_query, canon_headers,
                      signed, payload_hash])
    sts = '\n'.join([dialect['algorithm'], case['date'], scope,
                     hashlib.sha256(creq.encode('utf-8')).hexdigest()])

    def h(key, msg):
        return hmac.new(key, msg.encode('utf-8'), hashlib.sha256).digest()
    k = h((dialect['key_prefix'] + case['secret']).encode('utf-8'), date)
    for part in (case['region'], service, dialect['terminator']):
        k = h(k, part)
    sig = hmac.new(k, sts.encode('utf-8'), hashlib.sha256).hexdigest()
    auth = '%s Credential=%s/%s, SignedHeaders=%s, Signature=%s' % (
        dialect['algorithm'], case['access_id'], scope, signed, sig)
    return {'canonical_uri': canon_uri, 'canonical_query': canon_query,
            'canonical_request': creq, 'signed_headers': signed,
            'string_to_sign': sts, 'signature': sig, 'authorization': auth}


def check_signer_against_s3_doc():
    case = _case('s3-doc', 'GET', S3_DOC['key'], host=S3_DOC['host'],
                 headers=S3_DOC['headers'], date=S3_DOC['date'],
                 region=S3_DOC['region'], access_id=S3_DOC['access_id'],
                 secret=S3_DOC['secret'])
    got = sign(case, hashlib.sha256(b'').hexdigest(), AWS4, service='s3')
    if got['signature'] != S3_DOC['signature']:
        raise GenError('signer gives %s for the S3 manual example, AWS '
                       'published %s' % (got['signature'],
                                         S3_DOC['signature']))


FIELDS = ['canonical_uri', 'canonical_query', 'canonical_request',
          'signed_headers', 'string_to_sign', 'signature', 'authorization']


def generate():
    check_signer_against_s3_doc()
    cases = build_cases()
    names = [c['name'] for c in cases]
    if len(set(names)) != len(names):
        raise GenError('duplicate case names')
    out = []
    for case in cases:
        body_hash = hashlib.sha256(case['body']).hexdigest()
        payload_hash = UNSIGNED if case['unsigned'] else body_hash
        expected = sign(case, payload_hash, GOOG4)
        out.append({
            'name': case['name'], 'method': case['method'],
            'host': case['host'], 'key': case['key'],
            'query': case['query'], 'headers': case['headers'],
            'payload_sha256': payload_hash,
            'access_key': case['access_id'], 'secret_key': case['secret'],
            'region': case['region'], 'service': SERVICE,
            'goog_date': case['date'],
            'expected': {f: expected[f] for f in FIELDS},
        })
    return json.dumps(out, indent=2, ensure_ascii=False) + '\n', out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--check', action='store_true',
                    help='compare with the committed file instead of writing')
    ap.add_argument('-o', '--output', default=OUT_PATH)
    args = ap.parse_args()
    try:
        text, out = generate()
    except GenError as e:
        print('error: %s' % e, file=sys.stderr)
        return 2
    if args.check:
        with open(args.output, encoding='utf-8') as f:
            same = f.read() == text
        print('%s: %s' % (args.output, 'up to date' if same else 'DIFFERS'))
        return 0 if same else 1
    with open(args.output, 'w', encoding='utf-8', newline='\n') as f:
        f.write(text)
    print('wrote %d cases to %s' % (len(out), args.output))
    return 0


if __name__ == '__main__':
    sys.exit(main())
