#!/bin/bash
# One process (tests/progs/tls_pair, dynamic libssl) with two concurrent TLS
# connections to one echo server, their calls interleaved: tlstop must tell
# them apart (two conn ids, each with its own 4-tuple) and put every message
# on its own connection, in both directions.
# shellcheck source=tests/e2e/lib.sh disable=SC1091
. "${TESTS_SRCDIR:?}/tests/e2e/lib.sh" || exit 99

need_root_bpf
need_cmd openssl
PAIR=$PROGS/tls_pair
need_prog "$PAIR"
gen_cert
ROUNDS=4

py_server server --mode echo --conns 2

# the server has libssl.so.3 mapped: attached at start
tlstop_start --raw

spawn pair "$PAIR" 127.0.0.1 "$PORT" --rounds $ROUNDS
CPID=$BG_PID
wait_pid "$CPID"
[ "$WAIT_RC" = 0 ] || fail "tls_pair exited with $WAIT_RC: $(cat "$T/pair.err")"
wait_pid "$SPID"
PA=$("$PY" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["lports"][0])' "$T/pair.out")
PB=$("$PY" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["lports"][1])' "$T/pair.out")
log "echo server pid $SPID port $PORT; tls_pair pid $CPID ports $PA (A) and $PB (B)"

# while tlstop still runs: close() and exit released the kernel state
no_bpf_state "$CPID" "$SPID"
tlstop_stop

A='' B=''
for ((i = 0; i < ROUNDS; i++)); do
	A+="pair A message $i"$'\n'
	B+="pair B message $i from the second connection"$'\n'
done
# the process as a whole: two connections, distinct ids, same peer
check tls "$T/out.jsonl" --pid "$CPID" --conns 2 --distinct-ids --comm tls_pair \
	--lib openssl --linking dynamic --lib-path-base libssl.so.3 --fd present --fd-source fd \
	--family ipv4 --dst "127.0.0.1:$PORT" --role client \
	--min-records $((4 * ROUNDS)) --verbose
# each connection carries exactly its own messages, both ways
check tls "$T/out.jsonl" --pid "$CPID" --select-src "127.0.0.1:$PA" --conns 1 \
	--out "$A" --in "$A"
check tls "$T/out.jsonl" --pid "$CPID" --select-src "127.0.0.1:$PB" --conns 1 \
	--out "$B" --in "$B"
# and so does the server's side of each
check tls "$T/out.jsonl" --pid "$SPID" --conns 2 --distinct-ids --src "127.0.0.1:$PORT" \
	--role server
check tls "$T/out.jsonl" --pid "$SPID" --select-dst "127.0.0.1:$PA" --conns 1 --in "$A" --out "$A"
check tls "$T/out.jsonl" --pid "$SPID" --select-dst "127.0.0.1:$PB" --conns 1 --in "$B" --out "$B"
pass
