#!/bin/sh
# Runs every decoder fuzz target for FUZZ_SECONDS (default 30) each, from
# its seed corpus in tests/fuzz/corpus/NAME (copied, so runs do not grow
# the repository's seeds). Any crash, leak or timeout fails the run and
# leaves the reproducer in FUZZ_WORKDIR.
set -eu
: "${FUZZ_BUILDDIR:?}" "${FUZZ_SRCDIR:?}"
secs=${FUZZ_SECONDS:-30}
work=${FUZZ_WORKDIR:-$FUZZ_BUILDDIR/tests/fuzz/work}
rc=0
for bin in "$FUZZ_BUILDDIR"/tests/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=${bin##*/fuzz_}
	mkdir -p "$work/$name/corpus" "$work/$name/artifacts"
	cp "$FUZZ_SRCDIR/tests/fuzz/corpus/$name/"* "$work/$name/corpus/" 2>/dev/null || true
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$work/$name/artifacts/" "$work/$name/corpus" \
		>"$work/$name/log" 2>&1; then
		echo "PASS: fuzz_$name $(grep -m1 stat::number_of_executed_units "$work/$name/log" |
			awk '{print $2}') runs in ${secs}s"
	else
		echo "FAIL: fuzz_$name (log and reproducer in $work/$name)"
		tail -40 "$work/$name/log"
		rc=1
	fi
done
exit $rc
