# bench_lib.sh - what the benchmark scripts (run.sh, kfilter_bench.sh)
# share: messages and ending their own children. Sourced; the script sets
# PROG first.

say() { printf '%s\n' "$*"; }
warn() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
	warn "$*"
	exit 1
}

# /proc/PID/stat after the command name, which may hold blanks
stat_fields() {
	sed 's/.*) //' /proc/"$1"/stat 2> /dev/null
}

# state PID: its one-letter state, or "gone"
state() {
	_s=$(stat_fields "$1" | cut -d' ' -f1)
	say "${_s:-gone}"
}

# stop PID [SIGNAL]: SIGNAL (TERM by default), SIGKILL after 15 s, then reap
# it. PID must be our child: a zombie keeps its pid until reaped, so the
# kill can never reach another process.
stop() {
	[ -n "$1" ] || return 0
	kill -"${2:-TERM}" "$1" 2> /dev/null
	_i=0
	while :; do
		case $(state "$1") in
		Z | gone) break ;;
		esac
		_i=$((_i + 1))
		if [ "$_i" -eq 150 ]; then
			warn "pid $1 did not exit 15 s after SIG${2:-TERM}; killing it"
			kill -KILL "$1" 2> /dev/null
		fi
		sleep 0.1
	done
	wait "$1" 2> /dev/null
}

# field NAME "LINE": the value of NAME=value in a line of such words
field() {
	printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}
