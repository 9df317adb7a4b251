/* test_mask.c - masking of secret header values. */
#include <string.h>

#include "mask.h"
#include "unit.h"

static const struct msg_limits lim = { 1 << 16, 16, 1 << 16 };

static void hdr(struct message *m, const char *name, const char *value, uint32_t flags)
{
	msg_add_header(m, name, name ? strlen(name) : 0, value, value ? strlen(value) : 0, flags,
		       &lim);
}

/* The value of one header through the default masker. */
static void check_one(const char *name, const char *value, const char *want)
{
	struct mask *mk = mask_new(true, NULL, 0);
	struct message *m = msg_new(MSG_H1, MSG_REQUEST, true);

	hdr(m, name, value, 0);
	mask_message(mk, m);
	CHECK_STR(m->headers[0].value, want);
	CHECK(m->headers[0].flags & MSG_HDR_MASKED);
	CHECK(!(m->flags & MSG_F_MASK_OFF));
	msg_free(m);
	mask_free(mk);
}

static void test_kinds(void)
{
	check_one("authorization", "Bearer abc.def", "Bearer ****");
	check_one("authorization", "Basic xyz", "Basic ****");
	check_one("authorization", "Digest username=\"u\", response=\"r\"", "Digest ****");
	check_one("authorization", "Bearer ", "Bearer ****");
	check_one("authorization", "sk-secret", "****");
	check_one("authorization", " leading", "****");
	check_one("authorization", "a=b c", "****");
	check_one("authorization", "", "****");
	check_one("proxy-authorization", "Basic dXNlcjpwYXNz", "Basic ****");
	check_one("cookie", "a=1; b=2", "a=****; b=****");
	check_one("cookie", "sid=x;theme=dark", "sid=****;theme=****");
	check_one("cookie", "lonely", "****");
	check_one("cookie", "a=1;", "a=****;");
	check_one("cookie", "a=1; ; b=", "a=****; ; b=****");
	check_one("cookie", "", "");
	check_one("set-cookie", "id=abc; Path=/; HttpOnly", "id=****; Path=/; HttpOnly");
	check_one("set-cookie", "id=abc", "id=****");
	check_one("set-cookie", "novalue; Secure", "****; Secure");
	check_one("x-api-key", "k-123", "****");
}

static void test_case_and_others(void)
{
	struct mask *mk = mask_new(true, NULL, 0);
	struct message *m = msg_new(MSG_H1, MSG_REQUEST, true);

	hdr(m, "Host", "example.com", 0);
	hdr(m, "AUTHORIZATION", "Bearer t", 0);
	hdr(m, "Cookie", "a=1", 0);
	hdr(m, "X-Api-Key", "k", 0);
	hdr(m, "x-apikey", "not on the list", 0);
	hdr(m, NULL, "unknown name", 0);
	hdr(m, "cookie", NULL, 0);
	mask_message(mk, m);
	CHECK_STR(m->headers[0].value, "example.com");
	CHECK(!(m->headers[0].flags & MSG_HDR_MASKED));
	CHECK_STR(m->headers[1].value, "Bearer ****");
	CHECK_STR(m->headers[2].value, "a=****");
	CHECK_STR(m->headers[3].value, "****");
	CHECK_STR(m->headers[4].value, "not on the list");
	CHECK_STR(m->headers[5].value, "unknown name");
	CHECK(m->headers[6].value == NULL);
	CHECK(!(m->headers[6].flags & MSG_HDR_MASKED));
	/* masking twice changes nothing more */
	mask_message(mk, m);
	CHECK_STR(m->headers[1].value, "Bearer ****");
	CHECK(mask_is_secret(mk, "Set-Cookie"));
	CHECK(mask_is_secret(mk, "proxy-authorization"));
	CHECK(!mask_is_secret(mk, "content-type"));
	CHECK(!mask_is_secret(mk, NULL));
	msg_free(m);
	mask_free(mk);
}

static void test_trailers_and_grpc(void)
{
	struct mask *mk = mask_new(true, NULL, 0);
	struct message *m = msg_new(MSG_GRPC, MSG_RESPONSE, false);

	hdr(m, ":status", "200", 0);
	hdr(m, "content-type", "application/grpc", 0);
	hdr(m, "grpc-status", "0", MSG_HDR_TRAILER);
	hdr(m, "set-cookie", "s=1; Max-Age=60", MSG_HDR_TRAILER);
	hdr(m, "x-api-key", "trailer-secret", MSG_HDR_TRAILER);
	mask_message(mk, m);
	CHECK_STR(m->headers[2].value, "0");
	CHECK_STR(m->headers[3].value, "s=****; Max-Age=60");
	CHECK_STR(m->headers[4].value, "****");
	CHECK(m->headers[4].flags & MSG_HDR_TRAILER);
	CHECK(m->headers[4].flags & MSG_HDR_MASKED);
	msg_free(m);
	mask_free(mk);
}

static void test_extra(void)
{
	const char *extra[] = { "X-Auth-Token", "cookie" };
	struct mask *mk = mask_new(true, extra, 2);
	struct message *m = msg_new(MSG_H2, MSG_REQUEST, true);

	hdr(m, "x-auth-token", "Bearer abc", 0);
	hdr(m, "cookie", "a=1", 0);
	mask_message(mk, m);
	CHECK_STR(m->headers[0].value, "****");
	/* a listed built-in keeps its own rule */
	CHECK_STR(m->headers[1].value, "a=****");
	CHECK(mask_is_secret(mk, "X-AUTH-TOKEN"));
	msg_free(m);
	mask_free(mk);
}

static void test_disabled(void)
{
	const char *extra[] = { "x-auth-token" };
	struct mask *mk = mask_new(false, extra, 1);
	struct message *m = msg_new(MSG_H1, MSG_REQUEST, true);

	hdr(m, "authorization", "Bearer abc", 0);
	hdr(m, "x-auth-token", "t", 0);
	mask_message(mk, m);
	CHECK(m->flags & MSG_F_MASK_OFF);
	CHECK_STR(m->headers[0].value, "Bearer abc");
	CHECK_STR(m->headers[1].value, "t");
	CHECK(!(m->headers[0].flags & MSG_HDR_MASKED));
	CHECK(!mask_is_secret(mk, "authorization"));
	msg_free(m);
	mask_free(mk);
}

int main(void)
{
	test_kinds();
	test_case_and_others();
	test_trailers_and_grpc();
	test_extra();
	test_disabled();
	return unit_result("test_mask");
}
