/* draw.c - text on the screen: UTF-8 measured in columns, cut to fit
 * with an ellipsis or in the middle, control bytes never reach the
 * terminal; numbers in human units; timestamps in the chosen mode. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "output.h"
#include "session.h"
#include "view.h"

/* The next character of s: its byte length and columns. Control and
 * invalid bytes take one column and are shown as '?'. */
static size_t next_char(const char *s, int *cols, bool *bad)
{
	mbstate_t st = { 0 };
	wchar_t wc;
	size_t n = mbrtowc(&wc, s, MB_CUR_MAX, &st);

	*bad = false;
	if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
		*bad = true;
		*cols = 1;
		return 1;
	}
	*cols = wcwidth(wc);
	if (*cols < 0) {
		*bad = true;
		*cols = 1;
	}
	return n;
}

int ui_width(const char *s)
{
	int w = 0, c;
	bool bad;

	while (*s) {
		s += next_char(s, &c, &bad);
		w += c;
	}
	return w;
}

/* Copies the part of s that fits in w columns into out (sanitised);
 * returns the columns used and sets *more when s did not fit. */
static int fit(char *out, size_t len, const char *s, int w, bool *more)
{
	size_t o = 0;
	int used = 0, c;
	bool bad;

	*more = false;
	while (*s) {
		size_t n = next_char(s, &c, &bad);

		if (used + c > w || o + n + 1 > len) {
			*more = true;
			break;
		}
		if (bad) {
			out[o++] = '?';
		} else {
			memcpy(out + o, s, n);
			o += n;
		}
		used += c;
		s += n;
	}
	out[o] = '\0';
	return used;
}

int ui_print(struct ui *ui, int y, int x, int w, enum ui_role role, attr_t extra, bool cut,
	     const char *s)
{
	char buf[1024];
	bool more;
	int used, ew = cut ? ui_width(ui->g->ellipsis) : 0;

	if (w <= 0 || y < 0 || y >= ui->rows || x >= ui->cols)
		return 0;
	if (x + w > ui->cols)
		w = ui->cols - x;
	used = fit(buf, sizeof(buf), s, w, &more);
	if (more && cut && w > ew) {
		used = fit(buf, sizeof(buf) - 8, s, w - ew, &more);
		strcat(buf, ui->g->ellipsis);
		used += ew;
	}
	attr_set(ui->attrs[role] | extra, 0, NULL);
	mvaddstr(y, x, buf);
	attr_set(A_NORMAL, 0, NULL);
	return used;
}

int ui_print_pad(struct ui *ui, int y, int x, int w, enum ui_role role, attr_t extra,
		 const char *s)
{
	int used = ui_print(ui, y, x, w, role, extra, true, s);

	if (used < w && x + used < ui->cols) {
		attr_set(ui->attrs[role] | extra, 0, NULL);
		mvhline(y, x + used, ' ', w - used);
		attr_set(A_NORMAL, 0, NULL);
	}
	return w;
}

void ui_cut_middle(const struct ui *ui, char *out, size_t len, const char *s, int w)
{
	int ew = ui_width(ui->g->ellipsis), total = ui_width(s), head, skip, c;
	const char *tail = s;
	size_t o;
	bool more, bad;

	if (total <= w || w <= ew + 2) {
		fit(out, len, s, w, &more);
		return;
	}
	head = (w - ew) / 2;
	skip = total - (w - ew - head); /* columns before the tail starts */
	for (int col = 0; *tail && col < skip; col += c)
		tail += next_char(tail, &c, &bad);
	fit(out, len, s, head, &more);
	o = strlen(out);
	snprintf(out + o, len - o, "%s", ui->g->ellipsis);
	o = strlen(out);
	fit(out + o, len - o, tail, w, &more);
}

void ui_human(char *buf, size_t len, double v)
{
	static const char units[] = " kMGT";
	int u = 0;

	while (v >= 999.5 && u < 4) {
		v /= 1000;
		u++;
	}
	if (!u)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, v < 9.95 ? "%.1f%c" : "%.0f%c", v, units[u]);
}

void ui_format_ts(const struct ui *ui, char *buf, size_t len, uint64_t mono_ns,
		  uint64_t first_ns, uint64_t prev_ns)
{
	uint64_t wall;
	time_t sec;
	struct tm tm;
	uint64_t base = ui->ts == TS_RELATIVE ? first_ns : prev_ns;

	if (ui->ts != TS_WALL) {
		double d = base && mono_ns >= base ? (mono_ns - base) / 1e9 : 0;

		snprintf(buf, len, "+%.3fs", d);
		return;
	}
	wall = mono_ns + (uint64_t)session_realtime_offset(ui->s);
	sec = (time_t)(wall / 1000000000ULL);
	localtime_r(&sec, &tm);
	snprintf(buf, len, "%02d:%02d:%02d.%03u", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned int)(wall % 1000000000ULL / 1000000));
}
