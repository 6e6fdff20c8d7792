#!/usr/bin/env bash
# demo.sh - the main job end to end on this machine: starts a local
# Ceph RGW (a real S3 server), creates a bucket, uploads the bundled
# sample data set (examples/sample) with ferry, shows the job's status
# and stops the server.  Installs what is missing and builds first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

work=$(mktemp -d /tmp/ferry-demo.XXXXXX)
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket();
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export AWS_ACCESS_KEY_ID=FERRYDEMOACCESSKEY01
export AWS_SECRET_ACCESS_KEY=ferry-demo-secret-key-0123456789abcdef
export XDG_STATE_HOME=$work/state
cleanup() { bash tests/servers/rgw.sh stop "$work/rgw" || true; }
trap cleanup EXIT

bash tests/servers/rgw.sh start "$work/rgw" "$port" \
    "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY"
/usr/bin/python3 - "$port" <<'PY'
import sys, botocore.session, os
c = botocore.session.get_session().create_client(
    "s3", endpoint_url="http://127.0.0.1:%s" % sys.argv[1],
    region_name="us-east-1")
c.create_bucket(Bucket="demo-bucket")
PY

echo "== ferry upload examples/sample --to s3://demo-bucket/datasets/run1/"
build/ferry upload examples/sample --to s3://demo-bucket/datasets/run1/ \
    --endpoint "http://127.0.0.1:$port"
echo "== ferry status"
build/ferry status
