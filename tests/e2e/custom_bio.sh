#!/bin/bash
# asyncio's ssl runs OpenSSL over memory BIOs: SSL_read_ex/SSL_write_ex
# never touch a socket, so tlstop can only name the connection by
# (pid, SSL*).  Records of both asyncio processes: conn id "ssl:PID:0x..",
# fd null, fd_source "none", the exact plaintext; the stats count no_fd.
# shellcheck source=tests/e2e/lib.sh disable=SC1091
. "${TESTS_SRCDIR:?}/tests/e2e/lib.sh" || exit 99

need_root_bpf
need_cmd openssl
gen_cert

MSG=$'hello over a memory BIO from asyncio\n'
REPLY=$'asyncio server reply, also without a socket in sight\n'

py_server aserver \
	--mode reply --expect ${#MSG} --reply "$REPLY"

# the server has libssl.so.3 mapped: attached at start
tlstop_start --raw

spawn client "$PY" "$PY_TLS" aclient --port "$PORT" --message "$MSG" --expect ${#REPLY}
CPID=$BG_PID
wait_pid "$CPID"
[ "$WAIT_RC" = 0 ] || fail "py_tls aclient exited with $WAIT_RC"
wait_pid "$SPID"
[ "$WAIT_RC" = 0 ] || fail "py_tls aserver exited with $WAIT_RC"
log "asyncio server pid $SPID port $PORT; client pid $CPID"

tlstop_stop

for pid in "$CPID" "$SPID"; do
	if [ "$pid" = "$CPID" ]; then out=$MSG in=$REPLY; else out=$REPLY in=$MSG; fi
	check tls "$T/out.jsonl" --pid "$pid" --conns 1 --comm python3 --lib openssl \
		--linking dynamic --funcs SSL_read_ex,SSL_write_ex \
		--id-prefix "ssl:$pid:0x" --fd null --fd-source none --src null --dst null --role null \
		--out "$out" --in "$in" --verbose
done
check stats "$T/out.jsonl" --lib-of-pid "$CPID" --lib-expect 'no_fd>0'
pass
