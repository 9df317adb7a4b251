#!/bin/bash
# tmux.sh - drives a full-screen program through a real terminal (tmux) for
# the UI tests; sourced:
#     . "$TESTS_SRCDIR/tests/ui/tmux.sh"
#
#   ui_start NAME COLSxROWS CMD [ARG]...   start CMD in a detached session
#   ui_keys NAME KEY...                    tmux send-keys: key names (Enter,
#                                          Escape, C-c, F1, Up...) or, after
#                                          -l, literal text
#   ui_type NAME TEXT                      literal text (send-keys -l)
#   ui_screen NAME [-e]                    the visible screen (-e: with colours)
#   ui_wait NAME REGEX [TIMEOUT_S]         until a line matches (grep -E)
#   ui_wait_gone NAME REGEX [TIMEOUT_S]    until no line matches
#   ui_until NAME TIMEOUT_S CMD [ARG]...   until CMD, given the screen on
#                                          stdin, succeeds (1, silent, if not)
#   ui_resize NAME COLSxROWS
#   ui_exit_status NAME                    the exit status once it ended
#   ui_wait_exit NAME [TIMEOUT_S]          until it ended; prints the status
#   ui_stop NAME                           kill the session (and our server
#                                          when it was the last)
#   ui_cleanup                             kill our server (for trap ... EXIT)
#
# Every session lives on a private server (tmux -L tlstop-test-PID, no
# configuration file), so the user's own tmux is never touched. Programs
# run with TERM=xterm-256color and LANG=LC_ALL=C.UTF-8; the status line is
# off, so the program gets exactly COLSxROWS; a pane stays after its program
# exits (remain-on-exit), so the last screen and the exit status can be
# read. The waits poll every 20 ms; a failing one prints, on stderr, why and
# the last screen, and returns 1. Timeouts default to $UI_TIMEOUT (5 s).

UI_SOCKET=${UI_SOCKET:-tlstop-test-$$}
UI_TIMEOUT=${UI_TIMEOUT:-5}
UI_POLL_S=0.02

ui_tmux() {
	env -u TMUX tmux -L "$UI_SOCKET" -f /dev/null "$@"
}

# microseconds, from bash's clock (no process per poll)
ui_now_us() {
	local t=${EPOCHREALTIME/[.,]/}
	echo "${t#0}"
}

# "2", "0.3", "1.25" seconds in microseconds
ui_seconds_us() {
	local int=${1%%.*} frac=
	[[ $1 == *.* ]] && frac=${1#*.}
	frac=${frac}000000
	echo $((10#${int:-0} * 1000000 + 10#${frac:0:6}))
}

ui_screen() {
	local name=$1
	shift
	ui_tmux capture-pane -p -t "$name" "$@"
}

# Why a wait or a check failed, and the screen it failed on.
ui_fail() {
	local name=$1
	shift
	{
		echo "ui: $name: $*"
		echo "----- screen of $name ($(ui_tmux display-message -p -t "$name" \
			'#{window_width}x#{window_height}, dead #{pane_dead} status #{pane_dead_status}' \
			2>&1)) -----"
		ui_screen "$name" 2>&1
		echo "----- end of screen -----"
	} >&2
	return 1
}

ui_start() {
	local name=$1 size=$2
	shift 2
	case "$size" in
	*[0-9]x[0-9]*) ;;
	*)
		echo "ui_start: size $size is not COLSxROWS" >&2
		return 2
		;;
	esac
	# options first, in the same tmux command, so that a program exiting at
	# once still leaves its pane and status behind
	ui_tmux start-server \; set-option -g status off \; \
		set-option -g remain-on-exit on \; set-option -g history-limit 0 \; \
		new-session -d -s "$name" -x "${size%x*}" -y "${size#*x}" \
		env TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 "$@"
}

ui_keys() {
	local name=$1
	shift
	ui_tmux send-keys -t "$name" "$@"
}

ui_type() {
	local text=$2
	# tmux takes a ";" ending an argument for a command separator
	[[ $text == *\; ]] && text+=";"
	ui_tmux send-keys -t "$1" -l -- "$text"
}

# ui_until NAME TIMEOUT_S COND...: polls until COND (run with the screen on
# stdin) succeeds; 1 on timeout or when the session is gone.
ui_until() {
	local name=$1 timeout=${2:-$UI_TIMEOUT} end screen
	shift 2
	end=$(($(ui_now_us) + $(ui_seconds_us "$timeout")))
	while :; do
		screen=$(ui_screen "$name" 2>/dev/null) || return 1
		"$@" <<<"$screen" && return 0
		[ "$(ui_now_us)" -ge "$end" ] && return 1
		sleep "$UI_POLL_S"
	done
}

ui_wait() {
	ui_until "$1" "${3:-$UI_TIMEOUT}" grep -Eq -- "$2" ||
		ui_fail "$1" "/$2/ not on the screen after ${3:-$UI_TIMEOUT} s"
}

ui_gone() {
	! grep -Eq -- "$1"
}

ui_wait_gone() {
	ui_until "$1" "${3:-$UI_TIMEOUT}" ui_gone "$2" ||
		ui_fail "$1" "/$2/ still on the screen after ${3:-$UI_TIMEOUT} s"
}

ui_resize() {
	local size=$2
	ui_tmux resize-window -t "$1" -x "${size%x*}" -y "${size#*x}"
}

# The exit status (128 + N when killed by signal N), or nothing (and 1)
# while the program runs. tmux sees the terminal close before it reaps the
# process, and with libutempter the SIGCHLD can be lost for good (tmux
# issue 311: utempter's helper runs its own handler as the pane closes);
# a dead pane without a status gets our server a SIGCHLD, so its next
# waitpid() collects it.
ui_exit_status() {
	local st
	st=$(ui_tmux display-message -p -t "$1" \
		'#{pane_dead}:#{pane_dead_status}:#{pane_dead_signal}:#{pid}') || return 1
	case "$st" in
	1:[0-9]*) st=${st#1:} && echo "${st%%:*}" ;;
	1::[0-9]*) st=${st#1::} && echo $((128 + ${st%%:*})) ;;
	1::*) kill -CHLD "${st##*:}" 2>/dev/null ;& # not reaped yet
	*) return 1 ;;
	esac
}

# for ui_until, which gives the screen on stdin
ui_ended() {
	cat >/dev/null
	ui_exit_status "$1" >/dev/null
}

ui_wait_exit() {
	local name=$1 timeout=${2:-$UI_TIMEOUT}
	ui_until "$name" "$timeout" ui_ended "$name" ||
		ui_fail "$name" "still running after $timeout s" || return 1
	ui_exit_status "$name"
}

ui_stop() {
	ui_tmux kill-session -t "$1" 2>/dev/null
	ui_tmux has-session 2>/dev/null || ui_cleanup
	return 0
}

ui_cleanup() {
	ui_tmux kill-server 2>/dev/null
	return 0
}
