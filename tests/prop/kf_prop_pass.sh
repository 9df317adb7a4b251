#!/bin/sh
# The property test's harness on itself: through the pass-through transport
# the property holds, and with --break (bytes flipped once rules are given)
# the oracle must notice. KF_PROP_SEED and KF_PROP_TRIALS override the run.
kf_prop="${TESTS_BUILDDIR:?}/tests/prop/kf_prop"
seed=${KF_PROP_SEED:-1}

"$kf_prop" --transport pass --seed "$seed" --trials "${KF_PROP_TRIALS:-2000}" || exit 1
if "$kf_prop" --transport pass --break --seed "$seed" --trials 200 >/dev/null 2>&1; then
	echo "kf_prop_pass: --break went unnoticed: the oracle cannot fail" >&2
	exit 1
fi
echo "kf_prop_pass: --break noticed"
