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

#include "prog_util.h"

struct conn {
	int fd;
	SSL *ssl;
	unsigned lport;
};

static void usage(void)
{
	fprintf(stderr, "usage: tls_pair HOST PORT [--rounds N] [--wait-ms N] [--go-file PATH]\n");
	exit(2);
}

static void open_conn(struct conn *c, SSL_CTX *ctx, const char *host, const char *port)
{
	c->fd = prog_tcp_connect(host, port);
	c->lport = prog_local_port(c->fd);
	c->ssl = SSL_new(ctx);
	if (!c->ssl || !SSL_set_fd(c->ssl, c->fd))
		prog_die("SSL_new");
	if (SSL_connect(c->ssl) != 1)
		prog_die("TLS handshake failed");
}

static void send_msg(struct conn *c, const char *msg)
{
	int n = SSL_write(c->ssl, msg, (int)strlen(msg));

	if (n <= 0 || (size_t)n != strlen(msg))
		prog_die("SSL_write failed");
}

static void expect_echo(struct conn *c, const char *msg)
{
	size_t want = strlen(msg), got = 0;
	char buf[256];

	while (got < want) {
		int n = SSL_read(c->ssl, buf + got, (int)(want - got));

		if (n <= 0)
			prog_die("SSL_read failed or peer closed before the echo came back");
		got += (size_t)n;
	}
	if (memcmp(buf, msg, want) != 0)
		prog_die("the echo differs from what was sent");
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
			rounds = prog_parse_num(argv[++i], usage);
		else if (!strcmp(argv[i], "--wait-ms"))
			wait_ms = prog_parse_num(argv[++i], usage);
		else if (!strcmp(argv[i], "--go-file"))
			go_file = argv[++i];
		else
			usage();
	}
	if (rounds > 1000)
		usage();

	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		prog_die("SSL_CTX_new");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	open_conn(&a, ctx, host, port);
	open_conn(&b, ctx, host, port);
	printf("{\"pid\":%d,\"lports\":[%u,%u]}\n", (int)getpid(), a.lport, b.lport);
	fflush(stdout);

	if (wait_ms)
		prog_sleep_ms(wait_ms);
	if (go_file)
		prog_wait_go_file(go_file);

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
