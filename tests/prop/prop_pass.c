/* prop_pass.c - the pass-through transport: every call reaches userspace
 * whole, as records of this process chunked like the kernel's. It feeds
 * the reference run, and run as the transport under test it checks the
 * harness itself (with --break, that the oracle can fail). */
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "prop.h"

bool prop_pass_break;

#define BREAK_MIN 1024 /* calls this long are mostly body bytes */

struct pass {
	uint32_t pid, tid;
	char comm[TLSTOP_COMM_LEN];
	uint64_t ts; /* one tick per call: each call's records share it */
	bool ruled; /* set_rules was called: the run under test */
	struct tlstop_data *rec;
	uint8_t *flipped; /* --break: a copy of the call */
};

int prop_feed_range(struct capture *cap, struct tlstop_data *rec, const uint8_t *data,
		    uint32_t off, uint32_t n, bool last)
{
	do {
		uint32_t k = data && n > TLSTOP_CHUNK_MAX ? TLSTOP_CHUNK_MAX : n;

		rec->offset = off;
		rec->chunk_len = k;
		rec->flags &= ~(TLSTOP_F_LAST | TLSTOP_F_SKIP);
		if (last && k == n)
			rec->flags |= TLSTOP_F_LAST;
		if (data)
			memcpy(rec->data, data + off, k);
		else
			rec->flags |= TLSTOP_F_SKIP;
		rec->hdr.size = sizeof(*rec) + (data ? k : 0);
		if (capture_feed(cap, rec, rec->hdr.size))
			return -1;
		off += k;
		n -= k;
	} while (n);
	return 0;
}

static void *pass_open(char **cause)
{
	struct pass *p = calloc(1, sizeof(*p));

	if (p)
		p->rec = malloc(sizeof(*p->rec) + TLSTOP_CHUNK_MAX);
	if (!p || !p->rec) {
		free(p);
		*cause = strdup("out of memory");
		return NULL;
	}
	p->pid = (uint32_t)getpid();
	p->tid = (uint32_t)gettid();
	prctl(PR_GET_NAME, p->comm);
	return p;
}

void prop_pass_identity(void *t, uint32_t pid, const char *comm)
{
	struct pass *p = t;

	p->pid = pid;
	strncpy(p->comm, comm, sizeof(p->comm) - 1);
}

static int pass_set_rules(void *t, const struct kf_rules *r, uint32_t gen)
{
	((struct pass *)t)->ruled = true;
	return 0;
}

/* --break: the middle byte of long calls flipped, in the run under test */
static const uint8_t *pass_break(struct pass *p, const struct prop_call *c)
{
	if (!prop_pass_break || !p->ruled || c->len < BREAK_MIN)
		return c->data;
	free(p->flipped);
	p->flipped = malloc(c->len);
	if (!p->flipped)
		return c->data;
	memcpy(p->flipped, c->data, c->len);
	p->flipped[c->len / 2] ^= 0x20;
	return p->flipped;
}

static int pass_call(void *t, const struct prop_call *c, struct capture *cap)
{
	struct pass *p = t;
	uint32_t captured = c->len < TLSTOP_SNAPLEN_DEFAULT ? c->len : TLSTOP_SNAPLEN_DEFAULT;

	p->ts++;
	*p->rec = (struct tlstop_data){
		.hdr.type = TLSTOP_EV_DATA, .ts_ns = p->ts, .start_ns = p->ts, .ssl = c->conn,
		.pid = p->pid, .tid = p->tid, .fd = -1, .len = c->len, .captured_len = captured,
		.flags = captured < c->len ? TLSTOP_F_TRUNCATED : 0,
		.func = c->dir == TLSTOP_DIR_OUT ? TLSTOP_FN_SSL_WRITE : TLSTOP_FN_SSL_READ,
		.dir = c->dir,
	};
	memcpy(p->rec->comm, p->comm, sizeof(p->comm));
	return prop_feed_range(cap, p->rec, pass_break(p, c), 0, captured, true);
}

static uint32_t pass_pid(void *t)
{
	return ((struct pass *)t)->pid;
}

static const char *pass_comm(void *t)
{
	return ((struct pass *)t)->comm;
}

static void pass_close(void *t)
{
	struct pass *p = t;

	free(p->flipped);
	free(p->rec);
	free(p);
}

const struct prop_transport prop_pass_transport = {
	.name = "pass",
	.open = pass_open,
	.set_rules = pass_set_rules,
	.call = pass_call,
	.pid = pass_pid,
	.comm = pass_comm,
	.close = pass_close,
};
