/* kf_logic.h - the decisions of the in-kernel prefilter: which bytes of a
 * TLS call can never belong to a message the filter accepts. Compiled into
 * the BPF programs and, unchanged, into the userspace model the property
 * test runs, so both answer the same.
 *
 * The includer provides, before including this file:
 *   KF_READ(dst, n, base, off)   copy n bytes of the call at base + off into
 *                                dst; 0 or an error
 *   KF_LOOP(n, cb, ctx)          run long cb(i, ctx) for i < n until it
 *                                returns 1 (bpf_loop)
 *   kf_stream_get(key)           struct kf_stream * or NULL
 *   kf_stream_put(key, v), kf_stream_del(key)
 *   kf_ins_get(key)              struct tlstop_kf_path_key * or NULL
 *   kf_ins_put(key, v)
 *   kf_carry_get(key)            struct kf_carry * or NULL
 *   kf_carry_put(key, v), kf_carry_del(key)
 *   kf_path_match(key)           true when a prefix covers the key
 *   kf_new_id()                  a random 64-bit connection id
 *   KF_COPY(dst, src, n)         copy n bytes between the scratch buffers
 *
 * Every rule errs on the side of passing bytes: what cannot be read or
 * parsed is delivered, and a connection whose framing is lost is delivered
 * whole from then on. */
#ifndef TLSTOP_KF_LOGIC_H
#define TLSTOP_KF_LOGIC_H

/* What a call's walk needs, constant during it; on the stack for the loop
 * callbacks. */
struct kf_walk {
	__u64 base; /* the call's buffer */
	__u32 len; /* bytes the call processed */
	__u32 gen;
	__u32 dirn;
	struct kf_conn *conn;
	struct kf_dir *dir;
	struct kf_scratch *s;
};

/* No constant arrays here: clang 14 gives .rodata strings a BTF the kernel
 * refuses, so literals are spelt as words. */

static __always_inline __u8 kf_win(const struct kf_scratch *s, __u32 i)
{
	return s->win[i & (KF_WIN - 1)];
}

/* x as a value the verifier no longer knows: what follows is then checked
 * once rather than once per value a parse can yield. */
static __always_inline __u32 kf_opaque(struct kf_scratch *s, __u32 x)
{
	*(volatile __u32 *)&s->tmp = x;
	return *(volatile __u32 *)&s->tmp;
}

static __always_inline __u64 kf_win_u64(const struct kf_scratch *s, __u32 off)
{
	__u64 v = 0;

	for (__u32 i = 0; i < 8; i++)
		v |= (__u64)kf_win(s, off + i) << (8 * i);
	return v;
}

/* Drops [off, off + n) of the call, merged with the range before it. A
 * full table keeps the bytes: dropping is never required. */
static __always_inline void kf_drop(struct kf_scratch *s, __u32 off, __u32 n)
{
	__u32 k = s->nsegs;

	if (!n)
		return;
	if (k > 0 && k <= KF_MAX_SEGS) {
		struct kf_seg *last = &s->segs[(k - 1) & (KF_MAX_SEGS - 1)];

		if (last->off + last->len == off) {
			last->len += n;
			s->dropped += n;
			return;
		}
	}
	if (k >= KF_MAX_SEGS)
		return;
	s->segs[k & (KF_MAX_SEGS - 1)].off = off;
	s->segs[k & (KF_MAX_SEGS - 1)].len = n;
	s->nsegs = k + 1;
	s->dropped += n;
}

/* *key: the LPM key of a path string at win[off], len bytes as sent. */
static __always_inline void kf_key_from_win(struct kf_scratch *s, struct tlstop_kf_path_key *key,
					    __u32 off, __u32 len, bool huff)
{
	__u32 k = len < TLSTOP_KF_PATH_MAX ? len : TLSTOP_KF_PATH_MAX;

	key->data[0] = huff ? TLSTOP_KF_HUFF : TLSTOP_KF_RAW;
	/* bytes past k are not compared: prefixlen ends before them */
	KF_COPY(&key->data[1], &s->win[off & (KF_WIN - 1)], TLSTOP_KF_PATH_MAX);
	key->prefixlen = 8 * (1 + k);
}

/* The two :path values of the static table (RFC 7541 Appendix A). */
static __always_inline void kf_key_static(struct kf_scratch *s, __u32 idx)
{
	__u64 w = 0x682e7865646e692fULL; /* "/index.h" */
	__u32 i;

	s->key.data[0] = TLSTOP_KF_RAW;
	if (idx == 4) {
		s->key.data[1] = '/';
		s->key.prefixlen = 8 * 2;
		return;
	}
	for (i = 0; i < 8; i++)
		s->key.data[1 + i] = w >> (8 * i);
	s->key.data[9] = 't';
	s->key.data[10] = 'm';
	s->key.data[11] = 'l';
	s->key.prefixlen = 8 * 12;
}

/* ---- HPACK: find :path in a header block, count table insertions ---- */

enum kf_path_state {
	KF_PATH_NONE = 0,
	KF_PATH_FOUND, /* s->key holds it */
};


static __always_inline int kf_int(struct kf_walk *w, __u32 prefix_bits, __u32 *out)
{
	struct kf_scratch *s = w->s;
	struct kf_hwalk *h = &s->h;
	__u32 mask = (1u << prefix_bits) - 1, v, shift = 0;
	__u8 b;

	if (h->i >= h->end)
		return -1;
	v = kf_win(s, h->i++) & mask;
	if (v < mask) {
		*out = v;
		return 0;
	}
	for (int k = 0; k < 4; k++) {
		if (h->i >= h->end)
			return -1;
		b = kf_win(s, h->i++);
		v += (__u32)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return -1;
}

static __always_inline int kf_str(struct kf_walk *w, __u32 *off, __u32 *len, bool *huff)
{
	struct kf_hwalk *h = &w->s->h;

	if (h->i >= h->end)
		return -1;
	*huff = kf_win(w->s, h->i) & 0x80;
	/* past the window is fine: kf_slide() skips the rest, and the caller
	 * reads only a string kf_slide() made room for */
	if (kf_int(w, 7, len) || *len > h->block_end - h->base - h->i)
		return -1;
	*off = kf_opaque(w->s, h->i);
	*len = kf_opaque(w->s, *len);
	h->i += *len;
	return 0;
}

static __always_inline bool kf_is_path_name(struct kf_walk *w, __u32 off, __u32 len, bool huff)
{
	const struct kf_scratch *s = w->s;

	/* the Huffman code of ":path" (RFC 7541 Appendix B), padding included */
	if (huff)
		return len == 4 && kf_win(s, off) == 0xb9 && kf_win(s, off + 1) == 0x58 &&
		       kf_win(s, off + 2) == 0xd3 && kf_win(s, off + 3) == 0x3f;
	return len == 5 && kf_win(s, off) == ':' && kf_win(s, off + 1) == 'p' &&
	       kf_win(s, off + 2) == 'a' && kf_win(s, off + 3) == 't' &&
	       kf_win(s, off + 4) == 'h';
}

/* The :path entry a dynamic index names, or NULL: not one we saw
 * inserted (another header, or one from before the walk began). */
static __always_inline struct tlstop_kf_path_key *kf_dyn_path(struct kf_walk *w, __u32 idx)
{
	struct kf_hwalk *h = &w->s->h;
	struct kf_ins_key k = { .conn = w->conn->id, .dir = w->dirn };
	__u32 cur = w->dir->ins + h->ins, rel = idx - 62;

	if (!h->dyn || rel >= cur)
		return NULL;
	k.abs = cur - 1 - rel;
	return kf_ins_get(&k);
}

static __always_inline void kf_use_key(struct kf_walk *w, const struct tlstop_kf_path_key *k)
{
	struct kf_hwalk *h = &w->s->h;

	if (h->path == KF_PATH_NONE) {
		__builtin_memcpy(&w->s->key, k, sizeof(*k));
		h->path = KF_PATH_FOUND;
	}
}

/* Makes win hold the next need bytes of the block (or all that is left),
 * moving it to the cursor when it does not; -1 when that cannot be read. */
static __always_inline int kf_slide(struct kf_walk *w, __u32 need)
{
	struct kf_hwalk *h = &w->s->h;
	__u32 at, n;

	if (h->i + need <= h->end || h->base + h->end >= h->block_end)
		return 0;
	at = h->base + h->i;
	if (at >= h->block_end)
		return 0;
	n = h->block_end - at;
	if (n > KF_WIN)
		n = KF_WIN;
	if (KF_READ(w->s->win, ((n - 1) & (KF_WIN - 1)) + 1, h->src, at))
		return -1;
	h->base = at;
	h->i = 0;
	h->end = n;
	return 0;
}

/* the most a field needs in win before its value: a 5-byte index or name
 * length, and a name as long as ":path" */
#define KF_FIELD_HEAD 16

static long kf_field(__u32 unused, void *arg)
{
	struct kf_walk *w = arg;
	struct kf_scratch *s = w->s;
	struct kf_hwalk *h = &s->h;
	struct tlstop_kf_path_key *known;
	__u32 x, off, len;
	bool huff, is_path = false, insert;
	__u8 b;

	if (kf_slide(w, KF_FIELD_HEAD))
		goto bad;
	if (h->base + h->i >= h->block_end) {
		h->done = 1;
		return 1;
	}
	b = kf_win(s, h->i);
	if (b & 0x80) { /* indexed field */
		if (kf_int(w, 7, &x) || x == 0)
			goto bad;
		if ((x == 4 || x == 5) && h->path == KF_PATH_NONE) {
			kf_key_static(s, x);
			h->path = KF_PATH_FOUND;
		} else if (x >= 62 && (known = kf_dyn_path(w, x))) {
			kf_use_key(w, known);
		}
		return 0;
	}
	if ((b & 0xe0) == 0x20) /* table size update */
		return kf_int(w, 5, &x) ? (h->bad = 1) : 0;
	insert = (b & 0xc0) == 0x40;
	if (kf_int(w, insert ? 6 : 4, &x))
		goto bad;
	if (x == 0) {
		if (kf_str(w, &off, &len, &huff))
			goto bad;
		is_path = kf_is_path_name(w, off, len, huff);
	} else if (x == 4 || x == 5) {
		is_path = true;
	} else if (x >= 62) {
		is_path = kf_dyn_path(w, x) != NULL;
	}
	/* the value's length and the path bytes a key holds */
	if (kf_slide(w, 5 + TLSTOP_KF_PATH_MAX) || kf_str(w, &off, &len, &huff))
		goto bad;
	if (is_path) {
		kf_key_from_win(s, &s->lit, off, len, huff);
		if (insert && h->dyn) {
			struct kf_ins_key k = { .conn = w->conn->id,
						.abs = w->dir->ins + h->ins,
						.dir = w->dirn };

			kf_ins_put(&k, &s->lit);
		}
		kf_use_key(w, &s->lit);
	}
	if (insert)
		h->ins++;
	return 0;
bad:
	h->bad = 1;
	return 1;
}

/* ---- HTTP/2 ---- */

static __always_inline void kf_reject_stream(struct kf_walk *w, __u32 stream)
{
	struct kf_stream_key k = { .conn = w->conn->id, .stream = stream };
	struct kf_stream v = { .gen = w->gen };

	kf_stream_put(&k, &v);
	w->s->rejected++;
}

/* A whole HEADERS frame (END_HEADERS set) of len payload bytes, the first
 * min(len, KF_WIN) in s->win and all at src in the traced process (src
 * unused when len <= KF_WIN): walk its block for :path and the table
 * insertions. */
static __always_inline void kf_block(struct kf_walk *w, __u64 src, __u32 len, __u8 flags,
				     __u32 stream)
{
	struct kf_scratch *s = w->s;
	struct kf_hwalk *h = &s->h;
	__u32 start = 0, pad = 0;

	__builtin_memset(h, 0, sizeof(*h));
	h->dyn = !w->dir->hpack_lost;
	h->src = src;
	if (flags & 0x8) /* PADDED */
		pad = kf_win(s, start++);
	if (flags & 0x20) /* PRIORITY */
		start += 5;
	if (start + pad > len) {
		w->dir->hpack_lost = 1;
		return;
	}
	h->i = start;
	h->block_end = len - pad;
	h->end = h->block_end < KF_WIN ? h->block_end : KF_WIN;
	KF_LOOP(KF_MAX_FIELDS, kf_field, w);
	if (h->done && !h->bad)
		w->dir->ins += h->ins;
	else
		w->dir->hpack_lost = 1;
	if (h->path != KF_PATH_FOUND)
		return;
	if (!kf_path_match(&s->key))
		kf_reject_stream(w, stream);
}

/* A HEADERS frame (END_HEADERS set) whose len payload bytes are all in this
 * call, at s->pos. */
static __always_inline void kf_headers(struct kf_walk *w, __u32 len, __u8 flags, __u32 stream)
{
	__u32 n = len < KF_WIN ? len : KF_WIN;

	if (!len)
		return;
	if (len > KF_BLOCK_MAX ||
	    KF_READ(w->s->win, ((n - 1) & (KF_WIN - 1)) + 1, w->base, w->s->pos)) {
		w->dir->hpack_lost = 1;
		w->s->unknown++;
		return;
	}
	kf_block(w, w->base + w->s->pos, len, flags, stream);
}

/* END_STREAM of one direction: a stream closed both ways is forgotten. */
static __always_inline void kf_end_stream(struct kf_walk *w, __u32 stream)
{
	struct kf_stream_key k = { .conn = w->conn->id, .stream = stream };
	struct kf_stream *v = kf_stream_get(&k);

	if (!v)
		return;
	v->closed |= 1 << w->dirn;
	if (v->closed == 3)
		kf_stream_del(&k);
}

static __always_inline bool kf_stream_rejected(struct kf_walk *w, __u32 stream)
{
	struct kf_stream_key k = { .conn = w->conn->id, .stream = stream };
	struct kf_stream *v = kf_stream_get(&k);

	return v && v->gen == w->gen;
}

/* A HEADERS frame (END_HEADERS set) of len bytes that this call cuts: its
 * block is gathered by kf_carry_add() as its bytes come. */
static __always_inline void kf_carry_start(struct kf_walk *w, __u32 len, __u8 flags,
					   __u32 stream)
{
	struct kf_carry_key k = { .conn = w->conn->id, .dir = w->dirn };
	struct kf_carry *c;

	if (len > KF_WIN) {
		w->dir->hpack_lost = 1;
		w->s->unknown++;
		return;
	}
	kf_carry_put(&k, &w->s->carry);
	c = kf_carry_get(&k);
	if (!c) {
		w->dir->hpack_lost = 1;
		return;
	}
	c->len = len;
	c->have = 0;
	c->flags = flags;
	c->stream = stream;
	w->dir->carry = 1;
}

/* n more bytes of the gathered block at s->pos; walks it once whole. */
static __always_inline void kf_carry_add(struct kf_walk *w, __u32 n)
{
	struct kf_carry_key k = { .conn = w->conn->id, .dir = w->dirn };
	struct kf_carry *c = kf_carry_get(&k);
	__u32 have, len, stream;
	__u8 flags;

	if (!c)
		goto lost;
	have = c->have;
	len = c->len;
	if (len > KF_WIN || have >= len || n > len - have ||
	    KF_READ(&c->buf[have & (KF_WIN - 1)], ((n - 1) & (KF_WIN - 1)) + 1, w->base,
		    w->s->pos))
		goto lost;
	c->have = have + n;
	if (c->have < len)
		return;
	flags = c->flags;
	stream = c->stream;
	KF_COPY(w->s->win, c->buf, KF_WIN);
	kf_carry_del(&k);
	w->dir->carry = 0;
	kf_block(w, 0, len, flags, stream);
	/* kf_frame_start() saw END_STREAM before the verdict existed */
	if (flags & 0x1)
		kf_end_stream(w, stream);
	return;
lost:
	w->dir->carry = 0;
	w->dir->hpack_lost = 1;
	if (c)
		kf_carry_del(&k);
}

/* The frame header in d->hdr is complete and s->pos is just past it. */
static __always_inline void kf_frame_start(struct kf_walk *w)
{
	struct kf_dir *d = w->dir;
	__u32 len = (__u32)d->hdr[0] << 16 | (__u32)d->hdr[1] << 8 | d->hdr[2];
	__u8 type = d->hdr[3], flags = d->hdr[4];
	__u32 stream = ((__u32)d->hdr[5] << 24 | (__u32)d->hdr[6] << 16 |
			(__u32)d->hdr[7] << 8 | d->hdr[8]) & 0x7fffffff;

	d->remain = len;
	d->drop = d->carry = 0;
	switch (type) {
	case 0: /* DATA */
		if (!stream) {
			d->sync = 0;
			return;
		}
		d->drop = kf_stream_rejected(w, stream);
		if (flags & 0x1)
			kf_end_stream(w, stream);
		break;
	case 1: /* HEADERS */
		if (!stream) {
			d->sync = 0;
			return;
		}
		/* with CONTINUATION frames, the block is not walked */
		if (!(flags & 0x4))
			d->hpack_lost = 1;
		else if (len <= w->len - w->s->pos)
			kf_headers(w, len, flags, stream);
		else
			kf_carry_start(w, len, flags, stream);
		if (flags & 0x1)
			kf_end_stream(w, stream);
		break;
	case 3: { /* RST_STREAM */
		struct kf_stream_key k = { .conn = w->conn->id, .stream = stream };

		kf_stream_del(&k);
		break;
	}
	case 9: /* CONTINUATION: its HEADERS was not walked */
		d->hpack_lost = 1;
		break;
	}
}

static long kf_frame(__u32 unused, void *arg)
{
	struct kf_walk *w = arg;
	struct kf_dir *d = w->dir;
	__u32 left = w->len - w->s->pos, n, have;

	if (!left || !d->sync)
		return 1;
	if (d->remain) {
		n = d->remain < left ? d->remain : left;
		if (d->drop)
			kf_drop(w->s, w->s->pos, n);
		else if (d->carry)
			kf_carry_add(w, n);
		d->remain -= n;
		w->s->pos += n;
		return 0;
	}
	have = d->hdr_have;
	if (have >= KF_FRAME_HDR) {
		d->sync = 0;
		return 1;
	}
	n = KF_FRAME_HDR - have;
	if (n > left)
		n = left;
	if (KF_READ(&d->hdr[have & 15], ((n - 1) & 15) + 1, w->base, w->s->pos)) {
		d->sync = 0;
		return 1;
	}
	d->hdr_have = have + n;
	w->s->pos += n;
	if (d->hdr_have < KF_FRAME_HDR)
		return 1;
	d->hdr_have = 0;
	kf_frame_start(w);
	return 0;
}

/* ---- recognising the protocol at a call's start ---- */

static __always_inline bool kf_is_preface(struct kf_scratch *s, __u32 n)
{
	/* "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" as three little-endian words */
	return n >= KF_H2_PREFACE_LEN && kf_win_u64(s, 0) == 0x5448202a20495250ULL &&
	       kf_win_u64(s, 8) == 0x0a0d302e322f5054ULL &&
	       kf_win_u64(s, 16) == 0x0a0d0a0d4d530a0dULL;
}

/* A SETTINGS frame on stream 0: how a server's first bytes look. */
static __always_inline bool kf_is_settings(struct kf_scratch *s, __u32 n)
{
	__u32 len = (__u32)kf_win(s, 0) << 16 | (__u32)kf_win(s, 1) << 8 | kf_win(s, 2);

	return n >= KF_FRAME_HDR && kf_win(s, 3) == 4 && (kf_win(s, 4) & ~1) == 0 &&
	       !kf_win(s, 5) && !kf_win(s, 6) && !kf_win(s, 7) && !kf_win(s, 8) &&
	       len % 6 == 0 && len <= 16 * 6;
}

enum kf_h1_line {
	KF_H1_NONE = 0, /* not the start of a request */
	KF_H1_PATH, /* a request line with its path in [off, off + len) */
	KF_H1_UNKNOWN, /* a request, or maybe one, whose path cannot be read here */
};

/* What a call starts with: METHOD SP /path SP, a request whose target is
 * not a path (absolute form) or is cut by the call's end, or neither. A
 * path of TLSTOP_KF_PATH_MAX bytes or more is as good as whole. */
static __always_inline int kf_h1_request(struct kf_scratch *s, __u32 n, __u32 *off, __u32 *len)
{
	__u32 i, m = 0;
	__u8 c;

	for (i = 0; i < 16 && i < n; i++) {
		c = kf_win(s, i);
		if (c == ' ')
			break;
		if (c < 'A' || c > 'Z')
			return KF_H1_NONE;
		m++;
	}
	if (!m || i >= 16)
		return KF_H1_NONE;
	if (i + 1 >= n || kf_win(s, i + 1) != '/')
		return KF_H1_UNKNOWN;
	*off = ++i;
	for (__u32 j = 0; j < TLSTOP_KF_PATH_MAX; j++, i++) {
		if (i >= n)
			return KF_H1_UNKNOWN;
		c = kf_win(s, i);
		if (c == ' ' || c == '\r' || c == '\n') {
			*len = j;
			return KF_H1_PATH;
		}
	}
	*len = TLSTOP_KF_PATH_MAX;
	return KF_H1_PATH;
}

static __always_inline bool kf_h1_response(struct kf_scratch *s, __u32 n)
{
	return n >= 7 && kf_win(s, 0) == 'H' && kf_win(s, 1) == 'T' && kf_win(s, 2) == 'T' &&
	       kf_win(s, 3) == 'P' && kf_win(s, 4) == '/' && kf_win(s, 5) == '1' &&
	       kf_win(s, 6) == '.';
}

/* An HTTP/1 call: a request line decides for the request and the answer
 * to it, in both directions, until the next request line. */
static __always_inline bool kf_has_newline(const struct kf_scratch *s, __u32 n)
{
	for (__u32 i = 0; i < KF_H1_PEEK; i++) {
		if (i >= n)
			return false;
		if (kf_win(s, i) == '\n')
			return true;
	}
	return false;
}

static __always_inline void kf_h1_call(struct kf_walk *w, __u32 n)
{
	struct kf_conn *c = w->conn;
	struct kf_dir *d = w->dir;
	__u32 off = 0, plen = 0;
	int line;

	if (d->h1_cont) {
		/* the rest of a request line ("T /x" after "PU") is no new one;
		 * without a line end in it, the next call is more of it */
		d->h1_cont = n == w->len && !kf_has_newline(w->s, n);
		return;
	}
	line = kf_h1_request(w->s, n, &off, &plen);
	if (line != KF_H1_NONE) {
		c->h1_reject = 0;
		c->h1_gen = w->gen;
		if (line == KF_H1_UNKNOWN) {
			d->h1_cont = n == w->len && !kf_has_newline(w->s, n);
			w->s->unknown++;
			return;
		}
		kf_key_from_win(w->s, &w->s->key, kf_opaque(w->s, off), kf_opaque(w->s, plen), false);
		if (kf_path_match(&w->s->key))
			return;
		c->h1_reject = 1;
		w->s->rejected++;
	}
	if (c->h1_reject && c->h1_gen == w->gen)
		kf_drop(w->s, 0, w->len);
}

/* Decides which bytes of a call (w->len bytes at w->base, its first n in
 * s->win) to drop, with path rules in force. */
static __always_inline void kf_call(struct kf_walk *w, __u32 n)
{
	struct kf_conn *c = w->conn;
	struct kf_dir *d = w->dir, *other = &c->dir[!w->dirn];
	bool first = !d->seen && !other->seen, was_seen = d->seen;
	__u32 off, len;

	if (kf_is_preface(w->s, n)) {
		if (was_seen || c->proto == KF_P_H1) {
			/* a new connection on this SSL*: nothing of the old one holds */
			__builtin_memset(c->dir, 0, sizeof(c->dir));
			c->id = kf_new_id();
			c->h1_reject = 0;
		}
		/* the peer's first bytes are a frame, unless some came already */
		if (!other->seen)
			other->sync = 1;
		c->proto = KF_P_H2;
		d->sync = 1;
		w->s->pos = KF_H2_PREFACE_LEN;
	} else if (c->proto == KF_P_NEW) {
		if (kf_h1_request(w->s, n, &off, &len) != KF_H1_NONE || kf_h1_response(w->s, n)) {
			c->proto = KF_P_H1;
		} else if (first && kf_is_settings(w->s, n)) {
			/* a server speaks first: the client's preface follows */
			c->proto = KF_P_H2;
			d->sync = 1;
		}
	}
	d->seen = 1;
	if (c->proto == KF_P_H1)
		kf_h1_call(w, n);
	else if (c->proto == KF_P_H2 && d->sync)
		KF_LOOP(KF_MAX_FRAMES, kf_frame, w);
	/* frames not all walked: the rest of this direction is unknown */
	if (c->proto == KF_P_H2 && d->sync && w->s->pos < w->len)
		d->sync = 0;
}

#endif /* TLSTOP_KF_LOGIC_H */
