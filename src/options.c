/* options.c - command-line parsing, with --help generated from the same
 * table getopt_long reads. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "options.h"

enum {
	OPT_JSON = 256,
	OPT_DURATION,
	OPT_SNAPLEN,
	OPT_LIST_TARGETS,
	OPT_DEMO,
	OPT_PROBE_METHOD,
	OPT_RAW,
	OPT_NO_MASK,
	OPT_DETAIL,
	OPT_STATS,
	OPT_BUDGET,
	OPT_CONN_BUDGET,
	OPT_BODY_MAX,
	OPT_TUI,
	OPT_MOUSE,
	OPT_SPEED,
	OPT_SAMPLE,
	OPT_EXPLAIN,
};

struct option_entry {
	const char *name;
	int val;
	const char *arg; /* NULL: takes no argument; "[=X]": optional */
	const char *help;
};

static const struct option_entry entries[] = {
	{ "batch", 'b', NULL, "print one line per decoded message instead of the interactive view" },
	{ "tui", OPT_TUI, NULL, "use the interactive view even when stdout is not a terminal" },
	{ "filter", 'f', "EXPR",
	  "show only messages matching EXPR (also a trailing argument; see FILTERS in tlstop(8))" },
	{ "json", OPT_JSON, NULL, "print JSON Lines (doc/json.md); implies --batch" },
	{ "raw", OPT_RAW, NULL,
	  "print one record per TLS call (the captured plaintext) instead of decoded messages" },
	{ "detail", OPT_DETAIL, "N",
	  "text output: 0 counters only, 1 one line per message (default), 2 and headers, 3 and bodies" },
	{ "stats", OPT_STATS, "[=methods]",
	  "print the per-method table (calls/s, errors, p50/p99 latency) every --delay seconds instead of messages" },
	{ "no-mask", OPT_NO_MASK, NULL,
	  "show authorization, cookie and API-key header values in clear (masked by default)" },
	{ "explain", OPT_EXPLAIN, NULL,
	  "print what the filter leaves to the kernel and what stays in userspace, and exit" },
	{ "sample", OPT_SAMPLE, "N",
	  "keep one connection in N, chosen at random in the kernel (whole connections)" },
	{ "pid", 'p', "PID[,PID...]", "trace only these processes" },
	{ "comm", 'c', "NAME", "trace only processes with this command name" },
	{ "count", 'n', "N", "stop after N messages (TLS calls with --raw)" },
	{ "duration", OPT_DURATION, "SEC", "stop after SEC seconds" },
	{ "delay", 'd', "SEC", "seconds between statistics records (default 1)" },
	{ "snaplen", OPT_SNAPLEN, "BYTES",
	  "bytes captured per TLS call (default 65536, at most 1048576); longer calls are marked truncated" },
	{ "list-targets", OPT_LIST_TARGETS, NULL,
	  "list traced processes, their TLS library files and symbols, and why others are not traced" },
	{ "probe-method", OPT_PROBE_METHOD, "METHOD",
	  "auto (default: probes on instructions the kernel emulates where the code is understood) or entry-return" },
	{ "body-max", OPT_BODY_MAX, "BYTES", "body bytes kept per message (default 65536)" },
	{ "budget", OPT_BUDGET, "BYTES",
	  "memory for retained messages, all connections (default 256M; suffixes K, M, G)" },
	{ "conn-budget", OPT_CONN_BUDGET, "BYTES",
	  "memory for retained messages per connection (default 4M)" },
	{ "no-color", 'C', NULL, "monochrome screen (also NO_COLOR, TERM=dumb)" },
	{ "no-unicode", 'U', NULL, "ASCII tree lines and arrows (automatic without a UTF-8 locale)" },
	{ "mouse", OPT_MOUSE, NULL, "wheel scroll, click to select, double-click to drill down" },
	{ "speed", OPT_SPEED, "X",
	  "replay at X times the recorded pace (default: 1 in the view, as fast as possible in batch)" },
	{ "write", 'w', "FILE", "also record the raw capture to FILE (mode 0600)" },
	{ "read", 'r', "FILE", "replay a recording instead of tracing (no root needed)" },
	{ "demo", OPT_DEMO, NULL, "start a built-in loopback HTTPS client and server to watch" },
	{ "verbose", 'v', NULL, "show libbpf's diagnostics" },
	{ "version", 'V', NULL, "print the version and exit" },
	{ "help", 'h', NULL, "print this help and exit" },
};
#define NENTRIES (sizeof(entries) / sizeof(entries[0]))

static void usage(FILE *f)
{
	fprintf(f, "Usage: tlstop [OPTION]...\n"
		   "Show the decrypted TLS traffic of the processes on this node.\n\n");
	for (size_t i = 0; i < NENTRIES; i++) {
		char left[64];

		const char *arg = entries[i].arg ? entries[i].arg : "";
		const char *sep = entries[i].arg && arg[0] != '[' ? " " : "";

		if (entries[i].val < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", entries[i].val,
				 entries[i].name, sep, arg);
		else
			snprintf(left, sizeof(left), "    --%s%s%s", entries[i].name, sep, arg);
		fprintf(f, "  %-28s %s\n", left, entries[i].help);
	}
	fprintf(f, "\nExit status: 0 ok, 1 usage error, 2 cannot trace (privileges, BTF, BPF),\n"
		   "3 nothing to trace for --pid/--comm.\n");
}

static int parse_u64(const char *s, uint64_t max, uint64_t *v)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || n > max)
		return -1;
	*v = n;
	return 0;
}

/* "64K", "4M", "1G" or plain bytes */
static int parse_bytes(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long n;
	int shift = 0;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return -1;
	if (*end && end[1] == '\0')
		shift = *end == 'K' || *end == 'k' ? 10 : *end == 'M' || *end == 'm' ? 20 :
			*end == 'G' || *end == 'g' ? 30 : -1;
	else if (*end)
		shift = -1;
	if (shift < 0 || n > (UINT64_MAX >> shift))
		return -1;
	*v = (uint64_t)n << shift;
	return 0;
}

static int parse_seconds(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return errno || end == s || *end || *v < 0 || *v > 1e7 ? -1 : 0;
}

static int parse_pids(struct options *o, const char *list)
{
	char *copy = strdup(list), *tok, *save = NULL;
	int err = 0;

	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		pid_t *grown;
		uint64_t pid;

		if (parse_u64(tok, INT_MAX, &pid) || pid == 0 || o->npids >= TLSTOP_MAX_PIDS) {
			err = -1;
			break;
		}
		grown = realloc(o->pids, (o->npids + 1) * sizeof(*grown));
		if (!grown) {
			err = -1;
			break;
		}
		o->pids = grown;
		o->pids[o->npids++] = (pid_t)pid;
	}
	free(copy);
	return o->npids ? err : -1;
}

static int bad_value(char **cause, const char *opt, const char *arg, const char *want)
{
	if (asprintf(cause, "invalid value '%s' for --%s: expected %s", arg, opt, want) < 0)
		*cause = NULL;
	return -1;
}

static int apply(struct options *o, const struct option_entry *e, const char *arg, FILE *out,
		 char **cause)
{
	uint64_t v;

	switch (e->val) {
	case 'b':
		o->batch = true;
		break;
	case OPT_JSON:
		o->json = o->batch = true;
		break;
	case OPT_PROBE_METHOD: {
		int m = probe_method_parse(arg);

		if (m < 0)
			return bad_value(cause, e->name, arg, "auto or entry-return");
		o->probe_method = m;
		break;
	}
	case 'p':
		if (parse_pids(o, arg))
			return bad_value(cause, e->name, arg, "a comma-separated list of pids");
		break;
	case 'c':
		if (strlen(arg) >= TLSTOP_COMM_LEN)
			return bad_value(cause, e->name, arg,
					 "a command name of at most 15 characters, as in /proc/PID/comm");
		free(o->comm);
		o->comm = strdup(arg);
		break;
	case 'n':
		if (parse_u64(arg, UINT64_MAX, &v) || v == 0)
			return bad_value(cause, e->name, arg, "a positive number");
		o->count = v;
		break;
	case OPT_DURATION:
		if (parse_seconds(arg, &o->duration) || o->duration == 0)
			return bad_value(cause, e->name, arg, "a positive number of seconds");
		break;
	case 'd':
		if (parse_seconds(arg, &o->delay) || o->delay < 0.05)
			return bad_value(cause, e->name, arg, "seconds, at least 0.05");
		break;
	case OPT_SNAPLEN:
		if (parse_u64(arg, TLSTOP_SNAPLEN_MAX, &v) || v == 0)
			return bad_value(cause, e->name, arg, "bytes, 1 to 1048576");
		o->snaplen = v;
		break;
	case OPT_LIST_TARGETS:
		o->list_targets = true;
		break;
	case OPT_RAW:
		o->raw = true;
		break;
	case OPT_NO_MASK:
		o->no_mask = true;
		break;
	case OPT_DETAIL:
		if (parse_u64(arg, 3, &v))
			return bad_value(cause, e->name, arg, "0, 1, 2 or 3");
		o->detail = (int)v;
		break;
	case OPT_STATS:
		if (arg && strcmp(arg, "methods"))
			return bad_value(cause, e->name, arg, "methods");
		o->stats = o->batch = true;
		break;
	case OPT_BODY_MAX:
		if (parse_bytes(arg, &v) || v > (64u << 20))
			return bad_value(cause, e->name, arg, "bytes, at most 64M");
		o->body_max = (uint32_t)v;
		break;
	case OPT_BUDGET:
	case OPT_CONN_BUDGET:
		if (parse_bytes(arg, &v) || v < (64u << 10))
			return bad_value(cause, e->name, arg, "bytes, at least 64K (suffixes K, M, G)");
		*(e->val == OPT_BUDGET ? &o->budget : &o->conn_budget) = v;
		break;
	case 'w':
		free(o->write_path);
		o->write_path = strdup(arg);
		break;
	case 'r':
		free(o->read_path);
		o->read_path = strdup(arg);
		break;
	case OPT_DEMO:
		o->demo = true;
		break;
	case OPT_TUI:
		o->tui = true;
		break;
	case 'f':
		free(o->filter);
		o->filter = strdup(arg);
		break;
	case 'C':
		o->no_color = true;
		break;
	case 'U':
		o->no_unicode = true;
		break;
	case OPT_MOUSE:
		o->mouse = true;
		break;
	case OPT_EXPLAIN:
		o->explain = true;
		break;
	case OPT_SAMPLE: {
		char *end;
		unsigned long n = strtoul(arg, &end, 10);

		if (end == arg || *end || n < 1 || n > 1000000)
			return bad_value(cause, e->name, arg, "a whole number from 1 to 1000000");
		o->sample = n;
		break;
	}
	case OPT_SPEED:
		if (parse_seconds(arg, &o->speed) || o->speed == 0)
			return bad_value(cause, e->name, arg, "a positive factor, such as 1, 10 or 0.5");
		break;
	case 'v':
		o->verbose = true;
		break;
	case 'V':
		fprintf(out, "tlstop %s (libbpf %s)\nlibraries: OpenSSL 1.1/3.x, BoringSSL\n",
			PACKAGE_VERSION, libbpf_version_string());
		return 1;
	case 'h':
		usage(out);
		return 1;
	}
	return 0;
}

static int join_args(char **out, char **args, int n)
{
	size_t len = 1;
	char *p;

	for (int i = 0; i < n; i++)
		len += strlen(args[i]) + 1;
	p = *out = malloc(len);
	if (!p)
		return -1;
	for (int i = 0; i < n; i++)
		p += sprintf(p, "%s%s", i ? " " : "", args[i]);
	return 0;
}

enum options_result options_parse(struct options *o, int argc, char **argv, FILE *out,
				  char **cause)
{
	struct option longopts[NENTRIES + 1];
	char shortopts[2 * NENTRIES + 1], *s = shortopts;
	int c, idx, r;

	memset(o, 0, sizeof(*o));
	o->delay = 1.0;
	o->snaplen = TLSTOP_SNAPLEN_DEFAULT;
	o->detail = 1;
	o->body_max = 64u << 10;
	o->budget = 256ull << 20;
	o->conn_budget = 4ull << 20;
	for (size_t i = 0; i < NENTRIES; i++) {
		int has_arg = !entries[i].arg	       ? no_argument :
			      entries[i].arg[0] == '[' ? optional_argument :
							 required_argument;

		longopts[i] = (struct option){ entries[i].name, has_arg, NULL, entries[i].val };
		if (entries[i].val < 256) {
			*s++ = (char)entries[i].val;
			if (entries[i].arg)
				*s++ = ':';
		}
	}
	*s = '\0';
	memset(&longopts[NENTRIES], 0, sizeof(longopts[0]));

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, &idx)) != -1) {
		const struct option_entry *e = NULL;

		for (size_t i = 0; i < NENTRIES; i++)
			if (entries[i].val == c)
				e = &entries[i];
		if (!e) {
			if (asprintf(cause, "unknown or incomplete option '%s'; see tlstop --help",
				     argv[optind - 1]) < 0)
				*cause = NULL;
			return OPTIONS_ERROR;
		}
		r = apply(o, e, optarg, out, cause);
		if (r)
			return r > 0 ? OPTIONS_EXIT : OPTIONS_ERROR;
	}
	if (optind < argc) {
		/* a trailing FILTER, as csysdig and mitmdump take it; words are
		 * joined so that an unquoted 'status >= 500' works too */
		if (o->filter) {
			if (asprintf(cause, "a filter was given twice (-f and '%s'): give one", argv[optind]) < 0)
				*cause = NULL;
			return OPTIONS_ERROR;
		}
		if (join_args(&o->filter, argv + optind, argc - optind))
			return OPTIONS_ERROR;
	}
	if (o->tui && (o->batch || o->list_targets)) {
		if (asprintf(cause, "--tui cannot be combined with --batch, --json, --stats or --list-targets") < 0)
			*cause = NULL;
		return OPTIONS_ERROR;
	}
	if (o->raw && o->stats) {
		if (asprintf(cause, "--raw prints TLS calls and --stats per-method tables: choose one") < 0)
			*cause = NULL;
		return OPTIONS_ERROR;
	}
	if (o->read_path && (o->write_path || o->demo || o->list_targets)) {
		if (asprintf(cause, "--read replays a recording: it cannot be combined with --write, --demo or --list-targets") < 0)
			*cause = NULL;
		return OPTIONS_ERROR;
	}
	return OPTIONS_RUN;
}

void options_free(struct options *o)
{
	free(o->pids);
	free(o->comm);
	free(o->write_path);
	free(o->read_path);
	free(o->filter);
}
