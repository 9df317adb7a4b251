/* re_prefix.h - the literal beginnings of an anchored regex: the path
 * prefixes that every match of a PCRE2 pattern starts with, for the
 * kernel's path rule (lower.c). */
#ifndef TLSTOP_RE_PREFIX_H
#define TLSTOP_RE_PREFIX_H

#include <stddef.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "lower.h"

/* Reads the pattern re (len bytes) that PCRE2 compiled as code, with the
 * options parse.c gives (0: a character is a byte). On success returns
 * NULL and *v, a malloc'd array the caller frees, of *n prefixes such that
 * every subject code matches begins with one of them: at most
 * TLSTOP_KF_MAX_PREFIXES (the longest are cut a byte at a time to fit),
 * each of 1..TLSTOP_KF_PATH_MAX bytes, some perhaps repeated or beginning
 * others; *n is 0 when nothing can match. Otherwise returns why there is
 * no such set, as static text for :filter explain, and *v is NULL. The set
 * may be wider than the regex, never narrower: what the reading does not
 * follow ends a prefix early, or leaves no set. */
const char *re_prefix_read(const char *re, size_t len, const pcre2_code *code,
			   struct kf_prefix **v, size_t *n);

#endif
