/* privs.h - can this process trace at all: capabilities and kernel BTF. */
#ifndef TLSTOP_PRIVS_H
#define TLSTOP_PRIVS_H

/* Returns 0, or -1 with *cause: one sentence naming what is missing and
 * what to do. */
int privs_check(char **cause);

#endif
