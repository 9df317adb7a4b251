#!/bin/bash
# openssl s_server and openssl s_client (both on the system's dynamic
# libssl) exchange known lines both ways; tlstop must show each side's
# plaintext, its pid/comm/lib/linking and the 4-tuple from each side's view.
# shellcheck source=tests/e2e/lib.sh disable=SC1091
. "${TESTS_SRCDIR:?}/tests/e2e/lib.sh" || exit 99

need_root_bpf
need_cmd openssl ss
gen_cert
PORT=$(free_port) || fail "no free port"

C1=$'hello from s_client, line 1\n'
C2=$'hello from s_client, line 2\n'
S1=$'hello from s_server\n'

# s_server and s_client read their stdin from fifos we type into (fd 4 and 3)
mkfifo "$T/server.in" "$T/client.in"
exec 4<>"$T/server.in" 3<>"$T/client.in"
BG_STDIN=$T/server.in spawn server openssl s_server -accept "127.0.0.1:$PORT" \
	-key "$T/key.pem" -cert "$T/cert.pem" -naccept 1
SPID=$BG_PID
wait_listen "$PORT"

# s_server has libssl.so.3 mapped: tlstop attaches to it at start (finding
# libraries of processes started later is late_start.sh's business)
tlstop_start --raw

BG_STDIN=$T/client.in spawn client openssl s_client -connect "127.0.0.1:$PORT" -nocommands
CPID=$BG_PID
wait_file_grep "$T/client.out" '^ *Verify return code'
wait_file_grep "$T/server.out" '^CIPHER is'
CPORT=$("$PY" "$CHECK" sockport "$CPID" "$PORT") || fail "no port for s_client"
log "s_server pid $SPID port $PORT; s_client pid $CPID port $CPORT"

printf '%s' "$C1" >&3
wait_file_grep "$T/server.out" '^hello from s_client, line 1$'
printf '%s' "$C2" >&3
wait_file_grep "$T/server.out" '^hello from s_client, line 2$'
printf '%s' "$S1" >&4
wait_file_grep "$T/client.out" '^hello from s_server$'
exec 3>&- # EOF on s_client's stdin: it closes the connection and exits
wait_pid "$CPID"
wait_pid "$SPID"
exec 4>&-

tlstop_stop

check tls "$T/out.jsonl" --pid "$CPID" --conns 1 --comm openssl --lib openssl \
	--linking dynamic --lib-path-base libssl.so.3 --fd present --fd-source fd \
	--family ipv4 --src "127.0.0.1:$CPORT" --dst "127.0.0.1:$PORT" --role client \
	--out "$C1$C2" --in "$S1" --verbose
check tls "$T/out.jsonl" --pid "$SPID" --conns 1 --comm openssl --lib openssl \
	--linking dynamic --lib-path-base libssl.so.3 --fd present --fd-source fd \
	--family ipv4 --src "127.0.0.1:$PORT" --dst "127.0.0.1:$CPORT" --role server \
	--out "$S1" --in "$C1$C2" --verbose
pass
