/* render.c - messages turned into copied lines: one-line summaries,
 * HTTP/2-style frames and the Headers, Body, Raw and Timing tabs. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "methods.h"
#include "output.h"
#include "proto/grpc.h"
#include "proto/protobuf.h"
#include "render.h"
#include "save.h"
#include "session.h"
#include "strbuf.h"
#include "targets.h"

#define SLOW_NS 1000000000ULL /* SLOW past one second */
#define LINE_MAX_BYTES 4096 /* longer body lines continue on the next line */
#define PREVIEW_CHARS 60 /* body preview in a DATA line */
#define PROTO_LINE_MAX 160 /* one-line protobuf in a DATA line */
#define GRPC_MESSAGE_MAX 80 /* grpc-message in a summary */
#define FRAME_HEADERS 3 /* headers besides the request line on a HEADERS line */
#define HEADER_VALUE_MAX 40
#define JSON_DEPTH_MAX 256 /* deeper is not shown as JSON: bounds the validator's stack */
#define INDENT_MAX 32 /* indentation levels drawn */

/* ---- lines ---- */

/* Lines are drawn as they are: no control characters (they would move
 * the terminal's cursor) and only valid UTF-8 (curses would cut there). */
static void sanitize(char *s)
{
	uint8_t *p = (uint8_t *)s;
	size_t n = strlen(s), i = 0;

	while (i < n) {
		size_t len;

		if (p[i] < 0x20 || p[i] == 0x7f) {
			p[i] = p[i] == '\t' ? ' ' : '.';
			i++;
		} else if (p[i] < 0x80) {
			i++;
		} else if (!(len = utf8_seq_len(p + i, n - i)) ||
			   (p[i] == 0xc2 && p[i + 1] < 0xa0)) {
			p[i++] = '?';
		} else {
			i += len;
		}
	}
}

static int lines_vadd(struct lines *l, enum ui_role role, uint64_t id, const char *fmt,
		      va_list ap)
{
	char *text;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct line *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	if (vasprintf(&text, fmt, ap) < 0)
		return -1;
	sanitize(text);
	l->v[l->n++] = (struct line){ .text = text, .role = role, .id = id };
	return 0;
}

int lines_add(struct lines *l, enum ui_role role, uint64_t id, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = lines_vadd(l, role, id, fmt, ap);
	va_end(ap);
	return ret;
}

void lines_clear(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].text);
	free(l->v);
	*l = (struct lines){ 0 };
}

/* Adds s to the end of the last line (the latency of a frame list). */
static void lines_append(struct lines *l, const char *s)
{
	struct line *ln;
	char *t;

	if (!l->n)
		return;
	ln = &l->v[l->n - 1];
	if (asprintf(&t, "%s%s", ln->text, s) < 0)
		return;
	sanitize(t);
	free(ln->text);
	ln->text = t;
}

/* ---- small formatters ---- */

static void fmt_size(char *buf, size_t len, uint64_t n)
{
	if (n < 1024)
		snprintf(buf, len, "%" PRIu64 " B", n);
	else if (n < 1024 * 1024)
		snprintf(buf, len, "%.1f KiB", (double)n / 1024);
	else if (n < 1024ULL * 1024 * 1024)
		snprintf(buf, len, "%.1f MiB", (double)n / (1024 * 1024));
	else
		snprintf(buf, len, "%.1f GiB", (double)n / (1024.0 * 1024 * 1024));
}

/* "1,203": loss counts are read, not estimated */
static void fmt_count(char *buf, size_t len, uint64_t n)
{
	char digits[24];
	size_t nd = (size_t)snprintf(digits, sizeof(digits), "%" PRIu64, n), o = 0;

	for (size_t i = 0; i < nd && o + 2 < len; i++) {
		if (i && (nd - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
}

static void fmt_ms(char *buf, size_t len, uint64_t ns)
{
	snprintf(buf, len, "%.1f ms", (double)ns / 1e6);
}

/* At most max bytes of s, cut on a character boundary with the ellipsis. */
static void sb_add_cut(struct ui *ui, struct strbuf *sb, const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max) {
		sb_add(sb, s, n);
		return;
	}
	while (max && ((uint8_t)s[max] & 0xc0) == 0x80)
		max--;
	sb_add(sb, s, max);
	sb_adds(sb, ui->g->ellipsis);
}

/* Printable ASCII of the first max bytes, the rest as dots (hexdump -C). */
static void sb_add_preview(struct ui *ui, struct strbuf *sb, const uint8_t *p, size_t n,
			   size_t max)
{
	sb_addc(sb, '"');
	for (size_t i = 0; i < n && i < max; i++)
		sb_addc(sb, p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.');
	sb_addc(sb, '"');
	if (n > max)
		sb_adds(sb, ui->g->ellipsis);
}

static bool is_slow(const struct message *m)
{
	return m->latency_ns > SLOW_NS;
}

static enum ui_role msg_role(const struct message *m)
{
	if (methods_is_error(m))
		return R_ERROR_ROW;
	if (is_slow(m))
		return R_SLOW_ROW;
	return m->kind == MSG_REQUEST ? R_REQUEST : R_RESPONSE;
}

static const char *arrow(struct ui *ui, const struct message *m)
{
	return m->out ? ui->g->arrow_out : ui->g->arrow_in;
}

static const char *err_name(uint32_t code, char *buf, size_t len)
{
	const char *name = msg_h2_error_name(code);

	if (name)
		return name;
	snprintf(buf, len, "0x%x", code);
	return buf;
}

/* "13 INTERNAL" */
static void sb_grpc_status(struct strbuf *sb, int code)
{
	const char *name = grpc_status_name(code);

	sb_printf(sb, "grpc-status %d%s%s", code, name ? " " : "", name ? name : "");
}

static void sb_grpc_message(struct ui *ui, struct strbuf *sb, const struct message *m)
{
	if (!m->grpc_message || !*m->grpc_message)
		return;
	sb_adds(sb, "  grpc-message \"");
	sb_add_cut(ui, sb, m->grpc_message, GRPC_MESSAGE_MAX);
	sb_addc(sb, '"');
}

/* "POST /p", "200 grpc-status 13 INTERNAL", "RST_STREAM CANCEL" */
static void sb_kind(struct ui *ui, struct strbuf *sb, const struct message *m)
{
	char num[16];

	switch (m->kind) {
	case MSG_REQUEST:
		sb_printf(sb, "%s %s", m->method ? m->method : "?", m->path ? m->path : "?");
		break;
	case MSG_RESPONSE:
		if (m->status >= 0)
			sb_printf(sb, "%d", m->status);
		else
			sb_adds(sb, "-");
		if (m->grpc_status >= 0) {
			sb_addc(sb, ' ');
			sb_grpc_status(sb, m->grpc_status);
		}
		sb_grpc_message(ui, sb, m);
		break;
	case MSG_RESET:
		sb_printf(sb, "RST_STREAM %s", err_name(m->error_code, num, sizeof(num)));
		break;
	case MSG_GOAWAY:
		sb_printf(sb, "GOAWAY %s last %u", err_name(m->error_code, num, sizeof(num)),
			  m->last_stream);
		break;
	}
}

/* Never colour alone: what the role says is also written out. */
static void sb_markers(struct ui *ui, struct strbuf *sb, const struct message *m)
{
	if (methods_is_error(m))
		sb_adds(sb, "  ERR");
	if (is_slow(m))
		sb_adds(sb, "  SLOW");
	if (m->flags & MSG_F_INCOMPLETE)
		sb_printf(sb, "  %sincomplete", ui->g->ellipsis);
	if (m->flags & MSG_F_GAP)
		sb_adds(sb, "  gap");
	if (m->flags & MSG_F_PATH_UNKNOWN)
		sb_adds(sb, "  path?");
}

static void sb_latency(struct strbuf *sb, const struct message *m)
{
	char ms[32];

	if ((m->kind == MSG_RESPONSE || m->kind == MSG_RESET) && m->latency_ns) {
		fmt_ms(ms, sizeof(ms), m->latency_ns);
		sb_printf(sb, "  %s", ms);
	}
}

/* ---- summaries ---- */

void render_summary(struct ui *ui, struct lines *out, const struct message *m,
		    uint64_t first_ns, uint64_t prev_ns)
{
	struct strbuf sb = { 0 };
	char ts[48], size[32];

	ui_format_ts(ui, ts, sizeof(ts), m->start_ns, first_ns, prev_ns);
	sb_printf(&sb, "%s%s %s ", ui_marked(ui, m->id) ? "*" : " ", ts, arrow(ui, m));
	if (m->proto != MSG_H1)
		sb_printf(&sb, "#%u ", m->stream);
	sb_kind(ui, &sb, m);
	if (m->kind != MSG_REQUEST && m->path)
		sb_printf(&sb, "  %s", m->path);
	if (m->kind == MSG_REQUEST || m->kind == MSG_RESPONSE) {
		fmt_size(size, sizeof(size), m->body_len);
		sb_printf(&sb, "  %s", size);
	}
	sb_latency(&sb, m);
	sb_markers(ui, &sb, m);
	lines_add(out, msg_role(m), m->id, "%s", sb_str(&sb));
	sb_free(&sb);
}

/* ---- frames ---- */

static bool is_pseudo(const struct msg_header *h)
{
	return h->name && h->name[0] == ':';
}

static void sb_header(struct ui *ui, struct strbuf *sb, const struct msg_header *h)
{
	sb_printf(sb, "  %s: ", h->name ? h->name : "?");
	sb_add_cut(ui, sb, h->value ? h->value : "?", HEADER_VALUE_MAX);
}

/* content-type first, then the first others in wire order; "+N" for the rest */
static void sb_few_headers(struct ui *ui, struct strbuf *sb, const struct message *m,
			   bool trailers)
{
	const struct msg_header *ct = trailers ? NULL : msg_header(m, "content-type");
	unsigned int shown = 0, more = 0;

	if (ct && !(ct->flags & MSG_HDR_TRAILER)) {
		sb_header(ui, sb, ct);
		shown++;
	}
	for (uint32_t i = 0; i < m->nheaders; i++) {
		const struct msg_header *h = &m->headers[i];

		if (!(h->flags & MSG_HDR_TRAILER) != !trailers || is_pseudo(h) || h == ct)
			continue;
		/* said already from the message's fields */
		if (h->name &&
		    (!strcasecmp(h->name, "grpc-status") || !strcasecmp(h->name, "grpc-message")))
			continue;
		if (shown < FRAME_HEADERS) {
			sb_header(ui, sb, h);
			shown++;
		} else {
			more++;
		}
	}
	if (more)
		sb_printf(sb, "  +%u", more);
}

static bool has_trailers(const struct message *m)
{
	for (uint32_t i = 0; i < m->nheaders; i++)
		if (m->headers[i].flags & MSG_HDR_TRAILER)
			return true;
	return false;
}

static void frame_headers(struct ui *ui, struct lines *out, const struct message *m,
			  const char *ts)
{
	struct strbuf sb = { 0 };

	sb_printf(&sb, "%s %s HEADERS  ", ts, arrow(ui, m));
	if (m->kind == MSG_REQUEST) {
		sb_kind(ui, &sb, m);
	} else {
		if (m->status >= 0)
			sb_printf(&sb, ":status %d", m->status);
		else
			sb_adds(&sb, ":status ?");
		if (m->grpc_status >= 0 && !has_trailers(m)) {
			sb_adds(&sb, "  ");
			sb_grpc_status(&sb, m->grpc_status);
			sb_grpc_message(ui, &sb, m);
		}
	}
	sb_few_headers(ui, &sb, m, false);
	lines_add(out, m->kind == MSG_REQUEST ? R_REQUEST : R_RESPONSE, m->id, "%s",
		  sb_str(&sb));
	sb_free(&sb);
}

static const char *grpc_encoding(const struct message *m)
{
	const struct msg_header *h = msg_header(m, "grpc-encoding");

	return h && h->value ? h->value : "compressed";
}

static bool grpc_plain(const struct grpc_msg *g)
{
	return !g->compressed || g->inflated;
}

static void frame_grpc(struct ui *ui, struct lines *out, const struct message *m,
		       const char *ts, const struct grpc_msg *g)
{
	struct strbuf sb = { 0 }, pb = { 0 };
	char size[32];

	sb_printf(&sb, "%s %s DATA     grpc msg %u B", ts, arrow(ui, m), g->len);
	if (g->compressed && g->inflated) {
		fmt_size(size, sizeof(size), g->full_len);
		sb_printf(&sb, " (%s, inflated %s)", grpc_encoding(m), size);
	} else if (g->compressed) {
		sb_printf(&sb, " (%s, not inflated)", grpc_encoding(m));
	}
	if (g->incomplete || g->data_len < g->full_len)
		sb_printf(&sb, " %sincomplete", ui->g->ellipsis);
	sb_adds(&sb, "  ");
	if (grpc_plain(g) && g->data_len == g->full_len &&
	    !protobuf_render(g->data, g->data_len, 0, &pb)) {
		sb_addc(&sb, '{');
		sb_add_cut(ui, &sb, sb_str(&pb), PROTO_LINE_MAX);
		sb_addc(&sb, '}');
	} else {
		sb_add_preview(ui, &sb, g->data, g->data_len, PREVIEW_CHARS);
	}
	lines_add(out, m->kind == MSG_REQUEST ? R_REQUEST : R_RESPONSE, m->id, "%s", sb_str(&sb));
	sb_free(&pb);
	sb_free(&sb);
}

static const char *content_encoding(const struct message *m)
{
	const struct msg_header *h = msg_header(m, "content-encoding");

	if (!h || !h->value || !*h->value || !strcasecmp(h->value, "identity"))
		return NULL;
	return h->value;
}

static void frame_data(struct ui *ui, struct lines *out, const struct message *m,
		       const char *ts)
{
	enum ui_role role = m->kind == MSG_REQUEST ? R_REQUEST : R_RESPONSE;
	struct strbuf sb = { 0 };
	const char *enc = content_encoding(m);
	char size[32];

	for (uint32_t i = 0; i < m->ngrpc; i++)
		frame_grpc(ui, out, m, ts, &m->grpc[i]);
	if (m->grpc_total > m->ngrpc)
		lines_add(out, role, m->id, "%s %s DATA     %s +%u grpc msgs not kept", ts,
			  arrow(ui, m), ui->g->ellipsis, m->grpc_total - m->ngrpc);
	if (m->proto == MSG_GRPC || !m->body_len)
		return;
	fmt_size(size, sizeof(size), m->body_len);
	sb_printf(&sb, "%s %s DATA     %s", ts, arrow(ui, m), size);
	if (enc) {
		sb_printf(&sb, " (%s)", enc);
	} else if (m->body_captured) {
		sb_adds(&sb, "  ");
		sb_add_preview(ui, &sb, m->body, m->body_captured, PREVIEW_CHARS);
	}
	lines_add(out, role, m->id, "%s", sb_str(&sb));
	sb_free(&sb);
}

static void frame_trailers(struct ui *ui, struct lines *out, const struct message *m,
			   const char *ts)
{
	struct strbuf sb = { 0 };

	sb_printf(&sb, "%s %s TRAILERS", ts, arrow(ui, m));
	if (m->grpc_status >= 0) {
		sb_addc(&sb, ' ');
		sb_grpc_status(&sb, m->grpc_status);
		sb_grpc_message(ui, &sb, m);
	}
	sb_few_headers(ui, &sb, m, true);
	lines_add(out, methods_is_error(m) ? R_ERROR_ROW : R_RESPONSE, m->id, "%s", sb_str(&sb));
	sb_free(&sb);
}

static void frame_control(struct ui *ui, struct lines *out, const struct message *m,
			  const char *ts)
{
	struct strbuf sb = { 0 };
	char num[16];

	sb_printf(&sb, "%s %s ", ts, arrow(ui, m));
	if (m->kind == MSG_GOAWAY) {
		sb_kind(ui, &sb, m);
		if (m->body_captured) {
			sb_adds(&sb, "  ");
			sb_add_preview(ui, &sb, m->body, m->body_captured, PREVIEW_CHARS);
		}
	} else {
		sb_printf(&sb, "RST_STREAM %s", err_name(m->error_code, num, sizeof(num)));
	}
	lines_add(out, methods_is_error(m) ? R_ERROR_ROW : R_RESPONSE, m->id, "%s", sb_str(&sb));
	sb_free(&sb);
}

void render_frames(struct ui *ui, struct lines *out, const struct message *m)
{
	uint64_t first = session_started_ns(ui->s);
	const char *mark = ui_marked(ui, m->id) ? "*" : " ";
	struct strbuf tail = { 0 };
	char t[48], ts[50], end[50];
	size_t n0 = out->n;

	ui_format_ts(ui, t, sizeof(t), m->start_ns, first, m->start_ns);
	snprintf(ts, sizeof(ts), "%s%s", mark, t);
	ui_format_ts(ui, t, sizeof(t), m->end_ns, first, m->start_ns);
	snprintf(end, sizeof(end), "%s%s", mark, t);
	if (m->kind == MSG_REQUEST || m->kind == MSG_RESPONSE) {
		frame_headers(ui, out, m, ts);
		frame_data(ui, out, m, ts);
		if (has_trailers(m))
			frame_trailers(ui, out, m, end);
	}
	if (m->kind == MSG_RESET || m->kind == MSG_GOAWAY || (m->flags & MSG_F_RESET))
		frame_control(ui, out, m, end);
	sb_latency(&tail, m);
	sb_markers(ui, &tail, m);
	if (out->n > n0 && tail.len)
		lines_append(out, sb_str(&tail));
	sb_free(&tail);
}

/* ---- headers ---- */

static const char unknown_hdr[] = "(unknown: HPACK index not seen)";

static void header_line(struct lines *out, const struct message *m, const struct msg_header *h)
{
	lines_add(out, h->name && h->value ? R_NORMAL : R_DIM, m->id, "%s: %s",
		  h->name ? h->name : unknown_hdr, h->value ? h->value : unknown_hdr);
}

static void pseudo_line(struct lines *out, const struct message *m, const char *name,
			const char *value)
{
	if (value)
		lines_add(out, R_NORMAL, m->id, "%s: %s", name, value);
}

/* The HTTP/2 decoder keeps pseudo-headers in the message's fields, not as
 * headers: they are shown first, as they were sent. */
static void pseudo_headers(struct lines *out, const struct message *m)
{
	char status[12];

	for (uint32_t i = 0; i < m->nheaders; i++)
		if (is_pseudo(&m->headers[i]))
			return;
	if (m->kind == MSG_REQUEST) {
		pseudo_line(out, m, ":method", m->method);
		pseudo_line(out, m, ":scheme", m->scheme);
		pseudo_line(out, m, ":authority", m->authority);
		pseudo_line(out, m, ":path", m->path);
		if (m->flags & MSG_F_PATH_UNKNOWN)
			lines_add(out, R_DIM, m->id, ":path: %s", unknown_hdr);
	} else if (m->kind == MSG_RESPONSE && m->status >= 0) {
		snprintf(status, sizeof(status), "%d", m->status);
		pseudo_line(out, m, ":status", status);
	}
}

void render_headers(struct ui *ui, struct lines *out, const struct message *m)
{
	struct strbuf sb = { 0 };
	bool trailers = false;

	if (m->proto == MSG_H1 || m->kind == MSG_RESET || m->kind == MSG_GOAWAY) {
		if (m->proto == MSG_H1 && m->kind == MSG_RESPONSE)
			sb_adds(&sb, "status ");
		sb_kind(ui, &sb, m);
		lines_add(out, R_TITLE, m->id, "%s", sb_str(&sb));
	} else {
		pseudo_headers(out, m);
	}
	for (uint32_t i = 0; i < m->nheaders; i++) {
		const struct msg_header *h = &m->headers[i];

		if ((h->flags & MSG_HDR_TRAILER) && !trailers) {
			lines_add(out, R_TITLE, m->id, "%s%s trailers %s%s", ui->g->hline,
				  ui->g->hline, ui->g->hline, ui->g->hline);
			trailers = true;
		}
		header_line(out, m, h);
	}
	if (!m->nheaders)
		lines_add(out, R_DIM, m->id, "(no headers)");
	if (m->flags & MSG_F_HEADERS_CUT)
		lines_add(out, R_DIM, m->id, "%s headers past the header budget were dropped",
			  ui->g->ellipsis);
	sb_free(&sb);
}

/* ---- body ---- */

/* Where body lines go: at most max of them (0: all), the rest counted. */
struct sink {
	struct lines *out;
	uint64_t id;
	size_t max, n, more;
};

static void sink_add(struct sink *s, enum ui_role role, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void sink_add(struct sink *s, enum ui_role role, const char *fmt, ...)
{
	va_list ap;

	if (s->max && s->n >= s->max) {
		s->more++;
		return;
	}
	va_start(ap, fmt);
	if (!lines_vadd(s->out, role, s->id, fmt, ap))
		s->n++;
	va_end(ap);
}

/* One line of text, in pieces of at most LINE_MAX_BYTES cut on characters. */
static void sink_long(struct sink *s, enum ui_role role, const char *p, size_t n)
{
	do {
		size_t k = n;

		if (k > LINE_MAX_BYTES) {
			k = LINE_MAX_BYTES;
			while (k > 1 && ((uint8_t)p[k] & 0xc0) == 0x80)
				k--;
		}
		sink_add(s, role, "%.*s", (int)k, p);
		p += k;
		n -= k;
	} while (n);
}

/* Text split at newlines, CR before them dropped, tabs expanded. */
static void sink_text(struct sink *s, enum ui_role role, const uint8_t *p, size_t n)
{
	struct strbuf line = { 0 };
	size_t i = 0;

	while (i < n) {
		const uint8_t *nl = memchr(p + i, '\n', n - i);
		size_t end = nl ? (size_t)(nl - p) : n, len = end - i;

		if (len && p[i + len - 1] == '\r')
			len--;
		sb_truncate(&line, 0);
		for (size_t k = 0; k < len; k++) {
			if (p[i + k] != '\t') {
				sb_addc(&line, (char)p[i + k]);
				continue;
			}
			do
				sb_addc(&line, ' ');
			while (line.len % 8);
		}
		/* a NUL inside would end the line early: it is shown as a dot */
		for (size_t k = 0; k < line.len; k++)
			if (!line.s[k])
				line.s[k] = '.';
		sink_long(s, role, sb_str(&line), line.len);
		i = end + 1;
	}
	sb_free(&line);
}

static void sink_hex(struct sink *s, const uint8_t *p, size_t n)
{
	for (size_t off = 0; off < n; off += 16) {
		char hex[16 * 3 + 2], asc[17];
		size_t o = 0, k;

		for (k = 0; k < 16; k++) {
			if (off + k < n)
				snprintf(hex + o, sizeof(hex) - o, "%02x ", p[off + k]);
			else
				memcpy(hex + o, "   ", 4);
			o += 3;
			if (k == 7)
				hex[o++] = ' ';
			asc[k] = off + k < n && p[off + k] >= 0x20 && p[off + k] < 0x7f ?
					 (char)p[off + k] :
					 off + k < n ? '.' : '\0';
		}
		hex[o] = '\0';
		asc[16] = '\0';
		sink_add(s, R_NORMAL, "%08zx  %s |%s|", off, hex, asc);
	}
}

/* ---- JSON ---- */

enum jv { JV_OK, JV_PREFIX, JV_BAD }; /* PREFIX: valid as far as it goes */

struct jp {
	const uint8_t *p;
	size_t n, i;
	int depth;
};

static size_t json_skip_ws(const uint8_t *p, size_t n, size_t i)
{
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	return i;
}

static void jp_ws(struct jp *j)
{
	j->i = json_skip_ws(j->p, j->n, j->i);
}

static enum jv jp_value(struct jp *j);

static enum jv jp_literal(struct jp *j, const char *lit)
{
	size_t len = strlen(lit);

	for (size_t k = 0; k < len; k++, j->i++) {
		if (j->i == j->n)
			return JV_PREFIX;
		if (j->p[j->i] != (uint8_t)lit[k])
			return JV_BAD;
	}
	return JV_OK;
}

static enum jv jp_string(struct jp *j)
{
	for (j->i++; j->i < j->n; j->i++) {
		uint8_t c = j->p[j->i];

		if (c == '"') {
			j->i++;
			return JV_OK;
		}
		if (c < 0x20)
			return JV_BAD;
		if (c == '\\')
			j->i++;
	}
	return JV_PREFIX;
}

static enum jv jp_number(struct jp *j)
{
	size_t start = j->i;

	while (j->i < j->n && j->p[j->i] && strchr("0123456789+-.eE", j->p[j->i]))
		j->i++;
	if (j->i == start)
		return JV_BAD;
	return j->i == j->n ? JV_PREFIX : JV_OK;
}

/* [ value, ... ] or { "key": value, ... } */
static enum jv jp_container(struct jp *j, bool object)
{
	uint8_t close = object ? '}' : ']';
	enum jv r;

	if (++j->depth > JSON_DEPTH_MAX)
		return JV_BAD;
	j->i++;
	jp_ws(j);
	if (j->i < j->n && j->p[j->i] == close) {
		j->i++;
		j->depth--;
		return JV_OK;
	}
	for (;;) {
		jp_ws(j);
		if (object) {
			if (j->i < j->n && j->p[j->i] != '"')
				return JV_BAD;
			if ((r = jp_value(j)) != JV_OK)
				return r;
			jp_ws(j);
			if (j->i < j->n && j->p[j->i++] != ':')
				return JV_BAD;
		}
		if ((r = jp_value(j)) != JV_OK)
			return r;
		jp_ws(j);
		if (j->i == j->n)
			return JV_PREFIX;
		if (j->p[j->i] == close)
			break;
		if (j->p[j->i++] != ',')
			return JV_BAD;
	}
	j->i++;
	j->depth--;
	return JV_OK;
}

static enum jv jp_value(struct jp *j)
{
	jp_ws(j);
	if (j->i == j->n)
		return JV_PREFIX;
	switch (j->p[j->i]) {
	case '{':
		return jp_container(j, true);
	case '[':
		return jp_container(j, false);
	case '"':
		return jp_string(j);
	case 't':
		return jp_literal(j, "true");
	case 'f':
		return jp_literal(j, "false");
	case 'n':
		return jp_literal(j, "null");
	}
	return jp_number(j);
}

static enum jv json_check(const uint8_t *p, size_t n)
{
	struct jp j = { .p = p, .n = n };
	enum jv r = jp_value(&j);

	if (r != JV_OK)
		return r;
	jp_ws(&j);
	return j.i == n ? JV_OK : JV_BAD;
}

static void json_flush(struct sink *s, struct strbuf *line, int depth)
{
	size_t indent = 2 * (size_t)(depth < INDENT_MAX ? depth : INDENT_MAX);

	if (strspn(sb_str(line), " ") < line->len)
		sink_long(s, R_NORMAL, sb_str(line), line->len);
	sb_truncate(line, 0);
	for (size_t k = 0; k < indent; k++)
		sb_addc(line, ' ');
}

/* Tolerant: re-indents whatever it is given by its brackets, commas and
 * strings, so a body cut short still reads as JSON. */
static void sink_json(struct sink *s, const uint8_t *p, size_t n)
{
	struct strbuf line = { 0 };
	bool in_str = false, esc = false;
	int depth = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		size_t k;

		if (in_str) {
			sb_addc(&line, c ? (char)c : '.');
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
			continue;
		}
		switch (c) {
		case '"':
			in_str = true;
			sb_addc(&line, '"');
			break;
		case '{':
		case '[':
			k = json_skip_ws(p, n, i + 1);
			sb_addc(&line, (char)c);
			if (k < n && p[k] == (c == '{' ? '}' : ']')) {
				sb_addc(&line, (char)p[k]);
				i = k;
				break;
			}
			json_flush(s, &line, ++depth);
			break;
		case '}':
		case ']':
			json_flush(s, &line, depth = depth > 0 ? depth - 1 : 0);
			sb_addc(&line, (char)c);
			break;
		case ',':
			sb_addc(&line, ',');
			json_flush(s, &line, depth);
			break;
		case ':':
			sb_adds(&line, ": ");
			break;
		case ' ':
		case '\t':
		case '\r':
		case '\n':
			break;
		default:
			sb_addc(&line, c ? (char)c : '.');
		}
	}
	json_flush(s, &line, 0);
	sb_free(&line);
}

/* ---- body modes ---- */

const char *body_mode_name(enum body_mode b)
{
	static const char *const names[BODY_NMODES] = { "auto", "text", "JSON", "protobuf", "hex" };

	return b < BODY_NMODES ? names[b] : "?";
}

/* What the body is sent as, for auto. */
struct blob_hint {
	bool json; /* content-type says JSON */
	bool protobuf; /* gRPC, or content-type says protobuf */
	bool cut; /* bytes are missing at the end */
};

/* printable text, allowing a character cut short at the end */
static bool blob_is_text(const uint8_t *p, size_t n, bool cut)
{
	for (size_t k = 0; k < 4 && k <= n; k++) {
		if (json_is_text(p, n - k))
			return n - k > 0;
		if (!cut)
			break;
	}
	return false;
}

static enum body_mode blob_guess(const uint8_t *p, size_t n, const struct blob_hint *h)
{
	size_t i = json_skip_ws(p, n, 0);
	enum jv jv = JV_BAD;

	if (h->protobuf && protobuf_valid(p, n))
		return BODY_PROTOBUF;
	if (i < n && (p[i] == '{' || p[i] == '['))
		jv = json_check(p, n);
	if (jv == JV_OK || (jv == JV_PREFIX && h->cut) || (h->json && blob_is_text(p, n, h->cut)))
		return BODY_JSON;
	if (blob_is_text(p, n, h->cut))
		return BODY_TEXT;
	return BODY_HEX;
}

static void sink_blob(struct sink *s, const uint8_t *p, size_t n, enum body_mode b,
		      const struct blob_hint *h)
{
	struct strbuf pb = { 0 };

	if (!n) {
		sink_add(s, R_DIM, "(empty)");
		return;
	}
	if (b == BODY_AUTO)
		b = blob_guess(p, n, h);
	switch (b) {
	case BODY_JSON:
		if (json_check(p, n) == JV_BAD) {
			sink_add(s, R_DIM, "(not valid JSON: shown as text)");
			sink_text(s, R_NORMAL, p, n);
		} else {
			sink_json(s, p, n);
		}
		break;
	case BODY_PROTOBUF:
		if (protobuf_render(p, n, PB_MULTILINE, &pb)) {
			sink_add(s, R_DIM, "(not valid protobuf: shown as hex)");
			sink_hex(s, p, n);
		} else {
			sink_text(s, R_NORMAL, (const uint8_t *)sb_str(&pb), pb.len);
		}
		break;
	case BODY_TEXT:
		sink_text(s, R_NORMAL, p, n);
		break;
	default:
		sink_hex(s, p, n);
	}
	sb_free(&pb);
}

static bool header_has(const struct message *m, const char *name, const char *needle)
{
	const struct msg_header *h = msg_header(m, name);

	return h && h->value && strcasestr(h->value, needle);
}

static void body_grpc(struct ui *ui, struct sink *s, const struct message *m, enum body_mode b)
{
	struct blob_hint h = { .protobuf = true };
	uint32_t total = m->grpc_total > m->ngrpc ? m->grpc_total : m->ngrpc;
	char size[32], lost[32];

	for (uint32_t i = 0; i < m->ngrpc; i++) {
		const struct grpc_msg *g = &m->grpc[i];
		struct strbuf sb = { 0 };

		sb_printf(&sb, "message %u/%u (%u B", i + 1, total, g->len);
		if (g->compressed && g->inflated) {
			fmt_size(size, sizeof(size), g->full_len);
			sb_printf(&sb, ", %s, inflated %s", grpc_encoding(m), size);
		} else if (g->compressed) {
			sb_printf(&sb, ", %s, not inflated", grpc_encoding(m));
		}
		sb_addc(&sb, ')');
		sink_add(s, R_TITLE, "%s", sb_str(&sb));
		sb_free(&sb);
		h.cut = g->data_len < g->full_len;
		sink_blob(s, g->data, g->data_len, grpc_plain(g) ? b : BODY_HEX, &h);
		if (h.cut) {
			fmt_count(lost, sizeof(lost), g->full_len - g->data_len);
			sink_add(s, R_DIM, "%s [+%s B not captured]", ui->g->ellipsis, lost);
		}
	}
}

static void body_plain(struct ui *ui, struct sink *s, const struct message *m, enum body_mode b)
{
	struct blob_hint h = {
		.json = header_has(m, "content-type", "json"),
		.protobuf = header_has(m, "content-type", "proto"),
		.cut = m->body_captured < m->body_len,
	};
	const char *enc = content_encoding(m);
	char size[32];

	if (!m->body_len && !m->body_captured) {
		sink_add(s, R_DIM, "(no body)");
		return;
	}
	if (enc && b == BODY_AUTO) {
		fmt_size(size, sizeof(size), m->body_len);
		sink_add(s, R_DIM, "(%s, %s compressed)", enc, size);
		b = BODY_HEX;
	}
	sink_blob(s, m->body, m->body_captured, b, &h);
}

/* What the body lost, said after the cut so it is never hidden. */
static void body_notes(struct ui *ui, struct lines *out, const struct message *m)
{
	char lost[32];

	if (m->proto == MSG_GRPC) {
		if (m->grpc_total > m->ngrpc)
			lines_add(out, R_DIM, m->id, "%s +%u gRPC messages not kept (body budget)",
				  ui->g->ellipsis, m->grpc_total - m->ngrpc);
	} else if (m->body_len > m->body_captured) {
		fmt_count(lost, sizeof(lost), m->body_len - m->body_captured);
		lines_add(out, R_DIM, m->id, "%s [+%s B not captured%s]", ui->g->ellipsis, lost,
			  m->flags & MSG_F_BODY_CUT ? ": body budget" : "");
	}
	if (m->flags & MSG_F_GAP)
		lines_add(out, R_DIM, m->id, "[gap]: bytes of this message were lost");
}

void render_body(struct ui *ui, struct lines *out, const struct message *m, enum body_mode b,
		 size_t max_lines)
{
	struct sink s = { .out = out, .id = m->id, .max = max_lines };
	char more[32];

	if (m->proto == MSG_GRPC && m->ngrpc)
		body_grpc(ui, &s, m, b);
	else if (m->proto == MSG_GRPC && m->body_len && !m->body_captured)
		sink_add(&s, R_DIM, "(no gRPC message kept of %" PRIu64 " B of DATA)", m->body_len);
	else
		body_plain(ui, &s, m, b);
	if (s.more) {
		fmt_count(more, sizeof(more), s.more);
		lines_add(out, R_DIM, m->id, "%s +%s lines (o: open all)", ui->g->ellipsis, more);
	}
	body_notes(ui, out, m);
}

/* ---- raw and timing ---- */

void render_raw(struct ui *ui, struct lines *out, const struct message *m)
{
	struct sink s = { .out = out, .id = m->id };
	size_t len;
	char *text = save_format(ui, m, false, &len);

	if (!text) {
		lines_add(out, R_DIM, m->id, "(out of memory)");
		return;
	}
	sink_text(&s, R_NORMAL, (const uint8_t *)text, len);
	free(text);
}

static void wall_ts(struct ui *ui, char *buf, size_t len, uint64_t mono_ns)
{
	output_format_ts(buf, len, (uint64_t)((int64_t)mono_ns + session_realtime_offset(ui->s)),
			 true);
}

static void timing_flags(struct lines *out, const struct message *m)
{
	static const struct {
		uint32_t flag;
		const char *label;
	} labels[] = {
		{ MSG_F_GAP, "gap" },
		{ MSG_F_INCOMPLETE, "incomplete" },
		{ MSG_F_RESET, "reset" },
		{ MSG_F_BODY_CUT, "body cut" },
		{ MSG_F_HEADERS_CUT, "headers cut" },
		{ MSG_F_DECODE_ERROR, "decode error" },
		{ MSG_F_PARTIAL, "partial" },
		{ MSG_F_PATH_UNKNOWN, "path unknown" },
		{ MSG_F_MASK_OFF, "mask off" },
	};
	struct strbuf sb = { 0 };

	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (m->flags & labels[i].flag)
			sb_printf(&sb, "%s%s", sb.len ? ", " : "", labels[i].label);
	lines_add(out, sb.len ? R_BADGE_WARN : R_NORMAL, m->id, "flags       %s",
		  sb.len ? sb_str(&sb) : "none");
	sb_free(&sb);
}

static void timing_call(struct ui *ui, struct lines *out, const struct message *m)
{
	const struct tlstop_data *d = &m->who;
	const struct lib_table *libs = session_libs(ui->s);
	const struct lib_info *lib = libs ? libs_get(libs, d->lib_id) : NULL;
	char local[64], remote[64], ts[48], dur[32];
	const char *role = d->flags & TLSTOP_F_HAS_FD ? output_role_name(d->addr.role) : NULL;

	lines_add(out, R_NORMAL, m->id, "process     pid %u tid %u %.*s", d->pid, d->tid,
		  TLSTOP_COMM_LEN, d->comm);
	if (lib)
		lines_add(out, R_NORMAL, m->id, "library     %s %s (%s)", lib_kind_name(lib->kind),
			  lib->path ? lib->path : "?", lib_linking_name(lib));
	wall_ts(ui, ts, sizeof(ts), d->ts_ns);
	fmt_ms(dur, sizeof(dur), d->ts_ns > d->start_ns ? d->ts_ns - d->start_ns : 0);
	lines_add(out, R_NORMAL, m->id, "TLS call    %s returned %s after %s",
		  d->func < TLSTOP_FN_COUNT ? target_func_names[d->func] : "?", ts, dur);
	if (output_endpoint(local, sizeof(local), d, true) &&
	    output_endpoint(remote, sizeof(remote), d, false))
		lines_add(out, R_NORMAL, m->id, "connection  %s %s %s%s%s  fd %d", local,
			  ui->g->arrow_out, remote, role ? " " : "", role ? role : "", d->fd);
	output_conn_id(local, sizeof(local), d);
	lines_add(out, R_NORMAL, m->id, "conn id     %s  (connection #%" PRIu64 " of this run)",
		  local, m->conn_seq);
}

void render_timing(struct ui *ui, struct lines *out, const struct message *m)
{
	char ts[48], ms[32], n1[32], n2[32];

	wall_ts(ui, ts, sizeof(ts), m->start_ns);
	lines_add(out, R_NORMAL, m->id, "start       %s  (first byte)", ts);
	wall_ts(ui, ts, sizeof(ts), m->end_ns);
	lines_add(out, R_NORMAL, m->id, "end         %s  (last byte)", ts);
	fmt_ms(ms, sizeof(ms), m->end_ns > m->start_ns ? m->end_ns - m->start_ns : 0);
	lines_add(out, R_NORMAL, m->id, "took        %s", ms);
	if (m->kind == MSG_RESPONSE || m->kind == MSG_RESET) {
		fmt_ms(ms, sizeof(ms), m->latency_ns);
		if (m->latency_ns)
			lines_add(out, is_slow(m) ? R_SLOW_ROW : R_NORMAL, m->id,
				  "latency     %s since request %" PRIu64 "%s", ms, m->pair_id,
				  is_slow(m) ? "  SLOW" : "");
		else
			lines_add(out, R_DIM, m->id, "latency     unknown (request not seen)");
	}
	timing_call(ui, out, m);
	lines_add(out, R_NORMAL, m->id, "message     %" PRIu64 "  %s %s  %s", m->id,
		  msg_proto_name(m->proto), msg_kind_name(m->kind),
		  m->out ? "sent by the traced process" : "received by the traced process");
	if (m->proto != MSG_H1)
		lines_add(out, R_NORMAL, m->id, "stream      %u  part %u", m->stream, m->part);
	fmt_count(n1, sizeof(n1), m->body_len);
	fmt_count(n2, sizeof(n2), m->body_captured);
	lines_add(out, R_NORMAL, m->id, "body        %s B on the wire, %s B captured", n1, n2);
	if (m->proto == MSG_GRPC)
		lines_add(out, R_NORMAL, m->id, "gRPC        %u messages kept of %u", m->ngrpc,
			  m->grpc_total);
	timing_flags(out, m);
}
