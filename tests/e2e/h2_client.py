#!/usr/bin/python3
"""An HTTP/2 client over TLS (Debian's python3-h2, whose HPACK encoder adds
every header but Authorization and short cookies to its dynamic table) on
one long-lived connection, for the end-to-end tests of a late join.

  h2_client.py --port P --cert C --before PATH,... --ready FILE --go FILE
               --after PATH,...
      connects (ALPN h2), GETs every --before path one after the other, then
      writes FILE --ready ({"lport": N}), waits for FILE --go to exist and
      GETs every --after path on the same connection.  One JSON line per
      response: {"phase", "path", "stream", "status", "body", "path_repr"},
      path_repr saying how the encoder sent :path in the HEADERS frame
      ("indexed 63", "literal-indexing name 4", ...).
"""
import argparse
import json
import os
import socket
import ssl
import sys
import time

import h2.config
import h2.connection
import h2.events

HEADERS_FRAME = 1


def hpack_int(block, i, prefix_bits):
    mask = (1 << prefix_bits) - 1
    v = block[i] & mask
    i += 1
    if v < mask:
        return v, i
    shift = 0
    while True:
        b = block[i]
        i += 1
        v += (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, i


def hpack_skip_string(block, i):
    n, i = hpack_int(block, i, 7)
    return i + n


def hpack_reprs(block):
    """How each header field of a block is represented (RFC 7541 section 6),
    in order, dynamic table size updates left out."""
    out, i = [], 0
    while i < len(block):
        b = block[i]
        if b & 0x80:
            idx, i = hpack_int(block, i, 7)
            out.append("indexed %d" % idx)
            continue
        if b & 0xE0 == 0x20:
            _, i = hpack_int(block, i, 5)
            continue
        kind, bits = (("literal-indexing", 6) if b & 0xC0 == 0x40 else
                      ("literal-never-indexed", 4) if b & 0xF0 == 0x10 else
                      ("literal-not-indexed", 4))
        name_idx, i = hpack_int(block, i, bits)
        if name_idx == 0:
            i = hpack_skip_string(block, i)
        i = hpack_skip_string(block, i)
        out.append("%s name %d" % (kind, name_idx))
    return out


def headers_block(data, stream):
    """The header block of the HEADERS frame of STREAM among the frames in
    DATA (h2 sends no padding, no priority, and no CONTINUATION for these)."""
    i = 0
    while i + 9 <= len(data):
        n = int.from_bytes(data[i:i + 3], "big")
        ftype, sid = data[i + 3], int.from_bytes(data[i + 5:i + 9], "big") & 0x7FFFFFFF
        if ftype == HEADERS_FRAME and sid == stream:
            return data[i + 9:i + 9 + n]
        i += 9 + n
    raise SystemExit("h2_client: no HEADERS frame for stream %d in what h2 sent" % stream)


class Client:
    def __init__(self, a):
        ctx = ssl.create_default_context(cafile=a.cert)
        ctx.set_alpn_protocols(["h2"])
        raw = socket.create_connection(("127.0.0.1", a.port), timeout=a.timeout)
        self.sock = ctx.wrap_socket(raw, server_hostname="localhost")
        alpn = self.sock.selected_alpn_protocol()
        if alpn != "h2":
            raise SystemExit("h2_client: ALPN chose %r, not h2" % alpn)
        self.authority = "127.0.0.1:%d" % a.port
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.conn.initiate_connection()
        self.flush()

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)
        return data

    def get(self, path):
        sid = self.conn.get_next_available_stream_id()
        self.conn.send_headers(sid, [(":method", "GET"), (":scheme", "https"),
                                     (":authority", self.authority), (":path", path),
                                     ("user-agent", "h2_client.py")], end_stream=True)
        reprs = hpack_reprs(headers_block(self.flush(), sid))
        status, body = None, b""
        while True:
            data = self.sock.recv(65536)
            if not data:
                raise SystemExit("h2_client: the server closed the connection")
            done = False
            for ev in self.conn.receive_data(data):
                if isinstance(ev, h2.events.ResponseReceived) and ev.stream_id == sid:
                    status = int(dict(ev.headers)[b":status"])
                elif isinstance(ev, h2.events.DataReceived) and ev.stream_id == sid:
                    body += ev.data
                    self.conn.acknowledge_received_data(ev.flow_controlled_length, sid)
                elif isinstance(ev, h2.events.StreamEnded) and ev.stream_id == sid:
                    done = True
                elif isinstance(ev, (h2.events.StreamReset, h2.events.ConnectionTerminated)):
                    raise SystemExit("h2_client: %r" % ev)
            self.flush()
            if done:
                return {"path": path, "stream": sid, "status": status,
                        "body": body.decode(errors="replace"), "path_repr": reprs[3]}


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--before", required=True, help="comma-separated paths")
    p.add_argument("--after", required=True, help="comma-separated paths")
    p.add_argument("--ready", required=True)
    p.add_argument("--go", required=True)
    p.add_argument("--timeout", type=float, default=15)
    a = p.parse_args()

    c = Client(a)
    for path in a.before.split(","):
        print(json.dumps(dict(c.get(path), phase="before")), flush=True)
    tmp = a.ready + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"lport": c.sock.getsockname()[1]}, f)
    os.rename(tmp, a.ready)
    deadline = time.monotonic() + a.timeout
    while not os.path.exists(a.go):
        if time.monotonic() > deadline:
            raise SystemExit("h2_client: no %s within %g s" % (a.go, a.timeout))
        time.sleep(0.02)
    for path in a.after.split(","):
        print(json.dumps(dict(c.get(path), phase="after")), flush=True)
    c.conn.close_connection()
    c.flush()
    c.sock.close()


if __name__ == "__main__":
    sys.exit(main())
