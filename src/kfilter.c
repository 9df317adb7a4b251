/* kfilter.c - writes the lowered rules into the prefilter's maps. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "filter.h"
#include "kfilter.h"
#include "proto/hpack.h"
#include "strbuf.h"
#include "tlstop.h"

static int set_config(int fd, uint32_t flags, uint32_t sample_n, uint32_t gen)
{
	struct tlstop_kf_config c = { .flags = flags, .gen = gen, .sample_n = sample_n };
	uint32_t zero = 0;

	return bpf_map_update_elem(fd, &zero, &c, BPF_ANY);
}

static int clear_map(int fd, size_t key_size)
{
	uint8_t key[sizeof(struct tlstop_kf_path_key)];

	if (key_size > sizeof(key))
		return -1;
	/* deleting the first key each time: the walk never loses its place */
	while (bpf_map_get_next_key(fd, NULL, key) == 0)
		if (bpf_map_delete_elem(fd, key))
			return -1;
	return 0;
}

static int put(int fd, const void *key)
{
	uint8_t one = 1;

	return bpf_map_update_elem(fd, key, &one, BPF_ANY);
}

void kfilter_prefix_keys(const struct kf_prefix *p, struct tlstop_kf_path_key k[2])
{
	size_t n = p->len;

	memset(k, 0, 2 * sizeof(*k));
	k[0].prefixlen = 8 * (1 + p->len);
	k[0].data[0] = TLSTOP_KF_RAW;
	memcpy(k[0].data + 1, p->s, n);
	/* a prefix too long once coded is cut, which only lets more through */
	while (hpack_huffman_bits((const char *)p->s, n) > 8 * TLSTOP_KF_PATH_MAX)
		n--;
	k[1].data[0] = TLSTOP_KF_HUFF;
	hpack_huffman_encode((const char *)p->s, n, k[1].data + 1);
	k[1].prefixlen = 8 + hpack_huffman_bits((const char *)p->s, n);
}

static int put_prefix(int fd, const struct kf_prefix *p)
{
	struct tlstop_kf_path_key k[2];

	kfilter_prefix_keys(p, k);
	return put(fd, &k[0]) || put(fd, &k[1]) ? -1 : 0;
}

static int fill(const struct kfilter_maps *m, const struct kf_rules *r, uint32_t *flags)
{
	char comm[TLSTOP_COMM_LEN];

	if (clear_map(m->pids, sizeof(uint32_t)) || clear_map(m->comms, sizeof(comm)) ||
	    clear_map(m->paths, sizeof(struct tlstop_kf_path_key)))
		return -1;
	if (!r)
		return 0;
	if (r->pids_set) {
		for (uint32_t i = 0; i < r->npids; i++)
			if (put(m->pids, &r->pids[i]))
				return -1;
		*flags |= TLSTOP_KF_PIDS;
	}
	if (r->comms_set) {
		for (uint32_t i = 0; i < r->ncomms; i++) {
			memset(comm, 0, sizeof(comm));
			strncpy(comm, r->comms[i], sizeof(comm) - 1);
			if (put(m->comms, comm))
				return -1;
		}
		*flags |= TLSTOP_KF_COMMS;
	}
	if (r->paths_set) {
		for (uint32_t i = 0; i < r->nprefixes; i++)
			if (put_prefix(m->paths, &r->prefixes[i]))
				return -1;
		*flags |= TLSTOP_KF_PATHS;
	}
	return 0;
}

int kfilter_set(const struct kfilter_maps *m, const struct kf_rules *r, uint32_t sample_n,
		uint32_t gen, char **cause)
{
	uint32_t flags = sample_n > 1 ? TLSTOP_KF_SAMPLE : 0;

	/* rules off while the sets change: a call in between is copied whole */
	if (set_config(m->config, 0, 0, gen) || fill(m, r, &flags) ||
	    set_config(m->config, flags, sample_n, gen)) {
		int err = errno;

		set_config(m->config, 0, 0, gen);
		if (asprintf(cause,
			     "cannot write the in-kernel filter rules (%s); every call is "
			     "copied and the filter applies in userspace only",
			     strerror(err)) < 0)
			*cause = NULL;
		return -1;
	}
	return 0;
}

struct kfilter {
	struct kfilter_maps maps;
	bool live;
	uint32_t sample_n;
	uint32_t gen;
	struct filter *f; /* the expression lowered; NULL: none */
	struct kf_rules rules;
};

struct kfilter *kfilter_new(const struct kfilter_maps *m, uint32_t sample_n)
{
	struct kfilter *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	if (m) {
		k->maps = *m;
		k->live = true;
	}
	k->sample_n = sample_n;
	return k;
}

void kfilter_free(struct kfilter *k)
{
	if (!k)
		return;
	filter_free(k->f);
	free(k);
}

/* One expression matching what any of fs matches: "(A) or (B)". Each
 * compiled alone, so the whole does too. */
static int combine(struct filter **out, const struct filter *const *fs, size_t n)
{
	struct filter_error err;
	struct strbuf sb = { 0 };
	int rc;

	*out = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!fs[i])
			return 0;
		if (n == 1)
			sb_adds(&sb, filter_text(fs[i]));
		else
			sb_printf(&sb, "%s(%s)", i ? " or " : "", filter_text(fs[i]));
	}
	if (!n || sb.oom) {
		sb_free(&sb);
		return 0;
	}
	rc = filter_compile(out, sb_str(&sb), &err);
	sb_free(&sb);
	return rc;
}

int kfilter_update(struct kfilter *k, const struct filter *const *fs, size_t n, char **cause)
{
	struct filter *f;

	if (combine(&f, fs, n)) {
		char *unset = NULL;

		/* the old rules may not hold for the new filters: none is safe */
		if (k->live)
			kfilter_set(&k->maps, NULL, k->sample_n, ++k->gen, &unset);
		free(unset);
		if (asprintf(cause, "cannot combine the screens' filters for the kernel; every "
				    "call is copied and the filters apply in userspace only") < 0)
			*cause = NULL;
		return -1;
	}
	filter_free(k->f);
	k->f = f;
	filter_lower(f, &k->rules);
	if (!k->live)
		return 0;
	return kfilter_set(&k->maps, f ? &k->rules : NULL, k->sample_n, ++k->gen, cause);
}

const struct kf_rules *kfilter_rules(const struct kfilter *k)
{
	return &k->rules;
}

void kfilter_explain(const struct kfilter *k, bool ascii, struct strbuf *sb)
{
	if (!k->live)
		sb_adds(sb, "(a replay: the kernel filtered nothing now; the recording holds what was copied then)\n");
	filter_explain(k->f, &k->rules, k->sample_n, ascii, sb);
}
