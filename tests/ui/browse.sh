#!/bin/bash
# Drives the interactive view through a real terminal (tmux) on a recording:
# Methods ranks the failing method first, a filter typed with an error (the
# PCRE2 message and a caret, the old filter kept) then fixed, drill-down to
# a gRPC stream and one message, follow off and on, search hits, help lists
# every key of the key table, resizes, and q restores the terminal.
# shellcheck source=tests/ui/lib_ui.sh disable=SC1091
. "${TESTS_SRCDIR:?}/tests/ui/lib_ui.sh" || exit 99

ui_run b 120x40 -r "$UI_TRACE" --speed 0.5
ui_wait b 'PID +COMM' || fail "no Connections table"
ui_wait b 'tlstop-demo' || fail "no demo process row"

# Methods, ranked by errors: the first row is a failing method, said in text
ui_keys b Tab
ui_wait b 'SERVICE +METHOD' || fail "Tab did not open Methods"
ui_wait b 'demo\.Shop +Charge' 8 || fail "Charge never showed in Methods"
ui_wait b ' ERR [0-9]+ ' 8 || fail "no failing method in Methods"
sleep 1.2 # one more --delay tick: the table sorts once per tick
first=$(ui_screen b | grep -A1 -E 'SERVICE +METHOD' | tail -n 1)
echo "$first" | grep -q 'ERR' || fail "the first Methods row is not a failing method: $first"
ui_keys b Tab Tab
ui_wait b 'PID +COMM' || fail "Tab Tab did not come back to Connections"

# a filter with an error: PCRE2's message, a caret, the old filter in force
ui_keys b f
ui_wait b '^Filter:' || fail "f did not open the filter bar"
ui_type b "path ~ '(Get'"
ui_wait b 'missing closing parenthesis' || fail "no PCRE2 message for an unclosed group"
ui_screen b | grep -qE '^ *\^' || fail "no caret under the error"
ui_line b 3 | grep -q 'Filter:' && fail "an invalid filter replaced the (empty) one"
# fixed: valid, with a live match count, then applied
ui_keys b C-u
ui_type b "path ~ '(GetOrder|Charge)'"
ui_wait b 'matches [0-9]+/[0-9]+ messages' || fail "no match count for a valid filter"
ui_keys b Enter
ui_wait b "Filter: path ~ '\(GetOrder\|Charge\)'" || fail "the fixed filter is not in force"
ui_keys b =
ui_wait_gone b 'Filter: path' || fail "= did not clear the filter"

# drill down: the GetOrder connection, its stream list, a frame, the message
ui_keys b f C-u
ui_type b 'rpc == GetOrder'
ui_keys b Enter
ui_wait b 'Filter: rpc == GetOrder' || fail "rpc filter not applied"
ui_keys b j Enter
ui_wait b 'stream [0-9]+' || fail "Enter did not open the conversation"
ui_wait b 'POST /demo\.Shop/GetOrder' || fail "no GetOrder stream in the stream list"
ui_wait b 'DATA +grpc msg [0-9]+ B' || fail "no gRPC DATA frame of the selected stream"
ui_wait b 'grpc-status 0 OK' || fail "no trailers of the selected stream"
ui_screen b | grep -q '/demo\.Shop/Charge' && fail "the drill-down lost the parent's filter"

# follow: on in a live conversation, off when moving up, back with G
ui_wait b '\[FOLLOW\]' || fail "the conversation does not start in follow mode"
ui_keys b k
ui_wait_gone b '\[FOLLOW\]' || fail "moving up did not stop follow"
ui_keys b G
ui_wait b '\[FOLLOW\]' || fail "G did not resume follow"
ui_keys b k F
ui_wait b '\[FOLLOW\]' || fail "F did not resume follow"

# search highlights and never hides
rows_before=$(ui_screen b | grep -c 'GetOrder')
ui_keys b /
ui_wait b '^Search:' || fail "/ in a text pane did not open search"
ui_type b 'GetOrder'
ui_keys b Enter
ui_wait b '[0-9]+ lines match /GetOrder/' || fail "search reported no hits"
ui_screen b -e | grep -q $'\e\\[[0-9;]*m[^\e]*GetOrder' || fail "hits are not highlighted"
ui_keys b n
[ "$(ui_screen b | grep -c 'GetOrder')" -ge "$rows_before" ] || fail "search hid lines"

# one message: its tabs, and the stream's frames
ui_keys b Tab Enter
ui_wait b 'Headers +Body +Raw +Timing' || fail "Enter on a frame did not open the message"
ui_wait b 'content-type: application/grpc' || fail "no headers in the message detail"
ui_keys b q q
ui_wait b 'PID +COMM' || fail "q q did not go back to Connections"

# help: every key of the table the dispatcher uses is listed
ui_resize b 200x200
ui_keys b '?'
ui_wait b 'tlstop help' || fail "? did not open help"
help=$(ui_screen b)
missing=0
while IFS= read -r names; do
	names=${names//\\\\/\\}
	grep -qF -- "$names" <<<"$help" || { log "help does not list: $names"; missing=1; }
done < <(sed -nE 's/^\s*\{ \{[^}]*\}, "([^"]+)", ACT_.*/\1/p' "$TESTS_SRCDIR/ui/keys.c")
[ "$missing" = 0 ] || fail "help misses keys of the key table"
[ "$(sed -nE 's/^\s*\{ \{[^}]*\}, "([^"]+)", ACT_.*/\1/p' "$TESTS_SRCDIR/ui/keys.c" | wc -l)" -gt 40 ] ||
	fail "could not read the key table from ui/keys.c"
grep -q 'Filter language' <<<"$help" || fail "help has no filter language section"
ui_keys b q

# resizes: a smaller screen still works, below 80x24 one line says so
ui_resize b 100x30
ui_wait b 'PID +COMM' || fail "no table at 100x30"
ui_resize b 60x20
ui_wait b 'terminal 60x20 is too small: tlstop needs 80x24' || fail "no size message at 60x20"
ui_resize b 120x40
ui_wait b 'PID +COMM' || fail "no table after growing back"

ui_quit_restored b
pass
