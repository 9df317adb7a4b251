#!/bin/bash
# --demo starts a built-in loopback HTTPS client and server (the child's
# comm is tlstop-demo): within --duration 4 tlstop shows its HTTP/1.1
# request lines going out and the responses coming in, and exits 0 by itself.
# shellcheck source=tests/e2e/lib.sh disable=SC1091
. "${TESTS_SRCDIR:?}/tests/e2e/lib.sh" || exit 99

need_root_bpf
need_cmd timeout
[ -n "${E2E_WORKLOAD_ONLY:-}" ] && pass

timeout 30 "$TLSTOP" --json --demo --duration 4 >"$T/out.jsonl" 2>"$T/err.log" </dev/null
rc=$?
[ "$rc" != 124 ] || fail "tlstop --demo --duration 4 was still running after 30 s"
[ "$rc" = 0 ] || fail "tlstop --json --demo --duration 4 exited with $rc"
check validate "$T/out.jsonl"

"$PY" - "$T/out.jsonl" <<'PYEOF' || fail "the demo's traffic is not in the output"
import os, re, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(os.environ["CHECK"])))
import check_records as cr

recs = cr.load(sys.argv[1])
demo = [r for r in cr.tls_records(recs) if r.get("comm") == "tlstop-demo"]
if not demo:
    comms = sorted({r.get("comm") for r in cr.tls_records(recs)})
    sys.exit("no tls records with comm tlstop-demo (comms seen: %s)" % comms)
for r in demo:
    cr.sanity(r)
req = re.compile(rb"^[A-Z]+ /\S* HTTP/1\.1\r\n")
resp = re.compile(rb"^HTTP/1\.1 [1-5][0-9][0-9] ")
out_req = [r for r in demo if r["dir"] == "out" and req.match(cr.payload(r))]
in_req = [r for r in demo if r["dir"] == "in" and req.match(cr.payload(r))]
out_resp = [r for r in demo if r["dir"] == "out" and resp.match(cr.payload(r))]
in_resp = [r for r in demo if r["dir"] == "in" and resp.match(cr.payload(r))]
print("check_records: tlstop-demo: %d records; requests out %d / in %d, responses out %d / in %d"
      % (len(demo), len(out_req), len(in_req), len(out_resp), len(in_resp)))
# the client's side: requests out, responses in (the server, if it is the
# same comm, adds the mirror image)
if not out_req:
    sys.exit("no HTTP/1.1 request line going out from tlstop-demo")
if not in_resp:
    sys.exit("no HTTP/1.1 response coming in to tlstop-demo")
for r in out_req + in_resp:
    if r["conn"]["role"] not in ("client", None):
        sys.exit("a request going out of a conn with role %r: %s" % (r["conn"]["role"], cr.brief(r)))
PYEOF

# the demo's processes end with tlstop
DEMO_PIDS=$("$PY" -c '
import json, sys
pids = set()
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("type") == "tls" and r.get("comm") == "tlstop-demo":
        pids.add(r["pid"])
print(" ".join(map(str, sorted(pids))))' "$T/out.jsonl")
for _ in $(seq 20); do
	alive=
	for pid in $DEMO_PIDS; do
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
