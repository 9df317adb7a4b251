/* test_render.c - the text side of the UI without a terminal: summaries,
 * frames and detail tabs of constructed messages, the text pane's cursor,
 * follow and search, the Conversation and Message detail screens over a
 * real store, saving and OSC 52. Drawing goes to a fake screen. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "render.h"
#include "save.h"
#include "store.h"
#include "textpane.h"
#include "unit.h"

/* ---- stubs: the session, the UI framework and the filter ---- */

struct session {
	struct store *store;
	struct lib_table libs;
};

struct filter {
	enum msg_kind kind; /* the stub matches messages of this kind */
};

#define ROWS 24
#define COLS 200

static struct {
	char cell[ROWS][COLS][5];
	enum ui_role role[ROWS][COLS];
	char flash[256];
	bool flash_error;
	struct view *pushed;
} t;

struct store *session_store(const struct session *s)
{
	return s->store;
}

const struct lib_table *session_libs(const struct session *s)
{
	return &s->libs;
}

int64_t session_realtime_offset(const struct session *s)
{
	return 1700000000LL * 1000000000LL;
}

uint64_t session_started_ns(const struct session *s)
{
	return 0;
}

bool filter_match(const struct filter *f, const struct message *m, const struct filter_env *env)
{
	return !f || m->kind == f->kind;
}

const char *filter_text(const struct filter *f)
{
	return f ? "kind" : NULL;
}

static size_t u8len(const char *s)
{
	unsigned char c = (unsigned char)*s;

	return c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

int ui_width(const char *s)
{
	int w = 0;

	for (; *s; s += u8len(s))
		w++;
	return w;
}

int ui_print(struct ui *ui, int y, int x, int w, enum ui_role role, attr_t extra, bool cut,
	     const char *s)
{
	int used = 0;

	if (w <= 0 || y < 0 || y >= ROWS || x >= ui->cols)
		return 0;
	if (x + w > ui->cols)
		w = ui->cols - x;
	for (; *s; s += u8len(s)) {
		if (used == w) {
			if (cut)
				snprintf(t.cell[y][x + used - 1], 5, "%s", ui->g->ellipsis);
			break;
		}
		snprintf(t.cell[y][x + used], 5, "%.*s", (int)u8len(s), s);
		t.role[y][x + used++] = role;
	}
	return used;
}

int ui_print_pad(struct ui *ui, int y, int x, int w, enum ui_role role, attr_t extra,
		 const char *s)
{
	int used = ui_print(ui, y, x, w, role, extra, true, s);

	for (int i = used; i < w && x + i < ui->cols && y >= 0 && y < ROWS; i++) {
		strcpy(t.cell[y][x + i], " ");
		t.role[y][x + i] = role;
	}
	return w;
}

void ui_format_ts(const struct ui *ui, char *buf, size_t len, uint64_t mono_ns,
		  uint64_t first_ns, uint64_t prev_ns)
{
	snprintf(buf, len, "%llu.%03llu", (unsigned long long)(mono_ns / 1000000000ULL),
		 (unsigned long long)(mono_ns / 1000000ULL % 1000));
}

void ui_flash(struct ui *ui, bool error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t.flash, sizeof(t.flash), fmt, ap);
	va_end(ap);
	t.flash_error = error;
}

void ui_moved(struct ui *ui)
{
}

void ui_push(struct ui *ui, struct view *v)
{
	t.pushed = v;
}

/* ---- fixtures ---- */

static const struct ui_glyphs glyphs = {
	.arrow_out = "→", .arrow_in = "←", .ellipsis = "…", .hline = "─", .dot = " · ",
};

static const struct msg_limits lim = { 1 << 20, 16, 1 << 16 };

static struct session sess;
static uint64_t marks[64];
static struct options opts = { .conn_budget = 4 << 20 };

static struct ui make_ui(void)
{
	struct ui ui = {
		.o = &opts, .s = &sess, .g = &glyphs, .rows = ROWS, .cols = 80, .utf8 = true,
		.marks = marks, .marks_cap = 64,
	};

	return ui;
}

static void hdr(struct message *m, const char *name, const char *value, uint32_t flags)
{
	msg_add_header(m, name, name ? strlen(name) : 0, value, value ? strlen(value) : 0, flags,
		       &lim);
}

/* {1: "ord-77" 2: 1999} */
static const uint8_t order_pb[] = { 0x0a, 6, 'o', 'r', 'd', '-', '7', '7', 0x10, 0xcf, 0x0f };

static void add_grpc(struct message *m, const uint8_t *p, uint32_t n)
{
	struct grpc_msg g = { .len = n, .data = malloc(n), .data_len = n, .full_len = n };

	memcpy(g.data, p, n);
	msg_add_grpc(m, &g, &lim);
	m->body_len += 5 + n;
}

static struct message *grpc_req(uint64_t id, uint32_t stream)
{
	struct message *m = msg_new(MSG_GRPC, MSG_REQUEST, true);

	m->id = id;
	m->stream = stream;
	m->start_ns = m->end_ns = id * 1000000000ULL;
	msg_set_str(&m->method, "POST", 4);
	msg_set_str(&m->path, "/pkg.S/M", 8);
	hdr(m, ":method", "POST", 0);
	hdr(m, ":path", "/pkg.S/M", 0);
	hdr(m, "content-type", "application/grpc", 0);
	hdr(m, "authorization", "Bearer ****", MSG_HDR_MASKED);
	add_grpc(m, order_pb, sizeof(order_pb));
	return m;
}

static struct message *grpc_resp(uint64_t id, uint32_t stream, int grpc_status)
{
	struct message *m = msg_new(MSG_GRPC, MSG_RESPONSE, false);
	char st[12];

	m->id = id;
	m->pair_id = id - 1;
	m->stream = stream;
	m->start_ns = id * 1000000000ULL;
	m->end_ns = m->start_ns + 1000000;
	m->latency_ns = 83900000;
	m->status = 200;
	m->grpc_status = grpc_status;
	msg_set_str(&m->path, "/pkg.S/M", 8);
	hdr(m, ":status", "200", 0);
	hdr(m, "content-type", "application/grpc", 0);
	snprintf(st, sizeof(st), "%d", grpc_status);
	hdr(m, "grpc-status", st, MSG_HDR_TRAILER);
	if (grpc_status) {
		msg_set_str(&m->grpc_message, "ledger timeout", 14);
		hdr(m, "grpc-message", "ledger timeout", MSG_HDR_TRAILER);
	}
	return m;
}

static struct message *h1_msg(uint64_t id, enum msg_kind kind, const char *ctype,
			      const char *body)
{
	struct message *m = msg_new(MSG_H1, kind, kind == MSG_REQUEST);

	m->id = id;
	m->start_ns = m->end_ns = id * 1000000000ULL;
	if (kind == MSG_REQUEST) {
		msg_set_str(&m->method, "POST", 4);
	} else {
		m->status = 200;
		m->latency_ns = 12000000;
	}
	msg_set_str(&m->path, "/api/users", 10);
	hdr(m, "host", "example.com", 0);
	if (ctype)
		hdr(m, "content-type", ctype, 0);
	if (body)
		msg_add_body(m, (const uint8_t *)body, strlen(body), &lim);
	return m;
}

static bool has(const struct lines *l, size_t i, const char *needle)
{
	if (i >= l->n || !strstr(l->v[i].text, needle)) {
		fprintf(stderr, "  line %zu: \"%s\" lacks \"%s\"\n", i,
			i < l->n ? l->v[i].text : "", needle);
		return false;
	}
	return true;
}

/* The line with needle, or -1. */
static long find(const struct lines *l, const char *needle)
{
	for (size_t i = 0; i < l->n; i++)
		if (strstr(l->v[i].text, needle))
			return (long)i;
	return -1;
}

static void row_text(int y, char *out, size_t len)
{
	size_t o = 0;

	for (int x = 0; x < COLS && o + 5 < len; x++)
		o += (size_t)snprintf(out + o, len - o, "%s", t.cell[y][x][0] ? t.cell[y][x] : "");
	while (o && out[o - 1] == ' ')
		out[--o] = '\0';
}

static void screen_clear(void)
{
	memset(t.cell, 0, sizeof(t.cell));
	memset(t.role, 0, sizeof(t.role));
}

/* ---- lines ---- */

static void test_lines(void)
{
	struct lines l = { 0 };

	CHECK(lines_add(&l, R_NORMAL, 7, "a\tb\x1b[2Jc%s", "\xff\xc2\x85 é") == 0);
	CHECK_STR(l.v[0].text, "a b.[2Jc??? é");
	CHECK_EQ_U64(l.v[0].id, 7);
	for (int i = 0; i < 100; i++)
		lines_add(&l, R_DIM, (uint64_t)i, "%d", i);
	CHECK_EQ_U64(l.n, 101);
	CHECK_STR(l.v[100].text, "99");
	lines_clear(&l);
	CHECK(l.n == 0 && l.v == NULL);
}

/* ---- summaries and frames ---- */

static void test_summary(void)
{
	struct ui ui = make_ui();
	struct lines l = { 0 };
	struct message *req = grpc_req(1, 17), *resp = grpc_resp(2, 17, 13);
	struct message *rst = msg_new(MSG_H2, MSG_RESET, false);
	struct message *ga = msg_new(MSG_H2, MSG_GOAWAY, false);
	struct message *h1 = h1_msg(5, MSG_REQUEST, NULL, "x=1");

	render_summary(&ui, &l, req, 0, 0);
	CHECK_STR(l.v[0].text, " 1.000 → #17 POST /pkg.S/M  16 B");
	CHECK_EQ_U64(l.v[0].role, R_REQUEST);
	CHECK_EQ_U64(l.v[0].id, 1);

	marks[0] = 2;
	ui.nmarks = 1;
	render_summary(&ui, &l, resp, 0, 0);
	CHECK_STR(l.v[1].text, "*2.000 ← #17 200 grpc-status 13 INTERNAL  grpc-message \"ledger "
			       "timeout\"  /pkg.S/M  0 B  83.9 ms  ERR");
	CHECK_EQ_U64(l.v[1].role, R_ERROR_ROW);
	ui.nmarks = 0;

	rst->id = 3;
	rst->stream = 17;
	rst->error_code = 8;
	render_summary(&ui, &l, rst, 0, 0);
	CHECK(has(&l, 2, "RST_STREAM CANCEL"));
	CHECK(has(&l, 2, "ERR"));
	ga->id = 4;
	ga->last_stream = 5;
	render_summary(&ui, &l, ga, 0, 0);
	CHECK(has(&l, 3, "GOAWAY NO_ERROR last 5"));
	CHECK(strstr(l.v[3].text, "  ERR") == NULL);

	h1->flags |= MSG_F_INCOMPLETE | MSG_F_GAP | MSG_F_PATH_UNKNOWN;
	render_summary(&ui, &l, h1, 0, 0);
	CHECK_STR(l.v[4].text, " 5.000 → POST /api/users  3 B  …incomplete  gap  path?");

	resp->grpc_status = 0;
	resp->latency_ns = 1500000000ULL;
	render_summary(&ui, &l, resp, 0, 0);
	CHECK(has(&l, 5, "1500.0 ms  SLOW"));
	CHECK_EQ_U64(l.v[5].role, R_SLOW_ROW);

	lines_clear(&l);
	msg_free(req);
	msg_free(resp);
	msg_free(rst);
	msg_free(ga);
	msg_free(h1);
}

static void test_frames(void)
{
	struct ui ui = make_ui();
	struct lines l = { 0 };
	struct message *req = grpc_req(1, 17), *resp = grpc_resp(2, 17, 13);
	struct message *h1 = h1_msg(5, MSG_RESPONSE, "text/plain", "hello\x01world");

	render_frames(&ui, &l, req);
	CHECK_EQ_U64(l.n, 2);
	CHECK_STR(l.v[0].text, " 1.000 → HEADERS  POST /pkg.S/M  content-type: application/grpc  "
			       "authorization: Bearer ****");
	CHECK_STR(l.v[1].text, " 1.000 → DATA     grpc msg 11 B  {1: \"ord-77\" 2: 1999}");

	add_grpc(resp, (const uint8_t *)"\xff\xff", 2);
	render_frames(&ui, &l, resp);
	CHECK_EQ_U64(l.n, 5);
	CHECK(has(&l, 2, "← HEADERS  :status 200  content-type: application/grpc"));
	CHECK(has(&l, 3, "DATA     grpc msg 2 B  \"..\""));
	CHECK(has(&l, 4, "2.001 ← TRAILERS grpc-status 13 INTERNAL  grpc-message \"ledger "
			 "timeout\"  83.9 ms  ERR"));
	CHECK_EQ_U64(l.v[4].role, R_ERROR_ROW);

	render_frames(&ui, &l, h1);
	CHECK(has(&l, 5, "HEADERS  :status 200  content-type: text/plain  host: example.com"));
	CHECK(has(&l, 6, "DATA     11 B  \"hello.world\"  12.0 ms"));
	lines_clear(&l);
	msg_free(req);
	msg_free(resp);
	msg_free(h1);
}

static void test_headers(void)
{
	struct ui ui = make_ui();
	struct lines l = { 0 };
	struct message *resp = grpc_resp(2, 17, 13);

	hdr(resp, NULL, "x", 0);
	hdr(resp, "x-known", NULL, MSG_HDR_TRAILER);
	resp->flags |= MSG_F_HEADERS_CUT;
	render_headers(&ui, &l, resp);
	CHECK_STR(l.v[0].text, ":status: 200");
	CHECK_STR(l.v[1].text, "content-type: application/grpc");
	CHECK_STR(l.v[2].text, "── trailers ──");
	CHECK_EQ_U64(l.v[2].role, R_TITLE);
	CHECK_STR(l.v[3].text, "grpc-status: 13");
	CHECK_STR(l.v[5].text, "(unknown: HPACK index not seen): x");
	CHECK_EQ_U64(l.v[5].role, R_DIM);
	CHECK_STR(l.v[6].text, "x-known: (unknown: HPACK index not seen)");
	CHECK(has(&l, 7, "headers past the header budget"));
	lines_clear(&l);
	msg_free(resp);

	/* pseudo-headers live in the message's fields */
	resp = msg_new(MSG_GRPC, MSG_REQUEST, true);
	msg_set_str(&resp->method, "POST", 4);
	msg_set_str(&resp->path, "/pkg.S/M", 8);
	msg_set_str(&resp->authority, "api:443", 7);
	hdr(resp, "content-type", "application/grpc", 0);
	render_headers(&ui, &l, resp);
	CHECK_STR(l.v[0].text, ":method: POST");
	CHECK_STR(l.v[1].text, ":authority: api:443");
	CHECK_STR(l.v[2].text, ":path: /pkg.S/M");
	CHECK_STR(l.v[3].text, "content-type: application/grpc");
	lines_clear(&l);
	msg_free(resp);
}

/* ---- bodies ---- */

static void test_body_json(void)
{
	struct ui ui = make_ui();
	struct lines l = { 0 };
	struct message *m = h1_msg(1, MSG_RESPONSE, NULL, " {\"a\": [1, 2, {}], \"b\":\"x,{y}\"}");
	static const char *const want[] = {
		"{", "  \"a\": [", "    1,", "    2,", "    {}", "  ],", "  \"b\": \"x,{y}\"", "}",
	};

	render_body(&ui, &l, m, BODY_AUTO, 512);
	CHECK_EQ_U64(l.n, 8);
	for (size_t i = 0; i < 8 && i < l.n; i++)
		CHECK_STR(l.v[i].text, want[i]);
	lines_clear(&l);

	/* cut after 3 lines, the rest counted */
	render_body(&ui, &l, m, BODY_JSON, 3);
	CHECK_EQ_U64(l.n, 4);
	CHECK_STR(l.v[3].text, "… +5 lines (o: open all)");
	lines_clear(&l);
	msg_free(m);

	/* not JSON: as text with a note when JSON is asked for */
	m = h1_msg(1, MSG_RESPONSE, NULL, "{nope\r\nsecond\tline");
	render_body(&ui, &l, m, BODY_AUTO, 0);
	CHECK_EQ_U64(l.n, 2);
	CHECK_STR(l.v[0].text, "{nope");
	CHECK_STR(l.v[1].text, "second  line");
	lines_clear(&l);
	render_body(&ui, &l, m, BODY_JSON, 0);
	CHECK_STR(l.v[0].text, "(not valid JSON: shown as text)");
	lines_clear(&l);
	msg_free(m);

	/* a JSON body cut by the budget still shows as JSON, with what is missing */
	m = h1_msg(1, MSG_RESPONSE, "application/json", "[{\"k\": 1}, {\"k\"");
	m->body_len = 1015;
	m->flags |= MSG_F_BODY_CUT;
	render_body(&ui, &l, m, BODY_AUTO, 0);
	CHECK_STR(l.v[0].text, "[");
	CHECK_STR(l.v[1].text, "  {");
	CHECK_STR(l.v[l.n - 1].text, "… [+1,000 B not captured: body budget]");
	lines_clear(&l);
	msg_free(m);

	/* deep nesting is bounded */
	{
		char deep[2100];

		memset(deep, '[', 1000);
		memset(deep + 1000, ']', 1000);
		deep[2000] = '\0';
		m = h1_msg(1, MSG_RESPONSE, NULL, deep);
		render_body(&ui, &l, m, BODY_AUTO, 10);
		CHECK_EQ_U64(l.n, 1); /* not JSON (too deep), one text line */
		lines_clear(&l);
		render_body(&ui, &l, m, BODY_JSON, 0);
		CHECK_STR(l.v[0].text, "(not valid JSON: shown as text)");
		lines_clear(&l);
		msg_free(m);
	}
}

static void test_body_modes(void)
{
	struct ui ui = make_ui();
	struct lines l = { 0 };
	struct message *m = h1_msg(1, MSG_RESPONSE, NULL, "Hello, world!\n\x00\x01");
	struct message *g = grpc_req(2, 1);
	struct message *z = h1_msg(3, MSG_RESPONSE, NULL, "\x1f\x8b\x08");

	msg_add_body(m, (const uint8_t *)"\x00\x01", 2, &lim);
	render_body(&ui, &l, m, BODY_AUTO, 0);
	CHECK_STR(l.v[0].text,
		  "00000000  48 65 6c 6c 6f 2c 20 77  6f 72 6c 64 21 0a 00 01  |Hello, world!...|");
	CHECK_EQ_U64(l.n, 1);
	lines_clear(&l);
	render_body(&ui, &l, m, BODY_TEXT, 0);
	CHECK_STR(l.v[0].text, "Hello, world!");
	CHECK_STR(l.v[1].text, "..");
	lines_clear(&l);
	CHECK_STR(body_mode_name(BODY_PROTOBUF), "protobuf");

	add_grpc(g, (const uint8_t *)"{\"j\":1}", 7);
	render_body(&ui, &l, g, BODY_AUTO, 0);
	CHECK_STR(l.v[0].text, "message 1/2 (11 B)");
	CHECK_STR(l.v[1].text, "1: \"ord-77\"");
	CHECK_STR(l.v[2].text, "2: 1999");
	CHECK_STR(l.v[3].text, "message 2/2 (7 B)");
	CHECK_STR(l.v[4].text, "{");
	CHECK_STR(l.v[5].text, "  \"j\": 1");
	lines_clear(&l);
	render_body(&ui, &l, g, BODY_HEX, 0);
	CHECK(has(&l, 1, "00000000  0a 06 6f 72 64 2d 37 37  10 cf 0f"));
	lines_clear(&l);

	hdr(z, "content-encoding", "gzip", 0);
	render_body(&ui, &l, z, BODY_AUTO, 0);
	CHECK_STR(l.v[0].text, "(gzip, 3 B compressed)");
	CHECK(has(&l, 1, "1f 8b 08   "));
	lines_clear(&l);

	/* a long line is split, nothing dropped */
	{
		char *big = malloc(10001);

		memset(big, 'a', 10000);
		big[10000] = '\0';
		msg_free(z);
		z = h1_msg(3, MSG_RESPONSE, "text/plain", big);
		render_body(&ui, &l, z, BODY_AUTO, 0);
		CHECK_EQ_U64(l.n, 3);
		CHECK_EQ_U64(strlen(l.v[0].text) + strlen(l.v[1].text) + strlen(l.v[2].text),
			     10000);
		lines_clear(&l);
		free(big);
	}
	msg_free(m);
	msg_free(g);
	msg_free(z);
}

/* Random bytes and bracket soup through every mode: nothing crashes, every
 * line is printable UTF-8. */
static void test_body_random(void)
{
	static const char soup[] = "{}[]\",:\\ a1\n\t\xc3\xa9\xff";
	struct ui ui = make_ui();
	uint32_t seed = 12345;

	for (int iter = 0; iter < 3000; iter++) {
		struct message *m = msg_new(iter % 3 ? MSG_H1 : MSG_GRPC, MSG_RESPONSE, false);
		uint8_t buf[300];
		size_t n = (seed = seed * 1103515245 + 12345) % sizeof(buf);
		struct lines l = { 0 };

		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			buf[i] = iter % 2 ? (uint8_t)(seed >> 16) : (uint8_t)soup[(seed >> 16) % 15];
		}
		if (m->proto == MSG_GRPC)
			add_grpc(m, buf, (uint32_t)n);
		else
			msg_add_body(m, buf, n, &lim);
		m->body_len += iter % 5;
		for (int b = 0; b < BODY_NMODES; b++)
			render_body(&ui, &l, m, (enum body_mode)b, iter % 2 ? 5 : 0);
		render_frames(&ui, &l, m);
		for (size_t i = 0; i < l.n; i++)
			CHECK(json_is_text(l.v[i].text, strlen(l.v[i].text)) &&
			      !strpbrk(l.v[i].text, "\t\n\r"));
		lines_clear(&l);
		msg_free(m);
	}
}

static void test_raw_timing(void)
{
	struct ui ui = make_ui();
	struct lines l = { 0 };
	struct message *m = grpc_resp(2, 17, 13);

	m->who.pid = 4312;
	m->who.tid = 4313;
	memcpy(m->who.comm, "api-server", 11);
	m->flags |= MSG_F_GAP | MSG_F_HEADERS_CUT;
	render_raw(&ui, &l, m);
	CHECK(has(&l, 0, "4312 api-server ← grpc"));
	CHECK(has(&l, 0, "200 grpc 13 INTERNAL 83.9ms [gap] /pkg.S/M"));
	CHECK(has(&l, 1, "    :status: 200"));
	lines_clear(&l);

	render_timing(&ui, &l, m);
	CHECK(has(&l, 0, "start       2023-11-14T22:13:22.000000Z"));
	CHECK(find(&l, "latency     83.9 ms since request 1") >= 0);
	CHECK(find(&l, "process     pid 4312 tid 4313 api-server") >= 0);
	CHECK(find(&l, "stream      17  part 0") >= 0);
	CHECK(find(&l, "flags       gap, headers cut") >= 0);
	lines_clear(&l);
	msg_free(m);
}

/* ---- the text pane ---- */

static struct lines numbered(uint64_t from, uint64_t to, const char *word)
{
	struct lines l = { 0 };

	for (uint64_t i = from; i <= to; i++)
		lines_add(&l, R_NORMAL, i, "line %llu %s", (unsigned long long)i,
			  i % 3 ? "" : word);
	return l;
}

static void test_textpane_follow(void)
{
	struct ui ui = make_ui();
	struct textpane tp;
	struct lines l = numbered(1, 10, "x");

	textpane_init(&tp, true, true);
	textpane_set(&tp, &l);
	CHECK(l.n == 0 && l.v == NULL);
	CHECK_EQ_U64(textpane_id(&tp), 10);
	l = numbered(1, 12, "x");
	textpane_set(&tp, &l);
	CHECK_EQ_U64(textpane_id(&tp), 12); /* following: the last line */

	/* moving up stops following; the cursor then sticks to its message */
	CHECK(textpane_action(&ui, &tp, ACT_UP, 5));
	CHECK(!tp.follow);
	CHECK(textpane_action(&ui, &tp, ACT_PGUP, 5));
	CHECK_EQ_U64(textpane_id(&tp), 7);
	l = numbered(4, 20, "x"); /* older lines evicted, newer arrived */
	textpane_set(&tp, &l);
	CHECK_EQ_U64(textpane_id(&tp), 7);
	CHECK_EQ_U64(tp.cur, 3);
	l = numbered(8, 20, "x"); /* its message is gone: same index, clamped */
	textpane_set(&tp, &l);
	CHECK_EQ_U64(tp.cur, 3);
	CHECK(textpane_action(&ui, &tp, ACT_END, 5));
	CHECK(tp.follow);
	CHECK_EQ_U64(textpane_id(&tp), 20);
	CHECK(textpane_action(&ui, &tp, ACT_FOLLOW, 5));
	CHECK(!tp.follow);
	CHECK(textpane_action(&ui, &tp, ACT_HOME, 5));
	CHECK_EQ_U64(tp.cur, 0);
	CHECK(!textpane_action(&ui, &tp, ACT_SAVE, 5));

	/* the lines given back after appending to them */
	lines_add(&tp.lines, R_NORMAL, 21, "line 21");
	tp.follow = true;
	textpane_set(&tp, &tp.lines);
	CHECK_EQ_U64(textpane_id(&tp), 21);

	/* several lines per message: the cursor keeps its offset inside it */
	l = (struct lines){ 0 };
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < 3; k++)
			lines_add(&l, R_NORMAL, (uint64_t)i + 1, "m%d.%d", i, k);
	tp.follow = false;
	textpane_set(&tp, &l);
	tp.cur = 4; /* m1.1 */
	l = (struct lines){ 0 };
	for (int i = 1; i < 3; i++)
		for (int k = 0; k < 3; k++)
			lines_add(&l, R_NORMAL, (uint64_t)i + 1, "m%d.%d", i, k);
	textpane_set(&tp, &l);
	CHECK_EQ_U64(tp.cur, 1);
	CHECK_STR(tp.lines.v[tp.cur].text, "m1.1");
	textpane_free(&tp);

	textpane_init(&tp, true, false);
	textpane_set(&tp, &l); /* empty pane to lines */
	CHECK_EQ_U64(tp.cur, 0);
	tp.cur = 5;
	lines_clear(&tp.lines); /* emptied behind its back */
	CHECK_EQ_U64(textpane_id(&tp), 0);
	l = numbered(1, 3, "");
	textpane_set(&tp, &l);
	CHECK_EQ_U64(tp.cur, 2);
	textpane_free(&tp);
}

static void test_textpane_search(void)
{
	struct ui ui = make_ui();
	struct textpane tp;
	struct lines l = numbered(1, 10, "Error");
	long n;

	textpane_init(&tp, true, true);
	textpane_set(&tp, &l);
	tp.follow = false;
	tp.cur = 4;
	n = textpane_search(&ui, &tp, "error"); /* smart case: lower case ignores case */
	CHECK_EQ_U64(n, 3);
	CHECK_EQ_U64(tp.hits, 3);
	CHECK_EQ_U64(textpane_id(&tp), 6); /* first hit at or after the cursor */
	CHECK(textpane_action(&ui, &tp, ACT_SEARCH_NEXT, 5));
	CHECK_EQ_U64(textpane_id(&tp), 9);
	t.flash[0] = '\0';
	CHECK(textpane_action(&ui, &tp, ACT_SEARCH_NEXT, 5));
	CHECK_EQ_U64(textpane_id(&tp), 3);
	CHECK_STR(t.flash, "search hit BOTTOM, continuing at TOP");
	CHECK(textpane_action(&ui, &tp, ACT_SEARCH_PREV, 5));
	CHECK_EQ_U64(textpane_id(&tp), 9);
	CHECK_STR(t.flash, "search hit TOP, continuing at BOTTOM");
	CHECK_EQ_U64(textpane_search(&ui, &tp, "^error"), 0);
	CHECK_EQ_U64(textpane_search(&ui, &tp, "ERROR"), 0); /* upper case: exact */
	CHECK_EQ_U64(textpane_search(&ui, &tp, "\\d Error"), 3);
	CHECK(textpane_search(&ui, &tp, "(") == -1);
	CHECK(t.flash_error);
	CHECK(strstr(t.flash, "search: ") == t.flash);
	CHECK(strstr(t.flash, "at offset 1") != NULL);
	CHECK_EQ_U64(tp.hits, 3); /* an invalid regex keeps the old search */

	/* a search over a live pane follows the lines it is given */
	l = numbered(1, 30, "Error");
	textpane_set(&tp, &l);
	CHECK(textpane_action(&ui, &tp, ACT_SEARCH_PREV, 5));
	CHECK_EQ_U64(textpane_id(&tp), 6); /* the cursor kept its line, 9 */
	CHECK_EQ_U64(textpane_search(&ui, &tp, NULL), 0);
	CHECK(tp.re == NULL);
	t.flash_error = false;
	CHECK(textpane_action(&ui, &tp, ACT_SEARCH_NEXT, 5));
	CHECK(t.flash_error);
	/* a pathological pattern stops at the match limit */
	l = (struct lines){ 0 };
	lines_add(&l, R_NORMAL, 1, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!");
	textpane_set(&tp, &l);
	CHECK_EQ_U64(textpane_search(&ui, &tp, "(a+)+$"), 0);
	textpane_free(&tp);
}

static void test_textpane_draw(void)
{
	struct ui ui = make_ui();
	struct textpane tp;
	struct lines l = numbered(1, 30, "Error here");
	char row[1024];

	ui.cols = 20;
	textpane_init(&tp, true, true);
	textpane_set(&tp, &l);
	textpane_search(&ui, &tp, "err");
	tp.cur = 5; /* line 6 Error here */
	tp.top = 2;
	screen_clear();
	textpane_draw(&ui, &tp, 2, 4);
	row_text(2, row, sizeof(row));
	CHECK_STR(row, "line 3 Error here");
	row_text(5, row, sizeof(row));
	CHECK_STR(row, "line 6 Error here");
	CHECK_EQ_U64(t.role[5][0], R_SELECTION);
	CHECK_EQ_U64(t.role[5][7], R_MATCH);
	CHECK_EQ_U64(t.role[5][9], R_MATCH);
	CHECK_EQ_U64(t.role[5][10], R_SELECTION);
	CHECK_EQ_U64(t.role[2][7], R_MATCH);
	CHECK_EQ_U64(t.role[2][6], R_NORMAL);
	CHECK_EQ_U64(t.role[5][19], R_SELECTION); /* padded to the width */

	/* horizontal scroll, then wrap */
	tp.hscroll = 8;
	screen_clear();
	textpane_draw(&ui, &tp, 0, 4);
	row_text(3, row, sizeof(row));
	CHECK_STR(row, "rror here");
	CHECK_EQ_U64(t.role[3][0], R_MATCH);
	ui.wrap = true;
	ui.cols = 10;
	screen_clear();
	textpane_draw(&ui, &tp, 0, 4);
	row_text(2, row, sizeof(row));
	CHECK_STR(row, "line 6 Err");
	row_text(3, row, sizeof(row));
	CHECK_STR(row, "or here");
	CHECK_EQ_U64(t.role[2][9], R_MATCH);
	CHECK_EQ_U64(t.role[3][0], R_SELECTION);

	/* a pane without a cursor scrolls its top and stops at the end */
	textpane_free(&tp);
	ui.wrap = false;
	ui.cols = 20;
	l = numbered(1, 10, "");
	textpane_init(&tp, false, false);
	textpane_set(&tp, &l);
	for (int i = 0; i < 20; i++)
		textpane_action(&ui, &tp, ACT_DOWN, 4);
	screen_clear();
	textpane_draw(&ui, &tp, 0, 4);
	CHECK_EQ_U64(tp.top, 6);
	row_text(3, row, sizeof(row));
	CHECK_STR(row, "line 10");
	CHECK_EQ_U64(t.role[3][0], R_NORMAL);
	textpane_action(&ui, &tp, ACT_UP, 4);
	CHECK_EQ_U64(tp.top, 5);
	textpane_free(&tp);
}

/* ---- saving and copying ---- */

static void test_save(void)
{
	struct ui ui = make_ui();
	struct message *req = grpc_req(1, 3), *resp = grpc_resp(2, 3, 0);
	struct store_conn_key k = { .id = "fd:1:2", .gen = 1 };
	char dir[] = "/tmp/test_render.XXXXXX", path[128], link[160], buf[4096];
	uint64_t ids[] = { 1, 2, 99 };
	char *cause = NULL, *seq;
	struct stat st;
	size_t len;
	FILE *f;
	int lines = 0;

	store_add(sess.store, &k, req);
	store_add(sess.store, &k, resp);
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/out.jsonl", dir);
	CHECK_EQ_U64(save_messages(&ui, ids, 3, path, true, &cause), 2);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	f = fopen(path, "r");
	while (f && fgets(buf, sizeof(buf), f)) {
		CHECK(strstr(buf, "{\"type\":\"message\"") == buf);
		lines++;
	}
	if (f)
		fclose(f);
	CHECK_EQ_U64(lines, 2);
	snprintf(link, sizeof(link), "%s/link", dir);
	CHECK(symlink(path, link) == 0);
	CHECK(save_messages(&ui, ids, 1, link, false, &cause) == -1);
	CHECK(cause && strstr(cause, "link"));
	free(cause);
	cause = NULL;
	CHECK(save_messages(&ui, ids, 1, dir, false, &cause) == -1);
	free(cause);
	unlink(link);
	unlink(path);
	rmdir(dir);

	save_default_path(buf, sizeof(buf), 4312, 0, true);
	CHECK(!strncmp(buf, "./tlstop-4312-19700101-", 23) ||
	      !strncmp(buf, "./tlstop-4312-1969", 18));
	CHECK(strstr(buf, ".jsonl") != NULL);

	seq = save_osc52("hi", 2, false, &len);
	CHECK_STR(seq, "\033]52;c;aGk=\a");
	CHECK_EQ_U64(len, strlen(seq));
	free(seq);
	seq = save_osc52("hi!", 3, true, &len);
	CHECK_STR(seq, "\033Ptmux;\033\033]52;c;aGkh\a\033\\");
	free(seq);
	{
		char *big = malloc(SAVE_OSC52_MAX + 100);

		memset(big, 'a', SAVE_OSC52_MAX + 100);
		seq = save_osc52(big, SAVE_OSC52_MAX + 100, false, &len);
		CHECK(len <= 100000 + 10);
		free(seq);
		free(big);
	}
	len = 0;
	seq = save_format(&ui, resp, false, &len);
	CHECK(seq && strstr(seq, "grpc 0 OK") && len == strlen(seq));
	free(seq);
}

/* ---- the screens over a store ---- */

static struct store_conn_key conv_key(void)
{
	struct store_conn_key k = { .id = "fd:9:9", .gen = 9 };

	return k;
}

static void fill_h2(void)
{
	struct store_conn_key k = conv_key();

	for (uint32_t s = 1; s <= 3; s++) {
		store_add(sess.store, &k, grpc_req(100 + 2 * s, 2 * s - 1));
		store_add(sess.store, &k, grpc_resp(101 + 2 * s, 2 * s - 1, s == 2 ? 13 : 0));
	}
}

static void test_conv_h2(void)
{
	struct ui ui = make_ui();
	struct store_conn_key k = conv_key();
	struct filter only_req = { MSG_REQUEST };
	struct view *v;
	char row[1024];

	fill_h2();
	v = conv_view_new(&ui, &k);
	CHECK(v != NULL);
	CHECK(v->follow);
	CHECK_EQ_U64(v->shown, 6);
	CHECK(strstr(v->crumb, "fd:9:9 · stream 5") == v->crumb);
	screen_clear();
	v->ops->draw(&ui, v, 0, 20);
	row_text(0, row, sizeof(row));
	CHECK(strstr(row, "#1      closed 200  0 OK") != NULL);
	CHECK(strstr(row, "83.9 ms  POST /pkg.S/M") != NULL);
	row_text(1, row, sizeof(row));
	CHECK(strstr(row, "#3      closed 200  13 INTERNAL") && strstr(row, "ERR"));
	CHECK_EQ_U64(t.role[1][5], R_ERROR_ROW);
	row_text(8, row, sizeof(row));
	CHECK(strstr(row, "── stream 5 streams · (Tab: frames)") == row);
	row_text(9, row, sizeof(row));
	CHECK(strstr(row, "→ HEADERS  POST /pkg.S/M") != NULL);

	/* up a stream: its frames; Tab, ] and Enter on a message */
	CHECK(v->ops->action(&ui, v, ACT_UP));
	CHECK(!v->follow);
	CHECK(strstr(v->crumb, "stream 3") != NULL);
	CHECK(v->ops->action(&ui, v, ACT_TAB));
	CHECK(v->ops->action(&ui, v, ACT_NEXT_ITEM));
	screen_clear();
	v->ops->draw(&ui, v, 0, 20);
	CHECK_EQ_U64(t.role[11][0], R_SELECTION); /* the response's HEADERS */
	row_text(11, row, sizeof(row));
	CHECK(strstr(row, "← HEADERS") != NULL);
	CHECK(v->ops->action(&ui, v, ACT_ENTER));
	CHECK(t.pushed != NULL);
	if (t.pushed) {
		struct view *d = t.pushed;

		CHECK(strstr(d->crumb, "stream 3 · response") == d->crumb);
		screen_clear();
		d->ops->draw(&ui, d, 0, 10);
		row_text(0, row, sizeof(row));
		CHECK(strstr(row, " Headers   Body   Raw   Timing    body: auto") == row);
		CHECK_EQ_U64(t.role[0][1], R_SELECTION);
		row_text(1, row, sizeof(row));
		CHECK_STR(row, ":status: 200");
		CHECK(d->ops->action(&ui, d, ACT_TAB));
		CHECK(d->ops->action(&ui, d, ACT_HEX));
		CHECK_STR(t.flash, "body: hex");
		CHECK(d->ops->action(&ui, d, ACT_PREV_ITEM)); /* the request of stream 3 */
		CHECK(strstr(d->crumb, "stream 3 · request") == d->crumb);
		CHECK(d->ops->action(&ui, d, ACT_PREV_ITEM));
		CHECK_STR(t.flash, "no previous message in this stream");
		CHECK_EQ_U64(d->ops->search(&ui, d, "ord"), 1);
		CHECK(d->ops->action(&ui, d, ACT_TAB)); /* Raw: searched when shown */
		screen_clear();
		d->ops->draw(&ui, d, 0, 10);
		CHECK_EQ_U64(t.role[0][17], R_SELECTION);
		d->ops->free(d);
		t.pushed = NULL;
	}

	/* m marks the message under the cursor; a: requests only; a filter */
	CHECK(v->ops->action(&ui, v, ACT_MARK));
	CHECK_EQ_U64(ui.nmarks, 1);
	CHECK(v->ops->action(&ui, v, ACT_MARK));
	CHECK_EQ_U64(ui.nmarks, 0);
	CHECK(v->ops->action(&ui, v, ACT_DIRECTION));
	CHECK_EQ_U64(v->shown, 3);
	CHECK(strstr(v->crumb, "requests only") != NULL);
	CHECK(v->ops->action(&ui, v, ACT_DIRECTION));
	CHECK(v->ops->action(&ui, v, ACT_DIRECTION));
	v->filter = &only_req;
	v->ops->update(&ui, v, false);
	CHECK_EQ_U64(v->shown, 3);
	CHECK(v->ops->action(&ui, v, ACT_CONTEXT));
	CHECK_EQ_U64(v->shown, 3);
	{
		size_t match, total;

		v->ops->count(&ui, v, &only_req, &match, &total);
		CHECK_EQ_U64(match, 3);
		CHECK_EQ_U64(total, 6);
	}
	v->filter = NULL;
	CHECK(!v->ops->action(&ui, v, ACT_SORT));

	/* new messages arrive at the frame rate; c clears */
	store_add(sess.store, &k, grpc_req(200, 7));
	v->ops->update(&ui, v, false);
	CHECK_EQ_U64(v->total, 7);
	CHECK(v->ops->action(&ui, v, ACT_CLEAR));
	CHECK_EQ_U64(v->shown, 0);
	v->ops->free(v);
}

static void test_conv_h1(void)
{
	struct ui ui = make_ui();
	struct store_conn_key k = { .id = "fd:7:7", .gen = 7 };
	struct store_limits small = { 4000, 1 << 20 };
	struct store *big = sess.store;
	struct view *v;
	char row[1024];

	sess.store = store_new(&small);
	for (uint64_t i = 1; i <= 40; i++)
		store_add(sess.store, &k,
			  h1_msg(i, i % 2 ? MSG_REQUEST : MSG_RESPONSE, "application/json", "{}"));
	v = conv_view_new(&ui, &k);
	CHECK(v != NULL);
	screen_clear();
	v->ops->draw(&ui, v, 0, 10);
	row_text(0, row, sizeof(row));
	CHECK(strstr(row, "older messages evicted (budget 4.0 MiB/conn)") != NULL);
	row_text(3, row, sizeof(row));
	CHECK(strstr(row, "40.000 ← 200  /api/users  2 B  12.0 ms") != NULL);
	CHECK_EQ_U64(t.role[3][0], R_SELECTION);
	row_text(4, row, sizeof(row));
	CHECK_STR(row, "");
	CHECK(v->ops->search(&ui, v, "POST") > 0);
	CHECK(!v->follow);
	CHECK(!v->ops->action(&ui, v, ACT_TAB));
	CHECK(v->ops->action(&ui, v, ACT_PREV_ITEM));

	/* evicted entirely: the last lines stay */
	store_free(sess.store);
	sess.store = store_new(&small);
	v->ops->update(&ui, v, false);
	CHECK(strstr(v->crumb, "connection closed/evicted") != NULL);
	screen_clear();
	v->ops->draw(&ui, v, 0, 10);
	row_text(1, row, sizeof(row));
	CHECK(strstr(row, "/api/users") != NULL);
	CHECK(v->ops->action(&ui, v, ACT_ENTER));
	CHECK(t.pushed == NULL);
	CHECK(strstr(t.flash, "no longer held") != NULL);
	v->ops->free(v);
	store_free(sess.store);
	sess.store = big;
	CHECK(detail_view_new(&ui, 12345) == NULL);
}

int main(void)
{
	struct store_limits big = { 1 << 30, 1 << 30 };

	sess.store = store_new(&big);
	test_lines();
	test_summary();
	test_frames();
	test_headers();
	test_body_json();
	test_body_modes();
	test_body_random();
	test_raw_timing();
	test_textpane_follow();
	test_textpane_search();
	test_textpane_draw();
	test_save();
	test_conv_h2();
	test_conv_h1();
	store_free(sess.store);
	return unit_result("test_render");
}
