#!/bin/sh
# The BPF programs themselves, on uprobes of kf_prop, against the property;
# skips (77) without root or BPF, fails instead under CI=true.
# KF_PROP_SEED and KF_PROP_TRIALS override the run.
exec "${TESTS_BUILDDIR:?}/tests/prop/kf_prop" --transport bpf --seed "${KF_PROP_SEED:-1}" \
	--trials "${KF_PROP_TRIALS:-300}"
