#!/bin/bash
# lib_ui.sh - what the UI tests share: the e2e helpers (T, fail, skip,
# cleanup) and the tmux driver, with the tmux server ended before the e2e
# cleanup runs. Sourced.
# shellcheck source=tests/e2e/lib.sh disable=SC1091
. "${TESTS_SRCDIR:?}/tests/e2e/lib.sh" || exit 99
# shellcheck source=tests/ui/tmux.sh disable=SC1091
. "$TESTS_SRCDIR/tests/ui/tmux.sh" || exit 99

ui_test_cleanup() {
	local rc=$?
	ui_cleanup
	(exit "$rc")
	cleanup
}
trap ui_test_cleanup EXIT

need_cmd tmux

# The recording the screen tests replay: 12 s of --demo traffic (HTTP/1.1,
# HTTP/2, gRPC with failing, streaming, trailers-only and reset calls).
UI_TRACE="$TESTS_SRCDIR/tests/bench/demo_trace.tlstop"

# ui_run NAME SIZE ARGS...: tlstop ARGS in a terminal; when it exits the
# pane shows "EXIT <status>" and the terminal modes, so a test can check
# that the terminal was restored.
ui_run() {
	local name=$1 size=$2
	shift 2
	ui_start "$name" "$size" sh -c '"$@"; echo "EXIT $?"; stty -a | tr " ;" "\n\n" | grep -Ex -- "-?(icanon|echo)"; sleep 600' \
		sh "$TLSTOP" "$@"
}

# line N of the screen
ui_line() {
	ui_screen "$1" | sed -n "$2p"
}

# quits with q at the top level and checks the terminal came back sane
ui_quit_restored() {
	local name=$1
	ui_keys "$name" q
	ui_wait "$name" '^EXIT 0$' 5 || fail "tlstop did not exit 0 on q"
	ui_screen "$name" | grep -qx 'icanon' || fail "the terminal was left without icanon"
	ui_screen "$name" | grep -qx 'echo' || fail "the terminal was left without echo"
}
