#!/bin/bash
# tmux_selftest.sh - proves tests/ui/tmux.sh on programs that are not
# tlstop: less (a full-screen pager) and a shell loop (keys, literal text,
# colours, resize, exit status), and that a failing wait reports the screen.
# Exit statuses follow automake: 0 pass, 1 fail, 77 skip (no tmux or less;
# a failure under CI=true).

set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/ui/tmux.sh disable=SC1091
. "$here/tmux.sh"

for p in tmux less; do
	if ! command -v "$p" >/dev/null; then
		echo "tmux_selftest: SKIP: no $p" >&2
		[ "${CI:-}" = true ] && exit 1
		exit 77
	fi
done

T=$(mktemp -d)
trap 'ui_cleanup; rm -rf "$T"' EXIT
failures=0
check() {
	local what=$1
	shift
	if "$@"; then
		echo "ok - $what"
	else
		echo "not ok - $what"
		failures=$((failures + 1))
	fi
}

seq -f 'line %g of the file' 1 200 >"$T/lines"

# a pager: first screen, jump to the end, search, quit
check "less starts" ui_start pager 80x24 less -+F -+X "$T/lines"
check "first screen" ui_wait pager '^line 1 of the file$'
check "exactly 24 rows" test "$(ui_screen pager | wc -l)" -eq 24
ui_keys pager G
check "G shows the end" ui_wait pager '^line 200 of the file$'
check "and the start is gone" ui_wait_gone pager '^line 1 of the file$'
ui_keys pager g
ui_type pager '/line 150 '
ui_keys pager Enter
check "search" ui_wait pager '^line 150 of the file$'
ui_keys pager q
st=$(ui_wait_exit pager)
check "less exits 0 (got $st)" test "$st" = 0
ui_stop pager

# a shell loop: literal text, key names, colours, resize, exit status
cat >"$T/loop.sh" <<'EOF'
printf 'ready %s %s\n' "$(tput cols)" "$(tput lines)"
while IFS= read -r l; do
	case "$l" in
	size) echo "size $(tput cols)x$(tput lines)" ;;
	red) printf '\033[31mRED\033[0m text\n' ;;
	term) echo "term $TERM lang $LANG" ;;
	quit) exit 3 ;;
	*) echo "got <$l>" ;;
	esac
done
EOF
check "loop starts" ui_start loop 100x30 sh "$T/loop.sh"
check "size given" ui_wait loop '^ready 100 30$'
# shellcheck disable=SC2016 # a literal $HOME: nothing may expand it
ui_type loop 'a b "c" $HOME;'
ui_keys loop Enter
# shellcheck disable=SC2016
check "literal text" ui_wait loop '^got <a b "c" \$HOME;>$'
ui_type loop '-x;;'
ui_keys loop Enter
check "literal text: leading -, trailing ;" ui_wait loop '^got <-x;;>$'
ui_keys loop t e r m Enter
check "TERM and LANG" ui_wait loop '^term xterm-256color lang C.UTF-8$'
ui_type loop red
ui_keys loop Enter
check "plain screen has no escapes" ui_wait loop '^RED text$'
has_red() {
	ui_screen loop -e | grep -qF "$(printf '\033[31mRED')"
}
check "-e keeps colours" has_red
check "resize" ui_resize loop 120x40
ui_type loop size
ui_keys loop Enter
check "program sees the new size" ui_wait loop '^size 120x40$'
check "still running: no status" test -z "$(ui_exit_status loop)"

# a failing wait: status 1, the reason and the screen on stderr, fast
t0=$(ui_now_us)
ui_wait loop 'never shown' 0.3 2>"$T/fail.err"
st=$?
t1=$(ui_now_us)
check "failing wait returns 1" test "$st" -eq 1
check "within its timeout" test $((t1 - t0)) -lt 1500000
check "names what it waited for" grep -q 'never shown/ not on the screen after 0.3 s' "$T/fail.err"
check "prints the screen" grep -q '^size 120x40$' "$T/fail.err"

ui_type loop quit
ui_keys loop Enter
st=$(ui_wait_exit loop)
check "exit status 3 (got $st)" test "$st" = 3
check "last screen kept" ui_wait loop '^size 120x40$' 0.1
ui_stop loop
check "server gone after the last session" test -z "$(ui_tmux ls 2>/dev/null)"

# a session that never existed fails at once
t0=$(ui_now_us)
ui_wait nosuch 'x' 3 2>/dev/null
st=$?
t1=$(ui_now_us)
check "no session: fails at once" test "$st" -eq 1 -a $((t1 - t0)) -lt 1000000

if [ "$failures" -ne 0 ]; then
	echo "tmux_selftest: $failures failed" >&2
	exit 1
fi
echo "tmux_selftest: PASS"
