/* run.c - live capture and replay loops: one epoll loop over the ring
 * buffer, signals and a timer; the pipeline after the kernel is shared. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
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
#include "output.h"
#include "pipeline.h"
#include "privs.h"
#include "record.h"
#include "run.h"
#include "targets.h"

/* the reader drains the ring buffer at every tick: the kernel wakes it only
 * when the buffer fills up, so this bounds how late a quiet stream shows */
#define TICK_NS (25 * 1000000ULL)
#define RESCAN_ALL_NS (30 * 1000000000ULL) /* catches libraries whose first mapper exited unseen */
#define PENDING_AGE_NS 1000000000ULL
#define RINGBUF_BYTES (16u * 1024 * 1024)
#define MAX_RESCANS 256
/* Records handled per drain: under sustained load the ring never empties,
 * and signals, stats, attaching new processes and flushing must still run. */
#define RINGBUF_BATCH 4096
#define FINAL_DRAIN_BATCHES 64

/* A process scanned again shortly after exec/mmap: the loader maps
 * libraries after exec, and an mmap notice can overtake the mapping. */
struct rescan {
	pid_t pid;
	uint64_t due_ns;
	int left;
};

struct app {
	const struct options *o;
	struct output out;
	struct lib_table libs;
	struct stats stats;
	struct capture *capture;
	struct pipeline *pipeline;
	struct tracer *tracer;
	struct targets *targets;
	struct rec_writer *rec;
	uint32_t libs_recorded;
	uint64_t lost_reported; /* ring-buffer losses already warned about */
	unsigned int batch; /* records handled in the current drain */
	bool stop;
	int status;
	struct rescan rescans[MAX_RESCANS];
	int nrescans;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int64_t realtime_offset(void)
{
	struct timespec rt, mono;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	return ((int64_t)rt.tv_sec - mono.tv_sec) * 1000000000LL + (rt.tv_nsec - mono.tv_nsec);
}

/* --no-mask is a deliberate choice, said once where it cannot be missed */
static void warn_no_mask(const struct options *o)
{
	if (o->no_mask && !o->raw)
		report(o->json, "warning",
		       "masking is OFF (--no-mask): authorization, cookie and API-key header values are printed in clear");
}

static void fail(struct app *a, int status, char *cause, const char *fallback)
{
	report(a->o->json, "error", "%s", cause ? cause : fallback);
	free(cause);
	a->status = status;
	a->stop = true;
}

static void on_call(const struct tls_call *call, void *arg)
{
	struct app *a = arg;

	if (a->stop)
		return;
	pipeline_call(a->pipeline, call);
	if (pipeline_done(a->pipeline))
		a->stop = true;
}

static void schedule_rescan(struct app *a, pid_t pid)
{
	for (int i = 0; i < a->nrescans; i++) {
		if (a->rescans[i].pid == pid) {
			a->rescans[i].left = 2;
			return;
		}
	}
	if (a->nrescans < MAX_RESCANS)
		a->rescans[a->nrescans++] = (struct rescan){ pid, now_ns() + 50000000ULL, 2 };
}

static void record_new_libs(struct app *a)
{
	char *cause = NULL;

	for (; a->rec && a->libs_recorded < a->libs.count; a->libs_recorded++) {
		const struct lib_info *l = a->libs.libs[a->libs_recorded];
		size_t plen = strlen(l->path);
		struct rec_lib *r = malloc(sizeof(*r) + plen);

		if (!r)
			return;
		*r = (struct rec_lib){ .id = l->id, .kind = l->kind, .is_static = l->is_static,
				       .path_len = plen };
		memcpy(r + 1, l->path, plen);
		if (rec_write(a->rec, REC_LIB, r, sizeof(*r) + plen, &cause))
			fail(a, RUN_USAGE, cause, "cannot write the recording");
		free(r);
	}
}

static void on_proc(const struct tlstop_proc *p, void *arg)
{
	struct app *a = arg;

	switch (p->hdr.type) {
	case TLSTOP_EV_EXEC:
	case TLSTOP_EV_MMAP:
		if (!a->targets)
			return; /* replay */
		targets_scan_pid(a->targets, p->pid);
		record_new_libs(a);
		schedule_rescan(a, p->pid);
		break;
	case TLSTOP_EV_EXIT:
		if (a->targets)
			targets_forget_pid(a->targets, p->pid);
		pipeline_exit(a->pipeline, p->pid, p->ts_ns);
		if (!a->stop && a->o->raw)
			output_exit(&a->out, p);
		break;
	}
}

static const struct capture_ops capture_ops = {
	.call = on_call,
	.proc = on_proc,
};

static int on_ringbuf(void *ctx, void *data, size_t size)
{
	struct app *a = ctx;
	char *cause = NULL;

	if (a->rec && rec_write(a->rec, REC_EVENT, data, size, &cause)) {
		fail(a, RUN_USAGE, cause, "cannot write the recording");
		return -1;
	}
	capture_feed(a->capture, data, size);
	return a->stop || ++a->batch >= RINGBUF_BATCH ? -1 : 0;
}

/* Handles at most RINGBUF_BATCH records; true when the ring may hold more. */
static bool drain(struct app *a, struct ring_buffer *rb)
{
	a->batch = 0;
	return ring_buffer__consume(rb) < 0 && !a->stop;
}

/* The counters record; --stats text shows its tables instead. */
static void print_stats(struct app *a)
{
	pipeline_counters(a->pipeline, &a->stats);
	if (a->o->json || !a->o->stats)
		output_stats(&a->out, &a->stats, now_ns());
}

static void write_stats(struct app *a)
{
	size_t n;
	void *buf;
	char *cause = NULL;

	if (a->tracer)
		tracer_read_counters(a->tracer, &a->stats, a->libs.count);
	print_stats(a);
	if (a->stats.kernel.ringbuf_fail > a->lost_reported) {
		report(a->o->json, "warning",
		       "%llu records lost since the last report: the ring buffer was full because tlstop could not keep up; a smaller --snaplen, --pid or --comm reduce the load",
		       (unsigned long long)(a->stats.kernel.ringbuf_fail - a->lost_reported));
		a->lost_reported = a->stats.kernel.ringbuf_fail;
	}
	if (!a->rec)
		return;
	buf = malloc(stats_encoded_max());
	if (!buf)
		return;
	n = stats_encode(&a->stats, buf);
	if (rec_write(a->rec, REC_STATS, buf, n, &cause))
		fail(a, RUN_USAGE, cause, "cannot write the recording");
	free(buf);
}

/* The end of a run: connections still open end (their open messages are
 * printed, incomplete), then the last counters. */
static void finish(struct app *a)
{
	pipeline_end(a->pipeline);
	write_stats(a);
}

static void run_rescans(struct app *a, uint64_t now)
{
	for (int i = 0; i < a->nrescans;) {
		struct rescan *r = &a->rescans[i];

		if (r->due_ns > now) {
			i++;
			continue;
		}
		targets_scan_pid(a->targets, r->pid);
		if (--r->left > 0) {
			r->due_ns = now + 500000000ULL;
			i++;
		} else {
			*r = a->rescans[--a->nrescans];
		}
	}
	record_new_libs(a);
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

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static int libbpf_verbose(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return vfprintf(stderr, fmt, ap);
}

/* -p named processes none of which can be traced: say why, one by one */
static int nothing_to_trace(struct app *a)
{
	struct output err;

	output_init(&err, stderr, a->o->json, 0, &a->libs);
	report(a->o->json, "error", "nothing to trace for --pid:");
	for (int i = 0; i < a->o->npids; i++) {
		pid_t pid = a->o->pids[i];
		char path[32];

		snprintf(path, sizeof(path), "/proc/%d", pid);
		if (access(path, F_OK))
			report(a->o->json, "error", "pid %d: no such process", pid);
		else if (!targets_proc(a->targets, pid))
			report(a->o->json, "error",
			       "pid %d: maps no file that defines SSL_write and SSL_read (no OpenSSL or BoringSSL)",
			       pid);
	}
	output_targets(&err, a->targets);
	return RUN_NOTHING;
}

static void scan_initial(struct app *a, bool *found)
{
	*found = false;
	if (a->o->npids) {
		for (int i = 0; i < a->o->npids; i++)
			*found |= targets_scan_pid(a->targets, a->o->pids[i]) == 1;
		return;
	}
	targets_scan_all(a->targets);
	*found = targets_count_files(a->targets, FILE_TARGET) > 0;
}

static void event_loop(struct app *a, struct ring_buffer *rb, double duration)
{
	uint64_t start = now_ns(), last_stats = start, last_scan = start;
	uint64_t delay_ns = (uint64_t)(a->o->delay * 1e9);
	struct epoll_event ev, evs[4];
	int ep, sfd, tfd;

	ep = epoll_create1(EPOLL_CLOEXEC);
	sfd = make_signalfd();
	tfd = make_timerfd();
	if (ep < 0 || sfd < 0 || tfd < 0) {
		fail(a, RUN_CANNOT_TRACE, NULL, "cannot create the event loop's descriptors");
		goto out;
	}
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = sfd };
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.fd = tfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
	ev.data.fd = ring_buffer__epoll_fd(rb);
	epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);

	while (!a->stop) {
		int n = epoll_wait(ep, evs, 4, -1);
		uint64_t now;

		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n && !a->stop; i++) {
			if (evs[i].data.fd == sfd) {
				a->stop = true;
			} else {
				uint64_t ticks;

				if (evs[i].data.fd == tfd && read(tfd, &ticks, sizeof(ticks)) < 0)
					continue;
				drain(a, rb);
			}
		}
		now = now_ns();
		if (a->nrescans)
			run_rescans(a, now);
		if (now - last_scan >= RESCAN_ALL_NS && !a->o->npids) {
			targets_scan_all(a->targets);
			record_new_libs(a);
			last_scan = now;
		}
		if (now - last_stats >= delay_ns) {
			capture_flush(a->capture, now - PENDING_AGE_NS);
			pipeline_tick(a->pipeline, now);
			write_stats(a);
			last_stats = now;
		}
		if (duration > 0 && now - start >= (uint64_t)(duration * 1e9))
			a->stop = true;
		if (fflush(stdout) == EOF && errno == EPIPE)
			a->stop = true; /* the reader went away */
	}
	/* what the kernel wrote before we stopped is still shown */
	if (!pipeline_done(a->pipeline)) {
		a->stop = false;
		for (int i = 0; i < FINAL_DRAIN_BATCHES && drain(a, rb); i++)
			;
		a->stop = true;
	}
out:
	if (tfd >= 0)
		close(tfd);
	if (sfd >= 0)
		close(sfd);
	if (ep >= 0)
		close(ep);
}

int run_live(const struct options *o)
{
	struct app a = { .o = o };
	struct tracer_config cfg = {
		.self = getpid(),
		.snaplen = o->snaplen,
		.pids = o->pids,
		.npids = o->npids,
		.ringbuf_bytes = RINGBUF_BYTES,
	};
	static const struct target_ops target_ops = { .attach = tracer_attach_file };
	struct ring_buffer *rb = NULL;
	struct demo *demo = NULL;
	char *cause = NULL;
	bool found;

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	output_init(&a.out, stdout, o->json, realtime_offset(), &a.libs);
	a.out.detail = o->detail;
	libbpf_set_print(o->verbose ? libbpf_verbose : libbpf_quiet);
	if (privs_check(&cause)) {
		fail(&a, RUN_CANNOT_TRACE, cause, "cannot trace");
		return a.status;
	}
	/* fork before the BPF objects exist: the child inherits nothing */
	if (o->demo && demo_start(&demo, &cause)) {
		fail(&a, RUN_CANNOT_TRACE, cause, "cannot start the demo workload");
		return a.status;
	}
	if (tracer_open(&a.tracer, &cfg, &cause)) {
		fail(&a, RUN_CANNOT_TRACE, cause, "cannot load the BPF programs");
		goto out;
	}
	a.capture = capture_new(&capture_ops, &a, &a.stats);
	a.pipeline = pipeline_new(o, &a.out);
	a.targets = targets_new("/proc", &target_ops, a.tracer, &a.libs, cfg.self);
	if (!a.capture || !a.pipeline || !a.targets) {
		fail(&a, RUN_CANNOT_TRACE, NULL, "out of memory");
		goto out;
	}
	targets_set_comm(a.targets, o->comm);
	targets_set_probe_method(a.targets, o->probe_method);
	scan_initial(&a, &found);
	if (o->list_targets) {
		output_targets(&a.out, a.targets);
		goto out;
	}
	if (!found && o->npids) {
		a.status = nothing_to_trace(&a);
		goto out;
	}
	if (o->write_path && rec_writer_open(&a.rec, o->write_path, a.out.realtime_offset_ns,
					     &cause)) {
		fail(&a, RUN_USAGE, cause, "cannot create the recording");
		goto out;
	}
	record_new_libs(&a);
	rb = ring_buffer__new(tracer_ringbuf_map_fd(a.tracer), on_ringbuf, &a, NULL);
	if (!rb) {
		fail(&a, RUN_CANNOT_TRACE, NULL, "cannot open the BPF ring buffer");
		goto out;
	}
	output_ready(&a.out, cfg.self, targets_count_files(a.targets, FILE_TARGET),
		     targets_probes(a.targets), "live");
	warn_no_mask(o);
	if (!found && o->comm)
		report(o->json, "warning",
		       "no process named %s uses a TLS library yet; waiting for one to start",
		       o->comm);
	if (demo) {
		report(o->json, "note", "demo workload: process %d (tlstop-demo), HTTPS on 127.0.0.1",
		       (int)demo_pid(demo));
		demo_go(demo);
	}
	event_loop(&a, rb, o->duration);
	capture_flush(a.capture, UINT64_MAX);
	finish(&a);
out:
	ring_buffer__free(rb);
	/* detach before anything else so the traced programs stop paying */
	tracer_close(a.tracer);
	demo_stop(demo);
	if (a.rec && rec_writer_close(a.rec, &cause))
		fail(&a, RUN_USAGE, cause, "cannot finish the recording");
	fflush(stdout);
	pipeline_free(a.pipeline);
	capture_free(a.capture);
	targets_free(a.targets);
	libs_clear(&a.libs);
	return a.status;
}

/* A replay runs faster than the capture did: periodic work follows the
 * recording's clock, at each counters snapshot it holds. */
static void replay_tick(struct app *a)
{
	pipeline_tick(a->pipeline, pipeline_clock(a->pipeline));
	print_stats(a);
}

static int replay_record(struct app *a, uint32_t type, const void *buf, uint32_t len)
{
	const struct rec_lib *r = buf;

	switch (type) {
	case REC_EVENT:
		capture_feed(a->capture, buf, len);
		break;
	case REC_LIB:
		if (len < sizeof(*r) || r->path_len != len - sizeof(*r) ||
		    libs_put(&a->libs, r, (const char *)(r + 1)))
			return -1;
		break;
	case REC_STATS:
		if (stats_decode(&a->stats, buf, len))
			return -1;
		capture_flush(a->capture, UINT64_MAX);
		replay_tick(a);
		break;
	}
	return 0;
}

int run_replay(const struct options *o)
{
	struct app a = { .o = o };
	struct rec_reader *r = NULL;
	const void *buf;
	char *cause = NULL;
	uint32_t type, len;
	int n = 0;

	signal(SIGPIPE, SIG_IGN);
	if (rec_reader_open(&r, o->read_path, &cause)) {
		fail(&a, RUN_USAGE, cause, "cannot open the recording");
		return a.status;
	}
	output_init(&a.out, stdout, o->json, rec_reader_realtime_offset(r), &a.libs);
	a.out.detail = o->detail;
	a.capture = capture_new(&capture_ops, &a, &a.stats);
	a.pipeline = pipeline_new(o, &a.out);
	if (!a.capture || !a.pipeline) {
		fail(&a, RUN_USAGE, NULL, "out of memory");
		goto out;
	}
	output_ready(&a.out, getpid(), 0, 0, "recording");
	warn_no_mask(o);
	while (!a.stop && (n = rec_read(r, &type, &buf, &len, &cause)) > 0) {
		if (replay_record(&a, type, buf, len)) {
			if (asprintf(&cause, "%s: malformed record of type %u", o->read_path,
				     type) < 0)
				cause = NULL;
			n = -1;
			break;
		}
	}
	if (n < 0)
		fail(&a, RUN_USAGE, cause, "cannot read the recording");
	capture_flush(a.capture, UINT64_MAX);
	finish(&a);
out:
	fflush(stdout);
	pipeline_free(a.pipeline);
	capture_free(a.capture);
	rec_reader_close(r);
	libs_clear(&a.libs);
	return a.status;
}
