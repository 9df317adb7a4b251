#!/bin/bash
# HTTP/2 over TLS: nginx (http2 listener, dynamic libssl) answers curl
# (libcurl + nghttp2: three requests on one connection) and h2load (20
# requests, 2 connections, 4 streams at a time on each, two paths).
# tlstop must decode every request and response on both sides: methods,
# paths, statuses, bodies (one of 40000 bytes, so DATA spans frames and
# TLS records), pairing and latency.
# shellcheck source=tests/e2e/lib.sh disable=SC1091
. "${TESTS_SRCDIR:?}/tests/e2e/lib.sh" || exit 99
# shellcheck source=tests/e2e/msg_lib.sh disable=SC1091
. "$E2E_DIR/msg_lib.sh" || exit 99

need_root_bpf
need_cmd curl h2load

BIG=40000
mkdir -p "$T/www"
"$PY" -c 'import sys; sys.stdout.write(("".join("line %05d of big.txt\n" % i
    for i in range(2000)))[:int(sys.argv[1])])' "$BIG" >"$T/www/big.txt"
nginx_start "ssl http2" "
        location = /hello { return 200 \"hello-h2\\n\"; }
        location = /missing { return 404 \"not here\\n\"; }
        location / { root $T/www; }"
URL=https://127.0.0.1:$PORT

# nginx maps libssl.so.3 already: tlstop attaches to it at start
# shellcheck disable=SC2119 # no --raw: the decoded messages
tlstop_start

# one invocation, three URLs: curl reuses its connection (num_connects 0)
spawn curl curl --http2 -k -v --noproxy '*' --max-time 10 \
	-w '%{http_version} %{response_code} %{num_connects} %{local_port}\n' \
	-o "$T/hello.body" "$URL/hello" -o "$T/missing.body" "$URL/missing" \
	-o "$T/big.body" "$URL/big.txt"
CURL=$BG_PID
wait_pid "$CURL"
[ "$WAIT_RC" = 0 ] || fail "curl exited with $WAIT_RC: $(tail -n 5 "$T/curl.err")"
grep -q 'ALPN: server accepted h2' "$T/curl.err" || fail "curl did not negotiate h2"
[ "$(awk '{print $1, $2, $3}' "$T/curl.out" | paste -sd' ' -)" = "2 200 1 2 404 0 2 200 0" ] ||
	fail "curl: not HTTP/2 200, 404, 200 on one connection: $(cat "$T/curl.out")"
CURL_PORT=$(awk 'NR == 1 {print $4}' "$T/curl.out")
[ "$(cat "$T/hello.body")" = hello-h2 ] || fail "curl got $(cat "$T/hello.body") for /hello"
cmp -s "$T/big.body" "$T/www/big.txt" || fail "curl got another /big.txt"

# two connections, 4 concurrent streams each, the two paths in turn
spawn h2load h2load -n 20 -c 2 -m 4 "$URL/hello" "$URL/big.txt"
H2LOAD=$BG_PID
wait_pid "$H2LOAD" 15
[ "$WAIT_RC" = 0 ] || fail "h2load exited with $WAIT_RC"
grep -q 'Application protocol: h2' "$T/h2load.out" || fail "h2load did not negotiate h2"
grep -q '20 succeeded' "$T/h2load.out" || fail "h2load: $(grep requests: "$T/h2load.out")"
# what h2load asked for, by path, from nginx's own account
n_hello=$(grep -c '"GET /hello HTTP/2.0" 200 .*h2load' "$T/nginx-access.log")
n_big=$(grep -c '"GET /big.txt HTTP/2.0" 200 .*h2load' "$T/nginx-access.log")
[ $((n_hello + n_big)) = 20 ] || fail "nginx logged $n_hello + $n_big h2load requests, not 20"
log "curl pid $CURL port $CURL_PORT; h2load pid $H2LOAD: $n_hello /hello, $n_big /big.txt"

tlstop_stop

# curl: its three requests out, in order, on one connection; the answers in
check_msgs msgs "$T/out.jsonl" --pid "$CURL" --kind request --count 3 --conns 1 \
	--paths /hello,/missing,/big.txt --proto h2 --io out --method GET --scheme https \
	--authority "127.0.0.1:$PORT" --paired
check_msgs msgs "$T/out.jsonl" --pid "$CURL" --kind response --count 3 --conns 1 \
	--paths /hello,/missing,/big.txt --proto h2 --io in --latency --paired
check_msgs msgs "$T/out.jsonl" --pid "$CURL" --kind response --select-path /hello --count 1 \
	--status 200 --body $'hello-h2\n'
check_msgs msgs "$T/out.jsonl" --pid "$CURL" --kind response --select-path /missing \
	--count 1 --status 404 --body $'not here\n'
check_msgs msgs "$T/out.jsonl" --pid "$CURL" --kind response --select-path /big.txt \
	--count 1 --status 200 --body-file "$T/www/big.txt"

# the nginx worker: the same exchange from the other end of curl's connection
for kind in request response; do
	io=in
	[ $kind = response ] && io=out
	check_msgs msgs "$T/out.jsonl" --pid "$WORKERS" --select-dst "127.0.0.1:$CURL_PORT" \
		--kind $kind --count 3 --conns 1 --paths /hello,/missing,/big.txt --proto h2 \
		--io $io --method GET --paired
done
check_msgs msgs "$T/out.jsonl" --pid "$WORKERS" --select-dst "127.0.0.1:$CURL_PORT" \
	--kind response --select-path /missing --count 1 --status 404 --body $'not here\n' --latency
check_msgs msgs "$T/out.jsonl" --pid "$WORKERS" --select-dst "127.0.0.1:$CURL_PORT" \
	--kind response --select-path /big.txt --count 1 --status 200 --body-file "$T/www/big.txt"

# h2load: every response, by path, on its two connections
check_msgs msgs "$T/out.jsonl" --pid "$H2LOAD" --kind request --count 20 --conns 2 \
	--proto h2 --io out --method GET --paired
check_msgs msgs "$T/out.jsonl" --pid "$H2LOAD" --kind response --select-path /hello \
	--count "$n_hello" --status 200 --body $'hello-h2\n' --latency --paired
check_msgs msgs "$T/out.jsonl" --pid "$H2LOAD" --kind response --select-path /big.txt \
	--count "$n_big" --status 200 --body-file "$T/www/big.txt" --latency --paired
# and the worker saw them all come in: curl's one and h2load's
check_msgs msgs "$T/out.jsonl" --pid "$WORKERS" --kind request --select-path /hello \
	--count $((n_hello + 1)) --io in
pass
