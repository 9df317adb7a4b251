#!/usr/bin/python3
"""Assertions on the decoded-message records of `tlstop --json`
({"type":"message"}, doc/json.md) for the end-to-end tests.  Every failure
prints "check_messages: FAIL: ...", what was expected and the message
records of the test's pids, and exits 1.

  msgs FILE --pid P[,P...] [selectors] [checks]
      the message records of these processes (other traffic on the machine
      is never looked at).  The records of one HTTP/2 stream's request (or
      response) are one message: the parts of a long-lived gRPC stream
      (partial, part) are merged, their gRPC messages and bodies summed.
      Selectors: --kind, --select-path, --select-io, --select-proto, --select-src,
      --select-dst.  Every selected message must pass the checks (--status,
      --body, --paired, ...); --count, --paths and --conns are about the
      whole selection.
  unknown-paths FILE --min N
      the last stats record counts at least N requests whose :path could not
      be decoded ("unknown_paths", wherever it sits in the record).
"""
import argparse
import base64
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_records import (CheckFailed, conn_key, load, pid_list, run_command,  # noqa: E402
                           show, tls_records)

KINDS = ("request", "response", "reset", "goaway")
PROTOS = ("h1", "h2", "grpc")
KIND_DIR = {"request": "req", "response": "resp"}
# latency_ms beyond this on loopback means a wrong clock or a wrong pairing
LATENCY_MAX_MS = 15000


def fail(msg, shown=None, context=None):
    """shown: the messages at fault; context: the test's other messages."""
    if shown:
        msg += "\n  messages at fault (%d):\n" % len(shown)
        msg += "\n".join("    " + brief(m) for m in shown[:12])
    if context is not None:
        msg += "\n  all message records of the pids (%d, merged parts, first 40):\n" % len(context)
        msg += "\n".join("    " + brief(m) for m in context[:40]) if context else "    (none)"
    raise CheckFailed(msg)


BRIEF_KEYS = ("id", "pair_id", "kind", "io", "proto", "pid", "stream", "method", "path",
              "path_unknown", "status", "grpc_status", "grpc_message", "latency_ms", "len",
              "incomplete", "gap")
ALWAYS_KEYS = ("id", "pair_id", "kind", "io", "proto", "pid", "path")


def brief(m):
    r = {k: m[k] for k in BRIEF_KEYS
         if k in m and (k in ALWAYS_KEYS or m[k] not in (None, False))}
    r["conn"] = (m.get("conn") or {}).get("id")
    if m.get("parts", 1) > 1:
        r["parts"] = m["parts"]
    b = m.get("_body")
    if b:
        r["body"] = show(b, 60)
    if m.get("grpc_messages"):
        r["grpc"] = [g.get("protobuf") for g in m["grpc_messages"][:4]]
    return json.dumps(r)


def message_records(recs, pids):
    return [r for r in recs if r.get("type") == "message" and r.get("pid") in pids]


# ---- per-record sanity ----

def body_bytes(rec):
    if "body" in rec and "body_b64" in rec:
        fail("a message carries both body and body_b64", [rec])
    if isinstance(rec.get("body"), str):
        return rec["body"].encode("utf-8")
    if isinstance(rec.get("body_b64"), str):
        try:
            return base64.b64decode(rec["body_b64"], validate=True)
        except ValueError:
            fail("body_b64 is not valid base64", [rec])
    return b""


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def sanity(rec, allow_gap):
    for k in ("ts_ns", "id", "kind", "dir", "io", "proto", "pid", "conn"):
        if k not in rec:
            fail("message record without %r" % k, [rec])
    if not isinstance(rec["id"], int) or isinstance(rec["id"], bool):
        fail("id is not an integer", [rec])
    if rec["kind"] not in KINDS or rec["proto"] not in PROTOS or rec["io"] not in ("in", "out"):
        fail("kind/proto/io out of their sets %s %s (in, out)" % (KINDS, PROTOS), [rec])
    want_dir = KIND_DIR.get(rec["kind"])
    if not want_dir:
        return
    for k in ("stream", "method", "path"):
        if k not in rec:
            fail("%s record without %r" % (rec["kind"], k), [rec])
    if rec["dir"] != want_dir:
        fail("a %s with dir %r (expected %r)" % (rec["kind"], rec["dir"], want_dir), [rec])
    if rec["proto"] == "h1" and rec["stream"] is not None:
        fail("an h1 message with stream %r (expected null)" % rec["stream"], [rec])
    if rec["proto"] != "h1" and not isinstance(rec["stream"], int):
        fail("an %s message without an integer stream id" % rec["proto"], [rec])
    if rec.get("path_unknown") and rec["path"] is not None:
        fail("path_unknown is true but path is %r (must be null)" % rec["path"], [rec])
    ln, cl = rec.get("len"), rec.get("captured_len")
    if ln is not None and cl is not None and not (0 <= cl <= ln):
        fail("captured_len %r > len %r" % (cl, ln), [rec])
    if not allow_gap:
        for k in ("gap", "incomplete"):
            if rec.get(k):
                fail("%s is true: this workload loses nothing and ends every message" % k,
                     [rec])
        if any(g.get("incomplete") for g in rec.get("grpc_messages") or []):
            fail("a gRPC message marked incomplete: this workload loses nothing", [rec])


# ---- merging the parts of one message ----

def logical_key(rec):
    """One HTTP/2 stream has one request and one response per side, whatever
    the number of partial records; HTTP/1 messages are one record each."""
    base = (rec["pid"], conn_key(rec), rec["kind"])
    if rec["proto"] != "h1" and rec["kind"] in KIND_DIR:
        return base + ("stream", rec["stream"])
    return base + ("id", rec["id"])


def merge(recs):
    """Messages in order of first record; parts summed, last values kept."""
    out = {}
    for r in recs:
        k = logical_key(r)
        b = body_bytes(r)
        m = out.get(k)
        if m is None:
            m = dict(r)
            m["_body"], m["parts"], m["_ids"] = b, 1, {r["id"]}
            m["grpc_messages"] = list(r.get("grpc_messages") or [])
            out[k] = m
            continue
        m["parts"] += 1
        m["_ids"].add(r["id"])
        m["_body"] += b
        m["grpc_messages"] += r.get("grpc_messages") or []
        for f in ("len", "captured_len", "grpc_total"):
            if isinstance(r.get(f), int):
                m[f] = (m.get(f) or 0) + r[f]
        for f, v in r.items():
            if f in ("id", "len", "captured_len", "grpc_total", "grpc_messages", "body",
                     "body_b64", "start_ts_ns"):
                continue
            if v is not None and v != []:
                m[f] = v
    return list(out.values())


# ---- msgs ----

def null_or(s):
    return None if s == "null" else s


def select(a, msgs):
    sel = msgs
    if a.kind:
        sel = [m for m in sel if m["kind"] == a.kind]
    if a.select_path is not None:
        sel = [m for m in sel if m.get("path") == null_or(a.select_path)]
    if a.select_io:
        sel = [m for m in sel if m["io"] == a.select_io]
    if a.select_proto:
        sel = [m for m in sel if m["proto"] == a.select_proto]
    if a.select_src:
        sel = [m for m in sel if (m.get("conn") or {}).get("src") == a.select_src]
    if a.select_dst:
        sel = [m for m in sel if (m.get("conn") or {}).get("dst") == a.select_dst]
    return sel


def describe(a):
    s = "pid %s" % ",".join(str(p) for p in sorted(a.pid))
    for k in ("kind", "select_path", "select_io", "select_proto", "select_src", "select_dst"):
        v = getattr(a, k)
        if v is not None:
            s += " %s=%s" % (k.replace("select_", ""), v)
    return s


def protobuf_has(text, want):
    """want appears in the rendering as whole fields: `2: 42` is not `2: 421`."""
    return text is not None and re.search(r"(?:^|(?<=[\s{]))" + re.escape(want) + r"(?=$|[\s}])",
                                          text) is not None


def header_values(m, name, field):
    return [h[1] for h in m.get(field) or []
            if isinstance(h, list) and len(h) == 2 and isinstance(h[0], str) and
            h[0].lower() == name.lower()]


def check_each(a, sel, ctx):
    def field(name, want, get=None):
        get = get or (lambda m: m.get(name))
        bad = [m for m in sel if get(m) != want]
        if bad:
            fail("%s: expected %r, got %r" % (name, want, sorted({repr(get(m)) for m in bad})),
                 bad, ctx)

    if a.proto:
        field("proto", a.proto)
    if a.io:
        field("io", a.io)
    if a.method:
        field("method", a.method)
    if a.path is not None:
        field("path", null_or(a.path))
    if a.authority:
        field("authority", a.authority)
    if a.scheme:
        field("scheme", a.scheme)
    if a.status is not None:
        field("status", a.status)
    if a.grpc_status is not None:
        field("grpc_status", a.grpc_status)
    if a.grpc_status_name:
        field("grpc_status_name", a.grpc_status_name)
    if a.grpc_message is not None:
        field("grpc_message", a.grpc_message)
    if a.path_unknown:
        field("path_unknown", a.path_unknown == "yes", lambda m: bool(m.get("path_unknown")))
    if a.body is not None:
        field("body", a.body.encode(), lambda m: m["_body"])
    if a.body_contains is not None:
        bad = [m for m in sel if a.body_contains.encode() not in m["_body"]]
        if bad:
            fail("the body does not contain %r" % a.body_contains, bad, ctx)
    if a.body_file:
        with open(a.body_file, "rb") as f:
            want = f.read()
        field("len (body bytes on the wire)", len(want), lambda m: m.get("len"))
        bad = [m for m in sel if not want.startswith(m["_body"]) or
               (len(m["_body"]) < len(want) and not m.get("truncated"))]
        if bad:
            fail("the body is not %s (%d bytes), or a prefix of it marked truncated"
                 % (a.body_file, len(want)), bad, ctx)
    for part, pairs in (("headers", a.header), ("trailers", a.trailer)):
        for name, value in pairs:
            bad = [m for m in sel if value not in header_values(m, name, part)]
            if bad:
                fail("no [%r, %r] in %s" % (name, value, part), bad, ctx)
    if a.latency:
        bad = [m for m in sel if not is_num(m.get("latency_ms")) or
               not 0 <= m["latency_ms"] <= LATENCY_MAX_MS]
        if bad:
            fail("latency_ms: expected a number in [0, %d]" % LATENCY_MAX_MS, bad, ctx)
    if a.grpc_messages is not None:
        def total(m):
            t = m.get("grpc_total")
            return t if isinstance(t, int) else len(m["grpc_messages"])
        bad = [m for m in sel if total(m) != a.grpc_messages or
               len(m["grpc_messages"]) != a.grpc_messages]
        if bad:
            fail("expected %d gRPC messages (grpc_total and grpc_messages[], parts summed)"
                 % a.grpc_messages, bad, ctx)
    for idx, want in a.protobuf:
        i = int(idx)
        bad = [m for m in sel if len(m["grpc_messages"]) <= i or
               not protobuf_has(m["grpc_messages"][i].get("protobuf"), want)]
        if bad:
            fail("grpc_messages[%d].protobuf does not have the field(s) %r" % (i, want), bad, ctx)


def check_pairs(a, sel, msgs, ctx):
    """Responses name their request (same process, connection and stream,
    same path and method); requests have exactly one response."""
    by_id = {}
    for m in msgs:
        if m["kind"] == "request":
            for i in m["_ids"]:
                by_id[(m["pid"], i)] = m
    for m in sel:
        if m["kind"] == "request":
            answers = [r for r in msgs if r["kind"] == "response" and r["pid"] == m["pid"] and
                       r.get("pair_id") in m["_ids"]]
            if len(answers) != 1:
                fail("request id %s: %d responses with its pair_id, expected 1"
                     % (m["id"], len(answers)), [m] + answers, ctx)
            continue
        req = by_id.get((m["pid"], m.get("pair_id")))
        if req is None:
            fail("%s pair_id %r: no request with that id in pid %s"
                 % (m["kind"], m.get("pair_id"), m["pid"]), [m], ctx)
        why = [f for f, same in (
            ("conn", conn_key(req) == conn_key(m)), ("stream", req["stream"] == m.get("stream")),
            ("path", req["path"] == m.get("path")), ("method", req["method"] == m.get("method")),
            ("order", req["id"] < m["id"])) if not same]
        if why:
            fail("%s id %s and its request id %s differ in %s"
                 % (m["kind"], m["id"], req["id"], ", ".join(why)), [req, m], ctx)


def summary(m):
    path = m.get("path") or ("(unknown path)" if m.get("path_unknown") else "(no path)")
    s = "%s %s %s" % (m["proto"], m.get("method"), path)
    if m.get("status") is not None:
        s += " -> %s" % m["status"]
    if m.get("grpc_status") is not None:
        s += " grpc %s" % m["grpc_status"]
    return s


def cmd_msgs(a):
    recs = load(a.file)
    raw = message_records(recs, a.pid)
    for r in raw:
        sanity(r, a.allow_gap)
    msgs = merge(raw)
    ctx = sorted(msgs, key=lambda m: m["id"])
    sel = sorted(select(a, msgs), key=lambda m: m["id"])
    where = describe(a)
    if not raw:
        n = sum(1 for r in recs if r.get("type") == "message")
        fail("no message records for pid %s (%d message records in the file, %d tls records: "
             "was tlstop run with --raw?)" % (",".join(map(str, sorted(a.pid))), n,
                                               len(tls_records(recs))))
    if a.count is not None and len(sel) != a.count:
        fail("%d messages for %s, expected %d" % (len(sel), where, a.count), sel, ctx)
    if a.count is None and len(sel) < a.min_count:
        fail("%d messages for %s, expected at least %d" % (len(sel), where, a.min_count),
             sel, ctx)
    if a.conns is not None:
        conns = {conn_key(m) for m in sel}
        if len(conns) != a.conns:
            fail("%d connections among the messages of %s, expected %d: %s"
                 % (len(conns), where, a.conns, sorted(map(str, conns))), sel, ctx)
    if a.paths is not None:
        want = [null_or(p) for p in a.paths.split(",")]
        got = [m.get("path") for m in sel]
        if got != want:
            fail("paths of %s in id order: expected %r, got %r" % (where, want, got), sel, ctx)
    check_each(a, sel, ctx)
    if a.paired:
        check_pairs(a, sel, msgs, ctx)
    print("check_messages: %s: %d messages ok (%s)"
          % (where, len(sel), ", ".join(sorted({summary(m) for m in sel}))))


# ---- unknown-paths ----

def find_key(obj, key, path=""):
    """(path, value) of every occurrence of key, shallowest first."""
    hits = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            p = path + "." + k if path else k
            if k == key:
                hits.append((p, v))
            hits += find_key(v, key, p)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            hits += find_key(v, key, "%s[%d]" % (path, i))
    return sorted(hits, key=lambda h: h[0].count(".") + h[0].count("["))


def cmd_unknown_paths(a):
    stats = [r for r in load(a.file) if r.get("type") == "stats"]
    if not stats:
        fail("no stats record in %s" % a.file)
    last = stats[-1]
    hits = find_key(last, a.key)
    if not hits:
        fail("the last stats record has no %r anywhere; its keys: %s"
             % (a.key, json.dumps(last)[:1500]))
    # a total and a per-protocol breakdown: the total is the shallowest
    depth = hits[0][0].count(".") + hits[0][0].count("[")
    top = [(p, v) for p, v in hits if p.count(".") + p.count("[") == depth]
    if not all(isinstance(v, int) for _, v in top):
        fail("%s is not an integer: %r" % (a.key, top))
    got = sum(v for _, v in top)
    if got < a.min:
        fail("final stats: %s = %d, expected at least %d" % ("+".join(p for p, _ in top), got,
                                                           a.min))
    print("check_messages: final stats: %s = %d (>= %d)" % ("+".join(p for p, _ in top), got,
                                                              a.min))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    m = sub.add_parser("msgs")
    m.add_argument("file")
    m.add_argument("--pid", type=pid_list, required=True)
    m.add_argument("--kind", choices=KINDS)
    m.add_argument("--select-path", help="only messages with this path (null: none)")
    m.add_argument("--select-io", choices=["in", "out"])
    m.add_argument("--select-proto", choices=PROTOS)
    m.add_argument("--select-src", help="only messages whose conn.src is this")
    m.add_argument("--select-dst", help="only messages whose conn.dst is this")
    m.add_argument("--count", type=int, help="exactly this many messages selected")
    m.add_argument("--min-count", type=int, default=1)
    m.add_argument("--conns", type=int, help="distinct connections among the selection")
    m.add_argument("--paths", help="comma-separated paths of the selection in id order "
                   "(null: path null)")
    m.add_argument("--proto", choices=PROTOS)
    m.add_argument("--io", choices=["in", "out"])
    m.add_argument("--method")
    m.add_argument("--path", help="every selected message has this path (null: none)")
    m.add_argument("--authority")
    m.add_argument("--scheme")
    m.add_argument("--status", type=int)
    m.add_argument("--grpc-status", type=int)
    m.add_argument("--grpc-status-name")
    m.add_argument("--grpc-message")
    m.add_argument("--path-unknown", choices=["yes", "no"])
    m.add_argument("--body", help="the exact body (parts summed)")
    m.add_argument("--body-contains")
    m.add_argument("--body-file", help="len is this file's size, the body kept a prefix of it")
    m.add_argument("--header", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    m.add_argument("--trailer", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    m.add_argument("--latency", action="store_true", help="latency_ms is a plausible number")
    m.add_argument("--paired", action="store_true",
                   help="responses name their request by pair_id; requests have one response")
    m.add_argument("--grpc-messages", type=int, help="gRPC messages per message, parts summed")
    m.add_argument("--protobuf", nargs=2, action="append", default=[], metavar=("I", "FIELDS"),
                   help="grpc_messages[I].protobuf has FIELDS (e.g. '1: \"hello\"')")
    m.add_argument("--allow-gap", action="store_true", help="gap/incomplete may be true")
    m.set_defaults(fn=cmd_msgs)

    u = sub.add_parser("unknown-paths")
    u.add_argument("file")
    u.add_argument("--min", type=int, required=True)
    u.add_argument("--key", default="unknown_paths")
    u.set_defaults(fn=cmd_unknown_paths)

    return run_command("check_messages", p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
