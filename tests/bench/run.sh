#!/bin/sh
# run.sh - tlstop's overhead benchmark (make bench, as root): the cost a TLS
# round trip pays under no tracing, empty probes, tlstop with classic entry
# and return probes, tlstop with its default (planned) probes and bcc's
# sslsniff.
#
# Environment (make bench sets the first two):
#   TLSTOP            the tlstop binary
#   BENCH_BUILDDIR    the build tree holding tests/bench/{ssl_roundtrip,empty_probes}
#   BENCH_ROUNDS      rounds of interleaved measurements (default 5)
#   BENCH_SIZES       payload sizes in bytes (default "100 16384")
#   BENCH_MODES       how the benchmark's client and server are joined
#                     (default "socket mem"): socket = two threads over
#                     loopback TCP; mem = one thread, a BIO pair, no system
#                     calls, so probe cost is a larger share of the round trip
#   BENCH_API         which OpenSSL calls the benchmark makes (default
#                     "plain"; "plain ex" adds a run of each mode and size
#                     with SSL_write_ex/SSL_read_ex)
#   BENCH_ITERATIONS  timed round trips per run, for every size (default:
#                     30000 for sizes up to 1 KiB, 12000 above)
#   BENCH_WARMUP      untimed round trips before each run (default 2000)
#   BENCH_CPU         CPU the benchmark's threads (two in socket mode, one in
#                     mem mode) are pinned to (default 0; "none": let the
#                     scheduler place them)
#   BENCH_NO_CHECK=1  skip the capture check before the measurements
#   SSLSNIFF          bcc's sslsniff (default /usr/sbin/sslsniff-bpfcc); a
#                     missing one is skipped, and so is any with
#   BENCH_NO_SSLSNIFF=1
#   BPFTOOL           bpftool, used to see when a tracer's probes are live
#
# Each round runs every configuration in turn (untraced, empty probes,
# tlstop --probe-method=entry-return, tlstop, sslsniff), each tracer started
# once per round and stopped before the next, so slow drift of the machine
# hits all of them alike; under each, every mode, API and size runs once. The
# table reports the median over rounds. While measuring, the tracers write to
# /dev/null; they count as ready once bpftool shows their uprobes.

set -u

PROG=run.sh
TLSTOP=${TLSTOP:-}
BENCH_BUILDDIR=${BENCH_BUILDDIR:-.}
ROUNDS=${BENCH_ROUNDS:-5}
SIZES=${BENCH_SIZES:-100 16384}
MODES=${BENCH_MODES:-socket mem}
APIS=${BENCH_API:-plain}
WARMUP=${BENCH_WARMUP:-2000}
CPU=${BENCH_CPU:-0}
SSLSNIFF=${SSLSNIFF:-/usr/sbin/sslsniff-bpfcc}
RT=$BENCH_BUILDDIR/tests/bench/ssl_roundtrip
EP=$BENCH_BUILDDIR/tests/bench/empty_probes
CONFIGS="untraced floor tlstop-er tlstop sslsniff"

# shellcheck source=tests/bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh" || exit 1

if [ "$(id -u)" != 0 ]; then
	die "attaching uprobes needs root: run 'sudo make bench' (or this script as root)"
fi
[ -n "$TLSTOP" ] || die "TLSTOP is not set: run 'make bench' in the build tree"
[ -x "$TLSTOP" ] || die "TLSTOP=$TLSTOP is not an executable: run 'make tlstop' first"
if [ ! -x "$RT" ] || [ ! -x "$EP" ]; then
	die "$RT or $EP is missing: run 'make bench' (it builds them) or set BENCH_BUILDDIR"
fi
for m in $MODES; do
	case $m in
	socket | mem) ;;
	*) die "BENCH_MODES: unknown mode '$m' (expected socket, mem)" ;;
	esac
done
for a in $APIS; do
	case $a in
	plain | ex) ;;
	*) die "BENCH_API: unknown API '$a' (expected plain, ex)" ;;
	esac
done
if [ -z "${BPFTOOL:-}" ]; then
	BPFTOOL=$(PATH=$PATH:/usr/sbin:/sbin command -v bpftool) ||
		die "bpftool was not found: install the Debian package bpftool"
fi

iterations_for() {
	if [ -n "${BENCH_ITERATIONS:-}" ]; then
		say "$BENCH_ITERATIONS"
	elif [ "$1" -le 1024 ]; then
		say 30000
	else
		say 12000
	fi
}

TMP=$(mktemp -d /tmp/tlstop-bench.XXXXXX) || die "cannot create a temporary directory"
HOLDER=
TRACER=
CHECKER=

# Stop the tracer of configuration $1: sslsniff flushes its output only on
# SIGINT (KeyboardInterrupt); SIGTERM would drop Python's buffer.
stop_tracer() {
	if [ "$1" = sslsniff ]; then
		stop "$TRACER" INT
	else
		stop "$TRACER"
	fi
	TRACER=
}

cleanup() {
	stop "$TRACER"
	stop "$CHECKER"
	stop "$HOLDER"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Number of uprobes and uretprobes that process $1 holds: tlstop's planned
# probes are all uprobes, entry-return attaches both kinds. Not filtered by
# file name: tlstop attaches through /proc/self/fd/N.
probes_of() {
	"$BPFTOOL" perf show 2>/dev/null |
		awk -v pid="$1" '$1 == "pid" && $2 == pid && / u(ret)?probe /' |
		wc -l
}

# Wait until process $1 ($2 names it) holds at least $3 uprobes and their
# number held still for half a second; $4 is its stderr file. The tracers'
# own ready messages go to their stdout, which is /dev/null when measuring.
wait_probes() {
	_prev=-1
	_i=0
	while :; do
		if ! kill -0 "$1" 2>/dev/null || [ "$(sed 's/.*) //' /proc/"$1"/stat |
			cut -d' ' -f1)" = Z ]; then
			warn "$2 exited before its probes were attached:"
			sed 's/^/    /' "$4" >&2
			return 1
		fi
		_n=$(probes_of "$1")
		[ "$_n" -ge "$3" ] && [ "$_n" -eq "$_prev" ] && break
		_prev=$_n
		_i=$((_i + 1))
		if [ "$_i" -ge 240 ]; then
			warn "$2 did not attach its probes within 120 s ($_n uprobes)"
			return 1
		fi
		sleep 0.5
	done
	PROBES=$_n
}

# bcc compiles sslsniff against kernel headers. Kernels without them (no
# /lib/modules/$(uname -r)/build, no CONFIG_IKHEADERS) can borrow Debian's
# linux-headers: the program only needs struct pt_regs and the BPF helpers.
# bcc 0.26 then rejects the BUILD_BUG_ON_MSG call inside min() of minmax.h
# (seen with Debian's linux-headers-6.1.0-56) as "cannot call non-static
# helper function"; a copy of the headers without that compile-time-only
# check is used.
bcc_headers() {
	if [ -n "${BCC_KERNEL_SOURCE:-}" ] || [ -e /lib/modules/"$(uname -r)"/build ] ||
		[ -e /sys/kernel/kheaders.tar.xz ]; then
		return 0
	fi
	_flavour=$(dpkg --print-architecture 2>/dev/null) || return 1
	_common=
	for _d in /usr/src/linux-headers-*-common; do
		if [ -d "${_d%-common}-$_flavour" ]; then
			_common=$_d
			_arch=${_d%-common}-$_flavour
		fi
	done
	[ -n "$_common" ] || return 1
	mkdir "$TMP/kheaders" &&
		cp -as "$_common/." "$TMP/kheaders/" &&
		cp -as --remove-destination "$_arch/." "$TMP/kheaders/" || return 1
	_minmax=$TMP/kheaders/include/linux/minmax.h
	if [ -e "$_minmax" ]; then
		rm -f "$_minmax"
		sed '/BUILD_BUG_ON_MSG(!__types_ok(ux, uy),/{N;d;}' \
			"$_common/include/linux/minmax.h" > "$_minmax" || return 1
	fi
	BCC_KERNEL_SOURCE=$TMP/kheaders
	export BCC_KERNEL_SOURCE
	say "sslsniff: no kernel headers for $(uname -r); bcc uses $_arch"
}

# Start configuration $1's tracer, its stdout to $2; sets TRACER and PROBES.
start_tracer() {
	TRACER=
	PROBES=0
	case $1 in
	untraced)
		return 0
		;;
	floor)
		"$EP" "$LIBSSL" > "$TMP/floor.out" 2> "$TMP/floor.err" &
		TRACER=$!
		wait_probes "$TRACER" empty_probes 8 "$TMP/floor.err" || return 1
		grep -q '^attached' "$TMP/floor.out" || {
			warn "empty_probes did not say attached"
			return 1
		}
		;;
	tlstop-er)
		"$TLSTOP" --json --probe-method=entry-return > "$2" 2> "$TMP/tlstop-er.err" &
		TRACER=$!
		wait_probes "$TRACER" "tlstop --probe-method=entry-return" 4 \
			"$TMP/tlstop-er.err" || return 1
		;;
	tlstop)
		# the planned method may attach as few as 4 uprobes on
		# Debian's libssl3; its count settling is what tells it is done
		"$TLSTOP" --json > "$2" 2> "$TMP/tlstop.err" &
		TRACER=$!
		wait_probes "$TRACER" tlstop 4 "$TMP/tlstop.err" || return 1
		;;
	sslsniff)
		# a background job of sh starts with SIGINT ignored, and Python
		# then never raises KeyboardInterrupt: restore it for stop_tracer
		env --default-signal=INT "$SSLSNIFF" --no-gnutls --no-nss > "$2" \
			2> "$TMP/sslsniff.err" &
		TRACER=$!
		wait_probes "$TRACER" sslsniff 4 "$TMP/sslsniff.err" || return 1
		;;
	esac
	# the probes are live; give the tracer's reader time to settle
	sleep 0.5
}

# run_rt SIZE ITERATIONS MODE API: run the round-trip benchmark; prints its
# result line, records its pid.
run_rt() {
	_ex=
	[ "$4" = ex ] && _ex=--ex
	_cpu=
	[ "$CPU" = none ] || _cpu="--cpu $CPU"
	# shellcheck disable=SC2086 # each empty or words without blanks
	"$RT" --size "$1" --iterations "$2" --warmup "$WARMUP" --bio "$3" $_ex $_cpu \
		> "$TMP/rt.out" &
	RT_PID=$!
	wait "$RT_PID" || {
		warn "ssl_roundtrip --size $1 --bio $3 $_ex failed"
		return 1
	}
	cat "$TMP/rt.out"
}

# Records the running tracer of configuration $1 reported lost so far: tlstop
# warns on stderr when its ring buffer was full, bcc when a perf buffer was.
lost_so_far() {
	case $1 in
	tlstop | tlstop-er)
		sed -n 's/.*"message":"\([0-9]*\) records lost since.*/\1/p' "$TMP/$1.err"
		;;
	sslsniff)
		sed -n 's/^Possibly lost \([0-9]*\) samples.*/\1/p' "$TMP/sslsniff.err"
		;;
	esac | awk '{ n += $1 } END { print n + 0 }'
}

# ---- setup ----

# A process keeping libssl mapped for the whole run: tlstop attaches to the
# libraries of the processes it finds, so its probes are live before each
# measured process starts instead of once it has noticed that process.
"$RT" --hold > "$TMP/hold.out" &
HOLDER=$!
_i=0
until [ -s "$TMP/hold.out" ]; do
	_i=$((_i + 1))
	[ "$_i" -lt 100 ] || die "ssl_roundtrip --hold did not start"
	sleep 0.05
done
LIBSSL=$(sed -n 's/^holding //p' "$TMP/hold.out")
[ -r "$LIBSSL" ] || die "cannot tell which libssl ssl_roundtrip uses (got '$LIBSSL')"

HAVE_SSLSNIFF=0
if [ -n "${BENCH_NO_SSLSNIFF:-}" ]; then
	say "sslsniff: skipped (BENCH_NO_SSLSNIFF is set)"
elif [ ! -x "$SSLSNIFF" ]; then
	say "sslsniff: $SSLSNIFF not found, skipped (Debian package bpfcc-tools)"
else
	HAVE_SSLSNIFF=1
	bcc_headers || say "sslsniff: no kernel headers found; it will probably fail"
fi

say "tlstop overhead benchmark: $(uname -r), $(nproc) CPUs, libssl $LIBSSL"
say "rounds $ROUNDS, modes $MODES, API $APIS, sizes $SIZES, warm-up $WARMUP round trips per run,"
say "benchmark on CPU $CPU"
for s in $SIZES; do
	say "  size $s: $(iterations_for "$s") timed round trips per run"
done

# ---- capture check (not timed): did each tracer see every call? ----
#
# A quarter of the measured round trips per mode, API and size. The tracer's
# output goes through a pipe to a counter here, which costs more than
# /dev/null, so loss seen here is an upper bound of the measured runs'.

check_tracer() {
	_name=$1
	rm -f "$TMP/fifo"
	mkfifo "$TMP/fifo" || return 1
	case $_name in
	tlstop | tlstop-er)
		awk '
			/"type":"tls"/ && /"comm":"ssl_roundtrip"/ {
				if (match($0, /"pid":[0-9]+/))
					n[substr($0, RSTART + 6, RLENGTH - 6)]++
			}
			/"type":"stats"/ { stats = $0 }
			END {
				for (p in n) print "pid", p, n[p]
				if (match(stats, /"lost":\{[^}]*\}/))
					print "lost", substr(stats, RSTART + 7, RLENGTH - 7)
			}' < "$TMP/fifo" > "$TMP/check.out" &
		;;
	sslsniff)
		awk '
			/^(WRITE\/SEND|READ\/RECV) / && $3 == "ssl_roundtrip" { n[$4]++ }
			END { for (p in n) print "pid", p, n[p] }' \
			< "$TMP/fifo" > "$TMP/check.out" &
		;;
	esac
	CHECKER=$!
	: > "$TMP/$_name.err"
	start_tracer "$_name" "$TMP/fifo" || {
		stop_tracer "$_name"
		stop "$CHECKER"
		CHECKER=
		return 1
	}
	say "check $_name: $PROBES uprobes attached"
	: > "$TMP/check.runs"
	for m in $MODES; do
		for a in $APIS; do
			for s in $SIZES; do
				_n=$(($(iterations_for "$s") / 4))
				run_rt "$s" "$_n" "$m" "$a" > /dev/null || return 1
				# the warm-up's calls are traced too; each round
				# trip makes as many as the timed ones
				_calls=$(field ssl_calls_per_roundtrip "$(cat "$TMP/rt.out")")
				_want=$(awk -v c="$_calls" -v n="$((_n + WARMUP))" \
					'BEGIN { printf "%.0f", c * n }')
				say "$m $a $s $RT_PID $_want" >> "$TMP/check.runs"
			done
		done
	done
	# let the tracer drain what it has buffered
	sleep 2
	stop_tracer "$_name"
	reap "$CHECKER"
	CHECKER=
	while read -r _m _a _s _pid _want; do
		_got=$(awk -v p="$_pid" '$1 == "pid" && $2 == p { print $3 }' "$TMP/check.out")
		say "check $_name: $_m/$_a size $_s: saw ${_got:-0} of $_want SSL calls of the benchmark"
	done < "$TMP/check.runs"
	case $_name in
	tlstop | tlstop-er)
		sed -n "s/^lost /check $_name: final stats: lost /p" "$TMP/check.out"
		;;
	sslsniff)
		say "check sslsniff: 'Possibly lost' samples: $(lost_so_far sslsniff)"
		;;
	esac
	rm -f "$TMP/fifo"
}

if [ -z "${BENCH_NO_CHECK:-}" ]; then
	say "check tlstop-er = tlstop --json --probe-method=entry-return; check tlstop = tlstop --json"
	check_tracer tlstop-er || die "tlstop --probe-method=entry-return could not be checked"
	check_tracer tlstop || die "tlstop could not be checked"
	if [ "$HAVE_SSLSNIFF" = 1 ] && ! check_tracer sslsniff; then
		say "sslsniff: does not work here, skipped"
		HAVE_SSLSNIFF=0
	fi
fi
[ "$HAVE_SSLSNIFF" = 1 ] || CONFIGS="untraced floor tlstop-er tlstop"

# ---- measurements ----

# measure ROUND CONFIG MODE API SIZE: one run under CONFIG's tracer, which is
# running; appends to the results. Uses and updates the tracer's loss count
# so far, before.
measure() {
	_n=$(iterations_for "$5")
	_out=$(run_rt "$5" "$_n" "$3" "$4") || die "round $1: $2, $3/$4, size $5 failed"
	_ns=$(field ns_per_roundtrip "$_out")
	_calls=$(field ssl_calls_per_roundtrip "$_out")
	_sent=$(awk -v c="$_calls" -v n="$((_n + WARMUP))" 'BEGIN { printf "%.0f", c * n }')
	_lost=-
	case $2 in
	tlstop | tlstop-er | sslsniff)
		# tlstop reports losses once a second; sslsniff's reader may
		# lag: let both catch up before counting
		sleep 1.2
		_now=$(lost_so_far "$2")
		_lost=$((_now - before))
		before=$_now
		;;
	esac
	say "$1 $2 $3 $4 $5 $_ns $_calls $_lost $_sent" >> "$TMP/results"
	printf 'round %d/%d  %-9s  %-6s  %-5s  size %5d  %10.1f ns/round trip\n' \
		"$1" "$ROUNDS" "$2" "$3" "$4" "$5" "$_ns"
}

: > "$TMP/results"
r=1
while [ "$r" -le "$ROUNDS" ]; do
	for c in $CONFIGS; do
		start_tracer "$c" /dev/null || die "round $r: cannot start $c"
		before=0
		for m in $MODES; do
			for a in $APIS; do
				for s in $SIZES; do
					measure "$r" "$c" "$m" "$a" "$s"
				done
			done
		done
		stop_tracer "$c"
	done
	r=$((r + 1))
done

# ---- report ----

say ""
say "Definitions:"
say "  round trip   = client SSL_write(size B) + SSL_read of the echo; server SSL_read +"
say "                 SSL_write of it back, in one process (4 SSL calls, 'calls' column,"
say "                 measured); api ex: SSL_write_ex and SSL_read_ex instead"
say "  socket       = client and server threads over loopback TCP"
say "  mem          = client and server in one thread over a BIO pair: no system calls,"
say "                 so the same probe cost is a larger share of the round trip"
say "  ns/rt        = median over the $ROUNDS rounds of the wall time per round trip"
say "  spread       = lowest and highest of the rounds"
say "  added/rt     = ns/rt - ns/rt(untraced)"
say "  added/call   = added/rt / calls: extra time per SSL call on the round trip's path"
if [ "$CPU" = none ]; then
	say "                 (unpinned: probe work that overlaps the peer's wait is not counted)"
else
	say "                 (benchmark pinned to CPU $CPU: the round trip is serial, so all"
	say "                 probe work in the traced threads counts; a tracer's reader counts"
	say "                 only where it takes CPU $CPU)"
fi
say "  x floor      = added/rt / added/rt(floor); floor = empty uprobe + uretprobe"
say "                 programs on SSL_write, SSL_read, SSL_write_ex, SSL_read_ex"
say "  x untraced   = ns/rt / ns/rt(untraced)"
say "  tlstop e+r   = tlstop --json --probe-method=entry-return: an entry and a return"
say "                 probe per function"
say "  tlstop plan  = tlstop --json: the default method, planned probes"
say "  lost         = records the tracer reported lost (tlstop: ring buffer full;"
say "                 sslsniff: perf buffer 'Possibly lost'), as a share of the SSL calls"
say "                 made, warm-up included, over all rounds; a tracer that drops"
say "                 records does less work, so its ns/rt then understates full capture"
say ""

# ascending ns/rt, so each key's values arrive sorted for median and spread
sort -k6,6n "$TMP/results" | awk -v modes="$MODES" -v apis="$APIS" -v sizes="$SIZES" \
	-v configs="$CONFIGS" '
function median(a, n) {
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
# "  label: value" for each group, "-" where the value is unknown ("")
function per_group(val, fmt,    line, g) {
	line = ""
	for (g = 1; g <= ng; g++)
		line = line sprintf("  %s: %s", label[g], val[g] == "" ? "-" : sprintf(fmt, val[g]))
	return line
}
{
	k = $3 SUBSEP $4 SUBSEP $5 SUBSEP $2
	v[k, ++cnt[k]] = $6
	calls[k] = $7
	if ($8 != "-") {
		lost[k] += $8
		sent[k] += $9
	}
}
END {
	nm = split(modes, M, " ")
	na = split(apis, A, " ")
	ns = split(sizes, S, " ")
	nc = split(configs, C, " ")
	name["untraced"] = "untraced"
	name["floor"] = "empty probes"
	name["tlstop-er"] = "tlstop e+r"
	name["tlstop"] = "tlstop plan"
	name["sslsniff"] = "sslsniff-bpfcc"
	printf "%-14s %9s %19s %9s %10s %5s %7s %10s %7s\n", "config", "ns/rt", "spread",
		"added/rt", "added/call", "calls", "x floor", "x untraced", "lost"
	ng = 0
	for (im = 1; im <= nm; im++)
		for (ia = 1; ia <= na; ia++)
			for (is = 1; is <= ns; is++)
				G[++ng] = M[im] SUBSEP A[ia] SUBSEP S[is]
	for (gi = 1; gi <= ng; gi++) {
		g = G[gi]
		split(g, P, SUBSEP)
		label[gi] = sprintf("%s/%s %d B", P[1], P[2], P[3])
		printf "\n%s, api %s, size %d B:\n", P[1], P[2], P[3]
		for (j = 1; j <= nc; j++) {
			k = g SUBSEP C[j]
			n = cnt[k]
			for (m = 1; m <= n; m++)
				a[m] = v[k, m] + 0
			med[C[j]] = median(a, n)
			lo[C[j]] = a[1]
			hi[C[j]] = a[n]
		}
		base = med["untraced"]
		floor_added = med["floor"] - base
		for (j = 1; j <= nc; j++) {
			c = C[j]
			k = g SUBSEP c
			added[c] = med[c] - base
			xf = floor_added > 0 ? sprintf("%.2f", added[c] / floor_added) : "-"
			lp = k in sent && sent[k] > 0 ? sprintf("%.1f%%", 100 * lost[k] / sent[k]) : "-"
			printf "%-14s %9.0f %9.0f..%-8.0f %9.0f %10.0f %5.2f %7s %10.3f %7s\n",
				name[c], med[c], lo[c], hi[c], added[c], added[c] / calls[k],
				calls[k], c == "untraced" ? "-" : xf, med[c] / base, lp
		}
		per_call[gi] = added["tlstop"] / calls[g SUBSEP "tlstop"]
		if (per_call[gi] > 3000)
			missed = 1
		ratio_floor[gi] = floor_added > 0 ? added["tlstop"] / floor_added : ""
		if (ratio_floor[gi] == "")
			unknown = 1
		else if (ratio_floor[gi] > 1.3)
			floor_missed = 1
		ratio_er[gi] = added["tlstop-er"] > 0 ? added["tlstop"] / added["tlstop-er"] : ""
		ratio_sniff[gi] = ""
		if ("sslsniff" in med && added["sslsniff"] > 0)
			ratio_sniff[gi] = added["tlstop"] / added["sslsniff"]
		delete med
		delete added
	}
	print ""
	printf "tlstop planned: added ns per SSL call:%s (target <= 3000 ns) -> %s the target\n",
		per_group(per_call, "%.0f"), missed ? "MISSES" : "meets"
	printf "tlstop planned added cost / floor (empty probes):%s -> %s the target (<= 1.3x)\n",
		per_group(ratio_floor, "%.2fx"),
		floor_missed ? "MISSES" : unknown ? "cannot tell whether it meets" : "meets"
	printf "tlstop planned added cost / entry-return added cost:%s (below 1: planned is cheaper)\n",
		per_group(ratio_er, "%.2fx")
	if (configs ~ /sslsniff/)
		printf "tlstop planned added cost / sslsniff-bpfcc added cost:%s (below 1: tlstop is cheaper)\n",
			per_group(ratio_sniff, "%.2fx")
}'

say ""
say "raw results (round config mode api size ns/rt calls/rt lost calls-made):"
sed 's/^/  /' "$TMP/results"
