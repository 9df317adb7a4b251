/* unit.h - the few assertion helpers the unit tests share. */
#ifndef TLSTOP_UNIT_H
#define TLSTOP_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_failures;

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
				#cond);                                              \
			unit_failures++;                                             \
		}                                                                    \
	} while (0)

#define CHECK_EQ_U64(a, b)                                                           \
	do {                                                                         \
		unsigned long long a_ = (a), b_ = (b);                               \
		if (a_ != b_) {                                                      \
			fprintf(stderr, "%s:%d: %s == %s failed: %llu != %llu\n",     \
				__FILE__, __LINE__, #a, #b, a_, b_);                 \
			unit_failures++;                                             \
		}                                                                    \
	} while (0)

#define CHECK_STR(a, b)                                                              \
	do {                                                                         \
		const char *a_ = (a), *b_ = (b);                                     \
		if (!a_ || !b_ || strcmp(a_, b_)) {                                  \
			fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", \
				__FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)",      \
				b_ ? b_ : "(null)");                                 \
			unit_failures++;                                             \
		}                                                                    \
	} while (0)

/* automake: 0 pass, 1 fail */
static inline int unit_result(const char *name)
{
	if (unit_failures)
		fprintf(stderr, "%s: %d check(s) failed\n", name, unit_failures);
	else
		printf("%s: all checks passed\n", name);
	return unit_failures ? 1 : 0;
}

#endif
