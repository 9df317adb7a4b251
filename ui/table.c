/* table.c - the table widget of the Connections and Methods screens. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

#define HSCROLL_STEP 8

void table_init(struct table *t, const struct table_col *cols, int ncols, int sort_col)
{
	int i;

	memset(t, 0, sizeof(*t));
	t->cols = cols;
	t->ncols = ncols < TABLE_COLS_MAX ? ncols : TABLE_COLS_MAX;
	t->flex = -1;
	t->tree_col = -1;
	t->tie_col = -1;
	for (i = 0; i < t->ncols; i++)
		if (cols[i].flex)
			t->flex = i;
	t->sort_col = sort_col >= 0 && sort_col < t->ncols ? sort_col : 0;
	t->sort_asc = !cols[t->sort_col].right;
}

static void row_free(struct table_row *r)
{
	int i;

	free(r->key);
	for (i = 0; i < TABLE_COLS_MAX; i++)
		free(r->cell[i]);
}

static void rows_clear(struct table_rows *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		row_free(&rs->v[i]);
	rs->n = 0;
}

void table_free(struct table *t)
{
	rows_clear(&t->rows);
	rows_clear(&t->next);
	free(t->rows.v);
	free(t->next.v);
	t->rows.v = t->next.v = NULL;
	t->rows.cap = t->next.cap = 0;
}

void table_begin(struct table *t)
{
	rows_clear(&t->next);
}

struct table_row *table_add(struct table *t, const char *key, enum ui_role role,
			    unsigned int depth)
{
	struct table_rows *rs = &t->next;
	struct table_row *r;

	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		struct table_row *v = realloc(rs->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		rs->v = v;
		rs->cap = cap;
	}
	r = &rs->v[rs->n];
	memset(r, 0, sizeof(*r));
	r->key = strdup(key);
	if (!r->key)
		return NULL;
	r->role = role;
	r->depth = depth < 255 ? (unsigned char)depth : 255;
	rs->n++;
	return r;
}

void table_set(struct table_row *r, int col, double num, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (col < 0 || col >= TABLE_COLS_MAX)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	free(r->cell[col]);
	r->cell[col] = s;
	r->num[col] = num;
}

void table_set_human(struct table_row *r, int col, double v)
{
	char buf[32];

	/* 0.3 calls/s is not 0 */
	if (v > 0 && v < 9.95 && v != (double)(uint64_t)v)
		snprintf(buf, sizeof(buf), "%.1f", v);
	else
		ui_human(buf, sizeof(buf), v);
	table_set(r, col, v, "%s", buf);
}

void table_set_errors(struct table_row *r, int col, uint64_t n, bool failing)
{
	char buf[32];

	ui_human(buf, sizeof(buf), (double)n);
	table_set(r, col, (double)n, "%s%s", failing ? "ERR " : "", buf);
}

void table_set_ms(struct table_row *r, int col, double ms)
{
	if (ms < 0)
		table_set(r, col, ms, "-");
	else if (ms < 10)
		table_set(r, col, ms, "%.2f", ms);
	else if (ms < 1000)
		table_set(r, col, ms, "%.1f", ms);
	else
		table_set(r, col, ms, "%.0f", ms);
}

void table_set_upto(struct table_row *r, int col, uint64_t n, uint64_t limit)
{
	table_set(r, col, (double)n, "%llu%s", (unsigned long long)n, n >= limit ? "+" : "");
}

/* ---- ordering ---- */

struct sort_ctx {
	const struct table *t;
	const struct table_row *base; /* the rows the spans being sorted index */
	bool by_rank;
};

/* A sibling with the rows it owns. */
struct span {
	size_t start, len;
};

static int col_cmp(const struct table *t, const struct table_row *a, const struct table_row *b,
		   int col)
{
	if (t->cols[col].right)
		return a->num[col] < b->num[col] ? -1 : a->num[col] > b->num[col];
	return strcmp(a->cell[col] ? a->cell[col] : "", b->cell[col] ? b->cell[col] : "");
}

static int row_cmp(const struct sort_ctx *cx, const struct table_row *a,
		   const struct table_row *b)
{
	const struct table *t = cx->t;
	int c;

	if (cx->by_rank)
		return a->rank < b->rank ? -1 : a->rank > b->rank;
	c = col_cmp(t, a, b, t->sort_col);
	if (!t->sort_asc)
		c = -c;
	if (!c && t->tie_col >= 0 && t->tie_col != t->sort_col)
		c = -col_cmp(t, a, b, t->tie_col);
	return c ? c : strcmp(a->key, b->key);
}

static int span_cmp(const void *pa, const void *pb, void *arg)
{
	const struct sort_ctx *cx = arg;
	const struct span *a = pa, *b = pb;

	return row_cmp(cx, &cx->base[a->start], &cx->base[b->start]);
}

/* Sorts the siblings of v[0, n) (each followed by the deeper rows it owns),
 * then the rows each owns, recursively. spans and tmp have room for n:
 * a level's spans and its children's never outnumber the rows. */
static void sort_forest(struct sort_ctx *cx, struct table_row *v, size_t n, struct span *spans,
			struct table_row *tmp)
{
	unsigned char d;
	size_t ns = 0, i, o = 0;

	if (n < 2)
		return;
	d = v[0].depth;
	for (i = 0; i < n; i++) {
		if (v[i].depth <= d)
			spans[ns++] = (struct span){ i, 0 };
		spans[ns - 1].len++;
	}
	for (i = 0; i < ns; i++)
		sort_forest(cx, v + spans[i].start + 1, spans[i].len - 1, spans + ns, tmp);
	cx->base = v;
	qsort_r(spans, ns, sizeof(*spans), span_cmp, cx);
	for (i = 0; i < ns; i++) {
		memcpy(tmp + o, v + spans[i].start, spans[i].len * sizeof(*v));
		o += spans[i].len;
	}
	memcpy(v, tmp, n * sizeof(*v));
}

/* Orders rs; out of memory leaves it as it is. */
static void order(const struct table *t, struct table_rows *rs, bool by_rank)
{
	struct sort_ctx cx = { t, rs->v, by_rank };
	struct span *spans = calloc(rs->n ? rs->n : 1, sizeof(*spans));
	struct table_row *tmp = calloc(rs->n ? rs->n : 1, sizeof(*tmp));

	if (spans && tmp)
		sort_forest(&cx, rs->v, rs->n, spans, tmp);
	free(spans);
	free(tmp);
}

static int idx_key_cmp(const void *pa, const void *pb, void *arg)
{
	const struct table_row *v = arg;

	return strcmp(v[*(const size_t *)pa].key, v[*(const size_t *)pb].key);
}

/* Ranks the rows of next by the position of the same key among old; rows
 * new to the table come after all of those, in their order in next. false
 * when out of memory. */
static bool rank_by(struct table_rows *next, const struct table_rows *old)
{
	size_t *idx = calloc(old->n ? old->n : 1, sizeof(*idx));
	size_t i;

	if (!idx)
		return false;
	for (i = 0; i < old->n; i++)
		idx[i] = i;
	qsort_r(idx, old->n, sizeof(*idx), idx_key_cmp, old->v);
	for (i = 0; i < next->n; i++) {
		size_t lo = 0, hi = old->n;

		next->v[i].rank = old->n + i;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int c = strcmp(next->v[i].key, old->v[idx[mid]].key);

			if (!c) {
				next->v[i].rank = idx[mid];
				break;
			}
			if (c < 0)
				hi = mid;
			else
				lo = mid + 1;
		}
	}
	free(idx);
	return true;
}

static void find_flex_max(struct table *t)
{
	size_t i;

	t->flex_max = 0;
	if (t->flex < 0)
		return;
	for (i = 0; i < t->rows.n; i++) {
		const char *s = t->rows.v[i].cell[t->flex];
		size_t len = s ? strlen(s) : 0;

		if (len > (size_t)t->flex_max)
			t->flex_max = len > 100000 ? 100000 : (int)len;
	}
}

static bool find_key(const struct table *t, const char *key, size_t *at)
{
	size_t i;

	for (i = 0; i < t->rows.n; i++) {
		if (!strcmp(t->rows.v[i].key, key)) {
			*at = i;
			return true;
		}
	}
	return false;
}

/* The cursor on the row with key once the user moved it, else at index
 * cur, clamped. */
static void reselect(struct table *t, const char *key, size_t cur)
{
	if (!t->touched || !key || !find_key(t, key, &t->cur))
		t->cur = cur;
	if (t->cur >= t->rows.n)
		t->cur = t->rows.n ? t->rows.n - 1 : 0;
	table_scroll(t, t->h);
}

void table_commit(struct table *t, bool resort)
{
	struct table_rows old = t->rows;
	const struct table_row *sel = table_current(t);

	/* sorted first, so that rows new to a list holding still come in order */
	order(t, &t->next, false);
	if (!resort && rank_by(&t->next, &old))
		order(t, &t->next, true);
	t->rows = t->next;
	t->next = old;
	reselect(t, sel ? sel->key : NULL, t->cur);
	rows_clear(&t->next);
	find_flex_max(t);
}

void table_sort(struct table *t)
{
	const struct table_row *sel = table_current(t);
	const char *key = sel ? sel->key : NULL;

	/* the key string stays where it is while the rows move */
	order(t, &t->rows, false);
	reselect(t, key, t->cur);
}

void table_sort_by(struct table *t, int col)
{
	if (col < 0 || col >= t->ncols)
		return;
	t->sort_col = col;
	t->sort_asc = !t->cols[col].right;
	table_sort(t);
}

const char *table_sort_name(const struct table *t)
{
	return t->cols[t->sort_col].title;
}

bool table_stable(const struct ui *ui)
{
	return ui->last_move_ns && ui->now_ns >= ui->last_move_ns &&
	       ui->now_ns - ui->last_move_ns < TABLE_STABLE_NS;
}

/* ---- layout and movement ---- */

/* A column is never narrower than its title and the sort glyph. */
static int col_min(const struct table_col *c)
{
	int tw = (int)strlen(c->title) + 1;

	return c->min > tw ? c->min : tw;
}

static int col_want(const struct table_col *c)
{
	return c->want > col_min(c) ? c->want : col_min(c);
}

/* The shown column to drop first: highest priority, the rightmost of equals. */
static int drop_candidate(const struct table *t, const bool *on)
{
	int i, best = -1;

	for (i = 0; i < t->ncols; i++)
		if (on[i] && t->cols[i].drop && (best < 0 || t->cols[i].drop >= t->cols[best].drop))
			best = i;
	return best;
}

/* Grows w[i] toward its wanted width by at most *extra. */
static void grow_col(const struct table *t, int i, int *w, int *extra)
{
	int g = col_want(&t->cols[i]) - w[i];

	g = g < *extra ? g : *extra;
	if (g > 0) {
		w[i] += g;
		*extra -= g;
	}
}

/* Widths from the minimum up: the flex column to its wanted width first
 * (a path needs room more than a wide address), then the others left
 * first, then the flex column takes the rest. */
static void grow(const struct table *t, const bool *on, int *w, int extra)
{
	int i;
	bool flex = t->flex >= 0 && on[t->flex];

	for (i = 0; i < t->ncols; i++)
		w[i] = col_min(&t->cols[i]);
	if (extra <= 0)
		return;
	if (flex)
		grow_col(t, t->flex, w, &extra);
	for (i = 0; i < t->ncols; i++)
		if (on[i] && i != t->flex)
			grow_col(t, i, w, &extra);
	if (flex)
		w[t->flex] += extra;
}

void table_layout(const struct table *t, int width, struct table_layout *lay)
{
	bool on[TABLE_COLS_MAX];
	int w[TABLE_COLS_MAX];
	int i, x = 0, need = -1;

	for (i = 0; i < t->ncols; i++) {
		on[i] = !(t->hidden & (1u << i));
		if (on[i])
			need += col_min(&t->cols[i]) + 1;
	}
	while (need > width) {
		int d = drop_candidate(t, on);

		if (d < 0)
			break;
		on[d] = false;
		need -= col_min(&t->cols[d]) + 1;
	}
	grow(t, on, w, width - need);
	lay->n = 0;
	for (i = 0; i < t->ncols && x < width; i++) {
		if (!on[i])
			continue;
		lay->col[lay->n] = i;
		lay->x[lay->n] = x;
		lay->w[lay->n] = w[i] < width - x ? w[i] : width - x;
		x += lay->w[lay->n] + 1;
		lay->n++;
	}
}

const struct table_row *table_current(const struct table *t)
{
	return t->cur < t->rows.n ? &t->rows.v[t->cur] : NULL;
}

bool table_select_key(struct table *t, const char *key)
{
	if (!find_key(t, key, &t->cur))
		return false;
	t->touched = true;
	return true;
}

void table_scroll(struct table *t, int h)
{
	size_t hh = h > 0 ? (size_t)h : 1;

	if (t->cur >= t->rows.n)
		t->cur = t->rows.n ? t->rows.n - 1 : 0;
	/* no blank rows below the last while rows above are hidden */
	if (t->top + hh > t->rows.n)
		t->top = t->rows.n > hh ? t->rows.n - hh : 0;
	if (t->cur < t->top)
		t->top = t->cur;
	if (t->cur >= t->top + hh)
		t->top = t->cur - hh + 1;
}

static bool hscroll(struct table *t, int step)
{
	int hs = t->hscroll + step;

	if (hs < 0)
		hs = 0;
	/* not past the end of the longest text */
	if (hs == 0 || hs < t->flex_max)
		t->hscroll = hs;
	return true;
}

bool table_move(struct table *t, enum ui_action a)
{
	size_t page = t->h > 1 ? (size_t)t->h - 1 : 1;
	size_t last = t->rows.n ? t->rows.n - 1 : 0;

	switch (a) {
	case ACT_UP:
		t->cur -= t->cur > 0;
		break;
	case ACT_DOWN:
		t->cur += t->cur < last;
		break;
	case ACT_HOME:
		t->cur = 0;
		break;
	case ACT_END:
		t->cur = last;
		break;
	case ACT_PGUP:
		t->cur = t->cur > page ? t->cur - page : 0;
		break;
	case ACT_PGDN:
		t->cur = t->cur + page < last ? t->cur + page : last;
		break;
	case ACT_LEFT:
		return hscroll(t, -HSCROLL_STEP);
	case ACT_RIGHT:
		return hscroll(t, HSCROLL_STEP);
	default:
		return false;
	}
	t->touched = true;
	table_scroll(t, t->h);
	return true;
}

bool table_is_last(const struct table *t, size_t i)
{
	unsigned char d = t->rows.v[i].depth;

	for (i++; i < t->rows.n; i++) {
		if (t->rows.v[i].depth < d)
			return true;
		if (t->rows.v[i].depth == d)
			return false;
	}
	return true;
}

/* ---- actions ---- */

/* Next or previous column on screen (any column before the first draw). */
static void sort_step(struct table *t, int dir)
{
	int order_[TABLE_COLS_MAX];
	int n = 0, i, pos = 0;

	if (t->lay.n) {
		memcpy(order_, t->lay.col, sizeof(int) * (size_t)t->lay.n);
		n = t->lay.n;
	} else {
		for (i = 0; i < t->ncols; i++)
			if (!(t->hidden & (1u << i)))
				order_[n++] = i;
	}
	if (!n)
		return;
	for (i = 0; i < n; i++)
		if (order_[i] == t->sort_col)
			pos = i;
	table_sort_by(t, order_[(pos + dir + n) % n]);
}

static enum table_result click_title(struct table *t, int x)
{
	int i;

	for (i = 0; i < t->lay.n; i++) {
		int cx = t->x + t->lay.x[i];

		if (x < cx || x > cx + t->lay.w[i])
			continue;
		if (t->lay.col[i] == t->sort_col) {
			t->sort_asc = !t->sort_asc;
			table_sort(t);
		} else {
			table_sort_by(t, t->lay.col[i]);
		}
		return TABLE_SORTED;
	}
	return TABLE_IGNORED;
}

static enum table_result click(struct ui *ui, struct table *t)
{
	int y = ui->mouse_y, x = ui->mouse_x;
	size_t i;

	if (x < t->x || x >= t->x + t->w || y < t->y || y > t->y + t->h)
		return TABLE_IGNORED;
	if (y == t->y)
		return click_title(t, x);
	i = t->top + (size_t)(y - t->y - 1);
	if (i >= t->rows.n)
		return TABLE_HANDLED;
	t->cur = i;
	t->touched = true;
	ui_moved(ui);
	return ui->mouse_double ? TABLE_ACTIVATE : TABLE_MOVED;
}

enum table_result table_action(struct ui *ui, struct table *t, enum ui_action a)
{
	size_t before = t->cur;

	switch (a) {
	case ACT_SORT:
	case ACT_SORT_NEXT:
		sort_step(t, 1);
		return TABLE_SORTED;
	case ACT_SORT_PREV:
		sort_step(t, -1);
		return TABLE_SORTED;
	case ACT_SORT_INVERT:
		t->sort_asc = !t->sort_asc;
		table_sort(t);
		return TABLE_SORTED;
	case ACT_MOUSE:
		return click(ui, t);
	default:
		break;
	}
	if (!table_move(t, a))
		return TABLE_IGNORED;
	if (a == ACT_LEFT || a == ACT_RIGHT)
		return TABLE_HANDLED;
	ui_moved(ui);
	return t->cur != before ? TABLE_MOVED : TABLE_HANDLED;
}

/* ---- drawing ---- */

/* s past its first n characters (UTF-8 sequences count as one column). */
static const char *skip_cols(const char *s, int n)
{
	while (*s && n > 0) {
		s++;
		while (((unsigned char)*s & 0xc0) == 0x80)
			s++;
		n--;
	}
	return s;
}

/* Text of layout column k on row y: scrolled, cut in the middle, or
 * right-aligned as the column says. */
static void draw_cell(struct ui *ui, const struct table *t, int y, int k, enum ui_role role,
		      const char *s, bool scroll)
{
	const struct table_col *c = &t->cols[t->lay.col[k]];
	int x = t->x + t->lay.x[k], w = t->lay.w[k], tw;
	char buf[1024];

	if (w <= 0)
		return;
	if (scroll && t->lay.col[k] == t->flex && t->hscroll > 0) {
		ui_print(ui, y, x, w, role, 0, true, skip_cols(s, t->hscroll));
		return;
	}
	tw = ui_width(s);
	if (tw > w && c->mid) {
		ui_cut_middle(ui, buf, sizeof(buf), s, w);
		s = buf;
	} else if (tw < w && c->right) {
		x += w - tw;
		w = tw;
	}
	ui_print(ui, y, x, w, role, 0, true, s);
}

static void draw_titles(struct ui *ui, const struct table *t)
{
	int k;

	ui_print_pad(ui, t->y, t->x, t->w, R_TITLE, 0, "");
	for (k = 0; k < t->lay.n; k++) {
		int col = t->lay.col[k];
		char buf[128];

		if (col == t->sort_col && t->g)
			snprintf(buf, sizeof(buf), "%s%s", t->cols[col].title,
				 t->sort_asc ? t->g->sort_up : t->g->sort_down);
		else
			snprintf(buf, sizeof(buf), "%s", t->cols[col].title);
		draw_cell(ui, t, t->y, k, R_TITLE, buf, false);
	}
}

/* The tree column's text: indentation and the branch glyph, then s. */
static const char *tree_text(const struct table *t, size_t i, const char *s, char *buf,
			     size_t len)
{
	const struct table_row *r = &t->rows.v[i];
	const char *glyph;

	if (!r->depth || !t->g)
		return s;
	glyph = table_is_last(t, i) ? t->g->tree_last : t->g->tree_mid;
	snprintf(buf, len, "%*s%s %s", 2 * (r->depth - 1), "", glyph, s);
	return buf;
}

static void draw_row(struct ui *ui, const struct table *t, size_t i, int y)
{
	const struct table_row *r = &t->rows.v[i];
	enum ui_role role = i == t->cur ? R_SELECTION : r->role;
	char buf[1024];
	int k;

	ui_print_pad(ui, y, t->x, t->w, role, 0, "");
	for (k = 0; k < t->lay.n; k++) {
		int col = t->lay.col[k];
		const char *s = r->cell[col] ? r->cell[col] : "";

		if (col == t->tree_col)
			s = tree_text(t, i, s, buf, sizeof(buf));
		draw_cell(ui, t, y, k, role, s, true);
	}
}

void table_draw(struct ui *ui, struct table *t, int y, int x, int h, int w)
{
	int i;

	t->y = y;
	t->x = x;
	t->h = h > 1 ? h - 1 : 0;
	t->w = w > 0 ? w : 0;
	if (h <= 0 || w <= 0)
		return;
	table_layout(t, w, &t->lay);
	table_scroll(t, t->h);
	draw_titles(ui, t);
	for (i = 0; i < t->h; i++) {
		size_t r = t->top + (size_t)i;

		if (r < t->rows.n)
			draw_row(ui, t, r, y + 1 + i);
		else if (!i && t->empty)
			ui_print_pad(ui, y + 1 + i, x, w, R_DIM, 0, t->empty);
		else
			ui_print_pad(ui, y + 1 + i, x, w, R_NORMAL, 0, "");
	}
}

/* ---- what the rows stand for ---- */

bool table_msg_match(const struct ui *ui, const struct filter *f, const struct message *m)
{
	return filter_match(f, m, &ui->fenv) && (!ui->show_marked || ui_marked(ui, m->id));
}

void table_count_messages(struct ui *ui, struct view *v, const struct filter *f, size_t *match,
			  size_t *total)
{
	const struct store *st = session_store(ui->s);
	const struct store_conn *c;
	const struct store_msg *sm;

	*match = *total = 0;
	for (c = store_conn_first(st); c; c = store_conn_next(c)) {
		for (sm = store_conn_oldest(c); sm; sm = store_msg_newer(sm)) {
			(*total)++;
			*match += table_msg_match(ui, f, sm->m);
		}
	}
}
