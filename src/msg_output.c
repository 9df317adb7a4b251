/* msg_output.c - decoded messages in batch text (one line, then headers and
 * bodies by --detail) and as JSON Lines records (doc/json.md). */
#include <inttypes.h>
#include <string.h>

#include "json.h"
#include "message.h"
#include "methods.h"
#include "output.h"
#include "proto/grpc.h"
#include "proto/protobuf.h"
#include "strbuf.h"

#define DETAIL_BODY_MAX 4096 /* body bytes shown at --detail 3 */

static const char *dir_name(const struct message *m)
{
	bool from_client = m->kind == MSG_REQUEST;

	/* resets and goaways come from either side: name it by who sent it
	 * relative to the traced process's role when known */
	if (m->kind == MSG_RESET || m->kind == MSG_GOAWAY) {
		uint16_t role = m->who.flags & TLSTOP_F_HAS_FD ? m->who.addr.role : 0;

		if (role == TLSTOP_ROLE_CLIENT)
			from_client = m->out;
		else if (role == TLSTOP_ROLE_SERVER)
			from_client = !m->out;
		else
			return NULL;
	}
	return from_client ? "req" : "resp";
}

static void json_opt_u64(struct json_writer *w, const char *key, bool present, uint64_t v)
{
	json_key(w, key);
	if (present)
		json_u64(w, v);
	else
		json_null(w);
}

static void json_headers(struct json_writer *w, const struct message *m, bool trailers)
{
	json_key(w, trailers ? "trailers" : "headers");
	json_array_begin(w);
	for (uint32_t i = 0; i < m->nheaders; i++) {
		const struct msg_header *h = &m->headers[i];

		if (!(h->flags & MSG_HDR_TRAILER) != !trailers)
			continue;
		json_array_begin(w);
		if (h->name)
			json_string(w, h->name);
		else
			json_null(w);
		if (h->value)
			json_string(w, h->value);
		else
			json_null(w);
		json_array_end(w);
	}
	json_array_end(w);
}

static void json_grpc(struct json_writer *w, const struct message *m)
{
	struct strbuf pb = { 0 };

	json_key(w, "grpc_messages");
	json_array_begin(w);
	for (uint32_t i = 0; i < m->ngrpc; i++) {
		const struct grpc_msg *g = &m->grpc[i];
		bool plain = !g->compressed || g->inflated;

		json_object_begin(w);
		json_key(w, "len");
		json_u64(w, g->len);
		json_key(w, "compressed");
		json_bool(w, g->compressed);
		json_key(w, "incomplete");
		json_bool(w, g->incomplete || g->data_len < g->full_len);
		sb_truncate(&pb, 0);
		json_key(w, "protobuf");
		if (plain && g->data_len == g->full_len &&
		    !protobuf_render(g->data, g->data_len, 0, &pb))
			json_string(w, sb_str(&pb));
		else
			json_null(w);
		output_json_bytes(w, "data", "data_b64", g->data, g->data_len);
		json_object_end(w);
	}
	json_array_end(w);
	json_key(w, "grpc_total");
	json_u64(w, m->grpc_total);
	sb_free(&pb);
}

static void message_json(struct output *o, const struct message *m)
{
	bool response = m->kind == MSG_RESPONSE || m->kind == MSG_RESET;
	const char *dir = dir_name(m);
	struct json_writer w;

	json_init(&w, o->f);
	json_object_begin(&w);
	json_key(&w, "type");
	json_string(&w, "message");
	output_json_ts(&w, o, m->end_ns);
	json_key(&w, "ts_ns");
	json_u64(&w, output_wall_ns(o, m->end_ns));
	json_key(&w, "start_ts_ns");
	json_u64(&w, output_wall_ns(o, m->start_ns));
	json_key(&w, "id");
	json_u64(&w, m->id);
	json_opt_u64(&w, "pair_id", m->pair_id, m->pair_id);
	json_key(&w, "kind");
	json_string(&w, msg_kind_name(m->kind));
	output_json_str_or_null(&w, "dir", dir);
	json_key(&w, "io");
	json_string(&w, m->out ? "out" : "in");
	json_key(&w, "proto");
	json_string(&w, msg_proto_name(m->proto));
	output_who_json(o, &w, &m->who);
	json_opt_u64(&w, "stream", m->proto != MSG_H1, m->stream);
	output_json_str_or_null(&w, "method", m->method);
	output_json_str_or_null(&w, "path", m->path);
	json_key(&w, "path_unknown");
	json_bool(&w, m->flags & MSG_F_PATH_UNKNOWN);
	output_json_str_or_null(&w, "authority", m->authority);
	output_json_str_or_null(&w, "scheme", m->scheme);
	json_opt_u64(&w, "status", m->status >= 0, (uint64_t)m->status);
	json_opt_u64(&w, "grpc_status", m->grpc_status >= 0, (uint64_t)m->grpc_status);
	output_json_str_or_null(&w, "grpc_status_name",
				m->grpc_status >= 0 ? grpc_status_name(m->grpc_status) : NULL);
	output_json_str_or_null(&w, "grpc_message", m->grpc_message);
	if (m->kind == MSG_RESET || m->kind == MSG_GOAWAY || (m->flags & MSG_F_RESET)) {
		const char *name = msg_h2_error_name(m->error_code);
		char num[16];

		snprintf(num, sizeof(num), "0x%x", m->error_code);
		json_key(&w, "error_code");
		json_string(&w, name ? name : num);
	}
	if (m->kind == MSG_GOAWAY) {
		json_key(&w, "last_stream");
		json_u64(&w, m->last_stream);
	}
	json_key(&w, "latency_ms");
	if (response && m->latency_ns)
		json_double(&w, (double)m->latency_ns / 1e6, 3);
	else
		json_null(&w);
	json_headers(&w, m, false);
	json_headers(&w, m, true);
	json_key(&w, "len");
	json_u64(&w, m->body_len);
	json_key(&w, "captured_len");
	json_u64(&w, m->body_captured);
	json_key(&w, "truncated");
	json_bool(&w, m->flags & (MSG_F_BODY_CUT | MSG_F_GAP));
	json_key(&w, "gap");
	json_bool(&w, m->flags & MSG_F_GAP);
	json_key(&w, "incomplete");
	json_bool(&w, m->flags & MSG_F_INCOMPLETE);
	json_key(&w, "partial");
	json_bool(&w, m->flags & MSG_F_PARTIAL);
	json_key(&w, "part");
	json_u64(&w, m->part);
	if (m->proto == MSG_GRPC)
		json_grpc(&w, m);
	else
		output_json_bytes(&w, "body", "body_b64", m->body, m->body_captured);
	json_object_end(&w);
}

/* "200 12.3ms", "grpc 13 UNAVAILABLE 83.9ms", "RST CANCEL", "POST" */
static void text_summary(FILE *f, const struct message *m)
{
	const char *err = msg_h2_error_name(m->error_code);

	switch (m->kind) {
	case MSG_REQUEST:
		fprintf(f, "%s", m->method ? m->method : "?");
		break;
	case MSG_RESPONSE:
		if (m->status >= 0)
			fprintf(f, "%d", m->status);
		else
			fputs("-", f);
		if (m->grpc_status >= 0)
			fprintf(f, " grpc %d %s", m->grpc_status,
				grpc_status_name(m->grpc_status) ? grpc_status_name(m->grpc_status) :
								   "");
		break;
	case MSG_RESET:
		fprintf(f, "RST_STREAM %s", err ? err : "?");
		break;
	case MSG_GOAWAY:
		fprintf(f, "GOAWAY %s last %u", err ? err : "?", m->last_stream);
		break;
	}
	if ((m->kind == MSG_RESPONSE || m->kind == MSG_RESET) && m->latency_ns)
		fprintf(f, " %.1fms", (double)m->latency_ns / 1e6);
}

static void text_flags(FILE *f, const struct message *m)
{
	static const struct {
		uint32_t flag;
		const char *label;
	} labels[] = {
		{ MSG_F_GAP, "gap" },	       { MSG_F_INCOMPLETE, "incomplete" },
		{ MSG_F_RESET, "reset" },      { MSG_F_PARTIAL, "partial" },
		{ MSG_F_BODY_CUT, "body cut" }, { MSG_F_DECODE_ERROR, "decode error" },
	};

	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (m->flags & labels[i].flag)
			fprintf(f, " [%s]", labels[i].label);
}

static void text_headers(FILE *f, const struct message *m)
{
	for (uint32_t i = 0; i < m->nheaders; i++) {
		const struct msg_header *h = &m->headers[i];

		fprintf(f, "    %s%s: %s\n", h->flags & MSG_HDR_TRAILER ? "(trailer) " : "",
			h->name ? h->name : "(unknown)", h->value ? h->value : "(unknown)");
	}
}

static void text_body(struct output *o, const struct message *m)
{
	struct strbuf pb = { 0 };

	if (m->proto != MSG_GRPC) {
		if (!m->body_captured)
			return;
		fputs("    body ", o->f);
		output_preview(o->f, m->body, m->body_captured, DETAIL_BODY_MAX);
		fputc('\n', o->f);
		return;
	}
	for (uint32_t i = 0; i < m->ngrpc; i++) {
		const struct grpc_msg *g = &m->grpc[i];

		sb_truncate(&pb, 0);
		fprintf(o->f, "    grpc message %u: %u B%s\n", i + 1, g->len,
			g->compressed ? (g->inflated ? " (inflated)" : " (compressed)") : "");
		if ((!g->compressed || g->inflated) && g->data_len == g->full_len &&
		    !protobuf_render(g->data, g->data_len, 0, &pb)) {
			fprintf(o->f, "      %s\n", sb_str(&pb));
		} else {
			fputs("      ", o->f);
			output_preview(o->f, g->data, g->data_len, DETAIL_BODY_MAX);
			fputc('\n', o->f);
		}
	}
	sb_free(&pb);
}

/* One line, the core under 80 columns and the path last (UX B.9):
 * 12:03:04.202042 4312 api-server ← grpc 10.0.9.2:443 200 grpc 13 INTERNAL 83.9ms /p.S/M */
static void message_text(struct output *o, const struct message *m)
{
	const struct tlstop_data *d = &m->who;
	char ts[32], peer[64];
	bool utf8 = o->utf8;

	if (o->detail < 1)
		return;
	output_format_ts(ts, sizeof(ts), output_wall_ns(o, m->end_ns), false);
	if (!output_endpoint(peer, sizeof(peer), d, false))
		output_conn_id(peer, sizeof(peer), d);
	fprintf(o->f, "%s %u %.*s %s %s %s ", ts, d->pid, TLSTOP_COMM_LEN, d->comm,
		m->out ? (utf8 ? "→" : ">") : (utf8 ? "←" : "<"), msg_proto_name(m->proto), peer);
	if (m->proto != MSG_H1)
		fprintf(o->f, "#%u ", m->stream);
	text_summary(o->f, m);
	text_flags(o->f, m);
	if (m->kind != MSG_GOAWAY)
		fprintf(o->f, " %s", m->path ? m->path :
				     m->flags & MSG_F_PATH_UNKNOWN ? "(path unknown)" : "-");
	fputc('\n', o->f);
	if (o->detail >= 2)
		text_headers(o->f, m);
	if (o->detail >= 3)
		text_body(o, m);
}

void output_message(struct output *o, const struct message *m)
{
	if (o->json)
		message_json(o, m);
	else
		message_text(o, m);
}

static void json_ms(struct json_writer *w, const char *key, double ms)
{
	json_key(w, key);
	if (ms < 0)
		json_null(w);
	else
		json_double(w, ms, 3);
}

static void methods_json(struct output *o, const struct methods_snap *snap, uint64_t now_ns)
{
	struct json_writer w;

	json_init(&w, o->f);
	json_object_begin(&w);
	json_key(&w, "type");
	json_string(&w, "methods");
	output_json_ts(&w, o, now_ns);
	json_key(&w, "window_s");
	json_double(&w, snap->window_s, 1);
	json_key(&w, "methods");
	json_array_begin(&w);
	for (size_t i = 0; i < snap->n; i++) {
		const struct methods_row *r = &snap->rows[i];

		json_object_begin(&w);
		json_key(&w, "key");
		json_string(&w, r->key);
		json_key(&w, "service");
		json_string(&w, r->service);
		json_key(&w, "method");
		json_string(&w, r->method);
		json_key(&w, "calls");
		json_u64(&w, r->calls);
		json_key(&w, "calls_per_s");
		json_double(&w, r->calls_per_s, 2);
		json_key(&w, "errors");
		json_u64(&w, r->errors);
		json_key(&w, "error_pct");
		json_double(&w, r->error_pct, 1);
		json_ms(&w, "p50_ms", r->p50_ms);
		json_ms(&w, "p99_ms", r->p99_ms);
		json_ms(&w, "max_ms", r->max_ms);
		json_key(&w, "bytes");
		json_u64(&w, r->bytes);
		json_key(&w, "bytes_per_s");
		json_double(&w, r->bytes_per_s, 1);
		json_key(&w, "conns");
		json_u64(&w, r->conns);
		json_key(&w, "pids");
		json_u64(&w, r->pids);
		json_object_end(&w);
	}
	json_array_end(&w);
	json_object_end(&w);
}

static void text_ms(FILE *f, double ms)
{
	if (ms < 0)
		fprintf(f, " %8s", "-");
	else
		fprintf(f, " %8.1f", ms);
}

/* A block per tick, like top -b: a timestamped title, then the table with
 * the method last so long names do not break the columns. */
static void methods_text(struct output *o, const struct methods_snap *snap, uint64_t now_ns)
{
	char ts[32];

	output_format_ts(ts, sizeof(ts), output_wall_ns(o, now_ns), false);
	fprintf(o->f, "%s methods over %.0f s\n", ts, snap->window_s);
	fprintf(o->f, "%8s %6s %6s %8s %8s %8s %10s %5s  %s\n", "CALLS/s", "ERR", "ERR%", "P50ms",
		"P99ms", "MAXms", "BYTES/s", "CONNS", "METHOD");
	for (size_t i = 0; i < snap->n; i++) {
		const struct methods_row *r = &snap->rows[i];

		fprintf(o->f, "%8.1f %6llu %6.1f", r->calls_per_s, (unsigned long long)r->errors,
			r->error_pct);
		text_ms(o->f, r->p50_ms);
		text_ms(o->f, r->p99_ms);
		text_ms(o->f, r->max_ms);
		fprintf(o->f, " %10.0f %4u%s  %s\n", r->bytes_per_s, r->conns,
			r->conns >= METHODS_DISTINCT_MAX ? "+" : " ", r->key);
	}
	fputc('\n', o->f);
}

void output_methods(struct output *o, const struct methods_snap *snap, uint64_t now_ns)
{
	if (o->json)
		methods_json(o, snap, now_ns);
	else
		methods_text(o, snap, now_ns);
	fflush(o->f);
}
