#!/bin/bash
# tlstop joins an HTTP/2 connection in the middle: the client (python3-h2,
# whose HPACK encoder indexes :path) has already sent /a three times, so
# /a sits in both HPACK dynamic tables, which tlstop never saw. After the
# join it sends /a three more times (an index tlstop cannot resolve),
# then /b-new twice (first a literal with incremental indexing, then an
# index to the entry it added, both known). tlstop must say path_unknown
# for the first three and never give a wrong path, decode /b-new both
# times, pair and decode every response, on both sides, and count the
# unknown paths in its stats.
# shellcheck source=tests/e2e/lib.sh disable=SC1091
. "${TESTS_SRCDIR:?}/tests/e2e/lib.sh" || exit 99
# shellcheck source=tests/e2e/msg_lib.sh disable=SC1091
. "$E2E_DIR/msg_lib.sh" || exit 99

need_root_bpf
"$PY" -c 'import h2' 2>/dev/null || skip "python3-h2 is not installed (see .ci/deps)"
nginx_start "ssl http2" "
        location = /a { return 200 \"a-body\\n\"; }
        location = /b-new { return 200 \"b-new-body\\n\"; }"

# --timeout: it waits for the go file longer than tlstop_start may take
spawn client "$PY" "$E2E_DIR/h2_client.py" --port "$PORT" --cert "$T/cert.pem" --timeout 40 \
	--before /a,/a,/a --ready "$T/ready" --go "$T/go" --after /a,/a,/a,/b-new,/b-new
CPID=$BG_PID
for _ in $(seq 100); do
	[ -s "$T/ready" ] && break
	alive "$CPID" || fail "the HTTP/2 client died before the join: $(tail -n 3 "$T/client.err")"
	sleep 0.1
done
[ -s "$T/ready" ] || fail "the HTTP/2 client was not ready within 10 s"
CPORT=$(json_field "$T/ready" lport)

# the connection is up and idle; tlstop starts now
# shellcheck disable=SC2119 # no --raw: the decoded messages
tlstop_start
touch "$T/go"
wait_pid "$CPID"
[ "$WAIT_RC" = 0 ] || fail "the HTTP/2 client exited with $WAIT_RC: $(tail -n 3 "$T/client.err")"
# the workload is what this test is about: the encoder's choices, and the answers
"$PY" - "$T/client.out" <<'EOF' || fail "the HTTP/2 client did not encode :path as planned"
import json, sys
got = [json.loads(l) for l in open(sys.argv[1])]
after = [(g["path"], g["path_repr"], g["status"], g["body"]) for g in got
         if g["phase"] == "after"]
a_repr = after[0][1]
# /a: an index past the static table (61 entries), set before the join
assert a_repr.startswith("indexed ") and int(a_repr.split()[1]) > 61, after
# /b-new: a literal added to the table, then the newest entry of the table
want = [("/a", a_repr, 200, "a-body\n")] * 3 + [
    ("/b-new", "literal-indexing name 4", 200, "b-new-body\n"),
    ("/b-new", "indexed 62", 200, "b-new-body\n")]
assert after == want, (after, want)
EOF
log "nginx worker $WORKERS port $PORT, client pid $CPID port $CPORT"

tlstop_stop

for side in client server; do
	if [ $side = client ]; then
		pid=$CPID req_io=out resp_io=in sel=()
	else
		pid=$WORKERS req_io=in resp_io=out sel=(--select-dst "127.0.0.1:$CPORT")
	fi
	# only the requests sent after the join, and never a wrong path
	check_msgs msgs "$T/out.jsonl" --pid "$pid" "${sel[@]}" --kind request --count 5 \
		--conns 1 --paths null,null,null,/b-new,/b-new --proto h2 --io $req_io --method GET \
		--paired
	check_msgs msgs "$T/out.jsonl" --pid "$pid" "${sel[@]}" --kind request --select-path null \
		--count 3 --path-unknown yes
	check_msgs msgs "$T/out.jsonl" --pid "$pid" "${sel[@]}" --kind request \
		--select-path /b-new --count 2 --path-unknown no
	# the answers: paired, with their request's path (unknown or not)
	check_msgs msgs "$T/out.jsonl" --pid "$pid" "${sel[@]}" --kind response --count 5 \
		--conns 1 --paths null,null,null,/b-new,/b-new --proto h2 --io $resp_io --status 200 \
		--latency --paired
	check_msgs msgs "$T/out.jsonl" --pid "$pid" "${sel[@]}" --kind response --select-path null \
		--count 3 --path-unknown yes --body $'a-body\n'
	check_msgs msgs "$T/out.jsonl" --pid "$pid" "${sel[@]}" --kind response \
		--select-path /b-new --count 2 --body $'b-new-body\n'
done
# client and worker: 3 unknown paths each
check_msgs unknown-paths "$T/out.jsonl" --min 6
pass
