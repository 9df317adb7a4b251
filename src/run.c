/* run.c - batch mode: a session driven by its own epoll loop until a
 * signal, --duration, --count or the end of a recording, and the
 * --list-targets and nothing-to-trace reports. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "output.h"
#include "run.h"
#include "session.h"

/* -p named processes none of which can be traced: say why, one by one */
void run_report_nothing(const struct options *o, struct session *s, const char *headline)
{
	struct targets *t = session_targets(s);
	struct output err;

	output_init(&err, stderr, o->json, 0, session_libs(s));
	report(o->json, "error", "%s", headline);
	for (int i = 0; i < o->npids; i++) {
		pid_t pid = o->pids[i];
		char path[32];

		snprintf(path, sizeof(path), "/proc/%d", pid);
		if (access(path, F_OK))
			report(o->json, "error", "pid %d: no such process", pid);
		else if (!targets_proc(t, pid))
			report(o->json, "error",
			       "pid %d: maps no file that defines SSL_write and SSL_read (no OpenSSL or BoringSSL)",
			       pid);
	}
	output_targets(&err, t);
}

static void wait_for(int fd)
{
	struct epoll_event ev;

	if (epoll_wait(fd, &ev, 1, -1) < 0 && errno != EINTR)
		sleep(1); /* cannot happen with a valid epoll fd; do not spin */
}

static void drive(struct session *s)
{
	while (!session_stopped(s) && !session_at_end(s)) {
		if (!session_step(s))
			wait_for(session_fd(s));
		if (fflush(stdout) == EOF && errno == EPIPE)
			break; /* the reader went away */
	}
}

int run_batch(const struct options *o, const struct filter *f)
{
	struct session *s = NULL;
	struct output out;
	char *cause = NULL;
	int status;

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	output_init(&out, stdout, o->json, 0, NULL);
	out.detail = o->detail;
	status = session_open(&s, o, &out, &cause);
	if (status == RUN_NOTHING) {
		run_report_nothing(o, s, cause ? cause : "nothing to trace for --pid:");
	} else if (status != RUN_OK) {
		report(o->json, "error", "%s", cause ? cause : "out of memory");
	} else if (o->list_targets) {
		output_targets(&out, session_targets(s));
	} else {
		session_set_filter(s, f);
		drive(s);
	}
	free(cause);
	if (s)
		status = session_close(s);
	return status;
}
