/* bar.c - header lines and the bottom line. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bar.h"
#include "libs.h"
#include "prompt.h"

/* Appends to a line being built left to right. */
struct cursor {
	struct ui *ui;
	int y, x;
};

static void put(struct cursor *c, enum ui_role role, const char *s)
{
	c->x += ui_print(c->ui, c->y, c->x, c->ui->cols - c->x, role, 0, false, s);
}

static void putf(struct cursor *c, enum ui_role role, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void putf(struct cursor *c, enum ui_role role, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	put(c, role, buf);
}

/* "1,204" */
static void grouped(char *buf, size_t len, uint64_t v)
{
	char raw[32];
	size_t n, o = 0;

	n = (size_t)snprintf(raw, sizeof(raw), "%llu", (unsigned long long)v);
	for (size_t i = 0; i < n && o + 2 < len; i++) {
		if (i && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = raw[i];
	}
	buf[o] = '\0';
}

static void libs_summary(struct ui *ui, struct cursor *c)
{
	const struct lib_table *t = session_libs(ui->s);
	struct targets *tg = session_targets(ui->s);
	unsigned int n[3] = { 0 }, failed;

	for (uint32_t i = 0; i < t->count; i++)
		if (t->libs[i] && t->libs[i]->kind < 3)
			n[t->libs[i]->kind]++;
	putf(c, R_HEADER, "   libs openssl %u%sboringssl %u", n[LIB_OPENSSL], ui->g->dot,
	     n[LIB_BORINGSSL]);
	if (!tg)
		return;
	failed = targets_count_files(tg, FILE_ATTACH_FAILED) +
		 targets_count_files(tg, FILE_STRIPPED) + targets_count_files(tg, FILE_UNREADABLE);
	if (failed)
		putf(c, R_BADGE_WARN, "%s%u failed (E)", ui->g->dot, failed);
}

static void line_identity(struct ui *ui)
{
	struct cursor c = { ui, 0, 0 };
	char host[64] = "", rss[16];
	uint64_t up = (ui->now_ns - session_started_ns(ui->s)) / 1000000000ULL;

	gethostname(host, sizeof(host) - 1);
	ui_human(rss, sizeof(rss), (double)ui->self.rss_bytes);
	putf(&c, R_HEADER, "tlstop %s  %s  up %02llu:%02llu:%02llu  cpu %.1f%% rss %sB",
	     PACKAGE_VERSION, host, (unsigned long long)(up / 3600),
	     (unsigned long long)(up / 60 % 60), (unsigned long long)(up % 60), ui->self.cpu_pct,
	     rss);
	libs_summary(ui, &c);
	if (ui->paused) /* in the middle too: a badge at the end alone is missed */
		ui_print(ui, 0, ui->cols / 2 - 3, 8, R_BADGE_ERROR, 0, false, " PAUSED ");
}

/* A loss counter: the warning colour and its number whenever non-zero. */
static void counter(struct cursor *c, const char *name, uint64_t v)
{
	char num[32];

	grouped(num, sizeof(num), v);
	putf(c, v ? R_BADGE_WARN : R_NORMAL, "%s %s", name, num);
	put(c, R_NORMAL, "   ");
}

static void badges(struct ui *ui, struct cursor *c)
{
	char buf[PATH_MAX + 32], num[32];
	struct view *top = ui_top(ui);

	if (ui->paused) {
		grouped(num, sizeof(num), session_messages(ui->s) - ui->paused_msgs);
		snprintf(buf, sizeof(buf), "[PAUSED +%s]", num);
		put(c, R_BADGE_ERROR, buf);
		put(c, R_NORMAL, " ");
	}
	if (top->follow)
		put(c, R_BADGE_OK, "[FOLLOW] ");
	if (ui->o->write_path) {
		snprintf(buf, sizeof(buf), "[REC %s] ", ui->o->write_path);
		put(c, R_BADGE_WARN, buf);
	}
	if (ui->o->read_path) {
		snprintf(buf, sizeof(buf), "[READ %s%s] ", ui->o->read_path,
			 session_at_end(ui->s) ? ": end" : "");
		put(c, R_BADGE_OK, buf);
	}
}

static void line_integrity(struct ui *ui)
{
	struct cursor c = { ui, 1, 0 };
	const struct stats *st = &ui->st;
	char rate[16], bytes[16];

	ui_human(rate, sizeof(rate), ui->msg_rate);
	ui_human(bytes, sizeof(bytes), ui->byte_rate);
	/* a sampled rate is a part of the traffic: it says so */
	putf(&c, R_NORMAL, "in %s msg/s %sB/s%s   ", rate, bytes,
	     ui->o->sample > 1 ? " sampled" : "");
	counter(&c, "drops", st->kernel.ringbuf_fail + st->kernel.map_fail +
				     st->kernel.read_fail + st->incomplete_calls);
	counter(&c, "trunc", st->truncated_calls);
	counter(&c, "evicted", st->evicted_msgs);
	counter(&c, "unknown-path", st->proto.unknown_paths);
	if (ui->o->sample > 1) {
		putf(&c, R_BADGE_WARN, "sample 1/%u", ui->o->sample);
		put(&c, R_NORMAL, "   ");
	}
	/* not a loss: what the filters asked the kernel to keep back */
	if (st->kfilter.bytes) {
		ui_human(bytes, sizeof(bytes), (double)st->kfilter.bytes);
		putf(&c, R_NORMAL, "kernel-filtered %sB   ", bytes);
	}
	if (ui->o->no_mask)
		put(&c, R_BADGE_ERROR, "mask OFF");
	else
		put(&c, R_NORMAL, "mask on");
	put(&c, R_NORMAL, "   ");
	badges(ui, &c);
}

static void crumbs(struct ui *ui, struct cursor *c)
{
	put(c, R_HEADER, ui->tabs[ui->tab]->ops->name);
	for (int i = 0; i < ui->depth; i++) {
		const struct view *v = ui->stack[i];

		put(c, R_HEADER, ui->g->sep);
		put(c, R_HEADER, v->crumb[0] ? v->crumb : v->ops->name);
	}
}

static void line_context(struct ui *ui)
{
	struct cursor c = { ui, 2, 0 };
	struct view *top = ui_top(ui);
	char right[96] = "";
	int rw;

	crumbs(ui, &c);
	if (top->filter) {
		put(&c, R_NORMAL, "   Filter: ");
		put(&c, R_BAR_VALID, filter_text(top->filter));
	}
	if (ui->show_marked)
		put(&c, R_BADGE_WARN, "   [marked only]");
	if (top->sort_name)
		snprintf(right, sizeof(right), "Sort: %s %s   ", top->sort_name,
			 top->sort_asc ? ui->g->sort_up : ui->g->sort_down);
	if (top->unit)
		snprintf(right + strlen(right), sizeof(right) - strlen(right), "%zu/%zu %s",
			 top->shown, top->total, top->unit);
	rw = ui_width(right);
	if (rw && c.x + 2 + rw <= ui->cols)
		ui_print(ui, 2, ui->cols - rw, rw, R_NORMAL, 0, false, right);
}

void bar_draw_header(struct ui *ui)
{
	line_identity(ui);
	line_integrity(ui);
	line_context(ui);
}

int bar_bottom_lines(const struct ui *ui)
{
	if (ui->prompt)
		return 2;
	return ui->bar_hidden && ui->flash_until_ns <= ui->now_ns ? 0 : 1;
}

static void function_bar(struct ui *ui, int y)
{
	static const struct {
		const char *key, *label;
	} fkeys[] = {
		{ "F1", "Help" },   { "F3", "Search" }, { "F4", "Filter" },
		{ "F5", "Tree" },   { "F6", "SortBy" }, { "F7", "View" },   { "F8", "Follow" },
		{ "F9", "Pause" },  { "F10", "Quit" },
	};
	struct cursor c = { ui, y, 0 };
	struct view *top = ui_top(ui);

	for (size_t i = 0; i < sizeof(fkeys) / sizeof(fkeys[0]); i++) {
		const char *label = fkeys[i].label;

		put(&c, R_NORMAL, fkeys[i].key);
		if (i == 2 && top->filter)
			label = "FILTER";
		put(&c, R_FKEY, label);
		put(&c, R_FKEY, " ");
	}
	if (ui->paused)
		put(&c, R_BADGE_ERROR, " PAUSED");
	if (c.x < ui->cols)
		ui_print_pad(ui, y, c.x, ui->cols - c.x, R_FKEY, 0, "");
}

/* The status above the prompt: an error with a caret under the offending
 * character, or the live match count. */
static void prompt_status(struct ui *ui, const struct prompt *p, int y, int text_x)
{
	char caret_pre[PROMPT_MAX];
	int x;

	if (!p->status[0])
		return;
	if (!p->error) {
		ui_print_pad(ui, y, 0, ui->cols, R_BAR_VALID, 0, p->status);
		return;
	}
	snprintf(caret_pre, sizeof(caret_pre), "%.*s", (int)p->error_offset, p->text);
	x = text_x + ui_width(caret_pre);
	if (x >= ui->cols)
		x = ui->cols - 1;
	ui_print_pad(ui, y, 0, ui->cols, R_BAR_INVALID, 0, "");
	ui_print(ui, y, x, 1, R_BAR_INVALID, 0, false, "^");
	/* the message goes where there is room: after the caret, else before */
	if (x + 2 + ui_width(p->status) <= ui->cols)
		ui_print(ui, y, x + 2, ui->cols - x - 2, R_BAR_INVALID, 0, true, p->status);
	else
		ui_print(ui, y, 0, x > 1 ? x - 1 : 0, R_BAR_INVALID, 0, true, p->status);
}

static void prompt_line(struct ui *ui, const struct prompt *p, int y)
{
	char before[PROMPT_MAX];
	int lx = ui_width(p->label), cx;

	prompt_status(ui, p, y - 1, lx);
	ui_print_pad(ui, y, 0, ui->cols, p->error ? R_BAR_INVALID : R_NORMAL, 0, "");
	ui_print(ui, y, 0, lx, R_HEADER, 0, false, p->label);
	ui_print(ui, y, lx, ui->cols - lx, p->error ? R_BAR_INVALID : R_NORMAL, 0, true, p->text);
	snprintf(before, sizeof(before), "%.*s", (int)p->cur, p->text);
	cx = lx + ui_width(before);
	if (cx < ui->cols)
		ui_print(ui, y, cx, 1, R_SELECTION, 0, false,
			 p->cur < p->len ? (char[2]){ p->text[p->cur], 0 } : " ");
}

void bar_draw_bottom(struct ui *ui)
{
	int y = ui->rows - 1;

	if (ui->prompt) {
		prompt_line(ui, ui->prompt, y);
	} else if (ui->flash_until_ns > ui->now_ns) {
		ui_print_pad(ui, y, 0, ui->cols, ui->flash_error ? R_BAR_INVALID : R_BAR_VALID, 0,
			     ui->flash);
	} else if (!ui->bar_hidden) {
		function_bar(ui, y);
	}
}
