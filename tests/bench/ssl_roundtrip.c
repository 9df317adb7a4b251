/* ssl_roundtrip.c - TLS echo round trips in one process, timed: the workload
 * of tlstop's overhead benchmark (tests/bench/run.sh).
 *
 *   ssl_roundtrip [--size BYTES] [--iterations N] [--warmup N] [--cpu N]
 *                 [--bio socket|mem] [--ex]
 *   ssl_roundtrip --hold
 *
 * A client and a server talk TLS 1.3 with a self-signed P-256 certificate
 * made in memory at start. Each round trip: the client SSL_write()s BYTES
 * then SSL_read()s until the echo is complete; the server SSL_read()s until
 * it has BYTES then SSL_write()s them back. Only the N timed round trips
 * after the warm-up are counted. --ex makes both sides call SSL_write_ex and
 * SSL_read_ex instead, the other pair of entry points a tracer must probe.
 *
 * --bio socket (the default): a server thread and the client (main thread)
 * over 127.0.0.1 on an ephemeral port, blocking sockets. --cpu pins both
 * threads to one CPU: the round trip is then a chain of direct switches whose
 * time is the CPU work on its path, instead of cross-CPU wake-ups whose
 * latency varies from run to run with where the scheduler put the threads.
 *
 * --bio mem: both ends in the main thread, joined by a BIO pair; the thread
 * plays the server between the client's write and read. No system calls or
 * context switches on the path, so the round trip is little more than the TLS
 * work and the SSL calls themselves, and a tracer's cost per call stands out
 * against it; --cpu pins that one thread.
 *
 * Prints one line:
 *
 *   ns_per_roundtrip=F iterations=N size=S warmup=W ssl_calls_per_roundtrip=F
 *   client_calls=C server_calls=C cpu=N bio=socket|mem api=plain|ex libssl=PATH
 *
 * ssl_calls_per_roundtrip counts the read and write calls of both sides
 * (4 when every read returns the whole message); libssl is the file the
 * process maps SSL_write from, the one a tracer must probe.
 *
 * --hold only keeps libssl mapped until a signal ends the process, so that
 * a tracer that attaches to the libraries of running processes finds it at
 * start rather than racing the first measured process. */
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "../progs/prog_util.h"

/* one TLS record carries at most 16 KiB: the largest payload a single
 * SSL_write/SSL_read pair moves, which is what the benchmark wants */
#define MAX_SIZE (16 * 1024)

/* Each half of the BIO pair must hold the largest flight one side writes
 * before the other reads: a full record (MAX_SIZE plus header, content type
 * and tag) or the server's handshake flight with its certificate. A write
 * that does not fit would fail with SSL_ERROR_WANT_WRITE, which the round
 * trip treats as an error. */
#define PAIR_BUF (64 * 1024)

/* --ex: SSL_write_ex/SSL_read_ex instead of SSL_write/SSL_read */
static bool use_ex;

struct server {
	int listen_fd;
	SSL_CTX *ctx;
	size_t size;
	unsigned long warmup;
	unsigned long iterations;
	unsigned long calls; /* SSL calls during the timed round trips */
	int failed;
};

static void die(const char *what)
{
	fprintf(stderr, "ssl_roundtrip: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static void usage(FILE *f)
{
	fputs("usage: ssl_roundtrip [--size BYTES] [--iterations N] [--warmup N] [--cpu N]\n"
	      "                     [--bio socket|mem] [--ex]\n"
	      "       ssl_roundtrip --hold\n",
	      f);
}

static unsigned long parse_count(const char *opt, const char *s, unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > max) {
		fprintf(stderr, "ssl_roundtrip: --%s %s: expected a number up to %lu\n", opt, s,
			max);
		exit(2);
	}
	return v;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static SSL_CTX *make_ctx(int server, EVP_PKEY *pkey, X509 *cert)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());

	if (!ctx)
		die("SSL_CTX_new failed");
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	if (server) {
		if (SSL_CTX_use_certificate(ctx, cert) != 1 ||
		    SSL_CTX_use_PrivateKey(ctx, pkey) != 1)
			die("cannot use the certificate");
		/* no session tickets: they would add reads outside the
		 * round trips being measured */
		SSL_CTX_set_num_tickets(ctx, 0);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	}
	return ctx;
}

static void set_nodelay(int fd)
{
	int one = 1;

	/* each message is one write; Nagle would still hold back the last
	 * segment of a multi-segment record behind the peer's delayed ACK */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		die("setsockopt TCP_NODELAY failed");
}

/* SSL_read until len bytes arrived; returns the number of SSL_read calls,
 * or -1 on error or end of stream. Over memory BIOs the peer has written the
 * whole message before this runs, so running out of data is an error too. */
static long read_full(SSL *ssl, unsigned char *buf, size_t len)
{
	size_t got = 0;
	long calls = 0;

	while (got < len) {
		size_t n;
		int ok;

		if (use_ex) {
			ok = SSL_read_ex(ssl, buf + got, len - got, &n);
		} else {
			int r = SSL_read(ssl, buf + got, (int)(len - got));

			ok = r > 0;
			n = ok ? (size_t)r : 0;
		}
		calls++;
		if (!ok)
			return -1;
		got += n;
	}
	return calls;
}

/* Without SSL_MODE_ENABLE_PARTIAL_WRITE a blocking SSL_write writes all, and
 * one into a BIO pair with room for the record does too. */
static int write_full(SSL *ssl, const unsigned char *buf, size_t len)
{
	size_t n;

	if (use_ex)
		return SSL_write_ex(ssl, buf, len, &n) == 1 && n == len ? 0 : -1;
	return SSL_write(ssl, buf, (int)len) == (int)len ? 0 : -1;
}

static void *server_main(void *arg)
{
	struct server *s = arg;
	unsigned long total = s->warmup + s->iterations;
	unsigned char *buf = malloc(s->size);
	SSL *ssl = NULL;
	int fd;

	s->failed = 1;
	fd = accept(s->listen_fd, NULL, NULL);
	if (fd < 0 || !buf)
		goto out;
	set_nodelay(fd);
	ssl = SSL_new(s->ctx);
	if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1)
		goto out;
	for (unsigned long i = 0; i < total; i++) {
		long calls = read_full(ssl, buf, s->size);

		if (calls < 0 || write_full(ssl, buf, s->size))
			goto out;
		if (i >= s->warmup)
			s->calls += (unsigned long)calls + 1;
	}
	SSL_shutdown(ssl);
	s->failed = 0;
out:
	if (s->failed)
		ERR_print_errors_fp(stderr);
	SSL_free(ssl);
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

static int listen_loopback(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 1) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len))
		die("cannot listen on 127.0.0.1");
	*port = ntohs(sa.sin_port);
	return fd;
}

static int connect_loopback(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("cannot connect to the server thread");
	set_nodelay(fd);
	return fd;
}

/* One round trip; returns the client's SSL calls, or -1. Over memory BIOs
 * peer is the server's end, echoed here between the client's write and read,
 * with its SSL calls added to *peer_calls. */
static long roundtrip(SSL *ssl, const unsigned char *out, unsigned char *in, size_t size,
		      SSL *peer, unsigned char *peer_buf, unsigned long *peer_calls)
{
	long calls;

	if (write_full(ssl, out, size))
		return -1;
	if (peer) {
		calls = read_full(peer, peer_buf, size);
		if (calls < 0 || write_full(peer, peer_buf, size))
			return -1;
		*peer_calls += (unsigned long)calls + 1;
	}
	calls = read_full(ssl, in, size);
	return calls < 0 ? -1 : calls + 1;
}

/* Before the server thread starts, which inherits the mask. */
static void pin(long cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET((int)cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "ssl_roundtrip: cannot pin to CPU %ld: %s\n", cpu, strerror(errno));
		exit(1);
	}
}

static const char *libssl_path(void)
{
	Dl_info info;

	/* dladdr takes a data pointer; POSIX guarantees the round trip */
	if (!dladdr((void *)(uintptr_t)SSL_write, &info) || !info.dli_fname)
		return "unknown";
	return info.dli_fname;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "bio", required_argument, NULL, 'b' },
		{ "ex", no_argument, NULL, 'x' },
		{ "hold", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct server srv = { .size = 100, .iterations = 10000, .warmup = 1000 };
	unsigned long client_calls = 0;
	unsigned char *out, *in, *peer_buf = NULL;
	EVP_PKEY *pkey = NULL;
	pthread_t thread;
	uint64_t t0, t1;
	uint16_t port;
	X509 *cert = NULL;
	SSL_CTX *cctx = NULL;
	SSL *ssl, *peer = NULL;
	bool hold = false, mem = false;
	long cpu = -1;
	int c, fd = -1;

	while ((c = getopt_long(argc, argv, "s:n:w:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			srv.size = parse_count("size", optarg, MAX_SIZE);
			break;
		case 'n':
			srv.iterations = parse_count("iterations", optarg, 1000000000UL);
			break;
		case 'w':
			srv.warmup = parse_count("warmup", optarg, 1000000000UL);
			break;
		case 'c':
			cpu = (long)parse_count("cpu", optarg, CPU_SETSIZE - 1);
			break;
		case 'b':
			if (!strcmp(optarg, "mem")) {
				mem = true;
			} else if (!strcmp(optarg, "socket")) {
				mem = false;
			} else {
				fprintf(stderr,
					"ssl_roundtrip: --bio %s: expected socket or mem\n",
					optarg);
				return 2;
			}
			break;
		case 'x':
			use_ex = true;
			break;
		case 'H':
			hold = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc || srv.size == 0 || srv.iterations == 0) {
		usage(stderr);
		return 2;
	}
	if (hold) {
		printf("holding %s\n", libssl_path());
		fflush(stdout);
		for (;;)
			pause();
	}

	if (cpu >= 0)
		pin(cpu);

	if (mem) {
		prog_tls_pair(PAIR_BUF, &ssl, &peer);
		peer_buf = malloc(srv.size);
		if (!peer_buf)
			die("out of memory");
	} else {
		prog_make_cert(&pkey, &cert);
		srv.ctx = make_ctx(1, pkey, cert);
		cctx = make_ctx(0, NULL, NULL);
		srv.listen_fd = listen_loopback(&port);
		if (pthread_create(&thread, NULL, server_main, &srv))
			die("cannot start the server thread");
		fd = connect_loopback(port);
		ssl = SSL_new(cctx);
		if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1)
			die("TLS handshake failed");
	}

	out = malloc(srv.size);
	in = malloc(srv.size);
	if (!out || !in)
		die("out of memory");
	for (size_t i = 0; i < srv.size; i++)
		out[i] = (unsigned char)('a' + i % 26);

	for (unsigned long i = 0; i < srv.warmup; i++) {
		if (roundtrip(ssl, out, in, srv.size, peer, peer_buf, &srv.calls) < 0 ||
		    memcmp(in, out, srv.size))
			die("warm-up round trip failed");
	}
	/* the socket server counts only its timed calls; over memory BIOs
	 * the count above included the warm-up */
	srv.calls = 0;
	memset(in, 0, srv.size);
	t0 = now_ns();
	for (unsigned long i = 0; i < srv.iterations; i++) {
		long calls = roundtrip(ssl, out, in, srv.size, peer, peer_buf, &srv.calls);

		if (calls < 0)
			die("round trip failed");
		client_calls += (unsigned long)calls;
	}
	t1 = now_ns();
	if (memcmp(in, out, srv.size))
		die("the echo differs from what was sent");

	if (!mem) {
		SSL_shutdown(ssl);
		pthread_join(thread, NULL);
		if (srv.failed)
			die("the server thread failed");
	}

	printf("ns_per_roundtrip=%.1f iterations=%lu size=%zu warmup=%lu "
	       "ssl_calls_per_roundtrip=%.3f client_calls=%lu server_calls=%lu cpu=%ld "
	       "bio=%s api=%s libssl=%s\n",
	       (double)(t1 - t0) / (double)srv.iterations, srv.iterations, srv.size, srv.warmup,
	       (double)(client_calls + srv.calls) / (double)srv.iterations, client_calls,
	       srv.calls, cpu, mem ? "mem" : "socket", use_ex ? "ex" : "plain", libssl_path());

	SSL_free(ssl);
	SSL_free(peer);
	free(peer_buf);
	if (!mem) {
		close(fd);
		close(srv.listen_fd);
	}
	SSL_CTX_free(cctx);
	SSL_CTX_free(srv.ctx);
	X509_free(cert);
	EVP_PKEY_free(pkey);
	free(out);
	free(in);
	return 0;
}
