/* privs.c - capability and BTF checks done before touching BPF, so the user
 * gets one clear sentence instead of a libbpf error. */
#include <errno.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "privs.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"

static bool has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

int privs_check(char **cause)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { 0 };
	char missing[128] = "";

	if (syscall(SYS_capget, &hdr, data)) {
		if (asprintf(cause, "cannot read this process's capabilities: %s",
			     strerror(errno)) < 0)
			*cause = NULL;
		return -1;
	}
	/* CAP_SYS_ADMIN covers both on kernels older than 5.8 and newer ones */
	if (!has_cap(data, CAP_SYS_ADMIN)) {
		if (!has_cap(data, CAP_BPF))
			strcat(missing, "CAP_BPF");
		if (!has_cap(data, CAP_PERFMON))
			strcat(missing, missing[0] ? " and CAP_PERFMON" : "CAP_PERFMON");
	}
	if (missing[0]) {
		if (asprintf(cause,
			     "cannot trace: missing %s (or CAP_SYS_ADMIN); run tlstop as root, e.g. sudo tlstop, or replay a recording with -r",
			     missing) < 0)
			*cause = NULL;
		return -1;
	}
	if (access(VMLINUX_BTF, R_OK)) {
		if (asprintf(cause,
			     "cannot trace: this kernel has no BTF (%s: %s); tlstop needs a kernel built with CONFIG_DEBUG_INFO_BTF=y (Debian 11+, Ubuntu 20.10+, RHEL 8.2+ kernels have it)",
			     VMLINUX_BTF, strerror(errno)) < 0)
			*cause = NULL;
		return -1;
	}
	return 0;
}
