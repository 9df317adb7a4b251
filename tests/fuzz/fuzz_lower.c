/* fuzz_lower.c - libFuzzer target for lowering filters to kernel rules. The
 * input is a regex, a NUL byte and a subject. Whenever PCRE2 matches a
 * subject with the regex, compiled as the filter `path ~ 'regex'`, the
 * subject must begin with one of the lowered path prefixes; and whenever
 * the regex part read as a whole expression matches a message built from
 * the subject, the message must pass every lowered rule. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "filter_int.h"
#include "lower.h"

static struct kf_rules rules;

static bool begins_with_prefix(const struct kf_rules *r, const char *s, size_t n)
{
	for (uint32_t i = 0; i < r->nprefixes; i++)
		if (n >= r->prefixes[i].len && !memcmp(s, r->prefixes[i].s, r->prefixes[i].len))
			return true;
	return false;
}

/* Sorted, within the caps, no prefix beginning another. */
static void check_rules(const struct kf_rules *r)
{
	if (r->npids > TLSTOP_KF_MAX_PIDS || r->ncomms > TLSTOP_KF_MAX_COMMS ||
	    r->nprefixes > TLSTOP_KF_MAX_PREFIXES || (!r->paths_set && r->nprefixes))
		__builtin_trap();
	for (uint32_t i = 0; i < r->nprefixes; i++) {
		const struct kf_prefix *p = &r->prefixes[i];

		if (!p->len || p->len > TLSTOP_KF_PATH_MAX)
			__builtin_trap();
		/* zero after len: sorted by the whole array once none begins another */
		if (i && memcmp(r->prefixes[i - 1].s, p->s, TLSTOP_KF_PATH_MAX) >= 0)
			__builtin_trap();
		if (i && p->len >= p[-1].len && !memcmp(p->s, p[-1].s, p[-1].len))
			__builtin_trap();
	}
	for (uint32_t i = 1; i < r->npids; i++)
		if (r->pids[i - 1] >= r->pids[i])
			__builtin_trap();
}

static void explain(const struct filter *f, const struct kf_rules *r)
{
	struct strbuf sb = { 0 };

	filter_explain(f, r, 3, false, &sb);
	filter_explain(f, r, 1, true, &sb);
	if (!sb.s || sb.s[sb.len - 1] != '\n')
		__builtin_trap();
	sb_free(&sb);
}

/* The subject as given, and the regex's own bytes without its
 * metacharacters: a literal-heavy regex often matches those. */
static void check_regex(const char *re, size_t rlen, const char *subj, size_t slen)
{
	pcre2_match_data *md;
	struct strbuf expr = { 0 }, lit = { 0 };
	struct filter *f;

	sb_adds(&expr, "path ~ '");
	for (size_t i = 0; i < rlen; i++) {
		if (re[i] == '\\' || re[i] == '\'')
			sb_addc(&expr, '\\');
		sb_addc(&expr, re[i]);
		if (!strchr("\\^$.[]|()?*+{}", re[i]))
			sb_addc(&lit, re[i]);
	}
	sb_addc(&expr, '\'');
	if (filter_compile(&f, sb_str(&expr), NULL) || !f) {
		sb_free(&expr);
		sb_free(&lit);
		return;
	}
	filter_lower(f, &rules);
	check_rules(&rules);
	md = pcre2_match_data_create(1, NULL);
	for (int i = 0; i < 2 && md; i++) {
		const char *s = i ? sb_str(&lit) : subj;
		size_t n = i ? lit.len : slen;

		if (pcre2_match(f->root->term.re, (PCRE2_SPTR)s, n, 0, 0, md, f->mctx) >= 0 &&
		    rules.paths_set && !begins_with_prefix(&rules, s, n))
			__builtin_trap();
	}
	pcre2_match_data_free(md);
	explain(f, &rules);
	filter_free(f);
	sb_free(&expr);
	sb_free(&lit);
}

static bool passes(const struct kf_rules *r, const struct message *m)
{
	bool pid = !r->pids_set, comm = !r->comms_set;

	for (uint32_t i = 0; i < r->npids; i++)
		pid |= r->pids[i] == m->who.pid;
	for (uint32_t i = 0; i < r->ncomms; i++)
		comm |= !strcmp(r->comms[i], m->who.comm);
	return pid && comm &&
	       (!r->paths_set || (m->path && begins_with_prefix(r, m->path, strlen(m->path))));
}

/* The regex part as an expression, on a gRPC message whose path is the
 * subject up to its first NUL. */
static void check_expr(const char *text, const char *subj, size_t slen)
{
	static const char *const comms[] = { "nginx", "a", "0123456789abcde" };
	struct message *m = msg_new(MSG_GRPC, MSG_REQUEST, true);
	struct filter *f;

	if (!m)
		abort();
	m->who.pid = slen ? (uint8_t)subj[0] % 4 : 4312;
	strcpy(m->who.comm, comms[slen > 1 ? (uint8_t)subj[1] % 3 : 0]);
	msg_set_str(&m->path, subj, strnlen(subj, slen));
	if (!filter_compile(&f, text, NULL) && f) {
		filter_lower(f, &rules);
		check_rules(&rules);
		if (filter_match(f, m, NULL) && !passes(&rules, m))
			__builtin_trap();
		explain(f, &rules);
		filter_free(f);
	}
	msg_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t rlen = nul ? (size_t)(nul - data) : size;
	char *buf = malloc(size + 1);

	if (!buf)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';
	check_regex(buf, rlen, buf + rlen + !!nul, size - rlen - !!nul);
	check_expr(buf, buf + rlen + !!nul, size - rlen - !!nul);
	free(buf);
	return 0;
}
