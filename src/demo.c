/* demo.c - the --demo child process: TLS setup and HTTP/1.1 traffic (HTTP/2 in demo_h2.c). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "demo.h"
#include "demo_h2.h"

#define DEMO_NAME "tlstop-demo"
#define DEMO_START_TIMEOUT_MS 10000
#define DEMO_KEEPALIVE_MS 250
#define DEMO_SHORT_MS 2000
#define DEMO_H2_RETRY_MS 1000

struct demo {
	pid_t pid;
	int ctl; /* SOCK_SEQPACKET to the child: its setup result, then "go" */
};

/* Everything below up to demo_start() runs only in the child. */

struct workload {
	SSL_CTX *server;
	SSL_CTX *client;
	int listen_fd;
	in_port_t port; /* host order */
};

struct job {
	struct workload *w;
	int fd;
};

/* Buffered HTTP/1.1 reading over one TLS connection. ex picks the
 * SSL_read_ex/SSL_write_ex family, so that both uprobe families see data. */
struct conn {
	SSL *ssl;
	bool ex;
	size_t off, len;
	char buf[8192];
};

struct request {
	char method[16];
	char path[256];
	bool close;
	bool bearer;
	size_t body_len;
	char body[4096];
};

struct route {
	const char *method;
	const char *path;
	void (*handle)(struct conn *c, const struct request *req);
};

struct call {
	const char *method;
	const char *path;
	const char *body;
};

static _Noreturn void child_fail(int ctl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static _Noreturn void child_fail(int ctl, const char *fmt, ...)
{
	char msg[512];
	unsigned long e = ERR_peek_last_error();
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (e && (size_t)n + 3 < sizeof(msg)) {
		strcpy(msg + n, ": ");
		ERR_error_string_n(e, msg + n + 2, sizeof(msg) - n - 2);
	}
	send(ctl, msg, strlen(msg), MSG_NOSIGNAL);
	_exit(1);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* The socket BIO turns EINTR into a retry rather than a failure; on these
 * blocking sockets that is the only way to get one. */
static bool conn_retry(struct conn *c, int r)
{
	int e = SSL_get_error(c->ssl, r);

	return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
}

static int conn_fill(struct conn *c)
{
	size_t n = 0;
	int r;

	if (c->off) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	if (c->len == sizeof(c->buf))
		return -1;
	for (;;) {
		if (c->ex) {
			r = SSL_read_ex(c->ssl, c->buf + c->len, sizeof(c->buf) - c->len, &n);
		} else {
			r = SSL_read(c->ssl, c->buf + c->len, (int)(sizeof(c->buf) - c->len));
			n = r > 0 ? (size_t)r : 0;
		}
		if (r > 0)
			break;
		if (!conn_retry(c, r))
			return -1;
	}
	c->len += n;
	return 0;
}

/* One line without its CRLF; lines longer than the buffer fail the connection. */
static int conn_line(struct conn *c, char *out, size_t size)
{
	char *nl;
	size_t n;

	while (!(nl = memchr(c->buf + c->off, '\n', c->len - c->off)))
		if (conn_fill(c))
			return -1;
	n = (size_t)(nl - (c->buf + c->off));
	if (n && nl[-1] == '\r')
		n--;
	if (n >= size)
		return -1;
	memcpy(out, c->buf + c->off, n);
	out[n] = '\0';
	c->off = (size_t)(nl + 1 - c->buf);
	return 0;
}

/* Copies n bytes to out, or drops them when out is NULL. */
static int conn_read(struct conn *c, char *out, size_t n)
{
	size_t k;

	while (n) {
		if (c->off == c->len && conn_fill(c))
			return -1;
		k = c->len - c->off < n ? c->len - c->off : n;
		if (out) {
			memcpy(out, c->buf + c->off, k);
			out += k;
		}
		c->off += k;
		n -= k;
	}
	return 0;
}

static int conn_write(struct conn *c, const char *p, size_t n)
{
	size_t done = 0;
	int r;

	/* without SSL_MODE_ENABLE_PARTIAL_WRITE a write is all or nothing, and a
	 * retry must repeat the same arguments */
	do
		r = c->ex ? SSL_write_ex(c->ssl, p, n, &done) : SSL_write(c->ssl, p, (int)n);
	while (r <= 0 && conn_retry(c, r));
	return r > 0 ? 0 : -1;
}

/* Fixed names rather than strftime: tlstop may have set an LC_TIME locale. */
static void http_date(char *out, size_t size)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	snprintf(out, size, "%s, %02d %s %d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
		 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static const char *status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Content Too Large";
	case 500: return "Internal Server Error";
	default: return "Unknown";
	}
}

/* extra is zero or more complete "Name: value\r\n" header lines. */
static void respond(struct conn *c, int status, const char *type, const char *extra,
		    const char *body)
{
	char date[40], msg[2048];
	int n;

	http_date(date, sizeof(date));
	n = snprintf(msg, sizeof(msg),
		     "HTTP/1.1 %d %s\r\n"
		     "Date: %s\r\n"
		     "Server: " DEMO_NAME "\r\n"
		     "Content-Type: %s\r\n"
		     "Content-Length: %zu\r\n"
		     "%s"
		     "\r\n"
		     "%s",
		     status, status_text(status), date, type, strlen(body), extra ? extra : "",
		     body);
	if (n > 0 && (size_t)n < sizeof(msg))
		conn_write(c, msg, (size_t)n);
}

static void handle_user(struct conn *c, const struct request *req)
{
	char cookie[128];
	unsigned char r[8];
	unsigned long long sid = 0;
	size_t i;

	if (!req->bearer) {
		respond(c, 401, "application/json",
			"WWW-Authenticate: Bearer realm=\"" DEMO_NAME "\"\r\n",
			"{\"error\":\"unauthorized\"}");
		return;
	}
	if (RAND_bytes(r, sizeof(r)) == 1)
		for (i = 0; i < sizeof(r); i++)
			sid = sid << 8 | r[i];
	snprintf(cookie, sizeof(cookie),
		 "Set-Cookie: session=%016llx; Path=/; Secure; HttpOnly; SameSite=Strict\r\n", sid);
	respond(c, 200, "application/json", cookie,
		"{\"id\":42,\"name\":\"Ada Lovelace\",\"email\":\"ada@example.com\","
		"\"roles\":[\"admin\",\"billing\"],\"created_at\":\"2015-12-10T09:00:00Z\"}");
}

static void handle_healthz(struct conn *c, const struct request *req)
{
	respond(c, 200, "text/plain; charset=utf-8", NULL, "ok");
}

static void handle_order(struct conn *c, const struct request *req)
{
	static atomic_uint next_id = 1001;
	unsigned int id = atomic_fetch_add(&next_id, 1);
	char location[64], body[256];

	if (!req->body_len || req->body[0] != '{') {
		respond(c, 400, "application/json", NULL, "{\"error\":\"expected a JSON object\"}");
		return;
	}
	snprintf(location, sizeof(location), "Location: /api/v1/orders/%u\r\n", id);
	snprintf(body, sizeof(body),
		 "{\"id\":%u,\"status\":\"created\",\"received_bytes\":%zu,\"total\":\"24.90\","
		 "\"currency\":\"EUR\"}",
		 id, req->body_len);
	respond(c, 201, "application/json", location, body);
}

static void handle_flaky(struct conn *c, const struct request *req)
{
	unsigned char r = 0;

	RAND_bytes(&r, 1);
	if (r < 85)
		respond(c, 500, "application/json", NULL,
			"{\"error\":\"upstream timed out\",\"retry_after\":1}");
	else
		respond(c, 200, "application/json", NULL, "{\"status\":\"ok\",\"attempt\":1}");
}

/* Written chunk by chunk with pauses, as a server streaming events would. */
static void handle_stream(struct conn *c, const struct request *req)
{
	char date[40], msg[512];
	int i, n;

	http_date(date, sizeof(date));
	n = snprintf(msg, sizeof(msg),
		     "HTTP/1.1 200 OK\r\n"
		     "Date: %s\r\n"
		     "Server: " DEMO_NAME "\r\n"
		     "Content-Type: application/x-ndjson\r\n"
		     "Transfer-Encoding: chunked\r\n"
		     "Cache-Control: no-store\r\n"
		     "\r\n",
		     date);
	if (conn_write(c, msg, (size_t)n))
		return;
	for (i = 1; i <= 3; i++) {
		char line[128];
		int len = snprintf(line, sizeof(line),
				   "{\"seq\":%d,\"event\":\"price\",\"symbol\":\"TLS\",\"value\":%d.%02d}\n",
				   i, 100 + i, i * 7);

		n = snprintf(msg, sizeof(msg), "%x\r\n%s\r\n", len, line);
		if (conn_write(c, msg, (size_t)n))
			return;
		sleep_ms(20);
	}
	conn_write(c, "0\r\n\r\n", 5);
}

static const struct route routes[] = {
	{ "GET", "/api/v1/users/42", handle_user },
	{ "GET", "/healthz", handle_healthz },
	{ "POST", "/api/v1/orders", handle_order },
	{ "GET", "/api/v1/flaky", handle_flaky },
	{ "GET", "/api/v1/stream", handle_stream },
};

static void dispatch(struct conn *c, const struct request *req)
{
	bool path_known = false;
	size_t i;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(routes[i].path, req->path))
			continue;
		if (!strcmp(routes[i].method, req->method)) {
			routes[i].handle(c, req);
			return;
		}
		path_known = true;
	}
	if (path_known)
		respond(c, 405, "application/json", NULL, "{\"error\":\"method not allowed\"}");
	else
		respond(c, 404, "application/json", NULL, "{\"error\":\"not found\"}");
}

/* Returns 0, -1 when the connection is gone, or an HTTP status to answer
 * with before closing. */
static int read_request(struct conn *c, struct request *req)
{
	char line[1024], version[16];
	const char *v;

	memset(req, 0, sizeof(*req));
	do {
		if (conn_line(c, line, sizeof(line)))
			return -1;
	} while (!line[0]); /* RFC 9112 2.2: ignore CRLFs before a request */
	if (sscanf(line, "%15s %255s %15s", req->method, req->path, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7))
		return 400;
	req->close = !strcmp(version, "HTTP/1.0");
	for (;;) {
		if (conn_line(c, line, sizeof(line)))
			return -1;
		if (!line[0])
			break;
		v = strchr(line, ':');
		if (!v)
			return 400;
		for (v++; *v == ' ' || *v == '\t'; v++)
			;
		if (!strncasecmp(line, "Content-Length:", 15)) {
			req->body_len = strtoul(v, NULL, 10);
			if (req->body_len > sizeof(req->body) - 1)
				return 413;
		} else if (!strncasecmp(line, "Connection:", 11)) {
			req->close = strcasestr(v, "close") != NULL;
		} else if (!strncasecmp(line, "Authorization:", 14)) {
			req->bearer = !strncasecmp(v, "Bearer ", 7);
		} else if (!strncasecmp(line, "Transfer-Encoding:", 18)) {
			return 400; /* the demo client never sends chunked bodies */
		}
	}
	if (conn_read(c, req->body, req->body_len))
		return -1;
	req->body[req->body_len] = '\0';
	return 0;
}

static void *serve_conn(void *arg)
{
	struct job *job = arg;
	struct workload *w = job->w;
	int fd = job->fd;
	struct conn *c = calloc(1, sizeof(*c));
	struct request *req = malloc(sizeof(*req));
	const unsigned char *alpn = NULL;
	unsigned int alpn_len = 0;
	int r;

	free(arg);
	if (!c || !req)
		goto out;
	c->ex = true;
	c->ssl = SSL_new(w->server);
	/* SSL_set_fd rather than a BIO pair: tlstop attributes data by socket fd */
	if (!c->ssl || !SSL_set_fd(c->ssl, fd) || SSL_accept(c->ssl) != 1)
		goto out;
	SSL_get0_alpn_selected(c->ssl, &alpn, &alpn_len);
	if (alpn_len == 2 && !memcmp(alpn, "h2", 2)) {
		demo_h2_serve(c->ssl);
		goto shutdown;
	}
	for (;;) {
		r = read_request(c, req);
		if (r < 0)
			break;
		if (r > 0) {
			respond(c, r, "application/json", "Connection: close\r\n",
				"{\"error\":\"bad request\"}");
			break;
		}
		dispatch(c, req);
		if (req->close)
			break;
	}
shutdown:
	SSL_shutdown(c->ssl);
out:
	if (c)
		SSL_free(c->ssl);
	free(c);
	free(req);
	close(fd);
	ERR_clear_error();
	return NULL;
}

static void *accept_loop(void *arg)
{
	struct workload *w = arg;
	pthread_attr_t attr;
	pthread_t t;
	struct job *job;
	int fd;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		fd = accept4(w->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EINTR && errno != ECONNABORTED)
				sleep_ms(100); /* EMFILE and friends: do not spin */
			continue;
		}
		job = malloc(sizeof(*job));
		if (!job) {
			close(fd);
			continue;
		}
		job->w = w;
		job->fd = fd;
		if (pthread_create(&t, &attr, serve_conn, job)) {
			free(job);
			close(fd);
		}
	}
	return NULL;
}

static const struct call calls[] = {
	{ "GET", "/api/v1/users/42", NULL },
	{ "GET", "/healthz", NULL },
	{ "POST", "/api/v1/orders",
	  "{\"items\":[{\"sku\":\"coffee-beans-1kg\",\"quantity\":2}],\"currency\":\"EUR\"}" },
	{ "GET", "/api/v1/missing", NULL },
	{ "GET", "/api/v1/flaky", NULL },
	{ "GET", "/api/v1/stream", NULL },
};

#define NCALLS (sizeof(calls) / sizeof(calls[0]))

/* alpn: the protocols offered, in wire format */
static SSL *client_connect(struct workload *w, const char *alpn)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(w->port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	SSL *ssl = NULL;

	if (fd < 0)
		return NULL;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		goto fail;
	ssl = SSL_new(w->client);
	/* set_alpn_protos returns 0 on success */
	if (!ssl || !SSL_set_fd(ssl, fd) ||
	    SSL_set_alpn_protos(ssl, (const unsigned char *)alpn, (unsigned int)strlen(alpn)) ||
	    !X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1") ||
	    SSL_connect(ssl) != 1)
		goto fail;
	return ssl;
fail:
	SSL_free(ssl);
	close(fd);
	ERR_clear_error();
	return NULL;
}

static void client_close(SSL *ssl)
{
	int fd = SSL_get_fd(ssl);

	SSL_shutdown(ssl);
	SSL_free(ssl);
	close(fd);
	ERR_clear_error();
}

/* Sends one request and reads the whole response, so the keep-alive
 * connection stays in step; *closed says the server ends the connection. */
static int client_call(struct conn *c, in_port_t port, const struct call *call, bool last,
		       bool *closed)
{
	char msg[1024], line[1024], length[96] = "";
	bool api = !strncmp(call->path, "/api/", 5), chunked = false, has_length = false;
	size_t body_len = 0, n;
	int len;

	if (call->body)
		snprintf(length, sizeof(length),
			 "Content-Type: application/json\r\nContent-Length: %zu\r\n",
			 strlen(call->body));
	len = snprintf(msg, sizeof(msg),
		       "%s %s HTTP/1.1\r\n"
		       "Host: 127.0.0.1:%u\r\n"
		       "User-Agent: " DEMO_NAME "/1.0\r\n"
		       "Accept: application/json\r\n"
		       "%s%s%s"
		       "\r\n"
		       "%s",
		       call->method, call->path, (unsigned int)port,
		       api ? "Authorization: Bearer demo-token\r\n" : "", length,
		       last ? "Connection: close\r\n" : "", call->body ? call->body : "");
	if (len < 0 || (size_t)len >= sizeof(msg) || conn_write(c, msg, (size_t)len))
		return -1;

	*closed = last;
	if (conn_line(c, line, sizeof(line)) || strncmp(line, "HTTP/1.", 7))
		return -1;
	for (;;) {
		if (conn_line(c, line, sizeof(line)))
			return -1;
		if (!line[0])
			break;
		if (!strncasecmp(line, "Content-Length:", 15)) {
			body_len = strtoul(line + 15, NULL, 10);
			has_length = true;
		} else if (!strncasecmp(line, "Transfer-Encoding:", 18)) {
			chunked = strcasestr(line + 18, "chunked") != NULL;
		} else if (!strncasecmp(line, "Connection:", 11) && strcasestr(line + 11, "close")) {
			*closed = true;
		}
	}
	if (!chunked) {
		if (!has_length) {
			*closed = true; /* delimited by the close: nothing more to keep in step */
			return 0;
		}
		return conn_read(c, NULL, body_len);
	}
	for (;;) {
		if (conn_line(c, line, sizeof(line)))
			return -1;
		n = strtoul(line, NULL, 16);
		if (!n)
			break;
		if (conn_read(c, NULL, n) || conn_line(c, line, sizeof(line)))
			return -1;
	}
	do { /* trailer section up to the empty line */
		if (conn_line(c, line, sizeof(line)))
			return -1;
	} while (line[0]);
	return 0;
}

/* A fresh connection for one request every DEMO_SHORT_MS, as a CLI or
 * cron job would make, next to the long-lived one. */
static void *short_loop(void *arg)
{
	struct workload *w = arg;
	struct conn *c = calloc(1, sizeof(*c));
	size_t i = 1;
	bool closed;

	if (!c)
		return NULL;
	for (;; i = (i + 1) % NCALLS, sleep_ms(DEMO_SHORT_MS)) {
		c->off = c->len = 0;
		c->ssl = client_connect(w, DEMO_ALPN_HTTP11);
		if (!c->ssl)
			continue;
		client_call(c, w->port, &calls[i], true, &closed);
		client_close(c->ssl);
	}
	return NULL;
}

/* One HTTP/2 connection at a time, long-lived, made again when it ends. */
static void *h2_loop(void *arg)
{
	SSL *ssl;

	for (;; sleep_ms(DEMO_H2_RETRY_MS)) {
		ssl = client_connect(arg, DEMO_ALPN_H2 DEMO_ALPN_HTTP11);
		if (!ssl)
			continue;
		demo_h2_client(ssl);
		client_close(ssl);
	}
	return NULL;
}

/* One keep-alive connection cycling through every call, as a service
 * talking to its backend would. */
static _Noreturn void keepalive_loop(struct workload *w)
{
	struct conn *c = calloc(1, sizeof(*c));
	size_t i = 0;
	bool closed;

	if (!c)
		_exit(1);
	for (;; i = (i + 1) % NCALLS, sleep_ms(DEMO_KEEPALIVE_MS)) {
		if (!c->ssl) {
			c->off = c->len = 0;
			c->ssl = client_connect(w, DEMO_ALPN_HTTP11);
			if (!c->ssl)
				continue;
		}
		if (client_call(c, w->port, &calls[i], false, &closed) || closed) {
			client_close(c->ssl);
			c->ssl = NULL;
		}
	}
}

/* The portable EVP_PKEY_CTX route rather than EVP_EC_gen(), which needs 3.0. */
static EVP_PKEY *make_key(void)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
	EVP_PKEY *key = NULL;

	if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, NID_X9_62_prime256v1) <= 0 ||
	    EVP_PKEY_keygen(ctx, &key) <= 0)
		key = NULL;
	EVP_PKEY_CTX_free(ctx);
	return key;
}

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

static X509 *make_cert(EVP_PKEY *key)
{
	X509 *x = X509_new();
	BIGNUM *serial = BN_new();
	X509_NAME *name;

	if (!x || !serial || !X509_set_version(x, 2) || /* 2 means v3 */
	    !BN_rand(serial, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
	    !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -60) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 24 * 60 * 60))
		goto fail;
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)"localhost", -1, -1, 0) ||
	    !X509_set_issuer_name(x, name) || !X509_set_pubkey(x, key) ||
	    add_ext(x, NID_basic_constraints, "critical,CA:FALSE") ||
	    add_ext(x, NID_key_usage, "critical,digitalSignature") ||
	    add_ext(x, NID_ext_key_usage, "serverAuth") ||
	    add_ext(x, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost") ||
	    !X509_sign(x, key, EVP_sha256()))
		goto fail;
	BN_free(serial);
	return x;
fail:
	BN_free(serial);
	X509_free(x);
	return NULL;
}

static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char ours[] = DEMO_ALPN_H2 DEMO_ALPN_HTTP11;
	unsigned char *sel;

	if (SSL_select_next_proto(&sel, outlen, ours, sizeof(ours) - 1, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

static void workload_init(struct workload *w, int ctl)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t salen = sizeof(sa);
	EVP_PKEY *key;
	X509 *cert;

	key = make_key();
	if (!key)
		child_fail(ctl, "cannot generate an EC P-256 key");
	cert = make_cert(key);
	if (!cert)
		child_fail(ctl, "cannot make a self-signed certificate");

	w->server = SSL_CTX_new(TLS_server_method());
	if (!w->server || !SSL_CTX_set_min_proto_version(w->server, TLS1_2_VERSION) ||
	    SSL_CTX_use_certificate(w->server, cert) != 1 ||
	    SSL_CTX_use_PrivateKey(w->server, key) != 1)
		child_fail(ctl, "cannot set up the TLS server");
	SSL_CTX_set_alpn_select_cb(w->server, select_alpn, NULL);

	/* the throw-away certificate is the only trust anchor: the client verifies
	 * the server as a real one would, without touching the system store */
	w->client = SSL_CTX_new(TLS_client_method());
	if (!w->client || !SSL_CTX_set_min_proto_version(w->client, TLS1_2_VERSION) ||
	    X509_STORE_add_cert(SSL_CTX_get_cert_store(w->client), cert) != 1)
		child_fail(ctl, "cannot set up the TLS client");
	SSL_CTX_set_verify(w->client, SSL_VERIFY_PEER, NULL);
	X509_free(cert);
	EVP_PKEY_free(key);
	ERR_clear_error(); /* so child_fail() below cannot blame a stale OpenSSL error */

	w->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (w->listen_fd < 0 || bind(w->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(w->listen_fd, 64) ||
	    getsockname(w->listen_fd, (struct sockaddr *)&sa, &salen))
		child_fail(ctl, "cannot listen on 127.0.0.1: %s", strerror(errno));
	w->port = ntohs(sa.sin_port);
}

static void close_fds_except(int keep)
{
	struct rlimit rl;
	int fd, max = 1024;

#ifdef SYS_close_range
	if ((keep == 3 || !syscall(SYS_close_range, 3, keep - 1, 0)) &&
	    !syscall(SYS_close_range, keep + 1, ~0U, 0))
		return;
#endif
	/* before Linux 5.9 */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY)
		max = rl.rlim_cur < 65536 ? (int)rl.rlim_cur : 65536;
	for (fd = 3; fd < max; fd++)
		if (fd != keep)
			close(fd);
}

/* Leaves the child with nothing of tlstop's but the control socket: default
 * signal handling (tlstop's handlers would restore a terminal the child does
 * not own), no signals blocked (demo_stop()'s SIGTERM must land), /dev/null
 * for stdio (tlstop's stdout is its output), and none of its other files. */
static int child_detach(int ctl, pid_t parent)
{
	sigset_t none;
	int sig, fd;

	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	signal(SIGPIPE, SIG_IGN); /* a peer closing mid-write is routine here */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/* PR_SET_PDEATHSIG fires when the forking thread ends, and only from now
	 * on: a parent already gone shows as a new getppid() */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) || getppid() != parent)
		_exit(0);
	/* threads inherit the name, so every thread reads tlstop-demo */
	prctl(PR_SET_NAME, DEMO_NAME);

	if (ctl < 3) {
		fd = fcntl(ctl, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			_exit(1);
		close(ctl);
		ctl = fd;
	}
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		child_fail(ctl, "cannot open /dev/null: %s", strerror(errno));
	if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		child_fail(ctl, "cannot redirect stdio to /dev/null: %s", strerror(errno));
	close_fds_except(ctl);
	return ctl;
}

static _Noreturn void child_main(int ctl, pid_t parent)
{
	static struct workload w;
	pthread_t t;
	char go;
	ssize_t n;

	ctl = child_detach(ctl, parent);
	workload_init(&w, ctl);
	if (pthread_create(&t, NULL, accept_loop, &w))
		child_fail(ctl, "cannot start the server thread");
	if (send(ctl, "", 1, MSG_NOSIGNAL) != 1)
		_exit(1);
	/* no traffic until the probes are attached: it would be lost to a newcomer */
	do
		n = recv(ctl, &go, 1, 0);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(0); /* tlstop ended without demo_go() */
	close(ctl);
	if (pthread_create(&t, NULL, short_loop, &w) || pthread_create(&t, NULL, h2_loop, &w))
		_exit(1);
	keepalive_loop(&w);
}

static int set_cause(char **cause, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int set_cause(char **cause, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) < 0)
		*cause = NULL;
	va_end(ap);
	return -1;
}

static void reap(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

int demo_start(struct demo **dp, char **cause)
{
	pid_t parent = getpid();
	struct pollfd pfd;
	struct demo *d;
	char msg[512];
	ssize_t n = -1;
	int sv[2], r;

	*dp = NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return set_cause(cause, "cannot start the demo workload: out of memory");
	/* SEQPACKET: the setup result arrives as one message, and a child that
	 * died shows as end of file rather than a hang */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		free(d);
		return set_cause(cause, "cannot start the demo workload: socketpair: %s",
				 strerror(errno));
	}
	d->pid = fork();
	if (d->pid < 0) {
		set_cause(cause, "cannot start the demo workload: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		free(d);
		return -1;
	}
	if (!d->pid) {
		close(sv[0]);
		child_main(sv[1], parent);
	}
	close(sv[1]);
	d->ctl = sv[0];

	pfd.fd = d->ctl;
	pfd.events = POLLIN;
	do
		r = poll(&pfd, 1, DEMO_START_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	if (r > 0)
		do
			n = recv(d->ctl, msg, sizeof(msg) - 1, 0);
		while (n < 0 && errno == EINTR);
	if (n == 1 && !msg[0]) {
		*dp = d;
		return 0;
	}
	if (n > 0) {
		msg[n] = '\0';
		set_cause(cause, "cannot start the demo workload: %s", msg);
	} else if (!r) {
		set_cause(cause, "cannot start the demo workload: it was not ready after %d s",
			  DEMO_START_TIMEOUT_MS / 1000);
	} else {
		set_cause(cause, "cannot start the demo workload: its process ended while starting");
	}
	kill(d->pid, SIGKILL);
	reap(d->pid);
	close(d->ctl);
	free(d);
	return -1;
}

pid_t demo_pid(const struct demo *d)
{
	return d ? d->pid : -1;
}

void demo_go(struct demo *d)
{
	if (!d || d->ctl < 0)
		return;
	/* if the child is gone there is nothing to tell; MSG_NOSIGNAL keeps
	 * that from being a SIGPIPE */
	while (send(d->ctl, "g", 1, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
	close(d->ctl);
	d->ctl = -1;
}

void demo_stop(struct demo *d)
{
	if (!d)
		return;
	kill(d->pid, SIGTERM);
	reap(d->pid);
	if (d->ctl >= 0)
		close(d->ctl);
	free(d);
}
