/* demo_h2.h - the HTTP/2 and gRPC side of the --demo workload. */
#ifndef TLSTOP_DEMO_H2_H
#define TLSTOP_DEMO_H2_H

#include <openssl/ssl.h>

/* ALPN protocol lists in wire format, the server's in preference order */
#define DEMO_ALPN_H2 "\x02h2"
#define DEMO_ALPN_HTTP11 "\x08http/1.1"

/* The client side of one TLS connection that offered h2: plain HTTP/2 and
 * gRPC calls on concurrent streams until the connection fails or has lived
 * its time (then it says GOAWAY). Returns at once when ALPN did not pick h2.
 * The caller closes ssl. */
void demo_h2_client(SSL *ssl);
/* The server side of one connection on which ALPN picked h2, until the
 * client leaves, fails or falls silent. The caller closes ssl. */
void demo_h2_serve(SSL *ssl);

#endif
