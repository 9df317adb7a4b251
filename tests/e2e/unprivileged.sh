#!/bin/bash
# Without privileges tlstop cannot trace: exit status 2 and ONE line on
# stderr naming what is missing (CAP_BPF / CAP_PERFMON, or root) - a JSON
# error object with --json, a plain line with -b.  Run as root: setpriv
# drops to nobody with no capabilities and no groups.
# shellcheck source=tests/e2e/lib.sh disable=SC1091
. "${TESTS_SRCDIR:?}/tests/e2e/lib.sh" || exit 99

need_root_bpf
need_cmd setpriv timeout
[ -n "${E2E_WORKLOAD_ONLY:-}" ] && pass
# a copy nobody can surely execute, wherever the build tree is
cp "$TLSTOP" "$T/tlstop"
chmod 755 "$T/tlstop"
DROP=(setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all)
"${DROP[@]}" true || skip "setpriv cannot drop to nobody here"

for mode in --json -b; do
	timeout 20 "${DROP[@]}" "$T/tlstop" $mode --duration 5 \
		>"$T/unpriv$mode.out" 2>"$T/unpriv$mode.err" </dev/null
	rc=$?
	[ "$rc" != 124 ] || fail "tlstop $mode as nobody was still running after 20 s"
	[ "$rc" = 2 ] || fail "tlstop $mode as nobody exited with $rc, expected 2: $(head -c 2000 "$T/unpriv$mode.err")"
	if [ "$mode" = --json ]; then
		check errline "$T/unpriv$mode.err" --json --any-of CAP_BPF --any-of root
		grep -q '"type" *: *"tls"' "$T/unpriv$mode.out" && fail "tls records on stdout"
	else
		check errline "$T/unpriv$mode.err" --any-of CAP_BPF --any-of root
	fi
done
pass
