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

# a filter the kernel applies: the header counts what it kept back (not a
# loss), and sampling is announced on the rate and as a badge
ui_run kf 160x40 --demo --sample 2 -f '^/demo\.Shop/GetOrder'
ui_wait kf 'PID +COMM' 10 || fail "the view did not start with --sample 2 -f"
ui_wait kf 'msg/s [0-9.]+[kMG]?B/s sampled ' 3 || fail "the rates do not say they are sampled"
ui_wait kf 'sample 1/2 ' 3 || fail "no 'sample 1/2' badge"
ui_quit_restored kf
ui_run kf2 160x40 --demo -f '^/demo\.Shop/GetOrder'
ui_wait kf2 'kernel-filtered [0-9.]+[kMG]?B ' 10 ||
	fail "the header does not show the bytes the kernel filtered (Charge and HTTP/1 bodies)"
ui_screen kf2 | grep -q 'sampled' && fail "unsampled rates say 'sampled'"
ui_quit_restored kf2
pass
