#!/usr/bin/env bash
# bench/run.sh - upload speed and cost of ferry against peer S3 clients
# (aws-cli 1.x and 2.x, rclone, s3cmd) on a throwaway local Ceph RGW.
# What is measured and how to read it: bench/README.md.
#
# Environment (all optional):
#   BENCH_RUNS=3           timed runs per tool and workload
#   BENCH_TOOLS="a b"      only these tools (ferry is always included):
#                          ferry ferry-default aws-cli-1 aws-cli-2
#                          rclone s3cmd
#   BENCH_BIG_MIB=1024     size of the large file, MiB
#   BENCH_SMALL_FILES=1000 number of small files (1-64 KiB each)
#   BENCH_NO_INSTALL=1     never install Debian packages
#   BENCH_OUT=FILE         JSON output (bench/results/latest.json)
#
# Exits 0 when every ferry run succeeded (a peer that failed or was
# skipped is reported, not fatal), 1 otherwise.
set -euo pipefail

cd "$(dirname "$0")/.."
readonly ROOT=$PWD
readonly RUNS=${BENCH_RUNS:-3}
readonly BIG_MIB=${BENCH_BIG_MIB:-1024}
readonly SMALL_FILES=${BENCH_SMALL_FILES:-1000}
readonly OUT=${BENCH_OUT:-$ROOT/bench/results/latest.json}
readonly ALL_TOOLS=(ferry ferry-default aws-cli-1 aws-cli-2 rclone s3cmd)
readonly BUCKET=ferry-bench
readonly ACCESS=FERRYBENCHACCESS0001
readonly SECRET=ferry-bench-secret-0123456789abcdef
readonly PY=/usr/bin/python3
readonly FERRY=$ROOT/build/ferry
readonly RGW=$ROOT/tests/servers/rgw.sh

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

for v in RUNS BIG_MIB SMALL_FILES; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "BENCH_$v must be a number > 0"
done

# --- temporary area, cleaned up on any exit ---------------------------

WORK=''
CHILD=''
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n $CHILD ]]; then
        # The timed command runs in its own process group (setsid).
        kill -TERM -- "-$CHILD" 2>/dev/null || true
        wait "$CHILD" 2>/dev/null || true
    fi
    if [[ -n $WORK && -d $WORK ]]; then
        bash "$RGW" stop "$WORK/rgw" || true
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench.XXXXXX")
mkdir -p "$WORK"/{conf,logs,state}
readonly META=$WORK/meta.tsv RESULTS=$WORK/runs.tsv
: >"$META"
: >"$RESULTS"
meta() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$META"; }

# --- packages and build -----------------------------------------------

pkg_ok() {
    local st
    st=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
    [[ $st == "install ok installed" ]]
}

APT_UPDATED=
# apt_install PKG...: best effort, output in $WORK/apt.log.
apt_install() {
    [[ ${BENCH_NO_INSTALL:-0} != 1 ]] || return 1
    ((EUID == 0)) && command -v apt-get >/dev/null || return 1
    if [[ -z $APT_UPDATED ]]; then
        apt-get update -qq >>"$WORK/apt.log" 2>&1 || return 1
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "$@" >>"$WORK/apt.log" 2>&1
}

install_missing() {
    local missing=() p
    for p in "$@"; do pkg_ok "$p" || missing+=("$p"); done
    ((${#missing[@]})) || return 0
    log "installing Debian packages: ${missing[*]}"
    apt_install "${missing[@]}" && return 0
    # One unavailable package must not keep the others out.
    for p in "${missing[@]}"; do
        pkg_ok "$p" || apt_install "$p" || log "could not install $p"
    done
}

# Needed by the benchmark itself, then the peers (awscli is aws-cli 2).
install_missing time python3-botocore rclone s3cmd awscli
[[ -x /usr/bin/time ]] || die "/usr/bin/time missing (Debian: time)"
"$PY" -c 'import botocore' 2>/dev/null ||
    die "botocore missing for $PY (Debian: python3-botocore)"
if [[ ${BENCH_NO_INSTALL:-0} != 1 ]]; then
    bash "$RGW" install || die "could not install Ceph RGW"
fi

if [[ -f build/build.ninja ]]; then
    ninja -C build >"$WORK/build.log" 2>&1 ||
        { tail -n 20 "$WORK/build.log" >&2; die "build failed"; }
else
    log "no build/ yet: running scripts/setup.sh"
    bash scripts/setup.sh
fi
[[ -x $FERRY ]] || die "$FERRY not built"

# --- which peers are here ---------------------------------------------

declare -A VERSION=()
TOOLS=()
AWS1='' AWS2='' RCLONE='' S3CMD=''

wanted() {
    [[ $1 == ferry || -z ${BENCH_TOOLS:-} ]] && return 0
    [[ " $BENCH_TOOLS " == *" $1 "* ]]
}

skip() {
    log "skipping $1: $2"
    meta skipped "$1" "$2"
}

# The real aws-cli 1.x script, not pyenv's shim: the shim starts bash
# and pyenv on every call, which would be billed to aws-cli.
find_aws1() {
    local c v
    for c in "$(pyenv which aws 2>/dev/null || true)" \
        "$(command -v aws || true)"; do
        [[ -n $c && -x $c ]] || continue
        v=$("$c" --version 2>&1 </dev/null) || continue
        if [[ $v == aws-cli/1.* ]]; then
            AWS1=$c
            VERSION[aws-cli-1]=${v%% *}
            return 0
        fi
    done
    return 1
}

detect_tools() {
    local t v
    v=$("$FERRY" --version 2>&1 | head -n 1)
    VERSION[ferry]=$v
    VERSION[ferry-default]=$v
    TOOLS=(ferry)
    for t in "${ALL_TOOLS[@]:1}"; do
        wanted "$t" || continue
        case $t in
        ferry-default) ;;
        aws-cli-1)
            find_aws1 || {
                skip "$t" "no aws-cli 1.x on PATH (not a Debian package)"
                continue
            }
            ;;
        aws-cli-2)
            v=$(/usr/bin/aws --version 2>&1 </dev/null) || v=
            [[ $v == aws-cli/2.* ]] || {
                skip "$t" "no aws-cli 2.x at /usr/bin/aws (awscli)"
                continue
            }
            AWS2=/usr/bin/aws
            VERSION[$t]=${v%% *}
            ;;
        rclone)
            RCLONE=$(command -v rclone) || {
                skip "$t" "rclone not installed (Debian: rclone)"
                continue
            }
            VERSION[$t]=$("$RCLONE" version 2>&1 | head -n 1)
            ;;
        s3cmd)
            S3CMD=$(command -v s3cmd) || {
                skip "$t" "s3cmd not installed (Debian: s3cmd)"
                continue
            }
            VERSION[$t]=$("$S3CMD" --version 2>&1 | head -n 1)
            ;;
        esac
        TOOLS+=("$t")
    done
}
detect_tools

# --- server, data, client configuration ------------------------------

free_port() {
    "$PY" -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Environment shared by every client: only our keys and files count.
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3
export AWS_ACCESS_KEY_ID=$ACCESS AWS_SECRET_ACCESS_KEY=$SECRET
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 AWS_PAGER=
export AWS_CONFIG_FILE=$WORK/conf/aws-config
export AWS_SHARED_CREDENTIALS_FILE=$WORK/conf/aws-credentials
export XDG_STATE_HOME=$WORK/state
readonly RCLONE_CONF=$WORK/conf/rclone.conf S3CMD_CONF=$WORK/conf/s3cfg

PORT=$(free_port)
readonly PORT URL=http://127.0.0.1:$PORT
log "starting Ceph RGW on $URL"
bash "$RGW" start "$WORK/rgw" "$PORT" "$ACCESS" "$SECRET" 2>"$WORK/rgw.log" ||
    { cat "$WORK/rgw.log" >&2; die "RGW did not start"; }
"$PY" bench/s3check.py mkbucket "$URL" "$BUCKET"

log "generating data: one $BIG_MIB MiB file, $SMALL_FILES small files"
readonly DATA=$WORK/data
"$PY" bench/gendata.py "$DATA" "$BIG_MIB" "$SMALL_FILES"

aws_cfg=${AWS1:-$AWS2}
if [[ -n $aws_cfg ]]; then
    "$aws_cfg" configure set default.s3.multipart_chunksize 64MB
    "$aws_cfg" configure set default.s3.max_concurrent_requests 8
    "$aws_cfg" configure set default.s3.addressing_style path
fi

cat >"$RCLONE_CONF" <<EOF
[rgw]
type = s3
provider = Ceph
env_auth = false
access_key_id = $ACCESS
secret_access_key = $SECRET
region = us-east-1
endpoint = $URL
force_path_style = true
EOF

cat >"$S3CMD_CONF" <<EOF
[default]
access_key = $ACCESS
secret_key = $SECRET
host_base = 127.0.0.1:$PORT
host_bucket = 127.0.0.1:$PORT
bucket_location = us-east-1
use_https = False
signature_v2 = False
EOF

# tool_cmd TOOL SRC_DIR PREFIX: the upload command, in CMD.
tool_cmd() {
    local src=$2 dest=$BUCKET/$3
    case $1 in
    ferry)
        CMD=("$FERRY" upload "$src" --to "s3://$dest/" --endpoint "$URL"
            --part-size 64MiB --concurrency 8 -q)
        ;;
    ferry-default)
        CMD=("$FERRY" upload "$src" --to "s3://$dest/" --endpoint "$URL" -q)
        ;;
    aws-cli-1 | aws-cli-2)
        local aws=$AWS1
        [[ $1 == aws-cli-1 ]] || aws=$AWS2
        CMD=("$aws" --endpoint-url "$URL" s3 cp --recursive
            --only-show-errors "$src" "s3://$dest/")
        ;;
    rclone)
        # AWS_CA_BUNDLE (set on this machine) breaks rclone, even on http.
        CMD=(env -u AWS_CA_BUNDLE "$RCLONE" --config "$RCLONE_CONF" -q
            copy "$src" "rgw:$dest" --s3-chunk-size 64M
            --s3-upload-concurrency 8 --transfers 8)
        ;;
    s3cmd)
        CMD=("$S3CMD" -c "$S3CMD_CONF" -q put --recursive
            --multipart-chunk-size-mb=64 "$src/" "s3://$dest/")
        ;;
    esac
}

# CPU clock ticks used so far by the RGW daemons (radosgw, OSD, mon).
HZ=$(getconf CLK_TCK)
readonly HZ
srv_ticks() {
    local pid st total=0
    local -a f
    while read -r _ pid; do
        st=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
        read -ra f <<<"${st##*) }"
        # f[0] is field 3 (state): utime and stime are fields 14, 15.
        total=$((total + f[11] + f[12]))
    done <"$WORK/rgw/pids"
    echo "$total"
}

# Delete what a run left and let RGW's garbage collector free the
# space now, outside any timed run (it would otherwise run every 30 s
# in the middle of someone's upload).
server_settle() {
    radosgw-admin -c "$WORK/rgw/ceph.conf" gc process --include-all \
        >>"$WORK/logs/gc.log" 2>&1 || true
    sleep 1
}

# run_one TOOL WORKLOAD RUN: one timed upload, checked, then deleted.
# Appends a line to $RESULTS; returns 1 if the upload failed.
run_one() {
    local tool=$1 wl=$2 run=$3 prefix="$1/$2/$3" rc=0
    local lf=$WORK/logs/$tool-$wl-$run.log tf=$WORK/time.out
    local s0 s1 wall=- user=- sys=- rss=- srv=- status=ok why='' chk
    tool_cmd "$tool" "$DATA/$wl" "$prefix"
    : >"$tf"
    s0=$(srv_ticks)
    setsid /usr/bin/time -o "$tf" -f '%e %U %S %M' "${CMD[@]}" \
        </dev/null >"$lf" 2>&1 &
    CHILD=$!
    wait "$CHILD" || rc=$?
    CHILD=
    s1=$(srv_ticks)
    # GNU time puts "Command exited with non-zero status" lines first.
    read -r wall user sys rss < <(tail -n 1 "$tf") || true
    srv=$(awk -v t=$((s1 - s0)) -v hz="$HZ" \
        'BEGIN { printf "%.2f", t / hz }')
    if ((rc != 0)); then
        status=fail
        why="exit $rc: $(tail -n 2 "$lf" | tr '\t\n' '  ' | cut -c1-200)"
    fi
    chk=$("$PY" bench/s3check.py check "$URL" "$BUCKET" "$prefix" \
        "$DATA/manifest.json" "$wl" 2>&1) || {
        status=fail
        why="${why:+$why; }check: $(tail -n 1 <<<"$chk")"
    }
    server_settle
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$wl" \
        "$run" "$status" "$wall" "$user" "$sys" "$rss" "$srv" "$why" \
        >>"$RESULTS"
    printf 'bench: %-5s #%d %-13s %7ss  cpu %5ss  %s\n' "$wl" "$run" \
        "$tool" "$wall" "$(awk -v u="$user" -v s="$sys" \
            'BEGIN { printf "%.2f", u + s }' 2>/dev/null)" \
        "${status}${why:+ ($why)}" >&2
    [[ $status == ok ]]
}

# --- warm-up: one tiny untimed upload per tool ------------------------
# Loads each program and its libraries into the page cache and proves
# its configuration works; a peer that fails here is skipped.

log "warm-up and configuration check"
kept=()
for tool in "${TOOLS[@]}"; do
    wlog=$WORK/logs/warm-$tool.log
    tool_cmd "$tool" "$DATA/warm" "warm/$tool"
    ok=1
    "${CMD[@]}" </dev/null >"$wlog" 2>&1 || ok=0
    # Always checked: that also deletes whatever a failed upload left.
    "$PY" bench/s3check.py check "$URL" "$BUCKET" "warm/$tool" \
        "$DATA/manifest.json" warm >>"$wlog" 2>&1 || ok=0
    if ((ok)); then
        kept+=("$tool")
        tool_cmd "$tool" DATA_DIR PREFIX
        meta version "$tool" "${VERSION[$tool]}"
        meta command "$tool" "$(printf '%q ' "${CMD[@]}" |
            sed "s|$WORK|\$TMP|g; s/ \$//")"
        continue
    fi
    [[ $tool != ferry ]] || {
        cat "$wlog" >&2
        die "ferry failed its warm-up upload"
    }
    skip "$tool" "warm-up upload failed: $(tail -n 1 "$wlog" |
        cut -c1-200)"
done
TOOLS=("${kept[@]}")

# The cluster's first large writes are slower (BlueStore allocation,
# RocksDB warming up): give them to an untimed ferry upload of each
# workload rather than to whichever tool happens to run first.
log "server warm-up: one untimed upload of each workload"
for wl in big small; do
    tool_cmd ferry "$DATA/$wl" "warm/server-$wl"
    "${CMD[@]}" </dev/null >"$WORK/logs/warm-server-$wl.log" 2>&1 ||
        die "ferry failed the server warm-up ($wl)"
    "$PY" bench/s3check.py check "$URL" "$BUCKET" "warm/server-$wl" \
        "$DATA/manifest.json" "$wl" >>"$WORK/logs/warm-server-$wl.log" ||
        die "ferry's server warm-up upload ($wl) was incomplete"
done
server_settle

meta meta runs "$RUNS"
meta meta endpoint "Ceph RGW $(radosgw --version 2>/dev/null |
    awk '{print $3}') on 127.0.0.1 (one OSD, BlueStore)"
meta meta cpus "$(nproc) x $(awk -F': ' '/^model name/ {print $2; exit}' \
    /proc/cpuinfo)"
meta meta kernel "$(uname -sr)"
meta meta ferry_build "$(meson introspect --buildoptions build 2>/dev/null |
    "$PY" -c 'import json, sys
print([o["value"] for o in json.load(sys.stdin)
       if o["name"] == "buildtype"][0])' 2>/dev/null || echo unknown)"

# --- timed runs: round robin, the starting tool rotating each round ---

log "timed runs: ${TOOLS[*]}; $RUNS run(s) each"
ferry_failed=0
n=${#TOOLS[@]}
for wl in big small; do
    for ((r = 1; r <= RUNS; r++)); do
        for ((i = 0; i < n; i++)); do
            tool=${TOOLS[(i + r - 1) % n]}
            run_one "$tool" "$wl" "$r" ||
                [[ $tool != ferry* ]] || ferry_failed=1
        done
    done
done

meta meta total_s "$SECONDS"
echo
"$PY" bench/report.py "$RESULTS" "$META" "$DATA/manifest.json" "$OUT"
log "total time ${SECONDS}s (before stopping RGW)"
exit "$ferry_failed"
