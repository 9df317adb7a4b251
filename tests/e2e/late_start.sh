#!/bin/bash
# A TLS library tlstop could not have seen at start: fresh copies of
# libssl.so.3 and libcrypto.so.3 (new inodes) under $T/lib, loaded through
# LD_LIBRARY_PATH by a tls_pair started AFTER tlstop is ready.  tlstop must
# discover the file through the process's exec/mmap and attach to it: the
# records carry lib_path under $T/lib and the exact messages.
# shellcheck source=tests/e2e/lib.sh disable=SC1091
. "${TESTS_SRCDIR:?}/tests/e2e/lib.sh" || exit 99

need_root_bpf
need_cmd openssl
PAIR=$PROGS/tls_pair
need_prog "$PAIR"
gen_cert

# the libraries tls_pair resolves now, copied (not linked) to new inodes
mkdir "$T/lib"
for so in libssl.so.3 libcrypto.so.3; do
	src=$(ldd "$PAIR" | awk -v so="$so" '$1 == so { print $3 }')
	[ -f "$src" ] || fail "ldd $PAIR does not show $so"
	cp "$src" "$T/lib/$so" || fail "cannot copy $src"
done
[ "$(stat -c %d:%i "$T/lib/libssl.so.3")" != "$(stat -L -c %d:%i "$(ldd "$PAIR" | awk '$1 == "libssl.so.3" { print $3 }')")" ] ||
	fail "the copy of libssl.so.3 is the original file (same device and inode)"

py_server server --mode echo --conns 2

tlstop_start --raw

# tls_pair maps the copies at exec; it waits 1.5 s after its handshakes
# before its first SSL_write, time for tlstop to attach to the new file
LD_LIBRARY_PATH=$T/lib spawn pair "$PAIR" 127.0.0.1 "$PORT" --rounds 2 --wait-ms 1500
CPID=$BG_PID
wait_file_grep "$T/pair.out" '"lports"'
grep -q " $T/lib/libssl.so.3\$" "/proc/$CPID/maps" ||
	fail "tls_pair (pid $CPID) did not map $T/lib/libssl.so.3: $(grep libssl "/proc/$CPID/maps")"
wait_pid "$CPID"
[ "$WAIT_RC" = 0 ] || fail "tls_pair exited with $WAIT_RC: $(cat "$T/pair.err")"
wait_pid "$SPID"
log "tls_pair pid $CPID with $T/lib/libssl.so.3"

tlstop_stop

A=$'pair A message 0\npair A message 1\n'
B=$'pair B message 0 from the second connection\npair B message 1 from the second connection\n'
PA=$("$PY" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["lports"][0])' "$T/pair.out")
PB=$("$PY" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["lports"][1])' "$T/pair.out")
check tls "$T/out.jsonl" --pid "$CPID" --conns 2 --comm tls_pair --lib openssl \
	--linking dynamic --lib-path "$T/lib/libssl.so.3" --lib-path-under "$T/lib" \
	--fd present --dst "127.0.0.1:$PORT" --role client --verbose
check tls "$T/out.jsonl" --pid "$CPID" --select-src "127.0.0.1:$PA" --conns 1 --out "$A" --in "$A"
check tls "$T/out.jsonl" --pid "$CPID" --select-src "127.0.0.1:$PB" --conns 1 --out "$B" --in "$B"
pass
