/* mask.c - masking of secret header values. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mask.h"
#include "strbuf.h"

enum mask_kind {
	MASK_NONE,
	MASK_ALL, /* the whole value */
	MASK_SCHEME, /* what follows an auth scheme */
	MASK_COOKIE, /* every pair's value */
	MASK_SET_COOKIE, /* the first pair's value; the attributes are not secret */
};

static const struct {
	const char *name;
	enum mask_kind kind;
} builtin[] = {
	{ "authorization", MASK_SCHEME },
	{ "proxy-authorization", MASK_SCHEME },
	{ "cookie", MASK_COOKIE },
	{ "set-cookie", MASK_SET_COOKIE },
	{ "x-api-key", MASK_ALL },
};

struct mask {
	bool enabled;
	char **extra;
	size_t nextra;
};

struct mask *mask_new(bool enabled, const char *const *extra, size_t nextra)
{
	struct mask *mk = calloc(1, sizeof(*mk));

	if (!mk)
		return NULL;
	mk->enabled = enabled;
	if (nextra) {
		mk->extra = calloc(nextra, sizeof(*mk->extra));
		if (!mk->extra)
			goto fail;
	}
	for (; mk->nextra < nextra; mk->nextra++) {
		mk->extra[mk->nextra] = strdup(extra[mk->nextra]);
		if (!mk->extra[mk->nextra])
			goto fail;
	}
	return mk;
fail:
	mask_free(mk);
	return NULL;
}

void mask_free(struct mask *mk)
{
	if (!mk)
		return;
	for (size_t i = 0; i < mk->nextra; i++)
		free(mk->extra[i]);
	free(mk->extra);
	free(mk);
}

static enum mask_kind kind_of(const struct mask *mk, const char *name)
{
	if (!mk->enabled || !name)
		return MASK_NONE;
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		if (!strcasecmp(name, builtin[i].name))
			return builtin[i].kind;
	for (size_t i = 0; i < mk->nextra; i++)
		if (!strcasecmp(name, mk->extra[i]))
			return MASK_ALL;
	return MASK_NONE;
}

bool mask_is_secret(const struct mask *mk, const char *name)
{
	return kind_of(mk, name) != MASK_NONE;
}

/* RFC 9110 5.6.2 token characters: what an auth scheme is made of. */
static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void mask_scheme(struct strbuf *b, const char *v)
{
	size_t n = 0;

	while (is_tchar(v[n]))
		n++;
	if (n && v[n] == ' ')
		sb_add(b, v, n + 1);
	sb_adds(b, MASK_STARS);
}

/* Masks the value of the cookie pair at p, keeping spaces and the name
 * (a pair without '=' is all value; a blank one hides nothing); returns
 * the end of the pair (its ';' or the end of the string). */
static const char *mask_pair(struct strbuf *b, const char *p)
{
	size_t n = strcspn(p, ";");
	size_t blank = strspn(p, " \t");
	const char *eq = memchr(p, '=', n);

	if (eq)
		sb_add(b, p, (size_t)(eq - p) + 1);
	else
		sb_add(b, p, blank < n ? blank : n);
	if (eq || blank < n)
		sb_adds(b, MASK_STARS);
	return p + n;
}

static void mask_cookie(struct strbuf *b, const char *v)
{
	for (;;) {
		v = mask_pair(b, v);
		if (!*v)
			return;
		sb_addc(b, *v++);
	}
}

static void mask_set_cookie(struct strbuf *b, const char *v)
{
	sb_adds(b, mask_pair(b, v));
}

/* The masked text of v, or NULL when out of memory. */
static char *masked(enum mask_kind kind, const char *v)
{
	struct strbuf b = { 0 };

	switch (kind) {
	case MASK_SCHEME:
		mask_scheme(&b, v);
		break;
	case MASK_COOKIE:
		mask_cookie(&b, v);
		break;
	case MASK_SET_COOKIE:
		mask_set_cookie(&b, v);
		break;
	case MASK_ALL:
	case MASK_NONE:
		sb_adds(&b, MASK_STARS);
		break;
	}
	if (b.oom) {
		sb_free(&b);
		return NULL;
	}
	return b.s ? sb_steal(&b) : strdup("");
}

static void mask_header(struct message *m, struct msg_header *h, enum mask_kind kind)
{
	char *v = masked(kind, h->value);

	if (v && !msg_header_set_value(m, h, v)) {
		free(v);
	} else {
		free(v);
		/* out of memory: the secret must still go, so stars in place */
		size_t n = strlen(h->value);

		n = n < strlen(MASK_STARS) ? n : strlen(MASK_STARS);
		memcpy(h->value, MASK_STARS, n);
		h->value[n] = '\0';
	}
	h->flags |= MSG_HDR_MASKED;
}

void mask_message(const struct mask *mk, struct message *m)
{
	if (!mk->enabled) {
		m->flags |= MSG_F_MASK_OFF;
		return;
	}
	for (uint32_t i = 0; i < m->nheaders; i++) {
		struct msg_header *h = &m->headers[i];
		enum mask_kind kind;

		if (!h->value || (h->flags & MSG_HDR_MASKED))
			continue;
		kind = kind_of(mk, h->name);
		if (kind != MASK_NONE)
			mask_header(m, h, kind);
	}
}
