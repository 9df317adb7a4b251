#!/usr/bin/python3
"""gRPC over TLS with Debian's python3-grpcio (C-core, the system libssl.so.3)
for the end-to-end tests; no protoc: generic handlers on raw bytes and
protobuf encoded by hand.

  grpc_py.py server --cert C --key K
      serves pkg.Echo on 127.0.0.1 (a free port), prints {"port": N}, runs
      until killed:
        Unary  (unary-unary)   replies 1: "echo:<name>" 2: <n + 1>
        Lookup (unary-unary)   fails NOT_FOUND "no such thing"
        Stream (unary-stream)  replies <n> messages 1: "item-<i>" 2: <i>
  grpc_py.py client --port P --cert C
      one channel (one TLS connection), the three calls one after the other;
      one JSON line per call: {"call", "code", "details", "replies": [hex]}
  grpc_py.py ab-server --cert C --key K
      serves pkg.A and pkg.B, each with Call (unary-unary), like server; a
      request is 1: "<service> request <n> <filler>" 2: <n> 3: <reply size>
      (ab_request), the reply 1: "<service> reply <n> <filler>" 2: <n>
      (ab_reply); any other request fails INVALID_ARGUMENT
  grpc_py.py ab-client --port P --cert C [--calls N] [--request-size S]
                       [--reply-size S] [--wait-file F]
      one channel, N calls of each service alternating /pkg.A/Call,
      /pkg.B/Call (n = 1..N per service), string fields of the given sizes;
      with --wait-file, grpc (so libssl) is loaded, then the client waits for
      F to exist before it connects; one JSON line per call: {"call", "n",
      "code", "details", "request_len", "reply_len", "reply_ok"}
"""
import argparse
import json
import os
import sys
import time
from concurrent import futures

import grpc

SERVICE = "pkg.Echo"
AB_SERVICES = ("pkg.A", "pkg.B")
# the filler of ab_text(): recognisable, printable, not protobuf
FILLER = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def pb_string(field, s):
    b = s.encode()
    return varint(field << 3 | 2) + varint(len(b)) + b


def pb_uint(field, v):
    return varint(field << 3) + varint(v)


def pb_decode(data):
    """{field: value} of a flat message of varints and strings."""
    out, i = {}, 0
    while i < len(data):
        key, i = read_varint(data, i)
        if key & 7 == 0:
            out[key >> 3], i = read_varint(data, i)
        elif key & 7 == 2:
            n, i = read_varint(data, i)
            out[key >> 3] = data[i:i + n].decode()
            i += n
        else:
            raise ValueError("wire type %d" % (key & 7))
    return out


def read_varint(data, i):
    v = shift = 0
    while True:
        b = data[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, i


def unary(request, context):
    req = pb_decode(request)
    return pb_string(1, "echo:" + req.get(1, "")) + pb_uint(2, req.get(2, 0) + 1)


def lookup(request, context):
    context.abort(grpc.StatusCode.NOT_FOUND, "no such thing")


def stream(request, context):
    for i in range(1, pb_decode(request).get(2, 0) + 1):
        # apart in time, so that each message goes out in its own DATA frame
        time.sleep(0.05)
        yield pb_string(1, "item-%d" % i) + pb_uint(2, i)


def ab_text(service, kind, n, size):
    """size bytes: "pkg.A request 0007 " then the filler, repeated."""
    head = "%s %s %04d " % (service, kind, n)
    if size < len(head):
        raise SystemExit("grpc_py: a string field of %d bytes cannot hold %r" % (size, head))
    return (head + FILLER * (size // len(FILLER) + 1))[:size]


def ab_request(service, n, size, reply_size):
    return pb_string(1, ab_text(service, "request", n, size)) + pb_uint(2, n) + \
        pb_uint(3, reply_size)


def ab_reply(service, n, size):
    return pb_string(1, ab_text(service, "reply", n, size)) + pb_uint(2, n)


def ab_handler(service):
    def call_handler(request, context):
        req = pb_decode(request)
        n, reply_size = req.get(2, 0), req.get(3, 0)
        if request != ab_request(service, n, len(req.get(1, "")), reply_size):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "unexpected request")
        return ab_reply(service, n, reply_size)
    return grpc.method_handlers_generic_handler(service, {
        "Call": grpc.unary_unary_rpc_method_handler(call_handler)})


def run_server(a, handlers):
    with open(a.cert, "rb") as f:
        cert = f.read()
    with open(a.key, "rb") as f:
        key = f.read()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers(handlers)
    port = server.add_secure_port("127.0.0.1:0", grpc.ssl_server_credentials([(key, cert)]))
    if not port:
        raise SystemExit("grpc_py: add_secure_port failed")
    server.start()
    print(json.dumps({"port": port}), flush=True)
    server.wait_for_termination()


def serve(a):
    run_server(a, (grpc.method_handlers_generic_handler(SERVICE, {
        "Unary": grpc.unary_unary_rpc_method_handler(unary),
        "Lookup": grpc.unary_unary_rpc_method_handler(lookup),
        "Stream": grpc.unary_stream_rpc_method_handler(stream),
    }),))


def ab_serve(a):
    run_server(a, tuple(ab_handler(s) for s in AB_SERVICES))


def call(a, ch, name, request, streaming=False):
    path = "/%s/%s" % (SERVICE, name)
    stub = ch.unary_stream(path) if streaming else ch.unary_unary(path)
    replies, code, details = [], grpc.StatusCode.OK, ""
    try:
        got = stub(request, timeout=a.timeout)
        replies = list(got) if streaming else [got]
    except grpc.RpcError as e:
        code, details = e.code(), e.details()
    print(json.dumps({"call": name, "code": code.name, "details": details,
                      "replies": [r.hex() for r in replies]}), flush=True)


def channel(a):
    with open(a.cert, "rb") as f:
        cert = f.read()
    creds = grpc.ssl_channel_credentials(root_certificates=cert)
    opts = [("grpc.ssl_target_name_override", "localhost"), ("grpc.enable_http_proxy", 0)]
    ch = grpc.secure_channel("127.0.0.1:%d" % a.port, creds, options=opts)
    grpc.channel_ready_future(ch).result(timeout=a.timeout)
    return ch


def client(a):
    with channel(a) as ch:
        call(a, ch, "Unary", pb_string(1, "hello") + pb_uint(2, 42))
        call(a, ch, "Lookup", pb_string(1, "nothing") + pb_uint(2, 7))
        call(a, ch, "Stream", pb_string(1, "three") + pb_uint(2, 3), streaming=True)


def ab_call(a, ch, service, n):
    path = "/%s/Call" % service
    request = ab_request(service, n, a.request_size, a.reply_size)
    reply, code, details = b"", grpc.StatusCode.OK, ""
    try:
        reply = ch.unary_unary(path)(request, timeout=a.timeout)
    except grpc.RpcError as e:
        code, details = e.code(), e.details()
    print(json.dumps({"call": path, "n": n, "code": code.name, "details": details,
                      "request_len": len(request), "reply_len": len(reply),
                      "reply_ok": reply == ab_reply(service, n, a.reply_size)}), flush=True)


def wait_file(path, timeout):
    end = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > end:
            raise SystemExit("grpc_py: no %s after %g s" % (path, timeout))
        time.sleep(0.05)


def ab_client(a):
    if a.wait_file:
        wait_file(a.wait_file, 60)
    with channel(a) as ch:
        for n in range(1, a.calls + 1):
            for service in AB_SERVICES:
                ab_call(a, ch, service, n)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    def add_server(name, fn):
        s = sub.add_parser(name)
        s.add_argument("--cert", required=True)
        s.add_argument("--key", required=True)
        s.set_defaults(fn=fn)

    def add_client(name, fn):
        c = sub.add_parser(name)
        c.add_argument("--port", type=int, required=True)
        c.add_argument("--cert", required=True)
        c.add_argument("--timeout", type=float, default=10)
        c.set_defaults(fn=fn)
        return c

    add_server("server", serve)
    add_client("client", client)
    add_server("ab-server", ab_serve)
    c = add_client("ab-client", ab_client)
    c.add_argument("--calls", type=int, default=40, help="calls per service")
    c.add_argument("--request-size", type=int, default=4000, help="bytes of field 1")
    c.add_argument("--reply-size", type=int, default=5000, help="bytes of field 1")
    c.add_argument("--wait-file", help="connect once this file exists")
    a = p.parse_args()
    a.fn(a)


if __name__ == "__main__":
    sys.exit(main())
