#!/bin/bash
# In-kernel sampling: nginx serves /s to one curl process that makes N
# connections in turn (Connection: close), the nginx worker traced with
# --sample 3. The kernel decides once per connection: every connection
# tlstop shows must be whole (its request and response, complete), the
# connections shown plus those counted under kernel_filter.conns_sampled_out
# must be all N, and some must be kept and some not (with N = 60 and 1 in 3
# kept, all or none happens once in 10^10 runs).
# shellcheck source=tests/e2e/lib.sh disable=SC1091
. "${TESTS_SRCDIR:?}/tests/e2e/lib.sh" || exit 99

need_root_bpf
need_cmd curl
N=60
nginx_start ssl '        location /s { return 200 "sampled body\n"; }'

tlstop_start -p "$WORKERS" --sample 3

urls=()
for i in $(seq "$N"); do
	urls+=(-o /dev/null "https://127.0.0.1:$PORT/s?n=$i")
done
spawn curl curl -sk --http1.1 --max-time 30 -H 'Connection: close' -w '%{local_port}\n' \
	"${urls[@]}"
wait_pid "$BG_PID"
[ "$WAIT_RC" = 0 ] || fail "curl exited with $WAIT_RC: $(cat "$T/curl.err")"
[ "$(sort -u "$T/curl.out" | wc -l)" = "$N" ] ||
	fail "curl did not use $N connections: local ports $(sort -u "$T/curl.out" | paste -sd' ')"

tlstop_stop

"$PY" - "$T/out.jsonl" "$N" "$WORKERS" <<'EOF' || fail "sampling did not keep whole connections"
import collections, json, os, sys
sys.path.insert(0, os.environ["E2E_DIR"])
from check_records import load  # noqa: E402
recs, n, worker = load(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
conns = collections.defaultdict(list)
for r in recs:
    if r["type"] == "message" and r["pid"] == worker:
        conns[r["conn"]["dst"]].append(r)
for peer, msgs in sorted(conns.items()):
    kinds = sorted(m["kind"] for m in msgs)
    if kinds != ["request", "response"]:
        raise SystemExit("connection from %s: messages %s, expected one request and one "
                         "response" % (peer, kinds))
    for m in msgs:
        if m.get("gap") or m.get("incomplete"):
            raise SystemExit("connection from %s: a %s is flagged gap or incomplete: %s"
                             % (peer, m["kind"], json.dumps(m)[:400]))
        if m["kind"] == "request" and not m.get("path", "").startswith("/s?n="):
            raise SystemExit("connection from %s: request path %r" % (peer, m.get("path")))
        if m["kind"] == "response" and m.get("status") != 200:
            raise SystemExit("connection from %s: status %r" % (peer, m.get("status")))
kf = [r for r in recs if r["type"] == "stats"][-1].get("kernel_filter") or {}
out = kf.get("conns_sampled_out")
print("kfilter_sample: %d of %d connections shown, whole; conns_sampled_out %s; kernel_filter %s"
      % (len(conns), n, out, json.dumps(kf)))
if not isinstance(out, int) or len(conns) + out != n:
    raise SystemExit("%d connections shown + %s sampled out is not the %d made"
                     % (len(conns), out, n))
if not conns or not out:
    raise SystemExit("--sample 3 kept %d of %d connections: expected some of each"
                     % (len(conns), n))
if kf.get("calls", 0) < 2 * out:
    raise SystemExit("kernel_filter.calls %s: the sampled-out connections' %d calls or more "
                     "were copied" % (kf.get("calls"), 2 * out))
EOF
pass
