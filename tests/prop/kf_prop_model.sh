#!/bin/sh
# The prefilter's logic in userspace (tests/prop/kf_model.c) against the
# property. KF_PROP_SEED and KF_PROP_TRIALS override the run.
exec "${TESTS_BUILDDIR:?}/tests/prop/kf_prop" --transport model --seed "${KF_PROP_SEED:-1}" \
	--trials "${KF_PROP_TRIALS:-2000}"
