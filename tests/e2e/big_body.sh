#!/bin/bash
# One SSL_write of 1 MiB with --snaplen 65536: the client's write call(s)
# add up to 1048576 bytes of len, each captures min(len, 65536) bytes of the
# right pattern and is marked truncated exactly when it is longer; the
# server's reads (16 KiB TLS records) are captured whole and add up to the
# same 1 MiB; the exit stats show no lost ring-buffer record, no failed
# map update.
# shellcheck source=tests/e2e/lib.sh disable=SC1091
. "${TESTS_SRCDIR:?}/tests/e2e/lib.sh" || exit 99

need_root_bpf
need_cmd openssl
BIN=$PROGS/tls_client_static
need_prog "$BIN"
gen_cert
SIZE=1048576
SNAP=65536

py_server server \
	--mode reply --expect $SIZE --reply $'got it\n' --go-file "$T/go"

# the client connects and waits for $T/go: it is already running when
# tlstop starts, so this test does not depend on attaching to new processes;
# the server, too, waits for $T/go before its first SSL_read_ex (a call
# already under way at attach time would be missed: no entry probe hit)
spawn client "$BIN" 127.0.0.1 "$PORT" --size $SIZE --go-file "$T/go" --read 7
CPID=$BG_PID
wait_file_grep "$T/client.out" '"lport"'

tlstop_start --raw --snaplen $SNAP
touch "$T/go"
wait_pid "$CPID" 20
[ "$WAIT_RC" = 0 ] || fail "tls_client_static exited with $WAIT_RC: $(cat "$T/client.err")"
wait_pid "$SPID"
grep -q "\"received\": $SIZE" "$T/server.out" || fail "the server did not read $SIZE bytes"
log "client pid $CPID wrote $SIZE bytes in one SSL_write to server pid $SPID"

tlstop_stop

# one SSL_write call, so one record: len 1 MiB, captured_len 64 KiB,
# truncated (check_records.py checks truncated == len > captured_len always)
check tls "$T/out.jsonl" --pid "$CPID" --conns 1 --linking static --lib-path "$BIN" \
	--out-calls 1 --out-len $SIZE --pattern-out --snaplen $SNAP --in $'got it\n' --verbose
check tls "$T/out.jsonl" --pid "$SPID" --conns 1 --in-len $SIZE --pattern-in --snaplen $SNAP \
	--expect-truncated no --out $'got it\n'
check stats "$T/out.jsonl" --expect 'lost.ringbuf_records==0' --expect 'lost.map_update==0' \
	--expect "truncated_calls>=1"
pass
