#!/usr/bin/python3
"""HTTP/1.1 over TLS with chunked responses, for the end-to-end tests.

  h1_chunked.py server --cert C --key K
      Python's http.server (HTTP/1.1, keep-alive) on 127.0.0.1 (a free port)
      behind the ssl module; prints {"port": N}; runs until killed.  Every
      response is chunked: body(PATH) in three chunks, the second one's size
      line and data in two separate writes (so two TLS calls); the response
      to a POST ends with a trailer, X-Checksum: trailer_value(PATH).
  h1_chunked.py client --port P --cert C [--post PATH] PATH...
      one keep-alive connection, one request per PATH (a POST with the body
      post_body(PATH) for --post), one JSON line per response:
      {"path", "status", "body", "lport"}
"""
import argparse
import http.client
import http.server
import json
import ssl
import sys


def chunks(path):
    # the second one is longer than 15 bytes: a two-digit hex size
    return ["alpha %s\n" % path, "beta beta beta beta beta %s\n" % path, "gamma %s\n" % path]


def body(path):
    return "".join(chunks(path))


def post_body(path):
    return "note=%s\n" % path.strip("/")


def trailer_value(path):
    return "sum-%d" % len(body(path))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("h1_chunked server: " + fmt % args + "\n")

    def reply(self, trailer):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        if trailer:
            self.send_header("Trailer", "X-Checksum")
        self.end_headers()
        # each write below is one sendall, so one SSL_write
        for i, c in enumerate(chunks(self.path)):
            data = c.encode()
            if i == 1:
                self.wfile.write(b"%x\r\n" % len(data))
                self.wfile.write(data + b"\r\n")
            else:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        end = b"0\r\n"
        if trailer:
            end += b"X-Checksum: %s\r\n" % trailer_value(self.path).encode()
        self.wfile.write(end + b"\r\n")

    def do_GET(self):
        self.reply(False)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        got = self.rfile.read(n).decode()
        if got != post_body(self.path):
            self.send_error(400, "unexpected body %r" % got)
            return
        self.reply(True)


def serve(a):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print(json.dumps({"port": srv.server_address[1]}), flush=True)
    srv.serve_forever()


def client(a):
    ctx = ssl.create_default_context(cafile=a.cert)
    conn = http.client.HTTPSConnection("127.0.0.1", a.port, context=ctx, timeout=10)
    for path in a.paths:
        if path == a.post:
            conn.request("POST", path, body=post_body(path).encode(),
                         headers={"Content-Type": "text/plain"})
        else:
            conn.request("GET", path)
        resp = conn.getresponse()
        data = resp.read().decode()
        print(json.dumps({"path": path, "status": resp.status, "body": data,
                          "lport": conn.sock.getsockname()[1]}), flush=True)
    conn.close()


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("server")
    s.add_argument("--cert", required=True)
    s.add_argument("--key", required=True)
    s.set_defaults(fn=serve)
    c = sub.add_parser("client")
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--cert", required=True)
    c.add_argument("--post", help="the PATH to POST to")
    c.add_argument("paths", nargs="+")
    c.set_defaults(fn=client)
    a = p.parse_args()
    a.fn(a)


if __name__ == "__main__":
    sys.exit(main())
