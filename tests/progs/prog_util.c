/* prog_util.c - helpers of the TLS test programs. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "prog_util.h"

void prog_die(const char *what)
{
	fprintf(stderr, "%s: %s\n", program_invocation_short_name, what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

void prog_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

long prog_parse_num(const char *s, void (*usage)(void))
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0)
		usage();
	return v;
}

int prog_tcp_connect(const char *host, const char *port)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, err;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	err = getaddrinfo(host, port, &hints, &res);
	if (err) {
		fprintf(stderr, "%s: %s:%s: %s\n", program_invocation_short_name, host, port,
			gai_strerror(err));
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
		fprintf(stderr, "%s: cannot connect to %s:%s: %s\n", program_invocation_short_name,
			host, port, strerror(errno));
		exit(1);
	}
	return fd;
}

unsigned prog_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		prog_die("getsockname");
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

void prog_wait_go_file(const char *path)
{
	struct stat st;
	int tries = 0;

	while (stat(path, &st) != 0) {
		if (++tries > 3000)
			prog_die("timed out waiting for --go-file");
		prog_sleep_ms(10);
	}
}

/* A throwaway self-signed P-256 certificate for localhost, so programs need
 * no files. */
void prog_make_cert(EVP_PKEY **pkey_out, X509 **cert_out)
{
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	X509 *cert = X509_new();
	X509_NAME *name;

	if (!pkey || !cert)
		prog_die("cannot generate a key");
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
	X509_set_pubkey(cert, pkey);
	name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost",
				   -1, -1, 0);
	X509_set_issuer_name(cert, name);
	if (!X509_sign(cert, pkey, EVP_sha256()))
		prog_die("cannot sign the certificate");
	*pkey_out = pkey;
	*cert_out = cert;
}

/* Wanting to read or write only means the other side has to move first. */
static bool handshake_step(SSL *ssl, const char *failed)
{
	int r = SSL_do_handshake(ssl);

	if (r == 1)
		return true;
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return false;
	default:
		prog_die(failed);
	}
}

void prog_tls_pair(size_t buf_size, SSL **client, SSL **server)
{
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
	bool client_done = false, server_done = false;
	EVP_PKEY *pkey;
	BIO *cbio, *sbio;
	X509 *cert;
	SSL *c, *s;

	if (!cctx || !sctx)
		prog_die("SSL_CTX_new failed");
	prog_make_cert(&pkey, &cert);
	if (SSL_CTX_use_certificate(sctx, cert) != 1 || SSL_CTX_use_PrivateKey(sctx, pkey) != 1)
		prog_die("cannot use the certificate");
	SSL_CTX_set_min_proto_version(cctx, TLS1_3_VERSION);
	SSL_CTX_set_min_proto_version(sctx, TLS1_3_VERSION);
	/* no session tickets: they would add reads outside what is measured */
	SSL_CTX_set_num_tickets(sctx, 0);
	c = SSL_new(cctx);
	s = SSL_new(sctx);
	if (!c || !s || !BIO_new_bio_pair(&cbio, buf_size, &sbio, buf_size))
		prog_die("cannot set up the memory BIOs");
	/* one BIO as both rbio and wbio takes a single reference */
	SSL_set_bio(c, cbio, cbio);
	SSL_set_bio(s, sbio, sbio);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	/* TLS 1.3 needs two flights each way at most; this bound only stops
	 * a handshake that no longer progresses from spinning for ever */
	for (int i = 0; !client_done || !server_done; i++) {
		if (i == 100)
			prog_die("TLS handshake over memory BIOs made no progress");
		if (!client_done)
			client_done = handshake_step(c, "TLS handshake failed (client, memory BIOs)");
		if (!server_done)
			server_done = handshake_step(s, "TLS handshake failed (server, memory BIOs)");
	}
	/* the SSL objects hold their own references */
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
	X509_free(cert);
	EVP_PKEY_free(pkey);
	*client = c;
	*server = s;
}
