/* attach.h - the BPF side's lifecycle: open, configure, load, attach the
 * tracepoints and, per target file, the uprobes; read the counters;
 * detach everything on close. */
#ifndef TLSTOP_ATTACH_H
#define TLSTOP_ATTACH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "kfilter.h"
#include "stats.h"
#include "targets.h"

struct tracer_config {
	pid_t self;
	uint32_t snaplen;
	const pid_t *pids; /* -p: only these, or NULL */
	int npids;
	uint32_t ringbuf_bytes;
};

struct tracer;

/* Returns 0, or -1 with *cause. */
int tracer_open(struct tracer **tr, const struct tracer_config *cfg, char **cause);
/* The target_ops.attach implementation: arg is the tracer. */
int tracer_attach_file(void *arg, struct target_file *f, int fd, char **cause);
int tracer_ringbuf_map_fd(const struct tracer *tr);
/* The prefilter's rule maps, for kfilter_set(). */
void tracer_kf_maps(const struct tracer *tr, struct kfilter_maps *m);
void tracer_read_counters(const struct tracer *tr, struct stats *s, uint32_t nlibs);
void tracer_close(struct tracer *tr);

#endif
