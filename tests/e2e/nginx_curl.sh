#!/bin/bash
# nginx (master + worker, dynamic libssl) serves /hello to curl (libcurl,
# dynamic libssl) over HTTP/1.1, once on 127.0.0.1 and once on [::1].
# tlstop must show curl's request out and the response in, the nginx
# worker's read of the request and write of the response (the very same
# bytes), the roles, and the 4-tuples for both address families.
# shellcheck source=tests/e2e/lib.sh disable=SC1091
. "${TESTS_SRCDIR:?}/tests/e2e/lib.sh" || exit 99

need_root_bpf
need_cmd curl
nginx_start ssl '        location /hello { return 200 "hello from nginx\n"; }' v6
NGINX_PIDS="$MASTER,$WORKERS"

# nginx maps libssl.so.3 already: tlstop attaches to it at start
tlstop_start --raw

# curl_hello HOST NAME: one request; sets CURL_PID and CURL_PORT
curl_hello() {
	spawn "$2" curl -sk --http1.1 --max-time 10 -o "$T/$2.body" -w '%{local_port}\n' \
		"https://$1:$PORT/hello"
	CURL_PID=$BG_PID
	wait_pid "$CURL_PID"
	[ "$WAIT_RC" = 0 ] || fail "curl https://$1:$PORT/hello exited with $WAIT_RC: $(cat "$T/$2.err")"
	[ "$(cat "$T/$2.body")" = "hello from nginx" ] || fail "curl got: $(cat "$T/$2.body")"
	CURL_PORT=$(cat "$T/$2.out")
	log "curl $1: pid $CURL_PID local port $CURL_PORT"
}
curl_hello 127.0.0.1 curl4
PID4=$CURL_PID PORT4=$CURL_PORT
curl_hello '[::1]' curl6
PID6=$CURL_PID PORT6=$CURL_PORT

tlstop_stop

REQ_LINE=$'GET /hello HTTP/1.1\r\n'
BODY=$'\r\n\r\nhello from nginx\n'
for fam in 4 6; do
	if [ $fam = 4 ]; then
		pid=$PID4 family=ipv4 curl_end="127.0.0.1:$PORT4" ng_end="127.0.0.1:$PORT"
	else
		pid=$PID6 family=ipv6 curl_end="[::1]:$PORT6" ng_end="[::1]:$PORT"
	fi
	check tls "$T/out.jsonl" --pid "$pid" --conns 1 --comm curl --lib openssl \
		--linking dynamic --lib-path-base libssl.so.3 --fd present --fd-source fd \
		--family $family --src "$curl_end" --dst "$ng_end" --role client \
		--out-prefix "$REQ_LINE" --out-suffix $'\r\n\r\n' \
		--out-contains $'\r\nHost: '"${ng_end}"$'\r\n' \
		--in-prefix $'HTTP/1.1 200 OK\r\n' --in-suffix "$BODY" --verbose
	dump_data "$T/curl$fam.sent" "$T/out.jsonl" --pid "$pid" --dir out
	dump_data "$T/curl$fam.rcvd" "$T/out.jsonl" --pid "$pid" --dir in
	# nginx: the worker, not the master, on the connection from curl's port;
	# it read exactly what curl sent and wrote exactly what curl received
	check tls "$T/out.jsonl" --pid "$WORKERS" --select-dst "$curl_end" --conns 1 \
		--comm nginx --lib openssl --linking dynamic --lib-path-base libssl.so.3 \
		--fd present --fd-source fd --family $family --src "$ng_end" --role server \
		--in-file "$T/curl$fam.sent" --out-file "$T/curl$fam.rcvd" --verbose
	check tls "$T/out.jsonl" --pid "$NGINX_PIDS" --select-dst "$curl_end" --conns 1
done
pass
