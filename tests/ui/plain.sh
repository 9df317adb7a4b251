#!/bin/bash
# A clean screen without colour or Unicode: -C -U, NO_COLOR with a
# non-UTF-8 locale; TERM=dumb, which cannot place the cursor, gets batch
# lines with a note instead of a garbled screen.
# shellcheck source=tests/ui/lib_ui.sh disable=SC1091
. "${TESTS_SRCDIR:?}/tests/ui/lib_ui.sh" || exit 99

# no colour escapes (bold and reverse stay) and only ASCII bytes
check_plain() {
	local name=$1 screen
	screen=$(ui_screen "$name" -e)
	if grep -qE $'\e\\[([0-9;]*;)?(3[0-7]|4[0-7]|38;5;[0-9]+)(;[0-9;]*)?m' <<<"$screen"; then
		fail "$name: colour escapes on a monochrome screen"
	fi
	LC_ALL=C grep -q $'[\x80-\xff]' <<<"$screen" && fail "$name: non-ASCII bytes on an ASCII screen"
	grep -qE '(\|-|`-) +127\.0\.0' <<<"$(ui_screen "$name")" || fail "$name: no ASCII tree lines"
}

ui_run flags 100x30 -C -U -r "$UI_TRACE"
ui_wait flags 'PID +COMM' || fail "no table with -C -U"
ui_wait flags 'tlstop-demo' || fail "no rows with -C -U"
check_plain flags
ui_quit_restored flags

ui_start env 100x30 env NO_COLOR=1 LANG=C LC_ALL=C "$TLSTOP" -r "$UI_TRACE"
ui_wait env 'tlstop-demo' || fail "no rows with NO_COLOR and LANG=C"
check_plain env
ui_keys env q

ui_start dumb 100x30 sh -c 'TERM=dumb "$0" -r "$1" -n 3 2>&1; echo "EXIT $?"; sleep 600' "$TLSTOP" "$UI_TRACE"
ui_wait dumb '^EXIT 0$' || fail "TERM=dumb did not end after -n 3"
ui_screen dumb | grep -q 'TERM=dumb cannot show the interactive view' || fail "no note for TERM=dumb"
[ "$(ui_screen dumb | grep -cE '^[0-9:.]+ [0-9]+ ')" = 3 ] || fail "TERM=dumb did not print 3 batch lines"
pass
