// SPDX-License-Identifier: GPL-2.0
/* tlstop.bpf.c - uprobes on OpenSSL/BoringSSL, fd capture from syscall
 * tracepoints, and the process lifecycle hooks that keep the maps bounded. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "tlstop.h"

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define PROT_EXEC 0x4
#define IPPROTO_TCP 6

const volatile __u32 targ_self_pid = 0; /* tlstop never traces itself */
const volatile __u32 targ_snaplen = TLSTOP_SNAPLEN_DEFAULT;
const volatile bool targ_filter_pids = false;
/* Wake the reader only when this much is waiting; it also drains the ring
 * on a short timer. A wake-up per record doubled the cost of a traced call. */
const volatile __u32 targ_wakeup_bytes = 1024 * 1024;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024 * 1024); /* resized by userspace */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tlstop_counters);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TLSTOP_MAX_LIBS);
	__type(key, __u32);
	__type(value, struct tlstop_lib_counters);
} lib_counters SEC(".maps");

/* -p PID: the only processes traced when targ_filter_pids is set */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TLSTOP_MAX_PIDS);
	__type(key, __u32);
	__type(value, __u8);
} targ_pids SEC(".maps");

/* A TLS call on a thread's stack, from entry to return. */
struct call {
	__u64 ssl;
	__u64 buf;
	__u64 outlen; /* size_t * of the _ex calls, 0 otherwise */
	__u64 start_ns;
	__u64 sp; /* stack pointer at entry: tells nesting from a stale entry */
	__s32 fd; /* first socket fd the call did I/O on, -1 before */
	__u32 lib_id;
	__u8 func;
	__u8 depth; /* nested SSL_* calls on this thread (BoringSSL's _ex wrap the plain ones) */
	__u8 conflict;
	__u8 pad[5];
	struct tlstop_addr addr;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct call);
} calls SEC(".maps");

struct ssl_key {
	__u32 pid;
	__u32 pad;
	__u64 ssl;
};

struct ssl_conn {
	__s32 fd;
	__u32 pad;
	struct tlstop_addr addr;
};

/* (pid, SSL*) -> socket, for calls served from TLS buffers without I/O.
 * LRU so that state missed by close/exit cleanup ages out instead of
 * filling the map. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ssl_key);
	__type(value, struct ssl_conn);
} ssl_conns SEC(".maps");

struct fd_key {
	__u32 pid;
	__s32 fd;
};

/* reverse index, so close(fd) can forget the SSL* it served */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct fd_key);
	__type(value, __u64);
} fd_ssl SEC(".maps");

/* processes that left state in ssl_conns/fd_ssl, so exit cleanup walks those
 * maps only for them */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u8);
} pid_state SEC(".maps");

struct file_key {
	__u64 dev;
	__u64 ino;
};

/* executable files already announced to userspace */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct file_key);
	__type(value, __u8);
} seen_files SEC(".maps");

/* ---- the prefilter's rules (written by src/kfilter.c) and state ---- */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tlstop_kf_config);
} kf_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TLSTOP_KF_MAX_PIDS);
	__type(key, __u32);
	__type(value, __u8);
} kf_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TLSTOP_KF_MAX_COMMS);
	__type(key, char[TLSTOP_COMM_LEN]);
	__type(value, __u8);
} kf_comms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 2 * TLSTOP_KF_MAX_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct tlstop_kf_path_key);
	__type(value, __u8);
} kf_paths SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tlstop_kf_counters);
} kf_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ssl_key);
	__type(value, struct kf_conn);
} kf_conns SEC(".maps");

/* LRU: a rejection or table entry that ages out only makes the filter let
 * more through */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct kf_stream_key);
	__type(value, struct kf_stream);
} kf_streams SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct kf_ins_key);
	__type(value, struct tlstop_kf_path_key);
} kf_ins SEC(".maps");

/* one per connection direction in the middle of a cut header block */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct kf_carry_key);
	__type(value, struct kf_carry);
} kf_carries SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kf_scratch);
} kf_scratch SEC(".maps");

#define KF_READ(dst, n, base, off) bpf_probe_read_user(dst, n, (void *)((base) + (off)))
#define KF_LOOP(n, cb, ctx) bpf_loop(n, cb, ctx, 0)
#define KF_COPY(dst, src, n) bpf_probe_read_kernel(dst, n, src)

static __always_inline struct kf_stream *kf_stream_get(struct kf_stream_key *k)
{
	return bpf_map_lookup_elem(&kf_streams, k);
}

static __always_inline void kf_stream_put(struct kf_stream_key *k, struct kf_stream *v)
{
	bpf_map_update_elem(&kf_streams, k, v, BPF_ANY);
}

static __always_inline void kf_stream_del(struct kf_stream_key *k)
{
	bpf_map_delete_elem(&kf_streams, k);
}

static __always_inline struct tlstop_kf_path_key *kf_ins_get(struct kf_ins_key *k)
{
	return bpf_map_lookup_elem(&kf_ins, k);
}

static __always_inline void kf_ins_put(struct kf_ins_key *k, struct tlstop_kf_path_key *v)
{
	bpf_map_update_elem(&kf_ins, k, v, BPF_ANY);
}

static __always_inline struct kf_carry *kf_carry_get(struct kf_carry_key *k)
{
	return bpf_map_lookup_elem(&kf_carries, k);
}

static __always_inline void kf_carry_put(struct kf_carry_key *k, struct kf_carry *v)
{
	bpf_map_update_elem(&kf_carries, k, v, BPF_ANY);
}

static __always_inline void kf_carry_del(struct kf_carry_key *k)
{
	bpf_map_delete_elem(&kf_carries, k);
}

static __always_inline bool kf_path_match(struct tlstop_kf_path_key *k)
{
	return bpf_map_lookup_elem(&kf_paths, k) != NULL;
}

static __always_inline __u64 kf_new_id(void)
{
	return (__u64)bpf_get_prandom_u32() << 32 | bpf_get_prandom_u32();
}

#include "kf_logic.h"

static __always_inline struct tlstop_counters *get_counters(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&counters, &zero);
}

static __always_inline __u64 wakeup_flag(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= targ_wakeup_bytes ?
		       BPF_RB_FORCE_WAKEUP :
		       BPF_RB_NO_WAKEUP;
}

static __always_inline bool traced_pid(__u32 pid)
{
	if (pid == targ_self_pid)
		return false;
	return !targ_filter_pids || bpf_map_lookup_elem(&targ_pids, &pid);
}

/* Entry of a TLS call: at the function's first instruction (entry-return
 * method) or at its call to the internal worker (planned method); in both
 * the SSL*, buffer and out-parameter are in the argument registers. */
SEC("uprobe")
int BPF_KPROBE(ssl_enter)
{
	__u64 id = bpf_get_current_pid_tgid(), cookie = bpf_get_attach_cookie(ctx);
	struct tlstop_counters *cnt;
	struct call *c, n = {};

	if (!traced_pid(id >> 32))
		return 0;
	/* An entry whose return was never seen (the process longjmp()ed out,
	 * or the call began before its return probe was attached) would make
	 * every later call look nested; only a call deeper on the stack is. */
	c = bpf_map_lookup_elem(&calls, &id);
	if (c && c->sp > PT_REGS_SP(ctx)) {
		if (c->depth < 255)
			c->depth++;
		return 0;
	}
	n.ssl = PT_REGS_PARM1(ctx);
	n.buf = PT_REGS_PARM2(ctx);
	n.outlen = cookie & TLSTOP_COOKIE_OUT_PARAM ? PT_REGS_PARM4(ctx) : 0;
	n.start_ns = bpf_ktime_get_ns();
	n.sp = PT_REGS_SP(ctx);
	n.fd = -1;
	n.lib_id = cookie & TLSTOP_COOKIE_LIB_MASK;
	n.func = (__u8)(cookie >> TLSTOP_COOKIE_FN_SHIFT);
	n.depth = 1;
	if (bpf_map_update_elem(&calls, &id, &n, BPF_ANY)) {
		cnt = get_counters();
		if (cnt)
			cnt->map_fail++;
	}
	return 0;
}

/* a packed record's body: KF_MAX_SEGS skips, then TLSTOP_PACK_MAX bytes */
#define PACK_MASK 2047
_Static_assert(KF_MAX_SEGS * sizeof(struct tlstop_skip) + TLSTOP_PACK_MAX <= PACK_MASK + 1,
	       "a packed record's offsets fit PACK_MASK");
_Static_assert(KF_MAX_SEGS <= TLSTOP_SKIPS_MAX, "userspace takes every skip of a call");

/* What every record of one call shares; the bpf_loop callbacks read it. */
struct emit_ctx {
	__u64 buf;
	__u32 captured;
	__u32 lost;
	__u32 pos; /* next byte of the call to emit */
	__u32 seg; /* next range of kf_scratch.segs */
	__u32 nsegs; /* ranges the prefilter dropped */
	__u32 packed; /* bytes of body[] filled by pack_piece() */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wgnu-variable-sized-type-not-at-end"
	struct tlstop_data hdr;
#pragma clang diagnostic pop
	/* hdr's data[] of a packed record (skip table, then kept bytes), so
	 * hdr and body go up as one record; offsets into it are masked to
	 * PACK_MASK, and room past that takes a whole piece */
	__u8 body[PACK_MASK + 1 + TLSTOP_PACK_MAX];
};

/* Scratch for the return probe: struct emit_ctx is too big for the stack,
 * and bpf_loop() callbacks reach it through the map since their context
 * must be on the stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct emit_ctx);
} emit_scratch SEC(".maps");

/* Ring-buffer records come in a few constant sizes (the verifier wants a
 * constant reservation) so a 100-byte write does not take 16 KiB. */
#define EMIT_CLASS(e, ectx, off, n, cap)                                        \
	do {                                                                    \
		if ((n) <= (cap)) {                                             \
			e = bpf_ringbuf_reserve(&events,                        \
						sizeof(struct tlstop_data) + (cap), 0); \
			if (e) {                                                \
				/* n is in [1, cap]; the mask shows it */     \
				__u32 m = (((n) - 1) & ((cap) - 1)) + 1;        \
				if (bpf_probe_read_user(e->data, m,             \
							(void *)((ectx)->buf + (off)))) \
					goto read_failed;                       \
			}                                                       \
			goto reserved;                                          \
		}                                                               \
	} while (0)

/* A range the prefilter dropped: the record says where and how long, so
 * the decoders skip exactly that much. */
static __always_inline void emit_skip(struct emit_ctx *ectx, __u32 off, __u32 n)
{
	struct tlstop_data *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	struct tlstop_counters *cnt;

	if (!e) {
		cnt = get_counters();
		if (cnt)
			cnt->ringbuf_fail++;
		ectx->lost = 1;
		return;
	}
	__builtin_memcpy(e, &ectx->hdr, sizeof(ectx->hdr));
	e->hdr.size = sizeof(*e);
	e->offset = off;
	e->chunk_len = n;
	e->flags |= TLSTOP_F_SKIP;
	if (off + n >= ectx->captured)
		e->flags |= TLSTOP_F_LAST;
	bpf_ringbuf_submit(e, wakeup_flag());
}

/* One record: the dropped range starting at ectx->pos, or up to
 * TLSTOP_CHUNK_MAX bytes before the next one. */
static long emit_chunk(__u32 i, void *unused)
{
	struct tlstop_counters *cnt;
	struct tlstop_data *e = NULL;
	__u32 off, end, n, zero = 0;
	struct emit_ctx *ectx = bpf_map_lookup_elem(&emit_scratch, &zero);
	struct kf_scratch *s = bpf_map_lookup_elem(&kf_scratch, &zero);

	if (!ectx || !s || ectx->pos >= ectx->captured)
		return 1;
	off = ectx->pos;
	end = ectx->captured;
	if (ectx->seg < ectx->nsegs) {
		struct kf_seg *g = &s->segs[ectx->seg & (KF_MAX_SEGS - 1)];

		if (g->off <= off) {
			n = g->off + g->len - off;
			if (n > end - off)
				n = end - off;
			ectx->seg++;
			ectx->pos += n;
			emit_skip(ectx, off, n);
			return 0;
		}
		if (g->off < end)
			end = g->off;
	}
	n = end - off;
	if (n > TLSTOP_CHUNK_MAX)
		n = TLSTOP_CHUNK_MAX;
	ectx->pos += n;
	EMIT_CLASS(e, ectx, off, n, 256);
	EMIT_CLASS(e, ectx, off, n, 2048);
	EMIT_CLASS(e, ectx, off, n, TLSTOP_CHUNK_MAX);
	return 1;
reserved:
	if (!e) {
		cnt = get_counters();
		if (cnt) {
			cnt->ringbuf_fail++;
			cnt->ringbuf_fail_bytes += n;
		}
		ectx->lost = 1;
		return 0;
	}
	__builtin_memcpy(e, &ectx->hdr, sizeof(ectx->hdr));
	e->hdr.size = sizeof(*e) + n;
	e->offset = off;
	e->chunk_len = n;
	if (off + n >= ectx->captured)
		e->flags |= TLSTOP_F_LAST;
	bpf_ringbuf_submit(e, wakeup_flag());
	return 0;
read_failed:
	bpf_ringbuf_discard(e, 0);
	cnt = get_counters();
	if (cnt)
		cnt->read_fail++;
	return 0;
}

/* Piece i of a packed record: the kept bytes before skip i (after the last
 * one when i == nsegs) and skip i itself. The caller checked that the kept
 * bytes, so each piece, fit TLSTOP_PACK_MAX. */
static long pack_piece(__u32 i, void *unused)
{
	__u32 zero = 0, end, n, at;
	struct emit_ctx *ectx = bpf_map_lookup_elem(&emit_scratch, &zero);
	struct kf_scratch *s = bpf_map_lookup_elem(&kf_scratch, &zero);
	struct kf_seg *g = NULL;

	if (!ectx || !s)
		return 1;
	end = ectx->captured;
	if (i < ectx->nsegs) {
		g = &s->segs[i & (KF_MAX_SEGS - 1)];
		end = g->off;
		at = (i & (KF_MAX_SEGS - 1)) * sizeof(struct tlstop_skip);
		((struct tlstop_skip *)&ectx->body[at])->off = g->off;
		((struct tlstop_skip *)&ectx->body[at])->len = g->len;
	}
	if (end > ectx->pos) {
		n = end - ectx->pos;
		at = ectx->nsegs * sizeof(struct tlstop_skip) + ectx->packed;
		if (bpf_probe_read_user(&ectx->body[at & PACK_MASK],
					((n - 1) & (TLSTOP_PACK_MAX - 1)) + 1,
					(void *)(ectx->buf + ectx->pos))) {
			ectx->lost = 1;
			return 1;
		}
		ectx->packed += n;
	}
	if (g)
		ectx->pos = g->off + g->len;
	return 0;
}

/* The call as one record: its skips, then the bytes between them. */
static __always_inline void emit_packed(struct emit_ctx *ectx)
{
	struct tlstop_data *h = &ectx->hdr;
	struct tlstop_counters *cnt;
	__u64 size;

	ectx->packed = 0;
	bpf_loop(ectx->nsegs + 1, pack_piece, NULL, 0);
	cnt = get_counters();
	if (ectx->lost) {
		if (cnt)
			cnt->read_fail++;
		return;
	}
	size = sizeof(*h) + ectx->nsegs * sizeof(struct tlstop_skip) + ectx->packed;
	h->hdr.size = size;
	h->chunk_len = ectx->captured;
	h->nskips = ectx->nsegs;
	h->flags |= TLSTOP_F_SKIP | TLSTOP_F_LAST;
	/* the size test bounds the read for the verifier; the caller's checks
	 * mean it never fails, and if it did the record is counted lost */
	if ((size > sizeof(*h) + sizeof(ectx->body) ||
	     bpf_ringbuf_output(&events, h, size, wakeup_flag())) &&
	    cnt) {
		cnt->ringbuf_fail++;
		cnt->ringbuf_fail_bytes += ectx->packed;
	}
}

static __always_inline void attribute(struct call *c, __u32 pid, struct emit_ctx *ectx,
				      struct tlstop_lib_counters *lc)
{
	struct ssl_key sk = { .pid = pid, .ssl = c->ssl };
	struct tlstop_data *h = &ectx->hdr;
	struct ssl_conn *known, conn = {};
	struct fd_key fk = { .pid = pid };
	__u8 one = 1;

	if (c->fd >= 0) {
		h->fd = c->fd;
		h->flags |= TLSTOP_F_HAS_FD;
		h->addr = c->addr;
		if (c->conflict) {
			h->flags |= TLSTOP_F_FD_CONFLICT;
			if (lc)
				lc->fd_conflict++;
		}
		if (lc)
			lc->fd_seen++;
		known = bpf_map_lookup_elem(&ssl_conns, &sk);
		if (known && known->fd == c->fd)
			return;
		conn.fd = c->fd;
		conn.addr = c->addr;
		fk.fd = c->fd;
		if (bpf_map_update_elem(&ssl_conns, &sk, &conn, BPF_ANY) ||
		    bpf_map_update_elem(&fd_ssl, &fk, &c->ssl, BPF_ANY) ||
		    (!bpf_map_lookup_elem(&pid_state, &pid) &&
		     bpf_map_update_elem(&pid_state, &pid, &one, BPF_ANY))) {
			struct tlstop_counters *cnt = get_counters();

			if (cnt)
				cnt->map_fail++;
		}
		return;
	}
	known = bpf_map_lookup_elem(&ssl_conns, &sk);
	if (known) {
		h->fd = known->fd;
		h->addr = known->addr;
		h->flags |= TLSTOP_F_HAS_FD | TLSTOP_F_FD_CACHED;
		if (lc)
			lc->fd_cached++;
		return;
	}
	h->fd = -1;
	if (lc)
		lc->no_fd++;
}

enum kf_verdict {
	KF_KEEP, /* copy the call, but for the ranges in kf_scratch.segs */
	KF_DROP, /* copy nothing */
};

static __always_inline struct kf_conn *kf_conn_get(__u32 pid, __u64 ssl)
{
	struct ssl_key k = { .pid = pid, .ssl = ssl };
	struct kf_conn *c = bpf_map_lookup_elem(&kf_conns, &k), n = {};
	__u8 one = 1;

	if (c)
		return c;
	n.id = kf_new_id();
	bpf_map_update_elem(&kf_conns, &k, &n, BPF_ANY);
	if (!bpf_map_lookup_elem(&pid_state, &pid))
		bpf_map_update_elem(&pid_state, &pid, &one, BPF_ANY);
	return bpf_map_lookup_elem(&kf_conns, &k);
}

/* The prefilter's verdict on a call of len bytes; with KF_KEEP, the ranges
 * to drop are in s->segs. */
static __always_inline int prefilter(const struct tlstop_kf_config *cfg, struct call *c,
				     __u32 pid, __u32 len, struct tlstop_data *h,
				     struct kf_scratch *s)
{
	struct kf_walk w = { .base = c->buf, .len = len, .gen = cfg->gen, .s = s };
	struct kf_conn *conn;
	__u32 n;

	s->nsegs = s->dropped = s->rejected = s->unknown = s->pos = 0;
	if ((cfg->flags & TLSTOP_KF_PIDS) && !bpf_map_lookup_elem(&kf_pids, &pid))
		return KF_DROP;
	if ((cfg->flags & TLSTOP_KF_COMMS) && !bpf_map_lookup_elem(&kf_comms, h->comm))
		return KF_DROP;
	if (!(cfg->flags & (TLSTOP_KF_SAMPLE | TLSTOP_KF_PATHS)))
		return KF_KEEP;
	conn = kf_conn_get(pid, c->ssl);
	if (!conn)
		return KF_KEEP;
	if ((cfg->flags & TLSTOP_KF_SAMPLE) && cfg->sample_n > 1) {
		/* decided once per connection, again only if the rate changes */
		if (conn->sample_n != cfg->sample_n) {
			conn->sample_n = cfg->sample_n;
			conn->sampled_out = bpf_get_prandom_u32() % cfg->sample_n != 0;
			if (conn->sampled_out) {
				struct tlstop_kf_counters *kc = bpf_map_lookup_elem(&kf_counters, &(__u32){ 0 });

				if (kc)
					kc->conns_sampled_out++;
			}
		}
		if (conn->sampled_out)
			return KF_DROP;
	}
	if (!(cfg->flags & TLSTOP_KF_PATHS))
		return KF_KEEP;
	/* a synchronised HTTP/2 direction needs only the preface check */
	n = conn->proto == KF_P_H2 ? KF_H2_PREFACE_LEN : KF_H1_PEEK;
	if (n > len)
		n = len;
	if (bpf_probe_read_user(s->win, ((n - 1) & (KF_H1_PEEK - 1)) + 1, (void *)c->buf))
		return KF_KEEP;
	w.conn = conn;
	w.dirn = h->dir;
	w.dir = &conn->dir[h->dir & 1];
	kf_call(&w, n);
	return KF_KEEP;
}

static __always_inline void kf_count(struct kf_scratch *s, int verdict, __u32 captured)
{
	struct tlstop_kf_counters *kc = bpf_map_lookup_elem(&kf_counters, &(__u32){ 0 });

	if (!kc)
		return;
	kc->streams += s->rejected;
	kc->path_unknown += s->unknown;
	if (verdict == KF_DROP) {
		kc->calls++;
		kc->bytes += captured;
	} else if (s->dropped) {
		if (s->nsegs == 1 && s->segs[0].off == 0 && s->segs[0].len >= captured)
			kc->calls++;
		kc->bytes += s->dropped < captured ? s->dropped : captured;
	}
}

/* End of a TLS call: a uretprobe (entry-return method), or a uprobe on the
 * emulated instruction right after the worker call (planned method); in
 * both, rax holds the int result. */
SEC("uprobe")
int BPF_KRETPROBE(ssl_leave, int ret)
{
	__u64 id = bpf_get_current_pid_tgid(), len = 0;
	struct tlstop_lib_counters *lc;
	struct tlstop_counters *cnt;
	struct tlstop_kf_config *cfg;
	struct kf_scratch *s;
	struct emit_ctx *ectx;
	struct tlstop_data *h;
	__u32 zero = 0, pid = id >> 32, nchunks;
	struct call *c;

	c = bpf_map_lookup_elem(&calls, &id);
	if (!c)
		return 0;
	if (c->depth > 1) {
		c->depth--;
		return 0;
	}
	/* A failed or would-block call moved no data; its retry with the same
	 * buffer is a new call. */
	if (ret <= 0)
		goto out;
	if (c->outlen) {
		if (bpf_probe_read_user(&len, sizeof(len), (void *)c->outlen))
			goto out;
	} else {
		len = ret;
	}
	if (len == 0)
		goto out;
	if (len > 0xffffffffULL)
		len = 0xffffffffULL;

	ectx = bpf_map_lookup_elem(&emit_scratch, &zero);
	if (!ectx)
		goto out;
	h = &ectx->hdr;
	__builtin_memset(h, 0, sizeof(*h));
	h->hdr.type = TLSTOP_EV_DATA;
	h->ts_ns = bpf_ktime_get_ns();
	h->start_ns = c->start_ns;
	h->ssl = c->ssl;
	h->pid = pid;
	h->tid = (__u32)id;
	h->lib_id = c->lib_id;
	h->len = len;
	h->func = c->func;
	h->dir = (c->func == TLSTOP_FN_SSL_READ || c->func == TLSTOP_FN_SSL_READ_EX) ?
			 TLSTOP_DIR_IN : TLSTOP_DIR_OUT;
	bpf_get_current_comm(h->comm, sizeof(h->comm));

	lc = bpf_map_lookup_elem(&lib_counters, &c->lib_id);
	if (lc) {
		lc->calls++;
		lc->bytes += len;
	}
	attribute(c, pid, ectx, lc);

	ectx->captured = len < targ_snaplen ? len : targ_snaplen;
	if (ectx->captured < len) {
		h->flags |= TLSTOP_F_TRUNCATED;
		cnt = get_counters();
		if (cnt)
			cnt->truncated++;
	}
	h->captured_len = ectx->captured;
	ectx->buf = c->buf;
	ectx->lost = 0;
	ectx->pos = ectx->seg = ectx->nsegs = 0;
	cfg = bpf_map_lookup_elem(&kf_config, &zero);
	s = bpf_map_lookup_elem(&kf_scratch, &zero);
	if (cfg && cfg->flags && s) {
		int verdict = prefilter(cfg, c, pid, len, h, s);

		kf_count(s, verdict, ectx->captured);
		if (verdict == KF_DROP)
			goto out;
		ectx->nsegs = s->nsegs;
		/* the segments are in order: the last one ends the furthest */
		if (ectx->nsegs && ectx->nsegs <= KF_MAX_SEGS &&
		    ectx->captured - s->dropped <= TLSTOP_PACK_MAX &&
		    s->segs[(ectx->nsegs - 1) & (KF_MAX_SEGS - 1)].off +
				    s->segs[(ectx->nsegs - 1) & (KF_MAX_SEGS - 1)].len <=
			    ectx->captured) {
			emit_packed(ectx);
			goto out;
		}
	}
	nchunks = (ectx->captured + TLSTOP_CHUNK_MAX - 1) / TLSTOP_CHUNK_MAX;
	bpf_loop(nchunks + 2 * ectx->nsegs + 1, emit_chunk, NULL, 0);
out:
	bpf_map_delete_elem(&calls, &id);
	return 0;
}

/* ---- connection identity from the syscalls made during a TLS call ---- */

static __always_inline struct file *fd_file(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds, *f = NULL;

	if (!fdt || fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

static __always_inline void read_sock_addr(struct file *f, struct tlstop_addr *a)
{
	struct socket *sock = BPF_CORE_READ(f, private_data);
	struct sock *sk = BPF_CORE_READ(sock, sk);
	struct inet_connection_sock *icsk = (struct inet_connection_sock *)sk;
	struct inet_bind_bucket *tb;

	if (!sk)
		return;
	a->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (a->family == AF_INET) {
		BPF_CORE_READ_INTO((__u32 *)a->laddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)a->raddr, sk, __sk_common.skc_daddr);
	} else if (a->family == AF_INET6) {
		BPF_CORE_READ_INTO((struct in6_addr *)a->laddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO((struct in6_addr *)a->raddr, sk, __sk_common.skc_v6_daddr);
	} else {
		return;
	}
	a->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	a->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return;
	/* connect() binds its ephemeral port in a bucket marked fastreuse -1;
	 * a socket accepted from a listener shares the listener's bucket. */
	tb = BPF_CORE_READ(icsk, icsk_bind_hash);
	if (tb)
		a->role = BPF_CORE_READ(tb, fastreuse) < 0 ? TLSTOP_ROLE_CLIENT :
							     TLSTOP_ROLE_SERVER;
}

static __always_inline void note_fd(long fd)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct call *c = bpf_map_lookup_elem(&calls, &id);
	struct file *f;

	if (!c || fd < 0 || c->fd == fd)
		return;
	f = fd_file(fd);
	if (!f || (BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return;
	if (c->fd >= 0) {
		c->conflict = 1;
		return;
	}
	c->fd = fd;
	read_sock_addr(f, &c->addr);
}

#define FD_SYSCALL(name)                                                 \
	SEC("tracepoint/syscalls/sys_enter_" #name)                      \
	int sys_enter_##name(struct trace_event_raw_sys_enter *ctx)      \
	{                                                                \
		note_fd(ctx->args[0]);                                   \
		return 0;                                                \
	}

FD_SYSCALL(write)
FD_SYSCALL(writev)
FD_SYSCALL(sendto)
FD_SYSCALL(sendmsg)
FD_SYSCALL(read)
FD_SYSCALL(readv)
FD_SYSCALL(recvfrom)
FD_SYSCALL(recvmsg)

SEC("tracepoint/syscalls/sys_enter_close")
int sys_enter_close(struct trace_event_raw_sys_enter *ctx)
{
	struct fd_key fk = { .pid = bpf_get_current_pid_tgid() >> 32, .fd = ctx->args[0] };
	struct ssl_key sk = { .pid = fk.pid };
	__u64 *ssl = bpf_map_lookup_elem(&fd_ssl, &fk);

	if (!ssl)
		return 0;
	sk.ssl = *ssl;
	bpf_map_delete_elem(&ssl_conns, &sk);
	bpf_map_delete_elem(&kf_conns, &sk);
	bpf_map_delete_elem(&fd_ssl, &fk);
	return 0;
}

/* ---- process lifecycle ---- */

/* false when the ring buffer was full (counted in proc_lost) */
static __always_inline bool emit_proc(__u32 type, __u32 pid, __u64 dev, __u64 ino)
{
	struct tlstop_proc *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	struct tlstop_counters *cnt;

	if (!e) {
		cnt = get_counters();
		if (cnt)
			cnt->proc_lost++;
		return false;
	}
	e->hdr.type = type;
	e->hdr.size = sizeof(*e);
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = pid;
	e->pad = 0;
	e->dev = dev;
	e->ino = ino;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, wakeup_flag());
	return true;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(proc_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;

	if (traced_pid(pid))
		emit_proc(TLSTOP_EV_EXEC, pid, 0, 0);
	return 0;
}

/* A library loaded with dlopen() after exec (Python's _ssl, say) is a new
 * target only if its file was never seen; files already attached need
 * nothing, their uprobes apply to every new mapping. */
SEC("tracepoint/syscalls/sys_enter_mmap")
int sys_enter_mmap(struct trace_event_raw_sys_enter *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	long prot = ctx->args[2], fd = ctx->args[4];
	struct file_key k;
	struct file *f;
	__u8 one = 1;

	if (!(prot & PROT_EXEC) || fd < 0 || !traced_pid(pid))
		return 0;
	f = fd_file(fd);
	if (!f)
		return 0;
	k.dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	k.ino = BPF_CORE_READ(f, f_inode, i_ino);
	/* a notice lost to a full ring buffer is sent again at the next mmap */
	if (!bpf_map_lookup_elem(&seen_files, &k) && emit_proc(TLSTOP_EV_MMAP, pid, k.dev, k.ino))
		bpf_map_update_elem(&seen_files, &k, &one, BPF_ANY);
	return 0;
}

/* for every map keyed by struct ssl_key */
static long forget_ssl(struct bpf_map *map, struct ssl_key *k, void *v, __u32 *pid)
{
	if (k->pid == *pid)
		bpf_map_delete_elem(map, k);
	return 0;
}

static long forget_fd(struct bpf_map *map, struct fd_key *k, __u64 *v, __u32 *pid)
{
	if (k->pid == *pid)
		bpf_map_delete_elem(map, k);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(proc_exit, struct task_struct *p)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32;

	bpf_map_delete_elem(&calls, &id);
	if ((__u32)id != pid || !bpf_map_lookup_elem(&pid_state, &pid))
		return 0;
	bpf_for_each_map_elem(&ssl_conns, forget_ssl, &pid, 0);
	bpf_for_each_map_elem(&kf_conns, forget_ssl, &pid, 0);
	bpf_for_each_map_elem(&fd_ssl, forget_fd, &pid, 0);
	bpf_map_delete_elem(&pid_state, &pid);
	emit_proc(TLSTOP_EV_EXIT, pid, 0, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
