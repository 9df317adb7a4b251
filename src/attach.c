/* attach.c - skeleton lifecycle and uprobe attachment by file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "tlstop.skel.h"

#define TRACEFS "/sys/kernel/tracing"

struct tracer {
	struct tlstop_bpf *skel;
	struct bpf_link **links;
	size_t nlinks;
	bool mounted_tracefs;
	int ncpus;
};

/* Syscall tracepoints are attached through tracefs, which is often not
 * mounted on minimal hosts; uprobes and tp_btf do not need it. */
static int ensure_tracefs(struct tracer *tr, char **cause)
{
	if (access(TRACEFS "/events/syscalls", F_OK) == 0 ||
	    access("/sys/kernel/debug/tracing/events/syscalls", F_OK) == 0)
		return 0;
	if (mount("nodev", TRACEFS, "tracefs", 0, NULL) == 0) {
		tr->mounted_tracefs = true;
		return 0;
	}
	if (asprintf(cause,
		     "tracefs is not mounted and mounting it at %s failed (%s): mount it with 'mount -t tracefs nodev %s'; the syscall tracepoints that attribute TLS calls to connections need it",
		     TRACEFS, strerror(errno), TRACEFS) < 0)
		*cause = NULL;
	return -1;
}

static int keep_link(struct tracer *tr, struct bpf_link *link)
{
	struct bpf_link **grown = realloc(tr->links, (tr->nlinks + 1) * sizeof(*grown));

	if (!grown) {
		bpf_link__destroy(link);
		return -ENOMEM;
	}
	tr->links = grown;
	tr->links[tr->nlinks++] = link;
	return 0;
}

static struct tlstop_bpf *open_skel(const struct tracer_config *cfg, char **cause)
{
	struct tlstop_bpf *skel = tlstop_bpf__open();
	int err;

	if (!skel) {
		if (asprintf(cause, "cannot open the BPF object: %s", strerror(errno)) < 0)
			*cause = NULL;
		return NULL;
	}
	skel->rodata->targ_self_pid = cfg->self;
	skel->rodata->targ_snaplen = cfg->snaplen;
	skel->rodata->targ_filter_pids = cfg->npids > 0;
	skel->rodata->targ_wakeup_bytes = cfg->ringbuf_bytes / 16;
	bpf_map__set_max_entries(skel->maps.events, cfg->ringbuf_bytes);
	err = tlstop_bpf__load(skel);
	if (err) {
		if (asprintf(cause,
			     "the kernel refused tlstop's BPF programs (%s); run with -v to see the verifier log",
			     strerror(-err)) < 0)
			*cause = NULL;
		tlstop_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

int tracer_open(struct tracer **trp, const struct tracer_config *cfg, char **cause)
{
	struct tracer *tr = calloc(1, sizeof(*tr));
	__u8 one = 1;
	int err;

	if (!tr)
		return -1;
	tr->ncpus = libbpf_num_possible_cpus();
	tr->skel = open_skel(cfg, cause);
	if (!tr->skel)
		goto fail;
	for (int i = 0; i < cfg->npids; i++) {
		__u32 pid = cfg->pids[i];

		if (bpf_map__update_elem(tr->skel->maps.targ_pids, &pid, sizeof(pid), &one,
					 sizeof(one), BPF_ANY)) {
			if (asprintf(cause, "cannot add pid %u to the pid filter: %s", pid,
				     strerror(errno)) < 0)
				*cause = NULL;
			goto fail;
		}
	}
	if (ensure_tracefs(tr, cause))
		goto fail;
	err = tlstop_bpf__attach(tr->skel);
	if (err) {
		if (asprintf(cause, "cannot attach tlstop's tracepoints: %s", strerror(-err)) < 0)
			*cause = NULL;
		goto fail;
	}
	*trp = tr;
	return 0;
fail:
	tracer_close(tr);
	return -1;
}

static int attach_probe(struct tracer *tr, const char *path, const struct target_file *f,
			int fn, bool leave, char **cause)
{
	const struct probe_plan *plan = &f->plan[fn];
	bool planned = plan->method == PROBE_PLANNED;
	/* the worker call's out-parameter is the 4th argument for every
	 * planned probe; for entry probes, only the _ex calls have one */
	bool out_param = planned || fn == TLSTOP_FN_SSL_WRITE_EX || fn == TLSTOP_FN_SSL_READ_EX;
	uint64_t vaddr = leave ? plan->result.vaddr : plan->enter.vaddr;
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = leave && !planned,
		    .bpf_cookie = leave ? f->lib->id :
					  TLSTOP_COOKIE(f->lib->id, fn, out_param));
	struct bpf_program *prog = leave ? tr->skel->progs.ssl_leave : tr->skel->progs.ssl_enter;
	struct bpf_link *link;

	link = bpf_program__attach_uprobe_opts(prog, -1, path,
					       target_probe_offset(f, fn, vaddr), &opts);
	if (!link) {
		int err = errno;

		if (asprintf(cause, "cannot attach a %s to %s+0x%llx in %s: %s",
			     opts.retprobe ? "uretprobe" : "uprobe", target_func_names[fn],
			     (unsigned long long)(vaddr - f->vaddr[fn]), f->path, strerror(err)) < 0)
			*cause = NULL;
		return -1;
	}
	if (keep_link(tr, link)) {
		*cause = strdup("out of memory");
		return -1;
	}
	return 0;
}

int tracer_attach_file(void *arg, struct target_file *f, int fd, char **cause)
{
	struct tracer *tr = arg;
	size_t first = tr->nlinks;
	char path[64];
	int n = 0;

	/* The kernel resolves the path to the inode at attach time; our own
	 * open fd names exactly the file that was analysed. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	/* Return and result probes first: a call whose entry probe fires then
	 * always has its end probe too. */
	for (int leave = 1; leave >= 0; leave--) {
		for (int i = 0; i < TLSTOP_FN_COUNT; i++) {
			if (!f->has[i])
				continue;
			if (attach_probe(tr, path, f, i, leave, cause))
				goto fail;
			n++;
		}
	}
	return n;
fail:
	while (tr->nlinks > first)
		bpf_link__destroy(tr->links[--tr->nlinks]);
	return -1;
}

int tracer_ringbuf_map_fd(const struct tracer *tr)
{
	return bpf_map__fd(tr->skel->maps.events);
}

void tracer_kf_maps(const struct tracer *tr, struct kfilter_maps *m)
{
	m->config = bpf_map__fd(tr->skel->maps.kf_config);
	m->pids = bpf_map__fd(tr->skel->maps.kf_pids);
	m->comms = bpf_map__fd(tr->skel->maps.kf_comms);
	m->paths = bpf_map__fd(tr->skel->maps.kf_paths);
}

static void read_kf_counters(const struct tracer *tr, struct tlstop_kf_counters *sum)
{
	struct tlstop_kf_counters pc[tr->ncpus];
	__u32 key = 0;

	memset(sum, 0, sizeof(*sum));
	if (bpf_map__lookup_elem(tr->skel->maps.kf_counters, &key, sizeof(key), pc, sizeof(pc), 0))
		return;
	for (int c = 0; c < tr->ncpus; c++) {
		sum->calls += pc[c].calls;
		sum->bytes += pc[c].bytes;
		sum->streams += pc[c].streams;
		sum->conns_sampled_out += pc[c].conns_sampled_out;
		sum->path_unknown += pc[c].path_unknown;
	}
}

void tracer_read_counters(const struct tracer *tr, struct stats *s, uint32_t nlibs)
{
	struct tlstop_counters pc[tr->ncpus];
	struct tlstop_lib_counters lc[tr->ncpus];
	__u32 key = 0;

	memset(&s->kernel, 0, sizeof(s->kernel));
	if (bpf_map__lookup_elem(tr->skel->maps.counters, &key, sizeof(key), pc,
				 sizeof(pc), 0) == 0) {
		for (int c = 0; c < tr->ncpus; c++) {
			s->kernel.ringbuf_fail += pc[c].ringbuf_fail;
			s->kernel.ringbuf_fail_bytes += pc[c].ringbuf_fail_bytes;
			s->kernel.map_fail += pc[c].map_fail;
			s->kernel.read_fail += pc[c].read_fail;
			s->kernel.truncated += pc[c].truncated;
			s->kernel.proc_lost += pc[c].proc_lost;
		}
	}
	read_kf_counters(tr, &s->kfilter);
	s->nlibs = nlibs;
	for (key = 0; key < nlibs; key++) {
		struct tlstop_lib_counters *sum = &s->lib[key];

		memset(sum, 0, sizeof(*sum));
		if (bpf_map__lookup_elem(tr->skel->maps.lib_counters, &key, sizeof(key), lc,
					 sizeof(lc), 0))
			continue;
		for (int c = 0; c < tr->ncpus; c++) {
			sum->calls += lc[c].calls;
			sum->bytes += lc[c].bytes;
			sum->fd_seen += lc[c].fd_seen;
			sum->fd_cached += lc[c].fd_cached;
			sum->no_fd += lc[c].no_fd;
			sum->fd_conflict += lc[c].fd_conflict;
		}
	}
}

void tracer_close(struct tracer *tr)
{
	if (!tr)
		return;
	while (tr->nlinks)
		bpf_link__destroy(tr->links[--tr->nlinks]);
	free(tr->links);
	tlstop_bpf__destroy(tr->skel);
	if (tr->mounted_tracefs)
		umount2(TRACEFS, MNT_DETACH);
	free(tr);
}
