#!/usr/bin/python3
"""Assertions on `tlstop --json` output (doc/json.md) for the end-to-end tests.

Library: load(), tls_records(), Selection, conn_key(), concat(), ... (see
below).  CLI, one subcommand per kind of check; every failure prints
"check_records: FAIL: ..." with the records involved and exits 1:

  validate FILE
      every line is a JSON object with a "type"; the first is the one
      "ready" record; a "stats" record follows the last "tls" record.
  tls FILE --pid P[,P...] [selectors] [checks]
      assertions on the tls records of the test's own processes (other TLS
      traffic on the machine is never looked at).
  dump FILE --pid P[,P...] --dir in|out [selectors]
      the plaintext of one connection in one direction, to stdout.
  stats FILE [--expect 'lost.map_update==0' ...]
             [--lib-of-pid P --lib-expect 'no_fd>0' ...]
      assertions on the last stats record.
  compare FILE_A FILE_B --pid P[,P...] [--ignore F,...] [--per-thread]
      the tls records of these pids are identical, field by field.
  errline STDERR_FILE [--json] [--contains TEXT ...] [--any-of TEXT ...]
      one line on stderr (a JSON error object with --json) mentioning TEXT.
  near REPORT --anchor REGEX --expect TEXT... [--window N] [--before N]
      a text report has every TEXT within N lines of a line matching REGEX.
  sockport PID PEER_PORT
      the local port of PID's TCP socket whose peer port is PEER_PORT.
"""
import argparse
import base64
import json
import operator
import os
import re
import sys

# tls_client.c --size N: byte i is PATTERN[i % len(PATTERN)]
PATTERN = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

READ_FUNCS = {"SSL_read", "SSL_read_ex"}
WRITE_FUNCS = {"SSL_write", "SSL_write_ex"}


class CheckFailed(Exception):
    pass


def fail(msg, records=None):
    if records:
        shown = records[:6]
        msg += "\n  records involved (%d, first %d):\n" % (len(records), len(shown))
        msg += "\n".join("    " + brief(r) for r in shown)
    raise CheckFailed(msg)


FIRST_KEYS = ("type", "pid", "tid", "comm", "func", "dir", "len", "captured_len", "truncated",
              "lost", "conn")


def brief(rec):
    """One record, the telling fields first, long payloads shortened."""
    r = {k: rec[k] for k in FIRST_KEYS if k in rec}
    r.update((k, v) for k, v in rec.items() if k not in r)
    for k in ("data", "data_b64"):
        if k in r and len(r[k]) > 160:
            r[k] = r[k][:160] + "...(%d chars)" % len(r[k])
    return json.dumps(r)


def show(b, limit=300):
    s = repr(b[:limit])
    return s + ("...(%d bytes)" % len(b) if len(b) > limit else "")


# ---- loading ----

def load(path):
    """All records of a JSON Lines file; an unparsable line fails."""
    out = []
    with open(path, "rb") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                fail("%s:%d: empty line in JSON Lines output" % (path, n))
            try:
                rec = json.loads(line)
            except ValueError as e:
                fail("%s:%d: not JSON (%s): %r" % (path, n, e, line[:200]))
            if not isinstance(rec, dict) or "type" not in rec:
                fail("%s:%d: not an object with a \"type\": %r" % (path, n, line[:200]))
            out.append(rec)
    return out


def tls_records(recs, pids=None):
    return [r for r in recs if r.get("type") == "tls" and (pids is None or r.get("pid") in pids)]


def payload(rec):
    """The captured bytes of one tls record (exactly one of data/data_b64)."""
    has_text, has_b64 = "data" in rec, "data_b64" in rec
    if has_text == has_b64:
        fail("a tls record must carry exactly one of data/data_b64", [rec])
    if has_text:
        if not isinstance(rec["data"], str):
            fail("data is not a string", [rec])
        return rec["data"].encode("utf-8")
    try:
        return base64.b64decode(rec["data_b64"], validate=True)
    except ValueError:
        fail("data_b64 is not valid base64", [rec])


def conn_key(rec):
    """A connection: its id plus its 4-tuple (an fd number can be reused)."""
    c = rec.get("conn") or {}
    return (c.get("id"), c.get("src"), c.get("dst"))


def group(recs):
    """{conn_key: [records in file order]}, keys in order of first appearance."""
    g = {}
    for r in recs:
        g.setdefault(conn_key(r), []).append(r)
    return g


def concat(recs, direction):
    return b"".join(payload(r) for r in recs if r.get("dir") == direction)


def pattern_bytes(offset, n):
    if n <= 0:
        return b""
    start = offset % len(PATTERN)
    reps = (start + n) // len(PATTERN) + 1
    return (PATTERN * reps)[start:start + n]


# ---- per-record sanity (always applied to the selected records) ----

ID_FD = re.compile(r"^fd:(\d+):(\d+)$")
ID_SSL = re.compile(r"^ssl:(\d+):(0x[0-9a-f]+)$")


def sanity(rec, allow_lost=False):
    for k in ("ts", "ts_ns", "pid", "tid", "comm", "lib", "lib_path", "linking", "func", "dir",
              "conn", "len", "captured_len", "truncated", "lost"):
        if k not in rec:
            fail("tls record without %r" % k, [rec])
    func, d = rec["func"], rec["dir"]
    if func in WRITE_FUNCS:
        if d != "out":
            fail("%s with dir %r (expected \"out\")" % (func, d), [rec])
    elif func in READ_FUNCS:
        if d != "in":
            fail("%s with dir %r (expected \"in\")" % (func, d), [rec])
    else:
        fail("unknown func %r" % func, [rec])
    data = payload(rec)
    ln, cl = rec["len"], rec["captured_len"]
    if not (isinstance(ln, int) and isinstance(cl, int) and 0 <= cl <= ln):
        fail("len/captured_len inconsistent (need 0 <= captured_len <= len)", [rec])
    if rec["truncated"] is not (ln > cl):
        fail("truncated is %r but len=%d captured_len=%d" % (rec["truncated"], ln, cl), [rec])
    if len(data) != cl:
        fail("captured_len=%d but the payload has %d bytes" % (cl, len(data)), [rec])
    if rec["lost"] is not False and not allow_lost:
        fail("lost is %r: ring-buffer records of this call were lost" % rec["lost"], [rec])
    c = rec["conn"]
    for k in ("id", "fd", "ssl", "fd_source", "family", "src", "dst", "role"):
        if k not in c:
            fail("conn without %r" % k, [rec])
    m = ID_FD.match(c["id"] or "")
    if m:
        if int(m.group(1)) != rec["pid"] or c["fd"] != int(m.group(2)):
            fail("conn id %r does not match pid %r / fd %r" % (c["id"], rec["pid"], c["fd"]),
                 [rec])
        if c["fd_source"] not in ("syscall", "cache"):
            fail("conn has an fd but fd_source is %r" % c["fd_source"], [rec])
    else:
        m = ID_SSL.match(c["id"] or "")
        if not m:
            fail("conn id %r is neither fd:PID:FD nor ssl:PID:0x..." % c["id"], [rec])
        if int(m.group(1)) != rec["pid"] or m.group(2) != c["ssl"]:
            fail("conn id %r does not match pid %r / ssl %r" % (c["id"], rec["pid"], c["ssl"]),
                 [rec])
        if c["fd"] is not None or c["fd_source"] != "none":
            fail("ssl: conn id but fd=%r fd_source=%r (expected null, \"none\")"
                 % (c["fd"], c["fd_source"]), [rec])


# ---- validate ----

def cmd_validate(a):
    recs = load(a.file)
    if not recs:
        fail("%s is empty: tlstop printed nothing" % a.file)
    if recs[0]["type"] != "ready":
        fail("the first record is not {\"type\":\"ready\"}: %s" % brief(recs[0]))
    readies = [r for r in recs if r["type"] == "ready"]
    if len(readies) != 1:
        fail("%d ready records (expected 1)" % len(readies), readies)
    for k in ("ts", "pid", "targets", "probes", "source"):
        if k not in recs[0]:
            fail("the ready record has no %r" % k, [recs[0]])
    last_tls = max((i for i, r in enumerate(recs) if r["type"] == "tls"), default=-1)
    if not any(r["type"] == "stats" for r in recs[last_tls + 1:]):
        fail("no stats record after the last tls record (the exit stats are missing)")
    if a.source and recs[0]["source"] != a.source:
        fail("ready.source is %r, expected %r" % (recs[0]["source"], a.source), [recs[0]])


# ---- tls ----

def pid_list(s):
    try:
        pids = {int(p) for p in s.split(",") if p.strip()}
    except ValueError:
        raise argparse.ArgumentTypeError("a comma-separated list of pids: %r" % s)
    if not pids:
        raise argparse.ArgumentTypeError("no pid given")
    return pids


def select(a, recs):
    sel = tls_records(recs, a.pid)
    if a.select_src:
        sel = [r for r in sel if (r.get("conn") or {}).get("src") == a.select_src]
    if a.select_dst:
        sel = [r for r in sel if (r.get("conn") or {}).get("dst") == a.select_dst]
    return sel


def describe_selection(a, recs):
    s = "pid %s" % ",".join(str(p) for p in sorted(a.pid))
    if a.select_src:
        s += " src %s" % a.select_src
    if a.select_dst:
        s += " dst %s" % a.select_dst
    all_tls = tls_records(recs)
    s += " (%d tls records in the file, %d from these pids)" % (
        len(all_tls), len(tls_records(recs, a.pid)))
    return s


def same_path(got, want):
    return got is not None and os.path.realpath(got) == os.path.realpath(want)


def under(got, d):
    if got is None:
        return False
    d = os.path.realpath(d).rstrip("/") + "/"
    return os.path.realpath(got).startswith(d)


def check_field(sel, what, get, want):
    bad = [r for r in sel if get(r) != want]
    if bad:
        fail("%s: expected %r, got %r" % (what, want, sorted({repr(get(r)) for r in bad})), bad)


def text_arg(a, name):
    v = getattr(a, name)
    f = getattr(a, name + "_file", None)
    if f is not None:
        with open(f, "rb") as fh:
            return fh.read()
    return None if v is None else v.encode("utf-8")


def cmd_tls(a):
    recs = load(a.file)
    sel = select(a, recs)
    where = describe_selection(a, recs)
    if len(sel) < a.min_records:
        fail("%d tls records for %s, expected at least %d" % (len(sel), where, a.min_records),
             tls_records(recs, a.pid))
    for r in sel:
        sanity(r, a.allow_lost)

    conns = group(sel)
    if a.conns is not None and len(conns) != a.conns:
        fail("%d connections for %s, expected %d: %s" % (len(conns), where, a.conns,
                                                         list(conns)), sel)
    if a.distinct_ids and len({k[0] for k in conns}) != len(conns):
        fail("two connections of %s share one conn id: %s" % (where, list(conns)), sel)

    g = lambda k: (lambda r: r.get(k))
    c = lambda k: (lambda r: (r.get("conn") or {}).get(k))
    if a.comm is not None:
        check_field(sel, "comm", g("comm"), a.comm)
    if a.lib is not None:
        check_field(sel, "lib", g("lib"), a.lib)
    if a.linking is not None:
        check_field(sel, "linking", g("linking"), a.linking)
    if a.lib_path is not None:
        bad = [r for r in sel if not same_path(r.get("lib_path"), a.lib_path)]
        if bad:
            fail("lib_path: expected %r (same file), got %r"
                 % (a.lib_path, sorted({str(r.get("lib_path")) for r in bad})), bad)
    if a.lib_path_under is not None:
        bad = [r for r in sel if not under(r.get("lib_path"), a.lib_path_under)]
        if bad:
            fail("lib_path: expected a file under %r, got %r"
                 % (a.lib_path_under, sorted({str(r.get("lib_path")) for r in bad})), bad)
    if a.lib_path_base is not None:
        check_field(sel, "basename(lib_path)",
                    lambda r: os.path.basename(r.get("lib_path") or ""), a.lib_path_base)
    if a.funcs is not None:
        allowed = set(a.funcs.split(","))
        bad = [r for r in sel if r.get("func") not in allowed]
        if bad:
            fail("func: expected one of %s, got %r"
                 % (sorted(allowed), sorted({r.get("func") for r in bad})), bad)
    if a.family is not None:
        check_field(sel, "conn.family", c("family"), None if a.family == "null" else a.family)
    if a.src is not None:
        check_field(sel, "conn.src", c("src"), None if a.src == "null" else a.src)
    if a.dst is not None:
        check_field(sel, "conn.dst", c("dst"), None if a.dst == "null" else a.dst)
    if a.role is not None:
        check_field(sel, "conn.role", c("role"), None if a.role == "null" else a.role)
    if a.fd_source is not None:
        want = {"fd": ("syscall", "cache")}.get(a.fd_source, (a.fd_source,))
        bad = [r for r in sel if (r.get("conn") or {}).get("fd_source") not in want]
        if bad:
            fail("conn.fd_source: expected %s" % " or ".join(want), bad)
    if a.fd == "present":
        bad = [r for r in sel if not isinstance((r.get("conn") or {}).get("fd"), int)]
        if bad:
            fail("conn.fd: expected a number", bad)
    elif a.fd == "null":
        check_field(sel, "conn.fd", c("fd"), None)
    if a.id_prefix is not None:
        bad = [r for r in sel if not str((r.get("conn") or {}).get("id")).startswith(a.id_prefix)]
        if bad:
            fail("conn.id: expected the prefix %r" % a.id_prefix, bad)

    for d in ("out", "in"):
        dsel = [r for r in sel if r.get("dir") == d]
        exact = text_arg(a, d)
        wants_data = exact is not None or any(
            getattr(a, "%s_%s" % (d, k)) is not None for k in ("prefix", "suffix", "contains"))
        if wants_data or getattr(a, "pattern_" + d):
            if len(conns) != 1:
                fail("data checks need exactly one connection for %s, found %d: %s"
                     % (where, len(conns), list(conns)), sel)
            if not dsel:
                fail("no dir=%s records for %s" % (d, where), sel)
        data = concat(sel, d)
        if exact is not None and data != exact:
            fail("dir=%s plaintext of %s differs:\n  expected %s\n  got      %s"
                 % (d, where, show(exact), show(data)), dsel)
        pre = getattr(a, d + "_prefix")
        if pre is not None and not data.startswith(pre.encode()):
            fail("dir=%s plaintext of %s does not start with %r: %s"
                 % (d, where, pre, show(data)), dsel)
        suf = getattr(a, d + "_suffix")
        if suf is not None and not data.endswith(suf.encode()):
            fail("dir=%s plaintext of %s does not end with %r: %s"
                 % (d, where, suf, show(data[-300:])), dsel)
        con = getattr(a, d + "_contains")
        if con is not None and con.encode() not in data:
            fail("dir=%s plaintext of %s does not contain %r: %s"
                 % (d, where, con, show(data)), dsel)
        calls = getattr(a, d + "_calls")
        if calls is not None and len(dsel) != calls:
            fail("%d dir=%s records for %s, expected %d" % (len(dsel), d, where, calls), dsel)
        total = getattr(a, d + "_len")
        if total is not None:
            got = sum(r["len"] for r in dsel)
            if got != total:
                fail("dir=%s: the calls of %s sum to len %d, expected %d"
                     % (d, where, got, total), dsel)
        if getattr(a, "pattern_" + d):
            off = 0
            for r in dsel:
                p = payload(r)
                want = pattern_bytes(off, len(p))
                if p != want:
                    i = next(i for i in range(len(p)) if p[i] != want[i]) \
                        if len(p) == len(want) else min(len(p), len(want))
                    fail("dir=%s: the call at stream offset %d does not carry the tls_client "
                         "pattern (first difference at byte %d)" % (d, off, i), [r])
                off += r["len"]
    if a.snaplen is not None:
        bad = [r for r in sel if r["captured_len"] != min(r["len"], a.snaplen)]
        if bad:
            fail("captured_len != min(len, %d)" % a.snaplen, bad)
    if a.expect_truncated is not None:
        want = a.expect_truncated == "yes"
        bad = [r for r in sel if r["truncated"] is not want]
        if bad:
            fail("truncated: expected %r" % want, bad)
    if a.verbose:
        for k, rs in conns.items():
            print("check_records: %s: %d records, out %d bytes, in %d bytes"
                  % (k, len(rs), len(concat(rs, "out")), len(concat(rs, "in"))))


def cmd_dump(a):
    recs = load(a.file)
    sel = select(a, recs)
    conns = group(sel)
    if len(conns) != 1:
        fail("dump needs exactly one connection for %s, found %d: %s"
             % (describe_selection(a, recs), len(conns), list(conns)), sel)
    for r in sel:
        sanity(r)
    sys.stdout.buffer.write(concat(sel, a.dir))


# ---- stats ----

OPS = [(">=", operator.ge), ("<=", operator.le), ("==", operator.eq), ("!=", operator.ne),
       (">", operator.gt), ("<", operator.lt)]


def parse_expect(s):
    for sym, fn in OPS:
        if sym in s:
            k, v = s.split(sym, 1)
            try:
                return k.strip(), sym, fn, int(v.strip())
            except ValueError:
                break
    raise argparse.ArgumentTypeError("expected FIELD(==|!=|>|>=|<|<=)INTEGER: %r" % s)


def dig(obj, path):
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def cmd_stats(a):
    recs = load(a.file)
    stats = [r for r in recs if r["type"] == "stats"]
    if not stats:
        fail("no stats record in %s" % a.file)
    last = stats[-1]
    for key, sym, fn, v in a.expect:
        got = dig(last, key)
        if not isinstance(got, int) or not fn(got, v):
            fail("final stats: expected %s %s %d, got %r" % (key, sym, v, got), [last])
    if a.lib_expect:
        if a.lib_of_pid is None:
            fail("--lib-expect needs --lib-of-pid")
        paths = {r.get("lib_path") for r in tls_records(recs, {a.lib_of_pid})}
        if not paths:
            fail("no tls records for pid %d, so no library to look up in the stats"
                 % a.lib_of_pid)
        libs = [l for l in (last.get("libs") or []) if l.get("path") in paths]
        if not libs:
            fail("final stats: no libs[] entry for %s (pid %d's lib_path)"
                 % (sorted(map(str, paths)), a.lib_of_pid), [last])
        for key, sym, fn, v in a.lib_expect:
            vals = [l.get(key) for l in libs]
            if not all(isinstance(x, int) for x in vals) or not fn(sum(vals), v):
                fail("final stats: libs[path=%s].%s: expected %s %d, got %r"
                     % (sorted(map(str, paths)), key, sym, v, vals), [last])


# ---- compare ----

def cmd_compare(a):
    """Two captures of the same calls: a recording and its replay, or two
    tracers running side by side (--ignore their timing fields, and
    --per-thread since their readers may interleave threads differently)."""
    ignore = set(a.ignore.split(",")) if a.ignore else set()

    def strip(recs):
        return [{k: v for k, v in r.items() if k not in ignore} for r in recs]

    ra = strip(tls_records(load(a.file_a), a.pid))
    rb = strip(tls_records(load(a.file_b), a.pid))
    if not ra:
        fail("no tls records for pids %s in %s" % (sorted(a.pid), a.file_a))
    key = (lambda r: (r["pid"], r["tid"])) if a.per_thread else (lambda r: r["pid"])
    for k in sorted(set(map(key, ra)) | set(map(key, rb))):
        la = [r for r in ra if key(r) == k]
        lb = [r for r in rb if key(r) == k]
        if len(la) != len(lb):
            fail("%s: %d tls records in %s, %d in %s"
                 % (k, len(la), a.file_a, len(lb), a.file_b), la + lb)
        for i, (x, y) in enumerate(zip(la, lb)):
            if x != y:
                diff = sorted(k for k in set(x) | set(y) if x.get(k) != y.get(k))
                fail("%s: tls record #%d differs in %s:\n    %s: %s\n    %s: %s"
                     % (k, i, diff, a.file_a, brief(x), a.file_b, brief(y)))
    print("check_records: %d tls records identical in both files" % len(ra))


# ---- errline ----

def cmd_errline(a):
    """stderr of a failed tlstop: exactly one line, a JSON error object
    (--json) or plain text, whose message contains every --contains."""
    with open(a.file, "rb") as f:
        raw = f.read()
    lines = [l for l in raw.decode("utf-8", "replace").split("\n") if l.strip()]
    if len(lines) != 1:
        fail("expected exactly one line on stderr, got %d: %r" % (len(lines), raw[:2000]))
    line = lines[0]
    if a.json:
        try:
            obj = json.loads(line)
        except ValueError:
            fail("stderr in --json mode is not a JSON object: %r" % line)
        if not isinstance(obj, dict) or obj.get("type") != "error" \
                or not isinstance(obj.get("message"), str):
            fail("expected {\"type\":\"error\",\"message\":...} on stderr, got %r" % line)
        msg = obj["message"]
    else:
        if line.lstrip().startswith("{"):
            fail("stderr outside --json mode should be plain text, got %r" % line)
        msg = line
    for want in a.contains:
        if want.lower() not in msg.lower():
            fail("the error message does not mention %r: %r" % (want, msg))
    if a.any_of and not any(w.lower() in msg.lower() for w in a.any_of):
        fail("the error message mentions none of %r: %r" % (a.any_of, msg))
    print("check_records: stderr: %s" % msg)


# ---- near (text reports: --list-targets) ----

def cmd_near(a):
    """In a text report, some line matching --anchor (a regex) has every
    --expect string (or --expect-re regex) within the --window lines that
    start with it."""
    with open(a.file, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    anchor = re.compile(a.anchor)
    hits = [i for i, l in enumerate(lines) if anchor.search(l)]
    if not hits:
        fail("no line of %s matches /%s/:\n%s" % (a.file, a.anchor, "\n".join(lines[:80])))

    def missing_in(window):
        return ([w for w in a.expect if w not in window] +
                [r for r in a.expect_re if not re.search(r, window)])

    for i in hits:
        window = "\n".join(lines[max(0, i - a.before):i + a.window])
        if not missing_in(window):
            print("check_records: %s line %d: /%s/ with %s" % (a.file, i + 1, a.anchor,
                                                               a.expect + a.expect_re))
            return
    i = hits[0]
    missing = missing_in("\n".join(lines[max(0, i - a.before):i + a.window]))
    fail("%s: near the line(s) matching /%s/ (%s), %s missing:\n%s"
         % (a.file, a.anchor, [h + 1 for h in hits], missing,
            "\n".join(lines[max(0, i - a.before):i + a.window])))


# ---- sockport ----

def cmd_sockport(a):
    inodes = set()
    fddir = "/proc/%d/fd" % a.pid
    for fd in os.listdir(fddir):
        try:
            t = os.readlink(os.path.join(fddir, fd))
        except OSError:
            continue
        m = re.match(r"socket:\[(\d+)\]$", t)
        if m:
            inodes.add(m.group(1))
    for name in ("tcp", "tcp6"):
        try:
            with open("/proc/%d/net/%s" % (a.pid, name)) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            lport = int(cols[1].rsplit(":", 1)[1], 16)
            rport = int(cols[2].rsplit(":", 1)[1], 16)
            if cols[9] in inodes and rport == a.peer_port:
                print(lport)
                return
    fail("pid %d has no TCP socket connected to port %d" % (a.pid, a.peer_port))


def run_command(prog, a):
    """Runs the chosen subcommand: 0, or 1 with "PROG: FAIL: why" on stderr."""
    try:
        a.fn(a)
    except (CheckFailed, OSError) as e:
        sys.stderr.write("%s: FAIL: %s\n" % (prog, e))
        return 1
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    v = sub.add_parser("validate")
    v.add_argument("file")
    v.add_argument("--source", choices=["live", "recording"])
    v.set_defaults(fn=cmd_validate)

    def selectors(sp):
        sp.add_argument("file")
        sp.add_argument("--pid", type=pid_list, required=True)
        sp.add_argument("--select-src", help="only records whose conn.src is this")
        sp.add_argument("--select-dst", help="only records whose conn.dst is this")

    t = sub.add_parser("tls")
    selectors(t)
    t.add_argument("--min-records", type=int, default=1)
    t.add_argument("--conns", type=int, help="distinct (conn id, src, dst) in the selection")
    t.add_argument("--distinct-ids", action="store_true",
                   help="every connection of the selection has its own conn id")
    t.add_argument("--comm")
    t.add_argument("--lib")
    t.add_argument("--linking")
    t.add_argument("--lib-path", help="the same file as this path")
    t.add_argument("--lib-path-under", help="a file under this directory")
    t.add_argument("--lib-path-base", help="basename of lib_path")
    t.add_argument("--funcs", help="comma-separated list of allowed func names")
    t.add_argument("--family")
    t.add_argument("--src")
    t.add_argument("--dst")
    t.add_argument("--role")
    t.add_argument("--fd", choices=["present", "null"])
    t.add_argument("--fd-source", choices=["syscall", "cache", "none", "fd"])
    t.add_argument("--id-prefix")
    for d in ("out", "in"):
        t.add_argument("--" + d, help="exact concatenated plaintext, dir=" + d)
        t.add_argument("--%s-file" % d, help="exact concatenated plaintext from a file")
        t.add_argument("--%s-prefix" % d)
        t.add_argument("--%s-suffix" % d)
        t.add_argument("--%s-contains" % d)
        t.add_argument("--%s-len" % d, type=int, help="sum of len of the dir=%s calls" % d)
        t.add_argument("--%s-calls" % d, type=int, help="number of dir=%s records" % d)
        t.add_argument("--pattern-" + d, action="store_true",
                       help="the captured bytes follow tls_client's --size pattern")
    t.add_argument("--snaplen", type=int, help="captured_len == min(len, SNAPLEN) everywhere")
    t.add_argument("--expect-truncated", choices=["yes", "no"])
    t.add_argument("--allow-lost", action="store_true")
    t.add_argument("--verbose", action="store_true")
    t.set_defaults(fn=cmd_tls)

    d = sub.add_parser("dump")
    selectors(d)
    d.add_argument("--dir", choices=["in", "out"], required=True)
    d.set_defaults(fn=cmd_dump)

    s = sub.add_parser("stats")
    s.add_argument("file")
    s.add_argument("--expect", type=parse_expect, action="append", default=[])
    s.add_argument("--lib-of-pid", type=int)
    s.add_argument("--lib-expect", type=parse_expect, action="append", default=[])
    s.set_defaults(fn=cmd_stats)

    c = sub.add_parser("compare")
    c.add_argument("--ignore", help="comma-separated fields not compared")
    c.add_argument("--per-thread", action="store_true",
                   help="compare the order of records per thread, not per process")
    c.add_argument("file_a")
    c.add_argument("file_b")
    c.add_argument("--pid", type=pid_list, required=True)
    c.set_defaults(fn=cmd_compare)

    e = sub.add_parser("errline")
    e.add_argument("file")
    e.add_argument("--json", action="store_true")
    e.add_argument("--contains", action="append", default=[])
    e.add_argument("--any-of", action="append", default=[])
    e.set_defaults(fn=cmd_errline)

    n = sub.add_parser("near")
    n.add_argument("file")
    n.add_argument("--anchor", required=True, help="regex of the line to look near")
    n.add_argument("--expect", action="append", default=[])
    n.add_argument("--expect-re", action="append", default=[])
    n.add_argument("--window", type=int, default=12, help="lines from the anchor on")
    n.add_argument("--before", type=int, default=0, help="lines before the anchor too")
    n.set_defaults(fn=cmd_near)

    k = sub.add_parser("sockport")
    k.add_argument("pid", type=int)
    k.add_argument("peer_port", type=int)
    k.set_defaults(fn=cmd_sockport)

    return run_command("check_records", p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
