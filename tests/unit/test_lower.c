/* test_lower.c - lowering filters to kernel rules: regex prefixes, terms,
 * and/or/not, caps, the explain text, and two randomized soundness checks
 * (random regexes against PCRE2, random expressions against filter_match):
 * whatever matches must pass the rules. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter_int.h"
#include "lower.h"
#include "unit.h"

/* A filter term quoting re exactly: path ~ 're'. */
static void quote_regex(struct strbuf *sb, const char *re, size_t n)
{
	sb_adds(sb, "path ~ '");
	for (size_t i = 0; i < n; i++) {
		if (re[i] == '\\' || re[i] == '\'')
			sb_addc(sb, '\\');
		sb_addc(sb, re[i]);
	}
	sb_addc(sb, '\'');
}

static struct kf_rules *lowered(const char *expr)
{
	static struct kf_rules r;
	struct filter_error err;
	struct filter *f;

	if (filter_compile(&f, expr, &err)) {
		fprintf(stderr, "  '%s': error at %zu: %s\n", expr, err.offset, err.msg);
		return NULL;
	}
	filter_lower(f, &r);
	filter_free(f);
	return &r;
}

/* Bytes as text: printable ASCII but space and backslash as they are. */
static void add_bytes(struct strbuf *sb, const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] > ' ' && s[i] < 0x7f && s[i] != '\\')
			sb_addc(sb, (char)s[i]);
		else
			sb_printf(sb, "\\x%02x", s[i]);
}

/* The prefixes as "a b c", "" for the empty set, "-" for no rule. */
static char *paths_text(const struct kf_rules *r)
{
	struct strbuf sb = { 0 };

	if (!r->paths_set)
		return strdup("-");
	for (uint32_t i = 0; i < r->nprefixes; i++) {
		if (i)
			sb_addc(&sb, ' ');
		add_bytes(&sb, r->prefixes[i].s, r->prefixes[i].len);
	}
	return sb.s ? sb.s : strdup("");
}

static bool paths_are(const char *expr, const char *want)
{
	const struct kf_rules *r = lowered(expr);
	char *got;
	bool ok;

	if (!r)
		return false;
	got = paths_text(r);
	ok = !strcmp(got, want);
	if (!ok)
		fprintf(stderr, "  '%s': prefixes %s, want %s\n", expr, got, want);
	free(got);
	return ok;
}

/* paths_are() with a regex, quoted for the filter language. */
static bool regex_paths(const char *re, const char *want)
{
	struct strbuf sb = { 0 };
	bool ok;

	quote_regex(&sb, re, strlen(re));
	ok = paths_are(sb_str(&sb), want);
	sb_free(&sb);
	return ok;
}

/* How many prefixes re gives, -1 for no rule. */
static int regex_count(const char *re)
{
	struct strbuf sb = { 0 };
	const struct kf_rules *r;

	quote_regex(&sb, re, strlen(re));
	r = lowered(sb_str(&sb));
	sb_free(&sb);
	return r && r->paths_set ? (int)r->nprefixes : -1;
}

static bool has_prefix(const struct kf_rules *r, const char *p)
{
	for (uint32_t i = 0; i < r->nprefixes; i++)
		if (r->prefixes[i].len == strlen(p) && !memcmp(r->prefixes[i].s, p, strlen(p)))
			return true;
	return false;
}

/* pids as "1 2", comms as "a b"; "-" for no rule. */
static bool sets_are(const char *expr, const char *pids, const char *comms)
{
	const struct kf_rules *r = lowered(expr);
	struct strbuf p = { 0 }, c = { 0 };
	bool ok;

	if (!r)
		return false;
	sb_adds(&p, r->pids_set ? "" : "-");
	for (uint32_t i = 0; r->pids_set && i < r->npids; i++)
		sb_printf(&p, "%s%u", i ? " " : "", r->pids[i]);
	sb_adds(&c, r->comms_set ? "" : "-");
	for (uint32_t i = 0; r->comms_set && i < r->ncomms; i++)
		sb_printf(&c, "%s%s", i ? " " : "", r->comms[i]);
	ok = !strcmp(sb_str(&p), pids) && !strcmp(sb_str(&c), comms);
	if (!ok)
		fprintf(stderr, "  '%s': pids '%s' comms '%s', want '%s' '%s'\n", expr, sb_str(&p),
			sb_str(&c), pids, comms);
	sb_free(&p);
	sb_free(&c);
	return ok;
}

static bool explains(const char *expr, uint32_t sample_n, bool ascii, const char *want)
{
	struct strbuf sb = { 0 };
	struct kf_rules r;
	struct filter *f;
	bool ok;

	if (filter_compile(&f, expr, NULL)) {
		fprintf(stderr, "  '%s' does not compile\n", expr);
		return false;
	}
	filter_lower(f, &r);
	filter_explain(f, &r, sample_n, ascii, &sb);
	ok = !strcmp(sb_str(&sb), want);
	if (!ok)
		fprintf(stderr, "  '%s' explained as:\n%s  want:\n%s", expr, sb_str(&sb), want);
	filter_free(f);
	sb_free(&sb);
	return ok;
}

static void test_examples(void)
{
	CHECK_EQ_U64(regex_count("^/pkg.A/"), 256);
	CHECK(regex_paths("^/pkg\\.A/", "/pkg.A/"));
	CHECK(regex_paths("^/(a|b)c", "/ac /bc"));
	CHECK(regex_paths("^/x(?:y|z)?w", "/x"));
	CHECK(regex_paths("/x", "-"));
	CHECK(regex_paths("^/a|/b", "-"));
	CHECK(regex_paths("^/a|^/b", "/a /b"));
	CHECK(paths_are("path ~ '^/a' or pid == 3", "-"));
	CHECK(sets_are("path ~ '^/a' or pid == 3", "-", "-"));
	CHECK(paths_are("path ~ '^/a' and pid == 3", "/a"));
	CHECK(sets_are("path ~ '^/a' and pid == 3", "3", "-"));
	CHECK(paths_are("not path ~ '^/a'", "-"));
	CHECK(regex_paths("(?i)^/a", "-"));
	CHECK(regex_paths("^[ab]/", "a/ b/"));

	const struct kf_rules *r = lowered("path ~ '^/pkg.A/'");

	CHECK(r && has_prefix(r, "/pkgxA/") && has_prefix(r, "/pkg.A/"));
	CHECK(r && r->prefixes[0].len == 7 && r->prefixes[0].s[4] == 0);
	CHECK(r && r->prefixes[255].s[4] == 0xff);
}

static void test_escapes(void)
{
	CHECK(regex_paths("^/a\\x41\\x{42}\\x7", "/aAB\\x07"));
	CHECK(regex_paths("^\\t\\n\\r\\f\\e\\a", "\\x09\\x0a\\x0d\\x0c\\x1b\\x07"));
	CHECK(regex_paths("^/\\-\\/\\\\\\.\\|\\(", "/-/\\x5c.|("));
	CHECK(regex_paths("^\\Q/a.b\\E\\.", "/a.b."));
	CHECK(regex_paths("^/\\Q(x|y)", "/(x|y)"));
	CHECK(regex_paths("^/\\Q(\\E|x", "-")); /* the bar is outside the quote */
	CHECK(regex_paths("^/\\Q(\\E|^x", "/( x"));
	CHECK(regex_paths("^/a\\Eb", "/ab"));
	CHECK(regex_paths("\\A/a", "/a"));
	CHECK(regex_paths("^/a\\x", "/a")); /* \x alone: not followed */
	CHECK(regex_paths("^/a\\cxb", "/a"));
	CHECK(regex_paths("^/a\\c|b|^c", "/a c"));
	CHECK(regex_paths("^/a\\p{L}b", "/a"));
	CHECK(regex_paths("^/a\\d", "/a0 /a1 /a2 /a3 /a4 /a5 /a6 /a7 /a8 /a9"));
	CHECK(regex_paths("^/\\s", "/\\x09 /\\x0a /\\x0b /\\x0c /\\x0d /\\x20"));
	CHECK(regex_paths("^/\\h", "/\\x09 /\\x20 /\\xa0"));
	CHECK(regex_paths("^/\\v", "/\\x0a /\\x0b /\\x0c /\\x0d /\\x85"));
	CHECK_EQ_U64(regex_count("^/\\w"), 63);
	CHECK_EQ_U64(regex_count("^/\\W"), 256 - 63);
	CHECK_EQ_U64(regex_count("^/\\D"), 246);
	CHECK_EQ_U64(regex_count("^/\\N"), 256);
	CHECK(regex_paths("^/(a)\\1", "/a"));
	CHECK(regex_paths("^/(?<n>a)\\k<n>x", "/a"));
	CHECK(regex_paths("^/(a)\\g{-1}x", "/a"));
	CHECK(regex_paths("^/a\\Rb", "/a"));
	CHECK(regex_paths("^/a\\Xb", "/a"));
	CHECK(regex_paths("^/a\\Cb", "/a"));
	CHECK(regex_paths("^/a\\o{101}b", "/a"));
	CHECK(regex_paths("^/a\\101b", "/a"));
	CHECK(regex_paths("^/\xc3\xa9", "/\\xc3\\xa9"));
	CHECK(regex_paths("^/a]}b", "/a]}b"));
	CHECK(regex_paths("^/a]}{b", "/a]")); /* a brace that is no quantifier: "}" may be absent */
}

static void test_classes(void)
{
	CHECK(regex_paths("^/[a-c]", "/a /b /c"));
	CHECK(regex_paths("^/[]x]", "/] /x"));
	CHECK(regex_paths("^/[^\\x00-\\x5c\\x5e-\\xff]", "/]"));
	CHECK(regex_paths("^/[^]\\x00-\\x5c\\x5e-\\xff]|^/x", "/x")); /* matches nothing */
	CHECK(regex_paths("^/[\\]x]", "/] /x"));
	CHECK(regex_paths("^/[-a]", "/- /a"));
	CHECK(regex_paths("^/[a-]", "/- /a"));
	CHECK(regex_paths("^/[.|)(]", "/( /) /. /|"));
	CHECK(regex_paths("^/[\\d_]", "/0 /1 /2 /3 /4 /5 /6 /7 /8 /9 /_"));
	CHECK(regex_paths("^/[\\x41-\\x43]", "/A /B /C"));
	CHECK(regex_paths("^/[\\t\\b]", "/\\x08 /\\x09"));
	CHECK(regex_paths("^/[^\\x00-\\xfe]", "/\\xff"));
	CHECK_EQ_U64(regex_count("^/[^\\W\\d]"), 53);
	CHECK_EQ_U64(regex_count("^/[^a]"), 255);
	CHECK_EQ_U64(regex_count("^/[^\\s]"), 250);
	/* not followed: every byte, negated or not */
	CHECK_EQ_U64(regex_count("^/[[:alpha:]]"), 256);
	CHECK_EQ_U64(regex_count("^/[^[:alpha:]]"), 256);
	CHECK_EQ_U64(regex_count("^/[^\\p{L}]"), 256);
	CHECK(regex_paths("^/[[:<:]]a", "-"));
	CHECK(regex_paths("^/[\\Qa]\\E]", "-"));
	CHECK(regex_paths("^/[a-\\x{63}]x", "/ax /bx /cx"));
	CHECK(regex_paths("^/[\\]-a]", "/] /^ /_ /` /a"));
	CHECK(regex_paths("^/[)|(]|^x", "/( /) /| x"));
}

static void test_quantifiers(void)
{
	const struct kf_rules *r;

	CHECK(regex_paths("^/ab?c", "/a"));
	CHECK(regex_paths("^/ab*", "/a"));
	CHECK(regex_paths("^/ab+c", "/ab"));
	CHECK(regex_paths("^/ab+?c", "/ab"));
	CHECK(regex_paths("^/ab++c", "/ab"));
	CHECK(regex_paths("^/ab*?c", "/a"));
	CHECK(regex_paths("^/a{2}b", "/aab"));
	CHECK(regex_paths("^/a{2,2}b", "/aab"));
	CHECK(regex_paths("^/a{2,}b", "/aa"));
	CHECK(regex_paths("^/a{2,5}b", "/aa"));
	CHECK(regex_paths("^/a{0,2}", "/"));
	CHECK(regex_paths("^/xa{0}b", "/x"));
	CHECK(regex_paths("^/xa{,2}b", "/x")); /* literal, or {0,2} in PCRE2 10.43 */
	CHECK(regex_paths("^/xa{b", "/x"));
	CHECK(regex_paths("^/(ab){2}c", "/ababc"));
	CHECK(regex_paths("^/(ab)+c", "/ab"));
	CHECK(regex_paths("^/(ab)?c", "/"));
	CHECK(regex_paths("^/(?:ab)*c", "/"));
	CHECK(regex_paths("^/(a|b){2}", "/aa /ab /ba /bb"));
	CHECK(regex_paths("^/(a|bc*)d", "/ad /b"));
	CHECK(regex_paths("^/(a|b*)d", "/"));
	CHECK(regex_paths("^/x(|a)y", "/xay /xy"));
	CHECK_EQ_U64(regex_count("^/\\d{2}x"), 100);
	CHECK(regex_paths("^/a\\Q\\E+b", "/")); /* quantifier past an empty quote */
	CHECK(regex_paths("^/ab{1}", "/ab"));
	r = lowered("path ~ '^/(x|y){9}'"); /* RX_REPEAT copies, then it ends */
	CHECK(r && r->nprefixes == 256 && has_prefix(r, "/xyxyxyxy"));
	CHECK(regex_paths("^/(|x){100}y", "/"));
	/* re-reading nested repeats is bounded: no rule rather than a hang */
	r = lowered("path ~ '^(((((|a){5}){5}){5}){5}){5}/x'");
	CHECK(r && r->nprefixes == 65 && has_prefix(r, "/x") && has_prefix(r, "aaa/x"));
	/* a budget bounds the reading: past it, no rule */
	char *big = malloc(20100);

	if (big) {
		memset(big, 'a', 20099);
		memcpy(big, "^/", 2);
		big[20099] = '\0';
		CHECK(regex_paths(big, "-"));
		big[19000] = '\0';
		CHECK(regex_count(big) == 1);
	}
	free(big);
}

static void test_anchors(void)
{
	CHECK(regex_paths("(^/a|^/b)", "/a /b"));
	CHECK(regex_paths("^(/a|/b)c", "/ac /bc"));
	CHECK(regex_paths("(?:^|x)/a", "-"));
	CHECK(regex_paths("^/a|", "-"));
	CHECK(regex_paths("^/a|x*", "-"));
	CHECK(regex_paths("^/a$", "/a"));
	CHECK(regex_paths("^/a$|^/b", "/a /b"));
	CHECK(regex_paths("^$", "-"));
	CHECK(regex_paths("^", "-"));
	CHECK(regex_paths("^/a\\b", "/a"));
	CHECK(regex_paths("^/a\\z", "/a"));
	CHECK(regex_paths("^/a(?=b)c", "/a"));
	CHECK(regex_paths("^/a(?!b)c", "/a"));
	CHECK(regex_paths("^/a(?<=a)c", "/a"));
	CHECK(regex_paths("(?<=x)^/a", "-"));
	CHECK(regex_paths("^/a\\Kb", "/a"));
	CHECK(regex_paths("\\G/a", "-"));
	CHECK(regex_paths("^/a^b", "/a"));
	CHECK(regex_paths("x^/a|^/b", "-"));
	CHECK(regex_paths("^/a(?=(x|y))|^/b", "/a /b"));
	CHECK(regex_paths("^/(a)(?(1)x|y)|^/b", "/a /b"));
	CHECK(regex_paths("^/(a)(?(?=x)x|y)|^/b", "/a /b"));
	CHECK(regex_paths("^/a(?1)|^/(b)", "/a /b"));
	CHECK(regex_paths("^/a(?R)?|^/b", "/a /b"));
	CHECK(regex_paths("^/(?<n>a)(?&n)|^/b", "/a /b"));
	CHECK(regex_paths("^/(?P<n>a)(?P=n)(?P>n)|^/b", "/a /b"));
	CHECK(regex_paths("^/(?'n'a)x", "/ax"));
	CHECK(regex_paths("^/(?>a|b)x", "/ax /bx"));
}

static void test_not_lowered(void)
{
	CHECK(regex_paths("^/a(?i)b", "-"));
	CHECK(regex_paths("^/a(?-i)b", "-"));
	CHECK(regex_paths("^/a(?s:.)b", "-"));
	CHECK(regex_paths("(?m)^/a", "-"));
	CHECK(regex_paths("(?x)^/a b", "-"));
	CHECK(regex_paths("(*UTF)^/a", "-"));
	CHECK(regex_paths("(*CRLF)^/a", "-"));
	CHECK(regex_paths("^/a(*ACCEPT)b", "-"));
	CHECK(regex_paths("^/a(?#c)", "-"));
	CHECK(regex_paths("^/a(?C1)", "-"));
	CHECK(regex_paths("^/(?|(a)|(b))", "-"));
	CHECK(regex_paths(".*", "-"));
	CHECK(regex_paths("^.*", "-"));
	CHECK(regex_paths("^(a|.*)", "-"));
	CHECK(regex_paths("a", "-"));
	CHECK(paths_are("path !~ '^/a'", "-"));
	CHECK(paths_are("path != /a", "-"));
	CHECK(paths_are("path == unknown", "-"));
	CHECK(paths_are("path", "-"));
	CHECK(paths_are("path == ''", "-"));
	CHECK(paths_are("rpc == Charge", "-"));
	CHECK(paths_are("service ~ '^pkg'", "-"));
	CHECK(paths_are("host ~ '^/a'", "-"));
	CHECK(sets_are("pid != 3", "-", "-"));
	CHECK(sets_are("pid > 3", "-", "-"));
	CHECK(sets_are("pid ~ '^3$'", "-", "-"));
	CHECK(sets_are("comm ~ '^nginx$'", "-", "-"));
	CHECK(sets_are("comm != nginx", "-", "-"));
	CHECK(sets_are("status == 200 and latency > 1s", "-", "-"));
	CHECK(sets_are("not (pid == 3 and comm == a)", "-", "-"));
	CHECK(sets_are("not not pid == 3", "-", "-"));

	struct kf_rules r;

	memset(&r, 0xa5, sizeof(r));
	filter_lower(NULL, &r);
	CHECK(!r.pids_set && !r.comms_set && !r.paths_set);
}

static void test_terms(void)
{
	char long_path[128], want[80];

	CHECK(sets_are("pid == 4312", "4312", "-"));
	CHECK(sets_are("pid == 99999999999", "", "-")); /* never matches */
	CHECK(sets_are("comm == nginx", "-", "nginx"));
	CHECK(sets_are("comm == 'a very long process name'", "-", "a very long pro"));
	CHECK(paths_are("path == /a/b", "/a/b"));
	CHECK(paths_are("'^/a'", "/a"));
	CHECK(paths_are("^/a|^/b", "/a /b")); /* two bare terms, or-ed */
	CHECK(paths_are("service == payments.Ledger", "/payments.Ledger/"));
	CHECK(paths_are("service == ''", "//"));
	/* cut to the kernel's 64 bytes */
	snprintf(long_path, sizeof(long_path), "path == /%0100d", 7);
	snprintf(want, sizeof(want), "/%063d", 0);
	CHECK(paths_are(long_path, want));
	snprintf(long_path, sizeof(long_path), "path ~ '^/%0100d'", 7);
	CHECK(paths_are(long_path, want));
	snprintf(long_path, sizeof(long_path), "service == %070d", 7);
	snprintf(want, sizeof(want), "/%063d", 0);
	CHECK(paths_are(long_path, want));
	snprintf(long_path, sizeof(long_path), "service == %062d", 7);
	snprintf(want, sizeof(want), "/%062d/", 7);
	CHECK(paths_are(long_path, want));
}

static void test_and_or(void)
{
	char expr[2048];
	size_t n = 0;

	CHECK(sets_are("pid == 1 and pid == 2", "", "-"));
	CHECK(sets_are("pid == 1 and pid == 1", "1", "-"));
	CHECK(sets_are("(pid == 1 or pid == 2) and (pid == 2 or pid == 3)", "2", "-"));
	CHECK(sets_are("pid == 3 or pid == 1 or pid == 2 or pid == 1", "1 2 3", "-"));
	CHECK(sets_are("pid == 1 or comm == x", "-", "-"));
	CHECK(sets_are("pid == 1 comm == x", "1", "x"));
	CHECK(sets_are("comm == b or comm == a", "-", "a b"));
	CHECK(sets_are("comm == a and comm == b", "-", ""));
	CHECK(sets_are("(pid == 1 and comm == a) or (pid == 2 and status == 5)", "1 2", "-"));
	CHECK(paths_are("'^/a' and '^/ab'", "/ab"));
	CHECK(paths_are("'^/a' and '^/b'", ""));
	CHECK(paths_are("'^/(a|b)' and '^/ax'", "/ax"));
	CHECK(paths_are("'^/(a|b)' and '^/(ax|by|c)'", "/ax /by"));
	CHECK(paths_are("'^/a' and status == 5", "/a"));
	CHECK(paths_are("'^/a' or '^/ab'", "/a"));
	CHECK(paths_are("'^/a' or status == 5", "-"));
	CHECK(paths_are("'^/a' or not '^/b'", "-"));
	CHECK(paths_are("('^/a' or '^/b') and not '^/ab'", "/a /b"));
	CHECK(paths_are("service == s and '^/s/x'", "/s/x"));
	CHECK(paths_are("path == /a/b or '^/a/(b|c)'", "/a/b /a/c"));

	/* caps: 65 pids are no rule; 64 are one */
	for (int i = 0; i < 65; i++)
		n += (size_t)snprintf(expr + n, sizeof(expr) - n, "%spid == %d", i ? " or " : "",
				      i);
	CHECK(sets_are(expr, "-", "-"));
	n = 0;
	for (int i = 0; i < 64; i++)
		n += (size_t)snprintf(expr + n, sizeof(expr) - n, "%scomm == c%d", i ? " or " : "",
				      i);
	const struct kf_rules *r = lowered(expr);
	CHECK(r && r->comms_set && r->ncomms == 64);
	CHECK(sets_are("(pid == 1 or pid == 2) and pid == 2", "2", "-"));

	/* 768 prefixes: the longest are cut until they fit */
	CHECK(paths_are("'^/a.' or '^/b.' or '^/c.'", "/a /b /c"));
	r = lowered("'^/a.' or '^/bc.'");
	CHECK(r && r->paths_set && r->nprefixes == 512);
	r = lowered("'^/a.' or '^/bc.' or '^/d'");
	CHECK(r && r->paths_set && r->nprefixes == 258 && has_prefix(r, "/bc") && has_prefix(r, "/d") &&
	      has_prefix(r, "/a\xff"));
	CHECK(paths_are("'^/a.' or '^/b.x' or '^/c'", "/a /b /c"));
	/* in a regex, the prefix stops before what would make too many */
	CHECK(regex_count("^/[a-z][a-z]") == 26);
	CHECK(regex_count("^/\\d{3}") == 100);
	CHECK(regex_count("^/(a|b|c|d|e|f|g|h)(a|b|c|d|e|f|g|h)(a|b|c|d|e|f|g|h)x") == 512);
	r = lowered("path ~ '^/(a|b|c|d|e|f|g|h)(a|b|c|d|e|f|g|h)(a|b|c|d|e|f|g|h)(a|b)'");
	CHECK(r && r->nprefixes == 512 && has_prefix(r, "/hha"));
	CHECK(regex_paths("^(.|..)", "-")); /* every byte alone: test_every_path() */
	/* branches that together make too many are cut, anchored or not */
	CHECK(regex_paths("(^/a.|^/b.|^/c.)x", "/a /b /c"));
	CHECK(regex_paths("^(/a.|/b.|/c.)x", "/a /b /c"));
	CHECK(regex_paths("^/(a.|b.|cd)x", "/a /b /c"));
	CHECK(regex_count("^/(a.|b.)x") == 512);
	CHECK(regex_count("^/(a|.)(a|.)") == 256);
}

/* Prefixes that let every path pass (the empty one, or each byte alone)
 * are no rule, whether from one regex or from an or. */
static void test_every_path(void)
{
	const struct kf_rules *r;

	CHECK(regex_paths("^.", "-"));
	CHECK(regex_paths("^..", "-")); /* 65536 would be too many: ends after one */
	CHECK(regex_paths("^(.|..)", "-"));
	CHECK(regex_paths("^(.|/abc)", "-"));
	CHECK(regex_paths("^[\\x00-\\xff]", "-"));
	CHECK(regex_paths("^[^a]|^a", "-"));
	CHECK(regex_paths("^\\N|^\\n", "-"));
	CHECK(regex_paths("^(\\d|\\D)", "-"));
	/* one byte short, or a byte only with what follows: a rule */
	CHECK_EQ_U64(regex_count("^[^a]"), 255);
	CHECK_EQ_U64(regex_count("^[^a]|^ab"), 256);
	CHECK_EQ_U64(regex_count("^.a"), 256);
	CHECK_EQ_U64(regex_count("^(.a|.b)"), 512);
	/* from an or of rules, each narrower */
	CHECK(paths_are("'^[a-m]' or '^[^a-m]'", "-"));
	CHECK(paths_are("'^[\\\\x00-\\\\x7f].' or '^[\\\\x80-\\\\xff].'", "-"));
	CHECK(paths_are("'^[a-m]' or '^[^a-m]' or '^/x'", "-"));
	CHECK(paths_are("('^[a-m]' or '^[^a-m]') and '^/x'", "/x"));
	CHECK(paths_are("'^.' and '^/x'", "/x"));
	r = lowered("'^[a-m]' or '^[^a-n]'");
	CHECK(r && r->paths_set && r->nprefixes == 255 && !has_prefix(r, "n"));
	CHECK(sets_are("'^.' and pid == 1", "1", "-"));
	CHECK(explains("'^(.|..)' and pid == 1", 1, true,
		       "kernel: pid in {1}\n"
		       "userspace: '^(.|..)' and pid == 1\n"
		       "not in the kernel: '^(.|..)' (matches every path)\n"));
	CHECK(explains("'^[a-m]' or '^[^a-m]' or '^/x'", 1, true,
		       "kernel: nothing (every call is copied)\n"
		       "userspace: '^[a-m]' or '^[^a-m]' or '^/x'\n"
		       "not in the kernel: '^[a-m]' (or with branches that together match every "
		       "path)\n"
		       "not in the kernel: '^[^a-m]' (or with branches that together match every "
		       "path)\n"
		       "not in the kernel: '^/x' (or with branches that together match every "
		       "path)\n"));
	CHECK(explains("'^[a-m]' or '^[^a-m]' or status == 1", 1, true,
		       "kernel: nothing (every call is copied)\n"
		       "userspace: '^[a-m]' or '^[^a-m]' or status == 1\n"
		       "not in the kernel: '^[a-m]' (or with a branch that cannot be lowered)\n"
		       "not in the kernel: '^[^a-m]' (or with a branch that cannot be lowered)\n"
		       "not in the kernel: status == 1 (field not known in the kernel)\n"));
	CHECK(explains("'^.*' or '^.'", 1, true,
		       "kernel: nothing (every call is copied)\n"
		       "userspace: '^.*' or '^.'\n"
		       "not in the kernel: '^.*' (regex has no fixed beginning)\n"
		       "not in the kernel: '^.' (matches every path)\n"));
}

static void test_explain(void)
{
	CHECK(explains("path ~ '^/pkg' and pid == 4312 and comm == nginx", 1, false,
		       "kernel: path prefix \"/pkg\" · pid ∈ {4312} · comm ∈ {nginx}\n"
		       "userspace: path ~ '^/pkg' and pid == 4312 and comm == nginx\n"));
	CHECK(explains("path ~ '^/pkg' and pid == 4312 and comm == nginx", 1, true,
		       "kernel: path prefix \"/pkg\" . pid in {4312} . comm in {nginx}\n"
		       "userspace: path ~ '^/pkg' and pid == 4312 and comm == nginx\n"));
	CHECK(explains("status >= 500", 1, false,
		       "kernel: nothing (every call is copied)\n"
		       "userspace: status >= 500\n"
		       "not in the kernel: status >= 500 (field not known in the kernel)\n"));
	CHECK(explains("status >= 500", 10, false,
		       "kernel: sample 1/10 connections\n"
		       "userspace: status >= 500\n"
		       "not in the kernel: status >= 500 (field not known in the kernel)\n"));
	CHECK(explains("", 1, false,
		       "kernel: nothing (every call is copied)\n"
		       "userspace: nothing (no filter)\n"));
	CHECK(explains("pid == 1 or pid == 2", 4, true,
		       "kernel: pid in {1, 2}\n"
		       "kernel: sample 1/4 connections\n"
		       "userspace: pid == 1 or pid == 2\n"));
	CHECK(explains("'^/pkg.A/' and not '^/pkgxA/'", 1, false,
		       "kernel: path prefix ∈ {\"/pkg\\x00A/\", \"/pkg\\x01A/\", \"/pkg\\x02A/\", "
		       "\"/pkg\\x03A/\", … (256 prefixes)}\n"
		       "userspace: '^/pkg.A/' and not '^/pkgxA/'\n"
		       "not in the kernel: '^/pkgxA/' (under not)\n"));
	CHECK(explains("'^/a\"\\\\\\\\' /x", 1, true,
		       "kernel: path prefix \"/a\\\"\\\\\"\n"
		       "userspace: '^/a\"\\\\\\\\' /x\n"
		       "not in the kernel: /x (regex not anchored)\n"));
	CHECK(explains("path ~ '^/a' or pid == 3 or path != x", 1, true,
		       "kernel: nothing (every call is copied)\n"
		       "userspace: path ~ '^/a' or pid == 3 or path != x\n"
		       "not in the kernel: path ~ '^/a' (or with a branch that cannot be lowered)\n"
		       "not in the kernel: pid == 3 (or with a branch that cannot be lowered)\n"
		       "not in the kernel: path != x (operator not lowered)\n"));
	CHECK(explains("'(?i)^/a' or '^.*' or path == unknown or '^/a(?#x)'", 1, true,
		       "kernel: nothing (every call is copied)\n"
		       "userspace: '(?i)^/a' or '^.*' or path == unknown or '^/a(?#x)'\n"
		       "not in the kernel: '(?i)^/a' (regex sets options)\n"
		       "not in the kernel: '^.*' (regex has no fixed beginning)\n"
		       "not in the kernel: path == unknown (unknown paths are decided in userspace)\n"
		       "not in the kernel: '^/a(?#x)' (regex construct not supported)\n"));
	CHECK(explains("'^/a.' or '^/b.' or '^/c.' comm == x", 1, true,
		       "kernel: path prefix in {\"/a\", \"/b\", \"/c\"}\n"
		       "userspace: '^/a.' or '^/b.' or '^/c.' comm == x\n"
		       "not in the kernel: '^/a.' (too many prefixes, shortened)\n"
		       "not in the kernel: '^/b.' (too many prefixes, shortened)\n"
		       "not in the kernel: '^/c.' (too many prefixes, shortened)\n"
		       "not in the kernel: comm == x (or with a branch that cannot be lowered)\n"));
	CHECK(explains("pid == 1 and pid == 2 and not (comm == a or status == 1)", 1, true,
		       "kernel: pid in {}\n"
		       "userspace: pid == 1 and pid == 2 and not (comm == a or status == 1)\n"
		       "not in the kernel: comm == a (under not)\n"
		       "not in the kernel: status == 1 (field not known in the kernel)\n"));
}

/* ---- soundness: random regexes, checked against PCRE2 ---- */

#define NSAMPLE 8 /* subjects built with each regex */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)((rng_state >> 11) % n);
}

/* A piece of regex and, for each sample, a subject piece it may match. */
struct gen {
	struct strbuf re;
	struct strbuf s[NSAMPLE];
	int groups; /* capturing groups so far, for back references */
};

static void gen_free(struct gen *g)
{
	sb_free(&g->re);
	for (int i = 0; i < NSAMPLE; i++)
		sb_free(&g->s[i]);
}

static void gen_concat(struct gen *g, const struct gen *a)
{
	sb_add(&g->re, a->re.s ? a->re.s : "", a->re.len);
	for (int i = 0; i < NSAMPLE; i++)
		sb_add(&g->s[i], a->s[i].s ? a->s[i].s : "", a->s[i].len);
}

static const char alphabet[] = "/ab.-x_Y9";

static int random_byte(void)
{
	return (int)rnd(4) ? alphabet[rnd(sizeof(alphabet) - 1)] : (int)rnd(256);
}

/* Every sample gets bytes drawn from set (or anything when it is empty). */
static void sample_from(struct gen *g, const char *set, size_t n)
{
	for (int i = 0; i < NSAMPLE; i++)
		sb_addc(&g->s[i], n ? set[rnd((uint32_t)n)] : (char)random_byte());
}

static void sample_text(struct gen *g, const char *s, size_t n)
{
	for (int i = 0; i < NSAMPLE; i++)
		sb_add(&g->s[i], s, n);
}

static void gen_alt(struct gen *g, int depth, bool top);

/* A literal byte, spelt one of several ways. */
static void gen_literal(struct gen *g)
{
	unsigned c = (unsigned)random_byte();
	char b = (char)c;

	if (!c) {
		sb_adds(&g->re, "\\x00");
	} else if (strchr("\\^$.[|()?*+{", (int)c)) {
		sb_printf(&g->re, "\\%c", c);
	} else {
		switch (rnd(6)) {
		case 0:
			sb_printf(&g->re, "\\x%02x", c);
			break;
		case 1:
			sb_printf(&g->re, "\\x{%x}", c);
			break;
		case 2:
			sb_printf(&g->re, "\\Q%c\\E", c);
			break;
		default:
			sb_addc(&g->re, b);
			break;
		}
	}
	sample_text(g, &b, 1);
}

/* \Q...\E around bytes that are no backslash */
static void gen_quoted(struct gen *g)
{
	char run[8];
	int n = 1 + (int)rnd(6);

	for (int i = 0; i < n; i++)
		do
			run[i] = (char)random_byte();
		while (!run[i] || run[i] == '\\');
	sb_adds(&g->re, "\\Q");
	sb_add(&g->re, run, (size_t)n);
	sb_adds(&g->re, "\\E");
	sample_text(g, run, (size_t)n);
}

static const struct {
	const char *re;
	const char *members; /* what samples draw from; "" anything */
	size_t n;
} classes[] = {
	{ ".", "", 0 },
	{ "\\d", "0123456789", 10 },
	{ "\\D", "a/-", 3 },
	{ "\\w", "aZ_9", 4 },
	{ "\\W", "/-.\xff", 4 },
	{ "\\s", " \t\n\v\f\r", 6 },
	{ "\\S", "ab", 2 },
	{ "\\h", " \t\xa0", 3 },
	{ "\\v", "\n\r\x85", 3 },
	{ "\\H", "ab", 2 },
	{ "\\N", "a/", 2 },
	{ "[ab]", "ab", 2 },
	{ "[a-c]", "abc", 3 },
	{ "[^a]", "b/\n", 3 },
	{ "[]a]", "]a", 2 },
	{ "[^]a]", "b", 1 },
	{ "[\\]x]", "]x", 2 },
	{ "[\\d_]", "5_", 2 },
	{ "[\\w-]", "a-", 2 },
	{ "[-a]", "-a", 2 },
	{ "[a-]", "-a", 2 },
	{ "[.|()]", ".|()", 4 },
	{ "[\\x41-\\x43]", "ABC", 3 },
	{ "[\\t\\b]", "\t\b", 2 },
	{ "[^\\W\\d]", "aZ_", 3 },
	{ "[[:alpha:]]", "aZ", 2 },
	{ "[[:^digit:]]", "a/", 2 },
	{ "[[:<:]]", "", 0 },
	{ "[\\Qa]\\E]", "a]", 2 },
	{ "[\\p{L}]", "a", 1 },
	{ "[^\\x00-\\x2e]", "/a", 2 },
	{ "[\\/\\.]", "/.", 2 },
	{ "[\\x{ff}-\\x{ff}]", "\xff", 1 },
	{ "[\\0-\\10]", "\x01", 1 },
	{ "[\\ca]", "\x01", 1 },
};

/* Items matching nothing or not followed: samples get nothing. */
static const char *const oddities[] = {
	"^",	 "\\A",	  "$",	     "\\z",	"\\Z",	   "\\b",   "\\B",	 "\\G",	  "\\K",
	"(?i)",	 "(?s)",  "(?m)",    "(?-i)",	"(?x)",	   "(?#c)", "(*ACCEPT)", "(*FAIL)", "\\R",
	"\\X",	 "\\C",	  "\\p{L}",  "\\pL",	"\\ca",	   "\\c|",  "\\c)",	 "\\E",	  "\\Q\\E",
	"(?C1)", "(?=a)", "(?!b)",   "(?<=a)",	"(?<!b)",  "\\1",   "\\g{-1}",	 "(?1)",  "(?R)",
	"\\x",	 "\\e",	  "\\o{57}", "\\057",	"\\0",	   "{",	    "}",	 "]",	  "(?|(a)|(b))",
	"(?(1)a|b)", "(?(?=a)a|b)", "(*UTF)", "(?J)", "\\N{U+41}", "(?<n>a)\\k<n>", "a{,2}",
	"\\Qa|b\\E", "\\Q(\\E",
};

static void gen_group(struct gen *g, int depth)
{
	static const char *const opens[] = { "(", "(?:", "(?>", "(?<", "(?'", "(?P<" };
	static const char *const names_end[] = { NULL, NULL, NULL, ">", "'", ">" };
	static unsigned names;
	struct gen in = { 0 };
	int k = (int)rnd(6);

	if (k == 0 || k >= 3)
		g->groups++;
	sb_adds(&g->re, opens[k]);
	if (names_end[k])
		sb_printf(&g->re, "g%u%s", names++, names_end[k]);
	in.groups = g->groups;
	gen_alt(&in, depth + 1, false);
	gen_concat(g, &in);
	g->groups = in.groups;
	sb_addc(&g->re, ')');
	gen_free(&in);
}

/* An item and its quantifier. */
static void gen_item(struct gen *g, int depth)
{
	static const struct {
		const char *re;
		int min, max;
	} quants[] = { { "?", 0, 1 },	  { "*", 0, 3 },	{ "+", 1, 3 },	   { "{2}", 2, 2 },
		       { "{1,3}", 1, 3 }, { "{0,2}", 0, 2 },	{ "{2,}", 2, 4 },  { "{,2}", 0, 2 },
		       { "{0}", 0, 0 },	  { "{1}", 1, 1 },	{ "?+", 0, 1 },	   { "*?", 0, 2 },
		       { "+?", 1, 2 },	  { "{ 1 }", 1, 1 },	{ "\\Q\\E+", 1, 2 } };
	struct gen it = { 0 };
	uint32_t kind = rnd(22);
	size_t q;

	it.groups = g->groups;
	if (kind < 9) {
		gen_literal(&it);
	} else if (kind < 13) {
		q = rnd(sizeof(classes) / sizeof(classes[0]));
		sb_adds(&it.re, classes[q].re);
		sample_from(&it, classes[q].members, classes[q].n);
	} else if (kind < 16 && depth < 4) {
		gen_group(&it, depth);
	} else if (kind < 17) {
		sb_adds(&it.re, oddities[rnd(sizeof(oddities) / sizeof(oddities[0]))]);
	} else if (kind < 19) {
		for (int i = 5 + (int)rnd(70); i > 0; i--)
			gen_literal(&it);
	} else if (kind < 20) {
		gen_quoted(&it);
	} else {
		gen_literal(&it);
	}
	g->groups = it.groups;
	if (rnd(4)) {
		gen_concat(g, &it);
		gen_free(&it);
		return;
	}
	q = rnd(sizeof(quants) / sizeof(quants[0]));
	sb_add(&g->re, it.re.s ? it.re.s : "", it.re.len);
	sb_adds(&g->re, quants[q].re);
	for (int i = 0; i < NSAMPLE; i++) {
		int n = quants[q].min + (int)rnd((uint32_t)(quants[q].max - quants[q].min + 1));

		for (int j = 0; j < n; j++) {
			const struct strbuf *s = &it.s[(i + j) % NSAMPLE];

			sb_add(&g->s[i], s->s ? s->s : "", s->len);
		}
	}
	gen_free(&it);
}

static void gen_alt(struct gen *g, int depth, bool top)
{
	int n = 1 + (rnd(3) ? 0 : (int)rnd(3));
	struct gen *alts = calloc((size_t)n, sizeof(*alts));

	for (int a = 0; a < n; a++) {
		int items = (int)rnd(top ? 7 : 4);

		alts[a].groups = g->groups;
		if ((top && rnd(5)) || !rnd(6))
			sb_adds(&alts[a].re, rnd(8) ? "^" : "\\A");
		for (int i = 0; i < items; i++)
			gen_item(&alts[a], depth);
		g->groups = alts[a].groups;
		if (a)
			sb_addc(&g->re, '|');
		sb_add(&g->re, alts[a].re.s ? alts[a].re.s : "", alts[a].re.len);
	}
	for (int i = 0; i < NSAMPLE; i++) {
		const struct strbuf *s = &alts[rnd((uint32_t)n)].s[i];

		sb_add(&g->s[i], s->s ? s->s : "", s->len);
	}
	for (int a = 0; a < n; a++)
		gen_free(&alts[a]);
	free(alts);
}

/* Variants of a subject: itself, longer, mutated, shifted, shorter. */
static size_t noisy(char *out, const struct strbuf *s, int how)
{
	size_t n = s->len > 200 ? 200 : s->len;

	memcpy(out, s->s ? s->s : "", n);
	switch (how) {
	case 1:
		for (int i = (int)rnd(4); i >= 0; i--)
			out[n++] = (char)random_byte();
		break;
	case 2:
		if (n)
			out[rnd((uint32_t)n)] = (char)random_byte();
		break;
	case 3:
		memmove(out + 1, out, n++);
		out[0] = (char)random_byte();
		break;
	case 4:
		n = n ? rnd((uint32_t)n) : 0;
		break;
	}
	return n;
}

static bool starts_with_prefix(const struct kf_rules *r, const char *s, size_t n)
{
	for (uint32_t i = 0; i < r->nprefixes; i++)
		if (n >= r->prefixes[i].len && !memcmp(s, r->prefixes[i].s, r->prefixes[i].len))
			return true;
	return false;
}

/* Checks the rules well formed: sorted, within the caps, minimal. */
static bool rules_ok(const struct kf_rules *r)
{
	if (r->npids > TLSTOP_KF_MAX_PIDS || r->ncomms > TLSTOP_KF_MAX_COMMS ||
	    r->nprefixes > TLSTOP_KF_MAX_PREFIXES || (!r->pids_set && r->npids) ||
	    (!r->comms_set && r->ncomms) || (!r->paths_set && r->nprefixes))
		return false;
	for (uint32_t i = 0; i < r->nprefixes; i++) {
		const struct kf_prefix *p = &r->prefixes[i];

		if (!p->len || p->len > TLSTOP_KF_PATH_MAX)
			return false;
		for (uint32_t j = 0; j < r->nprefixes; j++)
			if (i != j && p->len >= r->prefixes[j].len &&
			    !memcmp(p->s, r->prefixes[j].s, r->prefixes[j].len))
				return false;
	}
	for (uint32_t i = 1; i < r->npids; i++)
		if (r->pids[i - 1] >= r->pids[i])
			return false;
	return true;
}

struct tally {
	unsigned regexes, compiled, with_rule, matches, checked;
};

static void check_regex(struct gen *g, pcre2_match_data *md, struct tally *t)
{
	struct strbuf expr = { 0 };
	struct kf_rules *r = malloc(sizeof(*r));
	struct filter *f;
	char subj[256];

	t->regexes++;
	quote_regex(&expr, g->re.s ? g->re.s : "", g->re.len);
	if (!r || filter_compile(&f, sb_str(&expr), NULL)) {
		free(r);
		sb_free(&expr);
		return;
	}
	t->compiled++;
	filter_lower(f, r);
	CHECK(rules_ok(r));
	t->with_rule += r->paths_set;
	for (int i = 0; i < NSAMPLE * 5; i++) {
		size_t n = noisy(subj, &g->s[i % NSAMPLE], i / NSAMPLE);
		int rc = pcre2_match(f->root->term.re, (PCRE2_SPTR)subj, n, 0, 0, md, NULL);

		/* errors (a (?R) loop, limits) are no match for eval.c either */
		if (rc < 0)
			continue;
		t->matches++;
		if (!r->paths_set)
			continue;
		t->checked++;
		if (!starts_with_prefix(r, subj, n)) {
			struct strbuf s = { 0 };
			char *p = paths_text(r);

			add_bytes(&s, (const uint8_t *)subj, n);
			fprintf(stderr, "  UNSOUND: %s matches %s, prefixes %.200s\n", sb_str(&expr),
				sb_str(&s), p);
			unit_failures++;
			sb_free(&s);
			free(p);
		}
	}
	filter_free(f);
	free(r);
	sb_free(&expr);
}

static void test_regex_soundness(void)
{
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	struct tally t = { 0 };
	const char *env = getenv("TEST_LOWER_ROUNDS");
	unsigned rounds = env ? (unsigned)strtoul(env, NULL, 10) : 40000;

	for (unsigned i = 0; i < rounds && unit_failures < 10; i++) {
		struct gen g = { 0 };

		gen_alt(&g, 0, true);
		check_regex(&g, md, &t);
		gen_free(&g);
	}
	printf("test_lower: %u random regexes, %u compiled, %u with a path rule; %u matches, "
	       "%u of them checked against the prefixes\n",
	       t.regexes, t.compiled, t.with_rule, t.matches, t.checked);
	CHECK(t.checked >= rounds);
	pcre2_match_data_free(md);
}

/* ---- soundness: random expressions, checked against filter_match ---- */

static const char *const terms[] = {
	"pid == 1",	     "pid == 2",	"pid == 3",	     "comm == a",
	"comm == nginx",     "path ~ '^/a'",	"path ~ '^/(a|b)/'", "'^/a/x'",
	"path == /a/x",	     "path == /b/y",	"service == a",	     "service == b",
	"status == 200",     "path != /a",	"path == unknown",   "pid != 2",
	"'^/[ab]'",	     "comm ~ '^ng'",	"'/x'",		     "path ~ '^/a(/|$)'",
};

static const char *const paths[] = { "/a/x", "/a", "/b/y", "/ab", "/c", "/a/", NULL };
static const char *const comms[] = { "a", "b", "nginx" };

static void gen_expr(struct strbuf *sb, int depth)
{
	uint32_t k = depth > 3 ? 0 : rnd(6);

	if (k < 3) {
		sb_adds(sb, terms[rnd(sizeof(terms) / sizeof(terms[0]))]);
	} else if (k == 3) {
		sb_adds(sb, "not ");
		gen_expr(sb, depth + 1);
	} else {
		int n = 2 + (int)rnd(2);

		sb_addc(sb, '(');
		for (int i = 0; i < n; i++) {
			if (i)
				sb_adds(sb, k == 4 ? " and " : " or ");
			gen_expr(sb, depth + 1);
		}
		sb_addc(sb, ')');
	}
}

static bool passes(const struct kf_rules *r, const struct message *m)
{
	const char *path = m->flags & MSG_F_PATH_UNKNOWN ? NULL : m->path;
	bool ok = true;

	if (r->pids_set) {
		bool in = false;

		for (uint32_t i = 0; i < r->npids; i++)
			in |= r->pids[i] == m->who.pid;
		ok = in;
	}
	if (r->comms_set) {
		bool in = false;

		for (uint32_t i = 0; i < r->ncomms; i++)
			in |= !strcmp(r->comms[i], m->who.comm);
		ok &= in;
	}
	if (r->paths_set)
		ok &= path && starts_with_prefix(r, path, strlen(path));
	return ok;
}

static void test_expr_soundness(void)
{
	struct message *msgs[2 * 3 * 3 * 7];
	unsigned n = 0, exprs = 0, matches = 0, ruled = 0;

	for (int pid = 1; pid <= 2; pid++)
		for (int c = 0; c < 3; c++)
			for (int s = 0; s < 3; s++)
				for (int p = 0; p < 7; p++) {
					struct message *m = msg_new(s == 2 ? MSG_H1 : MSG_GRPC,
								    MSG_REQUEST, true);

					m->who.pid = (uint32_t)pid + (s == 1);
					strcpy(m->who.comm, comms[c]);
					m->status = s ? 200 : 500;
					if (paths[p])
						msg_set_str(&m->path, paths[p], strlen(paths[p]));
					else
						m->flags |= MSG_F_PATH_UNKNOWN;
					msgs[n++] = m;
				}
	for (int i = 0; i < 20000; i++) {
		struct strbuf sb = { 0 };
		struct kf_rules r;
		struct filter *f;

		gen_expr(&sb, 0);
		if (filter_compile(&f, sb_str(&sb), NULL)) {
			fprintf(stderr, "  '%s' does not compile\n", sb_str(&sb));
			unit_failures++;
			sb_free(&sb);
			continue;
		}
		exprs++;
		filter_lower(f, &r);
		CHECK(rules_ok(&r));
		ruled += r.pids_set || r.comms_set || r.paths_set;
		for (unsigned j = 0; j < n; j++) {
			if (!filter_match(f, msgs[j], NULL))
				continue;
			matches++;
			if (!passes(&r, msgs[j])) {
				fprintf(stderr, "  UNSOUND: '%s' matches pid %u comm %s path %s\n",
					sb_str(&sb), msgs[j]->who.pid, msgs[j]->who.comm,
					msgs[j]->path ? msgs[j]->path : "unknown");
				unit_failures++;
			}
		}
		filter_free(f);
		sb_free(&sb);
	}
	printf("test_lower: %u random expressions, %u with a rule; %u matches checked\n", exprs,
	       ruled, matches);
	for (unsigned j = 0; j < n; j++)
		msg_free(msgs[j]);
}

int main(void)
{
	test_examples();
	test_escapes();
	test_classes();
	test_quantifiers();
	test_anchors();
	test_not_lowered();
	test_terms();
	test_and_or();
	test_every_path();
	test_explain();
	test_regex_soundness();
	test_expr_soundness();
	return unit_result("test_lower");
}
