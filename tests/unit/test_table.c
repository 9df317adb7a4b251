/* test_table.c - the table widget without a terminal: layout by drop
 * priority, sorting (tree and stable), selection by identity, scrolling,
 * mouse, drawing into a fake screen, and the message count of the store. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "table.h"
#include "unit.h"

/* ---- a fake screen behind the draw helpers ---- */

#define SCR_ROWS 40
#define SCR_COLS 220

static char scr[SCR_ROWS][SCR_COLS + 1];
static enum ui_role scr_role[SCR_ROWS];
static int moves;

static void scr_clear(void)
{
	int y;

	for (y = 0; y < SCR_ROWS; y++) {
		memset(scr[y], ' ', SCR_COLS);
		scr[y][SCR_COLS] = '\0';
	}
}

int ui_width(const char *s)
{
	int w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

int ui_print(struct ui *ui, int y, int x, int w, enum ui_role role, attr_t extra, bool cut,
	     const char *s)
{
	int n = (int)strlen(s), i;

	if (y < 0 || y >= SCR_ROWS || x < 0 || w <= 0)
		return 0;
	if (x + w > SCR_COLS)
		w = SCR_COLS - x;
	if (n > w)
		n = w;
	for (i = 0; i < n; i++)
		scr[y][x + i] = s[i];
	if (cut && (int)strlen(s) > w)
		scr[y][x + w - 1] = '~';
	scr_role[y] = role;
	return n;
}

int ui_print_pad(struct ui *ui, int y, int x, int w, enum ui_role role, attr_t extra,
		 const char *s)
{
	int used = ui_print(ui, y, x, w, role, extra, true, s), i;

	for (i = x + used; i < x + w && i < SCR_COLS && y >= 0 && y < SCR_ROWS; i++)
		scr[y][i] = ' ';
	return w;
}

void ui_cut_middle(const struct ui *ui, char *out, size_t len, const char *s, int w)
{
	int n = (int)strlen(s), head = (w - 1) / 2;

	snprintf(out, len, "%.*s~%s", head, s, s + n - (w - 1 - head));
}

void ui_human(char *buf, size_t len, double v)
{
	if (v >= 999.5)
		snprintf(buf, len, "%.1fk", v / 1000);
	else
		snprintf(buf, len, "%.0f", v);
}

void ui_moved(struct ui *ui)
{
	moves++;
	ui->last_move_ns = ui->now_ns;
}

bool ui_marked(const struct ui *ui, uint64_t id)
{
	return id == 2;
}

bool filter_match(const struct filter *f, const struct message *m, const struct filter_env *env)
{
	return !f || (m->path && !strcmp(m->path, "/b"));
}

/* the test's session is the store itself */
struct store *session_store(const struct session *s)
{
	return (struct store *)s;
}

/* ---- fixtures ---- */

static const struct ui_glyphs glyphs = { "|-", "`-", "| ", ">", "<", "~", "v", "^", "-", ">", "." };

enum { K_PID, K_COMM, K_LIB, K_CONN, K_PROTO, K_MSGS, K_IN, K_OUT, K_ERR, K_P99, K_PATH, K_N };

/* The Connections columns and priorities of UX.md B.8. */
static const struct table_col cols[K_N] = {
	[K_PID] = { "PID", 5, 7, true, false, false, 0 },
	[K_COMM] = { "COMM", 8, 15, false, false, false, 0 },
	[K_LIB] = { "LIB", 9, 16, false, false, false, 9 },
	[K_CONN] = { "CONN", 20, 44, false, true, false, 5 },
	[K_PROTO] = { "PROTO", 5, 5, false, false, false, 6 },
	[K_MSGS] = { "MSG/s", 5, 6, true, false, false, 0 },
	[K_IN] = { "IN/s", 5, 6, true, false, false, 7 },
	[K_OUT] = { "OUT/s", 5, 6, true, false, false, 8 },
	[K_ERR] = { "ERR", 6, 8, true, false, false, 0 },
	[K_P99] = { "P99ms", 5, 6, true, false, false, 0 },
	[K_PATH] = { "LAST PATH", 16, 32, false, true, true, 0 },
};

static struct ui test_ui(void)
{
	struct ui ui;

	memset(&ui, 0, sizeof(ui));
	ui.rows = SCR_ROWS;
	ui.cols = SCR_COLS;
	ui.g = &glyphs;
	ui.now_ns = 100000000000ULL;
	return ui;
}

static void add(struct table *t, const char *key, double msgs, unsigned depth)
{
	struct table_row *r = table_add(t, key, R_NORMAL, depth);

	CHECK(r != NULL);
	if (!r)
		return;
	table_set(r, K_COMM, 0, "%s", key);
	table_set(r, K_MSGS, msgs, "%.0f", msgs);
	table_set(r, K_PATH, 0, "/path/of/%s/that/is/long/enough/to/scroll", key);
}

/* The keys of the shown rows, blank-separated. */
static const char *order(const struct table *t)
{
	static char buf[512];
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < t->rows.n && o < sizeof(buf) - 1; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", i ? " " : "",
				      t->rows.v[i].key);
	return buf;
}

static bool shown(const struct table_layout *lay, int col)
{
	int i;

	for (i = 0; i < lay->n; i++)
		if (lay->col[i] == col)
			return true;
	return false;
}

static int width_of(const struct table_layout *lay, int col)
{
	int i;

	for (i = 0; i < lay->n; i++)
		if (lay->col[i] == col)
			return lay->w[i];
	return -1;
}

/* Columns never overlap and never pass the width. */
static void check_fits(const struct table_layout *lay, int width)
{
	int i;

	for (i = 0; i < lay->n; i++) {
		CHECK(lay->w[i] > 0);
		CHECK(lay->x[i] + lay->w[i] <= width);
		if (i)
			CHECK(lay->x[i] > lay->x[i - 1] + lay->w[i - 1]);
	}
}

/* ---- tests ---- */

static void test_layout(void)
{
	struct table t;
	struct table_layout lay;

	table_init(&t, cols, K_N, K_MSGS);
	/* 60: everything droppable goes but the keepers and LAST PATH */
	table_layout(&t, 60, &lay);
	check_fits(&lay, 60);
	CHECK_EQ_U64(lay.n, 6);
	CHECK(shown(&lay, K_PID) && shown(&lay, K_COMM) && shown(&lay, K_MSGS));
	CHECK(shown(&lay, K_ERR) && shown(&lay, K_P99) && shown(&lay, K_PATH));
	CHECK_EQ_U64(width_of(&lay, K_COMM), 8);
	CHECK_EQ_U64(width_of(&lay, K_PATH), 24); /* the path grows first */
	CHECK_EQ_U64(lay.x[lay.n - 1] + lay.w[lay.n - 1], 60);
	/* 80: LIB, OUT/s and IN/s go first */
	table_layout(&t, 80, &lay);
	check_fits(&lay, 80);
	CHECK(!shown(&lay, K_LIB) && !shown(&lay, K_OUT) && !shown(&lay, K_IN));
	CHECK(shown(&lay, K_CONN) && shown(&lay, K_PROTO));
	CHECK_EQ_U64(width_of(&lay, K_MSGS), 6); /* "MSG/s" and the sort glyph */
	CHECK_EQ_U64(width_of(&lay, K_PATH), 16);
	CHECK_EQ_U64(lay.x[lay.n - 1] + lay.w[lay.n - 1], 80);
	/* 120: all shown, the path to its wanted width, the rest left first */
	table_layout(&t, 120, &lay);
	check_fits(&lay, 120);
	CHECK_EQ_U64(lay.n, K_N);
	CHECK_EQ_U64(width_of(&lay, K_PATH), 32);
	CHECK_EQ_U64(width_of(&lay, K_PID), 6);
	CHECK_EQ_U64(width_of(&lay, K_LIB), 9);
	CHECK_EQ_U64(width_of(&lay, K_CONN), 20);
	/* 200: every column at its wanted width, the path takes the rest */
	table_layout(&t, 200, &lay);
	check_fits(&lay, 200);
	CHECK_EQ_U64(width_of(&lay, K_CONN), 44);
	CHECK_EQ_U64(width_of(&lay, K_PATH), 70);
	CHECK_EQ_U64(width_of(&lay, K_ERR), 8);
	CHECK_EQ_U64(lay.x[lay.n - 1] + lay.w[lay.n - 1], 200);
	/* narrower than the keepers: clipped, never past the edge */
	table_layout(&t, 30, &lay);
	check_fits(&lay, 30);
	table_layout(&t, 0, &lay);
	CHECK_EQ_U64(lay.n, 0);
	/* a hidden column takes no room */
	t.hidden = 1u << K_PROTO;
	table_layout(&t, 200, &lay);
	CHECK(!shown(&lay, K_PROTO));
	CHECK_EQ_U64(width_of(&lay, K_PATH), 77);
	CHECK_EQ_U64(lay.x[lay.n - 1] + lay.w[lay.n - 1], 200);
	table_free(&t);
}

static void fill_abcd(struct table *t, bool resort)
{
	table_begin(t);
	add(t, "a", 1, 0);
	add(t, "b", 4, 0);
	add(t, "c", 3, 0);
	add(t, "d", 2, 0);
	table_commit(t, resort);
}

static void test_selection(void)
{
	struct table t;

	table_init(&t, cols, K_N, K_MSGS);
	CHECK(table_current(&t) == NULL);
	fill_abcd(&t, true);
	CHECK_STR(order(&t), "b c d a");
	/* never moved: the cursor stays on the first row */
	table_begin(&t);
	add(&t, "a", 9, 0);
	add(&t, "b", 4, 0);
	table_commit(&t, true);
	CHECK_STR(table_current(&t)->key, "a");
	fill_abcd(&t, true);
	CHECK(table_select_key(&t, "d"));
	CHECK_EQ_U64(t.cur, 2);
	/* new values reorder: the cursor follows d */
	table_begin(&t);
	add(&t, "a", 9, 0);
	add(&t, "d", 8, 0);
	add(&t, "e", 7, 0);
	add(&t, "b", 1, 0);
	table_commit(&t, true);
	CHECK_STR(order(&t), "a d e b");
	CHECK_STR(table_current(&t)->key, "d");
	/* d gone: the same index */
	table_begin(&t);
	add(&t, "a", 9, 0);
	add(&t, "e", 7, 0);
	add(&t, "b", 1, 0);
	table_commit(&t, true);
	CHECK_EQ_U64(t.cur, 1);
	CHECK_STR(table_current(&t)->key, "e");
	/* fewer rows than the index: clamped */
	table_select_key(&t, "b");
	table_begin(&t);
	add(&t, "z", 1, 0);
	table_commit(&t, true);
	CHECK_EQ_U64(t.cur, 0);
	/* no rows */
	table_begin(&t);
	table_commit(&t, true);
	CHECK(table_current(&t) == NULL);
	CHECK(!table_select_key(&t, "z"));
	table_free(&t);
}

static void fill_tree(struct table *t, bool resort, bool more)
{
	table_begin(t);
	add(t, "p1", more ? 50 : 5, 0);
	add(t, "c1a", more ? 40 : 1, 1);
	add(t, "c1b", 3, 1);
	if (more)
		add(t, "c1c", 30, 1);
	add(t, "p2", 9, 0);
	add(t, "c2a", 9, 1);
	if (more)
		add(t, "p3", 99, 0);
	table_commit(t, resort);
}

static void test_sort(void)
{
	struct table t;

	table_init(&t, cols, K_N, K_MSGS);
	CHECK(!t.sort_asc);
	CHECK_STR(table_sort_name(&t), "MSG/s");
	fill_tree(&t, true, false);
	/* groups by their head, children within their group */
	CHECK_STR(order(&t), "p2 c2a p1 c1b c1a");
	CHECK(table_is_last(&t, 1));
	CHECK(!table_is_last(&t, 3));
	CHECK(table_is_last(&t, 4));
	CHECK(!table_is_last(&t, 0));
	/* holding still: old rows keep their places, new ones go last */
	fill_tree(&t, false, true);
	CHECK_STR(order(&t), "p2 c2a p1 c1b c1a c1c p3");
	/* ... sorted among themselves */
	table_begin(&t);
	table_commit(&t, true);
	fill_tree(&t, false, false);
	CHECK_STR(order(&t), "p2 c2a p1 c1b c1a");
	fill_tree(&t, false, true);
	/* re-sorted on demand */
	table_sort(&t);
	CHECK_STR(order(&t), "p3 p1 c1a c1c c1b p2 c2a");
	t.sort_asc = true;
	table_sort(&t);
	CHECK_STR(order(&t), "p2 c2a p1 c1b c1c c1a p3");
	/* text sorts A to Z first, ties broken by the tie column */
	t.tie_col = K_MSGS;
	table_begin(&t);
	add(&t, "x", 1, 0);
	add(&t, "y", 5, 0);
	table_commit(&t, true);
	table_set(&t.rows.v[0], K_COMM, 0, "same");
	table_set(&t.rows.v[1], K_COMM, 0, "same");
	table_sort_by(&t, K_COMM);
	CHECK(t.sort_asc);
	CHECK_STR(order(&t), "y x");
	table_free(&t);
}

static void test_sort_keys(void)
{
	struct ui ui = test_ui();
	struct table t;

	table_init(&t, cols, K_N, K_MSGS);
	fill_abcd(&t, true);
	table_select_key(&t, "c");
	CHECK_EQ_U64(table_action(&ui, &t, ACT_SORT_NEXT), TABLE_SORTED);
	CHECK_STR(table_sort_name(&t), "IN/s");
	CHECK_EQ_U64(table_action(&ui, &t, ACT_SORT_PREV), TABLE_SORTED);
	CHECK_EQ_U64(table_action(&ui, &t, ACT_SORT_PREV), TABLE_SORTED);
	CHECK_STR(table_sort_name(&t), "PROTO");
	table_sort_by(&t, K_MSGS);
	CHECK_EQ_U64(table_action(&ui, &t, ACT_SORT_INVERT), TABLE_SORTED);
	CHECK_STR(order(&t), "a d c b");
	CHECK_STR(table_current(&t)->key, "c");
	/* cycling wraps around the columns on screen */
	table_draw(&ui, &t, 0, 0, 10, 60);
	table_sort_by(&t, K_PATH);
	table_action(&ui, &t, ACT_SORT);
	CHECK_STR(table_sort_name(&t), "PID");
	table_free(&t);
}

static void test_scroll(void)
{
	struct ui ui = test_ui();
	struct table t;
	char key[16];
	int i;

	table_init(&t, cols, K_N, K_MSGS);
	table_begin(&t);
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "r%03d", i);
		add(&t, key, 1000 - i, 0);
	}
	table_commit(&t, true);
	table_draw(&ui, &t, 0, 0, 11, 80); /* 10 rows below the titles */
	CHECK_EQ_U64(t.h, 10);
	moves = 0;
	for (i = 0; i < 15; i++)
		table_action(&ui, &t, ACT_DOWN);
	CHECK_EQ_U64(moves, 15);
	CHECK_EQ_U64(t.cur, 15);
	CHECK_EQ_U64(t.top, 6);
	CHECK_EQ_U64(table_action(&ui, &t, ACT_PGDN), TABLE_MOVED);
	CHECK_EQ_U64(t.cur, 24);
	CHECK_EQ_U64(t.top, 15);
	table_action(&ui, &t, ACT_END);
	CHECK_EQ_U64(t.cur, 99);
	CHECK_EQ_U64(t.top, 90);
	CHECK_EQ_U64(table_action(&ui, &t, ACT_DOWN), TABLE_HANDLED);
	CHECK_EQ_U64(t.cur, 99);
	table_action(&ui, &t, ACT_PGUP);
	CHECK_EQ_U64(t.cur, 90);
	CHECK_EQ_U64(t.top, 90);
	table_action(&ui, &t, ACT_HOME);
	CHECK_EQ_U64(t.cur, 0);
	CHECK_EQ_U64(t.top, 0);
	CHECK_EQ_U64(table_action(&ui, &t, ACT_UP), TABLE_HANDLED);
	CHECK_EQ_U64(table_action(&ui, &t, ACT_MARK), TABLE_IGNORED);
	/* the rows shrink under the cursor: clamped, no blank rows below */
	table_action(&ui, &t, ACT_END);
	table_begin(&t);
	for (i = 0; i < 50; i++) {
		snprintf(key, sizeof(key), "s%03d", i);
		add(&t, key, 1000 - i, 0);
	}
	table_commit(&t, true);
	CHECK_EQ_U64(t.cur, 49);
	CHECK_EQ_U64(t.top, 40);
	/* h-scroll stops at the end of the longest flex text */
	CHECK_EQ_U64(table_action(&ui, &t, ACT_RIGHT), TABLE_HANDLED);
	CHECK_EQ_U64(t.hscroll, 8);
	for (i = 0; i < 20; i++)
		table_action(&ui, &t, ACT_RIGHT);
	CHECK(t.hscroll < t.flex_max);
	for (i = 0; i < 20; i++)
		table_action(&ui, &t, ACT_LEFT);
	CHECK_EQ_U64(t.hscroll, 0);
	table_free(&t);
}

static void test_stable(void)
{
	struct ui ui = test_ui();

	CHECK(!table_stable(&ui));
	ui_moved(&ui);
	CHECK(table_stable(&ui));
	ui.now_ns += TABLE_STABLE_NS - 1;
	CHECK(table_stable(&ui));
	ui.now_ns += 1;
	CHECK(!table_stable(&ui));
}

static void test_draw(void)
{
	struct ui ui = test_ui();
	struct table t;
	struct table_row *r;
	const char *p;

	table_init(&t, cols, K_N, K_MSGS);
	t.g = &glyphs;
	t.tree_col = K_CONN;
	table_begin(&t);
	r = table_add(&t, "p:1", R_ERROR_ROW, 0);
	table_set(r, K_PID, 4312, "4312");
	table_set(r, K_COMM, 0, "apisrv");
	table_set(r, K_CONN, 2, "2 conns");
	table_set(r, K_MSGS, 1200, "1.2k");
	table_set_errors(r, K_ERR, 7, true);
	table_set_ms(r, K_P99, 83.94);
	table_set(r, K_PATH, 0, "/payments.Ledger/Charge");
	r = table_add(&t, "c:1", R_NORMAL, 1);
	table_set(r, K_CONN, 0, "10.0.3.7:51512>10.0.9.2:443 client");
	table_set(r, K_MSGS, 310, "310");
	r = table_add(&t, "c:2", R_DIM, 1);
	table_set(r, K_CONN, 0, "10.0.3.7:51513>10.0.9.2:443 closed");
	table_set(r, K_MSGS, 3, "3");
	table_commit(&t, true);
	scr_clear();
	table_draw(&ui, &t, 2, 0, 8, 80);
	CHECK(strstr(scr[2], "MSG/sv") != NULL);
	CHECK(strstr(scr[2], "LIB") == NULL);
	CHECK_EQ_U64(scr_role[2], R_TITLE);
	/* PID right-aligned in its 5 columns */
	CHECK(!strncmp(scr[3], " 4312 apisrv ", 13));
	CHECK(strstr(scr[3], "ERR 7") != NULL);
	CHECK(strstr(scr[3], "83.9") != NULL);
	CHECK_EQ_U64(scr_role[3], R_SELECTION);
	/* tree glyphs, and the connection cut in the middle keeps its end */
	CHECK(strstr(scr[4], "|- 10.0.3") != NULL);
	p = strstr(scr[5], "`- 10.0.3");
	CHECK(p != NULL);
	CHECK(strstr(scr[5], "443 closed") != NULL);
	CHECK_EQ_U64(scr_role[5], R_DIM);
	CHECK(scr[3][80] == ' ');
	/* the empty table says why */
	table_begin(&t);
	table_commit(&t, true);
	t.empty = "nothing yet";
	table_draw(&ui, &t, 2, 0, 8, 80);
	CHECK(!strncmp(scr[3], "nothing yet", 11));
	table_free(&t);
}

static void test_mouse(void)
{
	struct ui ui = test_ui();
	struct table t;

	table_init(&t, cols, K_N, K_MSGS);
	fill_abcd(&t, true);
	table_draw(&ui, &t, 5, 0, 10, 80);
	ui.mouse_y = 8;
	ui.mouse_x = 3;
	CHECK_EQ_U64(table_action(&ui, &t, ACT_MOUSE), TABLE_MOVED);
	CHECK_STR(table_current(&t)->key, "d");
	ui.mouse_double = true;
	CHECK_EQ_U64(table_action(&ui, &t, ACT_MOUSE), TABLE_ACTIVATE);
	ui.mouse_double = false;
	ui.mouse_y = 5; /* on COMM's title */
	ui.mouse_x = 8;
	CHECK_EQ_U64(table_action(&ui, &t, ACT_MOUSE), TABLE_SORTED);
	CHECK_STR(table_sort_name(&t), "COMM");
	CHECK(t.sort_asc);
	CHECK_EQ_U64(table_action(&ui, &t, ACT_MOUSE), TABLE_SORTED);
	CHECK(!t.sort_asc);
	ui.mouse_y = 30;
	CHECK_EQ_U64(table_action(&ui, &t, ACT_MOUSE), TABLE_IGNORED);
	table_free(&t);
}

static void test_cells(void)
{
	struct table t;
	struct table_row *r;

	table_init(&t, cols, K_N, K_MSGS);
	table_begin(&t);
	r = table_add(&t, "k", R_NORMAL, 0);
	table_set_errors(r, 0, 0, false);
	CHECK_STR(r->cell[0], "0");
	table_set_errors(r, 0, 12, true);
	CHECK_STR(r->cell[0], "ERR 12");
	CHECK(r->num[0] == 12);
	table_set_ms(r, 1, -1);
	CHECK_STR(r->cell[1], "-");
	table_set_ms(r, 1, 1.234);
	CHECK_STR(r->cell[1], "1.23");
	table_set_ms(r, 1, 1234.4);
	CHECK_STR(r->cell[1], "1234");
	table_set_upto(r, 2, 64, 64);
	CHECK_STR(r->cell[2], "64+");
	table_set_upto(r, 2, 3, 64);
	CHECK_STR(r->cell[2], "3");
	table_set_human(r, 3, 0.25);
	CHECK_STR(r->cell[3], "0.2");
	table_set_human(r, 3, 1500);
	CHECK_STR(r->cell[3], "1.5k");
	table_set(r, TABLE_COLS_MAX, 0, "out of range");
	table_free(&t);
}

static struct message *msg(uint64_t id, const char *path)
{
	struct message *m = msg_new(MSG_H2, MSG_REQUEST, true);

	m->id = id;
	msg_set_str(&m->path, path, strlen(path));
	return m;
}

static void test_count(void)
{
	struct store_limits lim = { 1 << 20, 1 << 24 };
	struct store *st = store_new(&lim);
	struct store_conn_key k1 = { "fd:1:3", 1 }, k2 = { "fd:2:3", 2 };
	struct ui ui = test_ui();
	struct filter *f = (struct filter *)&lim; /* any non-NULL: the stub matches "/b" */
	size_t match, total;

	CHECK(st != NULL);
	if (!st)
		return;
	ui.s = (struct session *)st;
	store_add(st, &k1, msg(1, "/a"));
	store_add(st, &k1, msg(2, "/b"));
	store_add(st, &k2, msg(3, "/b"));
	table_count_messages(&ui, NULL, NULL, &match, &total);
	CHECK_EQ_U64(total, 3);
	CHECK_EQ_U64(match, 3);
	table_count_messages(&ui, NULL, f, &match, &total);
	CHECK_EQ_U64(match, 2);
	ui.show_marked = true;
	table_count_messages(&ui, NULL, f, &match, &total);
	CHECK_EQ_U64(match, 1);
	store_free(st);
}

int main(void)
{
	test_layout();
	test_selection();
	test_sort();
	test_sort_keys();
	test_scroll();
	test_stable();
	test_draw();
	test_mouse();
	test_cells();
	test_count();
	return unit_result("test_table");
}
