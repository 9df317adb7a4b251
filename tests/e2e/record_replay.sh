#!/bin/bash
# -w records a live capture (mode 0600); -r replays it, as root and as
# nobody, with tls records identical field by field to the live ones; a
# truncated or corrupted recording makes -r fail cleanly: non-zero status,
# no signal, one line naming the file and the byte offset.
# shellcheck source=tests/e2e/lib.sh disable=SC1091
. "${TESTS_SRCDIR:?}/tests/e2e/lib.sh" || exit 99

need_root_bpf
need_cmd openssl setpriv truncate dd od
gen_cert
REC=$T/rec.tlstop
MSG=$'recorded request: GET /replay HTTP/1.1\n'
REPLY=$'recorded response body\n'

py_server server \
	--mode reply --expect ${#MSG} --reply "$REPLY"

tlstop_start --raw -w "$REC"
spawn client "$PY" "$PY_TLS" client --port "$PORT" --message "$MSG" --expect ${#REPLY}
CPID=$BG_PID
wait_pid "$CPID"
[ "$WAIT_RC" = 0 ] || fail "py_tls client exited with $WAIT_RC"
wait_pid "$SPID"

tlstop_stop

# the live capture itself is right
check tls "$T/out.jsonl" --pid "$CPID" --conns 1 --out "$MSG" --in "$REPLY"
check tls "$T/out.jsonl" --pid "$SPID" --conns 1 --out "$REPLY" --in "$MSG"
[ -n "${E2E_WORKLOAD_ONLY:-}" ] && pass
[ -s "$REC" ] || fail "no recording at $REC"
mode=$(stat -c %a "$REC")
[ "$mode" = 600 ] || fail "the recording has mode $mode, expected 600"

# run_replay NAME FILE [CMD-PREFIX...]: tlstop --json -r FILE, expecting
# status 0 and the live tls records again
run_replay() {
	local name=$1 file=$2 rc
	shift 2
	"$@" "$TLSTOP" --json --raw -r "$file" >"$T/$name.jsonl" 2>"$T/$name.err" </dev/null
	rc=$?
	[ "$rc" = 0 ] || fail "tlstop --json -r $file ($name) exited with $rc: $(head -c 2000 "$T/$name.err")"
	check validate "$T/$name.jsonl" --source recording
	check compare "$T/out.jsonl" "$T/$name.jsonl" --pid "$CPID,$SPID"
}
run_replay replay-root "$REC"

# as nobody, with no capabilities and no groups, from a readable copy (and
# a copy of tlstop, in case the build tree is not reachable for nobody)
mkdir -m 755 "$T/pub"
cp "$REC" "$T/pub/rec.tlstop"
chmod 644 "$T/pub/rec.tlstop"
cp "$TLSTOP" "$T/pub/tlstop"
chmod 755 "$T/pub/tlstop"
TLSTOP=$T/pub/tlstop run_replay replay-nobody "$T/pub/rec.tlstop" \
	setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all

# corrupt_check NAME FILE: -r must fail cleanly, naming FILE and an offset
corrupt_check() {
	local name=$1 file=$2 rc m
	for m in --json -b; do
		"$TLSTOP" $m -r "$file" >"$T/$name$m.out" 2>"$T/$name$m.err" </dev/null
		rc=$?
		[ "$rc" != 0 ] || fail "tlstop $m -r $file ($name) exited 0"
		[ "$rc" -lt 128 ] || fail "tlstop $m -r $file ($name) died with status $rc (a signal)"
		if [ "$m" = --json ]; then
			check errline "$T/$name$m.err" --json --contains "$file" --contains offset
		else
			check errline "$T/$name$m.err" --contains "$file" --contains offset
		fi
	done
	ls "$T"/core* 2>/dev/null && fail "a core file appeared"
	return 0
}

SIZE=$(stat -c %s "$REC")
# (1) cut inside the last record
cp "$REC" "$T/cut-end.tlstop"
truncate -s $((SIZE - 1)) "$T/cut-end.tlstop"
corrupt_check cut-end "$T/cut-end.tlstop"
# (2) cut in the middle of a record near the middle of the file: walk the
# frames (32-byte header; 12-byte frame: type, length, crc32; payload)
MID=$("$PY" - "$REC" <<'PYEOF'
import struct, sys
data = open(sys.argv[1], "rb").read()
off, frames = 32, []
while off + 12 <= len(data):
    plen = struct.unpack_from("<I", data, off + 4)[0]
    frames.append((off, plen))
    off += 12 + plen
if off != len(data) or len(frames) < 2:
    sys.exit("cannot walk the frames of " + sys.argv[1])
start, plen = frames[len(frames) // 2]
print(start + 12 + plen // 2 if plen >= 2 else start + 6)
PYEOF
) || fail "cannot find a mid-record offset"
cp "$REC" "$T/cut-mid.tlstop"
truncate -s "$MID" "$T/cut-mid.tlstop"
corrupt_check cut-mid "$T/cut-mid.tlstop"
# (3) one byte flipped in the middle of the file
cp "$REC" "$T/flip.tlstop"
OFF=$((SIZE / 2))
b=$(od -An -tu1 -j "$OFF" -N1 "$T/flip.tlstop" | tr -d ' ')
printf '%b' "\\$(printf '%03o' $((b ^ 0xff)))" | dd of="$T/flip.tlstop" bs=1 seek="$OFF" conv=notrunc status=none
cmp -s "$REC" "$T/flip.tlstop" && fail "the byte flip did not change the file"
corrupt_check flip "$T/flip.tlstop"
pass
