#!/usr/bin/env python3
"""ui_latency.py - key-to-screen latency of a full-screen program in tmux.

Runs each given command (tlstop -r TRACE: first an idle baseline, then the
loaded run) in a detached tmux session on a private server, waits for its
first screen, then ROUNDS times sends the open key (?) and measures until
the open regex (the help screen) is on the screen, then the close key (q)
until the ready regex (the Connections table) is back. One control-mode
client sends the keys and reads the screen (capture-pane), so a poll costs
a fraction of a millisecond instead of a tmux process; the times are
CLOCK_MONOTONIC from just before the key is sent to the end of the first
capture that shows the answer, so they include at most one poll interval
plus one capture of slack (the polling floor is printed).

Usage: ui_latency.py [options] LABEL=COMMAND... (COMMAND is split like sh
words, no expansion); see --help.
"""

import argparse
import os
import random
import re
import shlex
import signal
import statistics
import subprocess
import sys
import time


class Tmux:
    """A private tmux server (tmux -L NAME, no configuration file)."""

    def __init__(self, socket):
        self.base = ["tmux", "-L", socket, "-f", "/dev/null"]
        self.env = {k: v for k, v in os.environ.items() if k != "TMUX"}

    def run(self, *args, check=True):
        return subprocess.run(self.base + list(args), env=self.env, check=check,
                              capture_output=True, text=True).stdout

    def start(self, name, size, argv):
        cols, rows = size.split("x")
        env = ["env", "TERM=xterm-256color", "LANG=C.UTF-8", "LC_ALL=C.UTF-8"]
        self.run("start-server", ";", "set-option", "-g", "status", "off", ";",
                 "set-option", "-g", "remain-on-exit", "on", ";",
                 "set-option", "-g", "history-limit", "0", ";",
                 "new-session", "-d", "-s", name, "-x", cols, "-y", rows, *env, *argv)

    def kill_server(self):
        self.run("kill-server", check=False)


class Control:
    """One tmux control-mode client: a command per line on stdin, its
    answer between %begin and %end (or %error) on stdout. The attach
    command itself is answered first; commands sent before that answer
    find no client ("no current client")."""

    def __init__(self, tmux, session):
        self.p = subprocess.Popen(tmux.base + ["-C", "attach-session", "-t", session],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  env=tmux.env, text=True, bufsize=1)
        self.block("attach-session")
        self.cmd("refresh-client -f no-output")

    def cmd(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        # a tmux that stops answering ends the benchmark, not hangs it
        signal.setitimer(signal.ITIMER_REAL, 10)
        try:
            return self.block(line)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    def block(self, line):
        """The next answer, skipping the notifications around it."""
        out, tag = [], None
        for raw in self.p.stdout:
            raw = raw.rstrip("\n")
            words = raw.split()
            if tag is None:
                if words[:1] == ["%begin"] and len(words) > 2:
                    tag = words[2]
                elif words[:1] == ["%exit"]:
                    raise RuntimeError("tmux control client exited: %s" % raw)
                continue
            if words[:1] in (["%end"], ["%error"]) and len(words) > 2 and words[2] == tag:
                if words[0] == "%error":
                    raise RuntimeError("tmux: %s: %s" % (line, " ".join(out)))
                return out
            out.append(raw)
        raise RuntimeError("tmux control client closed")

    def close(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        self.p.wait(timeout=5)


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def summary(values):
    ms = [v * 1000 for v in values]
    return "%5d %8.1f %8.1f %8.1f" % (len(ms), statistics.median(ms), pct(ms, 90), max(ms))


class Screen:
    def __init__(self, ctl, session):
        self.ctl, self.session = ctl, session
        self.lines = []

    def capture(self):
        self.lines = self.ctl.cmd("capture-pane -p -t %s" % self.session)
        return self.lines

    def has(self, regex):
        return any(regex.search(line) for line in self.lines)

    def text(self):
        return "\n".join(self.lines)


class Run:
    """One program under test: started, driven, measured, stopped."""

    def __init__(self, args, tmux, index, label, argv):
        self.a, self.tmux, self.label, self.argv = args, tmux, label, argv
        self.session = "ui%d" % index
        self.open_lat, self.close_lat, self.rates = [], [], []
        self.slowest = []  # (latency, key, seconds after the start)
        self.ctl = None

    def fail(self, screen, why):
        dead = self.tmux.run("display-message", "-p", "-t", self.session,
                             "dead #{pane_dead} status #{pane_dead_status}", check=False)
        sys.stderr.write("ui_latency: %s: %s (%s)\n----- screen -----\n%s\n-----\n"
                         % (self.label, why, dead.strip(), screen.text()))
        raise SystemExit(1)

    def wait(self, screen, pred, t0, why):
        """Polls until pred(screen); returns the end of the capture that
        matched, as seconds after t0."""
        deadline = t0 + self.a.timeout
        while True:
            screen.capture()
            t = time.monotonic()
            if pred(screen):
                return t - t0
            if t > deadline:
                self.fail(screen, "%s after %.1f s" % (why, self.a.timeout))
            time.sleep(self.a.poll_ms / 1000.0)

    def key(self, screen, key, pred, why):
        t0 = time.monotonic()
        self.ctl.cmd("send-keys -t %s -l %s" % (self.session, shlex.quote(key)))
        lat = self.wait(screen, pred, t0, why)
        self.slowest = sorted(self.slowest + [(lat, key, t0 - self.started)])[-3:]
        return lat

    def sample_rate(self, screen):
        m = self.a.rate_re.search(screen.text())
        if m:
            scale = {"": 1, "k": 1e3, "K": 1e3, "M": 1e6}.get(m.group(2), 1)
            self.rates.append(float(m.group(1)) * scale)

    def measure(self):
        a = self.a
        ready = lambda s: s.has(a.ready_re) and not s.has(a.open_re)
        opened = lambda s: s.has(a.open_re)
        self.started = time.monotonic()
        self.tmux.start(self.session, a.size, self.argv)
        self.ctl = Control(self.tmux, self.session)
        screen = Screen(self.ctl, self.session)
        self.first_screen = self.wait(screen, ready, self.started, "no first screen")
        time.sleep(a.warmup)
        cpu0 = (self.cpu_seconds(), time.monotonic())
        for _ in range(a.rounds):
            self.open_lat.append(self.key(screen, a.open_key, opened, "the open key was not answered"))
            time.sleep(random.uniform(0.05, 0.15))
            self.close_lat.append(self.key(screen, a.close_key, ready, "the close key was not answered"))
            self.sample_rate(screen)
            time.sleep(random.uniform(0.05, 0.15))
        self.elapsed = time.monotonic() - self.started
        self.cpu_pct = (self.cpu_seconds() - cpu0[0]) / (time.monotonic() - cpu0[1]) * 100
        if self.tmux.run("display-message", "-p", "-t", self.session, "#{pane_dead}").strip() == "1":
            self.fail(screen, "the program ended during the measurement")
        self.floor = self.measure_floor(screen)
        self.ctl.close()
        self.tmux.run("kill-session", "-t", self.session, check=False)

    def cpu_seconds(self):
        """CPU time of the program (the pane's process: env execs it)."""
        pid = self.tmux.run("display-message", "-p", "-t", self.session, "#{pane_pid}").strip()
        try:
            with open("/proc/%s/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def measure_floor(self, screen):
        """What a poll costs: capture-pane through the control client, and
        through a new tmux process (what tests/ui/tmux.sh pays)."""
        ctl_t, proc_t = [], []
        for _ in range(100):
            t0 = time.monotonic()
            screen.capture()
            ctl_t.append(time.monotonic() - t0)
        for _ in range(20):
            t0 = time.monotonic()
            self.tmux.run("capture-pane", "-p", "-t", self.session)
            proc_t.append(time.monotonic() - t0)
        return ctl_t, proc_t


def human(n):
    for div, suffix in ((1e6, "M"), (1e3, "k")):
        if n >= div:
            return "%.1f%s" % (n / div, suffix)
    return "%.0f" % n


def report(args, runs):
    print("ui_latency: %d rounds of '%s' (until /%s/) then '%s' (until /%s/), %s, "
          "poll every %g ms" % (args.rounds, args.open_key, args.open_re.pattern,
                                args.close_key, args.ready_re.pattern, args.size, args.poll_ms))
    for r in runs:
        ctl_t, proc_t = r.floor
        print("  %s: %s" % (r.label, " ".join(r.argv)))
        print("    first screen after %.2f s; polling floor: capture-pane via the control "
              "client median %.2f ms (p90 %.2f), via a tmux process median %.1f ms"
              % (r.first_screen, statistics.median(ctl_t) * 1e3, pct(ctl_t, 90) * 1e3,
                 statistics.median(proc_t) * 1e3))
    print("%-34s %5s %8s %8s %8s   (ms, key sent -> screen shows the answer)"
          % ("", "n", "median", "p90", "max"))
    for r in runs:
        print("%-34s %s" % (r.label + ": " + args.open_key + " -> help", summary(r.open_lat)))
        print("%-34s %s" % (r.label + ": " + args.close_key + " -> table", summary(r.close_lat)))
    for r in runs:
        print("%s: slowest %s" % (r.label, ", ".join(
            "%s %.1f ms at %.2f s" % (k, lat * 1e3, at) for lat, k, at in reversed(r.slowest))))
    base, load = runs[0], runs[-1]
    if len(runs) > 1:
        print("ratio %s/%s (medians): open %.2fx, close %.2fx" % (
            load.label, base.label,
            statistics.median(load.open_lat) / statistics.median(base.open_lat),
            statistics.median(load.close_lat) / statistics.median(base.close_lat)))
    for r in runs:
        rate = ("the header showed in %s msg/s (median of %d samples, min %s)"
                % (human(statistics.median(r.rates)), len(r.rates), human(min(r.rates)))
                if r.rates else "no 'in N msg/s' on the screen")
        print("%s: %s; it used %.0f%% of a CPU during the rounds; measured %.1f s after start"
              % (r.label, rate, r.cpu_pct, r.elapsed), end="")
        if args.rate and r is load:
            print(", so ~%s messages replayed at %s msg/s%s" % (
                human(args.rate * r.elapsed), human(args.rate),
                "" if not args.seconds or r.elapsed < args.seconds
                else " (the recording ended before the measurement did: rerun longer)"))
        else:
            print()
    if args.target_ms:
        worst = max(load.open_lat + load.close_lat) * 1000
        p90 = pct(load.open_lat + load.close_lat, 90) * 1000
        print("target: keys answered within %g ms under load: %s (max %.1f ms, p90 %.1f ms)"
              % (args.target_ms, "met" if worst <= args.target_ms else "MISSED", worst, p90))


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", metavar="LABEL=COMMAND",
                   help="programs to measure, the baseline first, the loaded one last")
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--size", default="120x40")
    p.add_argument("--open-key", default="?")
    p.add_argument("--open-regex", default=r"tlstop help")
    p.add_argument("--close-key", default="q")
    p.add_argument("--ready-regex", default=r"\bPID\b.*\bCOMM\b")
    p.add_argument("--rate-regex", default=r"\bin\s+([0-9.]+)\s*([kKM]?)\s*msg/s")
    p.add_argument("--poll-ms", type=float, default=1.0)
    p.add_argument("--warmup", type=float, default=2.0, help="seconds after the first screen")
    p.add_argument("--timeout", type=float, default=20.0, help="seconds per wait")
    p.add_argument("--rate", type=float, default=0, help="the loaded run's messages/s")
    p.add_argument("--seconds", type=float, default=0, help="the loaded recording's length")
    p.add_argument("--target-ms", type=float, default=50)
    a = p.parse_args()
    a.open_re, a.ready_re = re.compile(a.open_regex), re.compile(a.ready_regex)
    a.rate_re = re.compile(a.rate_regex)
    return a


def no_answer(signum, frame):
    raise RuntimeError("tmux did not answer within 10 s")


def main():
    args = parse()
    signal.signal(signal.SIGALRM, no_answer)
    tmux = Tmux("tlstop-bench-%d" % os.getpid())
    runs = []
    try:
        for i, spec in enumerate(args.runs):
            label, _, command = spec.partition("=")
            r = Run(args, tmux, i, label, shlex.split(command))
            r.measure()
            runs.append(r)
    finally:
        tmux.kill_server()
    report(args, runs)


if __name__ == "__main__":
    main()
