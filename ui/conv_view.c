/* conv_view.c - the Conversation screen: one connection's messages, a list
 * for HTTP/1, streams and the selected stream's frames for HTTP/2 and gRPC.
 * The lines are kept from frame to frame: new messages are appended and
 * evicted ones dropped, so a busy connection costs what arrives, not what
 * it holds; a changed setting rebuilds them all. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "methods.h"
#include "output.h"
#include "proto/grpc.h"
#include "render.h"
#include "save.h"
#include "strbuf.h"
#include "textpane.h"

#define SLOW_NS 1000000000ULL

enum conv_dir { DIR_ALL, DIR_REQUESTS, DIR_RESPONSES, DIR_COUNT };
enum pane { PANE_LIST, PANE_FRAMES };
enum shown { HIDE, DIM, SHOW };

/* The settings the lines were built with. */
struct conv_seen {
	size_t nmarks;
	bool show_marked;
	enum ts_mode ts;
	char *filter; /* filter_text(), NULL: none */
};

/* A row of the stream list, folded from its messages as they arrive. */
struct srow {
	uint32_t stream;
	uint64_t max_id; /* its newest message: the row goes once that is evicted */
	uint64_t first_ns;
	char *named; /* "POST /p.S/M", "GOAWAY last 5" */
	int status, grpc_status;
	uint64_t latency_ns;
	bool has_req, final, reset, err, slow, marked, dirty;
	size_t shown; /* its messages shown, not only dimmed */
	size_t line; /* its line in the pane's lines; SIZE_MAX: none yet */
};

struct conv {
	struct view v;
	struct store_conn_key key;
	char where[128]; /* "10.0.3.7:51512 → 10.0.9.2:443 client" */
	pid_t pid;
	bool h2; /* streams and frames panes */
	bool gone; /* no longer in the store: the lines are the last snapshot */
	bool closed;
	enum conv_dir dir; /* a */
	bool context; /* Ctrl-X: filtered-out messages dimmed, not hidden */
	uint64_t cleared; /* c: messages up to this id are not shown */
	/* HTTP/1 messages, or HTTP/2 streams: a stream's line id is its id + 1 */
	struct textpane list;
	struct textpane frames; /* the selected stream's messages as frames */
	uint64_t frames_of; /* the list line id the frames are of */
	enum pane focus;
	int list_h, frames_h; /* rows last drawn */
	bool stale; /* a setting changed: rebuild every line */
	bool full; /* this sync rebuilds every line */
	struct conv_seen seen;
	uint64_t last_id, frames_last; /* newest message the list, the frames show */
	uint64_t oldest, evicted; /* the connection's at the last sync */
	uint64_t first_ns, prev_ns; /* start of the first and of the latest line */
	struct srow *rows;
	size_t nrows, rows_cap;
};

static enum shown conv_shows(struct ui *ui, const struct conv *cv, const struct message *m)
{
	if (m->id <= cv->cleared)
		return HIDE;
	if ((cv->dir == DIR_REQUESTS && m->kind != MSG_REQUEST) ||
	    (cv->dir == DIR_RESPONSES && m->kind == MSG_REQUEST))
		return HIDE;
	if (ui->show_marked && !ui_marked(ui, m->id))
		return HIDE;
	if (filter_match(cv->v.filter, m, &ui->fenv))
		return SHOW;
	return cv->context ? DIM : HIDE;
}

static struct textpane *focused(struct conv *cv)
{
	return cv->h2 && cv->focus == PANE_FRAMES ? &cv->frames : &cv->list;
}

static void conv_crumb(struct ui *ui, struct conv *cv)
{
	static const char *const dirs[DIR_COUNT] = { NULL, "requests only", "responses only" };
	uint64_t sel = cv->h2 ? textpane_id(&cv->list) : 0;
	struct strbuf sb = { 0 };

	sb_adds(&sb, cv->where);
	if (sel)
		sb_printf(&sb, "%sstream %" PRIu64, ui->g->dot, sel - 1);
	if (dirs[cv->dir])
		sb_printf(&sb, "%s%s", ui->g->dot, dirs[cv->dir]);
	if (cv->context)
		sb_printf(&sb, "%scontext", ui->g->dot);
	if (cv->gone || cv->closed)
		sb_printf(&sb, "%s%s", ui->g->dot,
			  cv->gone ? "connection closed/evicted" : "closed");
	snprintf(cv->v.crumb, sizeof(cv->v.crumb), "%s", sb_str(&sb));
	sb_free(&sb);
}

/* "… 1203 older messages evicted (budget 4.0 MiB/conn)" */
static void evicted_line(struct ui *ui, const struct conv *cv, const struct store_conn *c,
			 struct lines *l)
{
	if (!c->evicted_msgs || cv->cleared)
		return;
	lines_add(l, R_BADGE_WARN, 0,
		  "%s %" PRIu64 " older messages evicted (budget %.1f MiB/conn)", ui->g->ellipsis,
		  c->evicted_msgs, (double)ui->o->conn_budget / (1 << 20));
}

/* The oldest message newer than id, or NULL. */
static struct store_msg *first_newer(const struct store_conn *c, uint64_t id)
{
	struct store_msg *sm = store_conn_newest(c), *next = NULL;

	for (; sm && sm->m->id > id; sm = store_msg_older(sm))
		next = sm;
	return next;
}

/* Moves the lines of messages still held (ids from oldest on; lines are in
 * message order) to the end of next. old keeps its ids, for the pane to
 * find its cursor, and the texts of the lines dropped, for it to free. */
static void lines_keep(struct lines *next, struct lines *old, uint64_t oldest)
{
	size_t k = 0, n;
	struct line *v;

	while (k < old->n && (!old->v[k].id || old->v[k].id < oldest))
		k++;
	n = old->n - k;
	if (!n || !(v = realloc(next->v, (next->n + n + 64) * sizeof(*v))))
		return;
	memcpy(v + next->n, old->v + k, n * sizeof(*v));
	for (size_t i = k; i < old->n; i++)
		old->v[i].text = NULL;
	next->v = v;
	next->n += n;
	next->cap = next->n + 64;
}

/* ---- HTTP/1: the message list ---- */

static void sync_messages(struct ui *ui, struct conv *cv, const struct store_conn *c)
{
	struct lines next = { 0 };

	evicted_line(ui, cv, c, &next);
	if (!cv->full)
		lines_keep(&next, &cv->list.lines, cv->oldest);
	for (struct store_msg *sm = first_newer(c, cv->last_id); sm; sm = store_msg_newer(sm)) {
		const struct message *m = sm->m;
		enum shown s = conv_shows(ui, cv, m);

		if (s == HIDE)
			continue;
		if (!cv->first_ns)
			cv->first_ns = m->start_ns;
		render_summary(ui, &next, m, cv->first_ns, cv->prev_ns);
		if (s == DIM && next.n)
			next.v[next.n - 1].role = R_DIM;
		cv->prev_ns = m->start_ns;
	}
	textpane_set(&cv->list, &next);
	cv->v.shown = 0;
	for (size_t i = 0; i < cv->list.lines.n; i++)
		cv->v.shown += cv->list.lines.v[i].id && cv->list.lines.v[i].role != R_DIM;
}

/* ---- HTTP/2: streams ---- */

static void rows_free(struct conv *cv)
{
	for (size_t i = 0; i < cv->nrows; i++)
		free(cv->rows[i].named);
	cv->nrows = 0;
}

/* Rows whose every message was evicted go. */
static void rows_evict(struct conv *cv, uint64_t oldest)
{
	size_t k = 0;

	for (size_t i = 0; i < cv->nrows; i++) {
		if (cv->rows[i].max_id < oldest)
			free(cv->rows[i].named);
		else
			cv->rows[k++] = cv->rows[i];
	}
	cv->nrows = k;
}

/* The row of stream, made where it sorts when new; NULL when out of memory. */
static struct srow *row_get(struct conv *cv, uint32_t stream)
{
	size_t lo = 0, hi = cv->nrows;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cv->rows[mid].stream < stream)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < cv->nrows && cv->rows[lo].stream == stream)
		return &cv->rows[lo];
	if (cv->nrows == cv->rows_cap) {
		size_t cap = cv->rows_cap ? cv->rows_cap * 2 : 64;
		struct srow *r = realloc(cv->rows, cap * sizeof(*r));

		if (!r)
			return NULL;
		cv->rows = r;
		cv->rows_cap = cap;
	}
	memmove(cv->rows + lo + 1, cv->rows + lo, (cv->nrows - lo) * sizeof(*cv->rows));
	cv->nrows++;
	cv->rows[lo] = (struct srow){ .stream = stream, .status = -1, .grpc_status = -1,
				      .line = SIZE_MAX };
	return &cv->rows[lo];
}

/* "POST /p.S/M", or "GOAWAY last 5" for the connection's row */
static void row_name(struct srow *r, const struct message *m)
{
	char *s;
	int n;

	if (m->kind == MSG_GOAWAY)
		n = asprintf(&s, "GOAWAY last %u", m->last_stream);
	else
		n = asprintf(&s, "%s%s%s", m->method ? m->method : "", m->method ? " " : "",
			     m->path ? m->path :
			     m->flags & MSG_F_PATH_UNKNOWN ? "(path unknown)" : "?");
	if (n < 0)
		return;
	free(r->named);
	r->named = s;
}

static void row_add(struct ui *ui, struct conv *cv, struct srow *r, const struct message *m,
		    enum shown s)
{
	if (!r->first_ns)
		r->first_ns = m->start_ns;
	if (!cv->first_ns)
		cv->first_ns = m->start_ns;
	if (!r->named || (m->kind == MSG_REQUEST && !r->has_req))
		row_name(r, m);
	r->has_req |= m->kind == MSG_REQUEST;
	if (m->kind == MSG_RESPONSE) {
		r->status = m->status;
		r->grpc_status = m->grpc_status;
		r->final = !(m->flags & (MSG_F_PARTIAL | MSG_F_INCOMPLETE));
	}
	if (m->kind == MSG_RESET || (m->flags & MSG_F_RESET))
		r->reset = true;
	if (m->latency_ns)
		r->latency_ns = m->latency_ns;
	r->err |= methods_is_error(m);
	r->slow |= m->latency_ns > SLOW_NS;
	r->marked |= ui_marked(ui, m->id);
	r->shown += s == SHOW;
	r->max_id = m->id;
	r->dirty = true;
}

static const char *row_state(const struct srow *r)
{
	if (r->reset)
		return "reset";
	if (!r->stream)
		return "conn";
	return r->final ? "closed" : "open";
}

static enum ui_role row_role(const struct srow *r)
{
	if (!r->shown)
		return R_DIM;
	if (r->err)
		return R_ERROR_ROW;
	return r->slow ? R_SLOW_ROW : R_NORMAL;
}

/* "12:03:04.118 #17     closed 200  13 INTERNAL   83.9 ms  POST /p.S/M  ERR" */
static void row_line(struct ui *ui, struct conv *cv, const struct srow *r, uint64_t prev_ns,
		     struct lines *l)
{
	const char *gname = r->grpc_status >= 0 ? grpc_status_name(r->grpc_status) : NULL;
	char ts[48], status[12] = "-", grpc[40] = "", lat[24] = "";

	ui_format_ts(ui, ts, sizeof(ts), r->first_ns, cv->first_ns, prev_ns);
	if (r->status >= 0)
		snprintf(status, sizeof(status), "%d", r->status);
	if (r->grpc_status >= 0)
		snprintf(grpc, sizeof(grpc), "%d %s", r->grpc_status, gname ? gname : "");
	if (r->latency_ns)
		snprintf(lat, sizeof(lat), "%.1f ms", (double)r->latency_ns / 1e6);
	lines_add(l, row_role(r), (uint64_t)r->stream + 1,
		  "%s%s #%-6u %-6s %-4s %-20s %10s  %s%s%s", r->marked ? "*" : " ", ts, r->stream,
		  row_state(r), status, grpc, lat, r->named ? r->named : "?",
		  r->err ? "  ERR" : "", r->slow ? "  SLOW" : "");
}

/* Row i's line in next: moved from old when unchanged, else made again. */
static void row_emit(struct ui *ui, struct conv *cv, size_t i, struct lines *old,
		     struct lines *next)
{
	struct srow *r = &cv->rows[i];
	size_t n0 = next->n;

	if (!r->dirty && r->line < old->n && old->v[r->line].text && next->n < next->cap) {
		next->v[next->n++] = old->v[r->line];
		old->v[r->line].text = NULL;
	} else {
		row_line(ui, cv, r, i ? cv->rows[i - 1].first_ns : 0, next);
	}
	r->line = next->n > n0 ? next->n - 1 : SIZE_MAX;
	r->dirty = false;
}

static void sync_streams(struct ui *ui, struct conv *cv, const struct store_conn *c)
{
	struct lines next = { 0 };

	if (cv->full)
		rows_free(cv);
	else
		rows_evict(cv, cv->oldest);
	for (struct store_msg *sm = first_newer(c, cv->last_id); sm; sm = store_msg_newer(sm)) {
		enum shown s = conv_shows(ui, cv, sm->m);
		struct srow *r = s == HIDE ? NULL : row_get(cv, sm->m->stream);

		if (r)
			row_add(ui, cv, r, sm->m, s);
	}
	next.v = malloc((cv->nrows + 1) * sizeof(*next.v));
	next.cap = next.v ? cv->nrows + 1 : 0;
	evicted_line(ui, cv, c, &next);
	cv->v.shown = 0;
	for (size_t i = 0; i < cv->nrows; i++) {
		row_emit(ui, cv, i, &cv->list.lines, &next);
		cv->v.shown += cv->rows[i].shown;
	}
	textpane_set(&cv->list, &next);
}

/* ---- HTTP/2: the selected stream's frames ---- */

static void sync_frames(struct ui *ui, struct conv *cv, const struct store_conn *c)
{
	uint64_t sel = textpane_id(&cv->list);
	struct store_msg *newest = store_conn_newest(c);
	struct lines next = { 0 };

	if (sel != cv->frames_of) {
		/* another stream: from its start, following only a live list */
		cv->frames.cur = cv->frames.top = 0;
		cv->frames.follow = cv->list.follow;
		cv->frames_of = sel;
		cv->frames_last = 0;
	} else if (cv->full) {
		cv->frames_last = 0;
	} else {
		lines_keep(&next, &cv->frames.lines, cv->oldest);
	}
	for (struct store_msg *sm = sel ? first_newer(c, cv->frames_last) : NULL; sm;
	     sm = store_msg_newer(sm)) {
		size_t n0 = next.n;
		enum shown s;

		if ((uint64_t)sm->m->stream + 1 != sel || (s = conv_shows(ui, cv, sm->m)) == HIDE)
			continue;
		render_frames(ui, &next, sm->m);
		for (size_t i = n0; s == DIM && i < next.n; i++)
			next.v[i].role = R_DIM;
	}
	if (newest)
		cv->frames_last = newest->m->id;
	textpane_set(&cv->frames, &next);
}

/* The selection moved to another stream: its frames, or a word on why not. */
static void conv_select(struct ui *ui, struct conv *cv)
{
	struct store_conn *c = store_conn_find(session_store(ui->s), &cv->key);
	struct lines l = { 0 };

	if (!cv->h2 || textpane_id(&cv->list) == cv->frames_of)
		return;
	if (c) {
		sync_frames(ui, cv, c);
		return;
	}
	cv->frames_of = textpane_id(&cv->list);
	lines_add(&l, R_DIM, 0, "(connection closed/evicted: its frames are no longer held)");
	textpane_set(&cv->frames, &l);
}

/* ---- updates ---- */

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* True when a setting the lines depend on changed since they were built. */
static bool settings_changed(struct ui *ui, struct conv *cv)
{
	const char *ft = cv->v.filter ? filter_text(cv->v.filter) : NULL;
	struct conv_seen *s = &cv->seen;

	if (!cv->stale && ui->nmarks == s->nmarks && ui->show_marked == s->show_marked &&
	    ui->ts == s->ts && same_str(ft, s->filter))
		return false;
	free(s->filter);
	*s = (struct conv_seen){ .nmarks = ui->nmarks, .show_marked = ui->show_marked,
				 .ts = ui->ts, .filter = ft ? strdup(ft) : NULL };
	cv->stale = false;
	return true;
}

/* Every line is made again (the pane keeps its cursor on the same id). */
static void conv_reset(struct conv *cv)
{
	rows_free(cv);
	cv->full = true;
	cv->last_id = cv->frames_last = 0;
	cv->first_ns = cv->prev_ns = 0;
}

/* The connection is gone: its lines stay, saying so once at the end. */
static void conv_gone(struct ui *ui, struct conv *cv)
{
	if (cv->gone)
		return;
	cv->gone = true;
	cv->stale = true; /* rebuilt should it come back */
	lines_add(&cv->list.lines, R_BADGE_WARN, 0,
		  "connection closed/evicted: showing the last lines it had");
	textpane_set(&cv->list, &cv->list.lines);
	conv_crumb(ui, cv);
	cv->v.dirty = true;
}

static void conv_where(struct ui *ui, struct conv *cv, const struct store_conn *c)
{
	char local[56], remote[56];
	const char *role = c->who.flags & TLSTOP_F_HAS_FD ? output_role_name(c->who.addr.role) :
							    NULL;

	cv->pid = (pid_t)c->who.pid;
	if (output_endpoint(local, sizeof(local), &c->who, true) &&
	    output_endpoint(remote, sizeof(remote), &c->who, false))
		snprintf(cv->where, sizeof(cv->where), "%s %s %s%s%s", local, ui->g->arrow_out,
			 remote, role ? " " : "", role ? role : "");
	else
		snprintf(cv->where, sizeof(cv->where), "%s", c->key.id);
}

/* Brings the lines up to the store: now, also when paused, when the user
 * asked for a change. */
static void conv_sync(struct ui *ui, struct conv *cv)
{
	struct store_conn *c = store_conn_find(session_store(ui->s), &cv->key);
	struct store_msg *oldest, *newest;
	bool h2;

	if (!c) {
		conv_gone(ui, cv);
		return;
	}
	h2 = c->proto == MSG_H2 || c->proto == MSG_GRPC;
	if (h2 != cv->h2) { /* list lines stand for messages or streams: start over */
		lines_clear(&cv->list.lines);
		cv->list.cur = cv->list.top = 0;
		cv->h2 = h2;
		cv->stale = true;
	}
	oldest = store_conn_oldest(c);
	newest = store_conn_newest(c);
	if (settings_changed(ui, cv))
		conv_reset(cv);
	else if ((newest ? newest->m->id : 0) <= cv->last_id &&
		 c->evicted_msgs == cv->evicted && c->closed == cv->closed && !cv->gone)
		return;
	cv->oldest = oldest ? oldest->m->id : UINT64_MAX;
	if (h2)
		sync_streams(ui, cv, c);
	else
		sync_messages(ui, cv, c);
	if (newest)
		cv->last_id = newest->m->id;
	if (h2)
		sync_frames(ui, cv, c);
	cv->full = cv->gone = false;
	cv->evicted = c->evicted_msgs;
	cv->closed = c->closed;
	conv_where(ui, cv, c);
	cv->v.total = c->nmsgs;
	cv->v.follow = focused(cv)->follow;
	conv_crumb(ui, cv);
	cv->v.dirty = true;
}

static void conv_update(struct ui *ui, struct view *v, bool tick)
{
	conv_sync(ui, v->priv);
}

/* ---- drawing ---- */

static void separator(struct ui *ui, struct conv *cv, int y)
{
	struct strbuf sb = { 0 };
	uint64_t sel = textpane_id(&cv->list);

	sb_printf(&sb, "%s%s ", ui->g->hline, ui->g->hline);
	if (sel)
		sb_printf(&sb, "stream %" PRIu64 " ", sel - 1);
	sb_printf(&sb, "%s%s(Tab: %s) ", cv->focus == PANE_FRAMES ? "frames" : "streams",
		  ui->g->dot, cv->focus == PANE_FRAMES ? "streams" : "frames");
	for (int w = ui_width(sb_str(&sb)); w < ui->cols; w++)
		sb_adds(&sb, ui->g->hline);
	ui_print_pad(ui, y, 0, ui->cols, R_TITLE, 0, sb_str(&sb));
	sb_free(&sb);
}

static void conv_draw(struct ui *ui, struct view *v, int y, int h)
{
	struct conv *cv = v->priv;

	if (!cv->h2 || h < 6) {
		cv->list_h = cv->frames_h = h;
		textpane_draw(ui, focused(cv), y, h);
		return;
	}
	cv->list_h = h * 2 / 5;
	cv->frames_h = h - cv->list_h - 1;
	textpane_draw(ui, &cv->list, y, cv->list_h);
	separator(ui, cv, y + cv->list_h);
	textpane_draw(ui, &cv->frames, y + cv->list_h + 1, cv->frames_h);
}

/* ---- actions ---- */

/* The messages a key acts on: the stream's under the list cursor, the one
 * under the frames cursor, or with all every message shown. */
static uint64_t *conv_ids(struct ui *ui, struct conv *cv, bool all, size_t *n)
{
	struct store_conn *c = store_conn_find(session_store(ui->s), &cv->key);
	uint64_t sel = textpane_id(focused(cv)), *ids;
	bool stream = cv->h2 && cv->focus == PANE_LIST;

	*n = 0;
	if (!c || !(ids = malloc((c->nmsgs ? c->nmsgs : 1) * sizeof(*ids))))
		return NULL;
	for (struct store_msg *sm = store_conn_oldest(c); sm && *n < c->nmsgs;
	     sm = store_msg_newer(sm)) {
		const struct message *m = sm->m;
		bool want;

		if (all)
			want = conv_shows(ui, cv, m) == SHOW;
		else if (stream)
			want = (uint64_t)m->stream + 1 == sel && conv_shows(ui, cv, m) != HIDE;
		else
			want = m->id == sel;
		if (want)
			ids[(*n)++] = m->id;
	}
	return ids;
}

/* m: one message toggles; a stream's messages all get marked, or all
 * unmarked when they already were. */
static void conv_mark(struct ui *ui, struct conv *cv)
{
	size_t n, unmarked = 0;
	uint64_t *ids = conv_ids(ui, cv, false, &n);

	for (size_t i = 0; i < n; i++)
		unmarked += !ui_marked(ui, ids[i]);
	for (size_t i = 0; i < n; i++)
		if (!unmarked || !ui_marked(ui, ids[i]))
			ui_mark_toggle(ui, ids[i]);
	if (!n)
		ui_flash(ui, true, "nothing to mark here");
	free(ids);
}

static void conv_save(struct ui *ui, struct conv *cv)
{
	size_t n;
	uint64_t *ids = conv_ids(ui, cv, true, &n);

	if (!n && !ui->nmarks)
		ui_flash(ui, true, "nothing to save: no message is shown here");
	else
		save_flash_messages(ui, ids, n, cv->pid);
	free(ids);
}

static void conv_copy(struct ui *ui, struct conv *cv)
{
	size_t n;
	uint64_t *ids = conv_ids(ui, cv, false, &n);

	if (n)
		save_flash_copy(ui, ids, n);
	else
		ui_flash(ui, true, "nothing to copy here");
	free(ids);
}

static void conv_clear(struct ui *ui, struct conv *cv)
{
	struct store_conn *c = store_conn_find(session_store(ui->s), &cv->key);
	struct store_msg *newest = c ? store_conn_newest(c) : NULL;

	if (newest)
		cv->cleared = newest->m->id;
	if (!c) {
		lines_clear(&cv->list.lines);
		lines_clear(&cv->frames.lines);
	}
	ui_flash(ui, false, "cleared: only newer messages are shown");
}

static void conv_enter(struct ui *ui, struct conv *cv)
{
	uint64_t id = textpane_id(focused(cv));
	struct view *d;

	if (cv->h2 && cv->focus == PANE_LIST) {
		cv->focus = PANE_FRAMES;
		return;
	}
	if (!id)
		return;
	d = detail_view_new(ui, id);
	if (d)
		ui_push(ui, d);
	else
		ui_flash(ui, true, "message %" PRIu64 " is no longer held (evicted)", id);
}

/* [ ]: the first line of the previous or next message in the frames */
static void step_message(struct ui *ui, struct textpane *tp, bool next)
{
	const struct lines *l = &tp->lines;
	size_t i = tp->cur < l->n ? tp->cur : 0;
	uint64_t id = l->n ? l->v[i].id : 0;

	if (next) {
		while (i < l->n && l->v[i].id == id)
			i++;
		if (i == l->n)
			return;
	} else {
		while (i && l->v[i - 1].id == id)
			i--;
		if (!i)
			return;
		id = l->v[--i].id;
		while (i && l->v[i - 1].id == id)
			i--;
		tp->follow = false;
	}
	tp->cur = i;
	ui_moved(ui);
}

static void conv_step(struct ui *ui, struct conv *cv, bool next)
{
	struct textpane *tp = focused(cv);

	if (cv->h2 && cv->focus == PANE_FRAMES)
		step_message(ui, tp, next);
	else
		textpane_action(ui, tp, next ? ACT_DOWN : ACT_UP, cv->list_h);
}

/* The keys that change what is shown; true when handled. */
static bool conv_setting(struct ui *ui, struct conv *cv, enum ui_action a)
{
	static const char *const dirs[DIR_COUNT] = { "all messages", "requests only",
						     "responses only" };

	switch (a) {
	case ACT_DIRECTION:
		cv->dir = (cv->dir + 1) % DIR_COUNT;
		ui_flash(ui, false, "showing %s", dirs[cv->dir]);
		break;
	case ACT_CONTEXT:
		cv->context = !cv->context;
		ui_flash(ui, false, "messages the filter leaves out are %s",
			 cv->context ? "shown dimmed" : "hidden");
		break;
	case ACT_MARK:
		conv_mark(ui, cv);
		break;
	case ACT_CLEAR:
		conv_clear(ui, cv);
		break;
	case ACT_SHOW_MARKED: /* the dispatcher changed the marks or the clock */
	case ACT_UNMARK_ALL:
	case ACT_TIMESTAMPS:
		break;
	default:
		return false;
	}
	cv->stale = true;
	return true;
}

static bool conv_action(struct ui *ui, struct view *v, enum ui_action a)
{
	struct conv *cv = v->priv;
	struct textpane *tp = focused(cv);
	bool handled = true;

	if (conv_setting(ui, cv, a)) {
		conv_sync(ui, cv);
		return true;
	}
	switch (a) {
	case ACT_TAB:
	case ACT_BTAB:
		if (!cv->h2)
			return false;
		cv->focus = cv->focus == PANE_LIST ? PANE_FRAMES : PANE_LIST;
		break;
	case ACT_ENTER:
		conv_enter(ui, cv);
		return true; /* a view may have been pushed: v is not drawn next */
	case ACT_PREV_ITEM:
	case ACT_NEXT_ITEM:
		conv_step(ui, cv, a == ACT_NEXT_ITEM);
		break;
	case ACT_SAVE:
		conv_save(ui, cv);
		break;
	case ACT_COPY:
		conv_copy(ui, cv);
		break;
	default:
		handled = textpane_action(ui, tp,
					  a, tp == &cv->list ? cv->list_h : cv->frames_h);
	}
	conv_select(ui, cv);
	v->follow = focused(cv)->follow;
	conv_crumb(ui, cv);
	v->dirty = true;
	return handled;
}

static void conv_count(struct ui *ui, struct view *v, const struct filter *f, size_t *match,
		       size_t *total)
{
	struct conv *cv = v->priv;
	struct store_conn *c = store_conn_find(session_store(ui->s), &cv->key);

	*match = *total = 0;
	for (struct store_msg *sm = c ? store_conn_oldest(c) : NULL; sm; sm = store_msg_newer(sm)) {
		*match += filter_match(f, sm->m, &ui->fenv);
		++*total;
	}
}

static size_t conv_search(struct ui *ui, struct view *v, const char *regex)
{
	struct conv *cv = v->priv;
	long n = textpane_search(ui, focused(cv), regex);

	conv_select(ui, cv);
	v->follow = focused(cv)->follow;
	v->dirty = true;
	return n > 0 ? (size_t)n : 0;
}

static void conv_free(struct view *v)
{
	struct conv *cv = v->priv;

	textpane_free(&cv->list);
	textpane_free(&cv->frames);
	rows_free(cv);
	free(cv->rows);
	free(cv->seen.filter);
	free(cv);
}

static const struct view_ops conv_ops = {
	.name = "Conversation",
	.keys = KEYS_CONV | KEYS_TEXT,
	.text = true,
	.update = conv_update,
	.draw = conv_draw,
	.action = conv_action,
	.count = conv_count,
	.search = conv_search,
	.free = conv_free,
};

struct view *conv_view_new(struct ui *ui, const struct store_conn_key *k)
{
	struct conv *cv = calloc(1, sizeof(*cv));

	if (!cv)
		return NULL;
	cv->v.ops = &conv_ops;
	cv->v.priv = cv;
	cv->v.unit = "messages";
	cv->key = *k;
	snprintf(cv->where, sizeof(cv->where), "%s", k->id);
	textpane_init(&cv->list, true, true);
	textpane_init(&cv->frames, true, false);
	cv->stale = true;
	conv_sync(ui, cv);
	return &cv->v;
}
