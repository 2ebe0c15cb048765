#!/usr/bin/env python3
"""fakesmtp.py - a scriptable SMTP receiver for delivery-client tests:
an honest ESMTP server with real STARTTLS (Python's ssl, so OpenSSL), or,
when asked, a hostile or broken one.

It records everything it receives to --log, one line per chunk read:

    C<n> PLAIN b'EHLO client.test\\r\\n'     bytes read outside TLS
    C<n> TLS b'MAIL FROM:<a@b> ...'          bytes read inside TLS
    C<n> SENT b'250 ...'                     what it answered
    C<n> EVENT connect|tls ...|tls-fail ...|close|message ...

so a test can assert that nothing (or only EHLO/STARTTLS) arrived in
plaintext. Accepted messages go to --maildir as NNN.eml (un-dot-stuffed,
exactly the bytes between DATA and the final dot) with NNN.env holding the
MAIL/RCPT lines and whether the message came over TLS.

Modes (combine freely):
  --cert/--key         offer STARTTLS with this certificate
  --no-starttls        never offer STARTTLS (a downgrade)
  --starttls-454       answer STARTTLS with 454
  --broken-handshake   after "220 Ready", write garbage and close
  --inject             send extra bytes in the same write as "220 Ready"
  --tls-min/--tls-max  1.0 1.1 1.2 1.3 (below 1.2: SECLEVEL=0)
  --ciphers LIST       TLS <= 1.2 cipher list (e.g. eNULL:@SECLEVEL=0)
  --requiretls         offer REQUIRETLS (inside TLS only, RFC 8689)
  --no-pipelining      do not offer PIPELINING
  --size N             offer SIZE N
  --stall STAGE        never answer once STAGE arrives (greeting: no
                       banner; ehlo, starttls, mail, rcpt, data, dataend)
  --bad STAGE:KIND     answer STAGE with a broken reply, then only read:
                       syntax, toolong, toomany, huge, codechange, nul
  --fail STAGE:CODE[:N] answer STAGE (mail, rcpt, data, dataend) with
                       CODE for the first N transactions (default: all);
                       greeting and ehlo (EHLO only, HELO is accepted)
                       count connections instead
  --ready FILE         written once listening
"""
import argparse
import os
import socket
import ssl
import sys
import threading

VERSIONS = {
    "1.0": ssl.TLSVersion.TLSv1,
    "1.1": ssl.TLSVersion.TLSv1_1,
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}


class Server:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.logf = open(args.log, "a", buffering=1)
        self.nconn = 0
        self.ntxn = 0
        self.nmsg = 0
        self.fail = {}
        for f in args.fail or []:
            parts = f.split(":")
            stage, code = parts[0], int(parts[1])
            times = int(parts[2]) if len(parts) > 2 else None
            self.fail[stage] = [code, times]
        self.bad = {}
        for b in args.bad or []:
            stage, kind = b.split(":", 1)
            self.bad[stage] = kind
        self.ctx = None
        if args.cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(args.cert, args.key)
            lo = VERSIONS[args.tls_min] if args.tls_min else None
            if args.tls_min in ("1.0", "1.1") or args.tls_max in ("1.0", "1.1"):
                ctx.set_ciphers(args.ciphers or "DEFAULT:@SECLEVEL=0")
            elif args.ciphers:
                ctx.set_ciphers(args.ciphers)
            if lo is not None:
                ctx.minimum_version = lo
            if args.tls_max:
                ctx.maximum_version = VERSIONS[args.tls_max]
            self.ctx = ctx

    def log(self, n, what, data=None):
        with self.lock:
            if data is None:
                self.logf.write("C%d %s\n" % (n, what))
            else:
                self.logf.write("C%d %s %r\n" % (n, what, data))

    def next_conn(self):
        with self.lock:
            self.nconn += 1
            return self.nconn

    def next_txn(self):
        with self.lock:
            self.ntxn += 1
            return self.ntxn

    def failing(self, stage, txn):
        f = self.fail.get(stage)
        if f is None:
            return None
        code, times = f
        if times is None or txn <= times:
            return code
        return None

    def save(self, n, env, data, tls):
        with self.lock:
            self.nmsg += 1
            m = self.nmsg
        if self.args.maildir:
            base = os.path.join(self.args.maildir, "%03d" % m)
            with open(base + ".eml", "wb") as f:
                f.write(data)
            with open(base + ".env", "w") as f:
                f.write("tls=%d\n" % tls)
                for line in env:
                    f.write(line + "\n")
        self.log(n, "EVENT message %d bytes=%d tls=%d" % (m, len(data), tls))


class Closed(Exception):
    pass


class Conn:
    def __init__(self, srv, sock):
        self.srv = srv
        self.a = srv.args
        self.sock = sock
        self.n = srv.next_conn()
        self.tls = False
        self.buf = b""
        self.helo = False

    def recv(self):
        try:
            data = self.sock.recv(65536)
        except (OSError, ssl.SSLError) as e:
            self.srv.log(self.n, "EVENT recv-error %s" % e)
            raise Closed()
        if not data:
            raise Closed()
        self.srv.log(self.n, "TLS" if self.tls else "PLAIN", data)
        return data

    def send(self, data):
        self.srv.log(self.n, "SENT", data)
        try:
            self.sock.sendall(data)
        except (OSError, ssl.SSLError):
            raise Closed()

    def line(self):
        while b"\n" not in self.buf:
            if len(self.buf) > 100000:
                raise Closed()
            self.buf += self.recv()
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r")

    def sink(self):
        """read (and log) until the client goes away, never answer"""
        while True:
            self.recv()

    def stall(self, stage):
        if self.a.stall == stage:
            self.srv.log(self.n, "EVENT stall %s" % stage)
            self.sink()

    def reply(self, stage, text):
        """the normal reply text for stage, unless --bad says otherwise"""
        kind = self.srv.bad.get(stage)
        if kind is None:
            self.send(text)
            return
        self.srv.log(self.n, "EVENT bad %s %s" % (stage, kind))
        if kind == "syntax":
            self.send(b"2x0 this is not a reply\r\n")
        elif kind == "toolong":
            self.send(b"250 " + b"x" * 2000 + b"\r\n")
        elif kind == "toomany":
            self.send(b"".join(b"250-line %d\r\n" % i for i in range(300))
                      + b"250 end\r\n")
        elif kind == "huge":
            try:
                for i in range(20000):
                    self.sock.sendall(b"250-" + b"y" * 400 + b"\r\n")
            except (OSError, ssl.SSLError):
                raise Closed()
        elif kind == "codechange":
            self.send(b"250-first\r\n251 second\r\n")
        elif kind == "nul":
            self.send(b"250 a\x00b\r\n")
        self.sink()

    def ehlo_reply(self, name):
        ext = [b"sealgate-test"]
        if not self.a.no_pipelining:
            ext.append(b"PIPELINING")
        if self.a.size is not None:
            ext.append(b"SIZE %d" % self.a.size)
        ext.append(b"8BITMIME")
        ext.append(b"ENHANCEDSTATUSCODES")
        if self.srv.ctx is not None and not self.tls and not self.a.no_starttls:
            ext.append(b"STARTTLS")
        if self.a.requiretls and self.tls:
            ext.append(b"REQUIRETLS")
        out = b""
        for i, e in enumerate(ext):
            out += b"250" + (b" " if i == len(ext) - 1 else b"-") + e + b"\r\n"
        return out

    def starttls(self):
        a = self.a
        if self.srv.ctx is None or self.tls or a.no_starttls:
            self.send(b"502 5.5.1 no STARTTLS here\r\n")
            return
        if a.starttls_454:
            self.send(b"454 4.7.0 TLS not available now\r\n")
            return
        self.stall("starttls")
        if a.broken_handshake:
            self.send(b"220 2.0.0 Ready to start TLS\r\n")
            self.send(b"this is not a TLS handshake\r\n" * 4)
            self.srv.log(self.n, "EVENT broken-handshake")
            raise Closed()
        if a.inject:
            self.send(b"220 2.0.0 Ready to start TLS\r\n"
                      b"250-injected\r\n250 PIPELINING\r\n")
        else:
            self.send(b"220 2.0.0 Ready to start TLS\r\n")
        if self.buf:
            self.srv.log(self.n, "EVENT client-pipelined-after-starttls", self.buf)
            raise Closed()
        try:
            self.sock = self.srv.ctx.wrap_socket(self.sock, server_side=True)
        except (OSError, ssl.SSLError) as e:
            self.srv.log(self.n, "EVENT tls-fail %s" % e)
            raise Closed()
        self.tls = True
        self.helo = False
        c = self.sock.cipher()
        self.srv.log(self.n, "EVENT tls version=%s cipher=%s resumed=%d" % (
            self.sock.version(), c[0] if c else "", int(self.sock.session_reused)))

    def data(self, txn, env):
        body = b""
        while True:
            idx = body.find(b"\r\n.\r\n")
            if body.startswith(b".\r\n"):
                raw, rest = b"", body[3:]
                break
            if idx >= 0:
                raw, rest = body[:idx + 2], body[idx + 5:]
                break
            if self.buf:
                body += self.buf
                self.buf = b""
            else:
                body += self.recv()
        self.buf = rest
        lines = raw.split(b"\r\n")
        msg = b"\r\n".join(l[1:] if l.startswith(b".") else l for l in lines)
        self.stall("dataend")
        code = self.srv.failing("dataend", txn)
        if code is not None:
            self.reply("dataend", b"%d %d.0.0 rejected at end of data\r\n"
                       % (code, code // 100))
            return
        self.srv.save(self.n, env, msg, self.tls)
        self.reply("dataend", b"250 2.0.0 Ok: queued\r\n")

    def run(self):
        self.srv.log(self.n, "EVENT connect")
        try:
            self.stall("greeting")
            code = self.srv.failing("greeting", self.n)
            if code is not None:
                self.send(b"%d fake.test no service for you\r\n" % code)
                self.sink()
            self.reply("greeting", b"220 fake.test ESMTP fakesmtp\r\n")
            mail = False
            rcpts = 0
            env = []
            txn = 0
            while True:
                line = self.line()
                verb = line.split(b" ", 1)[0].upper()
                if verb in (b"EHLO", b"HELO"):
                    self.stall("ehlo")
                    self.helo = True
                    mail, rcpts, env = False, 0, []
                    code = self.srv.failing("ehlo", self.n)
                    if verb == b"EHLO" and code is not None:
                        self.send(b"%d 5.5.1 EHLO not here\r\n" % code)
                    elif verb == b"EHLO":
                        self.reply("ehlo", self.ehlo_reply(line[5:]))
                    else:
                        self.reply("ehlo", b"250 fake.test\r\n")
                elif verb == b"STARTTLS":
                    self.starttls()
                elif verb == b"MAIL":
                    self.stall("mail")
                    txn = self.srv.next_txn()
                    code = self.srv.failing("mail", txn)
                    if code is not None:
                        self.reply("mail", b"%d %d.0.0 sender rejected\r\n"
                                   % (code, code // 100))
                        continue
                    mail, rcpts, env = True, 0, [line.decode("latin-1")]
                    self.reply("mail", b"250 2.1.0 Ok\r\n")
                elif verb == b"RCPT":
                    self.stall("rcpt")
                    if not mail:
                        self.send(b"503 5.5.1 need MAIL\r\n")
                        continue
                    code = self.srv.failing("rcpt", txn)
                    if code is None and b"reject" in line.lower():
                        code = 550
                    if code is None and b"later" in line.lower():
                        code = 451
                    if code is not None:
                        self.reply("rcpt", b"%d %d.1.1 recipient rejected\r\n"
                                   % (code, code // 100))
                        continue
                    rcpts += 1
                    env.append(line.decode("latin-1"))
                    self.reply("rcpt", b"250 2.1.5 Ok\r\n")
                elif verb == b"DATA":
                    self.stall("data")
                    if not mail or rcpts == 0:
                        self.send(b"554 5.5.1 no valid recipients\r\n")
                        continue
                    code = self.srv.failing("data", txn)
                    if code is not None:
                        self.reply("data", b"%d %d.0.0 no data now\r\n"
                                   % (code, code // 100))
                        continue
                    self.reply("data", b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    self.data(txn, env)
                    mail, rcpts, env = False, 0, []
                elif verb == b"RSET":
                    mail, rcpts, env = False, 0, []
                    self.send(b"250 2.0.0 Ok\r\n")
                elif verb == b"NOOP":
                    self.send(b"250 2.0.0 Ok\r\n")
                elif verb == b"QUIT":
                    self.send(b"221 2.0.0 Bye\r\n")
                    break
                else:
                    self.send(b"502 5.5.2 unknown command\r\n")
        except Closed:
            pass
        finally:
            self.srv.log(self.n, "EVENT close")
            try:
                self.sock.close()
            except OSError:
                pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--addr", default="127.0.0.1")
    p.add_argument("--log", required=True)
    p.add_argument("--maildir")
    p.add_argument("--ready")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--no-starttls", action="store_true")
    p.add_argument("--starttls-454", action="store_true")
    p.add_argument("--broken-handshake", action="store_true")
    p.add_argument("--inject", action="store_true")
    p.add_argument("--tls-min", choices=sorted(VERSIONS))
    p.add_argument("--tls-max", choices=sorted(VERSIONS))
    p.add_argument("--ciphers")
    p.add_argument("--requiretls", action="store_true")
    p.add_argument("--no-pipelining", action="store_true")
    p.add_argument("--size", type=int)
    p.add_argument("--stall", choices=["greeting", "ehlo", "starttls", "mail",
                                       "rcpt", "data", "dataend"])
    p.add_argument("--bad", action="append")
    p.add_argument("--fail", action="append")
    args = p.parse_args()
    if args.maildir:
        os.makedirs(args.maildir, exist_ok=True)
    srv = Server(args)
    ls = socket.socket(socket.AF_INET6 if ":" in args.addr else socket.AF_INET)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((args.addr, args.port))
    ls.listen(64)
    if args.ready:
        with open(args.ready + ".tmp", "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(args.ready + ".tmp", args.ready)
    while True:
        s, _ = ls.accept()
        threading.Thread(target=Conn(srv, s).run, daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
