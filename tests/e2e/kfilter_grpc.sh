#!/bin/bash
# In-kernel filtering by gRPC path: Debian's python3-grpcio server and client
# (grpc_py.py ab-server, ab-client) on one channel, 40 unary calls to
# /pkg.A/Call alternating with 40 to /pkg.B/Call, 4000-byte request and
# 5000-byte reply strings, both processes traced with -f '^/pkg.A/'. The
# kernel drops the DATA payloads of the pkg.B streams (their HEADERS still
# reach userspace, which applies the whole filter): on both sides tlstop
# must print exactly the pkg.A calls, each complete, byte-exact and paired;
# the final stats must count the pkg.B bodies and streams under
# kernel_filter and no loss; --explain must show the kernel's path prefixes
# and the userspace regex.
# shellcheck source=tests/e2e/lib.sh disable=SC1091
. "${TESTS_SRCDIR:?}/tests/e2e/lib.sh" || exit 99
# shellcheck source=tests/e2e/msg_lib.sh disable=SC1091
. "$E2E_DIR/msg_lib.sh" || exit 99

need_root_bpf
"$PY" -c 'import grpc' 2>/dev/null || skip "python3-grpcio is not installed (see .ci/deps)"
gen_cert
GRPC_PY="$E2E_DIR/grpc_py.py"
FILTER='^/pkg.A/'
A=/pkg.A/Call
CALLS=40 REQ_SIZE=4000 REPLY_SIZE=5000
# both processes are traced, so the pkg.B bodies are dropped twice (out on
# one side, in on the other): 2 * CALLS * (REQ_SIZE + REPLY_SIZE) bytes and
# more (frame and protobuf overhead); ask for 90 % of that
MIN_BYTES=$((2 * CALLS * (REQ_SIZE + REPLY_SIZE) * 9 / 10))

spawn server "$PY" "$GRPC_PY" ab-server --cert "$T/cert.pem" --key "$T/key.pem"
SPID=$BG_PID
wait_file_grep "$T/server.out" '"port"'
PORT=$(json_field "$T/server.out" port)
# the client loads grpc (so libssl.so.3), then waits for $T/go: tlstop -p
# knows both pids and both processes map libssl before it attaches
spawn client "$PY" "$GRPC_PY" ab-client --port "$PORT" --cert "$T/cert.pem" --calls $CALLS \
	--request-size $REQ_SIZE --reply-size $REPLY_SIZE --wait-file "$T/go"
CPID=$BG_PID
wait_file_grep "/proc/$SPID/maps" '/libssl\.so\.3$'
wait_file_grep "/proc/$CPID/maps" '/libssl\.so\.3$'
log "server pid $SPID port $PORT, client pid $CPID"
tlstop_start -p "$SPID,$CPID" -f "$FILTER"

touch "$T/go"
wait_pid "$CPID" 30
[ "$WAIT_RC" = 0 ] || fail "the gRPC client exited with $WAIT_RC"
"$PY" - "$T/client.out" $CALLS <<'EOF' || fail "the gRPC calls did not go as planned"
import json, sys
calls = int(sys.argv[2])
got = [(c["call"], c["n"], c["code"], c["reply_ok"]) for c in map(json.loads, open(sys.argv[1]))]
want = [(p, n, "OK", True) for n in range(1, calls + 1) for p in ("/pkg.A/Call", "/pkg.B/Call")]
bad = [i for i in range(max(len(got), len(want))) if got[i:i + 1] != want[i:i + 1]]
assert not bad, "line %d: got %r, expected %r" % (bad[0] + 1, got[bad[0]:bad[0] + 1],
                                                  want[bad[0]:bad[0] + 1])
EOF
tlstop_stop
# the rest reads tlstop's output
[ -n "${E2E_WORKLOAD_ONLY:-}" ] && pass

# userspace: only pkg.A, every call once, whole and paired, on both sides
for side in client server; do
	if [ $side = client ]; then
		pid=$CPID req_io=out resp_io=in
	else
		pid=$SPID req_io=in resp_io=out
	fi
	check_msgs msgs "$T/out.jsonl" --pid "$pid" --select-path /pkg.B/Call --count 0
	check_msgs msgs "$T/out.jsonl" --pid "$pid" --count $((2 * CALLS)) --path $A
	check_msgs msgs "$T/out.jsonl" --pid "$pid" --kind request --count $CALLS --conns 1 \
		--proto grpc --io $req_io --method POST --scheme https --grpc-messages 1 \
		--protobuf 0 "3: $REPLY_SIZE" --paired
	check_msgs msgs "$T/out.jsonl" --pid "$pid" --kind response --count $CALLS --conns 1 \
		--proto grpc --io $resp_io --status 200 --grpc-status 0 --grpc-messages 1 --latency \
		--paired
done
# byte-exact: request and reply n = 1..CALLS once each per side, one record
# each, nothing truncated
"$PY" - "$T/out.jsonl" "$CPID" "$SPID" $CALLS $REQ_SIZE $REPLY_SIZE <<'EOF' ||
import base64, os, sys
sys.path.insert(0, os.environ["E2E_DIR"])
from check_messages import merge, message_records  # noqa: E402
from check_records import load  # noqa: E402
from grpc_py import ab_reply, ab_request, pb_decode  # noqa: E402

recs = load(sys.argv[1])
calls, req_size, reply_size = map(int, sys.argv[4:7])
expect = {"request": lambda n: ab_request("pkg.A", n, req_size, reply_size),
          "response": lambda n: ab_reply("pkg.A", n, reply_size)}
for pid in map(int, sys.argv[2:4]):
    for kind, make in expect.items():
        seen = []
        for m in merge(message_records(recs, {pid})):
            if m["kind"] != kind:
                continue
            g = m["grpc_messages"][0]
            data = g["data"].encode() if "data" in g else base64.b64decode(g["data_b64"])
            n = pb_decode(data).get(2)
            bad = [why for why, ok in (
                ("not the bytes of call %r" % n, data == make(n)),
                ("len %r" % m.get("len"), m.get("len") == 5 + len(data)),
                ("grpc len %r" % g.get("len"), g.get("len") == len(data)),
                ("%d records" % m["parts"], m["parts"] == 1),
                ("partial/truncated", not (m.get("partial") or m.get("truncated"))),
                ("compressed", not g.get("compressed"))) if not ok]
            if bad:
                raise SystemExit("pid %d: %s id %s: %s" % (pid, kind, m["id"], ", ".join(bad)))
            seen.append(n)
        if sorted(seen) != list(range(1, calls + 1)):
            raise SystemExit("pid %d: %s numbers %r, expected 1..%d once each"
                             % (pid, kind, sorted(seen), calls))
    print("pid %d: %d requests and %d replies of %s byte-exact" % (pid, calls, calls, "pkg.A"))
EOF
	fail "the pkg.A messages are not the bytes the client and server exchanged"

# the kernel's drops are no losses, and the decoder stayed in step
check stats "$T/out.jsonl" --expect lost.ringbuf_records==0 --expect lost.ringbuf_bytes==0 \
	--expect lost.map_update==0 --expect lost.read_user==0 --expect lost.incomplete_calls==0 \
	--expect lost.bad_records==0 --expect decoder.decode_errors==0 \
	--expect decoder.unknown_paths==0

# kernel: the pkg.B bodies and streams were not copied to userspace
"$PY" - "$T/out.jsonl" <<'EOF' || fail "the final stats record has no usable kernel_filter object"
import json, os, sys
sys.path.insert(0, os.environ["E2E_DIR"])
from check_records import load  # noqa: E402
last = [r for r in load(sys.argv[1]) if r["type"] == "stats"][-1]
kf = last.get("kernel_filter")
if not isinstance(kf, dict):
    raise SystemExit("no \"kernel_filter\" object in the final stats record (does this tlstop "
                     "filter in the kernel?); its keys: %s" % sorted(last))
keys = ("calls", "bytes", "streams", "conns_sampled_out", "path_unknown")
bad = [k for k in keys if not isinstance(kf.get(k), int) or isinstance(kf.get(k), bool)]
if bad:
    raise SystemExit("kernel_filter lacks the integer(s) %s: %s" % (bad, json.dumps(kf)))
print("kfilter_grpc: kernel_filter %s" % json.dumps(kf))
EOF
# the connection is traced from its first byte, so every :path is readable,
# literal or indexed: gRPC's reader cuts header blocks between TLS calls,
# and the kernel gathers them, so the table is never lost: each pkg.B
# stream is rejected on each side
check stats "$T/out.jsonl" --expect "kernel_filter.streams==$((2 * CALLS))" \
	--expect "kernel_filter.bytes>=$MIN_BYTES" --expect kernel_filter.conns_sampled_out==0 \
	--expect kernel_filter.path_unknown==0

# --explain: what goes to the kernel, what stays in userspace; it must not
# trace (timeout would end a tracing tlstop with 124)
timeout 10 "$TLSTOP" --explain -f "$FILTER" >"$T/explain.out" 2>"$T/explain.err" </dev/null
rc=$?
[ $rc = 0 ] || fail "tlstop --explain -f '$FILTER' exited with $rc (expected 0): $(head -c 600 "$T/explain.err")"
# '.' is any byte but \n (PCRE2 without (?s)); 256 prefixes is a safe superset
LC_ALL=C grep -Eq '^kernel: path prefix .*"/pkg.*\((255|256) prefixes\)' "$T/explain.out" ||
	fail "tlstop --explain printed no 'kernel: path prefix ... \"/pkg...\" (256 prefixes)' line: $(head -c 600 "$T/explain.out")"
grep -Fxq "userspace: $FILTER" "$T/explain.out" ||
	fail "tlstop --explain printed no 'userspace: $FILTER' line: $(head -c 600 "$T/explain.out")"
pass
