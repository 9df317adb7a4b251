/* conns_view.c - the Connections screen: connections grouped by process,
 * with rates, errors and p99 per tick, and a live preview of the selected
 * connection's latest frames. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "render.h"
#include "table.h"

enum conn_col {
	C_PID,
	C_COMM,
	C_LIB,
	C_CONN,
	C_PROTO,
	C_MATCH,
	C_MSGS,
	C_IN,
	C_OUT,
	C_ERR,
	C_P99,
	C_PATH,
	C_N
};

/* UX.md B.8: PID, COMM, MSG/s, ERR, P99 and LAST PATH stay; LIB, OUT/s and
 * IN/s go first. */
static const struct table_col conn_cols[C_N] = {
	[C_PID] = { "PID", 5, 7, true, false, false, 0 },
	[C_COMM] = { "COMM", 12, 15, false, false, false, 0 },
	[C_LIB] = { "LIB", 9, 9, false, false, false, 9 },
	[C_CONN] = { "CONN", 22, 44, false, true, false, 5 },
	[C_PROTO] = { "PROTO", 5, 5, false, false, false, 6 },
	[C_MATCH] = { "MATCH", 5, 6, true, false, false, 4 },
	[C_MSGS] = { "MSG/s", 5, 6, true, false, false, 0 },
	[C_IN] = { "IN/s", 5, 6, true, false, false, 7 },
	[C_OUT] = { "OUT/s", 5, 6, true, false, false, 8 },
	[C_ERR] = { "ERR", 8, 9, true, false, false, 0 },
	[C_P99] = { "P99ms", 5, 6, true, false, false, 0 },
	[C_PATH] = { "LAST PATH", 16, 16, false, true, true, 0 },
};

#define PREVIEW_MAX 256 /* messages rendered into the preview */
#define PREVIEW_SCAN_MAX 5000 /* messages looked at to find matching ones */
#define RIGHT_TABLE_MIN 60 /* table columns with the preview on the right */
#define PREVIEW_MIN_W 16

enum layout { LAYOUT_BOTTOM, LAYOUT_RIGHT, LAYOUT_OFF, LAYOUT_N };

struct counts {
	uint64_t msgs, in, out, err;
};

/* A connection as of the latest update: copies, so a paused screen and a
 * connection the store freed still draw. */
struct cv_conn {
	char key[80]; /* row identity: "c:ID#GEN" */
	struct store_conn_key skey;
	uint32_t pid;
	char comm[TLSTOP_COMM_LEN + 1];
	char lib[32];
	char conn[192]; /* "local→remote role" */
	char title[256]; /* the preview's */
	const char *proto;
	struct counts base; /* counters at the last rate sample */
	double msg_rate, in_rate, out_rate;
	uint64_t errors;
	bool failing; /* errors grew since the sample before */
	double p99_ms; /* -1: no latency known */
	uint64_t last_ns;
	size_t match; /* retained messages matching the filter (and marks) */
	char *path;
	bool closed;
	uint64_t closed_gen; /* the sample it was first seen closed at */
	bool gone; /* closed at an earlier sample: remembered, not shown */
};

struct conns {
	struct table t;
	struct cv_conn *c; /* sorted by key */
	size_t n;
	uint64_t gen; /* rate samples taken */
	uint64_t sample_ns; /* capture clock of the last one */
	uint64_t sample_ui_ns; /* ui->now_ns of it */
	bool flat;
	bool filtering; /* the rows show connections with matching messages only */
	uint32_t *collapsed; /* pids, sorted */
	size_t ncollapsed;
	enum layout layout;
	struct lines preview;
	char preview_title[256];
	int preview_h;
	uint64_t *lat; /* scratch: latencies of one connection */
	size_t lat_cap;
};

/* What one update reads and decides once for every connection. */
struct sample {
	struct ui *ui;
	const struct filter *f;
	uint64_t gen;
	bool resample; /* rates are measured now, else kept */
	double dt; /* seconds since the last sample */
	uint64_t since_ns; /* capture clock of the last sample */
};

/* ---- the snapshot ---- */

static int conn_key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cv_conn *)a)->key, ((const struct cv_conn *)b)->key);
}

static struct cv_conn *find_conn(const struct conns *cv, const char *key)
{
	struct cv_conn probe;

	if (!cv->n) /* bsearch() wants an array, even an empty one */
		return NULL;
	snprintf(probe.key, sizeof(probe.key), "%s", key);
	return bsearch(&probe, cv->c, cv->n, sizeof(*cv->c), conn_key_cmp);
}

static void lib_text(char *buf, size_t len, const struct lib_table *libs, uint32_t id)
{
	const struct lib_info *li = libs ? libs_get(libs, id) : NULL;

	if (li)
		snprintf(buf, len, "%s%s", lib_kind_name(li->kind), li->is_static ? "+static" : "");
	else
		snprintf(buf, len, "?");
}

/* CONN and the preview title: the 4-tuple when known, else the fd or the
 * SSL pointer, as DESIGN.md names connections without an address. */
static void endpoint_text(struct cv_conn *e, const struct ui *ui, const struct tlstop_data *d)
{
	const char *role = e->closed ? "closed" : output_role_name(d->addr.role);
	char l[64], r[64];

	if (output_endpoint(l, sizeof(l), d, true) && output_endpoint(r, sizeof(r), d, false)) {
		snprintf(e->conn, sizeof(e->conn), "%s%s%s%s%s", l, ui->g->arrow_out, r,
			 role ? " " : "", role ? role : "");
		snprintf(e->title, sizeof(e->title), "%s %s %s  %s  pid %u %s", l,
			 ui->g->arrow_out, r, e->proto, e->pid, e->comm);
		return;
	}
	if (d->flags & TLSTOP_F_HAS_FD)
		snprintf(l, sizeof(l), "fd:%d", d->fd);
	else
		snprintf(l, sizeof(l), "ssl:0x%llx", (unsigned long long)d->ssl);
	snprintf(e->conn, sizeof(e->conn), "%s%s", l, e->closed ? " closed" : "");
	snprintf(e->title, sizeof(e->title), "%s  %s  pid %u %s", l, e->proto, e->pid, e->comm);
}

static void conn_identity(struct cv_conn *e, const struct store_conn *c, const struct ui *ui)
{
	const struct tlstop_data *d = &c->who;

	snprintf(e->key, sizeof(e->key), "c:%s#%llu", c->key.id, (unsigned long long)c->key.gen);
	e->skey = c->key;
	e->pid = d->pid;
	snprintf(e->comm, sizeof(e->comm), "%.*s", (int)strnlen(d->comm, TLSTOP_COMM_LEN),
		 d->comm);
	lib_text(e->lib, sizeof(e->lib), session_libs(ui->s), d->lib_id);
	e->proto = c->proto ? msg_proto_name(c->proto) : "?";
	e->closed = c->closed;
	e->last_ns = c->last_ns;
	e->errors = c->errors;
	e->path = c->last_path ? strdup(c->last_path) : NULL;
	endpoint_text(e, ui, d);
}

static double rate(uint64_t now, uint64_t base, double dt)
{
	return dt > 0 && now > base ? (double)(now - base) / dt : 0;
}

/* Rates over the interval between two samples. An update between samples
 * (a new filter, a resume) keeps the rates and the base, so every rate
 * covers a whole --delay. */
static void conn_rates(struct cv_conn *e, const struct store_conn *c, const struct cv_conn *old,
		       const struct sample *s)
{
	struct counts now = { c->msgs_in + c->msgs_out, c->bytes_in, c->bytes_out, c->errors };
	/* a connection born since the last sample: all its counts are new */
	bool born = s->since_ns && c->first_ns >= s->since_ns;
	struct counts zero = { 0, 0, 0, 0 };

	e->base = old ? old->base : born ? zero : now;
	e->failing = (!s->resample && old && old->failing) || now.err > e->base.err;
	if (!s->resample) {
		e->msg_rate = old ? old->msg_rate : 0;
		e->in_rate = old ? old->in_rate : 0;
		e->out_rate = old ? old->out_rate : 0;
		return;
	}
	e->msg_rate = rate(now.msgs, e->base.msgs, s->dt);
	e->in_rate = rate(now.in, e->base.in, s->dt);
	e->out_rate = rate(now.out, e->base.out, s->dt);
	e->base = now;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void lat_push(struct conns *cv, size_t *n, uint64_t ns)
{
	if (*n == cv->lat_cap) {
		size_t cap = cv->lat_cap ? cv->lat_cap * 2 : 256;
		uint64_t *v = realloc(cv->lat, cap * sizeof(*v));

		if (!v)
			return;
		cv->lat = v;
		cv->lat_cap = cap;
	}
	cv->lat[(*n)++] = ns;
}

/* Matching messages and the p99 latency. The p99 is of the responses the
 * store still holds, not of a time window: the budget decides how far
 * back it reaches, which is what the conversation shows too. */
static void conn_scan(struct conns *cv, struct cv_conn *e, const struct store_conn *c,
		      const struct sample *s)
{
	const struct store_msg *sm;
	size_t n = 0;

	for (sm = store_conn_oldest(c); sm; sm = store_msg_newer(sm)) {
		const struct message *m = sm->m;

		e->match += table_msg_match(s->ui, s->f, m);
		if ((m->kind == MSG_RESPONSE || m->kind == MSG_RESET) && m->latency_ns)
			lat_push(cv, &n, m->latency_ns);
	}
	e->p99_ms = -1;
	if (n) {
		qsort(cv->lat, n, sizeof(*cv->lat), u64_cmp);
		e->p99_ms = (double)cv->lat[(n * 99 + 99) / 100 - 1] / 1e6;
	}
}

static void conn_fill(struct conns *cv, struct cv_conn *e, const struct store_conn *c,
		      const struct sample *s)
{
	const struct cv_conn *old;

	conn_identity(e, c, s->ui);
	old = find_conn(cv, e->key);
	e->closed_gen = old && old->closed ? old->closed_gen : s->gen;
	/* closed: shown greyed until the next sample, then gone */
	e->gone = e->closed && e->closed_gen < s->gen;
	if (e->gone)
		return;
	conn_rates(e, c, old, s);
	conn_scan(cv, e, c, s);
}

static void conns_drop(struct conns *cv)
{
	size_t i;

	for (i = 0; i < cv->n; i++)
		free(cv->c[i].path);
	free(cv->c);
	cv->c = NULL;
	cv->n = 0;
}

/* Copies what the rows show out of the store; false when out of memory
 * (the previous snapshot stays). */
static bool snapshot(struct ui *ui, struct view *v)
{
	struct conns *cv = v->priv;
	const struct store *st = session_store(ui->s);
	const struct store_conn *c;
	struct sample s = { ui, v->filter, cv->gen, false, 0, cv->sample_ns };
	uint64_t now = session_clock(ui->s);
	struct cv_conn *next;
	size_t n = 0;

	s.resample = !cv->gen || ui->now_ns - cv->sample_ui_ns >= ui->delay_ns / 2;
	if (s.resample) {
		s.gen++;
		s.dt = cv->gen && now > cv->sample_ns ? (double)(now - cv->sample_ns) / 1e9 : 0;
	}
	for (c = store_conn_first(st); c; c = store_conn_next(c))
		n++;
	next = calloc(n ? n : 1, sizeof(*next));
	if (!next)
		return false;
	n = 0;
	for (c = store_conn_first(st); c; c = store_conn_next(c))
		conn_fill(cv, &next[n++], c, &s);
	qsort(next, n, sizeof(*next), conn_key_cmp);
	conns_drop(cv);
	cv->c = next;
	cv->n = n;
	if (s.resample) {
		cv->gen = s.gen;
		cv->sample_ns = now;
		cv->sample_ui_ns = ui->now_ns;
	}
	return true;
}

/* ---- rows ---- */

/* The cells a process row sums and a connection row shows. */
struct values {
	size_t match;
	double msg_rate, in_rate, out_rate, p99_ms;
	uint64_t errors;
	bool failing;
	const char *proto; /* NULL: its connections differ */
	const char *path;
};

static void set_values(struct table_row *r, const struct values *x)
{
	table_set(r, C_PROTO, 0, "%s", x->proto ? x->proto : "");
	table_set(r, C_MATCH, (double)x->match, "%zu", x->match);
	table_set_human(r, C_MSGS, x->msg_rate);
	table_set_human(r, C_IN, x->in_rate);
	table_set_human(r, C_OUT, x->out_rate);
	table_set_errors(r, C_ERR, x->errors, x->failing);
	table_set_ms(r, C_P99, x->p99_ms);
	table_set(r, C_PATH, 0, "%s", x->path ? x->path : "");
}

static void conn_values(const struct cv_conn *e, struct values *x)
{
	*x = (struct values){ e->match, e->msg_rate, e->in_rate, e->out_rate, e->p99_ms,
			      e->errors, e->failing, e->proto, e->path };
}

static void set_who(struct table_row *r, const struct cv_conn *e)
{
	table_set(r, C_PID, e->pid, "%u", e->pid);
	table_set(r, C_COMM, 0, "%s", e->comm);
	table_set(r, C_LIB, 0, "%s", e->lib);
}

static void add_conn_row(struct conns *cv, const struct cv_conn *e, unsigned int depth)
{
	struct table_row *r = table_add(&cv->t, e->key,
					e->closed ? R_DIM : e->failing ? R_ERROR_ROW : R_NORMAL,
					depth);
	struct values x;

	if (!r)
		return;
	if (depth)
		r->num[C_PID] = e->pid; /* the process a child row belongs to */
	else
		set_who(r, e);
	table_set(r, C_CONN, 0, "%s", e->conn);
	conn_values(e, &x);
	set_values(r, &x);
}

/* The process row of g[0, n), connections of one pid. */
static void add_proc_row(struct conns *cv, const struct cv_conn *const *g, size_t n)
{
	const struct cv_conn *latest = g[0];
	struct values x = { 0, 0, 0, 0, -1, 0, false, g[0]->proto, NULL };
	struct table_row *r;
	bool closed = true;
	char key[32];
	size_t i;

	for (i = 0; i < n; i++) {
		x.match += g[i]->match;
		x.msg_rate += g[i]->msg_rate;
		x.in_rate += g[i]->in_rate;
		x.out_rate += g[i]->out_rate;
		x.errors += g[i]->errors;
		x.failing |= g[i]->failing;
		x.p99_ms = g[i]->p99_ms > x.p99_ms ? g[i]->p99_ms : x.p99_ms;
		if (x.proto && strcmp(x.proto, g[i]->proto))
			x.proto = NULL;
		if (g[i]->last_ns > latest->last_ns)
			latest = g[i];
		closed &= g[i]->closed;
	}
	x.path = latest->path;
	snprintf(key, sizeof(key), "p:%u", g[0]->pid);
	r = table_add(&cv->t, key, closed ? R_DIM : x.failing ? R_ERROR_ROW : R_NORMAL, 0);
	if (!r)
		return;
	set_who(r, latest);
	table_set(r, C_CONN, (double)n, "%zu conn%s", n, n == 1 ? "" : "s");
	set_values(r, &x);
}

static int pid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int vis_cmp(const void *a, const void *b)
{
	const struct cv_conn *x = *(const struct cv_conn *const *)a;
	const struct cv_conn *y = *(const struct cv_conn *const *)b;

	return x->pid != y->pid ? (x->pid < y->pid ? -1 : 1) : strcmp(x->key, y->key);
}

static uint32_t *find_collapsed(const struct conns *cv, uint32_t pid)
{
	if (!cv->ncollapsed)
		return NULL;
	return bsearch(&pid, cv->collapsed, cv->ncollapsed, sizeof(pid), pid_cmp);
}

static bool is_collapsed(const struct conns *cv, uint32_t pid)
{
	return find_collapsed(cv, pid) != NULL;
}

/* Forgets collapsed pids no longer shown, so the set stays bounded. vis
 * is ordered by pid first: a lower bound on it finds a pid. */
static void prune_collapsed(struct conns *cv, const struct cv_conn *const *vis, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < cv->ncollapsed; i++) {
		uint32_t pid = cv->collapsed[i];
		size_t lo = 0, hi = n;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (vis[mid]->pid < pid)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < n && vis[lo]->pid == pid)
			cv->collapsed[o++] = pid;
	}
	cv->ncollapsed = o;
}

static void add_tree_rows(struct conns *cv, const struct cv_conn *const *vis, size_t n)
{
	size_t i = 0, j, k;

	while (i < n) {
		for (j = i + 1; j < n && vis[j]->pid == vis[i]->pid; j++)
			;
		add_proc_row(cv, vis + i, j - i);
		if (!is_collapsed(cv, vis[i]->pid))
			for (k = i; k < j; k++)
				add_conn_row(cv, vis[k], 1);
		i = j;
	}
}

/* The rows from the snapshot: the tree or the flat list, what the filter
 * and marks let through. */
static void rebuild(struct ui *ui, struct view *v)
{
	struct conns *cv = v->priv;
	bool filtering = v->filter || ui->show_marked;
	const struct cv_conn **vis = calloc(cv->n ? cv->n : 1, sizeof(*vis));
	size_t i, n = 0, total = 0;

	if (!vis)
		return;
	for (i = 0; i < cv->n; i++) {
		if (cv->c[i].gone)
			continue;
		total++;
		if (!filtering || cv->c[i].match)
			vis[n++] = &cv->c[i];
	}
	qsort(vis, n, sizeof(*vis), vis_cmp);
	prune_collapsed(cv, vis, n);
	cv->filtering = filtering;
	cv->t.hidden = filtering ? 0 : 1u << C_MATCH;
	cv->t.tree_col = cv->flat ? -1 : C_CONN;
	cv->t.empty = filtering ? "no connection holds a matching message (= clears the filter)"
				: "no TLS connection seen yet";
	table_begin(&cv->t);
	if (cv->flat)
		for (i = 0; i < n; i++)
			add_conn_row(cv, vis[i], 0);
	else
		add_tree_rows(cv, vis, n);
	table_commit(&cv->t, !table_stable(ui));
	free(vis);
	v->shown = n;
	v->total = total;
}

/* ---- preview ---- */

static bool proc_row(const struct table_row *r)
{
	return r->key[0] == 'p';
}

/* The connection the preview shows: the selected one, or the latest of
 * the selected process that the rows stand for. */
static const struct cv_conn *preview_conn(const struct conns *cv)
{
	const struct table_row *r = table_current(&cv->t);
	const struct cv_conn *best = NULL;
	size_t i;

	if (!r)
		return NULL;
	if (!proc_row(r))
		return find_conn(cv, r->key);
	for (i = 0; i < cv->n; i++) {
		const struct cv_conn *e = &cv->c[i];

		if (!e->gone && (!cv->filtering || e->match) && e->pid == (uint32_t)r->num[C_PID] &&
		    (!best || e->last_ns > best->last_ns))
			best = e;
	}
	return best;
}

static void preview_clear(struct conns *cv)
{
	lines_clear(&cv->preview);
	cv->preview_title[0] = '\0';
}

/* Renders the newest messages of the previewed connection that the view
 * lets through, oldest first. */
static void preview_refresh(struct ui *ui, struct view *v)
{
	struct conns *cv = v->priv;
	const struct cv_conn *e = preview_conn(cv);
	const struct message *ms[PREVIEW_MAX];
	const struct store_conn *c;
	const struct store_msg *sm;
	size_t n = 0, seen = 0, want = cv->preview_h > 0 ? (size_t)cv->preview_h : 1;

	preview_clear(cv);
	if (!e || cv->layout == LAYOUT_OFF)
		return;
	snprintf(cv->preview_title, sizeof(cv->preview_title), "%s", e->title);
	c = store_conn_find(session_store(ui->s), &e->skey);
	if (!c) {
		lines_add(&cv->preview, R_DIM, 0, "(the store no longer holds this connection)");
		return;
	}
	want = want < PREVIEW_MAX ? want : PREVIEW_MAX;
	for (sm = store_conn_newest(c); sm && n < want && seen < PREVIEW_SCAN_MAX;
	     sm = store_msg_older(sm), seen++)
		if (table_msg_match(ui, v->filter, sm->m))
			ms[n++] = sm->m;
	while (n)
		render_frames(ui, &cv->preview, ms[--n]);
}

/* "── title ─────" across w columns. */
static void draw_rule(struct ui *ui, int y, int x, int w, const char *title)
{
	const char *hl = ui->g->hline;
	int hw = ui_width(hl) > 0 ? ui_width(hl) : 1;
	char buf[2048];
	size_t o, hl_len = strlen(hl);
	int used;

	snprintf(buf, sizeof(buf), "%s%s %s ", hl, hl, title);
	used = ui_width(buf);
	o = strlen(buf);
	for (; used < w && o + hl_len < sizeof(buf); used += hw, o += hl_len)
		memcpy(buf + o, hl, hl_len + 1);
	ui_print(ui, y, x, w, R_TITLE, 0, true, buf);
}

/* The title rule on row y, the latest lines below it, newest last. */
static void draw_preview(struct ui *ui, struct conns *cv, int y, int x, int h, int w)
{
	size_t first, i;

	cv->preview_h = h - 1;
	if (h <= 0 || w <= 0)
		return;
	draw_rule(ui, y, x, w, cv->preview_title);
	first = cv->preview.n > (size_t)(h - 1) ? cv->preview.n - (size_t)(h - 1) : 0;
	for (i = 0; i < (size_t)(h - 1); i++) {
		const struct line *l = first + i < cv->preview.n ? &cv->preview.v[first + i] : NULL;

		ui_print_pad(ui, y + 1 + (int)i, x, w, l ? l->role : R_NORMAL, 0, l ? l->text : "");
	}
}

/* ---- view ops ---- */

static void conns_update(struct ui *ui, struct view *v, bool tick)
{
	if (tick && snapshot(ui, v))
		rebuild(ui, v);
	preview_refresh(ui, v);
}

static void conns_draw(struct ui *ui, struct view *v, int y, int h)
{
	struct conns *cv = v->priv;
	int th = h, tw = ui->cols;

	if (cv->layout == LAYOUT_BOTTOM && h >= 8) {
		th = h / 2;
		draw_preview(ui, cv, y + th, 0, h - th, ui->cols);
	} else if (cv->layout == LAYOUT_RIGHT && ui->cols - RIGHT_TABLE_MIN > PREVIEW_MIN_W) {
		/* the table keeps room for the columns never dropped */
		tw = ui->cols / 2 > RIGHT_TABLE_MIN ? ui->cols / 2 : RIGHT_TABLE_MIN;
		for (int i = 0; i < h; i++)
			ui_print_pad(ui, y + i, tw, 1, R_NORMAL, 0, "");
		draw_preview(ui, cv, y, tw + 1, h, ui->cols - tw - 1);
	}
	table_draw(ui, &cv->t, y, 0, th, tw);
}

static bool toggle_collapsed(struct conns *cv, uint32_t pid, bool collapse)
{
	uint32_t *p = find_collapsed(cv, pid);
	uint32_t *v;

	if (!collapse && p) {
		memmove(p, p + 1, (size_t)(cv->collapsed + cv->ncollapsed - p - 1) * sizeof(*p));
		cv->ncollapsed--;
	} else if (collapse && !p) {
		v = realloc(cv->collapsed, (cv->ncollapsed + 1) * sizeof(*v));
		if (!v)
			return false;
		cv->collapsed = v;
		v[cv->ncollapsed++] = pid;
		qsort(v, cv->ncollapsed, sizeof(*v), pid_cmp);
	}
	return true;
}

/* '*': expands every process when some is collapsed, else collapses all. */
static void expand_all(struct conns *cv)
{
	size_t i;

	if (cv->ncollapsed) {
		cv->ncollapsed = 0;
		return;
	}
	for (i = 0; i < cv->n; i++)
		if (!cv->c[i].gone && !toggle_collapsed(cv, cv->c[i].pid, true))
			return;
}

/* +, - and *: on a child row, - collapses its process and selects it. */
static bool tree_action(struct ui *ui, struct view *v, enum ui_action a)
{
	struct conns *cv = v->priv;
	const struct table_row *r = table_current(&cv->t);
	uint32_t pid;
	char key[32];

	if (cv->flat)
		return false;
	if (a == ACT_EXPAND_ALL) {
		expand_all(cv);
	} else if (!r) {
		return false;
	} else if (a == ACT_EXPAND && !proc_row(r)) {
		return true; /* a connection has nothing to expand */
	} else {
		pid = (uint32_t)r->num[C_PID];
		toggle_collapsed(cv, pid, a == ACT_COLLAPSE);
		snprintf(key, sizeof(key), "p:%u", pid);
		table_select_key(&cv->t, key);
	}
	rebuild(ui, v);
	preview_refresh(ui, v);
	return true;
}

/* t: flat or tree; a selected process becomes its latest connection. */
static void toggle_tree(struct ui *ui, struct view *v)
{
	struct conns *cv = v->priv;
	/* rebuild() leaves the snapshot alone: e stays valid */
	const struct cv_conn *e = preview_conn(cv);

	cv->flat = !cv->flat;
	rebuild(ui, v);
	if (e && cv->t.touched)
		table_select_key(&cv->t, e->key);
}

/* Enter: a connection opens its conversation; a process row folds. */
static bool enter(struct ui *ui, struct view *v)
{
	struct conns *cv = v->priv;
	const struct table_row *r = table_current(&cv->t);
	const struct cv_conn *e;
	bool folded;

	if (!r)
		return false;
	if (proc_row(r)) {
		folded = is_collapsed(cv, (uint32_t)r->num[C_PID]);
		return tree_action(ui, v, folded ? ACT_EXPAND : ACT_COLLAPSE);
	}
	e = find_conn(cv, r->key);
	if (e)
		ui_push(ui, conv_view_new(ui, &e->skey));
	return true;
}

static bool table_result(struct ui *ui, struct view *v, enum table_result res)
{
	struct conns *cv = v->priv;

	switch (res) {
	case TABLE_SORTED:
		v->sort_name = table_sort_name(&cv->t);
		v->sort_asc = cv->t.sort_asc;
		return true;
	case TABLE_MOVED:
		/* the preview follows the selection, paused or not */
		preview_refresh(ui, v);
		return true;
	case TABLE_ACTIVATE:
		return enter(ui, v);
	case TABLE_HANDLED:
		return true;
	case TABLE_IGNORED:
		break;
	}
	return false;
}

static bool conns_action(struct ui *ui, struct view *v, enum ui_action a)
{
	struct conns *cv = v->priv;

	switch (a) {
	case ACT_ENTER:
		return enter(ui, v);
	case ACT_TREE:
		toggle_tree(ui, v);
		return true;
	case ACT_EXPAND:
	case ACT_COLLAPSE:
	case ACT_EXPAND_ALL:
		return tree_action(ui, v, a);
	case ACT_LAYOUT:
		cv->layout = (cv->layout + 1) % LAYOUT_N;
		preview_refresh(ui, v);
		return true;
	default:
		return table_result(ui, v, table_action(ui, &cv->t, a));
	}
}

static void conns_free(struct view *v)
{
	struct conns *cv = v->priv;

	table_free(&cv->t);
	conns_drop(cv);
	lines_clear(&cv->preview);
	free(cv->collapsed);
	free(cv->lat);
	free(cv);
	free(v);
}

static const struct view_ops conns_ops = {
	.name = "Connections",
	.keys = KEYS_GLOBAL | KEYS_TABLE | KEYS_TREE,
	.update = conns_update,
	.draw = conns_draw,
	.action = conns_action,
	.count = table_count_messages,
	.free = conns_free,
};

struct view *conns_view_new(struct ui *ui)
{
	struct view *v = calloc(1, sizeof(*v));
	struct conns *cv = calloc(1, sizeof(*cv));

	if (!v || !cv) {
		free(v);
		free(cv);
		return NULL;
	}
	table_init(&cv->t, conn_cols, C_N, C_MSGS);
	cv->t.tree_col = C_CONN;
	cv->t.tie_col = C_MSGS;
	cv->t.hidden = 1u << C_MATCH;
	cv->t.g = ui->g;
	cv->t.empty = "no TLS connection seen yet";
	cv->preview_h = 20;
	v->ops = &conns_ops;
	v->priv = cv;
	v->unit = "conns";
	v->sort_name = table_sort_name(&cv->t);
	v->sort_asc = cv->t.sort_asc;
	return v;
}

void conns_view_show_method(struct ui *ui, const char *filter_expr)
{
	struct filter_error err;

	ui_show_tab(ui, 0);
	if (ui_set_filter(ui, ui->tabs[0], filter_expr, &err))
		ui_flash(ui, true, "filter %s: %s", filter_expr, err.msg);
}
