/* hpack.c - HPACK (RFC 7541): one table model (static + dynamic ring) shared by
 * the decoder and the encoder, integers, Huffman strings through a byte-driven
 * state machine, and the mid-connection model where old entries are unknown. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "proto/hpack.h"
#include "proto/hpack_huffman.h"

#define STATIC_N 61
#define ENTRY_OVERHEAD 32 /* RFC 7541 4.1 */
/* Peers may announce tables of up to 4 GiB; tlstop keeps at most this much
 * per direction and treats what it had to drop as unknown. */
#define TABLE_CLAMP (1u << 20)
/* A scratch buffer grown by one big block is given back after it. */
#define SCRATCH_KEEP (64u << 10)
#define SCRATCH_MIN 256u
#define NO_UPDATE UINT32_MAX

struct hpack_entry {
	char *value; /* one allocation: value, NUL, name, NUL */
	char *name; /* NULL: inserted under a name tlstop never saw */
	uint32_t nlen, vlen;
};

/* A field as looked up or decoded; pointers stay valid until the table
 * changes or the next block. */
struct field {
	const char *name, *value;
	size_t nlen, vlen;
	unsigned int flags;
};

static const struct static_field {
	const char *name, *value;
	uint8_t nlen, vlen;
} static_table[STATIC_N] = {
#define SF(n, v) { n, v, sizeof(n) - 1, sizeof(v) - 1 }
	SF(":authority", ""),
	SF(":method", "GET"),
	SF(":method", "POST"),
	SF(":path", "/"),
	SF(":path", "/index.html"),
	SF(":scheme", "http"),
	SF(":scheme", "https"),
	SF(":status", "200"),
	SF(":status", "204"),
	SF(":status", "206"),
	SF(":status", "304"),
	SF(":status", "400"),
	SF(":status", "404"),
	SF(":status", "500"),
	SF("accept-charset", ""),
	SF("accept-encoding", "gzip, deflate"),
	SF("accept-language", ""),
	SF("accept-ranges", ""),
	SF("accept", ""),
	SF("access-control-allow-origin", ""),
	SF("age", ""),
	SF("allow", ""),
	SF("authorization", ""),
	SF("cache-control", ""),
	SF("content-disposition", ""),
	SF("content-encoding", ""),
	SF("content-language", ""),
	SF("content-length", ""),
	SF("content-location", ""),
	SF("content-range", ""),
	SF("content-type", ""),
	SF("cookie", ""),
	SF("date", ""),
	SF("etag", ""),
	SF("expect", ""),
	SF("expires", ""),
	SF("from", ""),
	SF("host", ""),
	SF("if-match", ""),
	SF("if-modified-since", ""),
	SF("if-none-match", ""),
	SF("if-range", ""),
	SF("if-unmodified-since", ""),
	SF("last-modified", ""),
	SF("link", ""),
	SF("location", ""),
	SF("max-forwards", ""),
	SF("proxy-authenticate", ""),
	SF("proxy-authorization", ""),
	SF("range", ""),
	SF("referer", ""),
	SF("refresh", ""),
	SF("retry-after", ""),
	SF("server", ""),
	SF("set-cookie", ""),
	SF("strict-transport-security", ""),
	SF("transfer-encoding", ""),
	SF("user-agent", ""),
	SF("vary", ""),
	SF("via", ""),
	SF("www-authenticate", ""),
#undef SF
};

/* ---- Huffman ---------------------------------------------------------- */

/*
 * The decoder walks the code tree a whole input byte at a time: a state is
 * one of the 256 internal nodes of the tree (257 leaves), and each
 * (state, byte) transition says the next state and the 0, 1 or 2 symbols the
 * byte completes (a code is at least 5 bits). One dependent load per input
 * byte is what makes it fast; the table is 256 KiB, built once from the code
 * of hpack_huffman.h and read-only after.
 */
#define LEAF 0x200 /* a tree child: LEAF | symbol, else an internal node */
#define STEP_FAIL 0xff /* in nsyms: the byte completes EOS */

struct huff_step {
	uint8_t next;
	uint8_t nsyms;
	char sym[2];
};

struct huff_table {
	/* [state][byte]: encoded bytes are near random, so the hot part is
	 * whole rows of the few states shallow in the tree */
	struct huff_step step[256][256];
	/* Padding may end a string: fewer than 8 bits, all ones (a prefix of
	 * EOS), i.e. the nodes on the all-ones path at depth 0 to 7. */
	bool accept[256];
};

static struct huff_table huff;
static pthread_once_t huff_once = PTHREAD_ONCE_INIT;

static struct huff_step huff_walk(const uint16_t (*child)[2], unsigned int node, unsigned int byte)
{
	struct huff_step st = { 0 };
	unsigned int i;

	for (i = 8; i-- > 0;) {
		unsigned int c = child[node][byte >> i & 1];

		if (!(c & LEAF)) {
			node = c;
			continue;
		}
		if ((c & ~LEAF) == 256)
			return (struct huff_step){ .nsyms = STEP_FAIL };
		st.sym[st.nsyms++] = (char)c;
		node = 0;
	}
	st.next = (uint8_t)node;
	return st;
}

static void huff_build(void)
{
	uint16_t child[256][2] = { { 0 } }; /* 0: none yet (the root is nobody's child) */
	unsigned int nodes = 1, s, node, i;

	for (s = 0; s < HPACK_HUFF_SYMS; s++) {
		uint32_t code = hpack_huff_codes[s].code;

		node = 0;
		for (i = hpack_huff_codes[s].len - 1; i > 0; i--) {
			uint16_t *c = &child[node][code >> i & 1];

			if (!*c)
				*c = (uint16_t)nodes++;
			node = *c;
		}
		child[node][code & 1] = (uint16_t)(LEAF | s);
	}
	for (node = 0, i = 0; i < 8; i++) {
		huff.accept[node] = true;
		node = child[node][1];
	}
	for (node = 0; node < 256; node++)
		for (i = 0; i < 256; i++)
			huff.step[node][i] = huff_walk(child, node, i);
}

long hpack_huffman_decode(const uint8_t *in, size_t n, char *out)
{
	unsigned int state = 0;
	size_t i, o = 0;

	pthread_once(&huff_once, huff_build);
	for (i = 0; i < n; i++) {
		/* a copy: stores through out could alias the table */
		struct huff_step st = huff.step[state][in[i]];

		if (st.nsyms == STEP_FAIL)
			return -1;
		/* Both bytes are stored whatever nsyms: before byte i,
		 * o <= 8 * i / 5, so o + 1 < 8 * n / 5 + 1. */
		memcpy(out + o, st.sym, 2);
		o += st.nsyms;
		state = st.next;
	}
	return huff.accept[state] ? (long)o : -1;
}

size_t hpack_huffman_bits(const char *s, size_t n)
{
	size_t bits = 0;

	for (size_t i = 0; i < n; i++)
		bits += hpack_huff_codes[(uint8_t)s[i]].len;
	return bits;
}

size_t hpack_huffman_len(const char *s, size_t n)
{
	return (hpack_huffman_bits(s, n) + 7) / 8;
}

size_t hpack_huffman_encode(const char *s, size_t n, uint8_t *out)
{
	uint64_t acc = 0;
	unsigned int bits = 0;
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		const struct hpack_huff_code *c = &hpack_huff_codes[(uint8_t)s[i]];

		acc = acc << c->len | c->code;
		for (bits += c->len; bits >= 8; bits -= 8)
			out[o++] = (uint8_t)(acc >> (bits - 8));
	}
	if (bits)
		out[o++] = (uint8_t)(acc << (8 - bits) | 0xff >> bits);
	return o;
}

/* ---- the table -------------------------------------------------------- */

static struct hpack_entry *entry_at(const struct hpack_decoder *d, uint32_t i)
{
	return &d->entries[(d->head + i) & (d->cap - 1)];
}

/* Entries with an unknown name count their value only: a lower bound, so
 * they are kept at least as long as the peer keeps them. */
static uint64_t entry_size(size_t nlen, size_t vlen)
{
	return (uint64_t)nlen + vlen + ENTRY_OVERHEAD;
}

static void table_evict(struct hpack_decoder *d, uint64_t limit)
{
	while (d->nentries && d->size > limit) {
		struct hpack_entry *e = entry_at(d, d->nentries - 1);

		d->size -= (uint32_t)entry_size(e->nlen, e->vlen);
		free(e->value);
		d->nentries--;
	}
}

static int table_get(const struct hpack_decoder *d, uint32_t idx, struct field *f)
{
	const struct static_field *s;
	const struct hpack_entry *e;

	if (idx == 0)
		return -1;
	if (idx <= STATIC_N) {
		s = &static_table[idx - 1];
		*f = (struct field){ s->name, s->value, s->nlen, s->vlen, 0 };
		return 0;
	}
	idx -= STATIC_N + 1;
	if (idx < d->nentries) {
		e = entry_at(d, idx);
		*f = (struct field){ e->name, e->value, e->nlen, e->vlen,
				     e->name ? 0 : HPACK_NAME_UNKNOWN };
		return 0;
	}
	if (!d->unknown_tail)
		return -1;
	*f = (struct field){ .flags = HPACK_NAME_UNKNOWN | HPACK_VALUE_UNKNOWN };
	return 0;
}

static int table_grow(struct hpack_decoder *d)
{
	uint32_t cap = d->cap ? d->cap * 2 : 16, i;
	struct hpack_entry *e = malloc(cap * sizeof(*e));

	if (!e)
		return -1;
	for (i = 0; i < d->nentries; i++)
		e[i] = *entry_at(d, i);
	free(d->entries);
	d->entries = e;
	d->cap = cap;
	d->head = 0;
	return 0;
}

/* Adds a field as newest entry (name NULL: unknown). name and value may
 * point into an entry that the insertion evicts (RFC 7541 4.4): they are
 * copied first. Returns -1 when memory ran out, the table unchanged. */
static int table_insert(struct hpack_decoder *d, const char *name, size_t nlen, const char *value,
			size_t vlen)
{
	uint64_t size = entry_size(nlen, vlen);
	struct hpack_entry e = { .nlen = (uint32_t)nlen, .vlen = (uint32_t)vlen };

	if (size > d->max_size) {
		table_evict(d, 0);
		return 0;
	}
	e.value = malloc(vlen + 1 + (name ? nlen + 1 : 0));
	if (!e.value)
		return -1;
	if (d->nentries == d->cap && table_grow(d)) {
		free(e.value);
		return -1;
	}
	memcpy(e.value, value, vlen);
	e.value[vlen] = '\0';
	if (name) {
		e.name = e.value + vlen + 1;
		memcpy(e.name, name, nlen);
		e.name[nlen] = '\0';
	}
	table_evict(d, d->max_size - size);
	d->head = (d->head - 1) & (d->cap - 1);
	d->entries[d->head] = e;
	d->nentries++;
	d->size += (uint32_t)size;
	return 0;
}

static void table_set_max(struct hpack_decoder *d, uint32_t max)
{
	if (max > TABLE_CLAMP) {
		/* What the peer keeps beyond the clamp becomes unknown. */
		max = TABLE_CLAMP;
		d->unknown_tail = true;
	} else if (max == 0) {
		/* The peer emptied its table: nothing unknown is left. */
		d->unknown_tail = false;
	}
	d->max_size = max;
	table_evict(d, max);
}

/* ---- decoder ---------------------------------------------------------- */

struct reader {
	const uint8_t *p, *end;
};

/* RFC 7541 5.1, from r->p < r->end. Values past 32 bits, and encodings of
 * more than 5 continuation bytes (the RFC allows refusing zero padding), are
 * errors. */
static int read_int(struct reader *r, unsigned int prefix, uint32_t *out)
{
	uint32_t mask = (1u << prefix) - 1;
	uint64_t v;
	unsigned int shift;

	v = *r->p++ & mask;
	if (v < mask) {
		*out = (uint32_t)v;
		return 0;
	}
	for (shift = 0; shift <= 28 && r->p < r->end; shift += 7) {
		uint8_t b = *r->p++;

		v += (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			if (v > UINT32_MAX)
				return -1;
			*out = (uint32_t)v;
			return 0;
		}
	}
	return -1;
}

/* Decodes a string literal into out (room enough: see scratch_reserve) and
 * NUL-terminates it. */
static int read_string(struct reader *r, char *out, size_t *len)
{
	bool huffman;
	uint32_t n;
	long l;

	if (r->p == r->end)
		return -1;
	huffman = *r->p & 0x80;
	if (read_int(r, 7, &n) || n > (size_t)(r->end - r->p))
		return -1;
	if (huffman) {
		l = hpack_huffman_decode(r->p, n, out);
		if (l < 0)
			return -1;
		*len = (size_t)l;
	} else {
		memcpy(out, r->p, n);
		*len = n;
	}
	out[*len] = '\0';
	r->p += n;
	return 0;
}

/* Room for the name and value of any field of an n-byte block: both
 * decoded, at most 8 / 5 of their encoded bytes, and two NULs. */
static int scratch_reserve(struct hpack_decoder *d, size_t n)
{
	size_t need = n / 5 * 8 + n % 5 * 8 / 5 + 2;

	if (need <= d->scratch_cap)
		return 0;
	if (need < SCRATCH_MIN)
		need = SCRATCH_MIN;
	free(d->scratch);
	d->scratch = malloc(need);
	d->scratch_cap = d->scratch ? need : 0;
	return d->scratch ? 0 : -1;
}

static void scratch_trim(struct hpack_decoder *d)
{
	if (d->scratch_cap <= SCRATCH_KEEP)
		return;
	free(d->scratch);
	d->scratch = NULL;
	d->scratch_cap = 0;
}

static int decode_size_update(struct hpack_decoder *d, struct reader *r)
{
	uint32_t max;

	if (read_int(r, 5, &max) || max > d->settings_max)
		return -1;
	table_set_max(d, max);
	return 0;
}

static int decode_literal(struct hpack_decoder *d, struct reader *r, hpack_field_cb cb, void *arg)
{
	bool incremental = *r->p & 0x40;
	char *s = d->scratch;
	struct field f, nf;
	uint32_t idx;

	f.flags = !incremental && (*r->p & 0x10) ? HPACK_NEVER_INDEXED : 0;
	if (read_int(r, incremental ? 6 : 4, &idx))
		return -1;
	if (idx) {
		if (table_get(d, idx, &nf))
			return -1;
		f.name = nf.name;
		f.nlen = nf.nlen;
		f.flags |= nf.flags & HPACK_NAME_UNKNOWN;
	} else {
		if (read_string(r, s, &f.nlen))
			return -1;
		f.name = s;
		s += f.nlen + 1;
	}
	if (read_string(r, s, &f.vlen))
		return -1;
	f.value = s;
	cb(arg, f.name, f.nlen, f.value, f.vlen, f.flags);
	/* Without the entry every later index would be off by one. */
	if (incremental && table_insert(d, f.name, f.nlen, f.value, f.vlen))
		hpack_decoder_lost_block(d);
	return 0;
}

static int decode_field(struct hpack_decoder *d, struct reader *r, hpack_field_cb cb, void *arg)
{
	struct field f;
	uint32_t idx;

	if (!(*r->p & 0x80))
		return decode_literal(d, r, cb, arg);
	if (read_int(r, 7, &idx) || table_get(d, idx, &f))
		return -1;
	cb(arg, f.name, f.nlen, f.value, f.vlen, f.flags);
	return 0;
}

int hpack_decode_block(struct hpack_decoder *d, const uint8_t *p, size_t n, hpack_field_cb cb,
		       void *arg)
{
	struct reader r = { p, n ? p + n : p };
	bool at_start = true;
	int err = 0;

	if (!n)
		return 0; /* an empty block (p may be NULL) changes nothing */
	if (n > UINT32_MAX || scratch_reserve(d, n)) {
		hpack_decoder_lost_block(d);
		return -1;
	}
	while (r.p < r.end && !err) {
		if ((*r.p & 0xe0) == 0x20) {
			/* RFC 7541 4.2: only at the start of a block */
			err = !at_start || decode_size_update(d, &r);
			continue;
		}
		at_start = false;
		err = decode_field(d, &r, cb, arg);
	}
	/* The rest of a malformed block is as good as lost. */
	if (err)
		hpack_decoder_lost_block(d);
	scratch_trim(d);
	return err ? -1 : 0;
}

void hpack_decoder_init(struct hpack_decoder *d, bool joined_late)
{
	/* Joined late, the peer's table size is a guess (most encoders keep
	 * the default) and its bound is unknown until SETTINGS are seen. */
	*d = (struct hpack_decoder){
		.max_size = HPACK_DEFAULT_TABLE,
		.settings_max = joined_late ? UINT32_MAX : HPACK_DEFAULT_TABLE,
		.unknown_tail = joined_late,
	};
}

void hpack_decoder_free(struct hpack_decoder *d)
{
	table_evict(d, 0);
	free(d->entries);
	free(d->scratch);
	*d = (struct hpack_decoder){ 0 };
}

/*
 * A lost block may have inserted entries: every entry known so far may now
 * sit at a larger index, by an unknown amount. Keeping them at their old
 * indexes would name fields wrongly, so they are all dropped; entries
 * inserted from now on are known again, older ones are reported unknown.
 */
void hpack_decoder_lost_block(struct hpack_decoder *d)
{
	table_evict(d, 0);
	d->unknown_tail = true;
}

void hpack_decoder_settings(struct hpack_decoder *d, uint32_t max)
{
	d->settings_max = max;
}

/* ---- encoder ---------------------------------------------------------- */

struct writer {
	uint8_t *p;
	size_t cap, len;
	bool full;
};

static bool writer_room(struct writer *w, size_t n)
{
	if (w->full || n > w->cap - w->len)
		w->full = true;
	return !w->full;
}

static void put_int(struct writer *w, uint8_t first, unsigned int prefix, uint32_t v)
{
	uint32_t mask = (1u << prefix) - 1;

	if (!writer_room(w, 1))
		return;
	if (v < mask) {
		w->p[w->len++] = first | (uint8_t)v;
		return;
	}
	w->p[w->len++] = first | (uint8_t)mask;
	for (v -= mask; writer_room(w, 1); v >>= 7) {
		w->p[w->len++] = (uint8_t)(v & 0x7f) | (v >= 0x80 ? 0x80 : 0);
		if (v < 0x80)
			return;
	}
}

static void put_string(struct writer *w, const char *s, size_t n, bool huffman)
{
	size_t hlen = huffman ? hpack_huffman_len(s, n) : n;

	if (hlen < n) {
		put_int(w, 0x80, 7, (uint32_t)hlen);
		if (writer_room(w, hlen))
			w->len += hpack_huffman_encode(s, n, w->p + w->len);
	} else {
		put_int(w, 0, 7, (uint32_t)n);
		if (writer_room(w, n)) {
			memcpy(w->p + w->len, s, n);
			w->len += n;
		}
	}
}

/* The index of an exact match (*exact set), else of the first entry with
 * the name (static entries first, being smaller), else 0. */
static uint32_t table_find(const struct hpack_decoder *d, const struct field *want, bool *exact)
{
	uint32_t idx, by_name = 0, n = STATIC_N + d->nentries;
	struct field f;

	*exact = false;
	for (idx = 1; idx <= n; idx++) {
		table_get(d, idx, &f);
		if (!f.name || f.nlen != want->nlen || memcmp(f.name, want->name, f.nlen))
			continue;
		if (f.vlen == want->vlen && !memcmp(f.value, want->value, f.vlen)) {
			*exact = true;
			return idx;
		}
		if (!by_name)
			by_name = idx;
	}
	return by_name;
}

void hpack_encoder_init(struct hpack_encoder *e, bool huffman)
{
	hpack_decoder_init(&e->table, false);
	e->huffman = huffman;
	e->pending_size_update = NO_UPDATE;
}

void hpack_encoder_free(struct hpack_encoder *e)
{
	hpack_decoder_free(&e->table);
}

/* Only the last size is signalled: a smaller one in between leaves the peer
 * with extra old entries, which this encoder no longer references. */
void hpack_encoder_set_max(struct hpack_encoder *e, uint32_t max)
{
	table_set_max(&e->table, max);
	e->pending_size_update = max;
}

size_t hpack_encode_field(struct hpack_encoder *e, const char *name, const char *value,
			  enum hpack_how how, uint8_t *out, size_t cap)
{
	static const uint8_t first[] = {
		[HPACK_INCREMENTAL] = 0x40, [HPACK_WITHOUT] = 0x00, [HPACK_NEVER] = 0x10
	};
	struct field f = { name, value, strlen(name), strlen(value), 0 };
	struct writer w = { out, cap, 0, false };
	bool exact;
	uint32_t idx;

	if (f.nlen > TABLE_CLAMP || f.vlen > TABLE_CLAMP)
		return 0;
	idx = table_find(&e->table, &f, &exact);
	if (e->pending_size_update != NO_UPDATE)
		put_int(&w, 0x20, 5, e->pending_size_update);
	if (exact && how != HPACK_NEVER) {
		put_int(&w, 0x80, 7, idx);
	} else {
		put_int(&w, first[how], how == HPACK_INCREMENTAL ? 6 : 4, idx);
		if (!idx)
			put_string(&w, name, f.nlen, e->huffman);
		put_string(&w, value, f.vlen, e->huffman);
	}
	if (w.full)
		return 0;
	if (how == HPACK_INCREMENTAL && !exact &&
	    table_insert(&e->table, name, f.nlen, value, f.vlen))
		return 0;
	e->pending_size_update = NO_UPDATE;
	return w.len;
}
