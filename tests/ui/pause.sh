#!/bin/bash
# Pause holds the screen still while capture goes on: with Z the table
# rows, their order and the preview stop changing while the [PAUSED +N]
# badge counts what keeps arriving; Z again returns to live data.
# shellcheck source=tests/ui/lib_ui.sh disable=SC1091
. "${TESTS_SRCDIR:?}/tests/ui/lib_ui.sh" || exit 99

# the screen below the two header lines that move (uptime, cpu, rates)
body() {
	ui_screen p | sed -n '3,$p'
}

badge() {
	ui_screen p | grep -oE '\[PAUSED \+[0-9,]+\]' | tr -dc '0-9'
}

ui_run p 120x40 -r "$UI_TRACE" --speed 0.5
ui_wait p 'tlstop-demo' || fail "no demo process row"
ui_wait p ' grpc ' 8 || fail "no gRPC connection"
ui_keys p Z
ui_wait p '\[PAUSED \+[0-9,]+\]' || fail "Z did not pause"
ui_line p 1 | grep -q 'PAUSED' || fail "PAUSED is not in the middle of line 1"
frozen=$(body)
n1=$(badge)
sleep 2.5 # more than two --delay ticks of a replay that goes on
[ "$(body)" = "$frozen" ] || {
	diff <(echo "$frozen") <(body) >&2
	fail "rows changed while paused"
}
n2=$(badge)
[ "$n2" -gt "$n1" ] || fail "the badge did not count new messages while paused ($n1 then $n2)"
log "paused: rows still, badge +$n1 then +$n2"

ui_keys p Z
ui_wait_gone p '\[PAUSED' || fail "Z did not resume"
ui_until p 3 bash -c '[ "$(sed -n "3,\$p")" != "$1" ]' _ "$frozen" ||
	fail "rows did not move after resuming"
ui_quit_restored p
pass
