#!/bin/bash
# HTTP/1.1 keep-alive over TLS with chunked responses: Python's http.server
# behind the ssl module answers http.client's GET /one, GET /two and
# POST /three on one connection, every response in three chunks (a chunk
# size line and its data in two TLS calls once), the last one with a
# trailer. tlstop must give three request/response pairs on that
# connection, in order, with the de-chunked bodies, on both sides.
# shellcheck source=tests/e2e/lib.sh disable=SC1091
. "${TESTS_SRCDIR:?}/tests/e2e/lib.sh" || exit 99
# shellcheck source=tests/e2e/msg_lib.sh disable=SC1091
. "$E2E_DIR/msg_lib.sh" || exit 99

need_root_bpf
gen_cert
H1="$E2E_DIR/h1_chunked.py"

spawn server "$PY" "$H1" server --cert "$T/cert.pem" --key "$T/key.pem"
SPID=$BG_PID
wait_file_grep "$T/server.out" '"port"'
PORT=$(json_field "$T/server.out" port)
# the server has imported ssl (libssl.so.3 is mapped): attached at start
# shellcheck disable=SC2119 # no --raw: the decoded messages
tlstop_start

spawn client "$PY" "$H1" client --port "$PORT" --cert "$T/cert.pem" --post /three \
	/one /two /three
CPID=$BG_PID
wait_pid "$CPID"
[ "$WAIT_RC" = 0 ] || fail "the HTTP/1.1 client exited with $WAIT_RC"
# three chunked answers on one connection
"$PY" - "$T/client.out" <<'EOF' || fail "the HTTP/1.1 workload did not go as planned"
import json, sys
got = [json.loads(l) for l in open(sys.argv[1])]
assert [g["path"] for g in got] == ["/one", "/two", "/three"], got
assert all(g["status"] == 200 for g in got), got
assert all(g["body"] == "alpha %s\nbeta beta beta beta beta %s\ngamma %s\n" % ((g["path"],) * 3)
           for g in got), got
assert len({g["lport"] for g in got}) == 1, got
EOF
CPORT=$(json_field "$T/client.out" lport)
log "server pid $SPID port $PORT, client pid $CPID port $CPORT"

tlstop_stop

# body PATH: what h1_chunked.py sends for PATH, de-chunked, in $BODY
body() {
	BODY=$(printf 'alpha %s\nbeta beta beta beta beta %s\ngamma %s' "$1" "$1" "$1")$'\n'
}
for side in client server; do
	if [ $side = client ]; then
		pid=$CPID req_io=out resp_io=in
	else
		pid=$SPID req_io=in resp_io=out
	fi
	check_msgs msgs "$T/out.jsonl" --pid "$pid" --kind request --count 3 --conns 1 \
		--paths /one,/two,/three --proto h1 --io $req_io --paired
	check_msgs msgs "$T/out.jsonl" --pid "$pid" --kind response --count 3 --conns 1 \
		--paths /one,/two,/three --proto h1 --io $resp_io --status 200 --latency --paired \
		--header Transfer-Encoding chunked
	for p in /one /two; do
		body $p
		check_msgs msgs "$T/out.jsonl" --pid "$pid" --kind request --select-path $p \
			--count 1 --method GET --body ''
		check_msgs msgs "$T/out.jsonl" --pid "$pid" --kind response --select-path $p \
			--count 1 --body "$BODY"
	done
	body /three
	check_msgs msgs "$T/out.jsonl" --pid "$pid" --kind request --select-path /three \
		--count 1 --method POST --body $'note=three\n'
	check_msgs msgs "$T/out.jsonl" --pid "$pid" --kind response --select-path /three \
		--count 1 --body "$BODY" --trailer X-Checksum "sum-${#BODY}"
done
pass
