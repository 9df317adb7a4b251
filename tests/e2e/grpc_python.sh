#!/bin/bash
# gRPC over TLS: Debian's python3-grpcio (gRPC C-core, TLS from the system
# libssl.so.3 through memory BIOs, so connections are (pid, SSL*)), server
# and client in two processes, one channel: a unary call answered OK, a
# unary call failed with NOT_FOUND (a trailers-only response), a
# server-streaming call of 3 messages. tlstop must decode paths, the
# protobuf fields of the messages, grpc-status and grpc-message, and pair
# every response with its request on both sides.
# shellcheck source=tests/e2e/lib.sh disable=SC1091
. "${TESTS_SRCDIR:?}/tests/e2e/lib.sh" || exit 99
# shellcheck source=tests/e2e/msg_lib.sh disable=SC1091
. "$E2E_DIR/msg_lib.sh" || exit 99

need_root_bpf
"$PY" -c 'import grpc' 2>/dev/null || skip "python3-grpcio is not installed (see .ci/deps)"
gen_cert
GRPC_PY="$E2E_DIR/grpc_py.py"

spawn server "$PY" "$GRPC_PY" server --cert "$T/cert.pem" --key "$T/key.pem"
SPID=$BG_PID
wait_file_grep "$T/server.out" '"port"'
PORT=$(json_field "$T/server.out" port)
# the server has loaded grpc's cygrpc, hence libssl.so.3: attached at start
grep -q '/libssl\.so\.3$' "/proc/$SPID/maps" || fail "the gRPC server does not map libssl.so.3"
# shellcheck disable=SC2119 # no --raw: the decoded messages
tlstop_start

spawn client "$PY" "$GRPC_PY" client --port "$PORT" --cert "$T/cert.pem"
CPID=$BG_PID
wait_pid "$CPID"
[ "$WAIT_RC" = 0 ] || fail "the gRPC client exited with $WAIT_RC"
# what the client got: 1: "echo:hello" 2: 43; NOT_FOUND; 3 items
"$PY" - "$T/client.out" <<'EOF' || fail "the gRPC calls did not go as planned"
import json, sys
got = {c["call"]: c for c in map(json.loads, open(sys.argv[1]))}
assert got["Unary"]["code"] == "OK" and got["Unary"]["replies"] == [
    b'\n\necho:hello\x10+'.hex()], got["Unary"]
assert got["Lookup"]["code"] == "NOT_FOUND" and got["Lookup"]["details"] == "no such thing"
assert got["Stream"]["code"] == "OK" and len(got["Stream"]["replies"]) == 3, got["Stream"]
EOF
log "server pid $SPID port $PORT, client pid $CPID"

tlstop_stop

SVC=/pkg.Echo
# both ends see the same three calls, in order, on one connection
for side in client server; do
	if [ $side = client ]; then
		pid=$CPID req_io=out resp_io=in
	else
		pid=$SPID req_io=in resp_io=out
	fi
	check_msgs msgs "$T/out.jsonl" --pid "$pid" --kind request --count 3 --conns 1 \
		--paths $SVC/Unary,$SVC/Lookup,$SVC/Stream --proto grpc --io $req_io --method POST \
		--scheme https --grpc-messages 1 --paired
	check_msgs msgs "$T/out.jsonl" --pid "$pid" --kind response --count 3 --conns 1 \
		--paths $SVC/Unary,$SVC/Lookup,$SVC/Stream --proto grpc --io $resp_io --status 200 \
		--latency --paired
	check_msgs msgs "$T/out.jsonl" --pid "$pid" --kind request --select-path $SVC/Unary \
		--protobuf 0 '1: "hello"' --protobuf 0 '2: 42'
	check_msgs msgs "$T/out.jsonl" --pid "$pid" --kind response --select-path $SVC/Unary \
		--count 1 --grpc-status 0 --grpc-messages 1 \
		--protobuf 0 '1: "echo:hello"' --protobuf 0 '2: 43'
	check_msgs msgs "$T/out.jsonl" --pid "$pid" --kind request --select-path $SVC/Lookup \
		--protobuf 0 '1: "nothing"' --protobuf 0 '2: 7'
	check_msgs msgs "$T/out.jsonl" --pid "$pid" --kind response --select-path $SVC/Lookup \
		--count 1 --grpc-status 5 --grpc-status-name NOT_FOUND --grpc-message "no such thing" \
		--grpc-messages 0
	check_msgs msgs "$T/out.jsonl" --pid "$pid" --kind request --select-path $SVC/Stream \
		--protobuf 0 '1: "three"' --protobuf 0 '2: 3'
	# possibly in several partial records: their messages are summed
	check_msgs msgs "$T/out.jsonl" --pid "$pid" --kind response --select-path $SVC/Stream \
		--count 1 --grpc-status 0 --grpc-messages 3 --protobuf 0 '1: "item-1" 2: 1' \
		--protobuf 1 '1: "item-2" 2: 2' --protobuf 2 '1: "item-3" 2: 3'
done
pass
