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

/* Byte i of a --size payload is PATTERN[i % 62]; check_records.py knows it. */
#define PATTERN "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

static void die(const char *what)
{
	fprintf(stderr, "tls_client: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: tls_client HOST PORT [--message TEXT | --size N] [--wait-ms N] "
			"[--go-file PATH] [--read N]\n");
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

static int tcp_connect(const char *host, const char *port)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, err;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	err = getaddrinfo(host, port, &hints, &res);
	if (err) {
		fprintf(stderr, "tls_client: %s:%s: %s\n", host, port, gai_strerror(err));
		exit(1);
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		fprintf(stderr, "tls_client: cannot connect to %s:%s: %s\n", host, port,
			strerror(errno));
		exit(1);
	}
	return fd;
}

static unsigned local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		die("getsockname");
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
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
			size = parse_num(argv[++i]);
		else if (!strcmp(argv[i], "--wait-ms"))
			wait_ms = parse_num(argv[++i]);
		else if (!strcmp(argv[i], "--go-file"))
			go_file = argv[++i];
		else if (!strcmp(argv[i], "--read"))
			want = parse_num(argv[++i]);
		else
			usage();
	}
	if (message && size >= 0)
		usage();
	if (size >= 0) {
		len = (size_t)size;
		buf = malloc(len ? len : 1);
		if (!buf)
			die("out of memory");
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
		die("SSL_CTX_new");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	fd = tcp_connect(host, port);
	ssl = SSL_new(ctx);
	if (!ssl || !SSL_set_fd(ssl, fd))
		die("SSL_new");
	if (SSL_connect(ssl) != 1)
		die("TLS handshake failed");

	printf("{\"pid\":%d,\"lport\":%u}\n", (int)getpid(), local_port(fd));
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

	if (len) {
		/* one call: without SSL_MODE_ENABLE_PARTIAL_WRITE a blocking
		 * SSL_write sends everything or fails */
		int n = SSL_write(ssl, buf, (int)len);

		if (n <= 0 || (size_t)n != len)
			die("SSL_write failed");
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
			die("SSL_read failed");
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
