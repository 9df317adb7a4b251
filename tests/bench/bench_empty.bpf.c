// SPDX-License-Identifier: GPL-2.0
/* bench_empty.bpf.c - empty uprobe and uretprobe programs: the cost of the
 * probe points alone, the floor of any uprobe tracer (tests/bench/run.sh). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("uprobe")
int empty_enter(void *ctx)
{
	return 0;
}

SEC("uretprobe")
int empty_leave(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
