/* protobuf.c - schema-less protobuf validation and rendering, like protoc --decode_raw. */
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "proto/protobuf.h"

/* Open braces (nested messages and groups) at most; a deeper length-delimited
 * field is shown as bytes, a deeper group makes the message invalid. */
#define PB_MAX_DEPTH 32
/* Rendering stops past this many bytes of text, so a huge message cannot make a huge string. */
#define PB_OUT_MAX (64 * 1024)

enum pb_wire {
	PB_VARINT = 0,
	PB_I64 = 1,
	PB_LEN = 2,
	PB_SGROUP = 3,
	PB_EGROUP = 4,
	PB_I32 = 5,
};

struct pb_field {
	uint32_t num;
	enum pb_wire wire;
	uint64_t v; /* VARINT, I64, I32 value */
	const uint8_t *data; /* LEN payload */
	size_t len;
};

/* A varint of at most 10 bytes (bits past 64 dropped, as protobuf does);
 * returns its size, 0 when truncated or longer. */
static size_t pb_varint(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	uint64_t r = 0;

	for (size_t i = 0; i < 10 && p + i < end; i++) {
		r |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*v = r;
			return i + 1;
		}
	}
	return 0;
}

static uint64_t pb_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* Decodes the field at p; returns where the next one starts, NULL when malformed. */
static const uint8_t *pb_next(const uint8_t *p, const uint8_t *end, struct pb_field *f)
{
	uint64_t tag, len;
	size_t k = pb_varint(p, end, &tag);

	if (!k || tag > UINT32_MAX || tag >> 3 == 0)
		return NULL;
	p += k;
	f->num = (uint32_t)(tag >> 3);
	f->wire = tag & 7;
	switch (f->wire) {
	case PB_VARINT:
		k = pb_varint(p, end, &f->v);
		return k ? p + k : NULL;
	case PB_I64:
	case PB_I32:
		k = f->wire == PB_I64 ? 8 : 4;
		if ((size_t)(end - p) < k)
			return NULL;
		f->v = pb_le(p, k);
		return p + k;
	case PB_LEN:
		k = pb_varint(p, end, &len);
		if (!k || len > (uint64_t)(end - p - k))
			return NULL;
		f->data = p + k;
		f->len = len;
		return f->data + len;
	case PB_SGROUP:
	case PB_EGROUP:
		return p;
	}
	return NULL; /* wire types 6 and 7 */
}

/* Well-formed fields filling buf exactly, with groups balanced and at most max_depth deep. */
static bool pb_check(const uint8_t *p, size_t n, unsigned int max_depth)
{
	const uint8_t *end = p + n;
	uint32_t groups[PB_MAX_DEPTH];
	unsigned int depth = 0;
	struct pb_field f;

	while (p < end) {
		p = pb_next(p, end, &f);
		if (!p)
			return false;
		if (f.wire == PB_SGROUP) {
			if (depth >= max_depth)
				return false;
			groups[depth++] = f.num;
		} else if (f.wire == PB_EGROUP) {
			if (!depth || groups[--depth] != f.num)
				return false;
		}
	}
	return depth == 0;
}

bool protobuf_valid(const uint8_t *buf, size_t n)
{
	return n > 0 && pb_check(buf, n, PB_MAX_DEPTH);
}

/* Length of the printable character at p: printable ASCII, or a well-formed
 * UTF-8 sequence that is not a C1 control (terminals act on those); 0 otherwise. */
static size_t pb_printable(const uint8_t *p, size_t n)
{
	size_t len;

	if (p[0] >= 0x20 && p[0] < 0x7f)
		return 1;
	if (p[0] < 0x80)
		return 0;
	len = utf8_seq_len(p, n);
	return len == 2 && p[0] == 0xc2 && p[1] < 0xa0 ? 0 : len; /* U+0080..U+009F: C1 */
}

/* Text without control characters: "hi" parses as field 13 = 105, but is far
 * more likely a string. */
static bool pb_is_text(const uint8_t *p, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		k = pb_printable(p + i, n - i);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

struct pb_out {
	struct strbuf *sb;
	size_t limit; /* sb->len past which rendering stops */
	bool multiline;
	bool started;
};

static bool pb_full(const struct pb_out *o)
{
	return o->sb->oom || o->sb->len >= o->limit;
}

/* What goes before an item (field or closing brace) at that depth. */
static void pb_sep(struct pb_out *o, unsigned int depth)
{
	static const char indent[2 * PB_MAX_DEPTH + 1] =
		"                                                                ";

	if (!o->started) {
		o->started = true;
		return;
	}
	if (!o->multiline) {
		sb_addc(o->sb, ' ');
		return;
	}
	sb_addc(o->sb, '\n');
	sb_add(o->sb, indent, 2 * depth);
}

/* Escaped like protoc's CEscape, except that printable UTF-8 is kept as it is;
 * a string cut by the output budget gets no closing quote. */
static void pb_quote(struct pb_out *o, const uint8_t *p, size_t n)
{
	size_t i = 0;

	sb_addc(o->sb, '"');
	while (i < n && !pb_full(o)) {
		size_t run = i, k;
		uint8_t c;
		char esc[5];

		while (run < n && run - i < o->limit - o->sb->len && p[run] != '"' &&
		       p[run] != '\'' && p[run] != '\\' && (k = pb_printable(p + run, n - run)))
			run += k;
		sb_add(o->sb, p + i, run - i);
		i = run;
		if (run == n || pb_full(o))
			break;
		c = p[run];
		switch (c) {
		case '\n':
			sb_add(o->sb, "\\n", 2);
			break;
		case '\r':
			sb_add(o->sb, "\\r", 2);
			break;
		case '\t':
			sb_add(o->sb, "\\t", 2);
			break;
		case '"':
		case '\'':
		case '\\':
			esc[0] = '\\';
			esc[1] = (char)c;
			sb_add(o->sb, esc, 2);
			break;
		default:
			snprintf(esc, sizeof(esc), "\\%03o", c);
			sb_add(o->sb, esc, 4);
		}
		i = run + 1;
	}
	if (i == n)
		sb_addc(o->sb, '"');
}

/* A scalar field, or a LEN field shown as a string. */
static void pb_scalar(struct pb_out *o, const struct pb_field *f)
{
	char tmp[48];
	int k;

	switch (f->wire) {
	case PB_VARINT:
		k = snprintf(tmp, sizeof(tmp), "%u: %llu", f->num, (unsigned long long)f->v);
		break;
	case PB_I64:
		k = snprintf(tmp, sizeof(tmp), "%u: 0x%016llx", f->num, (unsigned long long)f->v);
		break;
	case PB_I32:
		k = snprintf(tmp, sizeof(tmp), "%u: 0x%08x", f->num, (unsigned int)f->v);
		break;
	default:
		k = snprintf(tmp, sizeof(tmp), "%u: ", f->num);
		sb_add(o->sb, tmp, (size_t)k);
		pb_quote(o, f->data, f->len);
		return;
	}
	sb_add(o->sb, tmp, (size_t)k);
}

static void pb_open(struct pb_out *o, uint32_t num)
{
	char tmp[16];
	int k = snprintf(tmp, sizeof(tmp), "%u {", num);

	sb_add(o->sb, tmp, (size_t)k);
}

static void pb_close(struct pb_out *o, unsigned int depth)
{
	pb_sep(o, depth);
	sb_addc(o->sb, '}');
}

/* A LEN field that is a non-empty message whose groups fit the depth left. */
static bool pb_nests(const struct pb_field *f, unsigned int depth)
{
	return f->len && depth < PB_MAX_DEPTH && !pb_is_text(f->data, f->len) &&
	       pb_check(f->data, f->len, PB_MAX_DEPTH - depth - 1);
}

/* Renders a buffer pb_check() accepted, iteratively: frame d is the message
 * or group at depth d (group 0: a message ending at end). */
static void pb_render(const uint8_t *p, size_t n, struct pb_out *o)
{
	struct {
		const uint8_t *end;
		uint32_t group;
	} st[PB_MAX_DEPTH + 1] = { { p + n, 0 } };
	unsigned int d = 0;
	struct pb_field f;

	for (;;) {
		if (pb_full(o)) {
			sb_adds(o->sb, " \u2026");
			return;
		}
		if (!st[d].group && p == st[d].end) {
			if (!d)
				return;
			pb_close(o, --d);
			continue;
		}
		p = pb_next(p, st[d].end, &f);
		if (!p || (f.wire == PB_EGROUP && !d))
			return; /* not reached on a checked buffer */
		if (f.wire == PB_EGROUP) {
			pb_close(o, --d);
			continue;
		}
		pb_sep(o, d);
		if (f.wire == PB_SGROUP || (f.wire == PB_LEN && pb_nests(&f, d))) {
			pb_open(o, f.num);
			d++;
			st[d].end = f.wire == PB_LEN ? f.data + f.len : st[d - 1].end;
			st[d].group = f.wire == PB_SGROUP ? f.num : 0;
			if (f.wire == PB_LEN)
				p = f.data;
		} else {
			pb_scalar(o, &f);
		}
	}
}

int protobuf_render(const uint8_t *buf, size_t n, unsigned int flags, struct strbuf *out)
{
	struct pb_out o = {
		.sb = out,
		.limit = out->len + PB_OUT_MAX,
		.multiline = flags & PB_MULTILINE,
	};

	if (!n)
		return 0;
	if (!protobuf_valid(buf, n))
		return -1;
	pb_render(buf, n, &o);
	return 0;
}
