/* events_view.c - Events: losses by cause, the libraries of each process
 * and why one is not traced, what the filter pushed into the kernel, then
 * the log of attach, detach and warnings, newest last. */
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "textpane.h"

static void losses(struct ui *ui, struct lines *l)
{
	const struct stats *st = &ui->st;

	lines_add(l, R_TITLE, 0, "Losses by cause");
	lines_add(l, st->kernel.ringbuf_fail ? R_BADGE_WARN : R_NORMAL, 0,
		  "  ring buffer full      %llu records (%llu B)",
		  (unsigned long long)st->kernel.ringbuf_fail,
		  (unsigned long long)st->kernel.ringbuf_fail_bytes);
	lines_add(l, st->kernel.map_fail ? R_BADGE_WARN : R_NORMAL, 0,
		  "  BPF map full          %llu", (unsigned long long)st->kernel.map_fail);
	lines_add(l, st->kernel.read_fail ? R_BADGE_WARN : R_NORMAL, 0,
		  "  user memory unreadable %llu", (unsigned long long)st->kernel.read_fail);
	lines_add(l, st->truncated_calls ? R_BADGE_WARN : R_NORMAL, 0,
		  "  snaplen truncation    %llu calls", (unsigned long long)st->truncated_calls);
	lines_add(l, st->incomplete_calls ? R_BADGE_WARN : R_NORMAL, 0,
		  "  calls missing records %llu", (unsigned long long)st->incomplete_calls);
	lines_add(l, st->kernel.proc_lost ? R_BADGE_WARN : R_NORMAL, 0,
		  "  process notices lost  %llu", (unsigned long long)st->kernel.proc_lost);
	lines_add(l, st->proto.unknown_paths ? R_BADGE_WARN : R_NORMAL, 0,
		  "  HPACK unknown         %llu paths, %llu headers",
		  (unsigned long long)st->proto.unknown_paths,
		  (unsigned long long)st->proto.unknown_headers);
	lines_add(l, st->proto.decode_errors ? R_BADGE_WARN : R_NORMAL, 0,
		  "  decoder errors        %llu (gaps %llu, %llu B; resyncs %llu; inflate %llu)",
		  (unsigned long long)st->proto.decode_errors, (unsigned long long)st->proto.gaps,
		  (unsigned long long)st->proto.gap_bytes, (unsigned long long)st->proto.resyncs,
		  (unsigned long long)st->proto.inflate_errors);
	lines_add(l, st->evicted_msgs ? R_BADGE_WARN : R_NORMAL, 0,
		  "  evicted (budget)      %llu messages, %llu B",
		  (unsigned long long)st->evicted_msgs, (unsigned long long)st->evicted_bytes);
}

static void add_proc(const struct traced_proc *p, void *arg)
{
	struct lines *l = arg;

	if (p->problem) {
		lines_add(l, R_BADGE_WARN, 0, "  %d %s: not traced: %s", (int)p->pid, p->comm,
			  p->problem);
		return;
	}
	for (int i = 0; i < p->nfiles; i++) {
		const struct target_file *f = p->files[i];

		if (f->verdict == FILE_TARGET)
			lines_add(l, R_NORMAL, 0, "  %d %s: %s %s%s, %d probes", (int)p->pid,
				  p->comm, lib_kind_name(f->lib->kind), f->path,
				  f->lib->is_static ? " (static)" : "", f->probes);
		else
			lines_add(l, R_BADGE_WARN, 0, "  %d %s: %s %s: %s", (int)p->pid, p->comm,
				  file_verdict_name(f->verdict), f->path,
				  f->reason ? f->reason : "");
	}
}

static void libraries(struct ui *ui, struct lines *l)
{
	const struct lib_table *t = session_libs(ui->s);
	struct targets *tg = session_targets(ui->s);

	lines_add(l, R_TITLE, 0, "Libraries per process");
	if (tg) {
		targets_for_each_proc(tg, add_proc, l);
		return;
	}
	for (uint32_t i = 0; i < t->count; i++) /* a recording knows the files only */
		if (t->libs[i])
			lines_add(l, R_NORMAL, 0, "  %s %s%s", lib_kind_name(t->libs[i]->kind),
				  t->libs[i]->path, t->libs[i]->is_static ? " (static)" : "");
}

static void filters(struct ui *ui, struct lines *l)
{
	struct strbuf sb = { 0 };
	const char *p, *nl;

	lines_add(l, R_TITLE, 0, "Filters");
	session_explain(ui->s, !ui->utf8, &sb);
	for (p = sb_str(&sb); *p; p = *nl ? nl + 1 : nl) {
		nl = p + strcspn(p, "\n");
		lines_add(l, R_NORMAL, 0, "  %.*s", (int)(nl - p), p);
	}
	sb_free(&sb);
	for (int i = 0; i < 2; i++) {
		const struct view *v = ui->tabs[i];

		lines_add(l, R_NORMAL, 0, "  userspace, %s: %s", v->ops->name,
			  v->filter ? filter_text(v->filter) : "(none)");
	}
}

static void log_lines(struct ui *ui, struct lines *l)
{
	static const char *const level[] = { "info", "WARN", "ERROR" };
	static const enum ui_role role[] = { R_NORMAL, R_BADGE_WARN, R_BADGE_ERROR };
	size_t n;
	const struct session_event *ev = session_events(ui->s, &n);

	lines_add(l, R_TITLE, 0, "Log");
	for (size_t i = 0; i < n; i++) {
		char ts[32];
		int64_t off = session_realtime_offset(ui->s);

		/* the log keeps wall time; ui_format_ts takes the capture clock */
		ui_format_ts(ui, ts, sizeof(ts), ev[i].wall_ns - (uint64_t)off, 0, 0);
		lines_add(l, role[ev[i].level], 0, "  %s %-5s %s", ts, level[ev[i].level],
			  ev[i].text);
	}
}

static void update(struct ui *ui, struct view *v, bool tick)
{
	struct pane_view *e = v->priv;
	struct lines l = { 0 };

	if (!tick)
		return;
	losses(ui, &l);
	lines_add(&l, R_NORMAL, 0, "%s", "");
	libraries(ui, &l);
	lines_add(&l, R_NORMAL, 0, "%s", "");
	filters(ui, &l);
	lines_add(&l, R_NORMAL, 0, "%s", "");
	log_lines(ui, &l);
	textpane_set(&e->tp, &l);
	v->follow = e->tp.follow;
	v->shown = v->total = e->tp.lines.n;
	v->dirty = true;
}

static const struct view_ops events_ops = {
	.name = "Events",
	.keys = KEYS_TEXT,
	.text = true,
	.update = update,
	.draw = pane_view_draw,
	.action = pane_view_action,
	.search = pane_view_search,
	.free = pane_view_free,
};

struct view *events_view_new(struct ui *ui)
{
	struct pane_view *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->v.ops = &events_ops;
	e->v.priv = e;
	e->v.unit = "lines";
	textpane_init(&e->tp, true, true);
	update(ui, &e->v, true);
	return &e->v;
}
