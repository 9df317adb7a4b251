/* session.c - one run of the capture core, live or from a recording: setup,
 * one non-blocking step at a time of the ring-buffer (or recording) loop,
 * the Events log, and read access for the UI. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "attach.h"
#include "capture.h"
#include "demo.h"
#include "filter.h"
#include "kfilter.h"
#include "pipeline.h"
#include "privs.h"
#include "record.h"
#include "run.h"
#include "session.h"
#include "strbuf.h"

/* the reader drains the ring buffer at every tick: the kernel wakes it only
 * when the buffer fills up, so this bounds how late a quiet stream shows */
#define TICK_NS (25 * 1000000ULL)
#define RESCAN_ALL_NS (30 * 1000000000ULL) /* catches libraries whose first mapper exited unseen */
#define PENDING_AGE_NS 1000000000ULL
#define RINGBUF_BYTES (16u * 1024 * 1024)
#define MAX_RESCANS 256
/* Records handled per step: under sustained load the ring never empties,
 * and signals, stats, attaching new processes and flushing must still run. */
#define RINGBUF_BATCH 4096
#define FINAL_DRAIN_BATCHES 64
#define MAX_LOGGED_FILES 256 /* failed or stripped files named in the Events log */

/* Both notice layouts start with the header and the capture time. */
_Static_assert(offsetof(struct tlstop_data, ts_ns) == offsetof(struct tlstop_proc, ts_ns),
	       "ring-buffer records carry their time at one offset");

/* A process scanned again shortly after exec/mmap: the loader maps
 * libraries after exec, and an mmap notice can overtake the mapping. */
struct rescan {
	pid_t pid;
	uint64_t due_ns;
	int left;
};

/* The record read ahead of its time when a replay is paced. */
struct replay {
	struct rec_reader *r;
	bool pending;
	uint32_t type, len;
	const void *buf; /* valid until the next rec_read() */
	bool started; /* first_ts and start_ns are set */
	uint64_t first_ts; /* capture time of the first event */
	uint64_t start_ns; /* when it was delivered */
	uint64_t pos_ns; /* the recording's clock: where the pace is */
};

struct session {
	const struct options *o;
	struct output *out; /* NULL: the UI, nothing printed */
	struct lib_table libs;
	struct stats stats;
	struct capture *capture;
	struct pipeline *pipeline;
	struct tracer *tracer;
	struct kfilter *kf; /* the rules in the kernel */
	struct targets *targets;
	struct demo *demo;
	struct ring_buffer *rb;
	struct rec_writer *rec;
	struct replay replay;
	struct filter_env env;
	int ep, sfd, tfd;
	bool capturing; /* not a --list-targets or nothing-to-trace scan */
	bool rec_failed; /* writing the recording failed: said once, not retried */
	bool stop, at_end;
	int status;
	unsigned int batch; /* records handled in the current drain */
	uint32_t libs_recorded;
	uint64_t lost_reported; /* ring-buffer losses already warned about */
	int64_t realtime_offset;
	uint64_t start_ns, last_tick_ns, last_scan_ns;
	struct rescan rescans[MAX_RESCANS];
	int nrescans;
	const struct target_file *logged_files[MAX_LOGGED_FILES];
	int nlogged_files;
	uint64_t event_seq;
	size_t nevents;
	struct session_event events[SESSION_EVENTS_MAX];
};

static const char *const level_names[] = {
	[SESSION_INFO] = "note",
	[SESSION_WARN] = "warning",
	[SESSION_ERROR] = "error",
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static int64_t realtime_offset(void)
{
	struct timespec rt, mono;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	return ((int64_t)rt.tv_sec - mono.tv_sec) * 1000000000LL + (rt.tv_nsec - mono.tv_nsec);
}

/* ---- the Events log ---- */

static struct session_event *event_slot(struct session *s)
{
	if (s->nevents == SESSION_EVENTS_MAX) {
		/* the oldest quarter goes at once: the log stays one array,
		 * oldest first, and the move is rare */
		size_t drop = SESSION_EVENTS_MAX / 4;

		s->nevents -= drop;
		memmove(s->events, s->events + drop, s->nevents * sizeof(s->events[0]));
	}
	return &s->events[s->nevents++];
}

__attribute__((format(printf, 3, 0))) static const struct session_event *
vlog(struct session *s, enum session_level level, const char *fmt, va_list ap)
{
	struct session_event *e = event_slot(s);

	e->seq = ++s->event_seq;
	e->wall_ns = clock_ns(CLOCK_REALTIME);
	e->level = level;
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	return e;
}

void session_log(struct session *s, enum session_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(s, level, fmt, ap);
	va_end(ap);
}

const struct session_event *session_events(const struct session *s, size_t *n)
{
	*n = s->nevents;
	return s->events;
}

/* Logged, and on stderr too in batch mode, as tlstop always said it; cut
 * at the log's line length, which only a very long path reaches. */
__attribute__((format(printf, 3, 4))) static void say(struct session *s, enum session_level level,
						       const char *fmt, ...)
{
	const struct session_event *e;
	va_list ap;

	va_start(ap, fmt);
	e = vlog(s, level, fmt, ap);
	va_end(ap);
	if (s->out)
		report(s->o->json, level_names[level], "%s", e->text);
}

/* An error once running: said, and the run ends with that status. */
static void fail(struct session *s, int status, char *cause, const char *fallback)
{
	say(s, SESSION_ERROR, "%s", cause ? cause : fallback);
	free(cause);
	s->status = status;
	s->stop = true;
}

/* An error while opening: the caller reports it. */
static int open_failed(char **cause, int status, const char *fallback)
{
	if (!*cause)
		*cause = strdup(fallback);
	return status;
}

/* --no-mask is a deliberate choice, said once where it cannot be missed */
static void warn_no_mask(struct session *s)
{
	if (s->o->no_mask && !s->o->raw)
		say(s, SESSION_WARN,
		    "masking is OFF (--no-mask): authorization, cookie and API-key header values are printed in clear");
}

/* ---- targets: scans, and what they found said in the log ---- */

static bool file_logged(struct session *s, const struct target_file *f)
{
	for (int i = 0; i < s->nlogged_files; i++)
		if (s->logged_files[i] == f)
			return true;
	if (s->nlogged_files == MAX_LOGGED_FILES)
		return true; /* the log is no place for thousands of them */
	s->logged_files[s->nlogged_files++] = f;
	return false;
}

/* Failed and stripped files stay cached for the whole run: their address
 * names them. Unreadable ones are per process and retried. */
static void log_proc_files(struct session *s, const struct traced_proc *p)
{
	for (int i = 0; i < p->nfiles; i++) {
		const struct target_file *f = p->files[i];

		if ((f->verdict == FILE_ATTACH_FAILED || f->verdict == FILE_STRIPPED) &&
		    !file_logged(s, f))
			session_log(s, SESSION_WARN, "pid %d (%s): %s %s: %s", p->pid, p->comm,
				    file_verdict_name(f->verdict), f->path,
				    f->reason ? f->reason : "no reason known");
	}
}

static void log_proc(const struct traced_proc *p, void *arg)
{
	struct session *s = arg;

	log_proc_files(s, p);
	/* a process unreadable at the start is said once; later scans
	 * would repeat it every 30 s */
	if (p->problem && !s->capturing)
		session_log(s, SESSION_WARN, "pid %d (%s): %s", p->pid, p->comm, p->problem);
}

static int scan_pid(struct session *s, pid_t pid)
{
	int r = targets_scan_pid(s->targets, pid);
	const struct traced_proc *p = targets_proc(s->targets, pid);

	if (p)
		log_proc_files(s, p);
	return r;
}

static void scan_all(struct session *s)
{
	targets_scan_all(s->targets);
	targets_for_each_proc(s->targets, log_proc, s);
}

/* The target_ops.attach of a live session: the tracer's, logged. */
static int attach_logged(void *arg, struct target_file *f, int fd, char **cause)
{
	struct session *s = arg;
	int n = tracer_attach_file(s->tracer, f, fd, cause);

	if (n >= 0)
		session_log(s, SESSION_INFO, "attached %s (%s, %s, %d probes)", f->path,
			    lib_kind_name(f->lib->kind), lib_linking_name(f->lib), n);
	return n;
}

static bool recording(const struct session *s)
{
	return s->rec && !s->rec_failed;
}

static void record_failed(struct session *s, char *cause)
{
	fail(s, RUN_USAGE, cause, "cannot write the recording");
	s->rec_failed = true; /* said once, not again in the final drain */
}

static int record_new_libs(struct session *s, char **cause)
{
	for (; recording(s) && s->libs_recorded < s->libs.count; s->libs_recorded++) {
		const struct lib_info *l = s->libs.libs[s->libs_recorded];
		size_t plen = strlen(l->path);
		struct rec_lib *r = malloc(sizeof(*r) + plen);
		int err;

		if (!r)
			return -1;
		*r = (struct rec_lib){ .id = l->id, .kind = l->kind, .is_static = l->is_static,
				       .path_len = plen };
		memcpy(r + 1, l->path, plen);
		err = rec_write(s->rec, REC_LIB, r, sizeof(*r) + plen, cause);
		free(r);
		if (err)
			return -1;
	}
	return 0;
}

static void record_libs(struct session *s)
{
	char *cause = NULL;

	if (record_new_libs(s, &cause))
		record_failed(s, cause);
}

static void schedule_rescan(struct session *s, pid_t pid)
{
	for (int i = 0; i < s->nrescans; i++) {
		if (s->rescans[i].pid == pid) {
			s->rescans[i].left = 2;
			return;
		}
	}
	if (s->nrescans < MAX_RESCANS)
		s->rescans[s->nrescans++] = (struct rescan){ pid, now_ns() + 50000000ULL, 2 };
}

static void run_rescans(struct session *s, uint64_t now)
{
	for (int i = 0; i < s->nrescans;) {
		struct rescan *r = &s->rescans[i];

		if (r->due_ns > now) {
			i++;
			continue;
		}
		scan_pid(s, r->pid);
		if (--r->left > 0) {
			r->due_ns = now + 500000000ULL;
			i++;
		} else {
			*r = s->rescans[--s->nrescans];
		}
	}
	record_libs(s);
}

/* ---- from records to the pipeline ---- */

static void on_call(const struct tls_call *call, void *arg)
{
	struct session *s = arg;

	if (s->stop)
		return;
	pipeline_call(s->pipeline, call);
	if (pipeline_done(s->pipeline))
		s->stop = true;
}

static void on_proc(const struct tlstop_proc *p, void *arg)
{
	struct session *s = arg;

	switch (p->hdr.type) {
	case TLSTOP_EV_EXEC:
	case TLSTOP_EV_MMAP:
		if (!s->targets)
			return; /* replay */
		scan_pid(s, p->pid);
		record_libs(s);
		schedule_rescan(s, p->pid);
		break;
	case TLSTOP_EV_EXIT:
		if (s->targets)
			targets_forget_pid(s->targets, p->pid);
		pipeline_exit(s->pipeline, p->pid, p->ts_ns);
		if (!s->stop && s->o->raw && s->out)
			output_exit(s->out, p);
		session_log(s, SESSION_INFO, "pid %u (%.*s) exited", p->pid, TLSTOP_COMM_LEN,
			    p->comm);
		break;
	}
}

static const struct capture_ops capture_ops = {
	.call = on_call,
	.proc = on_proc,
};

static int on_ringbuf(void *ctx, void *data, size_t size)
{
	struct session *s = ctx;
	char *cause = NULL;

	if (recording(s) && rec_write(s->rec, REC_EVENT, data, size, &cause)) {
		record_failed(s, cause);
		return -1;
	}
	capture_feed(s->capture, data, size);
	return s->stop || ++s->batch >= RINGBUF_BATCH ? -1 : 0;
}

/* Handles at most RINGBUF_BATCH records; true when the ring may hold more. */
static bool drain(struct session *s)
{
	s->batch = 0;
	return ring_buffer__consume(s->rb) < 0 && !s->stop;
}

/* ---- counters, every --delay ---- */

/* The counters record; --stats text shows its tables instead. */
static void print_stats(struct session *s)
{
	pipeline_counters(s->pipeline, &s->stats);
	if (s->out && (s->o->json || !s->o->stats))
		output_stats(s->out, &s->stats, now_ns());
}

static void warn_losses(struct session *s)
{
	if (s->stats.kernel.ringbuf_fail <= s->lost_reported)
		return;
	say(s, SESSION_WARN,
	    "%llu records lost since the last report: the ring buffer was full because tlstop could not keep up; a smaller --snaplen, --pid or --comm reduce the load",
	    (unsigned long long)(s->stats.kernel.ringbuf_fail - s->lost_reported));
	s->lost_reported = s->stats.kernel.ringbuf_fail;
}

static void record_stats(struct session *s)
{
	char *cause = NULL;
	void *buf;
	size_t n;

	buf = malloc(stats_encoded_max());
	if (!buf)
		return;
	n = stats_encode(&s->stats, buf);
	if (rec_write(s->rec, REC_STATS, buf, n, &cause))
		record_failed(s, cause);
	free(buf);
}

static void write_stats(struct session *s)
{
	if (s->tracer)
		tracer_read_counters(s->tracer, &s->stats, s->libs.count);
	print_stats(s);
	warn_losses(s);
	if (recording(s))
		record_stats(s);
}

/* Periodic work at capture time now: calls whose end never came older
 * than flush_before are emitted, idle connections end, counters go out. */
static void tick(struct session *s, uint64_t flush_before, uint64_t now)
{
	capture_flush(s->capture, flush_before);
	pipeline_tick(s->pipeline, now);
	write_stats(s);
}

static bool tick_due(struct session *s, uint64_t now)
{
	if (now - s->last_tick_ns < (uint64_t)(s->o->delay * 1e9))
		return false;
	s->last_tick_ns = now;
	return true;
}

static void check_duration(struct session *s, uint64_t now)
{
	if (s->o->duration > 0 && now - s->start_ns >= (uint64_t)(s->o->duration * 1e9))
		s->stop = true;
}

/* ---- the live loop body ---- */

static bool live_step(struct session *s)
{
	bool more = drain(s);
	uint64_t now = now_ns();

	if (s->nrescans)
		run_rescans(s, now);
	if (now - s->last_scan_ns >= RESCAN_ALL_NS && !s->o->npids) {
		scan_all(s);
		record_libs(s);
		s->last_scan_ns = now;
	}
	if (tick_due(s, now))
		tick(s, now - PENDING_AGE_NS, now);
	check_duration(s, now);
	return more;
}

/* ---- replay ---- */

static bool paced(const struct session *s)
{
	return s->o->speed > 0;
}

static int replay_record(struct session *s, uint32_t type, const void *buf, uint32_t len)
{
	const struct rec_lib *r = buf;

	switch (type) {
	case REC_EVENT:
		capture_feed(s->capture, buf, len);
		break;
	case REC_LIB:
		if (len < sizeof(*r) || r->path_len != len - sizeof(*r) ||
		    libs_put(&s->libs, r, (const char *)(r + 1)))
			return -1;
		session_log(s, SESSION_INFO, "library %.*s (%s, %s)", (int)r->path_len,
			    (const char *)(r + 1), lib_kind_name(r->kind),
			    r->is_static ? "static" : "dynamic");
		break;
	case REC_STATS:
		if (stats_decode(&s->stats, buf, len))
			return -1;
		/* as fast as it can be read, the periodic work follows the
		 * recording's clock: at each counters snapshot it holds */
		if (!paced(s))
			tick(s, UINT64_MAX, pipeline_clock(s->pipeline));
		break;
	}
	return 0;
}

/* The end of the recording, or as far as it could be read: the view of a
 * paced replay stays; a batch replay is done. */
static void replay_end(struct session *s, int status, char *cause)
{
	if (status != RUN_OK) {
		say(s, SESSION_ERROR, "%s", cause ? cause : "cannot read the recording");
		free(cause);
		s->status = status;
	} else {
		session_log(s, SESSION_INFO, "end of recording %s", s->o->read_path);
	}
	capture_flush(s->capture, UINT64_MAX);
	s->at_end = true;
	if (!paced(s))
		s->stop = true;
}

static bool replay_read(struct session *s)
{
	struct replay *rp = &s->replay;
	char *cause = NULL;
	int n = rec_read(rp->r, &rp->type, &rp->buf, &rp->len, &cause);

	if (n <= 0) {
		replay_end(s, n < 0 ? RUN_USAGE : RUN_OK, cause);
		return false;
	}
	rp->pending = true;
	return true;
}

static uint64_t pace_pos(const struct replay *rp, double speed, uint64_t now)
{
	return rp->first_ts + (uint64_t)((double)(now - rp->start_ns) * speed);
}

/* An event waits for its capture time at the pace; the rest goes at once. */
static bool replay_due(struct session *s, uint64_t now)
{
	struct replay *rp = &s->replay;
	uint64_t ts;

	if (!paced(s) || rp->type != REC_EVENT || rp->len < sizeof(struct tlstop_proc))
		return true;
	memcpy(&ts, (const char *)rp->buf + offsetof(struct tlstop_proc, ts_ns), sizeof(ts));
	if (!rp->started) {
		rp->started = true;
		rp->first_ts = ts;
		rp->start_ns = now;
	}
	return ts <= pace_pos(rp, s->o->speed, now);
}

/* Delivers the next record if it is due; false when none is. */
static bool replay_next(struct session *s, uint64_t now)
{
	struct replay *rp = &s->replay;
	char *cause = NULL;

	if (!rp->pending && !replay_read(s))
		return false;
	if (!replay_due(s, now))
		return false;
	rp->pending = false;
	if (replay_record(s, rp->type, rp->buf, rp->len)) {
		if (asprintf(&cause, "%s: malformed record of type %u", s->o->read_path,
			     rp->type) < 0)
			cause = NULL;
		replay_end(s, RUN_USAGE, cause);
		return false;
	}
	return true;
}

static bool replay_step(struct session *s)
{
	struct replay *rp = &s->replay;
	uint64_t now = now_ns();
	int n = 0;

	while (n < RINGBUF_BATCH && !s->stop && !s->at_end && replay_next(s, now))
		n++;
	if (!paced(s))
		return !s->at_end;
	if (rp->started && !s->at_end)
		rp->pos_ns = pace_pos(rp, s->o->speed, now);
	if (tick_due(s, now))
		tick(s, rp->pos_ns > PENDING_AGE_NS ? rp->pos_ns - PENDING_AGE_NS : 0,
		     session_clock(s));
	check_duration(s, now);
	return n == RINGBUF_BATCH;
}

/* ---- the step ---- */

static bool read_full(int fd, void *buf, size_t n)
{
	return read(fd, buf, n) == (ssize_t)n;
}

/* Nonblocking: clears the timer's readiness, notices a signal. */
static void read_wakeups(struct session *s)
{
	struct signalfd_siginfo si;
	uint64_t ticks;

	read_full(s->tfd, &ticks, sizeof(ticks));
	if (read_full(s->sfd, &si, sizeof(si))) {
		session_log(s, SESSION_INFO, "stopping on %s", strsignal((int)si.ssi_signo));
		s->stop = true;
	}
}

bool session_step(struct session *s)
{
	bool more;

	if (!s->capturing)
		return false;
	read_wakeups(s); /* even once stopped: a readable fd would spin the caller */
	if (s->stop)
		return false;
	more = s->replay.r ? replay_step(s) : live_step(s);
	return more && !s->stop;
}

bool session_stopped(const struct session *s)
{
	return s->stop;
}

bool session_at_end(const struct session *s)
{
	return s->at_end;
}

int session_fd(const struct session *s)
{
	return s->ep;
}

/* ---- opening ---- */

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static int libbpf_verbose(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return vfprintf(stderr, fmt, ap);
}

static const char *env_lib(uint32_t lib_id, void *arg)
{
	const struct session *s = arg;
	const struct lib_info *l = libs_get(&s->libs, lib_id);

	return l ? lib_kind_name(l->kind) : NULL;
}

static int open_pipeline(struct session *s)
{
	s->capture = capture_new(&capture_ops, s, &s->stats);
	s->pipeline = pipeline_new(s->o, s->out);
	return s->capture && s->pipeline ? 0 : -1;
}

/* -p: one of the processes maps a target; otherwise any process does */
static bool scan_initial(struct session *s)
{
	const struct options *o = s->o;
	bool found = false;

	if (o->npids) {
		for (int i = 0; i < o->npids; i++)
			found |= targets_scan_pid(s->targets, o->pids[i]) == 1;
		targets_for_each_proc(s->targets, log_proc, s);
		return found;
	}
	scan_all(s);
	return targets_count_files(s->targets, FILE_TARGET) > 0;
}

/* The tracer, the first scan and the recording; *found: a target exists. */
static int open_tracing(struct session *s, bool *found, char **cause)
{
	static const struct target_ops target_ops = { .attach = attach_logged };
	const struct options *o = s->o;
	struct tracer_config cfg = {
		.self = getpid(),
		.snaplen = o->snaplen,
		.pids = o->pids,
		.npids = o->npids,
		.ringbuf_bytes = RINGBUF_BYTES,
	};
	struct kfilter_maps maps;

	if (tracer_open(&s->tracer, &cfg, cause))
		return open_failed(cause, RUN_CANNOT_TRACE, "cannot load the BPF programs");
	tracer_kf_maps(s->tracer, &maps);
	s->kf = kfilter_new(&maps, o->sample);
	if (!s->kf)
		return open_failed(cause, RUN_CANNOT_TRACE, "out of memory");
	if (o->sample > 1 && kfilter_update(s->kf, NULL, 0, cause))
		return open_failed(cause, RUN_CANNOT_TRACE, "cannot set --sample");
	s->targets = targets_new("/proc", &target_ops, s, &s->libs, cfg.self);
	if (open_pipeline(s) || !s->targets)
		return open_failed(cause, RUN_CANNOT_TRACE, "out of memory");
	targets_set_comm(s->targets, o->comm);
	targets_set_probe_method(s->targets, o->probe_method);
	*found = scan_initial(s);
	if (o->list_targets)
		return RUN_OK;
	if (!*found && o->npids) {
		s->status = RUN_NOTHING;
		return open_failed(cause, RUN_NOTHING, "nothing to trace for --pid:");
	}
	if (o->write_path &&
	    rec_writer_open(&s->rec, o->write_path, s->realtime_offset, cause))
		return open_failed(cause, RUN_USAGE, "cannot create the recording");
	if (record_new_libs(s, cause))
		return open_failed(cause, RUN_USAGE, "cannot write the recording");
	s->rb = ring_buffer__new(tracer_ringbuf_map_fd(s->tracer), on_ringbuf, s, NULL);
	if (!s->rb)
		return open_failed(cause, RUN_CANNOT_TRACE, "cannot open the BPF ring buffer");
	s->capturing = true;
	return RUN_OK;
}

static void announce_live(struct session *s, bool found)
{
	const struct options *o = s->o;
	unsigned int files = targets_count_files(s->targets, FILE_TARGET);
	unsigned int probes = targets_probes(s->targets);

	if (s->out)
		output_ready(s->out, getpid(), files, probes, "live");
	session_log(s, SESSION_INFO, "tracing %u libraries, %u probes", files, probes);
	warn_no_mask(s);
	if (!found && o->comm)
		say(s, SESSION_WARN,
		    "no process named %s uses a TLS library yet; waiting for one to start", o->comm);
	if (s->demo) {
		say(s, SESSION_INFO, "demo workload: process %d (tlstop-demo), HTTPS on 127.0.0.1",
		    (int)demo_pid(s->demo));
		demo_go(s->demo);
	}
}

static int open_live(struct session *s, bool *found, char **cause)
{
	s->realtime_offset = realtime_offset();
	/* libbpf's chatter would land on the UI's screen */
	libbpf_set_print(s->o->verbose && s->out ? libbpf_verbose : libbpf_quiet);
	if (privs_check(cause))
		return open_failed(cause, RUN_CANNOT_TRACE, "cannot trace");
	/* fork before the BPF objects exist: the child inherits nothing */
	if (s->o->demo && demo_start(&s->demo, cause))
		return open_failed(cause, RUN_CANNOT_TRACE, "cannot start the demo workload");
	return open_tracing(s, found, cause);
}

static int open_replay(struct session *s, char **cause)
{
	if (rec_reader_open(&s->replay.r, s->o->read_path, cause))
		return open_failed(cause, RUN_USAGE, "cannot open the recording");
	s->realtime_offset = rec_reader_realtime_offset(s->replay.r);
	if (open_pipeline(s))
		return open_failed(cause, RUN_USAGE, "out of memory");
	s->capturing = true;
	return RUN_OK;
}

static int make_signalfd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static int make_timerfd(void)
{
	struct itimerspec its = {
		.it_interval = { 0, TICK_NS },
		.it_value = { 0, TICK_NS },
	};
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);

	if (fd >= 0)
		timerfd_settime(fd, 0, &its, NULL);
	return fd;
}

static int epoll_add(int ep, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* The loop's descriptors, in one epoll set the caller can poll in its own. */
static int open_loop(struct session *s, char **cause)
{
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	s->sfd = make_signalfd();
	s->tfd = make_timerfd();
	if (s->ep < 0 || s->sfd < 0 || s->tfd < 0 || epoll_add(s->ep, s->sfd) ||
	    epoll_add(s->ep, s->tfd) || (s->rb && epoll_add(s->ep, ring_buffer__epoll_fd(s->rb))))
		return open_failed(cause, RUN_CANNOT_TRACE,
				   "cannot create the event loop's descriptors");
	s->start_ns = s->last_tick_ns = s->last_scan_ns = now_ns();
	return RUN_OK;
}

static void announce_replay(struct session *s)
{
	if (s->out)
		output_ready(s->out, getpid(), 0, 0, "recording");
	if (paced(s))
		session_log(s, SESSION_INFO, "replaying %s at %gx", s->o->read_path, s->o->speed);
	else
		session_log(s, SESSION_INFO, "replaying %s", s->o->read_path);
	warn_no_mask(s);
}

static void close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* Detaches, stops the demo and closes the recording: -1 when its last
 * write failed, with *cause. */
static int stop_capture(struct session *s, char **cause)
{
	int err;

	ring_buffer__free(s->rb);
	s->rb = NULL;
	/* detach before anything else so the traced programs stop paying */
	kfilter_free(s->kf);
	tracer_close(s->tracer);
	s->tracer = NULL;
	demo_stop(s->demo);
	s->demo = NULL;
	err = rec_writer_close(s->rec, cause);
	s->rec = NULL;
	return err;
}

static void session_free(struct session *s)
{
	if (s->out)
		fflush(s->out->f);
	pipeline_free(s->pipeline);
	capture_free(s->capture);
	targets_free(s->targets);
	rec_reader_close(s->replay.r);
	libs_clear(&s->libs);
	close_fd(s->tfd);
	close_fd(s->sfd);
	close_fd(s->ep);
	free(s);
}

int session_open(struct session **sp, const struct options *o, struct output *out, char **cause)
{
	struct session *s = calloc(1, sizeof(*s));
	bool found = false;
	char *ignored = NULL;
	int status;

	*sp = NULL;
	*cause = NULL;
	if (!s)
		return open_failed(cause, RUN_CANNOT_TRACE, "out of memory");
	s->o = o;
	s->out = out;
	s->ep = s->sfd = s->tfd = -1;
	s->start_ns = now_ns();
	s->env = (struct filter_env){ .lib = env_lib, .arg = s };
	status = o->read_path ? open_replay(s, cause) : open_live(s, &found, cause);
	if (out) {
		out->libs = &s->libs;
		out->realtime_offset_ns = s->realtime_offset;
	}
	if (status == RUN_OK && s->capturing)
		status = open_loop(s, cause);
	if (status != RUN_OK && status != RUN_NOTHING) {
		stop_capture(s, &ignored); /* the first error is the one to say */
		free(ignored);
		session_free(s);
		return status;
	}
	*sp = s;
	if (s->capturing) {
		if (s->replay.r)
			announce_replay(s);
		else
			announce_live(s, found);
	}
	return status;
}

/* ---- closing ---- */

/* The end of a run: what the kernel wrote before the stop is still shown,
 * connections still open end (their open messages are printed,
 * incomplete), then the last counters. */
static void finish(struct session *s)
{
	if (s->rb && !pipeline_done(s->pipeline)) {
		s->stop = false;
		for (int i = 0; i < FINAL_DRAIN_BATCHES && drain(s); i++)
			;
		s->stop = true;
	}
	capture_flush(s->capture, UINT64_MAX);
	pipeline_end(s->pipeline);
	write_stats(s);
}

int session_close(struct session *s)
{
	char *cause = NULL;
	int status;

	if (!s)
		return RUN_OK;
	if (s->capturing)
		finish(s);
	if (stop_capture(s, &cause))
		fail(s, RUN_USAGE, cause, "cannot finish the recording");
	status = s->status;
	session_free(s);
	return status;
}

/* ---- read access ---- */

void session_set_filter(struct session *s, const struct filter *f)
{
	pipeline_set_filter(s->pipeline, f, &s->env);
	/* --raw prints every call whatever the filter */
	if (!s->o->raw)
		session_set_kernel_filters(s, &f, 1);
}

void session_set_kernel_filters(struct session *s, const struct filter *const *fs, size_t n)
{
	char *cause = NULL;

	if (!s->kf)
		s->kf = kfilter_new(NULL, s->o->sample);
	if (s->kf && kfilter_update(s->kf, fs, n, &cause))
		session_log(s, SESSION_WARN, "%s", cause ? cause : "out of memory");
	free(cause);
}

void session_explain(const struct session *s, bool ascii, struct strbuf *sb)
{
	if (s->kf)
		kfilter_explain(s->kf, ascii, sb);
	else
		sb_adds(sb, "kernel: nothing (no capture)\n");
}

struct store *session_store(const struct session *s)
{
	return pipeline_store(s->pipeline);
}

struct methods *session_methods(const struct session *s)
{
	return pipeline_methods(s->pipeline);
}

const struct lib_table *session_libs(const struct session *s)
{
	return &s->libs;
}

struct targets *session_targets(const struct session *s)
{
	return s->targets;
}

void session_stats(struct session *s, struct stats *st)
{
	if (s->tracer)
		tracer_read_counters(s->tracer, &s->stats, s->libs.count);
	pipeline_counters(s->pipeline, &s->stats);
	*st = s->stats;
}

uint64_t session_clock(const struct session *s)
{
	uint64_t last = pipeline_clock(s->pipeline);

	if (!s->replay.r)
		return now_ns();
	/* paced, the clock runs between records as it did at capture time */
	return paced(s) && s->replay.pos_ns > last ? s->replay.pos_ns : last;
}

int64_t session_realtime_offset(const struct session *s)
{
	return s->realtime_offset;
}

uint64_t session_messages(const struct session *s)
{
	return pipeline_messages(s->pipeline);
}

uint64_t session_started_ns(const struct session *s)
{
	return s->start_ns;
}
