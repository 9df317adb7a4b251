/* empty_probes.c - attach empty BPF programs at entry and return of OpenSSL's
 * read/write functions: the probe-point floor of tlstop's overhead benchmark.
 *
 *   empty_probes LIBPATH
 *
 * Attaches bench_empty.bpf.c's programs as uprobe + uretprobe at SSL_write,
 * SSL_read, SSL_write_ex and SSL_read_ex of LIBPATH for every process, the
 * points tlstop probes, prints "attached N" (N probes) once they are live,
 * then waits for SIGINT or SIGTERM and detaches. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "bench_empty.skel.h"
#include "elf_syms.h"

#define NFUNCS 4

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* Block SIGINT/SIGTERM now so that one arriving before the wait is not lost
 * between the check of stop and the sleep: sigsuspend unblocks them. */
static int install_signals(sigset_t *wait_mask)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &block, wait_mask))
		return -1;
	sigdelset(wait_mask, SIGINT);
	sigdelset(wait_mask, SIGTERM);
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL))
		return -1;
	return 0;
}

static int lookup(const char *path, struct elf_sym *syms)
{
	struct elf_file_info info;
	char *cause = NULL;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "empty_probes: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	err = elf_syms_lookup(fd, syms, NFUNCS, &info, &cause);
	close(fd);
	if (err) {
		fprintf(stderr, "empty_probes: %s: %s\n", path, cause ? cause : "not an ELF file");
		free(cause);
		return -1;
	}
	return 0;
}

static struct bpf_link *attach(struct bpf_program *prog, const char *path,
			       const struct elf_sym *sym, bool retprobe)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = retprobe);
	struct bpf_link *link;

	/* pid -1: every process mapping the file, as tlstop attaches */
	link = bpf_program__attach_uprobe_opts(prog, -1, path, sym->offset, &opts);
	if (!link)
		fprintf(stderr, "empty_probes: cannot attach a %s to %s in %s: %s\n",
			retprobe ? "uretprobe" : "uprobe", sym->name, path, strerror(errno));
	return link;
}

int main(int argc, char **argv)
{
	struct elf_sym syms[NFUNCS] = {
		{ .name = "SSL_write" },
		{ .name = "SSL_read" },
		{ .name = "SSL_write_ex" },
		{ .name = "SSL_read_ex" },
	};
	struct bpf_link *links[2 * NFUNCS] = { NULL };
	struct bench_empty_bpf *skel = NULL;
	const char *path;
	sigset_t wait_mask;
	int nlinks = 0, status = 1;

	if (argc != 2 || argv[1][0] == '-') {
		fputs("usage: empty_probes LIBPATH\n", stderr);
		return 2;
	}
	path = argv[1];
	libbpf_set_print(libbpf_print);
	if (install_signals(&wait_mask)) {
		perror("empty_probes: cannot install the signal handlers");
		return 1;
	}
	if (lookup(path, syms))
		return 1;

	/* no setrlimit(RLIMIT_MEMLOCK): libbpf 1.x relies on memcg accounting
	 * (kernel 5.11+), and the call fails in some containers */
	skel = bench_empty_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "empty_probes: cannot load the BPF programs: %s (run as root on "
				"a kernel with BTF)\n",
			strerror(errno));
		goto cleanup;
	}
	for (int i = 0; i < NFUNCS; i++) {
		if (!syms[i].found) {
			fprintf(stderr, "empty_probes: warning: %s has no function %s\n", path,
				syms[i].name);
			continue;
		}
		links[nlinks] = attach(skel->progs.empty_enter, path, &syms[i], false);
		if (!links[nlinks++])
			goto cleanup;
		links[nlinks] = attach(skel->progs.empty_leave, path, &syms[i], true);
		if (!links[nlinks++])
			goto cleanup;
	}
	if (!nlinks) {
		fprintf(stderr, "empty_probes: %s has none of SSL_write, SSL_read, SSL_write_ex, "
				"SSL_read_ex: not OpenSSL's libssl\n",
			path);
		goto cleanup;
	}
	printf("attached %d\n", nlinks);
	fflush(stdout);

	while (!stop)
		sigsuspend(&wait_mask);
	status = 0;
cleanup:
	for (int i = 0; i < nlinks; i++)
		bpf_link__destroy(links[i]);
	bench_empty_bpf__destroy(skel);
	return status;
}
