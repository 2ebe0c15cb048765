#!/usr/bin/env python3
"""load.py - one throughput run for scripts/bench.sh.

usage: load.py --maillog FILE --n N [--arrival REGEX] [--timeout S]
               [--cpu NAME=PID,PID ...] -- smtp-source ARGS...

Starts the load command (smtp-source) and times the run from its start
until the sink's Postfix has logged N more lines matching REGEX in FILE:
one per message the sink accepted (default " status=sent ", the sink's
discard(8) delivery; bench.sh's proxy sink logs "proxy-accept:
END-OF-MESSAGE: 250" instead). Prints one line of key=value:

  elapsed      seconds from start until the N-th delivery at the sink
  rate         N / elapsed (messages per second, end to end)
  src_elapsed  seconds until smtp-source had all its 250s (ingress only)
  src_rc       smtp-source's exit status (non-zero: it saw errors)
  got          deliveries counted (N unless the run timed out)
  conns        connections the sink accepted during the run
  tls_conns    of those, how many negotiated TLS (smtpd_tls_loglevel=1)
  cpu_NAME     CPU milliseconds per message used by the process trees
               rooted at the given pids (user+system, reaped children
               included), e.g. the relay under test and its database
  cpu_load     the same for the load generator (smtp-source)
  busy         the whole machine's CPU use during the run, in percent
               of all cores
  irq          of that, interrupt time (mostly loopback TCP)
  other        of that, the share of processes outside the --cpu trees,
               smtp-source and this script (another job on the machine
               makes the figures low; --quiet-wait S first waits up to S
               seconds for the machine to be idle)
"""
import argparse
import os
import re
import resource
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        rest = st[st.rindex(")") + 2:].split()
        kids.setdefault(int(rest[1]), []).append(int(d))
    return kids


def proc_ticks(pid):
    """utime+stime+cutime+cstime of one process (threads included)"""
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return 0
    rest = st[st.rindex(")") + 2:].split()
    # fields 14..17 of stat(5); rest[0] is field 3
    return sum(int(x) for x in rest[11:15])


def tree_ticks(roots):
    """CPU of every live process under roots; an exited process is in its
    reaper's cutime/cstime, so the sum only grows"""
    kids = children_map()
    seen = set()
    todo = list(roots)
    total = 0
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        total += proc_ticks(p)
        todo.extend(kids.get(p, []))
    return total


def machine_ticks():
    """total, idle and interrupt ticks of all cores (interrupt time, much
    of it loopback TCP for our own processes, is in no process's times)"""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v[:8]), v[3] + v[4], v[5] + v[6]


CONNECT = re.compile(rb"\]: connect from ")
TLS = re.compile(rb"\]: (?:Anonymous|Untrusted|Trusted|Verified) TLS "
                 rb"connection established from ")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--maillog", required=True)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--arrival", default=" status=sent ")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--cpu", action="append", default=[])
    ap.add_argument("--quiet-wait", type=float, default=0)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    sent = re.compile(a.arrival.encode())
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    groups = []
    for g in a.cpu:
        name, pids = g.split("=", 1)
        groups.append((name, [int(p) for p in pids.split(",") if p]))

    waited = 0.0
    while waited < a.quiet_wait:
        m0 = machine_ticks()
        time.sleep(0.5)
        m1 = machine_ticks()
        if 1 - (m1[1] - m0[1]) / max(1, m1[0] - m0[0]) < 0.10:
            break
        waited += 0.5

    log = open(a.maillog, "rb")
    log.seek(0, os.SEEK_END)
    self0 = sum(os.times()[:2])
    cpu0 = [tree_ticks(p) for _, p in groups]
    m0 = machine_ticks()
    t0 = time.monotonic()
    src = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    src_elapsed = None
    got = conns = tls = 0
    tail = b""
    t_end = None
    while True:
        chunk = log.read()
        if chunk:
            data = tail + chunk
            cut = data.rfind(b"\n") + 1
            lines, tail = data[:cut], data[cut:]
            got += len(sent.findall(lines))
            conns += len(CONNECT.findall(lines))
            tls += len(TLS.findall(lines))
        now = time.monotonic()
        if src_elapsed is None and src.poll() is not None:
            src_elapsed = now - t0
        if got >= a.n:
            t_end = now
            break
        if now - t0 > a.timeout:
            break
        time.sleep(0.005)
    m1 = machine_ticks()
    cpu1 = [tree_ticks(p) for _, p in groups]
    self1 = sum(os.times()[:2])
    if src_elapsed is None:
        try:
            src.wait(timeout=max(1.0, a.timeout - (time.monotonic() - t0)))
        except subprocess.TimeoutExpired:
            src.kill()
            src.wait()
        src_elapsed = time.monotonic() - t0
    # a moment for the sink's log to catch up with the connection lines
    time.sleep(0.2)
    rest = tail + log.read()
    conns += len(CONNECT.findall(rest))
    tls += len(TLS.findall(rest))
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_ms = (ru.ru_utime + ru.ru_stime) * 1000.0
    elapsed = (t_end if t_end is not None else time.monotonic()) - t0
    total = max(1, m1[0] - m0[0])
    busy = 100.0 * (1 - (m1[1] - m0[1]) / total)
    ours = sum(c1 - c0 for c0, c1 in zip(cpu0, cpu1)) + \
        (load_ms / 1000.0 + self1 - self0) * TICK
    irq = 100.0 * (m1[2] - m0[2]) / total
    other = max(0.0, busy - irq - 100.0 * ours / total)
    out = ["elapsed=%.3f" % elapsed,
           "rate=%.1f" % (got / elapsed if t_end is not None else 0.0),
           "src_elapsed=%.3f" % src_elapsed,
           "src_rc=%d" % src.returncode,
           "got=%d" % got, "conns=%d" % conns, "tls_conns=%d" % tls,
           "busy=%.0f" % busy, "irq=%.0f" % irq, "other=%.0f" % other,
           "waited=%.1f" % waited]
    for (name, _), c0, c1 in zip(groups, cpu0, cpu1):
        out.append("cpu_%s=%.2f" % (name, (c1 - c0) * 1000.0 / TICK /
                                    max(1, got)))
    out.append("cpu_load=%.2f" % (load_ms / max(1, got)))
    print(" ".join(out))
    return 0 if t_end is not None else 1


if __name__ == "__main__":
    sys.exit(main())
