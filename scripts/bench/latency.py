#!/usr/bin/env python3
"""latency.py - one connection's latency through a relay, for bench.sh.

usage: latency.py --relay-port P --sink-port S [--n N] [--warmup W]
                  [--size BYTES] [--domain D]

Runs a small SMTP sink on 127.0.0.1:S (the relay routes D there) and,
in the same process, one client connection to the relay on 127.0.0.1:P
that sends W+N messages one at a time: each message is sent only after
the previous one has arrived at the sink, so every figure is the
unloaded path through the relay. Latency of a message is from the moment
its MAIL FROM is written until the sink has read its final "." (both
clocks are this process's monotonic clock). The first W are not counted.
Prints: p50_ms=.. p99_ms=.. mean_ms=.. max_ms=.. ack_p50_ms=.. n=..
(ack_*: MAIL FROM until the relay's 250 to the final ".").
"""
import argparse
import math
import re
import socket
import socketserver
import sys
import threading
import time

SEQ = re.compile(rb"^X-Bench-Seq: (\d+)\r$", re.M)

arrived = {}
cond = threading.Condition()


class Sink(socketserver.StreamRequestHandler):
    # each reply goes out at once, as a real server's would: with Nagle,
    # the second of two pipelined replies waits for the client's delayed
    # ACK (40 ms) and that would be all this measured
    disable_nagle_algorithm = True

    def reply(self, s):
        self.wfile.write(s.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        self.reply("220 lat.test ESMTP bench sink")
        while True:
            line = self.rfile.readline(4096)
            if not line:
                return
            verb = line[:4].upper()
            if verb in (b"EHLO", b"LHLO"):
                self.wfile.write(b"250-lat.test\r\n250-PIPELINING\r\n"
                                 b"250-8BITMIME\r\n250-SIZE 104857600\r\n"
                                 b"250 ENHANCEDSTATUSCODES\r\n")
                self.wfile.flush()
            elif verb == b"HELO":
                self.reply("250 lat.test")
            elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                self.reply("250 2.0.0 Ok")
            elif verb == b"DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                parts = []
                while True:
                    l = self.rfile.readline(65536)
                    if not l:
                        return
                    if l == b".\r\n":
                        break
                    parts.append(l)
                t = time.monotonic()
                m = SEQ.search(b"".join(parts[:200]))
                if m:
                    with cond:
                        arrived[int(m.group(1))] = t
                        cond.notify_all()
                self.reply("250 2.0.0 Ok: discarded")
            elif verb == b"QUIT":
                self.reply("221 2.0.0 Bye")
                return
            else:
                self.reply("502 5.5.2 Not implemented")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def expect(f, code):
    while True:
        l = f.readline()
        if not l:
            raise SystemExit("latency: relay closed the connection")
        if l[3:4] != b"-":
            break
    if not l.startswith(code):
        raise SystemExit("latency: want %s, got %r" % (code.decode(), l))


def pct(v, p):
    """nearest-rank percentile"""
    v = sorted(v)
    k = max(0, min(len(v) - 1, math.ceil(p / 100.0 * len(v)) - 1))
    return v[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--relay-port", type=int, required=True)
    ap.add_argument("--sink-port", type=int, required=True)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--domain", default="lat.test")
    ap.add_argument("--timeout", type=float, default=30)
    a = ap.parse_args()

    srv = Server(("127.0.0.1", a.sink_port), Sink)
    threading.Thread(target=srv.serve_forever, daemon=True).start()

    line = b"0123456789abcdefghijklmnopqrstuvwxyz" * 2 + b"\r\n"
    body = line * (a.size // len(line) + 1)
    body = body[:a.size - a.size % len(line)]
    s = socket.create_connection(("127.0.0.1", a.relay_port), 10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(a.timeout)
    f = s.makefile("rb")
    expect(f, b"220")
    s.sendall(b"EHLO bench.client\r\n")
    expect(f, b"250")
    lat, ack = [], []
    for i in range(a.warmup + a.n):
        hdr = ("From: <bench@example.org>\r\nTo: <lat@%s>\r\n"
               "Subject: latency %d\r\nMessage-ID: <lat.%d.%f@bench.test>\r\n"
               "X-Bench-Seq: %d\r\n\r\n" % (a.domain, i, i, time.time(), i))
        t0 = time.monotonic()
        s.sendall(b"MAIL FROM:<bench@example.org>\r\n")
        expect(f, b"250")
        s.sendall(("RCPT TO:<lat@%s>\r\n" % a.domain).encode())
        expect(f, b"250")
        s.sendall(b"DATA\r\n")
        expect(f, b"354")
        s.sendall(hdr.encode() + body + b".\r\n")
        expect(f, b"250")
        t_ack = time.monotonic()
        with cond:
            if not cond.wait_for(lambda: i in arrived, a.timeout):
                raise SystemExit("latency: message %d not at the sink "
                                 "after %.0f s" % (i, a.timeout))
            t_sink = arrived[i]
        if i >= a.warmup:
            lat.append((t_sink - t0) * 1000)
            ack.append((t_ack - t0) * 1000)
    s.sendall(b"QUIT\r\n")
    s.close()
    srv.shutdown()
    print("p50_ms=%.2f p99_ms=%.2f mean_ms=%.2f max_ms=%.2f ack_p50_ms=%.2f "
          "ack_p99_ms=%.2f n=%d" % (pct(lat, 50), pct(lat, 99),
                                    sum(lat) / len(lat), max(lat),
                                    pct(ack, 50), pct(ack, 99), len(lat)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
