/* textpane.c - a scrollable list of lines with a cursor, follow, wrap or
 * horizontal scroll, and PCRE2 search that highlights every match and
 * never hides a line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "textpane.h"

#define HSCROLL_STEP 8
#define HSCROLL_MAX 65536
#define MATCHES_MAX 128 /* highlighted per line; the line still counts as a hit past them */
/* A pathological regex must not freeze the UI: the match limit is put in
 * the pattern so JIT and interpreter both honour it. */
#define SEARCH_LIMIT "(*LIMIT_MATCH=1000000)"

struct range {
	size_t b0, b1;
};

void textpane_init(struct textpane *tp, bool cursor, bool follow)
{
	*tp = (struct textpane){ .cursor = cursor, .follow = follow };
}

static void search_free(struct textpane *tp)
{
	pcre2_match_data_free(tp->md);
	pcre2_code_free(tp->re);
	tp->re = tp->md = NULL;
	tp->hits = 0;
}

void textpane_free(struct textpane *tp)
{
	lines_clear(&tp->lines);
	search_free(tp);
}

static size_t last_line(const struct textpane *tp)
{
	return tp->lines.n ? tp->lines.n - 1 : 0;
}

uint64_t textpane_id(const struct textpane *tp)
{
	if (!tp->lines.n)
		return 0;
	return tp->lines.v[tp->cur < tp->lines.n ? tp->cur : last_line(tp)].id;
}

static bool line_matches(const struct textpane *tp, size_t i)
{
	return tp->re && i < tp->lines.n &&
	       pcre2_match(tp->re, (PCRE2_SPTR)tp->lines.v[i].text, PCRE2_ZERO_TERMINATED, 0, 0,
			   tp->md, NULL) >= 0;
}

static size_t count_hits(const struct textpane *tp)
{
	size_t hits = 0;

	for (size_t i = 0; tp->re && i < tp->lines.n; i++)
		hits += line_matches(tp, i);
	return hits;
}

/* First line of the run of lines of the same message as line i. */
static size_t run_start(const struct textpane *tp, size_t i)
{
	while (i && tp->lines.v[i - 1].id == tp->lines.v[i].id)
		i--;
	return i;
}

/* The line with id, looked for where it was first (new lines are most
 * often appended), then everywhere. */
static bool find_id(const struct textpane *tp, uint64_t id, size_t hint, size_t *at)
{
	if (hint < tp->lines.n && tp->lines.v[hint].id == id) {
		*at = run_start(tp, hint);
		return true;
	}
	for (size_t i = 0; i < tp->lines.n; i++) {
		if (tp->lines.v[i].id == id) {
			*at = i;
			return true;
		}
	}
	return false;
}

/* Keeps the cursor on the same message; the same lines may be given back
 * (lines == &tp->lines) after the caller appended to them. */
void textpane_set(struct textpane *tp, struct lines *lines)
{
	uint64_t id = textpane_id(tp);
	size_t off = id && tp->cur < tp->lines.n ? tp->cur - run_start(tp, tp->cur) : 0;
	size_t row = tp->cur > tp->top ? tp->cur - tp->top : 0, at;
	size_t old = tp->cur < tp->lines.n ? run_start(tp, tp->cur) : 0;

	if (lines != &tp->lines) {
		lines_clear(&tp->lines);
		tp->lines = *lines;
		*lines = (struct lines){ 0 };
	}
	if (tp->follow) {
		tp->cur = last_line(tp);
	} else if (id && find_id(tp, id, old, &at)) {
		tp->cur = at + off;
		while (tp->cur > at && (tp->cur >= tp->lines.n || tp->lines.v[tp->cur].id != id))
			tp->cur--;
	} else if (tp->cur > last_line(tp)) {
		tp->cur = last_line(tp);
	}
	if (tp->cursor)
		tp->top = tp->cur > row ? tp->cur - row : 0;
	else if (tp->top > last_line(tp))
		tp->top = last_line(tp);
	/* hits are counted when searching only: a live pane gets new lines
	 * every frame, and n and N look for matches themselves */
}

/* ---- drawing ---- */

static size_t char_len(const char *s)
{
	unsigned char c = (unsigned char)s[0];
	size_t len = c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;

	return strnlen(s, len) ? strnlen(s, len) : 1;
}

/* Byte offset after at most w columns of s from start; at least one
 * character, so a character wider than the pane still moves on. */
static size_t row_end(struct ui *ui, const char *s, size_t start, int w)
{
	size_t p = start;
	int cols = 0;

	while (s[p]) {
		char ch[8] = { 0 };
		size_t len = char_len(s + p);
		int cw;

		memcpy(ch, s + p, len);
		cw = ui_width(ch);
		if (cols + cw > w && p > start)
			break;
		cols += cw;
		p += len;
		if (cols >= w)
			break;
	}
	return p;
}

static int line_rows(struct ui *ui, const char *s, int w)
{
	size_t p = 0;
	int rows = 0;

	if (!ui->wrap || !*s)
		return 1;
	while (s[p]) {
		p = row_end(ui, s, p, w);
		rows++;
	}
	return rows;
}

/* Every match in s, up to max of them. */
static size_t find_matches(const struct textpane *tp, const char *s, struct range *r,
			   size_t max)
{
	size_t n = 0, len = strlen(s), off = 0;

	while (tp->re && n < max && off <= len) {
		PCRE2_SIZE *ov;

		if (pcre2_match(tp->re, (PCRE2_SPTR)s, len, off, 0, tp->md, NULL) < 0)
			break;
		ov = pcre2_get_ovector_pointer(tp->md);
		if (ov[1] < ov[0] || ov[0] >= len)
			break;
		if (ov[1] > ov[0]) {
			r[n++] = (struct range){ ov[0], ov[1] };
			off = ov[1];
		} else {
			off = ov[0] + char_len(s + ov[0]);
		}
	}
	return n;
}

/* Bytes [b0, b1) of s on row y, matches highlighted, padded to w. */
static void draw_row(struct ui *ui, int y, int w, const char *s, size_t b0, size_t b1,
		     enum ui_role role, const struct range *m, size_t nm, bool cut)
{
	size_t p = b0;
	int x = 0;

	while (p < b1 && x < w) {
		enum ui_role r = role;
		size_t q = b1;
		char *seg;

		for (size_t k = 0; k < nm; k++) {
			if (m[k].b0 <= p && p < m[k].b1) {
				q = m[k].b1 < b1 ? m[k].b1 : b1;
				r = R_MATCH;
				break;
			}
			if (m[k].b0 > p && m[k].b0 < q)
				q = m[k].b0;
		}
		seg = strndup(s + p, q - p);
		if (!seg)
			break;
		x += ui_print(ui, y, x, w - x, r, 0, cut, seg);
		free(seg);
		p = q;
	}
	if (x < w)
		ui_print_pad(ui, y, x, w - x, role, 0, "");
}

/* Draws line i from row y, at most rows rows; returns the rows used. */
static int draw_line(struct ui *ui, struct textpane *tp, size_t i, int y, int rows, int w)
{
	const struct line *ln = &tp->lines.v[i];
	enum ui_role role = tp->cursor && i == tp->cur ? R_SELECTION : ln->role;
	struct range m[MATCHES_MAX];
	size_t nm = find_matches(tp, ln->text, m, MATCHES_MAX), p = 0;
	int r = 0;

	if (!ui->wrap) {
		if (tp->hscroll)
			p = row_end(ui, ln->text, 0, tp->hscroll);
		draw_row(ui, y, w, ln->text, p, strlen(ln->text), role, m, nm, true);
		return 1;
	}
	do {
		size_t end = row_end(ui, ln->text, p, w);

		draw_row(ui, y + r, w, ln->text, p, end, role, m, nm, false);
		p = end;
		r++;
	} while (ln->text[p] && r < rows);
	return r;
}

/* The first line that shows the last lines in h rows. */
static size_t max_top(struct ui *ui, const struct textpane *tp, int h, int w)
{
	size_t i = tp->lines.n;
	int rows = 0;

	if (!ui->wrap)
		return tp->lines.n > (size_t)h ? tp->lines.n - (size_t)h : 0;
	while (i > 0) {
		int r = line_rows(ui, tp->lines.v[i - 1].text, w);

		if (rows + r > h)
			break;
		rows += r;
		i--;
	}
	return i < tp->lines.n ? i : last_line(tp);
}

static int rows_between(struct ui *ui, const struct textpane *tp, size_t a, size_t b, int w)
{
	int rows = 0;

	for (size_t i = a; i <= b && i < tp->lines.n; i++)
		rows += line_rows(ui, tp->lines.v[i].text, w);
	return rows;
}

/* Scrolls so the cursor (or, following, the end) is in view. */
static void scroll_into_view(struct ui *ui, struct textpane *tp, int h, int w)
{
	size_t mt = max_top(ui, tp, h, w);

	if (tp->follow || tp->cur > last_line(tp))
		tp->cur = last_line(tp);
	if (!tp->cursor) {
		if (tp->follow || tp->top > mt)
			tp->top = mt;
		return;
	}
	if (tp->top > mt) /* no blank rows below while lines above are hidden */
		tp->top = mt;
	if (tp->top > tp->cur)
		tp->top = tp->cur;
	if (tp->cur - tp->top >= (size_t)h)
		tp->top = tp->cur - (size_t)h + 1;
	while (ui->wrap && tp->top < tp->cur && rows_between(ui, tp, tp->top, tp->cur, w) > h)
		tp->top++;
}

void textpane_draw(struct ui *ui, struct textpane *tp, int y, int h)
{
	int w = ui->cols, row = 0;

	if (h <= 0 || w <= 0)
		return;
	scroll_into_view(ui, tp, h, w);
	for (size_t i = tp->top; i < tp->lines.n && row < h; i++)
		row += draw_line(ui, tp, i, y + row, h - row, w);
	for (; row < h; row++)
		ui_print_pad(ui, y + row, 0, w, R_NORMAL, 0, "");
}

/* ---- movement and search ---- */

static void go_to(struct textpane *tp, size_t i)
{
	tp->cur = i;
	if (!tp->cursor)
		tp->top = i;
	tp->follow = false;
}

static void wrap_flash(struct ui *ui, bool fwd)
{
	ui_flash(ui, false, fwd ? "search hit BOTTOM, continuing at TOP" :
				  "search hit TOP, continuing at BOTTOM");
}

/* The next (or previous) matching line after the anchor, wrapping; with
 * from_here the anchor itself counts (a new search). */
static bool search_move(struct ui *ui, struct textpane *tp, bool fwd, bool from_here)
{
	size_t n = tp->lines.n, from = tp->cur < n ? tp->cur : 0;

	for (size_t k = from_here ? 0 : 1; k <= n && n; k++) {
		size_t i = fwd ? (from + k) % n : (from + n - k % n) % n;

		if (!line_matches(tp, i))
			continue;
		/* a new search says how many lines match instead */
		if (!from_here && (fwd ? i <= from : i >= from))
			wrap_flash(ui, fwd);
		go_to(tp, i);
		return true;
	}
	return false;
}

static void search_step(struct ui *ui, struct textpane *tp, bool fwd)
{
	if (!tp->re)
		ui_flash(ui, true, "no search yet: press / to search");
	else if (!search_move(ui, tp, fwd, false))
		ui_flash(ui, true, "pattern not found");
}

/* smart case (vim smartcase, ripgrep -S): an upper-case letter asks for case */
static bool has_upper(const char *re)
{
	for (; *re; re++) {
		if (*re == '\\' && re[1]) {
			re++;
			continue;
		}
		if (*re >= 'A' && *re <= 'Z')
			return true;
	}
	return false;
}

long textpane_search(struct ui *ui, struct textpane *tp, const char *regex)
{
	uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
	size_t prefix = strlen(SEARCH_LIMIT);
	PCRE2_SIZE off;
	pcre2_code *re;
	pcre2_match_data *md;
	char *pattern;
	int err;

	if (!regex || !*regex) {
		search_free(tp);
		return 0;
	}
	if (!has_upper(regex))
		opts |= PCRE2_CASELESS;
	if (asprintf(&pattern, "%s%s", SEARCH_LIMIT, regex) < 0)
		return -1;
	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, opts, &err, &off, NULL);
	free(pattern);
	if (!re) {
		PCRE2_UCHAR msg[160];

		pcre2_get_error_message(err, msg, sizeof(msg));
		ui_flash(ui, true, "search: %s at offset %zu", (const char *)msg,
			 off > prefix ? off - prefix : 0);
		return -1;
	}
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	md = pcre2_match_data_create_from_pattern(re, NULL);
	if (!md) {
		pcre2_code_free(re);
		ui_flash(ui, true, "search: out of memory");
		return -1;
	}
	search_free(tp);
	tp->re = re;
	tp->md = md;
	tp->follow = false;
	tp->hits = count_hits(tp);
	search_move(ui, tp, true, true);
	return (long)tp->hits;
}

/* Cursor and page moves; the pane's top line when it has no cursor. */
static bool move_pos(struct textpane *tp, enum ui_action a, int h)
{
	size_t *p = tp->cursor ? &tp->cur : &tp->top, last = last_line(tp);
	size_t page = h > 1 ? (size_t)h - 1 : 1;

	switch (a) {
	case ACT_UP:
		*p = *p ? *p - 1 : 0;
		break;
	case ACT_DOWN:
		*p = *p < last ? *p + 1 : last;
		return true;
	case ACT_PGUP:
		*p = *p > page ? *p - page : 0;
		break;
	case ACT_PGDN:
		*p = *p + page < last ? *p + page : last;
		return true;
	case ACT_HOME:
		*p = 0;
		break;
	default:
		return false;
	}
	tp->follow = false;
	return true;
}

bool textpane_action(struct ui *ui, struct textpane *tp, enum ui_action a, int h)
{
	if (move_pos(tp, a, h)) {
		if (!tp->cursor)
			tp->cur = tp->top;
		ui_moved(ui);
		return true;
	}
	switch (a) {
	case ACT_END:
		tp->follow = true;
		tp->cur = last_line(tp);
		ui_moved(ui);
		break;
	case ACT_FOLLOW:
		tp->follow = !tp->follow;
		if (tp->follow)
			tp->cur = last_line(tp);
		break;
	case ACT_LEFT:
		tp->hscroll = tp->hscroll > HSCROLL_STEP ? tp->hscroll - HSCROLL_STEP : 0;
		break;
	case ACT_RIGHT:
		if (tp->hscroll < HSCROLL_MAX)
			tp->hscroll += HSCROLL_STEP;
		break;
	case ACT_SEARCH_NEXT:
	case ACT_SEARCH_PREV:
		search_step(ui, tp, a == ACT_SEARCH_NEXT);
		ui_moved(ui);
		break;
	case ACT_WRAP:
		ui->wrap = !ui->wrap;
		ui_flash(ui, false, "wrap %s", ui->wrap ? "on" : "off");
		break;
	default:
		return false;
	}
	return true;
}

void pane_view_draw(struct ui *ui, struct view *v, int y, int h)
{
	struct pane_view *p = v->priv;

	textpane_draw(ui, &p->tp, y, h);
}

bool pane_view_action(struct ui *ui, struct view *v, enum ui_action a)
{
	struct pane_view *p = v->priv;
	bool done = textpane_action(ui, &p->tp, a, ui->rows);

	v->follow = p->tp.follow;
	return done;
}

size_t pane_view_search(struct ui *ui, struct view *v, const char *regex)
{
	struct pane_view *p = v->priv;
	long n = textpane_search(ui, &p->tp, regex);

	v->follow = p->tp.follow;
	return n > 0 ? (size_t)n : 0;
}

void pane_view_free(struct view *v)
{
	struct pane_view *p = v->priv;

	textpane_free(&p->tp);
	free(p);
}
