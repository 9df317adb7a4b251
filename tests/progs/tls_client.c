/* tls_client.c - a small OpenSSL client for tlstop's end-to-end tests.
 *
 *   tls_client HOST PORT [--message TEXT | --size N] [--wait-ms N]
 *              [--go-file PATH] [--read N]
 *
 * Connects over TCP and does the TLS handshake (no certificate
 * verification: the tests use a throwaway self-signed certificate), prints
 * {"pid":P,"lport":L} on stdout, optionally waits (--wait-ms, then until
 * --go-file exists), then sends the message, or N bytes of the repeating
 * PATTERN below, in ONE SSL_write call, and reads the response until the
 * peer closes or --read N bytes have arrived.  Prints
 * {"sent":S,"received":R} and exits 0.
 *
 * Linked twice by Makefile.am: statically against libssl.a/libcrypto.a
 * (tests/progs/tls_client_static, where the executable itself is the TLS
 * library) and, by hand, dynamically. */
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

/* Byte i of a --size payload is PATTERN[i % 62]; check_records.py knows it. */
#define PATTERN "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

static void usage(void)
{
	fprintf(stderr, "usage: tls_client HOST PORT [--message TEXT | --size N] [--wait-ms N] "
			"[--go-file PATH] [--read N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *host, *port, *message = NULL, *go_file = NULL;
	long size = -1, wait_ms = 0, want = -1;
	size_t len, received = 0;
	char *buf, rbuf[16384];
	SSL_CTX *ctx;
	SSL *ssl;
	int fd, i;

	if (argc < 3)
		usage();
	host = argv[1];
	port = argv[2];
	for (i = 3; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--message"))
			message = argv[++i];
		else if (!strcmp(argv[i], "--size"))
			size = prog_parse_num(argv[++i], usage);
		else if (!strcmp(argv[i], "--wait-ms"))
			wait_ms = prog_parse_num(argv[++i], usage);
		else if (!strcmp(argv[i], "--go-file"))
			go_file = argv[++i];
		else if (!strcmp(argv[i], "--read"))
			want = prog_parse_num(argv[++i], usage);
		else
			usage();
	}
	if (message && size >= 0)
		usage();
	if (size >= 0) {
		len = (size_t)size;
		buf = malloc(len ? len : 1);
		if (!buf)
			prog_die("out of memory");
		for (size_t k = 0; k < len; k++)
			buf[k] = PATTERN[k % (sizeof(PATTERN) - 1)];
	} else {
		if (!message)
			message = "hello from tls_client\n";
		len = strlen(message);
		buf = strdup(message);
	}

	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		prog_die("SSL_CTX_new");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	fd = prog_tcp_connect(host, port);
	ssl = SSL_new(ctx);
	if (!ssl || !SSL_set_fd(ssl, fd))
		prog_die("SSL_new");
	if (SSL_connect(ssl) != 1)
		prog_die("TLS handshake failed");

	printf("{\"pid\":%d,\"lport\":%u}\n", (int)getpid(), prog_local_port(fd));
	fflush(stdout);

	if (wait_ms)
		prog_sleep_ms(wait_ms);
	if (go_file)
		prog_wait_go_file(go_file);

	if (len) {
		/* one call: without SSL_MODE_ENABLE_PARTIAL_WRITE a blocking
		 * SSL_write sends everything or fails */
		int n = SSL_write(ssl, buf, (int)len);

		if (n <= 0 || (size_t)n != len)
			prog_die("SSL_write failed");
	}

	while (want < 0 || received < (size_t)want) {
		size_t room = sizeof(rbuf);
		int n;

		if (want >= 0 && (size_t)want - received < room)
			room = (size_t)want - received;
		n = SSL_read(ssl, rbuf, (int)room);
		if (n <= 0) {
			int e = SSL_get_error(ssl, n);

			if (e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL)
				break;
			prog_die("SSL_read failed");
		}
		received += (size_t)n;
	}
	if (want >= 0 && received < (size_t)want) {
		fprintf(stderr, "tls_client: peer closed after %zu of %ld bytes\n", received, want);
		return 1;
	}
	SSL_shutdown(ssl);
	SSL_free(ssl);
	close(fd);
	SSL_CTX_free(ctx);
	free(buf);
	printf("{\"sent\":%zu,\"received\":%zu}\n", len, received);
	return 0;
}
