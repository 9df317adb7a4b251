#!/bin/bash
# msg_lib.sh - helpers of the end-to-end tests of decoded messages (HTTP/1,
# HTTP/2, gRPC), sourced after lib.sh as
#     . "$TESTS_SRCDIR/tests/e2e/msg_lib.sh"

# These tests call tlstop_start without --raw: they read the default
# {"type":"message"} records.
CHECK_MSG="$E2E_DIR/check_messages.py"

# check_msgs SUBCOMMAND ARGS...: check_messages.py; a failed assertion fails the test
check_msgs() {
	if [ -n "${E2E_WORKLOAD_ONLY:-}" ]; then
		log "E2E_WORKLOAD_ONLY: not checked: $*"
		return 0
	fi
	"$PY" "$CHECK_MSG" "$@" || fail "check_messages.py $1 failed (see above)"
}

# nginx_start LISTEN_PARAMS SERVER_LINES: an nginx of the test's own
# (non-daemon master + 1 worker, prefix and logs in $T) serving TLS with the
# test certificate on 127.0.0.1, a free port; sets PORT, MASTER and
# WORKERS (comma-separated)
nginx_start() {
	local listen=$1 lines=$2
	need_cmd nginx ss
	[ -s "$T/cert.pem" ] || gen_cert
	PORT=$(free_port) || fail "no free port on 127.0.0.1"
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
	# shellcheck disable=SC2086 # one word per worker pid
	track ${WORKERS//,/ }
	log "nginx master $MASTER, workers $WORKERS, port $PORT"
}
