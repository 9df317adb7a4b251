#!/bin/bash
# Python's ssl module on blocking sockets (dynamic libssl): SSLSocket.send
# and recv call SSL_write_ex / SSL_read_ex.  tlstop must name those
# functions and show the exact bytes both ways, the 4-tuple and the roles.
# shellcheck source=tests/e2e/lib.sh disable=SC1091
. "${TESTS_SRCDIR:?}/tests/e2e/lib.sh" || exit 99

need_root_bpf
need_cmd openssl
gen_cert

MSG=$'ping from the python client \xc3\xa9\xe2\x82\xac 1234567890\n'
REPLY=$'pong from the python server: ok\n'
MSG_LEN=$(printf '%s' "$MSG" | wc -c)

py_server server \
	--mode reply --expect "$MSG_LEN" --reply "$REPLY"

# the server has imported ssl (libssl.so.3 is mapped): attached at start
tlstop_start --raw

spawn client "$PY" "$PY_TLS" client --port "$PORT" --message "$MSG" --expect ${#REPLY}
CPID=$BG_PID
wait_pid "$CPID"
[ "$WAIT_RC" = 0 ] || fail "py_tls client exited with $WAIT_RC"
wait_pid "$SPID"
[ "$WAIT_RC" = 0 ] || fail "py_tls server exited with $WAIT_RC"
CPORT=$(json_field "$T/client.out" lport)
[ "$(json_field "$T/client.out" received 2)" = "${REPLY%$'\n'}" ] || fail "the client did not get the reply"
log "server pid $SPID port $PORT; client pid $CPID port $CPORT"

tlstop_stop

check tls "$T/out.jsonl" --pid "$CPID" --conns 1 --comm python3 --lib openssl --linking dynamic \
	--lib-path-base libssl.so.3 --funcs SSL_read_ex,SSL_write_ex \
	--fd present --fd-source fd --family ipv4 \
	--src "127.0.0.1:$CPORT" --dst "127.0.0.1:$PORT" --role client \
	--out "$MSG" --in "$REPLY" --verbose
check tls "$T/out.jsonl" --pid "$SPID" --conns 1 --comm python3 --lib openssl --linking dynamic \
	--lib-path-base libssl.so.3 --funcs SSL_read_ex,SSL_write_ex \
	--fd present --fd-source fd --family ipv4 \
	--src "127.0.0.1:$PORT" --dst "127.0.0.1:$CPORT" --role server \
	--out "$REPLY" --in "$MSG" --verbose
pass
