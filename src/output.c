/* output.c - batch text and JSON Lines printers. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <langinfo.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "json.h"
#include "output.h"

#define TEXT_PREVIEW 96

void output_init(struct output *o, FILE *f, bool json, int64_t realtime_offset_ns,
		 const struct lib_table *libs)
{
	const char *cs = nl_langinfo(CODESET);

	o->f = f;
	o->json = json;
	o->utf8 = cs && !strcmp(cs, "UTF-8");
	o->realtime_offset_ns = realtime_offset_ns;
	o->libs = libs;
}

uint64_t output_wall_ns(const struct output *o, uint64_t mono_ns)
{
	return (uint64_t)((int64_t)mono_ns + o->realtime_offset_ns);
}

void output_format_ts(char *buf, size_t len, uint64_t ns, bool full)
{
	time_t sec = ns / 1000000000ULL;
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(buf, len, full ? "%Y-%m-%dT%H:%M:%S" : "%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%06" PRIu64 "%s", (uint64_t)(ns % 1000000000ULL / 1000),
		 full ? "Z" : "");
}

void output_json_ts(struct json_writer *w, const struct output *o, uint64_t mono_ns)
{
	char ts[48];

	output_format_ts(ts, sizeof(ts), output_wall_ns(o, mono_ns), true);
	json_key(w, "ts");
	json_string(w, ts);
}

static const char *family_name(uint16_t family)
{
	switch (family) {
	case AF_INET:
		return "ipv4";
	case AF_INET6:
		return "ipv6";
	case AF_UNIX:
		return "unix";
	}
	return NULL;
}

const char *output_role_name(uint16_t role)
{
	return role == TLSTOP_ROLE_CLIENT ? "client" : role == TLSTOP_ROLE_SERVER ? "server" : NULL;
}

/* "127.0.0.1:443" or "[::1]:443"; false when the record has no address */
bool output_endpoint(char *buf, size_t len, const struct tlstop_data *d, bool local)
{
	const struct tlstop_addr *a = &d->addr;
	const uint8_t *ip = local ? a->laddr : a->raddr;
	uint16_t port = local ? a->lport : a->rport;
	char host[INET6_ADDRSTRLEN];

	if (!(d->flags & TLSTOP_F_HAS_FD) || (a->family != AF_INET && a->family != AF_INET6))
		return false;
	inet_ntop(a->family, ip, host, sizeof(host));
	snprintf(buf, len, a->family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, port);
	return true;
}

void output_conn_id(char *buf, size_t len, const struct tlstop_data *d)
{
	if (d->flags & TLSTOP_F_HAS_FD)
		snprintf(buf, len, "fd:%u:%d", d->pid, d->fd);
	else
		snprintf(buf, len, "ssl:%u:0x%" PRIx64, d->pid, (uint64_t)d->ssl);
}

static const char *fd_source(const struct tlstop_data *d)
{
	if (!(d->flags & TLSTOP_F_HAS_FD))
		return "none";
	return d->flags & TLSTOP_F_FD_CACHED ? "cache" : "syscall";
}

static void json_endpoint(struct json_writer *w, const char *key, const struct tlstop_data *d,
			  bool local)
{
	char ep[INET6_ADDRSTRLEN + 16];

	json_key(w, key);
	if (output_endpoint(ep, sizeof(ep), d, local))
		json_string(w, ep);
	else
		json_null(w);
}

void output_json_str_or_null(struct json_writer *w, const char *key, const char *v)
{
	json_key(w, key);
	if (v)
		json_string(w, v);
	else
		json_null(w);
}

void output_json_bytes(struct json_writer *w, const char *text_key, const char *b64_key,
		       const uint8_t *p, size_t n)
{
	if (json_is_text(p, n)) {
		json_key(w, text_key);
		json_string_n(w, (const char *)p, n);
	} else {
		json_key(w, b64_key);
		json_base64(w, p, n);
	}
}

static const char *func_name(uint8_t func)
{
	return func < TLSTOP_FN_COUNT ? target_func_names[func] : "?";
}

/* The process, library and connection fields every record about a TLS
 * call or a message carries. */
void output_who_json(struct output *o, struct json_writer *w, const struct tlstop_data *d)
{
	const struct lib_info *lib = libs_get(o->libs, d->lib_id);
	char buf[64];

	json_key(w, "pid");
	json_u64(w, d->pid);
	json_key(w, "tid");
	json_u64(w, d->tid);
	json_key(w, "comm");
	json_string_n(w, d->comm, strnlen(d->comm, sizeof(d->comm)));
	output_json_str_or_null(w, "lib", lib ? lib_kind_name(lib->kind) : NULL);
	output_json_str_or_null(w, "lib_path", lib ? lib->path : NULL);
	output_json_str_or_null(w, "linking", lib_linking_name(lib));

	json_key(w, "conn");
	json_object_begin(w);
	output_conn_id(buf, sizeof(buf), d);
	json_key(w, "id");
	json_string(w, buf);
	json_key(w, "fd");
	if (d->flags & TLSTOP_F_HAS_FD)
		json_i64(w, d->fd);
	else
		json_null(w);
	snprintf(buf, sizeof(buf), "0x%" PRIx64, (uint64_t)d->ssl);
	json_key(w, "ssl");
	json_string(w, buf);
	json_key(w, "fd_source");
	json_string(w, fd_source(d));
	json_key(w, "fd_conflict");
	json_bool(w, d->flags & TLSTOP_F_FD_CONFLICT);
	output_json_str_or_null(w, "family",
			 d->flags & TLSTOP_F_HAS_FD ? family_name(d->addr.family) : NULL);
	json_endpoint(w, "src", d, true);
	json_endpoint(w, "dst", d, false);
	output_json_str_or_null(w, "role", d->flags & TLSTOP_F_HAS_FD ? output_role_name(d->addr.role) : NULL);
	json_object_end(w);
}

static void call_json(struct output *o, const struct tls_call *call)
{
	const struct tlstop_data *d = call->hdr;
	struct json_writer w;

	json_init(&w, o->f);
	json_object_begin(&w);
	json_key(&w, "type");
	json_string(&w, "tls");
	output_json_ts(&w, o, d->ts_ns);
	json_key(&w, "ts_ns");
	json_u64(&w, output_wall_ns(o, d->ts_ns));
	json_key(&w, "duration_us");
	json_double(&w, (double)(d->ts_ns - d->start_ns) / 1000.0, 1);
	output_who_json(o, &w, d);
	json_key(&w, "func");
	json_string(&w, func_name(d->func));
	json_key(&w, "dir");
	json_string(&w, d->dir == TLSTOP_DIR_IN ? "in" : "out");

	json_key(&w, "len");
	json_u64(&w, d->len);
	json_key(&w, "captured_len");
	json_u64(&w, call->data_len);
	json_key(&w, "truncated");
	json_bool(&w, d->flags & TLSTOP_F_TRUNCATED);
	json_key(&w, "lost");
	json_bool(&w, call->lost);
	/* a call the prefilter kept back whole has no data */
	output_json_bytes(&w, "data", "data_b64", call->data, call->data ? call->data_len : 0);
	json_object_end(&w);
}

void output_preview(FILE *f, const uint8_t *data, uint32_t len, uint32_t max)
{
	uint32_t n = len < max ? len : max;

	fputc('"', f);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t c = data[i];

		if (c == '\r')
			fputs("\\r", f);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			fputc(c, f);
		else
			fprintf(f, "\\x%02x", c);
	}
	fputc('"', f);
	if (n < len)
		fputs("...", f);
}

static void call_text(struct output *o, const struct tls_call *call)
{
	const struct tlstop_data *d = call->hdr;
	char ts[32], src[INET6_ADDRSTRLEN + 16], dst[INET6_ADDRSTRLEN + 16], id[64];
	const char *arrow = d->dir == TLSTOP_DIR_IN ? (o->utf8 ? "←" : "<") :
						      (o->utf8 ? "→" : ">");
	const char *role = output_role_name(d->addr.role);

	output_format_ts(ts, sizeof(ts), output_wall_ns(o, d->ts_ns), false);
	fprintf(o->f, "%s %u %.*s %s %s %uB ", ts, d->pid, TLSTOP_COMM_LEN, d->comm, arrow,
		func_name(d->func), d->len);
	if (output_endpoint(src, sizeof(src), d, true) &&
	    output_endpoint(dst, sizeof(dst), d, false)) {
		fprintf(o->f, "%s%s%s %s ", src, o->utf8 ? "→" : ">", dst, role ? role : "?");
	} else {
		output_conn_id(id, sizeof(id), d);
		fprintf(o->f, "%s ", id);
	}
	if (d->flags & TLSTOP_F_TRUNCATED)
		fprintf(o->f, "[captured %u of %u] ", call->data_len, d->len);
	if (call->lost)
		fputs("[records lost] ", o->f);
	output_preview(o->f, call->data, call->data ? call->data_len : 0, TEXT_PREVIEW);
	fputc('\n', o->f);
}

void output_call(struct output *o, const struct tls_call *call)
{
	if (o->json)
		call_json(o, call);
	else
		call_text(o, call);
}

void output_ready(struct output *o, pid_t self, unsigned int targets, unsigned int probes,
		  const char *source)
{
	struct timespec now;
	struct json_writer w;

	if (!o->json)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	json_init(&w, o->f);
	json_object_begin(&w);
	json_key(&w, "type");
	json_string(&w, "ready");
	output_json_ts(&w, o, (uint64_t)now.tv_sec * 1000000000ULL + now.tv_nsec);
	json_key(&w, "pid");
	json_u64(&w, self);
	json_key(&w, "targets");
	json_u64(&w, targets);
	json_key(&w, "probes");
	json_u64(&w, probes);
	json_key(&w, "source");
	json_string(&w, source);
	json_object_end(&w);
	fflush(o->f);
}

static uint64_t lost_total(const struct stats *s)
{
	return s->kernel.ringbuf_fail + s->kernel.map_fail + s->kernel.read_fail +
	       s->kernel.proc_lost + s->incomplete_calls;
}

static void stats_json(struct output *o, const struct stats *s, uint64_t now_ns)
{
	struct json_writer w;

	json_init(&w, o->f);
	json_object_begin(&w);
	json_key(&w, "type");
	json_string(&w, "stats");
	output_json_ts(&w, o, now_ns);
	json_key(&w, "calls");
	json_u64(&w, s->calls);
	json_key(&w, "bytes");
	json_u64(&w, s->bytes);
	json_key(&w, "captured_bytes");
	json_u64(&w, s->captured_bytes);
	json_key(&w, "delivered_bytes");
	json_u64(&w, s->delivered_bytes);
	json_key(&w, "truncated_calls");
	json_u64(&w, s->truncated_calls);
	json_key(&w, "lost");
	json_object_begin(&w);
	json_key(&w, "ringbuf_records");
	json_u64(&w, s->kernel.ringbuf_fail);
	json_key(&w, "ringbuf_bytes");
	json_u64(&w, s->kernel.ringbuf_fail_bytes);
	json_key(&w, "map_update");
	json_u64(&w, s->kernel.map_fail);
	json_key(&w, "read_user");
	json_u64(&w, s->kernel.read_fail);
	json_key(&w, "proc_events");
	json_u64(&w, s->kernel.proc_lost);
	json_key(&w, "incomplete_calls");
	json_u64(&w, s->incomplete_calls);
	json_key(&w, "bad_records");
	json_u64(&w, s->bad_records);
	json_object_end(&w);
	json_key(&w, "kernel_filter");
	json_object_begin(&w);
	json_key(&w, "calls");
	json_u64(&w, s->kfilter.calls);
	json_key(&w, "bytes");
	json_u64(&w, s->kfilter.bytes);
	json_key(&w, "streams");
	json_u64(&w, s->kfilter.streams);
	json_key(&w, "conns_sampled_out");
	json_u64(&w, s->kfilter.conns_sampled_out);
	json_key(&w, "path_unknown");
	json_u64(&w, s->kfilter.path_unknown);
	json_object_end(&w);
	json_key(&w, "decoder");
	json_object_begin(&w);
	json_key(&w, "messages");
	json_u64(&w, s->proto.messages);
	json_key(&w, "unknown_paths");
	json_u64(&w, s->proto.unknown_paths);
	json_key(&w, "unknown_headers");
	json_u64(&w, s->proto.unknown_headers);
	json_key(&w, "decode_errors");
	json_u64(&w, s->proto.decode_errors);
	json_key(&w, "gaps");
	json_u64(&w, s->proto.gaps);
	json_key(&w, "gap_bytes");
	json_u64(&w, s->proto.gap_bytes);
	json_key(&w, "resyncs");
	json_u64(&w, s->proto.resyncs);
	json_key(&w, "inflate_errors");
	json_u64(&w, s->proto.inflate_errors);
	json_key(&w, "connections");
	json_u64(&w, s->conns);
	json_object_end(&w);
	json_key(&w, "store");
	json_object_begin(&w);
	json_key(&w, "messages");
	json_u64(&w, s->store_msgs);
	json_key(&w, "bytes");
	json_u64(&w, s->store_mem);
	json_key(&w, "evicted_messages");
	json_u64(&w, s->evicted_msgs);
	json_key(&w, "evicted_bytes");
	json_u64(&w, s->evicted_bytes);
	json_object_end(&w);
	json_key(&w, "libs");
	json_array_begin(&w);
	for (uint32_t i = 0; i < s->nlibs; i++) {
		const struct lib_info *lib = libs_get(o->libs, i);
		const struct tlstop_lib_counters *c = &s->lib[i];

		json_object_begin(&w);
		output_json_str_or_null(&w, "path", lib ? lib->path : NULL);
		output_json_str_or_null(&w, "lib", lib ? lib_kind_name(lib->kind) : NULL);
		output_json_str_or_null(&w, "linking",
				 lib_linking_name(lib));
		json_key(&w, "calls");
		json_u64(&w, c->calls);
		json_key(&w, "bytes");
		json_u64(&w, c->bytes);
		json_key(&w, "fd_seen");
		json_u64(&w, c->fd_seen);
		json_key(&w, "fd_cached");
		json_u64(&w, c->fd_cached);
		json_key(&w, "no_fd");
		json_u64(&w, c->no_fd);
		json_key(&w, "fd_conflict");
		json_u64(&w, c->fd_conflict);
		json_object_end(&w);
	}
	json_array_end(&w);
	json_object_end(&w);
}

static void stats_text(struct output *o, const struct stats *s, uint64_t now_ns)
{
	char ts[32];

	output_format_ts(ts, sizeof(ts), output_wall_ns(o, now_ns), false);
	fprintf(o->f,
		"%s stats: %llu calls, %llu bytes, %llu truncated, lost %llu (ringbuf %llu, map %llu, read %llu, incomplete %llu)\n",
		ts, (unsigned long long)s->calls, (unsigned long long)s->bytes,
		(unsigned long long)s->truncated_calls, (unsigned long long)lost_total(s),
		(unsigned long long)s->kernel.ringbuf_fail, (unsigned long long)s->kernel.map_fail,
		(unsigned long long)s->kernel.read_fail, (unsigned long long)s->incomplete_calls);
	fprintf(o->f,
		"%s decoder: %llu messages, %llu unknown paths, %llu decode errors, %llu gaps (%llu B), %llu evicted\n",
		ts, (unsigned long long)s->proto.messages, (unsigned long long)s->proto.unknown_paths,
		(unsigned long long)s->proto.decode_errors, (unsigned long long)s->proto.gaps,
		(unsigned long long)s->proto.gap_bytes, (unsigned long long)s->evicted_msgs);
	/* not losses: what the filter could never match */
	if (s->kfilter.calls || s->kfilter.bytes || s->kfilter.conns_sampled_out)
		fprintf(o->f,
			"%s kernel filter: kept back %llu B (%llu whole calls), %llu requests, %llu connections sampled out\n",
			ts, (unsigned long long)s->kfilter.bytes, (unsigned long long)s->kfilter.calls,
			(unsigned long long)s->kfilter.streams,
			(unsigned long long)s->kfilter.conns_sampled_out);
	for (uint32_t i = 0; i < s->nlibs; i++) {
		const struct lib_info *lib = libs_get(o->libs, i);
		const struct tlstop_lib_counters *c = &s->lib[i];

		if (!c->calls)
			continue;
		fprintf(o->f, "  %s: %llu calls, fd seen %llu, cached %llu, none %llu, two fds %llu\n",
			lib ? lib->path : "?", (unsigned long long)c->calls,
			(unsigned long long)c->fd_seen, (unsigned long long)c->fd_cached,
			(unsigned long long)c->no_fd, (unsigned long long)c->fd_conflict);
	}
}

void output_stats(struct output *o, const struct stats *s, uint64_t now_ns)
{
	if (o->json)
		stats_json(o, s, now_ns);
	else
		stats_text(o, s, now_ns);
	fflush(o->f);
}

void output_exit(struct output *o, const struct tlstop_proc *p)
{
	struct json_writer w;

	if (!o->json)
		return;
	json_init(&w, o->f);
	json_object_begin(&w);
	json_key(&w, "type");
	json_string(&w, "exit");
	output_json_ts(&w, o, p->ts_ns);
	json_key(&w, "pid");
	json_u64(&w, p->pid);
	json_object_end(&w);
}

/* A probe point as an offset from its function: "+0x1e", or "-0x40" in a
 * body the function tail-jumps to */
static void site_offset(char *out, size_t outsz, uint64_t site, uint64_t func)
{
	snprintf(out, outsz, "%c0x%llx", site >= func ? '+' : '-',
		 (unsigned long long)(site >= func ? site - func : func - site));
}

/* "planned: call 0x355a0 at +0x1e, jle 0x359aa at +0x25", or why not */
static void plan_text(const struct target_file *tf, int fn, char *out, size_t outsz)
{
	const struct probe_plan *p = &tf->plan[fn];
	char enter[24], result[24];

	if (p->method != PROBE_PLANNED) {
		snprintf(out, outsz, "entry-return (%s): %s", p->reason,
			 p->enter_emulated ? "entry instruction emulated" :
					     "entry instruction single-stepped");
		return;
	}
	site_offset(enter, sizeof(enter), p->enter.vaddr, tf->vaddr[fn]);
	site_offset(result, sizeof(result), p->result.vaddr, tf->vaddr[fn]);
	snprintf(out, outsz, "planned: %s at %s, %s at %s", p->enter.insn, enter, p->result.insn,
		 result);
}

static void target_proc_text(const struct traced_proc *p, void *arg)
{
	FILE *f = arg;

	fprintf(f, "%-8d %-16s", p->pid, p->comm);
	if (p->problem) {
		fprintf(f, "not traced: %s\n", p->problem);
		return;
	}
	for (int i = 0; i < p->nfiles; i++) {
		const struct target_file *tf = p->files[i];

		fprintf(f, "%s%s", i ? "\n                          " : "", tf->path);
		if (tf->verdict != FILE_TARGET) {
			fprintf(f, " not traced: %s: %s", file_verdict_name(tf->verdict),
				tf->reason ? tf->reason : "");
			continue;
		}
		fprintf(f, " [%s, %s]", lib_kind_name(tf->lib->kind), lib_linking_name(tf->lib));
		for (int fn = 0; fn < TLSTOP_FN_COUNT; fn++) {
			char plan[320];

			if (!tf->has[fn])
				continue;
			plan_text(tf, fn, plan, sizeof(plan));
			fprintf(f, "\n                            %-13s 0x%-8" PRIx64 " %s",
				target_func_names[fn], tf->offset[fn], plan);
		}
	}
	fputc('\n', f);
}

static void probe_json(struct json_writer *w, const char *role, const struct probe_site *site,
		       uint64_t func_vaddr)
{
	json_object_begin(w);
	json_key(w, "role");
	json_string(w, role);
	json_key(w, "offset");
	json_i64(w, (int64_t)(site->vaddr - func_vaddr));
	json_key(w, "insn");
	json_string(w, site->insn);
	json_object_end(w);
}

static void plan_json(struct json_writer *w, const struct target_file *tf, int fn)
{
	const struct probe_plan *p = &tf->plan[fn];

	json_object_begin(w);
	json_key(w, "name");
	json_string(w, target_func_names[fn]);
	json_key(w, "file_offset");
	json_u64(w, tf->offset[fn]);
	json_key(w, "method");
	json_string(w, probe_method_name(p->method));
	json_key(w, "probes");
	json_array_begin(w);
	probe_json(w, p->method == PROBE_PLANNED ? "enter" : "entry", &p->enter, tf->vaddr[fn]);
	if (p->method == PROBE_PLANNED)
		probe_json(w, "result", &p->result, tf->vaddr[fn]);
	json_array_end(w);
	json_key(w, "entry_emulated");
	json_bool(w, p->enter_emulated);
	output_json_str_or_null(w, "reason", p->method == PROBE_PLANNED ? NULL : p->reason);
	json_object_end(w);
}

static void target_proc_json(const struct traced_proc *p, void *arg)
{
	struct json_writer w;

	json_init(&w, arg);
	json_object_begin(&w);
	json_key(&w, "type");
	json_string(&w, "target");
	json_key(&w, "pid");
	json_u64(&w, p->pid);
	json_key(&w, "comm");
	json_string(&w, p->comm);
	output_json_str_or_null(&w, "problem", p->problem);
	json_key(&w, "files");
	json_array_begin(&w);
	for (int i = 0; i < p->nfiles; i++) {
		const struct target_file *tf = p->files[i];

		json_object_begin(&w);
		json_key(&w, "path");
		json_string(&w, tf->path);
		json_key(&w, "status");
		json_string(&w, file_verdict_name(tf->verdict));
		output_json_str_or_null(&w, "reason", tf->reason);
		if (tf->verdict == FILE_TARGET) {
			json_key(&w, "lib");
			json_string(&w, lib_kind_name(tf->lib->kind));
			json_key(&w, "linking");
			json_string(&w, lib_linking_name(tf->lib));
			json_key(&w, "functions");
			json_array_begin(&w);
			for (int fn = 0; fn < TLSTOP_FN_COUNT; fn++)
				if (tf->has[fn])
					plan_json(&w, tf, fn);
			json_array_end(&w);
		}
		json_object_end(&w);
	}
	json_array_end(&w);
	json_object_end(&w);
}

void output_targets(struct output *o, struct targets *t)
{
	if (o->json) {
		targets_for_each_proc(t, target_proc_json, o->f);
		return;
	}
	fprintf(o->f, "%-8s %-16s%s\n", "PID", "COMM", "TLS LIBRARY FILE");
	targets_for_each_proc(t, target_proc_text, o->f);
	fprintf(o->f,
		"\n%u files traced (%u uprobes), %u failed to attach, %u stripped, %u processes without a TLS library\n",
		targets_count_files(t, FILE_TARGET), targets_probes(t),
		targets_count_files(t, FILE_ATTACH_FAILED), targets_count_files(t, FILE_STRIPPED),
		targets_untraced(t));
}

void report(bool json, const char *level, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (json) {
		struct json_writer w;

		json_init(&w, stderr);
		json_object_begin(&w);
		json_key(&w, "type");
		json_string(&w, level);
		json_key(&w, "message");
		json_string(&w, msg);
		json_object_end(&w);
	} else {
		bool plain = !strcmp(level, "error");

		fprintf(stderr, "tlstop: %s%s%s\n", plain ? "" : level, plain ? "" : ": ", msg);
	}
	free(msg);
}
