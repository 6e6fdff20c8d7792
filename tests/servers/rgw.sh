#!/usr/bin/env bash
# Throwaway Ceph RGW (a real S3 server) for ferry's integration tests:
# one monitor, one OSD and one radosgw on 127.0.0.1, without cephx.
#
# Usage:
#   rgw.sh install
#       Install the Debian packages if any is missing (needs root).
#   rgw.sh start DIR PORT ACCESS_KEY SECRET_KEY
#       Create a fresh cluster under DIR, serve S3 on 127.0.0.1:PORT and
#       create an S3 user with the given keys. Returns once S3 answers.
#       DIR/pids lists "mon PID", "osd PID" and "rgw PID"; daemon logs
#       are in DIR/log. DIR must be absent, empty or a stopped cluster.
#       RGW_START_TIMEOUT (seconds, default 120) bounds the whole start.
#   rgw.sh stop DIR
#       Stop radosgw, the OSD and the monitor. Safe to run at any time.
#
# Everything the cluster writes (config, sockets, logs, stores and the
# sparse 16 GiB block file, which only takes the space written) stays in
# DIR; remove DIR after "stop" to get the disk space back.
set -euo pipefail

readonly PKGS=(radosgw ceph-mon ceph-osd ceph-common)
# Budget for the whole start (a normal one takes about 10 s); the
# environment may raise it for a slow machine.
readonly START_TIMEOUT=${RGW_START_TIMEOUT:-120}
readonly RGW_NAME=client.rgw.ferry
# First line of every ceph.conf we write: lets "start" recognise (and
# wipe) a DIR it made before, and refuse to wipe anything else.
readonly MARKER='# ferry test cluster, made by tests/servers/rgw.sh'
# The monitor takes the first free port from here; the OSD binds ports
# in Ceph's default range 6800-7300, so PORT must stay out of both.
readonly MON_PORT_FIRST=6789
readonly MON_PORT_LAST=6799
readonly OSD_PORT_LAST=7300

die() {
    echo "rgw.sh: $*" >&2
    exit 1
}

usage() {
    sed -n '5,16s/^# \{0,1\}//p' "$0" >&2
    exit 2
}

# --- install ---------------------------------------------------------

pkg_installed() {
    local status
    status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
    [[ $status == "install ok installed" ]]
}

cmd_install() {
    local missing=() pkg out
    for pkg in "${PKGS[@]}"; do
        pkg_installed "$pkg" || missing+=("$pkg")
    done
    ((${#missing[@]} > 0)) || return 0
    # apt is chatty even with -qq (debconf notes, trigger output): keep
    # its output and show it only when something goes wrong.
    out=$(mktemp)
    if ! {
        apt-get update -qq &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
                --no-install-recommends "${missing[@]}"
    } >"$out" 2>&1; then
        cat "$out" >&2
        rm -f "$out"
        die "installing ${missing[*]} failed"
    fi
    rm -f "$out"
}

# --- helpers shared by start and stop --------------------------------

# True if PID is a live process started with "-c CONF". Checking the
# command line guards against killing an unrelated process that got a
# recycled PID. A zombie has an empty command line, so it counts as gone
# (our daemons outlive "start", so init reaps them, maybe late).
is_ours() {
    local pid=$1 conf=$2
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    grep -qzFx -- "$conf" "/proc/$pid/cmdline" 2>/dev/null
}

# PIDs of the daemon EXE (ceph-mon, ceph-osd, radosgw) running with CONF,
# found through /proc: a safety net for a PID missing from DIR/pids
# (e.g. "start" killed between spawning a daemon and recording it).
find_daemons() {
    local exe=$1 conf=$2 f pid argv0
    for f in /proc/[0-9]*/cmdline; do
        pid=${f#/proc/}
        pid=${pid%/cmdline}
        # 2> first: it must also cover "<" failing for a process gone.
        argv0=$(tr '\0' '\n' 2>/dev/null <"$f" | head -n 1) || continue
        [[ ${argv0##*/} == "$exe" ]] || continue
        is_ours "$pid" "$conf" && echo "$pid"
    done
    return 0
}

# True while PID is a zombie (dead, not yet reaped by its parent).
is_zombie() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    # Field 3, after the parenthesised command name, is the state.
    stat=${stat##*) }
    [[ ${stat:0:1} == Z ]]
}

# Wait up to SECS seconds for PID to stop being ours.
wait_gone() {
    local pid=$1 conf=$2 secs=$3 i
    for ((i = 0; i < secs * 10; i++)); do
        is_ours "$pid" "$conf" || return 0
        sleep 0.1
    done
    return 1
}

# PIDs that stop_pid saw exit, for wait_reaped.
STOPPED=()

# Our daemons are orphans, reaped by init, which may take a second or
# two (here it polls). Wait a little, so that "pgrep ceph" right after
# "stop" does not list <defunct> entries. Never fails.
wait_reaped() {
    local i pid left
    for ((i = 0; i < 50; i++)); do
        left=0
        for pid in "${STOPPED[@]}"; do
            ! is_zombie "$pid" || left=1
        done
        ((left)) || return 0
        sleep 0.1
    done
}

stop_pid() {
    local what=$1 pid=$2 conf=$3
    is_ours "$pid" "$conf" || return 0
    STOPPED+=("$pid")
    kill -TERM "$pid" 2>/dev/null || true
    # A clean OSD shutdown takes a second or two; give it ample room.
    wait_gone "$pid" "$conf" 30 && return 0
    echo "rgw.sh: $what (pid $pid) ignored SIGTERM, sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" "$conf" 10 && return 0
    echo "rgw.sh: warning: $what (pid $pid) is still running" >&2
}

# Port answers a TCP connect on 127.0.0.1.
port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The S3 front end answers HTTP (any status: anonymous requests get 200
# or 403, both mean radosgw is serving).
http_answers() {
    (
        local line
        exec 3<>"/dev/tcp/127.0.0.1/$1"
        printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
        IFS= read -r -t 5 line <&3
        [[ $line == HTTP/1.[01]\ [0-9][0-9][0-9]* ]]
    ) 2>/dev/null
}

# --- stop ------------------------------------------------------------

cmd_stop() {
    local dir=$1 conf pidfile what exe name pid
    [[ -d $dir ]] || return 0
    dir=$(cd "$dir" && pwd -P)
    conf=$dir/ceph.conf
    pidfile=$dir/pids
    # Order matters: radosgw ignores SIGTERM once the monitor is gone,
    # and the OSD shuts down faster while the monitor can still see it.
    for what in rgw:radosgw osd:ceph-osd mon:ceph-mon; do
        exe=${what#*:}
        what=${what%%:*}
        if [[ -f $pidfile ]]; then
            while read -r name pid; do
                [[ $name == "$what" ]] || continue
                stop_pid "$what" "$pid" "$conf"
            done <"$pidfile"
        fi
        for pid in $(find_daemons "$exe" "$conf"); do
            stop_pid "$what" "$pid" "$conf"
        done
    done
    wait_reaped
    rm -f "$pidfile"
}

# --- start -----------------------------------------------------------

# Set by cmd_start and used by the helpers below.
DIR=
CONF=
DEADLINE=
FSID=
SPAWNED=

# Report a failed start with the end of the log that explains it, then
# exit; the EXIT trap set in cmd_start stops what was already started.
fail() {
    local msg=$1 log
    shift
    echo "rgw.sh: start failed: $msg" >&2
    for log in "$@"; do
        [[ -s $log ]] || continue
        echo "--- last 30 lines of $log ---" >&2
        tail -n 30 "$log" >&2
    done
    exit 1
}

# Seconds left before the start deadline, at least 1: every step that
# could hang is bounded by it, so start never overruns by much.
time_left() {
    local left=$((DEADLINE - SECONDS))
    echo $((left > 0 ? left : 1))
}

ceph_cli() {
    local limit
    limit=$(time_left)
    # --connect-timeout alone does not bound a command once connected.
    timeout $((limit < 20 ? limit : 20)) \
        ceph -c "$CONF" --connect-timeout 5 "$@"
}

# Our monitor is serving. The fsid check matters: while ours is still
# trying to bind, the port may belong to another test cluster's monitor.
mon_ready() {
    local out
    out=$(ceph_cli fsid 2>/dev/null) || return 1
    [[ $out == "$FSID" ]]
}

osd_up() {
    local out
    out=$(ceph_cli osd stat -f json 2>/dev/null) || return 1
    # Not "| grep -q": grep exiting early fails the pipe under pipefail.
    [[ $out == *'"num_up_osds":1,'* ]]
}

# wait_for WHAT PID LOGS CHECK [ARG...]: poll CHECK until it succeeds,
# failing early if the daemon PID dies, and at the deadline. LOGS is a
# space-separated list (DIR has no spaces) of logs to show on failure.
wait_for() {
    local what=$1 pid=$2 logs=$3
    shift 3
    until "$@"; do
        # shellcheck disable=SC2086 # LOGS is split on purpose
        is_ours "$pid" "$CONF" || fail "$what exited" $logs
        # shellcheck disable=SC2086
        ((SECONDS < DEADLINE)) ||
            fail "$what not ready after ${START_TIMEOUT}s" $logs
        sleep 0.5
    done
}

# run_logged WHAT LOG CMD...: run a setup command, output to LOG. A
# program gets a time limit; a function (ceph_cli) has its own.
run_logged() {
    local what=$1 log=$2 limit
    shift 2
    limit=(timeout "$(time_left)")
    ! declare -F "$1" >/dev/null || limit=()
    "${limit[@]}" "$@" >>"$log" 2>&1 || fail "$what failed" "$log"
}

# spawn NAME LOG CMD...: start a daemon in the foreground mode (-f) in
# the background, so $! is its real PID, and record it in DIR/pids.
# stdin/out/err and fds 3-9 are detached: a caller capturing our output
# (or bats, which waits on fd 3) must not wait for the daemons to exit.
spawn() {
    local name=$1 log=$2
    shift 2
    "$@" </dev/null >>"$log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
    echo "$name $!" >>"$DIR/pids"
    SPAWNED=$!
}

write_conf() {
    local mon_port=$1 port=$2
    # "$cluster", "$name", "$id" and "$run_dir" are Ceph's metavariables,
    # expanded per daemon by Ceph itself: hence the backslashes.
    cat >"$CONF" <<EOF
$MARKER
[global]
fsid = $FSID
mon host = [v1:127.0.0.1:$mon_port]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
# Loopback only, legacy protocol only: no msgr2 port to agree on.
ms bind msgr2 = false
ms bind ipv6 = false
# No cephx: nothing to create, copy or find under /etc/ceph.
auth cluster required = none
auth service required = none
auth client required = none
keyring = $DIR/keyring
# Keep every file the daemons and tools write under DIR.
run dir = $DIR/run
crash dir = $DIR/crash
log file = $DIR/log/\$cluster-\$name.log
mon cluster log file = $DIR/log/\$cluster.log
mon data = $DIR/mon/\$cluster-\$id
osd data = $DIR/osd/\$cluster-\$id
rgw data = $DIR/rgw/\$cluster-\$id
# A single OSD: pools of size 1, replicas chosen among OSDs, not hosts.
mon allow pool size one = true
mon warn on pool no redundancy = false
# Without cephx the global_id warning is meaningless noise in "ceph -s".
mon warn on insecure global id reclaim allowed = false
osd pool default size = 1
osd pool default min size = 1
osd crush chooseleaf type = 0
# Few placement groups, fixed (no manager runs to autoscale them).
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off

[mon]
admin socket = \$run_dir/\$cluster-\$name.asok
# A taken port must fail at once (not after 3 tries 5 s apart) so that
# start can move on to the next one.
ms bind retry count = 1
# radosgw creates about ten pools, each an osdmap change that the
# monitor batches for paxos_propose_interval (1 s by default): shorter
# batches save ~10 s at start and ~5 s at the first bucket creation.
paxos propose interval = 0.1

[osd]
admin socket = \$run_dir/\$cluster-\$name.asok
# At boot the OSD may send its crush commands before it has the monmap,
# so they carry a zero fsid and fail ("mon_cmd_maybe_osd_create fail:
# 'wrong fsid'"), killing the OSD. Skip them: start places it in CRUSH.
osd crush update on start = false
osd class update on start = false
# BlueStore on a sparse file: real persistence without a device.
# (memstore keeps every byte in RAM and fills up on GiB uploads.)
osd objectstore = bluestore
bluestore block create = true
bluestore block size = 17179869184
# Modest, fixed memory use instead of growing towards 4 GiB.
bluestore cache autotune = false
bluestore cache size = 268435456
osd memory target = 1073741824

[client]
# Test-friendly S3 behaviour, shared by radosgw and radosgw-admin.
rgw dns name = s3.localhost
# Deleted and overwritten data is collectable at once, and the
# collector runs every 30 s instead of hourly, so repeated GiB uploads
# reuse the space instead of filling the 16 GiB block file.
rgw gc obj min wait = 0
rgw gc processor period = 30
# Single PUTs up to 5 GiB (the S3 limit); multipart parts from 5 MiB,
# up to 10000 of them.
rgw max put size = 5368709120
rgw multipart min part size = 5242880
rgw multipart part upload limit = 10000
# Let SSE-C be tested over plain http on loopback.
rgw crypt require ssl = false

[$RGW_NAME]
admin socket = \$run_dir/\$cluster-\$name.asok
rgw frontends = beast endpoint=127.0.0.1:$port
EOF
}

prepare_dir() {
    local pid
    DIR=$(realpath -m -- "$DIR")
    CONF=$DIR/ceph.conf
    # Ceph would expand "$" and cut values at "#" or ";" in ceph.conf.
    [[ $DIR != *[[:space:]\$\#\;=]* ]] ||
        die "DIR must not contain spaces or any of \$ # ; =: $DIR"
    mkdir -p "$DIR"
    if [[ -n $(ls -A "$DIR") ]]; then
        [[ -f $CONF && $(head -n 1 "$CONF") == "$MARKER" ]] ||
            die "$DIR is not empty and is not a cluster made by rgw.sh"
        for pid in $(find_daemons ceph-mon "$CONF") \
            $(find_daemons ceph-osd "$CONF") \
            $(find_daemons radosgw "$CONF"); do
            die "a cluster is running in $DIR (pid $pid); stop it first"
        done
        rm -rf "$DIR"/{ceph.conf,monmap,keyring,pids,run,crash,log} \
            "$DIR"/{mon,osd,rgw}
    fi
    mkdir -p "$DIR"/{run,crash,log,mon,osd,rgw}
    : >"$DIR/pids"
}

start_exit() {
    (($1 == 0)) || cmd_stop "$DIR"
    exit "$1"
}

# pick_mon_port PORT FROM: first port from FROM on that looks free.
pick_mon_port() {
    local port=$1 p
    for ((p = $2; p <= MON_PORT_LAST; p++)); do
        ((p != port)) || continue
        port_busy "$p" || {
            echo "$p"
            return 0
        }
    done
    die "no free monitor port in $MON_PORT_FIRST-$MON_PORT_LAST"
}

# Start the monitor on the first free port from MON_PORT_FIRST. Two
# starts at once may both pick the same port: the loser's monitor fails
# to bind and exits, and we try again with the next port.
start_mon() {
    local port=$1 mon_port=$MON_PORT_FIRST pid logs
    local log=$DIR/log/setup.log
    logs="$DIR/log/ceph-mon.a.log $DIR/log/mon.out"
    while :; do
        mon_port=$(pick_mon_port "$port" "$mon_port")
        write_conf "$mon_port" "$port"
        # shellcheck disable=SC2086 # LOGS is split on purpose
        rm -rf "$DIR/mon" "$DIR/monmap" $logs
        mkdir -p "$DIR/mon"
        : >"$DIR/pids"
        # A one-member monmap, then the monitor's store, then the daemon.
        run_logged "monmaptool" "$log" monmaptool --create --fsid "$FSID" \
            --addv a "[v1:127.0.0.1:$mon_port]" "$DIR/monmap"
        run_logged "ceph-mon --mkfs" "$log" ceph-mon -c "$CONF" -i a \
            --mkfs --monmap "$DIR/monmap"
        spawn mon "$DIR/log/mon.out" ceph-mon -c "$CONF" -i a -f
        pid=$SPAWNED
        # Asking ceph before the port listens would cost its 5 s timeout.
        until port_busy "$mon_port" && mon_ready; do
            if ! is_ours "$pid" "$CONF"; then
                # shellcheck disable=SC2086
                grep -qs 'unable to bind monitor' $logs ||
                    fail "monitor exited" $logs
                pid=
                break
            fi
            # shellcheck disable=SC2086
            ((SECONDS < DEADLINE)) ||
                fail "monitor not ready after ${START_TIMEOUT}s" $logs
            sleep 0.5
        done
        [[ -z $pid ]] || return 0
        echo "rgw.sh: monitor port $mon_port was taken, trying next" >&2
        mon_port=$((mon_port + 1))
    done
}

cmd_start() {
    local port=$2 access=$3 secret=$4
    local t0=$EPOCHREALTIME osd_uuid osd_id log exe ms
    DIR=$1
    if ! [[ $port =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
        die "bad PORT: $port"
    fi
    ((port < MON_PORT_FIRST || port > OSD_PORT_LAST)) ||
        die "PORT must be outside $MON_PORT_FIRST-$OSD_PORT_LAST" \
            "(monitor and OSD ports)"
    [[ -n $access && -n $secret ]] || die "empty ACCESS_KEY or SECRET_KEY"
    for exe in ceph ceph-mon ceph-osd radosgw radosgw-admin monmaptool; do
        command -v "$exe" >/dev/null || die "$exe not found; run: $0 install"
    done
    port_busy "$port" && die "port $port is already in use"

    prepare_dir
    export CEPH_CONF=$CONF
    DEADLINE=$((SECONDS + START_TIMEOUT))
    # From here on, any failure stops whatever was started.
    trap 'start_exit $?' EXIT
    # Make Ctrl-C or a harness's SIGTERM go through the EXIT trap too.
    trap 'exit 130' INT
    trap 'exit 143' TERM

    FSID=$(cat /proc/sys/kernel/random/uuid)
    log=$DIR/log/setup.log
    start_mon "$port"

    # OSD: register it, build its BlueStore, start it, wait until "up".
    osd_uuid=$(cat /proc/sys/kernel/random/uuid)
    osd_id=$(ceph_cli osd new "$osd_uuid" 2>>"$log") ||
        fail "ceph osd new" "$log"
    [[ $osd_id =~ ^[0-9]+$ ]] || fail "ceph osd new said: $osd_id" "$log"
    mkdir -p "$DIR/osd/ceph-$osd_id"
    # Its warnings (missing bdev label, unparsable fsid) are normal on a
    # first creation; they only land in setup.log.
    run_logged "ceph-osd --mkfs" "$log" ceph-osd -c "$CONF" -i "$osd_id" \
        --mkfs --osd-uuid "$osd_uuid"
    # What the OSD would do at boot (see "crush update on start" above).
    run_logged "ceph osd crush add" "$log" ceph_cli osd crush add \
        "osd.$osd_id" 1.0 root=default
    spawn osd "$DIR/log/osd.out" ceph-osd -c "$CONF" -i "$osd_id" -f
    wait_for "OSD" "$SPAWNED" \
        "$DIR/log/ceph-osd.$osd_id.log $DIR/log/osd.out" osd_up

    # radosgw creates its pools on first start, then opens the port.
    mkdir -p "$DIR/rgw/ceph-${RGW_NAME#client.}"
    spawn rgw "$DIR/log/rgw.out" radosgw -c "$CONF" -n "$RGW_NAME" -f
    wait_for "radosgw" "$SPAWNED" \
        "$DIR/log/ceph-$RGW_NAME.log $DIR/log/rgw.out" http_answers "$port"

    run_logged "radosgw-admin user create" "$log" \
        radosgw-admin -c "$CONF" user create --uid ferry \
        --display-name "ferry tests" \
        --access-key "$access" --secret-key "$secret"

    trap - EXIT INT TERM
    ms=$(((${EPOCHREALTIME/./} - ${t0/./}) / 1000))
    printf 'rgw.sh: S3 on http://127.0.0.1:%s, ready in %d.%01ds\n' \
        "$port" $((ms / 1000)) $((ms % 1000 / 100)) >&2
}

main() {
    (($# > 0)) || usage
    case $1 in
    install)
        (($# == 1)) || usage
        cmd_install
        ;;
    start)
        (($# == 5)) || usage
        cmd_start "$2" "$3" "$4" "$5"
        ;;
    stop)
        (($# == 2)) || usage
        cmd_stop "$2"
        ;;
    -h | --help | help) usage ;;
    *) usage ;;
    esac
}

main "$@"
