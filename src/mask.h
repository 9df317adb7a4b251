/* mask.h - masking of secret header values (credentials, cookies, API
 * keys) in decoded messages, keeping the parts that are not secret. */
#ifndef TLSTOP_MASK_H
#define TLSTOP_MASK_H

#include <stdbool.h>
#include <stddef.h>

#include "message.h"

#define MASK_STARS "****"

struct mask;

/* A masker for authorization, proxy-authorization, cookie, set-cookie
 * and x-api-key plus the nextra names in extra (copied; names compare
 * ASCII case-insensitively). enabled false (--no-mask) makes a masker
 * that only flags messages MSG_F_MASK_OFF. NULL when out of memory. */
struct mask *mask_new(bool enabled, const char *const *extra, size_t nextra);
void mask_free(struct mask *mk);

/* Whether values of header name are masked; always false when masking
 * is disabled. */
bool mask_is_secret(const struct mask *mk, const char *name);

/*
 * Rewrites in place the values of m's secret headers and trailers, each
 * then flagged MSG_HDR_MASKED; unknown (NULL) values stay as they are.
 *   authorization, proxy-authorization: "Bearer abc" -> "Bearer ****"
 *     (a leading token followed by a space is the scheme, kept)
 *   cookie: "a=1; b=2" -> "a=****; b=****"
 *   set-cookie: "id=abc; Path=/" -> "id=****; Path=/"
 *   others: "****"
 * When disabled, only sets MSG_F_MASK_OFF on m.
 */
void mask_message(const struct mask *mk, struct message *m);

#endif
