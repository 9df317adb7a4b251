/* prog_util.h - what the TLS test programs share: errors, waits, sockets,
 * certificates, in-memory TLS pairs. */
#ifndef TLSTOP_PROG_UTIL_H
#define TLSTOP_PROG_UTIL_H

#include <stddef.h>

#include <openssl/types.h>

/* Prints "<program>: what" and OpenSSL's error queue, exits 1. */
void prog_die(const char *what) __attribute__((noreturn));
void prog_sleep_ms(long ms);
/* A non-negative decimal number; calls usage() (which exits) otherwise. */
long prog_parse_num(const char *s, void (*usage)(void));
/* A connected TCP socket to host:port (any family); exits on failure. */
int prog_tcp_connect(const char *host, const char *port);
unsigned prog_local_port(int fd);
/* Waits until path exists (30 s at most): the test's "go" signal. */
void prog_wait_go_file(const char *path);
/* A throwaway self-signed certificate for localhost and its key. */
void prog_make_cert(EVP_PKEY **pkey, X509 **cert);
/* A TLS 1.3 client and server in this thread, joined by a BIO pair whose
 * halves hold buf_size bytes each (the largest flight one side writes before
 * the other reads), handshake done, no session tickets; exits on failure. */
void prog_tls_pair(size_t buf_size, SSL **client, SSL **server);

#endif
