/* demo.h - a built-in loopback HTTPS workload for --demo. */
#ifndef TLSTOP_DEMO_H
#define TLSTOP_DEMO_H

#include <sys/types.h>

struct demo;

/* Forks one child process (so tlstop, which never traces itself, traces it)
 * that holds an HTTPS server and client on 127.0.0.1 and waits for
 * demo_go(). Returns 0, or -1 with *cause. */
int demo_start(struct demo **d, char **cause);
pid_t demo_pid(const struct demo *d);
/* Lets the workload start: called once the probes are attached. */
void demo_go(struct demo *d);
/* Stops the child and reaps it; d is freed. NULL is fine. */
void demo_stop(struct demo *d);

#endif
