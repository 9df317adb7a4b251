/* main.c - tlstop: live decrypted TLS traffic of the processes on a node. */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filter.h"
#include "kfilter.h"
#include "options.h"
#include "output.h"
#include "run.h"
#include "session.h"
#include "strbuf.h"
#include "ui.h"

/* -f or the trailing FILTER, compiled once; one that does not compile is
 * a usage error, shown with a caret. */
static int compile_filter(const struct options *o, struct filter **f)
{
	struct filter_error err;

	if (!o->filter || !filter_compile(f, o->filter, &err))
		return 0;
	report(o->json, "error", "filter: %s at offset %zu", err.msg, err.offset);
	if (!o->json)
		fprintf(stderr, "  %s\n  %*s^\n", o->filter, (int)err.offset, "");
	return -1;
}

/* --explain: the lowering alone, no privileges needed */
static void explain(const struct options *o, const struct filter *f)
{
	struct kfilter *k = kfilter_new(NULL, o->sample);
	struct strbuf sb = { 0 };
	char *cause = NULL;

	if (!k || kfilter_update(k, &f, 1, &cause)) {
		report(o->json, "error", "%s", cause ? cause : "out of memory");
	} else {
		filter_explain(f, kfilter_rules(k), o->sample, o->no_unicode, &sb);
		fputs(sb_str(&sb), stdout);
	}
	free(cause);
	sb_free(&sb);
	kfilter_free(k);
}

static int run_ui(struct options *o)
{
	struct session *s = NULL;
	char *cause = NULL;
	int status;

	if (o->read_path && !o->speed)
		o->speed = 1; /* a recording plays at its own pace on screen */
	status = session_open(&s, o, NULL, &cause);
	if (status == RUN_NOTHING)
		run_report_nothing(o, s, cause ? cause : "nothing to trace for --pid:");
	else if (status != RUN_OK)
		report(false, "error", "%s", cause ? cause : "cannot start");
	if (status != RUN_OK) {
		free(cause);
		return s ? session_close(s) : status;
	}
	status = ui_run(o, s, &cause);
	if (cause) /* after the terminal is restored, so it stays readable */
		report(false, "error", "%s", cause);
	free(cause);
	return session_close(s) ?: status;
}

int main(int argc, char **argv)
{
	struct options o;
	struct filter *f = NULL;
	char *cause = NULL;
	int status;

	setlocale(LC_ALL, "");
	switch (options_parse(&o, argc, argv, stdout, &cause)) {
	case OPTIONS_EXIT:
		options_free(&o);
		return RUN_OK;
	case OPTIONS_ERROR:
		report(o.json, "error", "%s", cause ? cause : "out of memory");
		free(cause);
		options_free(&o);
		return RUN_USAGE;
	case OPTIONS_RUN:
		break;
	}
	if (compile_filter(&o, &f)) {
		options_free(&o);
		return RUN_USAGE;
	}
	if (o.explain) {
		explain(&o, f);
		filter_free(f);
		options_free(&o);
		return RUN_OK;
	}
	if (!o.batch && !o.list_targets && !o.tui) {
		const char *term = getenv("TERM");

		if (!isatty(STDOUT_FILENO)) {
			report(false, "note", "stdout is not a terminal; printing one line per message (--batch)");
			o.batch = true;
		} else if (term && !strcmp(term, "dumb")) {
			/* a dumb terminal cannot place the cursor: a screen would be garbage */
			report(false, "note", "TERM=dumb cannot show the interactive view; printing one line per message (--batch)");
			o.batch = true;
		}
	}
	/* the view compiles a filter per screen from o.filter */
	status = o.batch || o.list_targets ? run_batch(&o, f) : run_ui(&o);
	filter_free(f);
	options_free(&o);
	return status;
}
