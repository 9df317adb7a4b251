/* fuzz_mask.c - libFuzzer target for header masking: the first byte picks
 * enabled/disabled and whether an extra name is listed, then lines
 * "name:value" become headers (a line without ':' is a header of unknown
 * name, "!" alone one of unknown value). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mask.h"

static const struct msg_limits lim = { 1 << 16, 16, 1 << 16 };

static void add_line(struct message *m, const uint8_t *p, size_t n, uint32_t flags)
{
	const uint8_t *colon = memchr(p, ':', n);

	if (n == 1 && p[0] == '!')
		msg_add_header(m, "cookie", 6, NULL, 0, flags, &lim);
	else if (!colon)
		msg_add_header(m, NULL, 0, (const char *)p, n, flags, &lim);
	else
		msg_add_header(m, (const char *)p, (size_t)(colon - p), (const char *)colon + 1,
			       n - (size_t)(colon - p) - 1, flags, &lim);
}

/* A masked value never grows by more than the stars of each pair. */
static void check(const struct mask *mk, const struct message *m, const size_t *before)
{
	for (uint32_t i = 0; i < m->nheaders; i++) {
		const struct msg_header *h = &m->headers[i];
		bool secret = mask_is_secret(mk, h->name);

		if (!h->value)
			continue;
		if (!secret && (h->flags & MSG_HDR_MASKED))
			__builtin_trap();
		if (secret && !(h->flags & MSG_HDR_MASKED))
			__builtin_trap();
		if (strlen(h->value) > 4 + before[i] * 5)
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *extra[] = { "x-token" };
	const uint8_t *end = data + size, *nl;
	struct message *m;
	struct mask *mk;
	size_t before[64] = { 0 };

	if (!size)
		return 0;
	mk = mask_new(data[0] & 1, extra, data[0] & 2 ? 1 : 0);
	m = msg_new(MSG_H2, MSG_REQUEST, true);
	if (!mk || !m)
		abort();
	for (data++; data < end && m->nheaders < 64; data = nl + 1) {
		nl = memchr(data, '\n', (size_t)(end - data));
		if (!nl)
			nl = end;
		add_line(m, data, (size_t)(nl - data), m->nheaders & 1 ? MSG_HDR_TRAILER : 0);
		if (m->nheaders && m->headers[m->nheaders - 1].value)
			before[m->nheaders - 1] = strlen(m->headers[m->nheaders - 1].value);
	}
	mask_message(mk, m);
	check(mk, m, before);
	msg_free(m);
	mask_free(mk);
	return 0;
}
