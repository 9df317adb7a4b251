/* tls_pair.c - one process, two concurrent TLS connections, for tlstop's
 * end-to-end test "two connections in one process told apart".
 *
 *   tls_pair HOST PORT [--rounds N] [--wait-ms N] [--go-file PATH]
 *
 * Opens connection A, then connection B, to HOST:PORT (an echo server:
 * py_tls.py server --mode echo), prints {"pid":P,"lports":[PORT_A,PORT_B]},
 * optionally waits, then for i in 0..N-1 (default 3) writes
 *     A: "pair A message <i>\n"
 *     B: "pair B message <i> from the second connection\n"
 * (A's write, then B's, then reads each echo back), so the two
 * connections' calls interleave within one process.  Prints
 * {"done":true} and exits 0 when every echo came back intact. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

struct conn {
	int fd;
	SSL *ssl;
	unsigned lport;
};

static void die(const char *what)
{
	fprintf(stderr, "tls_pair: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: tls_pair HOST PORT [--rounds N] [--wait-ms N] [--go-file PATH]\n");
	exit(2);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static long parse_num(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0)
		usage();
	return v;
}

static void open_conn(struct conn *c, SSL_CTX *ctx, const char *host, const char *port)
{
	struct addrinfo hints, *res, *ai;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int err;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	err = getaddrinfo(host, port, &hints, &res);
	if (err) {
		fprintf(stderr, "tls_pair: %s:%s: %s\n", host, port, gai_strerror(err));
		exit(1);
	}
	c->fd = -1;
	for (ai = res; ai; ai = ai->ai_next) {
		c->fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (c->fd < 0)
			continue;
		if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(c->fd);
		c->fd = -1;
	}
	freeaddrinfo(res);
	if (c->fd < 0)
		die("cannot connect");
	if (getsockname(c->fd, (struct sockaddr *)&ss, &sl))
		die("getsockname");
	c->lport = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) :
					      ntohs(((struct sockaddr_in *)&ss)->sin_port);
	c->ssl = SSL_new(ctx);
	if (!c->ssl || !SSL_set_fd(c->ssl, c->fd))
		die("SSL_new");
	if (SSL_connect(c->ssl) != 1)
		die("TLS handshake failed");
}

static void send_msg(struct conn *c, const char *msg)
{
	int n = SSL_write(c->ssl, msg, (int)strlen(msg));

	if (n <= 0 || (size_t)n != strlen(msg))
		die("SSL_write failed");
}

static void expect_echo(struct conn *c, const char *msg)
{
	size_t want = strlen(msg), got = 0;
	char buf[256];

	while (got < want) {
		int n = SSL_read(c->ssl, buf + got, (int)(want - got));

		if (n <= 0)
			die("SSL_read failed or peer closed before the echo came back");
		got += (size_t)n;
	}
	if (memcmp(buf, msg, want) != 0)
		die("the echo differs from what was sent");
}

int main(int argc, char **argv)
{
	const char *host, *port, *go_file = NULL;
	long rounds = 3, wait_ms = 0;
	struct conn a, b;
	SSL_CTX *ctx;
	int i;

	if (argc < 3)
		usage();
	host = argv[1];
	port = argv[2];
	for (i = 3; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--rounds"))
			rounds = parse_num(argv[++i]);
		else if (!strcmp(argv[i], "--wait-ms"))
			wait_ms = parse_num(argv[++i]);
		else if (!strcmp(argv[i], "--go-file"))
			go_file = argv[++i];
		else
			usage();
	}
	if (rounds > 1000)
		usage();

	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		die("SSL_CTX_new");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	open_conn(&a, ctx, host, port);
	open_conn(&b, ctx, host, port);
	printf("{\"pid\":%d,\"lports\":[%u,%u]}\n", (int)getpid(), a.lport, b.lport);
	fflush(stdout);

	if (wait_ms)
		sleep_ms(wait_ms);
	if (go_file) {
		struct stat st;
		int tries = 0;

		while (stat(go_file, &st) != 0) {
			if (++tries > 3000)
				die("timed out waiting for --go-file");
			sleep_ms(10);
		}
	}

	for (i = 0; i < rounds; i++) {
		char ma[128], mb[128];

		snprintf(ma, sizeof(ma), "pair A message %d\n", i);
		snprintf(mb, sizeof(mb), "pair B message %d from the second connection\n", i);
		send_msg(&a, ma);
		send_msg(&b, mb);
		expect_echo(&a, ma);
		expect_echo(&b, mb);
	}

	SSL_shutdown(a.ssl);
	SSL_shutdown(b.ssl);
	SSL_free(a.ssl);
	SSL_free(b.ssl);
	close(a.fd);
	close(b.fd);
	SSL_CTX_free(ctx);
	printf("{\"done\":true}\n");
	return 0;
}
