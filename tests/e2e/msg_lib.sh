#!/bin/bash
# msg_lib.sh - helpers of the end-to-end tests of decoded messages (HTTP/1,
# HTTP/2, gRPC), sourced after lib.sh as
#     . "$TESTS_SRCDIR/tests/e2e/msg_lib.sh"

# These tests call tlstop_start without --raw: they read the default
# {"type":"message"} records.
CHECK_MSG="$E2E_DIR/check_messages.py"

# check_msgs SUBCOMMAND ARGS...: check_messages.py; a failed assertion fails the test
check_msgs() {
	if [ -n "${E2E_WORKLOAD_ONLY:-}" ]; then
		log "E2E_WORKLOAD_ONLY: not checked: $*"
		return 0
	fi
	"$PY" "$CHECK_MSG" "$@" || fail "check_messages.py $1 failed (see above)"
}
