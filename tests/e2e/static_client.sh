#!/bin/bash
# tests/progs/tls_client_static carries OpenSSL inside the executable (no
# libssl.so).  Started after tlstop is ready, it must be found through its
# exec and probed in its own .symtab: records with lib_path = the binary,
# linking "static", lib "openssl", and the exact bytes.
# shellcheck source=tests/e2e/lib.sh disable=SC1091
. "${TESTS_SRCDIR:?}/tests/e2e/lib.sh" || exit 99

need_root_bpf
need_cmd openssl readelf
BIN=$PROGS/tls_client_static
need_prog "$BIN"
if readelf -d "$BIN" | grep -E 'NEEDED.*lib(ssl|crypto)\.so'; then
	fail "$BIN needs a shared libssl/libcrypto: it must be linked statically"
fi
ldd "$BIN" 2>&1 | grep -E 'lib(ssl|crypto)\.so' && fail "ldd shows a shared libssl/libcrypto in $BIN"
readelf -Ws "$BIN" | awk '$4 == "FUNC" && $8 == "SSL_write" { f = 1 } END { exit !f }' ||
	fail "$BIN has no SSL_write symbol"
gen_cert

MSG=$'hello from the static client\n'
REPLY=$'static reply from the python server\n'

py_server server \
	--mode reply --expect ${#MSG} --reply "$REPLY"

tlstop_start --raw

# 1.5 s between the handshake and the first SSL_write: time to attach
spawn client "$BIN" 127.0.0.1 "$PORT" --message "$MSG" --wait-ms 1500 --read ${#REPLY}
CPID=$BG_PID
wait_pid "$CPID"
[ "$WAIT_RC" = 0 ] || fail "tls_client_static exited with $WAIT_RC: $(cat "$T/client.err")"
wait_pid "$SPID"
CPORT=$(json_field "$T/client.out" lport)
log "tls_client_static pid $CPID port $CPORT -> $PORT"

tlstop_stop

check tls "$T/out.jsonl" --pid "$CPID" --conns 1 --comm tls_client_stat --lib openssl \
	--linking static --lib-path "$BIN" --funcs SSL_write,SSL_read \
	--fd present --fd-source fd --family ipv4 \
	--src "127.0.0.1:$CPORT" --dst "127.0.0.1:$PORT" --role client \
	--out "$MSG" --in "$REPLY" --verbose
pass
