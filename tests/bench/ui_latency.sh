#!/bin/sh
# ui_latency.sh - the UI's load test (make bench-ui; no root needed): how
# long a key takes to change the screen while tlstop replays 50,000
# messages a second, against the same UI replaying an idle recording.
#
# gen_trace writes two recordings of unary gRPC traffic (32 connections,
# 4 processes, 3 methods), ui_latency.py runs `tlstop -r FILE` in tmux at
# 120x40 for each, waits for the Connections table, then 30 times sends ?
# (until the help screen shows) and q (until the table is back) and prints
# median, p90 and max of both, the ratio loaded/idle and the message rate
# the header showed. The target (issue): keys answered within 50 ms.
#
# Environment (make bench-ui sets the first two):
#   TLSTOP            the tlstop binary
#   BENCH_BUILDDIR    the build tree holding tests/bench/gen_trace
#   UI_LAT_RATE       messages/s of the loaded recording (default 50000)
#   UI_LAT_SECONDS    its length in seconds (default 20; the measurement
#                     takes about 12)
#   UI_LAT_IDLE_RATE  messages/s of the baseline (default 10)
#   UI_LAT_ROUNDS     key rounds per run (default 30)
#   UI_LAT_SIZE       terminal size (default 120x40)
#   UI_LAT_ARGS       more tlstop options for both runs (e.g. --speed 2)
#   UI_LAT_DIR        where the recordings go (default: a temporary
#                     directory, removed at the end; ~190 MB at the defaults)

set -u
PROG=ui_latency.sh
here=$(cd "$(dirname "$0")" && pwd)
: "${TLSTOP:?set TLSTOP to the tlstop binary}"
: "${BENCH_BUILDDIR:?set BENCH_BUILDDIR to the build tree}"
rate=${UI_LAT_RATE:-50000}
seconds=${UI_LAT_SECONDS:-20}
idle_rate=${UI_LAT_IDLE_RATE:-10}
rounds=${UI_LAT_ROUNDS:-30}
size=${UI_LAT_SIZE:-120x40}
args=${UI_LAT_ARGS:-}
gen=$BENCH_BUILDDIR/tests/bench/gen_trace
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the source tree

for p in tmux python3; do
	if ! command -v "$p" >/dev/null; then
		echo "$PROG: $p is needed" >&2
		exit 1
	fi
done
if ! "$TLSTOP" --help 2>&1 | grep -q -- --tui; then
	echo "$PROG: $TLSTOP has no interactive UI (no --tui in --help)" >&2
	exit 1
fi

if [ -n "${UI_LAT_DIR:-}" ]; then
	dir=$UI_LAT_DIR
	mkdir -p "$dir" || exit 1
else
	dir=$(mktemp -d "${TMPDIR:-/tmp}/tlstop-ui-lat.XXXXXX") || exit 1
	trap 'rm -rf "$dir"' EXIT
	trap 'exit 130' INT TERM
fi

"$gen" --rate "$idle_rate" --seconds "$seconds" "$dir/idle.tlstop" &&
	"$gen" --rate "$rate" --seconds "$seconds" "$dir/loaded.tlstop" || exit 1

# shellcheck disable=SC2086 # UI_LAT_ARGS is a list of options
python3 "$here/ui_latency.py" --rounds "$rounds" --size "$size" \
	--rate "$rate" --seconds "$seconds" --target-ms 50 \
	"idle ($idle_rate msg/s)=\"$TLSTOP\" $args -r \"$dir/idle.tlstop\"" \
	"loaded ($rate msg/s)=\"$TLSTOP\" $args -r \"$dir/loaded.tlstop\""
