#!/usr/bin/env python3
"""smtpscript.py - run a readable SMTP transcript against a server.

usage: smtpscript.py HOST PORT SCRIPT [VAR=VALUE ...]

Script lines (after the first space is the argument):
  > TEXT        send TEXT followed by CRLF (Python escapes allowed: \\n, \\x00)
  >> TEXT       send TEXT exactly, no CRLF added (escapes allowed)
  >repeat N TEXT   send TEXT N times (escapes allowed, no CRLF added)
  < PREFIX      read one (possibly multi-line) reply; its LAST line must
                start with PREFIX (e.g. "250 2.1.0", "354", "5")
  <* TEXT       the reply (any line) must contain TEXT
  <! TEXT       the reply must NOT contain TEXT (checks the last reply read)
  <+ TEXT       the last reply read (any line) must contain TEXT (reads
                nothing: several <+ and <! can check one reply)
  quiet SECS    the server must send nothing for SECS seconds (e.g. no
                reply to a command that must have been discarded)
  starttls      wrap the socket in TLS (no certificate check)
  sleep SECS    pause
  align FRAC    sleep until the wall clock is FRAC (0..1) into a second:
                makes a server that counts time in whole seconds show it
  time          start a stopwatch
  elapsed LABEL print "elapsed LABEL SECONDS" (time since `time`)
  close?        expect the server to close the connection (EOF) within 10 s
  touch FILE    create FILE: tells the test driving this transcript that
                the transcript got here
  waitfile FILE [SECS]   pause until FILE exists (default at most 60 s):
                lets the test act (stop a server, send a signal) mid-session
  save NAME     remember the last reply's last line as $NAME (e.g. queue id)
  # ...         comment
${VAR} in TEXT is replaced from VAR=VALUE arguments.
Prints the queue ids of accepted messages as "queued ID" lines.
Exit 0 when every expectation held, 1 otherwise (with got/want).
"""
import os
import re
import socket
# ssl is imported by `starttls` only: most transcripts never need it, and
# the suite runs many of them
import sys
import time


class Fail(Exception):
    pass


def unescape(s):
    return s.encode("latin-1").decode("unicode_escape").encode("latin-1")


class Conn:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        self.buf = b""
        self.last = []

    def send(self, data):
        self.sock.sendall(data)

    def readline(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Fail("connection closed; partial=%r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("latin-1")

    def reply(self):
        lines = []
        while True:
            line = self.readline()
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                break
        self.last = lines
        return lines

    def starttls(self):
        if self.buf:
            raise Fail("server sent bytes before TLS: %r" % self.buf)
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.sock = ctx.wrap_socket(self.sock)

    def expect_quiet(self, secs):
        if self.buf:
            raise Fail("server sent unexpected bytes: %r" % self.buf)
        self.sock.settimeout(secs)
        try:
            chunk = self.sock.recv(65536)
        except (socket.timeout, TimeoutError):
            return
        finally:
            self.sock.settimeout(30)
        if chunk:
            raise Fail("server sent unexpected bytes: %r" % chunk)
        raise Fail("server closed the connection")

    def expect_close(self):
        self.sock.settimeout(10)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return
                self.buf += chunk
        except socket.timeout:	# an OSError too: test it first
            raise Fail("server did not close the connection")
        except OSError:		# reset, or ssl.SSLError (an OSError)
            return


def run(host, port, script, env):
    try:
        c = Conn(host, port)
    except OSError as e:
        print("FAIL %s: connect to %s:%s: %s" % (script, host, port, e),
              file=sys.stderr)
        return 1
    lineno = 0
    t0 = time.monotonic()
    for raw in open(script, encoding="latin-1"):
        lineno += 1
        line = raw.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        line = re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], line)
        op, _, arg = line.partition(" ")
        where = "%s:%d" % (script, lineno)
        try:
            if op == ">":
                c.send(unescape(arg) + b"\r\n")
            elif op == ">>":
                c.send(unescape(arg))
            elif op == ">repeat":
                n, _, text = arg.partition(" ")
                c.send(unescape(text) * int(n))
            elif op == "<":
                lines = c.reply()
                if not lines[-1].startswith(arg):
                    raise Fail("got %r, want a reply starting %r"
                               % (lines[-1], arg))
                m = re.match(r"250 2\.0\.0 Ok: queued as (\S+)", lines[-1])
                if m:
                    print("queued", m.group(1))
            elif op == "<*":
                lines = c.reply()
                if not any(arg in l for l in lines):
                    raise Fail("got %r, want a line containing %r"
                               % (lines, arg))
            elif op == "<+":
                if not any(arg in l for l in c.last):
                    raise Fail("got %r, want a line containing %r"
                               % (c.last, arg))
            elif op == "<!":
                if any(arg in l for l in c.last):
                    raise Fail("got %r, which contains %r" % (c.last, arg))
            elif op == "starttls":
                c.starttls()
            elif op == "quiet":
                c.expect_quiet(float(arg))
            elif op == "align":
                time.sleep((float(arg) - time.time() % 1.0) % 1.0)
            elif op == "time":
                t0 = time.monotonic()
            elif op == "elapsed":
                print("elapsed %s %.3f" % (arg, time.monotonic() - t0))
            elif op == "sleep":
                time.sleep(float(arg))
            elif op == "close?":
                c.expect_close()
            elif op == "touch":
                open(arg, "a").close()
            elif op == "waitfile":
                path, _, secs = arg.partition(" ")
                end = time.monotonic() + float(secs or 60)
                while not os.path.exists(path):
                    if time.monotonic() > end:
                        raise Fail("%s did not appear" % path)
                    time.sleep(0.05)
            elif op == "save":
                env[arg] = c.last[-1] if c.last else ""
            else:
                raise Fail("unknown directive %r" % op)
        except Fail as e:
            print("FAIL %s: %s" % (where, e), file=sys.stderr)
            return 1
        except OSError as e:	# ssl.SSLError included
            print("FAIL %s: %s" % (where, e), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    env = dict(a.split("=", 1) for a in sys.argv[4:])
    sys.exit(run(sys.argv[1], sys.argv[2], sys.argv[3], env))
