/* libs.c - the table of attached TLS library files. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libs.h"

const char *lib_kind_name(enum lib_kind kind)
{
	switch (kind) {
	case LIB_OPENSSL:
		return "openssl";
	case LIB_BORINGSSL:
		return "boringssl";
	}
	return "unknown";
}

const char *lib_linking_name(const struct lib_info *lib)
{
	if (!lib)
		return NULL;
	return lib->is_static ? "static" : "dynamic";
}

static struct lib_info *lib_new(uint32_t id, enum lib_kind kind, bool is_static,
				const char *path, size_t path_len)
{
	struct lib_info *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->path = strndup(path, path_len);
	if (!l->path) {
		free(l);
		return NULL;
	}
	l->id = id;
	l->kind = kind;
	l->is_static = is_static;
	return l;
}

struct lib_info *libs_add(struct lib_table *t, enum lib_kind kind, bool is_static,
			  const char *path)
{
	struct lib_info *l;

	if (t->count >= TLSTOP_MAX_LIBS)
		return NULL;
	l = lib_new(t->count, kind, is_static, path, strlen(path));
	if (l)
		t->libs[t->count++] = l;
	return l;
}

int libs_put(struct lib_table *t, const struct rec_lib *r, const char *path)
{
	struct lib_info *l;

	if (r->id >= TLSTOP_MAX_LIBS)
		return -1;
	l = lib_new(r->id, r->kind, r->is_static, path, r->path_len);
	if (!l)
		return -1;
	if (t->libs[r->id]) {
		free(t->libs[r->id]->path);
		free(t->libs[r->id]);
	}
	t->libs[r->id] = l;
	if (r->id >= t->count)
		t->count = r->id + 1;
	return 0;
}

const struct lib_info *libs_get(const struct lib_table *t, uint32_t id)
{
	return id < t->count ? t->libs[id] : NULL;
}

void libs_clear(struct lib_table *t)
{
	for (uint32_t i = 0; i < t->count; i++) {
		if (t->libs[i]) {
			free(t->libs[i]->path);
			free(t->libs[i]);
			t->libs[i] = NULL;
		}
	}
	t->count = 0;
}
