#!/usr/bin/env python3
"""loadgen.py - SMTP load with a record of what the server acknowledged.

usage:
  loadgen.py send HOST PORT --out FILE --tag TAG [--count M] [--conns N]
             [--pause SECS] [--duration SECS] [--rcpts R] [--deadline SECS]
      N connections send M messages in all (message k on connection k % N;
      with --duration, each connection starts new messages until SECS are
      over, as fast as it can with --pause between them), each with a
      unique "X-Loadgen-Key: TAG-..." header (also in Message-ID and
      Subject), to R recipients (default 2). Like an MTA, a message is
      sent again until it gets a 250: connection errors, 421 and other
      4xx make the connection reconnect and retry. Writes FILE (JSON): per message its key, the
      queue id of its 250, how many attempts ended after the final "."
      with no reply at all ("unanswered": a 250 that may have been lost),
      how many got a 4xx after the ".", and a count of every error seen.
      --deadline (default 120 s): give up retrying after this long.

  loadgen.py verify RESULTS DBDUMP
      DBDUMP: lines "QUEUE_ID KEY NRCPT" for every messages row sent by
      this run's sender (KEY "-" if the stored bytes hold no
      X-Loadgen-Key). Checks that every acknowledged queue id is stored
      exactly once with its own key, that a key is stored more than once
      only as often as its 250s were lost, that every row has all the
      recipients of `send --rcpts`, and that every message was
      acknowledged in the end.
      Prints the numbers; exit 1 on any violation.

  loadgen.py hold HOST PORT --n N --ready FILE --go FILE --out FILE
             [--tag TAG]
      Opens N connections and reads every greeting (all N sessions are
      open at once), writes FILE --ready, waits for FILE --go, then every
      session at the same time sends EHLO, one message and QUIT. Exit 0
      when all N got 220, 250 for the message and 221.

The sender address is loadgen-TAG@loadgen.test: count a run's rows by it.
"""
import argparse
import asyncio
import collections
import json
import os
import re
import resource
import socket
import sys
import threading
import time

QUEUED = re.compile(r"^250 2\.0\.0 Ok: queued as (\S+)")


class Temp(Exception):
    """a reply that makes us drop the connection and retry"""


def sender(tag):
    return "loadgen-%s@loadgen.test" % tag


def message(tag, key, rcpts):
    hdr = [
        "From: loadgen <%s>" % sender(tag),
        "To: %s" % ", ".join(rcpts),
        "Subject: loadgen %s" % key,
        "Message-ID: <%s@loadgen.test>" % key,
        "X-Loadgen-Key: %s" % key,
        "Date: %s" % time.strftime("%a, %d %b %Y %H:%M:%S +0000",
                                   time.gmtime()),
    ]
    body = ["", "This is message %s." % key, "." + "x" * 70, "end"]
    # dot-stuffing: the one body line starting with "." gets a second one
    lines = hdr + [("." + l) if l.startswith(".") else l for l in body]
    return ("\r\n".join(lines) + "\r\n.\r\n").encode()


class Smtp:
    def __init__(self, host, port, timeout):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def reply(self):
        lines = []
        while True:
            while b"\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("connection closed by server")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\n", 1)
            line = line.rstrip(b"\r").decode("latin-1")
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                break
        try:
            code = int(lines[-1][:3])
        except ValueError:
            raise ConnectionError("bad reply %r" % lines[-1])
        return code, lines[-1]

    def cmd(self, line, want):
        self.sock.sendall(line.encode() + b"\r\n")
        code, text = self.reply()
        if code != want:
            raise Temp(text)
        return text

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def cmd_send(a):
    msgs = []
    rcpts = ["r%d@example.com" % i for i in range(1, a.rcpts + 1)]
    errors = collections.Counter()
    lock = threading.Lock()
    t0 = time.monotonic()
    deadline = t0 + a.deadline
    stop_new = t0 + a.duration if a.duration else None

    def new_msg(key):
        m = {"key": key, "id": None, "attempts": 0, "unanswered": 0,
             "tempfail_after_data": 0, "rejected": None}
        with lock:
            msgs.append(m)
        return m

    def work_of(w):
        """connection w's messages: every conns-th of count, or new ones
        until --duration is over"""
        if stop_new is None:
            for k in range(w, a.count, a.conns):
                yield new_msg("%s-%06d" % (a.tag, k))
            return
        k = 0
        while time.monotonic() < stop_new:
            yield new_msg("%s-%03d-%06d" % (a.tag, w, k))
            k += 1

    def err(kind):
        with lock:
            errors[kind] += 1

    def worker(w):
        s = None
        for m in work_of(w):
            data = message(a.tag, m["key"], rcpts)
            while m["id"] is None and m["rejected"] is None:
                if time.monotonic() > deadline:
                    err("gave_up")
                    break
                after_dot = False
                try:
                    if s is None:
                        s = Smtp(a.host, a.port, 30)
                        code, text = s.reply()
                        if code != 220:
                            raise Temp(text)
                        s.cmd("EHLO loadgen.%s" % a.tag, 250)
                    m["attempts"] += 1
                    s.cmd("MAIL FROM:<%s>" % sender(a.tag), 250)
                    for r in rcpts:
                        s.cmd("RCPT TO:<%s>" % r, 250)
                    s.cmd("DATA", 354)
                    s.sock.sendall(data)
                    # from here the server may commit: no reply means
                    # "maybe queued"
                    after_dot = True
                    code, text = s.reply()
                    after_dot = False
                    mm = QUEUED.match(text)
                    if code == 250 and mm:
                        m["id"] = mm.group(1)
                    elif 400 <= code < 500:
                        m["tempfail_after_data"] += 1
                        raise Temp(text)
                    else:
                        m["rejected"] = text
                        err("rejected")
                except Temp as e:
                    err("reply_" + str(e)[:9].strip())
                    if s is not None:
                        s.close()
                    s = None
                    time.sleep(0.05)
                except OSError as e:	# ConnectionError, timeouts
                    if after_dot:
                        m["unanswered"] += 1
                    err("conn_" + type(e).__name__)
                    if s is not None:
                        s.close()
                    s = None
                    time.sleep(0.05)
            time.sleep(a.pause)
        if s is not None:
            try:
                s.cmd("QUIT", 221)
            except (OSError, Temp):
                pass
            s.close()

    threads = [threading.Thread(target=worker, args=(w,))
               for w in range(a.conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    res = {"tag": a.tag, "sender": sender(a.tag), "rcpts": a.rcpts,
           "elapsed": round(time.monotonic() - t0, 3),
           "errors": dict(errors), "messages": msgs}
    with open(a.out + ".tmp", "w") as f:
        json.dump(res, f, indent=1)
    os.rename(a.out + ".tmp", a.out)
    acked = sum(1 for m in msgs if m["id"])
    print("loadgen send: %d messages, %d attempts, %d acked, %d unanswered "
          "after '.', %.1f s, errors %s" % (
              len(msgs), sum(m["attempts"] for m in msgs), acked,
              sum(m["unanswered"] for m in msgs), res["elapsed"],
              dict(errors)))
    return 0


def cmd_verify(a):
    res = json.load(open(a.results))
    rows = []
    for line in open(a.dbdump):
        f = line.split()
        if f:
            rows.append((f[0], f[1], int(f[2])))
    bad = []
    by_id = {}
    by_key = collections.defaultdict(list)
    for qid, key, nrcpt in rows:
        if qid in by_id:
            bad.append("queue id %s stored twice" % qid)
        by_id[qid] = (key, nrcpt)
        by_key[key].append(qid)
        if nrcpt != res["rcpts"]:
            bad.append("row %s has %d recipient rows, want %d (partially "
                       "stored)" % (qid, nrcpt, res["rcpts"]))
    keys = {m["key"] for m in res["messages"]}
    for key in by_key:
        if key not in keys:
            bad.append("rows %s hold unknown key %r" % (by_key[key], key))
    acked = dups = dup_msgs = unanswered = 0
    for m in res["messages"]:
        unanswered += m["unanswered"]
        stored = by_key.get(m["key"], [])
        if m["rejected"]:
            bad.append("%s rejected: %s" % (m["key"], m["rejected"]))
        if m["id"] is None:
            if not m["rejected"]:
                bad.append("%s never acknowledged (%d attempts)"
                           % (m["key"], m["attempts"]))
        else:
            acked += 1
            if m["id"] not in by_id:
                bad.append("%s: acknowledged queue id %s not in the queue"
                           % (m["key"], m["id"]))
            elif by_id[m["id"]][0] != m["key"]:
                bad.append("%s: queue id %s holds key %r" % (
                    m["key"], m["id"], by_id[m["id"]][0]))
        extra = len(stored) - (1 if m["id"] in stored else 0)
        if extra > 0:
            dups += extra
            dup_msgs += 1
        if extra > m["unanswered"]:
            bad.append("%s stored %d times (%s), but only %d of its 250s "
                       "were lost: acked %s" % (m["key"], len(stored),
                                                ",".join(stored),
                                                m["unanswered"], m["id"]))
    print("verify: sent %d messages in %d attempts; acked %d; rows found "
          "%d; extra rows (duplicates) %d in %d messages; attempts whose "
          "250 was lost %d; rows with a bad key %d" % (
              len(res["messages"]), sum(m["attempts"]
                                         for m in res["messages"]),
              acked, len(rows), dups, dup_msgs, unanswered,
              len(by_key.get("-", []))))
    for b in bad[:30]:
        print("verify: FAIL " + b, file=sys.stderr)
    if len(bad) > 30:
        print("verify: ... %d more" % (len(bad) - 30), file=sys.stderr)
    return 1 if bad else 0


async def read_reply(r):
    while True:
        line = await r.readline()
        if not line:
            raise ConnectionError("connection closed by server")
        line = line.rstrip(b"\r\n").decode("latin-1")
        if len(line) < 4 or line[3] != "-":
            return line


async def expect(r, w, send, want):
    if send is not None:
        w.write(send)
        await w.drain()
    line = await asyncio.wait_for(read_reply(r), 60)
    if not line.startswith(want):
        raise Temp("sent %r, got %r, want %r" % (send, line, want))
    return line


async def hold(a):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < a.n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, a.n + 64),
                                                    hard))
    conns = []
    for _ in range(a.n):
        conns.append(await asyncio.wait_for(
            asyncio.open_connection(a.host, a.port), 30))
    greet = await asyncio.gather(*(expect(r, w, None, "220 ")
                                   for r, w in conns),
                                 return_exceptions=True)
    nbad = [g for g in greet if isinstance(g, Exception)]
    with open(a.ready, "w") as f:
        f.write("%d %d\n" % (len(conns), len(conns) - len(nbad)))
    print("hold: %d connections open, %d greeted" % (len(conns),
                                                     len(conns) - len(nbad)))
    if nbad:
        print("hold: FAIL greeting: %r" % nbad[0], file=sys.stderr)
    while not os.path.exists(a.go):
        await asyncio.sleep(0.05)

    async def txn(i, r, w):
        await expect(r, w, b"EHLO hold%d.loadgen.test\r\n" % i, "250 ")
        await expect(r, w, ("MAIL FROM:<%s>\r\n" % sender(a.tag)).encode(),
                     "250 ")
        await expect(r, w, b"RCPT TO:<h%d@example.com>\r\n" % i, "250 ")
        await expect(r, w, b"DATA\r\n", "354 ")
        line = await expect(r, w, message(a.tag, "%s-%06d" % (a.tag, i),
                                          ["h%d@example.com" % i]),
                            "250 2.0.0 Ok: queued as ")
        await expect(r, w, b"QUIT\r\n", "221 ")
        w.close()
        return QUEUED.match(line).group(1)

    t0 = time.monotonic()
    out = await asyncio.gather(*(txn(i, r, w)
                                 for i, (r, w) in enumerate(conns)),
                               return_exceptions=True)
    ids = [x for x in out if isinstance(x, str)]
    errs = [repr(x) for x in out if not isinstance(x, str)]
    with open(a.out, "w") as f:
        json.dump({"n": a.n, "greeted": a.n - len(nbad), "ids": ids,
                   "errors": errs}, f)
    print("hold: %d of %d sessions queued a message and quit (%.2f s)"
          % (len(ids), a.n, time.monotonic() - t0))
    for e in errs[:5]:
        print("hold: FAIL " + e, file=sys.stderr)
    return 0 if not nbad and len(ids) == a.n else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("send")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--out", required=True)
    p.add_argument("--tag", required=True)
    p.add_argument("--count", type=int, default=500)
    p.add_argument("--conns", type=int, default=20)
    p.add_argument("--pause", type=float, default=0.0)
    p.add_argument("--duration", type=float, default=0.0)
    p.add_argument("--rcpts", type=int, default=2)
    p.add_argument("--deadline", type=float, default=120)
    p = sub.add_parser("verify")
    p.add_argument("results")
    p.add_argument("dbdump")
    p = sub.add_parser("hold")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--ready", required=True)
    p.add_argument("--go", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--tag", default="hold")
    a = ap.parse_args()
    if a.cmd == "send":
        return cmd_send(a)
    if a.cmd == "verify":
        return cmd_verify(a)
    return asyncio.run(hold(a))


if __name__ == "__main__":
    sys.exit(main())
