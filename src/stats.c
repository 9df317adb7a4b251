/* stats.c - encoding of counter snapshots for recordings. */
#include <string.h>

#include "stats.h"

struct stats_wire {
	struct tlstop_counters kernel;
	uint32_t nlibs;
	uint32_t pad;
	struct tlstop_lib_counters lib[];
};

/* The prefilter's counters follow the libraries; recordings made before
 * the prefilter existed end with the libraries. */
size_t stats_encoded_max(void)
{
	return sizeof(struct stats_wire) + TLSTOP_MAX_LIBS * sizeof(struct tlstop_lib_counters) +
	       sizeof(struct tlstop_kf_counters);
}

size_t stats_encode(const struct stats *s, void *buf)
{
	struct stats_wire *w = buf;

	w->kernel = s->kernel;
	w->nlibs = s->nlibs;
	w->pad = 0;
	memcpy(w->lib, s->lib, s->nlibs * sizeof(s->lib[0]));
	memcpy(&w->lib[s->nlibs], &s->kfilter, sizeof(s->kfilter));
	return sizeof(*w) + s->nlibs * sizeof(s->lib[0]) + sizeof(s->kfilter);
}

int stats_decode(struct stats *s, const void *buf, size_t len)
{
	const struct stats_wire *w = buf;
	size_t libs;

	if (len < sizeof(*w) || w->nlibs > TLSTOP_MAX_LIBS)
		return -1;
	libs = sizeof(*w) + w->nlibs * sizeof(w->lib[0]);
	if (len != libs && len != libs + sizeof(s->kfilter))
		return -1;
	s->kernel = w->kernel;
	s->nlibs = w->nlibs;
	memcpy(s->lib, w->lib, w->nlibs * sizeof(w->lib[0]));
	memset(&s->kfilter, 0, sizeof(s->kfilter));
	if (len > libs)
		memcpy(&s->kfilter, &w->lib[w->nlibs], sizeof(s->kfilter));
	return 0;
}
