#!/bin/bash
# --demo starts a built-in loopback workload (the child's comm is
# tlstop-demo): HTTP/1.1, and HTTP/2 with plain requests and gRPC (unary,
# server streaming, errors, a trailers-only answer). Within --duration 4
# tlstop decodes every kind, masks the demo's bearer token, and exits 0 by
# itself, ending the demo's process.
# shellcheck source=tests/e2e/lib.sh disable=SC1091
. "${TESTS_SRCDIR:?}/tests/e2e/lib.sh" || exit 99
# shellcheck source=tests/e2e/msg_lib.sh disable=SC1091
. "$E2E_DIR/msg_lib.sh" || exit 99

need_root_bpf
need_cmd timeout
[ -n "${E2E_WORKLOAD_ONLY:-}" ] && pass

timeout 30 "$TLSTOP" --json --demo --duration 4 >"$T/out.jsonl" 2>"$T/err.log" </dev/null
rc=$?
[ "$rc" != 124 ] || fail "tlstop --demo --duration 4 was still running after 30 s"
[ "$rc" = 0 ] || fail "tlstop --json --demo --duration 4 exited with $rc"
check validate "$T/out.jsonl"

DEMO_PIDS=$("$PY" -c '
import json, sys
pids = set()
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("type") == "message" and r.get("comm") == "tlstop-demo":
        pids.add(r["pid"])
print(",".join(map(str, sorted(pids))))' "$T/out.jsonl")
[ -n "$DEMO_PIDS" ] || fail "no message records with comm tlstop-demo: $(head -c 2000 "$T/out.jsonl")"

# the client and the server are one process: each exchange shows twice;
# exchanges still open when tlstop stops end incomplete (--allow-gap)
check_msgs msgs "$T/out.jsonl" --pid "$DEMO_PIDS" --allow-gap --kind request --select-proto h1 --min-count 2
check_msgs msgs "$T/out.jsonl" --pid "$DEMO_PIDS" --allow-gap --kind response --select-proto h1 --min-count 2 \
	--latency --paired
check_msgs msgs "$T/out.jsonl" --pid "$DEMO_PIDS" --allow-gap --kind response --select-proto h2 \
	--select-path /api/v1/users/42 --status 200 --min-count 2 --paired
check_msgs msgs "$T/out.jsonl" --pid "$DEMO_PIDS" --allow-gap --kind response --select-proto h2 \
	--select-path /api/v1/missing --status 404 --min-count 2
check_msgs msgs "$T/out.jsonl" --pid "$DEMO_PIDS" --allow-gap --kind response --select-proto grpc \
	--select-path /demo.Shop/GetOrder --grpc-status 0 --min-count 2 --latency --paired \
	--protobuf 0 '4: "coffee-beans-1kg"'
check_msgs msgs "$T/out.jsonl" --pid "$DEMO_PIDS" --allow-gap --kind response --select-proto grpc \
	--select-path /demo.Shop/Refund --grpc-status 12 --grpc-status-name UNIMPLEMENTED \
	--min-count 2
# the bearer token is masked, its scheme kept
check_msgs msgs "$T/out.jsonl" --pid "$DEMO_PIDS" --allow-gap --kind request --select-proto h2 \
	--select-path /api/v1/users/42 --header authorization 'Bearer ****'
if grep -q 'demo-token' "$T/out.jsonl"; then
	fail "the demo's bearer token is in the output unmasked"
fi

# --stats: per-method tables instead of messages; the demo's Refund always
# fails (UNIMPLEMENTED), GetOrder never does
timeout 30 "$TLSTOP" --json --demo --stats -d 1 --duration 3.5 >"$T/stats.jsonl" \
	2>"$T/stats.err" </dev/null || fail "tlstop --demo --stats exited with $?: $(cat "$T/stats.err")"
"$PY" - "$T/stats.jsonl" <<'PYEOF' || fail "the --stats tables are wrong: $(tail -c 3000 "$T/stats.jsonl")"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert not [r for r in recs if r["type"] == "message"], "--stats printed messages"
tables = [r for r in recs if r["type"] == "methods"]
assert len(tables) >= 2, "%d methods records in 3.5 s at -d 1" % len(tables)
rows = {m["key"]: m for m in tables[-1]["methods"]}
get, refund = rows["/demo.Shop/GetOrder"], rows.get("/demo.Shop/Refund")
assert get["service"] == "demo.Shop" and get["method"] == "GetOrder", get
assert get["calls"] > 0 and get["errors"] == 0 and get["p50_ms"] is not None, get
assert get["p50_ms"] <= get["p99_ms"] <= get["max_ms"], get
assert refund and refund["calls"] > 0 and refund["errors"] == refund["calls"], refund
assert refund["error_pct"] == 100.0, refund
assert "GET /api/v1/users/42" in rows, sorted(rows)
print("demo --stats: %d tables; GetOrder %d calls p99 %.2f ms; Refund %d/%d errors" % (
    len(tables), get["calls"], get["p99_ms"], refund["errors"], refund["calls"]))
PYEOF

# the demo's processes end with tlstop
for _ in $(seq 20); do
	alive=
	for pid in ${DEMO_PIDS//,/ }; do
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = tlstop-demo ] && alive="$alive $pid"
	done
	[ -z "$alive" ] && break
	sleep 0.1
done
if [ -n "$alive" ]; then
	# shellcheck disable=SC2086 # one word per pid
	kill $alive 2>/dev/null # started through our tlstop: ours to end
	fail "demo process(es)$alive still running 2 s after tlstop exited"
fi
pass
