/* methods_view.c - the Methods screen: one row per HTTP route or gRPC
 * method across all processes, failing ones first; Enter shows their
 * connections. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "methods.h"
#include "table.h"

enum meth_col {
	M_SERVICE,
	M_METHOD,
	M_MATCH,
	M_CALLS,
	M_ERR,
	M_ERRPCT,
	M_P50,
	M_P99,
	M_MAX,
	M_BYTES,
	M_CONNS,
	M_PIDS,
	M_N
};

/* "which RPC is failing right now": the error columns and p99 stay. */
static const struct table_col meth_cols[M_N] = {
	[M_SERVICE] = { "SERVICE", 14, 28, false, true, false, 0 },
	[M_METHOD] = { "METHOD", 16, 32, false, true, true, 0 },
	[M_MATCH] = { "MATCH", 5, 6, true, false, false, 5 },
	[M_CALLS] = { "CALLS/s", 7, 7, true, false, false, 0 },
	[M_ERR] = { "ERR", 8, 9, true, false, false, 0 },
	[M_ERRPCT] = { "ERR%", 6, 6, true, false, false, 0 },
	[M_P50] = { "P50ms", 5, 7, true, false, false, 6 },
	[M_P99] = { "P99ms", 5, 7, true, false, false, 0 },
	[M_MAX] = { "MAXms", 5, 7, true, false, false, 7 },
	[M_BYTES] = { "BYTES/s", 7, 7, true, false, false, 9 },
	[M_CONNS] = { "CONNS", 5, 5, true, false, false, 8 },
	[M_PIDS] = { "PIDS", 4, 4, true, false, false, 8 },
};

#define KEY_UNKNOWN "(unknown)"
#define KEY_OTHER "(other)"
#define EXPR_MAX 2048

static int row_key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct methods_row *)a)->key, ((const struct methods_row *)b)->key);
}

/* Per row (snap sorted by key here), the retained messages under its key
 * that the filter and marks let through; NULL when out of memory. */
static size_t *count_matches(struct ui *ui, const struct filter *f, struct methods_snap *snap)
{
	size_t *match = calloc(snap->n ? snap->n : 1, sizeof(*match));
	const struct store_conn *c;
	const struct store_msg *sm;
	char key[METHODS_KEY_MAX + 1];
	struct methods_row probe = { .key = key };

	if (!match || !snap->n)
		return match;
	qsort(snap->rows, snap->n, sizeof(*snap->rows), row_key_cmp);
	for (c = store_conn_first(session_store(ui->s)); c; c = store_conn_next(c)) {
		for (sm = store_conn_oldest(c); sm; sm = store_msg_newer(sm)) {
			const struct methods_row *r;

			if (!table_msg_match(ui, f, sm->m))
				continue;
			methods_key(sm->m, key);
			r = bsearch(&probe, snap->rows, snap->n, sizeof(*r), row_key_cmp);
			if (r)
				match[r - snap->rows]++;
		}
	}
	return match;
}

static void add_row(struct table *t, const struct methods_row *m, size_t match)
{
	struct table_row *r = table_add(t, m->key, m->errors ? R_ERROR_ROW : R_NORMAL, 0);

	if (!r)
		return;
	table_set(r, M_SERVICE, 0, "%s", m->service);
	table_set(r, M_METHOD, 0, "%s", m->method);
	table_set(r, M_MATCH, (double)match, "%zu", match);
	table_set_human(r, M_CALLS, m->calls_per_s);
	table_set_errors(r, M_ERR, m->errors, m->errors > 0);
	table_set(r, M_ERRPCT, m->error_pct, "%.1f%%", m->error_pct);
	table_set_ms(r, M_P50, m->p50_ms);
	table_set_ms(r, M_P99, m->p99_ms);
	table_set_ms(r, M_MAX, m->max_ms);
	table_set_human(r, M_BYTES, m->bytes_per_s);
	table_set_upto(r, M_CONNS, m->conns, METHODS_DISTINCT_MAX);
	table_set_upto(r, M_PIDS, m->pids, METHODS_DISTINCT_MAX);
}

static void mview_update(struct ui *ui, struct view *v, bool tick)
{
	struct table *t = v->priv;
	bool filtering = v->filter || ui->show_marked;
	struct methods_snap snap;
	size_t *match = NULL, i;

	if (!tick || methods_snapshot(session_methods(ui->s), session_clock(ui->s), &snap))
		return;
	if (filtering)
		match = count_matches(ui, v->filter, &snap);
	t->hidden = filtering ? 0 : 1u << M_MATCH;
	t->empty = filtering ? "no method holds a matching message (= clears the filter)"
			     : "no call completed in the window yet";
	table_begin(t);
	v->shown = 0;
	for (i = 0; i < snap.n; i++) {
		if (filtering && (!match || !match[i]))
			continue;
		add_row(t, &snap.rows[i], match ? match[i] : 0);
		v->shown++;
	}
	table_commit(t, !table_stable(ui));
	v->total = snap.n;
	free(match);
	methods_snap_free(&snap);
}

static void mview_draw(struct ui *ui, struct view *v, int y, int h)
{
	table_draw(ui, v->priv, y, 0, h, ui->cols);
}

/* Appends c; false once buf is full. */
static bool put(char *buf, size_t len, size_t *o, char c)
{
	if (*o + 1 >= len)
		return false;
	buf[(*o)++] = c;
	buf[*o] = '\0';
	return true;
}

static bool put_str(char *buf, size_t len, size_t *o, const char *s)
{
	while (*s)
		if (!put(buf, len, o, *s++))
			return false;
	return true;
}

/* s as the inside of a quoted value of the filter language (' and \
 * escaped); as a regex matching s literally when regex is set. */
static bool put_escaped(char *buf, size_t len, size_t *o, const char *s, bool regex)
{
	bool ok = true;

	for (; ok && *s; s++) {
		if (regex && strchr("\\^$.|?*+()[]{}", *s))
			ok = put_str(buf, len, o, "\\\\");
		if (ok && (*s == '\'' || *s == '\\'))
			ok = put(buf, len, o, '\\');
		ok = ok && put(buf, len, o, *s);
	}
	return ok;
}

/* A regex on the key's path: the query was left out of the key, and a key
 * cut at METHODS_KEY_MAX only gives a prefix. */
static bool put_path(char *buf, size_t len, size_t *o, const char *path, bool cut)
{
	return put_str(buf, len, o, "path ~ '^") && put_escaped(buf, len, o, path, true) &&
	       put_str(buf, len, o, cut ? "'" : "(\\\\?|$)'");
}

/* The Connections filter selecting a Methods row's messages; false for
 * "(other)", which sums many methods. */
static bool method_expr(char *buf, size_t len, const char *key)
{
	bool cut = strlen(key) >= METHODS_KEY_MAX;
	const char *sp = strchr(key, ' ');
	size_t o = 0;
	char verb[64];

	buf[0] = '\0';
	if (!strcmp(key, KEY_OTHER))
		return false;
	if (!strcmp(key, KEY_UNKNOWN))
		return put_str(buf, len, &o, "path == unknown");
	if (key[0] != '/' && sp) {
		snprintf(verb, sizeof(verb), "%.*s", (int)(sp - key), key);
		return put_str(buf, len, &o, "method == '") &&
		       put_escaped(buf, len, &o, verb, false) && put_str(buf, len, &o, "' and ") &&
		       put_path(buf, len, &o, sp + 1, cut);
	}
	if (cut)
		return put_path(buf, len, &o, key, true);
	return put_str(buf, len, &o, "path == '") && put_escaped(buf, len, &o, key, false) &&
	       put(buf, len, &o, '\'');
}

static bool enter(struct ui *ui, struct view *v)
{
	const struct table_row *r = table_current(v->priv);
	char expr[EXPR_MAX];

	if (!r)
		return false;
	if (method_expr(expr, sizeof(expr), r->key))
		conns_view_show_method(ui, expr);
	else
		ui_flash(ui, true, "%s sums the methods past the cap: no filter selects it",
			 r->key);
	return true;
}

static bool mview_action(struct ui *ui, struct view *v, enum ui_action a)
{
	struct table *t = v->priv;

	if (a == ACT_ENTER)
		return enter(ui, v);
	switch (table_action(ui, t, a)) {
	case TABLE_SORTED:
		v->sort_name = table_sort_name(t);
		v->sort_asc = t->sort_asc;
		return true;
	case TABLE_ACTIVATE:
		return enter(ui, v);
	case TABLE_MOVED:
	case TABLE_HANDLED:
		return true;
	case TABLE_IGNORED:
		break;
	}
	return false;
}

static void mview_free(struct view *v)
{
	table_free(v->priv);
	free(v->priv);
	free(v);
}

static const struct view_ops methods_ops = {
	.name = "Methods",
	.keys = KEYS_GLOBAL | KEYS_TABLE,
	.update = mview_update,
	.draw = mview_draw,
	.action = mview_action,
	.count = table_count_messages,
	.free = mview_free,
};

struct view *methods_view_new(struct ui *ui)
{
	struct view *v = calloc(1, sizeof(*v));
	struct table *t = calloc(1, sizeof(*t));

	if (!v || !t) {
		free(v);
		free(t);
		return NULL;
	}
	/* failing methods first, the busiest of equals first */
	table_init(t, meth_cols, M_N, M_ERR);
	t->tie_col = M_CALLS;
	t->hidden = 1u << M_MATCH;
	t->g = ui->g;
	v->ops = &methods_ops;
	v->priv = t;
	v->unit = "methods";
	v->sort_name = table_sort_name(t);
	v->sort_asc = t->sort_asc;
	return v;
}
