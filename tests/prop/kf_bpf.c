/* kf_bpf.c - the property test's transport through the real thing: tlstop's
 * BPF programs loaded as tlstop loads them, their uprobes attached to two
 * functions of this binary that stand for SSL_write and SSL_read, the rules
 * written by kfilter_set(), and the ring buffer read back after each call.
 * Uprobe programs cannot run under BPF_PROG_TEST_RUN; this is the way. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "kfilter.h"
#include "prop.h"
#include "tlstop.skel.h"

/* The traced calls: what the probes see of them is the SSL_write and
 * SSL_read signature, (SSL *, buf, num) -> bytes processed. */
__attribute__((noinline, used)) int prop_ssl_write(void *ssl, const void *buf, int num);
__attribute__((noinline, used)) int prop_ssl_read(void *ssl, void *buf, int num);

int prop_ssl_write(void *ssl, const void *buf, int num)
{
	__asm__ volatile("" : : "r"(ssl), "r"(buf) : "memory");
	return num;
}

int prop_ssl_read(void *ssl, void *buf, int num)
{
	__asm__ volatile("" : : "r"(ssl), "r"(buf) : "memory");
	return num;
}

struct bpfx {
	struct tlstop_bpf *skel;
	struct bpf_link *links[4];
	struct ring_buffer *rb;
	struct capture *cap; /* where the records of the current call go */
	int feed_err;
	char comm[TLSTOP_COMM_LEN];
};

static int on_record(void *ctx, void *data, size_t size)
{
	struct bpfx *b = ctx;

	if (b->cap && capture_feed(b->cap, data, size))
		b->feed_err = -1;
	return 0;
}

static int attach(struct bpfx *b, int i, const char *func, int fn, bool ret)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = func, .retprobe = ret,
		    .bpf_cookie = ret ? 0 : TLSTOP_COOKIE(0, fn, false));

	b->links[i] = bpf_program__attach_uprobe_opts(ret ? b->skel->progs.ssl_leave :
							    b->skel->progs.ssl_enter,
						      getpid(), "/proc/self/exe", 0, &opts);
	return b->links[i] ? 0 : -1;
}

static void bpf_close(void *t)
{
	struct bpfx *b = t;

	for (int i = 0; i < 4; i++)
		bpf_link__destroy(b->links[i]);
	ring_buffer__free(b->rb);
	tlstop_bpf__destroy(b->skel);
	free(b);
}

static void *bpf_open(char **cause)
{
	struct bpfx *b = calloc(1, sizeof(*b));
	const char *what = "out of memory";

	if (!b)
		goto fail;
	prctl(PR_GET_NAME, b->comm);
	libbpf_set_print(NULL);
	what = "cannot open or load tlstop's BPF programs (needs root and BTF)";
	b->skel = tlstop_bpf__open();
	if (!b->skel)
		goto fail;
	b->skel->rodata->targ_self_pid = 0xffffffffu; /* this process is the traced one */
	if (tlstop_bpf__load(b->skel))
		goto fail;
	what = "cannot attach uprobes to this binary";
	if (attach(b, 0, "prop_ssl_write", TLSTOP_FN_SSL_WRITE, false) ||
	    attach(b, 1, "prop_ssl_write", 0, true) ||
	    attach(b, 2, "prop_ssl_read", TLSTOP_FN_SSL_READ, false) ||
	    attach(b, 3, "prop_ssl_read", 0, true))
		goto fail;
	what = "cannot open the ring buffer";
	b->rb = ring_buffer__new(bpf_map__fd(b->skel->maps.events), on_record, b, NULL);
	if (!b->rb)
		goto fail;
	return b;
fail:
	if (asprintf(cause, "%s (%s)", what, strerror(errno)) < 0)
		*cause = NULL;
	if (b)
		bpf_close(b);
	return NULL;
}

static int bpf_set_rules(void *t, const struct kf_rules *r, uint32_t gen)
{
	struct bpfx *b = t;
	struct kfilter_maps m = {
		.config = bpf_map__fd(b->skel->maps.kf_config),
		.pids = bpf_map__fd(b->skel->maps.kf_pids),
		.comms = bpf_map__fd(b->skel->maps.kf_comms),
		.paths = bpf_map__fd(b->skel->maps.kf_paths),
	};
	char *cause = NULL;
	int rc = kfilter_set(&m, r, 0, gen, &cause);

	if (rc)
		fprintf(stderr, "kf_prop: %s\n", cause ? cause : "cannot set the rules");
	free(cause);
	return rc;
}

static int bpf_call(void *t, const struct prop_call *c, struct capture *cap)
{
	struct bpfx *b = t;
	void *ssl = (void *)(uintptr_t)c->conn;

	if (c->dir == TLSTOP_DIR_OUT)
		prop_ssl_write(ssl, c->data, (int)c->len);
	else
		prop_ssl_read(ssl, (void *)c->data, (int)c->len);
	b->cap = cap;
	b->feed_err = 0;
	/* the records of the call were submitted before the return probe ended */
	if (ring_buffer__consume(b->rb) < 0)
		b->feed_err = -1;
	b->cap = NULL;
	return b->feed_err;
}

static uint32_t bpf_pid(void *t)
{
	return (uint32_t)getpid();
}

static const char *bpf_comm(void *t)
{
	return ((struct bpfx *)t)->comm;
}

const struct prop_transport prop_bpf_transport = {
	.name = "bpf",
	.open = bpf_open,
	.set_rules = bpf_set_rules,
	.call = bpf_call,
	.pid = bpf_pid,
	.comm = bpf_comm,
	.close = bpf_close,
};
