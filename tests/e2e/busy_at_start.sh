#!/bin/bash
# A process already in a tight SSL_write/SSL_read loop when tlstop starts:
# calls that were under way while the probes went in must not leave a
# thread's later calls unreported (each of its two threads keeps showing).
# shellcheck source=tests/e2e/lib.sh disable=SC1091
. "${TESTS_SRCDIR:?}/tests/e2e/lib.sh" || exit 99

need_root_bpf
BIN=$TESTS_BUILDDIR/tests/bench/ssl_roundtrip
need_prog "$BIN"

# 16 KiB calls keep both threads inside SSL_* most of the time
spawn roundtrip "$BIN" --size 16384 --iterations 2000000 --warmup 0
RPID=$BG_PID
sleep 0.5
alive "$RPID" || fail "ssl_roundtrip ended early: $(cat "$T/roundtrip.err")"

tlstop_start --raw --snaplen 64
sleep 1.5
tlstop_stop
kill "$RPID"

"$PY" - "$T/out.jsonl" "$RPID" <<'PY' || fail "not every thread of ssl_roundtrip was traced"
import collections, json, sys
path, pid = sys.argv[1], int(sys.argv[2])
calls = collections.Counter()
for line in open(path):
    r = json.loads(line)
    if r.get("type") == "tls" and r["pid"] == pid:
        calls[(r["tid"], r["func"])] += 1
print("busy_at_start: calls per (tid, func):", dict(calls), file=sys.stderr)
tids = {tid for tid, _ in calls}
ok = len(tids) == 2 and all(calls[(t, f)] >= 50 for t in tids for f in ("SSL_write", "SSL_read"))
sys.exit(0 if ok else 1)
PY
pass
