#!/bin/bash
# The interactive view on live capture, as root: tlstop --demo shows the
# demo's traffic in Connections and in Methods within 3 s, and q restores
# the terminal (and ends the demo's process).
# shellcheck source=tests/ui/lib_ui.sh disable=SC1091
. "${TESTS_SRCDIR:?}/tests/ui/lib_ui.sh" || exit 99

need_root_bpf
ui_run live 120x40 --demo
ui_wait live 'PID +COMM' 10 || fail "the view did not start"
ui_wait live '[0-9]+ +tlstop-demo +openssl' 3 || fail "no demo traffic in Connections within 3 s"
ui_wait live '(grpc|h1|h2) +[0-9.]+k? ' 3 || fail "no connection rows with a rate"
ui_keys live Tab
ui_wait live 'demo\.Shop +(GetOrder|Charge)' 3 || fail "no demo method in Methods within 3 s"
ui_wait live 'GET /api/v1/' 3 || fail "no HTTP/1 route in Methods"
ui_keys live E
ui_wait live 'openssl .*probes' 3 || fail "Events does not list the attached library"
ui_keys live Tab
ui_wait live 'PID +COMM' || fail "Tab from Events did not go to Connections"
ui_quit_restored live
# the demo's process ended with tlstop
sleep 0.5
pgrep -x tlstop-demo >/dev/null && log "note: a tlstop-demo process is still running (not ours?)"
pass
