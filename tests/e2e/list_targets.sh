#!/bin/bash
# --list-targets while openssl s_server (dynamic libssl.so.3) runs and the
# statically linked tls_client_static holds a connection to it: the report
# shows the server's pid with libssl.so.3, and the static client's
# executable as a static OpenSSL with the symbols attached.
# shellcheck source=tests/e2e/lib.sh disable=SC1091
. "${TESTS_SRCDIR:?}/tests/e2e/lib.sh" || exit 99

need_root_bpf
need_cmd openssl timeout
BIN=$PROGS/tls_client_static
need_prog "$BIN"
gen_cert
PORT=$(free_port) || fail "no free port"

mkfifo "$T/server.in"
exec 4<>"$T/server.in"
BG_STDIN=$T/server.in spawn server openssl s_server -accept "127.0.0.1:$PORT" \
	-key "$T/key.pem" -cert "$T/cert.pem" -naccept 1
SPID=$BG_PID
wait_listen "$PORT"
# connected, then waiting for $T/go before its SSL_write
spawn client "$BIN" 127.0.0.1 "$PORT" --message $'list me\n' --go-file "$T/go" --read 0
CPID=$BG_PID
wait_file_grep "$T/client.out" '"lport"'
log "s_server pid $SPID, tls_client_static pid $CPID"

if [ -z "${E2E_WORKLOAD_ONLY:-}" ]; then
	timeout 30 "$TLSTOP" --list-targets >"$T/targets.txt" 2>"$T/targets.err" </dev/null
	rc=$?
	[ "$rc" = 0 ] || fail "tlstop --list-targets exited with $rc: $(head -c 2000 "$T/targets.err")"
	log "--list-targets: $(wc -l <"$T/targets.txt") lines"
	timeout 30 "$TLSTOP" --list-targets --json >"$T/targets.json" 2>&1 </dev/null ||
		fail "tlstop --list-targets --json failed: $(head -c 2000 "$T/targets.json")"
	timeout 30 "$TLSTOP" --list-targets --probe-method=entry-return >"$T/targets_er.txt" \
		2>&1 </dev/null ||
		fail "tlstop --list-targets --probe-method=entry-return failed: $(head -c 2000 "$T/targets_er.txt")"
fi
touch "$T/go"
wait_pid "$CPID"
[ "$WAIT_RC" = 0 ] || fail "tls_client_static exited with $WAIT_RC: $(cat "$T/client.err")"
wait_pid "$SPID"
exec 4>&-

[ -n "${E2E_WORKLOAD_ONLY:-}" ] && pass
REAL_BIN=$(readlink -f "$BIN")
# PID COMM FILE [lib, linking], then one line per function with its probe
# method: Debian's SSL_write/SSL_read are planned on their worker call and
# the jump after it; their _ex twins have no emulated point after the call
check near "$T/targets.txt" --window 4 --anchor "^ *$SPID\\s" \
	--expect openssl --expect libssl.so.3 --expect dynamic \
	--expect-re "SSL_write +0x[0-9a-f]+ +planned: call 0x[0-9a-f]+ at \\+0x[0-9a-f]+, j[a-z]+ 0x[0-9a-f]+ at" \
	--expect-re "SSL_read +0x[0-9a-f]+ +planned: call" \
	--expect-re "SSL_write_ex +0x[0-9a-f]+ +entry-return \\(no instruction the kernel emulates after the call"
check near "$T/targets.txt" --window 4 --anchor "^ *$CPID\\s" \
	--expect tls_client_stat --expect "$REAL_BIN" --expect static \
	--expect-re "SSL_write +0x[0-9a-f]+ +planned" --expect-re "SSL_read +0x[0-9a-f]+ +planned"
check near "$T/targets_er.txt" --window 4 --anchor "^ *$SPID\\s" \
	--expect-re "SSL_write +0x[0-9a-f]+ +entry-return \\(--probe-method=entry-return\\): entry instruction single-stepped"
grep -q '"method":"planned","probes":\[{"role":"enter","offset":[0-9]*,"insn":"call ' "$T/targets.json" ||
	fail "--list-targets --json shows no planned call probe: $(head -c 2000 "$T/targets.json")"

# a stripped copy of the static client is listed with the reason
cp "$BIN" "$T/stripped_client" && strip "$T/stripped_client"
LPORT=$(free_port)
spawn listener "$PY" -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(8)' "$LPORT"
wait_listen "$LPORT"
spawn stripped "$T/stripped_client" 127.0.0.1 "$LPORT" --wait-ms 5000
XPID=$BG_PID
sleep 0.3
"$TLSTOP" --list-targets >"$T/targets2.txt" 2>&1 || fail "tlstop --list-targets failed: $(cat "$T/targets2.txt")"
check near "$T/targets2.txt" --window 1 --anchor "^ *$XPID\\s" \
	--expect stripped --expect "debug symbols"

# --pid naming only processes without TLS: exit status 3 and the reason per pid
sleep 30 &
NPID=$!
track "$NPID"
"$TLSTOP" -p "$NPID" >/dev/null 2>"$T/nothing.err"
rc=$?
[ "$rc" = 3 ] || fail "tlstop -p $NPID (a sleep) exited $rc, expected 3: $(cat "$T/nothing.err")"
grep -q "pid $NPID: maps no file that defines SSL_write" "$T/nothing.err" ||
	fail "no reason for pid $NPID in: $(cat "$T/nothing.err")"
pass
