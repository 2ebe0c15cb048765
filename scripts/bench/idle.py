#!/usr/bin/env python3
"""idle.py - memory per idle ingress connection, for bench.sh.

usage: idle.py --port P --n N --pids PID,PID...

PIDS are the gateway's role processes (children of `sealgate serve`).
Opens N connections to 127.0.0.1:P, reads each greeting, sends EHLO and
reads the reply, then leaves them idle; the ingress is the process whose
open descriptors grew by about N. Prints, for that process, the growth of
VmRSS (and VmData, the heap it asked for) divided by N, checks that every
connection still answers NOOP, and closes them.
Prints: pid=.. conns=.. rss_before_kb=.. rss_after_kb=.. rss_per_conn_b=..
        data_per_conn_b=..
"""
import argparse
import resource
import selectors
import socket
import sys
import time
import os


def status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for l in f:
            k, _, v = l.partition(":")
            if k in ("VmRSS", "VmData"):
                out[k] = int(v.split()[0])
    return out


def nfds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def read_replies(socks, want, timeout):
    """read from every socket until its buffer ends with a final reply
    line starting with want; returns the sockets that failed"""
    sel = selectors.DefaultSelector()
    buf = {}
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
        buf[s] = b""
    left = set(socks)
    bad = []
    end = time.monotonic() + timeout
    while left and time.monotonic() < end:
        for key, _ in sel.select(0.5):
            s = key.fileobj
            try:
                d = s.recv(4096)
            except OSError:
                d = b""
            if not d:
                bad.append(s)
                left.discard(s)
                sel.unregister(s)
                continue
            buf[s] += d
            lines = buf[s].split(b"\r\n")
            if len(lines) >= 2 and lines[-2][3:4] == b" ":
                if not lines[-2].startswith(want):
                    bad.append(s)
                left.discard(s)
                sel.unregister(s)
    bad.extend(left)
    sel.close()
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--pids", required=True)
    ap.add_argument("--settle", type=float, default=1.0)
    a = ap.parse_args()
    pids = [int(p) for p in a.pids.split(",") if p]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < a.n + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (min(hard, a.n + 1000), hard))

    time.sleep(a.settle)
    before = {p: (status(p), nfds(p)) for p in pids}
    socks = []
    for i in range(a.n):
        s = socket.create_connection(("127.0.0.1", a.port), 10)
        socks.append(s)
    bad = read_replies(socks, b"220", 30)
    if bad:
        raise SystemExit("idle: %d of %d connections got no 220"
                         % (len(bad), a.n))
    for s in socks:
        s.sendall(b"EHLO idle.bench.test\r\n")
    bad = read_replies(socks, b"250", 30)
    if bad:
        raise SystemExit("idle: %d of %d connections got no 250 to EHLO"
                         % (len(bad), a.n))
    time.sleep(a.settle)
    after = {p: (status(p), nfds(p)) for p in pids}
    ing = max(pids, key=lambda p: after[p][1] - before[p][1])
    if after[ing][1] - before[ing][1] < a.n * 0.9:
        raise SystemExit("idle: no role process holds the connections")
    for s in socks:
        s.sendall(b"NOOP\r\n")
    bad = read_replies(socks, b"250", 30)
    for s in socks:
        try:
            s.sendall(b"QUIT\r\n")
        except OSError:
            pass
        s.close()
    if bad:
        raise SystemExit("idle: %d connections did not answer NOOP"
                         % len(bad))
    b, af = before[ing][0], after[ing][0]
    print("pid=%d conns=%d rss_before_kb=%d rss_after_kb=%d "
          "rss_per_conn_b=%d data_per_conn_b=%d"
          % (ing, a.n, b["VmRSS"], af["VmRSS"],
             (af["VmRSS"] - b["VmRSS"]) * 1024 // a.n,
             (af["VmData"] - b["VmData"]) * 1024 // a.n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
