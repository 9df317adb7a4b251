#!/bin/bash
# lib.sh - shared helpers for tlstop's end-to-end tests, sourced by every
# tests/e2e/*.sh as
#     . "$TESTS_SRCDIR/tests/e2e/lib.sh"
#
# Exit statuses follow automake: 0 pass, 1 fail, 77 skip.  A test that
# cannot run here (not root, no usable BPF) skips, except under CI=true,
# where it fails: CI must never report a skipped end-to-end test as green.
#
# $TLSTOP, $TESTS_SRCDIR and $TESTS_BUILDDIR come from Makefile.am's
# AM_TESTS_ENVIRONMENT; set them by hand to run one test alone:
#     TLSTOP=$PWD/tlstop TESTS_SRCDIR=/path/to/src TESTS_BUILDDIR=$PWD \
#         bash /path/to/src/tests/e2e/openssl_s_server.sh
# E2E_KEEP=1 keeps $T; E2E_WORKLOAD_ONLY=1 (for developing the tests) runs
# the workloads without tlstop and ends in SKIP, never in PASS.

set -u

PY=/usr/bin/python3 # Debian's, whatever python3 comes first in PATH
BPFTOOL=$(PATH=$PATH:/usr/sbin:/sbin command -v bpftool)
E2E_DIR="$TESTS_SRCDIR/tests/e2e"
CHECK="$E2E_DIR/check_records.py"
export E2E_DIR CHECK
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the source tree
# shellcheck disable=SC2034 # used by the tests that source this file
PY_TLS="$E2E_DIR/py_tls.py"
# shellcheck disable=SC2034
PROGS="$TESTS_BUILDDIR/tests/progs"
TEST_NAME=$(basename "$0" .sh)

E2E_PIDS=()     # every background process this test started
TLSTOP_PID=
T=

log() { printf '%s: %s\n' "$TEST_NAME" "$*" >&2; }

dump_logs() {
	[ -n "$T" ] && [ -d "$T" ] || return 0
	local f
	for f in "$T"/out.jsonl "$T"/err.log "$T"/*.out "$T"/*.err "$T"/*.log; do
		[ -f "$f" ] || continue
		case "$f" in
		"$T/out.jsonl" | "$T/err.log") [ -n "${dumped_main:-}" ] && continue ;;
		*) [ -s "$f" ] || continue ;;
		esac
		[ "$f" = "$T/err.log" ] && local dumped_main=1
		if [ "$f" = "$T/out.jsonl" ]; then
			# the records, without the periodic stats but for the last one
			echo "----- $f ($(wc -l <"$f") lines; the last 60 but stats, long lines cut) -----" >&2
			grep -v '^{"type" *: *"stats"' "$f" | tail -n 60 | cut -c1-700 >&2
			grep '^{"type" *: *"stats"' "$f" | tail -n 1 | cut -c1-1500 >&2
		else
			echo "----- $f ($(wc -c <"$f") bytes; last 60 lines, long lines cut) -----" >&2
			tail -n 60 "$f" | cut -c1-600 >&2
		fi
	done
}

fail() {
	log "FAIL: $*"
	exit 1
}

skip() {
	if [ "${CI:-}" = true ]; then
		log "FAIL (CI=true: this test must run, not skip): $*"
		exit 1
	fi
	log "SKIP: $*"
	exit 77
}

# kill only what this test started, youngest first; SIGTERM, then SIGKILL
kill_ours() {
	local i pid n
	for ((i = ${#E2E_PIDS[@]} - 1; i >= 0; i--)); do
		pid=${E2E_PIDS[i]}
		kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" 2>/dev/null
	done
	for ((n = 0; n < 30; n++)); do
		local alive=
		for pid in "${E2E_PIDS[@]}"; do
			kill -0 "$pid" 2>/dev/null && alive=1
		done
		[ -z "$alive" ] && break
		sleep 0.1
	done
	for pid in "${E2E_PIDS[@]}"; do
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	done
	E2E_PIDS=()
}

cleanup() {
	local rc=$?
	trap - EXIT
	if [ "$rc" = 0 ] && [ -n "${E2E_WORKLOAD_ONLY:-}" ]; then
		log "SKIP: E2E_WORKLOAD_ONLY is set: the workload ran, tlstop was not checked"
		rc=77
	fi
	if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
		dump_logs
	fi
	[ ${#E2E_PIDS[@]} -gt 0 ] && kill_ours
	if [ -n "$T" ] && [ -d "$T" ]; then
		if [ -n "${E2E_KEEP:-}" ]; then
			log "kept $T"
		else
			rm -rf "$T"
		fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

: "${TLSTOP:?TLSTOP is not set (Makefile.am exports it)}"
: "${TESTS_SRCDIR:?TESTS_SRCDIR is not set}"
: "${TESTS_BUILDDIR:?TESTS_BUILDDIR is not set}"
[ -x "$PY" ] || fail "$PY not found: install the Debian package python3"
T=$(mktemp -d "${TMPDIR:-/tmp}/tlstop-e2e-$TEST_NAME.XXXXXX") || fail "mktemp failed"
chmod 755 "$T" # the unprivileged parts (setpriv nobody) read files below it

# remember a background process for the cleanup trap
track() {
	E2E_PIDS+=("$@")
}

# spawn NAME CMD...: run CMD in the background, stdout/stderr in $T/NAME.out
# and $T/NAME.err, stdin from $BG_STDIN (default /dev/null; the fifos the
# tests type into are opened read-write first, `exec 3<>FIFO`, so that
# neither side blocks), fds 3 and 4 closed; the pid is in $BG_PID (tracked).
spawn() {
	local name=$1
	shift
	"$@" <"${BG_STDIN:-/dev/null}" >"$T/$name.out" 2>"$T/$name.err" 3>&- 4>&- &
	BG_PID=$!
	track "$BG_PID"
}

need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin command -v "$c" >/dev/null 2>&1 ||
			skip "$c is not installed (see .ci/deps)"
	done
}

# need_root_bpf: root, kernel BTF and a bpf() that answers; skip otherwise
# need_prog PATH: a test program make check builds
need_prog() {
	[ -x "$1" ] || fail "$1 is missing: make check builds it"
}

need_root_bpf() {
	if [ -n "${E2E_WORKLOAD_ONLY:-}" ]; then
		[ "${CI:-}" = true ] && fail "E2E_WORKLOAD_ONLY is for developing the tests, not for CI"
		log "E2E_WORKLOAD_ONLY: running the workload without tlstop"
		return 0
	fi
	[ -x "$TLSTOP" ] || fail "$TLSTOP is not an executable: build tlstop first"
	[ "$(id -u)" = 0 ] || skip "needs root to load BPF programs (running as uid $(id -u))"
	[ -r /sys/kernel/btf/vmlinux ] || skip "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
	local why
	why=$("$PY" - <<'EOF' 2>&1
import ctypes, os, struct
nr = {"x86_64": 321, "aarch64": 280}.get(os.uname().machine)
if nr is None:
    raise SystemExit("unsupported architecture " + os.uname().machine)
libc = ctypes.CDLL(None, use_errno=True)
# BPF_MAP_CREATE of a 1-entry array map: the cheapest proof that bpf() works
attr = ctypes.create_string_buffer(struct.pack("IIII", 2, 4, 4, 1), 128)
fd = libc.syscall(nr, 0, attr, 128)
if fd < 0:
    raise SystemExit("bpf(BPF_MAP_CREATE) failed: " + os.strerror(ctypes.get_errno()))
os.close(fd)
EOF
	) || skip "BPF is not usable here: $why"
}

# free_port [v6]: a TCP port free on 127.0.0.1 (and on ::1 too with v6)
free_port() {
	"$PY" - "${1:-}" <<'EOF'
import socket, sys
for _ in range(50):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    if sys.argv[1] == "v6":
        s6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        try:
            s6.bind(("::1", port))
        except OSError:
            s.close()
            continue
        s6.close()
    s.close()
    print(port)
    break
else:
    raise SystemExit("no free port")
EOF
}

# wait_listen PORT [TIMEOUT]: until something listens on TCP PORT
wait_listen() {
	local port=$1 n=$((${2:-15} * 10))
	while [ "$n" -gt 0 ]; do
		ss -Hltn "sport = :$port" 2>/dev/null | grep -q . && return 0
		sleep 0.1
		n=$((n - 1))
	done
	fail "nothing listens on port $port after ${2:-15} s"
}

# wait_file_grep FILE PATTERN [TIMEOUT]: until grep -E PATTERN matches FILE
wait_file_grep() {
	local f=$1 pat=$2 n=$((${3:-15} * 10))
	while [ "$n" -gt 0 ]; do
		grep -Eq -- "$pat" "$f" 2>/dev/null && return 0
		sleep 0.1
		n=$((n - 1))
	done
	fail "no line matching /$pat/ in $f after ${3:-15} s"
}

# alive PID: the process exists and is not a zombie (an exited child that
# was not waited for still answers kill -0)
alive() {
	kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ]
}

# wait_pid PID [TIMEOUT]: wait for a child to exit; its status in $WAIT_RC
wait_pid() {
	local pid=$1 n=$((${2:-15} * 10))
	while alive "$pid"; do
		[ "$n" -le 0 ] && fail "process $pid did not exit within ${2:-15} s"
		sleep 0.1
		n=$((n - 1))
	done
	wait "$pid"
	WAIT_RC=$?
}

# json_field FILE KEY [LINE]: KEY of the LINE-th (default first) JSON line
json_field() {
	"$PY" -c '
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
print(json.loads(lines[int(sys.argv[3]) - 1])[sys.argv[2]])' "$1" "$2" "${3:-1}"
}

# gen_cert: $T/cert.pem and $T/key.pem, a throwaway P-256 self-signed pair
gen_cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost \
		-days 1 -keyout "$T/key.pem" -out "$T/cert.pem" >"$T/openssl-req.log" 2>&1 ||
		fail "openssl req could not make a certificate: $(cat "$T/openssl-req.log")"
	chmod 644 "$T/key.pem" "$T/cert.pem"
}

# py_server server|aserver ARGS...: py_tls.py's blocking or asyncio server
# with the test certificate; sets SPID and PORT once it listens
py_server() {
	local mode=$1
	shift
	spawn server "$PY" "$PY_TLS" "$mode" --cert "$T/cert.pem" --key "$T/key.pem" "$@"
	SPID=$BG_PID
	wait_file_grep "$T/server.out" '"port"'
	PORT=$(json_field "$T/server.out" port)
}

# nginx_start LISTEN_PARAMS SERVER_LINES [v6]: an nginx of the test's own
# (non-daemon master + 1 worker, prefix and logs in $T) serving TLS with the
# test certificate on 127.0.0.1 (and [::1] with v6), a free port; sets PORT,
# MASTER and WORKERS (comma-separated)
nginx_start() {
	local listen=$1 lines=$2 v6=${3:-} listen6=
	need_cmd nginx ss
	[ -s "$T/cert.pem" ] || gen_cert
	PORT=$(free_port ${v6:+"$v6"}) || fail "no free port on 127.0.0.1${v6:+ and ::1}"
	[ -n "$v6" ] && listen6="listen [::1]:$PORT $listen;"
	mkdir -p "$T/nginx/tmp"
	cat >"$T/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $T/nginx.pid;
error_log $T/nginx-error.log info;
events { worker_connections 64; }
http {
    access_log $T/nginx-access.log;
    client_body_temp_path $T/nginx/tmp/body;
    proxy_temp_path $T/nginx/tmp/proxy;
    fastcgi_temp_path $T/nginx/tmp/fastcgi;
    uwsgi_temp_path $T/nginx/tmp/uwsgi;
    scgi_temp_path $T/nginx/tmp/scgi;
    default_type text/plain;
    server {
        listen 127.0.0.1:$PORT $listen;
        $listen6
        ssl_certificate $T/cert.pem;
        ssl_certificate_key $T/key.pem;
$lines
    }
}
EOF
	# -e: nginx opens its default error log before reading the configuration
	NGINX=(nginx -p "$T/nginx" -e "$T/nginx-error.log" -c "$T/nginx.conf")
	"${NGINX[@]}" -t >"$T/nginx-t.log" 2>&1 || fail "nginx -t: $(cat "$T/nginx-t.log")"
	spawn nginx "${NGINX[@]}"
	MASTER=$BG_PID
	wait_listen "$PORT"
	WORKERS=
	local _
	for _ in $(seq 50); do
		[ -s "$T/nginx.pid" ] && WORKERS=$(pgrep -P "$MASTER" | paste -sd, -) &&
			[ -n "$WORKERS" ] && break
		sleep 0.1
	done
	[ -n "$WORKERS" ] || fail "no nginx worker under master $MASTER"
	[ "$(cat "$T/nginx.pid")" = "$MASTER" ] || fail "nginx.pid says $(cat "$T/nginx.pid"), not $MASTER"
	# shellcheck disable=SC2086 # one word per worker pid
	track ${WORKERS//,/ }
	log "nginx master $MASTER, workers $WORKERS, port $PORT"
}

# tlstop_start ARGS...: tlstop --json ARGS in the background, stdout in
# $TLSTOP_OUT ($T/out.jsonl by default), stderr in $T/err.log (or beside $TLSTOP_OUT); returns once
# the ready record is out. E2E_PROBE_METHOD=entry-return runs the test with
# the classic probes (tests/e2e/entry_return.sh).
tlstop_start() {
	local out=${TLSTOP_OUT:-$T/out.jsonl} err=$T/err.log
	[ -n "${TLSTOP_OUT:-}" ] && err=${TLSTOP_OUT%.jsonl}.err
	if [ -n "${E2E_WORKLOAD_ONLY:-}" ]; then
		: >"$out"
		return 0
	fi
	"$TLSTOP" --json ${E2E_PROBE_METHOD:+--probe-method="$E2E_PROBE_METHOD"} "$@" >"$out" \
		2>"$err" </dev/null 3>&- 4>&- &
	TLSTOP_PID=$!
	track "$TLSTOP_PID"
	local n=300
	while ! head -n 1 "$out" 2>/dev/null | grep -Eq '"type" *: *"ready"'; do
		if ! alive "$TLSTOP_PID"; then
			wait "$TLSTOP_PID"
			fail "tlstop $* exited with status $? before its ready record"
		fi
		[ "$n" -le 0 ] && fail "no ready record from tlstop $* within 30 s"
		sleep 0.1
		n=$((n - 1))
	done
	log "tlstop ready (pid $TLSTOP_PID): $(head -n 1 "$out" | cut -c1-300)"
}

# tlstop_stop: SIGINT, wait (15 s at most), expect exit status 0 and a
# well-formed output (ready first, exit stats after the last tls record)
tlstop_stop() {
	[ -n "${E2E_WORKLOAD_ONLY:-}" ] && return 0
	[ -n "$TLSTOP_PID" ] || fail "tlstop_stop without tlstop_start"
	if ! alive "$TLSTOP_PID"; then
		wait "$TLSTOP_PID"
		fail "tlstop (pid $TLSTOP_PID) ended by itself, status $?, before the test was done"
	fi
	kill -INT "$TLSTOP_PID" 2>/dev/null || fail "tlstop (pid $TLSTOP_PID) died before SIGINT"
	wait_pid "$TLSTOP_PID" 15
	TLSTOP_PID=
	[ "$WAIT_RC" = 0 ] || fail "tlstop exited with status $WAIT_RC after SIGINT (expected 0)"
	check validate "${TLSTOP_OUT:-$T/out.jsonl}"
	# nothing of tlstop stays in the kernel (unless another tlstop runs)
	if ! pgrep -x tlstop >/dev/null; then
		local left
		left=$("$BPFTOOL" prog show 2>/dev/null | grep -cE 'name (ssl_enter|ssl_leave|sys_enter_write) ')
		[ "$left" = 0 ] || fail "$left tlstop BPF programs still loaded after tlstop exited"
	fi
}

# no_bpf_state PID...: tlstop's (pid, SSL*) and (pid, fd) maps hold nothing
# for these processes, which closed their connections and exited
no_bpf_state() {
	local map
	for map in ssl_conns fd_ssl; do
		"$BPFTOOL" -j map dump name "$map" >"$T/$map.json" ||
			fail "bpftool map dump name $map failed"
		"$PY" - "$T/$map.json" "$@" <<'PY' || fail "tlstop's $map map still holds state of exited processes"
import json, sys
name, pids = sys.argv[1], {int(p) for p in sys.argv[2:]}
dump = json.load(open(name))
# one map: its entries; several tlstop instances: one object per map
entries = [e for m in dump for e in (m["elements"] if "elements" in m else [m])]
def pid_of(e):
    # both keys start with the pid, a little-endian u32; bpftool prints raw bytes
    return int.from_bytes(bytes(int(b, 16) for b in e["key"][:4]), "little")
left = [e for e in entries if pid_of(e) in pids]
for e in left:
    print(f"no_bpf_state: {name} still has {e}", file=sys.stderr)
sys.exit(1 if left else 0)
PY
	done
	log "no state left in ssl_conns/fd_ssl for pids $*"
}

# check SUBCOMMAND ARGS...: check_records.py; a failed assertion fails the test
check() {
	if [ -n "${E2E_WORKLOAD_ONLY:-}" ]; then
		log "E2E_WORKLOAD_ONLY: not checked: $*"
		return 0
	fi
	"$PY" "$CHECK" "$@" || fail "check_records.py $1 failed (see above)"
}

# dump_data OUTFILE CHECK_DUMP_ARGS...: one connection's plaintext in one
# direction (check_records.py dump) into OUTFILE
dump_data() {
	local f=$1
	shift
	if [ -n "${E2E_WORKLOAD_ONLY:-}" ]; then
		: >"$f"
		return 0
	fi
	"$PY" "$CHECK" dump "$@" >"$f" || fail "check_records.py dump $* failed (see above)"
}

# pass: the last line of a test
pass() {
	if [ -n "${E2E_WORKLOAD_ONLY:-}" ]; then
		log "workload done"
	else
		log PASS
	fi
	exit 0
}
