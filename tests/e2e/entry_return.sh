#!/bin/bash
# The capture-core workloads again under --probe-method=entry-return, with
# all their assertions (plaintext, lengths, pids, 4-tuples, roles): the
# default run of each covers the planned probes, this one the classic
# method that --probe-method=entry-return and every fallback use.
# shellcheck source=tests/e2e/lib.sh disable=SC1091
. "${TESTS_SRCDIR:?}/tests/e2e/lib.sh" || exit 99

need_root_bpf
for t in openssl_s_server python_ssl static_client custom_bio big_body two_conns nginx_curl \
	late_start; do
	E2E_PROBE_METHOD=entry-return bash "$TESTS_SRCDIR/tests/e2e/$t.sh" >"$T/$t.log" 2>&1
	rc=$?
	if [ "$rc" = 77 ] && [ "${CI:-}" != true ]; then
		log "$t.sh skipped: $(tail -n 1 "$T/$t.log")"
		continue
	fi
	[ "$rc" = 0 ] || fail "$t.sh under --probe-method=entry-return exited $rc: $(tail -n 40 "$T/$t.log")"
	log "$t.sh passed under --probe-method=entry-return"
done
pass
