/* ui.c - the interactive view: one epoll loop over the session (ring
 * buffer or recording), the terminal and a frame timer; the view stack;
 * key dispatch through the key table; the prompt for filter, search and
 * commands. Data redraws at most FRAME_NS apart, keys redraw at once. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "bar.h"
#include "libs.h"
#include "methods.h"
#include "prompt.h"
#include "run.h"
#include "strbuf.h"
#include "term.h"
#include "ui.h"

#define FRAME_NS (100 * 1000000ULL) /* at most 10 data redraws a second */
#define STEP_BUDGET_NS (8 * 1000000ULL) /* capture work between looks at the keyboard */
#define FLASH_NS (3 * 1000000000ULL)
#define MIN_COLS 80
#define MIN_ROWS 24

/* What ui.c keeps beside struct ui: the prompt's backing store and the
 * strings the filter environment hands out. */
struct ui_loop {
	struct ui ui;
	struct prompt prompt;
	struct prompt_history history;
	int ep, tfd;
	uint64_t last_tick_ns, last_frame_ns, seen_msgs;
	bool dirty;
	char exe[PATH_MAX];
	char completion[256];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

struct view *ui_top(struct ui *ui)
{
	return ui->depth ? ui->stack[ui->depth - 1] : ui->tabs[ui->tab];
}

static struct filter *filter_copy(const struct filter *f)
{
	struct filter *copy = NULL;
	struct filter_error err;

	return filter_compile(&copy, filter_text(f), &err) ? NULL : copy;
}

static void view_free(struct view *v)
{
	if (!v)
		return;
	filter_free(v->filter);
	v->ops->free(v);
}

/* The kernel keeps what any screen with a filter could show. */
static void push_kernel_filters(struct ui *ui)
{
	const struct filter *fs[3 + sizeof(ui->stack) / sizeof(ui->stack[0])];
	size_t n = 0;

	for (int i = 0; i < 3; i++)
		if (ui->tabs[i] && ui->tabs[i]->ops->count)
			fs[n++] = ui->tabs[i]->filter;
	for (int i = 0; i < ui->depth; i++)
		if (ui->stack[i]->ops->count)
			fs[n++] = ui->stack[i]->filter;
	session_set_kernel_filters(ui->s, fs, n);
}

void ui_push(struct ui *ui, struct view *v)
{
	struct view *parent = ui_top(ui);

	if (!v) {
		ui_flash(ui, true, "out of memory");
		return;
	}
	if (ui->depth == (int)(sizeof(ui->stack) / sizeof(ui->stack[0]))) {
		view_free(ui->stack[0]);
		memmove(ui->stack, ui->stack + 1, (ui->depth - 1) * sizeof(ui->stack[0]));
		ui->depth--;
	}
	/* drilling down keeps the question asked: the parent's filter */
	if (parent->filter && v->ops->count && !v->filter)
		v->filter = filter_copy(parent->filter);
	ui->stack[ui->depth++] = v;
	push_kernel_filters(ui);
	v->dirty = true;
	if (!ui->paused)
		v->ops->update(ui, v, true);
}

bool ui_pop(struct ui *ui)
{
	if (!ui->depth)
		return false;
	view_free(ui->stack[--ui->depth]);
	ui_top(ui)->dirty = true;
	push_kernel_filters(ui);
	return true;
}

void ui_show_tab(struct ui *ui, int i)
{
	while (ui_pop(ui))
		;
	ui->tab = i;
	ui->tabs[i]->dirty = true;
	if (!ui->paused)
		ui->tabs[i]->ops->update(ui, ui->tabs[i], true);
}

int ui_set_filter(struct ui *ui, struct view *v, const char *expr, struct filter_error *err)
{
	struct filter *f = NULL;

	if (filter_compile(&f, expr, err))
		return -1;
	filter_free(v->filter);
	v->filter = f;
	v->dirty = true;
	session_log(ui->s, SESSION_INFO, "filter on %s: %s", v->ops->name,
		    f ? filter_text(f) : "(none)");
	push_kernel_filters(ui);
	/* the user asked: the view shows the new filter even when paused */
	v->ops->update(ui, v, true);
	return 0;
}

void ui_flash(struct ui *ui, bool error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ui->flash, sizeof(ui->flash), fmt, ap);
	va_end(ap);
	ui->flash_error = error;
	ui->flash_until_ns = mono_ns() + FLASH_NS;
}

void ui_moved(struct ui *ui)
{
	ui->last_move_ns = ui->now_ns;
}

/* ---- the filter environment: what a message does not carry ---- */

static const char *env_lib(uint32_t lib_id, void *arg)
{
	struct ui_loop *l = arg;
	const struct lib_info *lib = libs_get(session_libs(l->ui.s), lib_id);

	return lib ? lib_kind_name(lib->kind) : NULL;
}

static const char *env_exe(uint32_t pid, void *arg)
{
	struct ui_loop *l = arg;
	char path[32];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	n = readlink(path, l->exe, sizeof(l->exe) - 1);
	if (n < 0)
		return NULL;
	l->exe[n] = '\0';
	return l->exe;
}

static bool env_marked(uint64_t id, void *arg)
{
	struct ui_loop *l = arg;

	return ui_marked(&l->ui, id);
}

/* ---- the prompt ---- */

/* Tab completion: field names, or after "path ~" the paths seen. */
static const char *complete(const char *text, size_t cur, void *arg)
{
	struct ui_loop *l = arg;
	size_t start = cur, wlen, best = 0;
	const char *cands[512];
	size_t n = 0;
	struct methods_snap snap = { 0 };
	bool paths;

	while (start > 0 && !strchr(" (!'\"", text[start - 1]))
		start--;
	wlen = cur - start;
	paths = start >= 2 && (strstr(text, "path ~") || strstr(text, "path ==")) &&
		strchr("~= '\"", text[start - 1]);
	if (paths) {
		if (methods_snapshot(session_methods(l->ui.s), session_clock(l->ui.s), &snap))
			return NULL;
		for (size_t i = 0; i < snap.n && n < 512; i++)
			if (snap.rows[i].key[0] == '/')
				cands[n++] = snap.rows[i].key;
	} else {
		for (size_t i = 0; filter_field_names[i] && n < 512; i++)
			cands[n++] = filter_field_names[i];
	}
	l->completion[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (strncmp(cands[i], text + start, wlen))
			continue;
		if (!best) { /* the first candidate, then shortened to the common prefix */
			snprintf(l->completion, sizeof(l->completion), "%s", cands[i] + wlen);
			best = 1;
			continue;
		}
		for (size_t k = 0; l->completion[k]; k++)
			if (l->completion[k] != cands[i][wlen + k]) {
				l->completion[k] = '\0';
				break;
			}
	}
	methods_snap_free(&snap);
	return l->completion[0] ? l->completion : NULL;
}

static void open_prompt(struct ui_loop *l, enum prompt_kind kind, const char *label,
			const char *initial)
{
	prompt_open(&l->prompt, kind, label, initial, &l->history);
	if (kind == P_FILTER) {
		l->prompt.complete = complete;
		l->prompt.complete_arg = l;
	}
	l->ui.prompt = &l->prompt;
}

/* The filter bar compiles at every keystroke: an error with its caret, or
 * how many of the messages the view holds match. */
static void filter_feedback(struct ui *ui, struct prompt *p)
{
	struct view *v = ui_top(ui);
	struct filter *f = NULL;
	struct filter_error err;
	size_t match = 0, total = 0;

	p->error = false;
	if (filter_compile(&f, p->text, &err)) {
		p->error = true;
		p->error_offset = err.offset;
		snprintf(p->status, sizeof(p->status), "%s", err.msg);
		return;
	}
	if (v->ops->count) {
		v->ops->count(ui, v, f, &match, &total);
		snprintf(p->status, sizeof(p->status), "matches %zu/%zu messages", match, total);
	} else {
		snprintf(p->status, sizeof(p->status), "valid");
	}
	filter_free(f);
}

static void apply_filter(struct ui *ui, const char *expr)
{
	struct filter_error err;
	struct view *v = ui_top(ui);

	if (!v->ops->count) {
		ui_flash(ui, true, "%s has no filter", v->ops->name);
		return;
	}
	if (ui_set_filter(ui, v, expr, &err))
		ui_flash(ui, true, "filter not applied: %s (at offset %zu)", err.msg, err.offset);
}

static void apply_search(struct ui *ui, const char *regex)
{
	struct view *v = ui_top(ui);
	size_t hits;

	if (!v->ops->search)
		return;
	hits = v->ops->search(ui, v, regex);
	if (!*regex || ui->flash_until_ns > ui->now_ns)
		return; /* the pane said something already (an invalid regex) */
	if (hits)
		ui_flash(ui, false, "%zu lines match /%s/", hits, regex);
	else
		ui_flash(ui, true, "no line matches /%s/", regex);
}

static void set_delay(struct ui *ui, const char *text)
{
	char *end;
	double d = strtod(text, &end);

	if (end == text || *end || d < 0.05 || d > 3600) {
		ui_flash(ui, true, "delay '%s' not set: give seconds, 0.05 to 3600", text);
		return;
	}
	ui->delay_ns = (uint64_t)(d * 1e9);
	ui_flash(ui, false, "tables refresh every %.2f s", d);
}

/* The first line (the kernel's share) in the bar; all of it in Events. */
static void explain_filter(struct ui *ui)
{
	struct strbuf sb = { 0 };
	const char *text;

	session_explain(ui->s, !ui->utf8, &sb);
	text = sb_str(&sb);
	ui_flash(ui, false, "%.*s (all in Events, Filters)", (int)strcspn(text, "\n"), text);
	sb_free(&sb);
}

static void run_command(struct ui *ui, const char *cmd)
{
	while (*cmd == ' ')
		cmd++;
	if (!strcmp(cmd, "q") || !strcmp(cmd, "quit"))
		ui->quit = true;
	else if (!strcmp(cmd, "conns"))
		ui_show_tab(ui, 0);
	else if (!strcmp(cmd, "methods"))
		ui_show_tab(ui, 1);
	else if (!strcmp(cmd, "events"))
		ui_show_tab(ui, 2);
	else if (!strcmp(cmd, "filter explain"))
		explain_filter(ui);
	else if (!strncmp(cmd, "filter", 6) && (!cmd[6] || cmd[6] == ' '))
		apply_filter(ui, cmd + 6);
	else if (!strncmp(cmd, "set delay ", 10))
		set_delay(ui, cmd + 10);
	else if (*cmd)
		ui_flash(ui, true,
			 "unknown command ':%s' (:filter EXPR, :filter explain, :conns, :methods, :events, :set delay SEC, :q)",
			 cmd);
}

static void prompt_done(struct ui_loop *l)
{
	struct ui *ui = &l->ui;
	struct prompt *p = &l->prompt;

	prompt_remember(p);
	ui->prompt = NULL;
	switch (p->kind) {
	case P_FILTER:
		apply_filter(ui, p->text);
		break;
	case P_SEARCH:
		apply_search(ui, p->text);
		break;
	case P_COMMAND:
		run_command(ui, p->text);
		break;
	case P_DELAY:
		set_delay(ui, p->text);
		break;
	default:
		break;
	}
}

static void prompt_input(struct ui_loop *l, int key, bool is_key)
{
	struct prompt *p = &l->prompt;

	switch (prompt_key(p, key, is_key)) {
	case PROMPT_DONE:
		prompt_done(l);
		break;
	case PROMPT_CANCEL: /* Esc keeps the old filter */
		l->ui.prompt = NULL;
		break;
	case PROMPT_EDITING:
		if (p->kind == P_FILTER)
			filter_feedback(&l->ui, p);
		break;
	}
}

/* ---- keys ---- */

static void toggle_pause(struct ui *ui)
{
	ui->paused = !ui->paused;
	ui->paused_msgs = session_messages(ui->s);
	if (!ui->paused) /* back to live at once */
		for (int i = 0; i < 3; i++)
			ui->tabs[i]->ops->update(ui, ui->tabs[i], true);
}

static void open_filter(struct ui_loop *l)
{
	struct view *v = ui_top(&l->ui);

	open_prompt(l, P_FILTER, "Filter: ", v->filter ? filter_text(v->filter) : "");
	filter_feedback(&l->ui, &l->prompt);
}

static bool global_action(struct ui_loop *l, enum ui_action a, int key)
{
	struct ui *ui = &l->ui;
	struct view *v = ui_top(ui);

	switch (a) {
	case ACT_QUIT:
		ui->quit = true;
		return true;
	case ACT_BACK:
		if (!ui_pop(ui) && key == 'q')
			ui->quit = true;
		return true;
	case ACT_HELP: /* Help itself takes ? to walk its sections */
		if (!v->ops->action(ui, v, a))
			ui_push(ui, help_view_new(ui, v));
		return true;
	case ACT_TAB:
	case ACT_BTAB:
		if (ui->depth)
			return false;
		ui_show_tab(ui, (ui->tab + (a == ACT_TAB ? 1 : 2)) % 3);
		return true;
	case ACT_COMMAND:
		open_prompt(l, P_COMMAND, ":", "");
		return true;
	case ACT_SLASH:
		if (v->ops->text)
			open_prompt(l, P_SEARCH, "Search: ", "");
		else
			open_filter(l);
		return true;
	case ACT_FILTER:
		open_filter(l);
		return true;
	case ACT_CLEAR_FILTER:
		apply_filter(ui, "");
		return true;
	case ACT_PAUSE:
		toggle_pause(ui);
		return true;
	case ACT_EVENTS:
		ui_show_tab(ui, 2);
		return true;
	case ACT_DELAY:
		open_prompt(l, P_DELAY, "Delay (seconds): ", "");
		return true;
	case ACT_HIDE_BAR:
		ui->bar_hidden = !ui->bar_hidden;
		return true;
	case ACT_REDRAW:
		clearok(curscr, TRUE);
		return true;
	case ACT_TIMESTAMPS:
		ui->ts = (ui->ts + 1) % 3;
		ui_flash(ui, false, "timestamps: %s",
			 ui->ts == TS_WALL ? "wall clock" : ui->ts == TS_RELATIVE ? "relative" : "delta");
		return false; /* the view re-renders its lines too */
	case ACT_SHOW_MARKED:
		ui->show_marked = !ui->show_marked;
		return false;
	case ACT_UNMARK_ALL:
		ui_marks_clear(ui);
		ui->show_marked = false;
		return false;
	default:
		return false;
	}
}

/* Function-bar clicks map to the F-key's action: each label is "Fn" +
 * its name + a blank, as bar.c draws them. */
static enum ui_action bar_click(int x)
{
	static const int widths[] = { 7, 9, 9, 7, 9, 7, 9, 8, 8 };
	static const int fkeys[] = { 1, 3, 4, 5, 6, 7, 8, 9, 10 };

	for (size_t i = 0, at = 0; i < 9; at += widths[i++])
		if (x < (int)(at + widths[i]))
			return keys_lookup(KEY_F(fkeys[i]), ~0u);
	return ACT_NONE;
}

static enum ui_action mouse_action(struct ui *ui)
{
	MEVENT ev;

	if (getmouse(&ev) != OK)
		return ACT_NONE;
	if (ev.bstate & BUTTON4_PRESSED)
		return ACT_UP;
	if (ev.bstate & BUTTON5_PRESSED)
		return ACT_DOWN;
	if (ev.y == ui->rows - 1 && !ui->prompt && !ui->bar_hidden)
		return bar_click(ev.x);
	ui->mouse_y = ev.y;
	ui->mouse_x = ev.x;
	ui->mouse_double = ev.bstate & BUTTON1_DOUBLE_CLICKED;
	return ACT_MOUSE;
}

static void dispatch(struct ui_loop *l, enum ui_action a, int key)
{
	struct ui *ui = &l->ui;
	struct view *v = ui_top(ui);

	if (global_action(l, a, key))
		return;
	if (!v->ops->action(ui, v, a) && a == ACT_TIMESTAMPS)
		v->ops->update(ui, v, true);
	if (a == ACT_SHOW_MARKED || a == ACT_UNMARK_ALL)
		for (int i = 0; i < 3; i++)
			ui->tabs[i]->ops->update(ui, ui->tabs[i], true);
}

static void on_key(struct ui_loop *l, int key, bool is_key)
{
	struct ui *ui = &l->ui;
	struct view *v = ui_top(ui);
	enum ui_action a;

	if (is_key && key == KEY_RESIZE) {
		getmaxyx(stdscr, ui->rows, ui->cols);
		return;
	}
	if (ui->prompt) {
		prompt_input(l, key, is_key);
		return;
	}
	if (is_key && key == KEY_MOUSE)
		a = mouse_action(ui);
	else
		a = keys_lookup(key, v->ops->keys | (v->ops->text ? KEYS_TEXT : 0));
	if (a != ACT_NONE)
		dispatch(l, a, key);
}

/* Reads every key waiting; true when there was one. */
static bool read_keys(struct ui_loop *l)
{
	bool any = false;
	wint_t wc;
	int r;

	while ((r = get_wch(&wc)) != ERR) {
		on_key(l, (int)wc, r == KEY_CODE_YES);
		any = true;
		if (l->ui.quit)
			break;
	}
	return any;
}

/* ---- drawing ---- */

static void draw_too_small(struct ui *ui)
{
	char line[128];
	int w;

	snprintf(line, sizeof(line), "terminal %dx%d is too small: tlstop needs %dx%d", ui->cols,
		 ui->rows, MIN_COLS, MIN_ROWS);
	w = ui_width(line);
	ui_print(ui, ui->rows / 2, w < ui->cols ? (ui->cols - w) / 2 : 0, ui->cols, R_NORMAL, 0,
		 true, line);
}

static void draw(struct ui_loop *l)
{
	struct ui *ui = &l->ui;
	struct view *v = ui_top(ui);
	int bottom;

	erase();
	if (ui->cols < MIN_COLS || ui->rows < MIN_ROWS) {
		draw_too_small(ui);
	} else {
		bar_draw_header(ui);
		bottom = bar_bottom_lines(ui);
		v->ops->draw(ui, v, BAR_HEADER_LINES, ui->rows - BAR_HEADER_LINES - bottom);
		bar_draw_bottom(ui);
	}
	refresh();
	l->dirty = false;
	v->dirty = false;
}

/* ---- the loop ---- */

static void refresh_counters(struct ui *ui, uint64_t dt_ns)
{
	uint64_t msgs = session_messages(ui->s);
	double dt = dt_ns / 1e9;

	ui->st_prev = ui->st;
	session_stats(ui->s, &ui->st);
	if (dt > 0) {
		ui->msg_rate = (msgs - ui->msgs_prev) / dt;
		ui->byte_rate = (ui->st.bytes - ui->st_prev.bytes) / dt;
	}
	ui->msgs_prev = msgs;
	self_usage_sample(&ui->self);
}

/* Once per frame: tables once per --delay, the view on top every frame. */
static void frame(struct ui_loop *l)
{
	struct ui *ui = &l->ui;
	bool tick = ui->now_ns - l->last_tick_ns >= ui->delay_ns;
	uint64_t msgs = session_messages(ui->s);
	struct view *top = ui_top(ui);

	if (tick) {
		refresh_counters(ui, ui->now_ns - l->last_tick_ns);
		l->last_tick_ns = ui->now_ns;
		l->dirty = true;
	}
	/* Only the view on screen is rebuilt: a table's snapshot walks the
	 * store, and keys must not wait behind screens nobody looks at (a tab
	 * is rebuilt when shown). */
	if (!ui->paused && (msgs != l->seen_msgs || tick)) {
		top->ops->update(ui, top, tick);
		l->dirty = true;
	}
	if (ui->paused && msgs != l->seen_msgs)
		l->dirty = true; /* the [PAUSED +N] badge */
	l->seen_msgs = msgs;
	l->last_frame_ns = ui->now_ns;
	if (l->dirty || top->dirty || ui->flash_until_ns + FRAME_NS > ui->now_ns)
		draw(l);
}

/* True when the session has more work waiting. */
static bool pump_session(struct ui_loop *l)
{
	uint64_t start = mono_ns();

	while (session_step(l->ui.s))
		if (mono_ns() - start >= STEP_BUDGET_NS)
			return true;
	return false;
}

static int make_loop(struct ui_loop *l)
{
	struct itimerspec its = { { 0, FRAME_NS }, { 0, FRAME_NS } };
	struct epoll_event ev = { .events = EPOLLIN };

	l->ep = epoll_create1(EPOLL_CLOEXEC);
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (l->ep < 0 || l->tfd < 0 || timerfd_settime(l->tfd, 0, &its, NULL))
		return -1;
	ev.data.fd = session_fd(l->ui.s);
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, ev.data.fd, &ev))
		return -1;
	ev.data.fd = term_fd();
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, ev.data.fd, &ev))
		return -1;
	ev.data.fd = l->tfd;
	return epoll_ctl(l->ep, EPOLL_CTL_ADD, ev.data.fd, &ev);
}

static void loop(struct ui_loop *l)
{
	struct ui *ui = &l->ui;
	struct epoll_event evs[4];
	bool more = true;

	while (!ui->quit && !session_stopped(ui->s)) {
		int n = epoll_wait(l->ep, evs, 4, more ? 0 : -1);
		uint64_t t;

		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++)
			if (evs[i].data.fd == l->tfd && read(l->tfd, &t, sizeof(t)) < 0)
				continue;
		ui->now_ns = mono_ns();
		if (read_keys(l) && !ui->quit) {
			ui->now_ns = mono_ns();
			draw(l);
		}
		more = pump_session(l);
		ui->now_ns = mono_ns();
		if (ui->now_ns - l->last_frame_ns >= FRAME_NS)
			frame(l);
	}
}

static void ui_free(struct ui_loop *l)
{
	for (int i = 0; i < 3; i++)
		view_free(l->ui.tabs[i]);
	while (ui_pop(&l->ui))
		;
	free(l->ui.marks);
	prompt_history_free(&l->history);
	if (l->tfd >= 0)
		close(l->tfd);
	if (l->ep >= 0)
		close(l->ep);
	free(l);
}

static int ui_setup(struct ui_loop *l, const struct options *o, struct session *s, char **cause)
{
	struct ui *ui = &l->ui;
	struct filter_error err;

	ui->o = o;
	ui->s = s;
	ui->mouse = o->mouse;
	ui->delay_ns = (uint64_t)(o->delay * 1e9);
	ui->fenv = (struct filter_env){ .lib = env_lib, .exe = env_exe, .marked = env_marked,
					.arg = l };
	l->ep = l->tfd = -1;
	if (make_loop(l)) {
		*cause = strdup("cannot create the event loop's descriptors");
		return -1;
	}
	if (term_open(ui, cause))
		return -1;
	ui->now_ns = l->last_tick_ns = mono_ns();
	ui->tabs[0] = conns_view_new(ui);
	ui->tabs[1] = methods_view_new(ui);
	ui->tabs[2] = events_view_new(ui);
	if (!ui->tabs[0] || !ui->tabs[1] || !ui->tabs[2]) {
		*cause = strdup("out of memory");
		return -1;
	}
	/* -f is where a session starts: the two tables show it */
	for (int i = 0; i < 2 && o->filter; i++)
		if (ui_set_filter(ui, ui->tabs[i], o->filter, &err)) {
			if (asprintf(cause, "filter: %s at offset %zu", err.msg, err.offset) < 0)
				*cause = NULL;
			return -1;
		}
	self_usage_sample(&ui->self);
	return 0;
}

int ui_run(const struct options *o, struct session *s, char **cause)
{
	struct ui_loop *l = calloc(1, sizeof(*l));
	int status = RUN_OK;

	if (!l) {
		*cause = strdup("out of memory");
		return RUN_USAGE;
	}
	if (ui_setup(l, o, s, cause)) {
		status = RUN_USAGE;
	} else {
		draw(l);
		loop(l);
	}
	term_close();
	ui_free(l);
	return status;
}
