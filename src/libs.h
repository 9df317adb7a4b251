/* libs.h - the table of TLS library files probes are attached to, indexed
 * by lib_id (the uprobe cookie); filled by the attach core when live and by
 * the recording when replayed, read by the printers and the stats. */
#ifndef TLSTOP_LIBS_H
#define TLSTOP_LIBS_H

#include <stdbool.h>
#include <stdint.h>

#include "tlstop.h"

enum lib_kind {
	LIB_OPENSSL = 1,
	LIB_BORINGSSL = 2,
};

struct lib_info {
	uint32_t id;
	enum lib_kind kind;
	bool is_static; /* the library code lives in an executable */
	char *path; /* as the first process that mapped it names it */
};

/* REC_LIB payload: this header, then path_len bytes of path (no NUL). */
struct rec_lib {
	uint32_t id;
	uint16_t kind;
	uint8_t is_static;
	uint8_t pad;
	uint32_t path_len;
};

struct lib_table {
	struct lib_info *libs[TLSTOP_MAX_LIBS];
	uint32_t count; /* ids are 0..count-1 */
};

const char *lib_kind_name(enum lib_kind kind);
/* "static" or "dynamic"; NULL for no library */
const char *lib_linking_name(const struct lib_info *lib);
/* Adds a library under the next free id; returns it, or NULL when the table
 * is full (TLSTOP_MAX_LIBS) or memory ran out. */
struct lib_info *libs_add(struct lib_table *t, enum lib_kind kind, bool is_static,
			  const char *path);
/* Puts a library read from a recording at its recorded id. -1 on a bad id. */
int libs_put(struct lib_table *t, const struct rec_lib *r, const char *path);
const struct lib_info *libs_get(const struct lib_table *t, uint32_t id);
void libs_clear(struct lib_table *t);

#endif
