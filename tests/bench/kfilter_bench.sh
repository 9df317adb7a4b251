#!/bin/sh
# kfilter_bench.sh - the in-kernel prefilter's benchmark (make bench-kfilter,
# as root): gRPC-shaped unary calls of which 1 % go to /pkg.A/Call, traced by
# tlstop without a filter and with -f '^/pkg.A/', whose path prefix the
# kernel applies: it copies no DATA payload of the /pkg.B/Call streams.
#
# The workload is h2_load (tests/bench/h2_load.c): TLS client and server in
# one thread over a BIO pair, each call a HEADERS + DATA write each way. Each
# round runs, in this order, with a new h2_load each time:
#   (a) untraced
#   (b) tlstop --json -p PID
#   (c) tlstop --json -p PID -f '^/pkg.A/'
#   (d) with KF_BENCH_USERSPACE=1: tlstop --json -p PID -f '/pkg.A/', which
#       prints the same messages but, unanchored, is left to userspace: the
#       kernel copies everything, as in (b)
# h2_load waits before its handshake until tlstop printed its ready record
# (tlstop sees the connection from its preface); tlstop writes to a file in
# the temporary directory. h2_load is paced (--rate) so that (b), which
# decodes and prints every message, keeps up: a tracer that loses records
# does less work than its job, which would flatter (b)'s CPU and per-call
# figures. The report gives the median over rounds of:
#   ns/call, cpu ns/call  h2_load's wall and CPU time per timed call (the CPU
#                         time holds the probes' programs, which run in the
#                         traced thread, but not time other processes took)
#   probe ns              what tlstop's ssl_enter and ssl_leave programs ran
#                         per TLS call (kernel.bpf_stats_enabled, turned on
#                         for the benchmark): the part of the traced cost the
#                         filter changes, without the noise of the rest
#   tlstop CPU            tlstop's user + system time from h2_load's start
#                         to tlstop falling idle after it (attaching at start
#                         and exiting are left out)
#   delivered             ring-buffer bytes tlstop received (delivered_bytes of
#                         its last stats record, record headers included)
#   lost                  bytes the kernel could not put in the full ring
#                         buffer (lost.ringbuf_bytes): delivered + lost is
#                         what the probes handed over
# and checks in (c) (and (d)) that tlstop printed every /pkg.A/Call message
# (request and response at both ends: 4 per call, warm-up included) and no
# /pkg.B/Call one.
#
# Environment (make bench-kfilter sets the first two):
#   TLSTOP            the tlstop binary
#   BENCH_BUILDDIR    the build tree holding tests/bench/h2_load
#   KF_BENCH_ROUNDS   rounds (default 3)
#   KF_BENCH_CALLS    timed calls per run (default 10000)
#   KF_BENCH_RATE     calls per second, at most (default 1000; 0: unpaced)
#   KF_BENCH_WARMUP   untimed calls before them (default 1000)
#   KF_BENCH_SIZE     gRPC message bytes, request and reply (default 16384)
#   KF_BENCH_EVERY    one call in N goes to /pkg.A/Call (default 100)
#   KF_BENCH_CPU      CPU h2_load is pinned to (default 0; "none": not
#                     pinned); tlstop is kept off it when there are others,
#                     so its reading does not take the traced thread's CPU
#   KF_BENCH_USERSPACE=1  add run (d)

set -u

PROG=kfilter_bench.sh
TLSTOP=${TLSTOP:-}
BENCH_BUILDDIR=${BENCH_BUILDDIR:-.}
ROUNDS=${KF_BENCH_ROUNDS:-3}
CALLS=${KF_BENCH_CALLS:-10000}
RATE=${KF_BENCH_RATE:-1000}
WARMUP=${KF_BENCH_WARMUP:-1000}
SIZE=${KF_BENCH_SIZE:-16384}
EVERY=${KF_BENCH_EVERY:-100}
CPU=${KF_BENCH_CPU:-0}
H2=$BENCH_BUILDDIR/tests/bench/h2_load
FILTER='^/pkg.A/'
USER_FILTER=/pkg.A/
CONFIGS="a b c"
[ -n "${KF_BENCH_USERSPACE:-}" ] && CONFIGS="a b c d"

# shellcheck source=tests/bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh" || exit 1

if [ "$(id -u)" != 0 ]; then
	warn "SKIP: attaching uprobes needs root: run 'sudo make bench-kfilter'"
	exit 77
fi
[ -n "$TLSTOP" ] || die "TLSTOP is not set: run 'make bench-kfilter' in the build tree"
[ -x "$TLSTOP" ] || die "TLSTOP=$TLSTOP is not an executable: run 'make tlstop' first"
[ -x "$H2" ] || die "$H2 is missing: run 'make bench-kfilter' (it builds it) or set BENCH_BUILDDIR"

H2_RATE=
[ "$RATE" != 0 ] && H2_RATE="--rate $RATE"
H2_CPU=
TRACER_PIN=
if [ "$CPU" != none ]; then
	H2_CPU="--cpu $CPU"
	if [ "$(nproc)" -gt 1 ] && command -v taskset > /dev/null; then
		TRACER_PIN="taskset -c $(seq 0 $(($(nproc) - 1)) | grep -vx "$CPU" | paste -sd, -)"
	fi
fi

TMP=$(mktemp -d /tmp/tlstop-kfbench.XXXXXX) || die "cannot create a temporary directory"
H2_PID=
TRACER=
BPF_STATS=$(sysctl -n kernel.bpf_stats_enabled 2> /dev/null)

cleanup() {
	stop "$TRACER"
	stop "$H2_PID"
	[ -n "$BPF_STATS" ] && sysctl -q kernel.bpf_stats_enabled="$BPF_STATS"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# utime + stime of PID, in clock ticks
cpu_ticks() {
	stat_fields "$1" | awk '{ print $12 + $13 }'
}

# wait_for FILE PATTERN PID NAME SECONDS: until FILE holds a line matching
# PATTERN; fails when PID (NAME) exits first or the time runs out.
wait_for() {
	_i=0
	until grep -q "$2" "$1" 2> /dev/null; do
		case $(state "$3") in
		Z | gone)
			warn "$4 exited before printing $2:"
			sed 's/^/    /' "$TMP/tlstop.err" "$TMP/h2.out" 2> /dev/null >&2
			return 1
			;;
		esac
		_i=$((_i + 1))
		if [ "$_i" -gt $(($5 * 20)) ]; then
			warn "$4 did not print $2 within $5 s"
			return 1
		fi
		sleep 0.05
	done
}

# Waits until tlstop has read and decoded what the run left in its ring
# buffer: its CPU time held still (a tick at most) for half a second.
settle() {
	_prev=$(cpu_ticks "$1")
	_i=0
	while [ "$_i" -lt 40 ]; do
		sleep 0.5
		_now=$(cpu_ticks "$1")
		[ $((_now - _prev)) -le 1 ] && break
		_prev=$_now
		_i=$((_i + 1))
	done
}

# jnum JSON KEY: the number after "KEY": (KEY may hold a regex prefix such
# as '"kernel_filter":{[^}]*"bytes'); - when absent
jnum() {
	_v=$(printf '%s\n' "$1" | sed -n "s/.*$2\":\([0-9][0-9]*\).*/\1/p")
	say "${_v:--}"
}

# prog_ids: the ids of the BPF programs loaded now, one per line
prog_ids() {
	bpftool prog show 2> /dev/null | sed -n 's/^\([0-9][0-9]*\): .*/\1/p'
}

# probe_ns: ns per TLS call that the ssl_enter and ssl_leave programs
# loaded since $TMP/ids was written (by start_tlstop: ours, as nothing else
# loads such programs meanwhile) ran, from bpf_stats; - when unknown
probe_ns() {
	bpftool -j prog show 2> /dev/null | python3 -c '
import json, sys
old = set(int(x) for x in open(sys.argv[1]).read().split())
t = n = 0
for p in json.load(sys.stdin):
    if p.get("name") in ("ssl_enter", "ssl_leave") and p["id"] not in old:
        t += p.get("run_time_ns", 0)
        n += p.get("run_cnt", 0) if p["name"] == "ssl_leave" else 0
print("%.1f" % (t / n) if n else "-")' "$TMP/ids" 2> /dev/null || say -
}

start_tlstop() {
	rm -f "$TMP/tlstop.out"
	prog_ids > "$TMP/ids"
	# shellcheck disable=SC2086 # TRACER_PIN is empty or words without blanks
	$TRACER_PIN "$TLSTOP" --json -p "$H2_PID" "$@" > "$TMP/tlstop.out" 2> "$TMP/tlstop.err" &
	TRACER=$!
	wait_for "$TMP/tlstop.out" '"type":"ready"' "$TRACER" tlstop 60 || return 1
	# the probes are live; give the reader time to settle (as run.sh)
	sleep 0.5
}

# In (c) and (d): the /pkg.A/Call and /pkg.B/Call messages and those flagged
# incomplete, gap or truncated.
count_messages() {
	awk '
		!/^\{"type":"message"/ { next }
		/"path":"\/pkg\.A\/Call"/ { a++ }
		/"path":"\/pkg\.B\/Call"/ { b++ }
		/"(incomplete|gap|truncated)":true/ { bad++ }
		END { printf "%d %d %d\n", a, b, bad }' "$TMP/tlstop.out"
}

# run_one ROUND CONFIG: one run; appends a line to the results:
# round config ns cpu_ns tlstop_ticks delivered lost_bytes lost_records
# kf_bytes kf_streams a_msgs b_msgs flagged a_calls probe_ns
run_one() {
	rm -f "$TMP/go" "$TMP/h2.out"
	# shellcheck disable=SC2086 # H2_CPU is empty or words without blanks
	"$H2" --calls "$CALLS" --warmup "$WARMUP" --size "$SIZE" --match-every "$EVERY" \
		$H2_RATE $H2_CPU --wait-file "$TMP/go" > "$TMP/h2.out" &
	H2_PID=$!
	wait_for "$TMP/h2.out" '^waiting ' "$H2_PID" h2_load 10 || return 1
	case $2 in
	b) start_tlstop || return 1 ;;
	c) start_tlstop -f "$FILTER" || return 1 ;;
	d) start_tlstop -f "$USER_FILTER" || return 1 ;;
	esac
	[ -n "$TRACER" ] && _t0=$(cpu_ticks "$TRACER")
	touch "$TMP/go"
	wait "$H2_PID" || {
		warn "h2_load failed"
		return 1
	}
	H2_PID=
	_out=$(tail -n 1 "$TMP/h2.out")
	_ticks=- _stats='' _msgs="- - -" _probe=-
	if [ -n "$TRACER" ]; then
		settle "$TRACER"
		_ticks=$(($(cpu_ticks "$TRACER") - _t0))
		_probe=$(probe_ns)
		stop "$TRACER"
		TRACER=
		# the last stats record is written at exit
		_stats=$(tail -n 5 "$TMP/tlstop.out" | grep '^{"type":"stats"' | tail -n 1)
		[ -n "$_stats" ] || {
			warn "tlstop wrote no stats record at exit"
			return 1
		}
		[ "$2" != b ] && _msgs=$(count_messages)
		rm -f "$TMP/tlstop.out"
	fi
	say "$1 $2 $(field ns_per_call "$_out") $(field cpu_ns_per_call "$_out") $_ticks" \
		"$(jnum "$_stats" delivered_bytes) $(jnum "$_stats" ringbuf_bytes)" \
		"$(jnum "$_stats" ringbuf_records)" \
		"$(jnum "$_stats" '"kernel_filter":{[^}]*"bytes')" \
		"$(jnum "$_stats" '"kernel_filter":{[^}]*"streams') $_msgs" \
		"$(field a_calls "$_out") $_probe" >> "$TMP/results"
}

say "tlstop in-kernel prefilter benchmark: $(uname -r), $(nproc) CPUs"
say "h2_load: $CALLS timed calls (+ $WARMUP warm-up) per run at ${RATE:-0} calls/s (0: unpaced)," \
	"$SIZE-byte messages each way,"
say "one call in $EVERY to /pkg.A/Call, the others to /pkg.B/Call; h2_load on CPU $CPU," \
	"tlstop ${TRACER_PIN:-not pinned}"
say "(a) untraced  (b) tlstop --json -p PID  (c) tlstop --json -p PID -f '$FILTER'"
case $CONFIGS in
*d*) say "(d) tlstop --json -p PID -f '$USER_FILTER' (filtered in userspace only)" ;;
esac

# per-program run times for probe_ns, from now on
if [ -n "$BPF_STATS" ]; then
	sysctl -q kernel.bpf_stats_enabled=1 || warn "cannot turn kernel.bpf_stats_enabled on: no probe ns"
fi

: > "$TMP/results"
r=1
while [ "$r" -le "$ROUNDS" ]; do
	for c in $CONFIGS; do
		run_one "$r" "$c" || die "round $r: run ($c) failed"
		tail -n 1 "$TMP/results" | awk -v n="$ROUNDS" '{
			printf "round %d/%d (%s): %9.0f ns/call, %9.0f cpu ns/call", $1, n, $2, $3, $4
			if ($5 != "-")
				printf ", tlstop %.2f s CPU, delivered %.1f MB, lost %.1f MB",
					$5 / 100, $6 / 1e6, $7 / 1e6
			if ($11 != "-")
				printf ", A messages %d of %d", $11, 4 * $14
			if ($15 != "-")
				printf ", probes %.0f ns/TLS call", $15
			printf "\n"
		}'
	done
	r=$((r + 1))
done

say ""
awk -v hz="$(getconf CLK_TCK)" -v configs="$CONFIGS" '
function median(c, col,    n, i, j, t, a) {
	n = 0
	for (i = 1; i <= nr; i++)
		if (cfg[i] == c && val[i, col] != "-")
			a[++n] = val[i, col] + 0
	if (!n)
		return "-"
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function ratio(x, y) {
	return x == "-" || y == "-" || y == 0 ? "-" : x / y
}
function fmt(x, f) {
	return x == "-" ? "-" : sprintf(f, x)
}
function verdict(ok) {
	return ok == "" ? "UNKNOWN" : ok ? "PASS" : "MISS"
}
{
	nr++
	cfg[nr] = $2
	for (k = 3; k <= NF; k++)
		val[nr, k] = $k
	if ($2 == "c" || $2 == "d") {
		want = 4 * $14
		if ($11 != want || $12 != 0 || $13 != 0 || $8 != 0)
			c_bad = c_bad sprintf("  round %d (%s): %d of %d /pkg.A/Call messages, %d" \
				" /pkg.B/Call, %d flagged, %s records lost\n", $1, $2, $11, want, $12,
				$13, $8)
		checked[$2] = checked[$2] sprintf(" %d/%d", $11, want)
	}
}
END {
	name["a"] = "(a) untraced"
	name["b"] = "(b) tlstop"
	name["c"] = "(c) tlstop -f"
	name["d"] = "(d) userspace"
	printf "%-14s %8s %11s %9s %11s %11s %9s %8s %11s\n", "median", "ns/call", "cpu ns/call",
		"probe ns", "tlstop CPU", "delivered", "lost", "lost rec", "kf dropped"
	nc = split(configs, C, " ")
	for (j = 1; j <= nc; j++) {
		c = C[j]
		for (k = 3; k <= 15; k++)
			m[c, k] = median(c, k)
		printf "%-14s %8s %11s %9s %11s %11s %9s %8s %11s\n", name[c], fmt(m[c, 3], "%.0f"),
			fmt(m[c, 4], "%.0f"), fmt(m[c, 15], "%.0f"),
			fmt(m[c, 5] == "-" ? "-" : m[c, 5] / hz, "%.2f s"),
			fmt(m[c, 6] == "-" ? "-" : m[c, 6] / 1e6, "%.1f MB"),
			fmt(m[c, 7] == "-" ? "-" : m[c, 7] / 1e6, "%.1f MB"), fmt(m[c, 8], "%.0f"),
			fmt(m[c, 9] == "-" ? "-" : m[c, 9] / 1e6, "%.1f MB")
	}
	bytes = ratio(m["c", 6], m["b", 6])
	offered_b = m["b", 6] == "-" ? "-" : m["b", 6] + m["b", 7]
	offered_c = m["c", 6] == "-" ? "-" : m["c", 6] + m["c", 7]
	bytes_off = ratio(offered_c, offered_b)
	cpu = ratio(m["c", 5], m["b", 5])
	print ""
	printf "delivered bytes (c)/(b): %s, reduction %s\n", fmt(bytes, "%.4f"),
		fmt(bytes == "-" ? "-" : 100 * (1 - bytes), "%.2f%%")
	printf "delivered + lost (what the probes handed over) (c)/(b): %s, reduction %s%s\n",
		fmt(bytes_off, "%.4f"), fmt(bytes_off == "-" ? "-" : 100 * (1 - bytes_off), "%.2f%%"),
		(m["b", 7] > 0 ? "  [(b) lost records: its ring buffer was full]" : "")
	printf "tlstop CPU (c)/(b): %s\n", fmt(cpu, "%.3f")
	printf "ns/call   (b)/(a) %s  (c)/(a) %s  (c)/(b) %s\n", fmt(ratio(m["b", 3], m["a", 3]), "%.3f"),
		fmt(ratio(m["c", 3], m["a", 3]), "%.3f"), fmt(ratio(m["c", 3], m["b", 3]), "%.3f")
	printf "cpu ns/call (b)/(a) %s  (c)/(a) %s  (c)/(b) %s\n",
		fmt(ratio(m["b", 4], m["a", 4]), "%.3f"), fmt(ratio(m["c", 4], m["a", 4]), "%.3f"),
		fmt(ratio(m["c", 4], m["b", 4]), "%.3f")
	probe = ratio(m["c", 15], m["b", 15])
	printf "probe ns per TLS call (c)/(b) %s\n", fmt(probe, "%.3f")
	if (nc == 4) {
		printf "(c)/(d), kernel and userspace filter against userspace alone: delivered %s," \
			" tlstop CPU %s, cpu ns/call %s\n", fmt(ratio(m["c", 6], m["d", 6]), "%.4f"),
			fmt(ratio(m["c", 5], m["d", 5]), "%.3f"), fmt(ratio(m["c", 4], m["d", 4]), "%.3f")
	}
	for (j = 3; j <= nc; j++)
		printf "(%s) /pkg.A/Call messages seen per round, of 4 per A call sent:%s\n", C[j],
			checked[C[j]]
	if (c_bad != "")
		printf "MISSED messages or lost records:\n%s", c_bad
	else
		print "every /pkg.A/Call message seen, none of /pkg.B/Call, none flagged, nothing lost"
	print ""
	print "targets (information, not asserted):"
	printf "  %s  bytes reduction >= 95%% (delivered + lost, so that (b)'"'"'s losses do not flatter it): %s\n",
		verdict(bytes_off == "-" ? "" : bytes_off <= 0.05), fmt(bytes_off == "-" ? "-" : 100 * (1 - bytes_off), "%.2f%%")
	# a (b) that lost records did less than its job: its CPU and per-call
	# figures are too low to compare with
	b_lost = m["b", 8] != "-" && m["b", 8] > 0
	printf "  %s  tlstop CPU down roughly in proportion (CPU ratio <= 2 x bytes ratio): %s vs %s\n",
		verdict(cpu == "-" || bytes_off == "-" || b_lost ? "" : cpu <= 2 * bytes_off),
		fmt(cpu, "%.3f"), fmt(bytes_off, "%.4f")
	per_call = ratio(m["c", 4], m["b", 4])
	printf "  %s  traced per-call cost with the filter <= 1.1x without (cpu ns/call (c)/(b)): %s" \
		" (wall: %s)\n", verdict(per_call == "-" || b_lost ? "" : per_call <= 1.1),
		fmt(per_call, "%.3f"), fmt(ratio(m["c", 3], m["b", 3]), "%.3f")
	printf "  %s  the probes'"'"' run time with the filter <= 1.1x without (probe ns (c)/(b)): %s\n",
		verdict(probe == "-" || b_lost ? "" : probe <= 1.1), fmt(probe, "%.3f")
	if (b_lost)
		print "  note: (b) lost records (hence UNKNOWN): lower KF_BENCH_RATE until tlstop" \
			" keeps up; a probe that cannot reserve ring-buffer space copies nothing"
}' "$TMP/results"

say ""
say "raw results (round config ns/call cpu-ns/call tlstop-ticks delivered lost-bytes"
say "lost-records kf-bytes kf-streams A-msgs B-msgs flagged A-calls probe-ns):"
sed 's/^/  /' "$TMP/results"
