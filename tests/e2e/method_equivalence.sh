#!/bin/bash
# Planned probes see exactly what entry + return probes see: two tlstops run
# side by side, one with --probe-method=auto and one with entry-return, over
# workloads that cover every shape: OpenSSL 3 SSL_write/SSL_read through
# libssl.so.3 (planned) in both directions and at 100 B and 16 KiB,
# Python's SSL_write_ex/SSL_read_ex (entry-return in both runs), the
# statically linked client (planned in its executable), and asyncio's
# memory BIOs. Every tls record of the test's processes must be the same
# in both outputs, bytes, lengths and connections included.
# shellcheck source=tests/e2e/lib.sh disable=SC1091
. "${TESTS_SRCDIR:?}/tests/e2e/lib.sh" || exit 99

need_root_bpf
need_cmd openssl
STATIC=$PROGS/tls_client_static
ROUNDTRIP=$TESTS_BUILDDIR/tests/bench/ssl_roundtrip
need_prog "$STATIC"
need_prog "$ROUNDTRIP"
gen_cert

TLSTOP_OUT=$T/auto.jsonl tlstop_start --raw
AUTO_PID=$TLSTOP_PID
TLSTOP_OUT=$T/classic.jsonl tlstop_start --raw --probe-method=entry-return
CLASSIC_PID=$TLSTOP_PID
PIDS=

# dynamic libssl, both sides in one process, small and large calls
for size in 100 16384; do
	spawn "rt$size" "$ROUNDTRIP" --size "$size" --iterations 200 --warmup 10
	wait_pid "$BG_PID"
	[ "$WAIT_RC" = 0 ] || fail "ssl_roundtrip --size $size exited with $WAIT_RC"
	PIDS="$PIDS,$BG_PID"
done

# the static client against Python's blocking server (_ex calls)
MSG=$'the static client, seen twice\n'
REPLY=$'and the python server, seen twice too\n'
py_server server --mode reply --expect ${#MSG} --reply "$REPLY"
spawn client "$STATIC" 127.0.0.1 "$PORT" --message "$MSG" --read ${#REPLY}
CPID=$BG_PID
wait_pid "$CPID"
[ "$WAIT_RC" = 0 ] || fail "tls_client_static exited with $WAIT_RC: $(cat "$T/client.err")"
wait_pid "$SPID"
PIDS="$PIDS,$CPID,$SPID"

# asyncio over memory BIOs: no socket during the TLS calls
MSG=$'asyncio, memory BIO\n'
py_server aserver --mode reply --expect ${#MSG} --reply "$REPLY"
spawn aclient "$PY" "$PY_TLS" aclient --port "$PORT" --message "$MSG" --expect ${#REPLY}
CPID=$BG_PID
wait_pid "$CPID"
[ "$WAIT_RC" = 0 ] || fail "py_tls aclient exited with $WAIT_RC"
wait_pid "$SPID"
PIDS="$PIDS,$CPID,$SPID"
PIDS=${PIDS#,}

sleep 0.5
TLSTOP_PID=$AUTO_PID TLSTOP_OUT=$T/auto.jsonl tlstop_stop
TLSTOP_PID=$CLASSIC_PID TLSTOP_OUT=$T/classic.jsonl tlstop_stop

for f in auto classic; do
	check stats "$T/$f.jsonl" --expect 'lost.ringbuf_records==0' --expect 'lost.map_update==0'
done
check compare "$T/auto.jsonl" "$T/classic.jsonl" --pid "$PIDS" --per-thread \
	--ignore ts,ts_ns,duration_us
# the workloads made the calls the comparison is about
check tls "$T/auto.jsonl" --pid "${PIDS%%,*}" --funcs SSL_read,SSL_write --min-records 840
pass
